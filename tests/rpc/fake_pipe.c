/* The scripted RPC server of the unit tests (see fake_pipe.h). */
#include <stdlib.h>

#include "fake_pipe.h"
#include "util/treq.h"

static const uint8_t ndr20[16] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
				   0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };

void blob_cat(TALLOC_CTX *mem, uint8_t **a, size_t *a_len, const uint8_t *b, size_t b_len)
{
	uint8_t *n = talloc_realloc(mem, *a, uint8_t, *a_len + b_len + 1);

	if (n == NULL)
		abort();
	if (b_len)
		memcpy(n + *a_len, b, b_len);
	*a = n;
	*a_len += b_len;
}

static void hdr(uint8_t *p, uint8_t ptype, uint8_t flags, size_t len, uint32_t call_id)
{
	p[0] = 5; p[1] = 0; p[2] = ptype; p[3] = flags;
	p[4] = 0x10; p[5] = 0; p[6] = 0; p[7] = 0;
	smbsess__put_le16(p + 8, (uint16_t)len);
	smbsess__put_le16(p + 10, 0);
	smbsess__put_le32(p + 12, call_id);
}

uint8_t *pdu_bind_ack(TALLOC_CTX *mem, uint32_t call_id, uint16_t xmit, uint16_t recv, uint16_t result,
		      uint16_t reason, const uint8_t ts[16], uint32_t ts_vers, size_t *len)
{
	/* secondary address "\PIPE\srvsvc" with its NUL: 13 bytes, then 1 byte of padding */
	static const char addr[] = "\\PIPE\\srvsvc";
	size_t n = 26 + sizeof addr;
	uint8_t *p;

	n = (n + 3) & ~(size_t)3;
	n += 4 + 24;
	p = talloc_zero_array(mem, uint8_t, n);
	hdr(p, 12, 3, n, call_id);
	smbsess__put_le16(p + 16, xmit);
	smbsess__put_le16(p + 18, recv);
	smbsess__put_le32(p + 20, 0x1234);
	smbsess__put_le16(p + 24, sizeof addr);
	memcpy(p + 26, addr, sizeof addr);
	p[40] = 1;
	smbsess__put_le16(p + 44, result);
	smbsess__put_le16(p + 46, reason);
	memcpy(p + 48, ts ? ts : ndr20, 16);
	smbsess__put_le32(p + 64, ts ? ts_vers : 2);
	*len = n;
	return p;
}

uint8_t *pdu_bind_nak(TALLOC_CTX *mem, uint32_t call_id, uint16_t reason, size_t *len)
{
	uint8_t *p = talloc_zero_array(mem, uint8_t, 24);

	hdr(p, 13, 3, 24, call_id);
	smbsess__put_le16(p + 16, reason);
	p[18] = 1; /* one supported version: 5.0 */
	p[19] = 5;
	p[20] = 0;
	*len = 24;
	return p;
}

uint8_t *pdu_response(TALLOC_CTX *mem, uint32_t call_id, uint8_t flags, uint32_t alloc_hint,
		      const uint8_t *stub, size_t stub_len, size_t *len)
{
	uint8_t *p = talloc_zero_array(mem, uint8_t, 24 + stub_len + 1);

	hdr(p, 2, flags, 24 + stub_len, call_id);
	smbsess__put_le32(p + 16, alloc_hint);
	if (stub_len)
		memcpy(p + 24, stub, stub_len);
	*len = 24 + stub_len;
	return p;
}

uint8_t *pdu_fault(TALLOC_CTX *mem, uint32_t call_id, uint8_t flags, uint32_t status, size_t *len)
{
	uint8_t *p = talloc_zero_array(mem, uint8_t, 32);

	hdr(p, 3, flags, 32, call_id);
	smbsess__put_le32(p + 24, status);
	*len = 32;
	return p;
}

/* ---- the server side ---- */

static void enqueue(struct fake *f, const uint8_t *b, size_t n)
{
	uint8_t *q = talloc_realloc(f, f->q, uint8_t, f->q_len + n + 1);

	if (q == NULL)
		abort();
	memcpy(q + f->q_len, b, n);
	f->q = q;
	f->q_len += n;
}

