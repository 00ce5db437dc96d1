/*
 * TREE_CONNECT and TREE_DISCONNECT ([MS-SMB2] 2.2.9 - 2.2.12), and the
 * VALIDATE_NEGOTIATE_INFO check of 3.0/3.0.2 ([MS-SMB2] 3.2.5.5 / 2.2.31.4)
 * that follows the first tree connect of a signed session.
 */
#include <stdio.h>

#include "smb2_private.h"
#include "../util/treq.h"

#define SHARE_TYPE_PIPE 0x02

struct tree_state {
	struct tevent_context *ev;
	struct smbsess__smb2_session *session;
	struct smbsess__smb2_tree *tree;
};

static struct smbsess_status parse_tree(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	struct smbsess__smb2_tree *t = out;

	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 16, 16));
	/* An async header has an AsyncId where the TreeId would be: no tree id to take. */
	if (smbsess__le32(r->msg + HDR_FLAGS) & FLAG_ASYNC)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	t->id = smbsess__le32(r->msg + HDR_TREE_ID);
	t->share_type = r->body[2];
	t->share_flags = smbsess__le32(r->body + 4);
	t->capabilities = smbsess__le32(r->body + 8);
	return SMBSESS__OK;
}

static void tree_connected(struct tevent_req *subreq);
static void tree_validated(struct tevent_req *subreq);

struct smbsess_status smbsess__smb2_tree_body(TALLOC_CTX *mem_ctx, const struct smbsess__smb2_session *session,
					      const char *share, uint8_t **body, size_t *body_len)
{
	size_t len = 8;
	char *path = talloc_asprintf(mem_ctx, "\\\\%s\\%s", session->conn->server_name, share);
	uint8_t *b = talloc_zero_array(mem_ctx, uint8_t, len);
	struct smbsess_status st = SMBSESS__OK;

	if (path == NULL || b == NULL)
		st = SMBSESS__ST_NOMEM;
	if (smbsess__st_ok(st))
		st = smbsess__smb2_put_utf16(mem_ctx, path, &b, &len);
	talloc_free(path);
	if (!smbsess__st_ok(st)) {
		talloc_free(b);
		return st;
	}
	smbsess__put_le16(b, 9);
	smbsess__put_le16(b + 4, SMBSESS__SMB2_HDR_LEN + 8);
	smbsess__put_le16(b + 6, (uint16_t)(len - 8));
	*body = b;
	*body_len = len;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_tree_from_resp(struct smbsess__smb2_session *session,
						   const struct smbsess__smb2_resp *r,
						   struct smbsess__smb2_tree **out)
{
	struct smbsess__smb2_tree got, *t;

	memset(&got, 0, sizeof got);
	SMBSESS__CHECK(parse_tree(r, &got, NULL));
	if ((got.share_flags & SHAREFLAG_ENCRYPT_DATA) && session->conn->cipher == 0)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	t = talloc_zero(session, struct smbsess__smb2_tree);
	if (t == NULL)
		return SMBSESS__ST_NOMEM;
	*t = got;
	t->session = session;
	t->encrypt = (got.share_flags & SHAREFLAG_ENCRYPT_DATA) != 0;
	*out = t;
	return SMBSESS__OK;
}

bool smbsess__smb2_tree_needs_validation(const struct smbsess__smb2_session *session)
{
	const struct smbsess__smb2_conn *conn = session->conn;

	return (conn->dialect == SMBSESS__SMB2_DIALECT_300 || conn->dialect == SMBSESS__SMB2_DIALECT_302) &&
	       session->signing && !session->encrypt;
}

struct tevent_req *smbsess__smb2_tree_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						   struct smbsess__smb2_session *session, const char *share)
{
	struct tevent_req *req, *subreq;
	struct tree_state *s;
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_TREE_CONNECT, .session = session };
	uint8_t *b;
	size_t len;

	req = tevent_req_create(mem_ctx, &s, struct tree_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->session = session;
	if (smbsess__req_nok(req, smbsess__smb2_tree_body(s, session, share, &b, &len)))
		return tevent_req_post(req, ev);
	call.body = b;
	call.body_len = len;
	subreq = smbsess__smb2_call_send(s, ev, session->conn, &call, 0);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, tree_connected, req);
	return req;
}

