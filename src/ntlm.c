/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * ntlm.c: NTLMSSP NEGOTIATE, CHALLENGE and AUTHENTICATE (MS-NLMP 2.2.1).
 *
 * Every message starts with the signature "NTLMSSP\0" and a little-endian
 * 32-bit message type.  Variable fields are described in the fixed header
 * by 8-byte "fields" records and live in the payload after it:
 *
 *	+0  Len     (LE16)  bytes of the field
 *	+2  MaxLen  (LE16)  = Len when sending; ignored when parsing
 *	+4  Offset  (LE32)  from the start of the message
 *
 * Written from MS-NLMP; the responses themselves are in ntlm_crypto.c.
 * Secrets (password copies, NT hashes) are wiped before returning.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "ossl_crypto.h"

#include "postern/ntlm.h"

static const uint8_t ntlm_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A fields record: Len, MaxLen (= Len), Offset. */
static void
put_fields(uint8_t *p, size_t len, size_t off)
{
	put16(p, len);
	put16(p + 2, len);
	put32(p + 4, (uint32_t)off);
}

int
ntlm_negotiate(struct buf *out, struct err *e)
{
	/*
	 * NEGOTIATE_MESSAGE, 32 bytes, no Version:
	 *	0  "NTLMSSP\0"		8  MessageType = 1
	 *	12 NegotiateFlags	16 DomainNameFields (empty)
	 *	24 WorkstationFields (empty)
	 * Neither name goes here: the Type 3 carries them (libntlm put the
	 * user name in the domain field, which Exchange refuses).
	 */
	uint8_t m[32];

	memset(m, 0, sizeof(m));
	memcpy(m, ntlm_sig, 8);
	put32(m + 8, 1);
	put32(m + 12,
	    NTLM_NEG_UNICODE | NTLM_NEG_OEM | NTLM_REQUEST_TARGET |
		NTLM_NEG_NTLM | NTLM_NEG_ALWAYS_SIGN | NTLM_NEG_ESS |
		NTLM_NEG_128 | NTLM_NEG_56);
	put_fields(m + 16, 0, 32);
	put_fields(m + 24, 0, 32);
	if (buf_add(out, m, sizeof(m)) == -1)
		return err_set(e, ERR_SOFTWARE, "NTLM: buffer too small");
	return 0;
}

/*
 * Check one fields record of a CHALLENGE: inside the message, not in the
 * fixed header (hdr bytes), and no longer than max.
 */
static int
chal_field(const uint8_t *m, size_t mlen, size_t at, size_t hdr, size_t max,
    size_t *off, size_t *len, const char *what, struct err *e)
{
	*len = get16(m + at);
	*off = get32(m + at + 4);
	if (*len == 0)
		return 0;
	if (*off > mlen || *len > mlen - *off)
		return err_set(e, ERR_NOPERM,
		    "NTLM challenge: %s outside the message", what);
	if (*off < hdr)
		return err_set(e, ERR_NOPERM,
		    "NTLM challenge: %s overlaps the header", what);
	if (*len > max)
		return err_set(e, ERR_NOPERM, "NTLM challenge: %s too long",
		    what);
	return 0;
}

/*
 * AV pairs (MS-NLMP 2.2.2.1): AvId (LE16), AvLen (LE16), value; the list
 * ends with MsvAvEOL (0, 0).  Every pair must fit; the EOL must be there.
 */
static int
chal_avpairs(struct ntlm_challenge *c, struct err *e)
{
	const uint8_t *p = c->target_info;
	size_t pos = 0, n = c->target_info_len;
	unsigned id, len;

	while (n - pos >= 4) {
		id = get16(p + pos);
		len = get16(p + pos + 2);
		pos += 4;
		if (len > n - pos)
			return err_set(e, ERR_NOPERM,
			    "NTLM challenge: AV pair %u overruns target info",
			    id);
		if (id == NTLM_AV_EOL)
			return len == 0 ? 0
					: err_set(e, ERR_NOPERM,
					      "NTLM challenge: bad AV EOL");
		if (id == NTLM_AV_TIMESTAMP) {
			if (len != 8)
				return err_set(e, ERR_NOPERM,
				    "NTLM challenge: bad timestamp length");
			memcpy(c->timestamp, p + pos, 8);
			c->has_timestamp = 1;
		}
		pos += len;
	}
	return err_set(e, ERR_NOPERM, "NTLM challenge: target info has no EOL");
}

