/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * peer.c: client addresses, the [listen] allow list and the open-relay
 * rule.  Pure functions of addresses, except peer_of_fd(), which asks the
 * kernel who is on a socket.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "postern/peer.h"

static const unsigned char peer_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff };

static int peer_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
peer_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The address of sa as a peer_net of full length, an IPv4-mapped IPv6
 * address as the IPv4 address it stands for.  -1 for other families.
 */
static int
peer_net_of(const struct sockaddr *sa, struct peer_net *n)
{
	const struct sockaddr_in6 *s6;

	memset(n, 0, sizeof(*n));
	if (sa->sa_family == AF_INET) {
		n->family = AF_INET;
		memcpy(n->addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
		n->bits = 32;
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (memcmp(s6->sin6_addr.s6_addr, peer_v4mapped, 12) == 0) {
		n->family = AF_INET;
		memcpy(n->addr, s6->sin6_addr.s6_addr + 12, 4);
		n->bits = 32;
		return 0;
	}
	n->family = AF_INET6;
	memcpy(n->addr, s6->sin6_addr.s6_addr, 16);
	n->bits = 128;
	return 0;
}

/* Is addr (full length) inside net? */
static int
peer_net_has(const struct peer_net *net, const struct peer_net *addr)
{
	unsigned int full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (net->family != addr->family)
		return 0;
	if (memcmp(net->addr, addr->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr->addr[full] & mask);
}

/* One entry, "addr" or "addr/bits", already trimmed, into *n. */
static int
peer_net_parse(char *t, struct peer_net *n, char *why, size_t whysz)
{
	char *slash = strchr(t, '/'), *end;
	unsigned int max, i;
	unsigned long bits;

	memset(n, 0, sizeof(*n));
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, t, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, t, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return peer_why(why, whysz,
		    "\"%s\" is not an IPv4 or IPv6 address (a network is "
		    "written 192.0.2.0/24 or 2001:db8::/32)",
		    t);
	}
	n->bits = max;
	if (slash != NULL) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end != '\0' ||
		    errno != 0 || bits > max)
			return peer_why(why, whysz,
			    "\"%s/%s\": the prefix length is 0 to %u", t,
			    slash + 1, max);
		n->bits = (unsigned int)bits;
	}
	if (n->bits == 0)
		return peer_why(why, whysz,
		    "\"%s/0\" is every address: postern is never an open "
		    "relay",
		    t);
	for (i = n->bits; i < max; i++)
		if (n->addr[i / 8] & (0x80 >> (i % 8)))
			return peer_why(why, whysz,
			    "\"%s/%u\" has bits set after the prefix "
			    "(write the network's first address)",
			    t, n->bits);
	return 0;
}

int
peer_allow_parse(const char *list, struct peer_allow *a, char *why,
    size_t whysz)
{
	char tok[128];
	const char *v, *end;
	size_t len;

	memset(a, 0, sizeof(*a));
	if (list == NULL)
		return 0;
	for (v = list; *v != '\0'; v = *end ? end + 1 : end) {
		end = v + strcspn(v, ",");
		while (v < end && isspace((unsigned char)*v))
			v++;
		len = (size_t)(end - v);
		while (len > 0 && isspace((unsigned char)v[len - 1]))
			len--;
		if (len == 0)
			continue;
		if (a->n == PEER_ALLOW_MAX)
			return peer_why(why, whysz, "more than %d networks",
			    PEER_ALLOW_MAX);
		if (len >= sizeof(tok))
			return peer_why(why, whysz, "an entry is too long");
		memcpy(tok, v, len);
		tok[len] = '\0';
		if (strpbrk(tok, " \t") != NULL)
			return peer_why(why, whysz,
			    "\"%s\" has a space (separate networks with "
			    "commas)",
			    tok);
		if (peer_net_parse(tok, &a->nets[a->n], why, whysz) == -1)
			return -1;
		a->n++;
	}
	return 0;
}

int
peer_is_loopback(const struct sockaddr *sa)
{
	static const unsigned char one[16] = { [15] = 1 };
	struct peer_net n;

	if (peer_net_of(sa, &n) == -1)
		return 0;
	if (n.family == AF_INET)
		return n.addr[0] == 127;
	return memcmp(n.addr, one, 16) == 0;
}

int
peer_is_any(const struct sockaddr *sa)
{
	static const unsigned char zero[16];
	struct peer_net n;

	if (sa->sa_family == AF_INET6 &&
	    memcmp(((const struct sockaddr_in6 *)(const void *)sa)
		       ->sin6_addr.s6_addr,
		zero, 16) == 0)
		return 1;
	if (peer_net_of(sa, &n) == -1)
		return 0;
	return memcmp(n.addr, zero, n.family == AF_INET ? 4 : 16) == 0;
}

int
peer_allowed(const struct peer_allow *a, const struct sockaddr *sa)
{
	struct peer_net n;
	size_t i;

	if (sa->sa_family == AF_UNIX || peer_is_loopback(sa))
		return 1;
	if (a == NULL || peer_net_of(sa, &n) == -1)
		return 0;
	for (i = 0; i < a->n; i++)
		if (peer_net_has(&a->nets[i], &n))
			return 1;
	return 0;
}

unsigned int
peer_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

int
peer_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	struct peer_net na, nb;

	if (peer_net_of(a, &na) == -1 || peer_net_of(b, &nb) == -1)
		return 0;
	return na.family == nb.family &&
	    memcmp(na.addr, nb.addr, na.family == AF_INET ? 4 : 16) == 0;
}

int
peer_same(const struct sockaddr *a, const struct sockaddr *b)
{
	return peer_same_addr(a, b) && peer_port(a) == peer_port(b);
}

void
peer_format(const struct sockaddr *sa, char *buf, size_t sz)
{
	char host[INET6_ADDRSTRLEN];
	struct peer_net n;

	if (sz == 0)
		return;
	if (peer_net_of(sa, &n) == -1 ||
	    inet_ntop(n.family, n.addr, host, sizeof(host)) == NULL) {
		snprintf(buf, sz, "%s",
		    sa->sa_family == AF_UNIX ? "local" : "unknown");
		return;
	}
	if (n.family == AF_INET6)
		snprintf(buf, sz, "[%s]:%u", host, peer_port(sa));
	else
		snprintf(buf, sz, "%s:%u", host, peer_port(sa));
}

int
peer_of_fd(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);
	struct stat st;

	memset(ss, 0, sizeof(*ss));
	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	if (getpeername(fd, (struct sockaddr *)ss, &len) == -1)
		return -1;
	/* An unnamed AF_UNIX peer (socketpair) reports only a family. */
	if (len < sizeof(ss->ss_family))
		ss->ss_family = AF_UNIX;
	return 1;
}
