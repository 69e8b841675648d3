/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_smtp_tx.c: SMTP transactions against a scripted server (fake_smtpd.h):
 * recipient refusals in both modes, errors on MAIL, DATA and after the
 * dot, checks before MAIL, a failing data source and pipelined batches.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_smtpd.h"

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
	t_nouser_pipelined();
	t_nouser_serial();
	t_partial();
	t_partial_serial_none();
	t_mixed_temp();
	t_mail_temp();
	t_after_dot();
	t_prechecks();
	t_data_fail();
	t_batches();
	return t_done();
}
