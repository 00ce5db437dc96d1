/*
 * SPNEGO with Kerberos and NTLMSSP: which mechanisms are offered in which
 * order, the NTLM fallback and the NTLM-forbidden policy, the server choosing
 * the other mechanism, mutual authentication, the session key, and the
 * asynchronous step on a worker thread (also abandoned while it runs).
 *
 * The GSS-API step is replaced by a fake runner (smbsess__spnego_client_set_runner)
 * so that these tests need no KDC; tests/krb/krb.py runs the real thing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <tevent.h>

#include "auth/spnego.h"
#include "auth/gssapi.h"
#include "../auth/authtest.h"

/* ---- the fake GSS-API step ---- */

static const uint8_t ap_req[] = "AP-REQ-fake";
static const uint8_t ap_rep[] = "AP-REP-fake";
static const uint8_t our_mic[] = "OUR-MIC";
static const uint8_t server_mic[] = "SERVER-MIC";
static const uint8_t krb_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static struct {
	int calls;
	struct smbsess_status fail; /* returned by the first step when not OK */
	bool last_start, last_make_mic, saw_peer_mic, saw_mech_types;
	size_t last_in_len;
} fake;

static void fake_reset(void)
{
	memset(&fake, 0, sizeof fake);
	fake.fail = SMBSESS__OK;
}

static uint8_t *fake_dup(const void *p, size_t n)
{
	return smbsess__gss_memdup(p, n);
}

/* A Kerberos exchange in two legs: AP-REQ out, AP-REP in, then mechListMICs. */
static void fake_run(void *arg)
{
	struct smbsess__gss_call *c = arg;

	fake.calls++;
	fake.last_start = c->start;
	fake.last_make_mic = c->make_mic;
	fake.last_in_len = c->in_len;
	fake.saw_mech_types = c->mech_types != NULL && c->mech_types_len > 0;
	c->st = SMBSESS__OK;
	if (c->start) {
		if (!smbsess__st_ok(fake.fail)) {
			c->st = fake.fail;
			return;
		}
		c->out = fake_dup(ap_req, sizeof ap_req);
		c->out_len = sizeof ap_req;
		return;
	}
	if (c->in != NULL) {
		if (c->in_len != sizeof ap_rep || memcmp(c->in, ap_rep, sizeof ap_rep) != 0) {
			c->st = SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
			return;
		}
		smbsess__gss_test_establish(c->gss, krb_key, sizeof krb_key);
	}
	c->complete = true;
	if (c->peer_mic) {
		fake.saw_peer_mic = true;
		if (c->peer_mic_len != sizeof server_mic || memcmp(c->peer_mic, server_mic, sizeof server_mic)) {
			c->st = SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
			return;
		}
	}
	if (c->make_mic) {
		c->mic = fake_dup(our_mic, sizeof our_mic);
		c->mic_len = sizeof our_mic;
	}
}

/* ---- helpers ---- */

static struct smbsess__spnego_client *client(TALLOC_CTX *t, const char *user, enum smbsess__mechs mechs)
{
	struct smbsess__creds *creds;
	struct smbsess__spnego_client *c;

	authtest_ok(smbsess__creds_new(t, "DOM", user, "Password", &creds));
	creds->mechs = mechs;
	authtest_ok(smbsess__spnego_client_new(t, creds, &c));
	authtest_ok(smbsess__spnego_client_set_target(c, "cifs", "server.example.com"));
	smbsess__spnego_client_set_runner(c, fake_run);
	fake_reset();
	return c;
}

static uint8_t *hint(TALLOC_CTX *t, const enum smbsess__spnego_mech *m, size_t n, size_t *len)
{
	uint8_t *out;

	authtest_ok(smbsess__spnego_build_init(t, m, n, NULL, 0, &out, len));
	return out;
}

static struct smbsess__spnego_init *step_init(TALLOC_CTX *t, struct smbsess__spnego_client *c,
					       const uint8_t *in, size_t in_len)
{
	struct smbsess__spnego_init *init;
	uint8_t *out;
	size_t out_len;

	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_init(t, out, out_len, &init));
	return init;
}

