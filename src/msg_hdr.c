/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg_hdr.c: header fields: split, find, replace, add, remove, and the
 * wire form; the From mailbox, Date and Message-ID that postern writes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "postern/err.h"
#include "postern/msg.h"
#include "msg_int.h"

static int
hdrs_push(struct msg_hdrs *hs, char *text, size_t len, size_t namelen)
{
	struct msg_hdr *v;
	size_t ncap;

	if (hs->n == hs->cap) {
		ncap = hs->cap ? hs->cap * 2 : 32;
		if ((v = reallocarray(hs->v, ncap, sizeof(*v))) == NULL)
			return -1;
		hs->v = v;
		hs->cap = ncap;
	}
	hs->v[hs->n].text = text;
	hs->v[hs->n].len = len;
	hs->v[hs->n].namelen = namelen;
	hs->n++;
	return 0;
}

/*
 * Split the header lines (each ending "\n", as msg_in.c keeps them) into
 * fields; a line starting with space or tab joins the field before it.
 */
int
msg_hdrs_parse(struct msg_hdrs *hs, const char *raw, size_t len, struct err *e)
{
	const char *p = raw, *end, *q, *colon;
	char *text;
	size_t n;

	/* No header field: raw may be NULL, and NULL + 0 is undefined. */
	if (len == 0)
		return 0;
	end = raw + len;
	while (p < end) {
		q = p;
		do { /* to the end of the field: a line not continued */
			q = memchr(q, '\n', (size_t)(end - q));
			q = q ? q + 1 : end;
		} while (q < end && (*q == ' ' || *q == '\t'));
		n = (size_t)(q - p);
		if (n > 0 && p[n - 1] == '\n')
			n--;
		/* msg_in.c keeps only lines with a colon as field starts */
		if ((colon = memchr(p, ':', n)) == NULL)
			return err_set(e, ERR_SOFTWARE, "header without colon");
		if ((text = strndup(p, n)) == NULL)
			return err_sys(e, ERR_OS, "cannot keep the header");
		if (hdrs_push(hs, text, n, (size_t)(colon - p)) == -1) {
			free(text);
			return err_sys(e, ERR_OS, "cannot keep the header");
		}
		p = q;
	}
	return 0;
}

int
msg_hdr_is(const struct msg_hdr *h, const char *name)
{
	return h->text != NULL && strlen(name) == h->namelen &&
	    strncasecmp(h->text, name, h->namelen) == 0;
}

struct msg_hdr *
msg_hdrs_find(struct msg_hdrs *hs, const char *name)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		if (msg_hdr_is(&hs->v[i], name))
			return &hs->v[i];
	return NULL;
}

const char *
msg_hdr_value(const struct msg_hdr *h, size_t *len)
{
	*len = h->len - h->namelen - 1;
	return h->text + h->namelen + 1;
}

/* "Name: value"; value starts after the colon (a leading space added). */
static char *
hdr_make(const char *name, const char *value, size_t vlen, size_t *len)
{
	struct buf b;

	buf_init(&b, MSG_HEADER_MAX);
	if (buf_adds(&b, name) == -1 || buf_addc(&b, ':') == -1 ||
	    (vlen > 0 && value[0] != ' ' && value[0] != '\t' &&
		buf_addc(&b, ' ') == -1) ||
	    buf_add(&b, value, vlen) == -1) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return buf_detach(&b);
}

int
msg_hdr_set(struct msg_hdr *h, const char *name, const char *value, size_t vlen)
{
	char *text;
	size_t len;

	if ((text = hdr_make(name, value, vlen, &len)) == NULL)
		return -1;
	free(h->text);
	h->text = text;
	h->len = len;
	h->namelen = strlen(name);
	return 0;
}

int
msg_hdrs_add(struct msg_hdrs *hs, const char *name, const char *value,
    size_t vlen)
{
	char *text;
	size_t len;

	if ((text = hdr_make(name, value, vlen, &len)) == NULL)
		return -1;
	if (hdrs_push(hs, text, len, strlen(name)) == -1) {
		free(text);
		return -1;
	}
	return 0;
}

void
msg_hdrs_del(struct msg_hdrs *hs, const char *name)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		if (msg_hdr_is(&hs->v[i], name)) {
			free(hs->v[i].text);
			hs->v[i].text = NULL;
			hs->v[i].len = 0;
		}
	}
}

void
msg_hdrs_free(struct msg_hdrs *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		free(hs->v[i].text);
	free(hs->v);
	hs->v = NULL;
	hs->n = hs->cap = 0;
}

/*
 * One physical header line in wire form.  Over MSG_LINE_MAX it is folded
 * before the last space or tab that leaves something other than blanks
 * on the line; with no such blank it is split hard and the rest continues
 * after an inserted space (the content changes, and *folded says so).
 */
