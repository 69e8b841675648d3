/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * tls.c: the TLS client (OpenSSL 3); the only file that includes SSL.
 *
 * The socket stays non-blocking; OpenSSL reports what it would block on
 * and we poll() for that, so every wait is bounded.  Verification runs
 * with SSL_VERIFY_PEER and a callback that records the first failure in
 * words an admin can act on; in strict mode (verify = 1, no pins) the
 * callback fails the handshake at once, so no client certificate and no
 * byte of mail goes to a server that did not prove who it is.  With pins
 * or verify = 0 the callback lets the handshake finish and the checks run
 * after it, which also covers resumed sessions (no callback runs then).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl_crypto.h"
#include "ossl_ssl.h"

#include "postern/err.h"
#include "postern/fdio.h"
#include "postern/tls.h"
#include "tls_int.h"

#define TLS_HOSTMAX 256
#define TLS_CACHE_MAXSZ 65536 /* a session file is ~2-8 KB */
#define TLS_CACHE_TAG "postern-tls-session "

struct tls {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int timeout;
	int strict; /* verify = 1 and no pins */
	int verify;
	int verified; /* TLS_UNVERIFIED, ... */
	int ready; /* handshake done and checked */
	int saved; /* the session file was written */
	SSL_SESSION *held; /* issued before the checks ended */
	char *cache; /* session file, or NULL */
	char tag[2 * TLS_PINLEN + 1]; /* settings fingerprint */
	size_t npins;
	unsigned char pins[TLS_MAXPINS][TLS_PINLEN];
	long verr; /* first verification error */
	char vwhy[640]; /* ... in words (sized so nothing is cut) */
	char host[TLS_HOSTMAX]; /* for messages; "" if none */
};

/* The most useful OpenSSL error text (the last queued), or dflt. */
static const char *
ssl_why(const char *dflt)
{
	unsigned long e, last = 0;
	const char *s;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0 || (s = ERR_reason_error_string(last)) == NULL)
		return dflt;
	return s;
}

static const char *
host_or_server(const struct tls *t)
{
	return t->host[0] != '\0' ? t->host : "the server";
}

static int
pin_matches(const struct tls *t, X509 *x)
{
	unsigned char md[TLS_PINLEN];
	size_t i;

	if (x == NULL || tls_x509_spki(x, md) == -1)
		return 0;
	for (i = 0; i < t->npins; i++)
		if (memcmp(md, t->pins[i], TLS_PINLEN) == 0)
			return 1;
	return 0;
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	struct tls *t;

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (t = SSL_get_app_data(ssl)) == NULL)
		return ok;
	if (!ok && t->verr == 0) {
		t->verr = X509_STORE_CTX_get_error(xs);
		tls_x509_why(t->vwhy, sizeof(t->vwhy), t->verr,
		    X509_STORE_CTX_get_error_depth(xs),
		    X509_STORE_CTX_get_current_cert(xs), host_or_server(t));
	}
	return t->strict ? ok : 1;
}

/* Write sess to the cache file: a temporary file, then rename. */
static void
cache_save(struct tls *t, SSL_SESSION *sess)
{
	char *tmp;
	size_t n;
	FILE *fp;
	int fd, ok;

	if (t->cache == NULL || !SSL_SESSION_is_resumable(sess))
		return;
	n = strlen(t->cache) + sizeof(".XXXXXX");
	if ((tmp = malloc(n)) == NULL)
		return;
	snprintf(tmp, n, "%s.XXXXXX", t->cache);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) { /* mode 0600 */
		free(tmp);
		return;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return;
	}
	ok = fprintf(fp, "%s%s\n", TLS_CACHE_TAG, t->tag) > 0 &&
	    PEM_write_SSL_SESSION(fp, sess) == 1;
	if (fclose(fp) != 0 || !ok || rename(tmp, t->cache) == -1)
		unlink(tmp);
	free(tmp);
}

