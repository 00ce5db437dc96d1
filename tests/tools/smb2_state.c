/*
 * smb2_state: the client side of tests/smb2/state.py. Drives lib/smb2
 * against tests/smb2/fake_smb2.py (a server that makes state attacks) and
 * prints what happened as key=value lines: the status of every step by
 * name, the connection's credit count after each step and the largest count
 * seen after any turn of the event loop, elapsed milliseconds, and whether
 * the connection reports itself failed (smbsess__smb2_conn_error).
 *
 *   smb2_state SUBCOMMAND HOST PORT [key=value]...
 *
 * Keys: user, password, domain, echoes (default 10), timeout_ms (of one
 * ECHO in pending_forever/timeout_then_free_conn, default 500), late_ms
 * (how long cancel_setup waits for the cancelled round's late answer,
 * default 3500), max (highest dialect, e.g. 0x0300), encrypt=required|off.
 *
 * Subcommands (the fake server runs the scenario of the same name):
 *   normal             logon, IPC$, `echoes` ECHOs, LOGOFF
 *   interim_flood      one ECHO answered by a flood of interims, then another
 *   credit_max         100 ECHOs, each answer granting 65,535 credits
 *   unknown_mid        one ECHO (an answer to an id never sent comes first), then another
 *   duplicate          one ECHO (answered twice), then another
 *   other_session      sessions A and B; an ECHO on A (answered under B), then one on B
 *   plaintext_interim_encrypted  one ECHO (plaintext interims first), then another
 *   pending_forever    an ECHO that times out, then another ECHO
 *   async_tree_connect logon, then TREE_CONNECT (answered asynchronously)
 *   negotiate          NEGOTIATE only (small_limits)
 *   nonces             `echoes` ECHOs on an encrypted session
 *   free_session_with_zombie  sessions A and B; an ECHO on A held by the server
 *                      (pending_forever) is freed, then session A; the late
 *                      answer arrives; then an ECHO on B
 * Lifetime checks:
 *   done_then_free_conn     an ECHO completes (callback ran, not received),
 *                           the connection is freed, then the request
 *   timeout_then_free_conn  the same with an ECHO that timed out (pending_forever)
 *   cancel_setup            a session setup freed while its second round is
 *                           in flight (slow_setup); then the number of session
 *                           objects under the connection, and a second
 *                           session setup + ECHO on the same connection
 *
 * Every run ends with a talloc leak check: blocks left once everything the
 * run allocated is freed (leak_blocks=, 0 expected); exit 3 on a leak, 2 on
 * usage errors, 0 otherwise (the verdicts are the caller's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smb2_testlib.h"
#include "smb2/smb2_private.h"
#include "util/treq.h"

static struct tevent_context *ev;
static struct smbsess__smb2_conn *g_conn;
static uint64_t credits_max;
static const uint8_t echo_body[4] = { 4, 0, 0, 0 };

static struct {
	const char *user, *password, *domain;
	unsigned echoes;
	uint32_t timeout_ms;
	uint32_t late_ms;
	uint16_t max_dialect;
	enum smbsess__smb2_policy encryption;
} cfg = { "alice", "Secret-pw1", "FAKEDOM", 10, 500, 3500, 0, SMBSESS__SMB2_POLICY_AUTO };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *stname(struct smbsess_status st)
{
	static char buf[4][96];
	static int k;
	char *b = buf[k++ % 4];

	if (smbsess__st_ok(st))
		return "OK";
	if (st.domain == SMBSESS_DOMAIN_NTSTATUS)
		snprintf(b, 96, "NT:0x%08X", st.code);
	else
		snprintf(b, 96, "%s", smbsess__status_name(st));
	return b;
}

static void sample(void)
{
	if (g_conn && g_conn->credits > credits_max)
		credits_max = g_conn->credits;
}

/* One turn of the loop, then a credit sample. */
static void turn(void)
{
	tevent_loop_once(ev);
	sample();
}

