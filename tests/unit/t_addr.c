/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_addr.c: address lists as real callers write them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "postern/addr.h"
#include "postern/err.h"
#include "t.h"

static struct addr_list L;
static struct err E;
static char where[1100];

static int
parse(const char *s)
{
	addr_list_free(&L);
	err_clear(&E);
	return addr_parse_list(s, strlen(s), &L, &E);
}

/* The source text an entry's off/len point at. */
static const char *
at(const char *s, size_t i)
{
	size_t n = L.v[i].len < sizeof(where) ? L.v[i].len : 0;

	memcpy(where, s + L.v[i].off, n);
	where[n] = '\0';
	return where;
}

static const char *
name(size_t i)
{
	return L.v[i].name ? L.v[i].name : "(none)";
}

/* One mailbox: spec, display name, the spliceable source text. */
static void
one(const char *s, const char *spec, const char *nm, const char *src,
    const char *t)
{
	int rc = parse(s);

	T_OK(rc == 0 && L.n == 1, t);
	if (rc != 0 || L.n != 1) {
		printf("# %s\n", E.text);
		return;
	}
	T_STR(L.v[0].spec, spec, t);
	T_STR(name(0), nm, t);
	T_STR(at(s, 0), src, t);
}

static void
fails(const char *s, const char *text, const char *t)
{
	int rc = parse(s);

	T_OK(rc == -1 && E.class == ERR_DATA, t);
	T_OK(strstr(E.text, text) != NULL, t);
	if (strstr(E.text, text) == NULL)
		printf("# got \"%s\"\n", E.text);
	T_OK(L.n == 0, t);
}

static void
t_simple(void)
{
	const char *s;

	one("a@x", "a@x", "(none)", "a@x", "plain");
	one("  a@x  ", "a@x", "(none)", "a@x", "spaces around");
	one("Name <a@x>", "a@x", "Name", "a@x", "name-addr");
	one("John Q. Public <jqp@x.org>", "jqp@x.org", "John Q. Public",
	    "jqp@x.org", "obs-phrase with a dot");
	one("a@x (comment)", "a@x", "(none)", "a@x", "trailing comment");
	one("(c1) a@x (c2 (nested))", "a@x", "(none)", "a@x",
	    "nested comments");
	one("\"Doe, John\" <j@x>", "j@x", "Doe, John", "j@x",
	    "quoted name with comma");
	one("\"a \\\"b\\\" c\" <j@x>", "j@x", "a \"b\" c", "j@x",
	    "quoted-pair in name");
	one("Jos\xc3\xa9 <j@x>", "j@x", "Jos\xc3\xa9", "j@x", "UTF-8 name");
	one("=?UTF-8?B?w6k=?= <j@x>", "j@x", "=?UTF-8?B?w6k=?=", "j@x",
	    "encoded word kept as is");
	one("\"a b\"@x", "\"a b\"@x", "(none)", "\"a b\"@x",
	    "quoted local part keeps quotes");
	one("a@[127.0.0.1]", "a@[127.0.0.1]", "(none)", "a@[127.0.0.1]",
	    "domain literal");
	one("<a@[IPv6:::1]>", "a@[IPv6:::1]", "(none)", "a@[IPv6:::1]",
	    "IPv6 domain literal");
	one("a . b @ x . y", "a.b@x.y", "(none)", "a . b @ x . y",
	    "obsolete spaces in addr-spec");
	one("j\xc3\xb6rg@b\xc3\xbc.de", "j\xc3\xb6rg@b\xc3\xbc.de", "(none)",
	    "j\xc3\xb6rg@b\xc3\xbc.de", "UTF-8 address");
	one("john..doe@x", "john..doe@x", "(none)", "john..doe@x",
	    "double dot kept");
	one("a@x <a@x>", "a@x", "a@x", "a@x", "address as display name");
	one("\"\" <a@x>", "a@x", "(none)", "a@x", "empty quoted name");
	s = "a+tag@sub.example.org";
	one(s, s, "(none)", s, "plus and subdomain");
}

