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
#include "../common/poll.h"

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

bool select_files(struct server *s)
{
	const char *pattern = s->app->cli->path;
	size_t n = s->files ? smbsess_file_list_count(s->files) : 0;
	bool have_path = s->files && (smbsess_file_list_fields(s->files) & SMBSESS_FILE_PATH);

	/* On the list, so that it goes with it. */
	s->fsel = NULL;
	s->nfsel = 0;
	if (s->files == NULL)
		return true;
	s->fsel = talloc_array(s->files, size_t, n ? n : 1);
	if (s->fsel == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pattern == NULL || (have_path && glob_match(pattern, smbsess_file_path(s->files, i))))
			s->fsel[s->nfsel++] = i;
	return true;
}

static void start_step(struct server *s, enum step step)
{
	struct app *a = s->app;
	const struct cli *c = a->cli;
	const struct action *act = s->next_act < s->n_acts ? &s->acts[s->next_act] : NULL;
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
		req = smbsess_file_enum_send(s, a->ev, s->conn, c->base_path, c->client_user, SMBSESS_LEVEL_BEST);
		break;
	case STEP_FILE_INFO:
		req = smbsess_file_get_info_send(s, a->ev, s->conn, c->id, SMBSESS_LEVEL_BEST);
		break;
	case STEP_DELETE:
		if (act != NULL)
			req = smbsess_session_delete_send(s, a->ev, s->conn, act->client, act->user);
		break;
	case STEP_CLOSE:
		if (act != NULL)
			req = smbsess_file_close_send(s, a->ev, s->conn, act->id);
		break;
	}
	if (req == NULL) {
		server_fail(s, step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM));
		return;
	}
	s->req = req;
	tevent_req_set_callback(req, step_done, s);
}

/* The next action of /DELETE or /CLOSE, or the end of the server's job. */
static void next_action(struct server *s)
{
	if (s->next_act >= s->n_acts) {
		server_idle(s);
		return;
	}
	if (s->conn == NULL) {
		/* The server ended our connection with an earlier action: a new one for the rest. */
		start_step(s, STEP_CONNECT);
		return;
	}
	start_step(s, s->app->mode == MODE_SESSION_DELETE ? STEP_DELETE : STEP_CLOSE);
}

/* After connecting: what to read from the server, or, after the question, the actions. */
static void after_connect(struct server *s)
{
	const struct app *a = s->app;
	const struct cli *c = a->cli;

	if (s->acting) {
		next_action(s);
		return;
	}
	switch (a->mode) {
	case MODE_SESSION_LIST:
	case MODE_SESSION_DETAIL:
		start_step(s, STEP_SESSIONS);
		return;
	case MODE_SESSION_DELETE:
		/* What will be ended: shown before asking, and one entry each in the result. */
		s->sessions_asked = true;
		start_step(s, STEP_SESSIONS);
		return;
	case MODE_FILE_LIST:
		start_step(s, STEP_FILES);
		return;
	case MODE_FILE_DETAIL:
		start_step(s, STEP_FILE_INFO);
		return;
	case MODE_FILE_CLOSE:
		if (!c->have_id) { /* --path / --client-user: what to close */
			s->files_asked = true;
			start_step(s, STEP_FILES);
			return;
		}
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
	struct action *act = s->next_act < s->n_acts ? &s->acts[s->next_act] : NULL;
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
		if (smbsess_status_is_ok(st) && !select_files(s))
			st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_FILES, st);
			return;
		}
		server_idle(s);
		return;
	case STEP_FILE_INFO:
		st = smbsess_file_get_info_recv(req, s, &s->files);
		talloc_free(req);
		if (smbsess_status_is_ok(st) && !select_files(s))
			st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
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
			act->done = true;
			s->done = true;
			if (!smbsess_status_is_ok(st)) {
				act->dropped = s->dropped = true;
				TALLOC_FREE(s->conn);
			}
		} else {
			act->failed = true;
			act->st = st;
		}
		s->next_act++;
		next_action(s);
		return;
	case STEP_CLOSE:
		st = smbsess_file_close_recv(req);
		talloc_free(req);
		if (smbsess_status_is_ok(st)) {
			act->done = true;
			s->done = true;
		} else {
			act->failed = true;
			act->st = st;
		}
		s->next_act++;
		next_action(s);
		return;
	}
}

/* The job's time is up: what it waits for is cancelled and counts as timed out. */
static void server_expired(struct runner_job *job, void *private_data)
{
	struct server *s = private_data;

	(void)job;
	TALLOC_FREE(s->req); /* cancels it */
	if (s->acting && s->next_act < s->n_acts && s->step != STEP_CONNECT) {
		/* The action under way timed out; the ones after it are not tried. */
		s->acts[s->next_act].failed = true;
		s->acts[s->next_act].st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT);
		server_idle(s);
		return;
	}
	server_fail(s, s->step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT));
}

static void server_start(struct runner_job *job, void *private_data)
{
	struct server *s = private_data;

	(void)job;
	if (s->acting)
		next_action(s);
	else
		start_step(s, s->step);
}

void begin(struct server *s, enum step step)
{
	struct app *a = s->app;
	/* Three time limits and a little more, and one more for each action after the first. */
	uint64_t ms = (uint64_t)a->cli->timeout_ms * (3 + (s->n_acts ? s->n_acts - 1 : 0)) + 5000;

	s->busy = true;
	s->step = step;
	if (step == STEP_DELETE || step == STEP_CLOSE) {
		s->acting = true;
		s->next_act = 0;
	}
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
	return make_options(s, s->port, c->address, c->timeout_ms, c->signing, c->encryption, &s->opts);
}
