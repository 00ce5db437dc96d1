/* LOGOFF ([MS-SMB2] 2.2.7, 2.2.8). */
#include "smb2_private.h"

static struct smbsess_status parse_logoff(const struct smbsess__smb2_resp *r, void *out, TALLOC_CTX *mem)
{
	(void)out;
	(void)mem;
	SMBSESS__CHECK(smbsess__smb2_nt(r->status));
	return smbsess__smb2_check_body(r, 4, 4);
}

struct tevent_req *smbsess__smb2_logoff_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     struct smbsess__smb2_session *session)
{
	uint8_t b[4] = { 4, 0, 0, 0 };
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_LOGOFF, .session = session,
					   .body = b, .body_len = sizeof b };

	return smbsess__smb2_op_send(mem_ctx, ev, session->conn, &call, parse_logoff, 0);
}

struct smbsess_status smbsess__smb2_logoff_recv(struct tevent_req *req)
{
	return smbsess__smb2_op_recv(req, NULL, NULL);
}
