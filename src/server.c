/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * server.c: "sendmail -bs", SMTP on standard input and output.
 *
 * The session collects one transaction at a time (MAIL, RCPT..., DATA),
 * spools the data to an unlinked temporary file, and only then runs it
 * through the message pipeline and the upstream delivery; the reply to
 * the final dot carries the upstream's verdict.  Replies are buffered and
 * flushed before postern waits for input, so pipelining clients work.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/deliver.h"
#include "postern/err.h"
#include "postern/fdio.h"
#include "postern/log.h"
#include "postern/msg.h"
#include "postern/server.h"
#include "server_int.h"

static int srv_flush(struct srv *);

/* Set by server_drain() from a signal handler. */
static volatile sig_atomic_t srv_draining;

void
server_drain(void)
{
	srv_draining = 1;
}

/*
 * Shutting down, and no transaction under way: nothing the client was
 * promised is cut short by ending the session now (RFC 5321 3.8).
 */
static int
srv_drained(struct srv *s)
{
	if (!srv_draining || s->mail)
		return 0;
	srv_reply(s, "421 4.3.2 Service shutting down, try again later");
	s->closing = 1;
	return 1;
}

/*
 * Wait for input for at most session_timeout, in slices of a second so
 * that a shutdown is noticed while the client is idle.  Shutting down,
 * an idle client still has a second for its next command (the QUIT a
 * client sends after its 250), then gets 421.  1: readable, 0: timed
 * out, -1: shut down or a poll error.
 */
