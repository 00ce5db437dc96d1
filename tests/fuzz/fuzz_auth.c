/*
 * libFuzzer harnesses for the parsers of lib/auth: what a server sends the
 * client during authentication. One source, compiled once per target with
 * -DTARGET=<name> (see meson.build):
 *
 *   ntlm_challenge  smbsess__ntlm_challenge_parse, compared with a reference
 *                   reading of [MS-NLMP] 2.2.1.2 / 2.2.2.1; then the NTLMSSP
 *                   client (with a password and anonymous) answers it, and
 *                   its AUTHENTICATE_MESSAGE is checked the way a server
 *                   knowing the password would check it (NTProofStr, LMv2,
 *                   the encrypted session key, the MIC, signing keys).
 *   spnego_init     smbsess__spnego_parse_init (the NEGOTIATE hint); a
 *                   decoded token is rebuilt and read again.
 *   spnego_resp     smbsess__spnego_parse_resp (NegTokenResp); likewise.
 *   der             smbsess__der_check against a reference walker, for every
 *                   depth limit; the cursor functions (der_next, der_enter,
 *                   der_expect, der_get_uint) walk the same tree; the writer
 *                   re-encodes it.
 *   spnego_client   the SPNEGO/NTLMSSP client through all its steps with
 *                   fixed credentials: input = [u16le n][n bytes: the
 *                   NEGOTIATE hint] [u16le n][n bytes: the first
 *                   NegTokenResp] [rest: the last NegTokenResp].
 *
 * Every input runs with talloc null tracking: the tree holds as many blocks
 * after it as before. Any violated expectation aborts (INVARIANT VIOLATED).
 */
#define _GNU_SOURCE /* memmem */
#include <nettle/arcfour.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>

#include "fuzz_common.h"

#include "auth/der.h"
#include "auth/ntlmssp.h"
#include "auth/spnego.h"

#ifndef TARGET
#error "compile with -DTARGET=<name>, e.g. -DTARGET=ntlm_challenge"
#endif

/* ---- fixed credentials and test values ---- */

static const char *const DOMAIN = "FUZZDOM";
static const char *const USER = "fuzzuser";
static const char *const PASSWORD = "Fuzz!Passw0rd";
static const uint8_t CLIENT_CHALLENGE[8] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11 };
static const uint8_t EXPORTED_KEY[16] = { 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x99, 0x88,
					  0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 };
static const uint64_t CLIENT_TIME = 0x01d9a0b1c2d3e4f5ull;


static void hmac_md5_2(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
		       size_t b_len, uint8_t out[16])
{
	struct hmac_md5_ctx h;

	hmac_md5_set_key(&h, key_len, key);
	hmac_md5_update(&h, a_len, a);
	if (b_len)
		hmac_md5_update(&h, b_len, b);
	hmac_md5_digest(&h, MD5_DIGEST_SIZE, out);
}

/* UTF-16LE of an ASCII string. */
static size_t ascii_utf16(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; *s; s++) {
		out[n++] = (uint8_t)*s;
		out[n++] = 0;
	}
	return n;
}

/* ================================================================ NTLMSSP */

#define F_UNICODE SMBSESS__NTLMSSP_NEGOTIATE_UNICODE
#define F_SIGN SMBSESS__NTLMSSP_NEGOTIATE_SIGN
#define F_ESS SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
#define F_TI SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO
#define F_VERSION SMBSESS__NTLMSSP_NEGOTIATE_VERSION
#define F_KEY_EXCH SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH
#define F_ANONYMOUS SMBSESS__NTLMSSP_ANONYMOUS

/* What [MS-NLMP] 2.2.1.2 and 2.2.2.1 make of a CHALLENGE_MESSAGE, read independently of lib/auth. */
struct ref_challenge {
	uint32_t code; /* 0, or the SMBSESS_E_* the parse must fail with */
	uint32_t flags;
	const uint8_t *name;
	size_t name_len;
	const uint8_t *ti; /* the AV pairs up to and including MsvAvEOL */
	size_t ti_len;
	size_t pairs;
	bool has_ts, has_flags, has_nb_computer, has_nb_domain, has_version;
	uint64_t ts;
	uint32_t av_flags;
};

/* A Len/MaxLen/Offset field; false when it does not lie in the message. */
static bool ref_field(const uint8_t *m, size_t len, size_t at, const uint8_t **p, size_t *n)
{
	uint32_t l = smbsess__le16(m + at), off = smbsess__le32(m + at + 4);

	*p = NULL;
	*n = 0;
	if (l == 0)
		return true;
	if ((uint64_t)off + l > len)
		return false;
	*p = m + off;
	*n = l;
	return true;
}

static void ref_parse_challenge(const uint8_t *m, size_t len, struct ref_challenge *r)
{
	const uint8_t *ti = NULL;
	size_t ti_len = 0;

	memset(r, 0, sizeof *r);
	r->code = SMBSESS_E_PROTOCOL;
	if (len < 32 || memcmp(m, "NTLMSSP\0", 8) != 0 || smbsess__le32(m + 8) != 2)
		return;
	r->flags = smbsess__le32(m + 20);
	if (!ref_field(m, len, 12, &r->name, &r->name_len))
		return;
	if (len >= 48) {
		if (!ref_field(m, len, 40, &ti, &ti_len))
			return;
	} else if (r->flags & F_TI) {
		return;
	}
	if ((r->flags & F_TI) && ti_len > 0) {
		size_t pos = 0;

		for (;;) {
			uint16_t id, l;

			if (pos + 4 > ti_len)
				return;
			id = smbsess__le16(ti + pos);
			l = smbsess__le16(ti + pos + 2);
			if (pos + 4 + l > ti_len)
				return;
			if (id == 0) {
				if (l != 0)
					return;
				pos += 4;
				break;
			}
			if (++r->pairs > SMBSESS__NTLM_MAX_AV_PAIRS) {
				r->code = SMBSESS_E_LIMIT;
				return;
			}
			if (id == 7) {
				if (l != 8 || r->has_ts)
					return;
				r->has_ts = true;
				r->ts = smbsess__le64(ti + pos + 4);
			} else if (id == 6) {
				if (l != 4 || r->has_flags)
					return;
				r->has_flags = true;
				r->av_flags = smbsess__le32(ti + pos + 4);
			} else if (id == 1) {
				r->has_nb_computer = true;
			} else if (id == 2) {
				r->has_nb_domain = true;
			}
			pos += 4 + (size_t)l;
		}
		r->ti = ti;
		r->ti_len = pos;
	}
	r->has_version = (r->flags & F_VERSION) && len >= 56;
	r->code = 0;
}

