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
#include "postern/log.h"
#include "postern/msg.h"
#include "postern/server.h"

#define SRV_IBUF 65536
#define SRV_OBUF 65536

struct srv {
	int in;
	int out;
	char ibuf[SRV_IBUF];
	size_t ipos;
	size_t ilen;
	int eof;
	int closing; /* 221 or 421 sent */
	struct buf obuf;
	const struct cli *cli;
	const struct config *cfg;
	struct addr_rewrite rw;
	unsigned int errors;
	unsigned int commands;

	/* the transaction */
	int mail; /* MAIL seen */
	char sender[ADDR_SPEC_MAX + 3];
	char **rcpts;
	size_t nrcpts;
	char notify[128];
	const char *ret; /* "FULL", "HDRS" or NULL */
	char envid[128];
	const char *body; /* "7BIT", "8BITMIME" or NULL */
};

static void srv_reply(struct srv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
srv_reply(struct srv *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 3;
	memcpy(line + n, "\r\n", 2);
	/* The buffer is flushed before every read, so it cannot fill up
	 * unless the client never reads; then the reply is dropped. */
	buf_add(&s->obuf, line, (size_t)n + 2);
}

static int
srv_flush(struct srv *s)
{
	size_t off = 0;
	ssize_t n;

	while (off < s->obuf.len) {
		n = write(s->out, s->obuf.data + off, s->obuf.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
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
	struct pollfd pfd;
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
	pfd.fd = s->in;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, SERVER_IDLE * 1000);
	while (r == -1 && errno == EINTR);
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

static void
srv_reset(struct srv *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->mail = 0;
	s->sender[0] = '\0';
	s->notify[0] = s->envid[0] = '\0';
	s->ret = s->body = NULL;
}

/*
 * The path of MAIL FROM:<...> or RCPT TO:<...>: arg points after the
 * colon.  Copies the address (without brackets and source route) into
 * addr and returns a pointer to the parameters, or NULL on bad syntax.
 */
static const char *
srv_path(const char *arg, char *addr, size_t cap)
{
	const char *p = arg, *end;
	size_t n;
	int quoted = 0;

	while (*p == ' ')
		p++;
	if (*p != '<') {
		/* Lenient, as Postfix: a bare address up to the first space. */
		end = p + strcspn(p, " ");
	} else {
		for (end = ++p; *end != '\0'; end++) {
			if (*end == '\\' && end[1] != '\0')
				end++;
			else if (*end == '"')
				quoted = !quoted;
			else if (*end == '>' && !quoted)
				break;
		}
		if (*end != '>')
			return NULL;
		/* An obsolete source route <@a,@b:user@d> is dropped. */
		if (*p == '@') {
			const char *c = memchr(p, ':', (size_t)(end - p));

			if (c == NULL)
				return NULL;
			p = c + 1;
		}
	}
	n = (size_t)(end - p);
	if (n >= cap)
		return NULL;
	memcpy(addr, p, n);
	addr[n] = '\0';
	if (*end == '>')
		end++;
	if (*end != '\0' && *end != ' ')
		return NULL;
	while (*end == ' ')
		end++;
	return end;
}

/* One ESMTP parameter "KEY=value" into key/value (value may be ""). */
static int
srv_param(const char **pp, char *key, size_t kcap, char *val, size_t vcap)
{
	const char *p = *pp, *eq, *end;
	size_t kn, vn;

	end = p + strcspn(p, " ");
	eq = memchr(p, '=', (size_t)(end - p));
	kn = (size_t)((eq ? eq : end) - p);
	vn = eq ? (size_t)(end - eq - 1) : 0;
	if (kn == 0 || kn >= kcap || vn >= vcap)
		return -1;
	memcpy(key, p, kn);
	key[kn] = '\0';
	if (eq)
		memcpy(val, eq + 1, vn);
	val[vn] = '\0';
	while (*end == ' ')
		end++;
	*pp = end;
	return 0;
}

static int
srv_valid_notify(const char *v)
{
	char copy[64], *tok, *save;

	if (strcasecmp(v, "NEVER") == 0)
		return 1;
	if (snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "SUCCESS") != 0 &&
		    strcasecmp(tok, "FAILURE") != 0 &&
		    strcasecmp(tok, "DELAY") != 0)
			return 0;
	}
	return 1;
}

/* Decode RFC 3461 xtext ("+2B" is '+'); printable ASCII out. */
static int
srv_xtext(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	unsigned int c;

	if (*in == '\0' || strlen(in) > 100)
		return -1;
	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (c == '+') {
			if (sscanf(in + 1, "%2X", &c) != 1 ||
			    strspn(in + 1, "0123456789ABCDEF") < 2)
				return -1;
			in += 2;
		}
		if (c < 0x21 || c > 0x7e || n + 1 >= cap)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* Check that addr is one mailbox; 0 or -1 with a 501 sent. */
static int
srv_check_addr(struct srv *s, const char *addr, int allow_null)
{
	struct addr_list l;
	struct err e;
	int ok;

	if (addr[0] == '\0') {
		if (allow_null)
			return 0;
		srv_reply(s, "501 5.1.3 Bad recipient address syntax");
		return -1;
	}
	memset(&l, 0, sizeof(l));
	err_clear(&e);
	ok = addr_parse_list(addr, strlen(addr), &l, &e) == 0 && l.n == 1 &&
	    l.v[0].name == NULL && l.v[0].spec[0] != '\0' &&
	    strchr(addr, ',') == NULL;
	addr_list_free(&l);
	if (!ok) {
		srv_reply(s, "501 5.1.%d Bad %s address syntax",
		    allow_null ? 7 : 3, allow_null ? "sender" : "recipient");
		return -1;
	}
	return 0;
}

static void
cmd_mail(struct srv *s, const char *arg)
{
	char key[32] = "", val[128];
	const char *p;

	if (s->mail) {
		srv_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    (p = srv_path(arg + 5, s->sender, sizeof(s->sender))) == NULL) {
		srv_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (srv_check_addr(s, s->sender, 1) == -1)
		return;
	while (*p != '\0') {
		if (srv_param(&p, key, sizeof(key), val, sizeof(val)) == -1)
			goto bad;
		if (strcasecmp(key, "BODY") == 0 &&
		    strcasecmp(val, "7BIT") == 0)
			s->body = "7BIT";
		else if (strcasecmp(key, "BODY") == 0 &&
		    strcasecmp(val, "8BITMIME") == 0)
			s->body = "8BITMIME";
		else if (strcasecmp(key, "SIZE") == 0 &&
		    val[strspn(val, "0123456789")] == '\0' && val[0] != '\0')
			; /* no limit of our own; the upstream checks its own */
		else if (strcasecmp(key, "SMTPUTF8") == 0 && val[0] == '\0')
			; /* postern asks the upstream when addresses need it */
		else if (strcasecmp(key, "RET") == 0 &&
		    strcasecmp(val, "FULL") == 0)
			s->ret = "FULL";
		else if (strcasecmp(key, "RET") == 0 &&
		    strcasecmp(val, "HDRS") == 0)
			s->ret = "HDRS";
		else if (strcasecmp(key, "ENVID") == 0 &&
		    srv_xtext(val, s->envid, sizeof(s->envid)) == 0)
			;
		else
			goto bad;
	}
	s->mail = 1;
	srv_reply(s, "250 2.1.0 Ok");
	return;
bad:
	s->sender[0] = s->envid[0] = '\0';
	s->body = s->ret = NULL;
	srv_reply(s, "555 5.5.4 Unsupported option: %.64s", key);
}

static void
cmd_rcpt(struct srv *s, const char *arg)
{
	char addr[ADDR_SPEC_MAX + 3], key[32] = "", val[128], **nv, *spec;
	const char *p;

	if (!s->mail) {
		srv_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    (p = srv_path(arg + 3, addr, sizeof(addr))) == NULL) {
		srv_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (srv_check_addr(s, addr, 0) == -1)
		return;
	while (*p != '\0') {
		if (srv_param(&p, key, sizeof(key), val, sizeof(val)) == -1)
			goto bad;
		if (strcasecmp(key, "NOTIFY") == 0 && srv_valid_notify(val)) {
			/* One NOTIFY goes upstream per transaction: the
			 * first one given. */
			if (s->notify[0] == '\0')
				snprintf(s->notify, sizeof(s->notify), "%s",
				    val);
		} else if (strcasecmp(key, "ORCPT") == 0 &&
		    strchr(val, ';') != NULL) {
			; /* postern sends its own ORCPT upstream */
		} else {
			goto bad;
		}
	}
	if (s->nrcpts == SERVER_RCPT_MAX) {
		srv_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((spec = addr_rewrite(addr, &s->rw)) == NULL ||
	    (nv = reallocarray(s->rcpts, s->nrcpts + 1, sizeof(*nv))) == NULL) {
		free(spec);
		srv_reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	s->rcpts = nv;
	s->rcpts[s->nrcpts++] = spec;
	srv_reply(s, "250 2.1.5 Ok");
	return;
bad:
	srv_reply(s, "555 5.5.4 Unsupported option: %.64s", key);
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

	buf_init(&w, SRV_OBUF);
	for (;;) {
		/* At a line start, see enough to tell ".\r\n" from ".x". */
		while (bol && s->ilen - s->ipos < 3 &&
		    memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos) ==
			NULL) {
			if (srv_fill(s) <= 0)
				goto out;
		}
		if (bol && s->ibuf[s->ipos] == '.') {
			if (s->ibuf[s->ipos + 1] == '\n' ||
			    (s->ibuf[s->ipos + 1] == '\r' &&
				s->ibuf[s->ipos + 2] == '\n')) {
				s->ipos += s->ibuf[s->ipos + 1] == '\n' ? 2 : 3;
				rc = 0;
				goto out;
			}
			s->ipos++; /* unstuff */
		}
		nl = memchr(s->ibuf + s->ipos, '\n', s->ilen - s->ipos);
		n = nl ? (size_t)(nl - (s->ibuf + s->ipos)) + 1
		       : s->ilen - s->ipos;
		if (w.len + n > w.max && !*werr) {
			if (write(fd, w.data, w.len) != (ssize_t)w.len)
				*werr = 1;
			buf_reset(&w);
		}
		if (!*werr && n > 0 &&
		    buf_add(&w, s->ibuf + s->ipos, n) == -1) {
			if (write(fd, w.data, w.len) != (ssize_t)w.len ||
			    write(fd, s->ibuf + s->ipos, n) != (ssize_t)n)
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
	    write(fd, w.data, w.len) != (ssize_t)w.len)
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
	if (deliver_msg(&c, s->cfg, &m, s->rcpts, s->nrcpts, &e) == 0)
		srv_reply(s, "250 2.0.0 Ok: %s", m.msgid ? m.msgid : "sent");
	else
		srv_failed(s, &e);
	msg_free(&m);
}

static void
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

static void
cmd_ehlo(struct srv *s, const char *arg, int esmtp)
{
	if (*arg == '\0') {
		srv_reply(s, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	srv_reset(s);
	if (!esmtp) {
		srv_reply(s, "250 %s", s->cfg->domain);
		return;
	}
	srv_reply(s, "250-%s", s->cfg->domain);
	srv_reply(s, "250-PIPELINING");
	srv_reply(s, "250-SIZE");
	srv_reply(s, "250-8BITMIME");
	srv_reply(s, "250-SMTPUTF8");
	srv_reply(s, "250-DSN");
	srv_reply(s, "250-ENHANCEDSTATUSCODES");
	srv_reply(s, "250 HELP");
}

/* One command line; sets s->closing when the session is over. */
static void
srv_command(struct srv *s, char *line)
{
	char *arg = line + strcspn(line, " ");

	if (*arg != '\0')
		*arg++ = '\0';
	while (*arg == ' ')
		arg++;
	if (strcasecmp(line, "EHLO") == 0)
		cmd_ehlo(s, arg, 1);
	else if (strcasecmp(line, "HELO") == 0)
		cmd_ehlo(s, arg, 0);
	else if (strcasecmp(line, "MAIL") == 0)
		cmd_mail(s, arg);
	else if (strcasecmp(line, "RCPT") == 0)
		cmd_rcpt(s, arg);
	else if (strcasecmp(line, "DATA") == 0)
		cmd_data(s, arg);
	else if (strcasecmp(line, "RSET") == 0) {
		srv_reset(s);
		srv_reply(s, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		srv_reply(s, "250 2.0.0 Ok");
	else if (strcasecmp(line, "QUIT") == 0) {
		srv_reply(s, "221 2.0.0 Bye");
		s->closing = 1;
	} else if (strcasecmp(line, "HELP") == 0)
		srv_reply(s,
		    "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA "
		    "RSET NOOP QUIT HELP VRFY");
	else if (strcasecmp(line, "VRFY") == 0)
		srv_reply(s,
		    "252 2.5.2 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	else if (strcasecmp(line, "EXPN") == 0 ||
	    strcasecmp(line, "STARTTLS") == 0 ||
	    strcasecmp(line, "AUTH") == 0 || strcasecmp(line, "BDAT") == 0 ||
	    strcasecmp(line, "ETRN") == 0 || strcasecmp(line, "TURN") == 0) {
		s->errors++;
		srv_reply(s, "502 5.5.1 Error: command not implemented");
	} else {
		s->errors++;
		srv_reply(s, "500 5.5.2 Error: command not recognized");
	}
}

int
server_run(const struct cli *cli, const struct config *cfg, int in, int out,
    struct err *e)
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
	buf_init(&s->obuf, SRV_OBUF);
	config_rewrite(cfg, &s->rw);
	srv_reply(s, "220 %s ESMTP postern", cfg->domain);
	while (!s->closing) {
		if (srv_getline(s, line, sizeof(line), &toolong) == -1)
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
	srv_reset(s);
	buf_free(&s->obuf);
	free(s);
	return 0;
}
