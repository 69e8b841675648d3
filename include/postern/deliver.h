/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * deliver.h: one submission from the command line, start to end: read the
 * message, build the envelope, hand it to the configured server, log.
 */
#ifndef POSTERN_DELIVER_H
#define POSTERN_DELIVER_H

#include <stddef.h>

struct cli;
struct config;
struct err;

struct msg;
struct smtp_opts;

/*
 * Hand a message that has been read to the configured server, for these
 * envelope recipients (already rewritten), and log the outcome.  cli
 * supplies -v and the DSN and BODY parameters.  [queue] mode decides
 * what a temporary failure means: fallback commits the message to the
 * spool and returns 0 (75 with both causes when the spool cannot be
 * written); always commits without trying (73 when it cannot) and
 * leaves the delivery to deliver_kick(); never returns the failure.
 */
int deliver_msg(const struct cli *, const struct config *, struct msg *,
    char **rcpts, size_t nrcpts, struct err *);
/* Read the message from fd and deliver it. */
int deliver_submit(const struct cli *, const struct config *, int fd,
    struct err *);
/*
 * Mode always: start the detached child that delivers what this process
 * committed.  Call when the caller has its answer: at the end of a
 * submission, after each transaction of a -bs session.
 */
void deliver_kick(const struct cli *, const struct config *);
/* Reap the delivery children a long -bs session has started. */
void deliver_reap(void);
/* The SMTP options for the configured server (fqdn: room for EHLO). */
void deliver_smtp_opts(const struct cli *, const struct config *,
    struct smtp_opts *, char *fqdn, size_t fqdnsz);
/* The directory for temporary message files. */
const char *deliver_tmpdir(void);
/* The caller's login name, for user@domain. */
const char *deliver_caller(void);
/* --serverinfo for the configured server. */
int deliver_serverinfo(const struct cli *, const struct config *, struct err *);

#endif
