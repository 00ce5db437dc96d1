/*
 * smbnet: the servers, all on one event loop. Each server is one job of the
 * shared runner (../common/runner.h): connect and read, then, after the
 * question of /DELETE and /CLOSE, act; a job that outlives three time limits
 * and a little more counts as timed out.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "smbnet.h"

int make_credentials(TALLOC_CTX *mem, const struct cli *c, struct smbsess_credentials **creds)
{
	struct creds_args ca = {
		.auth_file = c->auth_file,
		.user_arg = c->user_arg,
		.kerberos = c->kerberos,
		.no_pass = c->no_pass,
		.may_prompt = true,
		.no_password_hint = "give -U USER%PASSWORD, -A FILE or $" SMBNET_PASSWORD_ENV
				    ", or run on a terminal to be asked",
	};
	char err[1024];

	switch (creds_make(mem, &ca, creds, err, sizeof err)) {
	case CREDS_OK:
		return SMBNET_EXIT_OK;
	case CREDS_USAGE:
		fprintf(stderr, "%s: %s\n", progname, err);
		return SMBNET_EXIT_USAGE;
	default:
		fprintf(stderr, "%s: %s\n", progname, err);
		return SMBNET_EXIT_FAIL;
	}
}

static void step_done(struct tevent_req *req);

static void server_idle(struct server *s)
{
	if (s->busy) {
		struct runner_job *job = s->job;

		s->busy = false;
		s->job = NULL;
		runner_job_done(job);
	}
}

void server_fail(struct server *s, enum step step, struct smbsess_status st)
{
	s->failed = true;
	s->failed_step = step;
	s->st = st;
	server_idle(s);
}

static void start_step(struct server *s, enum step step)
{
	struct app *a = s->app;
	const struct cli *c = a->cli;
	struct tevent_req *req = NULL;
	const char *qualifier;

	s->step = step;
	switch (step) {
	case STEP_CONNECT:
		req = smbsess_connect_send(s, a->ev, s->host, a->creds, s->opts);
		break;
	case STEP_SESSIONS:
		req = smbsess_session_enum_send(s, a->ev, s->conn, c->client, c->client_user, SMBSESS_LEVEL_BEST);
		break;
	case STEP_CONNECTIONS:
		qualifier = talloc_asprintf(s, "\\\\%s", c->client);
		if (qualifier != NULL)
			req = smbsess_connection_enum_send(s, a->ev, s->conn, qualifier, SMBSESS_LEVEL_BEST);
		break;
	case STEP_FILES:
		req = smbsess_file_enum_send(s, a->ev, s->conn, c->path, c->client_user, SMBSESS_LEVEL_BEST);
		break;
	case STEP_FILE_INFO:
		req = smbsess_file_get_info_send(s, a->ev, s->conn, c->id, SMBSESS_LEVEL_BEST);
		break;
	case STEP_DELETE:
		req = smbsess_session_delete_send(s, a->ev, s->conn, c->client, c->client_user);
		break;
	case STEP_CLOSE:
		req = smbsess_file_close_send(s, a->ev, s->conn, c->id);
		break;
	}
	if (req == NULL) {
		server_fail(s, step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM));
		return;
	}
	s->req = req;
	tevent_req_set_callback(req, step_done, s);
}

/* The first phase after connecting: what to read from the server. */
static void after_connect(struct server *s)
{
	const struct app *a = s->app;
	const struct cli *c = a->cli;

	switch (a->mode) {
	case MODE_SESSION_LIST:
	case MODE_SESSION_DETAIL:
		start_step(s, STEP_SESSIONS);
		return;
	case MODE_SESSION_DELETE:
		/* What would be ended: shown before asking, and checked when a filter is given. */
		if (a->ask || c->client != NULL || c->client_user != NULL) {
			s->sessions_asked = true;
			start_step(s, STEP_SESSIONS);
			return;
		}
		break;
	case MODE_FILE_LIST:
		start_step(s, STEP_FILES);
		return;
	case MODE_FILE_DETAIL:
		start_step(s, STEP_FILE_INFO);
		return;
	case MODE_FILE_CLOSE:
		if (a->ask) {
			s->files_asked = true;
			start_step(s, STEP_FILE_INFO);
			return;
		}
		break;
	}
	server_idle(s);
}

