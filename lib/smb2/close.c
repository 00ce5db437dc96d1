/* CLOSE ([MS-SMB2] 2.2.15, 2.2.16). */
#include "smb2_private.h"

static struct smbsess_status parse_close(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	(void)out;
	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	return smbsess__smb2_check_body(r, 60, 60);
}

void smbsess__smb2_close_body(const struct smbsess__smb2_fileid *fid, uint8_t body[24])
{
	memset(body, 0, 24);
	smbsess__put_le16(body, 24);
	memcpy(body + 8, fid->id, 16);
}

struct smbsess_status smbsess__smb2_close_parse(const struct smbsess__smb2_resp *r)
{
	return parse_close(r, NULL, NULL);
}

struct tevent_req *smbsess__smb2_close_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid)
{
	uint8_t b[24];
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_CLOSE, .session = tree->session, .tree = tree,
					   .body = b, .body_len = sizeof b };

	smbsess__smb2_close_body(fid, b);
	return smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_close, 0);
}

struct smbsess_status smbsess__smb2_close_recv(struct tevent_req *req)
{
	return smbsess__smb2_op_recv(req, NULL, NULL);
}
