/*
 * SPNEGO tokens (RFC 4178, MS-SPNG) against bytes built by hand from the
 * ASN.1 in RFC 4178 section 4.2 and the GSS-API framing of RFC 2743 3.1,
 * malformed tokens, and the SPNEGO/NTLMSSP client against a simulated server.
 * tests/auth/oracle_impacket.py checks the same encodings with decoders we
 * did not write.
 */
#include <nettle/arcfour.h>

#include "auth/der.h"
#include "auth/spnego.h"
#include "authtest.h"

#define OID_SPNEGO "06 06 2b 06 01 05 05 02"
#define OID_NTLMSSP "06 0a 2b 06 01 04 01 82 37 02 02 0a"
#define OID_KRB5 "06 09 2a 86 48 86 f7 12 01 02 02"
#define OID_MS_KRB5 "06 09 2a 86 48 82 f7 12 01 02 02"
#define OID_NEGOEX "06 0a 2b 06 01 04 01 82 37 02 02 1e"

/* A NegTokenInit2 as Windows and Samba put it in the SMB2 NEGOTIATE response (MS-SPNG 2.2.1). */
static const char server_hint[] =
	"60 6a " OID_SPNEGO
	" a0 60 30 5e"
	"   a0 30 30 2e " OID_NEGOEX " " OID_MS_KRB5 " " OID_KRB5 " " OID_NTLMSSP
	"   a3 2a 30 28 a0 26 1b 24"
	"     6e 6f 74 5f 64 65 66 69 6e 65 64 5f 69 6e 5f 52 46 43 34 31 37 38 40"
	"     70 6c 65 61 73 65 5f 69 67 6e 6f 72 65"; /* not_defined_in_RFC4178@please_ignore */

static const uint8_t random_session_key[16] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
						0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

static uint8_t *hex(TALLOC_CTX *t, const char *s, size_t *len)
{
	return authtest_hex(t, s, len);
}

/* ---- encodings ---- */

START_TEST(build_init_ntlmssp)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const enum smbsess__spnego_mech mechs[] = { SMBSESS__MECH_NTLMSSP };
	uint8_t tok[40], *out, *want;
	size_t out_len, want_len;

	for (size_t i = 0; i < sizeof(tok); i++)
		tok[i] = (uint8_t)i;
	/* 60 { OID spnego, a0 { 30 { a0 { 30 { OID ntlmssp } } a2 { 04 tok } } } } */
	want = hex(t, "60 48 " OID_SPNEGO " a0 3e 30 3c a0 0e 30 0c " OID_NTLMSSP " a2 2a 04 28"
		      "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13"
		      "14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27",
		   &want_len);
	authtest_ok(smbsess__spnego_build_init(t, mechs, 1, tok, sizeof(tok), &out, &out_len));
	authtest_mem_eq(out, out_len, want, want_len);
	/* Without a mechToken. */
	want = hex(t, "60 1c " OID_SPNEGO " a0 12 30 10 a0 0e 30 0c " OID_NTLMSSP, &want_len);
	authtest_ok(smbsess__spnego_build_init(t, mechs, 1, NULL, 0, &out, &out_len));
	authtest_mem_eq(out, out_len, want, want_len);
	/* The mechanism list alone: what mechListMIC covers. */
	want = hex(t, "30 0c " OID_NTLMSSP, &want_len);
	authtest_ok(smbsess__spnego_mech_types(t, mechs, 1, &out, &out_len));
	authtest_mem_eq(out, out_len, want, want_len);
	/* Unknown mechanisms cannot be encoded. */
	authtest_lib_err(smbsess__spnego_build_init(t, (const enum smbsess__spnego_mech[]){ SMBSESS__MECH_OTHER },
						    1, NULL, 0, &out, &out_len),
			 SMBSESS_E_INVALID_ARGUMENT);
	authtest_lib_err(smbsess__spnego_build_init(t, mechs, 0, NULL, 0, &out, &out_len),
			 SMBSESS_E_INVALID_ARGUMENT);
	talloc_free(t);
}
END_TEST

