/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_auth.c: base64 and the SASL driver (PLAIN, LOGIN, NTLM, XOAUTH2) in
 * the shapes real servers use, Exchange's "334 NTLM supported" included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "postern/auth.h"
#include "postern/base64.h"
#include "t.h"

#define CHAL_V1                                                                \
	"4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef"     \
	"00000000000000000000000000000000060070170000000f5300650072007600"     \
	"65007200"
#define CHAL_V2                                                                \
	"4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"     \
	"00000000000000002400240044000000060070170000000f5300650072007600"     \
	"6500720002000c0044006f006d00610069006e0001000c005300650072007600"     \
	"6500720000000000"
#define AUTH_V2                                                                \
	"4e544c4d5353500003000000180018006c00000054005400840000000c000c00"     \
	"480000000800080054000000100010005c00000010001000d8000000358288e2"     \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"     \
	"4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa"     \
	"aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000"     \
	"00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00"     \
	"01000c005300650072007600650072000000000000000000c5dad2544fc97990"     \
	"94ce1ce90bc9d03e"
#define LM_HASH "e52cac67419a9a224a3b108f3fa6cb6d"
#define LM_RESP "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"

static char hexbuf[8192];
static char b64buf[8192];

static const char *
tohex(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < sizeof(hexbuf); i++)
		snprintf(hexbuf + 2 * i, 3, "%02x", b[i]);
	hexbuf[2 * i] = '\0';
	return hexbuf;
}

/* base64 of the bytes written in hex. */
static const char *
hex64(const char *h)
{
	struct buf b, o;
	struct err e;
	unsigned v;
	size_t i;

	buf_init(&b, 8192);
	buf_init(&o, 8192);
	for (i = 0; h[2 * i]; i++) {
		sscanf(h + 2 * i, "%2x", &v);
		buf_addc(&b, (char)v);
	}
	base64_encode(&o, b.data, b.len, &e);
	snprintf(b64buf, sizeof(b64buf), "%s", buf_str(&o));
	buf_free(&b);
	buf_free(&o);
	return b64buf;
}

/* Decode base64 into hex (for comparing NTLM messages). */
static const char *
dehex(const char *s)
{
	struct buf b;
	struct err e;

	buf_init(&b, 8192);
	if (base64_decode(&b, s, strlen(s), &e) == -1)
		snprintf(hexbuf, sizeof(hexbuf), "(bad base64)");
	else
		tohex(b.data, b.len);
	buf_free(&b);
	return hexbuf;
}

static const char *
b64s(const char *s, size_t n)
{
	struct buf o;
	struct err e;

	buf_init(&o, 8192);
	base64_encode(&o, s, n, &e);
	snprintf(b64buf, sizeof(b64buf), "%s", buf_str(&o));
	buf_free(&o);
	return b64buf;
}

static void
test_base64(void)
{
	static const char *v[][2] = { { "", "" }, { "f", "Zg==" },
		{ "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	static const char *bad[] = { "Zm9", "Zm9v!",
		"Zg=", "Zg==Zg==", "Zh==", "Zm9=", "=Zg=", "Zm9v\n", "Zm 9",
		"Z===", "====", "Zm9vYg=\x80", "Zg\0=" };
	uint8_t raw[300];
	struct buf b, d;
	struct err e;
	size_t i, n, badrt = 0;

	buf_init(&b, 1024);
	buf_init(&d, 1024);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		buf_reset(&d);
		base64_encode(&b, v[i][0], strlen(v[i][0]), &e);
		T_STR(buf_str(&b), v[i][1], "base64 encode RFC 4648");
		T_OK(base64_decode(&d, v[i][1], strlen(v[i][1]), &e) == 0 &&
			d.len == strlen(v[i][0]) &&
			memcmp(buf_str(&d), v[i][0], d.len) == 0,
		    "base64 decode RFC 4648");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&d);
		n = strlen(bad[i]);
		if (bad[i][0] == 'Z' && bad[i][1] == 'g' && bad[i][2] == '\0')
			n = 4;
		T_OK(base64_decode(&d, bad[i], n, &e) == -1 &&
			e.class == ERR_DATA && d.len == 0,
		    "base64 strict: bad input refused");
	}
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(raw); n++) {
		buf_reset(&b);
		buf_reset(&d);
		if (base64_encode(&b, raw, n, &e) == -1 ||
		    b.len != base64_enclen(n) ||
		    base64_decode(&d, b.data, b.len, &e) == -1 || d.len != n ||
		    memcmp(d.data ? d.data : "", raw, n) != 0)
			badrt++;
	}
	T_OK(badrt == 0, "base64 round trips 0..300 bytes");
	buf_free(&b);
	buf_free(&d);
	buf_init(&b, 7);
	T_OK(base64_encode(&b, "foobar", 6, &e) == -1 && b.len == 0,
	    "base64 encode over the cap refused");
	buf_free(&b);
	buf_init(&d, 5);
	T_OK(base64_decode(&d, "Zm9vYmFy", 8, &e) == -1 && d.len == 0,
	    "base64 decode over the cap refused");
	T_OK(base64_decode(&d, "Zm9vYg==", 8, &e) == 0 && d.len == 4,
	    "base64 decode with padding fits the cap");
	buf_free(&d);
}

