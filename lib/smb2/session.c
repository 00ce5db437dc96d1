/*
 * SESSION_SETUP ([MS-SMB2] 2.2.5, 2.2.6, 3.2.5.3): SPNEGO rounds with the
 * auth layer, the 3.1.1 preauth hash over each round, key derivation, and
 * the check of the final response's signature.
 *
 * Each SPNEGO step runs through smbsess__spnego_client_step_send: a step
 * that needs GSS-API (Kerberos, which may wait for a KDC) runs on a worker
 * thread, so other connections on the loop go on meanwhile. The Kerberos
 * target is cifs/<the connection's server name>.
 */
#include "smb2_private.h"
#include "../auth/spnego.h"
#include "../util/treq.h"

#define SS_FIXED 24
#define MAX_ROUNDS 8

struct session_state {
	struct tevent_context *ev;
	/*
	 * Owned by this state until received, so that a cancelled setup leaves
	 * nothing on the connection; its conn turns NULL if the connection goes
	 * first (it is the only way here to the connection).
	 */
	struct smbsess__smb2_session *session;
	struct smbsess__spnego_client *spnego;
	bool anonymous;
	unsigned rounds;
	struct smbsess__smb2_resp last; /* the response the pending SPNEGO step works on */
};

static int session_destructor(struct smbsess__smb2_session *s)
{
	struct smbsess__smb2_conn *conn = s->conn;

	if (s->prev)
		s->prev->next = s->next;
	else if (conn != NULL && conn->sessions == s)
		conn->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (conn != NULL)
		smbsess__smb2_conn_session_gone(conn, s);
	smbsess__smb2_keys_wipe(&s->keys);
	return 0;
}

static void session_round_done(struct tevent_req *subreq);
static void session_first_token(struct tevent_req *subreq);
static void session_step_done(struct tevent_req *subreq);

static void send_round(struct tevent_req *req, const uint8_t *token, size_t token_len)
{
	struct session_state *s = tevent_req_data(req, struct session_state);
	struct smbsess__smb2_conn *conn = s->session->conn;
	struct tevent_req *subreq;
	uint8_t *b;
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_SESSION_SETUP, .no_sign = true };

	/* A GSS-API step may end after the connection is gone. */
	if (conn == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return;
	}
	if (token_len > 65535 - SMBSESS__SMB2_HDR_LEN - SS_FIXED) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_LIMIT));
		return;
	}
	if (++s->rounds > MAX_ROUNDS) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_AUTH));
		return;
	}
	b = talloc_zero_array(s, uint8_t, SS_FIXED + (token_len ? token_len : 1));
	if (tevent_req_nomem(b, req))
		return;
	smbsess__put_le16(b, 25);
	b[3] = (uint8_t)(SIGNING_ENABLED |
			 (conn->opts.signing == SMBSESS__SMB2_POLICY_REQUIRED ? SIGNING_REQUIRED : 0));
	smbsess__put_le16(b + 12, SMBSESS__SMB2_HDR_LEN + SS_FIXED);
	smbsess__put_le16(b + 14, (uint16_t)token_len);
	if (token_len)
		memcpy(b + SS_FIXED, token, token_len);
	/* The first round goes out with session id 0. */
	call.session = s->session->id ? s->session : NULL;
	call.body = b;
	call.body_len = SS_FIXED + (token_len ? token_len : 1);
	call.expected_out = 65536;
	subreq = smbsess__smb2_call_send(s, s->ev, conn, &call, 0);
	talloc_free(b);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, session_round_done, req);
}

