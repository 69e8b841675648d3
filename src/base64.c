/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * base64.c: bounded, strict base64.
 *
 * Three input bytes become four characters of six bits each, most
 * significant first:
 *
 *	bytes	aaaaaaaa bbbbbbbb cccccccc
 *	chars	aaaaaa aabbbb bbbbcc cccccc
 *
 * A final group of one byte ends in "==", of two bytes in "=".
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "postern/base64.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_enclen(size_t n)
{
	if (n / 3 >= SIZE_MAX / 4 - 1)
		return SIZE_MAX;
	return (n + 2) / 3 * 4;
}

int
base64_encode(struct buf *out, const void *p, size_t n, struct err *e)
{
	const uint8_t *in = p;
	size_t i, len, start = out->len;
	char q[4];
	uint32_t v;

	len = base64_enclen(n);
	if (len == SIZE_MAX || len > out->max - out->len)
		return err_set(e, ERR_SOFTWARE, "base64: output too long");
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = b64_alpha[v >> 18 & 63];
		q[1] = b64_alpha[v >> 12 & 63];
		q[2] = i + 1 < n ? b64_alpha[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64_alpha[v & 63] : '=';
		if (buf_add(out, q, 4) == -1) {
			out->len = start;
			return err_sys(e, ERR_OS, "base64");
		}
	}
	explicit_bzero(q, sizeof(q));
	return 0;
}

/* The value of one alphabet character, or -1. */
static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode one group of four characters into up to three bytes; returns the
 * byte count, or -1.  Padding is allowed only when last is set.
 */
static int
b64_group(const char *s, int last, uint8_t outb[3])
{
	int v[4], i, npad = 0;
	uint32_t w;

	if (last && s[3] == '=')
		npad = s[2] == '=' ? 2 : 1;
	for (i = 0; i < 4 - npad; i++)
		if ((v[i] = b64_val((unsigned char)s[i])) == -1)
			return -1;
	for (; i < 4; i++)
		v[i] = 0;
	w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
	    (uint32_t)v[3];
	/* Non-canonical: bits that the padding says are unused are set. */
	if ((npad == 1 && (w & 0xff) != 0) || (npad == 2 && (w & 0xffff) != 0))
		return -1;
	outb[0] = (uint8_t)(w >> 16);
	outb[1] = (uint8_t)(w >> 8);
	outb[2] = (uint8_t)w;
	return 3 - npad;
}

int
base64_decode(struct buf *out, const char *s, size_t len, struct err *e)
{
	size_t i, need, start = out->len;
	uint8_t b[3];
	int n = 0;

	if (len % 4 != 0)
		return err_set(e, ERR_DATA,
		    "base64: length not a multiple of 4");
	need = len / 4 * 3;
	if (len > 0 && s[len - 1] == '=')
		need -= s[len - 2] == '=' ? 2 : 1;
	if (need > out->max - out->len)
		return err_set(e, ERR_DATA, "base64: decoded data too long");
	for (i = 0; i < len; i += 4) {
		if ((n = b64_group(s + i, i + 4 == len, b)) == -1 ||
		    buf_add(out, b, (size_t)n) == -1)
			break;
	}
	explicit_bzero(b, sizeof(b));
	if (i < len) {
		/* What was decoded so far may be a secret: wipe it. */
		if (out->data) {
			explicit_bzero(out->data + start, out->len - start);
			out->len = start;
			out->data[start] = '\0';
		}
		if (n == -1)
			return err_set(e, ERR_DATA, "base64: invalid input");
		return err_sys(e, ERR_OS, "base64");
	}
	return 0;
}
