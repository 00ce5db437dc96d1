/*
 * libFuzzer harnesses for lib/rpc: the DCE/RPC PDUs a server sends. One
 * source, compiled once per target with -DTARGET=<name> (see meson.build):
 *
 *   rpc_pdu   smbsess__rpc_parse_hdr and smbsess__rpc_parse_bind_answer on
 *             the first PDU, against a reference reading of [C706] 12.6;
 *             the receive buffer helpers (rx_append, rx_peek, rx_consume)
 *             fed the whole input in pieces, against the same reading.
 *             Input: [1 byte: piece sizes] [the bytes].
 *   rpc_bind  a bind (smbsess__rpc_bind_send) over an in-memory transport
 *             whose answer bytes come from the input, handed out in pieces
 *             by transceive and read ("more" set while bytes are left);
 *             after an accepted bind, one call answered by what is left.
 *             Input: [1 byte: piece size, "more", call] [answer bytes].
 *   rpc_call  a bind answered correctly, then one or two calls
 *             (smbsess__rpc_call_send) answered by the input: fragments,
 *             faults, anything, in pieces; optionally the first call is
 *             freed while in flight. Input: [flags] [piece size] [bind_ack
 *             sizes] [u16le request stub length] [limits] [cancel point]
 *             [answer bytes].
 *
 * The in-memory server answers every operation at once (from the event
 * loop) and fails reads when its bytes are used up (DISCONNECTED), so a
 * request that is still running when nothing is left to do is a hang: the
 * harness aborts then. A call may keep several READs in flight (pipelined
 * reads), never anything else beside another operation. Every result is compared with a reference reading of
 * the answer bytes; every request PDU the client wrote is checked too.
 * talloc null tracking: no block may survive an input.
 */
#include "fuzz_common.h"
#include "fuzz_loop.h"

#include "rpc/pdu.h"
#include "util/treq.h"

#ifndef TARGET
#error "compile with -DTARGET=<name>, e.g. -DTARGET=rpc_call"
#endif

static const uint8_t NDR20[16] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
				   0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };


/* ================================================================ reference reading */

/* The common header ([C706] 12.6.1) as lib/rpc/pdu.h documents its check. 0 or SMBSESS_E_*. */
static uint32_t ref_hdr(const uint8_t *p, size_t min_len, size_t max_len)
{
	uint16_t fl = smbsess__le16(p + 8);

	if (p[0] != 5 || p[1] != 0)
		return SMBSESS_E_PROTOCOL;
	if (p[4] != 0x10 || p[5] != 0)
		return SMBSESS_E_NOT_SUPPORTED;
	if (fl < min_len || fl > max_len || smbsess__le16(p + 10) != 0)
		return SMBSESS_E_PROTOCOL;
	return 0;
}

/* bind_ack / bind_nak ([C706] 12.6.4.3-4) of a bind with one context proposing NDR 2.0. */
static uint32_t ref_bind_answer(const uint8_t *p, size_t len, uint32_t call_id, uint16_t *xmit, uint16_t *recv)
{
	size_t off;
	uint16_t result;

	if (smbsess__le32(p + 12) != call_id)
		return SMBSESS_E_PROTOCOL;
	if (p[2] == 13)
		return len >= 18 ? SMBSESS_E_BIND_REJECTED : SMBSESS_E_PROTOCOL;
	if (p[2] != 12 || len < 26 || (p[3] & 3) != 3)
		return SMBSESS_E_PROTOCOL;
	/* sec_addr: u16 length and the port name, then padding to a multiple of 4. */
	off = 26 + (size_t)smbsess__le16(p + 24);
	off = (off + 3) / 4 * 4;
	if (off + 4 > len || p[off] != 1 || off + 4 + 24 > len)
		return SMBSESS_E_PROTOCOL;
	result = smbsess__le16(p + off + 4);
	if (result == 1 || result == 2)
		return SMBSESS_E_BIND_REJECTED;
	if (result != 0 || memcmp(p + off + 8, NDR20, 16) != 0 || smbsess__le32(p + off + 24) != 2)
		return SMBSESS_E_PROTOCOL;
	*xmit = smbsess__le16(p + 16);
	*recv = smbsess__le16(p + 18);
	if (*xmit < SMBSESS__RPC_MIN_FRAG || *recv < SMBSESS__RPC_MIN_FRAG)
		return SMBSESS_E_PROTOCOL;
	return 0;
}

/* What answering a call with the bytes q[0..len) gives, read fragment by fragment. */
struct ref_call {
	enum { R_OK, R_FAULT, R_ERR } kind;
	uint32_t code;  /* the fault's status, or the SMBSESS_E_* */
	uint8_t *stub;  /* R_OK */
	size_t stub_len;
	size_t end;     /* bytes of the answer (R_OK, R_FAULT) */
};

