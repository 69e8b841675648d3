/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * err.c: filling in the error record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "postern/err.h"

void
err_clear(struct err *e)
{
	e->class = ERR_NONE;
	e->code = 0;
	e->enh[0] = '\0';
	e->text[0] = '\0';
	e->maybe_sent = 0;
}

int
err_set(struct err *e, enum err_class class, const char *fmt, ...)
{
	va_list ap;

	e->class = class;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *e, enum err_class class, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	e->class = class;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	n = strlen(e->text);
	snprintf(e->text + n, sizeof(e->text) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

char *
err_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t i, j = 0;
	unsigned char c;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < srclen && j + 1 < dstsz; i++) {
		c = (unsigned char)src[i];
		if (c == '\r' || c == '\n' || c == '\t')
			dst[j++] = ' ';
		else if (c < 0x20 || c >= 0x7f)
			dst[j++] = '?';
		else
			dst[j++] = (char)c;
	}
	dst[j] = '\0';
	return dst;
}
