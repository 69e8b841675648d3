/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_ntlm.c: MD4 (RFC 1320) and NTLM against the MS-NLMP 4.2 vectors in
 * ref/ntlm-vectors.md, plus a hostile CHALLENGE parser workout.  Inputs are
 * copied into exactly-sized heap blocks so that ASan sees any over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "postern/md4.h"
#include "postern/ntlm.h"
#include "t.h"

/* The 4.2 CHALLENGE and AUTHENTICATE messages. */
#define CHAL_V1                                                                \
	"4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef"     \
	"00000000000000000000000000000000060070170000000f5300650072007600"     \
	"65007200"
#define CHAL_ESS                                                               \
	"4e544c4d53535000020000000c000c003800000033820a820123456789abcdef"     \
	"00000000000000000000000000000000060070170000000f5300650072007600"     \
	"65007200"
#define CHAL_V2                                                                \
	"4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"     \
	"00000000000000002400240044000000060070170000000f5300650072007600"     \
	"6500720002000c0044006f006d00610069006e0001000c005300650072007600"     \
	"6500720000000000"
#define AUTH_V1                                                                \
	"4e544c4d5353500003000000180018006c00000018001800840000000c000c00"     \
	"480000000800080054000000100010005c000000100010009c000000358280e2"     \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"     \
	"4d0050005500540045005200"                                             \
	"98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"                     \
	"67c43011f30298a2ad35ece64f16331c44bdbed927841f94"                     \
	"518822b1b3f350c8958682ecbb3e3cb7"
#define AUTH_ESS                                                               \
	"4e544c4d5353500003000000180018006c00000018001800840000000c000c00"     \
	"480000000800080054000000100010005c000000000000009c00000035820882"     \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"     \
	"4d0050005500540045005200aaaaaaaaaaaaaaaa000000000000000000000000"     \
	"000000007537f803ae367128ca458204bde7caf81e97ed2683267232"
#define AUTH_V2                                                                \
	"4e544c4d5353500003000000180018006c00000054005400840000000c000c00"     \
	"480000000800080054000000100010005c00000010001000d8000000358288e2"     \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"     \
	"4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa"     \
	"aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000"     \
	"00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00"     \
	"01000c005300650072007600650072000000000000000000c5dad2544fc97990"     \
	"94ce1ce90bc9d03e"
#define TI_V2                                                                  \
	"02000c0044006f006d00610069006e0001000c00530065007200760065007200"     \
	"00000000"
#define LM_HASH "e52cac67419a9a224a3b108f3fa6cb6d"
#define LM_RESP "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"
#define NT_RESP_V1 "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"

static const uint8_t cc_aa[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa };
static const uint8_t zero8[8];
static const uint8_t sc_vec[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
	0xef };
static const uint8_t osver[8] = { 0x05, 0x01, 0x28, 0x0a, 0, 0, 0, 0x0f };

/* hex -> malloc'd bytes of exactly the right size. */
static uint8_t *
unhex(const char *h, size_t *n)
{
	size_t i, len = strlen(h) / 2;
	uint8_t *p = malloc(len ? len : 1);
	unsigned v;

	for (i = 0; i < len; i++) {
		sscanf(h + 2 * i, "%2x", &v);
		p[i] = (uint8_t)v;
	}
	*n = len;
	return p;
}

static char hexbuf[8192];

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

static void
test_md4(void)
{
	static const char *v[][2] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz",
		    "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789",
		    "043f8582f241db351ce627e153e7f0e4" },
		{ "1234567890123456789012345678901234567890123456789012345678"
		  "9012345678901234567890",
		    "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	uint8_t d[16];
	struct md4_ctx c;
	size_t i, j;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		md4(v[i][0], strlen(v[i][0]), d);
		T_STR(tohex(d, 16), v[i][1], "md4 RFC 1320 A.5");
	}
	/* The same, fed one byte at a time across block boundaries. */
	md4_init(&c);
	for (j = 0; j < strlen(v[6][0]); j++)
		md4_update(&c, v[6][0] + j, 1);
	md4_final(&c, d);
	T_STR(tohex(d, 16), v[6][1], "md4 byte-at-a-time");
}

