/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_gssapi.c: SASL GSSAPI (RFC 4752) with Kerberos 5 through MIT's
 * GSS-API, loaded only when auth = gssapi (krb.h).  Every message is
 * base64 on the wire:
 *
 *	C: AUTH GSSAPI <token>		gss_init_sec_context, no input
 *	S: 334 <token>			the server's AP-REP (mutual auth)
 *	C: <token, often empty>		gss_init_sec_context: complete
 *	S: 334 <wrapped offer>		gss_wrap of 4 bytes:
 *					  [0] layers offered: 1 none,
 *					      2 integrity, 4 confidentiality
 *					  [1..3] max message size, big-endian
 *	C: <wrapped answer>		gss_wrap of 01 00 00 00: no layer,
 *					  size 0, and no authorization id
 *	S: 235
 *
 * postern never asks for a security layer (TLS is the protection the
 * session has, or not); a server that offers none without a layer is
 * refused.  Cyrus refuses an empty last answer and one that carries the
 * principal as authzid: the 4 bytes alone are what it accepts.
 *
 * Credentials: with gssapi_keytab, from that client keytab through the
 * credential store (gss_add_cred_from, "client_keytab" plus a
 * private MEMORY ccache: no kinit, no file written); the principal is
 * user, else the keytab's first entry.  Without it, the caller's
 * credential cache (KRB5CCNAME or the default), which MIT reads only
 * from /etc/krb5.conf's default in a set-group-ID process.  The target
 * is gssapi_service@HOST with HOST as written in the ini, canonicalised
 * (or not) as krb5.conf says.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postern/base64.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "auth_int.h"
#include "krb.h"

#define GSSAPI_SERVICE "smtp"
/* The ccache of the keytab mode: private to the process, never a file. */
#define GSSAPI_CCACHE "MEMORY:postern"
/* krb5.h's KRB5_KDC_UNREACH: no KDC answered, which may pass. */
#define GSSAPI_KDC_UNREACH ((OM_uint32)-1765328228L)
#define GSSAPI_STATUS_MAX 8 /* messages read from gss_display_status */

