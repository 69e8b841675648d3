/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * listen_sock.c: the [listen] addresses of -bd: resolved, checked (never
 * an open relay, never a loop into itself) and bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/err.h"
#include "postern/peer.h"
#include "listen_int.h"

/* Add one resolved address, unless it is there already. */
static int
listen_add(struct listen_addrs *la, const struct addrinfo *ai,
    const struct config *cfg, struct err *e)
{
	size_t i;

	if (ai->ai_addrlen > sizeof(la->sa[0]) ||
	    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
		return 0;
	for (i = 0; i < la->n; i++)
		if (la->sa[i].ss_family == ai->ai_family &&
		    peer_same(ai->ai_addr, (struct sockaddr *)&la->sa[i]))
			return 0;
	if (la->n == LISTEN_ADDR_MAX)
		return err_set(e, ERR_CONFIG,
		    "%s: [listen] address: more than %d addresses", cfg->path,
		    LISTEN_ADDR_MAX);
	memcpy(&la->sa[la->n], ai->ai_addr, ai->ai_addrlen);
	la->len[la->n] = ai->ai_addrlen;
	peer_format(ai->ai_addr, la->text[la->n], sizeof(la->text[0]));
	la->fd[la->n] = -1;
	la->n++;
	return 0;
}

int
listen_resolve(const struct config *cfg, struct listen_addrs *la, struct err *e)
{
	const struct config_host *h;
	struct addrinfo hints, *res, *ai;
	struct peer_allow allow;
	char why[256];
	size_t i;
	int r;

	memset(la, 0, sizeof(*la));
	if (cfg->listen.naddrs == 0)
		return err_set(e, ERR_CONFIG,
		    "%s: [listen] address is empty: nothing to listen on",
		    cfg->path);
	if (peer_allow_parse(cfg->listen.allow, &allow, why, sizeof(why)) == -1)
		return err_set(e, ERR_CONFIG, "%s: [listen] allow: %s",
		    cfg->path, why);
	for (i = 0; i < cfg->listen.naddrs; i++) {
		h = &cfg->listen.addrs[i];
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if ((r = getaddrinfo(h->host, h->port, &hints, &res)) != 0)
			return err_set(e,
			    r == EAI_AGAIN ? ERR_TEMP : ERR_CONFIG,
			    "%s: [listen] address %s: %s", cfg->path, h->host,
			    gai_strerror(r));
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (listen_add(la, ai, cfg, e) == -1) {
				freeaddrinfo(res);
				return -1;
			}
		freeaddrinfo(res);
	}
	for (i = 0; i < la->n; i++)
		if (!peer_is_loopback((struct sockaddr *)&la->sa[i]) &&
		    allow.n == 0)
			return err_set(e, ERR_CONFIG,
			    "%s: [listen] address %s is not loopback: name "
			    "the networks that may submit in [listen] allow "
			    "(postern is never an open relay)",
			    cfg->path, la->text[i]);
	return 0;
}

/* Is sa one of this host's own addresses? */
static int
listen_is_local(const struct sockaddr *sa)
{
	struct ifaddrs *ifs, *i;
	int found = 0;

	if (peer_is_loopback(sa))
		return 1;
	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL &&
		    (i->ifa_addr->sa_family == AF_INET ||
			i->ifa_addr->sa_family == AF_INET6))
			found = peer_same_addr(sa, i->ifa_addr);
	freeifaddrs(ifs);
	return found;
}

/*
 * Would a delivery to sa reach listening address l?  The same address
 * and port; or l listens on every address of its family (IPv6 sockets
 * are IPv6-only) and sa is one of this host's.
 */
static int
listen_reaches(const struct sockaddr *sa, const struct sockaddr *l)
{
	if (peer_same(sa, l))
		return 1;
	if (!peer_is_any(l) || peer_port(sa) != peer_port(l) ||
	    sa->sa_family != l->sa_family)
		return 0;
	return listen_is_local(sa);
}

int
listen_check_loop(const struct config *cfg, const struct listen_addrs *la,
    struct err *e)
{
	const struct config_server *srv = config_server(cfg);
	const char *sect = srv == &cfg->local ? "local" : "remote";
	struct addrinfo hints, *res, *ai;
	char text[PEER_TEXT_MAX];
	size_t h, i;

	for (h = 0; h < srv->nhosts; h++) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		/* A name that does not resolve now cannot be compared; its
		 * delivery fails on its own and says so. */
		if (getaddrinfo(srv->hosts[h].host, srv->hosts[h].port, &hints,
			&res) != 0)
			continue;
		for (ai = res; ai != NULL; ai = ai->ai_next)
			for (i = 0; i < la->n; i++) {
				if (!listen_reaches(ai->ai_addr,
					(const struct sockaddr *)&la->sa[i]))
					continue;
				peer_format(ai->ai_addr, text, sizeof(text));
				freeaddrinfo(res);
				return err_set(e, ERR_CONFIG,
				    "%s: mail loop: [%s] host %s:%s (%s) is "
				    "[listen] address %s, so postern would "
				    "deliver to itself",
				    cfg->path, sect, srv->hosts[h].host,
				    srv->hosts[h].port, text, la->text[i]);
			}
		freeaddrinfo(res);
	}
	return 0;
}

/* One listening socket for la->sa[i]. */
static int
listen_bind_one(struct listen_addrs *la, size_t i, struct err *e)
{
	int fd, on = 1, saved;

	fd = socket(la->sa[i].ss_family, SOCK_STREAM, 0);
	if (fd == -1)
		return err_sys(e, ERR_OS, "cannot listen on %s", la->text[i]);
	la->fd[i] = fd;
	/* A restart must not wait for the old sessions' TIME_WAIT; IPv6
	 * sockets take IPv6 only, so [::] and 0.0.0.0 can both be named. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (la->sa[i].ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) ==
		    -1) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		return err_sys(e, ERR_OS, "cannot listen on %s", la->text[i]);
	if (bind(fd, (struct sockaddr *)&la->sa[i], la->len[i]) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		saved = errno;
		return err_set(e, ERR_OS, "cannot listen on %s: %s%s",
		    la->text[i], strerror(saved),
		    saved == EACCES ? " (a port below 1024 needs root or "
				      "CAP_NET_BIND_SERVICE)"
				    : "");
	}
	return 0;
}

int
listen_bind(struct listen_addrs *la, struct err *e)
{
	size_t i;

	for (i = 0; i < la->n; i++)
		if (listen_bind_one(la, i, e) == -1)
			return -1;
	return 0;
}

void
listen_addrs_free(struct listen_addrs *la)
{
	size_t i;

	for (i = 0; i < la->n; i++)
		if (la->fd[i] >= 0) {
			close(la->fd[i]);
			la->fd[i] = -1;
		}
}
