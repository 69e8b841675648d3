/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fdio.h: small file-descriptor helpers: whole writes to local files (the
 * body file, the spool), and the bounded wait that conn.c and tls.c use
 * for every read and write on a peer.
 */
#ifndef POSTERN_FDIO_H
#define POSTERN_FDIO_H

#include <stddef.h>

/* Write all n bytes; 0, or -1 with errno. */
int fdio_write_all(int fd, const void *p, size_t n);
/* Milliseconds on the monotonic clock, for deadlines. */
long long fdio_now_ms(void);
/*
 * poll() fd for events (POLLIN or POLLOUT) until deadline (fdio_now_ms()
 * time).  1 when ready, 0 at the deadline, -1 on error (errno set).
 */
int fdio_wait(int fd, short events, long long deadline);

#endif
