/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ntlm.h: NTLMSSP messages (MS-NLMP) for SMTP AUTH NTLM.
 *
 * postern builds the NEGOTIATE (Type 1) and AUTHENTICATE (Type 3) messages
 * itself and parses the CHALLENGE (Type 2) within fixed bounds; libntlm is
 * used only for the DES step of NTLMv1 (ntlm_smb_nt_encrypt), never for its
 * message builders.  NTLMv2 uses HMAC-MD5 from OpenSSL and the embedded MD4.
 * No LM hash (LMOWFv1) is ever computed or sent.
 *
 * All of this works on raw bytes; base64 and the SMTP dialogue are the
 * business of auth.c and smtp.c.
 */
#ifndef POSTERN_NTLM_H
#define POSTERN_NTLM_H

#include <stddef.h>
#include <stdint.h>

#include "postern/buf.h"
#include "postern/err.h"

/* ntlm_version in the ini, and the version a Type 3 was built with. */
#define NTLM_AUTO 0 /* v2, whatever the challenge holds */
#define NTLM_V1 1
#define NTLM_V2 2
#define NTLM_V1_ESS 3 /* used: v1 with extended session security */

/* NegotiateFlags (MS-NLMP 2.2.2.5), the ones postern looks at or sends. */
#define NTLM_NEG_UNICODE 0x00000001U
#define NTLM_NEG_OEM 0x00000002U
#define NTLM_REQUEST_TARGET 0x00000004U
#define NTLM_NEG_NTLM 0x00000200U
#define NTLM_NEG_ALWAYS_SIGN 0x00008000U
#define NTLM_NEG_ESS 0x00080000U /* EXTENDED_SESSIONSECURITY */
#define NTLM_NEG_TARGET_INFO 0x00800000U
#define NTLM_NEG_VERSION 0x02000000U
#define NTLM_NEG_128 0x20000000U
#define NTLM_NEG_KEY_EXCH 0x40000000U
#define NTLM_NEG_56 0x80000000U

/* AV pair ids (MS-NLMP 2.2.2.1). */
#define NTLM_AV_EOL 0
#define NTLM_AV_NB_COMPUTER 1
#define NTLM_AV_NB_DOMAIN 2
#define NTLM_AV_TIMESTAMP 7

/*
 * Bounds.  Names are counted in UTF-16 code units (user, domain and
 * workstation at most 256; Windows allows 256-character passwords).  A
 * CHALLENGE larger than NTLM_TYPE2_MAX is refused before it is parsed; the
 * largest AUTHENTICATE fits NTLM_TYPE3_MAX, whose base64 fits in the 12288
 * octets RFC 4954 allows an AUTH line.
 */
#define NTLM_NAME_MAX 256
#define NTLM_PASSWORD_MAX 256
#define NTLM_TARGET_NAME_MAX 512 /* bytes */
#define NTLM_TARGET_INFO_MAX 4096 /* bytes */
#define NTLM_TYPE2_MAX (56 + NTLM_TARGET_NAME_MAX + NTLM_TARGET_INFO_MAX)
#define NTLM_TYPE3_MAX                                                         \
	(72 + 3 * 2 * NTLM_NAME_MAX + 24 + 16 + 28 + NTLM_TARGET_INFO_MAX +    \
	    4 + 16)

/* A parsed CHALLENGE_MESSAGE: copies, so the input may go away. */
struct ntlm_challenge {
	uint32_t flags;
	uint8_t server_challenge[8];
	uint8_t target_name[NTLM_TARGET_NAME_MAX]; /* as sent, for logs */
	size_t target_name_len;
	/* AV pairs exactly as sent, validated, MsvAvEOL included. */
	uint8_t target_info[NTLM_TARGET_INFO_MAX];
	size_t target_info_len; /* 0: none */
	int has_timestamp;
	uint8_t timestamp[8]; /* MsvAvTimestamp (FILETIME, LE) */
};

