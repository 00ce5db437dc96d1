/*
 * rpc_probe: drives lib/rpc against a real server for tests/rpc/rpc.py.
 * Connects and authenticates (lib/smb2), opens \srvsvc on IPC$, binds
 * srvsvc v3.0 (lib/rpc) and runs the commands given, in order, on that one
 * pipe. Prints key=value lines; exit 0 when every command did what it
 * reports, 1 on a failure before the commands, 2 on usage errors.
 *
 *   rpc_probe [--timeout MS] HOST PORT DOMAIN USER PASSWORD COMMAND...
 *
 * Commands (each prints lines prefixed with its own name, NAME.key=value):
 *   sessenum:LEVEL            NetrSessionEnum, named sessenumLEVEL; one NAME.session=... line per entry
 *   sessfilter:N              NetrSessionEnum level 1 with a client filter of N characters
 *   fileenum:LEVEL            NetrFileEnum; one NAME.file=... line per entry
 *   fileinfo:FID              NetrFileGetInfo level 3 of file id FID
 *   parallel:N                N NetrSessionEnum calls at once on the pipe
 *   bogusop                   opnum 200: the server's fault
 *   unknownif                 a second pipe bound to an interface nobody serves
 *   treegone                  frees the tree connection object (no disconnect), then calls:
 *                             the transport must refuse (last command only)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smb2_testlib.h"
#include "rpc/rpc.h"
#include "srvsvc/srvsvc.h"

static struct tevent_context *ev;
static struct smbsess__smb2_tree *tree;
static uint32_t timeout_ms = 30000;
static const char *server_unc;

static const char *name(struct smbsess_status st)
{
	return smbsess__status_name(st);
}

static struct smbsess_status open_pipe(TALLOC_CTX *mem, const uint8_t uuid[16], uint16_t major,
				       struct smbsess__rpc_pipe **pipe)
{
	struct smbsess__rpc_transport *t = NULL;
	struct tevent_req *req = smbsess__rpc_smb2_open_send(mem, ev, tree, "srvsvc");
	struct smbsess_status st;

	testlib_wait(ev, req);
	st = smbsess__rpc_smb2_open_recv(req, mem, &t);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		return st;
	req = smbsess__rpc_bind_send(mem, ev, t, uuid, major, 0, timeout_ms);
	testlib_wait(ev, req);
	st = smbsess__rpc_bind_recv(req, mem, pipe);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		talloc_free(t);
	return st;
}

static struct tevent_req *sess_enum_send(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe, uint32_t level,
					 const char *client)
{
	struct smbsess__srvsvc_sess_enum_in in = { 0 };
	uint8_t *stub;
	size_t len;

	in.server_unc = (char *)server_unc;
	in.client = (char *)client;
	in.ctr.level = level;
	in.ctr.present = true;
	in.max_buffer = 0xFFFFFFFFu;
	in.resume_handle.present = true;
	if (!smbsess__st_ok(smbsess__ndr_push_blob(mem, smbsess__srvsvc_sess_enum_in, &in, &stub, &len)))
		return NULL;
	return smbsess__rpc_call_send(mem, ev, pipe, SMBSESS__SRVSVC_NETRSESSIONENUM, stub, len, timeout_ms);
}

static struct smbsess_status sess_enum_recv(struct tevent_req *req, TALLOC_CTX *mem,
					    struct smbsess__srvsvc_enum_out *out)
{
	uint8_t *stub = NULL;
	size_t len = 0;
	struct smbsess_status st = smbsess__rpc_call_recv(req, mem, &stub, &len);

	if (!smbsess__st_ok(st))
		return st;
	return smbsess__ndr_pull_blob(mem, stub, len, NULL, smbsess__srvsvc_sess_enum_out, out, sizeof *out);
}

static void print_sessions(const char *cmd, const struct smbsess__srvsvc_enum_out *out)
{
	const struct smbsess__srvsvc_sess_info *s = out->ctr.array;

	printf("%s.result=%" PRIu32 "\n%s.count=%" PRIu32 "\n%s.total=%" PRIu32 "\n%s.level=%" PRIu32 "\n", cmd,
	       out->result, cmd, out->ctr.count, cmd, out->totalentries, cmd, out->ctr.level);
	for (uint32_t i = 0; i < out->ctr.count; i++)
		printf("%s.session=%s\t%s\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\n", cmd,
		       s[i].client ? s[i].client : "(null)", s[i].user ? s[i].user : "(null)", s[i].num_open,
		       s[i].time, s[i].idle_time, s[i].user_flags);
}

static int run_sess_enum(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe, const char *cmd, uint32_t level,
			 const char *client)
{
	struct smbsess__srvsvc_enum_out out = { 0 };
	struct tevent_req *req = sess_enum_send(mem, pipe, level, client);
	struct smbsess_status st;

	if (client != NULL)
		printf("%s.client_filter_len=%zu\n", cmd, strlen(client));

	testlib_wait(ev, req);
	st = sess_enum_recv(req, mem, &out);
	talloc_free(req);
	printf("%s.status=%s\n", cmd, name(st));
	if (!smbsess__st_ok(st))
		return 1;
	print_sessions(cmd, &out);
	return 0;
}

static int run_file_enum(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe, uint32_t level)
{
	struct smbsess__srvsvc_file_enum_in in = { 0 };
	struct smbsess__srvsvc_enum_out out = { 0 };
	struct tevent_req *req;
	struct smbsess_status st;
	uint8_t *stub, *resp = NULL;
	size_t len, resp_len = 0;

	in.server_unc = (char *)server_unc;
	in.ctr.level = level;
	in.ctr.present = true;
	in.max_buffer = 0xFFFFFFFFu;
	in.resume_handle.present = true;
	if (!smbsess__st_ok(smbsess__ndr_push_blob(mem, smbsess__srvsvc_file_enum_in, &in, &stub, &len)))
		return 1;
	req = smbsess__rpc_call_send(mem, ev, pipe, SMBSESS__SRVSVC_NETRFILEENUM, stub, len, timeout_ms);
	testlib_wait(ev, req);
	st = smbsess__rpc_call_recv(req, mem, &resp, &resp_len);
	talloc_free(req);
	if (smbsess__st_ok(st))
		st = smbsess__ndr_pull_blob(mem, resp, resp_len, NULL, smbsess__srvsvc_file_enum_out, &out,
					    sizeof out);
	printf("fileenum.status=%s\n", name(st));
	if (!smbsess__st_ok(st))
		return 1;
	printf("fileenum.response_stub_len=%zu\nfileenum.result=%" PRIu32 "\nfileenum.count=%" PRIu32
	       "\nfileenum.total=%" PRIu32 "\n", resp_len, out.result, out.ctr.count, out.totalentries);
	for (uint32_t i = 0; i < out.ctr.count; i++) {
		const struct smbsess__srvsvc_file_info *f = (const struct smbsess__srvsvc_file_info *)out.ctr.array + i;

		printf("fileenum.file=%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%s\t%s\n", f->fid, f->permissions,
		       f->num_locks, f->path ? f->path : "(null)", f->user ? f->user : "(null)");
	}
	return 0;
}

static int run_file_info(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe, uint32_t fid)
{
	struct smbsess__srvsvc_file_get_info_in in = { (char *)server_unc, fid, 3 };
	struct smbsess__srvsvc_file_get_info_out out = { 0 };
	struct tevent_req *req;
	struct smbsess_status st;
	uint8_t *stub, *resp = NULL;
	size_t len, resp_len = 0;

	if (!smbsess__st_ok(smbsess__ndr_push_blob(mem, smbsess__srvsvc_file_get_info_in, &in, &stub, &len)))
		return 1;
	req = smbsess__rpc_call_send(mem, ev, pipe, SMBSESS__SRVSVC_NETRFILEGETINFO, stub, len, timeout_ms);
	testlib_wait(ev, req);
	st = smbsess__rpc_call_recv(req, mem, &resp, &resp_len);
	talloc_free(req);
	if (smbsess__st_ok(st)) {
		out.level = 3;
		st = smbsess__ndr_pull_blob(mem, resp, resp_len, NULL, smbsess__srvsvc_file_get_info_out, &out,
					    sizeof out);
		if (smbsess__st_ok(st))
			printf("fileinfo.result=%" PRIu32 "\n", out.result);
	}
	printf("fileinfo.status=%s\nfileinfo.domain=%s\nfileinfo.code=0x%08" PRIX32 "\n", name(st),
	       smbsess__domain_name(st.domain), st.code);
	printf("fileinfo.pipe_usable=%d\n", smbsess__st_ok(smbsess__rpc_pipe_error(pipe)));
	return 0;
}

static int run_parallel(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe, unsigned n)
{
	struct tevent_req **reqs = talloc_zero_array(mem, struct tevent_req *, n);
	unsigned ok = 0, same = 1;
	uint32_t first = 0;

	for (unsigned i = 0; i < n; i++)
		reqs[i] = sess_enum_send(mem, pipe, 1, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct smbsess__srvsvc_enum_out out = { 0 };
		struct smbsess_status st;

		testlib_wait(ev, reqs[i]);
		st = sess_enum_recv(reqs[i], mem, &out);
		if (smbsess__st_ok(st) && out.result == 0) {
			ok++;
			if (i == 0)
				first = out.ctr.count;
			else if (out.ctr.count != first)
				same = 0;
		} else {
			printf("parallel.error=%s\n", name(st));
		}
	}
	printf("parallel.ok=%u\nparallel.same=%u\nparallel.count=%" PRIu32 "\n", ok, same, first);
	return 0;
}

static int run_bogus_op(TALLOC_CTX *mem, struct smbsess__rpc_pipe *pipe)
{
	uint8_t stub[8] = { 0 }, *out = NULL;
	size_t out_len = 0;
	struct tevent_req *req = smbsess__rpc_call_send(mem, ev, pipe, 200, stub, sizeof stub, timeout_ms);
	struct smbsess_status st;

	testlib_wait(ev, req);
	st = smbsess__rpc_call_recv(req, mem, &out, &out_len);
	talloc_free(req);
	printf("bogusop.status=%s\nbogusop.domain=%s\nbogusop.pipe_usable=%d\n", name(st),
	       smbsess__domain_name(st.domain), smbsess__st_ok(smbsess__rpc_pipe_error(pipe)));
	return 0;
}

static int run_unknown_if(TALLOC_CTX *mem)
{
	static const uint8_t nobody[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
					    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10 };
	struct smbsess__rpc_pipe *p = NULL;
	struct smbsess_status st = open_pipe(mem, nobody, 1, &p);

	printf("unknownif.status=%s\n", name(st));
	talloc_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess__smb2_options opts = { 0 };
	struct smbsess__smb2_conn *conn = NULL;
	struct smbsess__smb2_session *session = NULL;
	struct smbsess__rpc_pipe *pipe = NULL;
	struct smbsess_status st;
	const char *step;
	int i = 1, rc = 0;

	while (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
		timeout_ms = (uint32_t)strtoul(argv[i + 1], NULL, 0);
		i += 2;
	}
	if (argc - i < 5) {
		fprintf(stderr, "usage: %s [--timeout MS] HOST PORT DOMAIN USER PASSWORD COMMAND...\n", argv[0]);
		return 2;
	}
	ev = tevent_context_init(mem);
	server_unc = talloc_asprintf(mem, "\\\\%s", argv[i]);
	st = testlib_connect(mem, ev, argv[i], (uint16_t)atoi(argv[i + 1]), NULL, &opts, argv[i + 2], argv[i + 3],
			     argv[i + 4], &conn, &session, &tree, &step);
	if (!smbsess__st_ok(st))
		return testlib_fail(step, st);
	st = open_pipe(mem, smbsess__rpc_srvsvc_uuid, SMBSESS__RPC_SRVSVC_VERS_MAJOR, &pipe);
	if (!smbsess__st_ok(st))
		return testlib_fail("bind", st);
	printf("bind=ok\nmax_xmit_frag=%u\nmax_recv_frag=%u\n", smbsess__rpc_pipe_max_xmit_frag(pipe),
	       smbsess__rpc_pipe_max_recv_frag(pipe));

	for (i += 5; i < argc; i++) {
		char *arg = strchr(argv[i], ':');
		unsigned long v = arg ? strtoul(arg + 1, NULL, 0) : 0;

		if (strncmp(argv[i], "sessenum:", 9) == 0) {
			rc |= run_sess_enum(mem, pipe, talloc_asprintf(mem, "sessenum%lu", v), (uint32_t)v, NULL);
		} else if (strncmp(argv[i], "sessfilter:", 11) == 0) {
			char *filter = talloc_array(mem, char, v + 3);

			filter[0] = filter[1] = '\\';
			memset(filter + 2, 'x', v);
			filter[v + 2] = '\0';
			rc |= run_sess_enum(mem, pipe, "sessfilter", 1, filter);
		} else if (strncmp(argv[i], "fileenum:", 9) == 0) {
			rc |= run_file_enum(mem, pipe, (uint32_t)v);
		} else if (strncmp(argv[i], "fileinfo:", 9) == 0) {
			rc |= run_file_info(mem, pipe, (uint32_t)v);
		} else if (strncmp(argv[i], "parallel:", 9) == 0) {
			rc |= run_parallel(mem, pipe, (unsigned)v);
		} else if (strcmp(argv[i], "bogusop") == 0) {
			rc |= run_bogus_op(mem, pipe);
		} else if (strcmp(argv[i], "unknownif") == 0) {
			rc |= run_unknown_if(mem);
		} else if (strcmp(argv[i], "treegone") == 0) {
			TALLOC_FREE(tree);
			rc |= run_sess_enum(mem, pipe, "treegone", 1, NULL) == 0;
		} else {
			fprintf(stderr, "unknown command %s\n", argv[i]);
			return 2;
		}
		fflush(stdout);
	}
	printf("pipe_error=%s\n", name(smbsess__rpc_pipe_error(pipe)));
	/* Freeing the pipe closes it (a CLOSE in the background); let that go out before the logoff. */
	TALLOC_FREE(pipe);
	{
		struct tevent_req *req;

		if (tree != NULL) {
			req = smbsess__smb2_tree_disconnect_send(mem, ev, tree);
			testlib_wait(ev, req);
			st = smbsess__smb2_tree_disconnect_recv(req);
			talloc_free(req);
			printf("tree_disconnect=%s\n", name(st));
		}
		req = smbsess__smb2_logoff_send(mem, ev, session);
		testlib_wait(ev, req);
		st = smbsess__smb2_logoff_recv(req);
		talloc_free(req);
		printf("logoff=%s\n", name(st));
	}
	printf("ok=%d\n", rc == 0);
	talloc_free(mem);
	return rc;
}