/* Kerberos 5 (RFC 1964) and its names (RFC 2743 4.1, RFC 1964 2.1.1). */
static gss_OID_desc gssapi_krb5 = { 9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };
static gss_OID_desc gssapi_nt_service = { 10,
	"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
static gss_OID_desc gssapi_nt_principal = { 10,
	"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01" };

struct auth_gssapi_state {
	struct auth a;
	const char *host;
	gss_cred_id_t cred;
	gss_name_t target;
	gss_ctx_id_t ctx;
	int started; /* the first token is out */
	int established; /* the context is complete */
	int answered; /* the security layer offer is answered */
};

/* The messages of one status code, appended to out as "; "-joined text. */
static void
gssapi_messages(OM_uint32 code, int type, char *out, size_t outsz)
{
	OM_uint32 minor, more = 0;
	gss_buffer_desc b;
	size_t used;
	int i;

	for (i = 0; i < GSSAPI_STATUS_MAX; i++) {
		b.length = 0;
		b.value = NULL;
		if (GSS_ERROR(gss_display_status(&minor, code, type,
			&gssapi_krb5, &more, &b)))
			break;
		used = strlen(out);
		if (b.length > 0 && used + 2 < outsz)
			snprintf(out + used, outsz - used, "%s%.*s",
			    used ? "; " : "", (int)b.length,
			    (const char *)b.value);
		gss_release_buffer(&minor, &b);
		if (more == 0)
			break;
	}
}

/*
 * e from a GSS-API failure: "AUTH GSSAPI to HOST: <what>: <reason>".
 * The minor code is Kerberos's own words ("Server ... not found in
 * Kerberos database", "Clock skew too great"); the major one is the
 * reason only when Kerberos gave none, or when it says more than "failed"
 * or "no credentials".  ERR_NOPERM, but ERR_TEMP when no KDC answered.
 */
static int
gssapi_fail(struct err *e, OM_uint32 major, OM_uint32 minor, const char *what,
    const char *host)
{
	char why[ERR_TEXT_MAX / 2] = "";

	if (minor != 0)
		gssapi_messages(minor, GSS_C_MECH_CODE, why, sizeof(why));
	if (why[0] == '\0' ||
	    (GSS_ROUTINE_ERROR(major) != GSS_S_FAILURE &&
		GSS_ROUTINE_ERROR(major) != GSS_S_NO_CRED))
		gssapi_messages(major, GSS_C_GSS_CODE, why, sizeof(why));
	return err_set(e, minor == GSSAPI_KDC_UNREACH ? ERR_TEMP : ERR_NOPERM,
	    "AUTH GSSAPI to %s: %s%s%s", host, what, *what ? ": " : "",
	    why[0] ? why : "unknown GSS-API error");
}

/* A keytab is a secret: the same rules as a password file. */
static int
gssapi_keytab_ok(const char *path, struct err *e)
{
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return err_sys(e, ERR_CONFIG, "gssapi_keytab %s", path);
	if (fstat(fd, &st) == -1)
		rc = err_sys(e, ERR_CONFIG, "gssapi_keytab %s", path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, ERR_CONFIG, "gssapi_keytab %s is not a file",
		    path);
	else
		rc = cred_check_mode(path, st.st_mode, e);
	close(fd);
	return rc;
}

/*
 * srv's initiator credential: from its keytab, else the caller's ccache.
 * gss_add_cred* for Kerberos alone rather than gss_acquire_cred*: the
 * mechanism glue of the latter drops Kerberos's reason (minor status)
 * when its one mechanism fails, leaving only "No credentials were
 * supplied".
 */
static int
gssapi_acquire(const struct config_server *srv, const char *host,
    gss_cred_id_t *cred, struct err *e)
{
	gss_key_value_element_desc el[2];
	gss_key_value_set_desc store = { 2, el };
	gss_name_t name = GSS_C_NO_NAME;
	gss_buffer_desc b;
	OM_uint32 major, minor, rmin;
	char kt[4096];
	int n;

	*cred = GSS_C_NO_CREDENTIAL;
	if (srv->user != NULL) {
		b.value = srv->user;
		b.length = strlen(srv->user);
		major =
		    gss_import_name(&minor, &b, &gssapi_nt_principal, &name);
		if (GSS_ERROR(major))
			return err_set(e, ERR_CONFIG,
			    "user \"%s\" is not a Kerberos principal name",
			    srv->user);
	}
	if (srv->gssapi_keytab != NULL) {
		n = snprintf(kt, sizeof(kt), "FILE:%s", srv->gssapi_keytab);
		if (n < 0 || (size_t)n >= sizeof(kt) ||
		    gssapi_keytab_ok(srv->gssapi_keytab, e) == -1) {
			if (n < 0 || (size_t)n >= sizeof(kt))
				err_set(e, ERR_CONFIG,
				    "gssapi_keytab: too long");
			gss_release_name(&rmin, &name);
			return -1;
		}
		el[0].key = "client_keytab";
		el[0].value = kt;
		el[1].key = "ccache";
		el[1].value = GSSAPI_CCACHE;
		major = gss_add_cred_from(&minor, GSS_C_NO_CREDENTIAL, name,
		    &gssapi_krb5, GSS_C_INITIATE, GSS_C_INDEFINITE, 0, &store,
		    cred, NULL, NULL, NULL);
	} else {
		major = gss_add_cred(&minor, GSS_C_NO_CREDENTIAL, name,
		    &gssapi_krb5, GSS_C_INITIATE, GSS_C_INDEFINITE, 0, cred,
		    NULL, NULL, NULL);
	}
	gss_release_name(&rmin, &name);
	if (GSS_ERROR(major)) {
		n = snprintf(kt, sizeof(kt),
		    "no Kerberos credentials from %s%s",
		    srv->gssapi_keytab ? "keytab " : "the credential cache",
		    srv->gssapi_keytab ? srv->gssapi_keytab : "");
		return gssapi_fail(e, major, minor, n > 0 ? kt : "", host);
	}
	return 0;
}

/* SERVICE@HOST as a GSS-API host-based service name. */
static int
gssapi_target(const struct config_server *srv, const char *host,
    gss_name_t *target, struct err *e)
{
	const char *svc =
	    srv->gssapi_service ? srv->gssapi_service : GSSAPI_SERVICE;
	OM_uint32 major, minor;
	gss_buffer_desc b;
	char name[512];
	int n;

	n = snprintf(name, sizeof(name), "%s@%s", svc, host);
	if (n < 0 || (size_t)n >= sizeof(name))
		return err_set(e, ERR_CONFIG, "gssapi_service: too long");
	b.value = name;
	b.length = (size_t)n;
	major = gss_import_name(&minor, &b, &gssapi_nt_service, target);
	if (GSS_ERROR(major))
		return gssapi_fail(e, major, minor, "bad service name", host);
	return 0;
}

/* One gss_init_sec_context call: in (NULL the first time) -> out. */
static int
gssapi_init(struct auth_gssapi_state *g, const struct buf *in, struct buf *out,
    struct err *e)
{
	gss_buffer_desc ib = { 0, NULL }, ob = { 0, NULL };
	OM_uint32 major, minor, rmin;
	int rc = 0;

	if (in != NULL) {
		ib.length = in->len;
		ib.value = in->data;
	}
	major = gss_init_sec_context(&minor, g->cred, &g->ctx, g->target,
	    &gssapi_krb5,
	    GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG, 0,
	    GSS_C_NO_CHANNEL_BINDINGS, in != NULL ? &ib : GSS_C_NO_BUFFER, NULL,
	    &ob, NULL, NULL);
	g->started = 1;
	if (GSS_ERROR(major))
		rc = gssapi_fail(e, major, minor, "", g->host);
	else if (major == GSS_S_COMPLETE)
		g->established = 1;
	if (rc == 0 && ob.length > 0)
		rc = base64_encode(out, ob.value, ob.length, e);
	gss_release_buffer(&rmin, &ob);
	return rc;
}

/*
 * The security layer step: unwrap the server's offer, answer "no layer,
 * size 0" wrapped, with no authorization identity.
 */
static int
gssapi_layer(struct auth_gssapi_state *g, const struct buf *in,
    struct buf *resp, struct err *e)
{
	static unsigned char none[4] = { 0x01, 0x00, 0x00, 0x00 };
	gss_buffer_desc ib = { in->len, in->data }, ob = { 0, NULL };
	gss_buffer_desc rb = { sizeof(none), none };
	OM_uint32 major, minor, rmin;
	int conf = 0, rc;

	major = gss_unwrap(&minor, g->ctx, &ib, &ob, &conf, NULL);
	if (GSS_ERROR(major))
		return gssapi_fail(e, major, minor,
		    "cannot unwrap the security layer offer", g->host);
	if (ob.length != 4)
		rc = err_set(e, ERR_NOPERM,
		    "AUTH GSSAPI to %s: the security layer offer is %zu bytes, "
		    "not 4",
		    g->host, (size_t)ob.length);
	else if ((((unsigned char *)ob.value)[0] & 0x01) == 0)
		rc = err_set(e, ERR_NOPERM,
		    "AUTH GSSAPI to %s: the server requires a SASL security "
		    "layer, which postern does not provide (use TLS instead)",
		    g->host);
	else
		rc = 0;
	gss_release_buffer(&rmin, &ob);
	if (rc == -1)
		return -1;
	major = gss_wrap(&minor, g->ctx, 0, GSS_C_QOP_DEFAULT, &rb, &conf, &ob);
	if (GSS_ERROR(major))
		return gssapi_fail(e, major, minor,
		    "cannot wrap the security layer answer", g->host);
	rc = base64_encode(resp, ob.value, ob.length, e);
	gss_release_buffer(&rmin, &ob);
	if (rc == 0)
		g->answered = 1;
	return rc;
}

static int
gssapi_start(struct auth *a, const struct auth_creds *c, struct buf *initial,
    struct err *e)
{
	struct auth_gssapi_state *g = (struct auth_gssapi_state *)a;

	g->host = c->host != NULL ? c->host : "the server";
	g->cred = GSS_C_NO_CREDENTIAL;
	g->target = GSS_C_NO_NAME;
	g->ctx = GSS_C_NO_CONTEXT;
	if (c->srv == NULL)
		return err_set(e, ERR_SOFTWARE, "AUTH GSSAPI: no settings");
	/* Tickets and session keys now live in this process's memory. */
	cred_nodump();
	if (krb_load(e) == -1 ||
	    gssapi_acquire(c->srv, g->host, &g->cred, e) == -1 ||
	    gssapi_target(c->srv, g->host, &g->target, e) == -1)
		return -1;
	return initial != NULL ? gssapi_init(g, NULL, initial, e) : 0;
}

static int
gssapi_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct auth_gssapi_state *g = (struct auth_gssapi_state *)a;
	struct buf in;
	int rc;

	if (g->answered)
		return err_set(e, ERR_NOPERM,
		    "AUTH GSSAPI to %s: unexpected 334 after the last step",
		    g->host);
	if (!g->started) /* a bare AUTH GSSAPI: the server's empty 334 */
		return gssapi_init(g, NULL, resp, e);
	buf_init(&in, AUTH_LINE_MAX);
	if (base64_decode(&in, ch, len, e) == -1) {
		buf_free(&in);
		return err_set(e, ERR_NOPERM,
		    "AUTH GSSAPI to %s: a 334 that is not base64", g->host);
	}
	if (!g->established)
		rc = gssapi_init(g, &in, resp, e);
	else
		rc = gssapi_layer(g, &in, resp, e);
	buf_free(&in);
	return rc;
}

