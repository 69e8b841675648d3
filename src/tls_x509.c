/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * tls_x509.c: certificate text for the TLS client: SPKI pins, names,
 * dates, verification failures in words an admin can act on, and the
 * chain summary of --serverinfo.  X509 only: the SSL connection is
 * tls.c's, the only file that includes <openssl/ssl.h>.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl_crypto.h"

#include "postern/err.h"
#include "postern/tls.h"
#include "tls_int.h"

#define B64_PIN (4 * ((TLS_PINLEN + 2) / 3)) /* 44 characters */

int
tls_x509_spki(X509 *x, unsigned char md[TLS_PINLEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n, ok;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok == 1 && mdlen == TLS_PINLEN ? 0 : -1;
}

void
tls_x509_pin(X509 *x, char *out, size_t outsz)
{
	unsigned char md[TLS_PINLEN], b64[B64_PIN + 1];

	out[0] = '\0';
	if (x == NULL || tls_x509_spki(x, md) == -1)
		return;
	EVP_EncodeBlock(b64, md, TLS_PINLEN);
	snprintf(out, outsz, "sha256/%s", (char *)b64);
}

int
tls_x509_parse_pins(const char *s, unsigned char pins[][TLS_PINLEN], size_t max,
    size_t *np, struct err *err)
{
	unsigned char raw[B64_PIN + 1], out[sizeof(raw)];
	size_t n;
	int len;

	*np = 0;
	while (s != NULL && *s != '\0') {
		s += strspn(s, ", \t");
		if ((n = strcspn(s, ", \t")) == 0)
			break;
		if (n < 8 || strncmp(s, "sha256/", 7) != 0 || n - 7 != B64_PIN)
			return err_set(err, ERR_CONFIG,
			    "tls_pin: \"%.*s\" is not sha256/ followed by 44 "
			    "base64 characters",
			    (int)(n > 80 ? 80 : n), s);
		if (*np == max)
			return err_set(err, ERR_CONFIG,
			    "tls_pin: more than %zu pins", max);
		memcpy(raw, s + 7, n - 7);
		raw[n - 7] = '\0';
		/* 44 characters with one '=' decode to 33 bytes, the last 0. */
		len = EVP_DecodeBlock(out, raw, (int)(n - 7));
		if (len != TLS_PINLEN + 1 || raw[n - 8] != '=' ||
		    raw[n - 9] == '=')
			return err_set(err, ERR_CONFIG,
			    "tls_pin: \"%.*s\" is not valid base64 of a "
			    "SHA-256",
			    (int)n, s);
		memcpy(pins[(*np)++], out, TLS_PINLEN);
		s += n;
	}
	return 0;
}

void
tls_x509_name(const X509_NAME *nm, char *out, size_t outsz)
{
	BIO *b;
	char *p;
	long n;

	out[0] = '\0';
	if (nm == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		err_sanitize(out, outsz, p, (size_t)n);
	BIO_free(b);
}

void
tls_x509_time(const ASN1_TIME *at, char *out, size_t outsz)
{
	struct tm tm;

	out[0] = '\0';
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outsz, "?");
}

/* One subjectAltName entry as text, "" for other kinds. */
static void
gen_text(const GENERAL_NAME *g, char *one, size_t onesz)
{
	const unsigned char *d;
	int n;

	one[0] = '\0';
	if (g->type == GEN_DNS) {
		d = ASN1_STRING_get0_data(g->d.dNSName);
		err_sanitize(one, onesz, (const char *)d,
		    (size_t)ASN1_STRING_length(g->d.dNSName));
	} else if (g->type == GEN_IPADD) {
		d = ASN1_STRING_get0_data(g->d.iPAddress);
		n = ASN1_STRING_length(g->d.iPAddress);
		if (n == 4 || n == 16)
			inet_ntop(n == 16 ? AF_INET6 : AF_INET, d, one,
			    (socklen_t)onesz);
	}
}

void
tls_x509_names(X509 *x, char *out, size_t outsz)
{
	GENERAL_NAMES *gens;
	char one[256], *p = out;
	size_t left = outsz;
	int i, n;

	out[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0;
	     gens != NULL && i < OPENSSL_sk_num((const OPENSSL_STACK *)gens);
	     i++) {
		gen_text((const GENERAL_NAME *)
			     OPENSSL_sk_value((const OPENSSL_STACK *)gens, i),
		    one, sizeof(one));
		if (one[0] == '\0' || left < 2)
			continue;
		n = snprintf(p, left, "%s%s", p == out ? "" : ", ", one);
		if (n < 0 || (size_t)n >= left) {
			*p = '\0'; /* cut at a whole name */
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	GENERAL_NAMES_free(gens);
	if (out[0] == '\0')
		tls_x509_name(X509_get_subject_name(x), out, outsz);
}

void
tls_x509_why(char *out, size_t outsz, long code, int depth, X509 *x,
    const char *host)
{
	char a[256], b[256], when[32];
	const char *what = depth > 0 ? "CA certificate" : "certificate";

	a[0] = b[0] = '\0';
	if (x != NULL)
		tls_x509_name(X509_get_subject_name(x), b, sizeof(b));
	switch (x != NULL ? code : 0) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		tls_x509_time(X509_get0_notAfter(x), when, sizeof(when));
		snprintf(out, outsz, "%s has expired (notAfter %s)%s%s", what,
		    when, depth > 0 ? ": " : "", depth > 0 ? b : "");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		tls_x509_time(X509_get0_notBefore(x), when, sizeof(when));
		snprintf(out, outsz, "%s is not yet valid (notBefore %s)%s%s",
		    what, when, depth > 0 ? ": " : "", depth > 0 ? b : "");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		tls_x509_names(x, a, sizeof(a));
		snprintf(out, outsz,
		    "name mismatch: the certificate is for %s, not %s", a,
		    host);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		tls_x509_name(X509_get_issuer_name(x), a, sizeof(a));
		snprintf(out, outsz,
		    "untrusted issuer \"%s\" (%s; see tls_ca_file)", a,
		    X509_verify_cert_error_string(code));
		break;
	default:
		snprintf(out, outsz,
		    "certificate verification failed: %s (%s \"%s\")",
		    X509_verify_cert_error_string(code), what, b);
	}
}

int
tls_x509_print(FILE *fp, int i, X509 *x)
{
	char s[256], is[256], nb[32], na[32], names[512], pin[64];

	tls_x509_name(X509_get_subject_name(x), s, sizeof(s));
	tls_x509_name(X509_get_issuer_name(x), is, sizeof(is));
	tls_x509_time(X509_get0_notBefore(x), nb, sizeof(nb));
	tls_x509_time(X509_get0_notAfter(x), na, sizeof(na));
	tls_x509_names(x, names, sizeof(names));
	tls_x509_pin(x, pin, sizeof(pin));
	return fprintf(fp,
	    "certificate %d:\n  subject:  %s\n  issuer:   %s\n"
	    "  names:    %s\n  valid:    %s to %s%s\n  pin:      %s\n",
	    i, s, is, names, nb, na,
	    X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ? " (EXPIRED)"
							     : "",
	    pin);
}

int
tls_check_pins(const char *s, struct err *err)
{
	unsigned char pins[TLS_MAXPINS][TLS_PINLEN];
	size_t n;

	if (ossl_load(err) == -1)
		return -1;
	return tls_x509_parse_pins(s, pins, TLS_MAXPINS, &n, err);
}
