/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp.c: the SMTP client session (RFC 5321): connect with failover, the
 * greeting, EHLO or HELO, QUIT, and the transcript; smtp_tx.c runs the
 * transactions on it.
 *
 * As in OpenSMTPD's smtp_client.c, smtp_enter() sends the command that
 * belongs to a state and smtp_next() looks at the reply and picks the next
 * state.  Every failure to read a well-formed reply drops the connection:
 * once out of step with the server nothing it says can be matched to our
 * commands any more.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postern/config.h"
#include "postern/fdio.h"
#include "smtp_int.h"

void
smtp_transcript(const struct smtp_session *s, const char *dir, const char *line,
    size_t len)
{
	char clean[SMTP_LINE_MAX + 1];

	if (!s->opts.verbose)
		return;
	err_sanitize(clean, sizeof(clean), line, len);
	fprintf(stderr, "%s%s\n", dir, clean);
}

void
smtp_drop(struct smtp_session *s)
{
	conn_close(s->conn);
	s->conn = NULL;
	s->state = SMTP_FAILED;
}

/* "AUTH PLAIN <redacted>": the mechanism helps, the response is secret. */
static void
smtp_transcript_auth(struct smtp_session *s, const char *line)
{
	char shown[64];
	size_t mech = strcspn(line + 5, " ");
	int n;

	n = snprintf(shown, sizeof(shown), "AUTH %.*s%s", (int)(mech < 20 ?
	    mech : 20), line + 5, line[5 + mech] != '\0' ? " <redacted>" : "");
	if (n > 0)
		smtp_transcript(s, ">>> ", shown, strlen(shown));
}

