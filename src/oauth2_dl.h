/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * oauth2_dl.h: libcurl and json-c, loaded when a run first needs an
 * OAuth 2.0 token (oauth2_dl.c), the way ossl.c loads OpenSSL: a plain
 * run never maps them.  The modules that use them include this header
 * instead of curl.h and json.h and call through the pointers below
 * (macros give them their usual names); each entry point calls
 * oauth2_dl_load() first.
 */
#ifndef POSTERN_OAUTH2_DL_H
#define POSTERN_OAUTH2_DL_H

/* Plain prototypes: curl's type-checking macros would hide the calls. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <json-c/json.h>

struct err;

#define OAUTH2_DL_CURL_FUNCS(X)                                                \
	X(curl_easy_cleanup)                                                   \
	X(curl_easy_getinfo)                                                   \
	X(curl_easy_init)                                                      \
	X(curl_easy_perform)                                                   \
	X(curl_easy_setopt)                                                    \
	X(curl_easy_strerror)                                                  \
	X(curl_global_init)                                                    \
	X(curl_slist_append)                                                   \
	X(curl_slist_free_all)

#define OAUTH2_DL_JSON_FUNCS(X)                                                \
	X(json_object_get_int64)                                               \
	X(json_object_get_string)                                              \
	X(json_object_get_string_len)                                          \
	X(json_object_get_type)                                                \
	X(json_object_new_int64)                                               \
	X(json_object_new_object)                                              \
	X(json_object_new_string)                                              \
	X(json_object_object_add)                                              \
	X(json_object_object_get_ex)                                           \
	X(json_object_put)                                                     \
	X(json_object_to_json_string_ext)                                      \
	X(json_tokener_error_desc)                                             \
	X(json_tokener_free)                                                   \
	X(json_tokener_get_error)                                              \
	X(json_tokener_new_ex)                                                 \
	X(json_tokener_parse_ex)

struct oauth2_dl {
#define OAUTH2_DL_MEMBER(f) __typeof__(f) *f;
	OAUTH2_DL_CURL_FUNCS(OAUTH2_DL_MEMBER)
	OAUTH2_DL_JSON_FUNCS(OAUTH2_DL_MEMBER)
#undef OAUTH2_DL_MEMBER
};

extern struct oauth2_dl oauth2_dl;

/*
 * Load libcurl.so.4 and libjson-c.so.5 once (the system's: a set-group-ID
 * process ignores LD_LIBRARY_PATH).  0, or -1 with ERR_SOFTWARE naming
 * the library and the Debian package that holds it.
 */
int oauth2_dl_load(struct err *);

#ifndef OAUTH2_DL_NO_MACROS
/* curl.h defines these two as function-like macros of themselves. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup (oauth2_dl.curl_easy_cleanup)
#define curl_easy_getinfo (oauth2_dl.curl_easy_getinfo)
#define curl_easy_init (oauth2_dl.curl_easy_init)
#define curl_easy_perform (oauth2_dl.curl_easy_perform)
#define curl_easy_setopt (oauth2_dl.curl_easy_setopt)
#define curl_easy_strerror (oauth2_dl.curl_easy_strerror)
#define curl_global_init (oauth2_dl.curl_global_init)
#define curl_slist_append (oauth2_dl.curl_slist_append)
#define curl_slist_free_all (oauth2_dl.curl_slist_free_all)
#define json_object_get_int64 (oauth2_dl.json_object_get_int64)
#define json_object_get_string (oauth2_dl.json_object_get_string)
#define json_object_get_string_len (oauth2_dl.json_object_get_string_len)
#define json_object_get_type (oauth2_dl.json_object_get_type)
#define json_object_new_int64 (oauth2_dl.json_object_new_int64)
#define json_object_new_object (oauth2_dl.json_object_new_object)
#define json_object_new_string (oauth2_dl.json_object_new_string)
#define json_object_object_add (oauth2_dl.json_object_object_add)
#define json_object_object_get_ex (oauth2_dl.json_object_object_get_ex)
#define json_object_put (oauth2_dl.json_object_put)
#define json_object_to_json_string_ext                                         \
	(oauth2_dl.json_object_to_json_string_ext)
#define json_tokener_error_desc (oauth2_dl.json_tokener_error_desc)
#define json_tokener_free (oauth2_dl.json_tokener_free)
#define json_tokener_get_error (oauth2_dl.json_tokener_get_error)
#define json_tokener_new_ex (oauth2_dl.json_tokener_new_ex)
#define json_tokener_parse_ex (oauth2_dl.json_tokener_parse_ex)
#endif

#endif