static void answer(struct fake *f, uint8_t ptype, uint32_t call_id)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t n = f->answered++, len;
	uint8_t *p;

	if (n < FAKE_MAX_RAW && f->raw[n] != NULL) {
		enqueue(f, f->raw[n], f->raw_len[n]);
	} else if (ptype == 11) {
		p = pdu_bind_ack(t, call_id, f->ack_xmit, f->ack_recv, 0, 0, NULL, 0, &len);
		enqueue(f, p, len);
	} else if (f->fault) {
		p = pdu_fault(t, call_id, 3, f->fault, &len);
		enqueue(f, p, len);
	} else {
		const uint8_t *stub = f->resp_stub ? f->resp_stub : f->req_stub;
		size_t stub_len = f->resp_stub ? f->resp_stub_len : f->req_stub_len;
		size_t per = f->resp_frag_stub ? f->resp_frag_stub : 4256, off = 0;

		do {
			size_t c = stub_len - off < per ? stub_len - off : per;
			uint8_t flags = (off == 0 ? 1 : 0) | (off + c == stub_len ? 2 : 0);

			uint32_t hint = f->no_alloc_hint ? 0 : (uint32_t)(stub_len - off) + f->alloc_hint_add;

			p = pdu_response(t, call_id, flags, hint, stub + off, c, &len);
			enqueue(f, p, len);
			off += c;
		} while (off < stub_len);
	}
	talloc_free(t);
}

/* Parses whole PDUs from what the client sent; answers binds and last request fragments. */
static void consume_input(struct fake *f)
{
	while (f->in_len >= 16) {
		size_t len = smbsess__le16(f->in + 8);
		uint8_t ptype = f->in[2], flags = f->in[3];
		uint32_t call_id = smbsess__le32(f->in + 12);

		if (len < 16) {
			f->bad_pdus++;
			f->in_len = 0;
			return;
		}
		if (f->in_len < len)
			return;
		if (ptype == 0 && len >= 24) {
			if (flags & 1)
				f->req_stub_len = 0;
			blob_cat(f, &f->req_stub, &f->req_stub_len, f->in + 24, len - 24);
			if (flags & 2) {
				if (f->ncalls < 64) {
					f->opnums[f->ncalls] = smbsess__le16(f->in + 22);
					f->call_ids[f->ncalls++] = call_id;
				}
				answer(f, ptype, call_id);
			}
		} else if (ptype == 11) {
			answer(f, ptype, call_id);
		} else {
			f->bad_pdus++;
		}
		memmove(f->in, f->in + len, f->in_len - len);
		f->in_len -= len;
	}
}

/* ---- the transport operations ---- */

struct fake_op {
	struct fake *f;
	size_t idx;
	uint8_t *out;
	size_t out_len;
	bool more;
};

static int fake_op_destructor(struct fake_op *o)
{
	o->f->inflight--;
	/* A deferred read the client freed is no longer held. */
	for (size_t i = 0; i < o->f->ndeferred; i++)
		if (o->f->deferred[i] != NULL && tevent_req_data(o->f->deferred[i], struct fake_op) == o)
			o->f->deferred[i] = NULL;
	return 0;
}

static struct tevent_req *fake_begin(TALLOC_CTX *mem, void *ctx, enum fake_kind kind, const uint8_t *data,
				     size_t len, uint32_t max, struct fake_op **op)
{
	struct fake *f = ctx;
	struct fake_op *o;
	struct tevent_req *req = tevent_req_create(mem, &o, struct fake_op);

	if (req == NULL)
		return NULL;
	o->f = f;
	if (++f->inflight > f->max_inflight)
		f->max_inflight = f->inflight;
	talloc_set_destructor(o, fake_op_destructor);
	o->idx = f->nlog < FAKE_MAX_LOG ? f->nlog++ : FAKE_MAX_LOG - 1;
	f->log[o->idx].kind = kind;
	f->log[o->idx].max = max;
	f->log[o->idx].len = len;
	f->log[o->idx].data = len ? talloc_memdup(f, data, len) : NULL;
	if (len) {
		blob_cat(f, &f->in, &f->in_len, data, len);
		consume_input(f);
	}
	*op = o;
	return req;
}

