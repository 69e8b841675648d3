/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * queue.c: the queue runner (postern -q, --queue-run, and the detached
 * child of mode = always).
 *
 * One message at a time is claimed (spool_claim: its lock), sent over
 * the run's SMTP session, and settled before the next is claimed:
 * done recipients are written down, and a message with nothing left is
 * removed at once, so that a crash repeats at most the transaction in
 * flight.  When the server cannot be reached, the rest of the run is
 * deferred without another connection attempt per message.
 * queue_pool.c spreads the messages over several such runs at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/bounce.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/deliver.h"
#include "postern/err.h"
#include "postern/log.h"
#include "postern/queue.h"
#include "postern/smtp.h"
#include "postern/spool.h"
#include "queue_int.h"

#define QUEUE_LOG_TO 1024 /* the to= field of one log line */

static size_t
count(const struct spool_env *env, int state)
{
	size_t i, n = 0;

	for (i = 0; i < env->nrcpts; i++)
		n += env->rcpts[i].state == state;
	return n;
}

/* One log line for the recipients that went from was[] to state. */
static void
log_group(const struct qrun *q, const struct spool_env *env, const int *was,
    int state, const char *status, const char *relay)
{
	char to[QUEUE_LOG_TO], res[512];
	const char *text = NULL;
	const char *tls = relay && q->s ? smtp_tls(q->s) : NULL;
	const char *auth = relay && q->s ? smtp_auth_used(q->s) : NULL;
	size_t i, off = 0;
	int n, any = 0;

	to[0] = '\0';
	for (i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].state != state || was[i] == SPOOL_DONE ||
		    (was[i] == SPOOL_FAILED && state == SPOOL_FAILED))
			continue;
		if (text == NULL)
			text = env->rcpts[i].text;
		any = 1;
		n = snprintf(to + off, sizeof(to) - off, "%s<%s>",
		    off ? "," : "", env->rcpts[i].addr);
		if (n < 0 || (size_t)n >= sizeof(to) - off) {
			memcpy(to + sizeof(to) - 4, "...", 4);
			break;
		}
		off += (size_t)n;
	}
	if (!any)
		return;
	if (text == NULL)
		text = state == SPOOL_DONE ? "accepted"
		    : env->error           ? env->error
					   : "";
	err_sanitize(res, sizeof(res), text, strlen(text));
	log_msg(LOG_INFO,
	    "id=%s msgid=%s from=<%s> to=%s relay=%s tls=%s auth=%s "
	    "size=%llu status=%s delay=%lld attempts=%d result=\"%s\"",
	    env->id, env->msgid && *env->msgid ? env->msgid : "-", env->sender,
	    to, relay ? relay : "none", tls ? tls : "no", auth ? auth : "none",
	    env->size, status,
	    (long long)q->now - env->created, env->attempts, res);
}

static void
set_text(struct spool_rcpt *rc, int state, int code, const char *text)
{
	rc->state = state;
	rc->code = code;
	free(rc->text);
	rc->text = text != NULL ? strndup(text, SPOOL_TEXT_MAX) : NULL;
}

static int
permanent(const struct err *e)
{
	return e->class == ERR_NOUSER || e->class == ERR_UNAVAIL ||
	    e->class == ERR_DATA;
}

/*
 * Per recipient: 2xx done, 5xx failed, 4xx pending; those the server
 * never answered follow the transaction's error (permanent or not).
 */
static void
settle(struct spool_env *env, const size_t *idx, const struct smtp_rcpt *st,
    size_t n, int rc, const struct err *e)
{
	struct spool_rcpt *r;
	char text[300];
	size_t i;
	int code;

	for (i = 0; i < n; i++) {
		r = &env->rcpts[idx[i]];
		code = st[i].code;
		snprintf(text, sizeof(text), "%d%s%s", code,
		    st[i].text[0] ? " " : "", st[i].text);
		if (code >= 500)
			set_text(r, SPOOL_FAILED, code, text);
		else if (code >= 400)
			set_text(r, SPOOL_PENDING, code, text);
		else if (rc == 0 && code >= 200 && code < 300)
			set_text(r, SPOOL_DONE, code, NULL);
		else
			set_text(r, permanent(e) ? SPOOL_FAILED : SPOOL_PENDING,
			    e->code, e->text);
	}
}