/* Who authenticates; all UTF-8.  domain and workstation may be NULL. */
struct ntlm_ident {
	const char *user; /* "DOMAIN\user" is split; "u@dom" is a UPN */
	const char *domain; /* ntlm_domain; must agree with a DOMAIN\ */
	const char *workstation;
	const char *password;
};

/*
 * How to build the AUTHENTICATE.  Zero it, set version; the rest are test
 * hooks (MS-NLMP 4.2 vectors) and stay NULL / 0 in production.
 */
struct ntlm_opts {
	int version; /* NTLM_AUTO, NTLM_V1, NTLM_V2 */
	const uint8_t *client_challenge; /* 8 bytes; NULL: random */
	const uint8_t *now; /* 8-byte FILETIME; NULL: clock */
	const uint8_t *os_version; /* 8 bytes: adds the Version field */
	const uint8_t *session_key; /* 16 bytes, sent verbatim */
	uint32_t flags; /* non-zero: NegotiateFlags as is */
};

/* Append a NEGOTIATE_MESSAGE (no domain, no workstation) to out. */
int ntlm_negotiate(struct buf *out, struct err *);
/* Parse and check a CHALLENGE_MESSAGE.  ERR_NOPERM when malformed. */
int ntlm_parse_challenge(struct ntlm_challenge *, const void *, size_t,
    struct err *);
/* The value of AV pair id in the challenge's target info: 0, or -1. */
int ntlm_av_find(const struct ntlm_challenge *, unsigned id,
    const uint8_t **val, size_t *len);
/*
 * Append the AUTHENTICATE_MESSAGE answering c to out; *used gets NTLM_V2,
 * NTLM_V1 or NTLM_V1_ESS.  ERR_CONFIG for credentials that cannot be
 * encoded (invalid UTF-8, too long, v1 with a password outside Latin-1).
 */
int ntlm_authenticate(struct buf *out, const struct ntlm_challenge *c,
    const struct ntlm_ident *, const struct ntlm_opts *, int *used,
    struct err *);
/* "ntlmv2", "ntlmv1", "ntlmv1-ess" or "ntlm" (for the log line). */
const char *ntlm_version_name(int used);

/*
 * The pieces, exported for the MS-NLMP vector tests.
 */
/*
 * Split the configured user: "DOM\u" gives user "u", domain "DOM"; when
 * domain (ntlm_domain, may be NULL or "") is set too, the two must agree
 * (ASCII case-insensitively).  "u@dom" stays whole: a UPN, domain "".
 */
int ntlm_split_user(const char *user, const char *domain, const char **user_out,
    const char **dom_out, size_t *dom_len, struct err *);
/* Append UTF-16LE of len bytes of UTF-8; upper: Windows-style uppercase. */
int ntlm_utf16le(struct buf *out, const char *s, size_t len, int upper,
    struct err *);
int ntlm_ntowfv1(const char *password, uint8_t out[16], struct err *);
int ntlm_ntowfv2(const uint8_t ntowfv1[16], const char *user, size_t ulen,
    const char *domain, size_t dlen, uint8_t out[16], struct err *);
/* DESL(NTOWFv1(password), challenge) through libntlm. */
int ntlm_v1_response(const char *password, const uint8_t challenge[8],
    uint8_t out[24], struct err *);
/* MD5(sc || cc)[0..7]: the challenge of an NTLM2 session response. */
int ntlm_ess_challenge(const uint8_t sc[8], const uint8_t cc[8], uint8_t out[8],
    struct err *);
/*
 * NTLMv2: nt gets NTProofStr || temp, lm gets LMv2, key (may be NULL) the
 * SessionBaseKey.  ti/tilen: the AV pairs to embed.
 */
int ntlm_v2_response(const uint8_t ntowfv2[16], const uint8_t sc[8],
    const uint8_t cc[8], const uint8_t time[8], const uint8_t *ti, size_t tilen,
    struct buf *nt, uint8_t lm[24], uint8_t key[16], struct err *);

#endif