static struct auth_creds cr = { .user = "user", .password = "pass" };

static void
test_plain_login(void)
{
	struct auth *a;
	struct buf in, r;
	struct err e;

	buf_init(&in, AUTH_LINE_MAX);
	buf_init(&r, AUTH_LINE_MAX);
	T_OK(auth_start(&a, "plain", &cr, &in, &e) == 0, "PLAIN start");
	T_STR(buf_str(&in), "AHVzZXIAcGFzcw==", "PLAIN initial \\0user\\0pass");
	T_OK(auth_step(a, "", &r, &e) == -1 && e.class == ERR_NOPERM,
	    "PLAIN: 334 after the initial response is an error");
	T_STR(auth_used(a), "plain", "auth_used plain");
	auth_free(a);
	T_OK(auth_start(&a, "PLAIN", &cr, NULL, &e) == 0, "PLAIN no initial");
	T_OK(auth_step(a, "", &r, &e) == 0, "PLAIN answers the empty 334");
	T_STR(buf_str(&r), "AHVzZXIAcGFzcw==", "PLAIN response");
	auth_free(a);

	T_OK(auth_start(&a, "LOGIN", &cr, &in, &e) == 0 && in.len == 0,
	    "LOGIN: no initial response");
	auth_step(a, "VXNlcm5hbWU6", &r, &e);
	T_STR(buf_str(&r), "dXNlcg==", "LOGIN Username: -> user");
	auth_step(a, "UGFzc3dvcmQ6\r\n", &r, &e);
	T_STR(buf_str(&r), "cGFzcw==", "LOGIN Password: -> password");
	T_OK(auth_step(a, "UGFzc3dvcmQ6", &r, &e) == -1 && r.len == 0,
	    "LOGIN: third prompt refused");
	T_STR(auth_used(a), "login", "auth_used login");
	auth_free(a);
	auth_start(&a, "login", &cr, NULL, &e);
	auth_step(a, "cGFzc3dvcmQ6", &r, &e); /* "password:" first */
	T_STR(buf_str(&r), "cGFzcw==", "LOGIN lowercase password: first");
	auth_step(a, "VVNFUk5BTUU6", &r, &e); /* "USERNAME:" */
	T_STR(buf_str(&r), "dXNlcg==", "LOGIN USERNAME: second");
	auth_free(a);
	auth_start(&a, "login", &cr, NULL, &e);
	auth_step(a, "not base64 at all", &r, &e);
	T_STR(buf_str(&r), "dXNlcg==", "LOGIN: unknown prompt 1 -> user");
	auth_step(a, "", &r, &e);
	T_STR(buf_str(&r), "cGFzcw==", "LOGIN: unknown prompt 2 -> password");
	auth_free(a);
	buf_wipe(&in);
	buf_wipe(&r);
}

static void
test_xoauth2_misc(void)
{
	struct auth_creds x = { .user = "u@example.com", .password = "tok" };
	struct auth *a;
	struct buf in, r;
	struct err e;

	buf_init(&in, AUTH_LINE_MAX);
	buf_init(&r, AUTH_LINE_MAX);
	T_OK(auth_start(&a, "XOAUTH2", &x, &in, &e) == 0, "XOAUTH2 start");
	T_STR(buf_str(&in),
	    b64s("user=u@example.com\001auth=Bearer tok\001\001", 36),
	    "XOAUTH2 initial response");
	T_OK(auth_step(a, "eyJzdGF0dXMiOiI0MDAifQ==", &r, &e) == 0 &&
		r.len == 0,
	    "XOAUTH2: error JSON answered with an empty line");
	T_OK(auth_step(a, "", &r, &e) == -1, "XOAUTH2: then no more");
	auth_free(a);
	T_OK(auth_start(&a, "CRAM-MD5", &cr, &in, &e) == -1 && a == NULL,
	    "unknown mechanism refused");
	x.password = NULL;
	T_OK(auth_start(&a, "PLAIN", &x, &in, &e) == -1 &&
		e.class == ERR_CONFIG,
	    "missing password refused");
	auth_free(NULL);
	buf_wipe(&in);
	buf_wipe(&r);
}