static void
test_primitives(void)
{
	uint8_t h1[16], h2[16], k[16], r[24], ch[8], lm[24], key[16];
	uint8_t *ti;
	unsigned int klen = 16;
	struct buf nt;
	struct err e;
	size_t tilen;

	T_OK(ntlm_ntowfv1("Password", h1, &e) == 0, "NTOWFv1 ok");
	T_STR(tohex(h1, 16), "a4f49c406510bdcab6824ee7c30fd852", "NTOWFv1");
	md4(h1, 16, k);
	T_STR(tohex(k, 16), "d87262b0cde4b1cb7499becccdf10784",
	    "v1 SessionBaseKey = MD4(NTOWFv1)");
	T_OK(ntlm_v1_response("Password", sc_vec, r, &e) == 0, "v1 resp ok");
	T_STR(tohex(r, 24), NT_RESP_V1, "NTLMv1 response 4.2.2.2.1");
	T_OK(ntlm_ess_challenge(sc_vec, cc_aa, ch, &e) == 0, "ESS ok");
	T_OK(ntlm_v1_response("Password", ch, r, &e) == 0, "ESS resp ok");
	T_STR(tohex(r, 24), "7537f803ae367128ca458204bde7caf81e97ed2683267232",
	    "NTLM2 session response 4.2.3");
	memcpy(ch, sc_vec, 8); /* KXKEY = HMAC_MD5(SBK, SC || LM[0..7]) */
	memcpy(r, sc_vec, 8), memcpy(r + 8, cc_aa, 8);
	HMAC(EVP_md5(), k, 16, r, 16, key, &klen);
	T_STR(tohex(key, 16), "eb93429a8bd952f8b89c55b87f475edc",
	    "ESS KeyExchangeKey");

	ntlm_ntowfv2(h1, "User", 4, "Domain", 6, h2, &e);
	T_STR(tohex(h2, 16), "0c868a403bfd7a93a3001ef22ef02e3f", "NTOWFv2");
	ntlm_ntowfv2(h1, "USER", 4, "Domain", 6, h2, &e);
	T_STR(tohex(h2, 16), "0c868a403bfd7a93a3001ef22ef02e3f",
	    "NTOWFv2 user case does not matter");
	ntlm_ntowfv2(h1, "User", 4, "DOMAIN", 6, h2, &e);
	T_STR(tohex(h2, 16), "f38efea48ada6afaa95ae44669e5634b",
	    "NTOWFv2 domain not uppercased");
	ntlm_ntowfv2(h1, "User", 4, "Domain", 6, h2, &e);

	ti = unhex(TI_V2, &tilen);
	buf_init(&nt, 4096);
	T_OK(ntlm_v2_response(h2, sc_vec, cc_aa, zero8, ti, tilen, &nt, lm, key,
		 &e) == 0,
	    "v2 response ok");
	T_STR(tohex(nt.data, 16), "68cd0ab851e51c96aabc927bebef6a1c",
	    "NTProofStr");
	T_STR(tohex(nt.data, nt.len),
	    "68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000"
	    "aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c00"
	    "5300650072007600650072000000000000000000",
	    "NtChallengeResponse v2");
	T_STR(tohex(lm, 24), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
	    "LMv2 response");
	T_STR(tohex(key, 16), "8de40ccadbc14a82f15cb0ad0de95ca3",
	    "v2 SessionBaseKey");
	buf_free(&nt);
	free(ti);
}

