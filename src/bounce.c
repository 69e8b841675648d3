/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * bounce.c: the delivery status notification for the failed recipients
 * of a spooled message (RFC 3464, RFC 6522 multipart/report), committed
 * to the spool like any message.
 *
 * The original's data in the queue file is already in wire form (CRLF
 * lines, dot-stuffed), and so is everything the bounce adds, so the
 * original header block (or the whole message, for RET=FULL) is copied
 * into the bounce byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/bounce.h"
#include "postern/buf.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/spool.h"

#define BOUNCE_TEXT_MAX (1024 * 1024) /* the parts postern writes */
#define BOUNCE_DIAG_MAX 900 /* a Diagnostic-Code line stays under 998 */
/* Room for what is not per recipient: the head, the texts, boundaries. */
#define BOUNCE_FIXED 16384
/* At most, per listed recipient: its human line and its status block. */
#define BOUNCE_PER_RCPT(a) (2 * (a) + 2 * BOUNCE_DIAG_MAX + 256)

/* RFC 5322 date of t, "Mon, 2 Jan 2006 15:04:05 +0000". */
static void
rfc_date(char *out, size_t size, time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static int
bounce_head(struct buf *b, const struct config *cfg,
    const struct spool_env *env, const char *boundary)
{
	char date[64];
	unsigned int r = 0;

	rfc_date(date, sizeof(date), time(NULL));
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)getpid();
	return buf_printf(b,
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s.%08X.bounce@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n",
	    cfg->domain, env->sender, date, env->id, r, cfg->domain, boundary);
}

/* The text, with CR, LF and control bytes made harmless, cut short. */
static void
diag(char *out, size_t size, const char *text)
{
	err_sanitize(out, size < BOUNCE_DIAG_MAX ? size : BOUNCE_DIAG_MAX,
	    text != NULL ? text : "unknown", text != NULL ? strlen(text) : 7);
}

/* "451 4.3.0 ..." (three digits, then a space or the end). */
static int
is_reply(const char *t)
{
	return t != NULL && t[0] >= '2' && t[0] <= '5' &&
	    t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9' &&
	    (t[3] == ' ' || t[3] == '\0');
}

/*
 * The server's reply within a recipient's text: an expired recipient's
 * "gave up after N s in the queue: 451 ..." keeps its prose for the
 * human part, and only the reply goes in the Diagnostic-Code.
 */
static const char *
smtp_part(const char *text)
{
	const char *p;

	if (text == NULL || is_reply(text))
		return text;
	for (p = strstr(text, ": "); p != NULL; p = strstr(p + 2, ": "))
		if (is_reply(p + 2))
			return p + 2;
	return text;
}

/*
 * How many of the failed recipients the report can list within
 * BOUNCE_TEXT_MAX (the first ones, in order); *nfailed: all of them.  A
 * message too big to report in full still gets its bounce, cut short.
 */
static size_t
bounce_fit(const struct spool_env *env, size_t *nfailed)
{
	size_t i, used = BOUNCE_FIXED, n = 0;
	int full = 0;

	*nfailed = 0;
	for (i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].state != SPOOL_FAILED)
			continue;
		(*nfailed)++;
		if (full)
			continue;
		used += BOUNCE_PER_RCPT(strlen(env->rcpts[i].addr));
		if (used > BOUNCE_TEXT_MAX)
			full = 1;
		else
			n++;
	}
	return n;
}

static int
bounce_human(struct buf *b, const struct config *cfg,
    const struct spool_env *env, const char *boundary, size_t nlist,
    size_t nfailed)
{
	char text[BOUNCE_DIAG_MAX];
	size_t i, listed = 0;
	int r;

	r = buf_printf(b,
	    "--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "This is the mail system (postern) at %s.\r\n"
	    "\r\n"
	    "Your message could not be delivered to one or more recipients.\r\n"
	    "It is attached below.\r\n"
	    "\r\n",
	    boundary, cfg->domain);
	for (i = 0; r == 0 && i < env->nrcpts && listed < nlist; i++) {
		if (env->rcpts[i].state != SPOOL_FAILED)
			continue;
		diag(text, sizeof(text), env->rcpts[i].text);
		r = buf_printf(b, "<%s>: %s\r\n", env->rcpts[i].addr, text);
		listed++;
	}
	if (r == 0 && nfailed > listed)
		r = buf_printf(b,
		    "\r\n%zu more recipient%s failed and %s not listed here "
		    "or in the delivery report: the list of all %zu is too "
		    "long for one report.\r\n",
		    nfailed - listed, nfailed - listed == 1 ? "" : "s",
		    nfailed - listed == 1 ? "is" : "are", nfailed);
	return r ? r : buf_adds(b, "\r\n");
}

/* "5.1.1" from the text, else one from the class of the reply. */
static void
status_of(const struct spool_rcpt *rc, char *out, size_t size)
{
	const char *t = rc->text ? rc->text : "";
	size_t n;

	/* "550 5.1.1 ..." */
	if (strlen(t) > 4 && t[3] == ' ' && (t[4] == '4' || t[4] == '5') &&
	    t[5] == '.') {
		n = strspn(t + 4, "0123456789.");
		if (n >= 5 && n < size) {
			memcpy(out, t + 4, n);
			out[n] = '\0';
			out[0] = '5'; /* failed for good, whatever it said */
			return;
		}
	}
	snprintf(out, size, "%s",
	    rc->code == 0 || rc->code / 100 == 4     ? "4.4.7"
		: rc->code == 550 || rc->code == 551 ? "5.1.1"
						     : "5.0.0");
	out[0] = '5';
}