static const char *
gssapi_used(const struct auth *a)
{
	(void)a;
	return "gssapi";
}

static void
gssapi_free(struct auth *a)
{
	struct auth_gssapi_state *g = (struct auth_gssapi_state *)a;
	OM_uint32 minor;

	/* Only a start that loaded GSS-API leaves anything to release. */
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	if (g->target != GSS_C_NO_NAME)
		gss_release_name(&minor, &g->target);
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &g->cred);
}

const struct auth_mech auth_gssapi = {
	.sasl = "GSSAPI",
	.size = sizeof(struct auth_gssapi_state),
	.start = gssapi_start,
	.step = gssapi_step,
	.used = gssapi_used,
	.free = gssapi_free,
};

/* Load time: gssapi_service is a bare service name. */
int
auth_gssapi_check(const struct config_server *srv, char *why, size_t whysz)
{
	const char *s = srv->gssapi_service;

	if (s != NULL && s[strcspn(s, "@/ \t")] != '\0') {
		snprintf(why, whysz,
		    "gssapi_service \"%s\" must be a service name alone, "
		    "such as smtp or SMTPSVC (the host comes from host)",
		    s);
		return -1;
	}
	return 0;
}

/* The principal a credential is for, as text. */
static void
gssapi_principal(gss_cred_id_t cred, char *out, size_t outsz)
{
	gss_name_t name = GSS_C_NO_NAME;
	gss_buffer_desc b = { 0, NULL };
	OM_uint32 minor;

	snprintf(out, outsz, "?");
	if (GSS_ERROR(gss_inquire_cred(&minor, cred, &name, NULL, NULL, NULL)))
		return;
	if (!GSS_ERROR(gss_display_name(&minor, name, &b, NULL)))
		snprintf(out, outsz, "%.*s", (int)b.length,
		    (const char *)b.value);
	gss_release_buffer(&minor, &b);
	gss_release_name(&minor, &name);
}

