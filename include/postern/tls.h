/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * tls.h: TLS client over a connected socket (OpenSSL, in tls.c only).
 *
 * The socket belongs to the caller (conn.c) and stays open after
 * tls_close.  It must be non-blocking (tls_start makes it so): every wait
 * goes through poll() and is bounded by tls_opts.timeout, so a silent or
 * hostile server cannot hold postern.  The caller must ignore SIGPIPE
 * (main.c does): OpenSSL writes to the socket with write(2).
 *
 * Verification failures, handshake failures and timeouts are ERR_TEMP
 * (the admin can fix them and nothing is lost), with one line naming the
 * host and the cause: "TLS handshake with mail.example.org failed:
 * certificate has expired (notAfter 2024-01-01 00:00:00 UTC)".
 * Unreadable or invalid cert, key, CA, pins or ciphers are ERR_CONFIG.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct err;
struct tls;

struct tls_opts {
	/*
	 * The name to verify and send as SNI.  An IP literal ("192.0.2.1",
	 * "2001:db8::1", "[2001:db8::1]") is verified against the
	 * certificate's IP addresses and sends no SNI.  May be NULL only
	 * with verify = 0 or pins.
	 */
	const char *host;
	int verify; /* 1: chain and name (default) */
	const char *ca_file; /* NULL and ca_dir NULL: system store */
	const char *ca_dir;
	/*
	 * "sha256/BASE64, sha256/BASE64": SHA-256 of the leaf certificate's
	 * SubjectPublicKeyInfo.  With pins the chain and name need not
	 * verify, but one pin must match the leaf (checked even when
	 * verify = 0).  NULL or "": no pinning.
	 */
	const char *pins;
	int min_version; /* 12 or 13; 0 means 12 */
	const char *cert; /* client certificate chain, PEM */
	const char *key; /* its key, PEM; NULL: in cert */
	/*
	 * OpenSSL cipher list, ':'-separated; names starting with "TLS_"
	 * set the TLS 1.3 suites, the others the TLS 1.2 list.  NULL:
	 * OpenSSL's defaults.
	 */
	const char *ciphers;
	/*
	 * A file holding the session of this one upstream (the caller
	 * picks one path per host:port), or NULL.  Read before the
	 * handshake if present and usable; rewritten (0600, atomically)
	 * whenever the server issues a session, which with TLS 1.3 happens
	 * after the handshake, when the first reply is read.  A missing,
	 * broken, stale or unwritable file is ignored, never an error.
	 */
	const char *session_cache;
	int timeout; /* seconds: the whole handshake, and each
			wait in tls_read/tls_write */
};

/* Values of tls_info.verified. */
#define TLS_UNVERIFIED 0 /* verify = 0: nothing checked */
#define TLS_VERIFIED 1 /* chain and name verified */
#define TLS_PINNED 2 /* a pin matched (chain may not verify) */

struct tls_info {
	char version[16]; /* "TLSv1.3" */
	char cipher[64]; /* "TLS_AES_256_GCM_SHA384" */
	int resumed; /* 1: session reused from the cache */
	/* The server's leaf certificate; strings sanitised for logs. */
	char subject[256]; /* RFC 2253: "CN=mail.example.org" */
	char issuer[256];
	char not_before[32]; /* "2025-01-31 12:00:00 UTC" */
	char not_after[32];
	char pin[64]; /* "sha256/BASE64" of the leaf SPKI */
	int verified; /* TLS_UNVERIFIED, _VERIFIED, _PINNED */
	char verify_error[256]; /* why the chain does not verify, "" */
};

/*
 * Handshake as a client on the connected socket fd, within
 * opts->timeout seconds in all.  On success *tlsp is the session, to be
 * freed with tls_close.  The opts strings need not outlive the call.
 */
int tls_start(struct tls **tlsp, int fd, const struct tls_opts *opts,
    struct err *);
/* Write all len bytes; each wait bounded by the timeout. */
int tls_write(struct tls *, const void *, size_t, struct err *);
/*
 * Read up to len bytes, waiting at most the timeout for the first.
 * 0 with *got > 0: data.  0 with *got == 0: the server closed the TLS
 * session cleanly (close_notify).  -1: timeout, error, or the connection
 * closed without close_notify (ERR_TEMP, the text says which).
 */
int tls_read(struct tls *, void *, size_t len, size_t *got, struct err *);

/*
 * The same without waiting, in the shape of conn.h's struct conn_io so
 * conn.c can install them as they are (ctx is the struct tls; fd is
 * ignored).  Return the bytes moved, 0 at clean EOF (read),
 * TLS_WANT_READ or TLS_WANT_WRITE (poll for that, then call again with
 * the same buffer and no fewer bytes), or -1 with err filled.
 */
#define TLS_WANT_READ (-2) /* == CONN_IO_WANT_READ */
#define TLS_WANT_WRITE (-3) /* == CONN_IO_WANT_WRITE */
ssize_t tls_io_read(void *ctx, int fd, void *, size_t, struct err *);
ssize_t tls_io_write(void *ctx, int fd, const void *, size_t, struct err *);
/* Bytes decrypted and buffered inside TLS, not yet returned. */
size_t tls_io_pending(void *ctx);
/* tls_close(ctx). */
void tls_io_close(void *ctx);

void tls_get_info(const struct tls *, struct tls_info *);
/* Check the syntax of a tls_pin value (for --check): ERR_CONFIG. */
int tls_check_pins(const char *, struct err *);
/*
 * Would OpenSSL accept this tls_ciphers value?  ERR_CONFIG
 * ("tls_ciphers: no cipher match") when not.  Builds and frees a
 * context: call it only when tls_ciphers is set.
 */
int tls_check_ciphers(const char *, struct err *);
/*
 * For --serverinfo: every certificate the server sent, leaf first, with
 * subject, issuer, validity and SPKI pin.  -1 on a write error.
 */
int tls_print_chain(const struct tls *, FILE *);
/* Send close_notify if it can go without waiting, free; NULL is a no-op. */
void tls_close(struct tls *);

#endif