static uint8_t *resp(TALLOC_CTX *t, int state, int mech, const uint8_t *tok, size_t tok_len, const uint8_t *mic,
		     size_t mic_len, size_t *len)
{
	struct smbsess__spnego_resp r = { .neg_state = state };
	uint8_t *out;

	if (mech != SMBSESS__MECH_OTHER) {
		r.has_supported_mech = true;
		r.supported_mech = mech;
	}
	r.response_token = (uint8_t *)tok;
	r.response_token_len = tok_len;
	r.mech_list_mic = (uint8_t *)mic;
	r.mech_list_mic_len = mic_len;
	authtest_ok(smbsess__spnego_build_resp(t, &r, &out, len));
	return out;
}

/* A CHALLENGE_MESSAGE with the AV pairs NTLMv2 needs ([MS-NLMP] 2.2.1.2). */
static uint8_t *challenge(TALLOC_CTX *t, size_t *len)
{
	static const uint8_t av[] = {
		0x02, 0x00, 0x02, 0x00, 'D', 0,            /* MsvAvNbDomainName "D" */
		0x01, 0x00, 0x02, 0x00, 'S', 0,            /* MsvAvNbComputerName "S" */
		0x07, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x01, /* MsvAvTimestamp */
		0x00, 0x00, 0x00, 0x00                     /* MsvAvEOL */
	};
	uint32_t flags = SMBSESS__NTLMSSP_NEGOTIATE_UNICODE | SMBSESS__NTLMSSP_NEGOTIATE_NTLM |
			 SMBSESS__NTLMSSP_NEGOTIATE_SIGN | SMBSESS__NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
			 SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
			 SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO | SMBSESS__NTLMSSP_NEGOTIATE_128 |
			 SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH | SMBSESS__NTLMSSP_NEGOTIATE_56;
	uint8_t *m = talloc_zero_array(t, uint8_t, 48 + sizeof av);

	ck_assert_ptr_nonnull(m);
	memcpy(m, "NTLMSSP\0", 8);
	smbsess__put_le32(m + 8, 2);
	smbsess__put_le16(m + 12, 0);
	smbsess__put_le16(m + 14, 0);
	smbsess__put_le32(m + 16, 48);
	smbsess__put_le32(m + 20, flags);
	memcpy(m + 24, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	smbsess__put_le16(m + 40, sizeof av);
	smbsess__put_le16(m + 42, sizeof av);
	smbsess__put_le32(m + 44, 48);
	memcpy(m + 48, av, sizeof av);
	*len = 48 + sizeof av;
	return m;
}

#define ck_status(expr, dom, c)                                                                  \
	do {                                                                                     \
		struct smbsess_status ck_st = (expr);                                            \
		ck_assert_msg(ck_st.domain == (uint32_t)(dom) && ck_st.code == (uint32_t)(c),    \
			      "%s: got %s", #expr, smbsess__status_name(ck_st));                 \
	} while (0)

/* ---- mechanism lists ---- */

START_TEST(order_follows_policy)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_init *init;
	struct smbsess__spnego_client *c;

	c = client(t, "u", SMBSESS__MECHS_NTLM_ONLY);
	init = step_init(t, c, NULL, 0);
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
	ck_assert_mem_eq(init->mech_token, "NTLMSSP\0\x01", 9);
	ck_assert_int_eq(fake.calls, 0);

	c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	init = step_init(t, c, NULL, 0);
	ck_assert_uint_eq(init->num_mechs, 2);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_KRB5);
	ck_assert_int_eq(init->mechs[1], SMBSESS__MECH_NTLMSSP);
	authtest_mem_eq(init->mech_token, init->mech_token_len, ap_req, sizeof ap_req);
	ck_assert_int_eq(fake.calls, 1);
	ck_assert(fake.last_start);
	ck_assert_int_eq(smbsess__spnego_client_mech(c), SMBSESS__MECH_KRB5);

	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	init = step_init(t, c, NULL, 0);
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_KRB5);
	authtest_mem_eq(init->mech_token, init->mech_token_len, ap_req, sizeof ap_req);

	c = client(t, "u", SMBSESS__MECHS_NTLM_THEN_KRB5);
	init = step_init(t, c, NULL, 0);
	ck_assert_uint_eq(init->num_mechs, 2);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
	ck_assert_int_eq(init->mechs[1], SMBSESS__MECH_KRB5);
	ck_assert_mem_eq(init->mech_token, "NTLMSSP\0\x01", 9);
	ck_assert_int_eq(fake.calls, 0); /* Kerberos only if the server prefers it */
	talloc_free(t);
}
END_TEST

