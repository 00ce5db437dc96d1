#include <stdio.h>

#include "fake_srvsvc.h"
#include "rpc/pdu.h"
#include "util/treq.h"

static const uint32_t sess_levels[] = { 502, 2, 1, 10, 0 };
static const uint32_t file_levels[] = { 3, 2 };

void fake_srvsvc_file(TALLOC_CTX *mem, uint32_t i, struct smbsess__srvsvc_file_info *out)
{
	out->fid = 1000 + i;
	out->permissions = 3;
	out->num_locks = i % 3;
	out->path = talloc_asprintf(mem, "C:\\share\\dir%u\\file-%05u.txt", i % 7, i);
	out->user = talloc_asprintf(mem, "user%u", i % 5);
}

void fake_srvsvc_session(TALLOC_CTX *mem, uint32_t i, struct smbsess__srvsvc_sess_info *out)
{
	out->client = talloc_asprintf(mem, "\\\\10.0.%u.%u", i / 250, i % 250 + 1);
	out->user = talloc_asprintf(mem, "user%u", i % 5);
	out->num_open = i % 4;
	out->time = 100 + i;
	out->idle_time = i % 60;
	out->user_flags = 0;
	out->client_type = (char *)"Windows";
	out->transport = (char *)"\\Device\\NetbiosSmb";
}

static bool level_ok(uint32_t mask, const uint32_t *levels, size_t n, uint32_t level)
{
	for (size_t i = 0; i < n; i++)
		if (levels[i] == level)
			return mask == 0 || (mask & (1u << i));
	return false;
}

/* Windows-like paging: as many entries as the budget allows, at least one. */
static uint32_t page_size(uint32_t max_buffer, size_t entry_bytes, uint32_t left)
{
	uint64_t n = max_buffer == 0xFFFFFFFFu ? left : max_buffer / entry_bytes;

	if (n == 0)
		n = 1;
	return n > left ? left : (uint32_t)n;
}

static void fill_enum(struct fake_srvsvc *f, TALLOC_CTX *mem, enum smbsess__srvsvc_kind kind, uint32_t total,
		      uint32_t level, uint32_t max_buffer, uint32_t resume, struct smbsess__srvsvc_enum_out *o)
{
	size_t size = smbsess__srvsvc_info_size(kind);
	uint32_t start = f->stuck_resume ? 0 : resume;
	uint32_t n = start >= total ? 0 : page_size(max_buffer, 64, total - start);
	uint8_t *array = talloc_zero_size(mem, (size_t)n * size + 1);

	for (uint32_t i = 0; i < n; i++) {
		if (kind == SMBSESS__SRVSVC_FILES)
			fake_srvsvc_file(mem, start + i, (void *)(array + (size_t)i * size));
		else
			fake_srvsvc_session(mem, start + i, (void *)(array + (size_t)i * size));
	}
	o->ctr = (struct smbsess__srvsvc_ctr){ level, true, n, array };
	o->totalentries = total;
	o->resume_handle.present = true;
	if (start + n < total) {
		o->result = 234; /* ERROR_MORE_DATA */
		o->resume_handle.value = f->stuck_resume ? resume : start + n;
	} else {
		o->result = 0;
		o->resume_handle.value = 0;
	}
	f->pages++;
}

