/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fake_smtpd.h: a scripted SMTP server on 127.0.0.1 for t_smtp and t_smtp_tx.
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
#ifndef POSTERN_FAKE_SMTPD_H
#define POSTERN_FAKE_SMTPD_H

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

static inline size_t
lines_after(size_t from)
{
	size_t i, n = 0;

	for (i = from; i < rlen; i++)
		if (rbuf[i] == '\n')
			n++;
	return n;
}

/* read() once more; exits the child on EOF unless eof_ok. */
static inline int
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

static inline void
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

static inline void
srv_data(int fd, int rec)
{
	char *p;
	size_t from = rused >= 2 ? rused - 2 : 0;

	while ((p = memmem(rbuf + from, rlen - from, "\r\n.\r\n", 5)) == NULL)
		srv_read(fd, 0, rec);
	rused = (size_t)(p - rbuf) + 5;
}

static inline void
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

static inline void
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
static inline int
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

static inline int
emit(void *arg, struct conn *c, struct err *err)
{
	return conn_puts(c, arg, err);
}

static inline int
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

/* One server as the configured host list. */
static inline void
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

static inline void
env1(struct smtp_envelope *env, char **rcpts, size_t n)
{
	memset(env, 0, sizeof(*env));
	env->sender = "a@x";
	env->rcpts = rcpts;
	env->nrcpts = n;
	env->size = 123;
}

#define GREET ">220 mx ESMTP\r\n"

#define EHLO_PIPE ">250-mx\r\n250 PIPELINING\r\n"
#define TX1 "<1", ">250 ok\r\n", "<1", ">250 ok\r\n", "<1", ">354 go\r\n"

/* Read a whole file descriptor from the start into got. */
static inline void
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

/* Two servers; the configured list is both, in order. */
static inline void
setup2(struct srv *a, const char *const *sa, struct srv *b,
    const char *const *sb)
{
	setup1(a, sa);
	srv_start(b, sb);
	hosts[1].host = "localhost";
	hosts[1].port = b->port;
	cs.nhosts = 2;
}

#endif
