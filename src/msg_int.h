/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg_int.h: what msg.c, msg_in.c, msg_hdr.c and msg_body.c share.  Not a
 * public interface: other modules use include/postern/msg.h only.
 */
#ifndef POSTERN_MSG_INT_H
#define POSTERN_MSG_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "postern/buf.h"

struct err;
struct msg;
struct msg_opts;

#define MSG_CHUNK 65536 /* read and write size */

/*
 * One header field: "Name: value" with continuation lines joined by a
 * single "\n" (no CR, no final newline).  text == NULL: removed.
 */
struct msg_hdr {
	char *text;
	size_t len;
	size_t namelen;
};

struct msg_hdrs {
	struct msg_hdr *v;
	size_t n;
	size_t cap;
};

/* msg_in.c: the streaming reader, first pass. */
struct msg_in_result {
	struct buf raw; /* header lines, each ending "\n" */
	size_t maxline; /* longest body line, wire octets */
	int body8; /* a body octet >= 0x80 */
	off_t body_len;
};
int msg_in_read(int fd, int ignore_dots, int body_fd, struct msg_in_result *,
    struct err *);

/* msg_hdr.c: the header fields. */
int msg_hdrs_parse(struct msg_hdrs *, const char *, size_t, struct err *);
int msg_hdr_is(const struct msg_hdr *, const char *name);
struct msg_hdr *msg_hdrs_find(struct msg_hdrs *, const char *name);
/* The value after the colon, and its length. */
const char *msg_hdr_value(const struct msg_hdr *, size_t *);
int msg_hdr_set(struct msg_hdr *, const char *name, const char *value,
    size_t vlen);
int msg_hdrs_add(struct msg_hdrs *, const char *name, const char *value,
    size_t vlen);
void msg_hdrs_del(struct msg_hdrs *, const char *name);
/* The wire form: CRLF lines, folded at 998, then the empty line. */
int msg_hdrs_wire(const struct msg_hdrs *, struct buf *, int *folded);
void msg_hdrs_free(struct msg_hdrs *);
/* "Name <spec>", with the name quoted or RFC 2047 encoded as needed. */
int msg_hdr_mailbox(struct buf *, const char *name, const char *spec);
int msg_hdr_date(struct buf *);
int msg_hdr_msgid(struct buf *, const char *domain);

/* msg_addr.c: addresses in headers, the envelope, the sender policy. */
int msg_addr_apply(struct msg *, struct msg_hdrs *, const struct msg_opts *,
    struct err *);

/* msg_body.c: the second pass for lines over MSG_LINE_MAX. */
int msg_body_qp(int in, off_t len, int out, off_t *outlen, struct err *);
int msg_body_fold(int in, off_t len, int out, off_t *outlen, struct err *);

#endif
