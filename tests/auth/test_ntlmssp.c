/*
 * NTLMSSP client: known answers from [MS-NLMP] section 4.2 and everything a
 * server can send wrong in a CHALLENGE_MESSAGE.
 *
 * The values of [MS-NLMP] 4.2.1 (Common Values): user "User", domain
 * "Domain", password "Password", server name "Server", workstation
 * "COMPUTER", server challenge 01 23 45 67 89 ab cd ef, client challenge
 * aa aa aa aa aa aa aa aa, random session key 55 x 16, time 0.
 */
#include <nettle/arcfour.h>
#include <nettle/hmac.h>

#include "auth/ntlmssp.h"
#include "authtest.h"

static const uint8_t server_challenge[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
static const uint8_t client_challenge[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
static const uint8_t random_session_key[16] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
						0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

/* [MS-NLMP] 4.2.4.3: the CHALLENGE_MESSAGE of the NTLMv2 example (flags e28a8233). */
static const char spec_challenge[] =
	"4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00"
	"38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef"
	"00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00"
	"06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00"
	"65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00"
	"69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00"
	"65 00 72 00 00 00 00 00";

/* [MS-NLMP] 4.2.4.3: the AUTHENTICATE_MESSAGE of the NTLMv2 example (no MIC: no MsvAvTimestamp). */
static const char spec_authenticate[] =
	"4e 54 4c 4d 53 53 50 00 03 00 00 00 18 00 18 00"
	"6c 00 00 00 54 00 54 00 84 00 00 00 0c 00 0c 00"
	"48 00 00 00 08 00 08 00 54 00 00 00 10 00 10 00"
	"5c 00 00 00 10 00 10 00 d8 00 00 00 35 82 88 e2"
	"05 01 28 0a 00 00 00 0f 44 00 6f 00 6d 00 61 00"
	"69 00 6e 00 55 00 73 00 65 00 72 00 43 00 4f 00"
	"4d 00 50 00 55 00 54 00 45 00 52 00 86 c3 50 97"
	"ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa"
	"aa aa aa aa 68 cd 0a b8 51 e5 1c 96 aa bc 92 7b"
	"eb ef 6a 1c 01 01 00 00 00 00 00 00 00 00 00 00"
	"00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00"
	"02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00"
	"01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00"
	"00 00 00 00 00 00 00 00 c5 da d2 54 4f c9 79 90"
	"94 ce 1c e9 0b c9 d0 3e";

/* [MS-NLMP] 4.2.4.1.3: temp, for the AV pairs NbDomainName "Domain", NbComputerName "Server". */
static const char spec_temp[] =
	"01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	"aa aa aa aa aa aa aa aa 00 00 00 00"
	"02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00"
	"01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00"
	"00 00 00 00 00 00 00 00";

/* ---- helpers ---- */

static size_t av_put(uint8_t *buf, size_t pos, uint16_t id, const void *v, uint16_t len)
{
	smbsess__put_le16(buf + pos, id);
	smbsess__put_le16(buf + pos + 2, len);
	if (len)
		memcpy(buf + pos + 4, v, len);
	return pos + 4 + len;
}

/* "x" as UTF-16LE, ASCII only. */
static uint16_t u16(uint8_t *out, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)s[i];
		out[2 * i + 1] = 0;
	}
	return (uint16_t)(2 * n);
}

/* Target info as a Windows server sends it, with MsvAvTimestamp. */
static size_t windows_target_info(uint8_t *buf, uint64_t ts, bool with_flags, uint32_t av_flags)
{
	uint8_t s[64], tsb[8], fl[4];
	size_t pos = 0;
	uint16_t n;

	n = u16(s, "DOMAIN");
	pos = av_put(buf, pos, SMBSESS__MSV_AV_NB_DOMAIN_NAME, s, n);
	n = u16(s, "SERVER");
	pos = av_put(buf, pos, SMBSESS__MSV_AV_NB_COMPUTER_NAME, s, n);
	n = u16(s, "domain.test");
	pos = av_put(buf, pos, SMBSESS__MSV_AV_DNS_DOMAIN_NAME, s, n);
	n = u16(s, "server.domain.test");
	pos = av_put(buf, pos, SMBSESS__MSV_AV_DNS_COMPUTER_NAME, s, n);
	if (with_flags) {
		smbsess__put_le32(fl, av_flags);
		pos = av_put(buf, pos, SMBSESS__MSV_AV_FLAGS, fl, 4);
	}
	smbsess__put_le64(tsb, ts);
	pos = av_put(buf, pos, SMBSESS__MSV_AV_TIMESTAMP, tsb, 8);
	return av_put(buf, pos, SMBSESS__MSV_AV_EOL, NULL, 0);
}

