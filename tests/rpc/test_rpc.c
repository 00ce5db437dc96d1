/*
 * lib/rpc against a scripted in-memory server (fake_pipe.c): bind answers,
 * faults, fragmented responses and requests, every malformed header, the
 * call queue, cancellation, timeouts and limits.
 */
#include <stdio.h>
#include <string.h>

#include "fake_pipe.h"
#include "util/treq.h"
#include "testutil.h"

static struct smbsess_status lib(uint32_t c)
{
	return SMBSESS__ST_LIB(c);
}

#define ck_status(got, want) do { \
	struct smbsess_status g_ = (got), w_ = (want); \
	ck_assert_msg(smbsess__st_equal(g_, w_), "status %s (%u/0x%x), expected %s", \
		      smbsess__status_name(g_), g_.domain, g_.code, smbsess__status_name(w_)); \
} while (0)

static void wait_for(struct tevent_context *ev, struct tevent_req *req)
{
	ck_assert_ptr_nonnull(req);
	while (tevent_req_is_in_progress(req))
		ck_assert_int_eq(tevent_loop_once(ev), 0);
}

/* Runs the loop until the fake holds an operation of the client. */
static void until_held(struct tevent_context *ev, const int *inflight)
{
	while (*inflight == 0)
		ck_assert_int_eq(tevent_loop_once(ev), 0);
}

struct env {
	TALLOC_CTX *t;
	struct tevent_context *ev;
	struct fake *f;
	struct smbsess__rpc_pipe *pipe;
};

static void env_init(struct env *e)
{
	e->t = talloc_new(NULL);
	e->ev = tevent_context_init(e->t);
	e->f = fake_new(e->t, e->ev);
	e->pipe = NULL;
}

static void env_free(struct env *e)
{
	TALLOC_FREE(e->pipe);
	talloc_free(e->t);
}

static struct smbsess_status do_bind(struct env *e)
{
	struct tevent_req *req = smbsess__rpc_bind_send(e->t, e->ev, e->f->transport, smbsess__rpc_srvsvc_uuid,
							 3, 0, 5000);
	struct smbsess_status st;

	wait_for(e->ev, req);
	st = smbsess__rpc_bind_recv(req, e->t, &e->pipe);
	talloc_free(req);
	return st;
}

static void bind_ok(struct env *e)
{
	ck_status(do_bind(e), SMBSESS__OK);
	ck_assert_ptr_nonnull(e->pipe);
}

static struct smbsess_status do_call(struct env *e, uint16_t opnum, const uint8_t *stub, size_t len,
				     uint8_t **out, size_t *out_len)
{
	struct tevent_req *req = smbsess__rpc_call_send(e->t, e->ev, e->pipe, opnum, stub, len, 5000);
	struct smbsess_status st;

	wait_for(e->ev, req);
	st = smbsess__rpc_call_recv(req, e->t, out, out_len);
	talloc_free(req);
	return st;
}

