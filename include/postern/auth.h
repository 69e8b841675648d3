/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth.h: SASL mechanisms for SMTP AUTH (RFC 4954) as a table of
 * operations, and the driver that runs them, knowing nothing about
 * sockets.
 *
 * Two tables (src/auth_mechs.c holds both):
 *
 *	mechanisms	one struct auth_mech per SASL mechanism, each in
 *			its own file (auth_plain.c, auth_login.c,
 *			auth_ntlm.c, auth_xoauth2.c, auth_gssapi.c): its
 *			SASL name and
 *			its start, step, retry, used and free operations
 *			(src/auth_int.h says what each must do)
 *	modes		one struct auth_mode per value of the ini's
 *			"auth =": the mechanisms it may use in order of
 *			preference, and its rules (user, secret, clear
 *			text, extra checks), its --check text
 *
 * The ini reader, the key checks (cred.c), --check and smtp_auth.c read
 * these rows and have no list of their own.  Adding a mechanism is one
 * file and one row.  A row whose mechanism lacks an operation it needs
 * is caught before anything is sent (auth_start refuses it as
 * ERR_SOFTWARE): nothing falls through to another mechanism.
 *
 * The caller (smtp.c) runs the dialogue:
 *
 *	again:
 *	auth_start(&a, mech, &creds, &initial, &e)
 *	send "AUTH <mech>" or, when initial is not empty,
 *	     "AUTH <mech> <initial>"
 *	while the reply is 334:
 *		auth_step(a, <text after "334 ">, &resp, &e)
 *		  -1: send "*" (cancel), read the reply, fail with e
 *		send resp (possibly an empty line)
 *	235: success, log auth_used(a)
 *	anything else: if !creds.fresh and auth_retry(a, code): auth_free,
 *		creds.fresh = 1, goto again (once); else refused
 *	auth_free(a)
 *
 * initial and resp hold base64 text without CRLF; they may contain a
 * password in thin disguise, so redact them in transcripts and wipe the
 * buffers (buf_wipe) when done.  Give them a cap of AUTH_LINE_MAX.
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stddef.h>
#include <stdio.h>

#include "postern/buf.h"
#include "postern/err.h"
#include "postern/ntlm.h"

struct config_server;

/* RFC 4954: an AUTH command or response line may be 12288 octets. */
#define AUTH_LINE_MAX 12288

/*
 * What a mechanism may use.  Nothing here is copied but what a mechanism
 * keeps (the user, the secret it fetched); the rest must outlive the
 * struct auth.
 */
struct auth_creds {
	const char *user; /* UTF-8; NULL for a mechanism that needs none */
	const char *password; /* a static secret; XOAUTH2: the bearer token */
	const char *ntlm_domain; /* NULL or "": none (or DOMAIN\user) */
	const char *ntlm_workstation; /* NULL or "": none sent */
	int ntlm_version; /* NTLM_AUTO, NTLM_V1, NTLM_V2 */
	/*
	 * With password NULL, the secret comes from get_secret: a malloc'd
	 * string in *out that the mechanism wipes and frees.  fresh = 1
	 * says a secret it gave was refused: drop any cached one and fetch
	 * anew.  renewable says that can give a different secret (a token
	 * endpoint, not a file): only then may a mechanism ask, through
	 * auth_retry, to be run once more.
	 */
	int (*get_secret)(void *arg, int fresh, char **out, struct err *);
	void *secret_arg;
	int renewable;
	int fresh; /* set by the driver for the one retry */
	const char *host; /* the server's name as configured, for a
			   * mechanism that names its target (GSSAPI) */
	/* The server's settings, for a mechanism's own keys (gssapi_*). */
	const struct config_server *srv;
};

struct auth;
struct auth_mech;

/*
 * What a mode that fetches its secret itself (auth_fetch) may use
 * besides the server's keys.
 */