/* A CHALLENGE_MESSAGE with a Version, TargetName "Server" and the given target info. */
static uint8_t *make_challenge(TALLOC_CTX *t, uint32_t flags, const uint8_t *ti, size_t ti_len,
			       size_t *len)
{
	size_t total = 56 + 12 + ti_len;
	uint8_t *m = talloc_zero_array(t, uint8_t, total);

	ck_assert_ptr_nonnull(m);
	memcpy(m, "NTLMSSP", 8);
	smbsess__put_le32(m + 8, 2);
	smbsess__put_le16(m + 12, 12);
	smbsess__put_le16(m + 14, 12);
	smbsess__put_le32(m + 16, 56);
	smbsess__put_le32(m + 20, flags);
	memcpy(m + 24, server_challenge, 8);
	smbsess__put_le16(m + 40, (uint16_t)ti_len);
	smbsess__put_le16(m + 42, (uint16_t)ti_len);
	smbsess__put_le32(m + 44, 68);
	memcpy(m + 48, "\x0a\x00\x63\x45\x00\x00\x00\x0f", 8);
	u16(m + 56, "Server");
	if (ti_len)
		memcpy(m + 68, ti, ti_len);
	*len = total;
	return m;
}

#define WINDOWS_CHALLENGE_FLAGS 0xe28a8215u /* what Windows Server answers to our defaults */

static struct smbsess__ntlmssp *new_client(TALLOC_CTX *t, const char *user, const char *domain,
					   const char *password)
{
	struct smbsess__creds *creds;
	struct smbsess__ntlmssp *n;

	authtest_ok(smbsess__creds_new(t, domain, user, password, &creds));
	authtest_ok(smbsess__ntlmssp_client_new(t, creds, &n));
	/* The client copied what it needs. */
	talloc_free(creds);
	smbsess__ntlmssp_set_test_values(n, client_challenge, random_session_key, NULL);
	return n;
}

/* Field @p at of an AUTHENTICATE_MESSAGE. */
static const uint8_t *auth_field(const uint8_t *m, size_t len, size_t at, size_t *flen)
{
	size_t l = smbsess__le16(m + at), off = smbsess__le32(m + at + 4);

	ck_assert_uint_eq(smbsess__le16(m + at + 2), l);
	ck_assert_uint_le(off, len);
	ck_assert_uint_le(l, len - off);
	*flen = l;
	return m + off;
}

/* ---- [MS-NLMP] 4.2 known answers ---- */

