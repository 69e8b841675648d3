/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * oauth2.c: one request to an OAuth 2.0 token endpoint (oauth2.h has the
 * wire formats) and what its answer means.
 *
 * The form and the Authorization header hold secrets: they live in
 * buffers of ours that are wiped, and libcurl is given them without
 * copies where it allows (CURLOPT_POSTFIELDS) and wiped before freeing
 * where it copies (the header list).  Redirects are not followed: a
 * secret goes to the configured URL or nowhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "postern/base64.h"
#include "postern/buf.h"
#include "postern/err.h"
#include "postern/jwt.h"
#include "postern/oauth2.h"
#include "oauth2_dl.h"

#define OAUTH2_FORM_MAX (64 * 1024)
#define OAUTH2_JSON_DEPTH 8

void
oauth2_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

long
oauth2_reuse_for(long expires_in)
{
	if (expires_in <= 0)
		return 0; /* the server did not say: fetch each time */
	if (expires_in > 2 * OAUTH2_REUSE_MARGIN)
		return expires_in - OAUTH2_REUSE_MARGIN;
	return expires_in / 2;
}

const char *
oauth2_grant_name(const struct oauth2_client *c)
{
	return c->refresh_token_file != NULL ? "refresh_token"
					     : "client_credentials";
}

const char *
oauth2_auth_name(enum oauth2_client_auth a)
{
	return a == OAUTH2_SECRET_BASIC   ? "client_secret_basic"
	    : a == OAUTH2_PRIVATE_KEY_JWT ? "private_key_jwt"
					  : "client_secret_post";
}

/* "&key=value", the value percent-encoded (RFC 6749 appendix B). */
static int
form_add(struct buf *f, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char enc[3];

	if ((f->len > 0 && buf_addc(f, '&') == -1) || buf_adds(f, key) == -1 ||
	    buf_addc(f, '=') == -1)
		return -1;
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			if (buf_addc(f, (char)*p) == -1)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 15];
		if (buf_add(f, enc, 3) == -1)
			return -1;
	}
	return 0;
}

/* "Authorization: Basic b64(enc(id) ":" enc(secret))" (RFC 6749 2.3.1) */
static int
basic_header(const struct oauth2_client *c, struct buf *h, struct err *e)
{
	struct buf id, pw;
	int rc = -1;

	buf_init(&id, OAUTH2_FORM_MAX);
	buf_init(&pw, OAUTH2_FORM_MAX);
	/* form_add writes "k=v": k empty, then drop the '='. */
	if (form_add(&id, "", c->client_id) == 0 &&
	    form_add(&pw, "", c->secret) == 0 &&
	    buf_printf(h, "Authorization: Basic ") == 0) {
		memmove(id.data, id.data + 1, id.len--);
		if (buf_addc(&id, ':') == 0 &&
		    buf_add(&id, pw.data + 1, pw.len - 1) == 0)
			rc = base64_encode(h, id.data, id.len, e);
	}
	if (rc == -1 && e->class == ERR_NONE)
		err_set(e, ERR_CONFIG, "oauth2: client id or secret too long");
	buf_wipe(&id);
	buf_wipe(&pw);
	return rc;
}

/* The form for c (and its Authorization header when basic). */
static int
build_request(const struct oauth2_client *c, const char *refresh,
    struct buf *form, struct buf *auth, struct err *e)
{
	struct jwt_client j;
	struct buf a;
	int rc = 0;

	if (refresh != NULL)
		rc |= form_add(form, "grant_type", "refresh_token") |
		    form_add(form, "refresh_token", refresh);
	else
		rc |= form_add(form, "grant_type", "client_credentials");
	if (c->scope != NULL)
		rc |= form_add(form, "scope", c->scope);
	if (c->auth != OAUTH2_SECRET_BASIC)
		rc |= form_add(form, "client_id", c->client_id);
	if (c->auth == OAUTH2_SECRET_POST)
		rc |= form_add(form, "client_secret", c->secret);
	if (rc != 0)
		return err_set(e, ERR_CONFIG,
		    "oauth2: the request is too long");
	if (c->auth == OAUTH2_SECRET_BASIC)
		return basic_header(c, auth, e);
	if (c->auth != OAUTH2_PRIVATE_KEY_JWT)
		return 0;
	j.key_file = c->key_file;
	j.cert_file = c->cert_file;
	j.client_id = c->client_id;
	j.audience = c->token_url;
	j.now = time(NULL);
	buf_init(&a, JWT_MAX);
	rc = jwt_client_assertion(&j, &a, e);
	if (rc == 0 &&
	    (form_add(form, "client_assertion_type",
		 "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") ==
		    -1 ||
		form_add(form, "client_assertion", buf_str(&a)) == -1))
		rc = err_set(e, ERR_CONFIG, "oauth2: the request is too long");
	buf_wipe(&a);
	return rc;
}

