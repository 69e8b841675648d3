/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_jwt.c: the private_key_jwt client assertion (jwt.c), checked with
 * OpenSSL's own verifier: the header's thumbprints of the certificate, the
 * claims, the RS256 signature; the key file's mode rules and the wrong
 * keys; base64url; how long a token is reused (oauth2.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "postern/base64.h"
#include "postern/buf.h"
#include "postern/err.h"
#include "postern/jwt.h"
#include "postern/oauth2.h"
#include "t.h"

static char dir[] = "/tmp/t_jwt.XXXXXX";
static char key[256], cert[256], eckey[256], eccert[256], other[256];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A self-signed certificate NAME.pem for a new key NAME.key (alg). */
static void
make_pair(const char *name, const char *newkey, char *k, char *c)
{
	snprintf(k, 256, "%s/%s.key", dir, name);
	snprintf(c, 256, "%s/%s.pem", dir, name);
	sh("openssl req -x509 -newkey %s -nodes -keyout %s -out %s "
	   "-subj /CN=%s -days 2 2>/dev/null",
	    newkey, k, c, name);
	chmod(k, 0600);
}

/* base64url text (len bytes) decoded into out. */
static int
unb64url(const char *s, size_t len, struct buf *out)
{
	struct buf b;
	struct err e;
	size_t i;
	int rc;

	buf_init(&b, len + 4);
	for (i = 0; i < len; i++)
		buf_addc(&b, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
	while (b.len % 4)
		buf_addc(&b, '=');
	rc = base64_decode(out, b.data, b.len, &e);
	buf_free(&b);
	return rc;
}

static long long
claim(const char *json, const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	p = strstr(json, pat);
	return p != NULL ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* "x5t" value expected for the certificate file and digest. */
static void
thumb(const char *file, const EVP_MD *md, struct buf *out)
{
	unsigned char d[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int dl;
	struct err e;
	FILE *fp = fopen(file, "r");
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
	int n = i2d_X509(x, &der);

	EVP_Digest(der, (size_t)n, d, &dl, md, NULL);
	jwt_b64url(out, d, dl, &e);
	OPENSSL_free(der);
	X509_free(x);
	fclose(fp);
}

static int
verify(const char *jwt, const char *certfile)
{
	const char *dot = strrchr(jwt, '.');
	struct buf sig;
	FILE *fp = fopen(certfile, "r");
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	buf_init(&sig, 4096);
	unb64url(dot + 1, strlen(dot + 1), &sig);
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
		 X509_get0_pubkey(x)) == 1 &&
	    EVP_DigestVerify(md, (unsigned char *)sig.data, sig.len,
		(const unsigned char *)jwt, (size_t)(dot - jwt)) == 1;
	EVP_MD_CTX_free(md);
	X509_free(x);
	fclose(fp);
	buf_free(&sig);
	return ok;
}

static void
test_assertion(void)
{
	struct jwt_client c = { key, cert, "app-id", "https://idp.test/token",
		0 };
	struct buf jwt, jwt2, h, p, t1, t256;
	struct err e;
	char want[256];
	const char *d1, *d2;

	c.now = 1700000000;
	buf_init(&jwt, JWT_MAX);
	buf_init(&jwt2, JWT_MAX);
	T_OK(jwt_client_assertion(&c, &jwt, &e) == 0, "assertion made");
	T_OK(jwt_client_assertion(&c, &jwt2, &e) == 0, "a second one");
	d1 = strchr(buf_str(&jwt), '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	T_OK(d1 != NULL && d2 != NULL && strchr(d2 + 1, '.') == NULL,
	    "three parts");
	if (d1 == NULL || d2 == NULL)
		return;
	buf_init(&h, 4096);
	buf_init(&p, 4096);
	buf_init(&t1, 64);
	buf_init(&t256, 64);
	unb64url(jwt.data, (size_t)(d1 - jwt.data), &h);
	unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &p);
	thumb(cert, EVP_sha1(), &t1);
	thumb(cert, EVP_sha256(), &t256);
	T_OK(strstr(buf_str(&h), "\"alg\":\"RS256\"") != NULL, "alg RS256");
	T_OK(strstr(buf_str(&h), "\"typ\":\"JWT\"") != NULL, "typ JWT");
	snprintf(want, sizeof(want), "\"x5t\":\"%s\"", buf_str(&t1));
	T_OK(strstr(buf_str(&h), want) != NULL, "x5t: SHA-1 of the DER");
	snprintf(want, sizeof(want), "\"x5t#S256\":\"%s\"", buf_str(&t256));
	T_OK(strstr(buf_str(&h), want) != NULL, "x5t#S256: SHA-256 of the DER");
	T_OK(strstr(buf_str(&p), "\"iss\":\"app-id\"") != NULL &&
		strstr(buf_str(&p), "\"sub\":\"app-id\"") != NULL,
	    "iss = sub = client id");
	T_OK(strstr(buf_str(&p), "\"aud\":\"https://idp.test/token\"") != NULL,
	    "aud = token URL, '/' not escaped");
	T_OK(claim(buf_str(&p), "iat") == 1700000000 &&
		claim(buf_str(&p), "nbf") == 1700000000 &&
		claim(buf_str(&p), "exp") == 1700000000 + JWT_LIFETIME,
	    "iat, nbf, exp");
	T_OK(strstr(buf_str(&p), "\"jti\":\"") != NULL &&
		strcmp(buf_str(&jwt), buf_str(&jwt2)) != 0,
	    "a jti, new each time");
	T_OK(verify(buf_str(&jwt), cert), "RS256 signature verifies");
	T_OK(!verify(buf_str(&jwt), other), "... and not with another key");
	buf_free(&h);
	buf_free(&p);
	buf_free(&t1);
	buf_free(&t256);
	buf_wipe(&jwt);
	buf_wipe(&jwt2);
}

static void
test_refused(void)
{
	struct jwt_client c = { key, cert, "id", "https://idp.test/t", 0 };
	struct buf out;
	struct err e;

	buf_init(&out, JWT_MAX);
	chmod(key, 0644);
	T_OK(jwt_client_assertion(&c, &out, &e) == -1 &&
		e.class == ERR_CONFIG && strstr(e.text, "chmod o-r") != NULL,
	    "key readable by others: config error with the chmod");
	chmod(key, 0600);
	c.cert_file = other;
	T_OK(jwt_client_assertion(&c, &out, &e) == -1 &&
		e.class == ERR_CONFIG &&
		strstr(e.text, "does not belong") != NULL,
	    "key and certificate not a pair");
	c.key_file = eckey;
	c.cert_file = eccert;
	T_OK(jwt_client_assertion(&c, &out, &e) == -1 &&
		e.class == ERR_CONFIG && strstr(e.text, "not an RSA") != NULL,
	    "EC key: RS256 needs RSA");
	c.key_file = "/nonexistent/key.pem";
	T_OK(jwt_client_assertion(&c, &out, &e) == -1 &&
		e.class == ERR_CONFIG &&
		strstr(e.text, "oauth2_client_key") != NULL,
	    "missing key file names the key");
	c.key_file = cert; /* a certificate is no private key */
	c.cert_file = cert;
	chmod(cert, 0600);
	T_OK(jwt_client_assertion(&c, &out, &e) == -1 &&
		e.class == ERR_CONFIG &&
		strstr(e.text, "no PEM private") != NULL,
	    "no private key in the file");
	chmod(cert, 0644);
	buf_free(&out);
}

static void
test_small(void)
{
	struct buf b;
	struct err e;

	buf_init(&b, 64);
	jwt_b64url(&b, "\xfb\xff\xfe", 3, &e);
	T_STR(buf_str(&b), "-__-", "base64url alphabet");
	buf_reset(&b);
	jwt_b64url(&b, "a", 1, &e);
	T_STR(buf_str(&b), "YQ", "base64url without padding");
	buf_free(&b);
	T_OK(oauth2_reuse_for(3600) == 3600 - OAUTH2_REUSE_MARGIN,
	    "an hour's token: reused until a minute before");
	T_OK(oauth2_reuse_for(100) == 50, "a short one: for half its life");
	T_OK(oauth2_reuse_for(0) == 0, "no expires_in: not reused");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	make_pair("rsa", "rsa:2048", key, cert);
	make_pair("ec", "ec -pkeyopt ec_paramgen_curve:P-256", eckey, eccert);
	{
		char k2[256];

		make_pair("other", "rsa:2048", k2, other);
	}
	test_assertion();
	test_refused();
	test_small();
	sh("rm -rf %s", dir);
	return t_done();
}