START_TEST(kat_ntowf)
{
	uint8_t h[16];

	/* 4.2.2.1.2 NTOWFv1() */
	authtest_ok(smbsess__ntlm_nt_hash("Password", h));
	ck_assert_mem_eq(h, "\xa4\xf4\x9c\x40\x65\x10\xbd\xca\xb6\x82\x4e\xe7\xc3\x0f\xd8\x52", 16);
	/* 4.2.4.1.1 NTOWFv2() and LMOWFv2() */
	authtest_ok(smbsess__ntlm_ntowfv2("Password", "User", "Domain", h));
	ck_assert_mem_eq(h, "\x0c\x86\x8a\x40\x3b\xfd\x7a\x93\xa3\x00\x1e\xf2\x2e\xf0\x2e\x3f", 16);
	/* The user name is upper-cased (3.3.2), the domain is not. */
	authtest_ok(smbsess__ntlm_ntowfv2("Password", "uSeR", "Domain", h));
	ck_assert_mem_eq(h, "\x0c\x86\x8a\x40\x3b\xfd\x7a\x93\xa3\x00\x1e\xf2\x2e\xf0\x2e\x3f", 16);
	authtest_ok(smbsess__ntlm_ntowfv2("Password", "User", "DOMAIN", h));
	ck_assert(memcmp(h, "\x0c\x86\x8a\x40\x3b\xfd\x7a\x93\xa3\x00\x1e\xf2\x2e\xf0\x2e\x3f", 16) != 0);
	/* MD4 of the empty string (RFC 1320 A.5): the hash of an empty password. */
	authtest_ok(smbsess__ntlm_nt_hash("", h));
	ck_assert_mem_eq(h, "\x31\xd6\xcf\xe0\xd1\x6a\xe9\x31\xb7\x3c\x59\xd7\xe0\xc0\x89\xc0", 16);
	/* Invalid UTF-8 from the caller. */
	authtest_lib_err(smbsess__ntlm_nt_hash("\xff", h), SMBSESS_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(kat_upcase_non_ascii)
{
	uint8_t a[16], b[16];

	/* Windows upper-cases beyond ASCII: ü/Ü, ł/Ł, и/И. */
	authtest_ok(smbsess__ntlm_ntowfv2("pw", "j\xc3\xbcrgen", "D", a));
	authtest_ok(smbsess__ntlm_ntowfv2("pw", "J\xc3\x9cRGEN", "D", b));
	ck_assert_mem_eq(a, b, 16);
	authtest_ok(smbsess__ntlm_ntowfv2("pw", "o\xc5\x82ga \xd0\xb8", "D", a));
	authtest_ok(smbsess__ntlm_ntowfv2("pw", "O\xc5\x81GA \xd0\x98", "D", b));
	ck_assert_mem_eq(a, b, 16);
}
END_TEST

START_TEST(kat_ntlmv2_response)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t key[16], base[16], lm[24], av[64];
	uint8_t *nt, *temp;
	size_t nt_len, temp_len, av_len = 0;
	uint8_t s[16];
	uint16_t n;

	authtest_ok(smbsess__ntlm_ntowfv2("Password", "User", "Domain", key));
	n = u16(s, "Domain");
	av_len = av_put(av, av_len, SMBSESS__MSV_AV_NB_DOMAIN_NAME, s, n);
	n = u16(s, "Server");
	av_len = av_put(av, av_len, SMBSESS__MSV_AV_NB_COMPUTER_NAME, s, n);
	av_len = av_put(av, av_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	authtest_ok(smbsess__ntlmv2_response(t, key, server_challenge, client_challenge, 0, av, av_len,
					     &nt, &nt_len, base));
	temp = authtest_hex(t, spec_temp, &temp_len);
	/* 4.2.4.1.3 temp */
	authtest_mem_eq(nt + 16, nt_len - 16, temp, temp_len);
	/* 4.2.4.2.2 NTLMv2 Response: NTProofStr */
	ck_assert_mem_eq(nt, "\x68\xcd\x0a\xb8\x51\xe5\x1c\x96\xaa\xbc\x92\x7b\xeb\xef\x6a\x1c", 16);
	/* 4.2.4.1.2 Session Base Key (= KeyExchangeKey for NTLMv2) */
	ck_assert_mem_eq(base, "\x8d\xe4\x0c\xca\xdb\xc1\x4a\x82\xf1\x5c\xb0\xad\x0d\xe9\x5c\xa3", 16);
	/* 4.2.4.2.1 LMv2 Response */
	smbsess__ntlm_lmv2_response(key, server_challenge, client_challenge, lm);
	ck_assert_mem_eq(lm, "\x86\xc3\x50\x97\xac\x9c\xec\x10\x25\x54\x76\x4a\x57\xcc\xcc\x19"
			     "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 24);
	talloc_free(t);
}
END_TEST

/* 4.2.4.4 GSS_WrapEx: the keys, the sealed text and the signature of "Plaintext". */
START_TEST(kat_sign_seal)
{
	static const uint8_t plaintext[18] = { 'P', 0, 'l', 0, 'a', 0, 'i', 0, 'n', 0,
					       't', 0, 'e', 0, 'x', 0, 't', 0 };
	const uint32_t flags = 0xe28a8233u;
	uint8_t seal[16], sign[16], sealed[18], sig[16];
	struct arcfour_ctx rc4;

	smbsess__ntlm_seal_key(random_session_key, flags, true, seal);
	ck_assert_mem_eq(seal, "\x59\xf6\x00\x97\x3c\xc4\x96\x0a\x25\x48\x0a\x7c\x19\x6e\x4c\x58", 16);
	smbsess__ntlm_sign_key(random_session_key, true, sign);
	ck_assert_mem_eq(sign, "\x47\x88\xdc\x86\x1b\x47\x82\xf3\x5d\x43\xfd\x98\xfe\x1a\x2d\x39", 16);
	/* SEAL: the message is encrypted first, then the checksum continues the same RC4 stream. */
	arcfour_set_key(&rc4, 16, seal);
	arcfour_crypt(&rc4, sizeof(plaintext), sealed, plaintext);
	ck_assert_mem_eq(sealed, "\x54\xe5\x01\x65\xbf\x19\x36\xdc\x99\x60\x20\xc1\x81\x1b\x0f\x06\xfb\x5f", 18);
	smbsess__ntlm_mac(sign, &rc4, 0, plaintext, sizeof(plaintext), sig);
	ck_assert_mem_eq(sig, "\x01\x00\x00\x00\x7f\xb3\x8e\xc5\xc5\x5d\x49\x76\x00\x00\x00\x00", 16);
	/* Without key exchange the checksum is the HMAC itself: 70 35 28 51 f2 56 43 09 (4.2.4.4). */
	smbsess__ntlm_mac(sign, NULL, 0, plaintext, sizeof(plaintext), sig);
	ck_assert_mem_eq(sig, "\x01\x00\x00\x00\x70\x35\x28\x51\xf2\x56\x43\x09\x00\x00\x00\x00", 16);
	/* The 56- and 40-bit sealing keys take 7 and 5 bytes of the session key. */
	smbsess__ntlm_seal_key(random_session_key, SMBSESS__NTLMSSP_NEGOTIATE_56, true, sign);
	ck_assert(memcmp(sign, seal, 16) != 0);
}
END_TEST

START_TEST(kat_challenge_parse)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *m = authtest_hex(t, spec_challenge, &len);
	struct smbsess__ntlm_challenge *c;

	authtest_ok(smbsess__ntlm_challenge_parse(t, m, len, &c));
	ck_assert_uint_eq(c->flags, 0xe28a8233u);
	ck_assert_mem_eq(c->server_challenge, server_challenge, 8);
	ck_assert_str_eq(c->target_name, "Server");
	ck_assert_uint_eq(c->num_av_pairs, 2);
	ck_assert_uint_eq(c->target_info_len, 0x24);
	ck_assert_mem_eq(c->target_info, m + 0x44, 0x24);
	ck_assert(c->has_nb_computer && c->has_nb_domain);
	ck_assert(!c->has_timestamp && !c->has_av_flags);
	ck_assert(c->has_version);
	ck_assert_mem_eq(c->version, "\x06\x00\x70\x17\x00\x00\x00\x0f", 8);
	talloc_free(t);
}
END_TEST

/* 4.2.4.3: the whole AUTHENTICATE_MESSAGE, byte for byte. */
START_TEST(kat_authenticate_message)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "User", "Domain", "Password");
	size_t chal_len, want_len, neg_len, auth_len;
	uint8_t *chal = authtest_hex(t, spec_challenge, &chal_len);
	uint8_t *want = authtest_hex(t, spec_authenticate, &want_len);
	uint8_t *neg, *auth, key[16];
	uint64_t zero = 0;

	/* The example's client: its flags, VERSION 5.1.2600, workstation COMPUTER, time 0. */
	smbsess__ntlmssp_set_flags(n, 0xe2888235u);
	smbsess__ntlmssp_set_version(n, 5, 1, 2600);
	smbsess__ntlmssp_set_mic_field(n, false);
	authtest_ok(smbsess__ntlmssp_set_workstation(n, "COMPUTER"));
	smbsess__ntlmssp_set_test_values(n, NULL, NULL, &zero);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	ck_assert_uint_eq(neg_len, 40);
	ck_assert_uint_eq(smbsess__le32(neg + 12), 0xe2888235u);
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	authtest_mem_eq(auth, auth_len, want, want_len);
	ck_assert(!smbsess__ntlmssp_sent_mic(n));
	ck_assert_uint_eq(smbsess__ntlmssp_flags(n), 0xe2888235u);
	/* With key exchange the exported session key is the random one (4.2.4.2.3). */
	authtest_ok(smbsess__ntlmssp_session_key(n, key));
	ck_assert_mem_eq(key, random_session_key, 16);
	ck_assert(smbsess__ntlmssp_can_sign(n));
	talloc_free(t);
}
END_TEST

