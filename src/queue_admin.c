/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * queue_admin.c: into the spool (queue_submit) and what an admin does
 * with it: mailq (queue_list) and postern --remove (queue_remove).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/log.h"
#include "postern/msg.h"
#include "postern/queue.h"
#include "postern/spool.h"

/*
 * The attempt that failed before the commit counts: mailq shows its error
 * and the next try follows the back-off.  The message is already safe;
 * a state that cannot be written only costs an early retry.
 */
static void
first_attempt(struct spool *sp, const struct config *cfg,
    struct spool_env *env, const struct err *why)
{
	struct err se;
	size_t i;

	env->error = (char *)why->text;
	/* Not tried (no relay set): due as soon as a runner can send it;
	 * the error says why it waits. */
	env->attempts = why->class == ERR_CONFIG ? 0 : 1;
	env->last = env->attempts ? (long long)time(NULL) : 0;
	env->next = env->attempts ? env->last + queue_backoff(cfg, 1) : 0;
	for (i = 0; i < env->nrcpts && env->attempts; i++) {
		env->rcpts[i].state = SPOOL_PENDING;
		env->rcpts[i].code = why->code >= 200 && why->code <= 599
		    ? why->code
		    : 0;
		env->rcpts[i].text = (char *)why->text;
	}
	err_clear(&se);
	if (spool_save_state(sp, env, 0, &se) == -1)
		log_msg(LOG_WARNING, "id=%s %s", env->id, se.text);
	env->error = NULL;
	for (i = 0; i < env->nrcpts; i++)
		env->rcpts[i].text = NULL; /* why's, not ours to free */
}

int
queue_submit(const struct cli *cli, const struct config *cfg, struct msg *m,
    char **rcpts, size_t nrcpts, const struct err *why,
    char id[SPOOL_ID_MAX], struct err *e)
{
	struct spool_writer w;
	struct spool_env env;
	struct spool sp;
	size_t i;
	int r = -1;

	memset(&env, 0, sizeof(env));
	memcpy(env.id, id, SPOOL_ID_MAX);
	if (nrcpts > SPOOL_RCPT_MAX)
		return err_set(e, ERR_DATA, "more than %d recipients",
		    SPOOL_RCPT_MAX);
	if ((env.rcpts = calloc(nrcpts, sizeof(*env.rcpts))) == NULL)
		return err_sys(e, ERR_OS, "spool");
	env.created = (long long)time(NULL);
	env.uid = (long)getuid();
	env.sender = m->sender;
	env.msgid = m->msgid;
	env.notify = (char *)cli->notify;
	env.ret = (char *)cli->ret;
	env.envid = (char *)cli->envid;
	env.body = (char *)cli->body;
	env.eightbit = m->eightbit;
	env.smtputf8 = m->utf8_addrs;
	env.size = m->size;
	for (i = 0; i < nrcpts; i++)
		env.rcpts[i].addr = rcpts[i];
	env.nrcpts = nrcpts;
	if (spool_open(&sp, cfg->queue_dir, 1, e) == 0) {
		if (spool_create(&sp, &w, &env, e) == 0 &&
		    spool_write(&w, m->head.data, m->head.len, e) == 0 &&
		    spool_copy(&w, m->body_fd, 0, m->body_len, e) == 0 &&
		    spool_commit(&w, e) == 0) {
			memcpy(id, env.id, SPOOL_ID_MAX);
			r = 0;
			if (why != NULL)
				first_attempt(&sp, cfg, &env, why);
		}
		spool_close(&sp);
	}
	free(env.rcpts); /* the strings belong to the caller */
	return r;
}

/* "3d4h", "5m", "12s": an age or a wait, short. */
static void
span(char *out, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, size, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, size, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, size, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(out, size, "%llds", s);
}

static void
list_one(FILE *fp, const struct spool_env *env, time_t now)
{
	static const char *const names[] = { "pending", "done", "failed" };
	char age[32], next[32], text[SPOOL_TEXT_MAX];
	const struct spool_rcpt *r;
	size_t i;

	span(age, sizeof(age), (long long)now - env->created);
	fprintf(fp, "%-24s %10llu %8s  <%s>%s\n", env->id, env->size, age,
	    env->sender, env->bounce ? " (bounce)" : "");
	if (env->attempts == 0)
		snprintf(next, sizeof(next), "now");
	else if (env->next <= now)
		snprintf(next, sizeof(next), "due now");
	else {
		memcpy(next, "in ", 3);
		span(next + 3, sizeof(next) - 3, env->next - (long long)now);
	}
	fprintf(fp, "    attempts: %d, next try: %s\n", env->attempts, next);
	if (env->error != NULL) {
		err_sanitize(text, sizeof(text), env->error,
		    strlen(env->error));
		fprintf(fp, "    last error: %s\n", text);
	}
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		fprintf(fp, "    %-7s <%s>", names[r->state], r->addr);
		if (r->text != NULL && r->state != 1) {
			err_sanitize(text, sizeof(text), r->text,
			    strlen(r->text));
			fprintf(fp, ": %s", text);
		}
		fputc('\n', fp);
	}
}

/* Entries in failed/ (ids only: ID.state files are not counted). */
static size_t
nfailed(struct spool *sp)
{
	char(*ids)[SPOOL_ID_MAX];
	struct err e;
	size_t n = 0;

	if (spool_list(sp, SPOOL_DIR_FAILED, &ids, &n, &e) == -1)
		return 0;
	free(ids);
	return n;
}

