/* READ ([MS-SMB2] 2.2.19, 2.2.20). */
#include "smb2_private.h"

struct read_out {
	uint8_t *data;
	size_t len;
	bool more;
};

static struct smbsess_status parse_read(const struct smbsess__smb2_resp *r, void *p, TALLOC_CTX *mem)
{
	struct read_out *out = p;
	const uint8_t *data;
	uint32_t len;

	if (r->status != SMBSESS__NT_BUFFER_OVERFLOW)
		SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 16, 17));
	len = smbsess__le32(r->body + 4);
	SMBSESS__CHECK(smbsess__smb2_resp_buffer(r, r->body[2], len, &data));
	out->data = talloc_memdup(mem, data ? data : (const uint8_t *)"", len ? len : 1);
	if (out->data == NULL)
		return SMBSESS__ST_NOMEM;
	out->len = len;
	out->more = r->status == SMBSESS__NT_BUFFER_OVERFLOW;
	return SMBSESS__OK;
}

struct tevent_req *smbsess__smb2_read_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					   struct smbsess__smb2_tree *tree,
					   const struct smbsess__smb2_fileid *fid, uint32_t len, uint64_t offset)
{
	uint8_t b[49] = { 0 };
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_READ, .session = tree->session, .tree = tree,
					   .body = b, .body_len = sizeof b, .expected_out = len };

	smbsess__put_le16(b, 49);
	b[2] = 0x50; /* where the data should start in the response */
	smbsess__put_le32(b + 4, len);
	smbsess__put_le64(b + 8, offset);
	memcpy(b + 16, fid->id, 16);
	return smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_read, sizeof(struct read_out));
}

struct smbsess_status smbsess__smb2_read_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					      uint8_t **data, size_t *data_len, bool *more)
{
	struct read_out o;
	struct smbsess_status st = smbsess__smb2_op_recv(req, mem_ctx, &o);

	if (smbsess__st_ok(st)) {
		*data = o.data;
		*data_len = o.len;
		*more = o.more;
	}
	return st;
}