/* Four mechanisms and a 300-byte token: every length in long form. */
START_TEST(build_init_long)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const enum smbsess__spnego_mech mechs[] = { SMBSESS__MECH_NEGOEX, SMBSESS__MECH_MS_KRB5,
						    SMBSESS__MECH_KRB5, SMBSESS__MECH_NTLMSSP };
	uint8_t tok[300], *out, *head, *want;
	size_t out_len, head_len;
	struct smbsess__spnego_init *init;

	memset(tok, 0x5a, sizeof(tok));
	head = hex(t, "60 82 01 76 " OID_SPNEGO " a0 82 01 6a 30 82 01 66"
		      " a0 30 30 2e " OID_NEGOEX " " OID_MS_KRB5 " " OID_KRB5 " " OID_NTLMSSP
		      " a2 82 01 30 04 82 01 2c",
		   &head_len);
	want = talloc_array(t, uint8_t, head_len + sizeof(tok));
	memcpy(want, head, head_len);
	memcpy(want + head_len, tok, sizeof(tok));
	authtest_ok(smbsess__spnego_build_init(t, mechs, 4, tok, sizeof(tok), &out, &out_len));
	authtest_mem_eq(out, out_len, want, head_len + sizeof(tok));
	/* And back. */
	authtest_ok(smbsess__spnego_parse_init(t, out, out_len, &init));
	ck_assert_uint_eq(init->num_mechs, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(init->mechs[i], mechs[i]);
	authtest_mem_eq(init->mech_token, init->mech_token_len, tok, sizeof(tok));
	ck_assert_uint_eq(init->mech_types_len, 0x30);
	ck_assert_mem_eq(init->mech_types, head + 22, 0x30);
	ck_assert_ptr_null(init->hint_name);
	ck_assert_ptr_null(init->mech_list_mic);
	talloc_free(t);
}
END_TEST

START_TEST(parse_server_hint)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *p = hex(t, server_hint, &len);
	struct smbsess__spnego_init *init;

	ck_assert_uint_eq(len, 108);
	authtest_ok(smbsess__spnego_parse_init(t, p, len, &init));
	ck_assert_uint_eq(init->num_mechs, 4);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NEGOEX);
	ck_assert_int_eq(init->mechs[1], SMBSESS__MECH_MS_KRB5);
	ck_assert_int_eq(init->mechs[2], SMBSESS__MECH_KRB5);
	ck_assert_int_eq(init->mechs[3], SMBSESS__MECH_NTLMSSP);
	ck_assert_str_eq(init->hint_name, "not_defined_in_RFC4178@please_ignore");
	ck_assert_ptr_null(init->mech_token);
	ck_assert_ptr_null(init->mech_list_mic);
	talloc_free(t);
}
END_TEST

/* RFC 4178 NegTokenInit with reqFlags [1], an unknown mechanism and mechListMIC [3]. */
START_TEST(parse_init_all_fields)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *p = hex(t, "60 32 " OID_SPNEGO " a0 28 30 26"
			    " a0 12 30 10 06 03 2a 03 04 " OID_KRB5
			    " a1 04 03 02 01 06"  /* ContextFlags: mutualFlag, replayFlag */
			    " a2 04 04 02 aa bb"
			    " a3 04 04 02 cc dd",
			 &len);
	struct smbsess__spnego_init *init;

	authtest_ok(smbsess__spnego_parse_init(t, p, len, &init));
	ck_assert_uint_eq(init->num_mechs, 2);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_OTHER);
	ck_assert_int_eq(init->mechs[1], SMBSESS__MECH_KRB5);
	authtest_mem_eq(init->mech_token, init->mech_token_len, (const uint8_t *)"\xaa\xbb", 2);
	authtest_mem_eq(init->mech_list_mic, init->mech_list_mic_len, (const uint8_t *)"\xcc\xdd", 2);
	talloc_free(t);
}
END_TEST