static void ref_call(TALLOC_CTX *mem, const uint8_t *q, size_t len, uint32_t call_id, size_t max_recv,
		     size_t max_stub, uint32_t max_frags, struct ref_call *r)
{
	size_t pos = 0;
	uint32_t nfrags = 0;

	memset(r, 0, sizeof *r);
	r->stub = must(talloc_size(mem, 1));
	r->kind = R_ERR;
	for (;;) {
		const uint8_t *f = q + pos;
		uint16_t fl;
		uint8_t ptype, flags;

		if (len - pos < 16) {
			r->code = SMBSESS_E_DISCONNECTED; /* the server has nothing more */
			return;
		}
		r->code = ref_hdr(f, 24, max_recv);
		if (r->code)
			return;
		fl = smbsess__le16(f + 8);
		ptype = f[2];
		flags = f[3];
		r->code = SMBSESS_E_PROTOCOL;
		if ((ptype != 2 && ptype != 3) || smbsess__le32(f + 12) != call_id || (ptype == 3 && fl < 32) ||
		    ((flags & 1) != 0) != (nfrags == 0))
			return;
		if (len - pos < fl) {
			r->code = SMBSESS_E_DISCONNECTED;
			return;
		}
		if (++nfrags > max_frags) {
			r->code = SMBSESS_E_LIMIT;
			return;
		}
		if (smbsess__le16(f + 20) != 0)
			return;
		pos += fl;
		if (ptype == 3) {
			uint32_t status = smbsess__le32(f + 24);

			if (status == 0 || !(flags & 2))
				return;
			r->kind = R_FAULT;
			r->code = status;
			r->end = pos;
			return;
		}
		if (fl - 24u > max_stub - r->stub_len) {
			r->code = SMBSESS_E_LIMIT;
			return;
		}
		r->stub = must(talloc_realloc_size(mem, r->stub, r->stub_len + fl - 24 + 1));
		memcpy(r->stub + r->stub_len, f + 24, fl - 24u);
		r->stub_len += fl - 24u;
		if (flags & 2) {
			r->kind = R_OK;
			r->code = 0;
			r->end = pos;
			return;
		}
	}
}

/* ================================================================ rpc_pdu */

/* Piece sizes for feeding a stream: 1..16 bytes, whole fragments' worth, or everything. */
static size_t piece_size(uint8_t sel, size_t i)
{
	switch (sel & 3) {
	case 0:
		return SIZE_MAX;
	case 1:
		return 1 + ((sel >> 2) + i * 7) % 16;
	case 2:
		return 16 + (size_t)(sel >> 2) * 64;
	default:
		return 1 + ((size_t)(sel >> 2) * 37 + i * 101) % 600;
	}
}

static void fuzz_rpc_pdu(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_u8(&in);
	const uint8_t *s = in.p;
	size_t len = in.len;

	/* The first PDU: header with the bind's and a call's bounds, then a bind answer. */
	if (len >= RPC_HDR_LEN) {
		static const size_t bounds[][2] = { { RPC_HDR_LEN + 2, SMBSESS__RPC_MAX_FRAG }, { 24, 65535 }, { 0, 0 } };
		uint8_t *h = fuzz_dup(mem, s, RPC_HDR_LEN);

		for (size_t b = 0; b < 3; b++) {
			struct rpc_hdr hd;
			struct smbsess_status st = smbsess__rpc_parse_hdr(h, bounds[b][0], bounds[b][1], &hd);
			uint32_t code = ref_hdr(h, bounds[b][0], bounds[b][1]);

			FUZZ_REQUIRE(code ? fuzz_st_is_lib(st, code) : smbsess__st_ok(st),
				     "parse_hdr(%zu, %zu) gave %s, the reference code %" PRIu32, bounds[b][0],
				     bounds[b][1], fuzz_st(st), code);
			if (!code)
				FUZZ_REQUIRE(hd.ptype == h[2] && hd.flags == h[3] && hd.frag_length == smbsess__le16(h + 8) &&
						     hd.auth_length == 0 && hd.call_id == smbsess__le32(h + 12),
					     "parse_hdr fields");
		}
		talloc_free(h);
		if (ref_hdr(s, RPC_HDR_LEN + 2, SMBSESS__RPC_MAX_FRAG) == 0 && smbsess__le16(s + 8) <= len) {
			size_t fl = smbsess__le16(s + 8);
			uint8_t *p = fuzz_dup(mem, s, fl);
			uint16_t x = 0xeeee, r = 0xeeee, rx_ = 0, rr = 0;
			uint32_t call_id = smbsess__le32(s + 12) == 1 ? 1 : (sel & 0x80 ? smbsess__le32(s + 12) : 1);
			struct smbsess_status st = smbsess__rpc_parse_bind_answer(p, fl, call_id, &x, &r);
			uint32_t code = ref_bind_answer(p, fl, call_id, &rx_, &rr);

			fuzz_log("bind answer of %zu bytes: %s, reference %" PRIu32, fl, fuzz_st(st), code);
			if (code)
				FUZZ_REQUIRE(fuzz_st_is_lib(st, code) && x == 0xeeee && r == 0xeeee,
					     "parse_bind_answer gave %s, the reference code %" PRIu32, fuzz_st(st), code);
			else
				FUZZ_REQUIRE(smbsess__st_ok(st) && x == rx_ && r == rr,
					     "parse_bind_answer gave %s (%u/%u), the reference accepts (%u/%u)", fuzz_st(st), x,
					     r, rx_, rr);
			talloc_free(p);
		}
	}

	/* The whole input through the receive buffer, in pieces. */
	{
		struct rpc_rx rx = { NULL, 0 };
		TALLOC_CTX *rm = must(talloc_new(mem));
		size_t fed = 0, taken = 0, i = 0;
		uint32_t max = 24 + (sel >> 4) * 300;

		while (fed < len) {
			size_t n = piece_size(sel, i++);
			struct smbsess_status st;

			if (n > len - fed)
				n = len - fed;
			st = smbsess__rpc_rx_append(rm, &rx, s + fed, n);
			FUZZ_REQUIRE(smbsess__st_ok(st), "rx_append: %s", fuzz_st(st));
			fed += n;
			FUZZ_REQUIRE(rx.len == fed - taken && (rx.len == 0 || memcmp(rx.buf, s + taken, rx.len) == 0),
				     "receive buffer holds other bytes than the stream's");
			for (;;) {
				struct rpc_hdr h;
				bool complete = true;
				uint32_t code = rx.len >= RPC_HDR_LEN ? ref_hdr(s + taken, 24, max) : 0;

				st = smbsess__rpc_rx_peek(&rx, 24, max, &h, &complete);
				if (code) {
					FUZZ_REQUIRE(fuzz_st_is_lib(st, code), "rx_peek gave %s, the reference code %" PRIu32,
						     fuzz_st(st), code);
					goto done;
				}
				FUZZ_REQUIRE(smbsess__st_ok(st), "rx_peek failed with %s on a good header", fuzz_st(st));
				FUZZ_REQUIRE(complete == (rx.len >= RPC_HDR_LEN && rx.len >= smbsess__le16(s + taken + 8)),
					     "rx_peek says complete=%d with %zu bytes", complete, rx.len);
				if (!complete)
					break;
				smbsess__rpc_rx_consume(&rx, h.frag_length);
				taken += h.frag_length;
				FUZZ_REQUIRE(rx.len == fed - taken && (rx.len == 0 || memcmp(rx.buf, s + taken, rx.len) == 0),
					     "rx_consume left other bytes than the stream's");
			}
		}
	done:
		talloc_free(rm);
	}
}

