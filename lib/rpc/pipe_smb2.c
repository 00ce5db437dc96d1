/*
 * The RPC transport over an SMB2 named pipe: transceive is the IOCTL
 * FSCTL_PIPE_TRANSCEIVE, write and read are WRITE and READ at offset 0.
 *
 * A pipe made by smbsess__rpc_smb2_pipe_new opens itself on its first
 * transceive (the bind): TREE_CONNECT + CREATE + IOCTL in one compound, one
 * round trip instead of three; smbsess__rpc_smb2_leave_send ends it with
 * CLOSE + TREE_DISCONNECT + LOGOFF in one.
 *
 * [MS-SMB2] 2.2.4 requires MaxTransactSize, MaxReadSize and MaxWriteSize of
 * at least 65536, so operations of up to 64 KiB need no look at the
 * connection's limits: reads ask for at most that, writes go in pieces of it.
 */
#include "rpc.h"
#include "../smb2/smb2.h"
#include "../util/treq.h"

#define OP_MAX 65536u

struct smb2_pipe {
	struct tevent_context *ev;
	/* the tree the pipe is open on: NULL before the open, and once the tree is gone */
	struct smbsess__weak *tree;
	struct smbsess__smb2_fileid fid;
	/* a pipe that opens on its first transceive: the session to open it on, until then */
	struct smbsess__weak *session;
	char *share, *name;
	bool opened;
	bool left;                       /* closed by the leave compound: nothing to close */
};

static struct smbsess__smb2_tree *pipe_tree(const struct smb2_pipe *p)
{
	return smbsess__weak_get(p->tree);
}

static void close_done(struct tevent_req *req)
{
	(void)smbsess__smb2_close_recv(req);
	talloc_free(req);
}

static int smb2_pipe_destructor(struct smb2_pipe *p)
{
	struct tevent_req *req;

	struct smbsess__smb2_tree *tree = pipe_tree(p);

	if (tree == NULL || p->left)
		return 0;
	/* Closed in the background: the request lives on the tree and frees itself. */
	req = smbsess__smb2_close_send(tree, p->ev, tree, &p->fid);
	if (req != NULL)
		tevent_req_set_callback(req, close_done, NULL);
	return 0;
}

/* ---- the operations ---- */

struct op_state {
	struct smb2_pipe *pipe;
	const uint8_t *data;
	size_t len, written, chunk;
	uint8_t *out;
	size_t out_len;
	bool more;
	struct tevent_req *subreq;
};

static struct tevent_req *op_create(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
				    struct op_state **s)
{
	struct tevent_req *req = tevent_req_create(mem_ctx, s, struct op_state);
	struct smb2_pipe *p = ctx;

	if (req == NULL)
		return NULL;
	(*s)->pipe = p;
	if (pipe_tree(p) == NULL || p->left) {
		/* A pipe not yet open takes its first transceive (the caller checks). */
		smbsess__req_nok(req, SMBSESS__ST_LIB(p->opened || p->left ? SMBSESS_E_DISCONNECTED
								 : SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	return req;
}

static void open_transceive_done(struct tevent_req *subreq);

/* The first transceive of a pipe not yet open: TREE_CONNECT + CREATE + IOCTL. */
static struct tevent_req *open_transceive_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					       struct smb2_pipe *p, const uint8_t *data, size_t len,
					       uint32_t max_out)
{
	struct op_state *s;
	struct tevent_req *req = tevent_req_create(mem_ctx, &s, struct op_state), *subreq;

	if (req == NULL)
		return NULL;
	s->pipe = p;
	if (smbsess__weak_get(p->session) == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	subreq = smbsess__smb2_open_ioctl_send(s, ev, smbsess__weak_get(p->session), p->share, p->name, SMBSESS__FSCTL_PIPE_TRANSCEIVE,
					       data, len, max_out < OP_MAX ? max_out : OP_MAX);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, open_transceive_done, req);
	return req;
}

static void open_transceive_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smb2_pipe *p = s->pipe;
	struct smbsess__smb2_tree *tree = NULL;
	struct smbsess_status st;

	st = smbsess__smb2_open_ioctl_recv(subreq, s, &tree, &p->fid, &s->out, &s->out_len, &s->more);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	/* From here the tree and the open handle belong to the pipe: freeing it closes the handle. */
	p->tree = smbsess__weak_new(p, tree);
	if (tevent_req_nomem(p->tree, req)) {
		subreq = smbsess__smb2_close_send(tree, p->ev, tree, &p->fid);
		if (subreq != NULL)
			tevent_req_set_callback(subreq, close_done, NULL);
		return;
	}
	p->opened = true;
	TALLOC_FREE(p->session);
	tevent_req_done(req);
}

static void transceive_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smbsess_status st = smbsess__smb2_ioctl_recv(subreq, s, &s->out, &s->out_len, &s->more);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	tevent_req_done(req);
}