struct tevent_req *smbsess__smb2_session_setup_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    struct smbsess__smb2_conn *conn,
						    const struct smbsess__creds *creds)
{
	struct tevent_req *req, *subreq;
	struct session_state *s;

	req = tevent_req_create(mem_ctx, &s, struct session_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->anonymous = smbsess__creds_is_anonymous(creds);
	if (!conn->negotiated) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	s->session = talloc_zero(s, struct smbsess__smb2_session);
	if (tevent_req_nomem(s->session, req))
		return tevent_req_post(req, ev);
	s->session->conn = conn;
	s->session->next = conn->sessions;
	if (conn->sessions)
		conn->sessions->prev = s->session;
	conn->sessions = s->session;
	talloc_set_destructor(s->session, session_destructor);
	memcpy(s->session->preauth, conn->preauth, sizeof conn->preauth);

	if (smbsess__req_nok(req, smbsess__spnego_client_new(s, creds, &s->spnego)))
		return tevent_req_post(req, ev);
	if (conn->server_name != NULL && conn->server_name[0] != '\0' &&
	    smbsess__req_nok(req, smbsess__spnego_client_set_target(s->spnego, "cifs", conn->server_name)))
		return tevent_req_post(req, ev);
	subreq = smbsess__spnego_client_step_send(s, ev, s->spnego, conn->neg_token, conn->neg_token_len);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, session_first_token, req);
	return req;
}

/* Our first token is ready: the first round goes out. */
static void session_first_token(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct session_state *s = tevent_req_data(req, struct session_state);
	uint8_t *token = NULL;
	size_t token_len = 0;
	struct smbsess_status st;

	st = smbsess__spnego_client_step_recv(subreq, s, &token, &token_len);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	send_round(req, token, token_len);
	talloc_free(token);
}

static struct smbsess_status preauth(struct session_state *s, const uint8_t *msg, size_t len)
{
	if (s->session->conn->dialect != SMBSESS__SMB2_DIALECT_311)
		return SMBSESS__OK;
	return smbsess__smb2_preauth_update(s->session->preauth, msg, len);
}

/* Keys, signing and encryption once the server said STATUS_SUCCESS. */
static struct smbsess_status finish(struct session_state *s, const struct smbsess__smb2_resp *r, uint16_t flags)
{
	struct smbsess__smb2_session *ss = s->session;
	struct smbsess__smb2_conn *conn = ss->conn;
	bool guest = flags & SESSION_FLAG_IS_GUEST, null = flags & SESSION_FLAG_IS_NULL;

	ss->flags = flags;
	ss->auth_mech = (uint8_t)smbsess__spnego_client_mech(s->spnego);
	/* Kerberos is never anonymous, whatever the user name says. */
	if (ss->auth_mech == SMBSESS__MECH_KRB5)
		s->anonymous = false;
	/*
	 * No silent fallback to guest or to a NULL session when credentials were
	 * given: either would leave the session without keys, so unsigned, and a
	 * party in the middle could force it without knowing the password.
	 */
	if ((guest || null) && !s->anonymous)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (!guest && !null && !s->anonymous) {
		uint8_t key[SMBSESS__SPNEGO_MAX_KEY];
		size_t key_len;
		struct smbsess_status st;

		/* The whole key: 3.1.1's AES-256 ciphers use all of a Kerberos key. */
		SMBSESS__CHECK(smbsess__spnego_client_full_session_key(s->spnego, key, &key_len));
		st = smbsess__smb2_derive_keys(conn->dialect, conn->cipher, key, key_len, ss->preauth, &ss->keys);
		explicit_bzero(key, sizeof key);
		SMBSESS__CHECK(st);
		SMBSESS__CHECK(smbsess__random_bytes(ss->nonce_salt, sizeof ss->nonce_salt));
		ss->nonce_counter = 0;
		ss->have_keys = true;
		ss->signing = true;
		/* The final answer proves the server knows the key too. */
		if (smbsess__le32(r->msg + HDR_FLAGS) & FLAG_SIGNED)
			SMBSESS__CHECK(smbsess__smb2_verify(conn->sign_alg, ss->keys.signing, 16, r->msg, r->len));
		else if (conn->dialect == SMBSESS__SMB2_DIALECT_311 || (conn->security_mode & SIGNING_REQUIRED) ||
			 conn->opts.signing == SMBSESS__SMB2_POLICY_REQUIRED)
			return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	}
	if (!ss->signing && conn->opts.signing == SMBSESS__SMB2_POLICY_REQUIRED)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	if ((flags & SESSION_FLAG_ENCRYPT_DATA) || conn->opts.encryption == SMBSESS__SMB2_POLICY_REQUIRED) {
		if (conn->cipher == 0 || !ss->have_keys)
			return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
		ss->encrypt = true;
	}
	return SMBSESS__OK;
}

