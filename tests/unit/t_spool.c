/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_spool.c: the spool's files: commit, claim and its lock, state round
 * trip, removal, failed/, the cleaning of tmp/, and strict parsing of
 * damaged or hostile queue and state files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postern/err.h"
#include "postern/spool.h"
#include "t.h"

static char root[64];

static void
path(char *out, size_t size, const char *sub, const char *name)
{
	snprintf(out, size, "%s/%s/%s", root, sub, name);
}

static void
write_file(const char *sub, const char *name, const char *text, size_t len)
{
	char p[256];
	int fd;

	path(p, sizeof(p), sub, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, text, len) != (ssize_t)len) {
		perror(p);
		exit(1);
	}
	close(fd);
}

static int
exists(const char *sub, const char *name)
{
	char p[256];

	path(p, sizeof(p), sub, name);
	return access(p, F_OK) == 0;
}

/* Commit one message for two recipients; its id goes to id. */
static int
commit(struct spool *sp, char *id, const char *data)
{
	struct spool_rcpt r[2] = { { "b@x.test", 0, 0, NULL },
		{ "c@x.test", 0, 0, NULL } };
	struct spool_env env;
	struct spool_writer w;
	struct err e;

	memset(&env, 0, sizeof(env));
	env.created = 1700000000;
	env.sender = "a@x.test";
	env.msgid = "<m@x.test>";
	env.notify = "FAILURE";
	env.eightbit = 1;
	env.rcpts = r;
	env.nrcpts = 2;
	if (spool_create(sp, &w, &env, &e) == -1 ||
	    spool_write(&w, data, strlen(data), &e) == -1 ||
	    spool_commit(&w, &e) == -1)
		return -1;
	memcpy(id, env.id, SPOOL_ID_MAX);
	return 0;
}

static void
test_commit_claim(struct spool *sp)
{
	char id[SPOOL_ID_MAX], (*ids)[SPOOL_ID_MAX];
	struct spool_env env, env2;
	struct err e;
	size_t n;
	int fd, fd2, busy;

	T_OK(commit(sp, id, "Subject: x\r\n\r\nhi\r\n") == 0, "commit");
	T_OK(spool_id_ok(id), "the id is well-formed");
	T_OK(exists("queue", id) && !exists("tmp", id), "in queue/, not tmp/");
	T_OK(spool_list(sp, SPOOL_DIR_QUEUE, &ids, &n, &e) == 0 && n == 1 &&
		strcmp(ids[0], id) == 0,
	    "listed");
	free(ids);

	fd = spool_claim(sp, id, 0, &env, &busy, &e);
	T_OK(fd != -1, "claim");
	T_STR(env.sender, "a@x.test", "sender read back");
	T_STR(env.notify, "FAILURE", "notify read back");
	T_OK(env.eightbit == 1 && env.smtputf8 == 0, "flags read back");
	T_OK(env.nrcpts == 2 && strcmp(env.rcpts[1].addr, "c@x.test") == 0,
	    "recipients read back");
	T_OK(env.size == 18, "size patched at commit");
	fd2 = spool_claim(sp, id, 0, &env2, &busy, &e);
	T_OK(fd2 == -1 && busy == 1, "a second claim finds it busy");
	spool_env_free(&env2);

	env.rcpts[0].state = SPOOL_DONE;
	env.rcpts[0].code = 250;
	env.rcpts[1].state = SPOOL_FAILED;
	env.rcpts[1].code = 550;
	env.rcpts[1].text = strdup("550 5.1.1 no\x01such user");
	env.attempts = 3;
	env.next = 1700000600;
	env.error = strdup("last\nerror");
	T_OK(spool_save_state(sp, &env, 1, &e) == 0, "state saved");
	close(fd);
	spool_env_free(&env);

	T_OK(spool_peek(sp, id, &env, &e) == 0, "peek after the state");
	T_OK(env.attempts == 3 && env.next == 1700000600, "state numbers");
	T_OK(env.rcpts[0].state == SPOOL_DONE &&
		env.rcpts[1].state == SPOOL_FAILED && env.rcpts[1].code == 550,
	    "recipient states");
	T_STR(env.rcpts[1].text, "550 5.1.1 no?such user",
	    "control bytes in a text are not written");
	T_STR(env.error, "last error", "line break in the error flattened");

	T_OK(spool_fail(sp, &env, &e) == 0, "moved to failed/");
	T_OK(!exists("queue", id) && !exists("state", id) &&
		exists("failed", id),
	    "failed/ has it, queue/ and state/ not");
	spool_env_free(&env);
}

