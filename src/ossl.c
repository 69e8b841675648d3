/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ossl.c: dlopen() of OpenSSL when a delivery first needs it.  The
 * loader is the one file besides tls.c that sees libssl's declarations:
 * it needs their types for the pointers it fills.
 */
#include <dlfcn.h>

#include "postern/err.h"
#define OSSL_NO_MACROS
#include "ossl_crypto.h"
#include "ossl_ssl.h"

struct ossl_crypto ossl_crypto;
struct ossl_ssl ossl_ssl;

int
ossl_load(struct err *e)
{
	static int loaded;
	const char *why = NULL;
	void *h;

	if (loaded)
		return 0;
	/* libssl.so.3 brings libcrypto.so.3: one handle finds both. */
	if ((h = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		goto fail;
	}
#define OSSL_LOAD(s, f)                                                        \
	if ((*(void **)&s.f = dlsym(h, #f)) == NULL) {                         \
		why = "libssl.so.3 lacks " #f;                                 \
		goto fail;                                                     \
	}
#define OSSL_LOAD_CRYPTO(f) OSSL_LOAD(ossl_crypto, f)
#define OSSL_LOAD_SSL(f) OSSL_LOAD(ossl_ssl, f)
	OSSL_CRYPTO_FUNCS(OSSL_LOAD_CRYPTO)
	OSSL_SSL_FUNCS(OSSL_LOAD_SSL)
	loaded = 1;
	return 0;
fail:
	if (e != NULL)
		err_set(e, ERR_SOFTWARE, "cannot load OpenSSL: %s",
		    why ? why : "unknown error");
	return -1;
}