/* The NEGOTIATE_MESSAGE with the default flags ([MS-NLMP] 2.2.1.1). */
START_TEST(negotiate_defaults)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "u", "d", "p");
	uint8_t *neg, *auth;
	size_t neg_len, auth_len;

	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	ck_assert_uint_eq(neg_len, 40);
	ck_assert_mem_eq(neg, "NTLMSSP\0\x01\0\0\0", 12);
	/* UNICODE REQUEST_TARGET SIGN NTLM ALWAYS_SIGN ESS TARGET_INFO VERSION 128 KEY_EXCH 56 */
	ck_assert_uint_eq(smbsess__le32(neg + 12), 0xe2888215u);
	/* Empty domain and workstation, offsets at the payload; VERSION 6.1.0 revision 15. */
	ck_assert_mem_eq(neg + 16, "\0\0\0\0\x28\0\0\0\0\0\0\0\x28\0\0\0", 16);
	ck_assert_mem_eq(neg + 32, "\x06\x01\0\0\0\0\0\x0f", 8);
	/* Once only; and no AUTHENTICATE before it. */
	authtest_lib_err(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len), SMBSESS_E_INVALID_ARGUMENT);
	n = new_client(t, "u", "d", "p");
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, neg, neg_len, t, &auth, &auth_len),
			 SMBSESS_E_INVALID_ARGUMENT);
	/* LM_KEY, OEM and DATAGRAM are never asked for; UNICODE, NTLM and ESS always are. */
	n = new_client(t, "u", "d", "p");
	smbsess__ntlmssp_set_flags(n, SMBSESS__NTLMSSP_NEGOTIATE_LM_KEY | SMBSESS__NTLMSSP_NEGOTIATE_OEM |
					      SMBSESS__NTLMSSP_NEGOTIATE_DATAGRAM);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	ck_assert_uint_eq(smbsess__le32(neg + 12), 0x02080201u);
	talloc_free(t);
}
END_TEST

