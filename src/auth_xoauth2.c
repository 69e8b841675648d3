/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_xoauth2.c: XOAUTH2 (Google's and Microsoft's SASL profile for
 * OAuth 2.0 bearer tokens).  One message, base64 on the wire, ^A being
 * the byte 0x01:
 *
 *	"user=" USER ^A "auth=Bearer " TOKEN ^A ^A
 *
 * A server that refuses the token sends a 334 with base64 JSON (the
 * error challenge), which is answered with an empty line; it then says
 * 535.  After either, a renewable token (creds->renewable) is worth one
 * more try with a fresh one (retry).
 *
 * The token is the password (password, password_file, password_command:
 * a static token someone else renews), or, with oauth2_token_url, one
 * that postern gets and renews itself from the token endpoint (oauth2.h):
 * the mode's fetch operation below turns [remote]'s oauth2_* keys into a
 * token request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "postern/base64.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "postern/oauth2.h"
#include "auth_int.h"

struct auth_xoauth2_state {
	struct auth a;
	int error_seen; /* the server sent its error challenge */
};

static int
xoauth2_response(struct auth *a, struct buf *out, struct err *e)
{
	struct buf m;
	int rc;

	buf_init(&m, AUTH_LINE_MAX);
	if (buf_printf(&m, "user=%s\001auth=Bearer %s\001\001", a->user,
		a->secret) == -1)
		rc = err_set(e, ERR_CONFIG, "AUTH XOAUTH2: token too long");
	else
		rc = base64_encode(out, m.data, m.len, e);
	buf_wipe(&m);
	return rc;
}

static int
xoauth2_start(struct auth *a, const struct auth_creds *c, struct buf *initial,
    struct err *e)
{
	if (auth_need_user(a, "AUTH XOAUTH2", e) == -1 ||
	    auth_take_secret(a, c, "AUTH XOAUTH2", e) == -1)
		return -1;
	return initial != NULL ? xoauth2_response(a, initial, e) : 0;
}

static int
xoauth2_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct auth_xoauth2_state *x = (struct auth_xoauth2_state *)a;

	(void)ch;
	(void)len;
	if (!a->initial && a->steps == 0)
		return xoauth2_response(a, resp, e);
	if (a->steps < 1 + !a->initial) {
		x->error_seen = 1;
		return 0; /* the error challenge: an empty line */
	}
	return err_set(e, ERR_NOPERM,
	    "AUTH XOAUTH2: unexpected 334 from the server");
}

static int
xoauth2_retry(const struct auth *a, int code)
{
	const struct auth_xoauth2_state *x =
	    (const struct auth_xoauth2_state *)a;

	return code == 535 || x->error_seen;
}

static const char *
xoauth2_used(const struct auth *a)
{
	(void)a;
	return "xoauth2";
}

const struct auth_mech auth_xoauth2 = {
	.sasl = "XOAUTH2",
	.size = sizeof(struct auth_xoauth2_state),
	.start = xoauth2_start,
	.step = xoauth2_step,
	.retry = xoauth2_retry,
	.used = xoauth2_used,
};

int
auth_xoauth2_fetches(const struct config_server *srv)
{
	return srv->oauth2_token_url != NULL;
}

/* The client authentication keys: a secret, or a key and a certificate. */
static int
xoauth2_check_client(const struct config_server *srv, char *why, size_t whysz)
{
	int secret = (srv->oauth2_client_secret != NULL) +
	    (srv->oauth2_client_secret_file != NULL);
	int key = srv->oauth2_client_key != NULL,
	    cert = srv->oauth2_client_cert != NULL;

	if (srv->oauth2_client_id == NULL)
		snprintf(why, whysz, "oauth2_token_url needs oauth2_client_id");
	else if (secret > 1)
		snprintf(why, whysz,
		    "oauth2_client_secret and oauth2_client_secret_file: "
		    "set only one");
	else if (key != cert)
		snprintf(why, whysz, "%s needs %s",
		    key ? "oauth2_client_key" : "oauth2_client_cert",
		    key ? "oauth2_client_cert" : "oauth2_client_key");
	else if (secret + key != 1)
		snprintf(why, whysz,
		    "oauth2_token_url needs exactly one client authentication: "
		    "oauth2_client_secret (or _file), or oauth2_client_key "
		    "with oauth2_client_cert%s",
		    secret + key == 0 ? "" : ", not both");
	else
		return 0;
	return -1;
}

