/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_smtp_bdat.c: the one-group transaction with CHUNKING (MAIL, RCPT,
 * BDAT n LAST and the data in one write), when it is used and when DATA
 * is kept, its refusals and losses, and QUIT without waiting for 221,
 * against the scripted server of fake_smtpd.h.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_smtpd.h"

#define EHLO_CHUNK ">250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"

/* Dot-stuffed on the wire of DATA; BDAT carries ".x" as it is. */
static const char *stuffed = "Subject: t\r\n\r\n..x\r\nhello\r\n";
#define UNSTUFFED "Subject: t\r\n\r\n.x\r\nhello\r\n"

static void
t_accepted(void)
{
	/* 3 command lines and the 4 data lines: one read */
	const char *sc[] = { GREET, "<1", EHLO_CHUNK, "<7!",
		">250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n", "<1", "E", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	/* Waiting for a 221 that never comes would outlast the server. */
	opts.timeout = 30;
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat: open");
	T_OK(smtp_caps(s)->chunking, "bdat: CHUNKING seen");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "bdat: accepted");
	T_OK(rr[0].code == 250, "bdat: recipient recorded");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0,
	    "bdat: one group in one read; QUIT then close, no wait for 221");
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "BDAT 25 LAST\r\n" UNSTUFFED "QUIT\r\n",
	    "bdat: exact bytes, data not dot-stuffed, no final dot");
}

static void
t_refused_rcpt(void)
{
	const char *sc[] = { GREET, "<1", EHLO_CHUNK, "<7!",
		">250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid "
		"recipients\r\n",
		"<1", ">250 reset\r\n", "<7!",
		">250 ok\r\n250 ok\r\n250 queued\r\n", "<1", "E", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat refused: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_NOUSER && err.code == 550 && !err.maybe_sent,
	    "bdat refused rcpt: ERR_NOUSER, nothing delivered");
	T_OK(strstr(err.text, "RCPT TO:<b@y> refused by") != NULL,
	    "bdat refused rcpt: names the recipient");
	T_OK(smtp_alive(s), "bdat refused rcpt: session kept");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "bdat refused rcpt: next transaction after RSET");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "bdat refused: server ok");
	T_OK(strstr(got, "BDAT 25 LAST\r\n" UNSTUFFED "RSET\r\nMAIL") != NULL,
	    "bdat refused rcpt: RSET before the next MAIL");
}

/* Several recipients: one group only with partial delivery. */
static void
t_several(void)
{
	const char *aon[] = { GREET, "<1", EHLO_CHUNK, "<4!",
		">250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n", "E", NULL };
	const char *part[] = { GREET, "<1", EHLO_CHUNK, "<8!",
		">250 ok\r\n250 ok\r\n550 no\r\n250 queued\r\n", "<1", "E",
		NULL };
	char *rc[] = { "b@y", "c@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[2];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, aon);
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "several: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_UNAVAIL && !smtp_alive(s),
	    "all-or-nothing, two recipients: DATA, dropped after 354");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "RCPT TO:<c@y>\r\nDATA\r\n",
	    "all-or-nothing, two recipients: no BDAT, no data");

	setup1(&sv, part);
	opts.partial = 1;
	env1(&env, rc, 2);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "several partial: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0 &&
		rr[0].code == 250 && rr[1].code == 550,
	    "partial, two recipients: BDAT, the accepted one delivered");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "several partial: server ok");
	T_OK(strstr(got, "RCPT TO:<c@y>\r\nBDAT 25 LAST\r\n") != NULL,
	    "partial, two recipients: one group");
}

/* Without CHUNKING, or above SMTP_BDAT_MAX: DATA as before. */
static void
t_data_kept(void)
{
	const char *plain[] = { GREET, "<1", EHLO_PIPE, "<3!",
		">250 ok\r\n250 ok\r\n354 go\r\n", "D", ">250 ok\r\n", "<1",
		"E", NULL };
	const char *big[] = { GREET, "<1", EHLO_CHUNK, "<3!",
		">250 ok\r\n250 ok\r\n354 go\r\n", "D", ">250 ok\r\n", "<1",
		"E", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, plain);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "no chunking: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "no chunking: delivered");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "no chunking: server ok");
	T_STR(got,
	    "EHLO client.example\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
	    "DATA\r\nSubject: t\r\n\r\n..x\r\nhello\r\n.\r\nQUIT\r\n",
	    "no chunking: DATA, dot-stuffed, the dot, QUIT");

	setup1(&sv, big);
	env1(&env, rc, 1);
	env.size = 65537;
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "large: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "large: delivered");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "large: server ok");
	T_OK(strstr(got, "DATA\r\n") != NULL && strstr(got, "BDAT") == NULL,
	    "over 64 KiB: DATA even with CHUNKING");
}

