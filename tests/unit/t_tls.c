/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_tls.c: the TLS client against TLS servers forked from this test.
 *
 * The certificates are made at run time by tests/certs/mkcerts.sh (run
 * from the source tree, or $POSTERN_SRCDIR).  Each server is a child with
 * its own OpenSSL server context serving connections one after another,
 * so session tickets stay valid between connections to it.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <openssl/ssl.h>

#include "postern/err.h"
#include "postern/tls.h"
#include "t.h"

enum mode { M_TLS, M_TLS12, M_TLS11, M_CLIENTCERT, M_PLAIN, M_CLOSE };

static char dir[PATH_MAX];
static char ca[PATH_MAX + 16];

struct srv {
	pid_t pid;
	int lfd;
	int port;
};

static void
path(char *out, size_t sz, const char *name, const char *ext)
{
	if (snprintf(out, sz, "%s/%s%s", dir, name, ext) >= (int)sz)
		abort();
}

static SSL_CTX *
server_ctx(const char *name, enum mode m)
{
	char crt[PATH_MAX + 32], key[PATH_MAX + 32];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	path(crt, sizeof(crt), name, ".pem");
	path(key, sizeof(key), name, ".key");
	if (ctx == NULL ||
	    SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(2);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
	if (m == M_TLS12)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (m == M_TLS11) {
		/* OpenSSL 3 refuses TLS 1.1 above security level 0. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	}
	if (m == M_CLIENTCERT) {
		SSL_CTX_load_verify_locations(ctx, ca, NULL);
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

/* One SMTP-ish exchange: greeting, then 250 to anything, 221 to QUIT. */
static void
serve_one(SSL_CTX *ctx, int c)
{
	char b[512];
	SSL *s = SSL_new(ctx);
	int n;

	SSL_set_fd(s, c);
	if (SSL_accept(s) == 1) {
		SSL_write(s, "220 t ESMTP\r\n", 13);
		while ((n = SSL_read(s, b, sizeof(b))) > 0) {
			if (n >= 4 && memcmp(b, "QUIT", 4) == 0) {
				SSL_write(s, "221 bye\r\n", 9);
				break;
			}
			SSL_write(s, "250 ok\r\n", 8);
		}
		SSL_shutdown(s);
	}
	SSL_free(s);
}

static void
serve(int lfd, const char *name, enum mode m)
{
	struct timeval tv = { 5, 0 };
	SSL_CTX *ctx = NULL;
	char b[512];
	int c, one = 1;

	alarm(60); /* never outlive a crashed parent for long */
	if (m != M_PLAIN && m != M_CLOSE)
		ctx = server_ctx(name, m);
	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) == -1)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (m == M_CLOSE && read(c, b, sizeof(b)) < 0)
			b[0] = '\0';
		if (m == M_PLAIN) {
			if (write(c, "220 plain ESMTP\r\n", 17) < 0 ||
			    read(c, b, sizeof(b)) < 0)
				b[0] = '\0';
		} else if (m != M_CLOSE)
			serve_one(ctx, c);
		close(c);
	}
}