/* Hands out queued bytes: at most max, chunk, and (per_fragment) one fragment. */
static void serve(struct fake *f, struct fake_op *o, uint32_t max)
{
	size_t n = f->q_len < max ? f->q_len : max;

	if (f->chunk && n > f->chunk)
		n = f->chunk;
	if (f->per_fragment && f->q_len >= 10) {
		size_t fl = smbsess__le16(f->q + 8);
		if (fl >= 16 && n > fl)
			n = fl;
	}
	o->out = talloc_memdup(o, f->q_len ? f->q : (const uint8_t *)"", n ? n : 1);
	o->out_len = n;
	memmove(f->q, f->q + n, f->q_len - n);
	f->q_len -= n;
	o->more = f->q_len > 0 && !f->never_more;
	f->log[o->idx].got = n;
	f->log[o->idx].more = o->more;
}

static struct tevent_req *fake_transceive_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx,
					       const uint8_t *data, size_t len, uint32_t max)
{
	struct fake_op *o;
	struct tevent_req *req = fake_begin(mem, ctx, FAKE_TRANSCEIVE, data, len, max, &o);

	if (req == NULL)
		return NULL;
	if (!smbsess__st_ok(o->f->fail_transceive)) {
		smbsess__req_nok(req, o->f->fail_transceive);
		return tevent_req_post(req, ev);
	}
	if (o->f->hold)
		return req;
	serve(o->f, o, max);
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static struct tevent_req *fake_read_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx, uint32_t max)
{
	struct fake_op *o;
	struct tevent_req *req = fake_begin(mem, ctx, FAKE_READ, NULL, 0, max, &o);

	if (req == NULL)
		return NULL;
	o->f->nreads++;
	if (o->f->hold || o->f->hold_read)
		return req;
	serve(o->f, o, max);
	if (o->f->defer_reads && o->f->ndeferred < FAKE_MAX_LOG) {
		o->f->deferred[o->f->ndeferred++] = req;
		return req;
	}
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

void fake_release_reads(struct fake *f, bool reverse)
{
	size_t n = f->ndeferred;

	/* Ending one may make the client free others: their destructor clears their entry. */
	for (size_t k = 0; k < n; k++) {
		size_t i = reverse ? n - 1 - k : k;
		struct tevent_req *req = f->deferred[i];

		f->deferred[i] = NULL;
		if (req != NULL)
			tevent_req_done(req);
	}
	f->ndeferred = 0;
}

static struct tevent_req *fake_write_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx,
					  const uint8_t *data, size_t len)
{
	struct fake_op *o;
	struct tevent_req *req = fake_begin(mem, ctx, FAKE_WRITE, data, len, 0, &o);

	if (req == NULL)
		return NULL;
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static struct smbsess_status fake_data_recv(struct tevent_req *req, TALLOC_CTX *mem, uint8_t **out,
					    size_t *out_len, bool *more)
{
	struct fake_op *o = tevent_req_data(req, struct fake_op);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*out = talloc_move(mem, &o->out);
		*out_len = o->out_len;
		*more = o->more;
	}
	tevent_req_received(req);
	return st;
}

static struct smbsess_status fake_write_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}

static const struct smbsess__rpc_transport_ops fake_ops = {
	.name = "fake",
	.transceive_send = fake_transceive_send,
	.transceive_recv = fake_data_recv,
	.write_send = fake_write_send,
	.write_recv = fake_write_recv,
	.read_send = fake_read_send,
	.read_recv = fake_data_recv,
};

struct fake *fake_new(TALLOC_CTX *mem, struct tevent_context *ev)
{
	struct fake *f = talloc_zero(mem, struct fake);

	f->ev = ev;
	f->ack_xmit = 4280;
	f->ack_recv = 4280;
	f->fail_transceive = SMBSESS__OK;
	f->transport = talloc_zero(f, struct smbsess__rpc_transport);
	f->transport->ops = &fake_ops;
	f->transport->ctx = f;
	return f;
}