/*
 * OpenSSL hands over each session the server issues (TLS 1.3: after the
 * handshake, when a ticket is read).  Before the handshake has passed
 * our checks, hold it; saved from tls_start once it has.  Returns 1 when
 * we keep the reference.
 */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tls *t = SSL_get_app_data(ssl);

	if (t == NULL || t->cache == NULL)
		return 0;
	if (t->ready) {
		/* TLS 1.3 servers send several tickets: one write will do. */
		if (!t->saved)
			cache_save(t, sess);
		t->saved = 1;
		return 0;
	}
	SSL_SESSION_free(t->held);
	t->held = sess;
	return 1;
}

/*
 * Load the cached session if it was made under the same settings (tag),
 * parses, is resumable and not past its lifetime; otherwise ignore it.
 */
static void
cache_load(struct tls *t)
{
	char line[sizeof(TLS_CACHE_TAG) + sizeof(t->tag) + 2];
	SSL_SESSION *sess = NULL;
	struct stat st;
	FILE *fp;
	int fd;

	if ((fd = open(t->cache, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	/*
	 * Others able to write it could plant a session whose secret they
	 * know: ignore it unless it is ours and only ours to write (postern
	 * runs setgid, so the group's directory is no guarantee).
	 */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
	    st.st_size > TLS_CACHE_MAXSZ || (fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, TLS_CACHE_TAG, strlen(TLS_CACHE_TAG)) == 0 &&
	    strcmp(line + strlen(TLS_CACHE_TAG), t->tag) == 0)
		sess = PEM_read_SSL_SESSION(fp, NULL, NULL, NULL);
	fclose(fp);
	ERR_clear_error();
	if (sess == NULL)
		return;
	if (SSL_SESSION_is_resumable(sess) &&
	    SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess) >
		time(NULL))
		SSL_set_session(t->ssl, sess);
	SSL_SESSION_free(sess);
}

/* The settings a cached session must have been made under, hashed. */
static void
make_tag(struct tls *t, const struct tls_opts *o)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char s[4096];
	int n;

	n = snprintf(s, sizeof(s), "%s|%d|%s|%s|%s|%d|%s|%s|%s", t->host,
	    o->verify, o->ca_file ? o->ca_file : "", o->ca_dir ? o->ca_dir : "",
	    o->pins ? o->pins : "", o->min_version, o->cert ? o->cert : "",
	    o->key ? o->key : "", o->ciphers ? o->ciphers : "");
	if (n < 0 || (size_t)n >= sizeof(s) ||
	    EVP_Digest(s, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		free(t->cache); /* cannot tell: do without a cache */
		t->cache = NULL;
		return;
	}
	for (i = 0; i < mdlen && 2 * i + 2 < sizeof(t->tag); i++) {
		t->tag[2 * i] = hex[md[i] >> 4];
		t->tag[2 * i + 1] = hex[md[i] & 15];
	}
	t->tag[2 * i] = '\0';
}

/* Split ciphers into the TLS 1.3 suites ("TLS_...") and the rest. */
static int
set_ciphers(SSL_CTX *ctx, const char *s, struct err *err)
{
	char v13[1024], v12[1024];
	size_t n, l13 = 0, l12 = 0, *lp;
	char *dst;

	while (*s != '\0') {
		n = strcspn(s, ": ,");
		if (n > 0) {
			dst = strncmp(s, "TLS_", 4) == 0 ? v13 : v12;
			lp = dst == v13 ? &l13 : &l12;
			if (*lp + n + 2 > sizeof(v13))
				return err_set(err, ERR_CONFIG,
				    "tls_ciphers: list too long");
			if (*lp > 0)
				dst[(*lp)++] = ':';
			memcpy(dst + *lp, s, n);
			*lp += n;
		}
		s += n + (s[n] != '\0');
	}
	v13[l13] = v12[l12] = '\0';
	if ((l13 > 0 && SSL_CTX_set_ciphersuites(ctx, v13) != 1) ||
	    (l12 > 0 && SSL_CTX_set_cipher_list(ctx, v12) != 1))
		return err_set(err, ERR_CONFIG, "tls_ciphers: %s",
		    ssl_why("no usable cipher"));
	return 0;
}

/*
 * For the ini reader: would tls_start() accept this cipher list?  A
 * context is built only to ask, so a run without tls_ciphers pays
 * nothing.
 */
int
tls_check_ciphers(const char *s, struct err *err)
{
	SSL_CTX *ctx;
	int rc;

	if (ossl_load(err) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return err_set(err, ERR_OS, "TLS: %s",
		    ssl_why("out of memory"));
	rc = set_ciphers(ctx, s, err);
	SSL_CTX_free(ctx);
	return rc;
}

/* open() rather than access(): postern runs setgid. */
static int
readable(const char *path, const char *key, struct err *err)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_sys(err, ERR_CONFIG, "%s %s", key, path);
	close(fd);
	return 0;
}

static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return 0; /* never prompt: postern runs from cron and PHP */
}

