/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * md4.h: an embedded MD4 (RFC 1320).
 *
 * NTLM needs MD4 for NTOWFv1 = MD4(UTF-16LE(password)), and OpenSSL 3 keeps
 * MD4 in its legacy provider, which a stock system does not load.  MD4 is
 * broken as a hash; it is here only because the protocol demands it.
 */
#ifndef POSTERN_MD4_H
#define POSTERN_MD4_H

#include <stddef.h>
#include <stdint.h>

#define MD4_DIGEST_LEN 16
#define MD4_BLOCK_LEN 64

struct md4_ctx {
	uint32_t state[4];
	uint64_t nbytes; /* total input so far */
	uint8_t block[MD4_BLOCK_LEN]; /* partial block */
	size_t fill; /* bytes in block */
};

void md4_init(struct md4_ctx *);
void md4_update(struct md4_ctx *, const void *, size_t);
/* Write the digest and wipe the context (it may have held a secret). */
void md4_final(struct md4_ctx *, uint8_t digest[MD4_DIGEST_LEN]);
/* One call: digest of len bytes at p. */
void md4(const void *p, size_t len, uint8_t digest[MD4_DIGEST_LEN]);

#endif