START_TEST(resp_roundtrip)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_resp r = { .neg_state = SMBSESS__SPNEGO_ACCEPT_INCOMPLETE,
					  .has_supported_mech = true,
					  .supported_mech = SMBSESS__MECH_NTLMSSP };
	struct smbsess__spnego_resp *back;
	uint8_t *out, *want, mic[16];
	size_t out_len, want_len;

	r.response_token = (uint8_t *)"\x01\x02\x03";
	r.response_token_len = 3;
	want = hex(t, "a1 1c 30 1a a0 03 0a 01 01 a1 0c " OID_NTLMSSP " a2 05 04 03 01 02 03", &want_len);
	authtest_ok(smbsess__spnego_build_resp(t, &r, &out, &out_len));
	authtest_mem_eq(out, out_len, want, want_len);
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &back));
	ck_assert_int_eq(back->neg_state, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE);
	ck_assert(back->has_supported_mech);
	ck_assert_int_eq(back->supported_mech, SMBSESS__MECH_NTLMSSP);
	authtest_mem_eq(back->response_token, back->response_token_len, r.response_token, 3);
	ck_assert_ptr_null(back->mech_list_mic);

	/* The server's last token: accept-completed and a mechListMIC. */
	memset(mic, 0x77, sizeof(mic));
	r = (struct smbsess__spnego_resp){ .neg_state = SMBSESS__SPNEGO_ACCEPT_COMPLETED,
					   .mech_list_mic = mic, .mech_list_mic_len = 16 };
	want = hex(t, "a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10"
		      "77 77 77 77 77 77 77 77 77 77 77 77 77 77 77 77", &want_len);
	authtest_ok(smbsess__spnego_build_resp(t, &r, &out, &out_len));
	authtest_mem_eq(out, out_len, want, want_len);
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &back));
	ck_assert_int_eq(back->neg_state, SMBSESS__SPNEGO_ACCEPT_COMPLETED);
	ck_assert(!back->has_supported_mech);
	ck_assert_ptr_null(back->response_token);
	authtest_mem_eq(back->mech_list_mic, back->mech_list_mic_len, mic, 16);

	/* An empty SEQUENCE: every field optional. An empty responseToken is present, not absent. */
	authtest_ok(smbsess__spnego_parse_resp(t, (const uint8_t *)"\xa1\x02\x30\x00", 4, &back));
	ck_assert_int_eq(back->neg_state, SMBSESS__SPNEGO_NO_STATE);
	authtest_ok(smbsess__spnego_parse_resp(t, (const uint8_t *)"\xa1\x06\x30\x04\xa2\x02\x04\x00", 8, &back));
	ck_assert_ptr_nonnull(back->response_token);
	ck_assert_uint_eq(back->response_token_len, 0);

	r.neg_state = 4;
	authtest_lib_err(smbsess__spnego_build_resp(t, &r, &out, &out_len), SMBSESS_E_INVALID_ARGUMENT);
	talloc_free(t);
}
END_TEST

/* ---- hostile tokens ---- */

static void bad_resp(const char *hexstr, uint32_t code)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *p = hex(t, hexstr, &len);
	struct smbsess__spnego_resp *r = (struct smbsess__spnego_resp *)p;
	size_t blocks = talloc_total_blocks(t);

	authtest_lib_err(smbsess__spnego_parse_resp(t, p, len, &r), code);
	ck_assert_ptr_eq(r, p);
	ck_assert_uint_eq(talloc_total_blocks(t), blocks);
	talloc_free(t);
}

static void bad_init(const char *hexstr, uint32_t code)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *p = hex(t, hexstr, &len);
	struct smbsess__spnego_init *init = (struct smbsess__spnego_init *)p;
	size_t blocks = talloc_total_blocks(t);

	authtest_lib_err(smbsess__spnego_parse_init(t, p, len, &init), code);
	ck_assert_ptr_eq(init, p);
	ck_assert_uint_eq(talloc_total_blocks(t), blocks);
	talloc_free(t);
}