/* With MsvAvTimestamp: LM is Z(24), MsvAvFlags gets the MIC bit, the MIC covers all three messages. */
START_TEST(mic_with_timestamp)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "User", "Domain", "Password");
	const uint64_t ts = 0x01d9c5a1b2c3d4e5ull;
	uint8_t ti[256], want_ti[256], *chal, *neg, *auth, *copy, mic[16], key[16], base[16];
	uint8_t rk[16], enc[16], *nt;
	size_t ti_len, want_len, chal_len, neg_len, auth_len, l, nt_len;
	const uint8_t *f;
	struct hmac_md5_ctx h;
	struct arcfour_ctx rc4;

	ti_len = windows_target_info(ti, ts, false, 0);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	ck_assert(smbsess__ntlmssp_sent_mic(n));
	ck_assert(smbsess__ntlmssp_can_sign(n));
	ck_assert_uint_eq(smbsess__ntlmssp_flags(n), 0xe2888215u);
	ck_assert_uint_eq(smbsess__le32(auth + 60), 0xe2888215u);
	ck_assert_mem_eq(auth + 64, "\x06\x01\0\0\0\0\0\x0f", 8);

	/* Payload starts after the MIC: 64 + Version 8 + MIC 16. */
	f = auth_field(auth, auth_len, 28, &l);
	ck_assert_uint_eq(f - auth, 88);
	ck_assert_uint_eq(l, 12);
	ck_assert_mem_eq(f, "D\0o\0m\0a\0i\0n\0", 12);
	f = auth_field(auth, auth_len, 36, &l);
	ck_assert_mem_eq(f, "U\0s\0e\0r\0", 8);
	f = auth_field(auth, auth_len, 44, &l);
	ck_assert_uint_eq(l, 0);
	f = auth_field(auth, auth_len, 12, &l);
	ck_assert_uint_eq(l, 24);
	ck_assert_mem_eq(f, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);

	/* temp: the server's time, our challenge, the pairs with MsvAvFlags = MIC before MsvAvEOL. */
	f = auth_field(auth, auth_len, 20, &l);
	ck_assert_uint_eq(f[16], 1);
	ck_assert_uint_eq(f[17], 1);
	ck_assert_uint_eq(smbsess__le64(f + 16 + 8), ts);
	ck_assert_mem_eq(f + 16 + 16, client_challenge, 8);
	want_len = ti_len - 4;
	memcpy(want_ti, ti, want_len);
	want_len = av_put(want_ti, want_len, SMBSESS__MSV_AV_FLAGS, "\x02\0\0\0", 4);
	want_len = av_put(want_ti, want_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	ck_assert_uint_eq(l, 16 + 28 + want_len + 4);
	ck_assert_mem_eq(f + 16 + 28, want_ti, want_len);
	ck_assert_mem_eq(f + l - 4, "\0\0\0\0", 4);

	/* NTProofStr and the session base key over the same inputs, then the encrypted key. */
	authtest_ok(smbsess__ntlm_ntowfv2("Password", "User", "Domain", rk));
	authtest_ok(smbsess__ntlmv2_response(t, rk, server_challenge, client_challenge, ts, want_ti,
					     want_len, &nt, &nt_len, base));
	authtest_mem_eq(f, l, nt, nt_len);
	arcfour_set_key(&rc4, 16, base);
	arcfour_crypt(&rc4, 16, enc, random_session_key);
	f = auth_field(auth, auth_len, 52, &l);
	authtest_mem_eq(f, l, enc, 16);

	/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with MIC zero). */
	copy = talloc_memdup(t, auth, auth_len);
	memset(copy + 72, 0, 16);
	hmac_md5_set_key(&h, 16, random_session_key);
	hmac_md5_update(&h, neg_len, neg);
	hmac_md5_update(&h, chal_len, chal);
	hmac_md5_update(&h, auth_len, copy);
	hmac_md5_digest(&h, 16, mic);
	ck_assert_mem_eq(auth + 72, mic, 16);
	authtest_ok(smbsess__ntlmssp_session_key(n, key));
	ck_assert_mem_eq(key, random_session_key, 16);
	talloc_free(t);
}
END_TEST