/* ================================================================ the in-memory transport */

/* What the client wrote in one transport operation. */
struct srv_op {
	int kind; /* 1 transceive, 2 write, 3 read */
	size_t q_pos; /* answer bytes handed out before this operation */
	size_t got;
};

struct srv {
	struct smbsess__rpc_transport *transport;
	const uint8_t *q; /* answer bytes */
	size_t q_len, q_pos;
	size_t chunk;     /* at most this many per operation */
	bool never_more;
	uint8_t *sent;    /* everything the client wrote, in order */
	size_t sent_len;
	struct srv_op ops[4096];
	size_t nops;
	int inflight, inflight_reads;
};

struct srv_req {
	struct srv *s;
	bool read;
	uint8_t *out;
	size_t out_len;
	bool more;
};

static int srv_req_destructor(struct srv_req *r)
{
	r->s->inflight--;
	if (r->read)
		r->s->inflight_reads--;
	return 0;
}

static struct tevent_req *srv_begin(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx, int kind,
				    const uint8_t *data, size_t len, uint32_t max)
{
	struct srv *s = ctx;
	struct srv_req *r;
	struct tevent_req *req = tevent_req_create(mem, &r, struct srv_req);
	size_t n;

	if (req == NULL)
		return NULL;
	r->s = s;
	r->read = kind == 3;
	s->inflight++;
	s->inflight_reads += r->read;
	talloc_set_destructor(r, srv_req_destructor);
	FUZZ_REQUIRE(s->inflight == 1 || s->inflight == s->inflight_reads,
		     "%d transport operations at once, %d of them reads", s->inflight, s->inflight_reads);
	FUZZ_REQUIRE(s->inflight_reads <= 128, "%d reads at once", s->inflight_reads);
	if (s->nops < sizeof s->ops / sizeof s->ops[0])
		s->ops[s->nops++] = (struct srv_op){ kind, s->q_pos, 0 };
	if (len) {
		s->sent = must(talloc_realloc_size(s, s->sent, s->sent_len + len));
		memcpy(s->sent + s->sent_len, data, len);
		s->sent_len += len;
	}
	if (kind == 2) {
		tevent_req_done(req);
		return tevent_req_post(req, ev);
	}
	n = s->q_len - s->q_pos;
	if (n == 0) {
		/* Nothing more from the server: the pipe is gone. */
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	if (n > max)
		n = max;
	if (n > s->chunk)
		n = s->chunk;
	r->out = must(talloc_memdup(r, s->q + s->q_pos, n));
	r->out_len = n;
	s->q_pos += n;
	r->more = s->q_pos < s->q_len && !s->never_more;
	if (s->nops <= sizeof s->ops / sizeof s->ops[0])
		s->ops[s->nops - 1].got = n;
	tevent_req_done(req);
	return tevent_req_post(req, ev);
}

static struct tevent_req *srv_transceive_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx,
					      const uint8_t *data, size_t len, uint32_t max_out)
{
	return srv_begin(mem, ev, ctx, 1, data, len, max_out);
}

