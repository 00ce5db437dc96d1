/*
 * lifetime: frees requests and connections of the public API at every point
 * where control returns to the event loop, against a real server, so that
 * AddressSanitizer and a talloc census can tell whether anything is used
 * after it was freed or left behind. Uses <smbsess/smbsess.h> only.
 *
 *   lifetime HOST PORT DOMAIN USER PASSWORD OP [MAX_K [CAP_SECONDS]]
 *
 * OP is connect, session_enum, file_enum, connection_enum, file_get_info,
 * session_delete (of a client and user that do not exist) or file_close
 * (of an id nobody holds). For k = 0, 1, 2, ... until the operation
 * completes by itself within k turns (at most MAX_K, default 200), each on
 * a fresh tevent context and a fresh connection:
 *
 *   A  start it, run tevent_loop_once k times, free the request, run the
 *      loop a little longer (bounded), free the connection;
 *   B  start it, run the loop k times, free the connection (for connect:
 *      free the credentials and options right after the send instead, as
 *      the API says they are copied), run the loop, free the request;
 * and once each:
 *   C  let it complete without receiving it, free the connection, then the
 *      request (for connect: free the request, which holds the connection);
 *   R  complete and receive it, free the request, then the result and the
 *      connection (the ordinary use; its status and count are printed).
 *
 * After every trial everything it allocated is freed and the talloc census
 * (null tracking) must be back where it was: one line per trial,
 *   trial op=.. variant=A k=3 done=0 status=.. leaked=0
 * and at the end "summary op=.. trials=N leaks=N completed_at=K
 * reference=STATUS count=N capped=0|1"; exit 0 when no trial leaked and the
 * operation completed by itself within MAX_K, 1 otherwise. Every loop is
 * bounded (MAX_K turns, small runs of at most 20 ticks, the library's
 * timeout of 10 s, CAP_SECONDS in all, default 50).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbsess/smbsess.h>

static const char *host, *domain, *user, *password, *op_name;
static uint16_t port;
static uint32_t file_id = 1;
/* file_close asks for an id nobody holds: the independent client's file stays open. */
#define NO_SUCH_FILE 0x7FFFFFF0u
static double deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tick(struct tevent_context *ev, struct tevent_timer *t, struct timeval tv, void *p)
{
	(void)ev;
	(void)t;
	(void)tv;
	(void)p;
}

/* Runs the loop up to @p turns times, never blocking more than 5 ms per turn. */
static void run_a_little(struct tevent_context *ev, int turns)
{
	TALLOC_CTX *tmp = talloc_new(NULL);

	for (int i = 0; i < turns; i++) {
		tevent_add_timer(ev, tmp, tevent_timeval_current_ofs(0, 5000), tick, NULL);
		tevent_loop_once(ev);
	}
	talloc_free(tmp);
}

static void mark(struct tevent_req *req)
{
	bool *done = tevent_req_callback_data_void(req);

	*done = true;
}

/* Runs the loop until @p req's callback ran, bounded by @p seconds. */
static bool run_until(struct tevent_context *ev, const bool *done, double seconds)
{
	double end = now() + seconds;

	while (!*done && now() < end)
		tevent_loop_once(ev);
	return *done;
}

static struct smbsess_options *make_options(TALLOC_CTX *mem)
{
	struct smbsess_options *o = NULL;

	if (!smbsess_status_is_ok(smbsess_options_new(mem, &o)) ||
	    !smbsess_status_is_ok(smbsess_options_set_port(o, port)) ||
	    !smbsess_status_is_ok(smbsess_options_set_timeout(o, 10000)))
		return NULL;
	return o;
}

static struct smbsess_credentials *make_creds(TALLOC_CTX *mem)
{
	struct smbsess_credentials *c = NULL;

	if (!smbsess_status_is_ok(smbsess_credentials_new(mem, domain, user, password, &c)))
		return NULL;
	return c;
}

/* A connection on @p ev, made with the asynchronous calls; NULL on failure. */
static struct smbsess_conn *connect_on(TALLOC_CTX *mem, struct tevent_context *ev)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct smbsess_conn *conn = NULL;
	struct tevent_req *req;
	bool done = false;
	struct smbsess_status st;

	req = smbsess_connect_send(tmp, ev, host, make_creds(tmp), make_options(tmp));
	if (req == NULL) {
		talloc_free(tmp);
		return NULL;
	}
	tevent_req_set_callback(req, mark, &done);
	if (run_until(ev, &done, 20)) {
		st = smbsess_connect_recv(req, mem, &conn);
		if (!smbsess_status_is_ok(st)) {
			fprintf(stderr, "connect: %s\n", smbsess_status_name(st));
			conn = NULL;
		}
	}
	talloc_free(tmp);
	return conn;
}