static void
test_utf(void)
{
	static const char *bad[] = { "\xc0\xaf", "\xed\xa0\x80", "a\xc3",
		"\xf4\x90\x80\x80", "\xff", "\xe0\x80\x80", "\x80" };
	uint8_t r[24];
	char longpw[140];
	struct buf b;
	struct err e;
	size_t i;

	/* UTF-8 "Pässwörd" must become 50 e4 73 73 77 f6 72 64 in UTF-16. */
	T_OK(ntlm_v1_response("P\xc3\xa4ssw\xc3\xb6rd", sc_vec, r, &e) == 0,
	    "Pässwörd v1 ok");
	T_STR(tohex(r, 24), "e481a27f9f98ed9a1bf8f58f5b58c006f1af8039a08a51c3",
	    "Pässwörd: true UTF-16LE");
	T_OK(strcmp(hexbuf, "27cda9dd4e1e38a7277fb5d3604b6312db51d16e94b5c51b"),
	    "Pässwörd: not the widened UTF-8 bytes");
	buf_init(&b, 64);
	ntlm_utf16le(&b, "P\xc3\xa4ssw\xc3\xb6rd", 10, 0, &e);
	T_STR(tohex(b.data, b.len), "5000e400730073007700f60072006400",
	    "utf16 of Pässwörd");
	buf_reset(&b);
	ntlm_utf16le(&b, "\xf0\x9f\x98\x80", 4, 0, &e);
	T_STR(tohex(b.data, b.len), "3dd800de", "utf16 surrogate pair");
	buf_reset(&b);
	ntlm_utf16le(&b, "us\xc3\xa9r\xc3\xbf\xd0\xb6", 9, 1, &e);
	T_STR(tohex(b.data, b.len), "55005300c900520078011604",
	    "uppercase Latin-1, y-diaeresis, Cyrillic");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		err_clear(&e);
		T_OK(ntlm_utf16le(&b, bad[i], strlen(bad[i]), 0, &e) == -1 &&
			e.class == ERR_CONFIG && b.len == 0,
		    "invalid UTF-8 refused");
	}
	buf_free(&b);
	T_OK(ntlm_v1_response("\xe2\x82\xac", sc_vec, r, &e) == -1 &&
		e.class == ERR_CONFIG,
	    "v1: password outside Latin-1 refused");
	memset(longpw, 'a', 129);
	longpw[129] = '\0';
	T_OK(ntlm_v1_response(longpw, sc_vec, r, &e) == -1 &&
		e.class == ERR_CONFIG,
	    "v1: password over 128 characters refused");
	longpw[128] = '\0';
	T_OK(ntlm_v1_response(longpw, sc_vec, r, &e) == 0, "v1: 128 is fine");
}

static int
parse_hex(struct ntlm_challenge *c, const char *h, struct err *e)
{
	size_t n;
	uint8_t *m = unhex(h, &n);
	int rc = ntlm_parse_challenge(c, m, n, e);

	free(m);
	return rc;
}

static void
test_parse_vectors(void)
{
	static const char *v[] = { CHAL_V1, CHAL_ESS, CHAL_V2 };
	static const uint32_t fl[] = { 0xe2028233, 0x820a8233, 0xe28a8233 };
	struct ntlm_challenge c;
	const uint8_t *val;
	struct err e;
	size_t i, len;

	for (i = 0; i < 3; i++) {
		T_OK(parse_hex(&c, v[i], &e) == 0, "parse 4.2 challenge");
		T_OK(c.flags == fl[i], "challenge flags");
		T_STR(tohex(c.server_challenge, 8), "0123456789abcdef",
		    "server challenge");
		T_STR(tohex(c.target_name, c.target_name_len),
		    "530065007200760065007200", "target name Server");
		T_OK(c.has_timestamp == 0, "no timestamp");
		T_OK((c.target_info_len > 0) == (i == 2), "target info iff v2");
	}
	T_STR(tohex(c.target_info, c.target_info_len), TI_V2, "AV pairs");
	T_OK(ntlm_av_find(&c, NTLM_AV_NB_DOMAIN, &val, &len) == 0 &&
		strcmp(tohex(val, len), "44006f006d00610069006e00") == 0,
	    "MsvAvNbDomainName Domain");
	T_OK(ntlm_av_find(&c, NTLM_AV_NB_COMPUTER, &val, &len) == 0 &&
		strcmp(tohex(val, len), "530065007200760065007200") == 0,
	    "MsvAvNbComputerName Server");
	T_OK(ntlm_av_find(&c, NTLM_AV_EOL, &val, &len) == 0 && len == 0,
	    "MsvAvEOL");
	T_OK(ntlm_av_find(&c, NTLM_AV_TIMESTAMP, &val, &len) == -1,
	    "no MsvAvTimestamp");
}

