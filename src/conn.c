/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * conn.c: the buffered transport to one SMTP server.
 *
 * The socket is non-blocking from the start and every wait goes through
 * poll() with the configured timeout, so no server, however silent or
 * slow, can hold postern longer than it was told.  Output collects in a
 * CONN_WBUF buffer and leaves in one send() per flush (the pipelined
 * commands) or per CONN_WBUF bytes (the body); with TCP_NODELAY set this
 * avoids both the per-line system calls and the Nagle/delayed-ACK stall.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "postern/buf.h"
#include "postern/conn.h"
#include "postern/err.h"
#include "postern/fdio.h"
#include "postern/tls.h"

struct conn {
	int fd;
	int timeout; /* seconds */
	const struct conn_io *io;
	void *ctx; /* io's state; NULL: plain */
	struct tls *tls; /* == ctx once TLS is on */
	const char *label; /* for timeout messages */
	char *host;
	struct buf *mem; /* conn_open_mem: where the output goes */
	int mem_full; /* ... and it did not fit */
	char peer[CONN_PEER_MAX];
	size_t rpos, rlen; /* unread input: rbuf[rpos..rlen) */
	size_t wlen;
	char rbuf[CONN_RBUF];
	char wbuf[CONN_WBUF];
};

static ssize_t
plain_read(void *ctx, int fd, void *p, size_t n, struct err *err)
{
	ssize_t r;

	while ((r = recv(fd, p, n, 0)) == -1 && errno == EINTR)
		;
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return CONN_IO_WANT_READ;
	return err_set(err, ERR_TEMP, "%s", strerror(errno));
}

