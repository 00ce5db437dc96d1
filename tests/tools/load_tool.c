/*
 * load_tool: load on one server through the public API alone
 * (<smbsess/smbsess.h>), for the load test (tests/load/load.py) and the
 * memory report of bench/cycles.sh.
 *
 * usage: load_tool [--port N] [--timeout MS] [--holder USER]
 *                  SERVER DOMAIN USER PASSWORD MODE COUNT [SAMPLE]
 *
 *   concurrent COUNT   one tevent loop, COUNT connections started at once
 *                      through the asynchronous API; once every one of them
 *                      is connected (or failed), each lists the sessions,
 *                      then the open files, all at the same time. They are
 *                      freed at the end, so that every listing happens while
 *                      all COUNT sessions exist on the server.
 *   cycles COUNT [SAMPLE]
 *                      COUNT sequential cycles in this process: connect, list
 *                      the sessions and the open files, free everything
 *                      (blocking API); every SAMPLE cycles (default 100) the
 *                      process's resident set and open descriptors are printed.
 *
 * Output (stdout), one line each:
 *   concurrent: "conn=I sessions=S files=F holder_sessions=HS holder_files=HF"
 *               or "conn=I step=connect|sessions|files error=NAME message=..."
 *               per connection, in the order they finish;
 *   cycles:     "sample cycle=I rss_kb=R fds=D", and
 *               "cycle=I step=... error=NAME message=..." for a failed cycle;
 *   both end with "done ok=N failed=N seconds=S".
 * HS and HF count the sessions and files whose user is --holder (0 without it).
 * Exit status: 0 when every connection or cycle succeeded, 1 otherwise,
 * 2 on a usage error.
 *
 * Bounded: COUNT is at most 100,000, every request has the --timeout
 * (default 120,000 ms), and the concurrent loop ends when every connection
 * has finished or failed.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbsess/smbsess.h>

#define LOAD_MAX_COUNT 100000u

struct load {
	struct tevent_context *ev;
	const char *server;
	const char *holder;
	const struct smbsess_credentials *creds;
	const struct smbsess_options *opts;
	struct load_conn **conns;
	unsigned count;
	unsigned connecting; /* connect requests not finished yet */
	unsigned pending;    /* connections not finished yet */
	unsigned ok;
	unsigned failed;
};

/* One connection of the concurrent mode; its talloc children are all it holds. */
struct load_conn {
	struct load *load;
	unsigned index;
	struct smbsess_conn *conn;
	size_t sessions, holder_sessions;
};

