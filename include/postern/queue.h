/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * queue.h: what postern does with its spool: submit a message to it, run
 * it (postern -q, --queue-run, the detached child of mode = always), list
 * it (mailq) and remove a message from it (postern --remove ID).
 *
 * A run claims one message at a time with its lock, so runners overlap
 * safely, and sends the messages over up to [queue] connections SMTP
 * sessions to the configured server at once, each carrying many (each
 * reopened when it dies; fewer when the server refuses them).  Each
 * recipient keeps its own state: accepted ones are done, 4xx ones are retried with a back-off
 * (retry, doubling up to retry_max), 5xx ones and those still pending
 * after max_age are reported in one bounce (bounce.h) to the sender.
 */
#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

#include <stddef.h>
#include <stdio.h>

#include "postern/spool.h"

struct cli;
struct config;
struct err;
struct msg;

/*
 * Commit a message that has been read (msg.h) for these recipients to
 * the spool under id, the id it got at submission (spool_id_new), so the
 * log knows it by one id; an empty id gets a new one, written back.
 * why: the failed first attempt that sent it there (recorded as attempt
 * 1, with its error and the next try), or NULL when nothing was tried;
 * ERR_CONFIG (no relay set): nothing was tried, why is kept as the
 * message's error and the message is due at once.  ERR_CANTCREAT when the spool
 * cannot be written (the text names the file and the cause).
 */
int queue_submit(const struct cli *, const struct config *, struct msg *,
    char **rcpts, size_t nrcpts, const struct err *why,
    char id[SPOOL_ID_MAX], struct err *);
/* Seconds to wait after this many attempts: retry, doubling, capped. */
long long queue_backoff(const struct config *, int attempts);

#define QUEUE_DUE 0 /* --queue-run: messages whose time has come */
#define QUEUE_ALL 1 /* -q: every message now */
/*
 * Run the queue, or only the nids messages in ids (ids NULL: all).
 * Returns 0 when the run went through, whatever became of the messages
 * (each outcome is logged); -1 only when the spool cannot be used.
 */
int queue_run(const struct cli *, const struct config *, int how,
    const char (*ids)[SPOOL_ID_MAX], size_t nids, struct err *);
/* mailq, -bp: the listing, or "Mail queue is empty". */
int queue_list(const struct config *, FILE *, struct err *);
/* --remove ID...: root, or the user who submitted the message. */
int queue_remove(const struct config *, char **ids, int nids, struct err *);

#endif