static ssize_t
plain_write(void *ctx, int fd, const void *p, size_t n, struct err *err)
{
	ssize_t r;

	/* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
	while ((r = send(fd, p, n, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return CONN_IO_WANT_WRITE;
	return err_set(err, ERR_TEMP, "%s", strerror(errno));
}

static const struct conn_io plain_io = { plain_read, plain_write, NULL, NULL };

/*
 * Before waiting for a reply: acknowledge what arrived at once instead of
 * delaying the ACK.  A server that writes a reply in two small segments
 * with Nagle on (Postfix sending TLS 1.3 session tickets, then the EHLO
 * reply) holds the second until the first is acknowledged: 40 ms lost
 * to the delayed ACK.  Linux sends a pending ACK when TCP_QUICKACK is
 * set; elsewhere this is a no-op.
 */
static void
conn_ack_now(int fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

/* Wait for want before deadline; "what" names the wait in the message. */
static int
conn_wait_until(struct conn *c, int want, long long deadline, const char *what,
    struct err *err)
{
	short ev = want == CONN_IO_WANT_WRITE ? POLLOUT : POLLIN;
	int r;

	if (ev == POLLIN)
		conn_ack_now(c->fd);
	if ((r = fdio_wait(c->fd, ev, deadline)) == 1)
		return 0;
	if (r == -1)
		return err_sys(err, ERR_TEMP, "poll on %s", c->peer);
	return err_set(err, ERR_TEMP, "timeout after %d s %s %s", c->timeout,
	    what, c->peer);
}

int
conn_wait(struct conn *c, int want, struct err *err)
{
	return conn_wait_until(c, want, fdio_now_ms() + c->timeout * 1000LL,
	    "waiting for the TLS handshake with", err);
}

/* Non-blocking connect to one address within timeout seconds. */
static int
connect_one(const struct addrinfo *ai, int timeout, int *fdp, int *cause)
{
	int fd, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		*cause = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS && errno != EINTR) {
		*cause = errno;
		goto fail;
	}
	switch (fdio_wait(fd, POLLOUT, fdio_now_ms() + timeout * 1000LL)) {
	case 0:
		*cause = ETIMEDOUT;
		goto fail;
	case -1:
		*cause = errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		soerr = errno;
	if (soerr != 0) {
		*cause = soerr;
		goto fail;
	}
done:
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* "name[address]:port" from the connected socket. */
static void
conn_set_peer(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[NI_MAXHOST], port[NI_MAXSERV];

	if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof(addr), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(c->peer, sizeof(c->peer), "%s", c->host);
		return;
	}
	/* The name is cut at NI_MAXHOST, so CONN_PEER_MAX always fits. */
	snprintf(c->peer, sizeof(c->peer), "%.*s[%s]:%s", NI_MAXHOST, c->host,
	    addr, port);
}

int
conn_open(struct conn **cp, const char *host, const char *port, int timeout,
    struct err *err)
{
	struct addrinfo hints, *res, *ai;
	struct conn *c;
	int r, fd = -1, cause = 0, one = 1;

	*cp = NULL;
	if (timeout <= 0)
		timeout = 60;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_set(err, ERR_TEMP,
		    "cannot connect to %s port %s: %s", host, port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (connect_one(ai, timeout, &fd, &cause) == 0)
			break;
	freeaddrinfo(res);
	if (fd == -1) {
		if (cause == ETIMEDOUT)
			return err_set(err, ERR_TEMP,
			    "cannot connect to %s port %s: timeout after %d s",
			    host, port, timeout);
		errno = cause;
		return err_sys(err, ERR_TEMP, "cannot connect to %s port %s",
		    host, port);
	}
	/* We buffer ourselves; Nagle would only delay the pipelined batch. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->host = strdup(host)) == NULL) {
		free(c);
		close(fd);
		return err_sys(err, ERR_OS, "cannot allocate a connection");
	}
	c->fd = fd;
	c->timeout = timeout;
	c->io = &plain_io;
	c->label = "a reply";
	conn_set_peer(c);
	*cp = c;
	return 0;
}

/* The memory transport: output appended to c->mem, within its cap. */
static ssize_t
mem_write(void *ctx, int fd, const void *p, size_t n, struct err *err)
{
	struct conn *c = ctx;

	if (buf_add(c->mem, p, n) == -1) {
		c->mem_full = 1;
		return err_set(err, ERR_SOFTWARE,
		    "message data larger than %zu octets in memory",
		    c->mem->max);
	}
	return (ssize_t)n;
}

static ssize_t
mem_read(void *ctx, int fd, void *p, size_t n, struct err *err)
{
	return 0; /* nobody ever answers */
}

static const struct conn_io mem_io = { mem_read, mem_write, NULL, NULL };

int
conn_open_mem(struct conn **cp, struct buf *out, struct err *err)
{
	struct conn *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->host = strdup("memory")) == NULL) {
		free(c);
		return err_sys(err, ERR_OS, "cannot allocate a connection");
	}
	c->fd = -1;
	c->timeout = 60;
	c->io = &mem_io;
	c->ctx = c;
	c->mem = out;
	c->label = "a reply";
	snprintf(c->peer, sizeof(c->peer), "memory");
	*cp = c;
	return 0;
}

int
conn_mem_full(const struct conn *c)
{
	return c->mem_full;
}

/* "<verb> PEER: <the transport's cause>"; the cause is in err already. */
static int
conn_cause(struct conn *c, struct err *err, const char *verb)
{
	char cause[ERR_TEXT_MAX];

	snprintf(cause, sizeof(cause), "%s", err->text);
	return err_set(err, ERR_TEMP, "%s %s: %s", verb, c->peer, cause);
}

int
conn_flush(struct conn *c, struct err *err)
{
	long long deadline = fdio_now_ms() + c->timeout * 1000LL;
	size_t off = 0;
	ssize_t r;

	while (off < c->wlen) {
		r = c->io->write(c->ctx, c->fd, c->wbuf + off, c->wlen - off,
		    err);
		if (r > 0) {
			off += (size_t)r;
			/* the timeout bounds a wait without progress */
			deadline = fdio_now_ms() + c->timeout * 1000LL;
			continue;
		}
		if (r == CONN_IO_WANT_READ || r == CONN_IO_WANT_WRITE) {
			if (conn_wait_until(c, (int)r, deadline,
				"waiting to send to", err) == -1)
				return -1;
			continue;
		}
		if (r == 0)
			return err_set(err, ERR_TEMP, "connection closed by %s",
			    c->peer);
		return conn_cause(c, err, "cannot send to");
	}
	c->wlen = 0;
	return 0;
}

int
conn_write(struct conn *c, const void *p, size_t n, struct err *err)
{
	const char *s = p;
	size_t k;

	while (n > 0) {
		if (c->wlen == sizeof(c->wbuf) && conn_flush(c, err) == -1)
			return -1;
		k = sizeof(c->wbuf) - c->wlen;
		if (k > n)
			k = n;
		memcpy(c->wbuf + c->wlen, s, k);
		c->wlen += k;
		s += k;
		n -= k;
	}
	return 0;
}

int
conn_puts(struct conn *c, const char *s, struct err *err)
{
	return conn_write(c, s, strlen(s), err);
}

/* Read more input into rbuf (compacting it first), waiting until deadline. */
static int
conn_fill(struct conn *c, long long deadline, struct err *err)
{
	char what[128];
	ssize_t r;

	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		r = c->io->read(c->ctx, c->fd, c->rbuf + c->rlen,
		    sizeof(c->rbuf) - c->rlen, err);
		if (r > 0) {
			c->rlen += (size_t)r;
			return 0;
		}
		if (r == 0)
			return err_set(err, ERR_TEMP, "connection closed by %s",
			    c->peer);
		if (r != CONN_IO_WANT_READ && r != CONN_IO_WANT_WRITE)
			return conn_cause(c, err, "cannot read from");
		snprintf(what, sizeof(what), "waiting for %s from", c->label);
		if (conn_wait_until(c, (int)r, deadline, what, err) == -1)
			return -1;
	}
}

int
conn_getline(struct conn *c, char *line, size_t cap, size_t *len,
    struct err *err)
{
	/* One deadline per line: a server trickling bytes cannot stall us. */
	return conn_getline_until(c, line, cap, len,
	    fdio_now_ms() + c->timeout * 1000LL, err);
}

int
conn_getline_until(struct conn *c, char *line, size_t cap, size_t *len,
    long long deadline, struct err *err)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
		if (nl != NULL)
			break;
		/* cap - 1 octets of text plus a CR may still end well */
		if (c->rlen - c->rpos > cap ||
		    (c->rpos == 0 && c->rlen == sizeof(c->rbuf)))
			return err_set(err, ERR_TEMP,
			    "line from %s longer than %zu octets", c->peer,
			    cap - 1);
		if (conn_fill(c, deadline, err) == -1)
			return -1;
	}
	n = (size_t)(nl - (c->rbuf + c->rpos));
	if (n > 0 && nl[-1] == '\r')
		n--;
	if (n >= cap)
		return err_set(err, ERR_TEMP,
		    "line from %s longer than %zu octets", c->peer, cap - 1);
	memcpy(line, c->rbuf + c->rpos, n);
	line[n] = '\0';
	*len = n;
	c->rpos = (size_t)(nl - c->rbuf) + 1;
	return 0;
}