/* A server's own MsvAvFlags keeps its bits and gains the MIC bit; no second pair. */
START_TEST(mic_existing_av_flags)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "User", "Domain", "Password");
	uint8_t ti[256], *chal, *neg, *auth;
	size_t ti_len, chal_len, neg_len, auth_len, l;
	const uint8_t *f, *av;
	int seen = 0;

	ti_len = windows_target_info(ti, 1, true, 0x1);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	f = auth_field(auth, auth_len, 20, &l);
	ck_assert_uint_eq(l, 16 + 28 + ti_len + 4);
	for (av = f + 44; smbsess__le16(av) != SMBSESS__MSV_AV_EOL; av += 4 + smbsess__le16(av + 2)) {
		if (smbsess__le16(av) == SMBSESS__MSV_AV_FLAGS) {
			seen++;
			ck_assert_uint_eq(smbsess__le32(av + 4), 0x3);
		}
	}
	ck_assert_int_eq(seen, 1);
	talloc_free(t);
}
END_TEST

START_TEST(anonymous)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "", "IGNORED", "ignored");
	uint8_t ti[256], *chal, *neg, *auth, key[16], sig[16];
	size_t ti_len, chal_len, neg_len, auth_len, l;
	const uint8_t *f;

	struct smbsess__ntlmssp *null_creds;

	ck_assert(smbsess__ntlmssp_is_anonymous(n));
	/* No credentials at all is the same logon. */
	authtest_ok(smbsess__ntlmssp_client_new(t, NULL, &null_creds));
	ck_assert(smbsess__ntlmssp_is_anonymous(null_creds));
	ti_len = windows_target_info(ti, 1, false, 0);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	/* [MS-NLMP] 3.3.2: NtChallengeResponse empty, LmChallengeResponse Z(1); no MIC, no key. */
	ck_assert(smbsess__le32(auth + 60) & SMBSESS__NTLMSSP_ANONYMOUS);
	ck_assert(!(smbsess__le32(auth + 60) & SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH));
	f = auth_field(auth, auth_len, 12, &l);
	ck_assert_uint_eq(l, 1);
	ck_assert_uint_eq(f[0], 0);
	auth_field(auth, auth_len, 20, &l);
	ck_assert_uint_eq(l, 0);
	auth_field(auth, auth_len, 28, &l);
	ck_assert_uint_eq(l, 0);
	auth_field(auth, auth_len, 36, &l);
	ck_assert_uint_eq(l, 0);
	auth_field(auth, auth_len, 52, &l);
	ck_assert_uint_eq(l, 0);
	/* Header and Version, then the one LM byte. */
	/* Header with Version and the zeroed MIC field, then Z(1). */
	ck_assert_uint_eq(auth_len, 89);
	ck_assert(!smbsess__ntlmssp_sent_mic(n));
	ck_assert(!smbsess__ntlmssp_can_sign(n));
	authtest_lib_err(smbsess__ntlmssp_session_key(n, key), SMBSESS_E_NOT_SUPPORTED);
	authtest_lib_err(smbsess__ntlmssp_sign(n, (const uint8_t *)"x", 1, sig), SMBSESS_E_AUTH);
	talloc_free(t);
}
END_TEST

/* Sequence numbers advance; the server direction verifies with its own keys. */
START_TEST(sign_and_check)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "User", "Domain", "Password");
	uint8_t ti[256], *chal, *neg, *auth, sig0[16], sig1[16], ssig[16], k[16], sk[16];
	size_t ti_len, chal_len, neg_len, auth_len;
	struct arcfour_ctx server_rc4;

	authtest_lib_err(smbsess__ntlmssp_sign(n, (const uint8_t *)"x", 1, sig0), SMBSESS_E_AUTH);
	ti_len = windows_target_info(ti, 1, false, 0);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	authtest_ok(smbsess__ntlmssp_sign(n, (const uint8_t *)"abc", 3, sig0));
	authtest_ok(smbsess__ntlmssp_sign(n, (const uint8_t *)"abc", 3, sig1));
	ck_assert_uint_eq(smbsess__le32(sig0 + 12), 0);
	ck_assert_uint_eq(smbsess__le32(sig1 + 12), 1);
	ck_assert(memcmp(sig0 + 4, sig1 + 4, 8) != 0);

	/* What the server would send: its signing key and its own RC4 stream. */
	smbsess__ntlm_sign_key(random_session_key, false, sk);
	smbsess__ntlm_seal_key(random_session_key, smbsess__ntlmssp_flags(n), false, k);
	arcfour_set_key(&server_rc4, 16, k);
	smbsess__ntlm_mac(sk, &server_rc4, 0, (const uint8_t *)"reply", 5, ssig);
	authtest_ok(smbsess__ntlmssp_check(n, (const uint8_t *)"reply", 5, ssig));
	smbsess__ntlm_mac(sk, &server_rc4, 1, (const uint8_t *)"reply", 5, ssig);
	ssig[5] ^= 1;
	authtest_lib_err(smbsess__ntlmssp_check(n, (const uint8_t *)"reply", 5, ssig),
			 SMBSESS_E_BAD_SIGNATURE);
	talloc_free(t);
}
END_TEST

