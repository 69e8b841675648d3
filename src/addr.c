/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * addr.c: RFC 5322 address lists, as callers really write them.
 *
 * The parser is a small lexer (atoms, quoted strings, domain literals and
 * the specials; whitespace, folding and comments are skipped) and a
 * recursive descent over its tokens.  It is lenient where real mail is
 * sloppy (bare local names, a trailing comma, obsolete spaces around '.'
 * and '@', a group without its ';', an obsolete route, which is dropped)
 * and strict where a mistake would change who gets the mail (unbalanced
 * quotes, brackets and parentheses, a missing local part or domain, two
 * addresses without a comma, line breaks that are not folding).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/err.h"

/* Token types; a special is its own character. */
#define T_EOF 0
#define T_ATOM 256
#define T_QSTR 257
#define T_DLIT 258

struct tok {
	int type;
	size_t start; /* source range of the token */
	size_t end;
	int space; /* white space or a comment came before it */
};

struct ap {
	const char *s;
	size_t n;
	size_t pos;
	size_t elem; /* where the current element began */
	int allow_null; /* "<>" is a mailbox (senders only) */
	struct err *err;
};

#define SNIPPET_MAX 64

/* ERR_DATA naming the element that failed: bad address "x@": why. */
static int
bad(struct ap *p, size_t at, const char *why)
{
	char snip[SNIPPET_MAX + 1];
	size_t end = at;

	while (end < p->n && p->s[end] != ',')
		end++;
	if (end - p->elem > SNIPPET_MAX)
		end = p->elem + SNIPPET_MAX;
	err_sanitize(snip, sizeof(snip), p->s + p->elem, end - p->elem);
	return err_set(p->err, ERR_DATA, "bad address \"%s\": %s", snip, why);
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A line break is only allowed as folding (CRLF or LF followed by white
 * space), or at the very end, where it is the header line's own end.
 * Returns the bytes it spans (1 or 2), 0 when it is not folding, -1 when
 * only line ends remain.
 */
static int
fold_len(const struct ap *p, size_t i)
{
	size_t j = i;

	if (p->s[j] == '\r' && j + 1 < p->n && p->s[j + 1] == '\n')
		j++;
	if (p->s[j] == '\n' && j + 1 < p->n && is_wsp(p->s[j + 1]))
		return (int)(j + 1 - i);
	for (j = i; j < p->n; j++)
		if (p->s[j] != '\r' && p->s[j] != '\n')
			return 0;
	return -1;
}

#define CTL_WHY "control character in address"

/*
 * A control byte: what SMTP cannot carry in a path and the queue file
 * cannot hold.  wsp: a TAB is white space here (folding, inside a quoted
 * string, a literal or a comment); if it ends up in an addr-spec,
 * addr_spec_ok refuses it there, while a folded display name keeps it.
 */
static int
addr_ctl_byte(char c, int wsp)
{
	unsigned char u = (unsigned char)c;

	if (wsp && u == '\t')
		return 0;
	return u < 0x20 || u == 0x7f;
}

/*
 * Skip a quoted string, domain literal or comment body up to close.
 * Folding inside is unfolded later (add_raw); its white space must then
 * pass addr_spec_ok like any other byte.
 */
static int
skip_quoted(struct ap *p, char close, const char *what)
{
	size_t start = p->pos;
	int depth = 1, f;

	for (p->pos++; p->pos < p->n; p->pos++) {
		char c = p->s[p->pos];

		if (c == '\\') {
			if (++p->pos >= p->n)
				break;
			if (p->s[p->pos] == '\r' || p->s[p->pos] == '\n')
				return bad(p, p->pos, "line break in address");
			/* Escaped or not, a NUL would cut the spec short. */
			if (p->s[p->pos] == '\0')
				return bad(p, p->pos, "NUL byte in address");
			if (addr_ctl_byte(p->s[p->pos], 1))
				return bad(p, p->pos, CTL_WHY);
		} else if (c == '\r' || c == '\n') {
			if ((f = fold_len(p, p->pos)) <= 0)
				break;
			p->pos += (size_t)f - 1;
		} else if (c == '\0') {
			return bad(p, p->pos, "NUL byte in address");
		} else if (addr_ctl_byte(c, 1)) {
			return bad(p, p->pos, CTL_WHY);
		} else if (close == ')' && c == '(') {
			depth++;
		} else if (close == ']' && c == '[') {
			return bad(p, p->pos, "'[' inside a domain literal");
		} else if (c == close && --depth == 0) {
			p->pos++;
			return 0;
		}
	}
	if (p->pos < p->n && fold_len(p, p->pos) == 0)
		return bad(p, p->pos, "line break in address");
	return bad(p, start, what);
}

/* Skip white space, folding and (nested) comments. */
static int
skip_cfws(struct ap *p, int *space)
{
	int f;

	while (p->pos < p->n) {
		char c = p->s[p->pos];

		if (is_wsp(c)) {
			p->pos++;
		} else if (c == '\r' || c == '\n') {
			if ((f = fold_len(p, p->pos)) == 0)
				return bad(p, p->pos, "line break in address");
			if (f < 0) {
				p->pos = p->n;
				break;
			}
			p->pos += (size_t)f;
		} else if (c == '(') {
			if (skip_quoted(p, ')', "unbalanced parenthesis") == -1)
				return -1;
		} else
			break;
		*space = 1;
	}
	return 0;
}

/* RFC 5322 atext, plus any byte >= 0x80 (UTF-8, RFC 6532). */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if (c <= 0x20 || c == 0x7f)
		return 0;
	return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

/* The next token; p->pos moves past it. */
static int
lex(struct ap *p, struct tok *t)
{
	unsigned char c;

	t->space = 0;
	if (skip_cfws(p, &t->space) == -1)
		return -1;
	t->start = p->pos;
	if (p->pos >= p->n) {
		t->type = T_EOF;
		t->end = p->pos;
		return 0;
	}
	c = (unsigned char)p->s[p->pos];
	if (c == '"') {
		t->type = T_QSTR;
		if (skip_quoted(p, '"', "unbalanced quote") == -1)
			return -1;
	} else if (c == '[') {
		t->type = T_DLIT;
		if (skip_quoted(p, ']', "unbalanced '['") == -1)
			return -1;
	} else if (strchr("<>@,:;.", c) != NULL && c != '\0') {
		t->type = c;
		p->pos++;
	} else if (is_atext(c)) {
		t->type = T_ATOM;
		while (p->pos < p->n && is_atext((unsigned char)p->s[p->pos]))
			p->pos++;
	} else if (c == ')') {
		return bad(p, p->pos, "unbalanced parenthesis");
	} else
		return bad(p, p->pos,
		    c == ']' ? "unbalanced ']'"
			     : "invalid character in address");
	t->end = p->pos;
	return 0;
}

static int
peek(struct ap *p, struct tok *t)
{
	size_t save = p->pos;
	int rc = lex(p, t);

	p->pos = save;
	return rc;
}

/* Append a token's source text without line breaks (unfolding). */
static int
add_raw(struct ap *p, struct buf *b, const struct tok *t)
{
	size_t i;

	for (i = t->start; i < t->end; i++) {
		if (p->s[i] == '\r' || p->s[i] == '\n')
			continue;
		if (buf_addc(b, p->s[i]) == -1)
			return bad(p, t->start,
			    errno == E2BIG ? "address too long"
					   : "out of memory");
	}
	return 0;
}

static int
is_word(int type)
{
	return type == T_ATOM || type == T_QSTR;
}

/* domain = dot-atom / domain-literal */
static int
parse_domain(struct ap *p, struct buf *spec, size_t *end)
{
	struct tok t;

	if (lex(p, &t) == -1)
		return -1;
	if (t.type == T_DLIT) {
		*end = t.end;
		return add_raw(p, spec, &t);
	}
	for (;;) {
		if (t.type != T_ATOM)
			return bad(p, t.start, "missing or bad domain");
		if (add_raw(p, spec, &t) == -1)
			return -1;
		*end = t.end;
		if (peek(p, &t) == -1)
			return -1;
		if (t.type != '.')
			return 0;
		lex(p, &t);
		if (buf_addc(spec, '.') == -1)
			return bad(p, t.start, "address too long");
		if (lex(p, &t) == -1)
			return -1;
	}
}

/*
 * addr-spec, or a bare local part.  The local part is words and dots with
 * no two words adjacent (so "Cron Daemon" is not an address); runs of dots,
 * seen in the wild, are kept as written.
 */
static int
parse_spec(struct ap *p, struct buf *spec, size_t *off, size_t *end)
{
	struct tok t;
	int words = 0, last = 0;

	if (peek(p, &t) == -1)
		return -1;
	*off = t.start;
	for (;;) {
		if (peek(p, &t) == -1)
			return -1;
		if (!is_word(t.type) && t.type != '.')
			break;
		if (is_word(t.type) && is_word(last))
			return bad(p, t.start, "missing '@' or ','");
		lex(p, &t);
		if (add_raw(p, spec, &t) == -1)
			return -1;
		words += is_word(t.type);
		last = t.type;
		*end = t.end;
	}
	if (words == 0)
		return bad(p, t.start, "missing local part");
	if (t.type != '@')
		return 0;
	lex(p, &t);
	if (buf_addc(spec, '@') == -1)
		return bad(p, t.start, "address too long");
	return parse_domain(p, spec, end);
}

/* An obsolete route "@a,@b:" before the addr-spec: checked and dropped. */
static int
skip_route(struct ap *p)
{
	struct buf tmp;
	struct tok t;
	size_t end;
	int rc = -1;

	buf_init(&tmp, p->n);
	for (;;) {
		if (lex(p, &t) == -1)
			break;
		if (t.type != '@') {
			bad(p, t.start, "bad route");
			break;
		}
		buf_reset(&tmp);
		if (parse_domain(p, &tmp, &end) == -1 || lex(p, &t) == -1)
			break;
		if (t.type == ':') {
			rc = 0;
			break;
		}
		if (t.type != ',') {
			bad(p, t.start, "bad route");
			break;
		}
	}
	buf_free(&tmp);
	return rc;
}

static int
push(struct ap *p, struct addr_list *out, struct buf *name, struct buf *spec,
    size_t off, size_t len, int angle)
{
	struct addr *a;
	size_t ncap;

	if (out->n >= ADDR_LIST_MAX)
		return bad(p, off, "too many addresses");
	/* What the spool and SMTP cannot hold is refused here, at once. */
	if (addr_spec_ok(spec->data, spec->len) == -1)
		return bad(p, off, CTL_WHY);
	if (out->n == out->cap) {
		ncap = out->cap ? out->cap * 2 : 8;
		if ((a = reallocarray(out->v, ncap, sizeof(*a))) == NULL)
			return err_sys(p->err, ERR_OS, "address list");
		out->v = a;
		out->cap = ncap;
	}
	a = &out->v[out->n];
	a->name = NULL;
	if (name->len > 0 && (a->name = buf_detach(name)) == NULL)
		return err_sys(p->err, ERR_OS, "address list");
	if ((a->spec = buf_detach(spec)) == NULL) {
		free(a->name);
		return err_sys(p->err, ERR_OS, "address list");
	}
	a->off = off;
	a->len = len;
	a->angle = angle;
	out->n++;
	return 0;
}

/* The display name: words joined by one space, quotes and escapes gone. */
static int
add_phrase(struct ap *p, struct buf *name, const struct tok *t)
{
	size_t i = t->start, e = t->end;
	int rc = 0;

	if (t->space && name->len > 0)
		rc = buf_addc(name, ' ');
	if (t->type == T_QSTR) {
		i++;
		e--;
	}
	for (; rc == 0 && i < e; i++) {
		if (p->s[i] == '\r' || p->s[i] == '\n')
			continue;
		if (t->type == T_QSTR && p->s[i] == '\\')
			i++;
		rc = buf_addc(name, p->s[i]);
	}
	return rc == -1 ? err_sys(p->err, ERR_OS, "display name") : 0;
}

/* Name <[route] addr-spec>; p->pos is at the start of the phrase. */
static int
parse_angle(struct ap *p, struct addr_list *out, struct buf *name,
    struct buf *spec)
{
	struct tok t;
	size_t off, end, open;

	for (;;) {
		if (lex(p, &t) == -1)
			return -1;
		if (t.type == '<')
			break;
		if (add_phrase(p, name, &t) == -1)
			return -1;
	}
	open = t.start;
	if (peek(p, &t) == -1)
		return -1;
	off = end = t.start;
	if (t.type == '>') {
		if (!p->allow_null)
			return bad(p, t.start, "empty address");
	} else {
		if (t.type == '@' && skip_route(p) == -1)
			return -1;
		if (parse_spec(p, spec, &off, &end) == -1)
			return -1;
		if (t.type == '@')
			off = t.start; /* splice over the route too */
	}
	if (lex(p, &t) == -1)
		return -1;
	if (t.type == T_EOF)
		return bad(p, open, "'<' without '>'");
	if (t.type != '>')
		return bad(p, t.start, "expected '>'");
	return push(p, out, name, spec, off, end - off, 1);
}

static int parse_list(struct ap *, struct addr_list *, int);

/*
 * One element of a list: a mailbox or a group.  A look-ahead finds which
 * comes first of '<' (name-addr), ':' (group) or the element's end
 * (addr-spec), then the element is parsed again from its start.
 */
static int
parse_element(struct ap *p, struct addr_list *out, int in_group)
{
	struct buf name, spec;
	struct tok t;
	size_t start = p->pos, off = 0, end = 0;
	int at = 0, rc = -1;

	do {
		if (lex(p, &t) == -1)
			return -1;
		at |= t.type == '@';
	} while (t.type != '<' && t.type != ':' && t.type != ',' &&
	    t.type != ';' && t.type != '>' && t.type != T_EOF);
	p->pos = start;
	if (t.type == '>')
		return bad(p, t.start, "'>' without '<'");
	if (t.type == ':' && (in_group || at))
		return bad(p, t.start,
		    in_group ? "nested group" : "unexpected ':'");
	if (t.type == ':') {
		p->pos = t.end; /* the group's name is not kept */
		if (parse_list(p, out, 1) == -1 || lex(p, &t) == -1)
			return -1;
		/* ';' or the end of the input (a sloppy last group) */
		return 0;
	}
	buf_init(&name, p->n);
	buf_init(&spec, ADDR_SPEC_MAX);
	if (t.type == '<')
		rc = parse_angle(p, out, &name, &spec);
	else if (parse_spec(p, &spec, &off, &end) == 0)
		rc = push(p, out, &name, &spec, off, end - off, 0);
	buf_free(&name);
	buf_free(&spec);
	return rc;
}

/* Elements separated by commas, up to the end or (in a group) ';'. */
static int
parse_list(struct ap *p, struct addr_list *out, int in_group)
{
	struct tok t;

	for (;;) {
		if (peek(p, &t) == -1)
			return -1;
		if (t.type == T_EOF || (in_group && t.type == ';'))
			return 0;
		if (t.type == ',') {
			lex(p, &t);
			continue;
		}
		p->elem = t.start;
		if (parse_element(p, out, in_group) == -1)
			return -1;
		if (peek(p, &t) == -1)
			return -1;
		if (t.type == ',')
			lex(p, &t);
		else if (t.type != T_EOF && !(in_group && t.type == ';'))
			return bad(p, t.start,
			    t.type == ';' ? "';' outside a group"
					  : "missing ','");
	}
}

static int
parse(const char *s, size_t n, struct addr_list *out, int allow_null,
    struct err *err)
{
	struct ap p;
	size_t n0 = out->n;
	const struct addr *v0 = out->v;

	p.s = s;
	p.n = n;
	p.pos = p.elem = 0;
	p.allow_null = allow_null;
	p.err = err;
	if (parse_list(&p, out, 0) == 0)
		return 0;
	/* Leave the list as the caller gave it. */
	while (out->n > n0) {
		out->n--;
		free(out->v[out->n].name);
		free(out->v[out->n].spec);
	}
	/* An empty list given gets no array back: callers that drop a
	 * list after a failure (cfg_one_address, rcpts_from_argv) would
	 * leak it.  A given array that grew stays with its owner. */
	if (v0 == NULL) {
		free(out->v);
		out->v = NULL;
		out->cap = 0;
	}
	return -1;
}

int
addr_parse_list(const char *s, size_t n, struct addr_list *out, struct err *err)
{
	return parse(s, n, out, 0, err);
}

int
addr_parse_sender(const char *s, char **spec, struct err *err)
{
	struct addr_list l = { NULL, 0, 0 };
	char snip[SNIPPET_MAX + 1];
	size_t i = 0, n = strlen(s);

	while (i < n && is_wsp(s[i]))
		i++;
	while (n > i && is_wsp(s[n - 1]))
		n--;
	if (n - i == 0 || (n - i == 2 && strncmp(s + i, "\"\"", 2) == 0)) {
		if ((*spec = strdup("")) == NULL)
			return err_sys(err, ERR_OS, "sender");
		return 0;
	}
	if (parse(s, strlen(s), &l, 1, err) == -1) {
		addr_list_free(&l);
		return -1;
	}
	if (l.n == 0) {
		addr_list_free(&l);
		err_sanitize(snip, sizeof(snip), s, n);
		return err_set(err, ERR_DATA, "no address in sender \"%s\"",
		    snip);
	}
	*spec = l.v[0].spec;
	l.v[0].spec = NULL;
	addr_list_free(&l);
	return 0;
}

void
addr_list_free(struct addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].spec);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* No '@' outside a quoted local part. */
int
addr_is_local(const char *spec)
{
	int quoted = 0;

	for (; *spec != '\0'; spec++) {
		if (quoted && *spec == '\\' && spec[1] != '\0')
			spec++;
		else if (*spec == '"')
			quoted = !quoted;
		else if (!quoted && *spec == '@')
			return 0;
	}
	return 1;
}