int
queue_list(const struct config *cfg, FILE *fp, struct err *e)
{
	char(*ids)[SPOOL_ID_MAX] = NULL;
	unsigned long long bytes = 0;
	struct spool_env env;
	struct spool sp;
	struct err pe;
	size_t i, n = 0, shown = 0, nf;
	time_t now = time(NULL);

	if (spool_open(&sp, cfg->queue_dir, 0, e) == -1) {
		if (errno != ENOENT)
			return -1;
		fprintf(fp, "Mail queue is empty\n");
		return fflush(fp) == 0 ? 0 : err_sys(e, ERR_IO, "stdout");
	}
	if (spool_list(&sp, SPOOL_DIR_QUEUE, &ids, &n, e) == -1) {
		spool_close(&sp);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (spool_peek(&sp, ids[i], &env, &pe) == -1) {
			if (pe.class == ERR_DATA)
				fprintf(fp, "%-24s (corrupt: %s)\n", ids[i],
				    pe.text);
			spool_env_free(&env);
			continue; /* gone meanwhile: delivered */
		}
		if (shown++ == 0)
			fprintf(fp, "%-24s %10s %8s  %s\n", "Queue ID", "Size",
			    "Age", "Sender / recipients");
		list_one(fp, &env, now);
		bytes += env.size;
		spool_env_free(&env);
	}
	if (shown == 0)
		fprintf(fp, "Mail queue is empty\n");
	else
		fprintf(fp, "-- %zu message%s, %llu octets\n", shown,
		    shown == 1 ? "" : "s", bytes);
	if ((nf = nfailed(&sp)) > 0)
		fprintf(fp, "-- %zu message%s given up on in %s/failed\n", nf,
		    nf == 1 ? "" : "s", sp.dir);
	free(ids);
	spool_close(&sp);
	if (fflush(fp) == EOF || ferror(fp))
		return err_sys(e, ERR_IO, "cannot write the listing");
	return 0;
}

/*
 * Root's --remove of a message another process holds: give a delivery in
 * flight QUEUE_REMOVE_WAIT seconds to end, then remove it all the same.
 * The holder may be stopped (SIGSTOP) or hung, and must not keep root
 * from its own spool; if it ever goes on, it finishes the transaction in
 * flight and then leaves the message alone (queue.c: unlinked).
 */
#define QUEUE_REMOVE_WAIT 5

static int
claim_patiently(struct spool *sp, const char *id, struct spool_env *env,
    int *busy, struct err *e)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	time_t end = time(NULL) + QUEUE_REMOVE_WAIT;
	int fd, saved;

	for (;;) {
		err_clear(e);
		fd = spool_claim(sp, id, 0, env, busy, e);
		saved = errno;
		if (fd != -1 || !*busy || saved != EWOULDBLOCK ||
		    time(NULL) >= end) {
			errno = saved;
			return fd;
		}
		spool_env_free(env);
		nanosleep(&tick, NULL);
	}
}

static int
remove_held(struct spool *sp, const char *id, struct err *e)
{
	err_clear(e);
	if (spool_remove(sp, id, e) == -1)
		return -1;
	log_msg(LOG_WARNING,
	    "id=%s status=removed result=\"removed by uid %ld while "
	    "another process held it for over %d s; it may still finish "
	    "the transaction in flight\"",
	    id, (long)getuid(), QUEUE_REMOVE_WAIT);
	return 0;
}

static int
remove_one(struct spool *sp, const char *id, struct err *e)
{
	struct spool_env env;
	int busy, fd;

	if (!spool_id_ok(id))
		return err_set(e, ERR_USAGE, "\"%.40s\" is not a queue id", id);
	fd = getuid() == 0 ? claim_patiently(sp, id, &env, &busy, e)
			   : spool_claim(sp, id, 0, &env, &busy, e);
	if (fd == -1 && e->class != ERR_DATA) {
		int saved = errno;

		spool_env_free(&env);
		if (busy && saved == EWOULDBLOCK && getuid() == 0)
			return remove_held(sp, id, e);
		if (busy && saved == EWOULDBLOCK)
			return err_set(e, ERR_TEMP,
			    "%s is being delivered now; try again", id);
		if (busy) /* not there, or delivered meanwhile */
			return err_set(e, ERR_USAGE,
			    "no message %s in the queue", id);
		if (saved == EACCES || saved == EPERM)
			e->class = ERR_NOPERM;
		return -1; /* e names the file and the cause */
	}
	/* A corrupt file has no owner to check: only root removes it. */
	if (getuid() != 0 && (fd == -1 || env.uid != (long)getuid())) {
		spool_env_free(&env);
		if (fd != -1)
			close(fd);
		return err_set(e, ERR_NOPERM,
		    "%s was not submitted by you: only root may remove it", id);
	}
	if (spool_remove(sp, id, e) == 0)
		log_msg(LOG_NOTICE,
		    "id=%s status=removed result=\"removed "
		    "by uid %ld\"",
		    id, (long)getuid());
	spool_env_free(&env);
	if (fd != -1)
		close(fd);
	return e->class == ERR_CANTCREAT ? -1 : 0;
}

int
queue_remove(const struct config *cfg, char **ids, int nids, struct err *e)
{
	struct spool sp;
	struct err one;
	int i, rc = 0;

	if (nids == 0)
		return err_set(e, ERR_USAGE, "--remove needs a queue id");
	if (spool_open(&sp, cfg->queue_dir, 0, e) == -1 ||
	    sp.fd[SPOOL_DIR_QUEUE] == -1) {
		if (sp.dir != NULL)
			spool_close(&sp);
		return err_set(e, ERR_USAGE, "no spool at %s", cfg->queue_dir);
	}
	for (i = 0; i < nids; i++) {
		err_clear(&one);
		if (remove_one(&sp, ids[i], &one) == -1) {
			*e = one;
			rc = -1;
		}
	}
	spool_close(&sp);
	return rc;
}
