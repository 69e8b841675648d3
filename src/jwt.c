/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * jwt.c: the RS256 client assertion of private_key_jwt (jwt.h has the
 * layout).  The key file is a secret: the mode rules of a password file
 * apply, and its bytes are wiped once OpenSSL has parsed them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "postern/base64.h"
#include "postern/buf.h"
#include "postern/cred.h"
#include "postern/err.h"
#include "postern/jwt.h"
#include "ossl_crypto.h"
#include "oauth2_dl.h"

#define JWT_FILE_MAX (64 * 1024) /* a PEM key or certificate */

int
jwt_b64url(struct buf *out, const void *p, size_t n, struct err *e)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, base64_enclen(n) + 1);
	if ((rc = base64_encode(&b, p, n, e)) == 0) {
		for (i = 0; i < b.len; i++)
			if (b.data[i] == '+')
				b.data[i] = '-';
			else if (b.data[i] == '/')
				b.data[i] = '_';
		while (b.len > 0 && b.data[b.len - 1] == '=')
			b.len--;
		if (buf_add(out, b.data, b.len) == -1)
			rc = err_set(e, ERR_SOFTWARE, "JWT too long");
	}
	buf_wipe(&b);
	return rc;
}

/* The whole of a small file; secret: it must not be readable by others. */
static int
jwt_read(const char *path, const char *what, int secret, struct buf *b,
    struct err *e)
{
	struct stat st;
	char chunk[4096];
	ssize_t r;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return err_sys(e, ERR_CONFIG, "%s %s", what, path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		rc = err_set(e, ERR_CONFIG, "%s %s is not a file", what, path);
	else if (secret)
		rc = cred_check_mode(path, st.st_mode, e);
	while (rc == 0 && (r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			rc = err_sys(e, ERR_CONFIG, "%s %s", what, path);
		else if (buf_add(b, chunk, (size_t)r) == -1)
			rc = err_set(e, ERR_CONFIG,
			    "%s %s: longer than %d bytes", what, path,
			    JWT_FILE_MAX);
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

static int
noprompt(char *buf, int size, int rwflag, void *u)
{
	return -1; /* never ask a terminal for a passphrase */
}

/* The key and certificate of c, checked to be an RSA pair. */
static int
jwt_load(const struct jwt_client *c, EVP_PKEY **key, X509 **cert, struct err *e)
{
	struct buf kb, cb;
	BIO *bio;
	int rc;

	*key = NULL;
	*cert = NULL;
	buf_init(&kb, JWT_FILE_MAX);
	buf_init(&cb, JWT_FILE_MAX);
	rc = jwt_read(c->key_file, "oauth2_client_key", 1, &kb, e);
	if (rc == 0)
		rc = jwt_read(c->cert_file, "oauth2_client_cert", 0, &cb, e);
	if (rc == 0 && (bio = BIO_new_mem_buf(kb.data, (int)kb.len)) != NULL) {
		*key = PEM_read_bio_PrivateKey(bio, NULL, noprompt, NULL);
		BIO_free(bio);
	}
	if (rc == 0 && (bio = BIO_new_mem_buf(cb.data, (int)cb.len)) != NULL) {
		*cert = PEM_read_bio_X509(bio, NULL, noprompt, NULL);
		BIO_free(bio);
	}
	buf_wipe(&kb);
	buf_free(&cb);
	ERR_clear_error();
	if (rc == -1)
		return -1;
	if (*key == NULL)
		return err_set(e, ERR_CONFIG,
		    "oauth2_client_key %s: no PEM private key (an encrypted "
		    "key needs its passphrase removed: openssl pkey)",
		    c->key_file);
	if (*cert == NULL)
		return err_set(e, ERR_CONFIG,
		    "oauth2_client_cert %s: no PEM certificate", c->cert_file);
	if (EVP_PKEY_get_base_id(*key) != EVP_PKEY_RSA)
		return err_set(e, ERR_CONFIG,
		    "oauth2_client_key %s: not an RSA key (RS256 needs one)",
		    c->key_file);
	if (X509_check_private_key(*cert, *key) != 1) {
		ERR_clear_error();
		return err_set(e, ERR_CONFIG,
		    "oauth2_client_key %s does not belong to "
		    "oauth2_client_cert "
		    "%s",
		    c->key_file, c->cert_file);
	}
	return 0;
}

/* "x5t" and "x5t#S256": digests of the certificate's DER. */
static int
jwt_thumbprints(X509 *cert, struct buf *t1, struct buf *t256, struct err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der, *p;
	unsigned int mdlen;
	int len, rc = -1;

	if ((len = i2d_X509(cert, NULL)) <= 0)
		return err_set(e, ERR_CONFIG, "oauth2_client_cert: bad DER");
	if ((der = malloc((size_t)len)) == NULL)
		return err_sys(e, ERR_OS, "JWT");
	p = der;
	if (i2d_X509(cert, &p) == len &&
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha1(), NULL) == 1 &&
	    jwt_b64url(t1, md, mdlen, e) == 0 &&
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    jwt_b64url(t256, md, mdlen, e) == 0)
		rc = 0;
	else if (e->class == ERR_NONE)
		err_set(e, ERR_SOFTWARE, "JWT: cannot hash the certificate");
	free(der);
	return rc;
}

/* JSON of the object into out as base64url; frees the object. */
static int
jwt_part(struct json_object *o, struct buf *out, struct err *e)
{
	const char *s = NULL;
	int rc;

	if (o != NULL)
		s = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = s != NULL ? jwt_b64url(out, s, strlen(s), e)
		       : err_set(e, ERR_OS, "JWT: out of memory");
	if (o != NULL)
		json_object_put(o);
	return rc;
}

static int
jwt_str(struct json_object *o, const char *k, const char *v)
{
	struct json_object *s = json_object_new_string(v);

	return s != NULL && json_object_object_add(o, k, s) == 0 ? 0 : -1;
}

static int
jwt_int(struct json_object *o, const char *k, long long v)
{
	struct json_object *n = json_object_new_int64(v);

	return n != NULL && json_object_object_add(o, k, n) == 0 ? 0 : -1;
}

/* b64url(header) "." b64url(claims) */
static int
jwt_input(const struct jwt_client *c, X509 *cert, struct buf *out,
    struct err *e)
{
	struct json_object *h = json_object_new_object(),
			   *p = json_object_new_object();
	struct buf t1, t256;
	unsigned char rnd[16];
	char jti[33];
	int bad = h == NULL || p == NULL, i;

	buf_init(&t1, 64);
	buf_init(&t256, 64);
	if (!bad && jwt_thumbprints(cert, &t1, &t256, e) == -1)
		bad = 2;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		bad = 1;
	for (i = 0; i < 16; i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	if (!bad)
		bad = jwt_str(h, "alg", "RS256") || jwt_str(h, "typ", "JWT") ||
		    jwt_str(h, "x5t", buf_str(&t1)) ||
		    jwt_str(h, "x5t#S256", buf_str(&t256)) ||
		    jwt_str(p, "aud", c->audience) ||
		    jwt_str(p, "iss", c->client_id) ||
		    jwt_str(p, "sub", c->client_id) || jwt_str(p, "jti", jti) ||
		    jwt_int(p, "iat", (long long)c->now) ||
		    jwt_int(p, "nbf", (long long)c->now) ||
		    jwt_int(p, "exp", (long long)c->now + JWT_LIFETIME);
	buf_free(&t1);
	buf_free(&t256);
	if (bad) {
		if (h != NULL)
			json_object_put(h);
		if (p != NULL)
			json_object_put(p);
		return bad == 2 ? -1 : err_set(e, ERR_OS, "JWT: cannot build");
	}
	if (jwt_part(h, out, e) == -1 || buf_addc(out, '.') == -1) {
		json_object_put(p);
		return e->class ? -1 : err_set(e, ERR_SOFTWARE, "JWT too long");
	}
	return jwt_part(p, out, e);
}

/* RSA PKCS#1 v1.5 with SHA-256 of out's text, appended as ".sig". */
static int
jwt_sign(EVP_PKEY *key, struct buf *out, struct err *e)
{
	EVP_MD_CTX *md;
	unsigned char *sig = NULL;
	size_t len = 0;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return err_set(e, ERR_OS, "JWT: out of memory");
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, NULL, &len, (unsigned char *)out->data,
		out->len) == 1 &&
	    (sig = malloc(len)) != NULL &&
	    EVP_DigestSign(md, sig, &len, (unsigned char *)out->data,
		out->len) == 1 &&
	    buf_addc(out, '.') == 0 && jwt_b64url(out, sig, len, e) == 0)
		rc = 0;
	else if (e->class == ERR_NONE)
		err_set(e, ERR_SOFTWARE, "JWT: cannot sign with RS256");
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

int
jwt_client_assertion(const struct jwt_client *c, struct buf *out, struct err *e)
{
	EVP_PKEY *key;
	X509 *cert;
	int rc;

	err_clear(e);
	buf_reset(out);
	if (ossl_load(e) == -1 || oauth2_dl_load(e) == -1)
		return -1;
	rc = jwt_load(c, &key, &cert, e);
	if (rc == 0)
		rc = jwt_input(c, cert, out, e);
	if (rc == 0)
		rc = jwt_sign(key, out, e);
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}
