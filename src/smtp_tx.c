/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp_tx.c: one SMTP transaction: MAIL, RCPT..., DATA, the data, the dot.
 *
 * With PIPELINING the sequence leaves in one write (in batches of
 * SMTP_PIPE_MAX commands, so that a server with thousands of recipients
 * to answer cannot fill both socket buffers and deadlock us) and the
 * replies are matched to the commands in order (RFC 2920 3.1).  Without
 * it the window is one command, and DATA goes out only once a recipient
 * was accepted.
 *
 * The only way to abort a transaction whose DATA was answered 354 is to
 * drop the connection: RSET is not a command inside the data phase, and
 * the final dot would deliver to the recipients that were accepted.
 * RFC 5321 4.1.1.4 makes the server discard a transaction cut off before
 * the dot.  All-or-nothing delivery (the default) relies on this.
 *
 * With CHUNKING and PIPELINING (RFC 3030, 2920) a small message goes in
 * one group: MAIL, RCPT..., "BDAT n LAST" and the n octets, not
 * dot-stuffed, then every reply is read in order: one round trip
 * instead of two.  The server commits the message to the recipients it
 * accepted, so this is done only when that cannot break all-or-nothing
 * delivery (one recipient, or partial delivery) and only up to
 * SMTP_BDAT_MAX octets, which is what a refused MAIL (SIZE, a 4xx)
 * wastes in upload.  The data is rendered in memory first to know n.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postern/addr.h"
#include "smtp_int.h"

#define SMTP_PIPE_MAX 128 /* commands per pipelined write */

/* What one transaction learnt from its replies. */
struct smtp_tx {
	const struct smtp_envelope *env;
	struct smtp_rcpt *rcpt;
	size_t ncmd; /* MAIL + rcpts + DATA */
	size_t sent, got;
	int stop; /* send nothing more */
	size_t refused;
	int mail; /* MAIL reply code */
	struct smtp_reply mail_reply;
	int data; /* DATA reply code, 0: not sent */
	struct smtp_reply data_reply;
	size_t accepted;
	int bdat; /* the last command is BDAT n LAST, not DATA */
};

/* xtext (RFC 3461 4): '+', '=', controls, space and 8-bit become +XX. */
static int
smtp_xtext(struct buf *b, const char *s)
{
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c > 32 && c < 127 && c != '+' && c != '=') {
			if (buf_addc(b, (char)c) == -1)
				return -1;
		} else if (buf_printf(b, "+%02X", c) == -1)
			return -1;
	}
	return 0;
}

/* NOTIFY: NEVER alone, or a list of SUCCESS, FAILURE, DELAY. */
int
smtp_notify_ok(const char *v)
{
	static const char *kw[] = { "SUCCESS", "FAILURE", "DELAY" };
	size_t i, n;

	if (strcasecmp(v, "NEVER") == 0)
		return 1;
	for (;;) {
		n = strcspn(v, ",");
		for (i = 0; i < 3; i++)
			if (strlen(kw[i]) == n && strncasecmp(v, kw[i], n) == 0)
				break;
		if (i == 3)
			return 0;
		if (v[n] == '\0')
			return 1;
		v += n + 1;
	}
}

/* Append " KEY=VALUE" uppercased (NOTIFY, RET: checked keywords). */
static int
smtp_upper(struct buf *b, const char *key, const char *v)
{
	if (buf_printf(b, " %s=", key) == -1)
		return -1;
	for (; *v != '\0'; v++)
		if (buf_addc(b, *v >= 'a' && *v <= 'z' ? *v - 32 : *v) == -1)
			return -1;
	return 0;
}

/* "MAIL FROM:<sender> SIZE=n BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=x" */
static int
smtp_mail_line(struct smtp_session *s, const struct smtp_envelope *env,
    struct err *err)
{
	const struct smtp_caps *c = &s->caps;
	struct buf *b = &s->cmd;
	int r;