static void
test_remove_clean(struct spool *sp)
{
	char id[SPOOL_ID_MAX];
	struct spool_env env;
	struct err e;
	int busy, fd, lfd;
	char p[256];

	T_OK(commit(sp, id, "x\r\n") == 0, "commit again");
	T_OK(spool_remove(sp, id, &e) == 0 && !exists("queue", id), "removed");
	T_OK(spool_claim(sp, id, 0, &env, &busy, &e) == -1 && busy,
	    "a removed message cannot be claimed");
	spool_env_free(&env);

	write_file("tmp", "0123456789ABCDEF01", "half", 4);
	write_file("tmp", "0123456789ABCDEF02", "half", 4);
	write_file("tmp", "0123456789ABCDEF03.state", "x", 1);
	write_file("tmp", "not-ours", "x", 1);
	write_file("state", "0123456789ABCDEF04", "POSTERN-STATE 1\n", 16);
	path(p, sizeof(p), "tmp", "0123456789ABCDEF02");
	lfd = open(p, O_RDONLY);
	T_OK(lfd != -1 && flock(lfd, LOCK_EX) == 0, "a live writer's lock");
	spool_clean(sp);
	T_OK(!exists("tmp", "0123456789ABCDEF01"), "dead writer's file gone");
	T_OK(!exists("tmp", "0123456789ABCDEF03.state"),
	    "dead state writer's file gone");
	T_OK(exists("tmp", "0123456789ABCDEF02"), "live writer's file kept");
	T_OK(exists("tmp", "not-ours"), "files that are not ours are kept");
	T_OK(!exists("state", "0123456789ABCDEF04"), "orphan state gone");
	close(lfd);
	(void)fd;
}

/* A queue file with this text must be refused (ERR_DATA, one printable
 * line), not crash. */
static void
bad(struct spool *sp, const char *text, size_t len, const char *name)
{
	static const char id[] = "0123456789ABCDEF10";
	struct spool_env env;
	struct err e;
	const char *p;
	int busy, fd;

	write_file("queue", id, text, len);
	err_clear(&e);
	fd = spool_claim(sp, id, 0, &env, &busy, &e);
	for (p = e.text; *p != '\0' && (unsigned char)*p >= 0x20; p++)
		;
	T_OK(fd == -1 && e.class == ERR_DATA && *p == '\0', name);
	if (fd != -1)
		close(fd);
	spool_env_free(&env);
}

static void
test_hostile(struct spool *sp)
{
	static const char head[] = "POSTERN-QUEUE 1\nid 0123456789ABCDEF10\n"
				   "created 1\nuid 0\n"
				   "size 00000000000000000004\n";
	char *big, buf[512];
	size_t n, i;

	bad(sp, "", 0, "empty file");
	bad(sp, "POSTERN-QUEUE 2\n", 16, "wrong version");
	n = snprintf(buf, sizeof(buf), "%ssender a@x.test\nrc\rpt b@x.test\n\n",
	    head);
	bad(sp, buf, n, "CR in a key: the error shows no CR");
	n = snprintf(buf, sizeof(buf), "%ssender a@x.test\nrcpt b@x.test\n",
	    head);
	bad(sp, buf, n, "no empty line: truncated envelope");
	n = snprintf(buf, sizeof(buf),
	    "%ssender a@x.test\nrcpt b@x.test\n\nhi\r\nmore", head);
	bad(sp, buf, n, "data longer than size");
	n = snprintf(buf, sizeof(buf), "%ssender a@x.test\nrcpt b@x.test\n\nh",
	    head);
	bad(sp, buf, n, "data shorter than size (half written)");
	n = snprintf(buf, sizeof(buf), "%ssender a@x.test\n\nhi\r\n", head);
	bad(sp, buf, n, "no recipient");
	n = snprintf(buf, sizeof(buf), "%srcpt b@x.test\n\nhi\r\n", head);
	bad(sp, buf, n, "no sender");
	n = snprintf(buf, sizeof(buf),
	    "%ssender a@x.test\nrcpt b@x.test\nfrobnicate 1\n\nhi\r\n", head);
	bad(sp, buf, n, "unknown key");
	n = snprintf(buf, sizeof(buf),
	    "%ssender a@x.test\nsender c@x.test\nrcpt b@x.test\n\nhi\r\n",
	    head);
	bad(sp, buf, n, "sender twice");
	n = snprintf(buf, sizeof(buf),
	    "%ssender a@\tx.test\nrcpt b@x.test\n\nhi\r\n", head);
	bad(sp, buf, n, "control byte in an address");
	n = snprintf(buf, sizeof(buf),
	    "POSTERN-QUEUE 1\nid 0123456789ABCDEF10\ncreated -5\nuid 0\n"
	    "size 00000000000000000004\nsender a\nrcpt b\n\nhi\r\n");
	bad(sp, buf, n, "negative number");
	n = snprintf(buf, sizeof(buf),
	    "POSTERN-QUEUE 1\nid 0123456789ABCDEF11\ncreated 1\nuid 0\n"
	    "size 00000000000000000004\nsender a\nrcpt b\n\nhi\r\n");
	bad(sp, buf, n, "id that is not the file's name");
	bad(sp, "POSTERN-QUEUE 1\nid 0123\0456789ABCDEF10\n", 35, "NUL byte");

	/* One endless line; then too many recipients. */
	n = 1 << 20;
	if ((big = malloc(n + 10 * 16 * SPOOL_RCPT_MAX)) == NULL)
		exit(1);
	memcpy(big, "POSTERN-QUEUE 1\nsender ", 23);
	memset(big + 23, 'a', n - 23);
	bad(sp, big, n, "a line without end is refused, bounded");
	n = (size_t)snprintf(big, 200, "%ssender a@x.test\n", head);
	for (i = 0; i <= SPOOL_RCPT_MAX; i++) {
		memcpy(big + n, "rcpt b@x.test\n", 14);
		n += 14;
	}
	memcpy(big + n, "\nhi\r\n", 5);
	bad(sp, big, n + 5, "more than SPOOL_RCPT_MAX recipients");
	free(big);

	/* A good envelope with a hostile state. */
	n = snprintf(buf, sizeof(buf),
	    "%ssender a@x.test\nrcpt b@x.test\n\nhi\r\n", head);
	write_file("state", "0123456789ABCDEF10",
	    "POSTERN-STATE 1\nrcpt 5 done 250\n", 32);
	bad(sp, buf, n, "state for a recipient that does not exist");
	write_file("state", "0123456789ABCDEF10",
	    "POSTERN-STATE 1\nrcpt 0 sent 250\n", 32);
	bad(sp, buf, n, "unknown recipient state");
	write_file("state", "0123456789ABCDEF10",
	    "POSTERN-STATE 1\nrcpt 0 done 2500\n", 33);
	bad(sp, buf, n, "reply code out of range");
	write_file("state", "0123456789ABCDEF10",
	    "POSTERN-STATE 1\nattempts x\n", 27);
	bad(sp, buf, n, "attempts not a number");
}

