/*
 * t_smtp.c: the SMTP client against a scripted server on 127.0.0.1.
 *
 * Each server is a forked child listening on an ephemeral port.  Its
 * script is a list of steps:
 *
 *	">text"	send text as is
 *	"<N"	read until N more complete lines have arrived
 *	"<N!"	the same, and fail (exit 1) unless they came in one read(),
 *		which is how pipelining is checked
 *	"D"	read until the end of the data, CRLF "." CRLF
 *	"E"	read until EOF (the client drops the connection)
 *	"S"	stay silent for 3 s
 *	"X"	close and exit
 *
 * The child records every byte it received and the parent compares them
 * with the exact bytes the client must have sent.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/conn.h"
#include "postern/err.h"
#include "postern/smtp.h"
#include "t.h"

#define REC_MAX 65536

struct srv {
	pid_t pid;
	int rec; /* the recording, read by the parent */
	char port[16];
};

static char rbuf[REC_MAX];
static size_t rlen, rused;

static size_t
lines_after(size_t from)
{
	size_t i, n = 0;

	for (i = from; i < rlen; i++)
		if (rbuf[i] == '\n')
			n++;
	return n;
}

/* read() once more; exits the child on EOF unless eof_ok. */
static int
srv_read(int fd, int eof_ok, int rec)
{
	ssize_t r = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);

	if (r > 0) {
		rlen += (size_t)r;
		return 1;
	}
	if (write(rec, rbuf, rlen) < 0)
		_exit(3);
	_exit(eof_ok ? 0 : 2);
}

static void
srv_lines(int fd, const char *step, int rec, int *bad)
{
	size_t want = (size_t)strtoul(step + 1, NULL, 10), i, reads = 0;

	while (lines_after(rused) < want) {
		srv_read(fd, 0, rec);
		reads++;
	}
	if (strchr(step, '!') != NULL && reads != 1)
		*bad = 1;
	for (i = rused; want > 0; i++)
		if (rbuf[i] == '\n')
			want--;
	rused = i;
}

static void
srv_data(int fd, int rec)
{
	char *p;
	size_t from = rused >= 2 ? rused - 2 : 0;

	while ((p = memmem(rbuf + from, rlen - from, "\r\n.\r\n", 5)) == NULL)
		srv_read(fd, 0, rec);
	rused = (size_t)(p - rbuf) + 5;
}

static void
srv_child(int ls, int rec, const char *const *script)
{
	int fd, bad = 0;

	alarm(20);
	if ((fd = accept(ls, NULL, NULL)) == -1)
		_exit(4);
	for (; *script != NULL; script++) {
		const char *st = *script;

		if (st[0] == '>' && write(fd, st + 1, strlen(st + 1)) < 0)
			_exit(5);
		else if (st[0] == '<')
			srv_lines(fd, st, rec, &bad);
		else if (st[0] == 'D')
			srv_data(fd, rec);
		else if (st[0] == 'S')
			sleep(3);
		else if (st[0] == 'E')
			for (;;)
				srv_read(fd, 1, rec);
		else if (st[0] == 'X')
			break;
	}
	if (write(rec, rbuf, rlen) < 0)
		_exit(3);
	close(fd);
	_exit(bad);
}

static void
srv_start(struct srv *sv, const char *const *script)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int ls, p[2];

	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls == -1 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 4) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &sl) == -1 ||
	    pipe(p) == -1) {
		perror("t_smtp: listener");
		exit(1);
	}
	snprintf(sv->port, sizeof(sv->port), "%u", ntohs(sin.sin_port));
	fflush(stdout);
	if ((sv->pid = fork()) == -1) {
		perror("t_smtp: fork");
		exit(1);
	}
	if (sv->pid == 0) {
		close(p[0]);
		srv_child(ls, p[1], script);
	}
	close(p[1]);
	close(ls);
	sv->rec = p[0];
}

