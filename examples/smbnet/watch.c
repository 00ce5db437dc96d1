/*
 * smbnet --watch SECONDS: list once, then every SECONDS ask every server
 * again and print only what changed, one line each:
 *
 *   + SERVER  \\CLIENT  USER                  a session appeared
 *   - SERVER  \\CLIENT  USER                  a session vanished
 *   + SERVER  ID  PATH  USER                  a file was opened
 *   - SERVER  ID  PATH  USER                  a file was closed
 *   ! SERVER  down: WHY (STATUS)              a server stopped answering
 *   ! SERVER  up                              it answers again
 *
 * With --json, one object a line: {"event": "opened" | "closed" |
 * "connected" | "disconnected" | "server_down" | "server_up", "server": ...,
 * "file" | "session": {...}} (server_down also carries "error": {"code",
 * "message"}); the first listing comes as opened/connected events.
 *
 * A server that stops answering keeps its last known state; when it comes
 * back, what changed meanwhile is printed. Connections are kept between
 * polls (../common/poll.h). SIGINT and SIGTERM end the watch with exit
 * status 0.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "smbnet.h"
#include "../common/poll.h"

struct watch;

/* One item of a list, for comparing two polls: a key and where it is. */
struct item {
	char *key;
	size_t index;
};

struct wserver {
	struct watch *w;
	struct server view; /* spec, lists and failure, for the printers of text.c and errors.c */
	struct poll_target t;
	struct tevent_req *req;
	struct runner_job *job;
	bool answered; /* this poll */
	bool down;     /* the last poll failed */
	bool known;    /* answered at least once: view holds its last state */
	struct smbsess_session_list *new_sessions;
	struct smbsess_file_list *new_files;
};

struct watch {
	const struct cli *c;
	enum mode mode;
	struct tevent_context *ev;
	struct runner *runner;
	struct smbsess_credentials *creds;
	struct app app; /* for the printers */
	struct wserver *servers;
	size_t n;
	bool polling, first, stop, broken;
	struct timeval next;
};

static bool watch_files(const struct watch *w)
{
	return w->mode == MODE_FILE_LIST;
}

static void poll_finished(struct tevent_req *req)
{
	struct wserver *ws = tevent_req_callback_data_void(req);
	enum poll_step step = POLL_STEP_CONNECT;
	struct smbsess_status st;

	ws->req = NULL;
	TALLOC_FREE(ws->new_sessions);
	TALLOC_FREE(ws->new_files);
	st = poll_recv(req, ws->w, &ws->new_sessions, &ws->new_files, &step);
	talloc_free(req);
	ws->answered = smbsess_status_is_ok(st);
	if (!ws->answered) {
		ws->view.st = st;
		ws->view.failed_step = step == POLL_STEP_CONNECT ? STEP_CONNECT
				       : step == POLL_STEP_SESSIONS ? STEP_SESSIONS : STEP_FILES;
	}
	runner_job_done(ws->job);
	ws->job = NULL;
}

static void poll_start(struct runner_job *job, void *private_data)
{
	struct wserver *ws = private_data;
	const struct cli *c = ws->w->c;
	bool files = watch_files(ws->w);

	(void)job;
	ws->req = poll_send(ws->w, ws->w->ev, &ws->t, ws->w->creds, files ? POLL_FILES : POLL_SESSIONS,
			    files ? NULL : c->client, files ? c->base_path : NULL, c->client_user);
	if (ws->req == NULL) {
		ws->answered = false;
		ws->view.st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
		ws->view.failed_step = STEP_CONNECT;
		runner_job_done(ws->job);
		ws->job = NULL;
		return;
	}
	tevent_req_set_callback(ws->req, poll_finished, ws);
}

static void poll_expired(struct runner_job *job, void *private_data)
{
	struct wserver *ws = private_data;

	(void)job;
	TALLOC_FREE(ws->req);
	TALLOC_FREE(ws->t.conn); /* it may hang: a new one next time */
	ws->answered = false;
	ws->view.st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT);
	ws->view.failed_step = STEP_CONNECT;
	runner_job_done(ws->job);
	ws->job = NULL;
}

