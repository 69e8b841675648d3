/*
 * auth.c: the SASL mechanism driver for SMTP AUTH.
 *
 * Each mechanism answers the server's 334 challenges in turn; the state is
 * how many it has answered and what it sent first.  Responses (RFC 4954
 * wraps each in base64):
 *
 *	PLAIN	(RFC 4616)	authzid NUL authcid NUL passwd, authzid empty
 *	LOGIN	(draft)		"Username:" -> user, "Password:" -> password
 *	NTLM	(MS-NLMP)	NEGOTIATE, then AUTHENTICATE for the CHALLENGE
 *	XOAUTH2	(Google/MS)	"user=" U ^A "auth=Bearer " T ^A ^A
 *
 * The copies of the credentials are wiped in auth_free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postern/auth.h"
#include "postern/base64.h"

enum auth_mech { MECH_PLAIN, MECH_LOGIN, MECH_NTLM, MECH_XOAUTH2 };

/* NTLM progress. */
enum ntlm_state { NTLM_NONE, NTLM_SENT_NEGOTIATE, NTLM_SENT_AUTH };

struct auth {
	enum auth_mech mech;
	int initial; /* an initial response went on the AUTH line */
	int steps; /* 334s answered */
	int asked[2]; /* LOGIN: user, password prompts answered */
	enum ntlm_state ntlm;
	int renegotiated; /* NTLM: NEGOTIATE sent a second time */
	int ntlm_used;
	char *user;
	char *password;
	char *domain;
	char *workstation;
	struct ntlm_opts opts;
};

static const struct {
	const char *name;
	enum auth_mech mech;
} auth_mechs[] = {
	{ "PLAIN", MECH_PLAIN },
	{ "LOGIN", MECH_LOGIN },
	{ "NTLM", MECH_NTLM },
	{ "XOAUTH2", MECH_XOAUTH2 },
};

static void
wipe_str(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	wipe_str(a->user);
	wipe_str(a->password);
	wipe_str(a->domain);
	wipe_str(a->workstation);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/* Empty resp, wiping what it held (the last answer may be a password). */
static void
resp_clear(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->len);
	buf_reset(b);
}

/* b64 of the PLAIN message: NUL user NUL password. */
static int
plain_response(struct auth *a, struct buf *out, struct err *e)
{
	struct buf m;
	int rc = 0;

	buf_init(&m, AUTH_LINE_MAX);
	if (buf_addc(&m, '\0') == -1 || buf_adds(&m, a->user) == -1 ||
	    buf_addc(&m, '\0') == -1 || buf_adds(&m, a->password) == -1)
		rc = err_set(e, ERR_CONFIG, "AUTH PLAIN: credentials too long");
	else
		rc = base64_encode(out, m.data, m.len, e);
	buf_wipe(&m);
	return rc;
}

static int
xoauth2_response(struct auth *a, struct buf *out, struct err *e)
{
	struct buf m;
	int rc;

	buf_init(&m, AUTH_LINE_MAX);
	if (buf_printf(&m, "user=%s\001auth=Bearer %s\001\001", a->user,
		a->password) == -1)
		rc = err_set(e, ERR_CONFIG, "AUTH XOAUTH2: token too long");
	else
		rc = base64_encode(out, m.data, m.len, e);
	buf_wipe(&m);
	return rc;
}

static int
ntlm_type1(struct auth *a, struct buf *out, struct err *e)
{
	struct buf m;
	int rc;

	buf_init(&m, 64);
	rc = ntlm_negotiate(&m, e);
	if (rc == 0)
		rc = base64_encode(out, m.data, m.len, e);
	buf_free(&m);
	if (rc == 0)
		a->ntlm = NTLM_SENT_NEGOTIATE;
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
auth_copy_creds(struct auth *a, const struct auth_creds *c, struct err *e)
{
	int bad = 0;

	if (c->user == NULL || c->password == NULL)
		return err_set(e, ERR_CONFIG, "AUTH: user and password needed");
	if (*c->user == '\0')
		return err_set(e, ERR_CONFIG, "AUTH: empty user name");
	if ((a->user = strdup(c->user)) == NULL ||
	    (a->password = strdup(c->password)) == NULL)
		bad = 1;
	a->domain = dup_opt(c->ntlm_domain, &bad);
	a->workstation = dup_opt(c->ntlm_workstation, &bad);
	if (bad)
		return err_sys(e, ERR_OS, "AUTH");
	if (c->ntlm_version != NTLM_AUTO && c->ntlm_version != NTLM_V1 &&
	    c->ntlm_version != NTLM_V2)
		return err_set(e, ERR_CONFIG, "AUTH: bad ntlm_version");
	a->opts.version = c->ntlm_version;
	return 0;
}

int
auth_start(struct auth **ap, const char *mech, const struct auth_creds *c,
    struct buf *initial, struct err *e)
{
	struct auth *a;
	size_t i;
	int rc = 0;

	*ap = NULL;
	for (i = 0; i < sizeof(auth_mechs) / sizeof(auth_mechs[0]); i++)
		if (strcasecmp(mech, auth_mechs[i].name) == 0)
			break;
	if (i == sizeof(auth_mechs) / sizeof(auth_mechs[0]))
		return err_set(e, ERR_SOFTWARE, "AUTH: unknown mechanism");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return err_sys(e, ERR_OS, "AUTH");
	a->mech = auth_mechs[i].mech;
	if (auth_copy_creds(a, c, e) == -1) {
		auth_free(a);
		return -1;
	}
	if (initial != NULL) {
		resp_clear(initial);
		if (a->mech == MECH_PLAIN)
			rc = plain_response(a, initial, e);
		else if (a->mech == MECH_NTLM)
			rc = ntlm_type1(a, initial, e);
		else if (a->mech == MECH_XOAUTH2)
			rc = xoauth2_response(a, initial, e);
		a->initial = initial->len > 0;
	}
	if (rc == -1) {
		if (initial != NULL)
			resp_clear(initial);
		auth_free(a);
		return -1;
	}
	*ap = a;
	return 0;
}

/*
 * LOGIN: answer a recognised prompt ("Username:", "Password:", any case,
 * also "User Name") by its meaning, anything else with the first of user
 * and password not yet sent.  Each is answered once.
 */
static int
login_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct buf p;
	struct err e2;
	int which = a->asked[0] ? 1 : 0;

	buf_init(&p, 256);
	if (len > 0 && base64_decode(&p, ch, len, &e2) == 0) {
		if (strcasestr(buf_str(&p), "pass") != NULL)
			which = 1;
		else if (strcasestr(buf_str(&p), "user") != NULL)
			which = 0;
	}
	buf_free(&p);
	if (which > 1 || a->asked[which])
		return err_set(e, ERR_NOPERM,
		    "AUTH LOGIN: unexpected prompt from the server");
	a->asked[which] = 1;
	if (which == 0)
		return base64_encode(resp, a->user, strlen(a->user), e);
	return base64_encode(resp, a->password, strlen(a->password), e);
}

