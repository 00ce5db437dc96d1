/*
 * Two related compounds ([MS-SMB2] 3.2.4.1.4, 3.3.5.2.7.2) that save round
 * trips for a named pipe: TREE_CONNECT + CREATE + IOCTL to open it and make
 * its first exchange, and CLOSE + TREE_DISCONNECT + LOGOFF to leave.
 *
 * Each later request of a related chain works on the TreeId and FileId the
 * one before it made; a failure fails the rest with the same status. A
 * server may refuse to go asynchronous in the middle of a chain (Samba
 * answers STATUS_INTERNAL_ERROR to a pipe IOCTL there), so the IOCTL, which
 * waits for the pipe's server, always comes last.
 *
 * Compounds are used from SMB 3.0 on. On 2.0.2 and 2.1 the same requests go
 * one by one: servers of that age (impacket's among them, which takes no
 * TreeId from a related TREE_CONNECT and signs compound answers wrongly)
 * do not all handle related chains.
 */
#include "smb2_private.h"
#include "../util/treq.h"

#define MAX_OPEN_CALLS 3

struct open_state {
	struct tevent_context *ev;
	struct smbsess__smb2_session *session;
	struct smbsess__smb2_tree *tree;      /* the tree made here, until received */
	struct smbsess__smb2_tree *use_tree;  /* the tree the CREATE goes to (NULL: the chain's own) */
	char *share, *name;
	uint32_t ctl_code, max_out;
	uint8_t *in;
	size_t in_len;
	bool retried;                         /* the CREATE went again, encrypted */
	struct smbsess__smb2_fileid fid;
	uint8_t *out;
	size_t out_len;
	bool more;
};

static void open_chain_done(struct tevent_req *subreq);
static void open_tree_done(struct tevent_req *subreq);
static void open_create_done(struct tevent_req *subreq);
static void open_ioctl_done(struct tevent_req *subreq);

static bool compounds(const struct smbsess__smb2_conn *conn)
{
	return conn->dialect >= SMBSESS__SMB2_DIALECT_300;
}

static void close_done(struct tevent_req *req)
{
	(void)smbsess__smb2_close_recv(req);
	talloc_free(req);
}

/* Sends [TREE_CONNECT,] CREATE, IOCTL. */
static void open_chain(struct tevent_req *req)
{
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess__smb2_call calls[MAX_OPEN_CALLS];
	struct smbsess__smb2_fileid related;
	struct tevent_req *subreq;
	size_t n = 0, len;
	uint8_t *b;

	memset(calls, 0, sizeof calls);
	memset(&related, 0xFF, sizeof related); /* "the file the CREATE before opened" */
	if (s->use_tree == NULL) {
		if (smbsess__req_nok(req, smbsess__smb2_tree_body(s, s->session, s->share, &b, &len)))
			return;
		calls[n++] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_TREE_CONNECT, .session = s->session,
							  .body = b, .body_len = len };
	}
	if (smbsess__req_nok(req, smbsess__smb2_create_body(s, s->name, &b, &len)))
		return;
	calls[n++] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_CREATE, .session = s->session,
						  .tree = s->use_tree, .body = b, .body_len = len };
	b = smbsess__smb2_ioctl_body(s, &related, s->ctl_code, s->in, s->in_len, s->max_out, &len);
	if (tevent_req_nomem(b, req))
		return;
	calls[n++] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_IOCTL, .session = s->session,
						  .tree = s->use_tree, .body = b, .body_len = len,
						  .expected_out = s->max_out };
	subreq = smbsess__smb2_calls_send(s, s->ev, s->session->conn, calls, n, true, 0);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, open_chain_done, req);
}

struct tevent_req *smbsess__smb2_open_ioctl_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						 struct smbsess__smb2_session *session, const char *share,
						 const char *name, uint32_t ctl_code, const uint8_t *in,
						 size_t in_len, uint32_t max_out)
{
	struct tevent_req *req, *subreq;
	struct open_state *s;

	req = tevent_req_create(mem_ctx, &s, struct open_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->session = session;
	s->ctl_code = ctl_code;
	s->max_out = max_out;
	s->in_len = in_len;
	if (session == NULL || session->conn == NULL || share == NULL || name == NULL || in == NULL || in_len == 0) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	s->share = talloc_strdup(s, share);
	s->name = talloc_strdup(s, name);
	s->in = talloc_memdup(s, in, in_len);
	if (tevent_req_nomem(s->share, req) || tevent_req_nomem(s->name, req) || tevent_req_nomem(s->in, req))
		return tevent_req_post(req, ev);
	if (smbsess__smb2_tree_needs_validation(session) || !compounds(session->conn)) {
		/* The tree first, on its own (VALIDATE_NEGOTIATE_INFO must follow it before anything else). */
		subreq = smbsess__smb2_tree_connect_send(s, ev, session, share);
		if (tevent_req_nomem(subreq, req))
			return tevent_req_post(req, ev);
		tevent_req_set_callback(subreq, open_tree_done, req);
		return req;
	}
	open_chain(req);
	if (!tevent_req_is_in_progress(req))
		return tevent_req_post(req, ev);
	return req;
}

static void open_tree_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess_status st = smbsess__smb2_tree_connect_recv(subreq, &s->tree);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	s->use_tree = s->tree;
	if (compounds(s->session->conn)) {
		open_chain(req);
		return;
	}
	subreq = smbsess__smb2_create_send(s, s->ev, s->tree, s->name);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, open_create_done, req);
}

static void open_create_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess_status st = smbsess__smb2_create_recv(subreq, &s->fid);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	subreq = smbsess__smb2_ioctl_send(s, s->ev, s->tree, &s->fid, s->ctl_code, s->in, s->in_len, s->max_out);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, open_ioctl_done, req);
}