static struct tevent_req *smb2_transceive_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					       const uint8_t *data, size_t len, uint32_t max_out)
{
	struct smb2_pipe *p = ctx;
	struct op_state *s;
	struct tevent_req *req, *subreq;

	if (!p->opened && !p->left && len > 0 && len <= OP_MAX)
		return open_transceive_send(mem_ctx, ev, p, data, len, max_out);
	req = op_create(mem_ctx, ev, ctx, &s);
	if (req == NULL || !tevent_req_is_in_progress(req))
		return req;
	if (len == 0 || len > OP_MAX) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	subreq = smbsess__smb2_ioctl_send(s, ev, pipe_tree(s->pipe), &s->pipe->fid, SMBSESS__FSCTL_PIPE_TRANSCEIVE,
					  data, len, max_out < OP_MAX ? max_out : OP_MAX);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, transceive_done, req);
	return req;
}

static struct smbsess_status data_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, uint8_t **out,
				       size_t *out_len, bool *more)
{
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*out = talloc_move(mem_ctx, &s->out);
		*out_len = s->out_len;
		*more = s->more;
	}
	tevent_req_received(req);
	return st;
}

static void read_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smbsess_status st = smbsess__smb2_read_recv(subreq, s, &s->out, &s->out_len, &s->more);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	tevent_req_done(req);
}

static struct tevent_req *smb2_read_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx, uint32_t max)
{
	struct op_state *s;
	struct tevent_req *req = op_create(mem_ctx, ev, ctx, &s), *subreq;

	if (req == NULL || !tevent_req_is_in_progress(req))
		return req;
	if (max == 0) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	subreq = smbsess__smb2_read_send(s, ev, pipe_tree(s->pipe), &s->pipe->fid, max < OP_MAX ? max : OP_MAX, 0);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, read_done, req);
	return req;
}

static void write_done(struct tevent_req *subreq);

static bool write_next(struct tevent_req *req, struct tevent_context *ev)
{
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct tevent_req *subreq;

	if (pipe_tree(s->pipe) == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return false;
	}
	s->chunk = s->len - s->written < OP_MAX ? s->len - s->written : OP_MAX;
	subreq = smbsess__smb2_write_send(s, ev, pipe_tree(s->pipe), &s->pipe->fid, s->data + s->written, s->chunk, 0);
	if (tevent_req_nomem(subreq, req))
		return false;
	tevent_req_set_callback(subreq, write_done, req);
	return true;
}

static void write_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct op_state *s = tevent_req_data(req, struct op_state);
	uint32_t n = 0;
	struct smbsess_status st = smbsess__smb2_write_recv(subreq, &n);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	/* A short write goes on with the rest; nothing written would never end. */
	if (n == 0 || n > s->chunk) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		return;
	}
	s->written += n;
	if (s->written == s->len) {
		tevent_req_done(req);
		return;
	}
	write_next(req, s->pipe->ev);
}

static struct tevent_req *smb2_write_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					  const uint8_t *data, size_t len)
{
	struct op_state *s;
	struct tevent_req *req = op_create(mem_ctx, ev, ctx, &s);

	if (req == NULL || !tevent_req_is_in_progress(req))
		return req;
	if (len == 0) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	s->data = data;
	s->len = len;
	if (!write_next(req, ev))
		return tevent_req_post(req, ev);
	return req;
}

static struct smbsess_status smb2_write_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}

static const struct smbsess__rpc_transport_ops smb2_ops = {
	.name = "smb2",
	.transceive_send = smb2_transceive_send,
	.transceive_recv = data_recv,
	.write_send = smb2_write_send,
	.write_recv = smb2_write_recv,
	.read_send = smb2_read_send,
	.read_recv = data_recv,
};

/* ---- opening ---- */

struct open_state {
	struct tevent_context *ev;
	struct smbsess__smb2_tree *tree;
	struct smbsess__rpc_transport *transport;
};

static void open_done(struct tevent_req *subreq);

struct tevent_req *smbsess__rpc_smb2_open_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					       struct smbsess__smb2_tree *tree, const char *pipe_name)
{
	struct tevent_req *req, *subreq;
	struct open_state *s;
	size_t units;

