/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * jwt.h: the client assertion of OAuth 2.0 private_key_jwt (RFC 7523
 * 2.2, OpenID Connect Core 9): a JWT signed with RS256 by the client's
 * RSA key, whose header names the client's certificate the way Entra ID
 * (Azure AD) looks it up:
 *
 *	header	{"alg":"RS256","typ":"JWT","x5t":T1,"x5t#S256":T256}
 *	claims	{"aud":TOKEN_URL,"iss":ID,"sub":ID,"jti":RANDOM,
 *		 "iat":NOW,"nbf":NOW,"exp":NOW+JWT_LIFETIME}
 *	JWT	b64url(header) "." b64url(claims) "." b64url(RSA-SHA256 sig)
 *
 * T1 and T256 are the base64url SHA-1 and SHA-256 of the certificate's
 * DER.  OpenSSL (through ossl.c) signs; json-c (oauth2_dl.c) writes the
 * JSON, so every string is escaped as JSON wants.
 */
#ifndef POSTERN_JWT_H
#define POSTERN_JWT_H

#include <time.h>

struct buf;
struct err;

#define JWT_LIFETIME 300 /* seconds an assertion is valid */
#define JWT_MAX 16384 /* the assertion's cap, with a 4096-bit key */

struct jwt_client {
	const char *key_file; /* PEM RSA private key: a secret */
	const char *cert_file; /* PEM certificate of that key */
	const char *client_id; /* iss and sub */
	const char *audience; /* the token endpoint URL */
	time_t now;
};

/*
 * The assertion for c into out (emptied first; the caller wipes it).
 * ERR_CONFIG for a key or certificate that cannot be used (unreadable,
 * readable by others, not RSA, not a pair), naming the file.
 */
int jwt_client_assertion(const struct jwt_client *c, struct buf *out,
    struct err *);
/* base64url without padding (RFC 7515 2) of n bytes at p, appended. */
int jwt_b64url(struct buf *out, const void *p, size_t n, struct err *);

#endif
