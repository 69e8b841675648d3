/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * auth_mechs.c: the mechanism table.  One row per value of the ini's
 * "auth =" (row 0 is anonymous, the default, and the row a zeroed
 * struct config_server selects); each names the SASL mechanisms it may
 * use, in order of preference, and its rules.  Every list of auth modes
 * elsewhere (the ini's choices, the key checks, the clear-text rule,
 * --check, the errors that name the modes) is read from here.
 *
 * To add a mechanism: its file (see auth_int.h), its extern in
 * auth_int.h, one row below, and its .o in the Makefile.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postern/config.h"
#include "auth_int.h"

static const struct auth_mode auth_modes[] = {
	{ .name = "anonymous",
	    .about = "no AUTH",
	    .user = AUTH_NEVER,
	    .secret = AUTH_NEVER },
	{ .name = "basic",
	    .mechs = { &auth_plain, &auth_login },
	    .about = "AUTH PLAIN when the server offers it, else AUTH LOGIN",
	    .user = AUTH_NEEDED,
	    .secret = AUTH_NEEDED,
	    .plaintext = 1 },
	{ .name = "ntlm",
	    .mechs = { &auth_ntlm },
	    .about = "AUTH NTLM (NTLMSSP; the password is never sent)",
	    .user = AUTH_NEEDED,
	    .secret = AUTH_NEEDED },
	{ .name = "xoauth2",
	    .mechs = { &auth_xoauth2 },
	    .about = "AUTH XOAUTH2 with a bearer token",
	    .user = AUTH_NEEDED,
	    /* oauth2_token_url or one password key: auth_xoauth2_check */
	    .secret = AUTH_OPTIONAL,
	    .plaintext = 1,
	    .check = auth_xoauth2_check,
	    .print = auth_xoauth2_print,
	    .fetches = auth_xoauth2_fetches,
	    .fetch = auth_xoauth2_token },
	{ .name = "gssapi",
	    .mechs = { &auth_gssapi },
	    .about = "AUTH GSSAPI (Kerberos 5; no password is stored or sent)",
	    .user = AUTH_OPTIONAL,
	    .secret = AUTH_NEVER,
	    .check = auth_gssapi_check,
	    .print = auth_gssapi_print },
};

#define AUTH_NMODES ((int)(sizeof(auth_modes) / sizeof(auth_modes[0])))

const struct auth_mode *
auth_mode_at(int i)
{
	return i >= 0 && i < AUTH_NMODES ? &auth_modes[i] : NULL;
}

int
auth_mode_find(const char *name)
{
	int i;

	for (i = 0; i < AUTH_NMODES; i++)
		if (strcasecmp(name, auth_modes[i].name) == 0)
			return i;
	return -1;
}

const struct auth_mode *
auth_mode_of(const struct config_server *srv)
{
	const struct auth_mode *m = auth_mode_at(srv->auth);

	return m != NULL ? m : &auth_modes[0];
}

void
auth_print(const struct config_server *srv, FILE *fp)
{
	const struct auth_mode *m = auth_mode_of(srv);

	fprintf(fp, "; %s%s%s\n", m->about, srv->user != NULL ? ", as " : "",
	    srv->user != NULL ? srv->user : "");
	if (m->print != NULL)
		m->print(srv, fp);
}

const struct auth_mech *const *
auth_mech_list(void)
{
	/* Every mechanism of every row, in the rows' order, once each. */
	static const struct auth_mech *list[AUTH_NMODES * AUTH_MODE_MECHS + 1];
	size_t n = 0, k;
	int i, j;

	if (list[0] != NULL)
		return list;
	for (i = 0; i < AUTH_NMODES; i++)
		for (j = 0; auth_modes[i].mechs[j] != NULL; j++) {
			for (k = 0; k < n; k++)
				if (list[k] == auth_modes[i].mechs[j])
					break;
			if (k == n)
				list[n++] = auth_modes[i].mechs[j];
		}
	list[n] = NULL;
	return list;
}

int
auth_fetches(const struct config_server *srv)
{
	const struct auth_mode *m = auth_mode_of(srv);

	return m->fetches != NULL && m->fetches(srv);
}

int
auth_fetch(const struct config_server *srv, const struct auth_fetch *f,
    char **out, struct err *e)
{
	*out = NULL;
	if (!auth_fetches(srv))
		return err_set(e, ERR_USAGE,
		    "auth = %s fetches no secret (auth = xoauth2 with "
		    "oauth2_token_url does)",
		    auth_mode_of(srv)->name);
	return auth_mode_of(srv)->fetch(srv, f, out, e);
}

static void
test_line(void *arg, const char *line)
{
	fprintf(arg, "; %s\n", line);
}

int
auth_fetch_test(const struct config_server *srv, FILE *fp, struct err *e)
{
	struct auth_fetch f;
	char *secret;

	memset(&f, 0, sizeof(f));
	f.fresh = 1;
	f.trace = test_line;
	f.trace_arg = fp;
	if (auth_fetch(srv, &f, &secret, e) == -1)
		return -1;
	auth_wipe_str(secret);
	fprintf(fp, "; --oauth2-test: a token can be had now\n");
	return 0;
}