START_TEST(hostile_resp)
{
	/* Lengths past the end, at each level. */
	bad_resp("a1 05 30 03 a0 01", SMBSESS_E_PROTOCOL);
	bad_resp("a1 07 30 05 a0 03 0a 02 01", SMBSESS_E_PROTOCOL);
	bad_resp("a1 0b 30 09 a2 07 04 84 7f ff ff ff aa", SMBSESS_E_PROTOCOL);
	/* Indefinite lengths. */
	bad_resp("a1 80 30 80 a0 03 0a 01 00 00 00 00 00", SMBSESS_E_PROTOCOL);
	bad_resp("a1 07 30 80 a0 03 0a 01 00", SMBSESS_E_PROTOCOL);
	/* Nesting too deep: unknown extension fields nest nine levels. */
	bad_resp("a1 14 30 12 a4 10 30 0e 30 0c 30 0a 30 08 30 06 30 04 30 02 30 00", SMBSESS_E_LIMIT);
	/* An unknown negState, a negative one, one that is not ENUMERATED. */
	bad_resp("a1 07 30 05 a0 03 0a 01 07", SMBSESS_E_PROTOCOL);
	bad_resp("a1 07 30 05 a0 03 0a 01 ff", SMBSESS_E_PROTOCOL);
	bad_resp("a1 07 30 05 a0 03 04 01 00", SMBSESS_E_PROTOCOL);
	/* Fields out of order, twice, or two values in one field. */
	bad_resp("a1 0c 30 0a a2 03 04 01 aa a0 03 0a 01 01", SMBSESS_E_PROTOCOL);
	bad_resp("a1 0c 30 0a a0 03 0a 01 01 a0 03 0a 01 01", SMBSESS_E_PROTOCOL);
	bad_resp("a1 0a 30 08 a0 06 0a 01 01 0a 01 01", SMBSESS_E_PROTOCOL);
	/* A primitive where a field must be, an empty supportedMech. */
	bad_resp("a1 05 30 03 80 01 00", SMBSESS_E_PROTOCOL);
	bad_resp("a1 06 30 04 a1 02 06 00", SMBSESS_E_PROTOCOL);
	/* Bytes after the token; the wrong CHOICE; nothing at all. */
	bad_resp("a1 02 30 00 05 00", SMBSESS_E_PROTOCOL);
	bad_resp("a0 02 30 00", SMBSESS_E_PROTOCOL);
	bad_resp("", SMBSESS_E_PROTOCOL);
}
END_TEST

START_TEST(hostile_init)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char *s;

	/* Another mechanism in the GSS-API header. */
	bad_init("60 0f " OID_KRB5 " a0 02 30 00", SMBSESS_E_NOT_SUPPORTED);
	/* No mechTypes, an empty list, an empty OID, a negTokenResp inside. */
	bad_init("60 12 " OID_SPNEGO " a0 08 30 06 a2 04 04 02 aa bb", SMBSESS_E_PROTOCOL);
	bad_init("60 10 " OID_SPNEGO " a0 06 30 04 a0 02 30 00", SMBSESS_E_PROTOCOL);
	bad_init("60 12 " OID_SPNEGO " a0 08 30 06 a0 04 30 02 06 00", SMBSESS_E_PROTOCOL);
	bad_init("60 0c " OID_SPNEGO " a1 02 30 00", SMBSESS_E_PROTOCOL);
	/* Lengths past the end, indefinite, bytes after the token. */
	bad_init("60 7f " OID_SPNEGO " a0 02 30 00", SMBSESS_E_PROTOCOL);
	bad_init("60 80 " OID_SPNEGO " a0 02 30 00 00 00", SMBSESS_E_PROTOCOL);
	bad_init("60 0c " OID_SPNEGO " a0 02 30 00 05 00", SMBSESS_E_PROTOCOL);
	/* Two mechListMICs ([3] as in NegTokenInit, [4] as in NegTokenInit2). */
	bad_init("60 1e " OID_SPNEGO " a0 14 30 12 a0 06 30 04 06 02 2a 03 a3 03 04 01 aa a4 03 04 01 bb",
		 SMBSESS_E_PROTOCOL);
	/* 33 mechanisms: over the limit. 32: fine. */
	s = talloc_asprintf(t, "60 82 01 a4 " OID_SPNEGO " a0 82 01 98 30 82 01 94 a0 82 01 90 30 82 01 8c");
	for (int i = 0; i < 33; i++)
		s = talloc_asprintf_append(s, " %s", OID_NTLMSSP);
	bad_init(s, SMBSESS_E_LIMIT);
	{
		size_t len;
		uint8_t *p;
		struct smbsess__spnego_init *init;

		s = talloc_asprintf(t, "60 82 01 98 " OID_SPNEGO " a0 82 01 8c 30 82 01 88 a0 82 01 84 30 82 01 80");
		for (int i = 0; i < 32; i++)
			s = talloc_asprintf_append(s, " %s", OID_NTLMSSP);
		p = hex(t, s, &len);
		authtest_ok(smbsess__spnego_parse_init(t, p, len, &init));
		ck_assert_uint_eq(init->num_mechs, 32);
	}
	talloc_free(t);
}
END_TEST