/* The pipe is open on the server: close it in the background before failing. */
static void close_in_background(struct open_state *s)
{
	struct tevent_req *close_req = smbsess__smb2_close_send(s->use_tree, s->ev, s->use_tree, &s->fid);

	if (close_req != NULL)
		tevent_req_set_callback(close_req, close_done, NULL);
}

static void open_ioctl_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess_status st = smbsess__smb2_ioctl_recv(subreq, s, &s->out, &s->out_len, &s->more);

	TALLOC_FREE(subreq);
	if (!smbsess__st_ok(st)) {
		close_in_background(s);
		smbsess__req_nok(req, st);
		return;
	}
	tevent_req_done(req);
}

static void open_chain_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess__smb2_resp *r = NULL;
	struct smbsess_status st;
	size_t i = 0;

	st = smbsess__smb2_calls_recv(subreq, s, &r);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (s->use_tree == NULL) {
		if (smbsess__req_nok(req, smbsess__smb2_tree_from_resp(s->session, &r[0], &s->tree)))
			return;
		i = 1;
		/*
		 * A share that wants encryption on a session that does not
		 * encrypt everything: the CREATE and IOCTL went out in the
		 * clear, before we knew. Once more, on the tree, encrypted.
		 */
		if (s->tree->encrypt && !s->session->encrypt && r[1].status != SMBSESS__NT_OK && !s->retried) {
			s->retried = true;
			s->use_tree = s->tree;
			open_chain(req);
			return;
		}
		s->use_tree = s->tree;
	}
	if (smbsess__req_nok(req, smbsess__smb2_create_parse(&r[i], &s->fid)))
		return;
	if (smbsess__req_nok(req, smbsess__smb2_ioctl_parse(&r[i + 1], s, &s->out, &s->out_len, &s->more))) {
		close_in_background(s);
		return;
	}
	tevent_req_done(req);
}

struct smbsess_status smbsess__smb2_open_ioctl_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						    struct smbsess__smb2_tree **tree,
						    struct smbsess__smb2_fileid *fid, uint8_t **out,
						    size_t *out_len, bool *more)
{
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*tree = s->tree;
		s->tree = NULL;
		*fid = s->fid;
		*out = talloc_move(mem_ctx, &s->out);
		*out_len = s->out_len;
		*more = s->more;
	} else {
		TALLOC_FREE(s->tree);
	}
	tevent_req_received(req);
	return st;
}

/* ---- leaving ---- */

struct leave_state {
	struct tevent_context *ev;
	struct smbsess__smb2_tree *tree;
	unsigned step; /* sequential: 0 CLOSE, 1 TREE_DISCONNECT, 2 LOGOFF */
};

static void leave_chain_done(struct tevent_req *subreq);
static void leave_step_done(struct tevent_req *subreq);

struct tevent_req *smbsess__smb2_leave_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree, const struct smbsess__smb2_fileid *fid)
{
	static const uint8_t four[4] = { 4, 0, 0, 0 };
	struct tevent_req *req, *subreq;
	struct leave_state *s;
	struct smbsess__smb2_session *session;
	uint8_t close_body[24];

	req = tevent_req_create(mem_ctx, &s, struct leave_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->tree = tree;
	if (tree == NULL || fid == NULL || tree->session->conn == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	session = tree->session;
	if (compounds(session->conn)) {
		struct smbsess__smb2_call calls[3] = {
			{ .cmd = SMBSESS__SMB2_CLOSE, .session = session, .tree = tree, .body = close_body,
			  .body_len = sizeof close_body },
			{ .cmd = SMBSESS__SMB2_TREE_DISCONNECT, .session = session, .tree = tree, .body = four,
			  .body_len = sizeof four },
			{ .cmd = SMBSESS__SMB2_LOGOFF, .session = session, .body = four, .body_len = sizeof four },
		};

		smbsess__smb2_close_body(fid, close_body);
		subreq = smbsess__smb2_calls_send(s, ev, session->conn, calls, 3, true, 0);
		if (tevent_req_nomem(subreq, req))
			return tevent_req_post(req, ev);
		tevent_req_set_callback(subreq, leave_chain_done, req);
		return req;
	}
	subreq = smbsess__smb2_close_send(s, ev, tree, fid);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, leave_step_done, req);
	return req;
}

static void leave_chain_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct leave_state *s = tevent_req_data(req, struct leave_state);
	struct smbsess__smb2_resp *r = NULL;
	struct smbsess_status st = smbsess__smb2_calls_recv(subreq, s, &r);

	TALLOC_FREE(subreq);
	/* The first failure in the chain is what the others failed with too. */
	for (size_t i = 0; smbsess__st_ok(st) && i < 3; i++)
		st = smbsess__smb2_nt(r[i].status);
	if (smbsess__req_nok(req, st))
		return;
	tevent_req_done(req);
}

static void leave_step_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct leave_state *s = tevent_req_data(req, struct leave_state);
	struct smbsess_status st;

	switch (s->step++) {
	case 0: st = smbsess__smb2_close_recv(subreq); break;
	case 1: st = smbsess__smb2_tree_disconnect_recv(subreq); break;
	default: st = smbsess__smb2_logoff_recv(subreq); break;
	}
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (s->step == 3) {
		tevent_req_done(req);
		return;
	}
	subreq = s->step == 1 ? smbsess__smb2_tree_disconnect_send(s, s->ev, s->tree)
			      : smbsess__smb2_logoff_send(s, s->ev, s->tree->session);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, leave_step_done, req);
}

struct smbsess_status smbsess__smb2_leave_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}