START_TEST(server_capabilities)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n;
	uint8_t ti[256], *chal, *neg, *auth = (uint8_t *)"untouched";
	size_t ti_len, chal_len, neg_len, auth_len = 9;
	uint8_t s[16];
	uint16_t l;

	ti_len = windows_target_info(ti, 1, false, 0);
	/* No Unicode: OEM strings are not supported. */
	n = new_client(t, "User", "Domain", "Password");
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS & ~SMBSESS__NTLMSSP_NEGOTIATE_UNICODE, ti, ti_len,
			      &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len),
			 SMBSESS_E_NOT_SUPPORTED);
	authtest_lib_err(smbsess__ntlmssp_session_key(n, s), SMBSESS_E_AUTH);
	/* No extended session security. */
	n = new_client(t, "User", "Domain", "Password");
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS & ~SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY,
			      ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len),
			 SMBSESS_E_NOT_SUPPORTED);
	/* Signing without MsvAvNbComputerName is a logon failure ([MS-NLMP] 3.1.5.1.2). */
	n = new_client(t, "User", "Domain", "Password");
	l = u16(s, "DOMAIN");
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_NB_DOMAIN_NAME, s, l);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len),
			 SMBSESS_E_AUTH);
	/* A server that declines KEY_EXCH: the session base key is the exported key, nothing encrypted. */
	n = new_client(t, "User", "Domain", "Password");
	ti_len = windows_target_info(ti, 1, false, 0);
	chal = make_challenge(t, WINDOWS_CHALLENGE_FLAGS & ~SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH, ti, ti_len,
			      &chal_len);
	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_ok(smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len));
	ck_assert(!(smbsess__ntlmssp_flags(n) & SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH));
	ck_assert_uint_eq(smbsess__le16(auth + 52), 0);
	authtest_ok(smbsess__ntlmssp_session_key(n, s));
	ck_assert(memcmp(s, random_session_key, 16) != 0);
	talloc_free(t);
}
END_TEST

/* ---- a hostile CHALLENGE_MESSAGE ---- */

/* Each malformed challenge must fail with @p code, leave *out alone and allocate nothing. */
static void expect_bad(const uint8_t *m, size_t len, uint32_t code)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlm_challenge *c = (struct smbsess__ntlm_challenge *)t;

	authtest_lib_err(smbsess__ntlm_challenge_parse(t, m, len, &c), code);
	ck_assert_ptr_eq(c, t);
	ck_assert_uint_eq(talloc_total_blocks(t), 1);
	talloc_free(t);
}

START_TEST(challenge_bounds)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t ti[256], *m;
	size_t ti_len, len;

	ti_len = windows_target_info(ti, 1, false, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	/* Short, bad signature, wrong type. */
	expect_bad(m, 31, SMBSESS_E_PROTOCOL);
	expect_bad(NULL, 0, SMBSESS_E_PROTOCOL);
	m[0] = 'X';
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	m[0] = 'N';
	m[8] = 3;
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	m[8] = 2;
	/* TargetInfo offset past the end, length past the end, offset + length wrapping. */
	smbsess__put_le32(m + 44, (uint32_t)len + 1);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	smbsess__put_le32(m + 44, 68);
	smbsess__put_le16(m + 40, (uint16_t)(ti_len + 1));
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	smbsess__put_le16(m + 40, (uint16_t)ti_len);
	smbsess__put_le32(m + 44, 0xfffffff0u);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	smbsess__put_le32(m + 44, 68);
	/* The message cut off inside the target info. */
	expect_bad(m, len - 1, SMBSESS_E_PROTOCOL);
	/* TargetName past the end. */
	smbsess__put_le16(m + 12, 0xffff);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	smbsess__put_le16(m + 12, 12);
	/* TARGET_INFO set in a message too short to have TargetInfoFields. */
	expect_bad(m, 40, SMBSESS_E_PROTOCOL);
	talloc_free(t);
}
END_TEST

