/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * krb.c: dlopen() of MIT's GSS-API library when auth = gssapi first
 * needs it (krb.h says why it is not linked).
 */
#include <dlfcn.h>

#include "postern/err.h"
#define KRB_NO_MACROS
#include "krb.h"

#define KRB_LIB "libgssapi_krb5.so.2"

struct krb_gss krb_gss;

int
krb_load(struct err *e)
{
	static int loaded;
	const char *why = NULL;
	void *h;

	if (loaded)
		return 0;
	if ((h = dlopen(KRB_LIB, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		goto fail;
	}
#define KRB_LOAD(f)                                                            \
	if ((*(void **)&krb_gss.f = dlsym(h, #f)) == NULL) {                   \
		why = KRB_LIB " lacks " #f;                                    \
		goto fail;                                                     \
	}
	KRB_GSS_FUNCS(KRB_LOAD)
	loaded = 1;
	return 0;
fail:
	return err_set(e, ERR_SOFTWARE,
	    "auth = gssapi: cannot load Kerberos (install libgssapi-krb5-2): "
	    "%s",
	    why ? why : "unknown error");
}
