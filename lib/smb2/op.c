/* The generic one-call request used by the command files. */
#include "smb2_private.h"
#include "../util/treq.h"

struct op_state {
	smbsess__smb2_parse_fn parse;
	void *out;
	size_t out_size;
	TALLOC_CTX *out_mem;
};

static void op_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smbsess__smb2_resp r;
	struct smbsess_status st;

	st = smbsess__smb2_call_recv(subreq, s, &r);
	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (smbsess__req_nok(req, s->parse(&r, s->out, s->out_mem)))
		return;
	tevent_req_done(req);
}

struct tevent_req *smbsess__smb2_op_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					 struct smbsess__smb2_conn *conn,
					 const struct smbsess__smb2_call *call,
					 smbsess__smb2_parse_fn parse, size_t out_size)
{
	struct tevent_req *req, *subreq;
	struct op_state *s;

	req = tevent_req_create(mem_ctx, &s, struct op_state);
	if (req == NULL)
		return NULL;
	s->parse = parse;
	s->out_size = out_size;
	s->out = talloc_zero_size(s, out_size ? out_size : 1);
	s->out_mem = talloc_new(s);
	if (tevent_req_nomem(s->out, req) || tevent_req_nomem(s->out_mem, req))
		return tevent_req_post(req, ev);
	subreq = smbsess__smb2_call_send(s, ev, conn, call, 0);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, op_done, req);
	return req;
}

struct smbsess_status smbsess__smb2_op_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, void *out)
{
	struct op_state *s = tevent_req_data(req, struct op_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st) && out != NULL) {
		memcpy(out, s->out, s->out_size);
		/* Without a mem_ctx the parser allocated nothing to keep. */
		if (mem_ctx != NULL)
			talloc_steal(mem_ctx, s->out_mem);
	}
	tevent_req_received(req);
	return st;
}

struct smbsess_status smbsess__smb2_put_utf16(TALLOC_CTX *mem_ctx, const char *s, uint8_t **b, size_t *len)
{
	size_t slen = strlen(s), units;
	uint8_t *nb;

	SMBSESS__CHECK(smbsess__utf8_utf16_units(s, slen, &units));
	if (units > 32767)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	nb = talloc_realloc(mem_ctx, *b, uint8_t, *len + 2 * units + 1);
	if (nb == NULL)
		return SMBSESS__ST_NOMEM;
	smbsess__utf8_to_utf16le(s, slen, nb + *len);
	*b = nb;
	*len += 2 * units;
	return SMBSESS__OK;
}