/*
 * --check: which principal and keytab, and whether a credential and a
 * ticket for the first host's service can be had now (this asks the
 * KDC, never the SMTP server).
 */
void
auth_gssapi_print(const struct config_server *srv, FILE *fp)
{
	const char *host = srv->nhosts > 0 ? srv->hosts[0].host : NULL;
	struct auth_gssapi_state g;
	struct buf tok;
	struct err e;
	char who[512];

	fprintf(fp, "; gssapi: principal %s, %s%s\n",
	    srv->user                ? srv->user
		: srv->gssapi_keytab ? "the keytab's first entry"
				     : "the credential cache's",
	    srv->gssapi_keytab ? "keytab "
			       : "no keytab: the caller's "
				 "credential cache",
	    srv->gssapi_keytab ? srv->gssapi_keytab : "");
	if (host == NULL)
		return;
	memset(&g, 0, sizeof(g));
	g.a.mech = &auth_gssapi;
	g.host = host;
	buf_init(&tok, AUTH_LINE_MAX);
	if (krb_load(&e) == 0 && gssapi_acquire(srv, host, &g.cred, &e) == 0 &&
	    gssapi_target(srv, host, &g.target, &e) == 0 &&
	    gssapi_init(&g, NULL, &tok, &e) == 0) {
		gssapi_principal(g.cred, who, sizeof(who));
		fprintf(fp,
		    "; gssapi: credential acquired for %s, ticket for %s@%s\n",
		    who,
		    srv->gssapi_service ? srv->gssapi_service : GSSAPI_SERVICE,
		    host);
	} else {
		fprintf(fp, "; gssapi: no credential: %s\n", e.text);
	}
	buf_wipe(&tok);
	gssapi_free(&g.a);
}
