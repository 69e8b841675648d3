/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * queue_pool.c: a queue run over several SMTP sessions at once.
 *
 * After an outage the spool may hold thousands of messages; one session
 * that waits a round trip or two per message drains them slowly over a
 * real network.  Like Postfix's destination concurrency, the run opens
 * up to [queue] connections sessions: one forked worker each, carrying
 * many messages over its connection.  The workers take message numbers
 * from one counter in shared memory, so each message of the run is
 * tried by one worker only; the spool's lock (spool_claim) still keeps
 * other runners away, so no message is sent twice.
 *
 * Fewer connections when the server asks for it: a worker whose
 * connection is refused (or greeted with a 421) stops and gives its
 * message back untouched; a worker whose transaction was refused whole
 * with a 4xx stops after settling it.  The last worker never stops: it
 * carries on as a lone run does (and defers the rest when the server
 * cannot be reached).  Whatever was given back, or not reached, is run
 * by the parent once the workers are gone (deferred without another
 * connection when the last worker found the server down).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/log.h"
#include "queue_int.h"

#define QUEUE_POOL_MAX 20 /* the highest [queue] connections */

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
    "the pool's counters live in memory shared between processes");

/* In a MAP_SHARED mapping, seen by the parent and every worker. */
struct qpool {
	atomic_long next; /* the next message number to hand out */
	atomic_int active; /* workers still taking messages */
	atomic_long back[QUEUE_POOL_MAX]; /* given back; -1: empty */
	atomic_int down; /* a worker could not reach the server... */
	struct err down_err; /* ...for this reason */
};

static struct qpool *
pool_new(void)
{
	struct qpool *p;
	size_t i;

	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	atomic_init(&p->next, 0);
	atomic_init(&p->active, 0);
	atomic_init(&p->down, 0);
	for (i = 0; i < QUEUE_POOL_MAX; i++)
		atomic_init(&p->back[i], -1);
	return p;
}

/* The next message number: one given back first; -1 when none is left. */
static long
pool_take(struct qpool *p, size_t n)
{
	long k;
	size_t i;

	for (i = 0; i < QUEUE_POOL_MAX; i++)
		if ((k = atomic_exchange(&p->back[i], -1)) >= 0)
			return k;
	k = atomic_fetch_add(&p->next, 1);
	return k >= 0 && (size_t)k < n ? k : -1;
}

/* Each worker gives back at most one message: a slot is always free. */
static void
pool_give(struct qpool *p, long k)
{
	long empty;
	size_t i;

	for (i = 0; i < QUEUE_POOL_MAX; i++) {
		empty = -1;
		if (atomic_compare_exchange_strong(&p->back[i], &empty, k))
			return;
	}
}

int
queue_pool_retire(struct qpool *p)
{
	if (atomic_fetch_sub(&p->active, 1) > 1)
		return 1;
	atomic_fetch_add(&p->active, 1); /* the last one carries on */
	return 0;
}

void
queue_pool_down(struct qpool *p, const struct err *e)
{
	/* The first worker writes the reason; the parent reads it once
	 * every worker is gone. */
	if (atomic_exchange(&p->down, 1) == 0)
		p->down_err = *e;
}

int
queue_pool_lowers(const struct err *e, const struct smtp_rcpt *st, size_t n)
{
	size_t i;

	if (e->class != ERR_TEMP)
		return 0;
	for (i = 0; i < n; i++)
		if (st[i].code >= 400 && st[i].code < 500)
			return 0; /* a recipient's own 4xx */
	return 1;
}

/* One worker: messages until none is left or the server wants fewer. */
static void
pool_worker(struct qrun *q, struct qpool *p, const char (*ids)[SPOOL_ID_MAX],
    size_t n)
{
	long k;
	int stopped = 0;

	q->pool = p;
	q->s = NULL;
	q->extra = NULL;
	q->nextra = q->capextra = 0;
	while (!stopped && (k = pool_take(p, n)) >= 0) {
		queue_one(q, ids[k]);
		if (q->retire) {
			pool_give(p, k);
			stopped = 1;
		} else if (q->lower) {
			q->lower = 0;
			stopped = queue_pool_retire(p);
		}
	}
	/* A worker that stopped leaves its bounces to the next run. */
	if (!stopped) {
		queue_extras(q);
		atomic_fetch_sub(&p->active, 1);
	}
	smtp_close(q->s);
	free(q->extra);
}

void
queue_pool_run(struct qrun *q, const char (*ids)[SPOOL_ID_MAX], size_t n)
{
	size_t w = (size_t)q->cfg->queue_connections, i, nw = 0;
	pid_t pid[QUEUE_POOL_MAX], c;
	struct qpool *p = NULL;
	long k;

	if (w > n)
		w = n;
	if (w > QUEUE_POOL_MAX)
		w = QUEUE_POOL_MAX;
	if (w > 1 && (p = pool_new()) == NULL)
		log_msg(LOG_WARNING, "one connection for this queue run: %s",
		    strerror(errno));
	if (p == NULL) {
		for (i = 0; i < n; i++)
			queue_one(q, ids[i]);
		queue_extras(q);
		return;
	}
	atomic_store(&p->active, (int)w);
	for (i = 0; i < w; i++) {
		if ((c = fork()) == 0) {
			pool_worker(q, p, ids, n);
			_exit(0);
		}
		if (c == -1) {
			log_msg(LOG_WARNING,
			    "%zu of %zu connections for this "
			    "queue run: fork: %s",
			    nw, w, strerror(errno));
			atomic_fetch_sub(&p->active, (int)(w - i));
			break;
		}
		pid[nw++] = c;
	}
	for (i = 0; i < nw; i++)
		while (waitpid(pid[i], NULL, 0) == -1 && errno == EINTR)
			;
	/* Given back, or never reached (a worker died, or none started);
	 * when the last worker could not reach the server, not again. */
	if (atomic_load(&p->down)) {
		q->down = 1;
		q->down_err = p->down_err;
	}
	while ((k = pool_take(p, n)) >= 0)
		queue_one(q, ids[k]);
	queue_extras(q);
	munmap(p, sizeof(*p));
}
