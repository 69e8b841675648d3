/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * oauth2_dl.c: dlopen() of libcurl and json-c when a run first needs an
 * OAuth 2.0 token (oauth2_dl.h says why).
 */
#include <dlfcn.h>

#include "postern/err.h"
#define OAUTH2_DL_NO_MACROS
#include "oauth2_dl.h"

struct oauth2_dl oauth2_dl;

/* One library: its handle, then every function the list names. */
static void *
dl_open(const char *lib, const char *pkg, struct err *e)
{
	void *h;

	if ((h = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL)
		err_set(e, ERR_SOFTWARE,
		    "cannot load %s (Debian package %s): %s", lib, pkg,
		    dlerror());
	return h;
}

int
oauth2_dl_load(struct err *e)
{
	static int loaded;
	const char *lib = "libcurl.so.4";
	void *h;

	if (loaded)
		return 0;
	if ((h = dl_open(lib, "libcurl4", e)) == NULL)
		return -1;
#define OAUTH2_DL_SYM(f)                                                       \
	if ((*(void **)&oauth2_dl.f = dlsym(h, #f)) == NULL)                   \
		goto missing;
	OAUTH2_DL_CURL_FUNCS(OAUTH2_DL_SYM)
	lib = "libjson-c.so.5";
	if ((h = dl_open(lib, "libjson-c5", e)) == NULL)
		return -1;
	OAUTH2_DL_JSON_FUNCS(OAUTH2_DL_SYM)
#undef OAUTH2_DL_SYM
	/* Once, before any handle: curl's global state (no threads here). */
	if (oauth2_dl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_SOFTWARE, "cannot initialise libcurl");
	loaded = 1;
	return 0;
missing:
	return err_set(e, ERR_SOFTWARE, "cannot load %s: %s", lib, dlerror());
}
