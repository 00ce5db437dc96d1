/*
 * One server asked again and again (see poll.h).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include "poll.h"
#include "text.h"

struct smbsess_status make_options(TALLOC_CTX *mem, uint16_t port, const char *address, uint32_t timeout_ms,
				   enum smbsess_policy signing, enum smbsess_policy encryption,
				   struct smbsess_options **out)
{
	struct smbsess_status st = smbsess_options_new(mem, out);

	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_port(*out, port);
	if (smbsess_status_is_ok(st) && address != NULL)
		st = smbsess_options_set_address(*out, address);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_timeout(*out, timeout_ms);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_signing(*out, signing);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_encryption(*out, encryption);
	return st;
}

struct poll_state {
	struct tevent_context *ev;
	struct poll_target *t;
	const struct smbsess_credentials *creds;
	unsigned what;
	const char *client, *base_path, *user;
	bool reused; /* the connection was kept from an earlier poll */
	enum poll_step step;
	struct smbsess_status st;
	struct smbsess_session_list *sessions;
	struct smbsess_file_list *files;
};

static void poll_next(struct tevent_req *req);
static void poll_done(struct tevent_req *subreq);

static void poll_fail(struct tevent_req *req, struct smbsess_status st)
{
	struct poll_state *s = tevent_req_data(req, struct poll_state);

	TALLOC_FREE(s->t->conn);
	if (s->reused && s->step != POLL_STEP_CONNECT) {
		/* The kept connection may have died with a server that came back: once more, anew. */
		s->reused = false;
		s->step = POLL_STEP_CONNECT;
		poll_next(req);
		return;
	}
	s->st = st;
	tevent_req_error(req, 1);
}

/* Starts the request of s->step. */
static void poll_next(struct tevent_req *req)
{
	struct poll_state *s = tevent_req_data(req, struct poll_state);
	struct tevent_req *subreq = NULL;

	switch (s->step) {
	case POLL_STEP_CONNECT:
		subreq = smbsess_connect_send(s, s->ev, s->t->host, s->creds, s->t->opts);
		break;
	case POLL_STEP_SESSIONS:
		subreq = smbsess_session_enum_send(s, s->ev, s->t->conn, s->client, s->user, SMBSESS_LEVEL_BEST);
		break;
	case POLL_STEP_FILES:
		subreq = smbsess_file_enum_send(s, s->ev, s->t->conn, s->base_path, s->user, SMBSESS_LEVEL_BEST);
		break;
	}
	if (subreq == NULL) {
		s->reused = false;
		poll_fail(req, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM));
		return;
	}
	tevent_req_set_callback(subreq, poll_done, req);
}

/* The step after s->step, or the end. */
static void poll_advance(struct tevent_req *req)
{
	struct poll_state *s = tevent_req_data(req, struct poll_state);

	if (s->step == POLL_STEP_CONNECT && (s->what & POLL_SESSIONS)) {
		s->step = POLL_STEP_SESSIONS;
	} else if (s->step != POLL_STEP_FILES && (s->what & POLL_FILES)) {
		s->step = POLL_STEP_FILES;
	} else {
		tevent_req_done(req);
		return;
	}
	poll_next(req);
}

static void poll_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct poll_state *s = tevent_req_data(req, struct poll_state);
	struct smbsess_conn *conn = NULL;
	struct smbsess_status st;

	switch (s->step) {
	case POLL_STEP_CONNECT:
		st = smbsess_connect_recv(subreq, s->t->mem, &conn);
		break;
	case POLL_STEP_SESSIONS:
		TALLOC_FREE(s->sessions);
		st = smbsess_session_enum_recv(subreq, s, &s->sessions);
		break;
	default:
		TALLOC_FREE(s->files);
		st = smbsess_file_enum_recv(subreq, s, &s->files);
		break;
	}
	talloc_free(subreq);
	if (!smbsess_status_is_ok(st)) {
		poll_fail(req, st);
		return;
	}
	if (s->step == POLL_STEP_CONNECT) {
		s->t->conn = conn;
		s->t->connects++;
	}
	poll_advance(req);
}

struct tevent_req *poll_send(TALLOC_CTX *mem, struct tevent_context *ev, struct poll_target *t,
			     const struct smbsess_credentials *creds, unsigned what, const char *client,
			     const char *base_path, const char *user)
{
	struct poll_state *s;
	struct tevent_req *req = tevent_req_create(mem, &s, struct poll_state);

	if (req == NULL)
		return NULL;
	*s = (struct poll_state){ .ev = ev, .t = t, .creds = creds, .what = what, .client = client,
				  .base_path = base_path, .user = user, .reused = t->conn != NULL };
	if (s->reused) {
		s->step = POLL_STEP_CONNECT; /* as if just connected */
		poll_advance(req);
	} else {
		s->step = POLL_STEP_CONNECT;
		poll_next(req);
	}
	if (!tevent_req_is_in_progress(req))
		return tevent_req_post(req, ev);
	return req;
}

struct smbsess_status poll_recv(struct tevent_req *req, TALLOC_CTX *mem, struct smbsess_session_list **sessions,
				struct smbsess_file_list **files, enum poll_step *failed_step)
{
	struct poll_state *s = tevent_req_data(req, struct poll_state);
	enum tevent_req_state state;
	uint64_t err;
	struct smbsess_status st = make_status(SMBSESS_DOMAIN_OK, 0);

	if (tevent_req_is_error(req, &state, &err)) {
		st = s->st;
		if (state != TEVENT_REQ_USER_ERROR)
			st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
		if (failed_step != NULL)
			*failed_step = s->step;
	} else {
		if (sessions != NULL)
			*sessions = talloc_move(mem, &s->sessions);
		if (files != NULL)
			*files = talloc_move(mem, &s->files);
	}
	tevent_req_received(req);
	return st;
}
