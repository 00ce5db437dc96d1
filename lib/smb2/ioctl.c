/* IOCTL ([MS-SMB2] 2.2.31, 2.2.32): FSCTLs, FSCTL_PIPE_TRANSCEIVE above all. */
#include "smb2_private.h"

#define IOCTL_FIXED 56
#define IOCTL_IS_FSCTL 0x00000001u

struct ioctl_out {
	uint8_t *data;
	size_t len;
	bool more;
};

static struct smbsess_status parse_ioctl(const struct smbsess__smb2_resp *r, void *p, TALLOC_CTX *mem)
{
	struct ioctl_out *out = p;
	const uint8_t *data;
	uint32_t off, len;

	/* STATUS_BUFFER_OVERFLOW: the output is valid and more is waiting. */
	if (r->status != SMBSESS__NT_BUFFER_OVERFLOW)
		SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	SMBSESS__CHECK(smbsess__smb2_check_body(r, 48, 49));
	off = smbsess__le32(r->body + 32);
	len = smbsess__le32(r->body + 36);
	SMBSESS__CHECK(smbsess__smb2_resp_buffer(r, off, len, &data));
	out->data = talloc_memdup(mem, data ? data : (const uint8_t *)"", len ? len : 1);
	if (out->data == NULL)
		return SMBSESS__ST_NOMEM;
	out->len = len;
	out->more = r->status == SMBSESS__NT_BUFFER_OVERFLOW;
	return SMBSESS__OK;
}

uint8_t *smbsess__smb2_ioctl_body(TALLOC_CTX *mem_ctx, const struct smbsess__smb2_fileid *fid, uint32_t ctl_code,
				  const uint8_t *in, size_t in_len, uint32_t max_out, size_t *body_len)
{
	uint8_t *b;

	if (in_len > UINT32_MAX - IOCTL_FIXED)
		return NULL;
	b = talloc_zero_array(mem_ctx, uint8_t, IOCTL_FIXED + in_len);
	if (b == NULL)
		return NULL;
	smbsess__put_le16(b, 57);
	smbsess__put_le32(b + 4, ctl_code);
	memcpy(b + 8, fid->id, 16);
	smbsess__put_le32(b + 24, in_len ? SMBSESS__SMB2_HDR_LEN + IOCTL_FIXED : 0);
	smbsess__put_le32(b + 28, (uint32_t)in_len);
	smbsess__put_le32(b + 44, max_out);
	smbsess__put_le32(b + 48, IOCTL_IS_FSCTL);
	if (in_len)
		memcpy(b + IOCTL_FIXED, in, in_len);
	*body_len = IOCTL_FIXED + in_len;
	return b;
}

struct smbsess_status smbsess__smb2_ioctl_parse(const struct smbsess__smb2_resp *r, TALLOC_CTX *mem_ctx,
						uint8_t **out, size_t *out_len, bool *more)
{
	struct ioctl_out o;

	SMBSESS__CHECK(parse_ioctl(r, &o, mem_ctx));
	*out = o.data;
	*out_len = o.len;
	*more = o.more;
	return SMBSESS__OK;
}

struct tevent_req *smbsess__smb2_ioctl_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid, uint32_t ctl_code,
					    const uint8_t *in, size_t in_len, uint32_t max_out)
{
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_IOCTL, .session = tree->session, .tree = tree };
	struct tevent_req *req;
	uint8_t *b = smbsess__smb2_ioctl_body(mem_ctx, fid, ctl_code, in, in_len, max_out, &call.body_len);

	if (b == NULL)
		return NULL;
	call.body = b;
	call.expected_out = max_out;
	req = smbsess__smb2_op_send(mem_ctx, ev, tree->session->conn, &call, parse_ioctl, sizeof(struct ioctl_out));
	talloc_free(b);
	return req;
}

struct smbsess_status smbsess__smb2_ioctl_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					       uint8_t **out, size_t *out_len, bool *more)
{
	struct ioctl_out o;
	struct smbsess_status st = smbsess__smb2_op_recv(req, mem_ctx, &o);

	if (smbsess__st_ok(st)) {
		*out = o.data;
		*out_len = o.len;
		*more = o.more;
	}
	return st;
}
