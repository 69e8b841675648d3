/*
 * auth.h: SASL mechanisms for SMTP AUTH (RFC 4954): PLAIN, LOGIN, NTLM and
 * XOAUTH2, as a driver that knows nothing about sockets.
 *
 * The caller (smtp.c) runs the dialogue:
 *
 *	auth_start(&a, mech, &creds, &initial, &e)
 *	send "AUTH <mech>" or, when initial is not empty,
 *	     "AUTH <mech> <initial>"
 *	while the reply is 334:
 *		auth_step(a, <text after "334 ">, &resp, &e)
 *		  -1: send "*" (cancel), read the reply, fail with e
 *		send resp (possibly an empty line)
 *	235: success, log auth_used(a); anything else: refused
 *	auth_free(a)
 *
 * initial and resp hold base64 text without CRLF; they may contain a
 * password in thin disguise, so redact them in transcripts and wipe the
 * buffers (buf_wipe) when done.  Give them a cap of AUTH_LINE_MAX.
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include "postern/buf.h"
#include "postern/err.h"
#include "postern/ntlm.h"

/* RFC 4954: an AUTH command or response line may be 12288 octets. */
#define AUTH_LINE_MAX 12288

struct auth_creds {
	const char *user; /* UTF-8 */
	const char *password; /* XOAUTH2: the bearer token */
	const char *ntlm_domain; /* NULL or "": none (or DOMAIN\user) */
	const char *ntlm_workstation; /* NULL or "": none sent */
	int ntlm_version; /* NTLM_AUTO, NTLM_V1, NTLM_V2 */
};

struct auth;

/*
 * Start mechanism mech ("PLAIN", "LOGIN", "NTLM", "XOAUTH2", any case).
 * The credentials are copied (and wiped by auth_free).  With initial
 * non-NULL the initial response, if the mechanism has one, is written
 * there as base64 (LOGIN has none: initial stays empty) and must be sent
 * on the AUTH line; with initial NULL every response comes from
 * auth_step, answering the server's first 334.
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
/* "plain", "login", "xoauth2", "ntlmv2", "ntlmv1", "ntlmv1-ess", "ntlm". */
const char *auth_used(const struct auth *);
/* Wipe the copied credentials and free; NULL is fine. */
void auth_free(struct auth *);
/* Tests only: NTLM build options (client challenge, time...) to use. */
void auth_set_ntlm_opts(struct auth *, const struct ntlm_opts *);

#endif