/* Runs the loop until @p req ends (at most @p cap_ms); false on the cap. */
static bool wait_req(struct tevent_req *req, double cap_ms)
{
	double t0 = now_ms();

	if (req == NULL)
		return false;
	while (tevent_req_is_in_progress(req)) {
		if (now_ms() - t0 > cap_ms)
			return false;
		turn();
	}
	return true;
}

static void tick(struct tevent_context *e, struct tevent_timer *t, struct timeval now, void *priv)
{
	(void)e;
	(void)t;
	(void)now;
	(void)priv;
}

/* Runs the loop for about @p ms (for late messages to arrive). */
static void run_for(double ms)
{
	double t0 = now_ms();
	TALLOC_CTX *tmp = talloc_new(NULL);

	while (now_ms() - t0 < ms) {
		/* A timer so that an idle loop wakes up. */
		tevent_add_timer(ev, tmp, tevent_timeval_current_ofs(0, 20000), tick, NULL);
		turn();
	}
	talloc_free(tmp);
}

static void print_conn(const char *step)
{
	printf("credits_after_%s=%u\n", step, g_conn ? g_conn->credits : 0);
	printf("conn_error_after_%s=%s\n", step, g_conn ? stname(smbsess__smb2_conn_error(g_conn)) : "-");
}

static struct smbsess_status echo_on(TALLOC_CTX *mem, struct smbsess__smb2_session *session, uint32_t timeout_ms,
				     double *ms)
{
	struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_ECHO, .session = session,
					   .body = echo_body, .body_len = 4 };
	struct smbsess__smb2_resp r;
	struct tevent_req *req;
	struct smbsess_status st;
	double t0 = now_ms();

	req = smbsess__smb2_call_send(mem, ev, g_conn, &call, timeout_ms);
	if (!wait_req(req, 120000)) {
		talloc_free(req);
		return SMBSESS__ST_LIB(SMBSESS_E_INTERNAL);
	}
	if (ms)
		*ms = now_ms() - t0;
	st = smbsess__smb2_call_recv(req, mem, &r);
	if (smbsess__st_ok(st))
		st = smbsess__smb2_nt(r.status);
	talloc_free(req);
	return st;
}

static void echo_step(TALLOC_CTX *mem, struct smbsess__smb2_session *session, const char *name)
{
	struct smbsess_status st = echo_on(mem, session, 20000, NULL);

	printf("%s=%s\n", name, stname(st));
	print_conn(name);
}

static struct smbsess__smb2_options options(void)
{
	struct smbsess__smb2_options o = { .timeout_ms = 20000 };

	o.max_dialect = cfg.max_dialect;
	o.encryption = cfg.encryption;
	return o;
}

/* Connects and negotiates only. */
static struct smbsess_status open_conn(TALLOC_CTX *mem, const char *host, uint16_t port)
{
	struct smbsess__smb2_options o = options();
	struct tevent_req *req;
	struct smbsess_status st;
	int fd = -1;

	req = smbsess__tcp_connect_send(mem, ev, host, port, 10000);
	if (!wait_req(req, 20000))
		return SMBSESS__ST_LIB(SMBSESS_E_INTERNAL);
	st = smbsess__tcp_connect_recv(req, &fd);
	talloc_free(req);
	printf("tcp_connect=%s\n", stname(st));
	if (!smbsess__st_ok(st))
		return st;
	g_conn = smbsess__smb2_conn_new(mem, ev, fd, "fakesrv", &o);
	if (g_conn == NULL)
		return SMBSESS__ST_NOMEM;
	req = smbsess__smb2_negotiate_send(mem, ev, g_conn);
	wait_req(req, 30000);
	st = smbsess__smb2_negotiate_recv(req);
	talloc_free(req);
	printf("negotiate=%s\n", stname(st));
	printf("dialect=0x%04x\ncipher=%u\nmax_transact=%u\nmax_read=%u\nmax_write=%u\n",
	       smbsess__smb2_conn_dialect(g_conn), smbsess__smb2_conn_cipher(g_conn),
	       smbsess__smb2_conn_max_transact(g_conn), smbsess__smb2_conn_max_read(g_conn),
	       smbsess__smb2_conn_max_write(g_conn));
	print_conn("negotiate");
	return st;
}

