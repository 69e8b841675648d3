/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * buf.h: growable byte buffers with a hard cap.
 *
 * Every buffer is created with a maximum size; an append that would pass it
 * fails with errno E2BIG and leaves the buffer unchanged, so no peer or
 * input can make postern allocate without bound.  data is always
 * NUL-terminated after len bytes (when data is not NULL).
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;	/* allocated, excluding the terminating NUL */
	size_t	 max;	/* hard limit on len */
};

void	 buf_init(struct buf *, size_t max);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_adds(struct buf *, const char *);
int	 buf_addc(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" for an empty buffer). */
const char *buf_str(const struct buf *);
/* Hand the allocation to the caller (NUL-terminated); the buffer is reset. */
char	*buf_detach(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
/* Zero the contents before freeing: for buffers that held a secret. */
void	 buf_wipe(struct buf *);

#endif