static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		perror("listener");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
srv_start(struct srv *s, const char *name, enum mode m)
{
	s->lfd = listener(&s->port);
	fflush(stdout);
	if ((s->pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (s->pid == 0)
		serve(s->lfd, name, m);
}

static void
srv_stop(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	close(s->lfd);
}

static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("connect");
		exit(1);
	}
	/* As conn.c: no Nagle stall between our small writes. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Read one reply line; 0 when it starts with code. */
static int
reply(struct tls *t, const char *code, struct err *e)
{
	char b[256];
	size_t len = 0, got;

	while (len < sizeof(b) - 1 && memchr(b, '\n', len) == NULL) {
		if (tls_read(t, b + len, sizeof(b) - 1 - len, &got, e) == -1)
			return -1;
		if (got == 0)
			return err_set(e, ERR_TEMP, "EOF");
		len += got;
	}
	return len >= 3 && memcmp(b, code, 3) == 0 ? 0 : -1;
}

/*
 * Handshake, read the greeting, QUIT, read 221: a session as the SMTP
 * client has it.  Returns tls_start's result, or -2 when the exchange
 * after it failed.
 */
static int
session(int port, const struct tls_opts *o, struct tls_info *in, struct err *e)
{
	struct tls *t;
	int fd = dial(port), r = 0;

	err_clear(e);
	memset(in, 0, sizeof(*in));
	if (tls_start(&t, fd, o, e) == -1) {
		close(fd);
		return -1;
	}
	tls_get_info(t, in);
	if (reply(t, "220", e) == -1 || tls_write(t, "QUIT\r\n", 6, e) == -1 ||
	    reply(t, "221", e) == -1)
		r = -2;
	tls_close(t);
	close(fd);
	return r;
}

static void
opts(struct tls_opts *o, const char *host)
{
	memset(o, 0, sizeof(*o));
	o->host = host;
	o->verify = 1;
	o->ca_file = ca;
	o->timeout = 5;
}

static int
has(const char *s, const char *sub)
{
	if (strstr(s, sub) != NULL)
		return 1;
	printf("# \"%s\" lacks \"%s\"\n", s, sub);
	return 0;
}

static void
t_verify(void)
{
	struct tls_opts o;
	struct tls_info in;
	struct err e;
	struct srv s;

	srv_start(&s, "server", M_TLS);
	opts(&o, "localhost");
	T_OK(session(s.port, &o, &in, &e) == 0, "good certificate verifies");
	T_STR(in.version, "TLSv1.3", "TLS 1.3 negotiated");
	T_OK(in.verified == TLS_VERIFIED && in.resumed == 0, "info: verified");
	T_STR(in.subject, "CN=localhost", "info: subject");
	T_STR(in.issuer, "CN=postern test CA", "info: issuer");
	T_OK(strncmp(in.pin, "sha256/", 7) == 0 && strlen(in.pin) == 51,
	    "info: pin");
	T_OK(strlen(in.not_after) == 23 && in.cipher[0] != '\0',
	    "info: dates and cipher");
	opts(&o, "127.0.0.1");
	T_OK(session(s.port, &o, &in, &e) == 0 && in.verified == TLS_VERIFIED,
	    "IP literal verified against the IP SAN");
	opts(&o, "127.0.0.2");
	T_OK(session(s.port, &o, &in, &e) == -1 &&
		has(e.text, "name mismatch") && has(e.text, "127.0.0.2"),
	    "other IP: name mismatch");
	opts(&o, "localhost");
	o.min_version = 13;
	T_OK(session(s.port, &o, &in, &e) == 0, "min_version 1.3 works");
	o.ciphers =
	    "TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";
	T_OK(session(s.port, &o, &in, &e) == 0 &&
		strcmp(in.cipher, "TLS_CHACHA20_POLY1305_SHA256") == 0,
	    "tls_ciphers sets the TLS 1.3 suite");
	o.ciphers = "NO-SUCH-CIPHER";
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_CONFIG,
	    "bad tls_ciphers: config error");
	opts(&o, "localhost");
	o.ca_file = "/nonexistent/ca.pem";
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_CONFIG &&
		has(e.text, "tls_ca_file /nonexistent/ca.pem"),
	    "unreadable tls_ca_file: config error");
	srv_stop(&s);
}

static void
t_refusals(void)
{
	struct tls_opts o;
	struct tls_info in;
	struct err e;
	struct srv s;

	opts(&o, "localhost");
	srv_start(&s, "evil", M_TLS);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "TLS handshake with localhost failed: ") &&
		has(e.text, "untrusted issuer \"CN=postern untrusted CA\""),
	    "untrusted CA refused");
	printf("# %s\n", e.text);
	o.verify = 0;
	T_OK(session(s.port, &o, &in, &e) == 0 &&
		in.verified == TLS_UNVERIFIED &&
		has(in.verify_error, "untrusted issuer"),
	    "verify = 0 accepts it, says why it is unverified");
	srv_stop(&s);

	opts(&o, "localhost");
	srv_start(&s, "other", M_TLS);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text,
		    "name mismatch: the certificate is for "
		    "other.example, www.other.example, not localhost"),
	    "certificate for another name refused");
	printf("# %s\n", e.text);
	srv_stop(&s);

	srv_start(&s, "expired", M_TLS);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "certificate has expired (notAfter 2"),
	    "expired certificate refused");
	printf("# %s\n", e.text);
	srv_stop(&s);

	srv_start(&s, "server", M_TLS11);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "protocol version too old"),
	    "TLS 1.1-only server refused");
	printf("# %s\n", e.text);
	srv_stop(&s);

	srv_start(&s, "server", M_PLAIN);
	T_OK(session(s.port, &o, &in, &e) == -1 &&
		has(e.text, "does not speak TLS"),
	    "plain-text server: clear message");
	srv_stop(&s);

	srv_start(&s, "server", M_CLOSE);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "connection closed by the server"),
	    "server closing at once");
	srv_stop(&s);
}

