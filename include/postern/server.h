/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * server.h: "sendmail -bs", an SMTP server (RFC 5321) on a pair of file
 * descriptors, for frameworks (Symfony, Laravel) that speak SMTP to the
 * sendmail process.  Each transaction goes through the same message
 * pipeline and delivery as a command-line submission; the reply to the
 * final dot is 250 only once the upstream accepted the message.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

struct cli;
struct config;
struct err;

#define SERVER_LINE_MAX	 2048	/* a command line (RFC 5321 asks 512) */
#define SERVER_RCPT_MAX	 1000	/* recipients of one transaction */
#define SERVER_ERR_MAX	 20	/* errors before the session is closed */
#define SERVER_CMD_MAX	 10000	/* commands in one session */

/* The client of a session on a socket (-bd, or -bs on a socket). */
struct server_client {
	char addr[64];	/* as peer_format() writes it, for the log */
	int refused;	/* outside [listen] allow: 554, then only QUIT */
};

/*
 * Serve one session on in/out; client is NULL on a pipe.  Returns 0 when
 * the session ended (QUIT, EOF, idle timeout, too many errors: the client
 * was told), -1 for a local failure (err filled).
 */
int	 server_run(const struct cli *, const struct config *, int in, int out,
	    const struct server_client *, struct err *);
/*
 * From a SIGTERM handler (async-signal-safe): the transaction under way
 * finishes, then the session ends with 421 instead of waiting for more.
 */
void	 server_drain(void);

#endif
