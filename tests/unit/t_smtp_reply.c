/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_smtp_reply.c: the strict reply parser and the EHLO capability list.
 */
#include <string.h>

#include "postern/err.h"
#include "postern/smtp.h"
#include "t.h"

/* Feed lines (NULL-terminated list); returns the first result that fails. */
static int
feed(struct smtp_reply *r, struct err *err, const char **lines)
{
	smtp_reply_init(r);
	err_clear(err);
	for (; *lines != NULL; lines++)
		if (smtp_reply_feed(r, *lines, strlen(*lines), err) == -1)
			return -1;
	return 0;
}

static void
t_good(void)
{
	struct smtp_reply r;
	struct err err;
	const char *one[] = { "250 OK", NULL };
	const char *multi[] = { "250-mx.example.com hello", "250-PIPELINING",
		"250 SIZE 1000", NULL };
	const char *bare[] = { "354", NULL };
	const char *empty[] = { "250 ", NULL };
	const char *dashempty[] = { "250-", "250 x", NULL };

	T_OK(feed(&r, &err, one) == 0 && r.done, "single line parses");
	T_OK(r.code == 250 && r.nlines == 1, "single line code");
	T_STR(r.text, "OK", "single line text");
	T_STR(r.enh, "", "no enhanced code");

	T_OK(feed(&r, &err, multi) == 0 && r.done, "multi-line parses");
	T_OK(r.nlines == 3, "multi-line count");
	T_STR(r.text, "mx.example.com hello\nPIPELINING\nSIZE 1000",
	    "multi-line joined");

	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, "250-a", 5, &err) == 0 && !r.done,
	    "continuation is not the end");

	T_OK(feed(&r, &err, bare) == 0 && r.done && r.code == 354,
	    "code alone is a last line");
	T_STR(r.text, "", "code alone has empty text");
	T_OK(feed(&r, &err, empty) == 0 && r.done, "empty text after space");
	T_STR(r.text, "", "empty text");
	T_OK(feed(&r, &err, dashempty) == 0 && r.done, "empty continuation");
	T_STR(r.text, "\nx", "empty continuation joined");
}

static void
t_bad(void)
{
	struct smtp_reply r;
	struct err err;
	char longl[SMTP_LINE_MAX + 8];
	const char *mismatch[] = { "250-a", "251 b", NULL };
	const char *codes[] = { "150 x", "650 x", "25 x", "2a0 x", "abc", "",
		"099 x", NULL };
	const char *nospace[] = { "250OK", NULL };
	const char *tab[] = { "250\tOK", NULL };
	const char *one[2] = { NULL, NULL };
	size_t i;

	T_OK(feed(&r, &err, mismatch) == -1 && err.class == ERR_TEMP,
	    "code mismatch refused");
	T_OK(strstr(err.text, "250 to 251") != NULL, "mismatch text");
	for (i = 0; codes[i] != NULL; i++) {
		one[0] = codes[i];
		T_OK(feed(&r, &err, one) == -1 && err.class == ERR_TEMP,
		    codes[i][0] ? codes[i] : "empty line refused");
	}
	T_OK(feed(&r, &err, nospace) == -1, "missing space refused");
	T_OK(strstr(err.text, "no space") != NULL, "missing space text");
	T_OK(feed(&r, &err, tab) == -1, "tab separator refused");

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES; i++)
		if (smtp_reply_feed(&r, "250-x", 5, &err) == -1)
			break;
	T_OK(i == SMTP_REPLY_LINES, "SMTP_REPLY_LINES lines accepted");
	T_OK(smtp_reply_feed(&r, "250 x", 5, &err) == -1 &&
		err.class == ERR_TEMP,
	    "one line more refused");

	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "250 ", 4);
	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, longl, SMTP_LINE_MAX, &err) == 0,
	    "SMTP_LINE_MAX line accepted");
	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, longl, SMTP_LINE_MAX + 1, &err) == -1 &&
		err.class == ERR_TEMP,
	    "longer line refused");

	smtp_reply_init(&r);
	T_OK(smtp_reply_feed(&r, "250 a", 5, &err) == 0 &&
		smtp_reply_feed(&r, "250 b", 5, &err) == -1 &&
		err.class == ERR_SOFTWARE,
	    "feeding after the end refused");
}

static void
t_text_cap(void)
{
	struct smtp_reply r;
	struct err err;
	char l[SMTP_LINE_MAX];
	size_t i;

	memset(l, 'x', sizeof(l));
	memcpy(l, "250-", 4);
	smtp_reply_init(&r);
	for (i = 0; i < 5; i++)
		smtp_reply_feed(&r, l, sizeof(l), &err);
	l[3] = ' ';
	T_OK(smtp_reply_feed(&r, l, sizeof(l), &err) == 0 && r.done,
	    "long reply parses");
	T_OK(strlen(r.text) == SMTP_TEXT_MAX - 1, "joined text truncated");
}

