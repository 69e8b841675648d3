/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ossl_ssl.h: the libssl functions postern calls (tls.c only), loaded when a
 * delivery first needs it (ossl.c).
 *
 * Linking libssl and libcrypto costs every run about 1.3 ms and 2 MiB at
 * start, although most runs (plain SMTP, a spooled submission) never use
 * them.  So postern is not linked with them: the modules that use
 * OpenSSL include this header after OpenSSL's own, and every OpenSSL
 * function they call goes through a pointer that ossl_load() fills once.
 * Each entry point calls ossl_load() before its first OpenSSL call.
 * Only functions are listed: OpenSSL's macros expand to them.
 */
#ifndef POSTERN_OSSL_SSL_H
#define POSTERN_OSSL_SSL_H

#include <openssl/ssl.h>

#include "ossl.h"

#define OSSL_SSL_FUNCS(X)                                                      \
	X(PEM_read_SSL_SESSION)                                                \
	X(PEM_write_SSL_SESSION)                                               \
	X(SSL_CIPHER_get_name)                                                 \
	X(SSL_CTX_check_private_key)                                           \
	X(SSL_CTX_ctrl)                                                        \
	X(SSL_CTX_free)                                                        \
	X(SSL_CTX_load_verify_locations)                                       \
	X(SSL_CTX_new)                                                         \
	X(SSL_CTX_sess_set_new_cb)                                             \
	X(SSL_CTX_set_cipher_list)                                             \
	X(SSL_CTX_set_ciphersuites)                                            \
	X(SSL_CTX_set_default_passwd_cb)                                       \
	X(SSL_CTX_set_default_verify_dir)                                      \
	X(SSL_CTX_set_default_verify_paths)                                    \
	X(SSL_CTX_set_verify)                                                  \
	X(SSL_CTX_use_PrivateKey_file)                                         \
	X(SSL_CTX_use_certificate_chain_file)                                  \
	X(SSL_SESSION_free)                                                    \
	X(SSL_SESSION_get_time)                                                \
	X(SSL_SESSION_get_timeout)                                             \
	X(SSL_SESSION_is_resumable)                                            \
	X(SSL_connect)                                                         \
	X(SSL_ctrl)                                                            \
	X(SSL_free)                                                            \
	X(SSL_get0_param)                                                      \
	X(SSL_get0_peer_certificate)                                           \
	X(SSL_get_current_cipher)                                              \
	X(SSL_get_error)                                                       \
	X(SSL_get_ex_data)                                                     \
	X(SSL_get_ex_data_X509_STORE_CTX_idx)                                  \
	X(SSL_get_peer_cert_chain)                                             \
	X(SSL_get_verify_result)                                               \
	X(SSL_get_version)                                                     \
	X(SSL_new)                                                             \
	X(SSL_pending)                                                         \
	X(SSL_read)                                                            \
	X(SSL_session_reused)                                                  \
	X(SSL_set_ex_data)                                                     \
	X(SSL_set_fd)                                                          \
	X(SSL_set_session)                                                     \
	X(SSL_shutdown)                                                        \
	X(SSL_write)                                                           \
	X(TLS_client_method)

struct ossl_ssl {
#define OSSL_MEMBER(f) __typeof__(f) *f;
	OSSL_SSL_FUNCS(OSSL_MEMBER)
#undef OSSL_MEMBER
};

extern struct ossl_ssl ossl_ssl;

#ifndef OSSL_NO_MACROS
#define PEM_read_SSL_SESSION (ossl_ssl.PEM_read_SSL_SESSION)
#define PEM_write_SSL_SESSION (ossl_ssl.PEM_write_SSL_SESSION)
#define SSL_CIPHER_get_name (ossl_ssl.SSL_CIPHER_get_name)
#define SSL_CTX_check_private_key (ossl_ssl.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl (ossl_ssl.SSL_CTX_ctrl)
#define SSL_CTX_free (ossl_ssl.SSL_CTX_free)
#define SSL_CTX_load_verify_locations (ossl_ssl.SSL_CTX_load_verify_locations)
#define SSL_CTX_new (ossl_ssl.SSL_CTX_new)
#define SSL_CTX_sess_set_new_cb (ossl_ssl.SSL_CTX_sess_set_new_cb)
#define SSL_CTX_set_cipher_list (ossl_ssl.SSL_CTX_set_cipher_list)
#define SSL_CTX_set_ciphersuites (ossl_ssl.SSL_CTX_set_ciphersuites)
#define SSL_CTX_set_default_passwd_cb (ossl_ssl.SSL_CTX_set_default_passwd_cb)
#define SSL_CTX_set_default_verify_dir (ossl_ssl.SSL_CTX_set_default_verify_dir)
#define SSL_CTX_set_default_verify_paths                                       \
	(ossl_ssl.SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_verify (ossl_ssl.SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey_file (ossl_ssl.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate_chain_file                                     \
	(ossl_ssl.SSL_CTX_use_certificate_chain_file)
#define SSL_SESSION_free (ossl_ssl.SSL_SESSION_free)
#define SSL_SESSION_get_time (ossl_ssl.SSL_SESSION_get_time)
#define SSL_SESSION_get_timeout (ossl_ssl.SSL_SESSION_get_timeout)
#define SSL_SESSION_is_resumable (ossl_ssl.SSL_SESSION_is_resumable)
#define SSL_connect (ossl_ssl.SSL_connect)
#define SSL_ctrl (ossl_ssl.SSL_ctrl)
#define SSL_free (ossl_ssl.SSL_free)
#define SSL_get0_param (ossl_ssl.SSL_get0_param)
#define SSL_get0_peer_certificate (ossl_ssl.SSL_get0_peer_certificate)
#define SSL_get_current_cipher (ossl_ssl.SSL_get_current_cipher)
#define SSL_get_error (ossl_ssl.SSL_get_error)
#define SSL_get_ex_data (ossl_ssl.SSL_get_ex_data)
#define SSL_get_ex_data_X509_STORE_CTX_idx                                     \
	(ossl_ssl.SSL_get_ex_data_X509_STORE_CTX_idx)
#define SSL_get_peer_cert_chain (ossl_ssl.SSL_get_peer_cert_chain)
#define SSL_get_verify_result (ossl_ssl.SSL_get_verify_result)
#define SSL_get_version (ossl_ssl.SSL_get_version)
#define SSL_new (ossl_ssl.SSL_new)
#define SSL_pending (ossl_ssl.SSL_pending)
#define SSL_read (ossl_ssl.SSL_read)
#define SSL_session_reused (ossl_ssl.SSL_session_reused)
#define SSL_set_ex_data (ossl_ssl.SSL_set_ex_data)
#define SSL_set_fd (ossl_ssl.SSL_set_fd)
#define SSL_set_session (ossl_ssl.SSL_set_session)
#define SSL_shutdown (ossl_ssl.SSL_shutdown)
#define SSL_write (ossl_ssl.SSL_write)
#define TLS_client_method (ossl_ssl.TLS_client_method)
#endif

#endif