static void check_challenge(const struct smbsess__ntlm_challenge *c, const struct ref_challenge *r,
			    const uint8_t *m)
{
	FUZZ_REQUIRE(c->flags == r->flags, "flags differ");
	FUZZ_REQUIRE(memcmp(c->server_challenge, m + 24, 8) == 0, "server challenge differs");
	if (c->target_name != NULL) {
		size_t slen = strlen(c->target_name), units = 0;
		uint8_t *back;

		FUZZ_REQUIRE(talloc_get_size(c->target_name) >= slen + 1, "target name longer than its chunk");
		FUZZ_REQUIRE((r->flags & F_UNICODE) && r->name_len > 0 && r->name_len % 2 == 0,
			     "target name decoded although not Unicode or of odd length");
		FUZZ_REQUIRE(smbsess__st_ok(smbsess__utf8_utf16_units(c->target_name, slen, &units)),
			     "target name is not valid UTF-8");
		FUZZ_REQUIRE(units * 2 == r->name_len, "target name has %zu units, the field %zu bytes", units,
			     r->name_len);
		back = must(talloc_size(NULL, units * 2 + 1));
		smbsess__utf8_to_utf16le(c->target_name, slen, back);
		FUZZ_REQUIRE(memcmp(back, r->name, r->name_len) == 0, "target name does not encode back to the field");
		talloc_free(back);
	} else if ((r->flags & F_UNICODE) && r->name_len > 0 && r->name_len % 2 == 0) {
		/* Dropped: then it must not be valid UTF-16 without NUL units. */
		char *s = NULL;
		TALLOC_CTX *t = must(talloc_new(NULL));

		FUZZ_REQUIRE(!smbsess__st_ok(smbsess__utf16le_to_utf8(t, r->name, r->name_len / 2, &s)),
			     "a valid Unicode target name was dropped");
		talloc_free(t);
	}
	FUZZ_REQUIRE(c->target_info_len == r->ti_len, "target info length %zu, expected %zu", c->target_info_len,
		     r->ti_len);
	if (r->ti_len) {
		FUZZ_REQUIRE(c->target_info != NULL && talloc_get_size(c->target_info) >= r->ti_len,
			     "target info missing or shorter than its length");
		FUZZ_REQUIRE(memcmp(c->target_info, r->ti, r->ti_len) == 0, "target info differs from the message");
	} else {
		FUZZ_REQUIRE(c->target_info == NULL, "target info without length");
	}
	FUZZ_REQUIRE(c->num_av_pairs == r->pairs, "%zu AV pairs, expected %zu", c->num_av_pairs, r->pairs);
	FUZZ_REQUIRE(c->has_timestamp == r->has_ts && (!r->has_ts || c->timestamp == r->ts), "timestamp differs");
	FUZZ_REQUIRE(c->has_av_flags == r->has_flags && (!r->has_flags || c->av_flags == r->av_flags),
		     "MsvAvFlags differ");
	FUZZ_REQUIRE(c->has_nb_computer == r->has_nb_computer && c->has_nb_domain == r->has_nb_domain,
		     "NetBIOS name presence differs");
	FUZZ_REQUIRE(c->has_version == r->has_version && (!r->has_version || memcmp(c->version, m + 48, 8) == 0),
		     "version differs");
}

/* The AV pairs the client must echo when it sends a MIC: MsvAvFlags with 0x2, MsvAvEOL last. */
static uint8_t *mic_av_pairs(TALLOC_CTX *mem, const struct ref_challenge *r, size_t *len)
{
	uint8_t *p = must(talloc_zero_size(mem, r->ti_len + 16));
	size_t pos = 0;

	for (size_t i = 0; i + 4 <= r->ti_len;) {
		uint16_t id = smbsess__le16(r->ti + i), l = smbsess__le16(r->ti + i + 2);

		if (id == 0)
			break;
		memcpy(p + pos, r->ti + i, 4 + (size_t)l);
		if (id == 6)
			smbsess__put_le32(p + pos + 4, smbsess__le32(p + pos + 4) | 2);
		pos += 4 + (size_t)l;
		i += 4 + (size_t)l;
	}
	if (!r->has_flags) {
		smbsess__put_le16(p + pos, 6);
		smbsess__put_le16(p + pos + 2, 4);
		smbsess__put_le32(p + pos + 4, 2);
		pos += 8;
	}
	*len = pos + 4;
	return p;
}

/* One payload field of the AUTHENTICATE_MESSAGE; it must lie inside the message. */
static const uint8_t *auth_field(const uint8_t *m, size_t len, size_t at, size_t *n)
{
	const uint8_t *p;

	FUZZ_REQUIRE(smbsess__le16(m + at) == smbsess__le16(m + at + 2), "Len and MaxLen differ at %zu", at);
	FUZZ_REQUIRE(ref_field(m, len, at, &p, n), "field at %zu outside the AUTHENTICATE_MESSAGE", at);
	return p;
}

/*
 * Checks an AUTHENTICATE_MESSAGE the way a server knowing the password
 * would, and the client's keys against what the server would derive.
 */