/* Field i of an AUTHENTICATE in hex (0 LM, 1 NT, 2 domain, 3 user). */
static const char *
t3_field(const char *b64, int i, struct buf *raw)
{
	const uint8_t *p;
	struct err e;
	size_t len, off;

	buf_reset(raw);
	if (base64_decode(raw, b64, strlen(b64), &e) == -1 || raw->len < 64)
		return "(bad)";
	p = (const uint8_t *)raw->data + 12 + 8 * i;
	len = (size_t)(p[0] | p[1] << 8);
	off = (size_t)(p[4] | p[5] << 8);
	if (off + len > raw->len)
		return "(out of range)";
	return tohex(raw->data + off, len);
}

static void
test_ntlm_forms(void)
{
	static const uint8_t cc[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0xaa };
	static const uint8_t zero[8];
	struct auth_creds c = { .user = "User",
		.password = "Password",
		.ntlm_domain = "Domain",
		.ntlm_workstation = "COMPUTER" };
	struct ntlm_opts o;
	struct auth *a;
	struct buf in, r, raw;
	struct err e;

	buf_init(&in, AUTH_LINE_MAX);
	buf_init(&r, AUTH_LINE_MAX);
	buf_init(&raw, 8192);
	memset(&o, 0, sizeof(o));
	o.client_challenge = cc;
	o.now = zero;
	o.os_version = (const uint8_t *)"\x05\x01\x28\x0a\0\0\0\x0f";
	o.session_key = (const uint8_t *)"\xc5\xda\xd2\x54\x4f\xc9\x79\x90"
					 "\x94\xce\x1c\xe9\x0b\xc9\xd0\x3e";
	o.flags = 0xe2888235;

	/* "AUTH NTLM <type1>" -> "334 <type2>" -> type 3 */
	T_OK(auth_start(&a, "NTLM", &c, &in, &e) == 0, "NTLM start");
	T_OK(strncmp(dehex(buf_str(&in)), "4e544c4d5353500001000000", 24) == 0,
	    "NTLM initial response is a NEGOTIATE");
	T_STR(auth_used(a), "ntlm", "auth_used before the challenge");
	auth_set_ntlm_opts(a, &o);
	T_OK(auth_step(a, hex64(CHAL_V2), &r, &e) == 0, "NTLM answers Type 2");
	T_STR(dehex(buf_str(&r)), AUTH_V2,
	    "NTLM driver: 4.2.4.3 byte for byte");
	T_STR(auth_used(a), "ntlmv2", "auth_used ntlmv2");
	T_OK(auth_step(a, "", &r, &e) == -1 && e.class == ERR_NOPERM,
	    "NTLM: 334 after AUTHENTICATE refused");
	auth_free(a);

	/* "AUTH NTLM" -> "334 NTLM supported" -> type 1 -> type 2 -> type 3 */
	T_OK(auth_start(&a, "ntlm", &c, NULL, &e) == 0, "NTLM bare start");
	T_OK(auth_step(a, "NTLM supported", &r, &e) == 0 &&
		strncmp(dehex(buf_str(&r)), "4e544c4d5353500001000000", 24) ==
		    0,
	    "334 NTLM supported -> NEGOTIATE");
	T_OK(auth_step(a, hex64(CHAL_V2), &r, &e) == 0 &&
		strcmp(auth_used(a), "ntlmv2") == 0,
	    "then the AUTHENTICATE");
	T_OK(strncmp(t3_field(buf_str(&r), 3, &raw), "5500730065007200", 16) ==
		0,
	    "user field User");
	auth_free(a);

	/* A server that ignored the initial NEGOTIATE gets it once more. */
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, "", &r, &e) == 0 &&
		strcmp(buf_str(&r), buf_str(&in)) == 0,
	    "empty 334 after initial NEGOTIATE -> NEGOTIATE again");
	T_OK(auth_step(a, "NTLM supported", &r, &e) == -1 &&
		e.class == ERR_NOPERM,
	    "but only once");
	auth_free(a);

	/* A broken challenge. */
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a,
		 hex64("4e544c4d5353500003000000000000000000000000"
		       "000000000000000000000000"),
		 &r, &e) == -1 &&
		e.class == ERR_NOPERM && r.len == 0,
	    "Type 3 instead of Type 2 refused");
	auth_free(a);
	buf_wipe(&in);
	buf_wipe(&r);
	buf_free(&raw);
}