static void
t_local(void)
{
	one("root", "root", "(none)", "root", "bare local");
	one("<root>", "root", "(none)", "root", "bare local in angles");
	one("root (Cron Daemon)", "root", "(none)", "root",
	    "bare local with comment");
	one("Name <root>", "root", "Name", "root", "name and bare local");
	one("\"a b\"", "\"a b\"", "(none)", "\"a b\"", "quoted bare local");
	T_OK(addr_is_local("root"), "is_local root");
	T_OK(!addr_is_local("a@x"), "is_local a@x");
	T_OK(addr_is_local("\"a@b\""), "is_local quoted @");
	T_OK(!addr_is_local("\"a@b\"@x"), "is_local quoted @ with domain");
	T_OK(addr_is_local("\"a\\\"@b\""), "is_local escaped quote");
	T_OK(addr_is_8bit("j\xc3\xb6rg@x"), "is_8bit yes");
	T_OK(!addr_is_8bit("jorg@x"), "is_8bit no");
}

/* The offsets let msg.c splice a qualified address into the header. */
static void
t_offsets(void)
{
	const char *s = "Logwatch, root (Cron Daemon), Name <root>,  <x@y> ,";

	T_OK(parse(s) == 0 && L.n == 4, "list of four, trailing comma");
	if (L.n != 4)
		return;
	T_OK(L.v[0].off == 0 && L.v[0].len == 8, "offset Logwatch");
	T_OK(L.v[1].off == 10 && L.v[1].len == 4, "offset root");
	T_STR(at(s, 2), "root", "offset Name <root>");
	T_OK(L.v[2].off == 36 && L.v[2].angle, "offset and angle");
	T_OK(!L.v[1].angle, "no angle");
	T_STR(at(s, 3), "x@y", "offset <x@y>");
	T_OK(L.v[3].off == 45, "offset <x@y> position");

	s = "a@x,\r\n b@y,\n\tName\r\n <c@z>";
	T_OK(parse(s) == 0 && L.n == 3, "folded header value");
	if (L.n == 3) {
		T_STR(L.v[2].spec, "c@z", "folded third");
		T_STR(at(s, 1), "b@y", "folded offset");
		T_STR(name(2), "Name", "folded name");
	}
	s = "\"Doe,\r\n John\" <j@x>";
	T_OK(parse(s) == 0 && L.n == 1, "folded quoted string");
	if (L.n == 1)
		T_STR(name(0), "Doe, John", "folded quoted name unfolded");
	T_OK(parse("a@x\r\n") == 0 && L.n == 1, "header line end at the end");
	s = "<@r1,@r2:a@x>";
	T_OK(parse(s) == 0 && L.n == 1, "route accepted");
	if (L.n == 1) {
		T_STR(L.v[0].spec, "a@x", "route dropped from spec");
		T_STR(at(s, 0), "@r1,@r2:a@x", "route in spliced range");
	}
}

static void
t_lists(void)
{
	T_OK(parse("a@x, b@y") == 0 && L.n == 2, "two");
	T_OK(parse("") == 0 && L.n == 0, "empty string");
	T_OK(parse(" , ,, ") == 0 && L.n == 0, "only commas");
	T_OK(parse("a@x,") == 0 && L.n == 1, "cron MAILTO trailing comma");
	T_OK(parse("undisclosed-recipients:;") == 0 && L.n == 0, "empty group");
	T_OK(parse("team: a@x, Name <b@y>;, c@z") == 0 && L.n == 3,
	    "group flattened");
	if (L.n == 3) {
		T_STR(L.v[1].spec, "b@y", "group member");
		T_STR(name(1), "Name", "group member name");
		T_STR(L.v[2].spec, "c@z", "after group");
	}
	T_OK(parse("team: a@x, b@y") == 0 && L.n == 2,
	    "group without ';' at the end");
	T_OK(parse("a@x, undisclosed-recipients: ;") == 0 && L.n == 1,
	    "list then empty group");
	/* appending keeps what was there; a failure removes only its own */
	T_OK(parse("a@x") == 0 && L.n == 1, "append base");
	T_OK(addr_parse_list("b@y", 3, &L, &E) == 0 && L.n == 2, "append");
	T_OK(addr_parse_list("c@z, <", 6, &L, &E) == -1 && L.n == 2,
	    "failed append rolls back");
	T_OK(addr_parse_list("a@xjunk", 3, &L, &E) == 0 && L.n == 3 &&
		strcmp(L.v[2].spec, "a@x") == 0,
	    "length bounds the input");
}

/* A failure leaves an empty list as given: nothing allocated, so a
 * caller that drops it leaks nothing (issue 10 item 8). */