START_TEST(server_hint_filters)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const enum smbsess__spnego_mech ntlm_only[] = { SMBSESS__MECH_NTLMSSP };
	const enum smbsess__spnego_mech ms_krb5_only[] = { SMBSESS__MECH_MS_KRB5 };
	struct smbsess__spnego_init *init;
	struct smbsess__spnego_client *c;
	uint8_t *h, *out;
	size_t h_len, out_len;

	/* A server without Kerberos: NTLM alone, and the reason is kept. */
	h = hint(t, ntlm_only, 1, &h_len);
	c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	init = step_init(t, c, h, h_len);
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
	ck_assert_int_eq(fake.calls, 0);
	ck_status(smbsess__spnego_client_krb5_status(c), SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_KERBEROS_REFUSED);

	/* ... and with NTLM forbidden, the clear refusal, without any GSS-API call. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	ck_status(smbsess__spnego_client_step(c, t, h, h_len, &out, &out_len), SMBSESS_DOMAIN_LIBRARY,
		  SMBSESS_E_KERBEROS_REFUSED);
	ck_assert_int_eq(fake.calls, 0);

	/* Kerberos under Microsoft's OID counts; NTLM is left out when the server lacks it. */
	h = hint(t, ms_krb5_only, 1, &h_len);
	c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	init = step_init(t, c, h, h_len);
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_KRB5);

	/* NTLM only against a Kerberos-only server: as before. */
	c = client(t, "u", SMBSESS__MECHS_NTLM_ONLY);
	authtest_lib_err(smbsess__spnego_client_step(c, t, h, h_len, &out, &out_len), SMBSESS_E_NOT_SUPPORTED);
	talloc_free(t);
}
END_TEST

/* ---- NTLM fallback and NTLM forbidden ---- */

START_TEST(local_kerberos_failure)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const struct smbsess_status unreach = smbsess__st(SMBSESS_DOMAIN_KRB5, 0x96C73A9Cu);
	struct smbsess__spnego_init *init;
	struct smbsess__spnego_client *c;
	uint8_t *out, key[16];
	size_t out_len;

	/* Allowed: NTLM alone goes out, and the reason stays readable. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	fake.fail = unreach;
	init = step_init(t, c, NULL, 0);
	ck_assert_int_eq(fake.calls, 1);
	ck_assert_uint_eq(init->num_mechs, 1);
	ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
	ck_assert_mem_eq(init->mech_token, "NTLMSSP\0\x01", 9);
	ck_assert_int_eq(smbsess__spnego_client_mech(c), SMBSESS__MECH_NTLMSSP);
	ck_status(smbsess__spnego_client_krb5_status(c), SMBSESS_DOMAIN_KRB5, 0x96C73A9Cu);

	/* Forbidden: the Kerberos status is the step's, and the client is done for. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	fake.fail = unreach;
	ck_status(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_DOMAIN_KRB5, 0x96C73A9Cu);
	authtest_lib_err(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_E_AUTH);
	authtest_lib_err(smbsess__spnego_client_session_key(c, key), SMBSESS_E_AUTH);

	/* No user (tickets from a cache): NTLM would be anonymous, so no fallback. */
	{
		struct smbsess__creds *creds;

		authtest_ok(smbsess__creds_new(t, NULL, NULL, NULL, &creds));
		authtest_ok(smbsess__creds_set_ccache(creds, NULL));
		creds->mechs = SMBSESS__MECHS_KRB5_THEN_NTLM;
		authtest_ok(smbsess__spnego_client_new(t, creds, &c));
		authtest_ok(smbsess__spnego_client_set_target(c, "cifs", "server.example.com"));
		smbsess__spnego_client_set_runner(c, fake_run);
		fake_reset();
		fake.fail = unreach;
		ck_status(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_DOMAIN_KRB5,
			  0x96C73A9Cu);
		ck_assert_int_eq(fake.calls, 1);
	}

	/* No target host: Kerberos cannot start; falls back like any local failure. */
	{
		struct smbsess__creds *creds;

		authtest_ok(smbsess__creds_new(t, "DOM", "u", "pw", &creds));
		creds->mechs = SMBSESS__MECHS_KRB5_THEN_NTLM;
		authtest_ok(smbsess__spnego_client_new(t, creds, &c));
		smbsess__spnego_client_set_runner(c, fake_run);
		fake_reset();
		init = step_init(t, c, NULL, 0);
		ck_assert_int_eq(init->mechs[0], SMBSESS__MECH_NTLMSSP);
		ck_assert_int_eq(fake.calls, 0);
		authtest_lib_err(smbsess__spnego_client_krb5_status(c), SMBSESS_E_INVALID_ARGUMENT);
	}
	talloc_free(t);
}
END_TEST