static void check_authenticate(struct smbsess__ntlmssp *n, bool anonymous, const struct ref_challenge *r,
			       const uint8_t *neg, size_t neg_len, const uint8_t *chal, size_t chal_len,
			       const uint8_t *a, size_t a_len)
{
	uint32_t flags;
	const uint8_t *lm, *nt, *dom, *usr, *ws, *ekey;
	size_t lm_len, nt_len, dom_len, usr_len, ws_len, ekey_len;
	uint8_t exported[16], key[16];
	bool mic = !anonymous && r->has_ts;
	struct smbsess_status st;

	FUZZ_REQUIRE(a_len >= 72 + (mic ? 16u : 0u), "AUTHENTICATE_MESSAGE of %zu bytes", a_len);
	FUZZ_REQUIRE(memcmp(a, "NTLMSSP\0", 8) == 0 && smbsess__le32(a + 8) == 3, "not an AUTHENTICATE_MESSAGE");
	lm = auth_field(a, a_len, 12, &lm_len);
	nt = auth_field(a, a_len, 20, &nt_len);
	dom = auth_field(a, a_len, 28, &dom_len);
	usr = auth_field(a, a_len, 36, &usr_len);
	ws = auth_field(a, a_len, 44, &ws_len);
	ekey = auth_field(a, a_len, 52, &ekey_len);
	(void)ws;
	flags = smbsess__le32(a + 60);
	FUZZ_REQUIRE(flags == smbsess__ntlmssp_flags(n), "flags in the message and of the client differ");
	FUZZ_REQUIRE((flags & F_UNICODE) && (anonymous || (flags & F_ESS)), "Unicode / ESS missing from the flags");
	/* Negotiable flags the server did not offer are not claimed. */
	FUZZ_REQUIRE(!(flags & F_SIGN) || (r->flags & F_SIGN), "signing claimed without the server's flag");
	FUZZ_REQUIRE(!(flags & F_KEY_EXCH) || (r->flags & F_KEY_EXCH), "key exchange claimed without the server's flag");
	FUZZ_REQUIRE(smbsess__ntlmssp_sent_mic(n) == mic, "MIC sent %d, expected %d", smbsess__ntlmssp_sent_mic(n),
		     mic);

	if (anonymous) {
		FUZZ_REQUIRE(flags & F_ANONYMOUS, "anonymous AUTHENTICATE without NTLMSSP_ANONYMOUS");
		FUZZ_REQUIRE(!(flags & F_KEY_EXCH), "anonymous AUTHENTICATE with key exchange");
		FUZZ_REQUIRE(nt_len == 0 && lm_len == 1 && lm[0] == 0 && usr_len == 0 && dom_len == 0,
			     "anonymous responses are not empty / Z(1)");
		st = smbsess__ntlmssp_session_key(n, key);
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_NOT_SUPPORTED), "anonymous logon has a session key: %s",
			     fuzz_st(st));
		FUZZ_REQUIRE(!smbsess__ntlmssp_can_sign(n), "anonymous logon can sign");
		return;
	}

	{
		uint8_t u16[64];
		size_t l = ascii_utf16(DOMAIN, u16);

		FUZZ_REQUIRE(dom_len == l && memcmp(dom, u16, l) == 0, "domain field differs");
		l = ascii_utf16(USER, u16);
		FUZZ_REQUIRE(usr_len == l && memcmp(usr, u16, l) == 0, "user field differs");
	}

	/* The NTLMv2 response: NTProofStr || 0x01 0x01 Z(6) time cc Z(4) pairs Z(4). */
	{
		uint8_t response_key[16], proof[16], base_key[16], lmv2[16];
		const uint8_t *temp = nt + 16;
		size_t temp_len, av_len;
		const uint8_t *av;
		TALLOC_CTX *t = must(talloc_new(NULL));

		FUZZ_REQUIRE(nt_len >= 16 + 28 + 4, "NT response of %zu bytes", nt_len);
		temp_len = nt_len - 16;
		FUZZ_REQUIRE(temp[0] == 1 && temp[1] == 1, "NTLMv2 blob signature");
		FUZZ_REQUIRE(smbsess__le64(temp + 8) == (r->has_ts ? r->ts : CLIENT_TIME), "NTLMv2 time");
		FUZZ_REQUIRE(memcmp(temp + 16, CLIENT_CHALLENGE, 8) == 0, "client challenge");
		FUZZ_REQUIRE(smbsess__le32(temp + 24) == 0 && smbsess__le32(temp + temp_len - 4) == 0,
			     "NTLMv2 blob reserved fields");
		av = temp + 28;
		av_len = temp_len - 32;
		if (mic) {
			size_t want_len;
			uint8_t *want = mic_av_pairs(t, r, &want_len);

			FUZZ_REQUIRE(av_len == want_len && memcmp(av, want, av_len) == 0,
				     "AV pairs with the MIC flag differ from the challenge's");
		} else {
			FUZZ_REQUIRE(av_len == r->ti_len && (av_len == 0 || memcmp(av, r->ti, av_len) == 0),
				     "echoed AV pairs differ from the challenge's");
		}
		st = smbsess__ntlm_ntowfv2(PASSWORD, USER, DOMAIN, response_key);
		FUZZ_REQUIRE(smbsess__st_ok(st), "NTOWFv2: %s", fuzz_st(st));
		hmac_md5_2(response_key, 16, chal + 24, 8, temp, temp_len, proof);
		FUZZ_REQUIRE(memcmp(proof, nt, 16) == 0, "NTProofStr does not verify");
		hmac_md5_2(response_key, 16, proof, 16, NULL, 0, base_key);

		FUZZ_REQUIRE(lm_len == 24, "LM response of %zu bytes", lm_len);
		if (r->has_ts) {
			static const uint8_t z[24];
			FUZZ_REQUIRE(memcmp(lm, z, 24) == 0, "LM response not Z(24) with a timestamp");
		} else {
			hmac_md5_2(response_key, 16, chal + 24, 8, CLIENT_CHALLENGE, 8, lmv2);
			FUZZ_REQUIRE(memcmp(lm, lmv2, 16) == 0 && memcmp(lm + 16, CLIENT_CHALLENGE, 8) == 0,
				     "LMv2 response does not verify");
		}
		if (flags & F_KEY_EXCH) {
			struct arcfour_ctx rc4;

			FUZZ_REQUIRE(ekey_len == 16, "EncryptedRandomSessionKey of %zu bytes", ekey_len);
			arcfour_set_key(&rc4, 16, base_key);
			arcfour_crypt(&rc4, 16, exported, ekey);
			FUZZ_REQUIRE(memcmp(exported, EXPORTED_KEY, 16) == 0, "exported session key does not decrypt");
		} else {
			FUZZ_REQUIRE(ekey_len == 0, "session key sent without key exchange");
			memcpy(exported, base_key, 16);
		}
		talloc_free(t);
	}
	st = smbsess__ntlmssp_session_key(n, key);
	FUZZ_REQUIRE(smbsess__st_ok(st) && memcmp(key, exported, 16) == 0, "session key differs: %s", fuzz_st(st));

	if (mic) {
		uint8_t *copy = must(talloc_memdup(NULL, a, a_len));
		uint8_t want[16];
		struct hmac_md5_ctx h;

		memset(copy + 72, 0, 16);
		hmac_md5_set_key(&h, 16, exported);
		hmac_md5_update(&h, neg_len, neg);
		hmac_md5_update(&h, chal_len, chal);
		hmac_md5_update(&h, a_len, copy);
		hmac_md5_digest(&h, 16, want);
		FUZZ_REQUIRE(memcmp(want, a + 72, 16) == 0, "MIC does not verify");
		talloc_free(copy);
	}

	FUZZ_REQUIRE(smbsess__ntlmssp_can_sign(n) == ((flags & F_SIGN) != 0), "can_sign disagrees with the flags");
	if (flags & F_SIGN) {
		/* The server's first signature over some bytes must verify, once. */
		static const uint8_t msg[] = "mechListMIC stand-in";
		uint8_t server_sign[16], seal_key[16], sig[16], mine[16];
		struct arcfour_ctx seal;
		bool kx = (flags & F_KEY_EXCH) != 0;

		smbsess__ntlm_sign_key(exported, false, server_sign);
		if (kx) {
			smbsess__ntlm_seal_key(exported, flags, false, seal_key);
			arcfour_set_key(&seal, 16, seal_key);
		}
		smbsess__ntlm_mac(server_sign, kx ? &seal : NULL, 0, msg, sizeof msg, sig);
		st = smbsess__ntlmssp_check(n, msg, sizeof msg, sig);
		FUZZ_REQUIRE(smbsess__st_ok(st), "the server's signature does not verify: %s", fuzz_st(st));
		st = smbsess__ntlmssp_check(n, msg, sizeof msg, sig);
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_BAD_SIGNATURE), "a replayed signature verifies: %s",
			     fuzz_st(st));
		st = smbsess__ntlmssp_sign(n, msg, sizeof msg, mine);
		FUZZ_REQUIRE(smbsess__st_ok(st) && smbsess__le32(mine) == 1 && smbsess__le32(mine + 12) == 0,
			     "client signature: %s", fuzz_st(st));
	}
}