static void
test_ntlm_choice(void)
{
	/* A challenge with target info and MsvAvTimestamp. */
	static const char *chal_ts =
	    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"
	    "00000000000000001800180044000000060070170000000f5300650072007600"
	    "6500720002000400440000000700080011223344556677010000000000";
	struct auth_creds c = { .user = "User", .password = "Password" };
	struct auth *a;
	struct buf in, r, raw;
	struct err e;
	const char *nt;

	buf_init(&in, AUTH_LINE_MAX);
	buf_init(&r, AUTH_LINE_MAX);
	buf_init(&raw, 8192);
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, hex64(chal_ts), &r, &e) == 0, "timestamp challenge");
	T_STR(auth_used(a), "ntlmv2", "target info + timestamp: v2 chosen");
	T_STR(t3_field(buf_str(&r), 0, &raw),
	    "000000000000000000000000000000000000000000000000",
	    "timestamp: LM response Z(24)");
	nt = t3_field(buf_str(&r), 1, &raw);
	T_OK(strncmp(nt + 32, "01010000000000001122334455667701", 32) == 0,
	    "timestamp: blob carries the server's time");
	T_STR(t3_field(buf_str(&r), 2, &raw), "",
	    "domain empty, not the target name");
	auth_free(a);

	/* A challenge without target info cannot choose v1: v2 all the
	 * same (issue 10, item 3); v1 only when the ini says so. */
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, hex64(CHAL_V1), &r, &e) == 0, "v1 challenge");
	T_STR(auth_used(a), "ntlmv2", "no target info, auto: still v2");
	auth_free(a);

	c.ntlm_version = NTLM_V1;
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, hex64(CHAL_V1), &r, &e) == 0, "v1 challenge");
	T_STR(auth_used(a), "ntlmv1", "no target info, v1 written: v1");
	dehex(buf_str(&r));
	T_OK(strstr(hexbuf, LM_RESP) == NULL && strstr(hexbuf, LM_HASH) == NULL,
	    "v1: no LM hash and no LMv1 response on the wire");
	T_STR(t3_field(buf_str(&r), 1, &raw),
	    "67c43011f30298a2ad35ece64f16331c44bdbed927841f94",
	    "v1: NT response 4.2.2.2.1");
	T_STR(t3_field(buf_str(&r), 0, &raw),
	    "67c43011f30298a2ad35ece64f16331c44bdbed927841f94",
	    "v1: LM field is the NT response");
	auth_free(a);

	c.ntlm_version = NTLM_V1;
	c.password = "\xe2\x82\xac uro";
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, hex64(CHAL_V2), &r, &e) == -1 &&
		e.class == ERR_CONFIG && r.len == 0,
	    "v1 with a non-Latin-1 password: config error");
	auth_free(a);
	c.ntlm_version = NTLM_AUTO;
	c.user = "bad\xc3";
	auth_start(&a, "NTLM", &c, &in, &e);
	T_OK(auth_step(a, hex64(CHAL_V2), &r, &e) == -1 &&
		e.class == ERR_CONFIG,
	    "invalid UTF-8 user: config error");
	auth_free(a);
	c.ntlm_version = 7;
	T_OK(auth_start(&a, "NTLM", &c, &in, &e) == -1, "bad ntlm_version");
	buf_wipe(&in);
	buf_wipe(&r);
	buf_free(&raw);
}

/* A token source that counts its calls and says which was fresh. */
static int token_calls, token_fresh;

static int
token_source(void *arg, int fresh, char **out, struct err *e)
{
	token_calls++;
	token_fresh = fresh;
	if ((*out = strdup(fresh ? "new" : arg)) == NULL)
		return err_sys(e, ERR_OS, "token");
	return 0;
}

