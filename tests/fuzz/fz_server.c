/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_server.c: the -bs session (src/server.c, server_cmd.c), as a
 * framework or any local user speaks SMTP to it.  The input is what the
 * client sends, read from a file (EOF ends the session).
 *
 * Delivery cannot reach a network: [remote] is 127.0.0.1 on a port this
 * process holds bound but never listens on, so every connection is
 * refused at once and [queue] mode fallback spools each message the
 * session accepted (250 to the final dot) in a private spool.
 *
 * Properties: every reply line is three digits (2..5 first) then ' ' or
 * '-', ends in CRLF and holds no other CR, LF or NUL; and every message
 * accepted can be read back from the spool (DESIGN section 12: issue 10
 * item 2a, the addresses; 2b, NOTIFY in the syntax an upstream takes)
 * with its recipients in canonical form, one bare addr-spec each (item
 * 7: never the client's raw text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/server.h"
#include "postern/spool.h"
#include "fuzz.h"

static struct config cfg;
static struct cli cli;
static struct spool sp;

/* A loopback port bound, never listened on: connect() is refused. */
static int
dead_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1) {
		perror("fz_server: bind");
		abort();
	}
	return ntohs(a.sin_port);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[256], spool[256], ini[1024];
	struct err e;
	FILE *fp;
	int n;

	snprintf(path, sizeof(path), "%s/mailname", fuzz_tmpdir());
	if ((fp = fopen(path, "w")) == NULL ||
	    fputs("fuzz.example\n", fp) < 0 || fclose(fp) != 0)
		abort();
	config_set_mailname_path(path);
	config_set_privileged(0);
	snprintf(spool, sizeof(spool), "%s/spool", fuzz_tmpdir());
	n = snprintf(ini, sizeof(ini),
	    "[remote]\nhost = 127.0.0.1\nport = %d\ntimeout = 5\n"
	    "helo = fuzz.example\n[sender]\ndomain = fuzz.example\n"
	    "[aliases]\nroot = ops@example.com\n"
	    "[log]\nsyslog = no\n[delivery]\nsession_timeout = 5\n"
	    "[queue]\ndir = %s\nmode = fallback\n",
	    dead_port(), spool);
	snprintf(path, sizeof(path), "%s/postern.ini", fuzz_tmpdir());
	if (n >= (int)sizeof(ini) || (fp = fopen(path, "w")) == NULL ||
	    fputs(ini, fp) < 0 || fclose(fp) != 0)
		abort();
	err_clear(&e);
	if (config_load(path, &cfg, &e) == -1 ||
	    spool_open(&sp, spool, 1, &e) == -1) {
		fprintf(stderr, "fz_server: %s\n", e.text);
		abort();
	}
	setenv("TMPDIR", fuzz_tmpdir(), 1);
	memset(&cli, 0, sizeof(cli));
	cli.mode = CLI_SERVER;
	return 0;
}

static void
check_replies(const struct buf *b)
{
	const char *p = b->data, *end = b->data + b->len, *nl;

	fuzz_check_wire("reply", b->data, b->len, SERVER_LINE_MAX);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl - p < 5 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
		    p[1] > '9' || p[2] < '0' || p[2] > '9' ||
		    (p[3] != ' ' && p[3] != '-'))
			fuzz_fail("reply line \"%.*s\"", (int)(nl - p), p);
	}
}

/* A recipient as the upstream must get it: one bare addr-spec. */
static int
canonical(const char *a)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	int ok;

	ok = addr_parse_list(a, strlen(a), &l, &e) == 0 && l.n == 1 &&
	    l.v[0].name == NULL && l.v[0].off == 0 && l.v[0].len == strlen(a) &&
	    strcmp(l.v[0].spec, a) == 0;
	addr_list_free(&l);
	return ok;
}

/* Every message the session accepted reads back; then it goes. */
static void
check_spool(void)
{
	char(*ids)[SPOOL_ID_MAX] = NULL;
	struct spool_env env;
	const char *bad;
	struct err e;
	size_t n = 0, i, j;

	err_clear(&e);
	if (spool_list(&sp, SPOOL_DIR_QUEUE, &ids, &n, &e) == -1)
		fuzz_fail("spool: %s", e.text);
	for (i = 0; i < n; i++) {
		memset(&env, 0, sizeof(env));
		if (spool_peek(&sp, ids[i], &env, &e) == -1) {
			fuzz_fail("accepted message %s cannot be read back: %s",
			    ids[i], e.text);
		} else {
			bad = fuzz_dsn_bad(env.notify, env.ret, env.envid,
			    env.body);
			if (bad != NULL)
				fuzz_fail("accepted message %s: %s the "
					  "upstream refuses",
				    ids[i], bad);
			for (j = 0; j < env.nrcpts; j++)
				if (!canonical(env.rcpts[j].addr))
					fuzz_fail("recipient \"%s\" is not an "
						  "addr-spec",
					    env.rcpts[j].addr);
		}
		spool_env_free(&env);
		if (spool_remove(&sp, ids[i], &e) == -1)
			fuzz_fail("spool: %s", e.text);
	}
	free(ids);
}

/* What an input that failed left behind (the replay runs each in a
 * child) must not be blamed on the next. */
static void
clear_spool(void)
{
	char(*ids)[SPOOL_ID_MAX] = NULL;
	struct err e;
	size_t n = 0, i;

	if (spool_list(&sp, SPOOL_DIR_QUEUE, &ids, &n, &e) == 0)
		for (i = 0; i < n; i++)
			(void)spool_remove(&sp, ids[i], &e);
	free(ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	struct err e;
	int in, fd;

	clear_spool();
	in = fuzz_fd(data, size);
	fd = fuzz_fd("", 0);
	err_clear(&e);
	if (server_run(&cli, &cfg, in, fd, NULL, &e) == -1)
		fuzz_fail("session failed: %s", e.text);
	buf_init(&out, 64 * 1024 * 1024);
	if (fuzz_slurp(fd, &out) == -1)
		fuzz_fail("cannot read the replies");
	check_replies(&out);
	buf_free(&out);
	close(in);
	close(fd);
	check_spool();
	return 0;
}