static void run_ntlm_client(TALLOC_CTX *mem, bool anonymous, bool version, const uint8_t *m, size_t len,
			    const struct ref_challenge *r)
{
	struct smbsess__creds *creds = NULL;
	struct smbsess__ntlmssp *n;
	uint8_t *neg, *auth = NULL;
	size_t neg_len, auth_len = 0;
	struct smbsess_status st;
	uint32_t expect = 0;

	if (!anonymous) {
		st = smbsess__creds_new(mem, DOMAIN, USER, PASSWORD, &creds);
		FUZZ_REQUIRE(smbsess__st_ok(st), "creds_new: %s", fuzz_st(st));
	}
	st = smbsess__ntlmssp_client_new(mem, creds, &n);
	FUZZ_REQUIRE(smbsess__st_ok(st), "ntlmssp_client_new: %s", fuzz_st(st));
	smbsess__ntlmssp_set_test_values(n, CLIENT_CHALLENGE, EXPORTED_KEY, &CLIENT_TIME);
	if (version)
		smbsess__ntlmssp_set_version(n, 10, 0, 20348);
	st = smbsess__ntlmssp_negotiate(n, mem, &neg, &neg_len);
	FUZZ_REQUIRE(smbsess__st_ok(st), "ntlmssp_negotiate: %s", fuzz_st(st));
	st = smbsess__ntlmssp_authenticate(n, m, len, mem, &auth, &auth_len);
	fuzz_log("%s client: %s", anonymous ? "anonymous" : "password", fuzz_st(st));

	/* What the client must say, from the reference reading. */
	if (r->code)
		expect = r->code;
	else if (!(r->flags & F_UNICODE) || (!anonymous && !(r->flags & F_ESS)))
		expect = SMBSESS_E_NOT_SUPPORTED;
	else if (!anonymous && (r->flags & F_SIGN) && !(r->has_nb_computer && r->has_nb_domain))
		expect = SMBSESS_E_AUTH;
	if (expect) {
		FUZZ_REQUIRE(fuzz_st_is_lib(st, expect), "authenticate gave %s, expected code %" PRIu32, fuzz_st(st),
			     expect);
		FUZZ_REQUIRE(!smbsess__ntlmssp_can_sign(n) && smbsess__ntlmssp_flags(n) == 0,
			     "a failed client has keys or flags");
	} else if (!smbsess__st_ok(st)) {
		/* Only an echoed target info beyond 64 KiB may still fail. */
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_LIMIT) && r->ti_len + 8 + 48 > 0xffff,
			     "authenticate failed with %s", fuzz_st(st));
	} else {
		check_authenticate(n, anonymous, r, neg, neg_len, m, len, auth, auth_len);
		FUZZ_REQUIRE(talloc_parent(auth) == mem, "AUTHENTICATE_MESSAGE not on the caller's context");
	}
	/* A second CHALLENGE_MESSAGE is refused whatever happened. */
	st = smbsess__ntlmssp_authenticate(n, m, len, mem, &auth, &auth_len);
	FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_INVALID_ARGUMENT), "second authenticate: %s", fuzz_st(st));
	talloc_free(n);
	talloc_free(creds);
}

static void fuzz_ntlm_challenge(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct ref_challenge r;
	struct smbsess__ntlm_challenge *c = (void *)&r; /* a sentinel: must stay untouched on failure */
	TALLOC_CTX *pm = must(talloc_new(mem));
	struct smbsess_status st;

	ref_parse_challenge(data, size, &r);
	st = smbsess__ntlm_challenge_parse(pm, data, size, &c);
	fuzz_log("parse: %s, reference code %" PRIu32, fuzz_st(st), r.code);
	if (r.code) {
		FUZZ_REQUIRE(fuzz_st_is_lib(st, r.code), "parse gave %s, the reference code %" PRIu32, fuzz_st(st),
			     r.code);
		FUZZ_REQUIRE(c == (void *)&r, "failed parse set its output");
		FUZZ_REQUIRE(talloc_total_blocks(pm) == 1, "failed parse left memory on the context");
	} else {
		FUZZ_REQUIRE(smbsess__st_ok(st), "parse failed with %s, the reference accepts", fuzz_st(st));
		FUZZ_REQUIRE(talloc_parent(c) == pm, "challenge not on the caller's context");
		check_challenge(c, &r, data);
	}
	talloc_free(pm);
	run_ntlm_client(mem, false, size & 1, data, size, &r);
	run_ntlm_client(mem, true, false, data, size, &r);
}

/* ================================================================ SPNEGO tokens */

static bool in_input(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	return n == 0 || memmem(data, size, p, n) != NULL;
}

static void check_blob(const char *what, const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p == NULL) {
		FUZZ_REQUIRE(n == 0, "%s absent with a length", what);
		return;
	}
	FUZZ_REQUIRE(talloc_get_size(p) >= n, "%s longer than its chunk", what);
	FUZZ_REQUIRE(in_input(data, size, p, n), "%s is not bytes of the token", what);
}

static void check_init(const struct smbsess__spnego_init *i, const uint8_t *data, size_t size)
{
	FUZZ_REQUIRE(i->num_mechs >= 1 && i->num_mechs <= SMBSESS__SPNEGO_MAX_MECHS, "%zu mechanisms",
		     i->num_mechs);
	FUZZ_REQUIRE(i->mechs && talloc_get_size(i->mechs) >= i->num_mechs * sizeof i->mechs[0],
		     "mechanism array shorter than its count");
	for (size_t k = 0; k < i->num_mechs; k++)
		FUZZ_REQUIRE(i->mechs[k] >= SMBSESS__MECH_OTHER && i->mechs[k] <= SMBSESS__MECH_NEGOEX,
			     "unknown mechanism value %d", (int)i->mechs[k]);
	FUZZ_REQUIRE(i->mech_types && i->mech_types_len >= 2 && i->mech_types[0] == SMBSESS__DER_SEQUENCE,
		     "MechTypeList DER missing");
	check_blob("mech_types", i->mech_types, i->mech_types_len, data, size);
	FUZZ_REQUIRE(smbsess__st_ok(smbsess__der_check(i->mech_types, i->mech_types_len, SMBSESS__DER_MAX_DEPTH)),
		     "MechTypeList DER does not check");
	check_blob("mech_token", i->mech_token, i->mech_token_len, data, size);
	check_blob("mech_list_mic", i->mech_list_mic, i->mech_list_mic_len, data, size);
	if (i->hint_name) {
		size_t l = strlen(i->hint_name);

		FUZZ_REQUIRE(talloc_get_size(i->hint_name) >= l + 1, "hint name longer than its chunk");
		FUZZ_REQUIRE(in_input(data, size, (const uint8_t *)i->hint_name, l), "hint name not from the token");
	}
}

