/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp_reply.c: the strict SMTP reply parser and the EHLO capability list.
 *
 * A reply is one or more lines (RFC 5321 4.2):
 *
 *	"250-first line"	continuation: code, '-', text
 *	"250-"			continuation with empty text
 *	"250 last line"		last line: code, ' ', text
 *	"250"			last line with no text at all
 *
 * The code is three digits, the first 2..5, and every line of one reply
 * carries the same code.  Anything else is a protocol error: a server that
 * cannot frame a reply cannot be trusted to have understood the command
 * either.  The bounds (SMTP_LINE_MAX per line, SMTP_REPLY_LINES per reply,
 * SMTP_TEXT_MAX kept) are what keep a hostile server from making us
 * allocate or loop without end.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postern/err.h"
#include "postern/smtp.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->enh[0] = '\0';
	r->text[0] = '\0';
	r->nlines = 0;
	r->done = 0;
}

/* 1..3 digits at *p; advances *p.  Returns the digit count (0: none). */
static size_t
reply_digits(const char **p, const char *end)
{
	size_t n = 0;

	while (*p < end && n < 4 && isdigit((unsigned char)**p)) {
		(*p)++;
		n++;
	}
	return n;
}

/*
 * RFC 3463 enhanced status code at the start of the first line's text:
 * class "." subject "." detail, then a space or the end of the line.  The
 * class must match the reply's first digit; otherwise the text merely
 * starts with something number-like and is left alone.
 */
static void
reply_enh(struct smtp_reply *r, const char *t, size_t len)
{
	const char *p = t, *end = t + len;
	size_t n;

	if (len < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') ||
	    t[0] - '0' != r->code / 100 || t[1] != '.')
		return;
	p = t + 2;
	n = reply_digits(&p, end);
	if (n < 1 || n > 3 || p >= end || *p != '.')
		return;
	p++;
	n = reply_digits(&p, end);
	if (n < 1 || n > 3 || (p < end && *p != ' '))
		return;
	n = (size_t)(p - t); /* at most 9 < sizeof(r->enh) */
	memcpy(r->enh, t, n);
	r->enh[n] = '\0';
}

/* Append one line's text, "\n"-joined; the joined text may be cut short. */
static void
reply_append(struct smtp_reply *r, const char *t, size_t len)
{
	size_t have = strlen(r->text), room;

	if (r->nlines > 0 && have + 1 < sizeof(r->text))
		r->text[have++] = '\n';
	room = sizeof(r->text) - 1 - have;
	if (len > room)
		len = room;
	memcpy(r->text + have, t, len);
	r->text[have + len] = '\0';
}

int
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len,
    struct err *err)
{
	int code;

	if (r->done)
		return err_set(err, ERR_SOFTWARE,
		    "reply parser fed after the end");
	if (len > SMTP_LINE_MAX)
		return err_set(err, ERR_TEMP,
		    "reply line longer than %d octets", SMTP_LINE_MAX);
	if (r->nlines >= SMTP_REPLY_LINES)
		return err_set(err, ERR_TEMP, "reply longer than %d lines",
		    SMTP_REPLY_LINES);
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return err_set(err, ERR_TEMP, "malformed reply code");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return err_set(err, ERR_TEMP,
		    "malformed reply: no space or '-' after the code");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return err_set(err, ERR_TEMP,
		    "reply code changed from %d to %d within one reply",
		    r->code, code);
	r->code = code;
	if (len > 4) {
		if (r->nlines == 0)
			reply_enh(r, line + 4, len - 4);
		reply_append(r, line + 4, len - 4);
	} else
		reply_append(r, "", 0);
	r->nlines++;
	if (len == 3 || line[3] == ' ')
		r->done = 1;
	return 0;
}

/* Add the mechanisms of an AUTH line to caps->auth, uppercased, once each. */
static void
caps_auth(struct smtp_caps *c, const char *p, const char *end)
{
	const char *w;
	size_t n, have, i;
	char mech[64];

	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		for (w = p; p < end && *p != ' '; p++)
			;
		n = (size_t)(p - w);
		if (n == 0 || n >= sizeof(mech))
			continue; /* no mechanism name is that long */
		for (i = 0; i < n; i++)
			mech[i] = (char)toupper((unsigned char)w[i]);
		mech[n] = '\0';
		if (smtp_caps_has_auth(c, mech))
			continue;
		have = strlen(c->auth);
		/* A name that does not fit whole is dropped, never cut. */
		if (have + (have ? 1 : 0) + n >= sizeof(c->auth))
			continue;
		if (have)
			c->auth[have++] = ' ';
		memcpy(c->auth + have, mech, n + 1);
	}
}

/* "SIZE" or "SIZE 10240000": a bad or absent number means no limit. */
static void
caps_size(struct smtp_caps *c, const char *p, const char *end)
{
	char num[32];
	size_t n;
	char *ep;
	unsigned long long v;

	c->size = 1;
	c->size_max = 0;
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(num) || !isdigit((unsigned char)*p))
		return;
	memcpy(num, p, n);
	num[n] = '\0';
	errno = 0;
	v = strtoull(num, &ep, 10);
	if (errno == 0 && *ep == '\0')
		c->size_max = v;
}

/* One EHLO keyword line: keyword, then optional parameters. */
static void
caps_line(struct smtp_caps *c, const char *l, size_t len)
{
	static const struct {
		const char *kw;
		size_t off;
	} flags[] = {
		{ "PIPELINING", offsetof(struct smtp_caps, pipelining) },
		{ "8BITMIME", offsetof(struct smtp_caps, eightbitmime) },
		{ "SMTPUTF8", offsetof(struct smtp_caps, smtputf8) },
		{ "DSN", offsetof(struct smtp_caps, dsn) },
		{ "STARTTLS", offsetof(struct smtp_caps, starttls) },
		{ "ENHANCEDSTATUSCODES",
		    offsetof(struct smtp_caps, enhancedstatuscodes) },
		{ "CHUNKING", offsetof(struct smtp_caps, chunking) },
	};
	const char *end = l + len, *kw = l;
	size_t i, n;

	while (l < end && *l != ' ' && *l != '=')
		l++;
	n = (size_t)(l - kw);
	if (n == 4 && strncasecmp(kw, "AUTH", 4) == 0) {
		/* "AUTH=LOGIN PLAIN" is the pre-RFC 4954 form of some servers
		 */
		caps_auth(c, l < end ? l + 1 : l, end);
		return;
	}
	if (n == 4 && strncasecmp(kw, "SIZE", 4) == 0 &&
	    (l == end || *l == ' ')) {
		caps_size(c, l, end);
		return;
	}
	if (l != end && *l != ' ')
		return;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i].kw) == n &&
		    strncasecmp(kw, flags[i].kw, n) == 0)
			*(int *)((char *)c + flags[i].off) = 1;
}

void
smtp_caps_parse(struct smtp_caps *c, const struct smtp_reply *r)
{
	const char *p, *nl;

	memset(c, 0, sizeof(*c));
	c->esmtp = 1;
	/* The first line is the server's name and greeting, not a keyword. */
	if ((p = strchr(r->text, '\n')) == NULL)
		return;
	for (p++; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		caps_line(c, p, (size_t)(nl - p));
		if (*nl == '\0')
			break;
	}
}

int
smtp_caps_has_auth(const struct smtp_caps *c, const char *mech)
{
	const char *p = c->auth;
	size_t n = strlen(mech);

	while (*p != '\0') {
		if (strncasecmp(p, mech, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		p++;
	}
	return 0;
}