static uint8_t *pattern(TALLOC_CTX *t, size_t n, unsigned seed)
{
	uint8_t *p = talloc_array(t, uint8_t, n + 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
	return p;
}

/* ---- bind ---- */

/*
 * The bind to srvsvc v3.0 laid out by hand from [C706] 12.6.4.3, with the
 * largest fragment sizes there are: the server's own limit decides.
 */
static const uint8_t expected_bind[72] = {
	0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88,
	0x03, 0x00, 0x00, 0x00, 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00,
	0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00,
};

START_TEST(bind_ack)
{
	struct env e;

	env_init(&e);
	bind_ok(&e);
	ck_assert_uint_eq(e.f->nlog, 1);
	ck_assert_int_eq(e.f->log[0].kind, FAKE_TRANSCEIVE);
	ck_assert_uint_eq(e.f->log[0].len, 72);
	ck_assert_mem_eq(e.f->log[0].data, expected_bind, 72);
	ck_assert_uint_eq(smbsess__rpc_pipe_max_xmit_frag(e.pipe), 4280);
	ck_assert_uint_eq(smbsess__rpc_pipe_max_recv_frag(e.pipe), 4280);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}
END_TEST

START_TEST(bind_sizes)
{
	struct env e;

	/* The server receives 2048 and sends up to 5840: our fragments shrink, we accept its larger ones. */
	env_init(&e);
	e.f->ack_recv = 2048;
	e.f->ack_xmit = 5840;
	bind_ok(&e);
	ck_assert_uint_eq(smbsess__rpc_pipe_max_xmit_frag(e.pipe), 2048);
	ck_assert_uint_eq(smbsess__rpc_pipe_max_recv_frag(e.pipe), 5840);
	env_free(&e);

	/* Below the 1432 every side must accept: refused. */
	env_init(&e);
	e.f->ack_recv = 1000;
	ck_status(do_bind(&e), lib(SMBSESS_E_PROTOCOL));
	ck_assert_ptr_null(e.pipe);
	env_free(&e);
}
END_TEST

START_TEST(bind_nak)
{
	struct env e;
	size_t len;

	env_init(&e);
	e.f->raw[0] = pdu_bind_nak(e.f, 1, 4 /* protocol version not supported */, &len);
	e.f->raw_len[0] = len;
	ck_status(do_bind(&e), lib(SMBSESS_E_BIND_REJECTED));
	ck_assert_ptr_null(e.pipe);
	env_free(&e);
}
END_TEST

START_TEST(bind_rejections)
{
	static const struct {
		uint16_t result, reason;
		uint32_t expect;
	} cases[] = {
		{ 2, 1, SMBSESS_E_BIND_REJECTED }, /* provider rejection: abstract syntax not supported */
		{ 2, 2, SMBSESS_E_BIND_REJECTED }, /* provider rejection: transfer syntaxes not supported */
		{ 1, 0, SMBSESS_E_BIND_REJECTED }, /* user rejection */
		{ 3, 0, SMBSESS_E_PROTOCOL },      /* negotiate_ack: we asked for no feature */
		{ 9, 0, SMBSESS_E_PROTOCOL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct env e;
		size_t len;

		env_init(&e);
		e.f->raw[0] = pdu_bind_ack(e.f, 1, 4280, 4280, cases[i].result, cases[i].reason, NULL, 0, &len);
		e.f->raw_len[0] = len;
		ck_status(do_bind(&e), lib(cases[i].expect));
		ck_assert_ptr_null(e.pipe);
		env_free(&e);
	}
}
END_TEST

START_TEST(bind_malformed)
{
	static const uint8_t ndr64[16] = { 0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49,
					   0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36 };

	for (int i = 0; i < 9; i++) {
		struct env e;
		size_t len;
		uint8_t *p;
		struct smbsess_status want = lib(SMBSESS_E_PROTOCOL);

		env_init(&e);
		p = pdu_bind_ack(e.f, 1, 4280, 4280, 0, 0, NULL, 0, &len);
		switch (i) {
		case 0: smbsess__put_le32(p + 12, 7); break;               /* another call id */
		case 1: p = pdu_bind_ack(e.f, 1, 4280, 4280, 0, 0, ndr64, 1, &len); break; /* NDR64 accepted */
		case 2: smbsess__put_le32(p + 64, 1); break;              /* NDR version 1 */
		case 3: len -= 4; smbsess__put_le16(p + 8, (uint16_t)len); break; /* result cut short */
		case 4: p[2] = 2; break;                                   /* a response to a bind */
		case 5: p[40] = 2; break;                                  /* two results for one context */
		case 6: p[0] = 4; break;                                   /* version 4 */
		case 7: smbsess__put_le16(p + 24, 400); break;             /* sec_addr beyond the PDU */
		case 8: p[4] = 0x00; want = lib(SMBSESS_E_NOT_SUPPORTED); break; /* big-endian */
		}
		e.f->raw[0] = p;
		e.f->raw_len[0] = len;
		ck_status(do_bind(&e), want);
		ck_assert_ptr_null(e.pipe);
		env_free(&e);
	}
}
END_TEST

START_TEST(bind_ack_in_pieces)
{
	struct env e;

	/* The bind_ack arrives 10 bytes at a time: transceive, then reads until frag_length is in. */
	env_init(&e);
	e.f->chunk = 10;
	e.f->never_more = true;
	bind_ok(&e);
	ck_assert_uint_gt(e.f->nlog, 5);
	ck_assert_int_eq(e.f->log[1].kind, FAKE_READ);
	env_free(&e);
}
END_TEST

START_TEST(bind_bad_args)
{
	struct env e;
	struct smbsess__rpc_transport broken = { NULL, NULL };
	struct tevent_req *req;

	env_init(&e);
	req = smbsess__rpc_bind_send(e.t, e.ev, &broken, smbsess__rpc_srvsvc_uuid, 3, 0, 0);
	wait_for(e.ev, req);
	ck_status(smbsess__rpc_bind_recv(req, e.t, &e.pipe), lib(SMBSESS_E_INVALID_ARGUMENT));
	talloc_free(req);
	ck_assert_ptr_null(e.pipe);
	env_free(&e);
}
END_TEST

/* ---- calls ---- */

START_TEST(call_echo)
{
	struct env e;
	uint8_t stub[] = "0123456789abcdef", *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	ck_status(do_call(&e, 12, stub, 16, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, 16);
	ck_assert_mem_eq(out, stub, 16);
	ck_assert_uint_eq(e.f->ncalls, 1);
	ck_assert_uint_eq(e.f->call_ids[0], 2);
	ck_assert_uint_eq(e.f->opnums[0], 12);
	/* One transceive carries the whole request: 24 + 16 bytes. */
	ck_assert_int_eq(e.f->log[1].kind, FAKE_TRANSCEIVE);
	ck_assert_uint_eq(e.f->log[1].len, 40);
	ck_assert_uint_eq(e.f->log[1].data[3], 3);
	ck_assert_uint_eq(smbsess__le32(e.f->log[1].data + 16), 16);
	ck_assert_uint_eq(e.f->log[1].max, 4280);

	/* An empty stub: one fragment, alloc_hint 0; an empty answer is a non-NULL buffer. */
	out = NULL;
	ck_status(do_call(&e, 9, NULL, 0, &out, &out_len), SMBSESS__OK);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(e.f->call_ids[1], 3);
	ck_assert_uint_eq(e.f->log[2].len, 24);
	env_free(&e);
}
END_TEST

START_TEST(call_fault)
{
	struct env e;
	uint8_t stub[8] = { 0 }, *out = NULL;
	size_t out_len = 0;
	struct smbsess_status st;

	env_init(&e);
	bind_ok(&e);
	e.f->fault = 0x1C010002;
	st = do_call(&e, 10, stub, 8, &out, &out_len);
	ck_status(st, smbsess__st(SMBSESS_DOMAIN_RPC, 0x1C010002));
	ck_assert_str_eq(smbsess__status_name(st), "nca_s_op_rng_error");
	ck_assert_ptr_null(out);
	/* A fault is a complete answer: the pipe carries the next call. */
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	e.f->fault = 0x1C000024;
	st = do_call(&e, 10, stub, 8, &out, &out_len);
	ck_assert_str_eq(smbsess__status_name(st), "nca_s_fault_object_not_found");
	e.f->fault = 0x12345678;
	st = do_call(&e, 10, stub, 8, &out, &out_len);
	ck_status(st, smbsess__st(SMBSESS_DOMAIN_RPC, 0x12345678));
	ck_assert_str_eq(smbsess__status_name(st), "RPC_FAULT_UNKNOWN");
	e.f->fault = 0;
	ck_status(do_call(&e, 10, stub, 8, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, 8);
	env_free(&e);
}
END_TEST

/* A response of 3 fragments (4256 + 4256 + 1000 stub bytes), handed out in various ways. */
static void three_fragments(bool per_fragment, size_t chunk, bool never_more, size_t expect_reads)
{
	struct env e;
	size_t n = 4256 * 2 + 1000, out_len = 0, reads = 0;
	uint8_t *stub, *out = NULL, in[4] = { 1, 2, 3, 4 };

	env_init(&e);
	bind_ok(&e);
	stub = pattern(e.t, n, 3);
	e.f->resp_stub = stub;
	e.f->resp_stub_len = n;
	e.f->per_fragment = per_fragment;
	e.f->chunk = chunk;
	e.f->never_more = never_more;
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, n);
	ck_assert_mem_eq(out, stub, n);
	ck_assert_int_eq(e.f->log[1].kind, FAKE_TRANSCEIVE);
	for (size_t i = 2; i < e.f->nlog; i++) {
		ck_assert_int_eq(e.f->log[i].kind, FAKE_READ);
		reads++;
	}
	if (expect_reads)
		ck_assert_uint_eq(reads, expect_reads);
	ck_assert_uint_eq(e.f->q_len, 0);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}

START_TEST(response_three_fragments)
{
	/* Samba: one fragment per operation, STATUS_BUFFER_OVERFLOW while more is queued. */
	three_fragments(true, 0, false, 2);
	/* Pieces that cut fragments anywhere, including inside headers. */
	three_fragments(false, 1000, false, 0);
	three_fragments(false, 7, false, 0);
	/* Pieces whose "more" says nothing: completeness comes from frag_length alone. */
	three_fragments(false, 1000, true, 0);
	three_fragments(true, 0, true, 2);
}
END_TEST

START_TEST(response_fragment_sizes)
{
	struct env e;
	size_t n = 3 * 5800, out_len = 0;
	uint8_t *stub, *out = NULL, in[1] = { 0 };

	/* The server said it sends up to 5840: fragments of 5824 are fine. */
	env_init(&e);
	e.f->ack_xmit = 5840;
	bind_ok(&e);
	stub = pattern(e.t, n, 1);
	e.f->resp_stub = stub;
	e.f->resp_stub_len = n;
	e.f->resp_frag_stub = 5800;
	ck_status(do_call(&e, 12, in, 1, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, n);
	ck_assert_mem_eq(out, stub, n);
	env_free(&e);

	/* Without that, 4281 is one byte too many. */
	env_init(&e);
	bind_ok(&e);
	stub = pattern(e.t, 4257, 1);
	e.f->resp_stub = stub;
	e.f->resp_stub_len = 4257;
	e.f->resp_frag_stub = 4257;
	ck_status(do_call(&e, 12, in, 1, &out, &out_len), lib(SMBSESS_E_PROTOCOL));
	env_free(&e);
}
END_TEST

/* Checks the request fragments of a call with a stub of @p n bytes, server max_recv_frag @p recv. */
static void request_fragments(uint16_t recv, size_t n)
{
	struct env e;
	uint8_t *stub, *out = NULL;
	size_t out_len = 0, per = ((size_t)recv - 24) & ~(size_t)7, frags = n ? (n + per - 1) / per : 1, off = 0;

	env_init(&e);
	e.f->ack_recv = recv;
	bind_ok(&e);
	ck_assert_uint_eq(smbsess__rpc_pipe_max_xmit_frag(e.pipe), recv < 4280 ? recv : 4280);
	stub = pattern(e.t, n, 5);
	e.f->resp_stub = (const uint8_t *)"ok";
	e.f->resp_stub_len = 2;
	ck_status(do_call(&e, 12, stub, n, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, 2);
	ck_assert_uint_eq(e.f->nlog, 1 + frags);
	for (size_t i = 0; i < frags; i++) {
		const struct fake_op_log *l = &e.f->log[1 + i];
		size_t c = n - off < per ? n - off : per;
		uint8_t flags = (i == 0 ? 1 : 0) | (i + 1 == frags ? 2 : 0);

		/* Earlier fragments by write, the last by transceive (as Windows does). */
		ck_assert_int_eq(l->kind, i + 1 == frags ? FAKE_TRANSCEIVE : FAKE_WRITE);
		ck_assert_uint_eq(l->len, 24 + c);
		ck_assert_uint_le(l->len, recv);
		ck_assert_uint_eq(l->data[0], 5);
		ck_assert_uint_eq(l->data[2], 0);
		ck_assert_uint_eq(l->data[3], flags);
		ck_assert_uint_eq(l->data[4], 0x10);
		ck_assert_uint_eq(smbsess__le16(l->data + 8), 24 + c);
		ck_assert_uint_eq(smbsess__le16(l->data + 10), 0);
		ck_assert_uint_eq(smbsess__le32(l->data + 12), 2);
		ck_assert_uint_eq(smbsess__le32(l->data + 16), n - off); /* alloc_hint: what is left */
		ck_assert_uint_eq(smbsess__le16(l->data + 20), 0);
		ck_assert_uint_eq(smbsess__le16(l->data + 22), 12);
		if (c)
			ck_assert_mem_eq(l->data + 24, stub + off, c);
		if (i + 1 < frags)
			ck_assert_uint_eq(c % 8, 0);
		off += c;
	}
	ck_assert_uint_eq(off, n);
	ck_assert_uint_eq(e.f->req_stub_len, n);
	ck_assert_uint_eq(e.f->bad_pdus, 0);
	env_free(&e);
}

START_TEST(request_split)
{
	request_fragments(4280, 10000);     /* 4256 + 4256 + 1488 */
	request_fragments(4280, 2 * 4256);  /* exactly two full fragments */
	request_fragments(4280, 4256 + 1);  /* one byte into a second */
	request_fragments(1432, 5000);      /* the smallest size a server may announce: 1408 per fragment */
	request_fragments(4000, 9000);      /* 3976 rounds down to 3976 (a multiple of 8) */
	request_fragments(2001, 5000);      /* 1977 rounds down to 1976 */
	request_fragments(4280, 100000);
}
END_TEST

/* A call whose answer is @p raw; expects @p want and a broken pipe unless @p clean. */
static void bad_answer(const uint8_t *raw, size_t len, struct smbsess_status want, bool clean)
{
	struct env e;
	uint8_t in[8] = { 0 }, *out = NULL;
	size_t out_len = 0;
	struct tevent_req *req;

	env_init(&e);
	bind_ok(&e);
	e.f->raw[1] = talloc_memdup(e.f, raw, len);
	e.f->raw_len[1] = len;
	e.f->never_more = true;
	ck_status(do_call(&e, 12, in, 8, &out, &out_len), want);
	ck_assert_ptr_null(out);
	if (clean) {
		ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	} else {
		ck_status(smbsess__rpc_pipe_error(e.pipe), want);
		/* A broken pipe refuses calls at once, without touching the transport. */
		size_t nlog = e.f->nlog;
		req = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 12, in, 8, 5000);
		wait_for(e.ev, req);
		ck_status(smbsess__rpc_call_recv(req, e.t, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
		talloc_free(req);
		ck_assert_uint_eq(e.f->nlog, nlog);
	}
	env_free(&e);
}

START_TEST(response_malformed)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t stub[16] = { 0 }, *p, *two;
	size_t len, two_len = 0;
	struct smbsess_status proto = lib(SMBSESS_E_PROTOCOL);

	/* wrong call id */
	p = pdu_response(t, 99, 3, 16, stub, 16, &len);
	bad_answer(p, len, proto, false);
	/* frag_length below the response header */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	smbsess__put_le16(p + 8, 20);
	bad_answer(p, len, proto, false);
	/* frag_length below the common header */
	smbsess__put_le16(p + 8, 8);
	bad_answer(p, len, proto, false);
	/* frag_length above what we accept (4280) */
	p = pdu_response(t, 2, 3, 4257, pattern(t, 4257, 0), 4257, &len);
	bad_answer(p, len, proto, false);
	/* a fault shorter than a fault header */
	p = pdu_fault(t, 2, 3, 0x1C010002, &len);
	smbsess__put_le16(p + 8, 28);
	bad_answer(p, 28, proto, false);
	/* big-endian data representation: header fields in another byte order */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[4] = 0x00;
	p[8] = 0; p[9] = 40; p[14] = 0; p[15] = 2; p[12] = 0;
	bad_answer(p, len, lib(SMBSESS_E_NOT_SUPPORTED), false);
	/* EBCDIC characters, VAX floats */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[4] = 0x11;
	bad_answer(p, len, lib(SMBSESS_E_NOT_SUPPORTED), false);
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[5] = 0x01;
	bad_answer(p, len, lib(SMBSESS_E_NOT_SUPPORTED), false);
	/* an authentication verifier we never asked for */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	smbsess__put_le16(p + 10, 8);
	bad_answer(p, len, proto, false);
	/* RPC version 5.1 / 4.0 */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[1] = 1;
	bad_answer(p, len, proto, false);
	/* a request or bind_ack where a response belongs */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[2] = 0;
	bad_answer(p, len, proto, false);
	p[2] = 12;
	bad_answer(p, len, proto, false);
	/* the first fragment without PFC_FIRST_FRAG */
	p = pdu_response(t, 2, 2, 16, stub, 16, &len);
	bad_answer(p, len, proto, false);
	/* a second fragment that claims to be first */
	two = NULL;
	p = pdu_response(t, 2, 1, 32, stub, 16, &len);
	blob_cat(t, &two, &two_len, p, len);
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	blob_cat(t, &two, &two_len, p, len);
	bad_answer(two, two_len, proto, false);
	/* bytes after the last fragment */
	talloc_free(two);
	two = NULL;
	two_len = 0;
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	blob_cat(t, &two, &two_len, p, len);
	blob_cat(t, &two, &two_len, stub, 5);
	bad_answer(two, two_len, proto, false);
	/* another context id */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	p[20] = 1;
	bad_answer(p, len, proto, false);
	/* a fault without a status */
	p = pdu_fault(t, 2, 3, 0, &len);
	bad_answer(p, len, proto, false);
	/* a fault that is not the last fragment */
	p = pdu_fault(t, 2, 1, 0x1C010002, &len);
	bad_answer(p, len, proto, false);
	/* a proper fault with PFC_DID_NOT_EXECUTE: clean */
	p = pdu_fault(t, 2, 0x23, 0x00000005, &len);
	bad_answer(p, len, smbsess__st(SMBSESS_DOMAIN_RPC, 5), true);
	/* the answer stops short, and a read returns nothing */
	p = pdu_response(t, 2, 3, 16, stub, 16, &len);
	bad_answer(p, len - 4, proto, false);
	talloc_free(two);
	talloc_free(t);
}
END_TEST

START_TEST(transport_failure)
{
	struct env e;
	uint8_t in[4] = { 0 }, *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	e.f->fail_transceive = SMBSESS__ST_NT(0xC00000B0); /* STATUS_PIPE_DISCONNECTED */
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), SMBSESS__ST_NT(0xC00000B0));
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__ST_NT(0xC00000B0));
	env_free(&e);

	env_init(&e);
	e.f->fail_transceive = SMBSESS__ST_NT(0xC0000034);
	ck_status(do_bind(&e), SMBSESS__ST_NT(0xC0000034));
	env_free(&e);
}
END_TEST

/* ---- pipelined reads ---- */

/* A call whose answer is @p n bytes in fragments of 4256 stub bytes; returns the status. */
static struct smbsess_status big_answer(struct env *e, size_t n, uint8_t **stub)
{
	uint8_t in[4] = { 0 }, *out = NULL;
	size_t out_len = 0;
	struct smbsess_status st;

	*stub = pattern(e->t, n, 3);
	e->f->resp_stub = *stub;
	e->f->resp_stub_len = n;
	st = do_call(e, 12, in, 4, &out, &out_len);
	if (smbsess__st_ok(st)) {
		ck_assert_uint_eq(out_len, n);
		ck_assert_mem_eq(out, *stub, n);
	}
	return st;
}

/*
 * Once the first fragment is in, its alloc_hint says how much is left: the
 * READs for all of it go out at once, each of one fragment, none too many;
 * the pipe stays clean for the next call.
 */
START_TEST(pipelined_reads)
{
	struct env e;
	uint8_t *stub;

	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true; /* one fragment per read, as Samba */
	ck_status(big_answer(&e, 10 * 4256 - 100, &stub), SMBSESS__OK);
	ck_assert_uint_eq(e.f->nreads, 9);
	ck_assert_int_eq(e.f->max_inflight, 9);
	for (size_t i = 2; i < e.f->nlog; i++) {
		ck_assert_int_eq(e.f->log[i].kind, FAKE_READ);
		ck_assert_uint_eq(e.f->log[i].max, 4280); /* the size of the first fragment */
	}
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	ck_assert_uint_eq(e.f->q_len, 0);
	/* The next call finds the pipe as clean as before. */
	ck_status(big_answer(&e, 3000, &stub), SMBSESS__OK);
	env_free(&e);

	/* More than the window: 128 in flight at most, then on as they come back. */
	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true;
	ck_status(big_answer(&e, 300 * 4256, &stub), SMBSESS__OK);
	ck_assert_uint_eq(e.f->nreads, 299);
	ck_assert_int_le(e.f->max_inflight, 128);
	ck_assert_int_ge(e.f->max_inflight, 100);
	env_free(&e);
}
END_TEST

/* Without an alloc_hint nothing is known: one READ at a time, as before. */
START_TEST(reads_without_alloc_hint)
{
	struct env e;
	uint8_t *stub;

	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true;
	e.f->no_alloc_hint = true;
	ck_status(big_answer(&e, 5 * 4256, &stub), SMBSESS__OK);
	ck_assert_uint_eq(e.f->nreads, 4);
	ck_assert_int_eq(e.f->max_inflight, 1);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}
END_TEST

/*
 * A server whose alloc_hint promises more than comes: the READs past the
 * end are cancelled, the answer stands, and the pipe, which may still get
 * an answer to such a READ, is not used again.
 */
START_TEST(reads_past_a_lying_alloc_hint)
{
	struct env e;
	uint8_t *stub, in[4] = { 0 }, *out;
	size_t out_len;

	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true;
	e.f->alloc_hint_add = 3 * 4256;
	ck_status(big_answer(&e, 4 * 4256, &stub), SMBSESS__OK);
	ck_assert_uint_eq(e.f->nreads, 6);
	ck_assert_int_eq(e.f->inflight, 0); /* the extra ones were freed */
	ck_status(smbsess__rpc_pipe_error(e.pipe), lib(SMBSESS_E_PROTOCOL));
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	env_free(&e);
}
END_TEST

/* READs that end in any order: their data is taken in the order they were sent. */
START_TEST(reads_out_of_order)
{
	struct env e;
	uint8_t *stub, in[4] = { 0 }, *out = NULL;
	size_t out_len = 0, n = 6 * 4256 + 10;
	struct tevent_req *req;

	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true;
	e.f->defer_reads = true;
	stub = pattern(e.t, n, 11);
	e.f->resp_stub = stub;
	e.f->resp_stub_len = n;
	req = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 12, in, 4, 5000);
	while (e.f->ndeferred < 6)
		ck_assert_int_eq(tevent_loop_once(e.ev), 0);
	fake_release_reads(e.f, true);
	wait_for(e.ev, req);
	ck_status(smbsess__rpc_call_recv(req, e.t, &out, &out_len), SMBSESS__OK);
	ck_assert_uint_eq(out_len, n);
	ck_assert_mem_eq(out, stub, n);
	talloc_free(req);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}
END_TEST

/*
 * A pipe that is a byte stream (impacket's READ returns whatever is
 * waiting): pieces that cut fragments anywhere, several fragments in one.
 */
START_TEST(reads_of_a_byte_stream)
{
	struct env e;
	uint8_t *stub;
	static const size_t chunks[] = { 0, 1000, 4280, 5000, 9000 };

	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		env_init(&e);
		bind_ok(&e);
		e.f->chunk = chunks[i];
		ck_status(big_answer(&e, 7 * 4256 + 99, &stub), SMBSESS__OK);
		ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
		ck_assert_uint_eq(e.f->q_len, 0);
		ck_assert_int_eq(e.f->inflight, 0);
		env_free(&e);
	}
}
END_TEST