static void fuzz_spnego_init(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct smbsess__spnego_init *i = (void *)&i, *i2 = NULL;
	TALLOC_CTX *pm = must(talloc_new(mem));
	struct smbsess_status st = smbsess__spnego_parse_init(pm, data, size, &i);
	bool all_known = true;
	uint8_t *b, *mt;
	size_t b_len, mt_len;

	fuzz_log("parse_init: %s", fuzz_st(st));
	if (!smbsess__st_ok(st)) {
		fuzz_require_lib_error(st, "parse_init", SMBSESS_E_PROTOCOL, SMBSESS_E_LIMIT, SMBSESS_E_NOT_SUPPORTED, 0);
		FUZZ_REQUIRE(i == (void *)&i, "failed parse set its output");
		FUZZ_REQUIRE(talloc_total_blocks(pm) == 1, "failed parse left memory on the context");
		talloc_free(pm);
		return;
	}
	FUZZ_REQUIRE(smbsess__st_ok(smbsess__der_check(data, size, SMBSESS__DER_MAX_DEPTH)),
		     "accepted a token that does not pass der_check");
	check_init(i, data, size);
	for (size_t k = 0; k < i->num_mechs; k++)
		all_known = all_known && i->mechs[k] != SMBSESS__MECH_OTHER;
	if (!all_known) {
		talloc_free(pm);
		return;
	}
	/* Rebuilt from what was read, the token reads back the same. */
	st = smbsess__spnego_build_init(pm, i->mechs, i->num_mechs, i->mech_token, i->mech_token_len, &b, &b_len);
	FUZZ_REQUIRE(smbsess__st_ok(st), "build_init of a parsed token: %s", fuzz_st(st));
	st = smbsess__spnego_parse_init(pm, b, b_len, &i2);
	FUZZ_REQUIRE(smbsess__st_ok(st), "parse of our own NegTokenInit: %s", fuzz_st(st));
	check_init(i2, b, b_len);
	FUZZ_REQUIRE(i2->num_mechs == i->num_mechs &&
			     memcmp(i2->mechs, i->mechs, i->num_mechs * sizeof i->mechs[0]) == 0,
		     "mechanisms changed in the round trip");
	FUZZ_REQUIRE((i2->mech_token == NULL) == (i->mech_token == NULL) &&
			     i2->mech_token_len == i->mech_token_len &&
			     (i->mech_token_len == 0 || memcmp(i2->mech_token, i->mech_token, i->mech_token_len) == 0),
		     "mechToken changed in the round trip");
	FUZZ_REQUIRE(i2->hint_name == NULL && i2->mech_list_mic == NULL, "round trip invented fields");
	st = smbsess__spnego_mech_types(pm, i->mechs, i->num_mechs, &mt, &mt_len);
	FUZZ_REQUIRE(smbsess__st_ok(st) && mt_len == i2->mech_types_len && memcmp(mt, i2->mech_types, mt_len) == 0,
		     "mech_types of a built token differ from smbsess__spnego_mech_types");
	talloc_free(pm);
}

static void check_resp(const struct smbsess__spnego_resp *r, const uint8_t *data, size_t size)
{
	FUZZ_REQUIRE(r->neg_state >= SMBSESS__SPNEGO_NO_STATE && r->neg_state <= SMBSESS__SPNEGO_REQUEST_MIC,
		     "negState %d", r->neg_state);
	FUZZ_REQUIRE(!r->has_supported_mech ||
			     (r->supported_mech >= SMBSESS__MECH_OTHER && r->supported_mech <= SMBSESS__MECH_NEGOEX),
		     "supportedMech value %d", (int)r->supported_mech);
	FUZZ_REQUIRE(r->has_supported_mech || r->supported_mech == SMBSESS__MECH_OTHER, "mechanism without presence");
	check_blob("responseToken", r->response_token, r->response_token_len, data, size);
	check_blob("mechListMIC", r->mech_list_mic, r->mech_list_mic_len, data, size);
}

