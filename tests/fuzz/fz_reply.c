/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_reply.c: SMTP replies and EHLO capabilities (src/smtp_reply.c), as
 * a server sends them.  The input is the server's side of a session:
 * lines ending in LF (a CR before it is dropped, as the connection does),
 * fed to the reply parser one after the other; each complete reply is
 * also read as an EHLO reply.
 *
 * Properties: a reply's code is three digits, the first 2..5; the same
 * code on every line; the enhanced code, when kept, is class.subject.
 * detail with the reply's class; the text and the AUTH list are bounded
 * and terminated; every mechanism listed is found by smtp_caps_has_auth;
 * an error is one line.
 */
#include <ctype.h>
#include <string.h>

#include "postern/err.h"
#include "postern/smtp.h"
#include "fuzz.h"

static void
check_enh(const struct smtp_reply *r)
{
	const char *p = r->enh;
	int parts = 0, digits;

	if (r->enh[0] == '\0')
		return;
	if (p[0] - '0' != r->code / 100)
		fuzz_fail("enhanced code %s in a %d reply", r->enh, r->code);
	for (;;) {
		for (digits = 0; isdigit((unsigned char)*p); p++)
			digits++;
		if (digits < 1 || digits > 3)
			fuzz_fail("enhanced code \"%s\"", r->enh);
		parts++;
		if (*p != '.')
			break;
		p++;
	}
	if (parts != 3 || *p != '\0')
		fuzz_fail("enhanced code \"%s\"", r->enh);
}

static void
check_caps(const struct smtp_reply *r)
{
	struct smtp_caps c;
	char mech[sizeof(c.auth)];
	const char *p, *sp;
	size_t n;

	smtp_caps_parse(&c, r);
	if (memchr(c.auth, '\0', sizeof(c.auth)) == NULL)
		fuzz_fail("AUTH list not terminated");
	for (p = c.auth; *p != '\0'; p = sp + 1) {
		sp = strchr(p, ' ');
		n = sp ? (size_t)(sp - p) : strlen(p);
		if (n == 0)
			fuzz_fail("empty mechanism in \"%s\"", c.auth);
		memcpy(mech, p, n);
		mech[n] = '\0';
		if (!smtp_caps_has_auth(&c, mech))
			fuzz_fail("mechanism %s listed but not found", mech);
		if (sp == NULL)
			break;
	}
	if (!c.size && c.size_max != 0)
		fuzz_fail("SIZE limit without SIZE");
}

static void
check_reply(const struct smtp_reply *r)
{
	if (r->code < 200 || r->code > 599)
		fuzz_fail("reply code %d", r->code);
	if (r->nlines < 1 || r->nlines > SMTP_REPLY_LINES)
		fuzz_fail("%zu lines in one reply", r->nlines);
	if (memchr(r->text, '\0', sizeof(r->text)) == NULL)
		fuzz_fail("reply text not terminated");
	check_enh(r);
	check_caps(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	struct err e;
	size_t n;
	int first_code = 0;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		err_clear(&e);
		if (smtp_reply_feed(&r, p, n, &e) == -1) {
			if (e.class == ERR_NONE ||
			    strpbrk(e.text, "\r\n") != NULL)
				fuzz_fail("reply error not one line: \"%s\"",
				    e.text);
			smtp_reply_init(&r);
			first_code = 0;
		} else {
			if (first_code == 0)
				first_code = r.code;
			else if (r.code != first_code)
				fuzz_fail("code changed from %d to %d",
				    first_code, r.code);
			if (r.done) {
				check_reply(&r);
				smtp_reply_init(&r);
				first_code = 0;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