/* The session for this run: open once, again after it died. */
static struct smtp_session *
session(struct qrun *q, struct err *e)
{
	if (q->down) {
		*e = q->down_err;
		return NULL;
	}
	if (q->s != NULL && smtp_alive(q->s))
		return q->s;
	smtp_close(q->s);
	q->s = NULL;
	if (smtp_open(&q->s, config_server(q->cfg), &q->o, e) == -1) {
		/* Other connections carry on: this one stops (queue_pool.c). */
		if (q->pool != NULL && queue_pool_retire(q->pool)) {
			q->retire = 1;
			return NULL;
		}
		/* A server that refuses every session (a 554 greeting, EHLO
		 * and HELO refused) says nothing about these recipients:
		 * retry, never bounce the whole queue (Postfix's
		 * smtp_skip_5xx_greeting). */
		if (permanent(e))
			e->class = ERR_TEMP;
		q->down = 1;
		q->down_err = *e;
		if (q->pool != NULL)
			queue_pool_down(q->pool, e);
		return NULL;
	}
	return q->s;
}

static void
envelope(const struct spool_env *env, struct smtp_envelope *se)
{
	memset(se, 0, sizeof(*se));
	se->sender = env->sender;
	se->notify = env->notify;
	se->ret = env->ret;
	se->envid = env->envid;
	se->eightbit = env->eightbit ||
	    (env->body != NULL && strcmp(env->body, "8BITMIME") == 0);
	se->sevenbit = !se->eightbit && env->body != NULL;
	se->smtputf8 = env->smtputf8;
	se->size = env->size;
}

/* One attempt for the pending recipients. */
static void
attempt(struct qrun *q, struct spool_env *env, int fd, int *was)
{
	struct spool_data d = { fd, env->data_off, (off_t)env->size };
	struct smtp_envelope se;
	struct smtp_rcpt *st;
	struct smtp_session *s;
	char **addrs;
	size_t *idx, i, n = 0;
	struct err e;
	int rc = -1;

	err_clear(&e);
	addrs = calloc(env->nrcpts, sizeof(*addrs));
	idx = calloc(env->nrcpts, sizeof(*idx));
	st = calloc(env->nrcpts, sizeof(*st));
	if (addrs == NULL || idx == NULL || st == NULL) {
		err_sys(&e, ERR_OS, "memory");
		goto out;
	}
	envelope(env, &se);
	for (i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].state != SPOOL_PENDING)
			continue;
		idx[n] = i;
		addrs[n++] = env->rcpts[i].addr;
		se.smtputf8 |= addr_is_8bit(env->rcpts[i].addr);
	}
	se.rcpts = addrs;
	se.nrcpts = n;
	if ((s = session(q, &e)) != NULL) {
		rc = smtp_send(s, &se, st, spool_emit, &d, &e);
		q->lower = rc == -1 && queue_pool_lowers(&e, st, n);
	} else if (q->retire) { /* not tried: another connection takes it */
		free(addrs);
		free(idx);
		free(st);
		return;
	}
	settle(env, idx, st, n, rc, &e);
out:
	free(env->error);
	env->error = rc == 0 ? NULL : strndup(e.text, SPOOL_TEXT_MAX);
	env->attempts++;
	env->last = q->now;
	if (e.maybe_sent)
		log_msg(LOG_WARNING,
		    "id=%s status=deferred result=\"%s; the retry may "
		    "deliver it twice\"",
		    env->id, e.text);
	s = q->s;
	log_group(q, env, was, SPOOL_DONE, "sent", s ? smtp_relay(s) : NULL);
	log_group(q, env, was, SPOOL_PENDING, "deferred",
	    s ? smtp_relay(s) : NULL);
	log_group(q, env, was, SPOOL_FAILED, "failed",
	    s ? smtp_relay(s) : NULL);
	free(addrs);
	free(idx);
	free(st);
}

void
queue_extras(struct qrun *q)
{
	size_t i;

	for (i = 0; i < q->nextra; i++)
		queue_one(q, q->extra[i]);
}