static bool same_blob(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return (a == NULL) == (b == NULL) && an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void fuzz_spnego_resp(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct smbsess__spnego_resp *r = (void *)&r, *r2 = NULL;
	TALLOC_CTX *pm = must(talloc_new(mem));
	struct smbsess_status st = smbsess__spnego_parse_resp(pm, data, size, &r);
	uint8_t *b;
	size_t b_len;

	fuzz_log("parse_resp: %s", fuzz_st(st));
	if (!smbsess__st_ok(st)) {
		fuzz_require_lib_error(st, "parse_resp", SMBSESS_E_PROTOCOL, SMBSESS_E_LIMIT, SMBSESS_E_NOT_SUPPORTED, 0);
		FUZZ_REQUIRE(r == (void *)&r, "failed parse set its output");
		FUZZ_REQUIRE(talloc_total_blocks(pm) == 1, "failed parse left memory on the context");
		talloc_free(pm);
		return;
	}
	FUZZ_REQUIRE(smbsess__st_ok(smbsess__der_check(data, size, SMBSESS__DER_MAX_DEPTH)),
		     "accepted a token that does not pass der_check");
	check_resp(r, data, size);
	if (r->has_supported_mech && r->supported_mech == SMBSESS__MECH_OTHER) {
		talloc_free(pm);
		return;
	}
	st = smbsess__spnego_build_resp(pm, r, &b, &b_len);
	FUZZ_REQUIRE(smbsess__st_ok(st), "build_resp of a parsed token: %s", fuzz_st(st));
	st = smbsess__spnego_parse_resp(pm, b, b_len, &r2);
	FUZZ_REQUIRE(smbsess__st_ok(st), "parse of our own NegTokenResp: %s", fuzz_st(st));
	check_resp(r2, b, b_len);
	FUZZ_REQUIRE(r2->neg_state == r->neg_state && r2->has_supported_mech == r->has_supported_mech &&
			     r2->supported_mech == r->supported_mech &&
			     same_blob(r2->response_token, r2->response_token_len, r->response_token,
				       r->response_token_len) &&
			     same_blob(r2->mech_list_mic, r2->mech_list_mic_len, r->mech_list_mic,
				       r->mech_list_mic_len),
		     "NegTokenResp changed in the round trip");
	talloc_free(pm);
}

/* ================================================================ DER */

/* The tree of a DER walk, flattened in pre-order. */
struct der_node {
	uint8_t tag;
	unsigned depth;       /* 0: top level */
	size_t off, hdr, len; /* position of the TLV, header bytes, contents bytes */
};

#define DER_MAX_NODES 8192

struct der_walk {
	struct der_node nodes[DER_MAX_NODES];
	size_t n;
	bool truncated; /* more nodes than kept */
	bool minimal;   /* every length in its shortest form */
};

static struct der_walk walk_ref, walk_lib, walk_out;

/*
 * Reference reader of X.690 as lib/auth/der.h documents it: one-byte tags
 * (not 0x00, not a high-tag-number form), definite lengths in short form or
 * long form of 1 to 4 bytes (minimal or not), each inside its container, at
 * most @p max_depth nested constructed encodings. Returns 0 or the
 * SMBSESS_E_* of the first problem in pre-order.
 */
static uint32_t ref_der(const uint8_t *p, size_t start, size_t end, unsigned depth, unsigned max_depth,
			struct der_walk *w)
{
	size_t pos = start;

	while (pos < end) {
		size_t avail = end - pos, hdr, l = 0;
		uint8_t tag;

		if (avail < 2)
			return SMBSESS_E_PROTOCOL;
		tag = p[pos];
		if ((tag & 0x1f) == 0x1f || tag == 0)
			return SMBSESS_E_PROTOCOL;
		if (p[pos + 1] < 0x80) {
			l = p[pos + 1];
			hdr = 2;
		} else {
			size_t k = p[pos + 1] & 0x7f;

			if (k == 0 || k > 4 || avail - 2 < k)
				return SMBSESS_E_PROTOCOL;
			for (size_t i = 0; i < k; i++)
				l = (l << 8) | p[pos + 2 + i];
			hdr = 2 + k;
			if (l < 0x80 || (p[pos + 2] == 0))
				w->minimal = false;
		}
		if (l > avail - hdr)
			return SMBSESS_E_PROTOCOL;
		if (w->n < DER_MAX_NODES)
			w->nodes[w->n++] = (struct der_node){ tag, depth, pos, hdr, l };
		else
			w->truncated = true;
		if (tag & 0x20) {
			uint32_t code;

			if (depth + 1 > max_depth)
				return SMBSESS_E_LIMIT;
			code = ref_der(p, pos + hdr, pos + hdr + l, depth + 1, max_depth, w);
			if (code)
				return code;
		}
		pos += hdr + l;
	}
	return 0;
}

/* The same walk with the library's cursor functions. */
static struct smbsess_status lib_der(const uint8_t *base, struct smbsess__der_cursor *c, struct der_walk *w)
{
	while (!smbsess__der_at_end(c)) {
		struct smbsess__der_tlv t, t2;
		struct smbsess__der_cursor save = *c, child;
		int peek = smbsess__der_peek(c);

		SMBSESS__CHECK(smbsess__der_next(c, &t));
		FUZZ_REQUIRE(peek == t.tag, "der_peek %d, der_next tag %u", peek, t.tag);
		FUZZ_REQUIRE(t.raw == save.p && t.raw_len == (size_t)(c->p - save.p) && c->len == save.len - t.raw_len,
			     "der_next moved the cursor by a different amount than the TLV");
		FUZZ_REQUIRE(t.value >= t.raw + 2 && t.value <= t.raw + 6 && t.value + t.len == t.raw + t.raw_len,
			     "TLV value is not at the end of its encoding");
		/* der_expect: the wrong tag leaves the cursor where it was, the right one reads the same TLV. */
		{
			struct smbsess__der_cursor e = save;

			FUZZ_REQUIRE(!smbsess__st_ok(smbsess__der_expect(&e, (uint8_t)(t.tag ^ 0x01), &t2)) &&
					     e.p == save.p && e.len == save.len,
				     "der_expect with another tag consumed or succeeded");
			FUZZ_REQUIRE(smbsess__st_ok(smbsess__der_expect(&e, t.tag, &t2)) && t2.raw == t.raw &&
					     t2.len == t.len && e.p == c->p,
				     "der_expect with the right tag differs from der_next");
		}
		if (w->n < DER_MAX_NODES)
			w->nodes[w->n++] = (struct der_node){ t.tag, c->depth, (size_t)(t.raw - base),
							      t.raw_len - t.len, t.len };
		else
			w->truncated = true;
		if (t.tag & SMBSESS__DER_CONSTRUCTED) {
			SMBSESS__CHECK(smbsess__der_enter(c, &t, &child));
			FUZZ_REQUIRE(child.depth == c->depth + 1 && child.p == t.value && child.len == t.len,
				     "der_enter cursor");
			SMBSESS__CHECK(lib_der(base, &child, w));
		} else {
			FUZZ_REQUIRE(!smbsess__st_ok(smbsess__der_enter(c, &t, &child)), "der_enter on a primitive");
			/* INTEGER / ENUMERATED reading of every primitive, against the rule. */
			{
				uint32_t v = 0xdeadbeef, want = 0;
				struct smbsess_status st = smbsess__der_get_uint(&t, &v);
				bool ok = t.len >= 1 && t.len <= 4 && !(t.value[0] & 0x80) &&
					  !(t.len > 1 && t.value[0] == 0 && !(t.value[1] & 0x80));

				for (size_t i = 0; ok && i < t.len; i++)
					want = (want << 8) | t.value[i];
				FUZZ_REQUIRE(smbsess__st_ok(st) == ok && (!ok || v == want) && (ok || v == 0xdeadbeef),
					     "der_get_uint of %zu bytes: %s, value 0x%" PRIx32 " (want 0x%" PRIx32 ")",
					     t.len, fuzz_st(st), v, want);
			}
		}
	}
	return SMBSESS__OK;
}

static void dump_walk(const char *what, const struct der_walk *w)
{
	if (!fuzz_verbose)
		return;
	fprintf(stderr, "%s: %zu TLVs%s\n", what, w->n, w->truncated ? " (truncated)" : "");
	for (size_t i = 0; i < w->n; i++)
		fprintf(stderr, "  %*s%02x at %zu, header %zu, length %zu\n", (int)w->nodes[i].depth * 2, "",
			w->nodes[i].tag, w->nodes[i].off, w->nodes[i].hdr, w->nodes[i].len);
}

static bool same_walk(const struct der_walk *a, const struct der_walk *b, const uint8_t *pa, const uint8_t *pb,
		      bool positions)
{
	if (a->n != b->n || a->truncated != b->truncated)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct der_node *x = &a->nodes[i], *y = &b->nodes[i];

		/* A constructed encoding's length changes when its contents' lengths are re-encoded. */
		if (x->tag != y->tag || x->depth != y->depth || ((positions || !(x->tag & 0x20)) && x->len != y->len))
			return false;
		if (positions && (x->off != y->off || x->hdr != y->hdr))
			return false;
		if (!(x->tag & 0x20) && x->len && memcmp(pa + x->off + x->hdr, pb + y->off + y->hdr, x->len) != 0)
			return false;
	}
	return true;
}

