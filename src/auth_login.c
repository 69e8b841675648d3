/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_login.c: SASL LOGIN (draft-murchison-sasl-login).  No initial
 * response; the server prompts twice, each prompt and answer base64:
 *
 *	334 "Username:"  ->  user
 *	334 "Password:"  ->  password
 */
#include <string.h>

#include "postern/base64.h"
#include "auth_int.h"

struct auth_login_state {
	struct auth a;
	int asked[2]; /* user, password prompts answered */
};

static int
login_start(struct auth *a, const struct auth_creds *c, struct buf *initial,
    struct err *e)
{
	(void)initial; /* LOGIN has no initial response */
	if (auth_need_user(a, "AUTH LOGIN", e) == -1)
		return -1;
	return auth_take_secret(a, c, "AUTH LOGIN", e);
}

/*
 * Answer a recognised prompt ("Username:", "Password:", any case, also
 * "User Name") by its meaning, anything else with the first of user and
 * password not yet sent.  Each is answered once.
 */
static int
login_step(struct auth *a, const char *ch, size_t len, struct buf *resp,
    struct err *e)
{
	struct auth_login_state *l = (struct auth_login_state *)a;
	struct buf p;
	struct err e2;
	int which = l->asked[0] ? 1 : 0;

	buf_init(&p, 256);
	if (len > 0 && base64_decode(&p, ch, len, &e2) == 0) {
		if (strcasestr(buf_str(&p), "pass") != NULL)
			which = 1;
		else if (strcasestr(buf_str(&p), "user") != NULL)
			which = 0;
	}
	buf_free(&p);
	if (which > 1 || l->asked[which])
		return err_set(e, ERR_NOPERM,
		    "AUTH LOGIN: unexpected prompt from the server");
	l->asked[which] = 1;
	if (which == 0)
		return base64_encode(resp, a->user, strlen(a->user), e);
	return base64_encode(resp, a->secret, strlen(a->secret), e);
}

static const char *
login_used(const struct auth *a)
{
	(void)a;
	return "login";
}

const struct auth_mech auth_login = {
	.sasl = "LOGIN",
	.size = sizeof(struct auth_login_state),
	.start = login_start,
	.step = login_step,
	.used = login_used,
};