	buf_reset(b);
	r = buf_printf(b, "MAIL FROM:<%s>", env->sender);
	if (r == 0 && c->size && env->size > 0)
		r = buf_printf(b, " SIZE=%llu", env->size);
	if (r == 0 && c->eightbitmime && env->eightbit)
		r = buf_adds(b, " BODY=8BITMIME");
	else if (r == 0 && c->eightbitmime && env->sevenbit)
		r = buf_adds(b, " BODY=7BIT");
	if (r == 0 && env->smtputf8)
		r = buf_adds(b, " SMTPUTF8");
	if (r == 0 && c->dsn && env->ret != NULL)
		r = smtp_upper(b, "RET", env->ret);
	if (r == 0 && c->dsn && env->envid != NULL)
		r = buf_adds(b, " ENVID=") == 0 ? smtp_xtext(b, env->envid)
						: -1;
	if (r == -1)
		return err_set(err, ERR_DATA, "MAIL FROM command too long");
	return 0;
}

/* "RCPT TO:<rcpt> NOTIFY=FAILURE,DELAY ORCPT=rfc822;xtext" */
static int
smtp_rcpt_line(struct smtp_session *s, const struct smtp_envelope *env,
    const char *rcpt, struct err *err)
{
	struct buf *b = &s->cmd;
	int r;

	buf_reset(b);
	r = buf_printf(b, "RCPT TO:<%s>", rcpt);
	if (r == 0 && s->caps.dsn && env->notify != NULL)
		r = smtp_upper(b, "NOTIFY", env->notify);
	/* ORCPT is optional; rfc822 xtext cannot carry a UTF-8 address
	 * (RFC 6533 wants the utf-8 type), so such an address goes without. */
	if (r == 0 && s->caps.dsn && !addr_is_8bit(rcpt))
		r = buf_adds(b, " ORCPT=rfc822;") == 0 ? smtp_xtext(b, rcpt)
						       : -1;
	if (r == -1)
		return err_set(err, ERR_DATA,
		    "RCPT TO command too long: <%.64s...>", rcpt);
	return 0;
}

/* Refuse up front what the server cannot take (RFC 1870, RFC 6531). */
static int
smtp_precheck(struct smtp_session *s, const struct smtp_envelope *env,
    struct err *err)
{
	if (env->ret != NULL && strcasecmp(env->ret, "FULL") != 0 &&
	    strcasecmp(env->ret, "HDRS") != 0)
		return err_set(err, ERR_USAGE, "DSN RET must be FULL or HDRS");
	if (env->notify != NULL && !smtp_notify_ok(env->notify))
		return err_set(err, ERR_USAGE,
		    "DSN NOTIFY must be NEVER or a list of SUCCESS, FAILURE, "
		    "DELAY");
	if (env->nrcpts == 0)
		return err_set(err, ERR_USAGE, "no recipients");
	if (s->conn == NULL || s->state != SMTP_READY)
		return err_set(err, ERR_TEMP, "connection to %s was closed",
		    s->relay);
	if (s->caps.size_max > 0 && env->size > s->caps.size_max) {
		err_set(err, ERR_UNAVAIL,
		    "message size %llu exceeds server limit %llu of %s",
		    env->size, s->caps.size_max, s->relay);
		err->code = 552;
		return -1;
	}
	if (env->smtputf8 && !s->caps.smtputf8)
		return err_set(err, ERR_UNAVAIL,
		    "recipient or sender needs SMTPUTF8, which %s does not "
		    "offer",
		    s->relay);
	return 0;
}

/* Queue command number tx->sent of the sequence MAIL, RCPT..., DATA. */
static int
tx_put(struct smtp_session *s, struct smtp_tx *tx, struct err *err)
{
	size_t k = tx->sent, n = tx->env->nrcpts;
	const char *line = "DATA";

	if (k == 0) {
		if (smtp_mail_line(s, tx->env, err) == -1)
			return -1;
		line = buf_str(&s->cmd);
	} else if (k <= n) {
		if (smtp_rcpt_line(s, tx->env, tx->env->rcpts[k - 1], err) ==
		    -1)
			return -1;
		line = buf_str(&s->cmd);
	}
	if (smtp_put(s, line, 0, err) == -1)
		return -1;
	tx->sent++;
	return 0;
}

