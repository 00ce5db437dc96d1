/*
 * SMB2 NEGOTIATE ([MS-SMB2] 2.2.3, 2.2.4): dialects 2.0.2 to 3.1.1 within the
 * caller's range; for 3.1.1 the preauth integrity (SHA-512), encryption and
 * signing capability contexts.
 */
#include "smb2_private.h"
#include "../util/treq.h"

#define CTX_PREAUTH 0x0001
#define CTX_ENCRYPTION 0x0002
#define CTX_SIGNING 0x0008
#define HASH_SHA512 0x0001
#define SALT_LEN 32
#define MAX_CONTEXTS 32

static const uint16_t all_dialects[] = {
	SMBSESS__SMB2_DIALECT_202, SMBSESS__SMB2_DIALECT_210, SMBSESS__SMB2_DIALECT_300,
	SMBSESS__SMB2_DIALECT_302, SMBSESS__SMB2_DIALECT_311,
};
/* Our preference: GCM before CCM, 128 before 256 (as Windows). */
static const uint16_t ciphers[] = {
	SMBSESS__SMB2_CIPHER_AES128_GCM, SMBSESS__SMB2_CIPHER_AES128_CCM,
	SMBSESS__SMB2_CIPHER_AES256_GCM, SMBSESS__SMB2_CIPHER_AES256_CCM,
};
static const uint16_t sign_algs[] = {
	SMBSESS__SMB2_SIGN_AES_GMAC, SMBSESS__SMB2_SIGN_AES_CMAC, SMBSESS__SMB2_SIGN_HMAC_SHA256,
};

struct negotiate_state {
	struct smbsess__smb2_conn *conn;
};

static size_t put_context(uint8_t *p, uint16_t type, const uint8_t *data, uint16_t len)
{
	smbsess__put_le16(p, type);
	smbsess__put_le16(p + 2, len);
	smbsess__put_le32(p + 4, 0);
	memcpy(p + 8, data, len);
	return 8 + len;
}

static struct smbsess_status build_request(struct smbsess__smb2_conn *conn, TALLOC_CTX *mem_ctx,
					   uint8_t **body, size_t *body_len)
{
	uint16_t lo = conn->opts.min_dialect ? conn->opts.min_dialect : SMBSESS__SMB2_DIALECT_202;
	uint16_t hi = conn->opts.max_dialect ? conn->opts.max_dialect : SMBSESS__SMB2_DIALECT_311;
	uint16_t dialects[5];
	size_t n = 0, len, off;
	bool want311;
	uint8_t *b;

	for (size_t i = 0; i < 5; i++)
		if (all_dialects[i] >= lo && all_dialects[i] <= hi)
			dialects[n++] = all_dialects[i];
	if (n == 0)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	want311 = dialects[n - 1] == SMBSESS__SMB2_DIALECT_311;

	conn->client_dialects = talloc_memdup(conn, dialects, n * sizeof dialects[0]);
	if (conn->client_dialects == NULL)
		return SMBSESS__ST_NOMEM;
	conn->n_client_dialects = n;
	conn->client_security_mode = SIGNING_ENABLED |
		(conn->opts.signing == SMBSESS__SMB2_POLICY_REQUIRED ? SIGNING_REQUIRED : 0);
	conn->client_capabilities = CAP_LARGE_MTU |
		(conn->opts.encryption != SMBSESS__SMB2_POLICY_OFF ? CAP_ENCRYPTION : 0);
	SMBSESS__CHECK(smbsess__random_bytes(conn->client_guid, sizeof conn->client_guid));

	/* 36 fixed bytes, the dialects, then (3.1.1) the contexts 8-byte aligned from the header. */
	len = 36 + 2 * n;
	off = (SMBSESS__SMB2_HDR_LEN + len + 7) & ~(size_t)7;
	if (want311)
		len = off - SMBSESS__SMB2_HDR_LEN + 512;
	b = talloc_zero_array(mem_ctx, uint8_t, len);
	if (b == NULL)
		return SMBSESS__ST_NOMEM;
	smbsess__put_le16(b, 36);
	smbsess__put_le16(b + 2, (uint16_t)n);
	smbsess__put_le16(b + 4, conn->client_security_mode);
	smbsess__put_le32(b + 8, conn->client_capabilities);
	memcpy(b + 12, conn->client_guid, 16);
	for (size_t i = 0; i < n; i++)
		smbsess__put_le16(b + 36 + 2 * i, dialects[i]);
	if (want311) {
		uint8_t data[64];
		size_t p = off - SMBSESS__SMB2_HDR_LEN;

		smbsess__put_le32(b + 28, (uint32_t)off);
		smbsess__put_le16(b + 32, 3);

		smbsess__put_le16(data, 1);
		smbsess__put_le16(data + 2, SALT_LEN);
		smbsess__put_le16(data + 4, HASH_SHA512);
		SMBSESS__CHECK(smbsess__random_bytes(data + 6, SALT_LEN));
		p += put_context(b + p, CTX_PREAUTH, data, 6 + SALT_LEN);
		p = (p + 7) & ~(size_t)7;

		smbsess__put_le16(data, 4);
		for (size_t i = 0; i < 4; i++)
			smbsess__put_le16(data + 2 + 2 * i, ciphers[i]);
		p += put_context(b + p, CTX_ENCRYPTION, data, 10);
		p = (p + 7) & ~(size_t)7;

		smbsess__put_le16(data, 3);
		for (size_t i = 0; i < 3; i++)
			smbsess__put_le16(data + 2 + 2 * i, sign_algs[i]);
		p += put_context(b + p, CTX_SIGNING, data, 8);
		len = p;
	}
	*body = b;
	*body_len = len;
	return SMBSESS__OK;
}

