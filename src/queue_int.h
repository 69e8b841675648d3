/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * queue_int.h: what queue.c (one message at a time over one session) and
 * queue_pool.c (several sessions at once) share; not for other modules.
 */
#ifndef POSTERN_QUEUE_INT_H
#define POSTERN_QUEUE_INT_H

#include <stddef.h>
#include <time.h>

#include "postern/err.h"
#include "postern/smtp.h"
#include "postern/spool.h"

struct cli;
struct config;
struct qpool;

/* One run over one SMTP session (a worker's, or the only one). */
struct qrun {
	const struct cli *cli;
	const struct config *cfg;
	struct spool sp;
	struct smtp_session *s;
	struct smtp_opts o;
	char fqdn[256];
	int force;
	int down; /* the server could not be reached: defer the rest */
	struct err down_err;
	time_t now;
	char (*extra)[SPOOL_ID_MAX]; /* bounces made by this run */
	size_t nextra, capextra;
	long only_uid; /* claim only this user's messages; -1: all */
	/* queue_pool.c */
	struct qpool *pool; /* NULL: this run is alone */
	int retire; /* no session, others carry on: the message is back */
	int lower; /* the server refused the whole transaction (4xx) */
};

/*
 * Claim, attempt and settle one message (its lock held throughout).
 * With q->retire set on return the message was left as it was.
 */
void queue_one(struct qrun *, const char *id);
/* The bounces this run made, over its session. */
void queue_extras(struct qrun *);

/*
 * Run ids over up to [queue] connections sessions: forked workers, each
 * taking the next message from a shared counter, then its bounces.
 * Messages a worker gave back, or never reached, are run by the caller
 * (q, in this process) once the workers are gone.  One message, one
 * connection allowed, or no fork possible: q runs them all itself.
 */
void queue_pool_run(struct qrun *, const char (*ids)[SPOOL_ID_MAX], size_t n);
/*
 * A worker's session could not be opened: 1 when other workers still
 * take messages (this one then stops: fewer connections), 0 when it is
 * the last (it defers the rest, as a lone run does).
 */
int queue_pool_retire(struct qpool *);
/*
 * The last worker found the server unreachable (e says why): the parent
 * then defers what is left without trying again.
 */
void queue_pool_down(struct qpool *, const struct err *);
/*
 * 1 when a failed transaction says the server wants fewer sessions: a
 * temporary refusal of the whole transaction (421, a 4xx to MAIL, DATA,
 * BDAT or the final dot, such as Exchange Online's "432 4.3.2
 * concurrent connections limit exceeded"), a timeout or a lost
 * connection; not a 4xx for one recipient.
 */
int queue_pool_lowers(const struct err *, const struct smtp_rcpt *, size_t n);

#endif