static void
t_refused_mail_and_bdat(void)
{
	const char *mail[] = { GREET, "<1", EHLO_CHUNK, "<7!",
		">552 5.3.4 too big\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need "
		"MAIL\r\n",
		"<1", "E", NULL };
	const char *bdat[] = { GREET, "<1", EHLO_CHUNK, "<7!",
		">250 ok\r\n250 ok\r\n451 4.3.0 try later\r\n", "<1", "E",
		NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, mail);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat mail: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_UNAVAIL && err.code == 552 &&
		strstr(err.text, "MAIL FROM refused by") != NULL,
	    "MAIL refused in the group: its reply decides");
	T_OK(rr[0].code == 0,
	    "MAIL refused: the RCPT's 503 is not the recipient's refusal");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "bdat mail: server ok");

	setup1(&sv, bdat);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat 451: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_TEMP && err.code == 451 &&
		strstr(err.text, "message refused after BDAT by") != NULL,
	    "BDAT 451: ERR_TEMP, the reply's text");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "bdat 451: server ok");
}

/* The connection ends at the worst moments. */
static void
t_lost(void)
{
	const char *none[] = { GREET, "<1", EHLO_CHUNK, "<7", "X", NULL };
	const char *after[] = { GREET, "<1", EHLO_CHUNK, "<7",
		">250 ok\r\n250 ok\r\n250 queued\r\n", "X", NULL };
	const char *dot[] = { GREET, "<1", EHLO_PIPE, TX1, "D",
		">250 queued\r\n", "X", NULL };
	const char *c421[] = { GREET, "<1", EHLO_CHUNK, "<7",
		">250 ok\r\n250 ok\r\n421 4.3.2 too many connections\r\n", "X",
		NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, none);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat lost: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_TEMP && err.maybe_sent &&
		strstr(err.text,
		    "lost after BDAT: the message may have been "
		    "delivered") != NULL,
	    "lost after the group: ERR_TEMP, may have been delivered");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));

	setup1(&sv, after);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat then close: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "closed after the BDAT reply: delivered");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));

	setup1(&sv, dot);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "dot then close: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == 0,
	    "closed after the reply to the dot: delivered");
	smtp_close(s); /* QUIT into a closed connection: no harm */
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "dot then close: server");

	setup1(&sv, c421);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "bdat 421: open");
	T_OK(smtp_send(s, &env, rr, emit, (void *)stuffed, &err) == -1 &&
		err.class == ERR_TEMP && err.code == 421 && !err.maybe_sent &&
		!smtp_alive(s),
	    "421 to BDAT: ERR_TEMP, not delivered, session closed");
	smtp_close(s);
	srv_end(&sv, got, sizeof(got));
	T_OK(strstr(got, "QUIT") == NULL, "421: no QUIT after it");
}

static int
emit_broken(void *arg, struct conn *c, struct err *err)
{
	return err_set(err, ERR_OS, "cannot read the spooled message");
}

/* A data source that fails before anything was sent. */
static void
t_source_fails(void)
{
	const char *sc[] = { GREET, "<1", EHLO_CHUNK, "<1", "E", NULL };
	char *rc[] = { "b@y" };
	struct smtp_envelope env;
	struct smtp_rcpt rr[1];
	struct smtp_session *s;
	struct err err;
	struct srv sv;

	setup1(&sv, sc);
	env1(&env, rc, 1);
	T_OK(smtp_open(&s, &cs, &opts, &err) == 0, "source: open");
	T_OK(smtp_send(s, &env, rr, emit_broken, NULL, &err) == -1 &&
		err.class == ERR_OS && smtp_alive(s),
	    "source fails while rendering: its error, session kept");
	smtp_close(s);
	T_OK(srv_end(&sv, got, sizeof(got)) == 0, "source: server ok");
	T_STR(got, "EHLO client.example\r\nQUIT\r\n", "source: nothing sent");
}

int
main(void)
{
	(void)body; /* fake_smtpd.h's, for DATA; ours has a dot line */
	signal(SIGPIPE, SIG_IGN);
	t_accepted();
	t_refused_rcpt();
	t_several();
	t_data_kept();
	t_refused_mail_and_bdat();
	t_lost();
	t_source_fails();
	return t_done();
}
