/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg_addr.c: the addresses of a message: recipients under -t, local names
 * qualified and aliased in the headers, the envelope sender and the
 * [sender] policy (postern(8), THE MESSAGE and SENDER).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "postern/addr.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/msg.h"
#include "msg_int.h"

/* The headers whose local names are qualified (unless -G). */
static const char *const qualified[] = { "From", "To", "Cc", "Reply-To",
	"Sender", "Resent-From", "Resent-To", "Resent-Cc", "Resent-Reply-To",
	"Resent-Sender", NULL };

static int
name_in(const struct msg_hdr *h, const char *const *names)
{
	for (; *names != NULL; names++)
		if (msg_hdr_is(h, *names))
			return 1;
	return 0;
}

/*
 * Parse a field's value as an address list.  The parser sees the value
 * with its line breaks turned into spaces: the same length, so the
 * offsets it reports hold for the field text as well.
 */
static int
parse_field(const struct msg_hdr *h, struct addr_list *l, struct err *e)
{
	const char *v;
	char *copy, *p, why[ERR_TEXT_MAX];
	size_t n;
	int r;

	v = msg_hdr_value(h, &n);
	if ((copy = malloc(n + 1)) == NULL)
		return err_sys(e, ERR_OS, "cannot parse the header");
	memcpy(copy, v, n);
	copy[n] = '\0';
	for (p = copy; (p = memchr(p, '\n', n - (size_t)(p - copy)));)
		*p = ' ';
	r = addr_parse_list(copy, n, l, e);
	free(copy);
	if (r == -1) {
		if (e->class != ERR_DATA)
			return -1;
		memcpy(why, e->text, sizeof(why));
		return err_set(e, ERR_DATA,
		    "bad address syntax in the %.*s: header: %s",
		    (int)h->namelen, h->text, why);
	}
	return 0;
}

static int
rcpt_add(struct msg *m, const char *spec, const struct addr_rewrite *rw,
    struct err *e)
{
	char *r, **v;
	size_t i, n = m->nrcpts;

	if (*spec == '\0') /* "<>" is no recipient */
		return 0;
	if ((r = addr_rewrite(spec, rw)) == NULL)
		return err_sys(e, ERR_OS, "cannot rewrite %s", spec);
	for (i = 0; i < n; i++) {
		if (strcasecmp(m->rcpts[i], r) == 0) {
			free(r);
			return 0;
		}
	}
	if (n >= MSG_RCPT_MAX) {
		free(r);
		return err_set(e, ERR_DATA,
		    "more than %d recipients in the headers", MSG_RCPT_MAX);
	}
	if ((n & (n - 1)) == 0) { /* n is 0 or a power of 2: double */
		v = reallocarray(m->rcpts, n ? n * 2 : 1, sizeof(*v));
		if (v == NULL) {
			free(r);
			return err_sys(e, ERR_OS, "cannot keep recipients");
		}
		m->rcpts = v;
	}
	m->rcpts[m->nrcpts++] = r;
	if (addr_is_8bit(r))
		m->utf8_addrs = 1;
	return 0;
}

/* -t: To/Cc/Bcc, or only Resent-To/Cc/Bcc when a Resent block exists. */
static int
extract(struct msg *m, struct msg_hdrs *hs, const struct addr_rewrite *rw,
    struct err *e)
{
	static const char *const plain[] = { "To", "Cc", "Bcc", NULL };
	static const char *const resent[] = { "Resent-To", "Resent-Cc",
		"Resent-Bcc", NULL };
	const char *const *names = plain;
	struct addr_list l;
	size_t i, j;
	int r = 0;

	for (i = 0; i < hs->n; i++)
		if (hs->v[i].text != NULL && hs->v[i].namelen >= 7 &&
		    strncasecmp(hs->v[i].text, "Resent-", 7) == 0)
			names = resent;
	for (i = 0; i < hs->n && r == 0; i++) {
		if (!name_in(&hs->v[i], names))
			continue;
		memset(&l, 0, sizeof(l));
		r = parse_field(&hs->v[i], &l, e);
		for (j = 0; r == 0 && j < l.n; j++)
			r = rcpt_add(m, l.v[j].spec, rw, e);
		addr_list_free(&l);
	}
	return r;
}

/*
 * Qualify the bare local names of one field by splicing in the rewritten
 * addr-spec, leaving names, comments and spacing alone.  A field that
 * does not parse is left as it is: the server may take it, and postern
 * has nothing better to put there.
 */
static int
qualify(struct msg_hdr *h, const struct addr_rewrite *rw, struct err *e)
{
	struct addr_list l;
	struct buf b;
	const char *v;
	char *r, name[64];
	size_t i, n, last = 0, changed = 0;

	memset(&l, 0, sizeof(l));
	if (parse_field(h, &l, e) == -1) {
		addr_list_free(&l);
		return e->class == ERR_DATA ? 0 : -1;
	}
	v = msg_hdr_value(h, &n);
	buf_init(&b, MSG_HEADER_MAX);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].len == 0 || l.v[i].off < last ||
		    l.v[i].off + l.v[i].len > n || !addr_is_local(l.v[i].spec))
			continue;
		if ((r = addr_rewrite(l.v[i].spec, rw)) == NULL)
			goto fail;
		if (buf_add(&b, v + last, l.v[i].off - last) == -1 ||
		    buf_adds(&b, r) == -1) {
			free(r);
			goto fail;
		}
		free(r);
		last = l.v[i].off + l.v[i].len;
		changed++;
	}
	if (changed > 0) {
		snprintf(name, sizeof(name), "%.*s", (int)h->namelen, h->text);
		if (buf_add(&b, v + last, n - last) == -1 ||
		    msg_hdr_set(h, name, b.data, b.len) == -1)
			goto fail;
	}
	addr_list_free(&l);
	buf_free(&b);
	return 0;