/* Collect what the server received; returns its exit status. */
static int
srv_end(struct srv *sv, char *got, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	int st;

	while (n + 1 < cap && (r = read(sv->rec, got + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	close(sv->rec);
	if (waitpid(sv->pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
emit(void *arg, struct conn *c, struct err *err)
{
	return conn_puts(c, arg, err);
}

static int
emit_fail(void *arg, struct conn *c, struct err *err)
{
	if (conn_puts(c, "Subject: half\r\n", err) == -1)
		return -1;
	return err_set(err, ERR_IO, "cannot read the body");
}

static const char *body = "Subject: t\r\n\r\nhello\r\n";

static struct config_host hosts[2];
static struct config_server cs;
static struct smtp_opts opts;
static char got[REC_MAX];
static char closed[16]; /* a loopback port nobody listens on */

static void
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		perror("t_smtp: closed port");
		exit(1);
	}
	snprintf(closed, sizeof(closed), "%u", ntohs(sin.sin_port));
	close(fd);
}

/* One server as the configured host list. */
static void
setup1(struct srv *sv, const char *const *script)
{
	srv_start(sv, script);
	hosts[0].host = "127.0.0.1";
	hosts[0].port = sv->port;
	cs.hosts = hosts;
	cs.nhosts = 1;
	cs.timeout = 5;
	opts.helo = "client.example";
	opts.timeout = 5;
	opts.verbose = 0;
	opts.partial = 0;
}

static void
env1(struct smtp_envelope *env, char **rcpts, size_t n)
{
	memset(env, 0, sizeof(*env));
	env->sender = "a@x";
	env->rcpts = rcpts;
	env->nrcpts = n;
	env->size = 123;
}

#define GREET ">220 mx ESMTP\r\n"

static void
t_helo_fallback(void)
{
	const char *sc[] = { GREET, "<1", ">502 what\r\n", "<1", ">250 hi\r\n",
		"<1", ">250 ok\r\n", "<1", ">250 ok\r\n", "<1", ">354 go\r\n",
		"D", ">250 queued\r\n", "<1", ">221 bye\r\n", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 1);
	env.eightbit = 1;
	env.notify = "failure";
	env.envid = "x";
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "HELO fallback: open");
	T_OK(!smtp_caps(s)->esmtp && !smtp_caps(s)->pipelining,
	    "HELO fallback: no capabilities");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "HELO fallback: sent");
	T_OK(rr[0].code == 250, "HELO fallback: rcpt recorded");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "HELO fallback: server ok");
	T_STR(got,
	    "EHLO client.example\r\nHELO client.example\r\n"
	    "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
	    "Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n",
	    "HELO fallback: no parameters without EHLO");
}

#define EHLO_ALL                                                               \
	">250-mx\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n"    \
	"250-DSN\r\n250 SMTPUTF8\r\n"

static void
t_pipelined(void)
{
	const char *sc[] = { GREET, "<1", EHLO_ALL, "<4!",
		">250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", "D",
		">250 queued\r\n", "<3!", ">250 ok\r\n250 ok\r\n354 go\r\n",
		"D", ">250 queued\r\n", "<1", ">221 bye\r\n", NULL };
	char *rc[] = { "b@y", "c+d@y" }, *rc2[] = { "\xc3\xa9@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 2);
	env.eightbit = 1;
	env.notify = "failure,delay";
	env.ret = "hdrs";
	env.envid = "id+1=2";
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "pipelined: open");
	T_OK(smtp_caps(s)->pipelining && smtp_caps(s)->size_max == 1000000,
	    "pipelined: caps");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "pipelined: first message");
	env1(&env, rc2, 1);
	env.sevenbit = 1;
	env.smtputf8 = 1;
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "pipelined: second message, same session");
	T_OK(smtp_alive(s), "pipelined: session alive");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0,
	    "pipelined: MAIL, RCPTs and DATA arrived in one read");
	T_STR(got,
	    "EHLO client.example\r\n"
	    "MAIL FROM:<a@x> SIZE=123 BODY=8BITMIME RET=HDRS "
	    "ENVID=id+2B1+3D2\r\n"
	    "RCPT TO:<b@y> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@y\r\n"
	    "RCPT TO:<c+d@y> NOTIFY=FAILURE,DELAY ORCPT=rfc822;c+2Bd@y\r\n"
	    "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\n"
	    "MAIL FROM:<a@x> SIZE=123 BODY=7BIT SMTPUTF8\r\n"
	    "RCPT TO:<\xc3\xa9@y> ORCPT=rfc822;+C3+A9@y\r\n"
	    "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n",
	    "pipelined: parameters as offered, no RSET after success");
}