/* Record the reply to command k; decide whether to send more. */
static void
tx_reply(struct smtp_session *s, struct smtp_tx *tx, size_t k,
    const struct smtp_reply *r)
{
	struct smtp_rcpt *rc;
	int ok = r->code / 100 == 2;

	if (k == 0) {
		tx->mail = r->code;
		tx->mail_reply = *r;
		if (ok)
			s->dirty = 1; /* a transaction is open until the dot */
		else
			tx->stop = 1;
	} else if (k <= tx->env->nrcpts) {
		/* After a refused MAIL a pipelined RCPT's "503 need MAIL"
		 * says nothing about the recipient: it stays unanswered. */
		if (tx->mail / 100 != 2)
			return;
		rc = &tx->rcpt[k - 1];
		rc->code = r->code;
		snprintf(rc->enh, sizeof(rc->enh), "%s", r->enh);
		err_sanitize(rc->text, sizeof(rc->text), r->text,
		    strlen(r->text));
		/*
		 * A refusal does not stop the others: the caller learns the
		 * fate of every address, and "every recipient refused" can
		 * be told from "one of them" (EX_NOUSER versus 69).
		 */
		if (ok)
			tx->accepted++;
		else
			tx->refused++;
	} else {
		tx->data = r->code;
		tx->data_reply = *r;
	}
}

static const char *
tx_label(const struct smtp_tx *tx, size_t k, int reply)
{
	if (k == 0)
		return reply ? "the reply to MAIL FROM" : "MAIL FROM refused";
	if (k <= tx->env->nrcpts)
		return reply ? "the reply to RCPT TO" : "RCPT TO refused";
	if (tx->bdat)
		return reply ? "the reply to BDAT" : "BDAT refused";
	return reply ? "the reply to DATA" : "DATA refused";
}

/*
 * Send the sequence and read its replies.  With PIPELINING a batch goes
 * out in one write; without, the window is one command, and DATA goes
 * only when the replies so far allow a delivery.
 */
static int
tx_envelope(struct smtp_session *s, struct smtp_tx *tx, struct err *err)
{
	size_t window = s->caps.pipelining ? SMTP_PIPE_MAX : 1, k;

	while (tx->got < tx->ncmd) {
		if (tx->got == tx->sent) {
			for (k = 0;
			     k < window && tx->sent < tx->ncmd && !tx->stop;
			     k++) {
				if (tx->sent == tx->ncmd - 1 &&
				    tx->got == tx->sent &&
				    (tx->accepted == 0 ||
					(tx->refused > 0 &&
					    !s->opts.partial))) {
					tx->stop = 1;
					break;
				}
				if (tx_put(s, tx, err) == -1) {
					smtp_drop(s);
					return -1;
				}
			}
			if (tx->got == tx->sent)
				break; /* stopped: nothing more to read */
			if (smtp_flush(s, err) == -1)
				return -1;
		}
		if (smtp_read(s, &s->reply, tx_label(tx, tx->got, 1), err) ==
		    -1)
			return -1;
		tx_reply(s, tx, tx->got, &s->reply);
		if (s->conn == NULL) /* 421 */
			return smtp_refused(s, &s->reply, ERR_TEMP, err,
			    tx_label(tx, tx->got, 0));
		tx->got++;
	}
	return 0;
}

/*
 * The recipients' verdict: any 4xx makes it temporary (a retry may
 * succeed); every recipient refused as unknown (550, 551, 553) is
 * ERR_NOUSER; anything else, one of several refused included, is
 * ERR_UNAVAIL.
 */
static int
tx_rcpt_err(struct smtp_session *s, const struct smtp_tx *tx, struct err *err)
{
	const struct smtp_rcpt *rc, *first = NULL;
	enum err_class class = ERR_NOUSER;
	size_t i, nref = 0;

	for (i = 0; i < tx->env->nrcpts; i++) {
		rc = &tx->rcpt[i];
		if (rc->code == 0 || rc->code / 100 == 2)
			continue;
		nref++;
		if (rc->code < 500) {
			if (class != ERR_TEMP)
				first = NULL;
			class = ERR_TEMP;
		} else if (class != ERR_TEMP && rc->code != 550 &&
		    rc->code != 551 && rc->code != 553)
			class = ERR_UNAVAIL;
		if (first == NULL && (class != ERR_TEMP || rc->code < 500))
			first = rc;
	}
	if (first == NULL)
		return err_set(err, ERR_SOFTWARE, "no refused recipient");
	if (class == ERR_NOUSER && nref < tx->env->nrcpts)
		class = ERR_UNAVAIL;
	i = (size_t)(first - tx->rcpt);
	err_set(err, class, "RCPT TO:<%s> refused by %s: %d%s%s%s",
	    tx->env->rcpts[i], s->relay, first->code, first->text[0] ? " " : "",
	    first->text, nref > 1 ? " (and other recipients refused)" : "");
	err->code = first->code;
	snprintf(err->enh, sizeof(err->enh), "%s", first->enh);
	return -1;
}

