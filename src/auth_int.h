/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_int.h: the interface every SASL mechanism file implements
 * (auth_plain.c, auth_login.c, auth_ntlm.c, auth_xoauth2.c), and what
 * the driver (auth.c) gives them.  Not for other modules.
 *
 * A mechanism's state is its own struct whose first member is a struct
 * auth (Postfix's xsasl clients extend their object the same way); the
 * driver allocates mech->size bytes zeroed, fills the struct auth and
 * calls the operations:
 *
 *	start(a, creds, initial, e)	required.  Take what it needs from
 *		creds (auth_take_secret fetches the secret; a mechanism
 *		whose secret can go stale calls it with creds->fresh, which
 *		the driver sets on the retry).  initial NULL: the server will
 *		send a first 334, answered by step; else write the initial
 *		response there (or leave it empty).
 *	step(a, ch, len, resp, e)	required.  Answer one 334: ch is the
 *		text after "334 ", trimmed, len bytes.  resp is empty; put
 *		the base64 answer there (empty answers with an empty line).
 *		-1: the driver cancels with "*".  a->steps counts the 334s
 *		answered before this one.
 *	retry(a, code)		NULL: never.  After a final reply that is not
 *		235: 1 to be started once more with fresh credentials
 *		(XOAUTH2 after a 535 or its error challenge, when its token
 *		is renewable).  The driver asks only when creds were
 *		renewable and this was not the retry already.
 *	used(a)			required.  The name for the log, static text.
 *	free(a)			NULL: nothing to wipe.  Wipe and free what the
 *		mechanism's own state points to (not the struct itself).
 *
 * The driver wipes a->user, a->secret and the whole state after free.
 */
#ifndef POSTERN_AUTH_INT_H
#define POSTERN_AUTH_INT_H

#include <stddef.h>
#include <stdio.h>

#include "postern/auth.h"

struct auth {
	const struct auth_mech *mech;
	int initial; /* an initial response went on the AUTH line */
	int steps; /* 334s answered */
	int renewable; /* creds->renewable */
	int fresh; /* creds->fresh: this is the retry */
	char *user; /* copy of creds->user, or NULL */
	char *secret; /* auth_take_secret's, wiped by the driver */
};

struct auth_mech {
	const char *sasl; /* "PLAIN": the name on the AUTH line */
	size_t size; /* of the state, >= sizeof(struct auth) */
	int (*start)(struct auth *, const struct auth_creds *,
	    struct buf *initial, struct err *);
	int (*step)(struct auth *, const char *ch, size_t len, struct buf *resp,
	    struct err *);
	int (*retry)(const struct auth *, int code);
	const char *(*used)(const struct auth *);
	void (*free)(struct auth *);
};

/* The mechanisms, one per file. */
extern const struct auth_mech auth_plain;
extern const struct auth_mech auth_login;
extern const struct auth_mech auth_ntlm;
extern const struct auth_mech auth_xoauth2;
extern const struct auth_mech auth_gssapi;
int auth_gssapi_check(const struct config_server *, char *why, size_t);
void auth_gssapi_print(const struct config_server *, FILE *);

/* XOAUTH2's mode: its keys, --check lines, and its token endpoint. */
int auth_xoauth2_check(const struct config_server *, char *why, size_t whysz);
void auth_xoauth2_print(const struct config_server *, FILE *);
int auth_xoauth2_fetches(const struct config_server *);
int auth_xoauth2_token(const struct config_server *, const struct auth_fetch *,
    char **out, struct err *);

/*
 * Fetch the secret into a->secret: creds->password copied, else
 * creds->get_secret(arg, creds->fresh, ...).  ERR_CONFIG when there is
 * neither; the provider's own errors as they are.  what names the
 * mechanism in errors ("AUTH PLAIN").
 */
int auth_take_secret(struct auth *, const struct auth_creds *, const char *what,
    struct err *);
/* a->user must be set and not empty (ERR_CONFIG otherwise). */
int auth_need_user(const struct auth *, const char *what, struct err *);
/* Wipe a NUL-terminated string and free it; NULL is fine. */
void auth_wipe_str(char *);
/* Every mechanism of the mode table, once each, NULL-terminated. */
const struct auth_mech *const *auth_mech_list(void);

#endif