static int
token_fails(void *arg, int fresh, char **out, struct err *e)
{
	(void)arg;
	(void)fresh;
	*out = NULL;
	return err_set(e, ERR_TEMP, "token endpoint unreachable");
}

/* The retry interface: XOAUTH2 asks once, only for a renewable token. */
static void
test_retry(void)
{
	struct auth_creds x = { 0 };
	struct auth *a;
	struct buf in, r;
	struct err e;

	buf_init(&in, AUTH_LINE_MAX);
	buf_init(&r, AUTH_LINE_MAX);
	x.user = "u@example.com";
	x.get_secret = token_source;
	x.secret_arg = "old";
	x.renewable = 1;
	T_OK(auth_start(&a, "XOAUTH2", &x, &in, &e) == 0 && token_calls == 1 &&
		token_fresh == 0,
	    "XOAUTH2 fetches its token from the source");
	T_STR(buf_str(&in),
	    b64s("user=u@example.com\001auth=Bearer old\001\001", 36),
	    "XOAUTH2 sends the fetched token");
	T_OK(auth_retry(a, 535) == 1, "535 with a renewable token: retry");
	T_OK(auth_retry(a, 454) == 0, "454: no retry");
	auth_free(a);
	auth_start(&a, "XOAUTH2", &x, &in, &e);
	auth_step(a, "eyJzdGF0dXMiOiI0MDAifQ==", &r, &e);
	T_OK(auth_retry(a, 501) == 1, "after the error challenge: retry");
	auth_free(a);
	x.fresh = 1;
	T_OK(auth_start(&a, "XOAUTH2", &x, &in, &e) == 0 && token_fresh == 1,
	    "the retry asks the source for a fresh token");
	T_STR(buf_str(&in),
	    b64s("user=u@example.com\001auth=Bearer new\001\001", 36),
	    "the retry sends the fresh token");
	T_OK(auth_retry(a, 535) == 0, "only one retry");
	auth_free(a);
	x.fresh = 0;
	x.renewable = 0;
	auth_start(&a, "XOAUTH2", &x, &in, &e);
	T_OK(auth_retry(a, 535) == 0, "a token that is not renewable: none");
	auth_free(a);
	x.renewable = 1;
	auth_start(&a, "PLAIN", &x, &in, &e);
	T_OK(auth_retry(a, 535) == 0, "PLAIN never asks for a retry");
	auth_free(a);
	x.get_secret = token_fails;
	T_OK(auth_start(&a, "XOAUTH2", &x, &in, &e) == -1 && a == NULL &&
		e.class == ERR_TEMP && in.len == 0,
	    "the source's error comes back as it is");
	buf_wipe(&in);
	buf_wipe(&r);
}

/* The mode table drives the names and the rules. */
static void
test_modes(void)
{
	const struct auth_mode *m;
	int i, j, n = 0;

	T_OK(auth_mode_find("anonymous") == 0, "row 0 is anonymous");
	T_OK(auth_mode_at(0)->mechs[0] == NULL, "anonymous sends no AUTH");
	T_OK(auth_mode_find("BASIC") == 1 && auth_mode_find("kerberos") == -1,
	    "rows found by name, any case");
	m = auth_mode_at(auth_mode_find("basic"));
	T_STR(auth_mech_name(m->mechs[0]), "PLAIN", "basic prefers PLAIN");
	T_STR(auth_mech_name(m->mechs[1]), "LOGIN", "then LOGIN");
	T_OK(m->plaintext && !auth_mode_at(auth_mode_find("ntlm"))->plaintext,
	    "basic sends the password; NTLM does not");
	/* No row's mechanism is incomplete (a start may still fail for
	 * want of its own credentials). */
	for (i = 0; (m = auth_mode_at(i)) != NULL; i++)
		for (j = 0; m->mechs[j] != NULL; j++, n++) {
			struct auth *a;
			struct err e;

			T_OK(auth_start(&a, auth_mech_name(m->mechs[j]), &cr,
				 NULL, &e) == 0
				? auth_used(a) != NULL
				: strstr(e.text, "incomplete") == NULL,
			    auth_mech_name(m->mechs[j]));
			auth_free(a);
		}
	T_OK(n >= 5, "every mechanism of the table was started");
}

int
main(void)
{
	test_base64();
	test_plain_login();
	test_xoauth2_misc();
	test_ntlm_forms();
	test_ntlm_choice();
	test_retry();
	test_modes();
	return t_done();
}