/* ---- the client ---- */

/* The simulated server's side of the keys. */
struct server_keys {
	uint8_t client_sign[16], server_sign[16];
	struct arcfour_ctx client_seal, server_seal;
};

static void server_keys_init(struct server_keys *k, uint32_t flags)
{
	uint8_t s[16];

	smbsess__ntlm_sign_key(random_session_key, true, k->client_sign);
	smbsess__ntlm_sign_key(random_session_key, false, k->server_sign);
	smbsess__ntlm_seal_key(random_session_key, flags, true, s);
	arcfour_set_key(&k->client_seal, 16, s);
	smbsess__ntlm_seal_key(random_session_key, flags, false, s);
	arcfour_set_key(&k->server_seal, 16, s);
}

static size_t av_put(uint8_t *buf, size_t pos, uint16_t id, const void *v, uint16_t len)
{
	smbsess__put_le16(buf + pos, id);
	smbsess__put_le16(buf + pos + 2, len);
	if (len)
		memcpy(buf + pos + 4, v, len);
	return pos + 4 + len;
}

/* A CHALLENGE_MESSAGE (no Version), with or without MsvAvTimestamp. */
static uint8_t *challenge(TALLOC_CTX *t, bool timestamp, size_t *len)
{
	uint8_t ti[64], ts[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t ti_len = 0;
	uint8_t *m;

	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_NB_DOMAIN_NAME, "D\0", 2);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_NB_COMPUTER_NAME, "S\0", 2);
	if (timestamp)
		ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_TIMESTAMP, ts, 8);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	*len = 48 + ti_len;
	m = talloc_zero_array(t, uint8_t, *len);
	memcpy(m, "NTLMSSP", 8);
	smbsess__put_le32(m + 8, 2);
	smbsess__put_le32(m + 16, 48);
	smbsess__put_le32(m + 20, 0xe2898215u);
	memcpy(m + 24, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
	smbsess__put_le16(m + 40, (uint16_t)ti_len);
	smbsess__put_le16(m + 42, (uint16_t)ti_len);
	smbsess__put_le32(m + 44, 48);
	memcpy(m + 48, ti, ti_len);
	return m;
}

static uint8_t *server_resp(TALLOC_CTX *t, int state, bool mech, const uint8_t *tok, size_t tok_len,
			    const uint8_t *mic, size_t *len)
{
	struct smbsess__spnego_resp r = { .neg_state = state,
					  .has_supported_mech = mech,
					  .supported_mech = SMBSESS__MECH_NTLMSSP,
					  .response_token = (uint8_t *)tok,
					  .response_token_len = tok_len,
					  .mech_list_mic = (uint8_t *)mic,
					  .mech_list_mic_len = mic ? 16 : 0 };
	uint8_t *out;

	authtest_ok(smbsess__spnego_build_resp(t, &r, &out, len));
	return out;
}

static struct smbsess__spnego_client *new_client(TALLOC_CTX *t, const char *user)
{
	static const uint8_t cc[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
	struct smbsess__creds *creds;
	struct smbsess__spnego_client *c;

	authtest_ok(smbsess__creds_new(t, "Domain", user, "Password", &creds));
	authtest_ok(smbsess__spnego_client_new(t, creds, &c));
	smbsess__ntlmssp_set_test_values(smbsess__spnego_client_ntlmssp(c), cc, random_session_key, NULL);
	return c;
}

static const uint8_t mech_types_ntlmssp[] = { 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
					      0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };

START_TEST(client_full_exchange)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = new_client(t, "User");
	struct smbsess__spnego_init *init;
	struct smbsess__spnego_resp *r;
	struct server_keys k;
	uint8_t *hint, *out, *chal, *in, mic[16], key[16];
	size_t hint_len, out_len, chal_len, in_len;

