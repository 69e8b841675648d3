/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * peer.h: who is on the other end of an SMTP session, and whether it may
 * submit: socket addresses as text, the [listen] allow list (CIDR), and
 * the rule that keeps postern from being an open relay (loopback and
 * local sockets always, other networks only when named).
 */
#ifndef POSTERN_PEER_H
#define POSTERN_PEER_H

#include <stddef.h>
#include <sys/socket.h>

#define PEER_ALLOW_MAX 64 /* networks in [listen] allow */
#define PEER_TEXT_MAX 64 /* "[ffff:...:ffff]:65535", NUL included */

/* One network: family AF_INET or AF_INET6, bits of its prefix. */
struct peer_net {
	int family;
	unsigned char addr[16]; /* network byte order; 4 used for IPv4 */
	unsigned int bits;
};

struct peer_allow {
	struct peer_net nets[PEER_ALLOW_MAX];
	size_t n;
};

/*
 * Parse "192.0.2.0/24, 2001:db8::/32, 198.51.100.7" (NULL or "": no
 * network).  A bare address is one host.  Refused with why filled: bad
 * syntax, host bits set below the prefix, a /0 (every address: postern
 * is never an open relay), more than PEER_ALLOW_MAX entries.
 */
int peer_allow_parse(const char *list, struct peer_allow *, char *why,
    size_t whysz);
/* 127.0.0.0/8, ::1, and IPv4-mapped ::ffff:127.x: 1, else 0. */
int peer_is_loopback(const struct sockaddr *);
/* 0.0.0.0 or :: (listening on every address): 1, else 0. */
int peer_is_any(const struct sockaddr *);
/*
 * May this client submit?  A local socket (AF_UNIX) and loopback always;
 * an IPv4 or IPv6 client only inside one of the allow networks.
 */
int peer_allowed(const struct peer_allow *, const struct sockaddr *);
/* The same address (IPv4-mapped IPv6 equals its IPv4): 1, else 0. */
int peer_same_addr(const struct sockaddr *, const struct sockaddr *);
/* The same address and port: 1, else 0. */
int peer_same(const struct sockaddr *, const struct sockaddr *);
/* The port of an IPv4 or IPv6 address, host order; 0 for others. */
unsigned int peer_port(const struct sockaddr *);
/* "192.0.2.1:25", "[2001:db8::1]:25", "local" for AF_UNIX; always set. */
void peer_format(const struct sockaddr *, char *, size_t);
/*
 * The client of a connected socket fd: 1 with *ss filled (any family),
 * 0 when fd is not a socket (a pipe: sendmail -bs under a framework),
 * -1 with errno for a socket without a peer.
 */
int peer_of_fd(int fd, struct sockaddr_storage *ss);

#endif