static struct tevent_req *srv_write_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx,
					 const uint8_t *data, size_t len)
{
	return srv_begin(mem, ev, ctx, 2, data, len, 0);
}

static struct tevent_req *srv_read_send(TALLOC_CTX *mem, struct tevent_context *ev, void *ctx, uint32_t max)
{
	return srv_begin(mem, ev, ctx, 3, NULL, 0, max);
}

static struct smbsess_status srv_data_recv(struct tevent_req *req, TALLOC_CTX *mem, uint8_t **out,
					   size_t *out_len, bool *more)
{
	struct srv_req *r = tevent_req_data(req, struct srv_req);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*out = talloc_move(mem, &r->out);
		*out_len = r->out_len;
		*more = r->more;
	}
	tevent_req_received(req);
	return st;
}

static struct smbsess_status srv_write_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}

static const struct smbsess__rpc_transport_ops srv_ops = {
	.name = "fuzz",
	.transceive_send = srv_transceive_send,
	.transceive_recv = srv_data_recv,
	.write_send = srv_write_send,
	.write_recv = srv_write_recv,
	.read_send = srv_read_send,
	.read_recv = srv_data_recv,
};

static struct srv *srv_new(TALLOC_CTX *mem, const uint8_t *q, size_t q_len, size_t chunk, bool never_more)
{
	struct srv *s = must(talloc_zero(mem, struct srv));

	s->q = q;
	s->q_len = q_len;
	s->chunk = chunk ? chunk : SIZE_MAX;
	s->never_more = never_more;
	s->transport = must(talloc_zero(mem, struct smbsess__rpc_transport));
	s->transport->ops = &srv_ops;
	s->transport->ctx = s;
	return s;
}

/* Runs the loop until @p req is done; nothing may be left waiting (the server always answers). */
static void run_until_done(struct tevent_context *ev, struct tevent_req *req, const char *what)
{
	for (unsigned i = 0; tevent_req_is_in_progress(req); i++) {
		FUZZ_REQUIRE(i < 1000000, "%s: no end after a million loop iterations", what);
		if (!fuzz_loop_step(ev))
			fuzz_fail("%s: still running with nothing left to do (the transport answered everything)", what);
	}
}

/* Runs the loop until nothing is left to do. */
static void run_idle(struct tevent_context *ev)
{
	for (unsigned i = 0; fuzz_loop_step(ev); i++)
		FUZZ_REQUIRE(i < 1000000, "no end after a million loop iterations");
}

/* ---- the requests the client wrote ---- */

/* Checks the bind PDU at the start of what the client sent; returns its length. */
static size_t check_bind_pdu(const struct srv *s)
{
	const uint8_t *p = s->sent;

	FUZZ_REQUIRE(s->sent_len >= RPC_BIND_LEN, "the client sent %zu bytes, no bind", s->sent_len);
	FUZZ_REQUIRE(ref_hdr(p, RPC_BIND_LEN, RPC_BIND_LEN) == 0 && p[2] == RPC_PTYPE_BIND && p[3] == 3 &&
			     smbsess__le32(p + 12) == 1,
		     "bind header");
	FUZZ_REQUIRE(smbsess__le16(p + 16) == SMBSESS__RPC_MAX_FRAG && smbsess__le16(p + 18) == SMBSESS__RPC_MAX_FRAG &&
			     p[24] == 1 && p[30] == 1 && memcmp(p + 32, smbsess__rpc_srvsvc_uuid, 16) == 0 &&
			     smbsess__le32(p + 48) == 3 && memcmp(p + 52, NDR20, 16) == 0 && smbsess__le32(p + 68) == 2,
		     "bind body");
	FUZZ_REQUIRE(s->ops[0].kind == 1, "the bind did not go out by transceive");
	return RPC_BIND_LEN;
}

/* The request stub of a call: a pattern of @p len bytes. */
static uint8_t *make_stub(TALLOC_CTX *mem, size_t len, uint8_t salt)
{
	uint8_t *p = must(talloc_size(mem, len + 1));

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + salt);
	return p;
}

/*
 * Reads the request fragments of one call from what the client sent, from
 * *pos on: they must carry @p stub in order, each within @p max_xmit and a
 * multiple of 8 stub bytes but the last. Returns the call id, or 0 when the
 * client sent nothing (more) for it. @p may_stop: the call was freed, so its
 * request may end early (at a fragment boundary).
 */