static bool in_list(const uint16_t *list, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static struct smbsess_status parse_contexts(struct smbsess__smb2_conn *conn, const struct smbsess__smb2_resp *r,
					    uint32_t offset, uint16_t count)
{
	bool have_preauth = false;
	size_t off = offset;

	if (count > MAX_CONTEXTS || offset < SMBSESS__SMB2_HDR_LEN || offset > r->len)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	for (uint16_t i = 0; i < count; i++) {
		uint16_t type, dlen;
		const uint8_t *d;

		off = (off + 7) & ~(size_t)7;
		if (off > r->len || r->len - off < 8)
			return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
		type = smbsess__le16(r->msg + off);
		dlen = smbsess__le16(r->msg + off + 2);
		if (r->len - off - 8 < dlen)
			return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
		d = r->msg + off + 8;
		switch (type) {
		case CTX_PREAUTH:
			/* Exactly one algorithm, SHA-512; the salt length must fit. */
			if (dlen < 4 || smbsess__le16(d) != 1 || dlen < 6 ||
			    smbsess__le16(d + 4) != HASH_SHA512 || (size_t)6 + smbsess__le16(d + 2) > dlen)
				return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
			have_preauth = true;
			break;
		case CTX_ENCRYPTION:
			if (dlen < 4 || smbsess__le16(d) != 1)
				return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
			conn->cipher = smbsess__le16(d + 2);
			if (conn->cipher != 0 && !in_list(ciphers, 4, conn->cipher))
				return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
			break;
		case CTX_SIGNING:
			if (dlen < 4 || smbsess__le16(d) != 1 || !in_list(sign_algs, 3, smbsess__le16(d + 2)))
				return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
			conn->sign_alg = smbsess__le16(d + 2);
			break;
		default:
			break; /* contexts we did not offer are ignored */
		}
		off += 8 + dlen;
	}
	return have_preauth ? SMBSESS__OK : SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

static struct smbsess_status parse_response(struct smbsess__smb2_conn *conn, const struct smbsess__smb2_resp *r)
{
	const uint8_t *b = r->body;
	uint16_t dialect, sec_off, sec_len;
	const uint8_t *token;

	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 64, 65));
	dialect = smbsess__le16(b + 4);
	if (!in_list(conn->client_dialects, conn->n_client_dialects, dialect))
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	conn->dialect = dialect;
	conn->security_mode = smbsess__le16(b + 2);
	memcpy(conn->server_guid, b + 8, 16);
	conn->capabilities = smbsess__le32(b + 24);
	conn->max_transact = smbsess__le32(b + 28);
	conn->max_read = smbsess__le32(b + 32);
	conn->max_write = smbsess__le32(b + 36);
	/*
	 * [MS-SMB2] 3.2.5.2: a client SHOULD disconnect below 64 KiB, and the
	 * named-pipe code relies on reads, writes and IOCTLs of that size.
	 */
	if (conn->max_transact < SMBSESS__SMB2_MIN_IO || conn->max_read < SMBSESS__SMB2_MIN_IO ||
	    conn->max_write < SMBSESS__SMB2_MIN_IO)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	sec_off = smbsess__le16(b + 56);
	sec_len = smbsess__le16(b + 58);
	SMBSESS__CHECK(smbsess__smb2_resp_buffer(r, sec_off, sec_len, &token));
	if (sec_len) {
		conn->neg_token = talloc_memdup(conn, token, sec_len);
		if (conn->neg_token == NULL)
			return SMBSESS__ST_NOMEM;
		conn->neg_token_len = sec_len;
	}

	conn->sign_alg = dialect >= SMBSESS__SMB2_DIALECT_300 ? SMBSESS__SMB2_SIGN_AES_CMAC
							      : SMBSESS__SMB2_SIGN_HMAC_SHA256;
	conn->cipher = 0;
	if (dialect == SMBSESS__SMB2_DIALECT_311) {
		SMBSESS__CHECK(parse_contexts(conn, r, smbsess__le32(b + 60), smbsess__le16(b + 6)));
	} else if (dialect >= SMBSESS__SMB2_DIALECT_300 && (conn->capabilities & CAP_ENCRYPTION)) {
		conn->cipher = SMBSESS__SMB2_CIPHER_AES128_CCM;
	}
	if (conn->opts.encryption == SMBSESS__SMB2_POLICY_OFF)
		conn->cipher = 0;
	if (conn->opts.encryption == SMBSESS__SMB2_POLICY_REQUIRED && conn->cipher == 0)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	return SMBSESS__OK;
}

