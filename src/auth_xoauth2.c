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
 */
#include <string.h>

#include "postern/base64.h"
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