START_TEST(challenge_av_pairs)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t ti[1024], *m;
	size_t ti_len, len;
	struct smbsess__ntlm_challenge *c;

	/* An AV pair whose length runs past the target info. */
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_NB_DOMAIN_NAME, "D\0", 2);
	smbsess__put_le16(ti + 2, 200);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	/* No MsvAvEOL: the list just ends, or ends in half a header. */
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_NB_DOMAIN_NAME, "D\0", 2);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	ti[ti_len] = 0;
	ti[ti_len + 1] = 0;
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len + 2, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	/* MsvAvEOL with a value. */
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_EOL, "xx", 2);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	/* MsvAvTimestamp and MsvAvFlags of the wrong size, or twice. */
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_TIMESTAMP, "1234", 4);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_FLAGS, "12", 2);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_TIMESTAMP, "12345678", 8);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_TIMESTAMP, "12345678", 8);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	expect_bad(m, len, SMBSESS_E_PROTOCOL);
	/* The count is capped: 64 pairs pass, 65 do not. */
	ti_len = 0;
	for (int i = 0; i < SMBSESS__NTLM_MAX_AV_PAIRS; i++)
		ti_len = av_put(ti, ti_len, 0x0100, NULL, 0);
	smbsess__put_le32(ti + ti_len, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len + 4, &len);
	authtest_ok(smbsess__ntlm_challenge_parse(t, m, len, &c));
	ck_assert_uint_eq(c->num_av_pairs, SMBSESS__NTLM_MAX_AV_PAIRS);
	ti_len = av_put(ti, ti_len, 0x0100, NULL, 0);
	smbsess__put_le32(ti + ti_len, 0);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len + 4, &len);
	expect_bad(m, len, SMBSESS_E_LIMIT);
	/* Bytes after MsvAvEOL are ignored and not echoed. */
	ti_len = av_put(ti, 0, SMBSESS__MSV_AV_NB_DOMAIN_NAME, "D\0", 2);
	ti_len = av_put(ti, ti_len, SMBSESS__MSV_AV_EOL, NULL, 0);
	memcpy(ti + ti_len, "junk", 4);
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len + 4, &len);
	authtest_ok(smbsess__ntlm_challenge_parse(t, m, len, &c));
	ck_assert_uint_eq(c->target_info_len, ti_len);
	/* A TargetName that is not valid UTF-16 is dropped, not fatal. */
	m = make_challenge(t, WINDOWS_CHALLENGE_FLAGS, ti, ti_len, &len);
	smbsess__put_le16(m + 56, 0xd800);
	authtest_ok(smbsess__ntlm_challenge_parse(t, m, len, &c));
	ck_assert_ptr_null(c->target_name);
	talloc_free(t);
}
END_TEST

/* A failed AUTHENTICATE leaves the client unusable and without keys. */
START_TEST(failed_client_stays_failed)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ntlmssp *n = new_client(t, "User", "Domain", "Password");
	uint8_t *neg, *auth = NULL, key[16];
	size_t neg_len, auth_len = 0;

	authtest_ok(smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len));
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, neg, neg_len, t, &auth, &auth_len),
			 SMBSESS_E_PROTOCOL);
	ck_assert_ptr_null(auth);
	authtest_lib_err(smbsess__ntlmssp_session_key(n, key), SMBSESS_E_AUTH);
	authtest_lib_err(smbsess__ntlmssp_authenticate(n, neg, neg_len, t, &auth, &auth_len),
			 SMBSESS_E_INVALID_ARGUMENT);
	talloc_free(t);
}
END_TEST

static Suite *ntlmssp_suite(void)
{
	Suite *s = suite_create("auth-ntlmssp");
	TCase *kat = testutil_tcase("ms-nlmp-4.2");
	TCase *client = testutil_tcase("client");
	TCase *hostile = testutil_tcase("hostile-challenge");

	tcase_add_test(kat, kat_ntowf);
	tcase_add_test(kat, kat_upcase_non_ascii);
	tcase_add_test(kat, kat_ntlmv2_response);
	tcase_add_test(kat, kat_sign_seal);
	tcase_add_test(kat, kat_challenge_parse);
	tcase_add_test(kat, kat_authenticate_message);
	suite_add_tcase(s, kat);
	tcase_add_test(client, negotiate_defaults);
	tcase_add_test(client, mic_with_timestamp);
	tcase_add_test(client, mic_existing_av_flags);
	tcase_add_test(client, anonymous);
	tcase_add_test(client, sign_and_check);
	tcase_add_test(client, server_capabilities);
	tcase_add_test(client, failed_client_stays_failed);
	suite_add_tcase(s, client);
	tcase_add_test(hostile, challenge_bounds);
	tcase_add_test(hostile, challenge_av_pairs);
	suite_add_tcase(s, hostile);
	return s;
}

TESTUTIL_MAIN(ntlmssp_suite)