struct auth_fetch {
	int fresh; /* do not take a cached secret */
	const char *reject; /* the secret the server just refused, or NULL */
	/* -v and --oauth2-test: one line per step, never a secret. */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

/* ini "auth = name": a row of the mode table. */
enum auth_rule {
	AUTH_NEVER, /* the key must not be set */
	AUTH_NEEDED, /* the key (or one of the keys) must be set */
	AUTH_OPTIONAL,
};

#define AUTH_MODE_MECHS 3

struct auth_mode {
	const char *name; /* ini value; row 0 is "anonymous" */
	/* SASL mechanisms in order of preference, NULL-terminated; none:
	 * no AUTH at all. */
	const struct auth_mech *mechs[AUTH_MODE_MECHS + 1];
	const char *about; /* --check: what it sends */
	enum auth_rule user; /* user */
	enum auth_rule secret; /* password, password_file, password_command:
				* NEEDED means exactly one */
	/* It sends the secret as it is: never over clear text unless
	 * allow_plaintext_auth says so. */
	int plaintext;
	/* Further checks of the mode's own keys at load time; NULL: none.
	 * -1 with why filled. */
	int (*check)(const struct config_server *, char *why, size_t whysz);
	/* --check: more comment lines ("; ...") about srv's credentials;
	 * NULL: none. */
	void (*print)(const struct config_server *, FILE *);
	/*
	 * A secret the mode fetches itself instead of password,
	 * password_file or password_command (XOAUTH2's token endpoint):
	 * NULL, or 1 when srv's keys ask for that.  Such a secret is
	 * renewable.  fetch gets it into *out (malloc'd, for cred_free).
	 */
	int (*fetches)(const struct config_server *);
	int (*fetch)(const struct config_server *, const struct auth_fetch *,
	    char **out, struct err *);
};

/* Row i of the mode table, NULL past its end. */
const struct auth_mode *auth_mode_at(int i);
/* The row named name (any case), -1 when there is none. */
int auth_mode_find(const char *name);
/* The row srv->auth selects (row 0 for a bad index). */
const struct auth_mode *auth_mode_of(const struct config_server *);
/* --check: "; " comment lines saying what srv's mode sends, and more. */
void auth_print(const struct config_server *, FILE *);
/* 1 when srv's mode fetches its secret itself (then it is renewable). */
int auth_fetches(const struct config_server *);
/* That secret, into *out (cred_free it); ERR_USAGE when there is none. */
int auth_fetch(const struct config_server *, const struct auth_fetch *,
    char **out, struct err *);
/*
 * --check --oauth2-test: fetch srv's secret anew now and say on fp, as
 * "; " comment lines, where from and what came of it (never the
 * secret).  ERR_USAGE when srv's mode fetches nothing.
 */
int auth_fetch_test(const struct config_server *, FILE *fp, struct err *);
/* A mechanism's SASL name ("PLAIN"). */
const char *auth_mech_name(const struct auth_mech *);

/*
 * Start mechanism mech (its SASL name, any case, among those of the
 * table).  With initial non-NULL the initial response, if the mechanism
 * has one, is written there as base64 (LOGIN has none: initial stays
 * empty) and must be sent on the AUTH line; with initial NULL every
 * response comes from auth_step, answering the server's first 334.
 * The secret is fetched here (creds->password, else get_secret): its
 * errors come back as they are.
 */
int auth_start(struct auth **, const char *mech, const struct auth_creds *,
    struct buf *initial, struct err *);
/*
 * Answer one 334 challenge (the text after "334 ", may be empty; base64
 * for every mechanism, but text that is not base64 is tolerated where a
 * server is known to send it).  resp is emptied and gets the answer.
 * ERR_NOPERM when the server's challenge makes no sense, ERR_CONFIG when
 * the credentials cannot be encoded.
 */
int auth_step(struct auth *, const char *challenge, struct buf *resp,
    struct err *);
/*
 * After the final reply code (not 235): 1 when the mechanism asks to be
 * started once more with fresh credentials (creds->fresh = 1), which it
 * does only when they are renewable and this was not already the retry.
 */
int auth_retry(const struct auth *, int code);
/* For the log: "plain", "login", "xoauth2", "ntlmv2"...; static text. */
const char *auth_used(const struct auth *);
/* Wipe what the mechanism holds and free; NULL is fine. */
void auth_free(struct auth *);
/* Tests only: NTLM build options (client challenge, time...) to use. */
void auth_set_ntlm_opts(struct auth *, const struct ntlm_opts *);

#endif