/* Build the AUTHENTICATE for a challenge (hex); returns its hex or NULL. */
static const char *
build(const char *chal, const char *user, const char *dom, const char *ws,
    const struct ntlm_opts *o, int *used, struct buf *out)
{
	struct ntlm_ident id = { user, dom, ws, "Password" };
	struct ntlm_challenge c;
	struct err e;

	buf_reset(out);
	if (parse_hex(&c, chal, &e) == -1 ||
	    ntlm_authenticate(out, &c, &id, o, used, &e) == -1) {
		printf("# %s\n", e.text);
		return NULL;
	}
	return tohex(out->data, out->len);
}

/* Field i of an AUTHENTICATE (0 LM, 1 NT, 2 domain, 3 user, 4 ws) as hex. */
static const char *
field(const struct buf *m, int i)
{
	const uint8_t *p = (const uint8_t *)m->data + 12 + 8 * i;
	size_t len = (size_t)(p[0] | p[1] << 8);
	size_t off = (size_t)(p[4] | p[5] << 8);

	if (off + len > m->len)
		return "(out of range)";
	return tohex(m->data + off, len);
}

static void
test_authenticate(void)
{
	struct ntlm_opts o;
	struct buf out;
	char want[1024];
	const char *p;
	int used = -1;

	buf_init(&out, NTLM_TYPE3_MAX);
	memset(&o, 0, sizeof(o));
	o.client_challenge = cc_aa;
	o.now = zero8;
	o.os_version = osver;
	o.version = NTLM_V2;
	o.flags = 0xe2888235;
	o.session_key = (const uint8_t *)"\xc5\xda\xd2\x54\x4f\xc9\x79\x90"
					 "\x94\xce\x1c\xe9\x0b\xc9\xd0\x3e";
	T_STR(build(CHAL_V2, "User", "Domain", "COMPUTER", &o, &used, &out),
	    AUTH_V2, "4.2.4.3 AUTHENTICATE byte for byte");
	T_OK(used == NTLM_V2, "4.2.4.3 used v2");

	o.version = NTLM_V1;
	o.flags = 0x82088235;
	o.session_key = NULL;
	T_STR(build(CHAL_ESS, "User", "Domain", "COMPUTER", &o, &used, &out),
	    AUTH_ESS, "4.2.3.3 AUTHENTICATE byte for byte");
	T_OK(used == NTLM_V1_ESS, "4.2.3.3 used v1 with ESS");

	/* 4.2.2.3 carries the LM hash response; postern sends NT twice. */
	o.flags = 0xe2808235;
	o.session_key = (const uint8_t *)"\x51\x88\x22\xb1\xb3\xf3\x50\xc8"
					 "\x95\x86\x82\xec\xbb\x3e\x3c\xb7";
	snprintf(want, sizeof(want), "%s", AUTH_V1);
	memcpy(strstr(want, LM_RESP), NT_RESP_V1, 48);
	p = build(CHAL_V1, "User", "Domain", "COMPUTER", &o, &used, &out);
	T_STR(p, want, "4.2.2.3 AUTHENTICATE, LM field = NT response");
	T_OK(p && !strstr(p, LM_RESP) && !strstr(p, LM_HASH),
	    "4.2.2.3: no LM hash, no LMv1 response");
	T_OK(used == NTLM_V1, "4.2.2.3 used v1");

	/* Production settings: flags computed, no Version, no key. */
	memset(&o, 0, sizeof(o));
	o.client_challenge = cc_aa;
	o.now = zero8;
	build(CHAL_V2, "User", "Domain", "COMPUTER", &o, &used, &out);
	T_OK(used == NTLM_V2, "auto: target info -> v2");
	T_STR(field(&out, 0),
	    "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
	    "auto v2: LMv2 without timestamp");
	T_OK(strncmp(field(&out, 1), "68cd0ab851e51c96aabc927bebef6a1c", 32) ==
		0,
	    "auto v2: NTProofStr");
	T_OK(out.len == 64 + 12 + 8 + 16 + 24 + 84, "auto v2: no Version");
	/* A server (or anyone on the path) cannot choose v1. */
	build(CHAL_V1, "User", "Domain", NULL, &o, &used, &out);
	T_OK(used == NTLM_V2, "auto: no target info -> v2 all the same");
	T_OK(strlen(field(&out, 1)) > 48, "auto, no target info: NTLMv2 blob");
	T_STR(field(&out, 4), "", "no workstation: empty field");
	o.version = NTLM_V1;
	build(CHAL_V2, "User", "Domain", NULL, &o, &used, &out);
	T_OK(used == NTLM_V1_ESS, "forced v1 despite target info (ESS)");
	o.version = NTLM_V2;
	build(CHAL_V1, "User", "Domain", NULL, &o, &used, &out);
	T_OK(used == NTLM_V2, "forced v2 without target info");
	buf_free(&out);
}