#define EHLO_PIPE ">250-mx\r\n250 PIPELINING\r\n"

static void
t_nouser_pipelined(void)
{
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<4!",
		">250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go\r\n",
		"E", NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;
	char want[256];

	setup1(&sv, sc);
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "nouser: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_UNAVAIL,
	    "one of two refused: ERR_UNAVAIL");
	snprintf(want, sizeof(want),
	    "RCPT TO:<c@y> refused by 127.0.0.1[127.0.0.1]:%s: 550 5.1.1 "
	    "no such user",
	    sv.port);
	T_STR(err.text, want, "nouser: error text");
	T_OK(err.code == 550 && strcmp(err.enh, "5.1.1") == 0,
	    "nouser: code and enhanced code");
	T_OK(rr[0].code == 250 && rr[1].code == 550, "nouser: rcpt replies");
	T_STR(rr[1].text, "5.1.1 no such user", "nouser: rcpt text");
	T_OK(!smtp_alive(s), "nouser: session dropped after 354");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "nouser: server ok");
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "RCPT TO:<c@y>\r\nDATA\r\n",
	    "nouser: no data and no final dot");
}

static void
t_nouser_serial(void)
{
	const char *sc[] = { GREET, "<1", ">250 mx\r\n", "<1", ">250 ok\r\n",
		"<1", ">553 bad\r\n", "<1", ">550 no\r\n", "<1",
		">250 reset\r\n", "<1", ">250 ok\r\n", "<1", ">250 ok\r\n",
		"<1", ">354 go\r\n", "D", ">250 ok\r\n", "<1", ">221 bye\r\n",
		NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "serial: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_NOUSER && err.code == 553,
	    "serial: every recipient unknown: ERR_NOUSER");
	T_OK(rr[0].code == 553 && rr[1].code == 550,
	    "serial: every recipient asked and recorded");
	T_OK(smtp_alive(s), "serial: session still usable");
	env1(&env, rc + 1, 1);
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "serial: next transaction after RSET");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "serial: server ok");
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "RCPT TO:<c@y>\r\nRSET\r\nMAIL FROM:<a@x>\r\nRCPT "
	    "TO:<c@y>\r\nDATA\r\n"
	    "Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n",
	    "serial: one command at a time, RSET before the next MAIL");
}

static void
t_partial(void)
{
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<4!",
		">250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n", "D",
		">250 queued\r\n", "<1", ">221 bye\r\n", NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	opts.partial = 1;
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "partial: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "partial: delivered to the accepted one");
	T_OK(rr[0].code == 250 && rr[1].code == 550, "partial: refusal kept");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "partial: server ok");
	T_OK(strstr(got, "hello\r\n.\r\nQUIT\r\n") != NULL,
	    "partial: data and dot sent");
}

static void
t_partial_serial_none(void)
{
	const char *sc[] = { GREET, "<1", ">250 mx\r\n", "<1", ">250 ok\r\n",
		"<1", ">550 no\r\n", "<1", ">551 no\r\n", "<1", ">221 bye\r\n",
		NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	opts.partial = 1;
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "partial none: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_NOUSER,
	    "partial none: every recipient refused");
	T_OK(strstr(err.text, "and other recipients refused") != NULL,
	    "partial none: the others mentioned");
	env.notify = "sometimes";
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_USAGE,
	    "partial none: bad NOTIFY refused");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "RCPT TO:<c@y>\r\nQUIT\r\n",
	    "partial none: no DATA without a recipient");
}