/* ---- the operations ---- */

static struct tevent_req *op_send(TALLOC_CTX *mem, struct tevent_context *ev, struct smbsess_conn *conn,
				  TALLOC_CTX *inputs)
{
	if (!strcmp(op_name, "connect"))
		return smbsess_connect_send(mem, ev, host, make_creds(inputs), make_options(inputs));
	if (!strcmp(op_name, "session_enum"))
		return smbsess_session_enum_send(mem, ev, conn, NULL, NULL, SMBSESS_LEVEL_BEST);
	if (!strcmp(op_name, "file_enum"))
		return smbsess_file_enum_send(mem, ev, conn, NULL, NULL, SMBSESS_LEVEL_BEST);
	if (!strcmp(op_name, "connection_enum"))
		return smbsess_connection_enum_send(mem, ev, conn, "share", SMBSESS_LEVEL_BEST);
	if (!strcmp(op_name, "file_get_info"))
		return smbsess_file_get_info_send(mem, ev, conn, file_id, SMBSESS_LEVEL_BEST);
	if (!strcmp(op_name, "session_delete"))
		return smbsess_session_delete_send(mem, ev, conn, "\\\\127.0.0.2", "nobody-here");
	if (!strcmp(op_name, "file_close"))
		return smbsess_file_close_send(mem, ev, conn, NO_SUCH_FILE);
	return NULL;
}

/* Receives a finished request; *count is the number of entries for the enumerations. */
static struct smbsess_status op_recv(struct tevent_req *req, TALLOC_CTX *mem, size_t *count)
{
	*count = 0;
	if (!strcmp(op_name, "connect")) {
		struct smbsess_conn *c = NULL;
		struct smbsess_status st = smbsess_connect_recv(req, mem, &c);

		*count = c != NULL;
		return st;
	}
	if (!strcmp(op_name, "session_enum")) {
		struct smbsess_session_list *l = NULL;
		struct smbsess_status st = smbsess_session_enum_recv(req, mem, &l);

		if (l)
			*count = smbsess_session_list_count(l);
		return st;
	}
	if (!strcmp(op_name, "file_enum") || !strcmp(op_name, "file_get_info")) {
		struct smbsess_file_list *l = NULL;
		struct smbsess_status st = !strcmp(op_name, "file_enum") ? smbsess_file_enum_recv(req, mem, &l)
									: smbsess_file_get_info_recv(req, mem, &l);

		if (l)
			*count = smbsess_file_list_count(l);
		return st;
	}
	if (!strcmp(op_name, "connection_enum")) {
		struct smbsess_connection_list *l = NULL;
		struct smbsess_status st = smbsess_connection_enum_recv(req, mem, &l);

		if (l)
			*count = smbsess_connection_list_count(l);
		return st;
	}
	if (!strcmp(op_name, "session_delete"))
		return smbsess_session_delete_recv(req);
	return smbsess_file_close_recv(req);
}

/* ---- one trial ---- */

enum variant { VAR_A = 'A', VAR_B = 'B', VAR_C = 'C', VAR_R = 'R' };

struct outcome {
	bool done;       /* the request had ended by itself when it was freed */
	bool ok;         /* the trial could be made (connection, request) */
	char status[96];
	size_t count;
	bool leaked;
};

static struct outcome trial(enum variant v, int k)
{
	struct outcome out = { 0 };
	size_t before = talloc_total_blocks(NULL);
	TALLOC_CTX *root = talloc_new(NULL);
	TALLOC_CTX *conn_mem = talloc_new(root), *req_mem = talloc_new(root), *inputs = talloc_new(root);
	struct tevent_context *ev = tevent_context_init(root);
	bool is_connect = !strcmp(op_name, "connect");
	struct smbsess_conn *conn = NULL;
	struct tevent_req *req;
	bool done = false;
	int turns = 0;

	snprintf(out.status, sizeof out.status, "-");
	if (ev == NULL || conn_mem == NULL || req_mem == NULL || inputs == NULL)
		goto end;
	if (!is_connect && (conn = connect_on(conn_mem, ev)) == NULL)
		goto end;
	req = op_send(req_mem, ev, conn, inputs);
	if (req == NULL)
		goto end;
	out.ok = true;
	tevent_req_set_callback(req, mark, &done);
	if (v == VAR_B && is_connect)
		TALLOC_FREE(inputs); /* copied by the send: may go at once */