static void
test_identity(void)
{
	struct ntlm_opts o;
	struct buf out;
	const char *u, *d;
	struct err e;
	size_t dl;
	int used;

	T_OK(ntlm_split_user("DOM\\bob", NULL, &u, &d, &dl, &e) == 0 &&
		strcmp(u, "bob") == 0 && dl == 3 && strncmp(d, "DOM", 3) == 0,
	    "DOMAIN\\user split");
	T_OK(ntlm_split_user("DOM\\bob", "dom", &u, &d, &dl, &e) == 0,
	    "DOMAIN\\user and matching ntlm_domain");
	T_OK(ntlm_split_user("DOM\\bob", "OTHER", &u, &d, &dl, &e) == -1 &&
		e.class == ERR_CONFIG,
	    "DOMAIN\\user and different ntlm_domain refused");
	T_OK(ntlm_split_user("\\bob", NULL, &u, &d, &dl, &e) == -1,
	    "empty DOMAIN\\ refused");
	T_OK(ntlm_split_user("bob@corp.example", NULL, &u, &d, &dl, &e) == 0 &&
		strcmp(u, "bob@corp.example") == 0 && dl == 0,
	    "UPN kept whole, empty domain");

	memset(&o, 0, sizeof(o));
	buf_init(&out, NTLM_TYPE3_MAX);
	build(CHAL_V2, "CORP\\bob", NULL, "WS1", &o, &used, &out);
	T_STR(field(&out, 2), "43004f0052005000", "domain field CORP");
	T_STR(field(&out, 3), "62006f006200", "user field bob");
	T_STR(field(&out, 4), "570053003100", "workstation WS1");
	build(CHAL_V2, "bob@corp.example", NULL, NULL, &o, &used, &out);
	T_STR(field(&out, 2), "", "UPN: empty domain, never target name");
	T_OK(strstr(field(&out, 3), "40006300") != NULL, "UPN: user whole");
	build(CHAL_V2, "bob", "Corp", NULL, &o, &used, &out);
	T_STR(field(&out, 2), "43006f0072007000", "ntlm_domain used as is");
	buf_free(&out);
}

/* Append a fields record. */
static size_t
putf(uint8_t *p, size_t len, size_t off)
{
	p[0] = (uint8_t)len, p[1] = (uint8_t)(len >> 8);
	p[2] = p[0], p[3] = p[1];
	p[4] = (uint8_t)off, p[5] = (uint8_t)(off >> 8);
	p[6] = (uint8_t)(off >> 16), p[7] = (uint8_t)(off >> 24);
	return 8;
}