/* Handles one complete request stub; returns the response stub or a fault status. */
static uint32_t serve(struct fake_srvsvc *f, TALLOC_CTX *mem, uint16_t opnum, uint8_t **out, size_t *out_len)
{
	union {
		struct smbsess__srvsvc_sess_enum_in sess;
		struct smbsess__srvsvc_file_enum_in file;
		struct smbsess__srvsvc_file_get_info_in gi;
	} in;
	struct smbsess__srvsvc_enum_out o;
	struct smbsess__srvsvc_file_get_info_out gio;
	smbsess__ndr_fn in_fn, out_fn = smbsess__srvsvc_sess_enum_out;
	void *outp = &o;

	memset(&in, 0, sizeof in);
	memset(&o, 0, sizeof o);
	f->calls++;
	switch (opnum) {
	case SMBSESS__SRVSVC_NETRSESSIONENUM: in_fn = smbsess__srvsvc_sess_enum_in; break;
	case SMBSESS__SRVSVC_NETRFILEENUM: in_fn = smbsess__srvsvc_file_enum_in; out_fn = smbsess__srvsvc_file_enum_out; break;
	case SMBSESS__SRVSVC_NETRFILEGETINFO:
		if (f->get_info_fault)
			return 0x1C010002; /* nca_s_op_rng_error */
		in_fn = smbsess__srvsvc_file_get_info_in;
		out_fn = smbsess__srvsvc_file_get_info_out;
		outp = &gio;
		break;
	default:
		return 0x1C010002;
	}
	if (!smbsess__st_ok(smbsess__ndr_pull_blob(mem, f->req_stub, f->req_len, NULL, in_fn, &in, sizeof in)))
		return 0x000006F7; /* nca_s_fault_ndr */

	if (opnum == SMBSESS__SRVSVC_NETRFILEGETINFO) {
		memset(&gio, 0, sizeof gio);
		gio.level = in.gi.level;
		if (in.gi.fid >= 1000 && in.gi.fid < 1000 + f->n_files) {
			gio.present = true;
			fake_srvsvc_file(mem, in.gi.fid - 1000, &gio.info);
		} else {
			gio.result = 2314;
		}
	} else {
		bool sess = opnum == SMBSESS__SRVSVC_NETRSESSIONENUM;
		struct smbsess__srvsvc_ctr *c = sess ? &in.sess.ctr : &in.file.ctr;
		uint32_t maxb = sess ? in.sess.max_buffer : in.file.max_buffer;
		uint32_t resume = sess ? in.sess.resume_handle.value : in.file.resume_handle.value;

		f->last_level = c->level;
		f->last_max_buffer = maxb;
		o.ctr.level = c->level;
		if (f->force_result) {
			o.result = f->force_result;
		} else if (sess ? !level_ok(f->sess_levels, sess_levels, 5, c->level)
				: !level_ok(f->file_levels, file_levels, 2, c->level)) {
			o.result = 124; /* ERROR_INVALID_LEVEL */
		} else {
			fill_enum(f, mem, sess ? SMBSESS__SRVSVC_SESSIONS : SMBSESS__SRVSVC_FILES,
				  sess ? f->n_sessions : f->n_files, c->level, maxb, resume, &o);
		}
	}
	if (!smbsess__st_ok(smbsess__ndr_push_blob(mem, out_fn, outp, out, out_len)))
		return 0x1C010003;
	return 0;
}

/* Queues PDUs of type @p ptype carrying @p stub, split into fragments the client accepts. */
static void queue_response(struct fake_srvsvc *f, TALLOC_CTX *mem, uint32_t call_id, const uint8_t *stub, size_t len)
{
	size_t per = ((size_t)f->max_recv_frag - RPC_RESP_HDR_LEN) & ~(size_t)7;
	size_t off = 0;

	do {
		size_t n = len - off < per ? len - off : per;
		uint8_t flags = (off == 0 ? RPC_PFC_FIRST_FRAG : 0) | (off + n == len ? RPC_PFC_LAST_FRAG : 0);
		size_t at = f->out_len;

		f->out = talloc_realloc(mem, f->out, uint8_t, f->out_len + RPC_RESP_HDR_LEN + n);
		smbsess__rpc_put_hdr(f->out + at, RPC_PTYPE_RESPONSE, flags, (uint16_t)(RPC_RESP_HDR_LEN + n), call_id);
		smbsess__put_le32(f->out + at + 16, (uint32_t)(len - off)); /* alloc_hint */
		smbsess__put_le32(f->out + at + 20, 0);                     /* context id, cancel count */
		memcpy(f->out + at + RPC_RESP_HDR_LEN, stub + off, n);
		f->out_len += RPC_RESP_HDR_LEN + n;
		off += n;
	} while (off < len);
}

static void queue_fault(struct fake_srvsvc *f, TALLOC_CTX *mem, uint32_t call_id, uint32_t status)
{
	size_t at = f->out_len;

	f->out = talloc_realloc(mem, f->out, uint8_t, f->out_len + RPC_FAULT_HDR_LEN);
	memset(f->out + at, 0, RPC_FAULT_HDR_LEN);
	smbsess__rpc_put_hdr(f->out + at, RPC_PTYPE_FAULT, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG,
			     RPC_FAULT_HDR_LEN, call_id);
	smbsess__put_le32(f->out + at + 24, status);
	f->out_len += RPC_FAULT_HDR_LEN;
}

static void queue_bind_ack(struct fake_srvsvc *f, TALLOC_CTX *mem, const uint8_t *bind, size_t len)
{
	static const char addr[] = "\\PIPE\\srvsvc";
	uint8_t b[128];
	size_t o = 0;

	memset(b, 0, sizeof b);
	/* It sends fragments of what the client receives, at most the 4280 it announces. */
	f->max_recv_frag = len >= 20 && smbsess__le16(bind + 18) < 4280 ? smbsess__le16(bind + 18) : 4280;
	smbsess__put_le16(b + 16, 4280);
	smbsess__put_le16(b + 18, 4280);
	smbsess__put_le32(b + 20, 0x12345);
	smbsess__put_le16(b + 24, sizeof addr);
	memcpy(b + 26, addr, sizeof addr);
	o = (26 + sizeof addr + 3) & ~(size_t)3;
	b[o] = 1;                                /* one result */
	smbsess__put_le16(b + o + 4, 0);        /* acceptance */
	memcpy(b + o + 8, smbsess__rpc_ndr20_uuid, 16);
	smbsess__put_le32(b + o + 24, 2);
	o += 28;
	smbsess__rpc_put_hdr(b, RPC_PTYPE_BIND_ACK, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG, (uint16_t)o,
			     smbsess__le32(bind + 12));
	f->out = talloc_realloc(mem, f->out, uint8_t, f->out_len + o);
	memcpy(f->out + f->out_len, b, o);
	f->out_len += o;
}