/*
 * NTLM: the first 334 after a bare "AUTH NTLM" may say anything ("334 NTLM
 * supported" from Exchange): it asks for the NEGOTIATE.  After that a 334
 * must carry a CHALLENGE.  A server that ignored the NEGOTIATE sent on the
 * AUTH line and answers with an empty 334 gets it once more.
 */
static int
ntlm_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct ntlm_challenge *c;
	struct ntlm_ident id;
	struct buf m, t3;
	struct err e2;
	int rc;

	if (a->ntlm == NTLM_NONE)
		return ntlm_type1(a, resp, e);
	if (a->ntlm == NTLM_SENT_AUTH)
		return err_set(e, ERR_NOPERM,
		    "AUTH NTLM: unexpected 334 after the AUTHENTICATE message");
	buf_init(&m, NTLM_TYPE2_MAX);
	if (len == 0 || base64_decode(&m, ch, len, &e2) == -1 || m.len < 8 ||
	    memcmp(m.data, "NTLMSSP", 8) != 0) {
		buf_free(&m);
		if (a->initial && !a->renegotiated && a->steps == 0) {
			a->renegotiated = 1;
			return ntlm_type1(a, resp, e);
		}
		return err_set(e, ERR_NOPERM,
		    "AUTH NTLM: the server's 334 is not an NTLM challenge");
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		buf_free(&m);
		return err_sys(e, ERR_OS, "AUTH NTLM");
	}
	rc = ntlm_parse_challenge(c, m.data, m.len, e);
	buf_free(&m);
	buf_init(&t3, NTLM_TYPE3_MAX);
	id.user = a->user;
	id.domain = a->domain;
	id.workstation = a->workstation;
	id.password = a->password;
	if (rc == 0)
		rc = ntlm_authenticate(&t3, c, &id, &a->opts, &a->ntlm_used, e);
	if (rc == 0)
		rc = base64_encode(resp, t3.data, t3.len, e);
	if (rc == 0)
		a->ntlm = NTLM_SENT_AUTH;
	buf_wipe(&t3);
	explicit_bzero(c, sizeof(*c));
	free(c);
	return rc;
}

int
auth_step(struct auth *a, const char *ch, struct buf *resp, struct err *e)
{
	size_t len;
	int rc;

	resp_clear(resp);
	if (ch == NULL)
		ch = "";
	/* The text after "334 ": no spaces or line ends belong to it. */
	while (*ch == ' ' || *ch == '\t')
		ch++;
	len = strlen(ch);
	while (len > 0 && strchr(" \t\r\n", ch[len - 1]) != NULL)
		len--;
	switch (a->mech) {
	case MECH_PLAIN:
		if (a->initial || a->steps > 0)
			return err_set(e, ERR_NOPERM,
			    "AUTH PLAIN: unexpected 334 from the server");
		rc = plain_response(a, resp, e);
		break;
	case MECH_LOGIN:
		rc = login_step(a, ch, len, resp, e);
		break;
	case MECH_NTLM:
		rc = ntlm_step(a, ch, len, resp, e);
		break;
	default:
		/* XOAUTH2: a 334 after the token is an error report (JSON),
		 * answered with an empty line; the server then says 535. */
		if (!a->initial && a->steps == 0)
			rc = xoauth2_response(a, resp, e);
		else if (a->steps < 1 + !a->initial)
			rc = 0;
		else
			rc = err_set(e, ERR_NOPERM,
			    "AUTH XOAUTH2: unexpected 334 from the server");
		break;
	}
	if (rc == -1)
		resp_clear(resp);
	else
		a->steps++;
	return rc;
}

const char *
auth_used(const struct auth *a)
{
	switch (a->mech) {
	case MECH_PLAIN:
		return "plain";
	case MECH_LOGIN:
		return "login";
	case MECH_XOAUTH2:
		return "xoauth2";
	default:
		return ntlm_version_name(a->ntlm_used);
	}
}

void
auth_set_ntlm_opts(struct auth *a, const struct ntlm_opts *o)
{
	int version = a->opts.version;

	a->opts = *o;
	if (o->version == NTLM_AUTO)
		a->opts.version = version;
}