/* An OpenSSL hashed directory ("5ed36f99.0")? */
static int
has_hash_links(const char *path)
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strlen(de->d_name) == 10 &&
		    strspn(de->d_name, "0123456789abcdef") == 8 &&
		    strcmp(de->d_name + 8, ".0") == 0;
	closedir(d);
	return found;
}

/*
 * The system store.  Parsing the whole bundle file costs some 30 ms of
 * CPU per run; the hashed directory is read lazily, one CA per
 * handshake.  So: the directory alone when it is hashed (Debian), else
 * (or when SSL_CERT_FILE/SSL_CERT_DIR say otherwise) OpenSSL's default.
 */
static void
system_store(SSL_CTX *ctx)
{
	if (secure_getenv(X509_get_default_cert_file_env()) == NULL &&
	    secure_getenv(X509_get_default_cert_dir_env()) == NULL &&
	    has_hash_links(X509_get_default_cert_dir())) {
		if (SSL_CTX_set_default_verify_dir(ctx) == 1)
			return;
	}
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		ERR_clear_error(); /* verification will say what is missing */
}

static int
load_files(struct tls *t, const struct tls_opts *o, struct err *err)
{
	const char *key = o->key != NULL ? o->key : o->cert;

	if (o->ca_file != NULL || o->ca_dir != NULL) {
		if ((o->ca_file && readable(o->ca_file, "tls_ca_file", err)) ||
		    (o->ca_dir && readable(o->ca_dir, "tls_ca_dir", err)))
			return -1;
		if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file,
			o->ca_dir) != 1)
			return err_set(err, ERR_CONFIG, "tls_ca_file %s: %s",
			    o->ca_file ? o->ca_file : o->ca_dir,
			    ssl_why("no certificate found"));
	} else if (o->verify || t->npins > 0) {
		system_store(t->ctx);
	}
	if (o->cert == NULL)
		return 0;
	SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
	if (readable(o->cert, "tls_client_cert", err) == -1 ||
	    readable(key, "tls_client_key", err) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1)
		return err_set(err, ERR_CONFIG, "tls_client_cert %s: %s",
		    o->cert, ssl_why("not a PEM certificate"));
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)
		return err_set(err, ERR_CONFIG, "tls_client_key %s: %s", key,
		    ssl_why("not the certificate's key (or encrypted)"));
	return 0;
}