struct answer {
	struct buf b;
	int overflow;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	if (buf_add(&a->b, p, size * n) == -1) {
		a->overflow = 1;
		return 0; /* stops the transfer: CURLE_WRITE_ERROR */
	}
	return size * n;
}

void
oauth2_trace(const struct oauth2_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (c->trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->trace(c->trace_arg, line);
}

/* Why curl failed, as a class: nothing here is the server's refusal. */
static int
curl_failed(const struct oauth2_client *c, CURLcode rc, const char *ebuf,
    const struct answer *a, struct err *e)
{
	const char *why = ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc);
	char clean[512];

	err_sanitize(clean, sizeof(clean), why, strlen(why));
	oauth2_trace(c, "oauth2: %s: %s", c->token_url, clean);
	if (a->overflow)
		return err_set(e, ERR_TEMP,
		    "token endpoint %s: the answer is longer than %d bytes",
		    c->token_url, OAUTH2_ANSWER_MAX);
	if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE)
		return err_set(e, ERR_TEMP,
		    "token endpoint %s: the certificate does not verify, "
		    "nothing sent: %s",
		    c->token_url, clean);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
		return err_set(e, ERR_CONFIG, "oauth2_token_url %s: %s",
		    c->token_url, clean);
	return err_set(e, ERR_TEMP, "token endpoint %s: %s", c->token_url,
	    clean);
}

/* POST form to the endpoint; *status is the HTTP status. */
static int
post(const struct oauth2_client *c, const struct buf *form,
    const struct buf *auth, struct answer *a, long *status, struct err *e)
{
	char ebuf[CURL_ERROR_SIZE];
	struct curl_slist *h = NULL, *l;
	CURL *curl;
	CURLcode rc;
	int bad = 0;

	ebuf[0] = '\0';
	if ((curl = curl_easy_init()) == NULL)
		return err_set(e, ERR_OS, "oauth2: cannot start libcurl");
	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL ||
	    (auth->len > 0 && curl_slist_append(h, buf_str(auth)) == NULL))
		bad = 1;
	bad |= curl_easy_setopt(curl, CURLOPT_URL, c->token_url) |
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https") |
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) |
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) |
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) |
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) |
	    curl_easy_setopt(curl, CURLOPT_SSLVERSION,
		(long)CURL_SSLVERSION_TLSv1_2) |
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->timeout) |
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)c->timeout) |
	    curl_easy_setopt(curl, CURLOPT_USERAGENT,
		"postern/" POSTERN_VERSION) |
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h) |
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form->data) |
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)form->len) |
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data) |
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, a) |
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	if (c->ca_file != NULL)
		bad |= curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	if (bad)
		err_set(e, ERR_SOFTWARE, "oauth2: cannot set up libcurl");
	else if ((rc = curl_easy_perform(curl)) != CURLE_OK)
		bad = curl_failed(c, rc, ebuf, a, e);
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	/* libcurl copied the Authorization header: wipe its copy. */
	for (l = h; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h);
	return bad ? -1 : 0;
}

