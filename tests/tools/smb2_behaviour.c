/*
 * smb2_behaviour: transport behaviour against a real server, one TAP line
 * per check: unrelated and related compound chains, an interim
 * STATUS_PENDING answer, cancelling by freeing a request, a per-request
 * timeout, and many requests in flight within the credit window; after
 * each of the disruptive ones, the same connection must still work.
 *
 *   smb2_behaviour HOST PORT DOMAIN USER PASSWORD
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "smb2_testlib.h"
#include "util/treq.h"

static struct tevent_context *ev;
static int test_no, failures;

static void check(bool ok, const char *what, struct smbsess_status st)
{
	char buf[256];

	test_no++;
	if (ok) {
		printf("ok %d - %s\n", test_no, what);
	} else {
		failures++;
		printf("not ok %d - %s: %s\n", test_no, what, smbsess__status_describe(st, buf, sizeof buf));
	}
}

static const uint8_t echo_body[4] = { 4, 0, 0, 0 };

/* @p n ECHOs in one chain (n == 1: a plain request). */
static struct smbsess_status echo(TALLOC_CTX *mem, struct smbsess__smb2_conn *conn,
				  struct smbsess__smb2_session *session, size_t n)
{
	struct smbsess__smb2_call calls[8];
	struct smbsess__smb2_resp *r = NULL;
	struct tevent_req *req;
	struct smbsess_status st;

