/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * krb.h: GSS-API (MIT Kerberos, libgssapi_krb5.so.2), loaded when a run
 * first needs it: only auth = gssapi does.
 *
 * Linking it would load libgssapi_krb5, libkrb5, libk5crypto and
 * libkrb5support into every run, although almost none of them uses
 * Kerberos.  So postern is not linked with it: auth_gssapi.c includes
 * this header after GSS-API's own, and every GSS-API function it calls
 * goes through a pointer that krb_load() fills once (the way ossl.c
 * loads OpenSSL).  Only functions are listed: the OIDs postern needs
 * are its own constants, so no data symbol is looked up.
 */
#ifndef POSTERN_KRB_H
#define POSTERN_KRB_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

struct err;

#define KRB_GSS_FUNCS(X)                                                       \
	X(gss_add_cred)                                                        \
	X(gss_add_cred_from)                                                   \
	X(gss_delete_sec_context)                                              \
	X(gss_display_name)                                                    \
	X(gss_display_status)                                                  \
	X(gss_import_name)                                                     \
	X(gss_init_sec_context)                                                \
	X(gss_inquire_cred)                                                    \
	X(gss_release_buffer)                                                  \
	X(gss_release_cred)                                                    \
	X(gss_release_name)                                                    \
	X(gss_unwrap)                                                          \
	X(gss_wrap)

struct krb_gss {
#define KRB_MEMBER(f) __typeof__(f) *f;
	KRB_GSS_FUNCS(KRB_MEMBER)
#undef KRB_MEMBER
};

extern struct krb_gss krb_gss;

/*
 * Load GSS-API once: 0, or -1 with e (ERR_SOFTWARE, naming the package
 * to install).  A set-group-ID process ignores LD_LIBRARY_PATH: the
 * system's library is what it gets.
 */
int krb_load(struct err *e);

#ifndef KRB_NO_MACROS
#define gss_add_cred (krb_gss.gss_add_cred)
#define gss_add_cred_from (krb_gss.gss_add_cred_from)
#define gss_delete_sec_context (krb_gss.gss_delete_sec_context)
#define gss_display_name (krb_gss.gss_display_name)
#define gss_display_status (krb_gss.gss_display_status)
#define gss_import_name (krb_gss.gss_import_name)
#define gss_init_sec_context (krb_gss.gss_init_sec_context)
#define gss_inquire_cred (krb_gss.gss_inquire_cred)
#define gss_release_buffer (krb_gss.gss_release_buffer)
#define gss_release_cred (krb_gss.gss_release_cred)
#define gss_release_name (krb_gss.gss_release_name)
#define gss_unwrap (krb_gss.gss_unwrap)
#define gss_wrap (krb_gss.gss_wrap)
#endif

#endif