static void tree_connected(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct tree_state *s = tevent_req_data(req, struct tree_state);
	struct smbsess__smb2_resp r;
	struct smbsess_status st;

	st = smbsess__smb2_call_recv(subreq, s, &r);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	/* The request succeeded: the connection and the session are still there. */
	if (smbsess__req_nok(req, smbsess__smb2_tree_from_resp(s->session, &r, &s->tree)))
		return;

	/* 3.0/3.0.2: prove that nobody tampered with the negotiation. */
	if (smbsess__smb2_tree_needs_validation(s->session)) {
		struct smbsess__smb2_conn *conn = s->session->conn;
		uint8_t in[24 + 2 * 5];
		struct smbsess__smb2_fileid all_ones;
		size_t in_len = 24 + 2 * conn->n_client_dialects;

		memset(&all_ones, 0xFF, sizeof all_ones);
		smbsess__put_le32(in, conn->client_capabilities);
		memcpy(in + 4, conn->client_guid, 16);
		smbsess__put_le16(in + 20, conn->client_security_mode);
		smbsess__put_le16(in + 22, (uint16_t)conn->n_client_dialects);
		for (size_t i = 0; i < conn->n_client_dialects; i++)
			smbsess__put_le16(in + 24 + 2 * i, conn->client_dialects[i]);
		subreq = smbsess__smb2_ioctl_send(s, s->ev, s->tree, &all_ones,
						  SMBSESS__FSCTL_VALIDATE_NEGOTIATE_INFO, in, in_len, 24);
		if (tevent_req_nomem(subreq, req))
			return;
		tevent_req_set_callback(subreq, tree_validated, req);
		return;
	}
	tevent_req_done(req);
}

static void tree_validated(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct tree_state *s = tevent_req_data(req, struct tree_state);
	struct smbsess__smb2_conn *conn = s->session->conn;
	uint8_t *out;
	size_t len;
	bool more;
	struct smbsess_status st;

	st = smbsess__smb2_ioctl_recv(subreq, s, &out, &len, &more);
	if (smbsess__req_nok(req, st))
		return;
	/* Capabilities, ServerGuid, SecurityMode and Dialect must be what NEGOTIATE said. */
	if (len < 24 || more || smbsess__le32(out) != conn->capabilities ||
	    memcmp(out + 4, conn->server_guid, 16) != 0 || smbsess__le16(out + 20) != conn->security_mode ||
	    smbsess__le16(out + 22) != conn->dialect) {
		smbsess__smb2_conn_fail(conn, SMBSESS__ST_NT(0xC0000388)); /* STATUS_DOWNGRADE_DETECTED */
		smbsess__req_nok(req, SMBSESS__ST_NT(0xC0000388));
		return;
	}
	tevent_req_done(req);
}

struct smbsess_status smbsess__smb2_tree_connect_recv(struct tevent_req *req, struct smbsess__smb2_tree **tree)
{
	struct tree_state *s = tevent_req_data(req, struct tree_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*tree = s->tree;
		s->tree = NULL;
	} else {
		TALLOC_FREE(s->tree);
	}
	tevent_req_received(req);
	return st;
}

static struct smbsess_status parse_tdis(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	(void)out;
	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	return smbsess__smb2_check_body(r, 4, 4);
}

struct tevent_req *smbsess__smb2_tree_disconnect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						      struct smbsess__smb2_tree *tree)
{
	uint8_t b[4] = { 4, 0, 0, 0 };
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_TREE_DISCONNECT, .session = tree->session,
					   .tree = tree, .body = b, .body_len = sizeof b };

	return smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_tdis, 0);
}

struct smbsess_status smbsess__smb2_tree_disconnect_recv(struct tevent_req *req)
{
	return smbsess__smb2_op_recv(req, NULL, NULL);
}