static void
t_failure_empty(void)
{
	struct addr_list l = { NULL, 0, 0 };

	T_OK(addr_parse_list("a@x, b@y c@z", 12, &l, &E) == -1 &&
		l.v == NULL && l.n == 0 && l.cap == 0,
	    "failure after a good address: list as given");
	addr_list_free(&l);
}

static void
t_errors(void)
{
	char *big;

	fails("\"Doe, John <j@x>", "unbalanced quote", "unbalanced quote");
	fails("Name <a@x", "'<' without '>'", "missing '>'");
	fails("a@x>", "'>' without '<'", "stray '>'");
	fails("a@x (comment", "unbalanced parenthesis", "unbalanced paren");
	fails("a@x)", "unbalanced parenthesis", "stray ')'");
	fails("a@[1.2.3.4", "unbalanced '['", "unbalanced bracket");
	fails("a@1.2.3.4]", "unbalanced ']'", "stray ']'");
	fails("a@[1[2]", "'[' inside", "bracket in literal");
	fails("<>", "empty address", "<> not a recipient");
	fails("Name <>", "empty address", "Name <> not a recipient");
	fails("@x", "missing local part", "bare @x");
	fails("ok@x, @x", "bad address \"@x\"", "error names the address");
	fails("a@", "missing or bad domain", "a@");
	fails("a@x.", "missing or bad domain", "trailing dot in domain");
	fails("a@@x", "missing or bad domain", "double @");
	fails("a@b@c", "missing ','", "two @");
	fails("a@x b@y", "missing ','", "missing comma");
	fails("Cron Daemon", "missing '@' or ','", "phrase without address");
	fails("<a@x> junk", "missing ','", "text after >");
	fails("<a@x junk>", "expected '>'", "junk inside angles");
	fails("a@x\r\nb@y", "line break", "CRLF not folding");
	fails("a@x\nb@y", "line break", "LF not folding");
	fails("a@x\rb@y", "line break", "bare CR");
	fails("\"a\nb\"@x", "line break", "LF in quoted string");
	fails("a\\b@x", "invalid character", "backslash outside quotes");
	fails("a\x01@x", "invalid character", "control character");
	/* What SMTP and the queue file cannot carry (issue 10, item 2). */
	fails("\"a\tb\"@x", "control character", "TAB in quotes");
	fails("\"a\x1b[1mb\"@x", "control character", "ESC in quotes");
	fails("\"a\\\x01\"@x", "control character", "escaped \\001");
	fails("\"\x7f\"@x", "control character", "DEL in quotes");
	fails("a@[1.2.3.\x01]", "control character", "\\001 in literal");
	fails("a@[1.2.3.4\t]", "control character", "TAB in literal");
	fails("a@x (\x1b]0;t\x07)", "control character", "ESC in comment");
	fails("\"a\r\n\tb\"@x", "control character", "TAB folded in quotes");
	T_OK(parse("\"Long\r\n\tName\" <a@x>") == 0 && L.n == 1 &&
		strcmp(L.v[0].spec, "a@x") == 0,
	    "a display name folded with a TAB");
	T_OK(parse("a@x (tab\there)") == 0 && L.n == 1 &&
		strcmp(L.v[0].spec, "a@x") == 0,
	    "TAB in a comment is white space");
	T_OK(parse("\"a\r\n b\"@x") == 0 && L.n == 1 &&
		strcmp(L.v[0].spec, "\"a b\"@x") == 0 &&
		addr_spec_ok(L.v[0].spec, strlen(L.v[0].spec)) == 0,
	    "folded quoted string unfolds to a space");
	T_OK(addr_spec_ok("a\tb@x", 6) == -1 && addr_spec_ok("a@x", 3) == 0,
	    "addr_spec_ok");
	fails("a@x;", "';' outside a group", "stray ';'");
	fails("g: h: a@x;;", "nested group", "nested group");
	fails("a@x: b@y;", "unexpected ':'", "colon after @");
	fails("<@r a@x>", "bad route", "bad route");
	fails("\"abc\\", "unbalanced quote", "backslash at end");
	T_OK(parse("a\0b@x") == 0 && L.n == 1, "NUL ends a C string");
	T_OK(addr_parse_list("a\0b@x", 5, &L, &E) == -1 && E.class == ERR_DATA,
	    "NUL byte inside the length");
	T_OK(addr_parse_list("\"a\\\0b\"@x", 8, &L, &E) == -1 &&
		E.class == ERR_DATA,
	    "escaped NUL byte in a quoted local part");
	T_OK(addr_parse_list("a(\\\0)@x", 7, &L, &E) == -1 &&
		E.class == ERR_DATA,
	    "escaped NUL byte in a comment");

	big = malloc(ADDR_SPEC_MAX + 10);
	if (big == NULL)
		return;
	memset(big, 'a', ADDR_SPEC_MAX + 9);
	big[ADDR_SPEC_MAX - 2] = '@';
	big[ADDR_SPEC_MAX] = '\0';
	T_OK(parse(big) == 0 && L.n == 1, "spec of ADDR_SPEC_MAX");
	big[ADDR_SPEC_MAX] = 'a';
	big[ADDR_SPEC_MAX + 1] = '\0';
	fails(big, "address too long", "spec over ADDR_SPEC_MAX");
	free(big);
}