int
ntlm_parse_challenge(struct ntlm_challenge *c, const void *msg, size_t mlen,
    struct err *e)
{
	/*
	 * CHALLENGE_MESSAGE:
	 *	0  "NTLMSSP\0"		8  MessageType = 2
	 *	12 TargetNameFields	20 NegotiateFlags
	 *	24 ServerChallenge (8)	32 Reserved (8)
	 *	40 TargetInfoFields	48 Version (8, with NEGOTIATE_VERSION)
	 * Old servers end the header at 32; target info needs 48 bytes.
	 */
	const uint8_t *m = msg;
	size_t hdr, noff, nlen, ioff = 0, ilen = 0;

	memset(c, 0, sizeof(*c));
	if (mlen < 32 || memcmp(m, ntlm_sig, 8) != 0)
		return err_set(e, ERR_NOPERM, "NTLM challenge: not NTLMSSP");
	if (get32(m + 8) != 2)
		return err_set(e, ERR_NOPERM,
		    "NTLM challenge: message type %u, not 2", get32(m + 8));
	if (mlen > NTLM_TYPE2_MAX)
		return err_set(e, ERR_NOPERM, "NTLM challenge: too long");
	c->flags = get32(m + 20);
	memcpy(c->server_challenge, m + 24, 8);
	hdr = mlen >= 48 ? 48 : 32;
	if (chal_field(m, mlen, 12, hdr, NTLM_TARGET_NAME_MAX, &noff, &nlen,
		"target name", e) == -1)
		return -1;
	if (hdr == 48 && (c->flags & NTLM_NEG_TARGET_INFO) &&
	    chal_field(m, mlen, 40, hdr, NTLM_TARGET_INFO_MAX, &ioff, &ilen,
		"target info", e) == -1)
		return -1;
	if (nlen > 0 && ilen > 0 && noff < ioff + ilen && ioff < noff + nlen)
		return err_set(e, ERR_NOPERM,
		    "NTLM challenge: target name and info overlap");
	memcpy(c->target_name, m + noff, nlen);
	c->target_name_len = nlen;
	memcpy(c->target_info, m + ioff, ilen);
	c->target_info_len = ilen;
	if (ilen > 0 && chal_avpairs(c, e) == -1)
		return -1;
	return 0;
}

int
ntlm_av_find(const struct ntlm_challenge *c, unsigned id, const uint8_t **val,
    size_t *len)
{
	const uint8_t *p = c->target_info;
	size_t pos = 0, n = c->target_info_len, l;

	/* The list was validated by the parser: every pair fits. */
	while (n - pos >= 4) {
		l = get16(p + pos + 2);
		if (get16(p + pos) == id) {
			*val = p + pos + 4;
			*len = l;
			return 0;
		}
		if (get16(p + pos) == NTLM_AV_EOL)
			break;
		pos += 4 + l;
	}
	return -1;
}

int
ntlm_split_user(const char *user, const char *domain, const char **user_out,
    const char **dom_out, size_t *dom_len, struct err *e)
{
	const char *bs = strchr(user, '\\');
	size_t dl = domain ? strlen(domain) : 0;

	if (bs == NULL) {
		*user_out = user;
		*dom_out = dl ? domain : "";
		*dom_len = dl;
		return 0;
	}
	if (bs == user || bs[1] == '\0')
		return err_set(e, ERR_CONFIG,
		    "NTLM: user must be DOMAIN\\name with both parts");
	if (dl > 0 &&
	    (dl != (size_t)(bs - user) || strncasecmp(domain, user, dl) != 0))
		return err_set(e, ERR_CONFIG,
		    "NTLM: ntlm_domain and the DOMAIN\\ in user disagree");
	*user_out = bs + 1;
	*dom_out = user;
	*dom_len = (size_t)(bs - user);
	return 0;
}

/* FILETIME: 100 ns units since 1601-01-01, little-endian. */
static void
ntlm_filetime(uint8_t out[8])
{
	struct timespec ts;
	uint64_t t;
	int i;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		ts.tv_sec = time(NULL), ts.tv_nsec = 0;
	t = (uint64_t)ts.tv_sec * 10000000U + (uint64_t)ts.tv_nsec / 100 +
	    116444736000000000ULL;
	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(t >> (8 * i));
}

/* The responses of one AUTHENTICATE, and what went into them. */
struct ntlm_resp {
	uint8_t lm[24];
	struct buf nt;
	int used;
};

