/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_plain.c: SASL PLAIN (RFC 4616).  One message, base64 on the wire:
 *
 *	authzid NUL authcid NUL passwd		authzid always empty
 *
 * sent on the AUTH line, or in answer to the server's empty 334.
 */
#include <string.h>

#include "postern/base64.h"
#include "auth_int.h"

/* b64 of the PLAIN message: NUL user NUL password. */
static int
plain_response(struct auth *a, struct buf *out, struct err *e)
{
	struct buf m;
	int rc = 0;

	buf_init(&m, AUTH_LINE_MAX);
	if (buf_addc(&m, '\0') == -1 || buf_adds(&m, a->user) == -1 ||
	    buf_addc(&m, '\0') == -1 || buf_adds(&m, a->secret) == -1)
		rc = err_set(e, ERR_CONFIG, "AUTH PLAIN: credentials too long");
	else
		rc = base64_encode(out, m.data, m.len, e);
	buf_wipe(&m);
	return rc;
}

static int
plain_start(struct auth *a, const struct auth_creds *c, struct buf *initial,
    struct err *e)
{
	if (auth_need_user(a, "AUTH PLAIN", e) == -1 ||
	    auth_take_secret(a, c, "AUTH PLAIN", e) == -1)
		return -1;
	return initial != NULL ? plain_response(a, initial, e) : 0;
}

static int
plain_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	(void)ch;
	(void)len;
	if (a->initial || a->steps > 0)
		return err_set(e, ERR_NOPERM,
		    "AUTH PLAIN: unexpected 334 from the server");
	return plain_response(a, resp, e);
}

static const char *
plain_used(const struct auth *a)
{
	(void)a;
	return "plain";
}

const struct auth_mech auth_plain = {
	.sasl = "PLAIN",
	.size = sizeof(struct auth),
	.start = plain_start,
	.step = plain_step,
	.used = plain_used,
};