static uint32_t check_request(const struct srv *s, size_t *pos, const uint8_t *stub, size_t stub_len,
			      uint16_t opnum, size_t max_xmit, bool may_stop)
{
	size_t got = 0;
	uint32_t call_id = 0;

	if (*pos == s->sent_len)
		return 0;
	for (bool first = true;; first = false) {
		const uint8_t *f = s->sent + *pos;
		size_t fl, n;

		if (!first && may_stop && *pos == s->sent_len)
			return call_id;
		FUZZ_REQUIRE(s->sent_len - *pos >= RPC_REQ_HDR_LEN, "truncated request fragment");
		fl = smbsess__le16(f + 8);
		FUZZ_REQUIRE(ref_hdr(f, RPC_REQ_HDR_LEN, max_xmit) == 0 && f[2] == RPC_PTYPE_REQUEST &&
				     fl <= s->sent_len - *pos,
			     "request fragment header (length %zu, max_xmit %zu)", fl, max_xmit);
		FUZZ_REQUIRE(((f[3] & 1) != 0) == first, "FIRST_FRAG on the wrong fragment");
		if (first)
			call_id = smbsess__le32(f + 12);
		n = fl - RPC_REQ_HDR_LEN;
		FUZZ_REQUIRE(smbsess__le32(f + 12) == call_id && smbsess__le16(f + 20) == 0 &&
				     smbsess__le16(f + 22) == opnum && smbsess__le32(f + 16) == stub_len - got,
			     "request fragment fields (call id, context, opnum, alloc_hint)");
		FUZZ_REQUIRE(n <= stub_len - got && memcmp(f + RPC_REQ_HDR_LEN, stub + got, n) == 0,
			     "request fragment carries other stub bytes");
		got += n;
		*pos += fl;
		if (f[3] & 2)
			break;
		FUZZ_REQUIRE(n % 8 == 0 && n > 0, "a middle request fragment of %zu stub bytes", n);
	}
	FUZZ_REQUIRE(got == stub_len, "the request carried %zu of %zu stub bytes", got, stub_len);
	return call_id;
}

/* Where the answer bytes stood when transceive number @p nth_transceive (0: the bind's) began. */
static size_t answer_start(const struct srv *s, size_t nth_transceive)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nops; i++)
		if (s->ops[i].kind == 1 && k++ == nth_transceive)
			return s->ops[i].q_pos;
	fuzz_fail("no transceive number %zu", nth_transceive);
}

/* What the pipe must be after a call, by the reference. */
enum pipe_after {
	PIPE_USABLE,   /* clean: the next call may go */
	PIPE_BROKEN,   /* broken by the call's own status */
	PIPE_EXTRA     /* the answer stands, but READs went past its end: broken with PROTOCOL */
};

/*
 * Compares a call's result with the reference reading of the answer bytes
 * from @p start (transceive number @p nth of the log): the same stub, the
 * same fault, or the same error. The operations of the call come from the
 * server's log, whatever their number and size: bytes handed out beyond the
 * answer's end fail it with PROTOCOL (they belong to no call); READs that
 * began at or past its end (an alloc_hint that promised more) leave the
 * answer standing and the pipe broken.
 */
static enum pipe_after check_call(TALLOC_CTX *mem, const struct srv *s, size_t nth, uint32_t call_id,
				  size_t max_recv, size_t max_stub, uint32_t max_frags, struct smbsess_status st,
				  const uint8_t *out, size_t out_len)
{
	struct ref_call r;
	size_t start = answer_start(s, nth), served = 0, extra = 0, k = 0, i;
	bool overread;

	ref_call(mem, s->q + start, s->q_len - start, call_id, max_recv, max_stub, max_frags, &r);
	for (i = 0; i < s->nops; i++)
		if (s->ops[i].kind == 1 && k++ == nth)
			break;
	for (; i < s->nops && (s->ops[i].kind != 1 || s->ops[i].q_pos == start); i++) {
		served += s->ops[i].got;
		if (r.kind != R_ERR && s->ops[i].kind == 3 && s->ops[i].q_pos >= start + r.end)
			extra++;
	}
	overread = r.kind != R_ERR && served > r.end;
	fuzz_log("call %" PRIu32 " from answer byte %zu: %s; reference kind %d code 0x%" PRIx32 ", %zu bytes served, "
		 "%zu reads past the end%s", call_id, start, fuzz_st(st), (int)r.kind, r.code, served, extra,
		 overread ? " (over-read)" : "");
	if (overread) {
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_PROTOCOL),
			     "bytes after the last fragment were accepted: %s", fuzz_st(st));
		return PIPE_BROKEN;
	}
	switch (r.kind) {
	case R_OK:
		FUZZ_REQUIRE(smbsess__st_ok(st), "call failed with %s, the reference reads a response", fuzz_st(st));
		FUZZ_REQUIRE(out != NULL && out_len == r.stub_len && (out_len == 0 || memcmp(out, r.stub, out_len) == 0),
			     "response stub of %zu bytes differs from the reference's %zu", out_len, r.stub_len);
		FUZZ_REQUIRE(talloc_get_size(out) >= out_len, "response stub longer than its chunk");
		return extra ? PIPE_EXTRA : PIPE_USABLE;
	case R_FAULT:
		FUZZ_REQUIRE(st.domain == SMBSESS_DOMAIN_RPC && st.code == r.code,
			     "call gave %s, the reference a fault 0x%" PRIx32, fuzz_st(st), r.code);
		return extra ? PIPE_EXTRA : PIPE_USABLE;
	default:
		FUZZ_REQUIRE(fuzz_st_is_lib(st, r.code), "call gave %s, the reference code %" PRIu32, fuzz_st(st),
			     r.code);
		return PIPE_BROKEN;
	}
}