static int
setup_ctx(struct tls *t, const struct tls_opts *o, struct err *err)
{
	int minv;

	if (o->min_version != 0 && o->min_version != 12 && o->min_version != 13)
		return err_set(err, ERR_CONFIG,
		    "tls_min_version must be 1.2 or 1.3");
	minv = o->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return err_set(err, ERR_OS, "TLS: %s",
		    ssl_why("out of memory"));
	SSL_CTX_set_min_proto_version(t->ctx, minv);
	SSL_CTX_set_mode(t->ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
	if (o->ciphers != NULL && set_ciphers(t->ctx, o->ciphers, err) == -1)
		return -1;
	if (load_files(t, o, err) == -1)
		return -1;
	/* Client-side caching only to get new_session_cb called. */
	SSL_CTX_set_session_cache_mode(t->ctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, new_session_cb);
	return 0;
}

/* Name to verify (host or IP) and SNI (host only). */
static int
setup_ssl(struct tls *t, int fd, struct err *err)
{
	X509_VERIFY_PARAM *vp;
	unsigned char a[16];
	char ip[TLS_HOSTMAX];
	size_t n = strlen(t->host);
	int isip;

	if ((t->ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(t->ssl, fd) != 1)
		return err_set(err, ERR_OS, "TLS: %s",
		    ssl_why("out of memory"));
	SSL_set_app_data(t->ssl, t);
	if (n == 0)
		return 0;
	if (n > 2 && t->host[0] == '[' && t->host[n - 1] == ']')
		snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), t->host + 1);
	else
		snprintf(ip, sizeof(ip), "%s", t->host);
	isip =
	    inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
	vp = SSL_get0_param(t->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (isip ? X509_VERIFY_PARAM_set1_ip_asc(vp, ip) != 1
		 : X509_VERIFY_PARAM_set1_host(vp, t->host, 0) != 1 ||
		    SSL_set_tlsext_host_name(t->ssl, t->host) != 1)
		return err_set(err, ERR_CONFIG, "TLS: bad host name %s",
		    t->host);
	return 0;
}

/* One line for a failed handshake: verification, version, other. */
static int
handshake_error(struct tls *t, int r, int e, struct err *err)
{
	unsigned long code = ERR_peek_last_error();
	int reason = ERR_GET_REASON(code);
	const char *h = host_or_server(t);
	int saved = errno;

	if (t->verr != 0 && t->strict)
		return err_set(err, ERR_TEMP,
		    "TLS handshake with %s failed: %s", h, t->vwhy);
	if ((e == SSL_ERROR_SYSCALL && code == 0) ||
	    reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		if (r == 0 || saved == 0 || code != 0)
			return err_set(err, ERR_TEMP,
			    "TLS handshake with %s failed: connection closed "
			    "by the server",
			    h);
		errno = saved;
		return err_sys(err, ERR_TEMP, "TLS handshake with %s failed",
		    h);
	}
	if (reason == SSL_R_UNSUPPORTED_PROTOCOL ||
	    reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
	    reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
	    reason == SSL_R_VERSION_TOO_LOW) {
		ERR_clear_error();
		return err_set(err, ERR_TEMP,
		    "TLS handshake with %s failed: protocol version too old "
		    "(the server offers none of TLS 1.%d and newer; see "
		    "tls_min_version)",
		    h,
		    SSL_CTX_get_min_proto_version(t->ctx) == TLS1_3_VERSION
			? 3
			: 2);
	}
	if (reason == SSL_R_WRONG_VERSION_NUMBER ||
	    reason == SSL_R_PACKET_LENGTH_TOO_LONG) {
		ERR_clear_error();
		return err_set(err, ERR_TEMP,
		    "TLS handshake with %s failed: the server does not speak "
		    "TLS here (check the port and the tls mode)",
		    h);
	}
	return err_set(err, ERR_TEMP, "TLS handshake with %s failed: %s", h,
	    ssl_why("handshake failure"));
}

static int
handshake(struct tls *t, struct err *err)
{
	long long deadline = fdio_now_ms() + t->timeout * 1000LL;
	int r, e, w;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(t->ssl)) == 1)
			return 0;
		e = SSL_get_error(t->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return handshake_error(t, r, e, err);
		w = fdio_wait(t->fd,
		    e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w == 0)
			return err_set(err, ERR_TEMP,
			    "TLS handshake with %s failed: timeout after %d s",
			    host_or_server(t), t->timeout);
		if (w == -1)
			return err_sys(err, ERR_TEMP, "TLS handshake with %s",
			    host_or_server(t));
	}
}

