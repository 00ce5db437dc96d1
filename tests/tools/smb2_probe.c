/*
 * smb2_probe: drives the SMB2 transport once against a server, for the
 * integration tests: connect, negotiate, authenticate, tree connect IPC$,
 * open \srvsvc, exchange a DCE/RPC bind through FSCTL_PIPE_TRANSCEIVE, close,
 * disconnect, log off. Prints key=value lines; exit 0 when all worked, 1
 * with "error=..." otherwise, 2 on usage errors.
 *
 *   smb2_probe [--min 0x0202] [--max 0x0311] [--signing required]
 *              [--encrypt required|off] [--timeout MS] [--name SERVERNAME]
 *              HOST PORT DOMAIN USER PASSWORD
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smb2_testlib.h"

static struct tevent_context *ev;

static bool wait_for(struct tevent_req *req)
{
	return testlib_wait(ev, req);
}

static int fail(const char *step, struct smbsess_status st)
{
	return testlib_fail(step, st);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess__smb2_options opts = { 0 };
	const char *name = NULL;
	struct tevent_req *req;
	struct smbsess_status st;
	int i;
	struct smbsess__smb2_session *session = NULL;
	struct smbsess__smb2_tree *tree = NULL;
	struct smbsess__smb2_fileid fid;
	uint8_t bind[72], *out;
	size_t out_len;
	bool more;
	int rc;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			return 2;
		if (!strcmp(argv[i], "--min"))
			opts.min_dialect = (uint16_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--max"))
			opts.max_dialect = (uint16_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--signing"))
			opts.signing = SMBSESS__SMB2_POLICY_REQUIRED;
		else if (!strcmp(argv[i], "--encrypt"))
			opts.encryption = !strcmp(argv[i + 1], "off") ? SMBSESS__SMB2_POLICY_OFF
								       : SMBSESS__SMB2_POLICY_REQUIRED;
		else if (!strcmp(argv[i], "--timeout"))
			opts.timeout_ms = (uint32_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--name"))
			name = argv[i + 1];
		else
			return 2;
	}
	if (argc - i != 5) {
		fprintf(stderr, "usage: %s [options] HOST PORT DOMAIN USER PASSWORD\n", argv[0]);
		return 2;
	}
	ev = tevent_context_init(mem);

	{
		const char *step;
		struct smbsess__smb2_conn *c = NULL;

		st = testlib_connect(mem, ev, argv[i], (uint16_t)atoi(argv[i + 1]), name, &opts, argv[i + 2],
				     argv[i + 3], argv[i + 4], &c, &session, &tree, &step);
		if (c != NULL)
			printf("dialect=0x%04x\ncipher=%u\nsign_alg=%u\n", smbsess__smb2_conn_dialect(c),
			       smbsess__smb2_conn_cipher(c), smbsess__smb2_conn_sign_alg(c));
		if (!smbsess__st_ok(st))
			return fail(step, st);
		printf("encrypted=%d\nsigned=%d\n", smbsess__smb2_tree_encrypted(tree), smbsess__smb2_session_signed(session));
	}

	req = smbsess__smb2_create_send(mem, ev, tree, "srvsvc");
	wait_for(req);
	st = smbsess__smb2_create_recv(req, &fid);
	TALLOC_FREE(req);
	if (!smbsess__st_ok(st))
		return fail("create", st);

	req = smbsess__smb2_ioctl_send(mem, ev, tree, &fid, SMBSESS__FSCTL_PIPE_TRANSCEIVE, bind,
				       testlib_make_bind(bind), 4280);
	wait_for(req);
	st = smbsess__smb2_ioctl_recv(req, mem, &out, &out_len, &more);
	TALLOC_FREE(req);
	if (!smbsess__st_ok(st))
		return fail("transceive", st);
	/* A bind_ack (type 12) for call id 1. */
	printf("rpc_ptype=%u\nrpc_call_id=%u\nrpc_len=%zu\n", out_len > 2 ? out[2] : 0,
	       out_len >= 16 ? smbsess__le32(out + 12) : 0, out_len);
	rc = out_len >= 16 && out[2] == 12 && smbsess__le32(out + 12) == 1 ? 0 : 1;

	req = smbsess__smb2_close_send(mem, ev, tree, &fid);
	wait_for(req);
	st = smbsess__smb2_close_recv(req);
	TALLOC_FREE(req);
	if (!smbsess__st_ok(st))
		return fail("close", st);
	req = smbsess__smb2_tree_disconnect_send(mem, ev, tree);
	wait_for(req);
	st = smbsess__smb2_tree_disconnect_recv(req);
	TALLOC_FREE(req);
	if (!smbsess__st_ok(st))
		return fail("tree_disconnect", st);
	req = smbsess__smb2_logoff_send(mem, ev, session);
	wait_for(req);
	st = smbsess__smb2_logoff_recv(req);
	TALLOC_FREE(req);
	if (!smbsess__st_ok(st))
		return fail("logoff", st);
	printf("ok=%d\n", rc == 0);
	talloc_free(mem);
	return rc;
}