/* An envelope the reader would refuse is never written (ERR_DATA). */
static void
test_unspoolable(struct spool *sp)
{
	static const char *bad_addr[] = { "\"a\tb\"@x.test",
		"\"a\x1b[0m\"@x.test", "e@[192.0.2.\x01]", "\"\x7f\"@x.test",
		"" };
	static const char *bad_notify[] = { ",", "SUCCESS,,FAILURE", "FAILURE,",
		"NEVER,DELAY" };
	struct spool_rcpt r = { "b@x.test", 0, 0, NULL };
	struct spool_env env;
	struct spool_writer w;
	struct err e;
	char(*ids)[SPOOL_ID_MAX], msg[96];
	size_t i, n0, n;

	spool_list(sp, SPOOL_DIR_QUEUE, &ids, &n0, &e);
	free(ids);
	for (i = 0; i < 2 * 5 + 4; i++) {
		memset(&env, 0, sizeof(env));
		env.sender = "a@x.test";
		env.rcpts = &r;
		env.nrcpts = 1;
		r.addr = "b@x.test";
		if (i < 5)
			r.addr = (char *)bad_addr[i];
		else if (i < 10)
			env.sender = (char *)bad_addr[i - 5];
		else
			env.notify = (char *)bad_notify[i - 10];
		if (i == 9)
			continue; /* "" is the null sender */
		err_clear(&e);
		snprintf(msg, sizeof(msg), "unspoolable envelope %zu: ERR_DATA",
		    i);
		T_OK(spool_create(sp, &w, &env, &e) == -1 &&
			e.class == ERR_DATA &&
			strstr(e.text, "cannot be spooled"),
		    msg);
	}
	spool_list(sp, SPOOL_DIR_QUEUE, &ids, &n, &e);
	free(ids);
	T_OK(n == n0, "unspoolable envelopes: nothing committed");
}

int
main(void)
{
	struct spool sp;
	struct err e;
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/t_spool.XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_OK(spool_open(&sp, "/nonexistent/t_spool", 0, &e) == -1 &&
		errno == ENOENT,
	    "a missing spool is ENOENT without create");
	T_OK(spool_open(&sp, root, 1, &e) == 0, "open and create");
	T_OK(spool_id_ok("0123456789ABCDEF") &&
		!spool_id_ok("0123456789abcdef") &&
		!spool_id_ok("../../etc/passwd") && !spool_id_ok("0123"),
	    "id syntax");
	test_commit_claim(&sp);
	test_remove_clean(&sp);
	test_hostile(&sp);
	test_unspoolable(&sp);
	spool_close(&sp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return t_done();
}