/* ---- Kerberos exchanges ---- */

START_TEST(kerberos_exchange)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	uint8_t *in, *out, key[16], full[SMBSESS__SPNEGO_MAX_KEY];
	size_t in_len, out_len, full_len;

	step_init(t, c, NULL, 0);
	authtest_lib_err(smbsess__spnego_client_full_session_key(c, full, &full_len), SMBSESS_E_AUTH);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_KRB5, ap_rep, sizeof ap_rep, NULL, 0, &in_len);
	out = (uint8_t *)"x";
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert(smbsess__spnego_client_done(c));
	ck_assert_int_eq(fake.calls, 2);
	ck_assert(!fake.last_start);
	ck_assert(!fake.last_make_mic);
	ck_assert_uint_eq(fake.last_in_len, sizeof ap_rep);
	/* The whole key for AES-256, its first 16 bytes as Session.SessionKey. */
	authtest_ok(smbsess__spnego_client_full_session_key(c, full, &full_len));
	authtest_mem_eq(full, full_len, krb_key, 32);
	authtest_ok(smbsess__spnego_client_session_key(c, key));
	ck_assert_mem_eq(key, krb_key, 16);
	ck_status(smbsess__spnego_client_krb5_status(c), SMBSESS_DOMAIN_OK, 0);
	talloc_free(t);
}
END_TEST

START_TEST(kerberos_server_mic)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	struct smbsess__spnego_resp *r;
	uint8_t *in, *out;
	size_t in_len, out_len;

	/* request-mic: the AP-REP and the server's MIC come, our MIC goes. */
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_REQUEST_MIC, SMBSESS__MECH_KRB5, ap_rep, sizeof ap_rep, server_mic,
		  sizeof server_mic, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert(fake.saw_peer_mic && fake.last_make_mic && fake.saw_mech_types);
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	ck_assert_ptr_null(r->response_token);
	authtest_mem_eq(r->mech_list_mic, r->mech_list_mic_len, our_mic, sizeof our_mic);
	ck_assert(!smbsess__spnego_client_done(c));
	/* The verdict with another MIC: verified by a GSS-API step too. */
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_OTHER, NULL, 0, server_mic, sizeof server_mic,
		  &in_len);
	fake.saw_peer_mic = false;
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert(fake.saw_peer_mic);
	ck_assert(smbsess__spnego_client_done(c));

	/* A bad MIC from the server. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_KRB5, ap_rep, sizeof ap_rep, our_mic,
		  sizeof our_mic, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_BAD_SIGNATURE);
	talloc_free(t);
}
END_TEST

START_TEST(kerberos_needs_mutual)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	uint8_t *in, *out;
	size_t in_len, out_len;

	/* Accepted without an AP-REP: nothing proves the server's identity. */
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_KRB5, NULL, 0, NULL, 0, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	ck_assert(!smbsess__spnego_client_done(c));
	talloc_free(t);
}
END_TEST