/* Freeing a call while its READs are in flight cancels them all and breaks the pipe. */
START_TEST(free_call_with_reads_in_flight)
{
	struct env e;
	uint8_t in[4] = { 0 };
	struct tevent_req *req;

	env_init(&e);
	bind_ok(&e);
	e.f->per_fragment = true;
	e.f->resp_stub = pattern(e.t, 8 * 4256, 1);
	e.f->resp_stub_len = 8 * 4256;
	e.f->hold_read = true;
	req = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 12, in, 4, 5000);
	while (e.f->nreads < 7)
		ck_assert_int_eq(tevent_loop_once(e.ev), 0);
	ck_assert_int_eq(e.f->inflight, 7);
	talloc_free(req);
	ck_assert_int_eq(e.f->inflight, 0);
	ck_status(smbsess__rpc_pipe_error(e.pipe), lib(SMBSESS_E_CANCELLED));
	env_free(&e);
}
END_TEST

START_TEST(call_queue)
{
	struct env e;
	struct tevent_req *req[3];
	static const char stubs[3][8] = { "first", "second", "third" };

	env_init(&e);
	bind_ok(&e);
	/*
	 * Three calls at once, answers in 3 fragments each: one call in flight
	 * at a time, in order; within a call the two reads of the rest of its
	 * answer go out together.
	 */
	e.f->resp_frag_stub = 3;
	e.f->per_fragment = true;
	for (int i = 0; i < 3; i++)
		req[i] = smbsess__rpc_call_send(e.t, e.ev, e.pipe, (uint16_t)(20 + i), (const uint8_t *)stubs[i], 8,
						5000);
	for (int i = 0; i < 3; i++)
		wait_for(e.ev, req[i]);
	ck_assert_int_eq(e.f->max_inflight, 2);
	ck_assert_uint_eq(e.f->nlog, 1 + 3 * 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(e.f->log[1 + 3 * i].kind, FAKE_TRANSCEIVE);
		ck_assert_int_eq(e.f->log[2 + 3 * i].kind, FAKE_READ);
		ck_assert_int_eq(e.f->log[3 + 3 * i].kind, FAKE_READ);
	}
	ck_assert_uint_eq(e.f->ncalls, 3);
	for (int i = 0; i < 3; i++) {
		uint8_t *out = NULL;
		size_t out_len = 0;

		ck_assert_uint_eq(e.f->call_ids[i], 2 + i);
		ck_assert_uint_eq(e.f->opnums[i], 20 + i);
		ck_status(smbsess__rpc_call_recv(req[i], e.t, &out, &out_len), SMBSESS__OK);
		ck_assert_uint_eq(out_len, 8);
		ck_assert_mem_eq(out, stubs[i], 8);
		talloc_free(req[i]);
	}
	env_free(&e);
}
END_TEST

