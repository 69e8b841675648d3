/*
 * fdio.h: whole writes to local files (the body file, the spool).  Peers
 * go through conn.h, which bounds every wait; local files need no
 * timeout, only a loop over short writes and EINTR.
 */
#ifndef POSTERN_FDIO_H
#define POSTERN_FDIO_H

#include <stddef.h>

/* Write all n bytes; 0, or -1 with errno. */
int fdio_write_all(int fd, const void *p, size_t n);

#endif
