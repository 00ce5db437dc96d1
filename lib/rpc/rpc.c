/*
 * DCE/RPC bind and calls over a transport: fragmentation, reassembly,
 * checks of every header, the queue of calls of a pipe.
 */
#include "pdu.h"
#include "../util/treq.h"

static struct smbsess_status proto(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

static bool transport_ok(const struct smbsess__rpc_transport *t)
{
	const struct smbsess__rpc_transport_ops *o = t ? t->ops : NULL;

	return o && o->transceive_send && o->transceive_recv && o->write_send && o->write_recv &&
	       o->read_send && o->read_recv;
}

struct call_state;

struct smbsess__rpc_pipe {
	struct tevent_context *ev;
	struct smbsess__rpc_transport *transport;
	uint16_t max_xmit; /* largest fragment we send */
	uint16_t max_recv; /* largest fragment we accept */
	uint32_t next_call_id;
	size_t max_stub;
	uint32_t max_frags;
	struct smbsess_status error;
	struct call_state *active;                /* the call in flight */
	struct call_state *queue_head, *queue_tail; /* calls waiting, oldest first */
	struct tevent_immediate *kick;
};

/* ================================================================ bind */

struct bind_state {
	struct tevent_context *ev;
	struct smbsess__rpc_transport *transport;
	struct smbsess__rpc_pipe *pipe;
	uint8_t pdu[RPC_BIND_LEN];
	struct rpc_rx rx;
	bool transceived;
	struct tevent_req *subreq;
};

static void bind_received(struct tevent_req *subreq);
static int pipe_destructor(struct smbsess__rpc_pipe *p);

static void bind_cleanup(struct tevent_req *req, enum tevent_req_state state)
{
	struct bind_state *s = tevent_req_data(req, struct bind_state);

	(void)state;
	TALLOC_FREE(s->subreq);
}

struct tevent_req *smbsess__rpc_bind_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess__rpc_transport *transport, const uint8_t uuid[16],
					  uint16_t vers_major, uint16_t vers_minor, uint32_t timeout_ms)
{
	struct tevent_req *req;
	struct bind_state *s;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct bind_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->transport = transport;
	tevent_req_set_cleanup_fn(req, bind_cleanup);
	if (uuid == NULL || !transport_ok(transport)) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (!smbsess__req_set_timeout(req, ev, timeout_ms ? timeout_ms : SMBSESS__RPC_DEFAULT_TIMEOUT_MS)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	/* Call id 1 is the bind's; calls count on from 2. */
	smbsess__rpc_put_bind(s->pdu, 1, SMBSESS__RPC_MAX_FRAG, SMBSESS__RPC_MAX_FRAG, uuid, vers_major,
			      vers_minor);
	s->subreq = transport->ops->transceive_send(s, ev, transport->ctx, s->pdu, sizeof s->pdu,
						    SMBSESS__RPC_MAX_FRAG);
	if (tevent_req_nomem(s->subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(s->subreq, bind_received, req);
	return req;
}

static void bind_received(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct bind_state *s = tevent_req_data(req, struct bind_state);
	const struct smbsess__rpc_transport_ops *ops = s->transport->ops;
	uint8_t *data = NULL;
	size_t len = 0, want = SMBSESS__RPC_MAX_FRAG - s->rx.len;
	bool more = false, complete = false;
	struct smbsess_status st;
	struct rpc_hdr h = { 0 };
	uint16_t xmit = 0, recv = 0;
	struct smbsess__rpc_pipe *p;

	/* The first answer comes from transceive, any rest from read. */
	if (!s->transceived) {
		s->transceived = true;
		st = ops->transceive_recv(subreq, s, &data, &len, &more);
	} else {
		st = ops->read_recv(subreq, s, &data, &len, &more);
		if (smbsess__st_ok(st) && len == 0)
			st = proto(); /* a read must make progress */
	}
	TALLOC_FREE(subreq);
	s->subreq = NULL;
	if (smbsess__st_ok(st) && len > want)
		st = proto();
	if (smbsess__st_ok(st))
		st = smbsess__rpc_rx_append(s, &s->rx, data, len);
	talloc_free(data);
	if (smbsess__st_ok(st))
		st = smbsess__rpc_rx_peek(&s->rx, RPC_HDR_LEN + 2, SMBSESS__RPC_MAX_FRAG, &h, &complete);
	if (smbsess__req_nok(req, st))
		return;
	if (!complete) {
		/* Incomplete by frag_length, whatever the transport said about "more". */
		s->subreq = ops->read_send(s, s->ev, s->transport->ctx, (uint32_t)(SMBSESS__RPC_MAX_FRAG - s->rx.len));
		if (tevent_req_nomem(s->subreq, req))
			return;
		tevent_req_set_callback(s->subreq, bind_received, req);
		return;
	}
	/* Exactly one PDU answers a bind. */
	if (s->rx.len != h.frag_length) {
		smbsess__req_nok(req, proto());
		return;
	}
	if (smbsess__req_nok(req, smbsess__rpc_parse_bind_answer(s->rx.buf, s->rx.len, 1, &xmit, &recv)))
		return;

	p = talloc_zero(s, struct smbsess__rpc_pipe);
	if (tevent_req_nomem(p, req))
		return;
	p->kick = tevent_create_immediate(p);
	if (tevent_req_nomem(p->kick, req)) {
		talloc_free(p);
		return;
	}
	p->ev = s->ev;
	p->transport = s->transport;
	/*
	 * Our fragments fit what the server receives; its fragments are held
	 * to what it said it sends (at most what we proposed, the largest a
	 * fragment can be: the fewer fragments, the fewer READs).
	 */
	p->max_xmit = recv;
	p->max_recv = xmit;
	p->next_call_id = 2;
	p->max_stub = SMBSESS__RPC_DEFAULT_MAX_STUB;
	p->max_frags = SMBSESS__RPC_DEFAULT_MAX_FRAGS;
	p->error = SMBSESS__OK;
	talloc_set_destructor(p, pipe_destructor);
	s->pipe = p;
	tevent_req_done(req);
}

struct smbsess_status smbsess__rpc_bind_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					     struct smbsess__rpc_pipe **pipe)
{
	struct bind_state *s = tevent_req_data(req, struct bind_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*pipe = talloc_move(mem_ctx, &s->pipe);
		talloc_steal(*pipe, (*pipe)->transport);
	}
	tevent_req_received(req);
	return st;
}

uint16_t smbsess__rpc_pipe_max_xmit_frag(const struct smbsess__rpc_pipe *pipe)
{
	return pipe->max_xmit;
}

uint16_t smbsess__rpc_pipe_max_recv_frag(const struct smbsess__rpc_pipe *pipe)
{
	return pipe->max_recv;
}

void smbsess__rpc_pipe_set_limits(struct smbsess__rpc_pipe *pipe, size_t max_stub, uint32_t max_frags)
{
	if (max_stub)
		pipe->max_stub = max_stub;
	if (max_frags)
		pipe->max_frags = max_frags;
}

struct smbsess_status smbsess__rpc_pipe_error(const struct smbsess__rpc_pipe *pipe)
{
	return pipe->error;
}

/* ================================================================ calls */

/*
 * A READ of the rest of an answer. Several are in flight at once; their
 * data is taken in the order they were sent, whatever order they end in.
 */
struct read_slot {
	struct call_state *call;
	struct tevent_req *subreq; /* NULL once done */
	uint8_t *data;
	size_t len;
	uint32_t asked;
	bool done;
};

/* The most READs one call keeps in flight (the SMB2 layer also waits for credits). */
#define READ_WINDOW 128u

struct call_state {
	struct tevent_req *req;
	struct smbsess__rpc_pipe *pipe; /* NULL once the call is off the pipe */
	struct call_state *prev, *next; /* on the pipe's queue */
	bool queued;
	bool active;
	uint16_t opnum;
	uint8_t *stub;
	size_t stub_len;
	size_t sent;      /* stub bytes in fragments already written */
	size_t chunk;     /* stub bytes in the fragment being sent */
	uint32_t call_id;
	uint8_t *frag;
	bool transceived; /* the last fragment went out; reading the answer */
	struct tevent_req *subreq;
	struct rpc_rx rx;
	uint8_t *out;
	size_t out_len, out_cap;
	uint32_t nfrags;
	/*
	 * Pipelined reads. Once the first fragment is in, its alloc_hint says
	 * how much stub is still to come; with its frag_length as the size of
	 * the fragments, that gives the bytes still to read. Enough READs of
	 * one fragment each go out at once to cover them.
	 */
	struct read_slot *slots;   /* ring of READ_WINDOW */
	unsigned head, inflight;   /* the oldest slot in use, and how many are */
	uint32_t read_len;         /* what each READ asks for */
	uint64_t wire_expected;    /* bytes of the answer after its first fragment (0: unknown) */
	uint64_t wire_asked;       /* of those, asked for or already received */
};

static void call_sent(struct tevent_req *subreq);
static void call_received(struct tevent_req *subreq);
static void read_done(struct tevent_req *subreq);

/* Frees the READs in flight: each becomes a cancel at the SMB2 layer. */
static void drop_reads(struct call_state *s)
{
	if (s->slots == NULL)
		return;
	for (unsigned i = 0; i < READ_WINDOW; i++) {
		TALLOC_FREE(s->slots[i].subreq);
		TALLOC_FREE(s->slots[i].data);
		s->slots[i].done = false;
	}
	s->inflight = 0;
}

static void pipe_break(struct smbsess__rpc_pipe *p, struct smbsess_status why)
{
	if (smbsess__st_ok(p->error))
		p->error = why;
}

static void pipe_kick_handler(struct tevent_context *ev, struct tevent_immediate *im, void *private_data);

static void pipe_kick(struct smbsess__rpc_pipe *p)
{
	if (p->queue_head != NULL && p->active == NULL)
		tevent_schedule_immediate(p->kick, p->ev, pipe_kick_handler, p);
}

static void queue_unlink(struct smbsess__rpc_pipe *p, struct call_state *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		p->queue_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		p->queue_tail = s->prev;
	s->prev = s->next = NULL;
	s->queued = false;
}

/*
 * Takes a finished call off its pipe. @p clean: the call ended at a PDU
 * boundary, so the pipe can carry the next call; otherwise it breaks.
 */
static void call_detach(struct call_state *s, bool clean, struct smbsess_status why)
{
	struct smbsess__rpc_pipe *p = s->pipe;

	TALLOC_FREE(s->subreq);
	/* A READ left pending would take the next call's answer: the pipe is then not clean. */
	if (s->inflight > 0)
		clean = false;
	drop_reads(s);
	if (p == NULL)
		return;
	if (s->queued)
		queue_unlink(p, s);
	if (s->active) {
		s->active = false;
		p->active = NULL;
		if (!clean)
			pipe_break(p, why);
	}
	s->pipe = NULL;
	pipe_kick(p);
}

/* Runs when the call finishes in any way (a timeout too) or is freed. */
static void call_cleanup(struct tevent_req *req, enum tevent_req_state state)
{
	struct call_state *s = tevent_req_data(req, struct call_state);
	struct smbsess_status why = state == TEVENT_REQ_TIMED_OUT ? SMBSESS__ST_LIB(SMBSESS_E_TIMEOUT)
								  : SMBSESS__ST_LIB(SMBSESS_E_CANCELLED);

	call_detach(s, false, why);
}

static void call_fail(struct call_state *s, struct smbsess_status st)
{
	call_detach(s, false, st);
	smbsess__req_nok(s->req, st);
}

static int pipe_destructor(struct smbsess__rpc_pipe *p)
{
	struct smbsess_status gone = SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED);

	pipe_break(p, gone);
	/* Every call lets go of the pipe before the transport goes with it. */
	while (p->active || p->queue_head) {
		struct call_state *s = p->active ? p->active : p->queue_head;

		call_detach(s, false, gone);
		smbsess__req_nok(s->req, gone);
	}
	return 0;
}

struct tevent_req *smbsess__rpc_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess__rpc_pipe *pipe, uint16_t opnum,
					  const uint8_t *stub, size_t len, uint32_t timeout_ms)
{
	struct tevent_req *req;
	struct call_state *s;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct call_state);
	if (req == NULL)
		return NULL;
	s->req = req;
	s->opnum = opnum;
	/* A call may end inside the pipe's destructor or another call's step. */
	tevent_req_defer_callback(req, ev);
	if (pipe == NULL || ev != pipe->ev || (stub == NULL && len > 0)) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (!smbsess__st_ok(pipe->error)) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	if (len > pipe->max_stub) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_LIMIT));
		return tevent_req_post(req, ev);
	}
	s->stub = talloc_memdup(s, len ? stub : (const uint8_t *)"", len ? len : 1);
	if (tevent_req_nomem(s->stub, req))
		return tevent_req_post(req, ev);
	s->stub_len = len;
	if (!smbsess__req_set_timeout(req, ev, timeout_ms ? timeout_ms : SMBSESS__RPC_DEFAULT_TIMEOUT_MS)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	s->pipe = pipe;
	s->prev = pipe->queue_tail;
	if (pipe->queue_tail)
		pipe->queue_tail->next = s;
	else
		pipe->queue_head = s;
	pipe->queue_tail = s;
	s->queued = true;
	tevent_req_set_cleanup_fn(req, call_cleanup);
	pipe_kick(pipe);
	return req;
}