size_t
conn_pending(const struct conn *c)
{
	size_t n = c->rlen - c->rpos;

	if (c->io->pending != NULL)
		n += c->io->pending(c->ctx);
	return n;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

const char *
conn_host(const struct conn *c)
{
	return c->host;
}

int
conn_fd(const struct conn *c)
{
	return c->fd;
}

int
conn_timeout(const struct conn *c)
{
	return c->timeout;
}

void
conn_set_label(struct conn *c, const char *what)
{
	c->label = what;
}

void
conn_set_io(struct conn *c, const struct conn_io *io, void *ctx)
{
	if (c->io->close != NULL)
		c->io->close(c->ctx);
	c->io = io;
	c->ctx = ctx;
	c->rpos = c->rlen = 0;
}

_Static_assert(TLS_WANT_READ == CONN_IO_WANT_READ &&
	TLS_WANT_WRITE == CONN_IO_WANT_WRITE,
    "tls.c's want codes must be conn.c's");

static const struct conn_io tls_io = { tls_io_read, tls_io_write,
	tls_io_pending, tls_io_close };

int
conn_starttls(struct conn *c, const struct tls_opts *o, struct err *err)
{
	struct tls_opts opts = *o;
	struct tls *t;

	if (c->tls != NULL)
		return err_set(err, ERR_SOFTWARE, "TLS is already on with %s",
		    c->peer);
	if (opts.timeout <= 0)
		opts.timeout = c->timeout;
	if (conn_flush(c, err) == -1 || tls_start(&t, c->fd, &opts, err) == -1)
		return -1;
	conn_set_io(c, &tls_io, t);
	c->tls = t;
	return 0;
}

void
conn_wipe_output(struct conn *c)
{
	explicit_bzero(c->wbuf + c->wlen, sizeof(c->wbuf) - c->wlen);
}

struct tls *
conn_tls(const struct conn *c)
{
	return c->tls;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->io->close != NULL)
		c->io->close(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->host);
	/* The buffers may have carried AUTH exchanges. */
	explicit_bzero(c, sizeof(*c));
	free(c);
}