static int
resp_v2(struct ntlm_resp *r, const struct ntlm_challenge *c,
    const struct ntlm_ident *id, const char *user, const char *dom, size_t dlen,
    const uint8_t cc[8], const struct ntlm_opts *o, struct err *e)
{
	static const uint8_t eol[4] = { 0, 0, 0, 0 };
	uint8_t h1[16], h2[16], t[8];
	int rc = -1;

	/* Server's time when it sent one (MS-NLMP 3.1.5.1.2), else ours. */
	if (c->has_timestamp)
		memcpy(t, c->timestamp, 8);
	else if (o->now != NULL)
		memcpy(t, o->now, 8);
	else
		ntlm_filetime(t);
	if (ntlm_ntowfv1(id->password, h1, e) == 0 &&
	    ntlm_ntowfv2(h1, user, strlen(user), dom, dlen, h2, e) == 0 &&
	    ntlm_v2_response(h2, c->server_challenge, cc, t,
		c->target_info_len ? c->target_info : eol,
		c->target_info_len ? c->target_info_len : sizeof(eol), &r->nt,
		r->lm, NULL, e) == 0)
		rc = 0;
	/* With MsvAvTimestamp the LmChallengeResponse is Z(24). */
	if (c->has_timestamp)
		memset(r->lm, 0, 24);
	r->used = NTLM_V2;
	explicit_bzero(h1, sizeof(h1));
	explicit_bzero(h2, sizeof(h2));
	return rc;
}

static int
resp_v1(struct ntlm_resp *r, const struct ntlm_challenge *c,
    const struct ntlm_ident *id, const uint8_t cc[8], struct err *e)
{
	uint8_t ch[8], nt[24];

	/*
	 * With extended session security: NT = DESL(NTOWFv1, MD5(SC ||
	 * CC)[0..7]), LM = CC || Z(16).  Without: NT = DESL(NTOWFv1, SC)
	 * and LM a copy of NT (MS-NLMP 3.3.1, NoLMResponseNTLMv1): the LM
	 * hash is never computed.
	 */
	if (c->flags & NTLM_NEG_ESS) {
		if (ntlm_ess_challenge(c->server_challenge, cc, ch, e) == -1)
			return -1;
		r->used = NTLM_V1_ESS;
	} else {
		memcpy(ch, c->server_challenge, 8);
		r->used = NTLM_V1;
	}
	if (ntlm_v1_response(id->password, ch, nt, e) == -1)
		return -1;
	if (r->used == NTLM_V1_ESS) {
		memset(r->lm, 0, 24);
		memcpy(r->lm, cc, 8);
	} else
		memcpy(r->lm, nt, 24);
	if (buf_add(&r->nt, nt, 24) == -1)
		return err_set(e, ERR_SOFTWARE, "NTLM: buffer too small");
	return 0;
}

/* The NegotiateFlags of the AUTHENTICATE: what was actually agreed. */
static uint32_t
auth_flags(const struct ntlm_challenge *c, const struct ntlm_resp *r,
    const struct ntlm_opts *o)
{
	uint32_t f;

	if (o->flags != 0)
		return o->flags;
	f = NTLM_NEG_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEG_NTLM |
	    NTLM_NEG_ALWAYS_SIGN;
	f |= c->flags & (NTLM_NEG_128 | NTLM_NEG_56);
	if (r->used == NTLM_V1_ESS ||
	    (r->used == NTLM_V2 && (c->flags & NTLM_NEG_ESS)))
		f |= NTLM_NEG_ESS;
	if (r->used == NTLM_V2 && c->target_info_len > 0)
		f |= NTLM_NEG_TARGET_INFO;
	if (o->os_version != NULL)
		f |= NTLM_NEG_VERSION;
	return f;
}

/*
 * AUTHENTICATE_MESSAGE:
 *	0  "NTLMSSP\0"			8  MessageType = 3
 *	12 LmChallengeResponseFields	20 NtChallengeResponseFields
 *	28 DomainNameFields		36 UserNameFields
 *	44 WorkstationFields		52 EncryptedRandomSessionKeyFields
 *	60 NegotiateFlags		64 Version (8, only when injected)
 *	64 or 72: payload in the order domain, user, workstation, LM, NT,
 *	   session key (the order of MS-NLMP's 4.2 examples).
 * names holds domain, user and workstation in UTF-16LE, nlen their lengths.
 */