int
addr_spec_ok(const char *spec, size_t n)
{
	size_t i;

	if (n > ADDR_SPEC_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (addr_ctl_byte(spec[i], 0))
			return -1;
	return 0;
}

int
addr_is_8bit(const char *spec)
{
	for (; *spec != '\0'; spec++)
		if ((unsigned char)*spec >= 0x80)
			return 1;
	return 0;
}

/* local@domain, or local itself when there is no domain to add. */
static char *
qualify(const char *local, const char *domain)
{
	char *r;
	size_t n;
	int len;

	if (!addr_is_local(local) || domain == NULL || *domain == '\0')
		return strdup(local);
	n = strlen(local) + 1 + strlen(domain) + 1;
	if ((r = malloc(n)) == NULL)
		return NULL;
	len = snprintf(r, n, "%s@%s", local, domain);
	if (len < 0 || (size_t)len >= n) {
		free(r);
		errno = EOVERFLOW;
		return NULL;
	}
	return r;
}

/*
 * An alias that is itself a bare name is qualified, not looked up again:
 * aliases cannot loop.
 */
char *
addr_rewrite(const char *spec, const struct addr_rewrite *rw)
{
	size_t i;

	if (*spec == '\0' || !addr_is_local(spec))
		return strdup(spec);
	for (i = 0; i < rw->naliases; i++)
		if (strcasecmp(rw->aliases[i].name, spec) == 0)
			return qualify(rw->aliases[i].addr, rw->domain);
	if (rw->alias_default != NULL)
		return qualify(rw->alias_default, rw->domain);
	return qualify(spec, rw->domain);
}
