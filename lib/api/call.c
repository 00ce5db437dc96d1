/* One srvsvc call: NDR push, RPC call on the connection's pipe, NDR pull. */
#include "api.h"

struct call_state {
	/* the caller's limits, taken at the start: the connection may be freed before the answer */
	uint32_t max_entries;
	size_t max_bytes;
	smbsess__ndr_fn out_fn;
	void *out;
	size_t out_size;
	TALLOC_CTX *out_mem;
};

static void call_done(struct tevent_req *subreq);

struct tevent_req *smbsess__api_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess_conn *conn, uint16_t opnum,
					  smbsess__ndr_fn in_fn, void *in,
					  smbsess__ndr_fn out_fn, void *out, size_t out_size,
					  TALLOC_CTX *out_mem)
{
	struct tevent_req *req, *subreq;
	struct call_state *s;
	uint8_t *stub;
	size_t len;

	req = tevent_req_create(mem_ctx, &s, struct call_state);
	if (req == NULL)
		return NULL;
	s->max_entries = conn->opts.max_entries;
	s->max_bytes = conn->opts.max_bytes;
	s->out_fn = out_fn;
	s->out = out;
	s->out_size = out_size;
	s->out_mem = out_mem;
	if (conn->pipe == NULL || conn->left) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	if (smbsess__req_nok(req, smbsess__ndr_push_blob(s, in_fn, in, &stub, &len)))
		return tevent_req_post(req, ev);
	subreq = smbsess__rpc_call_send(s, ev, conn->pipe, opnum, stub, len, conn->opts.timeout_ms);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, call_done, req);
	return req;
}

static void call_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct call_state *s = tevent_req_data(req, struct call_state);
	struct smbsess__ndr_limits limits = smbsess__ndr_default_limits;
	uint8_t *stub;
	size_t len;

	if (smbsess__req_nok(req, smbsess__rpc_call_recv(subreq, s, &stub, &len)))
		return;
	TALLOC_FREE(subreq);
	/* A page can never hold more entries than the caller lets an enumeration collect. */
	limits.max_entries = s->max_entries;
	/* Nor take more memory to decode than the caller lets it keep. */
	if (limits.max_alloc > s->max_bytes)
		limits.max_alloc = s->max_bytes;
	if (smbsess__req_nok(req, smbsess__ndr_pull_blob(s->out_mem, stub, len, &limits, s->out_fn, s->out,
						      s->out_size)))
		return;
	tevent_req_done(req);
}

struct smbsess_status smbsess__api_call_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}
