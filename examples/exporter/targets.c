/*
 * smbsess_exporter: the targets. A scrape asks each of its targets; a target
 * already being asked (for another scrape) is not asked again: the scrape
 * waits for the query in flight and gets its result too. So concurrent
 * scrapes make one query per target, and one connection, which is kept
 * from one query to the next (../common/poll.h). A query that has not
 * finished within the time limit is cancelled and reported as down; it
 * never holds up another target.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exporter.h"
#include "../common/servers.h"
#include "../common/text.h"

struct waiter {
	struct scrape *sc;
	size_t slot;
};

struct target *target_new(struct exporter *x, TALLOC_CTX *mem, const char *spec, bool configured, const char **err)
{
	struct target *t = talloc_zero(mem, struct target);
	struct smbsess_status st;

	*err = "out of memory";
	if (t == NULL)
		return NULL;
	t->x = x;
	t->configured = configured;
	t->label = talloc_strdup(t, spec);
	if (t->label == NULL)
		goto fail;
	if (!parse_server_spec(t, spec, &t->t.host, &t->t.port)) {
		*err = "not HOST, HOST:PORT or [ADDRESS]:PORT";
		goto fail;
	}
	if (t->t.port == 0)
		t->t.port = x->default_port;
	t->t.mem = t;
	t->t.spec = t->label;
	st = make_options(t, t->t.port, NULL, x->timeout_ms, SMBSESS_POLICY_AUTO, SMBSESS_POLICY_AUTO, &t->t.opts);
	if (!smbsess_status_is_ok(st))
		goto fail;
	return t;
fail:
	talloc_free(t);
	return NULL;
}

struct target *probe_target(struct exporter *x, const char *spec, const char **err)
{
	struct target *t, *victim = NULL;
	size_t vi = 0;

	for (size_t i = 0; i < x->n_targets; i++)
		if (strcmp(x->targets[i]->label, spec) == 0)
			return x->targets[i];
	for (size_t i = 0; i < x->n_probes; i++)
		if (strcmp(x->probes[i]->label, spec) == 0) {
			x->probes[i]->last_used = ++x->clock;
			return x->probes[i];
		}
	t = target_new(x, x, spec, false, err);
	if (t == NULL)
		return NULL;
	t->last_used = ++x->clock;
	if (x->n_probes >= EXPORTER_MAX_PROBE_TARGETS) {
		/* Full: the least recently used target that nobody waits for goes (with its connection). */
		for (size_t i = 0; i < x->n_probes; i++)
			if (x->probes[i]->req == NULL && (victim == NULL || x->probes[i]->last_used < victim->last_used)) {
				victim = x->probes[i];
				vi = i;
			}
		if (victim == NULL) {
			*err = "too many targets being probed at once";
			talloc_free(t);
			return NULL;
		}
		x->dropped_connects += victim->t.connects;
		talloc_free(victim);
		x->probes[vi] = t;
		return t;
	}
	{
		struct target **grown = talloc_realloc(x, x->probes, struct target *, x->n_probes + 1);

		if (grown == NULL) {
			*err = "out of memory";
			talloc_free(t);
			return NULL;
		}
		x->probes = grown;
		grown[x->n_probes++] = t;
	}
	return t;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct user_count *)a)->user, ((const struct user_count *)b)->user);
}

/* The user's entry in r->per_user (unsorted while counting), added when new. */
static struct user_count *user_entry(struct result *r, const char *user)
{
	struct user_count *grown;

	for (size_t i = 0; i < r->n_users; i++)
		if (strcasecmp(r->per_user[i].user, user) == 0)
			return &r->per_user[i];
	grown = talloc_realloc(r, r->per_user, struct user_count, r->n_users + 1);
	if (grown == NULL)
		return NULL;
	r->per_user = grown;
	grown[r->n_users] = (struct user_count){ .user = talloc_strdup(r, user) };
	if (grown[r->n_users].user == NULL)
		return NULL;
	return &grown[r->n_users++];
}

/* Counts what a successful query returned. False when out of memory. */
static bool count(struct result *r, const struct smbsess_session_list *sl, const struct smbsess_file_list *fl)
{
	size_t ns = sl ? smbsess_session_list_count(sl) : 0, nf = fl ? smbsess_file_list_count(fl) : 0;
	uint32_t sf = sl ? smbsess_session_list_fields(sl) : 0, ff = fl ? smbsess_file_list_fields(fl) : 0;
	size_t distinct;

	r->sessions = (uint32_t)ns;
	r->open_files = (uint32_t)nf;
	for (size_t i = 0; i < ns; i++) {
		const char *u = (sf & SMBSESS_SESSION_USER) ? smbsess_session_user(sl, i) : NULL;
		struct user_count *uc;

		if (u == NULL || u[0] == '\0')
			continue;
		if ((uc = user_entry(r, u)) == NULL)
			return false;
		uc->sessions++;
	}
	distinct = r->n_users;
	r->users = (uint32_t)distinct;
	for (size_t i = 0; i < nf; i++) {
		const char *u = (ff & SMBSESS_FILE_USER) ? smbsess_file_user(fl, i) : NULL;
		struct user_count *uc;

		if ((ff & SMBSESS_FILE_NUM_LOCKS) && smbsess_file_num_locks(fl, i) > 0)
			r->open_files_locked++;
		if (u == NULL || u[0] == '\0')
			continue;
		if ((uc = user_entry(r, u)) == NULL)
			return false;
		uc->files++;
	}
	qsort(r->per_user, r->n_users, sizeof *r->per_user, user_cmp);
	return true;
}