static int
srv_wait_input(struct srv *s)
{
	long long deadline = fdio_now_ms() + s->cfg->session_timeout * 1000LL;
	long long left;
	struct pollfd pfd;
	int r, grace = 0;

	for (;;) {
		if (srv_draining && !s->mail && !grace) {
			grace = 1;
			if (deadline > fdio_now_ms() + 1000)
				deadline = fdio_now_ms() + 1000;
		}
		if ((left = deadline - fdio_now_ms()) <= 0)
			return grace && srv_drained(s) ? -1 : 0;
		pfd.fd = s->in;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

void
srv_reply(struct srv *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, i;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 3;
	/* Client text echoed in a reply (an unknown option) may hold a CR
	 * or other control bytes: never a bare CR or LF on the wire. */
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	memcpy(line + n, "\r\n", 2);
	/* Pipelined commands can queue more replies than the buffer holds:
	 * send what is there and go on.  A client that never reads makes
	 * the write fail, and the session ends at the next read. */
	if (buf_add(&s->obuf, line, (size_t)n + 2) == -1 &&
	    (srv_flush(s) == -1 ||
		buf_add(&s->obuf, line, (size_t)n + 2) == -1))
		s->closing = 1;
}

static int
srv_flush(struct srv *s)
{
	size_t off = 0;
	ssize_t n;

	struct pollfd pfd = { s->out, POLLOUT, 0 };
	int r;

	while (off < s->obuf.len) {
		/* A client that stops reading is given session_timeout. */
		r = poll(&pfd, 1, s->cfg->session_timeout * 1000);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = write(s->out, s->obuf.data + off, s->obuf.len - off);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off < s->obuf.len) {
		s->closing = 1;
		return -1;
	}
	buf_reset(&s->obuf);
	return 0;
}

/*
 * Make more input available, keeping the unread bytes.  Output is flushed
 * first: the client may be waiting for our replies before it sends more.
 * Returns 1 with new bytes, 0 at EOF, -1 on timeout or error.
 */
static int
srv_fill(struct srv *s)
{
	ssize_t n;
	int r;

	if (srv_flush(s) == -1)
		return -1;
	if (s->ipos > 0) {
		memmove(s->ibuf, s->ibuf + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	if (s->ilen == sizeof(s->ibuf))
		return 1;
	if ((r = srv_wait_input(s)) == -1)
		return -1;
	if (r == 0) {
		srv_reply(s, "421 4.4.2 Error: timeout exceeded");
		s->closing = 1;
		return -1;
	}
	do
		n = read(s->in, s->ibuf + s->ilen, sizeof(s->ibuf) - s->ilen);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		s->eof = 1;
		return n == 0 ? 0 : -1;
	}
	s->ilen += (size_t)n;
	return 1;
}

/*
 * One command line, without its CRLF, into line.  A line longer than
 * SERVER_LINE_MAX is consumed to its end and reported with *toolong.
 * Returns 0, or -1 at EOF or timeout.
 */
static int
srv_getline(struct srv *s, char *line, size_t cap, int *toolong)
{
	size_t len = 0, n;
	char *nl;

	*toolong = 0;
	for (;;) {
		nl = memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos);
		n = (nl ? (size_t)(nl - (s->ibuf + s->ipos))
			: s->ilen - s->ipos);
		if (!*toolong && len + n < cap) {
			memcpy(line + len, s->ibuf + s->ipos, n);
			len += n;
		} else {
			*toolong = 1;
		}
		s->ipos += n;
		if (nl != NULL) {
			s->ipos++;
			break;
		}
		if (srv_fill(s) <= 0)
			return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return 0;
}

void
srv_reset(struct srv *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->mail = 0;
	s->smtputf8 = 0;
	s->sender[0] = '\0';
	s->notify[0] = s->envid[0] = '\0';
	s->ret = s->body = NULL;
}

/*
 * Copy the data phase to fd, undoing dot-stuffing, up to the lone dot.
 * Returns 0 at the dot, -1 when the client went away (or a write failed:
 * *werr is then set and the rest of the data is still consumed).
 */
static int
srv_data_copy(struct srv *s, int fd, int *werr)
{
	struct buf w;
	size_t n;
	char *nl;
	int bol = 1, rc = -1;
	int after_crlf = 1; /* the last line ended in CR LF (or none yet) */
	int last_cr = 0; /* the last byte copied was a CR */

	buf_init(&w, SRV_OBUF);
	for (;;) {
		/* At a line start, see enough to tell ".\r\n" from ".x". */
		while (bol && s->ilen - s->ipos < 3 &&
		    memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos) ==
			NULL) {
			if (srv_fill(s) <= 0)
				goto out;
		}
		/*
		 * Only CR LF . CR LF ends the data (RFC 5321 4.1.1.4): a dot
		 * line after a bare LF, or ending in one, is data, so that no
		 * second message can be smuggled past an upstream that reads
		 * the end differently.  Any leading dot is stuffing.
		 */
		if (bol && s->ibuf[s->ipos] == '.') {
			if (after_crlf && s->ilen - s->ipos >= 3 &&
			    s->ibuf[s->ipos + 1] == '\r' &&
			    s->ibuf[s->ipos + 2] == '\n') {
				s->ipos += 3;
				rc = 0;
				goto out;
			}
			s->ipos++; /* unstuff */
		}
		nl = memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos);
		n = nl ? (size_t)(nl - (s->ibuf + s->ipos)) + 1
		       : s->ilen - s->ipos;
		if (nl != NULL)
			after_crlf =
			    n >= 2 ? s->ibuf[s->ipos + n - 2] == '\r' : last_cr;
		if (n > 0)
			last_cr = s->ibuf[s->ipos + n - 1] == '\r';
		if (w.len + n > w.max && !*werr) {
			if (fdio_write_all(fd, w.data, w.len) == -1)
				*werr = 1;
			buf_reset(&w);
		}
		if (!*werr && n > 0 &&
		    buf_add(&w, s->ibuf + s->ipos, n) == -1) {
			if (fdio_write_all(fd, w.data, w.len) == -1 ||
			    fdio_write_all(fd, s->ibuf + s->ipos, n) == -1)
				*werr = 1;
			buf_reset(&w);
		}
		s->ipos += n;
		bol = nl != NULL;
		if (s->ipos == s->ilen && srv_fill(s) <= 0)
			goto out;
	}
out:
	if (rc == 0 && !*werr && w.len > 0 &&
	    fdio_write_all(fd, w.data, w.len) == -1)
		*werr = 1;
	buf_free(&w);
	return rc;
}

/* The reply to the final dot for a delivery that failed. */
static void
srv_failed(struct srv *s, const struct err *e)
{
	const char *enh = e->enh[0] ? e->enh : NULL;
	int code = e->code;

	/* The upstream's 421 closed its channel, not ours: to our client
	 * it is a failed transaction (RFC 5321 section 3.8). */
	if (code == 421)
		code = 451;

	if (code < 400 || code > 599) {
		switch (e->class) {
		case ERR_TEMP:
			code = 451, enh = enh ? enh : "4.4.1";
			break;
		case ERR_DATA:
			code = 554, enh = enh ? enh : "5.6.0";
			break;
		case ERR_NOUSER:
			code = 550, enh = enh ? enh : "5.1.1";
			break;
		case ERR_UNAVAIL:
		case ERR_USAGE:
			code = 554, enh = enh ? enh : "5.3.0";
			break;
		default:
			code = 451, enh = enh ? enh : "4.3.0";
			break;
		}
	}
	if (enh == NULL)
		enh = code < 500 ? "4.0.0" : "5.0.0";
	srv_reply(s, "%d %s %s", code, enh, e->text);
}

/* Run the received data through the pipeline and the upstream. */
static void
srv_deliver(struct srv *s, int fd)
{
	struct msg_opts mo;
	struct msg m;
	struct cli c = *s->cli;
	struct config cfg;
	struct err e;

	err_clear(&e);
	memset(&mo, 0, sizeof(mo));
	mo.ignore_dots = 1;
	mo.sender = s->sender[0] ? s->sender : "<>";
	mo.user = deliver_caller();
	mo.tmpdir = deliver_tmpdir();
	mo.cfg = s->cfg;
	c.notify = s->notify[0] ? s->notify : NULL;
	c.ret = s->ret;
	c.envid = s->envid[0] ? s->envid : NULL;
	c.body = s->body;
	if (lseek(fd, 0, SEEK_SET) == -1) {
		err_sys(&e, ERR_IO, "cannot rewind the message");
		srv_failed(s, &e);
		return;
	}
	if (msg_read(fd, &mo, &m, &e) == -1) {
		log_msg(LOG_ERR, "-bs: message refused: %s", e.text);
		srv_failed(s, &e);
		return;
	}
	/*
	 * All or nothing, whatever partial_delivery says: the client can
	 * only be told per transaction, and a 250 for a message some
	 * recipients never get would be a promise nobody keeps (RFC 5321
	 * section 6.1 would want a bounce).
	 */
	cfg = *s->cfg;
	cfg.partial_delivery = 0;
	deliver_reap();
	if (deliver_msg(&c, &cfg, &m, s->rcpts, s->nrcpts, &e) == 0) {
		srv_reply(s, "250 2.0.0 Ok: %s", m.msgid ? m.msgid : "sent");
		/* Mode always: deliver now, not when the session ends (a
		 * framework's worker may keep it open for hours). */
		deliver_kick(s->cli, s->cfg);
	} else {
		srv_failed(s, &e);
	}
	msg_free(&m);
}

void
cmd_data(struct srv *s, const char *arg)
{
	char path[4096];
	int fd, werr = 0;

	if (*arg != '\0') {
		srv_reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (!s->mail || s->nrcpts == 0) {
		srv_reply(s, "503 5.5.1 Error: need %s command",
		    s->mail ? "RCPT" : "MAIL");
		return;
	}
	if (snprintf(path, sizeof(path), "%s/postern-bs.XXXXXX",
		deliver_tmpdir()) >= (int)sizeof(path) ||
	    (fd = mkostemp(path, O_CLOEXEC)) == -1) {
		log_msg(LOG_ERR,
		    "-bs: cannot create a temporary file in %s: %s",
		    deliver_tmpdir(), strerror(errno));
		srv_reply(s, "451 4.3.0 Error: cannot store the message");
		return;
	}
	unlink(path);
	srv_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (srv_data_copy(s, fd, &werr) == -1) {
		/* The client vanished mid-DATA: nothing is delivered. */
		log_msg(LOG_WARNING,
		    "-bs: client closed the session in DATA, "
		    "message discarded");
		close(fd);
		s->closing = 1;
		return;
	}
	if (werr)
		srv_reply(s, "451 4.3.0 Error: cannot store the message");
	else
		srv_deliver(s, fd);
	close(fd);
	srv_reset(s);
}

/*
 * A client outside [listen] allow: no greeting but 554, then 503 to
 * everything but QUIT (RFC 5321 3.1), until it leaves or errs too often.
 */
static void
srv_refused(struct srv *s, char *line)
{
	line[strcspn(line, " ")] = '\0';
	if (strcasecmp(line, "QUIT") == 0) {
		srv_reply(s, "221 2.0.0 Bye");
		s->closing = 1;
		return;
	}
	s->errors++;
	srv_reply(s, "503 5.7.1 Error: not allowed to submit here");
}

/* The session's first line: greeting, or 554 to a refused client. */
static void
srv_greet(struct srv *s)
{
	if (s->client == NULL) {
		srv_reply(s, "220 %s ESMTP postern", s->cfg->domain);
		return;
	}
	if (s->client->refused) {
		log_msg(LOG_WARNING,
		    "session refused: the client is not in [listen] allow");
		srv_reply(s,
		    "554 5.7.1 %s: this client may not submit mail here",
		    s->cfg->domain);
		return;
	}
	log_msg(LOG_INFO, "session start");
	srv_reply(s, "220 %s ESMTP postern", s->cfg->domain);
}

int
server_run(const struct cli *cli, const struct config *cfg, int in, int out,
    const struct server_client *client, struct err *e)
{
	struct srv *s;
	char line[SERVER_LINE_MAX + 1];
	int toolong;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_sys(e, ERR_OS, "-bs session");
	s->in = in;
	s->out = out;
	s->cli = cli;
	s->cfg = cfg;
	s->client = client;
	buf_init(&s->obuf, SRV_OBUF);
	config_rewrite(cfg, &s->rw);
	srv_greet(s);
	while (!s->closing) {
		if (srv_getline(s, line, sizeof(line), &toolong) == -1)
			break;
		if (client != NULL && client->refused && !toolong) {
			srv_refused(s, line);
			if (s->errors >= SERVER_ERR_MAX)
				break;
			continue;
		}
		if (srv_draining && !s->mail &&
		    strncasecmp(line, "QUIT", 4) != 0 && srv_drained(s))
			break;
		if (++s->commands > SERVER_CMD_MAX ||
		    s->errors >= SERVER_ERR_MAX) {
			srv_reply(s, "421 4.7.0 Error: too many %s, closing",
			    s->errors >= SERVER_ERR_MAX ? "errors"
							: "commands");
			break;
		}
		if (toolong) {
			s->errors++;
			srv_reply(s, "500 5.5.2 Error: line too long");
			continue;
		}
		srv_command(s, line);
	}
	srv_flush(s);
	if (client != NULL && !client->refused)
		log_msg(LOG_INFO, "session end: %u commands", s->commands);
	srv_reset(s);
	buf_free(&s->obuf);
	free(s);
	return 0;
}