static void
t_mixed_temp(void)
{
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<4!",
		">250 ok\r\n550 no\r\n450 4.2.0 later\r\n554 no valid rcpt\r\n",
		"<1", ">221 bye\r\n", NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "mixed: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_TEMP && err.code == 450,
	    "mixed: 4xx wins");
	T_OK(strstr(err.text, "RCPT TO:<c@y> refused") != NULL,
	    "mixed: names the 4xx recipient");
	T_OK(smtp_alive(s), "mixed: DATA refused, session kept");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "mixed: server ok");
	T_OK(strstr(got, "DATA\r\nQUIT\r\n") != NULL,
	    "mixed: no RSET before QUIT");
}

/* Two servers; the configured list is both, in order. */
static void
setup2(struct srv *a, const char *const *sa, struct srv *b,
    const char *const *sb)
{
	setup1(a, sa);
	srv_start(b, sb);
	hosts[1].host = "localhost";
	hosts[1].port = b->port;
	cs.nhosts = 2;
}

static void
t_failover(void)
{
	const char *busy[] = { ">421 busy\r\n", "X", NULL };
	const char *deny[] = { ">554 go away\r\n", "X", NULL };
	const char *good[] = { GREET, "<1", ">250 mx\r\n", "<1", ">221 bye\r\n",
		NULL };
	struct smtp_session *s;
	struct err err;
	struct srv a, b;

	setup2(&a, busy, &b, good);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "failover: second host");
	T_OK(s != NULL && strncmp(smtp_relay(s), "localhost[", 10) == 0,
	    "failover: relay is the second host");
	smtp_close(s);
	T_OK(srv_end(&a, got, sizeof(got)) == 0 && got[0] == '\0',
	    "failover: nothing sent to the busy host");
	T_OK(srv_end(&b, got, sizeof(got)) == 0, "failover: second host ok");

	setup2(&a, deny, &b, busy);
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP,
	    "failover: 554 then 421 is temporary");
	T_OK(strstr(err.text, "greeting refused by localhost[") != NULL &&
		strstr(err.text, ": 421 busy") != NULL,
	    "failover: the last error is reported");
	srv_end(&a, got, sizeof(got));
	srv_end(&b, got, sizeof(got));

	setup1(&a, deny);
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 &&
		err.class == ERR_UNAVAIL && err.code == 554,
	    "554 greeting: ERR_UNAVAIL");
	srv_end(&a, got, sizeof(got));
	/* Connection refused, then a 554: a retry may reach the first. */
	setup1(&b, deny);
	hosts[1] = hosts[0];
	hosts[0].port = closed;
	cs.nhosts = 2;
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP,
	    "refused then 554: temporary");
	T_OK(strstr(err.text, "554 go away") != NULL,
	    "refused then 554: the last error's text");
	srv_end(&b, got, sizeof(got));
}

static void
t_connect_refused(void)
{
	struct smtp_session *s;
	struct err err;
	char want[128];

	hosts[0].host = "127.0.0.1";
	hosts[0].port = closed;
	cs.nhosts = 1;
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP,
	    "connect refused: ERR_TEMP");
	snprintf(want, sizeof(want),
	    "cannot connect to 127.0.0.1 port %s: Connection refused", closed);
	T_STR(err.text, want, "connect refused: text");
	hosts[0].host = "host.invalid";
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP &&
		strncmp(err.text, "cannot connect to host.invalid port", 35) ==
		    0,
	    "unknown host: ERR_TEMP");
	cs.nhosts = 0;
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_CONFIG,
	    "no hosts: ERR_CONFIG");
}