/* ---- comparing two polls ---- */

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

/*
 * The items of a server's list as sorted keys: sessions by client and user,
 * files by id, path and user (the files --path selects). NULL list: none.
 */
static struct item *items_of(TALLOC_CTX *mem, const struct watch *w, const struct server *v, size_t *n)
{
	struct item *it;

	*n = 0;
	if (watch_files(w)) {
		const struct smbsess_file_list *l = v->files;

		it = talloc_array(mem, struct item, v->nfsel ? v->nfsel : 1);
		for (size_t k = 0; it != NULL && l != NULL && k < v->nfsel; k++) {
			size_t i = v->fsel[k];
			uint32_t fl = smbsess_file_list_fields(l);

			it[*n].index = i;
			it[*n].key = talloc_asprintf(it, "%010" PRIu32 "\x1f%s\x1f%s",
						     (fl & SMBSESS_FILE_ID) ? smbsess_file_id(l, i) : 0,
						     (fl & SMBSESS_FILE_PATH) ? smbsess_file_path(l, i) : "",
						     (fl & SMBSESS_FILE_USER) ? smbsess_file_user(l, i) : "");
			if (it[*n].key == NULL)
				return NULL;
			(*n)++;
		}
	} else {
		const struct smbsess_session_list *l = v->sessions;
		size_t count = l ? smbsess_session_list_count(l) : 0;

		it = talloc_array(mem, struct item, count ? count : 1);
		for (size_t i = 0; it != NULL && i < count; i++) {
			uint32_t fl = smbsess_session_list_fields(l);

			it[*n].index = i;
			it[*n].key = talloc_asprintf(it, "%s\x1f%s",
						     (fl & SMBSESS_SESSION_CLIENT) ? smbsess_session_client(l, i) : "",
						     (fl & SMBSESS_SESSION_USER) ? smbsess_session_user(l, i) : "");
			if (it[*n].key == NULL)
				return NULL;
			(*n)++;
		}
	}
	if (it != NULL)
		qsort(it, *n, sizeof *it, item_cmp);
	return it;
}

/* One change: a +/- line, or a JSON event. */
static void print_item(TALLOC_CTX *mem, const struct watch *w, const char *spec, const struct server *v, size_t i,
		       bool added)
{
	FILE *f = stdout;

	if (w->c->json) {
		struct json_obj o;

		json_obj_begin(&o, f);
		json_str(&o, "event", watch_files(w) ? (added ? "opened" : "closed")
						      : (added ? "connected" : "disconnected"));
		json_str(&o, "server", spec);
		json_key(&o, watch_files(w) ? "file" : "session");
		{
			struct json_obj inner;

			json_obj_begin(&inner, f);
			if (watch_files(w))
				json_file(&inner, NULL, v->files, i);
			else
				json_session(&inner, NULL, v->sessions, i);
			json_obj_end(&inner);
		}
		json_obj_end(&o);
		putc('\n', f);
		return;
	}
	if (watch_files(w)) {
		const char *cells[4];

		file_cells(mem, v->files, i, cells);
		fprintf(f, "%c %s  %s  %s  %s\n", added ? '+' : '-', text_clean(mem, spec), cells[0],
			text_clean(mem, cells[1]), text_clean(mem, cells[2]));
	} else {
		const char *cells[5];

		session_cells(mem, v->sessions, i, cells);
		fprintf(f, "%c %s  %s  %s\n", added ? '+' : '-', text_clean(mem, spec), text_clean(mem, cells[0]),
			text_clean(mem, cells[1]));
	}
}

static void print_server_event(TALLOC_CTX *mem, const struct watch *w, const struct wserver *ws, bool up)
{
	FILE *f = stdout;

	if (w->c->json) {
		struct json_obj o, e;

		json_obj_begin(&o, f);
		json_str(&o, "event", up ? "server_up" : "server_down");
		json_str(&o, "server", ws->view.spec);
		if (!up) {
			json_key(&o, "error");
			json_obj_begin(&e, f);
			json_str(&e, "code", smbsess_status_name(ws->view.st));
			json_str(&e, "message", error_text(mem, &ws->view));
			json_obj_end(&e);
		}
		json_obj_end(&o);
		putc('\n', f);
		return;
	}
	if (up)
		fprintf(f, "! %s  up\n", text_clean(mem, ws->view.spec));
	else
		fprintf(f, "! %s  down: %s (%s)\n", text_clean(mem, ws->view.spec),
			text_clean(mem, error_text(mem, &ws->view)), smbsess_status_name(ws->view.st));
}

