/*
 * lib/rpc internals: the connection-oriented PDUs ([C706] 12.6, [MS-RPCE]
 * 2.2.2) this client sends and accepts, as plain byte code. Shared by the
 * files of this folder only.
 */
#ifndef SMBSESS_LIB_RPC_PDU_H
#define SMBSESS_LIB_RPC_PDU_H

#include "rpc.h"

/* PDU types ([C706] 12.6.4). */
#define RPC_PTYPE_REQUEST 0
#define RPC_PTYPE_RESPONSE 2
#define RPC_PTYPE_FAULT 3
#define RPC_PTYPE_BIND 11
#define RPC_PTYPE_BIND_ACK 12
#define RPC_PTYPE_BIND_NAK 13

/* pfc_flags. */
#define RPC_PFC_FIRST_FRAG 0x01
#define RPC_PFC_LAST_FRAG 0x02

/* The common header: rpc_vers, rpc_vers_minor, PTYPE, pfc_flags, drep[4],
 * frag_length, auth_length, call_id. */
#define RPC_HDR_LEN 16
/* request and response: + alloc_hint, p_cont_id, opnum (or cancel_count, reserved). */
#define RPC_REQ_HDR_LEN 24
#define RPC_RESP_HDR_LEN 24
/* fault: + alloc_hint, p_cont_id, cancel_count, reserved, status, reserved. */
#define RPC_FAULT_HDR_LEN 32
/* bind with one context and one transfer syntax. */
#define RPC_BIND_LEN 72

/* drep[0]: integers little-endian (high nibble 1), characters ASCII (low nibble 0). */
#define RPC_DREP_LE_ASCII 0x10

struct rpc_hdr {
	uint8_t ptype;
	uint8_t flags;
	uint16_t frag_length;
	uint16_t auth_length;
	uint32_t call_id;
};

/*
 * Checks the common header at @p p (16 bytes): version 5.0, little-endian
 * ASCII IEEE data representation (else SMBSESS_E_NOT_SUPPORTED: the header
 * fields themselves would be in another byte order), @p min_len <=
 * frag_length <= @p max_len, auth_length 0. SMBSESS_E_PROTOCOL otherwise.
 */
struct smbsess_status smbsess__rpc_parse_hdr(const uint8_t *p, size_t min_len, size_t max_len,
					     struct rpc_hdr *h);

/* Writes the common header (drep little-endian, auth_length 0). */
void smbsess__rpc_put_hdr(uint8_t *p, uint8_t ptype, uint8_t flags, uint16_t frag_length, uint32_t call_id);

/* The bind PDU: one context (id 0) for @p uuid v@p major.@p minor, transfer syntax NDR 2.0. */
void smbsess__rpc_put_bind(uint8_t p[RPC_BIND_LEN], uint32_t call_id, uint16_t max_xmit, uint16_t max_recv,
			   const uint8_t uuid[16], uint16_t major, uint16_t minor);

/*
 * Parses a whole bind_ack or bind_nak of @p len bytes (its header already
 * checked) for the bind with @p call_id. On an acceptance of NDR 2.0 gives
 * the server's max_xmit_frag and max_recv_frag.
 */
struct smbsess_status smbsess__rpc_parse_bind_answer(const uint8_t *p, size_t len, uint32_t call_id,
						     uint16_t *max_xmit, uint16_t *max_recv);

/*
 * A receive buffer: bytes read from the pipe and not yet consumed as
 * fragments. Holds at most a little more than two fragments.
 */
struct rpc_rx {
	uint8_t *buf;
	size_t len;
};

/* Appends @p n bytes; the buffer is a talloc child of @p mem. */
struct smbsess_status smbsess__rpc_rx_append(TALLOC_CTX *mem, struct rpc_rx *rx, const uint8_t *data, size_t n);

/*
 * The next fragment in @p rx, checked with smbsess__rpc_parse_hdr as soon as
 * its header is there (@p min_len and @p max_len as there). *complete tells
 * whether all frag_length bytes have arrived; the fragment starts at rx->buf.
 */
struct smbsess_status smbsess__rpc_rx_peek(const struct rpc_rx *rx, size_t min_len, size_t max_len,
					   struct rpc_hdr *h, bool *complete);

/* Drops the first @p n bytes. */
void smbsess__rpc_rx_consume(struct rpc_rx *rx, size_t n);

#endif