/* Whether the pipe's state is what check_call said it must be after a call that gave @p call_st. */
static bool pipe_state_is(enum pipe_after want, struct smbsess_status pe, struct smbsess_status call_st)
{
	switch (want) {
	case PIPE_USABLE: return smbsess__st_ok(pe);
	case PIPE_EXTRA: return fuzz_st_is_lib(pe, SMBSESS_E_PROTOCOL);
	default: return smbsess__st_equal(pe, call_st);
	}
}

/* ================================================================ rpc_bind, rpc_call */

/* A bind_ack for call 1 accepting NDR 2.0, with the given fragment sizes. */
static uint8_t *make_bind_ack(TALLOC_CTX *mem, uint16_t xmit, uint16_t recv, size_t *len)
{
	static const char addr[] = "\\PIPE\\srvsvc";
	size_t n = 26 + sizeof addr;
	uint8_t *p;

	n = (n + 3) / 4 * 4 + 4 + 24;
	p = must(talloc_zero_size(mem, n));
	smbsess__rpc_put_hdr(p, RPC_PTYPE_BIND_ACK, 3, (uint16_t)n, 1);
	smbsess__put_le16(p + 16, xmit);
	smbsess__put_le16(p + 18, recv);
	smbsess__put_le32(p + 20, 0x53f0);
	smbsess__put_le16(p + 24, sizeof addr);
	memcpy(p + 26, addr, sizeof addr);
	p[40] = 1;
	memcpy(p + 48, NDR20, 16);
	smbsess__put_le32(p + 64, 2);
	*len = n;
	return p;
}

static struct smbsess_status do_bind(TALLOC_CTX *mem, struct tevent_context *ev, struct srv *s,
				     struct smbsess__rpc_pipe **pipe)
{
	struct tevent_req *req = smbsess__rpc_bind_send(mem, ev, s->transport, smbsess__rpc_srvsvc_uuid,
							SMBSESS__RPC_SRVSVC_VERS_MAJOR,
							SMBSESS__RPC_SRVSVC_VERS_MINOR, 10000);
	struct smbsess_status st;

	FUZZ_REQUIRE(req != NULL, "bind_send returned NULL");
	run_until_done(ev, req, "bind");
	st = smbsess__rpc_bind_recv(req, mem, pipe);
	talloc_free(req);
	return st;
}

static size_t decode_piece(uint8_t c)
{
	c &= 0x3f;
	if (c == 0)
		return SIZE_MAX;
	return c < 32 ? c : (size_t)(c - 31) * 128;
}

static void fuzz_rpc_bind(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t ctl = fuzz_u8(&in);
	struct tevent_context *ev = must(tevent_context_init(mem));
	uint8_t *q = fuzz_dup(mem, in.p, in.len);
	struct srv *s = srv_new(mem, q, in.len, decode_piece(ctl), ctl & 0x40);
	struct smbsess__rpc_pipe *pipe = NULL;
	struct smbsess_status st = do_bind(mem, ev, s, &pipe);
	uint16_t xmit = 0, recv = 0;
	uint32_t code;

	check_bind_pdu(s);
	fuzz_log("bind: %s (answer %zu bytes, %zu handed out)", fuzz_st(st), s->q_len, s->q_pos);
	/* The reference: the first PDU, if it is all that was read. */
	if (s->q_len < RPC_HDR_LEN)
		code = SMBSESS_E_DISCONNECTED;
	else if ((code = ref_hdr(q, RPC_HDR_LEN + 2, SMBSESS__RPC_MAX_FRAG)) != 0)
		;
	else if (smbsess__le16(q + 8) > s->q_len)
		code = SMBSESS_E_DISCONNECTED;
	else if (s->q_pos != smbsess__le16(q + 8))
		code = SMBSESS_E_PROTOCOL; /* more than one PDU in what was read */
	else
		code = ref_bind_answer(q, s->q_pos, 1, &xmit, &recv);
	if (code) {
		FUZZ_REQUIRE(fuzz_st_is_lib(st, code), "bind gave %s, the reference code %" PRIu32, fuzz_st(st), code);
		FUZZ_REQUIRE(pipe == NULL, "failed bind returned a pipe");
		FUZZ_REQUIRE(talloc_parent(s->transport) == mem, "failed bind took the transport");
		talloc_free(ev);
		return;
	}
	FUZZ_REQUIRE(smbsess__st_ok(st) && pipe != NULL, "bind gave %s, the reference accepts", fuzz_st(st));
	FUZZ_REQUIRE(talloc_parent(s->transport) == pipe, "the pipe does not own the transport");
	/* We proposed the largest sizes there are: the server's answer decides both. */
	FUZZ_REQUIRE(smbsess__rpc_pipe_max_xmit_frag(pipe) == recv && smbsess__rpc_pipe_max_recv_frag(pipe) == xmit,
		     "negotiated fragment sizes %u/%u from %u/%u", smbsess__rpc_pipe_max_xmit_frag(pipe),
		     smbsess__rpc_pipe_max_recv_frag(pipe), xmit, recv);
	FUZZ_REQUIRE(smbsess__st_ok(smbsess__rpc_pipe_error(pipe)), "new pipe is broken");

	if (ctl & 0x80) {
		/* One call, answered by what is left. */
		static const uint8_t stub[] = "\x01\x02\x03\x04\x05\x06\x07\x08\x09";
		size_t pos = RPC_BIND_LEN;
		struct tevent_req *req = smbsess__rpc_call_send(mem, ev, pipe, 15, stub, sizeof stub, 10000);
		uint8_t *out = NULL;
		size_t out_len = 0;

		FUZZ_REQUIRE(req != NULL, "call_send returned NULL");
		run_until_done(ev, req, "call");
		st = smbsess__rpc_call_recv(req, mem, &out, &out_len);
		talloc_free(req);
		FUZZ_REQUIRE(check_request(s, &pos, stub, sizeof stub, 15, smbsess__rpc_pipe_max_xmit_frag(pipe), false) == 2,
			     "first call id is not 2");
		check_call(mem, s, 1, 2, smbsess__rpc_pipe_max_recv_frag(pipe), SMBSESS__RPC_DEFAULT_MAX_STUB,
			   SMBSESS__RPC_DEFAULT_MAX_FRAGS, st, out, out_len);
		talloc_free(out);
	}
	talloc_free(pipe);
	run_idle(ev);
	FUZZ_REQUIRE(s->inflight == 0, "transport operations still running after the pipe was freed");
	talloc_free(ev);
}