START_TEST(cancel_queued)
{
	struct env e;
	struct tevent_req *a, *b, *c;
	uint8_t *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	a = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 1, (const uint8_t *)"aaaaaaaa", 8, 5000);
	b = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 2, (const uint8_t *)"bbbbbbbb", 8, 5000);
	c = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 3, (const uint8_t *)"cccccccc", 8, 5000);
	tevent_loop_once(e.ev); /* a goes out */
	talloc_free(b);         /* b was waiting: it just leaves the queue */
	wait_for(e.ev, c);
	ck_assert(!tevent_req_is_in_progress(a));
	ck_status(smbsess__rpc_call_recv(a, e.t, &out, &out_len), SMBSESS__OK);
	ck_assert_mem_eq(out, "aaaaaaaa", 8);
	ck_status(smbsess__rpc_call_recv(c, e.t, &out, &out_len), SMBSESS__OK);
	ck_assert_mem_eq(out, "cccccccc", 8);
	ck_assert_uint_eq(e.f->ncalls, 2);
	ck_assert_uint_eq(e.f->opnums[0], 1);
	ck_assert_uint_eq(e.f->opnums[1], 3);
	ck_assert_uint_eq(e.f->call_ids[1], 3);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	talloc_free(a);
	talloc_free(c);
	env_free(&e);
}
END_TEST