static void
t_mail_temp(void)
{
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<3!",
		">451 4.3.0 try later\r\n503 no MAIL\r\n503 no MAIL\r\n", "<1",
		">221 bye\r\n", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;
	char want[256];

	setup1(&sv, sc);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "MAIL 451: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_TEMP && err.code == 451 &&
		strcmp(err.enh, "4.3.0") == 0,
	    "MAIL 451: ERR_TEMP");
	snprintf(want, sizeof(want),
	    "MAIL FROM refused by 127.0.0.1[127.0.0.1]:%s: 451 4.3.0 try later",
	    sv.port);
	T_STR(err.text, want, "MAIL 451: text");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "MAIL 451: server ok");
}

/* MAIL, one RCPT and DATA accepted one at a time. */
#define TX1 "<1", ">250 ok\r\n", "<1", ">250 ok\r\n", "<1", ">354 go\r\n"

static void
t_after_dot(void)
{
	const char *perm[] = { GREET, "<1", ">250 mx\r\n", TX1, "D",
		">554 5.7.1 spam\r\n", "<1", ">221 bye\r\n", NULL };
	const char *lost[] = { GREET, "<1", ">250 mx\r\n", TX1, "D", "X",
		NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, perm);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "after dot: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_UNAVAIL && err.code == 554,
	    "5xx after the dot: ERR_UNAVAIL");
	T_OK(strncmp(err.text, "message refused after DATA by 127.0.0.1[",
		 40) == 0 &&
		strstr(err.text, ": 554 5.7.1 spam") != NULL,
	    "5xx after the dot: text");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "5xx after dot: server ok");

	setup1(&sv, lost);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "lost: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_TEMP,
	    "lost after the dot: ERR_TEMP");
	T_OK(strstr(err.text,
		 "lost after the final dot: the message may have "
		 "been delivered") != NULL,
	    "lost after the dot: text");
	T_OK(!smtp_alive(s), "lost after the dot: session dead");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_TEMP,
	    "dead session refuses a transaction");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_OK(strstr(got, "hello\r\n.\r\n") != NULL, "lost: the dot was sent");
}

static void
t_timeout(void)
{
	const char *sc[] = { GREET, "<1", "S", NULL };
	const char *dot[] = { GREET, "<1", ">250 mx\r\n", TX1, "D", "S", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	opts.timeout = 1;
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP,
	    "silent server: ERR_TEMP");
	T_OK(strncmp(err.text,
		 "timeout after 1 s waiting for the reply to EHLO from "
		 "127.0.0.1[",
		 62) == 0,
	    "silent server: text");
	kill(sv.pid, SIGTERM);
	srv_end(&sv, got, sizeof(got));

	setup1(&sv, dot);
	opts.timeout = 1;
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "silent after dot: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_TEMP &&
		strstr(err.text,
		    "timeout after 1 s waiting for the reply to the final dot "
		    "from 127.0.0.1[") == err.text &&
		strstr(err.text, ": the message may have been delivered") !=
		    NULL,
	    "silent after dot: possible duplicate");
	smtp_close(s);
	kill(sv.pid, SIGTERM);
	srv_end(&sv, got, sizeof(got));
}

static void
t_long_line(void)
{
	static char greet[3100];
	const char *sc[] = { greet, "<1", NULL };
	const char *bad[] = { GREET, "<1", ">250-mx\r\n251 oops\r\n", "<1",
		NULL };
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	memset(greet, 'a', sizeof(greet) - 3);
	memcpy(greet, ">220 ", 5);
	memcpy(greet + sizeof(greet) - 3, "\r\n", 3);
	setup1(&sv, sc);
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP,
	    "over-long reply line: ERR_TEMP");
	T_OK(strstr(err.text, "longer than 2048 octets") != NULL,
	    "over-long reply line: text");
	kill(sv.pid, SIGTERM);
	srv_end(&sv, got, sizeof(got));

	setup1(&sv, bad);
	T_OK(smtp_open(&s, &cs, &opts, &err) == -1 && err.class == ERR_TEMP &&
		strstr(err.text, "bad reply from 127.0.0.1[") != NULL &&
		strstr(err.text, "from 250 to 251") != NULL,
	    "code change within a reply: ERR_TEMP");
	kill(sv.pid, SIGTERM);
	srv_end(&sv, got, sizeof(got));
}

