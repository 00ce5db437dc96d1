#include <stdio.h>

#include "smb2_testlib.h"

bool testlib_wait(struct tevent_context *ev, struct tevent_req *req)
{
	if (req == NULL)
		return false;
	while (tevent_req_is_in_progress(req))
		if (tevent_loop_once(ev) != 0)
			return false;
	return true;
}

int testlib_fail(const char *step, struct smbsess_status st)
{
	char buf[256];

	printf("step=%s\nerror=%s\ncode=%s\n", step, smbsess__status_describe(st, buf, sizeof buf),
	       smbsess__status_name(st));
	return 1;
}

struct smbsess_status testlib_connect(TALLOC_CTX *mem, struct tevent_context *ev, const char *host,
				      uint16_t port, const char *name,
				      const struct smbsess__smb2_options *opts, const char *domain,
				      const char *user, const char *password,
				      struct smbsess__smb2_conn **conn,
				      struct smbsess__smb2_session **session,
				      struct smbsess__smb2_tree **tree, const char **step)
{
	struct tevent_req *req;
	struct smbsess_status st;
	struct smbsess__creds *creds;
	int fd = -1;

	*step = "connect";
	req = smbsess__tcp_connect_send(mem, ev, host, port, opts->timeout_ms ? opts->timeout_ms : 10000);
	if (!testlib_wait(ev, req))
		return SMBSESS__ST_LIB(SMBSESS_E_INTERNAL);
	st = smbsess__tcp_connect_recv(req, &fd);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		return st;
	*conn = smbsess__smb2_conn_new(mem, ev, fd, name ? name : host, opts);
	if (*conn == NULL)
		return SMBSESS__ST_NOMEM;

	*step = "negotiate";
	req = smbsess__smb2_negotiate_send(mem, ev, *conn);
	testlib_wait(ev, req);
	st = smbsess__smb2_negotiate_recv(req);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		return st;

	*step = "session_setup";
	SMBSESS__CHECK(smbsess__creds_new(mem, domain, user, password, &creds));
	req = smbsess__smb2_session_setup_send(mem, ev, *conn, creds);
	testlib_wait(ev, req);
	st = smbsess__smb2_session_setup_recv(req, session);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		return st;

	*step = "tree_connect";
	req = smbsess__smb2_tree_connect_send(mem, ev, *session, "IPC$");
	testlib_wait(ev, req);
	st = smbsess__smb2_tree_connect_recv(req, tree);
	talloc_free(req);
	return st;
}

/* A DCE/RPC bind to srvsvc v3.0 with NDR 2.0 ([C706] 12.6.4.3), call id 1. */
size_t testlib_make_bind(uint8_t b[72])
{
	static const uint8_t srvsvc[16] = { 0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
					    0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 };
	static const uint8_t ndr[16] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
					 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };
	memset(b, 0, 72);
	b[0] = 5; b[1] = 0; b[2] = 11; b[3] = 3; b[4] = 0x10;
	smbsess__put_le16(b + 8, 72);
	smbsess__put_le32(b + 12, 1);
	smbsess__put_le16(b + 16, 4280);
	smbsess__put_le16(b + 18, 4280);
	b[24] = 1;
	smbsess__put_le16(b + 28, 0);
	b[30] = 1;
	memcpy(b + 32, srvsvc, 16);
	smbsess__put_le16(b + 48, 3);
	memcpy(b + 52, ndr, 16);
	smbsess__put_le32(b + 68, 2);
	return 72;
}

