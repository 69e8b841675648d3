/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ossl.h: loading OpenSSL when a delivery first needs it.  The function
 * pointers are in ossl_crypto.h (libcrypto) and ossl_ssl.h (libssl, for
 * tls.c alone); ossl_load() fills both, once, with dlopen() of the
 * system's libssl.so.3 (a set-group-ID process ignores LD_LIBRARY_PATH).
 */
#ifndef POSTERN_OSSL_H
#define POSTERN_OSSL_H

struct err;

/* Load OpenSSL once; e may be NULL.  0, or -1 (ERR_SOFTWARE). */
int ossl_load(struct err *e);

#endif
