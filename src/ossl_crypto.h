/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ossl_crypto.h: the libcrypto functions postern calls, loaded when a delivery
 * first needs it (ossl.c).
 *
 * Linking libssl and libcrypto costs every run about 1.3 ms and 2 MiB at
 * start, although most runs (plain SMTP, a spooled submission) never use
 * them.  So postern is not linked with them: the modules that use
 * OpenSSL include this header after OpenSSL's own, and every OpenSSL
 * function they call goes through a pointer that ossl_load() fills once.
 * Each entry point calls ossl_load() before its first OpenSSL call.
 * Only functions are listed: OpenSSL's macros expand to them.
 */
#ifndef POSTERN_OSSL_CRYPTO_H
#define POSTERN_OSSL_CRYPTO_H

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl.h"

#define OSSL_CRYPTO_FUNCS(X)                                                   \
	X(ASN1_STRING_get0_data)                                               \
	X(ASN1_STRING_length)                                                  \
	X(ASN1_TIME_to_tm)                                                     \
	X(BIO_ctrl)                                                            \
	X(BIO_free)                                                            \
	X(BIO_new)                                                             \
	X(BIO_new_mem_buf)                                                     \
	X(BIO_s_mem)                                                           \
	X(CRYPTO_free)                                                         \
	X(ERR_clear_error)                                                     \
	X(ERR_get_error)                                                       \
	X(ERR_peek_last_error)                                                 \
	X(ERR_reason_error_string)                                             \
	X(EVP_DecodeBlock)                                                     \
	X(EVP_Digest)                                                          \
	X(EVP_DigestSign)                                                      \
	X(EVP_DigestSignInit)                                                  \
	X(EVP_EncodeBlock)                                                     \
	X(EVP_MD_CTX_free)                                                     \
	X(EVP_MD_CTX_new)                                                      \
	X(EVP_PKEY_free)                                                       \
	X(EVP_PKEY_get_base_id)                                                \
	X(EVP_md5)                                                             \
	X(EVP_sha1)                                                            \
	X(EVP_sha256)                                                          \
	X(GENERAL_NAMES_free)                                                  \
	X(HMAC)                                                                \
	X(OPENSSL_cleanse)                                                     \
	X(OPENSSL_sk_num)                                                      \
	X(OPENSSL_sk_value)                                                    \
	X(PEM_read_bio_PrivateKey)                                             \
	X(PEM_read_bio_X509)                                                   \
	X(RAND_bytes)                                                          \
	X(X509_NAME_print_ex)                                                  \
	X(X509_STORE_CTX_get_current_cert)                                     \
	X(X509_STORE_CTX_get_error)                                            \
	X(X509_STORE_CTX_get_error_depth)                                      \
	X(X509_STORE_CTX_get_ex_data)                                          \
	X(X509_VERIFY_PARAM_set1_host)                                         \
	X(X509_VERIFY_PARAM_set1_ip_asc)                                       \
	X(X509_VERIFY_PARAM_set_hostflags)                                     \
	X(X509_check_private_key)                                              \
	X(X509_cmp_current_time)                                               \
	X(X509_free)                                                           \
	X(X509_get0_notAfter)                                                  \
	X(X509_get0_notBefore)                                                 \
	X(X509_get_X509_PUBKEY)                                                \
	X(X509_get_default_cert_dir)                                           \
	X(X509_get_default_cert_dir_env)                                       \
	X(X509_get_default_cert_file_env)                                      \
	X(X509_get_ext_d2i)                                                    \
	X(X509_get_issuer_name)                                                \
	X(X509_get_subject_name)                                               \
	X(X509_verify_cert_error_string)                                       \
	X(i2d_X509)                                                            \
	X(i2d_X509_PUBKEY)

struct ossl_crypto {
#define OSSL_MEMBER(f) __typeof__(f) *f;
	OSSL_CRYPTO_FUNCS(OSSL_MEMBER)
#undef OSSL_MEMBER
};

extern struct ossl_crypto ossl_crypto;