struct call_result {
	struct tevent_req *req;
	bool done;
	struct smbsess_status st;
	uint8_t *out;
	size_t out_len;
	TALLOC_CTX *mem;
};

static void call_finished(struct tevent_req *req)
{
	struct call_result *c = tevent_req_callback_data_void(req);

	c->done = true;
	c->st = smbsess__rpc_call_recv(req, c->mem, &c->out, &c->out_len);
	TALLOC_FREE(c->req);
}

static void fuzz_rpc_call(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t ctl = fuzz_u8(&in), piece = fuzz_u8(&in), ack = fuzz_u8(&in);
	size_t stub_len = fuzz_u16(&in) & 0x3fff;
	uint8_t limits = fuzz_u8(&in), cancel_at = fuzz_u8(&in);
	uint16_t xmit = (uint16_t)(SMBSESS__RPC_MIN_FRAG + (ack & 0x0f) * 256);
	uint16_t recv = (uint16_t)(SMBSESS__RPC_MIN_FRAG + (ack >> 4) * 256);
	size_t max_stub = (limits >> 4) ? (size_t)(limits >> 4) * 512 : SMBSESS__RPC_DEFAULT_MAX_STUB;
	uint32_t max_frags = (limits & 0x0f) ? (uint32_t)(limits & 0x0f) : SMBSESS__RPC_DEFAULT_MAX_FRAGS;
	bool two = ctl & 2, cancel = ctl & 4;
	struct tevent_context *ev = must(tevent_context_init(mem));
	size_t ack_len, q_len;
	uint8_t *ack_pdu = make_bind_ack(mem, xmit, recv, &ack_len);
	uint8_t *q, *stub1 = make_stub(mem, stub_len, 1), *stub2 = make_stub(mem, 8, 2);
	struct srv *s;
	struct smbsess__rpc_pipe *pipe = NULL;
	struct smbsess_status st;
	struct call_result c1 = { .mem = mem }, c2 = { .mem = mem };
	size_t pos, max_xmit, max_recv;
	bool cancelled = false;

	/* The server's bytes: the bind_ack, then the input's. */
	q_len = ack_len + in.len;
	q = must(talloc_size(mem, q_len));
	memcpy(q, ack_pdu, ack_len);
	memcpy(q + ack_len, in.p, in.len);
	s = srv_new(mem, q, q_len, SIZE_MAX, ctl & 1);
	s->q_len = ack_len; /* the bind sees its answer alone */
	st = do_bind(mem, ev, s, &pipe);
	FUZZ_REQUIRE(smbsess__st_ok(st), "bind with a good bind_ack: %s", fuzz_st(st));
	s->q_len = q_len;
	s->chunk = decode_piece(piece);
	max_xmit = smbsess__rpc_pipe_max_xmit_frag(pipe);
	max_recv = smbsess__rpc_pipe_max_recv_frag(pipe);
	if ((limits >> 4) || (limits & 0x0f))
		smbsess__rpc_pipe_set_limits(pipe, (limits >> 4) ? max_stub : 0, (limits & 0x0f) ? max_frags : 0);
	fuzz_log("max_xmit %zu max_recv %zu, request stub %zu, max_stub %zu max_frags %" PRIu32
		 ", piece %zu, never_more %d, two calls %d, cancel %d at %u",
		 max_xmit, max_recv, stub_len, max_stub, max_frags, s->chunk, ctl & 1, two, cancel, cancel_at);

	c1.req = smbsess__rpc_call_send(mem, ev, pipe, 15, stub1, stub_len, 10000);
	FUZZ_REQUIRE(c1.req != NULL, "call_send returned NULL");
	if (stub_len > max_stub) {
		/* Refused at once, and the pipe stays as it was. */
		run_until_done(ev, c1.req, "call");
		st = smbsess__rpc_call_recv(c1.req, mem, &c1.out, &c1.out_len);
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_LIMIT), "a request above max_stub gave %s", fuzz_st(st));
		FUZZ_REQUIRE(smbsess__st_ok(smbsess__rpc_pipe_error(pipe)), "a refused request broke the pipe");
		talloc_free(c1.req);
		talloc_free(pipe);
		talloc_free(ev);
		return;
	}
	tevent_req_set_callback(c1.req, call_finished, &c1);
	if (two) {
		c2.req = smbsess__rpc_call_send(mem, ev, pipe, 16, stub2, 8, 10000);
		FUZZ_REQUIRE(c2.req != NULL, "call_send returned NULL");
		tevent_req_set_callback(c2.req, call_finished, &c2);
	}
	for (unsigned i = 0; !c1.done || (two && !c2.done); i++) {
		FUZZ_REQUIRE(i < 1000000, "calls: no end after a million loop iterations");
		if (cancel && !c1.done && i == cancel_at) {
			TALLOC_FREE(c1.req);
			c1.done = cancelled = true;
			continue;
		}
		if (!fuzz_loop_step(ev))
			fuzz_fail("calls still running with nothing left to do (the transport answered everything)");
	}
	run_idle(ev);
	FUZZ_REQUIRE(s->inflight == 0, "transport operations still running after the calls ended");

	/* What the client sent: the bind, then the requests in the order they went out. */
	pos = check_bind_pdu(s);
	{
		uint32_t id_a, id_b = 0;
		size_t t_a, pos0 = pos;
		bool first_is_1;

		/* Which call went first: call 1 unless it was freed before it started. */
		id_a = pos < s->sent_len ? smbsess__le32(s->sent + pos + 12) : 0;
		first_is_1 = pos < s->sent_len && s->sent_len - pos >= 24 && smbsess__le16(s->sent + pos + 22) == 15;
		if (first_is_1)
			id_a = check_request(s, &pos, stub1, stub_len, 15, max_xmit, cancelled);
		else if (pos < s->sent_len)
			id_a = check_request(s, &pos, stub2, 8, 16, max_xmit, false);
		if (pos < s->sent_len) {
			FUZZ_REQUIRE(first_is_1 && two, "a second request went out unasked");
			id_b = check_request(s, &pos, stub2, 8, 16, max_xmit, false);
		}
		FUZZ_REQUIRE(pos == s->sent_len, "bytes after the last request");
		FUZZ_REQUIRE(pos0 == pos || id_a == 2, "first call id %" PRIu32, id_a);
		FUZZ_REQUIRE(id_b == 0 || id_b == 3, "second call id %" PRIu32, id_b);
		/* The transceive of each call is the last one of its request: number 1 (after the bind's), then 2. */
		t_a = 1;
		if (first_is_1) {
			struct smbsess_status pe = smbsess__rpc_pipe_error(pipe);
			bool usable;

			if (!cancelled) {
				enum pipe_after after = check_call(mem, s, t_a, 2, max_recv, max_stub, max_frags, c1.st,
								   c1.out, c1.out_len);

				usable = after == PIPE_USABLE;
				/* What broke the pipe is the call's own status (the first one wins). */
				FUZZ_REQUIRE((usable && two) || pipe_state_is(after, pe, c1.st),
					     "pipe state %s after a call that gave %s", fuzz_st(pe), fuzz_st(c1.st));
			} else {
				/*
				 * Freed in flight: the pipe breaks, unless the call had already
				 * ended and only its callback was still to run.
				 */
				usable = smbsess__st_ok(pe) || (two && id_b != 0);
			}
			if (two) {
				if (usable)
					check_call(mem, s, t_a + 1, 3, max_recv, max_stub, max_frags, c2.st, c2.out,
						   c2.out_len);
				else
					FUZZ_REQUIRE(fuzz_st_is_lib(c2.st, SMBSESS_E_DISCONNECTED) && id_b == 0,
						     "the call after a broken one gave %s", fuzz_st(c2.st));
			}
		} else if (two && cancelled && id_a != 0) {
			/* Call 1 was freed in the queue: call 2 went out as call 2 on a usable pipe. */
			FUZZ_REQUIRE(id_a == 2, "call 2 after a call freed in the queue has id %" PRIu32, id_a);
			check_call(mem, s, t_a, 2, max_recv, max_stub, max_frags, c2.st, c2.out, c2.out_len);
		}
	}
	talloc_free(c1.out);
	talloc_free(c2.out);
	talloc_free(pipe);
	run_idle(ev);
	talloc_free(ev);
}

/* ================================================================ entry points */

static const struct fuzz_target targets[] = {
	{ "rpc_pdu", fuzz_rpc_pdu },
	{ "rpc_bind", fuzz_rpc_bind },
	{ "rpc_call", fuzz_rpc_call },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_select("fuzz_rpc", targets, sizeof targets / sizeof targets[0], STR(TARGET));
	/* tevent allocates its backend list once, on the first context: not per input. */
	talloc_free(tevent_context_init(NULL));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run_selected(data, size);
}
