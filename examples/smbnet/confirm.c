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

size_t review(TALLOC_CTX *mem, struct app *a, FILE *f)
{
	const struct cli *c = a->cli;
	size_t n = 0;

	for (size_t k = 0; k < a->n_servers; k++) {
		struct server *s = a->servers[k];
		const char *spec = text_clean(mem, s->spec);

		if (s->failed)
			continue;
		if (a->mode == MODE_SESSION_DELETE) {
			const struct smbsess_session_list *l = s->sessions;
			bool listed = s->sessions_asked && smbsess_status_is_ok(s->sessions_st) && l != NULL;
			size_t count = listed ? smbsess_session_list_count(l) : 0;

			if (listed && count == 0 && (c->client != NULL || c->client_user != NULL)) {
				s->failed = true;
				s->failed_step = STEP_DELETE;
				s->st = make_status(SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND);
				continue;
			}
			n++;
			if (!a->ask)
				continue;
			if (!listed) {
				fprintf(f, "The sessions to end on %s cannot be listed (%s).\n", spec,
					text_clean(mem, smbsess_status_message(s->sessions_st)));
				continue;
			}
			if (c->client == NULL && c->client_user == NULL)
				fprintf(f, "Every session on %s will be ended, smbnet's own included:\n", spec);
			else
				fprintf(f, "These sessions on %s will be ended:\n", spec);
			for (size_t i = 0; i < count; i++) {
				const char *cells[5];

				session_cells(mem, l, i, cells);
				fprintf(f, "  %s  %s  %s open file(s)\n", text_clean(mem, cells[0]),
					text_clean(mem, cells[1]), cells[3][0] ? cells[3] : "?");
			}
		} else {
			bool listed = s->files_asked && smbsess_status_is_ok(s->files_st) && s->files != NULL &&
				      smbsess_file_list_count(s->files) > 0;

			if (s->files_asked && is_no_such_file(s->files_st)) {
				s->failed = true;
				s->failed_step = STEP_CLOSE;
				s->st = s->files_st;
				continue;
			}
			n++;
			if (!a->ask)
				continue;
			if (listed) {
				const char *cells[4];

				file_cells(mem, s->files, 0, cells);
				fprintf(f, "File ID %" PRIu32 " on %s will be closed: %s (user %s)\n", c->id, spec,
					text_clean(mem, cells[1]), text_clean(mem, cells[2]));
			} else {
				fprintf(f, "File ID %" PRIu32 " on %s will be closed (its details cannot be read: %s).\n",
					c->id, spec, text_clean(mem, smbsess_status_message(s->files_st)));
			}
		}
	}
	return n;
}