START_TEST(kerberos_refused)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c;
	uint8_t *in, *out;
	size_t in_len, out_len;

	/* reject with NTLM forbidden: the clear status. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_REJECT, SMBSESS__MECH_OTHER, NULL, 0, NULL, 0, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_KERBEROS_REFUSED);

	/* The server picks NTLM, which we did not offer. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_NTLMSSP, NULL, 0, NULL, 0, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_KERBEROS_REFUSED);

	/* reject when NTLM was allowed: a plain authentication failure. */
	c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_REJECT, SMBSESS__MECH_OTHER, NULL, 0, NULL, 0, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	talloc_free(t);
}
END_TEST

/* The server's mechListMIC over @p mech_types, NTLMSSP sequence 0, for exported key @p key. */
static void ntlm_server_mic(const uint8_t key[16], uint32_t flags, const uint8_t *mech_types, size_t len,
			    uint8_t mic[16])
{
	uint8_t sign[16], seal[16];
	struct arcfour_ctx rc4;

	smbsess__ntlm_sign_key(key, false, sign);
	smbsess__ntlm_seal_key(key, flags, false, seal);
	arcfour_set_key(&rc4, 16, seal);
	smbsess__ntlm_mac(sign, &rc4, 0, mech_types, len, mic);
}

/*
 * Kerberos offered first, NTLM chosen: up to the AUTHENTICATE with our
 * mechListMIC. The exported session key is @p key; *mech_types is what MICs cover.
 */
static struct smbsess__spnego_client *ntlm_second_choice(TALLOC_CTX *t, const uint8_t key[16],
							 uint8_t **mech_types, size_t *mech_types_len)
{
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_THEN_NTLM);
	struct smbsess__spnego_init *init;
	struct smbsess__spnego_resp *r;
	uint8_t *in, *out, *chal;
	size_t in_len, out_len, chal_len;

	smbsess__ntlmssp_set_test_values(smbsess__spnego_client_ntlmssp(c), NULL, key, NULL);
	init = step_init(t, c, NULL, 0);
	*mech_types = init->mech_types;
	*mech_types_len = init->mech_types_len;
	/* It picks NTLM and waits for its first token. */
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_NTLMSSP, NULL, 0, NULL, 0, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	ck_assert_mem_eq(r->response_token, "NTLMSSP\0\x01", 9);
	ck_assert_int_eq(smbsess__spnego_client_mech(c), SMBSESS__MECH_NTLMSSP);
	authtest_lib_err(smbsess__spnego_client_krb5_status(c), SMBSESS_E_KERBEROS_REFUSED);
	/* The challenge; NTLM was not our first choice, so a mechListMIC must go with the answer. */
	chal = challenge(t, &chal_len);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_OTHER, chal, chal_len, NULL, 0, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	ck_assert_mem_eq(r->response_token, "NTLMSSP\0\x03", 9);
	ck_assert_ptr_nonnull(r->mech_list_mic);
	ck_assert_uint_eq(r->mech_list_mic_len, 16);
	return c;
}

START_TEST(server_prefers_ntlm)
{
	static const uint8_t key[16] = "0123456789abcdef";
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c;
	uint8_t *in, *out, *mech_types, mic[16];
	size_t in_len, out_len, mech_types_len;

	/* Done on a verdict with the server's mechListMIC. */
	c = ntlm_second_choice(t, key, &mech_types, &mech_types_len);
	ntlm_server_mic(key, smbsess__ntlmssp_flags(smbsess__spnego_client_ntlmssp(c)), mech_types,
			mech_types_len, mic);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_OTHER, NULL, 0, mic, 16, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert(smbsess__spnego_client_done(c));

	/*
	 * RFC 4178 5: the server chose our second mechanism, so its mechListMIC
	 * is required: a verdict without one (or no token at all) is no logon,
	 * since someone in the middle may have struck Kerberos from our list.
	 */
	c = ntlm_second_choice(t, key, &mech_types, &mech_types_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_E_AUTH);
	ck_assert(!smbsess__spnego_client_done(c));
	c = ntlm_second_choice(t, key, &mech_types, &mech_types_len);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_OTHER, NULL, 0, NULL, 0, &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	ck_assert(!smbsess__spnego_client_done(c));
	talloc_free(t);
}
END_TEST