/* Takes one PDU from the client. */
static void receive(struct fake_srvsvc *f, TALLOC_CTX *mem, const uint8_t *p, size_t len)
{
	if (len < 16)
		return;
	if (p[2] == RPC_PTYPE_BIND) {
		queue_bind_ack(f, mem, p, len);
		return;
	}
	if (p[2] != RPC_PTYPE_REQUEST || len < RPC_REQ_HDR_LEN)
		return;
	if (p[3] & RPC_PFC_FIRST_FRAG)
		f->req_len = 0;
	f->req_stub = talloc_realloc(mem, f->req_stub, uint8_t, f->req_len + len - RPC_REQ_HDR_LEN + 1);
	memcpy(f->req_stub + f->req_len, p + RPC_REQ_HDR_LEN, len - RPC_REQ_HDR_LEN);
	f->req_len += len - RPC_REQ_HDR_LEN;
	if (p[3] & RPC_PFC_LAST_FRAG) {
		TALLOC_CTX *tmp = talloc_new(mem);
		uint8_t *stub;
		size_t stub_len;
		uint32_t fault = serve(f, tmp, smbsess__le16(p + 22), &stub, &stub_len);

		if (fault)
			queue_fault(f, mem, smbsess__le32(p + 12), fault);
		else
			queue_response(f, mem, smbsess__le32(p + 12), stub, stub_len);
		talloc_free(tmp);
	}
}

/* Hands out up to @p max queued bytes. */
static void take(struct fake_srvsvc *f, TALLOC_CTX *mem, uint32_t max, uint8_t **out, size_t *len, bool *more)
{
	size_t left = f->out_len - f->out_ofs;
	size_t n = left < max ? left : max;

	*out = talloc_memdup(mem, f->out + f->out_ofs, n ? n : 1);
	*len = n;
	f->out_ofs += n;
	*more = f->out_ofs < f->out_len;
	if (!*more) {
		f->out_len = f->out_ofs = 0;
	}
}

struct io_state {
	uint8_t *out;
	size_t len;
	bool more;
};

struct fake_ctx {
	struct fake_srvsvc *f;
};

static struct tevent_req *fake_transceive_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					       const uint8_t *data, size_t len, uint32_t max_out)
{
	struct fake_ctx *c = ctx;
	struct io_state *s;
	struct tevent_req *req = tevent_req_create(mem_ctx, &s, struct io_state);

	if (req == NULL)
		return NULL;
	receive(c->f, c, data, len);
	take(c->f, s, max_out, &s->out, &s->len, &s->more);
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static struct smbsess_status io_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, uint8_t **out, size_t *out_len,
				     bool *more)
{
	struct io_state *s = tevent_req_data(req, struct io_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*out = talloc_move(mem_ctx, &s->out);
		*out_len = s->len;
		*more = s->more;
	}
	tevent_req_received(req);
	return st;
}

static struct tevent_req *fake_write_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					  const uint8_t *data, size_t len)
{
	struct fake_ctx *c = ctx;
	struct io_state *s;
	struct tevent_req *req = tevent_req_create(mem_ctx, &s, struct io_state);

	if (req == NULL)
		return NULL;
	receive(c->f, c, data, len);
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static struct smbsess_status fake_write_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}

static struct tevent_req *fake_read_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx, uint32_t max)
{
	struct fake_ctx *c = ctx;
	struct io_state *s;
	struct tevent_req *req = tevent_req_create(mem_ctx, &s, struct io_state);

	if (req == NULL)
		return NULL;
	take(c->f, s, max, &s->out, &s->len, &s->more);
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static const struct smbsess__rpc_transport_ops fake_ops = {
	.name = "fake-srvsvc",
	.transceive_send = fake_transceive_send,
	.transceive_recv = io_recv,
	.write_send = fake_write_send,
	.write_recv = fake_write_recv,
	.read_send = fake_read_send,
	.read_recv = io_recv,
};

struct smbsess__rpc_transport *fake_srvsvc_transport(TALLOC_CTX *mem_ctx, struct fake_srvsvc *f)
{
	struct smbsess__rpc_transport *t = talloc_zero(mem_ctx, struct smbsess__rpc_transport);
	struct fake_ctx *c;

	if (t == NULL)
		return NULL;
	c = talloc_zero(t, struct fake_ctx);
	if (c == NULL) {
		talloc_free(t);
		return NULL;
	}
	c->f = f;
	t->ops = &fake_ops;
	t->ctx = c;
	return t;
}
