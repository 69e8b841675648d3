/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_smtp.c: the SMTP session against a scripted server (fake_smtpd.h):
 * greeting, EHLO/HELO, failover, connect errors, timeouts, bad replies,
 * the transcript and --serverinfo, and the exact bytes of pipelining.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_smtpd.h"

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
	    "RCPT TO:<\xc3\xa9@y>\r\n" /* no rfc822 ORCPT for UTF-8 */
	    "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n",
	    "pipelined: parameters as offered, no RSET after success");
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
	T_OK(strstr(got, ">>> AUTH PLAIN\n<<< 334 \n>>> <redacted>\n") !=
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

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	closed_port();
	t_helo_fallback();
	t_pipelined();
	t_failover();
	t_connect_refused();
	t_timeout();
	t_long_line();
	t_verbose();
	t_serverinfo();
	return t_done();
}