static void
t_pins(void)
{
	char pin[64], two[160];
	struct tls_opts o;
	struct tls_info in;
	struct err e;
	struct srv s;
	static const char stale[] =
	    "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

	srv_start(&s, "evil", M_TLS);
	opts(&o, "localhost");
	o.verify = 0;
	session(s.port, &o, &in, &e);
	snprintf(pin, sizeof(pin), "%s", in.pin);
	opts(&o, "localhost");
	o.pins = pin;
	T_OK(session(s.port, &o, &in, &e) == 0 && in.verified == TLS_PINNED,
	    "pin match without a trusted chain");
	o.pins = stale;
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "pin mismatch") && has(e.text, pin),
	    "pin mismatch refused, names the server's pin");
	printf("# %s\n", e.text);
	snprintf(two, sizeof(two), "%s, %s", stale, pin);
	o.pins = two;
	T_OK(session(s.port, &o, &in, &e) == 0, "one stale and one good pin");
	o.pins = "sha256/short";
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_CONFIG,
	    "malformed pin: config error");
	o.pins = stale;
	o.verify = 0;
	T_OK(session(s.port, &o, &in, &e) == -1 && has(e.text, "pin mismatch"),
	    "pins are checked even with verify = 0");
	srv_stop(&s);
}

static void
t_cache(enum mode m, const char *what)
{
	char cache[PATH_MAX + 32], name[64], msg[128];
	struct tls_opts o;
	struct tls_info in;
	struct stat st;
	struct err e;
	struct srv s;
	FILE *fp;

	snprintf(name, sizeof(name), "session-%d", (int)m);
	path(cache, sizeof(cache), name, "");
	srv_start(&s, "server", m);
	opts(&o, "localhost");
	o.session_cache = cache;
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 0,
	    "first connection: full handshake");
	snprintf(msg, sizeof(msg), "%s: session saved, mode 0600", what);
	T_OK(stat(cache, &st) == 0 && (st.st_mode & 0777) == 0600, msg);
	snprintf(msg, sizeof(msg), "%s: second connection resumed", what);
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 1 &&
		in.verified == TLS_VERIFIED &&
		strcmp(in.subject, "CN=localhost") == 0,
	    msg);
	o.verify = 0; /* other settings: the session is not used */
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 0,
	    "cached session ignored under other settings");
	o.verify = 1;
	if ((fp = fopen(cache, "w")) != NULL) {
		fputs("postern-tls-session x\n-----BEGIN SSL SESSION "
		      "PARAMETERS-----\nAAAA\n",
		    fp);
		fclose(fp);
	}
	snprintf(msg, sizeof(msg), "%s: corrupt cache file survived", what);
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 0, msg);
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 1,
	    "cache rewritten after a corrupt one");
	srv_stop(&s);
	srv_start(&s, "server", m); /* new ticket keys: a stale session */
	T_OK(session(s.port, &o, &in, &e) == 0 && in.resumed == 0,
	    "stale session: full handshake");
	srv_stop(&s);
}

static void
t_misc(void)
{
	struct timespec a, b;
	struct tls_opts o;
	struct tls_info in;
	struct err e;
	struct srv s;
	char crt[PATH_MAX + 32], key[PATH_MAX + 32];
	double secs;

	/* A listener that never accepts: TCP connects, TLS never answers. */
	s.pid = 0;
	s.lfd = listener(&s.port);
	opts(&o, "localhost");
	o.timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_TEMP &&
		has(e.text, "timeout after 1 s"),
	    "silent server times out");
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	T_OK(secs >= 0.9 && secs < 2.5, "... within the timeout");
	srv_stop(&s);

	path(crt, sizeof(crt), "client", ".pem");
	path(key, sizeof(key), "client", ".key");
	srv_start(&s, "server", M_CLIENTCERT);
	opts(&o, "localhost");
	o.cert = crt;
	o.key = key;
	T_OK(session(s.port, &o, &in, &e) == 0, "client certificate accepted");
	o.cert = NULL;
	T_OK(session(s.port, &o, &in, &e) != 0,
	    "no client certificate: the server refuses");
	o.cert = crt;
	o.key = "/nonexistent/client.key";
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_CONFIG &&
		has(e.text, "tls_client_key"),
	    "unreadable client key: config error");
	o.key = ca; /* a certificate, not a key */
	T_OK(session(s.port, &o, &in, &e) == -1 && e.class == ERR_CONFIG,
	    "wrong client key: config error");
	srv_stop(&s);
}

static void
cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (dir[0] != '\0' &&
	    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd))
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
}

int
main(void)
{
	const char *src = getenv("POSTERN_SRCDIR");
	char cmd[2 * PATH_MAX];

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/t_tls.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/certs/mkcerts.sh' '%s'",
	    src ? src : ".", dir);
	if (system(cmd) != 0) {
		T_OK(0, "tests/certs/mkcerts.sh");
		return t_done();
	}
	path(ca, sizeof(ca), "ca", ".pem");
	t_verify();
	t_refusals();
	t_pins();
	t_cache(M_TLS, "TLS 1.3");
	t_cache(M_TLS12, "TLS 1.2");
	t_misc();
	return t_done();
}