	switch (v) {
	case VAR_A:
	case VAR_B:
		while (turns < k && !done && now() < deadline) {
			tevent_loop_once(ev);
			turns++;
		}
		out.done = done;
		if (v == VAR_A) {
			talloc_free(req);
			run_a_little(ev, 20);
			TALLOC_FREE(conn_mem);
		} else {
			TALLOC_FREE(conn_mem); /* connect: nothing there */
			run_a_little(ev, 20);
			talloc_free(req);
		}
		break;
	case VAR_C:
		run_until(ev, &done, 30);
		out.done = done;
		TALLOC_FREE(conn_mem);
		run_a_little(ev, 2);
		talloc_free(req);
		break;
	case VAR_R: {
		TALLOC_CTX *res = talloc_new(root);
		struct smbsess_status st;

		run_until(ev, &done, 30);
		out.done = done;
		if (done) {
			st = op_recv(req, res, &out.count);
			snprintf(out.status, sizeof out.status, "%s", smbsess_status_name(st));
		}
		talloc_free(req);
		talloc_free(res);
		TALLOC_FREE(conn_mem);
		break;
	}
	}
	run_a_little(ev, 5);
end:
	talloc_free(root);
	out.leaked = talloc_total_blocks(NULL) != before;
	if (out.leaked)
		talloc_report_full(NULL, stderr);
	printf("trial op=%s variant=%c k=%d done=%d status=%s count=%zu ok=%d leaked=%d\n", op_name, v, k, out.done,
	       out.status, out.count, out.ok, out.leaked);
	return out;
}

/* A file id to ask about: the first open file the server lists. */
static void find_file_id(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess_conn *conn = NULL;
	struct smbsess_file_list *l = NULL;

	if (smbsess_status_is_ok(smbsess_connect(mem, host, make_creds(mem), make_options(mem), &conn)) &&
	    smbsess_status_is_ok(smbsess_file_enum(mem, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)) &&
	    smbsess_file_list_count(l) > 0)
		file_id = smbsess_file_id(l, 0);
	talloc_free(mem);
	printf("file_id=%u\n", file_id);
}

int main(int argc, char **argv)
{
	int max_k = 200, trials = 0, leaks = 0, completed_at = -1, failed_setups = 0;
	struct outcome r;
	char reference[96] = "-";
	size_t ref_count = 0;

	if (argc < 7 || argc > 9) {
		fprintf(stderr, "usage: %s HOST PORT DOMAIN USER PASSWORD OP [MAX_K [CAP_SECONDS]]\n", argv[0]);
		return 2;
	}
	host = argv[1];
	port = (uint16_t)atoi(argv[2]);
	domain = argv[3];
	user = argv[4];
	password = argv[5];
	op_name = argv[6];
	if (argc > 7)
		max_k = atoi(argv[7]);
	deadline = now() + (argc > 8 ? atof(argv[8]) : 50);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(op_name, "file_get_info"))
		find_file_id();

	/* tevent registers its backends once per process: not ours to count. */
	talloc_free(tevent_context_init(NULL));
	talloc_enable_null_tracking();

	r = trial(VAR_R, 0);
	trials++;
	leaks += r.leaked;
	snprintf(reference, sizeof reference, "%s", r.status);
	ref_count = r.count;
	r = trial(VAR_C, 0);
	trials++;
	leaks += r.leaked;
	for (int k = 0; k <= max_k && now() < deadline; k++) {
		bool done_a, done_b;

		r = trial(VAR_A, k);
		trials++;
		leaks += r.leaked;
		failed_setups += !r.ok;
		done_a = r.done;
		r = trial(VAR_B, k);
		trials++;
		leaks += r.leaked;
		failed_setups += !r.ok;
		done_b = r.done;
		if (done_a && done_b) {
			completed_at = k;
			break;
		}
	}
	talloc_disable_null_tracking();
	printf("summary op=%s trials=%d leaks=%d completed_at=%d reference=%s count=%zu failed_setups=%d capped=%d\n",
	       op_name, trials, leaks, completed_at, reference, ref_count, failed_setups, now() >= deadline);
	return leaks == 0 && completed_at >= 0 && failed_setups == 0 ? 0 : 1;
}
