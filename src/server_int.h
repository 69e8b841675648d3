/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * server_int.h: what the two halves of -bs share.  server.c owns the
 * session's input, output, DATA and delivery; server_cmd.c parses and
 * answers the commands.
 */
#ifndef POSTERN_SERVER_INT_H
#define POSTERN_SERVER_INT_H

#include <stddef.h>

#include "postern/addr.h"
#include "postern/buf.h"

struct cli;
struct config;

#define SRV_IBUF 65536
#define SRV_OBUF 65536

struct srv {
	int in;
	int out;
	char ibuf[SRV_IBUF];
	size_t ipos;
	size_t ilen;
	int eof;
	int closing; /* 221 or 421 sent */
	struct buf obuf;
	const struct cli *cli;
	const struct config *cfg;
	const struct server_client *client; /* NULL on a pipe */
	struct addr_rewrite rw;
	unsigned int errors;
	unsigned int commands;

	/* the transaction */
	int mail; /* MAIL seen */
	int smtputf8; /* MAIL ... SMTPUTF8 (RFC 6531) */
	char sender[ADDR_SPEC_MAX + 3];
	char **rcpts;
	size_t nrcpts;
	char notify[128];
	const char *ret; /* "FULL", "HDRS" or NULL */
	char envid[128];
	const char *body; /* "7BIT", "8BITMIME" or NULL */
};

void srv_reply(struct srv *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void srv_reset(struct srv *);
/* One command line; sets s->closing when the session is over. */
void srv_command(struct srv *, char *);
/* DATA: receive, deliver, answer the final dot. */
void cmd_data(struct srv *, const char *);

#endif
