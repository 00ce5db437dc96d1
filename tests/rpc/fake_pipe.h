/*
 * A scripted in-memory RPC server behind the lib/rpc transport interface,
 * for the unit tests: it logs every operation the client makes, parses the
 * PDUs written to it, and queues answers that transceive and read hand out
 * in pieces, the way an SMB2 named pipe does.
 */
#ifndef SMBSESS_TESTS_RPC_FAKE_PIPE_H
#define SMBSESS_TESTS_RPC_FAKE_PIPE_H

#include "rpc/rpc.h"

enum fake_kind { FAKE_TRANSCEIVE = 1, FAKE_WRITE = 2, FAKE_READ = 3 };

struct fake_op_log {
	enum fake_kind kind;
	uint8_t *data; /* what the client sent (transceive, write) */
	size_t len;
	uint32_t max;  /* what it asked for (transceive, read) */
	size_t got;    /* bytes handed out */
	bool more;
};

#define FAKE_MAX_LOG 512
#define FAKE_MAX_RAW 16

struct fake {
	struct tevent_context *ev;
	struct smbsess__rpc_transport *transport;

	struct fake_op_log log[FAKE_MAX_LOG];
	size_t nlog;
	int inflight, max_inflight;

	/* client -> server bytes not yet parsed into PDUs */
	uint8_t *in;
	size_t in_len;
	/* the request being reassembled */
	uint8_t *req_stub;
	size_t req_stub_len;
	uint32_t call_ids[64]; /* call id of every complete request, in order */
	size_t ncalls;
	uint16_t opnums[64];

	/* server -> client bytes waiting */
	uint8_t *q;
	size_t q_len;

	/* ---- behaviour ---- */
	size_t chunk;          /* at most this many bytes per transceive/read (0: as asked) */
	bool per_fragment;     /* hand out at most one queued fragment per operation (Samba) */
	bool never_more;       /* always report more = false */
	bool hold;             /* transceive and read never complete */
	bool hold_read;        /* only read never completes */
	bool defer_reads;      /* reads take their data when sent, end at fake_release_reads */
	struct tevent_req *deferred[FAKE_MAX_LOG];
	size_t ndeferred;
	size_t nreads;         /* reads the client sent */
	uint32_t alloc_hint_add; /* added to every response fragment's alloc_hint (a lying server) */
	bool no_alloc_hint;    /* alloc_hint 0 in every response fragment */
	struct smbsess_status fail_transceive; /* fail every transceive with this */
	uint16_t ack_xmit, ack_recv;           /* the bind_ack's sizes */
	uint32_t fault;                        /* answer requests with this fault */
	size_t resp_frag_stub;                 /* stub bytes per response fragment (0: 4256) */
	const uint8_t *resp_stub;              /* answer with this stub (NULL: echo the request's) */
	size_t resp_stub_len;
	/* raw answers: the n-th complete PDU (bind or request) is answered with raw[n] if set */
	uint8_t *raw[FAKE_MAX_RAW];
	size_t raw_len[FAKE_MAX_RAW];
	size_t answered;
	size_t bad_pdus;                       /* PDUs the fake could not parse */
};

/* A fake on @p mem, with a transport that is a talloc child of it. */
struct fake *fake_new(TALLOC_CTX *mem, struct tevent_context *ev);

/* Ends the deferred reads still held (those the client freed are gone), last sent first if @p reverse. */
void fake_release_reads(struct fake *f, bool reverse);

/* ---- PDU builders (independent of lib/rpc's own code) ---- */
uint8_t *pdu_bind_ack(TALLOC_CTX *mem, uint32_t call_id, uint16_t xmit, uint16_t recv, uint16_t result,
		      uint16_t reason, const uint8_t ts[16], uint32_t ts_vers, size_t *len);
uint8_t *pdu_bind_nak(TALLOC_CTX *mem, uint32_t call_id, uint16_t reason, size_t *len);
uint8_t *pdu_response(TALLOC_CTX *mem, uint32_t call_id, uint8_t flags, uint32_t alloc_hint,
		      const uint8_t *stub, size_t stub_len, size_t *len);
uint8_t *pdu_fault(TALLOC_CTX *mem, uint32_t call_id, uint8_t flags, uint32_t status, size_t *len);
/* Concatenates b onto *a (a new *a is allocated on mem). */
void blob_cat(TALLOC_CTX *mem, uint8_t **a, size_t *a_len, const uint8_t *b, size_t b_len);

#endif
