/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth.c: the SASL mechanism driver for SMTP AUTH.
 *
 * It finds a mechanism by its SASL name in the table (auth_mechs.c),
 * allocates its state, runs its operations (auth_int.h) and wipes what
 * it held.  The mechanisms themselves live one per file; their wire
 * formats are described there.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_int.h"

void
auth_wipe_str(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
auth_free(struct auth *a)
{
	size_t size;

	if (a == NULL)
		return;
	if (a->mech->free != NULL)
		a->mech->free(a);
	auth_wipe_str(a->user);
	auth_wipe_str(a->secret);
	size = a->mech->size;
	explicit_bzero(a, size);
	free(a);
}

/* Empty b, wiping what it held (the last answer may be a password). */
static void
resp_clear(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->len);
	buf_reset(b);
}

int
auth_need_user(const struct auth *a, const char *what, struct err *e)
{
	if (a->user == NULL)
		return err_set(e, ERR_CONFIG, "%s: user and password needed",
		    what);
	if (*a->user == '\0')
		return err_set(e, ERR_CONFIG, "%s: empty user name", what);
	return 0;
}

int
auth_take_secret(struct auth *a, const struct auth_creds *c, const char *what,
    struct err *e)
{
	auth_wipe_str(a->secret);
	a->secret = NULL;
	if (c->password != NULL) {
		if ((a->secret = strdup(c->password)) == NULL)
			return err_sys(e, ERR_OS, "%s", what);
		return 0;
	}
	if (c->get_secret == NULL)
		return err_set(e, ERR_CONFIG, "%s: user and password needed",
		    what);
	return c->get_secret(c->secret_arg, c->fresh, &a->secret, e);
}

/* The mechanism called name, complete, or NULL with e filled. */
static const struct auth_mech *
auth_find(const char *name, struct err *e)
{
	const struct auth_mech *const *m;

	for (m = auth_mech_list(); *m != NULL; m++)
		if (strcasecmp(name, (*m)->sasl) == 0)
			break;
	if (*m == NULL) {
		err_set(e, ERR_SOFTWARE, "AUTH: unknown mechanism");
		return NULL;
	}
	/* An operation left out must not become some other mechanism's. */
	if ((*m)->start == NULL || (*m)->step == NULL || (*m)->used == NULL ||
	    (*m)->size < sizeof(struct auth)) {
		err_set(e, ERR_SOFTWARE, "AUTH %s: incomplete mechanism",
		    (*m)->sasl);
		return NULL;
	}
	return *m;
}

int
auth_start(struct auth **ap, const char *name, const struct auth_creds *c,
    struct buf *initial, struct err *e)
{
	const struct auth_mech *m;
	struct auth *a;
	int rc;

	*ap = NULL;
	if ((m = auth_find(name, e)) == NULL)
		return -1;
	if ((a = calloc(1, m->size)) == NULL)
		return err_sys(e, ERR_OS, "AUTH");
	a->mech = m;
	a->renewable =
	    c->password == NULL && c->get_secret != NULL && c->renewable;
	a->fresh = c->fresh;
	if (c->user != NULL && (a->user = strdup(c->user)) == NULL) {
		auth_free(a);
		return err_sys(e, ERR_OS, "AUTH");
	}
	if (initial != NULL)
		resp_clear(initial);
	rc = m->start(a, c, initial, e);
	if (rc == -1) {
		if (initial != NULL)
			resp_clear(initial);
		auth_free(a);
		return -1;
	}
	a->initial = initial != NULL && initial->len > 0;
	*ap = a;
	return 0;
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
	rc = a->mech->step(a, ch, len, resp, e);
	if (rc == -1)
		resp_clear(resp);
	else
		a->steps++;
	return rc;
}

int
auth_retry(const struct auth *a, int code)
{
	if (a->mech->retry == NULL || !a->renewable || a->fresh)
		return 0;
	return a->mech->retry(a, code) == 1;
}

const char *
auth_used(const struct auth *a)
{
	return a->mech->used(a);
}

const char *
auth_mech_name(const struct auth_mech *m)
{
	return m->sasl;
}