START_TEST(cancel_in_flight)
{
	struct env e;
	struct tevent_req *a, *b;
	uint8_t *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	e.f->hold = true;
	a = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 1, (const uint8_t *)"aaaaaaaa", 8, 5000);
	b = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 2, (const uint8_t *)"bbbbbbbb", 8, 5000);
	until_held(e.ev, &e.f->inflight);
	ck_assert_int_eq(e.f->inflight, 1);
	ck_assert(tevent_req_is_in_progress(a));
	ck_assert(tevent_req_is_in_progress(b));
	/* Freeing a call in flight drops its transport request and breaks the pipe... */
	talloc_free(a);
	ck_assert_int_eq(e.f->inflight, 0);
	ck_status(smbsess__rpc_pipe_error(e.pipe), lib(SMBSESS_E_CANCELLED));
	/* ...so the call behind it fails without being sent. */
	wait_for(e.ev, b);
	ck_status(smbsess__rpc_call_recv(b, e.t, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	talloc_free(b);
	ck_assert_uint_eq(e.f->ncalls, 1);
	env_free(&e);
}
END_TEST

START_TEST(call_timeout)
{
	struct env e;
	struct tevent_req *a, *b, *c;
	uint8_t *out = NULL;
	size_t out_len = 0;
	struct timeval t0 = tevent_timeval_current(), t1;

	env_init(&e);
	bind_ok(&e);
	/* The request goes out, the second half of the answer never comes. */
	e.f->hold_read = true;
	e.f->chunk = 30;
	a = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 1, (const uint8_t *)"aaaaaaaa", 8, 200);
	b = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 2, (const uint8_t *)"bbbbbbbb", 8, 5000);
	/* A queued call can time out while it waits: it leaves the queue, the pipe is fine. */
	c = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 3, (const uint8_t *)"cccccccc", 8, 100);
	wait_for(e.ev, c);
	ck_status(smbsess__rpc_call_recv(c, e.t, &out, &out_len), lib(SMBSESS_E_TIMEOUT));
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	wait_for(e.ev, a);
	t1 = tevent_timeval_current();
	ck_assert_int_ge(tevent_timeval_until(&t0, &t1).tv_usec + 1000000 * tevent_timeval_until(&t0, &t1).tv_sec,
			 190000);
	ck_status(smbsess__rpc_call_recv(a, e.t, &out, &out_len), lib(SMBSESS_E_TIMEOUT));
	ck_assert_int_eq(e.f->inflight, 0);
	ck_status(smbsess__rpc_pipe_error(e.pipe), lib(SMBSESS_E_TIMEOUT));
	wait_for(e.ev, b);
	ck_status(smbsess__rpc_call_recv(b, e.t, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	talloc_free(a);
	talloc_free(b);
	talloc_free(c);
	env_free(&e);
}
END_TEST

START_TEST(stub_limit)
{
	struct env e;
	uint8_t in[4] = { 0 }, *out = NULL, *stub;
	size_t out_len = 0, n = 3 * 4256;

	/* The default is 64 MiB. */
	env_init(&e);
	bind_ok(&e);
	stub = pattern(e.t, n, 9);
	e.f->resp_stub = stub;
	e.f->resp_stub_len = n;
	smbsess__rpc_pipe_set_limits(e.pipe, n, 0);
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), SMBSESS__OK); /* exactly at the cap */
	ck_assert_uint_eq(out_len, n);
	smbsess__rpc_pipe_set_limits(e.pipe, 2 * 4256 - 1, 0);
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), lib(SMBSESS_E_LIMIT));
	ck_status(smbsess__rpc_pipe_error(e.pipe), lib(SMBSESS_E_LIMIT));
	/* It stopped at the fragment that went over, and the pipe is not used again. */
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	env_free(&e);

	/* Fragment count. */
	env_init(&e);
	bind_ok(&e);
	e.f->resp_stub = stub = pattern(e.t, 100, 9);
	e.f->resp_stub_len = 100;
	e.f->resp_frag_stub = 8;
	smbsess__rpc_pipe_set_limits(e.pipe, 0, 13);
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), SMBSESS__OK); /* 13 fragments */
	smbsess__rpc_pipe_set_limits(e.pipe, 0, 12);
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), lib(SMBSESS_E_LIMIT));
	env_free(&e);

	/* Empty fragments, endlessly: the fragment cap ends them. */
	env_init(&e);
	bind_ok(&e);
	{
		uint8_t *many = NULL, *p;
		size_t many_len = 0, len;

		for (int i = 0; i < 200; i++) {
			p = pdu_response(e.f, 2, i == 0 ? 1 : 0, 0, NULL, 0, &len);
			blob_cat(e.f, &many, &many_len, p, len);
		}
		e.f->raw[1] = talloc_steal(e.f, many);
		e.f->raw_len[1] = many_len;
	}
	smbsess__rpc_pipe_set_limits(e.pipe, 0, 100);
	ck_status(do_call(&e, 12, in, 4, &out, &out_len), lib(SMBSESS_E_LIMIT));
	env_free(&e);

	/* A request above the cap is refused before anything is sent. */
	env_init(&e);
	bind_ok(&e);
	smbsess__rpc_pipe_set_limits(e.pipe, 1000, 0);
	ck_status(do_call(&e, 12, pattern(e.t, 1001, 0), 1001, &out, &out_len), lib(SMBSESS_E_LIMIT));
	ck_assert_uint_eq(e.f->nlog, 1);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}
