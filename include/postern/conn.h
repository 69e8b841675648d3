/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * conn.h: the buffered transport to one SMTP server.
 *
 * Writes collect in a buffer and leave in large writes (on conn_flush, or
 * when the buffer fills); reads return one bounded line at a time.  Every
 * wait (connect, read, write) is bounded by the timeout given at open.  The
 * SMTP code talks only to this interface, never to a socket, so TLS can
 * slot in underneath it.
 */
#ifndef POSTERN_CONN_H
#define POSTERN_CONN_H

#include <stddef.h>
#include <sys/types.h>

struct err;
struct conn;

#define CONN_WBUF	 65536	/* output buffer */
#define CONN_RBUF	 8192	/* input buffer */
/* conn_peer(): name (cut at NI_MAXHOST) "[" address "]:" port, NUL */
#define CONN_PEER_MAX	 (1025 + 1 + 1025 + 2 + 32 + 1)

/*
 * Connect to host:port, trying every address getaddrinfo returns (IPv6 and
 * IPv4) in turn within the timeout each.  ERR_TEMP on failure, naming the
 * host and the last cause.
 */
int	 conn_open(struct conn **, const char *host, const char *port,
	    int timeout, struct err *);
/*
 * A connection with no peer: what is written collects in out, within
 * out's cap, when flushed (for a data callback rendering a message in
 * memory).  A write past the cap fails and conn_mem_full() says so.
 * Reading from it is EOF.  Close it with conn_close.
 */
struct buf;
int	 conn_open_mem(struct conn **, struct buf *out, struct err *);
int	 conn_mem_full(const struct conn *);
int	 conn_write(struct conn *, const void *, size_t, struct err *);
int	 conn_puts(struct conn *, const char *, struct err *);
int	 conn_flush(struct conn *, struct err *);
/*
 * Read one line into line (cap bytes), without its CRLF or LF, NUL
 * terminated, its length in *len.  A line that does not fit, EOF, a timeout
 * or an error: -1 with ERR_TEMP.
 */
int	 conn_getline(struct conn *, char *line, size_t cap, size_t *len,
	    struct err *);
/*
 * The same, waiting at most until deadline (fdio_now_ms() time) however
 * the bytes trickle in: a caller reading several lines as one unit (an
 * SMTP reply) bounds the whole unit with one deadline.
 */
int	 conn_getline_until(struct conn *, char *line, size_t cap,
	    size_t *len, long long deadline, struct err *);
/* Bytes already received and not yet returned by conn_getline. */
size_t	 conn_pending(const struct conn *);
/* "name[address]:port" of the peer, for logs and errors. */
const char *conn_peer(const struct conn *);
void	 conn_close(struct conn *);
/* Zero the send buffer past what is queued (after a secret went out). */
void	 conn_wipe_output(struct conn *);

/*
 * What a timeout message says we were waiting for ("the greeting", "the
 * reply to DATA"); a static string, default "a reply".
 */
void	 conn_set_label(struct conn *, const char *);
/* The host name as given to conn_open (for TLS name checks). */
const char *conn_host(const struct conn *);
int	 conn_fd(const struct conn *);
int	 conn_timeout(const struct conn *);

/*
 * The transport under the buffers: plain send/recv by default; tls.c
 * installs its own after the handshake (conn_set_io).  Both calls must
 * not block (the socket is non-blocking): they return the bytes moved,
 * 0 at EOF (read), CONN_IO_WANT_READ or CONN_IO_WANT_WRITE when conn.c
 * should poll for that and call again, or -1 with err filled.  pending:
 * bytes the transport holds already decoded (TLS records), may be NULL.
 * close: release ctx (the fd stays conn.c's), may be NULL.
 */
#define CONN_IO_WANT_READ	(-2)
#define CONN_IO_WANT_WRITE	(-3)
struct conn_io {
	ssize_t	(*read)(void *ctx, int fd, void *, size_t, struct err *);
	ssize_t	(*write)(void *ctx, int fd, const void *, size_t,
		    struct err *);
	size_t	(*pending)(void *ctx);
	void	(*close)(void *ctx);
};
/*
 * Replace the transport; input already buffered is discarded, as
 * RFC 3207 requires after STARTTLS (nothing read in clear text may be
 * taken as coming from the TLS peer).  Output must have been flushed.
 */
void	 conn_set_io(struct conn *, const struct conn_io *, void *ctx);
/*
 * TLS on this connection (RFC 3207 after "220", or at once for SMTPS):
 * flush, handshake (tls.h, within the timeout), then install the TLS
 * transport; anything read before it is discarded.  On failure the
 * connection is unusable: close it.  opts->timeout 0: the connection's.
 */
struct tls_opts;
int	 conn_starttls(struct conn *, const struct tls_opts *, struct err *);
/* The TLS session (tls.h), or NULL while the connection is plain. */
struct tls *conn_tls(const struct conn *);

/*
 * Wait (within the timeout) until the socket is ready for want
 * (CONN_IO_WANT_READ or CONN_IO_WANT_WRITE): for a TLS handshake.
 */
int	 conn_wait(struct conn *, int want, struct err *);

#endif