/* Builds and sends the next request fragment: write for all but the last, transceive for it. */
static void call_send_fragment(struct call_state *s)
{
	struct smbsess__rpc_pipe *p = s->pipe;
	const struct smbsess__rpc_transport *t = p->transport;
	/* Stub per fragment: what fits, kept a multiple of 8 so NDR alignment carries over. */
	size_t per_frag = ((size_t)p->max_xmit - RPC_REQ_HDR_LEN) & ~(size_t)7;
	size_t left = s->stub_len - s->sent;
	uint8_t flags = 0;
	size_t len;

	s->chunk = left < per_frag ? left : per_frag;
	if (s->sent == 0)
		flags |= RPC_PFC_FIRST_FRAG;
	if (s->chunk == left)
		flags |= RPC_PFC_LAST_FRAG;
	len = RPC_REQ_HDR_LEN + s->chunk;
	TALLOC_FREE(s->frag);
	s->frag = talloc_array(s, uint8_t, len);
	if (s->frag == NULL) {
		call_fail(s, SMBSESS__ST_NOMEM);
		return;
	}
	smbsess__rpc_put_hdr(s->frag, RPC_PTYPE_REQUEST, flags, (uint16_t)len, s->call_id);
	smbsess__put_le32(s->frag + 16, (uint32_t)left); /* alloc_hint: the stub still to come */
	smbsess__put_le16(s->frag + 20, 0);              /* p_cont_id */
	smbsess__put_le16(s->frag + 22, s->opnum);
	memcpy(s->frag + RPC_REQ_HDR_LEN, s->stub + s->sent, s->chunk);

	if (flags & RPC_PFC_LAST_FRAG) {
		s->transceived = true;
		s->subreq = t->ops->transceive_send(s, p->ev, t->ctx, s->frag, len, p->max_recv);
		if (s->subreq == NULL) {
			call_fail(s, SMBSESS__ST_NOMEM);
			return;
		}
		tevent_req_set_callback(s->subreq, call_received, s->req);
		return;
	}
	s->subreq = t->ops->write_send(s, p->ev, t->ctx, s->frag, len);
	if (s->subreq == NULL) {
		call_fail(s, SMBSESS__ST_NOMEM);
		return;
	}
	tevent_req_set_callback(s->subreq, call_sent, s->req);
}