static void session_round_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct session_state *s = tevent_req_data(req, struct session_state);
	struct smbsess__smb2_resp r;
	struct smbsess_status st;
	const uint8_t *in;

	st = smbsess__smb2_call_recv(subreq, s, &r);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (r.status != SMBSESS__NT_OK && r.status != SMBSESS__NT_MORE_PROCESSING) {
		smbsess__req_nok(req, smbsess__smb2_nt(r.status));
		return;
	}
	if (smbsess__req_nok(req, smbsess__smb2_check_body(&r, 8, 9)) ||
	    smbsess__req_nok(req, smbsess__smb2_resp_buffer(&r, smbsess__le16(r.body + 4),
							     smbsess__le16(r.body + 6), &in)))
		return;
	if (s->session->id == 0)
		s->session->id = smbsess__le64(r.msg + HDR_SESSION_ID);
	else if (s->session->id != smbsess__le64(r.msg + HDR_SESSION_ID)) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		return;
	}
	if (s->session->id == 0) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		return;
	}
	/* Every request is hashed; every response but the final success. */
	if (smbsess__req_nok(req, preauth(s, r.sent, r.sent_len)))
		return;
	if (r.status == SMBSESS__NT_MORE_PROCESSING && smbsess__req_nok(req, preauth(s, r.msg, r.len)))
		return;

	s->last = r;
	subreq = smbsess__spnego_client_step_send(s, s->ev, s->spnego, in, in ? smbsess__le16(r.body + 6) : 0);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, session_step_done, req);
}

/* The SPNEGO step on the server's token is done: another round, or the end. */
static void session_step_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct session_state *s = tevent_req_data(req, struct session_state);
	const struct smbsess__smb2_resp *r = &s->last;
	uint8_t *token = NULL;
	size_t token_len = 0;
	struct smbsess_status st;

	st = smbsess__spnego_client_step_recv(subreq, s, &token, &token_len);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (s->session->conn == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return;
	}
	if (r->status == SMBSESS__NT_MORE_PROCESSING) {
		if (token_len == 0) {
			smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_AUTH));
			return;
		}
		send_round(req, token, token_len);
		talloc_free(token);
		return;
	}
	if (token_len != 0 || !smbsess__spnego_client_done(s->spnego)) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_AUTH));
		return;
	}
	if (smbsess__req_nok(req, finish(s, r, smbsess__le16(r->body + 2))))
		return;
	tevent_req_done(req);
}

struct smbsess_status smbsess__smb2_session_setup_recv(struct tevent_req *req,
						       struct smbsess__smb2_session **session)
{
	struct session_state *s = tevent_req_data(req, struct session_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st) && s->session->conn == NULL)
		st = SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED);
	if (smbsess__st_ok(st)) {
		/* From here the connection owns it. */
		*session = talloc_steal(s->session->conn, s->session);
		s->session = NULL;
	} else {
		TALLOC_FREE(s->session);
	}
	tevent_req_received(req);
	return st;
}

bool smbsess__smb2_session_encrypted(const struct smbsess__smb2_session *session)
{
	return session->encrypt;
}

bool smbsess__smb2_session_signed(const struct smbsess__smb2_session *session)
{
	return session->signing;
}

int smbsess__smb2_session_mech(const struct smbsess__smb2_session *session)
{
	return session->auth_mech;
}

bool smbsess__smb2_tree_encrypted(const struct smbsess__smb2_tree *tree)
{
	return tree->encrypt || tree->session->encrypt;
}
