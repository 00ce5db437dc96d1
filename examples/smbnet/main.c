/*
 * smbnet: what NET SESSION and NET FILE do on Windows, from Linux, on
 * libsmbsess.
 *
 *   smbnet [OPTIONS] session [\\CLIENT] [/DELETE] [/LIST] [/Y]
 *   smbnet [OPTIONS] session [--client-user NAME] [/DELETE] [/Y] [--watch SECONDS]
 *   smbnet [OPTIONS] file [ID [/CLOSE]] [/Y]
 *   smbnet [OPTIONS] file [--path GLOB] [--client-user NAME] [/CLOSE] [/Y] [--watch SECONDS]
 *
 * The servers named with -S (and listed in -S @FILE) are asked at the same
 * time, at most --parallel at once, on one tevent loop, through the
 * asynchronous API; the results are printed in the order the servers were
 * given. See `smbnet --help`, docs/smbnet.1 and smbnet.h
 * for the files.
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 5 access denied.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "smbnet.h"
#include "../common/leave.h"

static const char *mode_action(const struct cli *c, enum mode m)
{
	if (m == MODE_SESSION_DELETE)
		return "ending sessions (/DELETE)";
	return c->have_id ? "closing a file (/CLOSE)" : "closing files (/CLOSE)";
}

static int finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: cannot write the output: %s\n", progname, strerror(errno));
		return SMBNET_EXIT_FAIL;
	}
	return rc;
}

static int run(TALLOC_CTX *mem, struct cli *c)
{
	struct app *a;
	enum mode mode = MODE_SESSION_LIST;
	int rc;
	bool destructive;

	rc = check_form(mem, c, &mode);
	if (rc != 0)
		return rc;
	destructive = mode == MODE_SESSION_DELETE || mode == MODE_FILE_CLOSE;
	if (destructive && !c->sw_yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"%s: %s needs a confirmation, and there is no terminal to ask on: add /Y to confirm\n",
			progname, mode_action(c, mode));
		return SMBNET_EXIT_USAGE;
	}

	a = talloc_zero(mem, struct app);
	if (a == NULL)
		return SMBNET_EXIT_FAIL;
	a->cli = c;
	a->mode = mode;
	a->ask = destructive && !c->sw_yes;
	rc = make_credentials(a, c, &a->creds);
	if (rc != 0)
		return rc;
	if (c->watch_ms > 0)
		return finish_output(watch(mem, c, mode, a->creds));
	a->ev = tevent_context_init(a);
	a->runner = a->ev ? runner_new(a, a->ev, c->parallel) : NULL;
	a->servers = talloc_zero_array(a, struct server *, c->n_servers);
	for (size_t i = 0; a->servers != NULL && i < c->n_servers; i++)
		if ((a->servers[i] = talloc_zero(a->servers, struct server)) == NULL)
			a->servers = NULL;
	if (a->ev == NULL || a->runner == NULL || a->servers == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return SMBNET_EXIT_FAIL;
	}
	a->n_servers = c->n_servers;
	signal(SIGPIPE, SIG_IGN);

	/* Phase 1, for every server at once: connect and read. */
	for (size_t i = 0; i < a->n_servers; i++) {
		struct server *s = a->servers[i];
		struct smbsess_status st;

		s->app = a;
		s->spec = c->servers[i];
		if (!parse_server_spec(a, s->spec, &s->host, &s->port))
			return SMBNET_EXIT_USAGE; /* checked while parsing */
		if (s->port == 0)
			s->port = c->port;
		st = server_options(s, c);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CONNECT, st);
			continue;
		}
		begin(s, STEP_CONNECT);
	}
	run_loop(a);

	/* Phase 2, for /DELETE and /CLOSE: after the question, act on every server at once. */
	if (destructive) {
		size_t n = review(mem, a, stderr);

		if (n > 0 && a->ask && !ask_yes_no()) {
			a->declined = true;
			fprintf(stderr, "%s: cancelled; nothing was done.\n", progname);
		}
		for (size_t i = 0; i < a->n_servers && n > 0 && !a->declined; i++)
			if (!a->servers[i]->failed && a->servers[i]->n_acts > 0)
				begin(a->servers[i], mode == MODE_SESSION_DELETE ? STEP_DELETE : STEP_CLOSE);
		run_loop(a);
	}

	/* Asked for a computer that has no session anywhere: an error, as NET says (NERR_ClientNameNotFound). */
	if ((mode == MODE_SESSION_DETAIL || mode == MODE_SESSION_LIST) && c->client != NULL && total_sessions(a) == 0) {
		for (size_t i = 0; i < a->n_servers; i++) {
			struct server *s = a->servers[i];

			if (!s->failed) {
				s->failed = true;
				s->failed_step = STEP_SESSIONS;
				s->st = make_status(SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND);
			}
		}
	}

	/*
	 * Leave every server politely, all at once, before printing, so that a
	 * closed stdout may end smbnet the usual way.
	 */
	{
		struct smbsess_conn ***conns = talloc_array(mem, struct smbsess_conn **, a->n_servers);

		for (size_t i = 0; conns != NULL && i < a->n_servers; i++)
			conns[i] = &a->servers[i]->conn;
		if (conns != NULL)
			leave_all(a->ev, conns, a->n_servers, c->timeout_ms);
		for (size_t i = 0; i < a->n_servers; i++)
			TALLOC_FREE(a->servers[i]->conn);
	}
	signal(SIGPIPE, SIG_DFL);
	if (c->json)
		print_json(mem, a, stdout);
	else
		print_text(mem, a, stdout);
	fflush(stdout);
	print_errors(mem, a);
	rc = exit_status(a);
	if (a->declined && rc == SMBNET_EXIT_OK)
		rc = SMBNET_EXIT_FAIL;
	return finish_output(rc);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cli c;
	int rc;

	if (mem == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return SMBNET_EXIT_FAIL;
	}
	rc = parse_args(mem, argc, argv, &c);
	if (rc == 0 && c.help) {
		print_help(stdout);
		rc = finish_output(SMBNET_EXIT_OK);
	} else if (rc == 0 && c.version) {
		printf("%s (libsmbsess) %s\n", progname, smbsess_version());
		rc = finish_output(SMBNET_EXIT_OK);
	} else if (rc == 0) {
		rc = run(mem, &c);
	}
	talloc_free(mem);
	return rc;
}
