/*
 * deliver.h: one submission from the command line, start to end: read the
 * message, build the envelope, hand it to the configured server, log.
 */
#ifndef POSTERN_DELIVER_H
#define POSTERN_DELIVER_H

struct cli;
struct config;
struct err;

struct msg;

/*
 * Hand a message that has been read to the configured server, for these
 * envelope recipients (already rewritten), and log the outcome.  cli
 * supplies -v and the DSN and BODY parameters.
 */
int	 deliver_msg(const struct cli *, const struct config *, struct msg *,
	    char **rcpts, size_t nrcpts, struct err *);
/* Read the message from fd and deliver it. */
int	 deliver_submit(const struct cli *, const struct config *, int fd,
	    struct err *);
/* The directory for temporary message files. */
const char *deliver_tmpdir(void);
/* The caller's login name, for user@domain. */
const char *deliver_caller(void);
/* --serverinfo for the configured server. */
int	 deliver_serverinfo(const struct cli *, const struct config *,
	    struct err *);

#endif