static void
t_prechecks(void)
{
	const char *sc[] = { GREET, "<1", ">250-mx\r\n250 SIZE 100\r\n", "<1",
		">221 bye\r\n", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 1);
	env.size = 1000;
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "prechecks: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_UNAVAIL &&
		strncmp(err.text, "message size 1000 exceeds server limit 100",
		    42) == 0,
	    "SIZE over the limit: refused before MAIL");
	env.size = 10;
	env.smtputf8 = 1;
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_UNAVAIL &&
		strstr(err.text, "needs SMTPUTF8, which 127.0.0.1[") != NULL,
	    "SMTPUTF8 needed but not offered");
	env.smtputf8 = 0;
	env.ret = "most";
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_USAGE,
	    "bad RET refused");
	env.ret = NULL;
	env.nrcpts = 0;
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_USAGE,
	    "no recipients refused");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "prechecks: server ok");
	T_STR(got, "EHLO client.example\r\nQUIT\r\n", "prechecks: no MAIL");
}

static void
t_data_fail(void)
{
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<3!",
		">250 ok\r\n250 ok\r\n354 go\r\n", "E", NULL };
	char *rc[] = { "b@y\r\nRSET" }, *rc2[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "data fail: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == -1 &&
		err.class == ERR_DATA && !smtp_alive(s),
	    "line break in an address: refused, session dropped");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_OK(strstr(got, "RSET") == NULL, "line break: nothing smuggled");

	setup1(&sv, sc);
	env1(&env, rc2, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "data fail: open 2");
	T_OK(smtp_send(s, &env, rr, emit_fail, NULL, &err) == -1 &&
		err.class == ERR_IO && !smtp_alive(s),
	    "data source failure: its error, session dropped");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_OK(strstr(got, "DATA\r\n") != NULL &&
		strcmp(strstr(got, "DATA\r\n"), "DATA\r\n") == 0,
	    "data source failure: neither data nor dot");
}