/* A 4.2.4.3-shaped CHALLENGE with the given target info, into m. */
static size_t
mk_chal(uint8_t *m, const uint8_t *ti, size_t tilen)
{
	size_t n;
	uint8_t *tn;

	tn = unhex(CHAL_V2, &n);
	memcpy(m, tn, 56 + 12); /* header, Version, "Server" */
	free(tn);
	putf(m + 40, tilen, 56 + 12);
	memmove(m + 56 + 12, ti, tilen);
	return 56 + 12 + tilen;
}

static void
test_timestamp(void)
{
	static const uint8_t ts[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x01 };
	struct ntlm_ident id = { "User", "Domain", NULL, "Password" };
	uint8_t ti[64], m[256];
	struct ntlm_challenge c;
	struct ntlm_opts o;
	struct buf out;
	struct err e;
	size_t n = 0, mlen;
	int used;

	memcpy(ti,
	    "\x02\x00\x04\x00"
	    "D\0o\0",
	    8);
	memcpy(ti + 8, "\x07\x00\x08\x00", 4);
	memcpy(ti + 12, ts, 8);
	memcpy(ti + 20, "\0\0\0\0", 4);
	n = 24;
	mlen = mk_chal(m, ti, n);
	T_OK(ntlm_parse_challenge(&c, m, mlen, &e) == 0, "timestamp chal ok");
	T_OK(c.has_timestamp && memcmp(c.timestamp, ts, 8) == 0,
	    "MsvAvTimestamp parsed");
	memset(&o, 0, sizeof(o));
	o.now = zero8; /* must lose against the server's time */
	buf_init(&out, NTLM_TYPE3_MAX);
	T_OK(ntlm_authenticate(&out, &c, &id, &o, &used, &e) == 0 &&
		used == NTLM_V2,
	    "timestamp: v2 chosen");
	T_STR(field(&out, 0),
	    "000000000000000000000000000000000000000000000000",
	    "timestamp: LmChallengeResponse is Z(24)");
	T_OK(strncmp(field(&out, 1) + 48, "1122334455667701", 16) == 0,
	    "timestamp at blob offset 8");
	buf_free(&out);
}

/* Parse a copy of exactly n bytes; 1 when it was refused cleanly. */
static int
refused(const uint8_t *m, size_t n)
{
	struct ntlm_challenge c;
	uint8_t *p = malloc(n ? n : 1);
	struct err e;
	int rc;

	memcpy(p, m, n);
	err_clear(&e);
	rc = ntlm_parse_challenge(&c, p, n, &e);
	free(p);
	return rc == -1 && e.class == ERR_NOPERM;
}