/* The new lists of a server that answered, against its last known state. */
static void report_changes(TALLOC_CTX *mem, struct watch *w, struct wserver *ws, bool print)
{
	struct server old = ws->view;
	size_t n_old = 0, n_new = 0, i = 0, j = 0;
	struct item *a, *b;

	ws->view.sessions = ws->new_sessions;
	ws->view.files = ws->new_files;
	ws->view.fsel = NULL;
	ws->view.nfsel = 0;
	ws->new_sessions = NULL;
	ws->new_files = NULL;
	if (watch_files(w) && !select_files(&ws->view))
		ws->view.nfsel = 0;
	if (print) {
		a = ws->known ? items_of(mem, w, &old, &n_old) : talloc_array(mem, struct item, 1);
		b = items_of(mem, w, &ws->view, &n_new);
		if (a == NULL || b == NULL) {
			fprintf(stderr, "%s: out of memory\n", progname);
			w->broken = true;
		} else {
			/* Both sorted: walk them together; a key in one only is a change. Equal keys pair up. */
			while (i < n_old || j < n_new) {
				int d = i == n_old ? 1 : j == n_new ? -1 : strcmp(a[i].key, b[j].key);

				if (d < 0)
					print_item(mem, w, ws->view.spec, &old, a[i++].index, false);
				else if (d > 0)
					print_item(mem, w, ws->view.spec, &ws->view, b[j++].index, true);
				else
					i++, j++;
			}
		}
	}
	talloc_free(old.sessions);
	talloc_free(old.files); /* and its fsel */
	ws->known = true;
}

/* ---- the rounds ---- */

static void schedule(struct watch *w);

/* The first listing, as smbnet prints it without --watch (or as events with --json). */
static void print_first(TALLOC_CTX *mem, struct watch *w)
{
	if (w->c->json) {
		for (size_t k = 0; k < w->n; k++) {
			struct wserver *ws = &w->servers[k];

			if (ws->answered)
				report_changes(mem, w, ws, true);
			else
				print_server_event(mem, w, ws, false);
			ws->down = !ws->answered;
		}
		return;
	}
	for (size_t k = 0; k < w->n; k++) {
		struct wserver *ws = &w->servers[k];

		if (ws->answered)
			report_changes(mem, w, ws, false);
		ws->view.failed = !ws->answered;
		ws->down = !ws->answered;
	}
	print_body(mem, &w->app, stdout);
	fflush(stdout);
	print_errors(mem, &w->app);
	for (size_t k = 0; k < w->n; k++)
		w->servers[k].view.failed = false;
}

static void round_done(struct watch *w)
{
	TALLOC_CTX *mem = talloc_new(w);

	if (w->first) {
		print_first(mem, w);
		w->first = false;
	} else {
		for (size_t k = 0; k < w->n; k++) {
			struct wserver *ws = &w->servers[k];

			if (!ws->answered) {
				if (!ws->down)
					print_server_event(mem, w, ws, false);
				ws->down = true;
				continue;
			}
			if (ws->down)
				print_server_event(mem, w, ws, true);
			ws->down = false;
			report_changes(mem, w, ws, true);
		}
	}
	talloc_free(mem);
	if (fflush(stdout) != 0 || ferror(stdout))
		w->broken = true; /* nobody reads us any more */
	schedule(w);
}

static void start_round(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct watch *w = private_data;
	uint64_t deadline = (uint64_t)w->c->timeout_ms * 3 + 5000;

	(void)ev, (void)te, (void)now;
	w->polling = true;
	w->next = tevent_timeval_add(&w->next, w->c->watch_ms / 1000, (w->c->watch_ms % 1000) * 1000);
	for (size_t k = 0; k < w->n; k++) {
		struct wserver *ws = &w->servers[k];

		ws->answered = false;
		ws->job = runner_submit(w->runner, deadline > UINT32_MAX ? UINT32_MAX : (uint32_t)deadline, poll_start,
					poll_expired, ws);
		if (ws->job == NULL) {
			ws->view.st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
			ws->view.failed_step = STEP_CONNECT;
		}
	}
}