long long
queue_backoff(const struct config *cfg, int attempts)
{
	long long d = cfg->queue_retry;
	long long max = cfg->queue_retry_max > cfg->queue_retry
	    ? cfg->queue_retry_max
	    : cfg->queue_retry;

	while (--attempts > 0 && d < max)
		d *= 2;
	return d < max ? d : max;
}

static int
add_extra(struct qrun *q, const char *id)
{
	char(*nv)[SPOOL_ID_MAX];

	if (q->nextra == q->capextra) {
		q->capextra = q->capextra ? q->capextra * 2 : 8;
		nv = reallocarray(q->extra, q->capextra, sizeof(*nv));
		if (nv == NULL)
			return -1;
		q->extra = nv;
	}
	memcpy(q->extra[q->nextra++], id, SPOOL_ID_MAX);
	return 0;
}

/* Nothing pending: bounce the failed ones (or keep them), remove. */
static void
conclude(struct qrun *q, struct spool_env *env, int fd)
{
	char bid[SPOOL_ID_MAX];
	const char *why = NULL;
	struct err e;

	err_clear(&e);
	if (count(env, SPOOL_FAILED) == 0) {
		if (spool_remove(&q->sp, env->id, &e) == -1)
			log_msg(LOG_ERR, "id=%s %s", env->id, e.text);
		return;
	}
	if (env->bounce)
		why = "no bounce for a bounce";
	else if (env->sender[0] == '\0')
		why = "no bounce for a null sender";
	else if (env->notify != NULL && strcasestr(env->notify, "FAILURE") ==
		NULL)
		/* RFC 3461: NEVER, or only SUCCESS/DELAY: no failure DSN. */
		why = "no bounce: the sender asked for none (NOTIFY)";
	else if (!q->cfg->queue_bounce)
		why = "bounce = no";
	if (why == NULL &&
	    bounce_commit(&q->sp, q->cfg, env, fd, bid, &e) == 0) {
		log_msg(LOG_INFO,
		    "id=%s status=bounced result=\"bounce %s to "
		    "<%s>\"",
		    env->id, bid, env->sender);
		(void)add_extra(q, bid);
		if (spool_remove(&q->sp, env->id, &e) == -1)
			log_msg(LOG_ERR, "id=%s %s", env->id, e.text);
		return;
	}
	if (why == NULL) {
		log_msg(LOG_ERR, "id=%s cannot bounce: %s", env->id, e.text);
		/* Nothing is pending, so nothing else expires it: past
		 * max_age it leaves the queue for failed/. */
		if (q->now - env->created >= q->cfg->queue_max_age)
			why = "cannot bounce, and max_age has passed";
	}
	if (why == NULL) { /* keep it; the next run tries again */
		(void)spool_save_state(&q->sp, env, 1, &e);
		return;
	}
	if (spool_fail(&q->sp, env, &e) == -1)
		log_msg(LOG_ERR, "id=%s %s", env->id, e.text);
	else
		log_msg(LOG_NOTICE,
		    "id=%s status=failed result=\"moved to %s/failed/%s (%s)\"",
		    env->id, q->sp.dir, env->id, why);
}

/* After max_age the pending recipients fail. */
static int
expire(struct qrun *q, struct spool_env *env, int *was)
{
	char text[SPOOL_TEXT_MAX + 64];
	struct spool_rcpt *r;
	size_t i;
	int any = 0;

	if (q->now - env->created < q->cfg->queue_max_age)
		return 0;
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (r->state != SPOOL_PENDING)
			continue;
		snprintf(text, sizeof(text),
		    "gave up after %lld s in the queue: %s",
		    (long long)(q->now - env->created),
		    r->text          ? r->text
			: env->error ? env->error
				     : "not delivered");
		set_text(r, SPOOL_FAILED, r->code, text);
		any = 1;
	}
	if (any)
		log_group(q, env, was, SPOOL_FAILED, "expired", NULL);
	return any;
}

/*
 * A set-group-ID run by a user other than root claims only the messages
 * that user submitted, so that a run stopped with SIGSTOP (which keeps
 * its lock) holds back nobody else's mail.  The uid in a queue file
 * never changes: reading it without the lock is enough, and a message
 * of someone else's is never locked at all.
 */