	req = tevent_req_create(mem_ctx, &s, struct open_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->tree = tree;
	if (tree == NULL || pipe_name == NULL || pipe_name[0] == '\0' ||
	    !smbsess__st_ok(smbsess__utf8_utf16_units(pipe_name, strlen(pipe_name), &units))) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	subreq = smbsess__smb2_create_send(s, ev, tree, pipe_name);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, open_done, req);
	return req;
}

static void open_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess__smb2_fileid fid;
	struct smbsess_status st = smbsess__smb2_create_recv(subreq, &fid);
	struct smb2_pipe *p;

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	/* From here the open handle belongs to the transport: freeing it, even unreceived, closes it. */
	s->transport = talloc_zero(s, struct smbsess__rpc_transport);
	p = s->transport ? talloc_zero(s->transport, struct smb2_pipe) : NULL;
	if (p != NULL)
		p->tree = smbsess__weak_new(p, s->tree);
	if (p == NULL || p->tree == NULL) {
		TALLOC_FREE(s->transport);
		/* Still close what the server opened. */
		subreq = smbsess__smb2_close_send(s->tree, s->ev, s->tree, &fid);
		if (subreq != NULL)
			tevent_req_set_callback(subreq, close_done, NULL);
		tevent_req_oom(req);
		return;
	}
	p->ev = s->ev;
	p->fid = fid;
	p->opened = true;
	talloc_set_destructor(p, smb2_pipe_destructor);
	s->transport->ops = &smb2_ops;
	s->transport->ctx = p;
	tevent_req_done(req);
}

struct smbsess_status smbsess__rpc_smb2_open_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						  struct smbsess__rpc_transport **transport)
{
	struct open_state *s = tevent_req_data(req, struct open_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st))
		*transport = talloc_move(mem_ctx, &s->transport);
	tevent_req_received(req);
	return st;
}

/* ---- a pipe that opens itself, and leaving ---- */

struct smbsess__rpc_transport *smbsess__rpc_smb2_pipe_new(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							  struct smbsess__smb2_session *session,
							  const char *share, const char *pipe_name)
{
	struct smbsess__rpc_transport *t;
	struct smb2_pipe *p;
	size_t units;

	if (session == NULL || share == NULL || pipe_name == NULL || pipe_name[0] == '\0' ||
	    !smbsess__st_ok(smbsess__utf8_utf16_units(pipe_name, strlen(pipe_name), &units)))
		return NULL;
	t = talloc_zero(mem_ctx, struct smbsess__rpc_transport);
	p = t ? talloc_zero(t, struct smb2_pipe) : NULL;
	if (p == NULL) {
		talloc_free(t);
		return NULL;
	}
	p->ev = ev;
	p->session = smbsess__weak_new(p, session);
	p->share = talloc_strdup(p, share);
	p->name = talloc_strdup(p, pipe_name);
	talloc_set_destructor(p, smb2_pipe_destructor);
	if (p->share == NULL || p->name == NULL || p->session == NULL) {
		talloc_free(t);
		return NULL;
	}
	t->ops = &smb2_ops;
	t->ctx = p;
	return t;
}

static struct smb2_pipe *smb2_pipe_of(const struct smbsess__rpc_transport *t)
{
	return t != NULL && t->ops == &smb2_ops ? t->ctx : NULL;
}

struct smbsess__smb2_tree *smbsess__rpc_smb2_tree(const struct smbsess__rpc_transport *transport)
{
	struct smb2_pipe *p = smb2_pipe_of(transport);

	return p ? pipe_tree(p) : NULL;
}

struct leave_state {
	struct smb2_pipe *pipe;
};

static void leave_done(struct tevent_req *subreq);

struct tevent_req *smbsess__rpc_smb2_leave_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						struct smbsess__rpc_transport *transport)
{
	struct tevent_req *req, *subreq;
	struct leave_state *s;
	struct smb2_pipe *p = smb2_pipe_of(transport);

	req = tevent_req_create(mem_ctx, &s, struct leave_state);
	if (req == NULL)
		return NULL;
	s->pipe = p;
	if (p == NULL || p->left || pipe_tree(p) == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(p == NULL ? SMBSESS_E_INVALID_ARGUMENT : SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	subreq = smbsess__smb2_leave_send(s, ev, pipe_tree(p), &p->fid);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	/* Whatever the answer, the handle is not ours to close any more. */
	p->left = true;
	tevent_req_set_callback(subreq, leave_done, req);
	return req;
}

static void leave_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct smbsess_status st = smbsess__smb2_leave_recv(subreq);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	tevent_req_done(req);
}

struct smbsess_status smbsess__rpc_smb2_leave_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}