static struct smbsess_status logon(TALLOC_CTX *mem, const char *name, struct smbsess__smb2_session **session)
{
	struct smbsess__creds *creds;
	struct tevent_req *req;
	struct smbsess_status st;
	char key[64];

	SMBSESS__CHECK(smbsess__creds_new(mem, cfg.domain, cfg.user, cfg.password, &creds));
	req = smbsess__smb2_session_setup_send(mem, ev, g_conn, creds);
	wait_req(req, 30000);
	st = smbsess__smb2_session_setup_recv(req, session);
	talloc_free(req);
	talloc_free(creds);
	printf("%s=%s\n", name, stname(st));
	if (smbsess__st_ok(st)) {
		snprintf(key, sizeof key, "%s_encrypted", name);
		printf("%s=%d\n", key, smbsess__smb2_session_encrypted(*session));
		printf("%s_signed=%d\n", name, smbsess__smb2_session_signed(*session));
		printf("%s_id=0x%016llx\n", name, (unsigned long long)(*session)->id);
	}
	print_conn(name);
	return st;
}

static struct smbsess_status tree_connect(TALLOC_CTX *mem, struct smbsess__smb2_session *session,
					  struct smbsess__smb2_tree **tree)
{
	struct tevent_req *req = smbsess__smb2_tree_connect_send(mem, ev, session, "IPC$");
	struct smbsess_status st;

	wait_req(req, 30000);
	st = smbsess__smb2_tree_connect_recv(req, tree);
	talloc_free(req);
	printf("tree_connect=%s\n", stname(st));
	if (smbsess__st_ok(st))
		printf("tree_id=0x%08x\n", (*tree)->id);
	print_conn("tree_connect");
	return st;
}

/* Connection, negotiate, session setup, IPC$: false when a step failed (printed). */
static bool setup_all(TALLOC_CTX *mem, const char *host, uint16_t port, struct smbsess__smb2_session **session,
		      struct smbsess__smb2_tree **tree)
{
	if (!smbsess__st_ok(open_conn(mem, host, port)))
		return false;
	if (!smbsess__st_ok(logon(mem, "session_setup", session)))
		return false;
	return smbsess__st_ok(tree_connect(mem, *session, tree));
}

/* ---- the talloc census for cancel_setup ---- */

static void count_cb(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	size_t *n = priv;
	const char *name = talloc_get_name(ptr);

	(void)depth;
	(void)max_depth;
	if (!is_ref && name && strcmp(name, "struct smbsess__smb2_session") == 0)
		(*n)++;
}

static size_t count_sessions(const void *ctx)
{
	size_t n = 0;

	talloc_report_depth_cb(ctx, 0, -1, count_cb, &n);
	return n;
}

static void mark_done(struct tevent_req *req)
{
	bool *done = tevent_req_callback_data_void(req);

	*done = true; /* not received: that is the point */
}

/* ---- subcommands ---- */

