/*
 * smbnet: what /DELETE and /CLOSE will do, and the question.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <inttypes.h>
#include <unistd.h>

#include "smbnet.h"

bool ask_yes_no(void)
{
	char buf[64];

	for (int tries = 0; tries < 5; tries++) {
		ssize_t n;
		char *answer;

		fputs("Do you want to continue this operation? (Y/N) [N]: ", stderr);
		fflush(stderr);
		n = read_line(STDIN_FILENO, buf, sizeof buf);
		if (n < 0) {
			fputc('\n', stderr);
			return false;
		}
		answer = trim(buf);
		if (answer[0] == '\0' || eq_nocase(answer, "n") || eq_nocase(answer, "no"))
			return false;
		if (eq_nocase(answer, "y") || eq_nocase(answer, "yes"))
			return true;
		fputs("Please answer Y or N.\n", stderr);
	}
	return false;
}

static struct action *add_action(struct server *s)
{
	struct action *grown = talloc_realloc(s, s->acts, struct action, s->n_acts + 1);

	if (grown == NULL)
		return NULL;
	s->acts = grown;
	grown[s->n_acts] = (struct action){ 0 };
	return &grown[s->n_acts++];
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && eq_nocase(a, b));
}

/*
 * /DELETE on one server: with the sessions listed, one action per client
 * among them (and per user, with a filter), each ending exactly those
 * sessions; every session is ended client by client, as MS-SRVS names no
 * meaning for NetrSessionDel without a client and a user (Samba ends every
 * session then, a Windows-shaped server refuses). Unlisted: one action with
 * the filter as given.
 * Returns the number of sessions it selects (1 when they are not known), or
 * (size_t)-1 when out of memory.
 */
static size_t plan_delete(struct server *s)
{
	const struct cli *c = s->app->cli;
	const struct smbsess_session_list *l = s->sessions;
	bool listed = s->sessions_asked && smbsess_status_is_ok(s->sessions_st) && l != NULL;
	size_t count = listed ? smbsess_session_list_count(l) : 0;
	uint32_t fl = listed ? smbsess_session_list_fields(l) : 0;
	bool filtered = c->client != NULL || c->client_user != NULL;
	bool by_entry = listed && (fl & SMBSESS_SESSION_CLIENT);
	struct action *act;

	if (listed) {
		s->sess_act = talloc_array(s, size_t, count ? count : 1);
		if (s->sess_act == NULL)
			return (size_t)-1;
	}
	if (!by_entry) {
		if ((act = add_action(s)) == NULL)
			return (size_t)-1;
		act->client = c->client;
		act->user = c->client_user;
		for (size_t i = 0; i < count; i++)
			s->sess_act[i] = 0;
		return listed ? count : 1;
	}
	for (size_t i = 0; i < count; i++) {
		const char *client = smbsess_session_client(l, i);
		const char *user = filtered && (fl & SMBSESS_SESSION_USER) ? smbsess_session_user(l, i) : NULL;
		size_t k;

		if (user != NULL && user[0] == '\0')
			user = NULL;
		if (user == NULL)
			user = c->client_user;
		for (k = 0; k < s->n_acts; k++)
			if (same(s->acts[k].client, client) && same(s->acts[k].user, user))
				break;
		if (k == s->n_acts) {
			if ((act = add_action(s)) == NULL)
				return (size_t)-1;
			act->client = client;
			act->user = user;
		}
		s->sess_act[i] = k;
	}
	return count;
}

/* /CLOSE on one server: the file of the ID, or every file the filters select. */
static size_t plan_close(struct server *s)
{
	const struct cli *c = s->app->cli;
	struct action *act;

	if (c->have_id) {
		bool listed = s->files_asked && smbsess_status_is_ok(s->files_st) && s->files != NULL &&
			      s->nfsel > 0;

		if ((act = add_action(s)) == NULL)
			return (size_t)-1;
		act->id = c->id;
		if (listed) {
			uint32_t fl = smbsess_file_list_fields(s->files);

			act->path = (fl & SMBSESS_FILE_PATH) ? smbsess_file_path(s->files, s->fsel[0]) : NULL;
			act->user = (fl & SMBSESS_FILE_USER) ? smbsess_file_user(s->files, s->fsel[0]) : NULL;
		}
		return 1;
	}
	for (size_t k = 0; k < s->nfsel; k++) {
		size_t i = s->fsel[k];
		uint32_t fl = smbsess_file_list_fields(s->files);

		if (!(fl & SMBSESS_FILE_ID))
			continue;
		if ((act = add_action(s)) == NULL)
			return (size_t)-1;
		act->id = smbsess_file_id(s->files, i);
		act->path = (fl & SMBSESS_FILE_PATH) ? smbsess_file_path(s->files, i) : NULL;
		act->user = (fl & SMBSESS_FILE_USER) ? smbsess_file_user(s->files, i) : NULL;
	}
	return s->n_acts;
}

