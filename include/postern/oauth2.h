/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * oauth2.h: the OAuth 2.0 token client behind auth = xoauth2 (RFC 6749):
 * postern asks the token endpoint for an access token itself, with
 *
 *	client_credentials	(the default; an app registration) or
 *	refresh_token		(refresh_token_file: e.g. Google)
 *
 * and one client authentication:
 *
 *	client_secret_post	client_id and client_secret in the form
 *	client_secret_basic	Authorization: Basic (RFC 6749 2.3.1)
 *	private_key_jwt		an RS256 client assertion (jwt.h)
 *
 * The request (one HTTPS POST, application/x-www-form-urlencoded):
 *
 *	grant_type=client_credentials&scope=S&client_id=I&client_secret=X
 *	grant_type=refresh_token&refresh_token=R&client_id=I&...
 *	...&client_assertion_type=urn:ietf:params:oauth:client-assertion-
 *	    type:jwt-bearer&client_assertion=JWT
 *
 * The answer (RFC 6749 5.1, 5.2), JSON, at most OAUTH2_ANSWER_MAX bytes:
 *
 *	200 {"access_token":T,"token_type":"Bearer","expires_in":N,
 *	     "refresh_token":R2 (rotation)}
 *	4xx {"error":"invalid_client","error_description":"..."}
 *
 * libcurl does HTTPS and json-c the JSON, both loaded only now
 * (oauth2_dl.h).  The endpoint's certificate is verified (the system's
 * CAs or ca_file) before anything is sent: a failure is ERR_TEMP, like
 * an unreachable endpoint, a timeout or a 5xx; an OAuth error is
 * ERR_NOPERM naming the endpoint and the error code.  Nothing secret
 * (client secret, assertion, refresh or access token) ever reaches a
 * trace line or an error text.
 */
#ifndef POSTERN_OAUTH2_H
#define POSTERN_OAUTH2_H

#include <stddef.h>
#include <time.h>

struct err;

#define OAUTH2_ANSWER_MAX (64 * 1024) /* bytes of a token endpoint answer */
#define OAUTH2_TOKEN_MAX 8192 /* an access or refresh token */
#define OAUTH2_REUSE_MARGIN 60 /* seconds before expiry a token is dropped */

/* How the client proves who it is. */
enum oauth2_client_auth {
	OAUTH2_SECRET_POST = 0,
	OAUTH2_SECRET_BASIC,
	OAUTH2_PRIVATE_KEY_JWT,
};

/* Everything one token request needs, from [remote]. */
struct oauth2_client {
	const char *token_url; /* https://... */
	const char *client_id;
	enum oauth2_client_auth auth;
	const char *secret; /* POST and BASIC: the client secret */
	const char *key_file, *cert_file; /* PRIVATE_KEY_JWT */
	const char *scope; /* NULL: none sent */
	const char *refresh_token_file; /* NULL: client_credentials */
	const char *ca_file; /* NULL: the system's CAs */
	const char *cache_dir; /* NULL: no token cache */
	int timeout; /* seconds: connect, and the whole request */
	/* -v: one line per step, never a secret; NULL: quiet. */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
};

/*
 * An access token for c into *token (malloc'd; free with oauth2_free):
 * the cached one while it has more than the reuse margin left, else a
 * new one from the token endpoint, fetched under the cache's lock after
 * looking again (so runs that start together fetch once) and then
 * cached.  fresh: skip the first look (the server refused the token
 * reject, or --oauth2-test wants the endpoint's word); the look under
 * the lock still takes a token another run fetched meanwhile, when it is
 * not reject (reject NULL: never).  A rotated refresh token is written
 * back to refresh_token_file before anything else.
 */
int oauth2_token(const struct oauth2_client *c, int fresh, const char *reject,
    char **token, struct err *);
/* One request to the endpoint, no cache: for --check --oauth2-test too. */
int oauth2_fetch(const struct oauth2_client *c, const char *refresh_token,
    char **token, long *expires_in, char **new_refresh, struct err *);
/* How long a token with expires_in (0: not said) may be reused. */
long oauth2_reuse_for(long expires_in);
/* The grant and client authentication, for -v and --check. */
const char *oauth2_grant_name(const struct oauth2_client *c);
const char *oauth2_auth_name(enum oauth2_client_auth);
/* Wipe and free; NULL is fine. */
void oauth2_free(char *);
/* One -v line through c->trace (nothing when it is NULL); never a secret. */
void oauth2_trace(const struct oauth2_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
