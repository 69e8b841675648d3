/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * tls_int.h: what tls.c (the SSL connection) and tls_x509.c (certificate
 * text: names, dates, pins, verification failures in words, the chain
 * for --serverinfo) share.  tls_x509.c sees X509 only, never SSL.
 */
#ifndef POSTERN_TLS_INT_H
#define POSTERN_TLS_INT_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/x509.h>

struct err;

#define TLS_MAXPINS 8
#define TLS_PINLEN 32 /* SHA-256 */

/* SHA-256 of the certificate's SubjectPublicKeyInfo; -1 on failure. */
int tls_x509_spki(X509 *, unsigned char md[TLS_PINLEN]);
/* "sha256/BASE64" of the SPKI, "" when x is NULL or cannot be hashed. */
void tls_x509_pin(X509 *, char *out, size_t outsz);
/*
 * Parse "sha256/B64, sha256/B64" (commas and/or blanks between) into
 * pins; *n is the count.  ERR_CONFIG naming the bad pin.
 */
int tls_x509_parse_pins(const char *, unsigned char pins[][TLS_PINLEN],
    size_t max, size_t *n, struct err *);
/* The name in RFC 2253 form, sanitised, bounded; "" when NULL. */
void tls_x509_name(const X509_NAME *, char *out, size_t outsz);
/* "2025-01-31 12:00:00 UTC", or "?". */
void tls_x509_time(const ASN1_TIME *, char *out, size_t outsz);
/* The DNS names and IP addresses a certificate is for, or its subject. */
void tls_x509_names(X509 *, char *out, size_t outsz);
/*
 * The verification failure code at depth (x the certificate it is
 * about, may be NULL) in words an admin can act on; host is the name we
 * expected.
 */
void tls_x509_why(char *out, size_t outsz, long code, int depth, X509 *x,
    const char *host);
/* One "certificate N:" block of --serverinfo; < 0 on a write error. */
int tls_x509_print(FILE *, int i, X509 *);

#endif