/* Go on to the data, or fail; a 354 we cannot use costs the connection. */
static int
tx_verdict(struct smtp_session *s, const struct smtp_tx *tx, struct err *err)
{
	int fail = 0;

	if (tx->mail / 100 != 2)
		fail = smtp_refused(s, &tx->mail_reply, smtp_class(tx->mail),
		    err, "MAIL FROM refused");
	else if (tx->accepted == 0 ||
	    (!s->opts.partial && tx->accepted < tx->env->nrcpts))
		fail = tx_rcpt_err(s, tx, err);
	else if (tx->data != 354)
		fail = smtp_refused(s, &tx->data_reply, smtp_class(tx->data),
		    err, "DATA refused");
	if (fail && tx->data == 354 && s->conn != NULL)
		smtp_drop(s);
	return fail;
}

/* The data, the dot, and the one reply that may come too late. */
static int
tx_data(struct smtp_session *s, smtp_data_fn *fn, void *arg, struct err *err)
{
	char cause[ERR_TEXT_MAX];

	smtp_transcript(s, ">>> ", "(message data)", 14);
	if (fn(arg, s->conn, err) == -1) {
		smtp_drop(s); /* without the dot nothing is delivered */
		return -1;
	}
	if (smtp_put(s, ".", 0, err) == -1 || smtp_flush(s, err) == -1)
		return -1;
	s->dirty = 0;
	/* From here on an error may hide a delivery: the one duplicate. */
	if (smtp_read(s, &s->reply, "the reply to the final dot", err) == -1) {
		err->maybe_sent = 1;
		if (strncmp(err->text, "connection closed", 17) == 0)
			return err_set(err, ERR_TEMP,
			    "connection to %s lost after the final dot: the "
			    "message may have been delivered",
			    s->relay);
		snprintf(cause, sizeof(cause), "%s", err->text);
		return err_set(err, ERR_TEMP,
		    "%s: the message may have been delivered", cause);
	}
	if (s->reply.code / 100 != 2)
		return smtp_refused(s, &s->reply, smtp_class(s->reply.code),
		    err, "message refused after DATA");
	return 0;
}

/* Worth one group: see the top of this file. */
static int
tx_bdat_fits(const struct smtp_session *s, const struct smtp_envelope *env)
{
	return s->caps.chunking && s->caps.pipelining &&
	    (env->nrcpts == 1 || s->opts.partial) &&
	    env->size <= SMTP_BDAT_MAX && env->nrcpts + 2 <= SMTP_PIPE_MAX;
}

/* Undo the dot-stuffing of CRLF lines: BDAT data goes as it is. */
static void
tx_unstuff(struct buf *b)
{
	size_t i, o = 0;
	int bol = 1;

	for (i = 0; i < b->len; i++) {
		if (bol && b->data[i] == '.' && i + 1 < b->len &&
		    b->data[i + 1] == '.') {
			bol = 0; /* the dot that stays is text */
			continue;
		}
		b->data[o++] = b->data[i];
		bol = b->data[i] == '\n';
	}
	b->len = o;
	if (b->data != NULL)
		b->data[o] = '\0';
}

/*
 * Render the data into s->bdat: 0 when it is there, 1 when it does not
 * fit (DATA then carries it), -1 when the source failed.
 */
static int
tx_render(struct smtp_session *s, smtp_data_fn *fn, void *arg, struct err *err)
{
	struct conn *mc;
	int r;

	buf_reset(&s->bdat);
	if (conn_open_mem(&mc, &s->bdat, err) == -1)
		return -1;
	r = fn(arg, mc, err);
	if (r == 0)
		r = conn_flush(mc, err);
	if (r == -1 && conn_mem_full(mc))
		r = 1;
	conn_close(mc);
	if (r == 0)
		tx_unstuff(&s->bdat);
	return r;
}

/*
 * A reply lost after the group went out: the server may have taken the
 * message, unless a refused MAIL or every RCPT refused already says no.
 */
