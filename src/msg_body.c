/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg_body.c: the second pass over the body file, taken only when a body
 * line is longer than MSG_LINE_MAX octets.  It reads the wire-form body
 * (CRLF lines, dot-stuffed), undoes the stuffing and writes a new body file
 * either as quoted-printable (RFC 2045) or with the long lines folded.
 * The first pass wrote a CR only before an LF, so a CR is skipped here and
 * the LF alone marks the line end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern/err.h"
#include "postern/msg.h"
#include "postern/fdio.h"
#include "msg_int.h"

#define QP_LINE 75 /* encoded octets before the soft break's "=" */

struct pass {
	int fd;
	char *obuf;
	size_t olen;
	off_t total;
	size_t col; /* octets on the current output line */
	int pend; /* QP: a space or tab not yet known to be trailing */
};

static int
put(struct pass *p, const char *s, size_t n)
{
	if (n > MSG_CHUNK - p->olen) {
		if (fdio_write_all(p->fd, p->obuf, p->olen) == -1)
			return -1;
		p->olen = 0;
	}
	memcpy(p->obuf + p->olen, s, n);
	p->olen += n;
	p->total += (off_t)n;
	return 0;
}

/* put() for one octet: the common case, kept cheap. */
static inline int
put1(struct pass *p, char c)
{
	if (p->olen == MSG_CHUNK) {
		if (fdio_write_all(p->fd, p->obuf, p->olen) == -1)
			return -1;
		p->olen = 0;
	}
	p->obuf[p->olen++] = c;
	p->total++;
	return 0;
}

/* One QP token (a literal octet or "=XY"), after a soft break if full. */
static int
qp_token(struct pass *p, const char *s, size_t n)
{
	if (p->col + n > QP_LINE) {
		if (put(p, "=\r\n", 3) == -1)
			return -1;
		p->col = 0;
	}
	p->col += n;
	return n == 1 ? put1(p, *s) : put(p, s, n);
}

static int
qp_escape(struct pass *p, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[3];

	t[0] = '=';
	t[1] = hex[c >> 4];
	t[2] = hex[c & 15];
	return qp_token(p, t, 3);
}

/*
 * Literal: printable ASCII but "="; a "." that would start an output line
 * is escaped, so the encoded body never needs dot-stuffing.  A space or
 * tab waits: it is escaped only when it turns out to end the line.
 */
static int
qp_byte(struct pass *p, unsigned char c)
{
	char s = (char)c;

	if (p->pend >= 0) {
		s = (char)p->pend;
		p->pend = -1;
		if (qp_token(p, &s, 1) == -1)
			return -1;
		s = (char)c;
	}
	if (c == ' ' || c == '\t') {
		p->pend = c;
		return 0;
	}
	if (c < 33 || c > 126 || c == '=' ||
	    (c == '.' && (p->col == 0 || p->col + 1 > QP_LINE)))
		return qp_escape(p, c);
	return qp_token(p, &s, 1);
}

static int
qp_eol(struct pass *p)
{
	if (p->pend >= 0) {
		if (qp_escape(p, (unsigned char)p->pend) == -1)
			return -1;
		p->pend = -1;
	}
	p->col = 0;
	return put(p, "\r\n", 2);
}

/* Fold: a line break every MSG_LINE_MAX octets, re-stuffing new lines. */
static int
fold_byte(struct pass *p, unsigned char c)
{
	char s = (char)c;

	if (p->col >= MSG_LINE_MAX) {
		if (put(p, "\r\n", 2) == -1)
			return -1;
		p->col = 0;
	}
	if (p->col == 0 && c == '.') {
		if (put(p, ".", 1) == -1)
			return -1;
		p->col++;
	}
	p->col++;
	return put1(p, s);
}

static int
fold_eol(struct pass *p)
{
	p->col = 0;
	return put(p, "\r\n", 2);
}

static int
run_chunk(struct pass *p, const unsigned char *s, size_t n, int *bol, int qp)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n') {
			r = qp ? qp_eol(p) : fold_eol(p);
			*bol = 1;
		} else if (*bol && s[i] == '.') {
			*bol = 0; /* the stuffing dot */
			r = 0;
		} else {
			*bol = 0;
			r = qp ? qp_byte(p, s[i]) : fold_byte(p, s[i]);
		}
		if (r == -1)
			return -1;
	}
	return 0;
}

static int
run(int in, off_t len, int out, off_t *outlen, int qp, struct err *e)
{
	struct pass p;
	unsigned char *ibuf;
	off_t off = 0;
	ssize_t r = 0;
	int bol = 1, rc = -1;

	memset(&p, 0, sizeof(p));
	p.fd = out;
	p.pend = -1;
	ibuf = malloc(MSG_CHUNK);
	p.obuf = malloc(MSG_CHUNK);
	if (ibuf == NULL || p.obuf == NULL) {
		err_sys(e, ERR_OS, "cannot re-encode the body");
		goto done;
	}
	while (off < len) {
		r = pread(in, ibuf, MSG_CHUNK, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (run_chunk(&p, ibuf, (size_t)r, &bol, qp) == -1)
			break;
		off += r;
	}
	if (off < len ||
	    (p.olen > 0 && fdio_write_all(out, p.obuf, p.olen) == -1)) {
		if (r == 0)
			errno = EIO; /* the file got shorter */
		err_sys(e, ERR_OS, "cannot re-encode the body");
		goto done;
	}
	*outlen = p.total;
	rc = 0;
done:
	free(ibuf);
	free(p.obuf);
	return rc;
}

int
msg_body_qp(int in, off_t len, int out, off_t *outlen, struct err *e)
{
	return run(in, len, out, outlen, 1, e);
}

int
msg_body_fold(int in, off_t len, int out, off_t *outlen, struct err *e)
{
	return run(in, len, out, outlen, 0, e);
}