_Noreturn static void usage(void)
{
	fprintf(stderr, "usage: load_tool [--port N] [--timeout MS] [--holder USER]\n"
			"                 SERVER DOMAIN USER PASSWORD concurrent|cycles COUNT [SAMPLE]\n");
	exit(2);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_error(const char *what, unsigned index, const char *step, struct smbsess_status st)
{
	char msg[256];

	printf("%s=%u step=%s error=%s message=%s\n", what, index, step, smbsess_status_name(st),
	       smbsess_status_describe(st, msg, sizeof msg));
}

static bool is_holder(const char *holder, const char *user)
{
	return holder != NULL && user != NULL && strcmp(holder, user) == 0;
}

static size_t holder_sessions(const char *holder, const struct smbsess_session_list *list)
{
	size_t n = 0;

	for (size_t i = 0; i < smbsess_session_list_count(list); i++)
		n += is_holder(holder, smbsess_session_user(list, i));
	return n;
}

static size_t holder_files(const char *holder, const struct smbsess_file_list *list)
{
	size_t n = 0;

	for (size_t i = 0; i < smbsess_file_list_count(list); i++)
		n += is_holder(holder, smbsess_file_user(list, i));
	return n;
}

/* ------------------------------------------------------------------------
 * concurrent
 */

/* The end of one connection's work; it stays connected until all are done. */
static void conn_finish(struct load_conn *c, bool ok)
{
	struct load *l = c->load;

	if (ok)
		l->ok++;
	else
		l->failed++;
	l->pending--;
}

static void files_done(struct tevent_req *req)
{
	struct load_conn *c = tevent_req_callback_data(req, struct load_conn);
	struct smbsess_file_list *list = NULL;
	struct smbsess_status st = smbsess_file_enum_recv(req, c, &list);

	talloc_free(req);
	if (!smbsess_status_is_ok(st)) {
		print_error("conn", c->index, "files", st);
		conn_finish(c, false);
		return;
	}
	printf("conn=%u sessions=%zu files=%zu holder_sessions=%zu holder_files=%zu\n", c->index, c->sessions,
	       smbsess_file_list_count(list), c->holder_sessions, holder_files(c->load->holder, list));
	talloc_free(list);
	conn_finish(c, true);
}

static void sessions_done(struct tevent_req *req)
{
	struct load_conn *c = tevent_req_callback_data(req, struct load_conn);
	struct smbsess_session_list *list = NULL;
	struct smbsess_status st = smbsess_session_enum_recv(req, c, &list);

	talloc_free(req);
	if (!smbsess_status_is_ok(st)) {
		print_error("conn", c->index, "sessions", st);
		conn_finish(c, false);
		return;
	}
	c->sessions = smbsess_session_list_count(list);
	c->holder_sessions = holder_sessions(c->load->holder, list);
	talloc_free(list);
	req = smbsess_file_enum_send(c, c->load->ev, c->conn, NULL, NULL, SMBSESS_LEVEL_BEST);
	if (req == NULL) {
		printf("conn=%u step=files error=out-of-memory message=\n", c->index);
		conn_finish(c, false);
		return;
	}
	tevent_req_set_callback(req, files_done, c);
}

/* Every connection is in (or failed): all of them list at once. */
static void start_listings(struct load *l)
{
	for (unsigned i = 0; i < l->count; i++) {
		struct load_conn *c = l->conns[i];
		struct tevent_req *req;

		if (c->conn == NULL)
			continue;
		req = smbsess_session_enum_send(c, l->ev, c->conn, NULL, NULL, SMBSESS_LEVEL_BEST);
		if (req == NULL) {
			printf("conn=%u step=sessions error=out-of-memory message=\n", c->index);
			conn_finish(c, false);
			continue;
		}
		tevent_req_set_callback(req, sessions_done, c);
	}
}

static void connected(struct tevent_req *req)
{
	struct load_conn *c = tevent_req_callback_data(req, struct load_conn);
	struct load *l = c->load;
	struct smbsess_status st = smbsess_connect_recv(req, c, &c->conn);

	talloc_free(req);
	if (!smbsess_status_is_ok(st)) {
		c->conn = NULL;
		print_error("conn", c->index, "connect", st);
		conn_finish(c, false);
	}
	if (--l->connecting == 0)
		start_listings(l);
}

static int run_concurrent(TALLOC_CTX *mem, struct load *l, uint32_t count)
{
	l->conns = talloc_zero_array(mem, struct load_conn *, count);
	if (l->conns == NULL)
		return 1;
	l->count = count;
	for (uint32_t i = 0; i < count; i++) {
		struct load_conn *c = talloc_zero(l->conns, struct load_conn);
		struct tevent_req *req;

		if (c == NULL)
			return 1;
		c->load = l;
		c->index = i;
		l->conns[i] = c;
		req = smbsess_connect_send(c, l->ev, l->server, l->creds, l->opts);
		if (req == NULL)
			return 1;
		tevent_req_set_callback(req, connected, c);
		l->connecting++;
		l->pending++;
	}
	/* every request has a timeout, so each connection finishes or fails */
	while (l->pending > 0)
		if (tevent_loop_once(l->ev) != 0)
			return 1;
	talloc_free(l->conns); /* every connection at once */
	l->conns = NULL;
	return 0;
}

/* ------------------------------------------------------------------------
 * cycles
 */

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static bool one_cycle(struct load *l, unsigned index)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess_conn *conn = NULL;
	struct smbsess_session_list *sessions = NULL;
	struct smbsess_file_list *files = NULL;
	struct smbsess_status st;
	const char *step = "connect";

	st = smbsess_connect(mem, l->server, l->creds, l->opts, &conn);
	if (smbsess_status_is_ok(st)) {
		step = "sessions";
		st = smbsess_session_enum(mem, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &sessions);
	}
	if (smbsess_status_is_ok(st)) {
		step = "files";
		st = smbsess_file_enum(mem, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &files);
	}
	if (smbsess_status_is_ok(st) && l->holder != NULL &&
	    (holder_sessions(l->holder, sessions) == 0 || holder_files(l->holder, files) == 0)) {
		printf("cycle=%u step=check error=holder-missing message=%zu sessions, %zu files of %s\n", index,
		       holder_sessions(l->holder, sessions), holder_files(l->holder, files), l->holder);
		talloc_free(mem);
		return false;
	}
	if (!smbsess_status_is_ok(st))
		print_error("cycle", index, step, st);
	talloc_free(mem); /* connection, lists, the connection's private event context */
	return smbsess_status_is_ok(st);
}