/* Read a whole file descriptor from the start into got. */
static void
slurp(int fd)
{
	ssize_t r;
	size_t n = 0;

	lseek(fd, 0, SEEK_SET);
	while (n + 1 < sizeof(got) &&
	    (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
}

static void
t_verbose(void)
{
	const char *sc[] = { GREET, "<1", ">250-mx\r\n250 AUTH PLAIN\r\n", "<1",
		">334 \r\n", "<1", ">235 ok\r\n", TX1, "D", ">250 ok\r\n", "<1",
		">221 bye\r\n", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	const struct smtp_reply *r;
	struct smtp_session *s;
	struct err err;
	struct srv sv;
	FILE *tf = tmpfile();
	int saved = dup(2);

	setup1(&sv, sc);
	opts.verbose = 1;
	env1(&env, rc, 1);
	fflush(stderr);
	dup2(fileno(tf), 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "verbose: open");
	T_OK(smtp_command(s, "AUTH PLAIN", 0, &r, &err) == 0 && r->code == 334,
	    "verbose: smtp_command");
	T_OK(smtp_command(s, "c2VjcmV0", 1, &r, &err) == 0 && r->code == 235,
	    "verbose: secret command");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "verbose: sent");
	smtp_close(s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	slurp(fileno(tf));
	fclose(tf);
	T_OK(strstr(got,
		 "<<< 220 mx ESMTP\n>>> EHLO client.example\n"
		 "<<< 250-mx\n<<< 250 AUTH PLAIN\n") == got,
	    "verbose: transcript lines");
	T_OK(strstr(got, ">>> AUTH <redacted>\n<<< 334 \n>>> <redacted>\n") !=
		NULL,
	    "verbose: AUTH redacted");
	T_OK(strstr(got, "c2VjcmV0") == NULL,
	    "verbose: no secret in the transcript");
	T_OK(strstr(got, "hello") == NULL &&
		strstr(got, ">>> (message data)\n>>> .\n<<< 250 ok\n") != NULL,
	    "verbose: no message data");
	srv_end(&sv, got, sizeof(got));
	T_OK(strstr(got, "AUTH PLAIN\r\nc2VjcmV0\r\n") != NULL,
	    "verbose: the secret itself went to the server");
}

static void
t_serverinfo(void)
{
	const char *sc[] = { GREET, "<1",
		">250-mx hello\r\n250-PIPELINING\r\n250 SIZE 100\r\n", "<1",
		">221 bye\r\n", NULL };
	const char *helo[] = { GREET, "<1", ">500 no\r\n", "<1", ">250 hi\r\n",
		"<1", ">221 bye\r\n", NULL };
	struct err err;
	struct srv sv;
	char want[512];
	FILE *tf;

	setup1(&sv, sc);
	tf = tmpfile();
	T_OK(smtp_serverinfo(&cs, &opts, tf, &err) == 0, "serverinfo: ok");
	slurp(fileno(tf));
	fclose(tf);
	snprintf(want, sizeof(want),
	    "server: 127.0.0.1[127.0.0.1]:%s\ngreeting: 220\n  mx ESMTP\n"
	    "EHLO: 250\n  mx hello\n  PIPELINING\n  SIZE 100\n"
	    "capabilities:\n  PIPELINING\n  SIZE 100\n",
	    sv.port);
	T_STR(got, want, "serverinfo: output");
	T_OK(srv_end(&sv, got, sizeof(got)) == 0 &&
		strcmp(got, "EHLO client.example\r\nQUIT\r\n") == 0,
	    "serverinfo: EHLO and QUIT only");

	setup1(&sv, helo);
	tf = tmpfile();
	T_OK(smtp_serverinfo(&cs, &opts, tf, &err) == 0, "serverinfo HELO: ok");
	slurp(fileno(tf));
	fclose(tf);
	T_OK(strstr(got, "EHLO refused, HELO accepted") != NULL,
	    "serverinfo HELO: says so");
	srv_end(&sv, got, sizeof(got));
}

/* More recipients than one pipelined batch. */
static void
t_batches(void)
{
	static char r1[128 * 8 + 2], *rc[130];
	static char names[130][16];
	const char *sc[] = { GREET, "<1", EHLO_PIPE, "<128!", r1, "<4!",
		">250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", "D", ">250 ok\r\n",
		"<1", ">221 bye\r\n", NULL };
	struct smtp_envelope env;
	static struct smtp_rcpt rr[130];
	struct smtp_session *s;
	struct err err;
	struct srv sv;
	size_t i;

	r1[0] = '>';
	for (i = 0; i < 128; i++)
		memcpy(r1 + 1 + i * 8, "250 ok\r\n", 8);
	r1[sizeof(r1) - 1] = '\0';
	for (i = 0; i < 130; i++) {
		snprintf(names[i], sizeof(names[i]), "r%zu@y", i);
		rc[i] = names[i];
	}
	setup1(&sv, sc);
	env1(&env, rc, 130);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "batches: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)body, &err) == 0,
	    "batches: 130 recipients sent");
	T_OK(rr[0].code == 250 && rr[129].code == 250, "batches: all recorded");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0,
	    "batches: 128 commands, then the rest, each in one read");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	closed_port();
	t_helo_fallback();
	t_pipelined();
	t_nouser_pipelined();
	t_nouser_serial();
	t_partial();
	t_partial_serial_none();
	t_mixed_temp();
	t_failover();
	t_connect_refused();
	t_mail_temp();
	t_after_dot();
	t_timeout();
	t_long_line();
	t_prechecks();
	t_data_fail();
	t_verbose();
	t_serverinfo();
	t_batches();
	return t_done();
}