static void
t_enh(void)
{
	struct smtp_reply r;
	struct err err;
	const char *a[] = { "550 5.1.1 no such user", NULL };
	const char *b[] = { "250-2.0.0 ok", "250 2.0.0 more", NULL };
	const char *c[] = { "550 4.1.1 wrong class", NULL };
	const char *d[] = { "550 5.1234.1 too many digits", NULL };
	const char *e[] = { "550 5.1.1", NULL };
	const char *f[] = { "550 5.1.1x", NULL };
	const char *g[] = { "451 4.7.0", NULL };
	const char *h[] = { "550 5.1", NULL };
	const char *i[] = { "550 5.123.456 max", NULL };

	T_OK(feed(&r, &err, a) == 0, "enhanced parses");
	T_STR(r.enh, "5.1.1", "enhanced extracted");
	T_STR(r.text, "5.1.1 no such user", "enhanced kept in the text");
	feed(&r, &err, b);
	T_STR(r.enh, "2.0.0", "enhanced on multi-line");
	feed(&r, &err, c);
	T_STR(r.enh, "", "enhanced class must match the code");
	feed(&r, &err, d);
	T_STR(r.enh, "", "enhanced with 4 digits ignored");
	feed(&r, &err, e);
	T_STR(r.enh, "5.1.1", "enhanced at end of line");
	feed(&r, &err, f);
	T_STR(r.enh, "", "enhanced needs a space after");
	feed(&r, &err, g);
	T_STR(r.enh, "4.7.0", "enhanced 4.x");
	feed(&r, &err, h);
	T_STR(r.enh, "", "two parts are not enhanced");
	feed(&r, &err, i);
	T_STR(r.enh, "5.123.456", "three-digit parts");
}

static void
t_caps(void)
{
	struct smtp_reply r;
	struct smtp_caps c;
	struct err err;
	const char *all[] = { "250-mx.example.com PIPELINING SIZE",
		"250-pipelining", "250-8BITMIME", "250-SmtpUtf8", "250-DSN",
		"250-SIZE 10240000", "250-STARTTLS", "250-ENHANCEDSTATUSCODES",
		"250-AUTH PLAIN login", "250-AUTH=LOGIN CRAM-MD5",
		"250 X-UNKNOWN foo", NULL };
	const char *none[] = { "250 mx.example.com", NULL };
	const char *sz[] = { "250-x", "250 SIZE", NULL };
	const char *szbad[] = { "250-x", "250 SIZE 12abc", NULL };
	const char *near[] = { "250-x", "250-PIPELININGX", "250-DSNX",
		"250 SIZEX 5", NULL };

	T_OK(feed(&r, &err, all) == 0, "EHLO reply parses");
	smtp_caps_parse(&c, &r);
	T_OK(c.esmtp && c.pipelining && c.eightbitmime && c.smtputf8 && c.dsn &&
		c.starttls && c.enhancedstatuscodes,
	    "all flags, any case");
	T_OK(c.size && c.size_max == 10240000ULL, "SIZE with limit");
	T_STR(c.auth, "PLAIN LOGIN CRAM-MD5", "AUTH mechanisms merged");
	T_OK(smtp_caps_has_auth(&c, "login") &&
		smtp_caps_has_auth(&c, "CRAM-MD5") &&
		!smtp_caps_has_auth(&c, "CRAM") &&
		!smtp_caps_has_auth(&c, "NTLM"),
	    "has_auth");

	feed(&r, &err, none);
	smtp_caps_parse(&c, &r);
	T_OK(c.esmtp && !c.pipelining && !c.size && !c.dsn && c.auth[0] == '\0',
	    "greeting line is not a keyword");
	feed(&r, &err, sz);
	smtp_caps_parse(&c, &r);
	T_OK(c.size && c.size_max == 0, "SIZE without limit");
	feed(&r, &err, szbad);
	smtp_caps_parse(&c, &r);
	T_OK(c.size && c.size_max == 0, "SIZE with a bad number");
	feed(&r, &err, near);
	smtp_caps_parse(&c, &r);
	T_OK(!c.pipelining && !c.dsn && !c.size, "near-miss keywords ignored");
}

int
main(void)
{
	t_good();
	t_bad();
	t_text_cap();
	t_enh();
	t_caps();
	return t_done();
}
