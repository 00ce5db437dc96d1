/* WRITE ([MS-SMB2] 2.2.21, 2.2.22). */
#include "smb2_private.h"

#define WRITE_FIXED 48

static struct smbsess_status parse_write(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 16, 17));
	*(uint32_t *)out = smbsess__le32(r->body + 4);
	return SMBSESS__OK;
}

struct tevent_req *smbsess__smb2_write_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid,
					    const uint8_t *data, size_t len, uint64_t offset)
{
	uint8_t *b;
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_WRITE, .session = tree->session, .tree = tree };
	struct tevent_req *req;

	if (len > UINT32_MAX - WRITE_FIXED)
		return NULL;
	b = talloc_zero_array(mem_ctx, uint8_t, WRITE_FIXED + (len ? len : 1));
	if (b == NULL)
		return NULL;
	smbsess__put_le16(b, 49);
	smbsess__put_le16(b + 2, SMBSESS__SMB2_HDR_LEN + WRITE_FIXED);
	smbsess__put_le32(b + 4, (uint32_t)len);
	smbsess__put_le64(b + 8, offset);
	memcpy(b + 16, fid->id, 16);
	if (len)
		memcpy(b + WRITE_FIXED, data, len);
	call.body = b;
	call.body_len = WRITE_FIXED + (len ? len : 1);
	req = smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_write, sizeof(uint32_t));
	talloc_free(b);
	return req;
}

struct smbsess_status smbsess__smb2_write_recv(struct tevent_req *req, uint32_t *written)
{
	return smbsess__smb2_op_recv(req, NULL, written);
}