static int
bounce_status(struct buf *b, const struct config *cfg,
    const struct spool_env *env, const char *boundary, size_t nlist)
{
	char date[64], text[BOUNCE_DIAG_MAX], st[16];
	const struct spool_rcpt *rc;
	size_t i, listed = 0;
	int r;

	rfc_date(date, sizeof(date), (time_t)env->created);
	r = buf_printf(b,
	    "--%s\r\n"
	    "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Postern-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n",
	    boundary, cfg->domain, env->id, date);
	if (r == 0 && env->envid != NULL)
		r = buf_printf(b, "Original-Envelope-Id: %s\r\n", env->envid);
	rfc_date(date, sizeof(date),
	    env->last ? (time_t)env->last : time(NULL));
	for (i = 0; r == 0 && i < env->nrcpts && listed < nlist; i++) {
		rc = &env->rcpts[i];
		if (rc->state != SPOOL_FAILED)
			continue;
		listed++;
		status_of(rc, st, sizeof(st));
		diag(text, sizeof(text), smtp_part(rc->text));
		/* RFC 3464 2.3.6: "smtp;" carries a server reply; anything
		 * else (a connection that failed) is postern's own words. */
		r = buf_printf(b,
		    "\r\nFinal-Recipient: rfc822; %s\r\n"
		    "Action: failed\r\n"
		    "Status: %s\r\n"
		    "Diagnostic-Code: %s; %s\r\n"
		    "Last-Attempt-Date: %s\r\n",
		    rc->addr, st, is_reply(text) ? "smtp" : "X-Postern", text,
		    date);
	}
	return r ? r : buf_adds(b, "\r\n");
}

/* Length of the original's header block, its empty line included. */
static off_t
header_len(int fd, off_t off, off_t len)
{
	char b[8192];
	off_t pos = 0;
	ssize_t r, i;
	int state = 2; /* after a line end: at the start of a line */

	while (pos < len) {
		r = pread(fd, b, sizeof(b), off + pos);
		if (r <= 0)
			return len;
		for (i = 0; i < r && pos + i < len; i++) {
			if (b[i] == '\n') {
				if (state == 1) /* "\r\n" alone: the end */
					return pos + i + 1;
				state = 2;
			} else if (b[i] == '\r' && state == 2)
				state = 1;
			else
				state = 0;
		}
		pos += r;
	}
	return len;
}

int
bounce_commit(struct spool *sp, const struct config *cfg,
    const struct spool_env *env, int fd, char bid[SPOOL_ID_MAX], struct err *e)
{
	struct spool_rcpt to = { env->sender, SPOOL_PENDING, 0, NULL };
	char boundary[SPOOL_ID_MAX + 16];
	struct spool_writer w;
	struct spool_env benv;
	struct buf b;
	int full = env->ret != NULL && strcasecmp(env->ret, "FULL") == 0;
	size_t nfailed, nlist = bounce_fit(env, &nfailed);
	off_t len;
	int r;

	snprintf(boundary, sizeof(boundary), "%s/bounce", env->id);
	memset(&benv, 0, sizeof(benv));
	benv.created = (long long)time(NULL);
	benv.uid = (long)getuid();
	benv.sender = "";
	benv.msgid = "";
	benv.bounce = 1;
	benv.eightbit = env->eightbit;
	benv.smtputf8 = addr_is_8bit(env->sender);
	benv.rcpts = &to;
	benv.nrcpts = 1;
	len = full ? (off_t)env->size
		   : header_len(fd, env->data_off, (off_t)env->size);
	buf_init(&b, BOUNCE_TEXT_MAX);
	r = bounce_head(&b, cfg, env, boundary) == 0 &&
	    bounce_human(&b, cfg, env, boundary, nlist, nfailed) == 0 &&
	    bounce_status(&b, cfg, env, boundary, nlist) == 0 &&
	    buf_printf(&b, "--%s\r\nContent-Type: %s\r\n\r\n", boundary,
		full ? "message/rfc822" : "text/rfc822-headers") == 0;
	if (!r) {
		buf_free(&b);
		return err_sys(e, ERR_OS, "cannot build the bounce for %s",
		    env->id);
	}
	r = spool_create(sp, &w, &benv, e) == 0 &&
	    spool_write(&w, b.data, b.len, e) == 0 &&
	    spool_copy(&w, fd, env->data_off, len, e) == 0;
	buf_reset(&b);
	if (r &&
	    (buf_printf(&b, "%s--%s--\r\n", len > 0 && !full ? "" : "\r\n",
		 boundary) == -1 ||
		spool_write(&w, b.data, b.len, e) == -1 ||
		spool_commit(&w, e) == -1))
		r = 0;
	buf_free(&b);
	if (!r)
		return e->class ? -1 : err_sys(e, ERR_OS, "bounce");
	memcpy(bid, benv.id, SPOOL_ID_MAX);
	return 0;
}