int
smtp_put(struct smtp_session *s, const char *line, int secret, struct err *err)
{
	size_t len = strlen(line);

	if (s->conn == NULL)
		return err_set(err, ERR_TEMP, "connection to %s was closed",
		    s->relay);
	/* An argument with a line break would smuggle in a command. */
	if (strpbrk(line, "\r\n") != NULL)
		return err_set(err, ERR_DATA, "line break in an SMTP command");
	if (secret)
		smtp_transcript(s, ">>> ", "<redacted>", 10);
	else if (strncasecmp(line, "AUTH ", 5) == 0)
		smtp_transcript_auth(s, line);
	else
		smtp_transcript(s, ">>> ", line, len);
	if (conn_write(s->conn, line, len, err) == -1 ||
	    conn_write(s->conn, "\r\n", 2, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	return 0;
}

int
smtp_flush(struct smtp_session *s, struct err *err)
{
	if (conn_flush(s->conn, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	return 0;
}

/*
 * Read one whole reply into *r.  Any failure (timeout, EOF, a malformed
 * line) leaves us out of step with the server: the session is dropped.
 * The timeout bounds the whole reply, not each of its lines: a server
 * sending a long multi-line reply a line at a time cannot hold us for
 * lines times timeout.
 */
int
smtp_read(struct smtp_session *s, struct smtp_reply *r, const char *label,
    struct err *err)
{
	long long deadline = fdio_now_ms() + conn_timeout(s->conn) * 1000LL;
	struct err perr;
	size_t len;

	conn_set_label(s->conn, label);
	smtp_reply_init(r);
	while (!r->done) {
		if (conn_getline_until(s->conn, s->line, sizeof(s->line), &len,
			deadline, err) == -1) {
			smtp_drop(s);
			return -1;
		}
		/* A 334's text is a SASL token or challenge: never shown. */
		if (len > 4 && strncmp(s->line, "334", 3) == 0)
			smtp_transcript(s, "<<< ", "334 <redacted>", 14);
		else
			smtp_transcript(s, "<<< ", s->line, len);
		if (smtp_reply_feed(r, s->line, len, &perr) == -1) {
			smtp_drop(s);
			return err_set(err, ERR_TEMP, "bad reply from %s: %s",
			    s->relay, perr.text);
		}
	}
	/* 421: the server is closing the channel (RFC 5321 3.8). */
	if (r->code == 421) {
		conn_close(s->conn);
		s->conn = NULL;
	}
	return 0;
}

/* Fill err from a refusal: "<what> by HOST: 550 5.1.1 text". */
int
smtp_refused(struct smtp_session *s, const struct smtp_reply *r,
    enum err_class class, struct err *err, const char *what)
{
	char text[ERR_TEXT_MAX];

	err_sanitize(text, sizeof(text), r->text, strlen(r->text));
	err_set(err, class, "%s by %s: %d%s%s", what, s->relay, r->code,
	    text[0] ? " " : "", text);
	err->code = r->code;
	snprintf(err->enh, sizeof(err->enh), "%s", r->enh);
	return -1;
}

enum err_class
smtp_class(int code)
{
	return code >= 500 ? ERR_UNAVAIL : ERR_TEMP;
}

/* The state setter: send the command that opens state st. */
static int
smtp_enter(struct smtp_session *s, enum smtp_state st, struct err *err)
{
	const char *helo = s->opts.helo ? s->opts.helo : "localhost";
	char line[SMTP_CMD_MAX];
	int n = 0;

	s->state = st;
	switch (st) {
	case SMTP_EHLO:
		n = snprintf(line, sizeof(line), "EHLO %s", helo);
		break;
	case SMTP_HELO:
		n = snprintf(line, sizeof(line), "HELO %s", helo);
		break;
	default:
		return 0; /* the greeting comes unasked; READY is idle */
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		return err_set(err, ERR_CONFIG, "helo name too long");
	if (smtp_put(s, line, 0, err) == -1 || smtp_flush(s, err) == -1)
		return -1;
	return 0;
}

/* The reply handler: from the reply to state s->state, the next state. */
static int
smtp_next(struct smtp_session *s, struct err *err)
{
	const struct smtp_reply *r = &s->reply;
	int ok = r->code / 100 == 2;

	switch (s->state) {
	case SMTP_GREETING:
		s->greeting = *r;
		if (!ok)
			return smtp_refused(s, r, smtp_class(r->code), err,
			    "greeting refused");
		return smtp_enter(s, SMTP_EHLO, err);
	case SMTP_EHLO:
		s->ehlo = *r;
		if (ok) {
			smtp_caps_parse(&s->caps, r);
			s->state = SMTP_READY;
			return 0;
		}
		/* 5xx: a server from before RFC 1869; a 4xx is a real no */
		if (r->code / 100 == 5 && s->conn != NULL)
			return smtp_enter(s, SMTP_HELO, err);
		return smtp_refused(s, r, smtp_class(r->code), err,
		    "EHLO refused");
	case SMTP_HELO:
		if (!ok)
			return smtp_refused(s, r, smtp_class(r->code), err,
			    "HELO refused");
		memset(&s->caps, 0, sizeof(s->caps));
		s->state = SMTP_READY;
		return 0;
	default:
		return err_set(err, ERR_SOFTWARE, "SMTP reply in state %d",
		    (int)s->state);
	}
}

/* Run the setup states from st until READY. */
static int
smtp_setup(struct smtp_session *s, enum smtp_state st, struct err *err)
{
	static const char *label[] = { "the greeting", "the reply to EHLO",
		"the reply to HELO" };

	if (smtp_enter(s, st, err) == -1)
		return -1;
	while (s->state != SMTP_READY) {
		if (s->conn == NULL)
			return err_set(err, ERR_TEMP,
			    "connection to %s was closed", s->relay);
		if (smtp_read(s, &s->reply, label[s->state], err) == -1 ||
		    smtp_next(s, err) == -1) {
			s->state = SMTP_FAILED;
			return -1;
		}
	}
	return 0;
}

int
smtp_ehlo(struct smtp_session *s, struct err *err)
{
	return smtp_setup(s, SMTP_EHLO, err);
}

/* Connect to one host and greet it. */
static int
smtp_open_host(struct smtp_session *s, const struct config_server *srv,
    const struct config_host *h, const char *port, struct err *err)
{
	if (conn_open(&s->conn, h->host, port, s->opts.timeout, err) == -1)
		return -1;
	snprintf(s->relay, sizeof(s->relay), "%s", conn_peer(s->conn));
	s->dirty = 0;
	s->starttls = 0;
	s->tls_text[0] = '\0';
	if (smtp_tls_implicit(s, srv, h, port, err) == -1 ||
	    smtp_setup(s, SMTP_GREETING, err) == -1 ||
	    smtp_tls_starttls(s, srv, h, port, err) == -1 ||
	    smtp_auth(s, srv, h->host, err) == -1) {
		if (s->conn != NULL)
			smtp_drop(s);
		return -1;
	}
	return 0;
}

int
smtp_open(struct smtp_session **sp, const struct config_server *srv,
    const struct smtp_opts *opts, struct err *err)
{
	struct smtp_session *s;
	const char *port;
	size_t i;
	int temp = 0;

	*sp = NULL;
	if (srv->nhosts == 0)
		return err_set(err, ERR_CONFIG, "no SMTP server configured");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_sys(err, ERR_OS, "cannot allocate an SMTP session");
	s->opts = *opts;
	if (s->opts.timeout <= 0)
		s->opts.timeout = srv->timeout > 0 ? srv->timeout : 60;
	buf_init(&s->cmd, SMTP_CMD_MAX);
	buf_init(&s->bdat, SMTP_BDAT_MAX);
	for (i = 0; i < srv->nhosts; i++) {
		port = srv->hosts[i].port ? srv->hosts[i].port
		    : srv->port           ? srv->port
					  : "25";
		err_clear(err);
		if (smtp_open_host(s, srv, &srv->hosts[i], port, err) == 0) {
			*sp = s;
			return 0;
		}
		/* Fail over in order; one temporary failure keeps it temporary.
		 */
		if (err->class == ERR_TEMP)
			temp = 1;
	}
	if (temp)
		err->class = ERR_TEMP;
	buf_free(&s->cmd);
	buf_free(&s->bdat);
	free(s);
	return -1;
}

int
smtp_command(struct smtp_session *s, const char *line, int secret,
    const struct smtp_reply **r, struct err *err)
{
	*r = &s->reply;
	if (smtp_put(s, line, secret, err) == -1 || smtp_flush(s, err) == -1)
		return -1;
	/* What carried credentials does not linger in the send buffer. */
	if (secret || strncasecmp(line, "AUTH ", 5) == 0)
		conn_wipe_output(s->conn);
	if (smtp_read(s, &s->reply, "the reply", err) == -1)
		return -1;
	return 0;
}

struct conn *
smtp_conn(struct smtp_session *s)
{
	return s->conn;
}

int
smtp_alive(const struct smtp_session *s)
{
	return s->conn != NULL && s->state == SMTP_READY;
}

const char *
smtp_relay(const struct smtp_session *s)
{
	return s->relay;
}

const struct smtp_caps *
smtp_caps(const struct smtp_session *s)
{
	return &s->caps;
}

void
smtp_close(struct smtp_session *s)
{
	struct err err;

	if (s == NULL)
		return;
	/*
	 * QUIT, and close without waiting for its 221: every reply that
	 * said something was read before, and a transaction still open
	 * ends with the connection (RFC 5321 4.1.1.10 and 3.8), so the
	 * wait would cost a round trip and tell nothing.  A server gone
	 * already is no error either.
	 */
	if (s->conn != NULL && smtp_put(s, "QUIT", 0, &err) == 0)
		(void)smtp_flush(s, &err);
	if (s->conn != NULL)
		smtp_drop(s);
	buf_free(&s->cmd);
	buf_free(&s->bdat);
	free(s);
}

/* Print a reply's lines, each after prefix, sanitised; skip the first n. */
static void
info_lines(FILE *fp, const char *prefix, const struct smtp_reply *r,
    size_t skip)
{
	char clean[SMTP_LINE_MAX + 1];
	const char *p = r->text, *nl;
	size_t i;

	for (i = 0;; i++, p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (i >= skip) {
			err_sanitize(clean, sizeof(clean), p, (size_t)(nl - p));
			fprintf(fp, "%s%s\n", prefix, clean);
		}
		if (*nl == '\0')
			break;
	}
}

int
smtp_serverinfo(const struct config_server *srv, const struct smtp_opts *opts,
    FILE *fp, struct err *err)
{
	struct smtp_session *s;

	if (smtp_open(&s, srv, opts, err) == -1)
		return -1;
	fprintf(fp, "server: %s\n", s->relay);
	if (!s->starttls && smtp_tls_print(s, fp) == -1) /* implicit */
		goto out;
	fprintf(fp, "greeting: %d\n", s->greeting.code);
	info_lines(fp, "  ", &s->greeting, 0);
	if (s->starttls) {
		fprintf(fp, "capabilities before STARTTLS:\n");
		info_lines(fp, "  ", &s->ehlo_clear, 1);
		if (smtp_tls_print(s, fp) == -1)
			goto out;
		fprintf(fp, "after STARTTLS:\n");
	}
	if (!s->caps.esmtp) {
		fprintf(fp,
		    "EHLO refused, HELO accepted: no ESMTP extensions\n");
	} else {
		fprintf(fp, "EHLO: %d\n", s->ehlo.code);
		info_lines(fp, "  ", &s->ehlo, 0);
		fprintf(fp, "capabilities:\n");
		info_lines(fp, "  ", &s->ehlo, 1);
		if (s->caps.starttls && conn_tls(s->conn) == NULL)
			fprintf(fp, "note: STARTTLS is offered but not used "
				    "(tls = off)\n");
	}
	smtp_auth_info(s, srv, fp);
out:
	smtp_close(s);
	if (fflush(fp) == EOF || ferror(fp))
		return err_sys(err, ERR_IO,
		    "cannot write the server information");
	return 0;
}