/* A copy of @p r on @p mem (each scrape keeps its own). */
static struct result *result_copy(TALLOC_CTX *mem, const struct result *r)
{
	struct result *c = talloc_zero(mem, struct result);

	if (c == NULL)
		return NULL;
	*c = *r;
	c->per_user = NULL;
	if (r->n_users > 0) {
		c->per_user = talloc_array(c, struct user_count, r->n_users);
		if (c->per_user == NULL)
			return NULL;
		for (size_t i = 0; i < r->n_users; i++) {
			c->per_user[i] = r->per_user[i];
			c->per_user[i].user = talloc_strdup(c, r->per_user[i].user);
			if (c->per_user[i].user == NULL)
				return NULL;
		}
	}
	return c;
}

static void slot_filled(struct scrape *sc, size_t slot, const struct result *r)
{
	sc->results[slot] = result_copy(sc, r);
	if (sc->results[slot] == NULL) {
		static const struct result down = { .up = false };

		sc->results[slot] = (struct result *)&down; /* out of memory: down, never freed */
	}
	if (--sc->pending == 0)
		sc->done(sc);
}

/* The query ended (or failed, or timed out): every waiting scrape gets its result. */
static void query_finished(struct target *t, struct result *r)
{
	struct waiter *w = t->waiters;
	size_t n = t->n_waiters;

	t->req = NULL;
	TALLOC_FREE(t->deadline);
	t->waiters = NULL;
	t->n_waiters = 0;
	{
		struct timeval now = tevent_timeval_current();

		r->seconds = (double)(now.tv_sec - t->started.tv_sec) + (now.tv_usec - t->started.tv_usec) / 1e6;
	}
	if (!r->up)
		t->x->query_errors++;
	for (size_t i = 0; i < n; i++)
		slot_filled(w[i].sc, w[i].slot, r);
	talloc_free(w);
}

static void query_done(struct tevent_req *req)
{
	struct target *t = tevent_req_callback_data(req, struct target);
	struct smbsess_session_list *sl = NULL;
	struct smbsess_file_list *fl = NULL;
	TALLOC_CTX *tmp = talloc_new(t);
	struct result *r = talloc_zero(tmp, struct result);
	struct smbsess_status st = poll_recv(req, tmp, &sl, &fl, NULL);

	talloc_free(req);
	if (r == NULL) {
		static struct result down;

		down = (struct result){ .up = false };
		query_finished(t, &down);
		talloc_free(tmp);
		return;
	}
	r->st = st;
	r->up = smbsess_status_is_ok(st) && count(r, sl, fl);
	query_finished(t, r);
	talloc_free(tmp);
}

static void query_expired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct target *t = private_data;
	struct result r = { .up = false, .st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT) };

	(void)ev, (void)te, (void)now;
	t->deadline = NULL; /* a fired timer frees itself */
	TALLOC_FREE(t->req);    /* cancels it */
	TALLOC_FREE(t->t.conn); /* it may hang: a new one next time */
	query_finished(t, &r);
}

/* Adds a scrape's slot to the target's query, starting one when none is in flight. */
static void ask(struct target *t, struct scrape *sc, size_t slot)
{
	struct exporter *x = t->x;
	struct waiter *grown = talloc_realloc(t, t->waiters, struct waiter, t->n_waiters + 1);

	if (grown == NULL) {
		struct result down = { .up = false };

		slot_filled(sc, slot, &down);
		return;
	}
	t->waiters = grown;
	grown[t->n_waiters++] = (struct waiter){ sc, slot };
	if (t->req != NULL) {
		x->shared++;
		return;
	}
	x->queries++;
	t->started = tevent_timeval_current();
	t->req = poll_send(t, x->ev, &t->t, x->creds, POLL_SESSIONS | POLL_FILES, NULL, NULL, NULL);
	t->deadline = tevent_add_timer(x->ev, t, tevent_timeval_current_ofs(x->timeout_ms / 1000,
									    (x->timeout_ms % 1000) * 1000),
				       query_expired, t);
	if (t->req == NULL || t->deadline == NULL) {
		struct result down = { .up = false, .st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM) };

		TALLOC_FREE(t->req);
		query_finished(t, &down);
		return;
	}
	tevent_req_set_callback(t->req, query_done, t);
}

void scrape_start(struct scrape *sc)
{
	size_t n = sc->n;

	sc->pending = n + 1; /* held until every target is asked, so that done comes once, at the end */
	sc->x->scrapes++;
	for (size_t i = 0; i < n; i++)
		ask(sc->targets[i], sc, i);
	if (--sc->pending == 0)
		sc->done(sc);
}