#ifndef OSSL_NO_MACROS
#define ASN1_STRING_get0_data (ossl_crypto.ASN1_STRING_get0_data)
#define ASN1_STRING_length (ossl_crypto.ASN1_STRING_length)
#define ASN1_TIME_to_tm (ossl_crypto.ASN1_TIME_to_tm)
#define BIO_ctrl (ossl_crypto.BIO_ctrl)
#define BIO_free (ossl_crypto.BIO_free)
#define BIO_new (ossl_crypto.BIO_new)
#define BIO_new_mem_buf (ossl_crypto.BIO_new_mem_buf)
#define BIO_s_mem (ossl_crypto.BIO_s_mem)
#define CRYPTO_free (ossl_crypto.CRYPTO_free)
#define ERR_clear_error (ossl_crypto.ERR_clear_error)
#define ERR_get_error (ossl_crypto.ERR_get_error)
#define ERR_peek_last_error (ossl_crypto.ERR_peek_last_error)
#define ERR_reason_error_string (ossl_crypto.ERR_reason_error_string)
#define EVP_DecodeBlock (ossl_crypto.EVP_DecodeBlock)
#define EVP_Digest (ossl_crypto.EVP_Digest)
#define EVP_DigestSign (ossl_crypto.EVP_DigestSign)
#define EVP_DigestSignInit (ossl_crypto.EVP_DigestSignInit)
#define EVP_EncodeBlock (ossl_crypto.EVP_EncodeBlock)
#define EVP_MD_CTX_free (ossl_crypto.EVP_MD_CTX_free)
#define EVP_MD_CTX_new (ossl_crypto.EVP_MD_CTX_new)
#define EVP_PKEY_free (ossl_crypto.EVP_PKEY_free)
#define EVP_PKEY_get_base_id (ossl_crypto.EVP_PKEY_get_base_id)
#define EVP_md5 (ossl_crypto.EVP_md5)
#define EVP_sha1 (ossl_crypto.EVP_sha1)
#define EVP_sha256 (ossl_crypto.EVP_sha256)
#define GENERAL_NAMES_free (ossl_crypto.GENERAL_NAMES_free)
#define HMAC (ossl_crypto.HMAC)
#define OPENSSL_cleanse (ossl_crypto.OPENSSL_cleanse)
#define OPENSSL_sk_num (ossl_crypto.OPENSSL_sk_num)
#define OPENSSL_sk_value (ossl_crypto.OPENSSL_sk_value)
#define PEM_read_bio_PrivateKey (ossl_crypto.PEM_read_bio_PrivateKey)
#define PEM_read_bio_X509 (ossl_crypto.PEM_read_bio_X509)
#define RAND_bytes (ossl_crypto.RAND_bytes)
#define X509_NAME_print_ex (ossl_crypto.X509_NAME_print_ex)
#define X509_STORE_CTX_get_current_cert                                        \
	(ossl_crypto.X509_STORE_CTX_get_current_cert)
#define X509_STORE_CTX_get_error (ossl_crypto.X509_STORE_CTX_get_error)
#define X509_STORE_CTX_get_error_depth                                         \
	(ossl_crypto.X509_STORE_CTX_get_error_depth)
#define X509_STORE_CTX_get_ex_data (ossl_crypto.X509_STORE_CTX_get_ex_data)
#define X509_VERIFY_PARAM_set1_host (ossl_crypto.X509_VERIFY_PARAM_set1_host)
#define X509_VERIFY_PARAM_set1_ip_asc                                          \
	(ossl_crypto.X509_VERIFY_PARAM_set1_ip_asc)
#define X509_VERIFY_PARAM_set_hostflags                                        \
	(ossl_crypto.X509_VERIFY_PARAM_set_hostflags)
#define X509_check_private_key (ossl_crypto.X509_check_private_key)
#define X509_cmp_current_time (ossl_crypto.X509_cmp_current_time)
#define X509_free (ossl_crypto.X509_free)
#define X509_get0_notAfter (ossl_crypto.X509_get0_notAfter)
#define X509_get0_notBefore (ossl_crypto.X509_get0_notBefore)
#define X509_get_X509_PUBKEY (ossl_crypto.X509_get_X509_PUBKEY)
#define X509_get_default_cert_dir (ossl_crypto.X509_get_default_cert_dir)
#define X509_get_default_cert_dir_env                                          \
	(ossl_crypto.X509_get_default_cert_dir_env)
#define X509_get_default_cert_file_env                                         \
	(ossl_crypto.X509_get_default_cert_file_env)
#define X509_get_ext_d2i (ossl_crypto.X509_get_ext_d2i)
#define X509_get_issuer_name (ossl_crypto.X509_get_issuer_name)
#define X509_get_subject_name (ossl_crypto.X509_get_subject_name)
#define X509_verify_cert_error_string                                          \
	(ossl_crypto.X509_verify_cert_error_string)
#define i2d_X509 (ossl_crypto.i2d_X509)
#define i2d_X509_PUBKEY (ossl_crypto.i2d_X509_PUBKEY)
#endif

#endif