static int run(const char *cmd, TALLOC_CTX *mem, const char *host, uint16_t port)
{
	struct smbsess__smb2_session *session = NULL, *session_b = NULL;
	struct smbsess__smb2_tree *tree = NULL;
	struct smbsess_status st;

	if (!strcmp(cmd, "negotiate")) {
		open_conn(mem, host, port);
		return 0;
	}
	if (!strcmp(cmd, "async_tree_connect")) {
		if (smbsess__st_ok(open_conn(mem, host, port)) &&
		    smbsess__st_ok(logon(mem, "session_setup", &session)))
			tree_connect(mem, session, &tree);
		return 0;
	}
	if (!strcmp(cmd, "cancel_setup")) {
		struct smbsess__creds *creds;
		struct tevent_req *req;
		double t0;

		if (!smbsess__st_ok(open_conn(mem, host, port)))
			return 0;
		if (!smbsess__st_ok(smbsess__creds_new(mem, cfg.domain, cfg.user, cfg.password, &creds)))
			return 1;
		req = smbsess__smb2_session_setup_send(mem, ev, g_conn, creds);
		/* Round 2 is out once its message id is spent and nothing waits to be written. */
		t0 = now_ms();
		while (tevent_req_is_in_progress(req) && !(g_conn->next_mid >= 3 && g_conn->out_head == NULL) &&
		       now_ms() - t0 < 10000)
			turn();
		run_for(100);
		printf("setup_in_progress=%d\n", tevent_req_is_in_progress(req));
		printf("sessions_anywhere_before_cancel=%zu\n", count_sessions(talloc_parent(mem)));
		talloc_free(req);
		run_for(50);
		printf("sessions_left=%zu\n", count_sessions(g_conn));
		printf("sessions_left_anywhere=%zu\n", count_sessions(talloc_parent(mem)));
		print_conn("cancel");
		if (smbsess__st_ok(logon(mem, "session_setup2", &session))) {
			echo_step(mem, session, "echo_after_cancel");
			/* Let the late answer of the cancelled round arrive, then once more. */
			run_for(cfg.late_ms);
			echo_step(mem, session, "echo_after_late_answer");
		}
		printf("sessions_at_end=%zu\n", count_sessions(g_conn));
		return 0;
	}
	if (!strcmp(cmd, "done_then_free_conn") || !strcmp(cmd, "timeout_then_free_conn")) {
		bool timeout = !strcmp(cmd, "timeout_then_free_conn");
		struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_ECHO, .body = echo_body, .body_len = 4 };
		struct tevent_req *req;
		bool done = false;
		double t0;

		if (!setup_all(mem, host, port, &session, &tree))
			return 0;
		call.session = session;
		/* The request hangs off the run's root, not off the connection. */
		req = smbsess__smb2_call_send(talloc_parent(mem), ev, g_conn, &call, timeout ? cfg.timeout_ms : 20000);
		tevent_req_set_callback(req, mark_done, &done);
		t0 = now_ms();
		while (!done && now_ms() - t0 < 30000)
			turn();
		printf("callback_ran=%d\n", done);
		printf("request_status=%s\n", stname(smbsess__req_status(req)));
		printf("elapsed_ms=%.0f\n", now_ms() - t0);
		TALLOC_FREE(mem); /* the connection (and everything on it) first */
		g_conn = NULL;
		printf("conn_freed=1\n");
		fflush(stdout);
		talloc_free(req); /* then the request */
		printf("request_freed=1\n");
		run_for(50);
		return 0;
	}
	if (!setup_all(mem, host, port, &session, &tree))
		return 0;
	if (!strcmp(cmd, "normal") || !strcmp(cmd, "nonces")) {
		unsigned ok = 0;
		struct tevent_req *req;

		for (unsigned i = 0; i < cfg.echoes; i++) {
			st = echo_on(mem, session, 20000, NULL);
			if (smbsess__st_ok(st))
				ok++;
			else
				printf("echo_%u=%s\n", i, stname(st));
		}
		printf("echoes_ok=%u\n", ok);
		print_conn("echoes");
		req = smbsess__smb2_logoff_send(mem, ev, session);
		wait_req(req, 20000);
		st = smbsess__smb2_logoff_recv(req);
		talloc_free(req);
		printf("logoff=%s\n", stname(st));
	} else if (!strcmp(cmd, "credit_max")) {
		unsigned ok = 0;

		for (unsigned i = 0; i < 100; i++) {
			st = echo_on(mem, session, 20000, NULL);
			if (smbsess__st_ok(st))
				ok++;
			else
				printf("echo_%u=%s\n", i, stname(st));
			if (i < 3 || i == 99)
				printf("credits_after_echo_%u=%u\n", i, g_conn->credits);
		}
		printf("echoes_ok=%u\n", ok);
		print_conn("echoes");
	} else if (!strcmp(cmd, "interim_flood") || !strcmp(cmd, "unknown_mid") || !strcmp(cmd, "duplicate") ||
		   !strcmp(cmd, "plaintext_interim_encrypted")) {
		double t0 = now_ms();

		echo_step(mem, session, "echo1");
		printf("echo1_ms=%.0f\n", now_ms() - t0);
		/* Whatever else the server sent for it arrives meanwhile. */
		run_for(300);
		print_conn("wait");
		echo_step(mem, session, "echo2");
		echo_step(mem, session, "echo3");
	} else if (!strcmp(cmd, "other_session")) {
		if (!smbsess__st_ok(logon(mem, "session_setup_b", &session_b)))
			return 0;
		echo_step(mem, session, "echo_a");
		run_for(200);
		print_conn("wait");
		echo_step(mem, session_b, "echo_b");
	} else if (!strcmp(cmd, "free_session_with_zombie")) {
		struct smbsess__smb2_call call = { .cmd = SMBSESS__SMB2_ECHO, .session = session,
						   .body = echo_body, .body_len = 4 };
		struct tevent_req *req;

		if (!smbsess__st_ok(logon(mem, "session_setup_b", &session_b)))
			return 0;
		/* An ECHO on A that the server holds (interim), then A's request and A itself go. */
		req = smbsess__smb2_call_send(mem, ev, g_conn, &call, 20000);
		run_for(200);
		printf("echo_a_in_progress=%d\n", tevent_req_is_in_progress(req));
		talloc_free(req);
		talloc_free(session);
		printf("session_a_freed=1\n");
		/* The server's late answer to A's cancelled ECHO arrives meanwhile. */
		run_for(300);
		print_conn("late_answer");
		echo_step(mem, session_b, "echo_b");
	} else if (!strcmp(cmd, "pending_forever")) {
		double ms = 0;

		st = echo_on(mem, session, cfg.timeout_ms, &ms);
		printf("echo1=%s\necho1_ms=%.0f\n", stname(st), ms);
		print_conn("echo1");
		echo_step(mem, session, "echo2");
		run_for(200);
		echo_step(mem, session, "echo3");
	} else {
		fprintf(stderr, "unknown subcommand %s\n", cmd);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *root, *mem;
	size_t base, left;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: %s SUBCOMMAND HOST PORT [key=value]...\n", argv[0]);
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		const char *v = strchr(argv[i], '=');

		if (v == NULL)
			return 2;
		v++;
		if (!strncmp(argv[i], "user=", 5))
			cfg.user = v;
		else if (!strncmp(argv[i], "password=", 9))
			cfg.password = v;
		else if (!strncmp(argv[i], "domain=", 7))
			cfg.domain = v;
		else if (!strncmp(argv[i], "echoes=", 7))
			cfg.echoes = (unsigned)strtoul(v, NULL, 0);
		else if (!strncmp(argv[i], "timeout_ms=", 11))
			cfg.timeout_ms = (uint32_t)strtoul(v, NULL, 0);
		else if (!strncmp(argv[i], "late_ms=", 8))
			cfg.late_ms = (uint32_t)strtoul(v, NULL, 0);
		else if (!strncmp(argv[i], "max=", 4))
			cfg.max_dialect = (uint16_t)strtoul(v, NULL, 0);
		else if (!strncmp(argv[i], "encrypt=", 8))
			cfg.encryption = !strcmp(v, "off") ? SMBSESS__SMB2_POLICY_OFF : SMBSESS__SMB2_POLICY_REQUIRED;
		else
			return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* tevent registers its backends once, for the process: not ours to count. */
	talloc_free(tevent_context_init(NULL));
	talloc_enable_null_tracking();
	base = talloc_total_blocks(NULL);
	root = talloc_new(NULL);
	ev = tevent_context_init(root);
	mem = talloc_new(root);
	printf("subcommand=%s\n", argv[1]);
	rc = run(argv[1], mem, argv[2], (uint16_t)atoi(argv[3]));
	printf("credits_max=%llu\n", (unsigned long long)credits_max);
	talloc_free(root);
	left = talloc_total_blocks(NULL) - base;
	printf("leak_blocks=%zu\n", left);
	if (left) {
		talloc_report_full(NULL, stderr);
		rc = rc ? rc : 3;
	}
	talloc_disable_null_tracking();
	printf("exit=%d\n", rc);
	return rc;
}