/* After the handshake (full or resumed): the pins, or the chain. */
static int
check_peer(struct tls *t, struct err *err)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl);
	long vr = SSL_get_verify_result(t->ssl);
	char pin[64];

	if (vr != X509_V_OK && t->verr == 0) { /* resumed: no callback ran */
		t->verr = vr;
		tls_x509_why(t->vwhy, sizeof(t->vwhy), vr, 0, x,
		    host_or_server(t));
	}
	if (x == NULL)
		return err_set(err, ERR_TEMP,
		    "TLS handshake with %s failed: no server certificate",
		    host_or_server(t));
	if (t->npins > 0) {
		if (!pin_matches(t, x)) {
			tls_x509_pin(x, pin, sizeof(pin));
			return err_set(err, ERR_TEMP,
			    "TLS handshake with %s failed: pin mismatch: the "
			    "server's key is %s, not in tls_pin",
			    host_or_server(t), pin);
		}
		t->verified = TLS_PINNED;
	} else if (t->verify) {
		if (vr != X509_V_OK)
			return err_set(err, ERR_TEMP,
			    "TLS handshake with %s failed: %s",
			    host_or_server(t), t->vwhy);
		t->verified = TLS_VERIFIED;
	}
	return 0;
}

int
tls_start(struct tls **tlsp, int fd, const struct tls_opts *o, struct err *err)
{
	struct tls *t;
	int fl;

	*tlsp = NULL;
	if (ossl_load(err) == -1)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_sys(err, ERR_OS, "TLS");
	t->fd = fd;
	t->timeout = o->timeout > 0 ? o->timeout : 60;
	t->verify = o->verify;
	if (o->host != NULL)
		snprintf(t->host, sizeof(t->host), "%s", o->host);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)) {
		err_sys(err, ERR_TEMP, "TLS with %s", host_or_server(t));
		goto fail;
	}
	if (o->host != NULL && strlen(o->host) >= sizeof(t->host)) {
		err_set(err, ERR_CONFIG, "TLS: host name too long");
		goto fail;
	}
	if (tls_x509_parse_pins(o->pins, t->pins, TLS_MAXPINS, &t->npins,
		err) == -1)
		goto fail;
	t->strict = o->verify && t->npins == 0;
	if (t->strict && t->host[0] == '\0') {
		err_set(err, ERR_SOFTWARE, "TLS: no host name to verify");
		goto fail;
	}
	if (o->session_cache != NULL &&
	    (t->cache = strdup(o->session_cache)) == NULL) {
		err_sys(err, ERR_OS, "TLS");
		goto fail;
	}
	make_tag(t, o);
	if (setup_ctx(t, o, err) == -1 || setup_ssl(t, fd, err) == -1)
		goto fail;
	if (t->cache != NULL)
		cache_load(t);
	if (handshake(t, err) == -1 || check_peer(t, err) == -1)
		goto fail;
	t->ready = 1;
	if (t->held != NULL) {
		cache_save(t, t->held);
		t->saved = 1;
		SSL_SESSION_free(t->held);
		t->held = NULL;
	}
	*tlsp = t;
	return 0;
fail:
	ERR_clear_error();
	if (t->ssl != NULL)
		SSL_set_app_data(t->ssl, NULL);
	tls_close(t); /* a failed handshake sends no close_notify */
	return -1;
}

static ssize_t
io_error(struct tls *t, int e, const char *op, struct err *err)
{
	int saved = errno;
	unsigned long code = ERR_peek_last_error();

	if (e == SSL_ERROR_WANT_READ)
		return TLS_WANT_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return TLS_WANT_WRITE;
	if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	    (e == SSL_ERROR_SYSCALL && code == 0 && saved == 0)) {
		ERR_clear_error();
		return err_set(err, ERR_TEMP,
		    "connection closed by %s without TLS close_notify",
		    host_or_server(t));
	}
	if (e == SSL_ERROR_SYSCALL && code == 0) {
		errno = saved;
		return err_sys(err, ERR_TEMP, "TLS %s %s", op,
		    host_or_server(t));
	}
	return err_set(err, ERR_TEMP, "TLS %s %s: %s", op, host_or_server(t),
	    ssl_why("protocol error"));
}

ssize_t
tls_io_read(void *ctx, int fd, void *p, size_t n, struct err *err)
{
	struct tls *t = ctx;
	int r, e;

	(void)fd; /* the SSL holds it */
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n)) > 0)
		return r;
	if ((e = SSL_get_error(t->ssl, r)) == SSL_ERROR_ZERO_RETURN)
		return 0;
	return io_error(t, e, "read from", err);
}