static int
mine(struct qrun *q, const char *id)
{
	struct spool_env env;
	struct err e;
	int ok;

	if (q->only_uid < 0)
		return 1;
	err_clear(&e);
	ok = spool_peek(&q->sp, id, &env, &e) == 0 && env.uid == q->only_uid;
	spool_env_free(&env);
	return ok;
}

/* Removed (--remove by root) while this run held it: leave it be. */
static int
unlinked(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_nlink == 0;
}

void
queue_one(struct qrun *q, const char *id)
{
	struct spool_env env;
	struct err e;
	int busy, fd, *was = NULL, changed = 0;
	size_t i;

	err_clear(&e);
	q->now = time(NULL);
	if (!mine(q, id))
		return;
	fd = spool_claim(&q->sp, id, 0, &env, &busy, &e);
	if (fd == -1) {
		if (e.class == ERR_DATA) {
			log_msg(LOG_ERR, "id=%s corrupt queue file: %s", id,
			    e.text);
			if (spool_fail(&q->sp, &env, &e) == -1)
				log_msg(LOG_ERR, "id=%s %s", id, e.text);
		} else if (!busy)
			log_msg(LOG_ERR, "%s", e.text);
		spool_env_free(&env);
		return;
	}
	if ((was = calloc(env.nrcpts, sizeof(*was))) == NULL)
		goto out;
	for (i = 0; i < env.nrcpts; i++)
		was[i] = env.rcpts[i].state;
	if (count(&env, SPOOL_PENDING) > 0 &&
	    (q->force || env.next <= q->now)) {
		attempt(q, &env, fd, was);
		if (q->retire)
			goto out; /* untouched, for another connection */
		changed = 1;
	}
	changed |= expire(q, &env, was);
	if (unlinked(fd)) {
		log_msg(LOG_NOTICE,
		    "id=%s removed during the attempt: "
		    "not retried, not bounced",
		    env.id);
		goto out;
	}
	if (count(&env, SPOOL_PENDING) == 0) {
		conclude(q, &env, fd);
	} else if (changed) {
		env.next = env.last + queue_backoff(q->cfg, env.attempts);
		for (i = 0; i < env.nrcpts && was[i] == env.rcpts[i].state; i++)
			;
		/* Recipients done or failed must survive a power cut. */
		if (spool_save_state(&q->sp, &env, i < env.nrcpts, &e) == -1)
			log_msg(LOG_ERR, "id=%s %s", env.id, e.text);
	}
out:
	free(was);
	close(fd);
	spool_env_free(&env);
}

int
queue_run(const struct cli *cli, const struct config *cfg, int how,
    const char (*ids)[SPOOL_ID_MAX], size_t nids, struct err *e)
{
	char(*all)[SPOOL_ID_MAX] = NULL;
	struct qrun q;
	size_t n = nids;

	memset(&q, 0, sizeof(q));
	q.cli = cli;
	q.cfg = cfg;
	q.force = how == QUEUE_ALL;
	q.only_uid =
	    getuid() != 0 && getegid() != getgid() ? (long)getuid() : -1;
	if (spool_open(&q.sp, cfg->queue_dir, 0, e) == -1)
		return errno == ENOENT ? 0 : -1;
	if (q.sp.fd[SPOOL_DIR_QUEUE] == -1) {
		spool_close(&q.sp);
		return 0;
	}
	if (ids == NULL) {
		spool_clean(&q.sp);
		if (spool_list(&q.sp, SPOOL_DIR_QUEUE, &all, &n, e) == -1) {
			spool_close(&q.sp);
			return -1;
		}
		ids = (const char(*)[SPOOL_ID_MAX])all;
	}
	deliver_smtp_opts(cli, cfg, &q.o, q.fqdn, sizeof(q.fqdn));
	/* The queue has no caller to tell: each recipient on its own. */
	q.o.partial = 1;
	queue_pool_run(&q, ids, n);
	smtp_close(q.s);
	(void)fsync(q.sp.fd[SPOOL_DIR_QUEUE]);
	free(q.extra);
	free(all);
	spool_close(&q.sp);
	return 0;
}
