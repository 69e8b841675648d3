/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * md4.c: MD4 message digest, written from RFC 1320.
 *
 * Input is processed in 64-byte blocks, each read as sixteen little-endian
 * 32-bit words; three rounds of sixteen operations mix them into the
 * four-word state.  The final block carries the 0x80 pad byte, zeros, and
 * the message length in bits as a little-endian 64-bit number.
 */
#include <string.h>

#include "postern/md4.h"

#define ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define H(x, y, z) ((x) ^ (y) ^ (z))

/* Round constants: 0 (round 1), sqrt(2) (round 2), sqrt(3) (round 3). */
#define K2 0x5a827999U
#define K3 0x6ed9eba1U

/* The order in which rounds 2 and 3 visit the block's words. */
static const uint8_t r2_idx[16] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3,
	7, 11, 15 };
static const uint8_t r3_idx[16] = { 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3,
	11, 7, 15 };
static const uint8_t r1_s[4] = { 3, 7, 11, 19 };
static const uint8_t r2_s[4] = { 3, 5, 9, 13 };
static const uint8_t r3_s[4] = { 3, 9, 11, 15 };

static void
md4_block(uint32_t st[4], const uint8_t *p)
{
	uint32_t x[16], v[4], t;
	int i, j;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	memcpy(v, st, sizeof(v));
	/*
	 * Each step updates one of a, b, c, d in turn (a, d, c, b order of
	 * the RFC's [abcd k s] notation): the updated word is v[(4 - i) % 4].
	 */
	for (i = 0; i < 16; i++) {
		j = (4 - i % 4) % 4;
		t = v[j] + F(v[(j + 1) % 4], v[(j + 2) % 4], v[(j + 3) % 4]) +
		    x[i];
		v[j] = ROTL(t, r1_s[i % 4]);
	}
	for (i = 0; i < 16; i++) {
		j = (4 - i % 4) % 4;
		t = v[j] + G(v[(j + 1) % 4], v[(j + 2) % 4], v[(j + 3) % 4]) +
		    x[r2_idx[i]] + K2;
		v[j] = ROTL(t, r2_s[i % 4]);
	}
	for (i = 0; i < 16; i++) {
		j = (4 - i % 4) % 4;
		t = v[j] + H(v[(j + 1) % 4], v[(j + 2) % 4], v[(j + 3) % 4]) +
		    x[r3_idx[i]] + K3;
		v[j] = ROTL(t, r3_s[i % 4]);
	}
	for (i = 0; i < 4; i++)
		st[i] += v[i];
	/* The words are the password's bytes when computing NTOWFv1. */
	explicit_bzero(x, sizeof(x));
	explicit_bzero(v, sizeof(v));
}

void
md4_init(struct md4_ctx *c)
{
	c->state[0] = 0x67452301U;
	c->state[1] = 0xefcdab89U;
	c->state[2] = 0x98badcfeU;
	c->state[3] = 0x10325476U;
	c->nbytes = 0;
	c->fill = 0;
}

void
md4_update(struct md4_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	c->nbytes += len;
	while (len > 0) {
		n = MD4_BLOCK_LEN - c->fill;
		if (n > len)
			n = len;
		memcpy(c->block + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill == MD4_BLOCK_LEN) {
			md4_block(c->state, c->block);
			c->fill = 0;
		}
	}
}

void
md4_final(struct md4_ctx *c, uint8_t digest[MD4_DIGEST_LEN])
{
	uint64_t bits = c->nbytes * 8;
	uint8_t pad[MD4_BLOCK_LEN + 8];
	size_t padlen;
	int i;

	/* 0x80, zeros up to 56 mod 64, then the length in bits (LE). */
	padlen = c->fill < 56 ? 56 - c->fill : 120 - c->fill;
	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (8 * i));
	md4_update(c, pad, padlen + 8);
	for (i = 0; i < 16; i++)
		digest[i] = (uint8_t)(c->state[i / 4] >> (8 * (i % 4)));
	explicit_bzero(c, sizeof(*c));
}

void
md4(const void *p, size_t len, uint8_t digest[MD4_DIGEST_LEN])
{
	struct md4_ctx c;

	md4_init(&c);
	md4_update(&c, p, len);
	md4_final(&c, digest);
}