/* A file key names a file postern can open now. */
static int
xoauth2_check_file(const char *key, const char *path, char *why, size_t whysz)
{
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* An oauth2_* key that means nothing without oauth2_token_url. */
static int
xoauth2_stray(const struct config_server *srv, char *why, size_t whysz)
{
	const char *k = srv->oauth2_client_id ? "oauth2_client_id"
	    : srv->oauth2_client_secret       ? "oauth2_client_secret"
	    : srv->oauth2_client_secret_file  ? "oauth2_client_secret_file"
	    : srv->oauth2_client_key          ? "oauth2_client_key"
	    : srv->oauth2_client_cert         ? "oauth2_client_cert"
	    : srv->oauth2_scope               ? "oauth2_scope"
	    : srv->oauth2_refresh_token_file  ? "oauth2_refresh_token_file"
	    : srv->oauth2_ca_file             ? "oauth2_ca_file"
					      : NULL;

	if (k == NULL)
		return 0;
	snprintf(why, whysz, "%s is set without oauth2_token_url", k);
	return -1;
}

int
auth_xoauth2_check(const struct config_server *srv, char *why, size_t whysz)
{
	int n = (srv->password != NULL) + (srv->password_file != NULL) +
	    (srv->password_command != NULL);

	if (srv->oauth2_token_url == NULL) {
		if (xoauth2_stray(srv, why, whysz) == -1)
			return -1;
		if (n == 1)
			return 0;
		snprintf(why, whysz,
		    "auth = xoauth2 needs oauth2_token_url, or %s of "
		    "password, password_file and password_command",
		    n == 0 ? "one" : "only one");
		return -1;
	}
	if (n > 0) {
		snprintf(why, whysz,
		    "oauth2_token_url and a password (a static token) are "
		    "both set: keep one");
		return -1;
	}
	/* A secret goes there: never over clear text. */
	if (strncasecmp(srv->oauth2_token_url, "https://", 8) != 0 ||
	    srv->oauth2_token_url[8] == '\0') {
		snprintf(why, whysz,
		    "oauth2_token_url must be an https:// URL");
		return -1;
	}
	if (xoauth2_check_client(srv, why, whysz) == -1)
		return -1;
	return xoauth2_check_file("oauth2_ca_file", srv->oauth2_ca_file, why,
		   whysz) == -1 ||
		xoauth2_check_file("oauth2_client_cert",
		    srv->oauth2_client_cert, why, whysz) == -1
	    ? -1
	    : 0;
}

static void
xoauth2_client(const struct config_server *srv, struct oauth2_client *c)
{
	memset(c, 0, sizeof(*c));
	c->token_url = srv->oauth2_token_url;
	c->client_id = srv->oauth2_client_id;
	c->auth = srv->oauth2_client_key != NULL ? OAUTH2_PRIVATE_KEY_JWT
	    : srv->oauth2_client_auth == 1       ? OAUTH2_SECRET_BASIC
						 : OAUTH2_SECRET_POST;
	c->key_file = srv->oauth2_client_key;
	c->cert_file = srv->oauth2_client_cert;
	c->scope = srv->oauth2_scope;
	c->refresh_token_file = srv->oauth2_refresh_token_file;
	c->ca_file = srv->oauth2_ca_file;
	c->cache_dir = srv->oauth2_token_cache;
	c->timeout = srv->timeout;
}

void
auth_xoauth2_print(const struct config_server *srv, FILE *fp)
{
	struct oauth2_client c;

	if (srv->oauth2_token_url == NULL) {
		fprintf(fp, "; the bearer token is the password (static)\n");
		return;
	}
	xoauth2_client(srv, &c);
	fprintf(fp, "; token endpoint %s (%s, %s), tokens cached in %s\n",
	    c.token_url, oauth2_grant_name(&c), oauth2_auth_name(c.auth),
	    c.cache_dir != NULL ? c.cache_dir : "(nowhere)");
}

int
auth_xoauth2_token(const struct config_server *srv, const struct auth_fetch *f,
    char **out, struct err *e)
{
	struct oauth2_client c;
	char *secret = NULL;
	int rc;

	*out = NULL;
	cred_nodump();
	xoauth2_client(srv, &c);
	c.trace = f->trace;
	c.trace_arg = f->trace_arg;
	if (srv->oauth2_client_secret != NULL)
		c.secret = srv->oauth2_client_secret;
	else if (srv->oauth2_client_secret_file != NULL) {
		if (cred_file(srv->oauth2_client_secret_file,
			"oauth2_client_secret_file", &secret, e) == -1)
			return -1;
		c.secret = secret;
	}
	rc = oauth2_token(&c, f->fresh, f->reject, out, e);
	cred_free(secret);
	return rc;
}