/* Re-encodes the tree of @p w (over @p p) with the writer, starting at node *i of depth @p depth. */
static void der_rewrite(struct smbsess__der_writer *wr, const uint8_t *p, const struct der_walk *w, size_t *i,
			unsigned depth)
{
	while (*i < w->n && w->nodes[*i].depth == depth) {
		const struct der_node *nd = &w->nodes[*i];

		(*i)++;
		if (nd->tag & 0x20) {
			size_t mark = smbsess__der_begin(wr, nd->tag);

			der_rewrite(wr, p, w, i, depth + 1);
			smbsess__der_end(wr, mark);
		} else {
			smbsess__der_put(wr, nd->tag, p + nd->off + nd->hdr, nd->len);
		}
	}
}

static void fuzz_der(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned max_depth = fuzz_u8(&in) % 10;
	uint8_t *p = fuzz_dup(mem, in.p, in.len);
	size_t len = in.len;
	unsigned eff = max_depth > SMBSESS__DER_MAX_DEPTH ? SMBSESS__DER_MAX_DEPTH : max_depth;
	struct smbsess_status st;
	uint32_t code;

	/* der_check at the limit of the input byte, against the reference. */
	walk_ref.n = 0;
	walk_ref.truncated = false;
	walk_ref.minimal = true;
	code = ref_der(p, 0, len, 0, eff, &walk_ref);
	st = smbsess__der_check(p, len, max_depth);
	fuzz_log("%zu bytes, depth limit %u: der_check %s, reference code %" PRIu32, len, max_depth, fuzz_st(st), code);
	if (code)
		FUZZ_REQUIRE(fuzz_st_is_lib(st, code), "der_check(depth %u) gave %s, the reference code %" PRIu32,
			     max_depth, fuzz_st(st), code);
	else
		FUZZ_REQUIRE(smbsess__st_ok(st), "der_check(depth %u) gave %s, the reference accepts", max_depth,
			     fuzz_st(st));

	/* The full depth: der_check, the reference and the cursor walk agree on the tree. */
	walk_ref.n = 0;
	walk_ref.truncated = false;
	walk_ref.minimal = true;
	code = ref_der(p, 0, len, 0, SMBSESS__DER_MAX_DEPTH, &walk_ref);
	st = smbsess__der_check(p, len, SMBSESS__DER_MAX_DEPTH);
	FUZZ_REQUIRE(code ? fuzz_st_is_lib(st, code) : smbsess__st_ok(st),
		     "der_check(max) gave %s, the reference code %" PRIu32, fuzz_st(st), code);
	{
		struct smbsess__der_cursor c;

		smbsess__der_cursor_init(&c, p, len);
		walk_lib.n = 0;
		walk_lib.truncated = false;
		st = lib_der(p, &c, &walk_lib);
		FUZZ_REQUIRE(code ? fuzz_st_is_lib(st, code) : smbsess__st_ok(st),
			     "the cursor walk gave %s, the reference code %" PRIu32, fuzz_st(st), code);
		/* Up to the first problem, both saw the same TLVs. */
		if (!code)
			FUZZ_REQUIRE(same_walk(&walk_ref, &walk_lib, p, p, true), "the cursor walk saw another tree");
	}
	if (code || walk_ref.truncated)
		return;

	/* The writer re-encodes the tree: DER that reads back the same, and the input itself if it was minimal. */
	{
		struct smbsess__der_writer wr;
		uint8_t *out = NULL;
		size_t out_len = 0, i = 0;

		smbsess__der_writer_init(&wr, mem);
		der_rewrite(&wr, p, &walk_ref, &i, 0);
		st = smbsess__der_finish(&wr, &out, &out_len);
		FUZZ_REQUIRE(smbsess__st_ok(st), "writer: %s", fuzz_st(st));
		FUZZ_REQUIRE(talloc_parent(out) == mem, "writer output not on its context");
		walk_out.n = 0;
		walk_out.truncated = false;
		walk_out.minimal = true;
		code = ref_der(out, 0, out_len, 0, SMBSESS__DER_MAX_DEPTH, &walk_out);
		FUZZ_REQUIRE(code == 0 && walk_out.minimal, "writer output is not minimal DER (code %" PRIu32 ")", code);
		FUZZ_REQUIRE(smbsess__st_ok(smbsess__der_check(out, out_len, SMBSESS__DER_MAX_DEPTH)),
			     "writer output does not pass der_check");
		if (!same_walk(&walk_ref, &walk_out, p, out, false)) {
			dump_walk("input", &walk_ref);
			dump_walk("writer output", &walk_out);
			fuzz_fail("writer output has another tree");
		}
		if (walk_ref.minimal)
			FUZZ_REQUIRE(out_len == len && memcmp(out, p, len) == 0,
				     "minimal DER input not re-encoded byte for byte");
		talloc_free(out);
	}
}

/* ================================================================ the SPNEGO client */

