/* The connection-oriented DCE/RPC PDUs ([C706] 12.6, [MS-RPCE] 2.2.2). */
#include "pdu.h"

const uint8_t smbsess__rpc_srvsvc_uuid[16] = {
	0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88
};

const uint8_t smbsess__rpc_ndr20_uuid[16] = {
	0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60
};
#define NDR20_VERSION 2

/* p_cont_def_result_t and p_provider_reason_t ([C706] 12.6.3.1). */
#define RESULT_ACCEPTANCE 0
#define RESULT_USER_REJECTION 1
#define RESULT_PROVIDER_REJECTION 2

static struct smbsess_status proto(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

struct smbsess_status smbsess__rpc_parse_hdr(const uint8_t *p, size_t min_len, size_t max_len,
					     struct rpc_hdr *h)
{
	if (p[0] != 5 || p[1] != 0)
		return proto();
	/* drep: only little-endian integers, ASCII characters, IEEE floats. */
	if (p[4] != RPC_DREP_LE_ASCII || p[5] != 0)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	h->ptype = p[2];
	h->flags = p[3];
	h->frag_length = smbsess__le16(p + 8);
	h->auth_length = smbsess__le16(p + 10);
	h->call_id = smbsess__le32(p + 12);
	if (h->frag_length < min_len || h->frag_length > max_len)
		return proto();
	/* We never ask for authentication, so no PDU may carry a verifier. */
	if (h->auth_length != 0)
		return proto();
	return SMBSESS__OK;
}

void smbsess__rpc_put_hdr(uint8_t *p, uint8_t ptype, uint8_t flags, uint16_t frag_length, uint32_t call_id)
{
	p[0] = 5;
	p[1] = 0;
	p[2] = ptype;
	p[3] = flags;
	p[4] = RPC_DREP_LE_ASCII;
	p[5] = 0;
	p[6] = 0;
	p[7] = 0;
	smbsess__put_le16(p + 8, frag_length);
	smbsess__put_le16(p + 10, 0);
	smbsess__put_le32(p + 12, call_id);
}

/*
 * bind: header; max_xmit_frag, max_recv_frag (u16); assoc_group_id (u32);
 * p_cont_list_t { n_context_elem (u8), reserved (u8, u16);
 *   p_cont_elem_t { p_cont_id (u16), n_transfer_syn (u8), reserved (u8),
 *     abstract_syntax { uuid, version (u32: major | minor << 16) },
 *     transfer_syntaxes[1] { uuid, version } } }
 */
void smbsess__rpc_put_bind(uint8_t p[RPC_BIND_LEN], uint32_t call_id, uint16_t max_xmit, uint16_t max_recv,
			   const uint8_t uuid[16], uint16_t major, uint16_t minor)
{
	memset(p, 0, RPC_BIND_LEN);
	smbsess__rpc_put_hdr(p, RPC_PTYPE_BIND, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG, RPC_BIND_LEN, call_id);
	smbsess__put_le16(p + 16, max_xmit);
	smbsess__put_le16(p + 18, max_recv);
	smbsess__put_le32(p + 20, 0);   /* a new association group */
	p[24] = 1;                      /* one context */
	smbsess__put_le16(p + 28, 0);   /* its id */
	p[30] = 1;                      /* one transfer syntax */
	memcpy(p + 32, uuid, 16);
	smbsess__put_le16(p + 48, major);
	smbsess__put_le16(p + 50, minor);
	memcpy(p + 52, smbsess__rpc_ndr20_uuid, 16);
	smbsess__put_le32(p + 68, NDR20_VERSION);
}

/*
 * bind_ack: header; max_xmit_frag, max_recv_frag; assoc_group_id;
 * sec_addr { length (u16), port_spec[length] }; padding to 4;
 * p_result_list_t { n_results (u8), reserved (u8, u16);
 *   p_result_t[n_results] { result (u16), reason (u16), transfer_syntax { uuid, version } } }
 * bind_nak: header; provider_reject_reason (u16); supported versions.
 */
struct smbsess_status smbsess__rpc_parse_bind_answer(const uint8_t *p, size_t len, uint32_t call_id,
						     uint16_t *max_xmit, uint16_t *max_recv)
{
	size_t off;
	uint16_t xmit, recv, result;

	if (smbsess__le32(p + 12) != call_id)
		return proto();
	if (p[2] == RPC_PTYPE_BIND_NAK) {
		if (len < RPC_HDR_LEN + 2)
			return proto();
		return SMBSESS__ST_LIB(SMBSESS_E_BIND_REJECTED);
	}
	if (p[2] != RPC_PTYPE_BIND_ACK || len < 26)
		return proto();
	/* A bind_ack is one fragment: we offered no multi-fragment security data. */
	if ((p[3] & (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG)) != (RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG))
		return proto();
	xmit = smbsess__le16(p + 16);
	recv = smbsess__le16(p + 18);
	off = 26 + (size_t)smbsess__le16(p + 24);
	off = (off + 3) & ~(size_t)3;
	if (off > len || len - off < 4)
		return proto();
	/* We proposed exactly one context: exactly one result. */
	if (p[off] != 1 || len - off - 4 < 24)
		return proto();
	off += 4;
	result = smbsess__le16(p + off);
	if (result == RESULT_USER_REJECTION || result == RESULT_PROVIDER_REJECTION)
		return SMBSESS__ST_LIB(SMBSESS_E_BIND_REJECTED);
	if (result != RESULT_ACCEPTANCE)
		return proto(); /* negotiate_ack or unknown: nothing we asked for */
	if (memcmp(p + off + 4, smbsess__rpc_ndr20_uuid, 16) != 0 ||
	    smbsess__le32(p + off + 20) != NDR20_VERSION)
		return proto();
	if (xmit < SMBSESS__RPC_MIN_FRAG || recv < SMBSESS__RPC_MIN_FRAG)
		return proto();
	*max_xmit = xmit;
	*max_recv = recv;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__rpc_rx_append(TALLOC_CTX *mem, struct rpc_rx *rx, const uint8_t *data, size_t n)
{
	uint8_t *b;

	if (n == 0)
		return SMBSESS__OK;
	b = talloc_realloc(mem, rx->buf, uint8_t, rx->len + n);
	if (b == NULL)
		return SMBSESS__ST_NOMEM;
	memcpy(b + rx->len, data, n);
	rx->buf = b;
	rx->len += n;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__rpc_rx_peek(const struct rpc_rx *rx, size_t min_len, size_t max_len,
					   struct rpc_hdr *h, bool *complete)
{
	*complete = false;
	if (rx->len < RPC_HDR_LEN)
		return SMBSESS__OK;
	SMBSESS__CHECK(smbsess__rpc_parse_hdr(rx->buf, min_len, max_len, h));
	*complete = rx->len >= h->frag_length;
	return SMBSESS__OK;
}

void smbsess__rpc_rx_consume(struct rpc_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
}
