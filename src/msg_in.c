/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg_in.c: the first pass over the caller's input.
 *
 * The input is read in MSG_CHUNK blocks and cut into line fragments with
 * memchr; a line is never held whole in memory except in the header block,
 * which has a cap.  Line ends may be LF, CRLF or a bare CR (which ends a
 * line too: old Mac text and progress output keep their line structure,
 * and no bare CR reaches the wire).  Body lines go to the body file in
 * wire form (CRLF, dot-stuffed) through a MSG_CHUNK output buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern/err.h"
#include "postern/msg.h"
#include "postern/fdio.h"
#include "msg_int.h"

enum { IN_HEAD, IN_BODY, IN_DONE };
enum { CLS_UNKNOWN, CLS_HEADER, CLS_BODY, CLS_SKIP };

struct in {
	int ignore_dots;
	int state;
	struct msg_in_result *res;

	/* splitter */
	int pending_cr; /* CR at the end of a chunk */
	int midline; /* part of a line was passed */
	int chunk_nul; /* this chunk holds a NUL */
	int chunk8; /* this chunk holds an octet >= 0x80 */
	unsigned long lineno; /* completed input lines */

	/* header phase */
	struct buf cur; /* the current line */
	int cls;
	int first; /* on the first input line */
	size_t nhdr; /* header lines so far */

	/* body phase */
	int bol;
	int held_dot; /* a line began with a lone "." */
	size_t linelen; /* wire octets, current line */
	int fd;
	char *obuf;
	size_t olen;
};

static int
out_flush(struct in *st, struct err *e)
{
	if (st->olen > 0 && fdio_write_all(st->fd, st->obuf, st->olen) == -1)
		return err_sys(e, ERR_OS, "cannot write the temporary file");
	st->res->body_len += (off_t)st->olen;
	st->olen = 0;
	return 0;
}

static int
out(struct in *st, const char *p, size_t n, struct err *e)
{
	if (n > MSG_CHUNK - st->olen) {
		if (out_flush(st, e) == -1)
			return -1;
		if (n >= MSG_CHUNK) {
			if (fdio_write_all(st->fd, p, n) == -1)
				return err_sys(e, ERR_OS,
				    "cannot write the temporary file");
			st->res->body_len += (off_t)n;
			return 0;
		}
	}
	memcpy(st->obuf + st->olen, p, n);
	st->olen += n;
	return 0;
}

/* 1 when some octet is >= 0x80; eight octets at a time. */
static int
has_8bit(const char *p, size_t n)
{
	uint64_t acc = 0, w;
	unsigned char tail = 0;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		tail |= (unsigned char)p[i];
	return (acc & 0x8080808080808080ULL) != 0 || (tail & 0x80) != 0;
}

/*
 * One fragment of a body line (eol: it completes the line).  A lone "."
 * ends the input unless -i; any other line starting with "." gets a second
 * one.  A "." alone in a fragment is held until the next fragment shows
 * whether the line goes on.
 */
static int
body_frag(struct in *st, const char *p, size_t n, int eol, struct err *e)
{
	if (n == 0 && !eol)
		return 0;
	if (st->held_dot) {
		st->held_dot = 0;
		if (n == 0) {
			st->state = IN_DONE;
			return 0;
		}
		if (out(st, "..", 2, e) == -1)
			return -1;
		st->linelen = 2;
		st->bol = 0;
	}
	if (st->bol && n > 0 && p[0] == '.') {
		if (!st->ignore_dots && n == 1) {
			if (eol)
				st->state = IN_DONE;
			else
				st->held_dot = 1;
			return 0;
		}
		if (out(st, ".", 1, e) == -1)
			return -1;
		st->linelen++;
	}
	if (n > 0) {
		if (out(st, p, n, e) == -1)
			return -1;
		st->linelen += n;
		st->bol = 0;
		if (st->chunk8 && !st->res->body8 && has_8bit(p, n))
			st->res->body8 = 1;
	}
	if (eol) {
		if (out(st, "\r\n", 2, e) == -1)
			return -1;
		if (st->linelen > st->res->maxline)
			st->res->maxline = st->linelen;
		st->linelen = 0;
		st->bol = 1;
	}
	return 0;
}

/*
 * Classify the header-phase line from the octets just arrived: a field
 * is "Name:" with a name of printable ASCII without spaces; a line starting
 * with space or tab continues the previous field; a line starting with "."
 * or anything else is body.  A name longer than a wire line is body too,
 * which bounds what is held before deciding.
 */
static void
classify(struct in *st, const char *p, size_t n, int eol)
{
	size_t i, pos;
	unsigned char c;

	for (i = 0; i < n && st->cls == CLS_UNKNOWN; i++) {
		pos = st->cur.len + i;
		c = (unsigned char)p[i];
		if (pos == 0 && (c == ' ' || c == '\t'))
			st->cls = st->nhdr > 0 ? CLS_HEADER : CLS_BODY;
		else if (pos == 0 && (c == '.' || c == ':'))
			st->cls = CLS_BODY;
		else if (c == ':')
			st->cls = CLS_HEADER;
		else if (c < 0x21 || c > 0x7e || pos >= MSG_LINE_MAX)
			st->cls = CLS_BODY;
	}
	if (st->cls == CLS_UNKNOWN && eol)
		st->cls = CLS_BODY;
}

/* The first 5 octets of the line (cur, then p) are "From ". */
static int
is_mbox_from(const struct in *st, const char *p, size_t n)
{
	char b[5];
	size_t k = 0, i;

	for (i = 0; i < st->cur.len && k < 5; i++)
		b[k++] = st->cur.data[i];
	for (i = 0; i < n && k < 5; i++)
		b[k++] = p[i];
	return k == 5 && memcmp(b, "From ", 5) == 0;
}