/* The answer as a JSON object, or NULL. */
static struct json_object *
parse_json(const struct buf *b)
{
	struct json_tokener *t;
	struct json_object *o = NULL;

	if (b->len == 0 || (t = json_tokener_new_ex(OAUTH2_JSON_DEPTH)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(t, b->data, (int)b->len);
	if (json_tokener_get_error(t) != json_tokener_success && o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	if (o != NULL && json_object_get_type(o) != json_type_object) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* The string member key, or NULL. */
static const char *
member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    json_object_get_type(v) != json_type_string)
		return NULL;
	return json_object_get_string(v);
}

/* A token goes into SMTP and a cache line: visible ASCII only. */
static char *
token_copy(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > OAUTH2_TOKEN_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return NULL;
	return strdup(s);
}

/* expires_in: a number, or (older Microsoft endpoints) a string of one. */
static long
expires(struct json_object *o)
{
	struct json_object *v;
	const char *s;
	char *end;
	long n;

	if (!json_object_object_get_ex(o, "expires_in", &v))
		return 0;
	if (json_object_get_type(v) == json_type_int) {
		n = (long)json_object_get_int64(v);
	} else if ((s = member(o, "expires_in")) != NULL) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			n = 0;
	} else {
		n = 0;
	}
	return n > 0 && n < 10L * 365 * 86400 ? n : 0;
}

/* A 4xx/5xx, or a 200 without a usable token. */
static int
answer_error(const struct oauth2_client *c, long status, struct json_object *o,
    struct err *e)
{
	const char *code = member(o, "error"),
		   *d = member(o, "error_description");
	char ce[128], de[300];
	int temp = status >= 500 || status == 429;

	if (code == NULL) {
		oauth2_trace(c, "oauth2: HTTP %ld, no OAuth answer", status);
		if (status == 200)
			return err_set(e, ERR_NOPERM,
			    "token endpoint %s: no access token in the answer",
			    c->token_url);
		return err_set(e, temp ? ERR_TEMP : ERR_NOPERM,
		    "token endpoint %s: HTTP %ld without an OAuth error "
		    "(is oauth2_token_url right?)",
		    c->token_url, status);
	}
	err_sanitize(ce, sizeof(ce), code, strlen(code));
	err_sanitize(de, sizeof(de), d != NULL ? d : "", d ? strlen(d) : 0);
	oauth2_trace(c, "oauth2: HTTP %ld, error %s", status, ce);
	/* RFC 6749 4.1.2.1: the two errors that mean "try later". */
	if (strcmp(code, "temporarily_unavailable") == 0 ||
	    strcmp(code, "server_error") == 0)
		temp = 1;
	return err_set(e, temp ? ERR_TEMP : ERR_NOPERM,
	    "token endpoint %s: %s%s%s%s", c->token_url, ce, de[0] ? " (" : "",
	    de, de[0] ? ")" : "");
}

int
oauth2_fetch(const struct oauth2_client *c, const char *refresh, char **token,
    long *expires_in, char **new_refresh, struct err *e)
{
	struct buf form, auth;
	struct answer a;
	struct json_object *o = NULL;
	long status = 0;
	int rc;

	*token = *new_refresh = NULL;
	*expires_in = 0;
	err_clear(e);
	if (oauth2_dl_load(e) == -1)
		return -1;
	buf_init(&form, OAUTH2_FORM_MAX);
	buf_init(&auth, OAUTH2_FORM_MAX);
	buf_init(&a.b, OAUTH2_ANSWER_MAX);
	a.overflow = 0;
	rc = build_request(c, refresh, &form, &auth, e);
	if (rc == 0) {
		oauth2_trace(c, "oauth2: POST %s (%s, %s)", c->token_url,
		    oauth2_grant_name(c), oauth2_auth_name(c->auth));
		rc = post(c, &form, &auth, &a, &status, e);
	}
	buf_wipe(&form);
	buf_wipe(&auth);
	if (rc == 0) {
		o = parse_json(&a.b);
		if (status == 200 &&
		    (*token = token_copy(member(o, "access_token"))) != NULL) {
			*expires_in = expires(o);
			*new_refresh = token_copy(member(o, "refresh_token"));
			oauth2_trace(c,
			    "oauth2: HTTP 200, an access token for %ld s%s",
			    *expires_in,
			    *new_refresh != NULL ? " and a refresh token" : "");
		} else {
			rc = answer_error(c, status, o, e);
		}
	}
	if (o != NULL)
		json_object_put(o);
	buf_wipe(&a.b);
	return rc;
}