static void preview_server(TALLOC_CTX *mem, const struct app *a, const struct server *s, FILE *f)
{
	const struct cli *c = a->cli;
	const char *spec = text_clean(mem, s->spec);

	if (a->mode == MODE_SESSION_DELETE) {
		const struct smbsess_session_list *l = s->sessions;

		if (s->sess_act == NULL) {
			fprintf(f, "The sessions to end on %s cannot be listed (%s).\n", spec,
				text_clean(mem, smbsess_status_message(s->sessions_st)));
			return;
		}
		if (c->client == NULL && c->client_user == NULL)
			fprintf(f, "Every session on %s will be ended, smbnet's own included:\n", spec);
		else
			fprintf(f, "These sessions on %s will be ended:\n", spec);
		for (size_t i = 0; i < smbsess_session_list_count(l); i++) {
			const char *cells[5];

			session_cells(mem, l, i, cells);
			fprintf(f, "  %s  %s  %s open file(s)\n", text_clean(mem, cells[0]), text_clean(mem, cells[1]),
				cells[3][0] ? cells[3] : "?");
		}
		return;
	}
	if (c->have_id) {
		const struct action *act = &s->acts[0];

		if (act->path != NULL)
			fprintf(f, "File ID %" PRIu32 " on %s will be closed: %s (user %s)\n", c->id, spec,
				text_clean(mem, act->path), text_clean(mem, act->user));
		else
			fprintf(f, "File ID %" PRIu32 " on %s will be closed (its details cannot be read: %s).\n",
				c->id, spec, text_clean(mem, smbsess_status_message(s->files_st)));
		return;
	}
	fprintf(f, "These files on %s will be closed:\n", spec);
	for (size_t k = 0; k < s->n_acts; k++) {
		const struct action *act = &s->acts[k];

		fprintf(f, "  %" PRIu32 "  %s  (user %s)\n", act->id, text_clean(mem, act->path),
			text_clean(mem, act->user));
	}
}

size_t review(TALLOC_CTX *mem, struct app *a, FILE *f)
{
	const struct cli *c = a->cli;
	size_t n = 0, selected = 0;

	for (size_t k = 0; k < a->n_servers; k++) {
		struct server *s = a->servers[k];
		size_t got;

		if (s->failed)
			continue;
		if (a->mode == MODE_FILE_CLOSE && c->have_id && s->files_asked && is_no_such_file(s->files_st)) {
			s->failed = true;
			s->failed_step = STEP_CLOSE;
			s->st = s->files_st;
			continue;
		}
		got = a->mode == MODE_SESSION_DELETE ? plan_delete(s) : plan_close(s);
		if (got == (size_t)-1) {
			s->failed = true;
			s->failed_step = a->mode == MODE_SESSION_DELETE ? STEP_DELETE : STEP_CLOSE;
			s->st = make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
			continue;
		}
		selected += got;
	}
	/* A session filter that matches nothing anywhere is an error, as NET says (NERR_ClientNameNotFound). */
	if (a->mode == MODE_SESSION_DELETE && (c->client != NULL || c->client_user != NULL) && selected == 0) {
		for (size_t k = 0; k < a->n_servers; k++) {
			struct server *s = a->servers[k];

			if (!s->failed && s->sess_act != NULL) {
				s->n_acts = 0;
				s->failed = true;
				s->failed_step = STEP_DELETE;
				s->st = make_status(SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND);
			}
		}
	}
	for (size_t k = 0; k < a->n_servers; k++) {
		struct server *s = a->servers[k];

		if (s->failed || s->n_acts == 0)
			continue;
		/* A filtered /DELETE acts only where a listed session matched. */
		if (a->mode == MODE_SESSION_DELETE && s->sess_act != NULL && smbsess_session_list_count(s->sessions) == 0 &&
		    (c->client != NULL || c->client_user != NULL)) {
			s->n_acts = 0;
			continue;
		}
		n++;
		if (a->ask)
			preview_server(mem, a, s, f);
	}
	return n;
}