bool is_dropped_connection(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_DISCONNECTED) ||
	       status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNRESET) || status_is(st, SMBSESS_DOMAIN_ERRNO, EPIPE) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_USER_SESSION_DELETED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_CONNECTION_DISCONNECTED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_CONNECTION_RESET);
}

static void step_done(struct tevent_req *req)
{
	struct server *s = tevent_req_callback_data(req, struct server);
	const struct app *a = s->app;
	struct smbsess_status st;

	s->req = NULL;
	switch (s->step) {
	case STEP_CONNECT:
		st = smbsess_connect_recv(req, s, &s->conn);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CONNECT, st);
			return;
		}
		after_connect(s);
		return;
	case STEP_SESSIONS:
		st = smbsess_session_enum_recv(req, s, &s->sessions);
		talloc_free(req);
		if (a->mode == MODE_SESSION_DELETE) {
			s->sessions_st = st; /* only informative */
			server_idle(s);
			return;
		}
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_SESSIONS, st);
			return;
		}
		if (a->mode == MODE_SESSION_DETAIL && smbsess_session_list_count(s->sessions) > 0) {
			start_step(s, STEP_CONNECTIONS);
			return;
		}
		server_idle(s);
		return;
	case STEP_CONNECTIONS:
		/* The shares are shown where the server gives them; failing to is no error. */
		st = smbsess_connection_enum_recv(req, s, &s->conns);
		talloc_free(req);
		if (!smbsess_status_is_ok(st))
			s->conns = NULL;
		server_idle(s);
		return;
	case STEP_FILES:
		st = smbsess_file_enum_recv(req, s, &s->files);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_FILES, st);
			return;
		}
		server_idle(s);
		return;
	case STEP_FILE_INFO:
		st = smbsess_file_get_info_recv(req, s, &s->files);
		talloc_free(req);
		if (a->mode == MODE_FILE_CLOSE) {
			s->files_st = st;
			server_idle(s);
			return;
		}
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_FILE_INFO, st);
			return;
		}
		server_idle(s);
		return;
	case STEP_DELETE:
		st = smbsess_session_delete_recv(req);
		talloc_free(req);
		if (smbsess_status_is_ok(st) || is_dropped_connection(st)) {
			s->done = true;
			s->dropped = !smbsess_status_is_ok(st);
			server_idle(s);
			return;
		}
		server_fail(s, STEP_DELETE, st);
		return;
	case STEP_CLOSE:
		st = smbsess_file_close_recv(req);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CLOSE, st);
			return;
		}
		s->done = true;
		server_idle(s);
		return;
	}
}

/* The job's time is up: what it waits for is cancelled and counts as timed out. */
static void server_expired(struct runner_job *job, void *private_data)
{
	struct server *s = private_data;

	(void)job;
	TALLOC_FREE(s->req); /* cancels it */
	server_fail(s, s->step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT));
}

static void server_start(struct runner_job *job, void *private_data)
{
	struct server *s = private_data;

	(void)job;
	start_step(s, s->step);
}

void begin(struct server *s, enum step step)
{
	struct app *a = s->app;
	uint64_t ms = (uint64_t)a->cli->timeout_ms * 3 + 5000;

	s->busy = true;
	s->step = step;
	s->job = runner_submit(a->runner, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms, server_start, server_expired, s);
	if (s->job == NULL) {
		s->busy = false;
		s->failed = true;
		s->failed_step = step;
		s->st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
	}
}

void run_loop(struct app *a)
{
	if (!runner_wait(a->runner)) {
		struct smbsess_status st = make_status(SMBSESS_DOMAIN_ERRNO, errno ? (uint32_t)errno : EIO);

		for (size_t i = 0; i < a->n_servers; i++)
			if (a->servers[i]->busy) {
				TALLOC_FREE(a->servers[i]->req);
				server_fail(a->servers[i], a->servers[i]->step, st);
			}
		runner_abort(a->runner);
	}
}

struct smbsess_status server_options(struct server *s, const struct cli *c)
{
	struct smbsess_status st = smbsess_options_new(s, &s->opts);

	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_port(s->opts, s->port);
	if (smbsess_status_is_ok(st) && c->address != NULL)
		st = smbsess_options_set_address(s->opts, c->address);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_timeout(s->opts, c->timeout_ms);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_signing(s->opts, c->signing);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_encryption(s->opts, c->encryption);
	return st;
}