	for (size_t i = 0; i < n; i++)
		calls[i] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_ECHO, .session = session,
							.body = echo_body, .body_len = 4 };
	req = smbsess__smb2_calls_send(mem, ev, conn, calls, n, false, 5000);
	testlib_wait(ev, req);
	st = smbsess__smb2_calls_recv(req, mem, &r);
	talloc_free(req);
	if (!smbsess__st_ok(st))
		return st;
	for (size_t i = 0; i < n; i++) {
		SMBSESS__CHECK(smbsess__smb2_nt(r[i].status));
		SMBSESS__CHECK(smbsess__smb2_check_body(&r[i], 4, 4));
	}
	talloc_free(r);
	return SMBSESS__OK;
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess__smb2_options opts = { .timeout_ms = 10000 };
	struct smbsess__smb2_conn *conn = NULL;
	struct smbsess__smb2_session *session = NULL;
	struct smbsess__smb2_tree *tree = NULL;
	struct smbsess__smb2_fileid fid;
	struct tevent_req *req;
	struct smbsess_status st;
	const char *step;

	if (argc != 6) {
		fprintf(stderr, "usage: %s HOST PORT DOMAIN USER PASSWORD\n", argv[0]);
		return 2;
	}
	ev = tevent_context_init(mem);
	printf("1..10\n");
	st = testlib_connect(mem, ev, argv[1], (uint16_t)atoi(argv[2]), NULL, &opts, argv[3], argv[4], argv[5],
			     &conn, &session, &tree, &step);
	check(smbsess__st_ok(st), "connect, negotiate, session setup, tree connect IPC$", st);
	if (!smbsess__st_ok(st))
		return 1;

	/* 1. Unrelated compound: three ECHOs in one frame. */
	st = echo(mem, conn, session, 3);
	check(smbsess__st_ok(st), "unrelated compound of 3 ECHO requests", st);

	/* 2. Related compound: CREATE \srvsvc then CLOSE of "the file just opened". */
	{
		uint8_t *cb, close_body[24];
		size_t cl;
		struct smbsess__smb2_fileid last;
		struct smbsess__smb2_resp *r = NULL;
		struct smbsess__smb2_call calls[2];

		memset(&last, 0xFF, sizeof last);
		st = smbsess__smb2_create_body(mem, "srvsvc", &cb, &cl);
		smbsess__smb2_close_body(&last, close_body);
		calls[0] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_CREATE, .session = session,
							.tree = tree, .body = cb, .body_len = cl };
		calls[1] = (struct smbsess__smb2_call){ .cmd = SMBSESS__SMB2_CLOSE, .session = session,
							.tree = tree, .body = close_body, .body_len = 24 };
		req = smbsess__smb2_calls_send(mem, ev, conn, calls, 2, true, 5000);
		testlib_wait(ev, req);
		st = smbsess__smb2_calls_recv(req, mem, &r);
		talloc_free(req);
		if (smbsess__st_ok(st))
			st = smbsess__smb2_create_parse(&r[0], &fid);
		if (smbsess__st_ok(st))
			st = smbsess__smb2_close_parse(&r[1]);
		check(smbsess__st_ok(st), "related compound CREATE + CLOSE", st);
	}

	/* Open the pipe for the waiting reads below. */
	req = smbsess__smb2_create_send(mem, ev, tree, "srvsvc");
	testlib_wait(ev, req);
	st = smbsess__smb2_create_recv(req, &fid);
	talloc_free(req);
	if (!smbsess__st_ok(st)) {
		check(false, "open \\srvsvc", st);
		return 1;
	}

	/* 3. WRITE a bind to the pipe, READ the bind_ack back. */
	{
		uint8_t bind[72], *data = NULL;
		size_t len = 0;
		bool more;
		uint32_t written = 0;

		req = smbsess__smb2_write_send(mem, ev, tree, &fid, bind, testlib_make_bind(bind), 0);
		testlib_wait(ev, req);
		st = smbsess__smb2_write_recv(req, &written);
		talloc_free(req);
		if (smbsess__st_ok(st)) {
			req = smbsess__smb2_read_send(mem, ev, tree, &fid, 4280, 0);
			testlib_wait(ev, req);
			st = smbsess__smb2_read_recv(req, mem, &data, &len, &more);
			talloc_free(req);
		}
		check(smbsess__st_ok(st) && written == 72 && len >= 24 && data[2] == 12,
		      "WRITE a bind to \\srvsvc, READ the bind_ack", st);
	}

	/* 3b. A READ of an empty pipe waits (interim STATUS_PENDING); freeing it cancels it. */
	{
		double t0;

		req = smbsess__smb2_read_send(mem, ev, tree, &fid, 1024, 0);
		t0 = now();
		while (now() - t0 < 0.5)
			tevent_loop_once(ev);
		check(req != NULL && tevent_req_is_in_progress(req), "READ of an empty pipe is still waiting",
		      SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		talloc_free(req);
		st = echo(mem, conn, session, 1);
		check(smbsess__st_ok(st), "connection works after cancelling a waiting READ", st);
	}

	/* 4. A per-request timeout ends the request, not the connection. */
	{
		struct smbsess__smb2_fileid f2;
		uint8_t *data;
		size_t len;
		bool more;
		double t0;

		req = smbsess__smb2_create_send(mem, ev, tree, "srvsvc");
		testlib_wait(ev, req);
		st = smbsess__smb2_create_recv(req, &f2);
		talloc_free(req);
		t0 = now();
		req = smbsess__smb2_read_send(mem, ev, tree, &f2, 1024, 0);
		tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(0, 300000));
		testlib_wait(ev, req);
		st = smbsess__smb2_read_recv(req, mem, &data, &len, &more);
		check(st.domain == SMBSESS_DOMAIN_LIBRARY && st.code == SMBSESS_E_TIMEOUT && now() - t0 < 3,
		      "a waiting READ times out after 300 ms", st);
		st = echo(mem, conn, session, 1);
		check(smbsess__st_ok(st), "connection works after a timed-out READ", st);
		/* Samba leaves a cancelled pipe READ pending until the pipe closes, and
		 * LOGOFF waits for it: close this pipe too. */
		req = smbsess__smb2_close_send(mem, ev, tree, &f2);
		testlib_wait(ev, req);
		talloc_free(req);
	}

	/* 5. 200 requests at once: they queue for credits and all complete. */
	{
		struct tevent_req *reqs[200];
		struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_ECHO, .session = session,
						   .body = echo_body, .body_len = 4 };
		int ok = 0;

		for (int k = 0; k < 200; k++)
			reqs[k] = smbsess__smb2_call_send(mem, ev, conn, &call, 10000);
		for (int k = 0; k < 200; k++) {
			struct smbsess__smb2_resp r;
			testlib_wait(ev, reqs[k]);
			st = smbsess__smb2_call_recv(reqs[k], mem, &r);
			if (smbsess__st_ok(st) && r.status == 0)
				ok++;
			talloc_free(reqs[k]);
		}
		check(ok == 200, "200 concurrent ECHO requests within the credit window", st);
	}

	/* 6. Close the pipe. (No LOGOFF here: Samba 4.17 never answers the CANCEL of a
	 * pipe READ and keeps it pending, and its LOGOFF waits for such requests;
	 * smb2_probe covers LOGOFF on a clean session.) */
	req = smbsess__smb2_close_send(mem, ev, tree, &fid);
	testlib_wait(ev, req);
	st = smbsess__smb2_close_recv(req);
	talloc_free(req);
	if (smbsess__st_ok(st))
		st = echo(mem, conn, session, 2);
	check(smbsess__st_ok(st), "close the pipe; the connection still answers", st);
	talloc_free(mem);
	return failures ? 1 : 0;
}