START_TEST(server_prefers_kerberos)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_NTLM_THEN_KRB5);
	struct smbsess__spnego_resp *r;
	uint8_t *in, *out;
	size_t in_len, out_len;

	step_init(t, c, NULL, 0);
	ck_assert_int_eq(fake.calls, 0);
	/* Kerberos under Microsoft's OID: its first token now, in a NegTokenResp. */
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_MS_KRB5, NULL, 0, NULL, 0, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	ck_assert_int_eq(fake.calls, 1);
	ck_assert(fake.last_start);
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	authtest_mem_eq(r->response_token, r->response_token_len, ap_req, sizeof ap_req);
	/* The AP-REP with the server's MIC; ours goes back (the mechanism was not our first). */
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_OTHER, ap_rep, sizeof ap_rep, server_mic,
		  sizeof server_mic, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	authtest_ok(smbsess__spnego_parse_resp(t, out, out_len, &r));
	authtest_mem_eq(r->mech_list_mic, r->mech_list_mic_len, our_mic, sizeof our_mic);
	authtest_ok(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len));
	ck_assert(smbsess__spnego_client_done(c));
	ck_assert_int_eq(smbsess__spnego_client_mech(c), SMBSESS__MECH_KRB5);
	talloc_free(t);
}
END_TEST

/* Kerberos as our second choice with no mechListMIC from the server at all: no logon. */
START_TEST(server_prefers_kerberos_without_mic)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_NTLM_THEN_KRB5);
	uint8_t *in, *out;
	size_t in_len, out_len;

	step_init(t, c, NULL, 0);
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_INCOMPLETE, SMBSESS__MECH_MS_KRB5, NULL, 0, NULL, 0, &in_len);
	authtest_ok(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len));
	/* The AP-REP completes the exchange, without the server's MIC. */
	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_OTHER, ap_rep, sizeof ap_rep, NULL, 0,
		  &in_len);
	authtest_lib_err(smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len), SMBSESS_E_AUTH);
	ck_assert(!smbsess__spnego_client_done(c));
	ck_assert(!fake.saw_peer_mic);
	talloc_free(t);
}
END_TEST

/* ---- the asynchronous step ---- */

static void step_cb(struct tevent_req *req)
{
	*(bool *)tevent_req_callback_data_void(req) = true;
}

/* Runs on the job's thread: check that it is not the loop's. */
static pthread_t loop_thread;
static bool ran_elsewhere;

static void fake_run_thread(void *arg)
{
	ran_elsewhere = !pthread_equal(pthread_self(), loop_thread);
	fake_run(arg);
}

START_TEST(async_step_on_a_thread)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(t);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	struct smbsess__spnego_init *init;
	struct tevent_req *req;
	uint8_t *out, *in;
	size_t out_len, in_len;
	bool done = false;

	smbsess__spnego_client_set_runner(c, fake_run_thread);
	loop_thread = pthread_self();
	ran_elsewhere = false;
	req = smbsess__spnego_client_step_send(t, ev, c, NULL, 0);
	ck_assert_ptr_nonnull(req);
	tevent_req_set_callback(req, step_cb, &done);
	while (!done)
		ck_assert_int_eq(tevent_loop_once(ev), 0);
	authtest_ok(smbsess__spnego_client_step_recv(req, t, &out, &out_len));
	talloc_free(req);
	ck_assert(ran_elsewhere);
	authtest_ok(smbsess__spnego_parse_init(t, out, out_len, &init));
	authtest_mem_eq(init->mech_token, init->mech_token_len, ap_req, sizeof ap_req);

	in = resp(t, SMBSESS__SPNEGO_ACCEPT_COMPLETED, SMBSESS__MECH_KRB5, ap_rep, sizeof ap_rep, NULL, 0, &in_len);
	done = false;
	req = smbsess__spnego_client_step_send(t, ev, c, in, in_len);
	tevent_req_set_callback(req, step_cb, &done);
	while (!done)
		ck_assert_int_eq(tevent_loop_once(ev), 0);
	authtest_ok(smbsess__spnego_client_step_recv(req, t, &out, &out_len));
	talloc_free(req);
	ck_assert_ptr_null(out);
	ck_assert(smbsess__spnego_client_done(c));
	talloc_free(t);
}
END_TEST

