/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ntlm_crypto.c: the NTLM response computations (MS-NLMP 3.3) and the
 * UTF-8 to UTF-16LE conversion they need.
 *
 *	NTOWFv1 = MD4(UTF-16LE(Passwd))
 *	NTOWFv2 = HMAC_MD5(NTOWFv1, UTF-16LE(Uppercase(User) || UserDom))
 *	NTLMv1  = DESL(NTOWFv1, challenge)		(libntlm's DES)
 *	NTLMv2  = HMAC_MD5(NTOWFv2, SC || temp) || temp
 *
 * Everything that held a password or a hash is wiped before returning.
 */
#include <string.h>

#include <ntlm.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ossl_crypto.h"

#include "postern/md4.h"
#include "postern/ntlm.h"

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence.  Returns 0 and advances *i, or -1.
 */
static int
utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[*i];
	size_t n, k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, v = c & 0x07;
	else
		return -1;
	if (len - *i <= n)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		v = v << 6 | (s[*i + k] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	*i += n + 1;
	return 0;
}

/*
 * Uppercase as Windows does for NTOWFv2's user name, for the scripts
 * people use in account names: ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic.  Anything else is left as it is.
 */
static uint32_t
ntlm_upcase(uint32_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7))
		return c - 0x20;
	if (c == 0xff)
		return 0x178;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 &&
	    c != 0x138 && c != 0x149 && c != 0x17f) {
		/* Pairs: even upper before 0x138 and from 0x14a to 0x177. */
		if ((c < 0x138 || (c >= 0x14a && c <= 0x177)) ? c & 1
							      : !(c & 1))
			return c - 1;
		return c;
	}
	if ((c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 0x20;
	if (c == 0x3c2)
		return 0x3a3;
	if (c >= 0x450 && c <= 0x45f)
		return c - 0x50;
	return c;
}

int
ntlm_utf16le(struct buf *out, const char *s, size_t len, int upper,
    struct err *e)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = out->len;
	uint8_t w[4];
	uint32_t cp;
	size_t n;

	while (i < len) {
		if (utf8_next(u, len, &i, &cp) == -1) {
			out->len = start;
			return err_set(e, ERR_CONFIG,
			    "NTLM: credentials are not valid UTF-8");
		}
		if (upper)
			cp = ntlm_upcase(cp);
		if (cp < 0x10000) {
			put16(w, cp);
			n = 2;
		} else {
			cp -= 0x10000;
			put16(w, 0xd800 | cp >> 10);
			put16(w + 2, 0xdc00 | (cp & 0x3ff));
			n = 4;
		}
		if (buf_add(out, w, n) == -1) {
			explicit_bzero(w, sizeof(w));
			out->len = start;
			return err_set(e, ERR_CONFIG,
			    "NTLM: user, domain or password too long");
		}
	}
	explicit_bzero(w, sizeof(w));
	return 0;
}

int
ntlm_ntowfv1(const char *password, uint8_t out[16], struct err *e)
{
	struct buf u;
	int rc = 0;

	buf_init(&u, 2 * 2 * NTLM_PASSWORD_MAX);
	if (ntlm_utf16le(&u, password, strlen(password), 0, e) == -1)
		rc = -1;
	else if (u.len > 2 * NTLM_PASSWORD_MAX)
		rc = err_set(e, ERR_CONFIG, "NTLM: password too long");
	else
		md4(u.data ? u.data : "", u.len, out);
	buf_wipe(&u);
	return rc;
}

static int
hmac_md5(const uint8_t key[16], const void *p, size_t n, uint8_t out[16],
    struct err *e)
{
	unsigned int olen = 16;

	if (ossl_load(e) == -1)
		return -1;
	if (HMAC(EVP_md5(), key, 16, p, n, out, &olen) == NULL || olen != 16)
		return err_set(e, ERR_SOFTWARE, "NTLM: HMAC-MD5 failed");
	return 0;
}

int
ntlm_ntowfv2(const uint8_t ntowfv1[16], const char *user, size_t ulen,
    const char *domain, size_t dlen, uint8_t out[16], struct err *e)
{
	struct buf ud;
	int rc = -1;

	/* HMAC_MD5(NTOWFv1, UTF-16LE(Uppercase(User) || UserDom)) */
	buf_init(&ud, 4 * 2 * NTLM_NAME_MAX);
	if (ntlm_utf16le(&ud, user, ulen, 1, e) == 0 &&
	    ntlm_utf16le(&ud, domain, dlen, 0, e) == 0)
		rc = hmac_md5(ntowfv1, ud.data ? ud.data : "", ud.len, out, e);
	buf_free(&ud);
	return rc;
}