static void call_start(struct call_state *s)
{
	struct smbsess__rpc_pipe *p = s->pipe;

	queue_unlink(p, s);
	if (!smbsess__st_ok(p->error)) {
		s->pipe = NULL;
		smbsess__req_nok(s->req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return;
	}
	s->active = true;
	p->active = s;
	s->call_id = p->next_call_id++;
	if (p->next_call_id == 0)
		p->next_call_id = 1;
	call_send_fragment(s);
}

static void pipe_kick_handler(struct tevent_context *ev, struct tevent_immediate *im, void *private_data)
{
	struct smbsess__rpc_pipe *p = private_data;

	(void)ev;
	(void)im;
	/* Calls that find the pipe broken fail at once; the first good one goes out. */
	while (p->active == NULL && p->queue_head != NULL)
		call_start(p->queue_head);
}

static void call_sent(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct call_state *s = tevent_req_data(req, struct call_state);
	struct smbsess_status st = s->pipe->transport->ops->write_recv(subreq);

	TALLOC_FREE(subreq);
	s->subreq = NULL;
	if (!smbsess__st_ok(st)) {
		call_fail(s, st);
		return;
	}
	s->sent += s->chunk;
	call_send_fragment(s);
}

/* Appends the stub of one response fragment, within the pipe's cap. */
static struct smbsess_status out_append(struct call_state *s, const uint8_t *data, size_t n)
{
	if (n > s->pipe->max_stub - s->out_len)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	if (s->out_len + n > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : 4096;
		uint8_t *b;

		while (cap < s->out_len + n)
			cap *= 2;
		if (cap > s->pipe->max_stub)
			cap = s->pipe->max_stub;
		b = talloc_realloc(s, s->out, uint8_t, cap);
		if (b == NULL)
			return SMBSESS__ST_NOMEM;
		s->out = b;
		s->out_cap = cap;
	}
	if (n)
		memcpy(s->out + s->out_len, data, n);
	s->out_len += n;
	return SMBSESS__OK;
}

/*
 * After the first fragment (not the last): how many bytes of the answer
 * are still to come, from its alloc_hint (the stub still to come, this
 * fragment's included) and its frag_length taken as the size of the rest.
 * A hint of 0 (none), or one below this fragment's own stub, says nothing.
 */
static void expect_rest(struct call_state *s, const uint8_t *f, const struct rpc_hdr *h)
{
	uint32_t hint = smbsess__le32(f + 16);
	size_t stub = h->frag_length - RPC_RESP_HDR_LEN;
	size_t per_frag = stub;
	uint64_t rest, frags;

	s->read_len = h->frag_length;
	if (hint <= stub || per_frag == 0)
		return;
	rest = hint - stub;
	frags = (rest + per_frag - 1) / per_frag;
	s->wire_expected = rest + frags * RPC_RESP_HDR_LEN;
}

/*
 * Consumes the complete fragments in the receive buffer. *finished: the
 * call has its answer (success, or *fault set to the fault's status).
 */
static struct smbsess_status call_take_fragments(struct call_state *s, bool *finished,
						 struct smbsess_status *fault)
{
	struct smbsess__rpc_pipe *p = s->pipe;

	*finished = false;
	for (;;) {
		struct rpc_hdr h = { 0 };
		bool complete;
		const uint8_t *f = s->rx.buf;

		SMBSESS__CHECK(smbsess__rpc_rx_peek(&s->rx, RPC_RESP_HDR_LEN, p->max_recv, &h, &complete));
		if (s->rx.len >= RPC_HDR_LEN) {
			/* Checked as soon as the header is in, before waiting for the rest. */
			if (h.ptype != RPC_PTYPE_RESPONSE && h.ptype != RPC_PTYPE_FAULT)
				return proto();
			if (h.call_id != s->call_id)
				return proto();
			if (h.ptype == RPC_PTYPE_FAULT && h.frag_length < RPC_FAULT_HDR_LEN)
				return proto();
			if (((h.flags & RPC_PFC_FIRST_FRAG) != 0) != (s->nfrags == 0))
				return proto();
		}
		if (!complete)
			return SMBSESS__OK;
		if (++s->nfrags > p->max_frags)
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		if (smbsess__le16(f + 20) != 0) /* p_cont_id: our only context */
			return proto();
		if (h.ptype == RPC_PTYPE_FAULT) {
			uint32_t code = smbsess__le32(f + 24);

			/* A fault without a status says nothing: treat it as broken. */
			if (code == 0)
				return proto();
			*fault = smbsess__st(SMBSESS_DOMAIN_RPC, code);
			*finished = true;
			smbsess__rpc_rx_consume(&s->rx, h.frag_length);
			/* The pipe is clean only if the fault ended the answer. */
			if (!(h.flags & RPC_PFC_LAST_FRAG) || s->rx.len != 0)
				return proto();
			return SMBSESS__OK;
		}
		SMBSESS__CHECK(out_append(s, f + RPC_RESP_HDR_LEN, h.frag_length - RPC_RESP_HDR_LEN));
		if (s->nfrags == 1 && !(h.flags & RPC_PFC_LAST_FRAG))
			expect_rest(s, f, &h);
		smbsess__rpc_rx_consume(&s->rx, h.frag_length);
		if (s->nfrags == 1)
			s->wire_asked = s->rx.len; /* what came with the first answer already */
		if (h.flags & RPC_PFC_LAST_FRAG) {
			*finished = true;
			/* Anything after the last fragment belongs to no call. */
			return s->rx.len == 0 ? SMBSESS__OK : proto();
		}
	}
}

/* Sends READs until the rest of the answer is covered (at least one, at most the window). */
static struct smbsess_status pipeline_reads(struct call_state *s)
{
	struct smbsess__rpc_pipe *p = s->pipe;
	const struct smbsess__rpc_transport *t = p->transport;

	if (s->slots == NULL) {
		s->slots = talloc_zero_array(s, struct read_slot, READ_WINDOW);
		if (s->slots == NULL)
			return SMBSESS__ST_NOMEM;
	}
	if (s->read_len == 0 || s->read_len > p->max_recv)
		s->read_len = p->max_recv;
	while (s->inflight < READ_WINDOW && (s->inflight == 0 || s->wire_asked < s->wire_expected)) {
		struct read_slot *slot = &s->slots[(s->head + s->inflight) % READ_WINDOW];

		slot->call = s;
		slot->done = false;
		slot->asked = s->read_len;
		slot->subreq = t->ops->read_send(s, p->ev, t->ctx, s->read_len);
		if (slot->subreq == NULL)
			return SMBSESS__ST_NOMEM;
		tevent_req_set_callback(slot->subreq, read_done, slot);
		s->inflight++;
		s->wire_asked += s->read_len;
	}
	return SMBSESS__OK;
}

/*
 * Takes @p len bytes of the answer (@p data is freed here): the complete
 * fragments in it, then the end of the call or more reads.
 */
static void call_absorb(struct call_state *s, struct smbsess_status st, uint8_t *data, size_t len,
			size_t asked)
{
	bool finished = false;
	struct smbsess_status fault = SMBSESS__OK;

	if (smbsess__st_ok(st) && len > asked)
		st = proto(); /* more than we asked for */
	if (smbsess__st_ok(st))
		st = smbsess__rpc_rx_append(s, &s->rx, data, len);
	talloc_free(data);
	if (smbsess__st_ok(st))
		st = call_take_fragments(s, &finished, &fault);
	if (!smbsess__st_ok(st)) {
		call_fail(s, st);
		return;
	}
	if (finished) {
		/*
		 * The answer is whole. A READ still in flight now means the
		 * server's alloc_hint promised more than came: the answer
		 * stands, the pipe does not (call_detach breaks it).
		 */
		call_detach(s, true, proto());
		if (!smbsess__st_ok(fault)) {
			smbsess__req_nok(s->req, fault);
			return;
		}
		tevent_req_done(s->req);
		return;
	}
	/*
	 * The answer is incomplete by frag_length and LAST_FRAG, whatever
	 * "more" said (Samba says it whenever anything is queued): read on.
	 */
	st = pipeline_reads(s);
	if (!smbsess__st_ok(st))
		call_fail(s, st);
}

/* The answer to the last request fragment (the transceive). */
static void call_received(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct call_state *s = tevent_req_data(req, struct call_state);
	const struct smbsess__rpc_transport *t = s->pipe->transport;
	uint8_t *data = NULL;
	size_t len = 0;
	bool more = false;
	struct smbsess_status st;

	s->transceived = false;
	st = t->ops->transceive_recv(subreq, s, &data, &len, &more);
	TALLOC_FREE(subreq);
	s->subreq = NULL;
	call_absorb(s, st, data, len, s->pipe->max_recv);
}

/* One READ ended: its data, and that of the READs before it that ended, in order. */
static void read_done(struct tevent_req *subreq)
{
	struct read_slot *slot = tevent_req_callback_data_void(subreq); /* an element of s->slots */
	struct call_state *s = slot->call;
	const struct smbsess__rpc_transport *t = s->pipe->transport;
	bool more = false;
	struct smbsess_status st;

	st = t->ops->read_recv(subreq, s, &slot->data, &slot->len, &more);
	TALLOC_FREE(slot->subreq);
	/* A read must make progress, or a peer could keep us reading forever. */
	if (smbsess__st_ok(st) && slot->len == 0)
		st = proto();
	if (!smbsess__st_ok(st)) {
		call_fail(s, st);
		return;
	}
	slot->done = true;
	while (s->inflight > 0 && s->slots[s->head].done) {
		struct read_slot *first = &s->slots[s->head];
		uint8_t *data = first->data;
		size_t len = first->len;
		uint32_t asked = first->asked;

		first->data = NULL;
		first->done = false;
		s->head = (s->head + 1) % READ_WINDOW;
		s->inflight--;
		call_absorb(s, SMBSESS__OK, data, len, asked);
		/* The call may have ended: its slots are gone then. */
		if (s->pipe == NULL || !tevent_req_is_in_progress(s->req))
			return;
	}
}

struct smbsess_status smbsess__rpc_call_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					     uint8_t **out_stub, size_t *out_len)
{
	struct call_state *s = tevent_req_data(req, struct call_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		if (s->out == NULL)
			s->out = talloc_array(s, uint8_t, 0);
		else if (s->out_len > 0 && s->out_len < s->out_cap)
			s->out = talloc_realloc(s, s->out, uint8_t, s->out_len);
		if (s->out == NULL) {
			st = SMBSESS__ST_NOMEM;
		} else {
			*out_stub = talloc_move(mem_ctx, &s->out);
			*out_len = s->out_len;
		}
	}
	tevent_req_received(req);
	return st;
}
