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

struct err;
struct conn;

#define CONN_WBUF	 65536	/* output buffer */
#define CONN_RBUF	 8192	/* input buffer */

/*
 * Connect to host:port, trying every address getaddrinfo returns (IPv6 and
 * IPv4) in turn within the timeout each.  ERR_TEMP on failure, naming the
 * host and the last cause.
 */
int	 conn_open(struct conn **, const char *host, const char *port,
	    int timeout, struct err *);
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
/* Bytes already received and not yet returned by conn_getline. */
size_t	 conn_pending(const struct conn *);
/* "name[address]:port" of the peer, for logs and errors. */
const char *conn_peer(const struct conn *);
void	 conn_close(struct conn *);

#endif