int
ntlm_v1_response(const char *password, const uint8_t challenge[8],
    uint8_t out[24], struct err *e)
{
	const unsigned char *u = (const unsigned char *)password;
	size_t i = 0, n = 0, len = strlen(password);
	char l1[128 + 1];
	uint32_t cp;
	int rc = 0;

	/*
	 * libntlm's ntlm_smb_nt_encrypt widens each byte of the password to
	 * 16 bits and stops after 128 bytes.  Handing it Latin-1 makes that
	 * widening the true UTF-16LE; anything else would hash the wrong
	 * password, so it is refused instead.
	 */
	while (i < len && rc == 0) {
		if (utf8_next(u, len, &i, &cp) == -1)
			rc = err_set(e, ERR_CONFIG,
			    "NTLM: password is not valid UTF-8");
		else if (cp > 0xff)
			rc = err_set(e, ERR_CONFIG,
			    "NTLMv1: password has "
			    "characters outside "
			    "Latin-1; use NTLMv2");
		else if (n == sizeof(l1) - 1)
			rc = err_set(e, ERR_CONFIG,
			    "NTLMv1: password longer than 128 characters");
		else
			l1[n++] = (char)cp;
	}
	l1[n] = '\0';
	if (rc == 0)
		ntlm_smb_nt_encrypt(l1, challenge, out);
	explicit_bzero(l1, sizeof(l1));
	return rc;
}

int
ntlm_ess_challenge(const uint8_t sc[8], const uint8_t cc[8], uint8_t out[8],
    struct err *e)
{
	uint8_t in[16], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (ossl_load(e) == -1)
		return -1;
	memcpy(in, sc, 8);
	memcpy(in + 8, cc, 8);
	if (EVP_Digest(in, 16, md, &mdlen, EVP_md5(), NULL) != 1)
		return err_set(e, ERR_SOFTWARE, "NTLM: MD5 failed");
	memcpy(out, md, 8);
	return 0;
}

int
ntlm_v2_response(const uint8_t ntowfv2[16], const uint8_t sc[8],
    const uint8_t cc[8], const uint8_t time[8], const uint8_t *ti, size_t tilen,
    struct buf *nt, uint8_t lm[24], uint8_t key[16], struct err *e)
{
	/*
	 * temp = RespType 1, HiRespType 1, Z(6), Time (8), ClientChallenge
	 *        (8), Z(4), AV pairs, Z(4)
	 * NtChallengeResponse = HMAC_MD5(NTOWFv2, SC || temp) || temp
	 */
	static const uint8_t head[8] = { 1, 1, 0, 0, 0, 0, 0, 0 };
	static const uint8_t z4[4] = { 0, 0, 0, 0 };
	uint8_t proof[16], scc[16];
	struct buf b;
	int rc = -1;

	buf_init(&b, 8 + 28 + NTLM_TARGET_INFO_MAX + 4);
	if (buf_add(&b, sc, 8) == -1 || buf_add(&b, head, 8) == -1 ||
	    buf_add(&b, time, 8) == -1 || buf_add(&b, cc, 8) == -1 ||
	    buf_add(&b, z4, 4) == -1 || buf_add(&b, ti, tilen) == -1 ||
	    buf_add(&b, z4, 4) == -1) {
		err_set(e, ERR_SOFTWARE, "NTLM: target info too long");
		goto out;
	}
	if (hmac_md5(ntowfv2, b.data, b.len, proof, e) == -1)
		goto out;
	if (buf_add(nt, proof, 16) == -1 ||
	    buf_add(nt, b.data + 8, b.len - 8) == -1) {
		err_set(e, ERR_SOFTWARE, "NTLM: buffer too small");
		goto out;
	}
	/* LMv2 = HMAC_MD5(NTOWFv2, SC || CC) || CC */
	memcpy(scc, sc, 8);
	memcpy(scc + 8, cc, 8);
	if (hmac_md5(ntowfv2, scc, 16, lm, e) == -1)
		goto out;
	memcpy(lm + 16, cc, 8);
	/* SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr) */
	if (key != NULL && hmac_md5(ntowfv2, proof, 16, key, e) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}