static void fuzz_spnego_client(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	const uint8_t *hint, *resp1, *resp2;
	size_t hint_len, resp1_len, resp2_len;
	struct smbsess__creds *creds;
	struct smbsess__spnego_client *c;
	uint8_t *out, *h, *t1, *t2;
	size_t out_len;
	struct smbsess_status st, parsed;
	uint8_t key[16];

	hint = fuzz_piece(&in, &hint_len);
	resp1 = fuzz_piece(&in, &resp1_len);
	resp2 = fuzz_bytes(&in, in.len, &resp2_len);
	/* Own allocations, so that ASan sees reads past each piece. */
	h = fuzz_dup(mem, hint, hint_len);
	t1 = fuzz_dup(mem, resp1, resp1_len);
	t2 = fuzz_dup(mem, resp2, resp2_len);

	st = smbsess__creds_new(mem, DOMAIN, USER, PASSWORD, &creds);
	FUZZ_REQUIRE(smbsess__st_ok(st), "creds_new: %s", fuzz_st(st));
	st = smbsess__spnego_client_new(mem, creds, &c);
	FUZZ_REQUIRE(smbsess__st_ok(st), "spnego_client_new: %s", fuzz_st(st));
	smbsess__ntlmssp_set_test_values(smbsess__spnego_client_ntlmssp(c), CLIENT_CHALLENGE, EXPORTED_KEY,
					 &CLIENT_TIME);

	/* Step 1: the hint. It must succeed exactly when it is empty or a NegTokenInit offering NTLMSSP. */
	out = NULL;
	st = smbsess__spnego_client_step(c, mem, hint_len ? h : NULL, hint_len, &out, &out_len);
	fuzz_log("step 1 (hint of %zu bytes): %s", hint_len, fuzz_st(st));
	{
		struct smbsess__spnego_init *i = NULL;
		bool ntlm = false;
		TALLOC_CTX *t = must(talloc_new(mem));

		parsed = hint_len ? smbsess__spnego_parse_init(t, h, hint_len, &i) : SMBSESS__OK;
		for (size_t k = 0; hint_len && smbsess__st_ok(parsed) && k < i->num_mechs; k++)
			ntlm = ntlm || i->mechs[k] == SMBSESS__MECH_NTLMSSP;
		if (!smbsess__st_ok(parsed))
			FUZZ_REQUIRE(smbsess__st_equal(st, parsed), "step 1 gave %s, parse_init failed otherwise", fuzz_st(st));
		else if (hint_len && !ntlm)
			FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_NOT_SUPPORTED), "step 1 without NTLMSSP gave %s",
				     fuzz_st(st));
		else
			FUZZ_REQUIRE(smbsess__st_ok(st), "step 1 failed with %s", fuzz_st(st));
		talloc_free(t);
	}
	if (!smbsess__st_ok(st)) {
		FUZZ_REQUIRE(!smbsess__spnego_client_done(c), "failed client is done");
		st = smbsess__spnego_client_step(c, mem, t1, resp1_len, &out, &out_len);
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_AUTH), "step after a failure gave %s", fuzz_st(st));
		talloc_free(c);
		return;
	}
	{
		struct smbsess__spnego_init *i = NULL;

		FUZZ_REQUIRE(out && talloc_parent(out) == mem, "NegTokenInit not on the caller's context");
		st = smbsess__spnego_parse_init(mem, out, out_len, &i);
		FUZZ_REQUIRE(smbsess__st_ok(st) && i->num_mechs == 1 && i->mechs[0] == SMBSESS__MECH_NTLMSSP &&
				     i->mech_token_len >= 32 && memcmp(i->mech_token, "NTLMSSP\0\1\0\0\0", 12) == 0,
			     "our NegTokenInit does not carry an NTLMSSP NEGOTIATE_MESSAGE: %s", fuzz_st(st));
		talloc_free(i);
		talloc_free(out);
	}

	/* Step 2: the CHALLENGE_MESSAGE in a NegTokenResp. */
	out = NULL;
	st = smbsess__spnego_client_step(c, mem, resp1_len ? t1 : NULL, resp1_len, &out, &out_len);
	fuzz_log("step 2 (%zu bytes): %s", resp1_len, fuzz_st(st));
	if (!smbsess__st_ok(st)) {
		fuzz_require_lib_error(st, "step 2", SMBSESS_E_PROTOCOL, SMBSESS_E_LIMIT, SMBSESS_E_NOT_SUPPORTED,
				       SMBSESS_E_AUTH, 0);
		FUZZ_REQUIRE(!smbsess__spnego_client_done(c), "failed client is done");
		st = smbsess__spnego_client_step(c, mem, t2, resp2_len, &out, &out_len);
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_AUTH), "step after a failure gave %s", fuzz_st(st));
		talloc_free(c);
		return;
	}
	{
		struct smbsess__spnego_resp *r = NULL, *sr = NULL;
		struct smbsess__ntlmssp *n = smbsess__spnego_client_ntlmssp(c);
		TALLOC_CTX *t = must(talloc_new(mem));

		/* It got there only through a NegTokenResp asking for another leg, with NTLMSSP. */
		st = smbsess__spnego_parse_resp(t, t1, resp1_len, &sr);
		FUZZ_REQUIRE(smbsess__st_ok(st) && sr->response_token &&
				     (sr->neg_state == SMBSESS__SPNEGO_ACCEPT_INCOMPLETE ||
				      sr->neg_state == SMBSESS__SPNEGO_REQUEST_MIC) &&
				     (!sr->has_supported_mech || sr->supported_mech == SMBSESS__MECH_NTLMSSP),
			     "step 2 accepted a NegTokenResp it should refuse");
		FUZZ_REQUIRE(out && talloc_parent(out) == mem, "our NegTokenResp not on the caller's context");
		st = smbsess__spnego_parse_resp(t, out, out_len, &r);
		FUZZ_REQUIRE(smbsess__st_ok(st) && r->response_token && r->response_token_len >= 72 &&
				     memcmp(r->response_token, "NTLMSSP\0\3\0\0\0", 12) == 0 &&
				     r->neg_state == SMBSESS__SPNEGO_NO_STATE && !r->has_supported_mech,
			     "our NegTokenResp does not carry an AUTHENTICATE_MESSAGE: %s", fuzz_st(st));
		FUZZ_REQUIRE((r->mech_list_mic != NULL) ==
				     ((smbsess__ntlmssp_sent_mic(n) || sr->neg_state == SMBSESS__SPNEGO_REQUEST_MIC) &&
				      smbsess__ntlmssp_can_sign(n)),
			     "mechListMIC sent %d, MIC %d, request-mic %d, can sign %d", r->mech_list_mic != NULL,
			     smbsess__ntlmssp_sent_mic(n), sr->neg_state == SMBSESS__SPNEGO_REQUEST_MIC,
			     smbsess__ntlmssp_can_sign(n));
		FUZZ_REQUIRE(!r->mech_list_mic || r->mech_list_mic_len == 16, "mechListMIC of %zu bytes",
			     r->mech_list_mic_len);
		st = smbsess__spnego_client_session_key(c, key);
		FUZZ_REQUIRE(smbsess__st_ok(st), "no session key after step 2: %s", fuzz_st(st));
		talloc_free(t);
		talloc_free(out);
	}

	/* Step 3: the verdict. */
	out = (uint8_t *)&out;
	out_len = 1;
	st = smbsess__spnego_client_step(c, mem, resp2_len ? t2 : NULL, resp2_len, &out, &out_len);
	fuzz_log("step 3 (%zu bytes): %s", resp2_len, fuzz_st(st));
	if (smbsess__st_ok(st)) {
		FUZZ_REQUIRE(out == NULL && out_len == 0, "step 3 returned a token");
		FUZZ_REQUIRE(smbsess__spnego_client_done(c), "client not done after step 3");
	} else {
		fuzz_require_lib_error(st, "step 3", SMBSESS_E_PROTOCOL, SMBSESS_E_LIMIT, SMBSESS_E_NOT_SUPPORTED,
				       SMBSESS_E_AUTH, SMBSESS_E_BAD_SIGNATURE, 0);
		FUZZ_REQUIRE(!smbsess__spnego_client_done(c), "failed client is done");
	}
	st = smbsess__spnego_client_step(c, mem, NULL, 0, &out, &out_len);
	FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_AUTH), "a fourth step gave %s", fuzz_st(st));
	talloc_free(c);
	talloc_free(creds);
}

/* ================================================================ entry points */

static const struct fuzz_target targets[] = {
	{ "ntlm_challenge", fuzz_ntlm_challenge }, { "spnego_init", fuzz_spnego_init },
	{ "spnego_resp", fuzz_spnego_resp },       { "der", fuzz_der },
	{ "spnego_client", fuzz_spnego_client },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_select("fuzz_auth", targets, sizeof targets / sizeof targets[0], STR(TARGET));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run_selected(data, size);
}
