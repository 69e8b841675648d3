/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * base64.h: bounded, strict base64 (RFC 4648 section 4) for SASL.
 *
 * Encoding appends to a struct buf, whose cap bounds the output.  Decoding
 * is strict, as RFC 4954 asks of SASL exchanges: only the 64 alphabet
 * characters, length a multiple of 4, '=' padding only at the end, unused
 * bits zero.  No whitespace is skipped; trim the input first.
 */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>

#include "postern/buf.h"
#include "postern/err.h"

/* Encoded length of n bytes (without a NUL); SIZE_MAX on overflow. */
size_t base64_enclen(size_t n);
/* Append the encoding of n bytes at p to out.  ERR_SOFTWARE when full. */
int base64_encode(struct buf *out, const void *p, size_t n, struct err *);
/*
 * Append the decoding of len characters at s to out.  ERR_DATA on bad
 * input or when the result would pass out's cap (out is left unchanged).
 */
int base64_decode(struct buf *out, const char *s, size_t len, struct err *);

#endif