/* The header phase ends on this line; it and the rest are body. */
static int
head_to_body(struct in *st, const char *p, size_t n, int eol, struct err *e)
{
	int r = 0;

	st->state = IN_BODY;
	if (st->cur.len == 0 && n == 0 && eol) /* the empty separator */
		return 0;
	if (st->cur.len > 0)
		r = body_frag(st, st->cur.data, st->cur.len, 0, e);
	if (r == 0)
		r = body_frag(st, p, n, eol, e);
	buf_free(&st->cur);
	return r;
}

static int
head_frag(struct in *st, const char *p, size_t n, int eol, struct err *e)
{
	struct buf *raw = &st->res->raw;

	if (st->cls == CLS_UNKNOWN)
		classify(st, p, n, eol);
	if (st->cls == CLS_BODY && st->first && is_mbox_from(st, p, n))
		st->cls = CLS_SKIP;
	if (st->cls == CLS_BODY)
		return head_to_body(st, p, n, eol, e);
	if (st->cls != CLS_SKIP && n > 0) {
		if (n > MSG_HEADER_MAX - raw->len - st->cur.len ||
		    buf_add(&st->cur, p, n) == -1)
			return err_set(e, ERR_DATA,
			    "the header block is longer than %d octets",
			    MSG_HEADER_MAX);
	}
	if (!eol)
		return 0;
	if (st->cls == CLS_HEADER) {
		if (buf_add(raw, st->cur.data, st->cur.len) == -1 ||
		    buf_addc(raw, '\n') == -1)
			return err_set(e, ERR_DATA,
			    "the header block is longer than %d octets",
			    MSG_HEADER_MAX);
		st->nhdr++;
	}
	buf_reset(&st->cur);
	st->cls = CLS_UNKNOWN;
	st->first = 0;
	return 0;
}

/* One fragment of an input line, with its line end removed. */
static int
frag(struct in *st, const char *p, size_t n, int eol, struct err *e)
{
	int r = 0;

	if (st->chunk_nul && n > 0 && memchr(p, '\0', n) != NULL)
		return err_set(e, ERR_DATA,
		    "message contains a NUL byte (line %lu)", st->lineno + 1);
	if (st->state == IN_HEAD)
		r = head_frag(st, p, n, eol, e);
	else if (st->state == IN_BODY)
		r = body_frag(st, p, n, eol, e);
	if (eol) {
		st->lineno++;
		st->midline = 0;
	} else if (n > 0) {
		st->midline = 1;
	}
	return r;
}

/* Cut [p, p + n) at LF, CRLF and bare CR; chunk_cr: it holds a CR. */
static int
chunk(struct in *st, const char *p, size_t n, struct err *e)
{
	const char *end = p + n, *nl, *se, *cr;
	int chunk_cr, last;

	st->chunk_nul = memchr(p, '\0', n) != NULL;
	st->chunk8 = !st->res->body8 && has_8bit(p, n);
	chunk_cr = memchr(p, '\r', n) != NULL;
	if (st->pending_cr) {
		st->pending_cr = 0;
		if (p < end && *p == '\n')
			p++;
		if (frag(st, NULL, 0, 1, e) == -1)
			return -1;
	}
	while (p < end && st->state != IN_DONE) {
		nl = memchr(p, '\n', (size_t)(end - p));
		se = nl ? nl : end;
		last = 0;
		while (chunk_cr && p < se &&
		    (cr = memchr(p, '\r', (size_t)(se - p))) != NULL) {
			last = cr + 1 == se;
			if (last && !nl)
				st->pending_cr = 1;
			if (frag(st, p, (size_t)(cr - p), !last || nl, e) == -1)
				return -1;
			p = cr + 1;
			if (last)
				break;
		}
		if (!last && frag(st, p, (size_t)(se - p), nl != NULL, e) == -1)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int
in_loop(int fd, struct in *st, char *ibuf, struct err *e)
{
	ssize_t r;

	while (st->state != IN_DONE) {
		r = read(fd, ibuf, MSG_CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return err_sys(e, ERR_IO, "cannot read the message");
		if (r == 0)
			break;
		if (chunk(st, ibuf, (size_t)r, e) == -1)
			return -1;
	}
	/* A last line without a line end is terminated. */
	if (st->state != IN_DONE && (st->pending_cr || st->midline)) {
		st->pending_cr = 0;
		if (frag(st, NULL, 0, 1, e) == -1)
			return -1;
	}
	return out_flush(st, e);
}

/*
 * Read fd to its end (or the lone dot): header lines into res->raw, the
 * body in wire form into body_fd.
 */
int
msg_in_read(int fd, int ignore_dots, int body_fd, struct msg_in_result *res,
    struct err *e)
{
	struct in st;
	char *ibuf;
	int r;

	memset(&st, 0, sizeof(st));
	st.ignore_dots = ignore_dots;
	st.state = IN_HEAD;
	st.res = res;
	st.first = 1;
	st.bol = 1;
	st.fd = body_fd;
	buf_init(&st.cur, MSG_HEADER_MAX);
	buf_init(&res->raw, MSG_HEADER_MAX);
	res->maxline = 0;
	res->body8 = 0;
	res->body_len = 0;
	ibuf = malloc(MSG_CHUNK);
	st.obuf = malloc(MSG_CHUNK);
	if (ibuf == NULL || st.obuf == NULL)
		r = err_sys(e, ERR_OS, "cannot read the message");
	else
		r = in_loop(fd, &st, ibuf, e);
	free(ibuf);
	free(st.obuf);
	buf_free(&st.cur);
	return r;
}