static void negotiate_done(struct tevent_req *subreq);

struct tevent_req *smbsess__smb2_negotiate_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						struct smbsess__smb2_conn *conn)
{
	struct tevent_req *req, *subreq;
	struct negotiate_state *s;
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_NEGOTIATE };
	uint8_t *body;
	size_t len;

	req = tevent_req_create(mem_ctx, &s, struct negotiate_state);
	if (req == NULL)
		return NULL;
	s->conn = conn;
	if (conn->negotiated) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (smbsess__req_nok(req, build_request(conn, s, &body, &len)))
		return tevent_req_post(req, ev);
	call.body = body;
	call.body_len = len;
	call.expected_out = 65536;
	subreq = smbsess__smb2_call_send(s, ev, conn, &call, 0);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, negotiate_done, req);
	return req;
}

static void negotiate_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct negotiate_state *s = tevent_req_data(req, struct negotiate_state);
	struct smbsess__smb2_conn *conn = s->conn;
	struct smbsess__smb2_resp r;
	struct smbsess_status st;

	st = smbsess__smb2_call_recv(subreq, s, &r);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	st = parse_response(conn, &r);
	if (smbsess__req_nok(req, st))
		return;
	if (conn->dialect == SMBSESS__SMB2_DIALECT_311) {
		smbsess__smb2_preauth_init(conn->preauth);
		st = smbsess__smb2_preauth_update(conn->preauth, r.sent, r.sent_len);
		if (smbsess__st_ok(st))
			st = smbsess__smb2_preauth_update(conn->preauth, r.msg, r.len);
		if (smbsess__req_nok(req, st))
			return;
	}
	conn->negotiated = true;
	tevent_req_done(req);
}

struct smbsess_status smbsess__smb2_negotiate_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}