END_TEST

START_TEST(pipe_freed_with_calls)
{
	struct env e;
	struct tevent_req *a, *b;
	uint8_t *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	e.f->hold = true;
	a = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 1, (const uint8_t *)"a", 1, 5000);
	b = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 2, (const uint8_t *)"b", 1, 5000);
	until_held(e.ev, &e.f->inflight);
	TALLOC_FREE(e.pipe);
	ck_assert_int_eq(e.f->inflight, 0);
	wait_for(e.ev, a);
	wait_for(e.ev, b);
	ck_status(smbsess__rpc_call_recv(a, e.t, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	ck_status(smbsess__rpc_call_recv(b, e.t, &out, &out_len), lib(SMBSESS_E_DISCONNECTED));
	talloc_free(a);
	talloc_free(b);
	env_free(&e);
}
END_TEST

START_TEST(call_bad_args)
{
	struct env e;
	struct tevent_context *other;
	struct tevent_req *req;
	uint8_t *out = NULL;
	size_t out_len = 0;

	env_init(&e);
	bind_ok(&e);
	other = tevent_context_init(e.t);
	req = smbsess__rpc_call_send(e.t, other, e.pipe, 1, (const uint8_t *)"a", 1, 5000);
	wait_for(other, req);
	ck_status(smbsess__rpc_call_recv(req, e.t, &out, &out_len), lib(SMBSESS_E_INVALID_ARGUMENT));
	talloc_free(req);
	req = smbsess__rpc_call_send(e.t, e.ev, e.pipe, 1, NULL, 5, 5000);
	wait_for(e.ev, req);
	ck_status(smbsess__rpc_call_recv(req, e.t, &out, &out_len), lib(SMBSESS_E_INVALID_ARGUMENT));
	talloc_free(req);
	ck_status(smbsess__rpc_pipe_error(e.pipe), SMBSESS__OK);
	env_free(&e);
}
END_TEST

/* tevent registers its backends on the NULL context once: do that before counting blocks. */
static void setup(void)
{
	talloc_free(tevent_context_init(NULL));
	testutil_setup();
}

static Suite *suite(void)
{
	Suite *s = suite_create("rpc");
	TCase *tc = tcase_create("rpc");

	tcase_add_checked_fixture(tc, setup, testutil_teardown);
	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, bind_ack);
	tcase_add_test(tc, bind_sizes);
	tcase_add_test(tc, bind_nak);
	tcase_add_test(tc, bind_rejections);
	tcase_add_test(tc, bind_malformed);
	tcase_add_test(tc, bind_ack_in_pieces);
	tcase_add_test(tc, bind_bad_args);
	tcase_add_test(tc, call_echo);
	tcase_add_test(tc, call_fault);
	tcase_add_test(tc, response_three_fragments);
	tcase_add_test(tc, response_fragment_sizes);
	tcase_add_test(tc, request_split);
	tcase_add_test(tc, response_malformed);
	tcase_add_test(tc, transport_failure);
	tcase_add_test(tc, pipelined_reads);
	tcase_add_test(tc, reads_without_alloc_hint);
	tcase_add_test(tc, reads_past_a_lying_alloc_hint);
	tcase_add_test(tc, reads_out_of_order);
	tcase_add_test(tc, reads_of_a_byte_stream);
	tcase_add_test(tc, free_call_with_reads_in_flight);
	tcase_add_test(tc, call_queue);
	tcase_add_test(tc, cancel_queued);
	tcase_add_test(tc, cancel_in_flight);
	tcase_add_test(tc, call_timeout);
	tcase_add_test(tc, stub_limit);
	tcase_add_test(tc, pipe_freed_with_calls);
	tcase_add_test(tc, call_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