static void timer_cb(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	*(bool *)p = true;
}

/* A step that blocks until the test lets it go. */
static int gate[2];
static int finished[2];

static void fake_run_blocking(void *arg)
{
	char b;

	while (read(gate[0], &b, 1) < 0)
		;
	fake_run(arg);
	/* Tell the test the step returned; the job frees the call right after. */
	while (write(finished[1], "x", 1) < 0)
		;
}

static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

START_TEST(abandoned_step)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(t);
	struct smbsess__spnego_client *c = client(t, "u", SMBSESS__MECHS_KRB5_ONLY);
	struct tevent_req *req;
	uint8_t *out;
	size_t out_len;
	char b;
	bool done;
	int before = thread_count();

	ck_assert_int_eq(pipe(gate), 0);
	ck_assert_int_eq(pipe(finished), 0);
	smbsess__spnego_client_set_runner(c, fake_run_blocking);
	req = smbsess__spnego_client_step_send(t, ev, c, NULL, 0);
	ck_assert_ptr_nonnull(req);
	ck_assert(tevent_req_is_in_progress(req));
	/* The loop still runs while the step blocks. */
	done = false;
	ck_assert_ptr_nonnull(tevent_add_timer(ev, t, tevent_timeval_current_ofs(0, 10000), timer_cb, &done));
	while (!done)
		ck_assert_int_eq(tevent_loop_once(ev), 0);
	/* Abandon it (as a timeout does), then let the thread go on alone. */
	talloc_free(req);
	ck_assert_int_eq(write(gate[1], "x", 1), 1);
	ck_assert_int_eq(read(finished[0], &b, 1), 1);
	for (int i = 0; i < 200 && thread_count() > before; i++)
		usleep(10000);
	ck_assert_int_eq(thread_count(), before);
	/* The context went with the abandoned step: the client cannot go on. */
	authtest_lib_err(smbsess__spnego_client_step(c, t, NULL, 0, &out, &out_len), SMBSESS_E_AUTH);
	close(gate[0]);
	close(gate[1]);
	close(finished[0]);
	close(finished[1]);
	talloc_free(t);
}
END_TEST

/* tevent registers its backends on the NULL context once: do that before counting blocks. */
static void setup(void)
{
	talloc_free(tevent_context_init(NULL));
	testutil_setup();
}

static Suite *suite(void)
{
	Suite *s = suite_create("spnego-krb5");
	TCase *tc = tcase_create("spnego-krb5");

	tcase_add_checked_fixture(tc, setup, testutil_teardown);
	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, order_follows_policy);
	tcase_add_test(tc, server_hint_filters);
	tcase_add_test(tc, local_kerberos_failure);
	tcase_add_test(tc, kerberos_exchange);
	tcase_add_test(tc, kerberos_server_mic);
	tcase_add_test(tc, kerberos_needs_mutual);
	tcase_add_test(tc, kerberos_refused);
	tcase_add_test(tc, server_prefers_ntlm);
	tcase_add_test(tc, server_prefers_kerberos);
	tcase_add_test(tc, server_prefers_kerberos_without_mic);
	tcase_add_test(tc, async_step_on_a_thread);
	tcase_add_test(tc, abandoned_step);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