static int
wire_line(struct buf *b, const char *p, size_t n, int *folded)
{
	size_t k, lead, take, lim = MSG_LINE_MAX;

	while (n > lim) {
		*folded = 1;
		for (lead = 0; lead < n && (p[lead] == ' ' || p[lead] == '\t');)
			lead++;
		for (k = lim; k > lead; k--)
			if (p[k] == ' ' || p[k] == '\t')
				break;
		take = k > lead ? k : lim;
		if (buf_add(b, p, take) == -1 || buf_add(b, "\r\n", 2) == -1)
			return -1;
		lim = MSG_LINE_MAX;
		if (k <= lead) { /* the inserted space takes one octet */
			if (buf_addc(b, ' ') == -1)
				return -1;
			lim = MSG_LINE_MAX - 1;
		}
		p += take;
		n -= take;
	}
	if (buf_add(b, p, n) == -1 || buf_add(b, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int
msg_hdrs_wire(const struct msg_hdrs *hs, struct buf *b, int *folded)
{
	const struct msg_hdr *h;
	const char *p, *end, *nl;
	size_t i;

	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		if (h->text == NULL)
			continue;
		p = h->text;
		end = h->text + h->len;
		for (; p <= end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				nl = end;
			if (wire_line(b, p, (size_t)(nl - p), folded) == -1)
				return -1;
		}
	}
	return buf_add(b, "\r\n", 2);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of p[0..n) (RFC 4648, padded). */
static int
add_base64(struct buf *b, const unsigned char *p, size_t n)
{
	char q[4];
	unsigned long v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if (buf_add(b, q, 4) == -1)
			return -1;
	}
	return 0;
}

/*
 * A non-ASCII display name as RFC 2047 "B" encoded-words, UTF-8 assumed:
 * at most 45 octets per word (a 72-character word, under the limit of 75),
 * never cutting a UTF-8 sequence, words separated by a space.
 */
static int
add_encoded(struct buf *b, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name), take;

	while (n > 0) {
		take = n > 45 ? 45 : n;
		while (take < n && take > 1 && (p[take] & 0xc0) == 0x80)
			take--;
		if (buf_adds(b, "=?UTF-8?B?") == -1 ||
		    add_base64(b, p, take) == -1 || buf_adds(b, "?=") == -1)
			return -1;
		p += take;
		n -= take;
		if (n > 0 && buf_addc(b, ' ') == -1)
			return -1;
	}
	return 0;
}

/* The display name as atoms, a quoted string, or encoded-words. */
static int
add_name(struct buf *b, const char *name)
{
	const char *s;
	int special = 0, eight = 0;

	for (s = name; *s; s++) {
		if ((unsigned char)*s >= 0x80)
			eight = 1;
		else if (strchr("()<>[]:;@\\,.\"", *s) != NULL ||
		    (unsigned char)*s < 0x20 || *s == 0x7f)
			special = 1;
	}
	if (eight)
		return add_encoded(b, name);
	if (!special)
		return buf_adds(b, name);
	if (buf_addc(b, '"') == -1)
		return -1;
	for (s = name; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			if (buf_addc(b, ' ') == -1) /* no control chars */
				return -1;
			continue;
		}
		if ((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *s) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

int
msg_hdr_mailbox(struct buf *b, const char *name, const char *spec)
{
	if (name == NULL || *name == '\0')
		return buf_adds(b, spec);
	if (add_name(b, name) == -1)
		return -1;
	return buf_printf(b, " <%s>", spec);
}

/* RFC 5322 date-time, local time with a numeric zone; no locale names. */
int
msg_hdr_date(struct buf *b)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char zone[16];
	struct tm tm;
	time_t now = time(NULL);

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(zone, sizeof(zone), "%z", &tm) == 0)
		return -1;
	return buf_printf(b, "%s, %d %s %d %02d:%02d:%02d %s",
	    day[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

/*
 * <YYYYMMDDhhmmss.PID.RANDOM@domain>: the time and pid keep it readable
 * in logs, 64 random bits keep it unique across hosts and pid reuse.
 */
int
msg_hdr_msgid(struct buf *b, const char *domain)
{
	unsigned char r[8];
	struct tm tm;
	time_t now = time(NULL);
	size_t i;

	if (getentropy(r, sizeof(r)) == -1 || gmtime_r(&now, &tm) == NULL)
		return -1;
	if (buf_printf(b, "<%04d%02d%02d%02d%02d%02d.%ld.", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)getpid()) == -1)
		return -1;
	for (i = 0; i < sizeof(r); i++)
		if (buf_printf(b, "%02x", r[i]) == -1)
			return -1;
	return buf_printf(b, "@%s>", domain);
}
