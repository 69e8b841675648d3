/*
 * smtp_auth.c: SMTP AUTH (RFC 4954) on an open session, after TLS: pick
 * the mechanism the configuration asks for among those the server
 * offers, fetch the secret, and run auth.c's mechanism driver over the
 * 334 dialogue.
 *
 *	auth = basic	AUTH PLAIN <initial>, else AUTH LOGIN
 *	auth = ntlm	AUTH NTLM <NEGOTIATE> (or a bare AUTH NTLM if the
 *			server asks again), then the AUTHENTICATE
 *	auth = xoauth2	AUTH XOAUTH2 <token>
 *
 * Nothing is tried that was not configured: no fallback from NTLM to
 * Basic, no second attempt after a 535, no clear-text Basic unless
 * allow_plaintext_auth says so.  Every buffer that held the secret, in
 * whatever encoding, is wiped before it is freed; the transcript shows
 * AUTH lines and answers as "<redacted>".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postern/auth.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "smtp_int.h"

#define AUTH_STEPS_MAX 8 /* 334s answered; LOGIN needs 2, NTLM 2 */

static const char *const auth_modes[] = { "anonymous", "basic", "ntlm",
	"xoauth2" };

/* After a failure: say goodbye if we still can, so the next host is clean. */
static int
auth_quit(struct smtp_session *s)
{
	struct err e;

	if (s->conn != NULL && smtp_put(s, "QUIT", 0, &e) == 0 &&
	    smtp_flush(s, &e) == 0)
		(void)smtp_read(s, &s->reply, "the reply to QUIT", &e);
	if (s->conn != NULL)
		smtp_drop(s);
	return -1;
}

/* The SASL mechanism for the configured mode, if the server offers it. */
static int
auth_pick(struct smtp_session *s, const struct config_server *srv,
    const char **mech, struct err *err)
{
	const char *mode = auth_modes[srv->auth];
	int tls = conn_tls(s->conn) != NULL;

	*mech = NULL;
	if (srv->auth == CONFIG_AUTH_BASIC)
		*mech = smtp_caps_has_auth(&s->caps, "PLAIN") ? "PLAIN"
		    : smtp_caps_has_auth(&s->caps, "LOGIN")   ? "LOGIN"
							      : NULL;
	else if (srv->auth == CONFIG_AUTH_NTLM &&
	    smtp_caps_has_auth(&s->caps, "NTLM"))
		*mech = "NTLM";
	else if (srv->auth == CONFIG_AUTH_XOAUTH2 &&
	    smtp_caps_has_auth(&s->caps, "XOAUTH2"))
		*mech = "XOAUTH2";
	if (*mech != NULL)
		return 0;
	if (s->caps.auth[0] == '\0')
		return err_set(err, ERR_NOPERM,
		    "cannot authenticate (auth = %s): %s offers no AUTH%s",
		    mode, s->relay,
		    tls ? "" : " without TLS (set tls = starttls or implicit)");
	return err_set(err, ERR_NOPERM,
	    "cannot authenticate (auth = %s): %s offers only AUTH %s%s", mode,
	    s->relay, s->caps.auth,
	    srv->auth == CONFIG_AUTH_BASIC ? " (basic needs PLAIN or LOGIN)"
					   : "");
}

/* The 334 dialogue: answer challenges until the server decides. */
static int
auth_dialogue(struct smtp_session *s, struct auth *a, struct buf *resp,
    const struct smtp_reply **r, struct err *err)
{
	const struct smtp_reply *cr;
	struct err e2;
	int steps = 0;

	while ((*r)->code == 334) {
		if (++steps > AUTH_STEPS_MAX)
			return err_set(err, ERR_NOPERM,
			    "AUTH with %s: more than %d challenges", s->relay,
			    AUTH_STEPS_MAX);
		if (auth_step(a, (*r)->text, resp, err) == -1) {
			/* RFC 4954 4: "*" cancels; the server says 501. */
			(void)smtp_command(s, "*", 0, &cr, &e2);
			return -1;
		}
		if (smtp_command(s, buf_str(resp), 1, r, err) == -1)
			return -1;
	}
	return 0;
}

/* Run mechanism mech with the secret pw. */
static int
auth_run(struct smtp_session *s, const struct config_server *srv,
    const char *mech, const char *pw, struct err *err)
{
	const struct smtp_reply *r;
	struct auth_creds creds;
	struct buf initial, resp, line;
	struct auth *a = NULL;
	char what[64];
	int rc = -1;

	memset(&creds, 0, sizeof(creds));
	creds.user = srv->user;
	creds.password = pw;
	creds.ntlm_domain = srv->ntlm_domain;
	creds.ntlm_workstation = srv->ntlm_workstation;
	creds.ntlm_version = srv->ntlm_version;
	buf_init(&initial, AUTH_LINE_MAX);
	buf_init(&resp, AUTH_LINE_MAX);
	buf_init(&line, AUTH_LINE_MAX + 32);
	if (auth_start(&a, mech, &creds, &initial, err) == -1)
		goto out;
	if (buf_printf(&line, "AUTH %s%s%s", mech, initial.len ? " " : "",
		buf_str(&initial)) == -1) {
		err_set(err, ERR_CONFIG, "AUTH %s: credentials too long", mech);
		goto out;
	}
	if (smtp_command(s, buf_str(&line), 0, &r, err) == -1 ||
	    auth_dialogue(s, a, &resp, &r, err) == -1)
		goto out;
	if (r->code != 235) {
		snprintf(what, sizeof(what), "AUTH %s refused", mech);
		smtp_refused(s, r, r->code / 100 == 4 ? ERR_TEMP : ERR_NOPERM,
		    err, what);
		goto out;
	}
	s->auth = auth_used(a);
	rc = 0;
out:
	auth_free(a);
	buf_wipe(&initial);
	buf_wipe(&resp);
	buf_wipe(&line);
	return rc;
}

int
smtp_auth(struct smtp_session *s, const struct config_server *srv,
    struct err *err)
{
	const char *mech;
	char *pw = NULL, note[512];
	int rc;

	s->auth = NULL;
	if (srv->auth == CONFIG_AUTH_ANONYMOUS || s->opts.no_auth)
		return 0;
	/* The password would cross the network as it is: not unasked. */
	if ((srv->auth == CONFIG_AUTH_BASIC ||
		srv->auth == CONFIG_AUTH_XOAUTH2) &&
	    conn_tls(s->conn) == NULL && !srv->allow_plaintext_auth) {
		err_set(err, ERR_CONFIG,
		    "auth = %s would send the password to %s in clear text: "
		    "use tls = starttls or implicit, or set "
		    "allow_plaintext_auth = yes",
		    auth_modes[srv->auth], s->relay);
		return auth_quit(s);
	}
	if (auth_pick(s, srv, &mech, err) == -1)
		return auth_quit(s);
	snprintf(note, sizeof(note), "auth = %s: AUTH %s as %s",
	    auth_modes[srv->auth], mech, srv->user);
	smtp_transcript(s, "--- ", note, strlen(note));
	if (cred_password(srv, &pw, err) == -1)
		return auth_quit(s);
	rc = auth_run(s, srv, mech, pw, err);
	cred_free(pw);
	if (rc == -1)
		return auth_quit(s);
	return 0;
}

const char *
smtp_auth_used(const struct smtp_session *s)
{
	return s->auth != NULL ? s->auth : "none";
}
