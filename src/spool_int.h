/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * spool_int.h: what spool.c (files and directories) and spool_env.c (their
 * text) share.  Not for other modules.
 */
#ifndef POSTERN_SPOOL_INT_H
#define POSTERN_SPOOL_INT_H

#include <stddef.h>
#include <sys/types.h>

struct buf;
struct err;
struct spool_env;

struct spool_rd {
	int fd;
	char buf[8192];
	size_t pos, len;
	off_t off; /* bytes consumed */
	const char *bad; /* why the last line failed */
};

void spool_rd_init(struct spool_rd *, int fd);
int spool_rd_line(struct spool_rd *, char *line, size_t cap);
/* The queue file's envelope; *size_at: where the size digits start. */
int spool_env_format(const struct spool_env *, struct buf *, size_t *size_at);
int spool_state_format(const struct spool_env *, struct buf *);
/* ERR_DATA when the text is not a well-formed envelope or state. */
int spool_env_parse(struct spool_rd *, struct spool_env *, struct err *);
int spool_state_parse(struct spool_rd *, struct spool_env *, struct err *);

#endif
