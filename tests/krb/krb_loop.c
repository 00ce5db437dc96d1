/*
 * krb_loop: two connects on one tevent loop through the public API, to show
 * that a Kerberos step waiting for a KDC does not stall the loop.
 *
 * usage: krb_loop SERVER ADDRESS DOMAIN USER PASSWORD TIMEOUT_MS WAIT_S
 *   A: Kerberos only with USER/PASSWORD (the KDC of $KRB5_CONFIG), request
 *      timeout TIMEOUT_MS;
 *   B: NTLM with the same user, started after A, default timeout.
 * Both connect to SERVER at ADDRESS (port 445). A 10 ms timer measures how
 * long the loop ever went without running it.
 *
 * Output, one line each, in the order things happen:
 *   "A ms=N error=NAME" or "A ms=N ok auth=..."  (the same for B)
 *   "loop ticks=N max_gap_ms=N"
 *   "threads=N after_ms=N": the process's thread count once everything is
 *   freed, polled until it is 1 or WAIT_S seconds passed (an abandoned
 *   Kerberos step finishes alone on its thread).
 * Exit 0 when both requests finished (whatever their status), 1 otherwise.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smbsess/smbsess.h>

static struct timespec t0;
static long last_tick_ms, max_gap_ms, ticks;
static int pending;

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static const char *auth_name(int a)
{
	return a == SMBSESS_AUTH_KERBEROS ? "kerberos" : a == SMBSESS_AUTH_NTLM ? "ntlm" : "other";
}

struct conn_ctx {
	const char *name;
	TALLOC_CTX *mem;
	struct smbsess_conn *conn;
	bool done;
};

static void connected(struct tevent_req *req)
{
	struct conn_ctx *c = tevent_req_callback_data_void(req);
	struct smbsess_status st = smbsess_connect_recv(req, c->mem, &c->conn);

	talloc_free(req);
	if (smbsess_status_is_ok(st))
		printf("%s ms=%ld ok auth=%s\n", c->name, now_ms(), auth_name(smbsess_conn_auth(c->conn)));
	else
		printf("%s ms=%ld error=%s\n", c->name, now_ms(), smbsess_status_name(st));
	fflush(stdout);
	c->done = true;
	pending--;
}

static void tick(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *p)
{
	long t = now_ms();

	(void)te;
	(void)now;
	(void)p;
	if (t - last_tick_ms > max_gap_ms)
		max_gap_ms = t - last_tick_ms;
	last_tick_ms = t;
	ticks++;
	if (pending > 0 && tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 10000), tick, NULL) == NULL)
		abort();
}

static int threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static struct smbsess_options *options(TALLOC_CTX *mem, const char *address, uint32_t timeout_ms)
{
	struct smbsess_options *o;

	if (!smbsess_status_is_ok(smbsess_options_new(mem, &o)) ||
	    !smbsess_status_is_ok(smbsess_options_set_address(o, address)) ||
	    (timeout_ms && !smbsess_status_is_ok(smbsess_options_set_timeout(o, timeout_ms))))
		abort();
	return o;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	struct smbsess_credentials *ka, *nb;
	struct conn_ctx a = { .name = "A" }, b = { .name = "B" };
	struct tevent_req *ra, *rb;
	long wait_ms, start;
	int n;

	if (argc != 8) {
		fprintf(stderr, "usage: krb_loop SERVER ADDRESS DOMAIN USER PASSWORD TIMEOUT_MS WAIT_S\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mem = talloc_new(NULL);
	ev = tevent_context_init(mem);
	if (mem == NULL || ev == NULL)
		return 1;
	a.mem = b.mem = mem;
	if (!smbsess_status_is_ok(smbsess_credentials_new(mem, argv[3], argv[4], argv[5], &ka)) ||
	    !smbsess_status_is_ok(smbsess_credentials_set_mechs(ka, SMBSESS_MECHS_KERBEROS_ONLY)) ||
	    !smbsess_status_is_ok(smbsess_credentials_new(mem, argv[3], argv[4], argv[5], &nb)))
		return 1;
	ra = smbsess_connect_send(mem, ev, argv[1], ka, options(mem, argv[2], (uint32_t)atol(argv[6])));
	rb = smbsess_connect_send(mem, ev, argv[1], nb, options(mem, argv[2], 0));
	if (ra == NULL || rb == NULL)
		return 1;
	tevent_req_set_callback(ra, connected, &a);
	tevent_req_set_callback(rb, connected, &b);
	pending = 2;
	if (tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, 10000), tick, NULL) == NULL)
		return 1;
	while (pending > 0)
		if (tevent_loop_once(ev) != 0)
			return 1;
	printf("loop ticks=%ld max_gap_ms=%ld\n", ticks, max_gap_ms);
	/* Connections, event context, everything: an abandoned step keeps nothing of ours. */
	talloc_free(mem);
	wait_ms = atol(argv[7]) * 1000;
	start = now_ms();
	while ((n = threads()) > 1 && now_ms() - start < wait_ms)
		usleep(50000);
	printf("threads=%d after_ms=%ld\n", n, now_ms() - start);
	return a.done && b.done ? 0 : 1;
}