	hint = hex(t, server_hint, &hint_len);
	authtest_ok(smbsess__spnego_client_step(c, t, hint, hint_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_init(t, out, out_len, &init));
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
	ck_assert_uint_eq(init->mech_token_len, 40);
	ck_assert_mem_eq(init->mech_token, "NTLMSSP\0\x01\0\0\0", 12);
	authtest_mem_eq(init->mech_types, init->mech_types_len, mech_types_ntlmssp, sizeof(mech_types_ntlmssp));
	authtest_lib_err(smbsess__spnego_client_session_key(c, key), SMBSESS_E_AUTH);

	chal = challenge(t, true, &chal_len);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, true, chal, chal_len, NULL, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	ck_assert_int_eq(r->neg_state, SMBSESS__SPNEGO_NO_STATE);
	ck_assert(!r->has_supported_mech);
	ck_assert_mem_eq(r->response_token, "NTLMSSP\0\x03\0\0\0", 12);
	/* The client's mechListMIC: NTLMSSP signature of the mechanism list, client sequence 0. */
	server_keys_init(&k, smbsess__ntlmssp_flags(smbsess__spnego_client_ntlmssp(c)));
	smbsess__ntlm_mac(k.client_sign, &k.client_seal, 0, mech_types_ntlmssp, sizeof(mech_types_ntlmssp), mic);
	authtest_mem_eq(r->mech_list_mic, r->mech_list_mic_len, mic, 16);
	authtest_ok(smbsess__spnego_client_session_key(c, key));
	ck_assert_mem_eq(key, random_session_key, 16);
	ck_assert(!smbsess__spnego_client_done(c));

	/* The server's answer with its own mechListMIC, server sequence 0. */
	smbsess__ntlm_mac(k.server_sign, &k.server_seal, 0, mech_types_ntlmssp, sizeof(mech_types_ntlmssp), mic);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, mic, &in_len);
	out = (uint8_t *)"x";
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert(smbsess__spnego_client_done(c));
	/* Nothing more to do. */
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	ck_assert(smbsess__spnego_client_done(c));
	talloc_free(t);
}
END_TEST

/* Drives a client to the point where it waits for the server's last token. */
static struct smbsess__spnego_client *client_at_final(TALLOC_CTX *t, bool timestamp, int first_state,
						      struct smbsess__spnego_resp **sent)
{
	struct smbsess__spnego_client *c = new_client(t, "User");
	uint8_t *out, *chal, *in;
	size_t out_len, chal_len, in_len;

	/* No hint: SMB2 allows an empty security buffer in the NEGOTIATE response. */
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	chal = challenge(t, timestamp, &chal_len);
	in = server_resp(t, first_state, true, chal, chal_len, NULL, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, sent));
	return c;
}

START_TEST(client_final_variants)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c;
	struct smbsess__spnego_resp *sent;
	struct server_keys k;
	uint8_t *in, *out, mic[16];
	size_t in_len, out_len;

	/* A bad server mechListMIC. */
	c = client_at_final(t, true, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	server_keys_init(&k, smbsess__ntlmssp_flags(smbsess__spnego_client_ntlmssp(c)));
	smbsess__ntlm_mac(k.server_sign, &k.server_seal, 0, mech_types_ntlmssp, sizeof(mech_types_ntlmssp), mic);
	mic[7] ^= 0x80;
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, mic, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_BAD_SIGNATURE);
	ck_assert(!smbsess__spnego_client_done(c));
	authtest_lib_err(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_E_AUTH);

	/* The server computed its MIC with the client's key: also wrong. */
	c = client_at_final(t, true, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	server_keys_init(&k, smbsess__ntlmssp_flags(smbsess__spnego_client_ntlmssp(c)));
	smbsess__ntlm_mac(k.client_sign, &k.client_seal, 0, mech_types_ntlmssp, sizeof(mech_types_ntlmssp), mic);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, mic, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_BAD_SIGNATURE);

	/* Rejected at the end. */
	c = client_at_final(t, true, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	in = server_resp(t, SMBSESS__SPNEGO_REJECT, false, NULL, 0, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);

	/* Still incomplete at the end: NTLM has no fourth leg. */
	c = client_at_final(t, true, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, false, NULL, 0, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_PROTOCOL);

	/* An empty last token (SMB2 success without a buffer) ends the exchange. */
	c = client_at_final(t, true, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	ck_assert(smbsess__spnego_client_done(c));

	/* No MsvAvTimestamp: no NTLMSSP MIC, so no mechListMIC from us; the server's is still checked. */
	c = client_at_final(t, false, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, &sent);
	ck_assert_ptr_null(sent->mech_list_mic);
	server_keys_init(&k, smbsess__ntlmssp_flags(smbsess__spnego_client_ntlmssp(c)));
	smbsess__ntlm_mac(k.server_sign, &k.server_seal, 0, mech_types_ntlmssp, sizeof(mech_types_ntlmssp), mic);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, mic, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));

	/* request-mic in the first reply makes the client send one even without MsvAvTimestamp. */
	c = client_at_final(t, false, SMBSESS__SPNEGO_REQUEST_MIC, &sent);
	ck_assert_ptr_nonnull(sent->mech_list_mic);
	ck_assert_uint_eq(sent->mech_list_mic_len, 16);
	talloc_free(t);
}
END_TEST

