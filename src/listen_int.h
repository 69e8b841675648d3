/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * listen_int.h: what the parts of -bd share.  listen.c runs the service
 * and a session; listen_sock.c resolves, checks and binds the addresses;
 * listen_loop.c accepts, forks and stops.
 */
#ifndef POSTERN_LISTEN_INT_H
#define POSTERN_LISTEN_INT_H

#include <stddef.h>
#include <sys/socket.h>

#include "postern/listen.h"
#include "postern/peer.h"

struct cli;
struct config;
struct err;

/* The resolved [listen] addresses and, once bound, their sockets. */
struct listen_addrs {
	struct sockaddr_storage sa[LISTEN_ADDR_MAX];
	socklen_t len[LISTEN_ADDR_MAX];
	char text[LISTEN_ADDR_MAX][PEER_TEXT_MAX];
	int fd[LISTEN_ADDR_MAX]; /* -1 until bound */
	size_t n;
};

/* Every [listen] address as socket addresses; refuses one that is not
 * loopback while [listen] allow names no network. */
int listen_resolve(const struct config *, struct listen_addrs *, struct err *);
/* The server the delivery mode selects must not be one of them. */
int listen_check_loop(const struct config *, const struct listen_addrs *,
    struct err *);
int listen_bind(struct listen_addrs *, struct err *);
void listen_addrs_free(struct listen_addrs *);
/* Accept and serve until stopped. */
int listen_loop(const struct cli *, const struct config *,
    struct listen_addrs *, struct err *);
/* One session on a connected socket (in may equal out). */
int listen_session(const struct cli *, const struct config *, int in, int out,
    const struct sockaddr *peer, struct err *);

#endif
