/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp_auth.c: SMTP AUTH (RFC 4954) on an open session, after TLS: pick
 * the mechanism the configuration asks for among those the server
 * offers, fetch the secret, and run auth.c's mechanism driver over the
 * 334 dialogue.  Which mechanisms a mode may use, in which order, and
 * whether it may go over clear text is the mechanism table's word
 * (auth.h, auth_mechs.c).
 *
 * Nothing is tried that was not configured: no fallback from NTLM to
 * Basic, no clear-text Basic unless allow_plaintext_auth says so, and
 * no second attempt after a 535 unless the mechanism asks for one with
 * renewable credentials (never for a password).  Every buffer that held the
 * secret, in whatever encoding, is wiped before it is freed; the transcript
 * shows AUTH lines and answers as "<redacted>".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postern/auth.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "smtp_int.h"

#define AUTH_STEPS_MAX 8 /* 334s answered; LOGIN needs 2, NTLM 2 */

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

/* "PLAIN or LOGIN": the mechanisms of mode m. */
static void
auth_names(const struct auth_mode *m, char *out, size_t outsz)
{
	size_t used = 0, i;
	int n;

	out[0] = '\0';
	for (i = 0; m->mechs[i] != NULL; i++) {
		n = snprintf(out + used, outsz - used, "%s%s",
		    i == 0                        ? ""
			: m->mechs[i + 1] == NULL ? " or "
						  : ", ",
		    auth_mech_name(m->mechs[i]));
		if (n < 0 || (size_t)n >= outsz - used)
			return;
		used += (size_t)n;
	}
}

/* The SASL mechanism for the configured mode, if the server offers it. */
static int
auth_pick(struct smtp_session *s, const struct auth_mode *m, const char **mech,
    struct err *err)
{
	int tls = conn_tls(s->conn) != NULL;
	char names[64], hint[96] = "";
	size_t i;

	*mech = NULL;
	for (i = 0; m->mechs[i] != NULL; i++)
		if (smtp_caps_has_auth(&s->caps, auth_mech_name(m->mechs[i]))) {
			*mech = auth_mech_name(m->mechs[i]);
			return 0;
		}
	if (s->caps.auth[0] == '\0')
		return err_set(err, ERR_NOPERM,
		    "cannot authenticate (auth = %s): %s offers no AUTH%s",
		    m->name, s->relay,
		    tls ? "" : " without TLS (set tls = starttls or implicit)");
	auth_names(m, names, sizeof(names));
	if (i > 1)
		snprintf(hint, sizeof(hint), " (%s needs %s)", m->name, names);
	return err_set(err, ERR_NOPERM,
	    "cannot authenticate (auth = %s): %s offers only AUTH %s%s",
	    m->name, s->relay, s->caps.auth, hint);
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

/* Where creds.get_secret takes the secret from. */
struct auth_source {
	const struct config_server *srv;
	struct smtp_session *s;
	char *last; /* the fetched secret given last: stale on a retry */
};

/* -v: the token request's endpoint and result (never a secret). */
static void
auth_trace(void *arg, const char *line)
{
	smtp_transcript(arg, "--- ", line, strlen(line));
}

/*
 * creds.get_secret: a secret the mode fetches (a token from its
 * endpoint), else the password from the ini, a file or a command.
 */
static int
auth_secret(void *arg, int fresh, char **out, struct err *err)
{
	struct auth_source *src = arg;
	struct auth_fetch f;

	if (!auth_fetches(src->srv))
		return cred_password(src->srv, out, err); /* not renewable */
	memset(&f, 0, sizeof(f));
	f.fresh = fresh;
	f.reject = fresh ? src->last : NULL;
	f.trace = auth_trace;
	f.trace_arg = src->s;
	if (auth_fetch(src->srv, &f, out, err) == -1)
		return -1;
	cred_free(src->last);
	src->last = strdup(*out); /* NULL: no stale one is recognised */
	return 0;
}

/*
 * Run mechanism mech once.  On a refusal *again says whether the
 * mechanism asks to be run once more with fresh credentials.
 */
static int
auth_run(struct smtp_session *s, const char *mech,
    const struct auth_creds *creds, int *again, struct err *err)
{
	const struct smtp_reply *r;
	struct buf initial, resp, line;
	struct auth *a = NULL;
	char what[64];
	int rc = -1;

	*again = 0;
	buf_init(&initial, AUTH_LINE_MAX);
	buf_init(&resp, AUTH_LINE_MAX);
	buf_init(&line, AUTH_LINE_MAX + 32);
	if (auth_start(&a, mech, creds, &initial, err) == -1)
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
		*again = s->conn != NULL && auth_retry(a, r->code);
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
    const char *host, struct err *err)
{
	const struct auth_mode *m = auth_mode_of(srv);
	struct auth_source src;
	struct auth_creds creds;
	const char *mech;
	char note[512];
	int again, rc;

	s->auth = NULL;
	if (m->mechs[0] == NULL || s->opts.no_auth)
		return 0;
	/* The password would cross the network as it is: not unasked. */
	if (m->plaintext && conn_tls(s->conn) == NULL &&
	    !srv->allow_plaintext_auth) {
		err_set(err, ERR_CONFIG,
		    "auth = %s would send the password to %s in clear text: "
		    "use tls = starttls or implicit, or set "
		    "allow_plaintext_auth = yes",
		    m->name, s->relay);
		return auth_quit(s);
	}
	if (auth_pick(s, m, &mech, err) == -1)
		return auth_quit(s);
	snprintf(note, sizeof(note), "auth = %s: AUTH %s%s%s", m->name, mech,
	    srv->user != NULL ? " as " : "",
	    srv->user != NULL ? srv->user : "");
	smtp_transcript(s, "--- ", note, strlen(note));
	memset(&creds, 0, sizeof(creds));
	creds.user = srv->user;
	src.srv = srv;
	src.s = s;
	src.last = NULL;
	creds.get_secret = auth_secret;
	creds.secret_arg = &src;
	creds.renewable = auth_fetches(srv);
	creds.ntlm_domain = srv->ntlm_domain;
	creds.ntlm_workstation = srv->ntlm_workstation;
	creds.ntlm_version = srv->ntlm_version;
	creds.host = host;
	creds.srv = srv;
	rc = auth_run(s, mech, &creds, &again, err);
	if (rc == -1 && again) {
		/* Once, when the mechanism says a fresh secret may do. */
		smtp_transcript(s, "--- ", "AUTH again with fresh credentials",
		    33);
		creds.fresh = 1;
		rc = auth_run(s, mech, &creds, &again, err);
	}
	cred_free(src.last);
	return rc == 0 ? 0 : auth_quit(s);
}

void
smtp_auth_info(const struct smtp_session *s, const struct config_server *srv,
    FILE *fp)
{
	const struct auth_mode *m = auth_mode_of(srv);
	char names[64];
	size_t i;

	if (m->mechs[0] == NULL)
		return;
	for (i = 0; m->mechs[i] != NULL; i++)
		if (smtp_caps_has_auth(&s->caps, auth_mech_name(m->mechs[i]))) {
			fprintf(fp, "auth = %s: AUTH %s is offered\n", m->name,
			    auth_mech_name(m->mechs[i]));
			return;
		}
	auth_names(m, names, sizeof(names));
	fprintf(fp, "auth = %s: AUTH %s is not offered\n", m->name, names);
}

const char *
smtp_auth_used(const struct smtp_session *s)
{
	return s->auth != NULL ? s->auth : "none";
}