static void
t_toomany(void)
{
	size_t n = ADDR_LIST_MAX + 1, i;
	char *s = malloc(n * 4 + 1);

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		memcpy(s + i * 4, "a@x,", 4);
	s[ADDR_LIST_MAX * 4] = '\0';
	T_OK(parse(s) == 0 && L.n == ADDR_LIST_MAX, "ADDR_LIST_MAX addresses");
	s[ADDR_LIST_MAX * 4] = 'a';
	s[n * 4] = '\0';
	fails(s, "too many addresses", "one too many");
	free(s);
}

static void
sender(const char *s, const char *want, const char *t)
{
	char *spec = NULL;

	err_clear(&E);
	T_OK(addr_parse_sender(s, &spec, &E) == 0, t);
	T_STR(spec, want, t);
	free(spec);
}

static void
t_sender(void)
{
	char *spec = NULL;

	sender("", "", "sender empty");
	sender("<>", "", "sender <>");
	sender(" <> ", "", "sender <> with spaces");
	sender("\"\"", "", "sender \"\"");
	sender("Bounce <b@x>", "b@x", "sender name-addr");
	sender("Name <>", "", "sender Name <>");
	sender("b@x", "b@x", "sender plain");
	sender("a@x, b@y", "a@x", "sender first of list");
	sender("root", "root", "sender local");
	err_clear(&E);
	T_OK(addr_parse_sender("<a@x", &spec, &E) == -1 && E.class == ERR_DATA,
	    "sender broken");
	T_OK(addr_parse_sender(",", &spec, &E) == -1 && E.class == ERR_DATA &&
		strstr(E.text, "no address") != NULL,
	    "sender without address");
	T_OK(addr_parse_sender("g:;", &spec, &E) == -1, "sender empty group");
	/* fails after a first mailbox was parsed (no leak under ASan) */
	T_OK(addr_parse_sender("J <a>, g (r;", &spec, &E) == -1 &&
	    strstr(E.text, "unbalanced parenthesis") != NULL,
	    "sender: error after a good mailbox");
}

static void
rw(const char *spec, const struct addr_rewrite *r, const char *want,
    const char *t)
{
	char *got = addr_rewrite(spec, r);

	T_STR(got, want, t);
	free(got);
}

static void
t_rewrite(void)
{
	struct addr_alias al[] = {
		{ "root", "ops@example.com" },
		{ "www", "webmaster" },
	};
	struct addr_rewrite r = { "example.org", al, 2, NULL };

	rw("root", &r, "ops@example.com", "alias");
	rw("ROOT", &r, "ops@example.com", "alias case-insensitive");
	rw("www", &r, "webmaster@example.org", "alias to a local name");
	rw("logwatch", &r, "logwatch@example.org", "qualify");
	rw("\"a b\"", &r, "\"a b\"@example.org", "qualify quoted");
	rw("a@x", &r, "a@x", "domain unchanged");
	rw("ROOT@x", &r, "ROOT@x", "alias only for local names");
	rw("", &r, "", "null sender unchanged");
	r.alias_default = "catch@example.net";
	rw("logwatch", &r, "catch@example.net", "alias_default");
	rw("root", &r, "ops@example.com", "alias before default");
	rw("a@x", &r, "a@x", "default only for local names");
	r.alias_default = NULL;
	r.domain = NULL;
	rw("root2", &r, "root2", "no domain: unchanged");
}

int
main(void)
{
	t_simple();
	t_local();
	t_offsets();
	t_lists();
	t_failure_empty();
	t_errors();
	t_toomany();
	t_sender();
	t_rewrite();
	addr_list_free(&L);
	return t_done();
}