fail:
	addr_list_free(&l);
	buf_free(&b);
	return err_sys(e, ERR_OS, "cannot qualify the %.*s: header",
	    (int)h->namelen, h->text);
}

/* The first addr-spec of the From field, rewritten; NULL if none. */
static char *
from_spec(const struct msg_hdr *from, const struct addr_rewrite *rw)
{
	struct addr_list l;
	struct err e;
	char *r = NULL;

	if (from == NULL)
		return NULL;
	memset(&l, 0, sizeof(l));
	if (parse_field(from, &l, &e) == 0 && l.n > 0 && *l.v[0].spec)
		r = addr_rewrite(l.v[0].spec, rw);
	addr_list_free(&l);
	return r;
}

static int
set_from(struct msg_hdrs *hs, struct msg_hdr *from, const char *name,
    const char *spec)
{
	struct buf b;
	int r;

	buf_init(&b, MSG_HEADER_MAX);
	r = msg_hdr_mailbox(&b, name, spec);
	if (r == 0 && from != NULL)
		r = msg_hdr_set(from, "From", b.data, b.len);
	else if (r == 0)
		r = msg_hdrs_add(hs, "From", b.data, b.len);
	buf_free(&b);
	return r;
}

/*
 * [sender] address with send_as_user = no: it is the envelope sender and
 * the From; a different original From survives as Reply-To unless the
 * message has one.  This is the operator's rule, so it holds under -G
 * too, except that -G adds no From where there was none.
 */
static int
policy_fixed(struct msg *m, struct msg_hdrs *hs, const struct msg_opts *o,
    const struct addr_rewrite *rw)
{
	const struct config *cfg = o->cfg;
	struct msg_hdr *from = msg_hdrs_find(hs, "From");
	const char *v;
	char *orig;
	size_t n;
	int differ;

	if ((m->sender = addr_rewrite(cfg->sender_spec, rw)) == NULL)
		return -1;
	if (from == NULL)
		return o->relay
		    ? 0
		    : set_from(hs, NULL, cfg->sender_name, m->sender);
	orig = from_spec(from, rw);
	differ = orig == NULL || strcasecmp(orig, m->sender) != 0;
	free(orig);
	if (differ && msg_hdrs_find(hs, "Reply-To") == NULL) {
		v = msg_hdr_value(from, &n);
		if (msg_hdrs_add(hs, "Reply-To", v, n) == -1)
			return -1;
		from = msg_hdrs_find(hs, "From"); /* the array may move */
	}
	return set_from(hs, from, cfg->sender_name, m->sender);
}

/*
 * send_as_user = yes, or no [sender] address: -f, else the From, else
 * user@domain.  A From is built only when missing (and not under -G); for
 * the null sender it names the user, as "<>" is no author.
 */
static int
policy_user(struct msg *m, struct msg_hdrs *hs, const struct msg_opts *o,
    const struct addr_rewrite *rw, struct err *e)
{
	struct msg_hdr *from = msg_hdrs_find(hs, "From");
	const char *user = o->user ? o->user : "root";
	char *spec, *author;
	int r;

	if (o->sender != NULL) {
		if (addr_parse_sender(o->sender, &spec, e) == -1)
			return -1;
		m->sender = *spec ? addr_rewrite(spec, rw) : strdup("");
		free(spec);
	} else if ((m->sender = from_spec(from, rw)) == NULL) {
		m->sender = addr_rewrite(user, rw);
	}
	if (m->sender == NULL)
		return err_sys(e, ERR_OS, "cannot set the sender");
	if (from != NULL || o->relay)
		return 0;
	if (*m->sender)
		return set_from(hs, NULL, o->fullname, m->sender) == -1
		    ? err_sys(e, ERR_OS, "cannot add From")
		    : 0;
	if ((author = addr_rewrite(user, rw)) == NULL)
		return err_sys(e, ERR_OS, "cannot add From");
	r = set_from(hs, NULL, o->fullname, author);
	free(author);
	return r == -1 ? err_sys(e, ERR_OS, "cannot add From") : 0;
}

int
msg_addr_apply(struct msg *m, struct msg_hdrs *hs, const struct msg_opts *o,
    struct err *e)
{
	const struct config *cfg = o->cfg;
	struct addr_rewrite rw;
	size_t i;

	config_rewrite(cfg, &rw);
	if (o->extract && extract(m, hs, &rw, e) == -1)
		return -1;
	for (i = 0; !o->relay && i < hs->n; i++)
		if (name_in(&hs->v[i], qualified) &&
		    qualify(&hs->v[i], &rw, e) == -1)
			return -1;
	if (cfg->sender_spec != NULL && *cfg->sender_spec &&
	    !cfg->send_as_user) {
		if (policy_fixed(m, hs, o, &rw) == -1)
			return err_sys(e, ERR_OS, "cannot apply [sender]");
	} else if (policy_user(m, hs, o, &rw, e) == -1) {
		return -1;
	}
	if (addr_is_8bit(m->sender))
		m->utf8_addrs = 1;
	msg_hdrs_del(hs, "Bcc");
	msg_hdrs_del(hs, "Resent-Bcc");
	msg_hdrs_del(hs, "Return-Path");
	msg_hdrs_del(hs, "Content-Length");
	return 0;
}
