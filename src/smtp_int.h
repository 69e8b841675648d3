/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp_int.h: what smtp.c (the session) and smtp_tx.c (the transaction)
 * share; not for other modules.
 */
#ifndef POSTERN_SMTP_INT_H
#define POSTERN_SMTP_INT_H

#include "postern/buf.h"
#include "postern/conn.h"
#include "postern/err.h"
#include "postern/smtp.h"
#include "postern/tls.h"

#define SMTP_CMD_MAX 8192 /* one command line: ORCPT may triple 998 */
/* Largest message sent in one group with BDAT (smtp_tx.c says why). */
#define SMTP_BDAT_MAX 65536

enum smtp_state {
	SMTP_GREETING,
	SMTP_EHLO,
	SMTP_HELO,
	SMTP_READY,
	SMTP_FAILED,
};

struct smtp_session {
	struct conn *conn; /* NULL once dead */
	struct smtp_opts opts;
	struct smtp_caps caps;
	enum smtp_state state;
	int dirty; /* a MAIL was accepted, no dot */
	const char *auth; /* auth_used() after a 235, NULL: none */
	struct smtp_reply reply; /* the last reply */
	struct smtp_reply greeting; /* for --serverinfo */
	struct smtp_reply ehlo;
	struct buf cmd;
	struct buf bdat; /* the message data for BDAT, unstuffed */
	/* TLS (smtp_tls.c) */
	int starttls; /* STARTTLS was attempted */
	struct smtp_reply ehlo_clear; /* EHLO reply before it */
	struct tls_info tls; /* after the handshake */
	char tls_text[96]; /* "TLSv1.3/CIPHER/resumed", "" */
	char relay[CONN_PEER_MAX];
	char line[SMTP_LINE_MAX + 1];
};

/* opts.verbose: one transcript line on stderr, sanitised. */
void smtp_transcript(const struct smtp_session *, const char *dir,
    const char *line, size_t len);
/* Drop the connection without QUIT; the session cannot be used again. */
void smtp_drop(struct smtp_session *);
/* Queue one command line (CRLF added, not flushed); secret: redacted. */
int smtp_put(struct smtp_session *, const char *, int secret, struct err *);
int smtp_flush(struct smtp_session *, struct err *);
/* Read one whole reply; any failure drops the session. */
int smtp_read(struct smtp_session *, struct smtp_reply *, const char *label,
    struct err *);
/* Fill err from a refusal: "<what> by HOST: 550 5.1.1 text"; -1. */
int smtp_refused(struct smtp_session *, const struct smtp_reply *,
    enum err_class, struct err *, const char *what);
/* 5xx: ERR_UNAVAIL; anything else unexpected: ERR_TEMP. */
enum err_class smtp_class(int code);

struct config_server;
/*
 * AUTH as srv asks (smtp_auth.c), on a session past EHLO (and past
 * STARTTLS) with host (its name as configured).  On failure the session is closed (QUIT) and err says why:
 * ERR_NOPERM for a refusal or a mechanism the server does not offer,
 * ERR_CONFIG for settings or a secret that cannot work, ERR_TEMP for a
 * 4xx or a lost connection.
 */
int smtp_auth(struct smtp_session *, const struct config_server *srv,
    const char *host, struct err *);
/* --serverinfo: whether the server offers the mechanism auth = needs. */
void smtp_auth_info(const struct smtp_session *, const struct config_server *,
    FILE *);

/*
 * smtp_tls.c, by srv->tls: implicit TLS right after connect (before the
 * greeting); STARTTLS after the first EHLO, then EHLO again.  No-ops
 * for other modes.  On failure the caller drops the connection.
 */
struct config_host;
int smtp_tls_implicit(struct smtp_session *, const struct config_server *,
    const struct config_host *, const char *port, struct err *);
int smtp_tls_starttls(struct smtp_session *, const struct config_server *,
    const struct config_host *, const char *port, struct err *);
/* --serverinfo: version, cipher, verification, the chain. */
int smtp_tls_print(const struct smtp_session *, FILE *);

#endif