/* The next round at the next multiple of the interval, or at once when this one took longer. */
static void schedule(struct watch *w)
{
	struct timeval now = tevent_timeval_current();

	w->polling = false;
	if (tevent_timeval_compare(&w->next, &now) < 0)
		w->next = now;
	if (tevent_add_timer(w->ev, w, w->next, start_round, w) == NULL)
		w->broken = true;
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
		      void *private_data)
{
	struct watch *w = private_data;

	(void)ev, (void)se, (void)signum, (void)count, (void)siginfo;
	w->stop = true;
}

int watch(TALLOC_CTX *mem, const struct cli *c, enum mode mode, struct smbsess_credentials *creds)
{
	struct watch *w = talloc_zero(mem, struct watch);
	struct server **views;
	int rc = SMBNET_EXIT_OK;

	if (w == NULL)
		goto nomem;
	*w = (struct watch){ .c = c, .mode = mode, .creds = creds, .first = true, .n = c->n_servers };
	w->ev = tevent_context_init(w);
	w->servers = talloc_zero_array(w, struct wserver, c->n_servers);
	views = talloc_array(w, struct server *, c->n_servers);
	if (w->ev == NULL || w->servers == NULL || views == NULL ||
	    (w->runner = runner_new(w, w->ev, c->parallel)) == NULL ||
	    tevent_add_signal(w->ev, w, SIGINT, 0, on_signal, w) == NULL ||
	    tevent_add_signal(w->ev, w, SIGTERM, 0, on_signal, w) == NULL)
		goto nomem;
	w->app = (struct app){ .cli = c, .mode = mode, .ev = w->ev, .runner = w->runner, .creds = creds,
			       .servers = views, .n_servers = w->n };
	for (size_t k = 0; k < w->n; k++) {
		struct wserver *ws = &w->servers[k];
		struct smbsess_status st;

		ws->w = w;
		ws->view.app = &w->app;
		ws->view.spec = c->servers[k];
		views[k] = &ws->view;
		if (!parse_server_spec(w, ws->view.spec, &ws->view.host, &ws->view.port))
			return SMBNET_EXIT_USAGE; /* checked while parsing */
		if (ws->view.port == 0)
			ws->view.port = c->port;
		st = make_options(w, ws->view.port, c->address, c->timeout_ms, c->signing, c->encryption, &ws->t.opts);
		if (!smbsess_status_is_ok(st)) {
			fprintf(stderr, "%s: %s: %s\n", progname, ws->view.spec, smbsess_status_message(st));
			return SMBNET_EXIT_FAIL;
		}
		ws->t.mem = w;
		ws->t.spec = ws->view.spec;
		ws->t.host = ws->view.host;
		ws->t.port = ws->view.port;
	}
	signal(SIGPIPE, SIG_IGN);
	w->next = tevent_timeval_current();
	start_round(w->ev, NULL, w->next, w);
	while (!w->stop && !w->broken) {
		if (w->polling && runner_pending(w->runner) == 0) {
			round_done(w);
			continue;
		}
		if (tevent_loop_once(w->ev) != 0) {
			fprintf(stderr, "%s: the event loop failed: %s\n", progname, strerror(errno));
			rc = SMBNET_EXIT_FAIL;
			break;
		}
	}
	if (w->broken && !w->stop)
		rc = SMBNET_EXIT_FAIL;
	/* Freeing cancels what is under way and disconnects. */
	for (size_t k = 0; k < w->n; k++) {
		TALLOC_FREE(w->servers[k].req);
		TALLOC_FREE(w->servers[k].t.conn);
	}
	talloc_free(w);
	signal(SIGPIPE, SIG_DFL);
	return rc;

nomem:
	fprintf(stderr, "%s: out of memory\n", progname);
	return SMBNET_EXIT_FAIL;
}
