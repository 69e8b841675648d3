/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_ntlm.c: NTLM (MS-NLMP) over SMTP AUTH, base64 on the wire:
 *
 *	C: AUTH NTLM <NEGOTIATE>	(or a bare AUTH NTLM, then a 334)
 *	S: 334 <CHALLENGE>
 *	C: <AUTHENTICATE>
 *
 * The messages themselves are built and parsed by ntlm.c.
 */
#include <stdlib.h>
#include <string.h>

#include "postern/base64.h"
#include "auth_int.h"

enum ntlm_state { NTLM_NONE, NTLM_SENT_NEGOTIATE, NTLM_SENT_AUTH };

struct auth_ntlm_state {
	struct auth a;
	enum ntlm_state state;
	int renegotiated; /* NEGOTIATE sent a second time */
	int used; /* NTLM_V1, NTLM_V1_ESS, NTLM_V2 once answered */
	char *domain;
	char *workstation;
	struct ntlm_opts opts;
};

static int
ntlm_type1(struct auth_ntlm_state *n, struct buf *out, struct err *e)
{
	struct buf m;
	int rc;

	buf_init(&m, 64);
	rc = ntlm_negotiate(&m, e);
	if (rc == 0)
		rc = base64_encode(out, m.data, m.len, e);
	buf_free(&m);
	if (rc == 0)
		n->state = NTLM_SENT_NEGOTIATE;
	return rc;
}

static char *
dup_opt(const char *s, int *bad)
{
	char *p;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((p = strdup(s)) == NULL)
		*bad = 1;
	return p;
}

static int
ntlm_start(struct auth *a, const struct auth_creds *c, struct buf *initial,
    struct err *e)
{
	struct auth_ntlm_state *n = (struct auth_ntlm_state *)a;
	int bad = 0;

	if (auth_need_user(a, "AUTH NTLM", e) == -1 ||
	    auth_take_secret(a, c, "AUTH NTLM", e) == -1)
		return -1;
	n->domain = dup_opt(c->ntlm_domain, &bad);
	n->workstation = dup_opt(c->ntlm_workstation, &bad);
	if (bad)
		return err_sys(e, ERR_OS, "AUTH NTLM");
	if (c->ntlm_version != NTLM_AUTO && c->ntlm_version != NTLM_V1 &&
	    c->ntlm_version != NTLM_V2)
		return err_set(e, ERR_CONFIG, "AUTH: bad ntlm_version");
	n->opts.version = c->ntlm_version;
	return initial != NULL ? ntlm_type1(n, initial, e) : 0;
}

/* The AUTHENTICATE for the CHALLENGE m (len bytes), base64 in resp. */
static int
ntlm_type3(struct auth_ntlm_state *n, const struct buf *m, struct buf *resp,
    struct err *e)
{
	struct ntlm_challenge *c;
	struct ntlm_ident id;
	struct buf t3;
	int rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return err_sys(e, ERR_OS, "AUTH NTLM");
	rc = ntlm_parse_challenge(c, m->data, m->len, e);
	buf_init(&t3, NTLM_TYPE3_MAX);
	id.user = n->a.user;
	id.domain = n->domain;
	id.workstation = n->workstation;
	id.password = n->a.secret;
	if (rc == 0)
		rc = ntlm_authenticate(&t3, c, &id, &n->opts, &n->used, e);
	if (rc == 0)
		rc = base64_encode(resp, t3.data, t3.len, e);
	if (rc == 0)
		n->state = NTLM_SENT_AUTH;
	buf_wipe(&t3);
	explicit_bzero(c, sizeof(*c));
	free(c);
	return rc;
}

/*
 * The first 334 after a bare "AUTH NTLM" may say anything ("334 NTLM
 * supported" from Exchange): it asks for the NEGOTIATE.  After that a 334
 * must carry a CHALLENGE.  A server that ignored the NEGOTIATE sent on the
 * AUTH line and answers with an empty 334 gets it once more.
 */
static int
ntlm_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct auth_ntlm_state *n = (struct auth_ntlm_state *)a;
	struct buf m;
	struct err e2;
	int rc;

	if (n->state == NTLM_NONE)
		return ntlm_type1(n, resp, e);
	if (n->state == NTLM_SENT_AUTH)
		return err_set(e, ERR_NOPERM,
		    "AUTH NTLM: unexpected 334 after the AUTHENTICATE message");
	buf_init(&m, NTLM_TYPE2_MAX);
	if (len == 0 || base64_decode(&m, ch, len, &e2) == -1 || m.len < 8 ||
	    memcmp(m.data, "NTLMSSP", 8) != 0) {
		buf_free(&m);
		if (a->initial && !n->renegotiated && a->steps == 0) {
			n->renegotiated = 1;
			return ntlm_type1(n, resp, e);
		}
		return err_set(e, ERR_NOPERM,
		    "AUTH NTLM: the server's 334 is not an NTLM challenge");
	}
	rc = ntlm_type3(n, &m, resp, e);
	buf_free(&m);
	return rc;
}

static const char *
ntlm_used(const struct auth *a)
{
	return ntlm_version_name(((const struct auth_ntlm_state *)a)->used);
}

static void
ntlm_free(struct auth *a)
{
	struct auth_ntlm_state *n = (struct auth_ntlm_state *)a;

	auth_wipe_str(n->domain);
	auth_wipe_str(n->workstation);
}

const struct auth_mech auth_ntlm = {
	.sasl = "NTLM",
	.size = sizeof(struct auth_ntlm_state),
	.start = ntlm_start,
	.step = ntlm_step,
	.used = ntlm_used,
	.free = ntlm_free,
};

void
auth_set_ntlm_opts(struct auth *a, const struct ntlm_opts *o)
{
	struct auth_ntlm_state *n = (struct auth_ntlm_state *)a;
	int version;

	if (a->mech != &auth_ntlm)
		return;
	version = n->opts.version;
	n->opts = *o;
	if (o->version == NTLM_AUTO)
		n->opts.version = version;
}
