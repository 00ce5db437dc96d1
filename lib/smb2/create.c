/* CREATE ([MS-SMB2] 2.2.13, 2.2.14), for opening a named pipe. */
#include "smb2_private.h"

#define CREATE_FIXED 56
/* FILE_READ_DATA|FILE_WRITE_DATA|FILE_APPEND_DATA|FILE_READ_EA|FILE_WRITE_EA|
 * FILE_READ_ATTRIBUTES|FILE_WRITE_ATTRIBUTES|READ_CONTROL|SYNCHRONIZE */
#define PIPE_ACCESS 0x0012019Fu
#define SHARE_READ_WRITE 0x00000003u
#define FILE_OPEN 0x00000001u
#define IMPERSONATION 0x00000002u

static struct smbsess_status parse_create(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 88, 89));
	memcpy(out, r->body + 64, 16);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_create_body(TALLOC_CTX *mem_ctx, const char *name,
					       uint8_t **body, size_t *body_len)
{
	uint8_t *b = talloc_zero_array(mem_ctx, uint8_t, CREATE_FIXED);
	size_t len = CREATE_FIXED;
	struct smbsess_status st;

	if (b == NULL)
		return SMBSESS__ST_NOMEM;
	st = smbsess__smb2_put_utf16(mem_ctx, name, &b, &len);
	if (!smbsess__st_ok(st)) {
		talloc_free(b);
		return st;
	}
	smbsess__put_le16(b, 57);
	smbsess__put_le32(b + 4, IMPERSONATION);
	smbsess__put_le32(b + 24, PIPE_ACCESS);
	smbsess__put_le32(b + 32, SHARE_READ_WRITE);
	smbsess__put_le32(b + 36, FILE_OPEN);
	smbsess__put_le16(b + 44, SMBSESS__SMB2_HDR_LEN + CREATE_FIXED);
	smbsess__put_le16(b + 46, (uint16_t)(len - CREATE_FIXED));
	if (len == CREATE_FIXED)
		len++; /* the buffer is at least one byte */
	*body = b;
	*body_len = len;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_create_parse(const struct smbsess__smb2_resp *r,
						struct smbsess__smb2_fileid *fid)
{
	return parse_create(r, fid, NULL);
}

struct tevent_req *smbsess__smb2_create_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     struct smbsess__smb2_tree *tree, const char *name)
{
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_CREATE, .session = tree->session, .tree = tree };
	struct tevent_req *req;
	uint8_t *b;
	size_t len;

	if (!smbsess__st_ok(smbsess__smb2_create_body(mem_ctx, name, &b, &len)))
		return NULL;
	call.body = b;
	call.body_len = len;
	req = smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_create,
				    sizeof(struct smbsess__smb2_fileid));
	talloc_free(b);
	return req;
}

struct smbsess_status smbsess__smb2_create_recv(struct tevent_req *req, struct smbsess__smb2_fileid *fid)
{
	return smbsess__smb2_op_recv(req, NULL, fid);
}