static void
test_hostile(void)
{
	uint8_t *v, m[NTLM_TYPE2_MAX + 64], ti[64];
	size_t n, i, bad = 0;

	v = unhex(CHAL_V2, &n);
	for (i = 0; i < n; i++)
		bad += !refused(v, i);
	T_OK(bad == 0, "every truncation refused");
#define MUT(stmt, name)                                                        \
	do {                                                                   \
		memcpy(m, v, n);                                               \
		stmt;                                                          \
		T_OK(refused(m, n), name);                                     \
	} while (0)
	MUT(m[0] = 'n', "wrong signature");
	MUT(m[8] = 3, "wrong message type 3");
	MUT(m[8] = 1, "wrong message type 1");
	MUT(putf(m + 12, 12, 0xffffffffU), "target name huge offset");
	MUT(putf(m + 12, 0xffff, 0x38), "target name huge length");
	MUT(putf(m + 12, 12, n - 4), "target name past the end");
	MUT(putf(m + 12, 12, 0), "target name inside the header");
	MUT(putf(m + 12, 12, 40), "target name over TargetInfoFields");
	MUT(putf(m + 40, 0x24, 0xfffffff0U), "target info wrapping offset");
	MUT(putf(m + 40, 0x30, 0x44), "target info past the end");
	MUT(putf(m + 40, 0x24, 0x38), "target info overlaps target name");
	MUT(putf(m + 40, 0x20, 0x44), "target info without EOL");
	MUT(m[0x44 + 2] = 0xff, "AV pair overruns target info");
	MUT((m[0x44] = 7, m[0x44 + 2] = 4), "timestamp of the wrong size");
	MUT(putf(m + 12, 0x24 + 12, 0x38), "target name covering info");
	free(v);

	memcpy(ti, "\x00\x00\x02\x00zz", 6);
	n = mk_chal(m, ti, 6);
	T_OK(refused(m, n), "EOL with a length");
	n = mk_chal(m, (const uint8_t *)"\x01\x00", 2);
	T_OK(refused(m, n), "target info shorter than a pair");
	memset(m + 56, 0, sizeof(m) - 56);
	n = mk_chal(m, m + 200, 1000);
	putf(m + 12, NTLM_TARGET_NAME_MAX + 2, 56);
	T_OK(refused(m, n), "target name over the bound");
	n = mk_chal(m, m + 56, 0);
	T_OK(refused(m, NTLM_TYPE2_MAX + 1), "message over the bound");
	T_OK(!refused(m, 56 + 12), "no target info: fine");
	putf(m + 12, 0, 0);
	T_OK(!refused(m, 32), "old 32-byte header: fine");
}

/* Random mutations of valid CHALLENGEs through parse and authenticate. */
static void
test_fuzz(void)
{
	struct ntlm_ident id = { "DOM\\u", NULL, "ws", "pw" };
	struct ntlm_challenge c;
	struct ntlm_opts o;
	uint8_t *v, *p;
	struct buf out;
	struct err e;
	size_t n, len, i, k, ok = 0;
	int used;

	v = unhex(CHAL_V2, &n);
	memset(&o, 0, sizeof(o));
	buf_init(&out, NTLM_TYPE3_MAX);
	srand(1);
	for (i = 0; i < 20000; i++) {
		len = (size_t)rand() % 8 == 0 ? (size_t)rand() % (n + 8) : n;
		p = malloc(len ? len : 1);
		for (k = 0; k < len; k++)
			p[k] = k < n ? v[k] : (uint8_t)rand();
		for (k = (size_t)rand() % 4; k > 0 && len > 0; k--)
			p[(size_t)rand() % len] = (uint8_t)rand();
		if (ntlm_parse_challenge(&c, p, len, &e) == 0) {
			ok++;
			o.version = (int)(i % 3);
			buf_reset(&out);
			ntlm_authenticate(&out, &c, &id, &o, &used, &e);
		}
		free(p);
	}
	T_OK(ok > 0, "fuzz: some mutants still parse, none crash");
	buf_free(&out);
	free(v);
}

static void
test_negotiate(void)
{
	struct buf b;
	struct err e;
	const uint8_t *p;

	buf_init(&b, 64);
	T_OK(ntlm_negotiate(&b, &e) == 0 && b.len == 32, "Type 1: 32 bytes");
	p = (const uint8_t *)b.data;
	T_OK(memcmp(p, "NTLMSSP\0\1\0\0\0", 12) == 0, "Type 1 header");
	T_OK((p[13] & 0x30) == 0, "Type 1: no domain/workstation supplied");
	T_OK(p[12] & 1 && p[14] & 0x08, "Type 1: Unicode, ESS requested");
	T_OK(memcmp(p + 16, "\0\0\0\0\x20\0\0\0\0\0\0\0\x20\0\0\0", 16) == 0,
	    "Type 1: empty name fields");
	buf_free(&b);
}

int
main(void)
{
	test_md4();
	test_primitives();
	test_utf();
	test_parse_vectors();
	test_authenticate();
	test_identity();
	test_timestamp();
	test_hostile();
	test_fuzz();
	test_negotiate();
	return t_done();
}