ssize_t
tls_io_write(void *ctx, int fd, const void *p, size_t n, struct err *err)
{
	struct tls *t = ctx;
	int r;

	(void)fd;
	if (n == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n)) > 0)
		return r;
	return io_error(t, SSL_get_error(t->ssl, r), "write to", err);
}

size_t
tls_io_pending(void *ctx)
{
	int n = SSL_pending(((struct tls *)ctx)->ssl);

	return n > 0 ? (size_t)n : 0;
}

void
tls_io_close(void *ctx)
{
	tls_close(ctx);
}

static int
tls_wait(struct tls *t, ssize_t want, const char *what, struct err *err)
{
	int w = fdio_wait(t->fd, want == TLS_WANT_WRITE ? POLLOUT : POLLIN,
	    fdio_now_ms() + t->timeout * 1000LL);

	if (w == 1)
		return 0;
	if (w == -1)
		return err_sys(err, ERR_TEMP, "poll on %s", host_or_server(t));
	return err_set(err, ERR_TEMP, "timeout after %d s %s %s", t->timeout,
	    what, host_or_server(t));
}

int
tls_read(struct tls *t, void *p, size_t n, size_t *got, struct err *err)
{
	ssize_t r;

	*got = 0;
	while ((r = tls_io_read(t, t->fd, p, n, err)) < 0) {
		if (r == -1 || tls_wait(t, r, "reading from", err) == -1)
			return -1;
	}
	*got = (size_t)r;
	return 0;
}

int
tls_write(struct tls *t, const void *p, size_t n, struct err *err)
{
	const char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = tls_io_write(t, t->fd, c, n, err)) >= 0) {
			c += r;
			n -= (size_t)r;
		} else if (r == -1 || tls_wait(t, r, "writing to", err) == -1)
			return -1;
	}
	return 0;
}

void
tls_get_info(const struct tls *t, struct tls_info *in)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl);

	memset(in, 0, sizeof(*in));
	snprintf(in->version, sizeof(in->version), "%s",
	    SSL_get_version(t->ssl));
	snprintf(in->cipher, sizeof(in->cipher), "%s",
	    SSL_get_cipher_name(t->ssl));
	in->resumed = SSL_session_reused(t->ssl) == 1;
	in->verified = t->verified;
	if (t->verr != 0)
		err_sanitize(in->verify_error, sizeof(in->verify_error),
		    t->vwhy, strlen(t->vwhy));
	if (x == NULL)
		return;
	tls_x509_name(X509_get_subject_name(x), in->subject,
	    sizeof(in->subject));
	tls_x509_name(X509_get_issuer_name(x), in->issuer, sizeof(in->issuer));
	tls_x509_time(X509_get0_notBefore(x), in->not_before,
	    sizeof(in->not_before));
	tls_x509_time(X509_get0_notAfter(x), in->not_after,
	    sizeof(in->not_after));
	tls_x509_pin(x, in->pin, sizeof(in->pin));
}

int
tls_print_chain(const struct tls *t, FILE *fp)
{
	STACK_OF(X509) *sk = SSL_get_peer_cert_chain(t->ssl);
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	int i, n = sk != NULL ? OPENSSL_sk_num((const OPENSSL_STACK *)sk) : 0;

	if (n == 0 && leaf != NULL && tls_x509_print(fp, 0, leaf) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (tls_x509_print(fp, i,
			(X509 *)OPENSSL_sk_value((const OPENSSL_STACK *)sk,
			    i)) < 0)
			return -1;
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

void
tls_close(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		/* Best effort: one try, no wait; quiet if it cannot go. */
		if (t->ready) {
			ERR_clear_error();
			SSL_shutdown(t->ssl);
		}
		SSL_free(t->ssl);
	}
	SSL_SESSION_free(t->held);
	SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t->cache);
	OPENSSL_cleanse(t->pins, sizeof(t->pins));
	free(t);
}