static int
tx_bdat_lost(struct smtp_session *s, const struct smtp_tx *tx, struct err *err)
{
	char cause[ERR_TEXT_MAX];

	if (tx->got > 0 &&
	    (tx->mail / 100 != 2 ||
		(tx->got > tx->env->nrcpts && tx->accepted == 0)))
		return -1;
	err->maybe_sent = 1;
	if (strncmp(err->text, "connection closed", 17) == 0)
		return err_set(err, ERR_TEMP,
		    "connection to %s lost after BDAT: the message may have "
		    "been delivered",
		    s->relay);
	snprintf(cause, sizeof(cause), "%s", err->text);
	return err_set(err, ERR_TEMP, "%s: the message may have been delivered",
	    cause);
}

/*
 * The whole transaction in one group, then every reply in order.
 *
 *	MAIL FROM:<a> ...\r\n RCPT TO:<b> ...\r\n ... BDAT <n> LAST\r\n <n
 *octets>
 */
static int
tx_bdat(struct smtp_session *s, struct smtp_tx *tx, struct err *err)
{
	char line[64];

	tx->bdat = 1;
	while (tx->sent < tx->ncmd - 1)
		if (tx_put(s, tx, err) == -1) {
			smtp_drop(s);
			return -1;
		}
	snprintf(line, sizeof(line), "BDAT %zu LAST", s->bdat.len);
	if (smtp_put(s, line, 0, err) == -1)
		return -1;
	smtp_transcript(s, ">>> ", "(message data)", 14);
	if (conn_write(s->conn, s->bdat.data, s->bdat.len, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	tx->sent++;
	if (smtp_flush(s, err) == -1)
		return -1;
	while (tx->got < tx->ncmd) {
		if (smtp_read(s, &s->reply, tx_label(tx, tx->got, 1), err) ==
		    -1)
			return tx_bdat_lost(s, tx, err);
		tx_reply(s, tx, tx->got, &s->reply);
		if (s->conn == NULL) /* 421: nothing was taken */
			return smtp_refused(s, &s->reply, ERR_TEMP, err,
			    tx_label(tx, tx->got, 0));
		tx->got++;
	}
	/* BDAT LAST ends the transaction when it is accepted. */
	if (tx->data / 100 == 2)
		s->dirty = 0;
	if (tx->mail / 100 != 2)
		return smtp_refused(s, &tx->mail_reply, smtp_class(tx->mail),
		    err, "MAIL FROM refused");
	if (tx->accepted == 0 ||
	    (!s->opts.partial && tx->accepted < tx->env->nrcpts))
		return tx_rcpt_err(s, tx, err);
	if (tx->data / 100 != 2)
		return smtp_refused(s, &tx->data_reply, smtp_class(tx->data),
		    err, "message refused after BDAT");
	return 0;
}

static int
smtp_rset(struct smtp_session *s, struct err *err)
{
	if (smtp_put(s, "RSET", 0, err) == -1 || smtp_flush(s, err) == -1 ||
	    smtp_read(s, &s->reply, "the reply to RSET", err) == -1)
		return -1;
	if (s->reply.code / 100 != 2) {
		smtp_refused(s, &s->reply, ERR_TEMP, err, "RSET refused");
		if (s->conn != NULL)
			smtp_drop(s);
		return -1;
	}
	s->dirty = 0;
	return 0;
}

int
smtp_send(struct smtp_session *s, const struct smtp_envelope *env,
    struct smtp_rcpt *rcpt, smtp_data_fn *fn, void *arg, struct err *err)
{
	struct smtp_tx tx;
	size_t i;

	err_clear(err);
	for (i = 0; i < env->nrcpts; i++)
		memset(&rcpt[i], 0, sizeof(rcpt[i]));
	if (smtp_precheck(s, env, err) == -1)
		return -1;
	if (s->dirty && smtp_rset(s, err) == -1)
		return -1;
	memset(&tx, 0, sizeof(tx));
	tx.env = env;
	tx.rcpt = rcpt;
	tx.ncmd = env->nrcpts + 2;
	if (tx_bdat_fits(s, env)) {
		switch (tx_render(s, fn, arg, err)) {
		case 0:
			return tx_bdat(s, &tx, err);
		case -1:
			return -1; /* nothing was sent */
		}
	}
	if (tx_envelope(s, &tx, err) == -1 || tx_verdict(s, &tx, err) == -1)
		return -1;
	return tx_data(s, fn, arg, err);
}
