/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * listen.h: postern as the host's local SMTP service.  "postern -bd"
 * binds [listen] address, gives up root, and serves each client in a
 * process of its own (server.h) up to [listen] max_sessions; "postern -bs"
 * on a connected socket (systemd Accept=yes, inetd) is one such session.
 */
#ifndef POSTERN_LISTEN_H
#define POSTERN_LISTEN_H

struct cli;
struct config;
struct err;

#define LISTEN_ADDR_MAX 32 /* sockets -bd listens on */
#define LISTEN_BACKLOG 64

/*
 * Before the environment is cleaned: take systemd's LISTEN_PID and
 * LISTEN_FDS (a socket passed as fd 3), and remove them so that nothing
 * postern runs inherits them.
 */
void listen_take_env(void);
/*
 * -bs: the SMTP session on standard input and output, or on the socket
 * systemd passed.  On a socket, the client's address goes into every log
 * line and a client outside [listen] allow is refused (554).
 */
int listen_bs(const struct cli *, const struct config *, struct err *);
/* -bs cannot serve (an unreadable ini): 421 with why, to the client. */
void listen_bs_unavailable(const char *why);
/*
 * What -bd would refuse, for --check with a [listen] section: an address
 * that is not loopback without [listen] allow, and a loop (the server
 * the delivery mode selects is one of the listen addresses).  ERR_CONFIG.
 */
int listen_check(const struct config *, struct err *);
/*
 * -bd: listen, drop privileges, serve until SIGTERM or SIGINT, then let
 * the open sessions finish; 0 after a clean stop.
 */
int listen_run(const struct cli *, const struct config *, struct err *);

#endif