static int
auth_assemble(struct buf *out, const struct buf *names, const size_t nlen[3],
    const struct ntlm_resp *r, uint32_t flags, const struct ntlm_opts *o,
    struct err *e)
{
	static const size_t slot[3] = { 28, 36, 44 };
	uint8_t h[72];
	size_t hlen = o->os_version ? 72 : 64, off, klen;
	int i;

	klen = o->session_key ? 16 : 0;
	memset(h, 0, sizeof(h));
	memcpy(h, ntlm_sig, 8);
	put32(h + 8, 3);
	off = hlen;
	for (i = 0; i < 3; i++) {
		put_fields(h + slot[i], nlen[i], off);
		off += nlen[i];
	}
	put_fields(h + 12, 24, off);
	off += 24;
	put_fields(h + 20, r->nt.len, off);
	off += r->nt.len;
	put_fields(h + 52, klen, off);
	put32(h + 60, flags);
	if (o->os_version)
		memcpy(h + 64, o->os_version, 8);
	if (buf_add(out, h, hlen) == -1 ||
	    buf_add(out, names->data ? names->data : "", names->len) == -1 ||
	    buf_add(out, r->lm, 24) == -1 ||
	    buf_add(out, r->nt.data, r->nt.len) == -1 ||
	    (klen && buf_add(out, o->session_key, klen) == -1))
		return err_set(e, ERR_SOFTWARE, "NTLM: buffer too small");
	return 0;
}

/* Domain, user, workstation in UTF-16LE, each within NTLM_NAME_MAX. */
static int
auth_names(struct buf *names, size_t nlen[3], const char *dom, size_t dlen,
    const char *user, const char *ws, struct err *e)
{
	const char *s[3] = { dom, user, ws ? ws : "" };
	size_t l[3] = { dlen, strlen(user), strlen(s[2]) };
	size_t before;
	int i;

	for (i = 0; i < 3; i++) {
		before = names->len;
		if (ntlm_utf16le(names, s[i], l[i], 0, e) == -1)
			return -1;
		nlen[i] = names->len - before;
		if (nlen[i] > 2 * NTLM_NAME_MAX)
			return err_set(e, ERR_CONFIG, "NTLM: %s too long",
			    i == 0       ? "domain"
				: i == 1 ? "user"
					 : "workstation");
	}
	return 0;
}

int
ntlm_authenticate(struct buf *out, const struct ntlm_challenge *c,
    const struct ntlm_ident *id, const struct ntlm_opts *o, int *used,
    struct err *e)
{
	struct ntlm_resp r;
	struct buf names;
	const char *user, *dom;
	size_t dlen, nlen[3], start = out->len;
	uint8_t cc[8];
	int ver = o->version, rc = -1;

	if (ntlm_split_user(id->user, id->domain, &user, &dom, &dlen, e) == -1)
		return -1;
	/* v1 only when the ini says so: a challenge without target info
	 * (which anyone on a clear-text path can send) must not buy an
	 * answer that gives the NT hash away to precomputed tables. */
	if (ver == NTLM_AUTO)
		ver = NTLM_V2;
	if (o->client_challenge != NULL)
		memcpy(cc, o->client_challenge, 8);
	else if (ossl_load(e) == -1)
		return -1;
	else if (RAND_bytes(cc, sizeof(cc)) != 1)
		return err_set(e, ERR_SOFTWARE, "NTLM: no random bytes");
	memset(&r, 0, sizeof(r));
	buf_init(&r.nt, 16 + 28 + NTLM_TARGET_INFO_MAX + 4);
	buf_init(&names, 3 * 4 * NTLM_NAME_MAX);
	if (ver == NTLM_V2)
		rc = resp_v2(&r, c, id, user, dom, dlen, cc, o, e);
	else
		rc = resp_v1(&r, c, id, cc, e);
	if (rc == 0)
		rc = auth_names(&names, nlen, dom, dlen, user, id->workstation,
		    e);
	if (rc == 0)
		rc = auth_assemble(out, &names, nlen, &r, auth_flags(c, &r, o),
		    o, e);
	if (rc == 0)
		*used = r.used;
	else
		out->len = start;
	buf_wipe(&r.nt);
	buf_free(&names);
	explicit_bzero(&r, sizeof(r));
	return rc;
}

const char *
ntlm_version_name(int used)
{
	switch (used) {
	case NTLM_V2:
		return "ntlmv2";
	case NTLM_V1:
		return "ntlmv1";
	case NTLM_V1_ESS:
		return "ntlmv1-ess";
	default:
		return "ntlm";
	}
}
