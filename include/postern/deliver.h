/*
 * deliver.h: one submission from the command line, start to end: read the
 * message, build the envelope, hand it to the configured server, log.
 */
#ifndef POSTERN_DELIVER_H
#define POSTERN_DELIVER_H

struct cli;
struct config;
struct err;

/* Read the message from fd and deliver it. */
int	 deliver_submit(const struct cli *, const struct config *, int fd,
	    struct err *);
/* --serverinfo for the configured server. */
int	 deliver_serverinfo(const struct cli *, const struct config *,
	    struct err *);

#endif