static int run_cycles(struct load *l, uint32_t count, uint32_t sample)
{
	for (uint32_t i = 1; i <= count; i++) {
		if (one_cycle(l, i))
			l->ok++;
		else
			l->failed++;
		if (i == 1 || i % sample == 0 || i == count) {
			printf("sample cycle=%" PRIu32 " rss_kb=%ld fds=%d\n", i, rss_kb(), open_fds());
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess_credentials *creds = NULL;
	struct smbsess_options *opts = NULL;
	struct load l = { 0 };
	uint32_t port = 445, timeout_ms = 120000, count, sample = 100;
	const char *mode;
	double t0;
	int i = 1, rc;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--port") == 0) {
			if (!parse_u32(argv[i + 1], 65535, &port) || port == 0)
				usage();
		} else if (strcmp(argv[i], "--timeout") == 0) {
			if (!parse_u32(argv[i + 1], 3600000, &timeout_ms) || timeout_ms == 0)
				usage();
		} else if (strcmp(argv[i], "--holder") == 0) {
			l.holder = argv[i + 1];
		} else {
			usage();
		}
	}
	if (argc - i < 6 || argc - i > 7)
		usage();
	mode = argv[i + 4];
	if (!parse_u32(argv[i + 5], LOAD_MAX_COUNT, &count) || count == 0)
		usage();
	if (argc - i == 7 && (strcmp(mode, "cycles") != 0 || !parse_u32(argv[i + 6], LOAD_MAX_COUNT, &sample) ||
			      sample == 0))
		usage();
	if (strcmp(mode, "concurrent") != 0 && strcmp(mode, "cycles") != 0)
		usage();

	l.server = argv[i];
	l.ev = tevent_context_init(mem);
	if (l.ev == NULL || !smbsess_status_is_ok(smbsess_credentials_new(mem, argv[i + 1], argv[i + 2], argv[i + 3],
									    &creds)) ||
	    !smbsess_status_is_ok(smbsess_options_new(mem, &opts)) ||
	    !smbsess_status_is_ok(smbsess_options_set_port(opts, (uint16_t)port)) ||
	    !smbsess_status_is_ok(smbsess_options_set_timeout(opts, timeout_ms))) {
		fprintf(stderr, "load_tool: cannot set up credentials and options\n");
		return 1;
	}
	l.creds = creds;
	l.opts = opts;

	t0 = now_seconds();
	if (strcmp(mode, "concurrent") == 0)
		rc = run_concurrent(mem, &l, count);
	else
		rc = run_cycles(&l, count, sample);
	printf("done ok=%u failed=%u seconds=%.3f\n", l.ok, l.failed, now_seconds() - t0);
	talloc_free(mem);
	return rc != 0 || l.failed != 0 || l.ok != count ? 1 : 0;
}