START_TEST(client_refusals)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c;
	uint8_t *hint, *out, *chal, *in;
	size_t hint_len, out_len, chal_len, in_len;
	struct smbsess__spnego_resp r = { .neg_state = SMBSESS__SPNEGO_ACCEPT_INCOMPLETE,
					  .has_supported_mech = true,
					  .supported_mech = SMBSESS__MECH_KRB5 };

	/* A server that offers only Kerberos. */
	c = new_client(t, "User");
	hint = hex(t, "60 26 " OID_SPNEGO " a0 1c 30 1a a0 18 30 16 " OID_KRB5 " " OID_MS_KRB5, &hint_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, hint, hint_len, &out, &out_len),
			 SMBSESS_E_NOT_SUPPORTED);
	/* A malformed hint. */
	c = new_client(t, "User");
	hint = hex(t, "60 80 00 00", &hint_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, hint, hint_len, &out, &out_len), SMBSESS_E_PROTOCOL);

	chal = challenge(t, true, &chal_len);
	/* Rejected at once. */
	c = new_client(t, "User");
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	in = server_resp(t, SMBSESS__SPNEGO_REJECT, false, NULL, 0, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	/* Another mechanism chosen. */
	c = new_client(t, "User");
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	r.response_token = chal;
	r.response_token_len = chal_len;
	authtest_ok(smbsess__spnego_build_resp(t, &r, &in, &in_len));
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len),
			 SMBSESS_E_NOT_SUPPORTED);
	/* No negState, no token, a broken CHALLENGE inside. */
	c = new_client(t, "User");
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	in = server_resp(t, SMBSESS__SPNEGO_NO_STATE, true, chal, chal_len, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_PROTOCOL);
	c = new_client(t, "User");
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, true, NULL, 0, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_PROTOCOL);
	c = new_client(t, "User");
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, true, chal, chal_len - 1, NULL, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_PROTOCOL);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	talloc_free(t);
}
END_TEST

/* Anonymous: no key, no MICs either way; a server MIC cannot be checked and is ignored. */
START_TEST(client_anonymous)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = new_client(t, "");
	struct smbsess__spnego_resp *r;
	uint8_t *out, *chal, *in, key[16], mic[16];
	size_t out_len, chal_len, in_len;

	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	chal = challenge(t, true, &chal_len);
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, true, chal, chal_len, NULL, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	ck_assert_ptr_null(r->mech_list_mic);
	authtest_lib_err(smbsess__spnego_client_session_key(c, key), SMBSESS_E_NOT_SUPPORTED);
	memset(mic, 1, sizeof(mic));
	in = server_resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, mic, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert(smbsess__spnego_client_done(c));
	talloc_free(t);
}
END_TEST

static Suite *spnego_suite(void)
{
	Suite *s = suite_create("auth-spnego");
	TCase *enc = testutil_tcase("encoding");
	TCase *hostile = testutil_tcase("hostile");
	TCase *client = testutil_tcase("client");

	tcase_add_test(enc, build_init_ntlmssp);
	tcase_add_test(enc, build_init_long);
	tcase_add_test(enc, parse_server_hint);
	tcase_add_test(enc, parse_init_all_fields);
	tcase_add_test(enc, resp_roundtrip);
	suite_add_tcase(s, enc);
	tcase_add_test(hostile, hostile_resp);
	tcase_add_test(hostile, hostile_init);
	suite_add_tcase(s, hostile);
	tcase_add_test(client, client_full_exchange);
	tcase_add_test(client, client_final_variants);
	tcase_add_test(client, client_refusals);
	tcase_add_test(client, client_anonymous);
	suite_add_tcase(s, client);
	return s;
}

TESTUTIL_MAIN(spnego_suite)
