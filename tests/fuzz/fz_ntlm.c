/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_ntlm.c: the NTLM CHALLENGE parser and the AUTHENTICATE builder
 * (src/ntlm.c), as a server and the ini feed them.
 *
 * Input layout:
 *	octet 0		L, the length of the identity block (may be 0)
 *	1 .. L		"user\ndomain\nworkstation\npassword" (missing
 *			pieces: alice, empty, empty, secret)
 *	L+1 ..		the CHALLENGE_MESSAGE, raw (what base64 decoded)
 *
 * Properties: what the parser keeps is within its bounds, the target
 * info's pairs lead to MsvAvEOL and every AV pair found lies inside it; the
 * AUTHENTICATE (built with ntlm_version auto and v2) is "NTLMSSP\0" type
 * 3, every field lies inside the message and the payload ends it, the NT
 * response of v2 embeds the target info as sent, the flags say target
 * info only when it was sent back; a failure is ERR_CONFIG (credentials
 * the encoder refuses), never anything else; auto answers v2 (DESIGN
 * section 12: a server cannot choose v1; issue 10 item 3).
 */
#include <string.h>

#include "postern/buf.h"
#include "postern/err.h"
#include "postern/ntlm.h"
#include "fuzz.h"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
check_challenge(const struct ntlm_challenge *c)
{
	static const unsigned ids[] = { NTLM_AV_NB_COMPUTER, NTLM_AV_NB_DOMAIN,
		NTLM_AV_TIMESTAMP, 3, 4, 5, 6, 9 };
	const uint8_t *v;
	size_t i, len;

	if (c->target_name_len > NTLM_TARGET_NAME_MAX ||
	    c->target_info_len > NTLM_TARGET_INFO_MAX)
		fuzz_fail("challenge kept %zu/%zu octets", c->target_name_len,
		    c->target_info_len);
	/* Walking the pairs reaches MsvAvEOL inside (octets after it are
	 * tolerated, and sent back as they came). */
	for (i = 0; c->target_info_len > 0; i += 4 + len) {
		if (c->target_info_len - i < 4)
			fuzz_fail("target info without MsvAvEOL");
		len = (size_t)(c->target_info[i + 2] |
		    c->target_info[i + 3] << 8);
		if (c->target_info[i] == 0 && c->target_info[i + 1] == 0)
			break;
		if (len > c->target_info_len - i - 4)
			fuzz_fail("AV pair at %zu overruns the target info", i);
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ntlm_av_find(c, ids[i], &v, &len) == 0 &&
		    (v < c->target_info ||
			v + len > c->target_info + c->target_info_len))
			fuzz_fail("AV pair %u outside the target info", ids[i]);
}

/* Field i (0 LM, 1 NT, 2 domain, 3 user, 4 ws, 5 key): offset, length. */
static const uint8_t *
field(const struct buf *m, int i, size_t *len)
{
	const uint8_t *h = (const uint8_t *)m->data + 12 + 8 * i;
	size_t off = get32(h + 4);

	*len = (size_t)(h[0] | h[1] << 8);
	if ((size_t)(h[2] | h[3] << 8) != *len || off > m->len ||
	    *len > m->len - off)
		fuzz_fail("AUTHENTICATE field %d out of the message", i);
	return (const uint8_t *)m->data + off;
}

static void
check_authenticate(const struct buf *m, const struct ntlm_challenge *c,
    int used)
{
	const uint8_t *nt, *p;
	size_t ntlen, len, end = 0;
	uint32_t flags;
	int i;

	if (m->len < 64 || m->len > NTLM_TYPE3_MAX ||
	    memcmp(m->data, "NTLMSSP\0", 8) != 0 ||
	    get32((const uint8_t *)m->data + 8) != 3)
		fuzz_fail("not an AUTHENTICATE message (%zu octets)", m->len);
	for (i = 0; i < 6; i++) {
		p = field(m, i, &len);
		if ((size_t)(p - (const uint8_t *)m->data) + len > end)
			end = (size_t)(p - (const uint8_t *)m->data) + len;
	}
	if (end != m->len)
		fuzz_fail("payload ends at %zu, message at %zu", end, m->len);
	nt = field(m, 1, &ntlen);
	flags = get32((const uint8_t *)m->data + 60);
	if (used == NTLM_V2) {
		if (ntlen < 16 + 28 + 4 ||
		    (c->target_info_len > 0 &&
			(ntlen < 16 + 28 + c->target_info_len ||
			    memcmp(nt + 16 + 28, c->target_info,
				c->target_info_len) != 0)))
			fuzz_fail("NTLMv2 response without the target info");
	} else if (ntlen != 24) {
		fuzz_fail("NTLMv1 response of %zu octets", ntlen);
	}
	if (((flags & NTLM_NEG_TARGET_INFO) != 0) !=
	    (used == NTLM_V2 && c->target_info_len > 0))
		fuzz_fail("TARGET_INFO flag 0x%08x for what was sent", flags);
}

static void
answer(const struct ntlm_challenge *c, const struct ntlm_ident *id, int ver)
{
	static const uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t now[8] = { 0, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d,
		1 };
	struct ntlm_opts o;
	struct buf out;
	struct err e;
	int used = -1;

	memset(&o, 0, sizeof(o));
	o.version = ver;
	o.client_challenge = cc;
	o.now = now;
	buf_init(&out, NTLM_TYPE3_MAX);
	err_clear(&e);
	if (ntlm_authenticate(&out, c, id, &o, &used, &e) == -1) {
		if (e.class != ERR_CONFIG || out.len != 0)
			fuzz_fail("AUTHENTICATE failed: class %d: %s", e.class,
			    e.text);
	} else {
		check_authenticate(&out, c, used);
		if (used != NTLM_V2)
			fuzz_fail("version %d answered with %s", ver,
			    ntlm_version_name(used));
	}
	buf_wipe(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char idtext[256], *f[4] = { "alice", "", "", "secret" }, *p, *nl;
	struct ntlm_challenge c;
	struct ntlm_ident id;
	struct err e;
	size_t l;
	int i;

	if (size < 1 || (l = data[0]) > size - 1)
		return 0;
	memcpy(idtext, data + 1, l);
	idtext[l] = '\0';
	for (i = 0, p = idtext; l > 0 && i < 4 && p != NULL; i++, p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		f[i] = p;
	}
	id.user = f[0];
	id.domain = f[1];
	id.workstation = f[2];
	id.password = f[3];
	err_clear(&e);
	if (ntlm_parse_challenge(&c, data + 1 + l, size - 1 - l, &e) == -1) {
		if (e.class != ERR_NOPERM)
			fuzz_fail("challenge refused with class %d", e.class);
		return 0;
	}
	check_challenge(&c);
	answer(&c, &id, NTLM_AUTO);
	answer(&c, &id, NTLM_V2);
	return 0;
}
