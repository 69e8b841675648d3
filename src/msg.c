/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg.c: one message, from the caller's input to the wire.
 *
 * msg_read() runs the first pass (msg_in.c: lines, dots, header block,
 * body file), applies the address rules (msg_addr.c), adds what is
 * missing, takes the second pass over the body when a line is too long
 * (msg_body.c) and builds the final header block.  msg_emit() copies the
 * header block and the body file to the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/conn.h"
#include "postern/err.h"
#include "postern/msg.h"
#include "msg_int.h"

/* The header block may grow by what postern adds; this bounds it. */
#define HEAD_SLACK 65536

/* An unlinked temporary file in dir ($TMPDIR, else /tmp, when NULL). */
static int
tmp_open(const char *dir, struct err *e)
{
	char path[4096];
	int fd, n;

	if (dir == NULL || *dir == '\0')
		dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	n = snprintf(path, sizeof(path), "%s/postern.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, ERR_OS, "temporary directory name too long");
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		return err_sys(e, ERR_OS,
		    "cannot create a temporary file in %s", dir);
	if (unlink(path) == -1) {
		err_sys(e, ERR_OS, "cannot unlink %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The value without surrounding blanks and line breaks, malloc'd. */
static char *
trimmed(const struct msg_hdr *h)
{
	const char *v;
	size_t n;

	v = msg_hdr_value(h, &n);
	while (n > 0 && strchr(" \t\n", v[0]) != NULL) {
		v++;
		n--;
	}
	while (n > 0 && strchr(" \t\n", v[n - 1]) != NULL)
		n--;
	return strndup(v, n);
}

/*
 * A message that carries a Resent- block is being resent: RFC 5322 3.6.6
 * wants Resent-Date and Resent-From in the block (and Resent-Message-ID
 * is customary), as Postfix's sendmail adds them.
 */
static int
add_resent(struct msg *m, struct msg_hdrs *hs, const struct msg_opts *o)
{
	struct buf b;
	size_t i;
	int any = 0, r = 0;

	for (i = 0; i < hs->n && !any; i++) /* removed fields are NULL */
		any = hs->v[i].text != NULL && hs->v[i].namelen > 7 &&
		    strncasecmp(hs->v[i].text, "Resent-", 7) == 0;
	if (!any)
		return 0;
	buf_init(&b, 4096);
	if (msg_hdrs_find(hs, "Resent-Date") == NULL)
		r = msg_hdr_date(&b) == -1 ||
		    msg_hdrs_add(hs, "Resent-Date", b.data, b.len) == -1;
	buf_reset(&b);
	if (r == 0 && msg_hdrs_find(hs, "Resent-From") == NULL &&
	    m->sender[0] != '\0')
		r = buf_adds(&b, m->sender) == -1 ||
		    msg_hdrs_add(hs, "Resent-From", b.data, b.len) == -1;
	buf_reset(&b);
	if (r == 0 && msg_hdrs_find(hs, "Resent-Message-ID") == NULL)
		r = msg_hdr_msgid(&b, o->cfg->domain ? o->cfg->domain
						     : "localhost") == -1 ||
		    msg_hdrs_add(hs, "Resent-Message-ID", b.data, b.len) == -1;
	buf_free(&b);
	return r ? -1 : 0;
}

/* Date and Message-ID when missing (not under -G); msg->msgid. */
static int
add_generated(struct msg *m, struct msg_hdrs *hs, const struct msg_opts *o,
    struct err *e)
{
	const struct config *cfg = o->cfg;
	struct msg_hdr *h;
	struct buf b;
	int r = 0;

	buf_init(&b, 4096);
	if (!o->relay && msg_hdrs_find(hs, "Date") == NULL)
		r = msg_hdr_date(&b) == -1 ||
		    msg_hdrs_add(hs, "Date", b.data, b.len) == -1;
	buf_reset(&b);
	if ((h = msg_hdrs_find(hs, "Message-ID")) != NULL)
		m->msgid = trimmed(h);
	else if (o->relay)
		m->msgid = strdup("");
	else if (r == 0 &&
	    msg_hdr_msgid(&b, cfg->domain ? cfg->domain : "localhost") == 0 &&
	    msg_hdrs_add(hs, "Message-ID", b.data, b.len) == 0)
		m->msgid = strdup(b.data);
	buf_free(&b);
	if (r != 0 || m->msgid == NULL)
		return err_sys(e, ERR_OS, "cannot add Date or Message-ID");
	if (!o->relay && add_resent(m, hs, o) == -1)
		return err_sys(e, ERR_OS, "cannot add the Resent- fields");
	return 0;
}

/* The first word of a field's value is one of the words in list. */
static int
value_is(struct msg_hdr *h, const char *const *list, int prefix)
{
	char *v;
	size_t n;
	int r = 0;

	if (h == NULL || (v = trimmed(h)) == NULL)
		return 0;
	for (; *list != NULL && !r; list++) {
		n = strlen(*list);
		r = strncasecmp(v, *list, n) == 0 &&
		    (prefix || v[n] == '\0' || strchr(" \t;(", v[n]));
	}
	free(v);
	return r;
}

/*
 * A body line over MSG_LINE_MAX.  A single-part text body in an identity
 * encoding is re-encoded as quoted-printable, which keeps the content
 * exact; multipart and message/ bodies (whose parts may not be encoded
 * as a whole) and bodies already encoded are folded instead.
 */
static int
long_lines(struct msg *m, struct msg_hdrs *hs, int body8, const char *tmpdir,
    struct err *e)
{
	static const char *const composite[] = { "multipart/", "message/",
		NULL };
	static const char *const identity[] = { "7bit", "8bit", "binary",
		NULL };
	struct msg_hdr *ct = msg_hdrs_find(hs, "Content-Type");
	struct msg_hdr *cte = msg_hdrs_find(hs, "Content-Transfer-Encoding");
	const char *type;
	off_t len;
	int fd, qp, r;

	qp = !value_is(ct, composite, 1) &&
	    (cte == NULL || value_is(cte, identity, 0));
	if ((fd = tmp_open(tmpdir, e)) == -1)
		return -1;
	r = qp ? msg_body_qp(m->body_fd, m->body_len, fd, &len, e)
	       : msg_body_fold(m->body_fd, m->body_len, fd, &len, e);
	if (r == -1) {
		close(fd);
		return -1;
	}
	close(m->body_fd);
	m->body_fd = fd;
	m->body_len = len;
	if (!qp) {
		m->folded = 1;
		return 0;
	}
	m->reencoded = 1;
	type = body8 ? "text/plain; charset=utf-8"
		     : "text/plain; charset=us-ascii";
	if ((cte != NULL ? msg_hdr_set(cte, "Content-Transfer-Encoding",
			       "quoted-printable", 16)
			 : msg_hdrs_add(hs, "Content-Transfer-Encoding",
			       "quoted-printable", 16)) == -1 ||
	    (msg_hdrs_find(hs, "MIME-Version") == NULL &&
		msg_hdrs_add(hs, "MIME-Version", "1.0", 3) == -1) ||
	    (ct == NULL &&
		msg_hdrs_add(hs, "Content-Type", type, strlen(type)) == -1))
		return err_sys(e, ERR_OS, "cannot mark the body encoded");
	return 0;
}

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

static int
process(struct msg *m, const struct msg_opts *o, struct msg_in_result *in,
    struct err *e)
{
	struct msg_hdrs hs;
	int r = -1;

	memset(&hs, 0, sizeof(hs));
	if (msg_hdrs_parse(&hs, in->raw.data, in->raw.len, e) == -1)
		goto done;
	buf_free(&in->raw);
	if (msg_addr_apply(m, &hs, o, e) == -1 ||
	    add_generated(m, &hs, o, e) == -1)
		goto done;
	m->body_len = in->body_len;
	if (in->maxline > MSG_LINE_MAX &&
	    long_lines(m, &hs, in->body8, o->tmpdir, e) == -1)
		goto done;
	if (msg_hdrs_wire(&hs, &m->head, &m->folded) == -1) {
		if (errno == E2BIG)
			err_set(e, ERR_DATA, "the header block is too long");
		else
			err_sys(e, ERR_OS, "cannot build the header block");
		goto done;
	}
	m->eightbit =
	    has_8bit(m->head.data, m->head.len) || (in->body8 && !m->reencoded);
	m->size =
	    (unsigned long long)m->head.len + (unsigned long long)m->body_len;
	r = 0;
done:
	msg_hdrs_free(&hs);
	return r;
}

int
msg_read(int fd, const struct msg_opts *o, struct msg *m, struct err *e)
{
	struct msg_in_result in;
	int r = -1;

	memset(m, 0, sizeof(*m));
	buf_init(&m->head, MSG_HEADER_MAX + HEAD_SLACK);
	memset(&in, 0, sizeof(in));
	buf_init(&in.raw, MSG_HEADER_MAX);
	if ((m->body_fd = tmp_open(o->tmpdir, e)) != -1 &&
	    msg_in_read(fd, o->ignore_dots, m->body_fd, &in, e) == 0)
		r = process(m, o, &in, e);
	buf_free(&in.raw);
	if (r == -1)
		msg_free(m);
	return r;
}

int
msg_emit(void *arg, struct conn *c, struct err *e)
{
	struct msg *m = arg;
	char *b;
	off_t off = 0;
	ssize_t r;
	size_t want;

	if (conn_write(c, m->head.data, m->head.len, e) == -1)
		return -1;
	if ((b = malloc(MSG_CHUNK)) == NULL)
		return err_sys(e, ERR_OS, "cannot send the body");
	while (off < m->body_len) {
		want = m->body_len - off < MSG_CHUNK
		    ? (size_t)(m->body_len - off)
		    : MSG_CHUNK;
		r = pread(m->body_fd, b, want, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			free(b);
			return err_sys(e, ERR_OS,
			    "cannot read the temporary file");
		}
		if (conn_write(c, b, (size_t)r, e) == -1) {
			free(b);
			return -1;
		}
		off += r;
	}
	free(b);
	return 0;
}

void
msg_free(struct msg *m)
{
	size_t i;

	free(m->sender);
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->msgid);
	buf_free(&m->head);
	if (m->body_fd >= 0)
		close(m->body_fd);
	memset(m, 0, sizeof(*m));
	m->body_fd = -1;
}
