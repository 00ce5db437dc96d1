/*
 * smbnet: tables, lists and detail views, as NET prints them.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "smbnet.h"

const char *fmt_duration(char *buf, size_t size, uint32_t seconds)
{
	if (seconds == UINT32_MAX)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, "%02" PRIu32 ":%02" PRIu32 ":%02" PRIu32, seconds / 3600, seconds / 60 % 60,
			 seconds % 60);
	return buf;
}

const char *fmt_permissions(char *buf, size_t size, uint32_t perms)
{
	snprintf(buf, size, "%s%s%s", (perms & 1) ? "R" : "", (perms & 2) ? "W" : "", (perms & 4) ? "C" : "");
	if (buf[0] == '\0')
		snprintf(buf, size, "%s", "None");
	return buf;
}

static const char *share_type_name(uint32_t type)
{
	switch (type & 0xFFFFu) {
	case 0: return "Disk";
	case 1: return "Print";
	case 2: return "Device";
	case 3: return "IPC";
	default: return "";
	}
}

#define MAX_COLS 6

struct table {
	TALLOC_CTX *mem;
	size_t ncols;
	const char *head[MAX_COLS];
	size_t minw[MAX_COLS];
	bool right[MAX_COLS];
	char **cells; /* nrows * ncols, cleaned for the terminal */
	size_t nrows;
};

static void table_col(struct table *t, const char *head, size_t minw, bool right)
{
	t->head[t->ncols] = head;
	t->minw[t->ncols] = minw;
	t->right[t->ncols] = right;
	t->ncols++;
}

/* Adds a row of t->ncols cells (NULL is empty). */
static void table_row(struct table *t, const char *const *cells)
{
	char **grown = talloc_realloc(t->mem, t->cells, char *, (t->nrows + 1) * t->ncols);

	if (grown == NULL)
		return;
	t->cells = grown;
	for (size_t j = 0; j < t->ncols; j++)
		t->cells[t->nrows * t->ncols + j] = text_clean(t->mem, cells[j]);
	t->nrows++;
}

/*
 * As NET prints a table: the header, an empty line, a line of dashes, the
 * rows. Columns are at least their Windows width and grow to fit.
 */
static void table_print(FILE *f, const struct table *t)
{
	size_t width[MAX_COLS], total = 0;

	for (size_t j = 0; j < t->ncols; j++) {
		width[j] = t->minw[j];
		if (text_columns(t->head[j]) > width[j])
			width[j] = text_columns(t->head[j]);
		for (size_t i = 0; i < t->nrows; i++) {
			const char *cell = t->cells[i * t->ncols + j];
			size_t w = cell ? text_columns(cell) : 0;

			if (w > width[j])
				width[j] = w;
		}
		total += width[j] + (j ? 1 : 0);
	}
	for (size_t j = 0; j < t->ncols; j++) {
		bool last = j + 1 == t->ncols;

		if (j)
			putc(' ', f);
		put_padded(f, t->head[j], last && !t->right[j] ? 0 : width[j], t->right[j]);
	}
	fputs("\n\n", f);
	for (size_t k = 0; k < (total > 79 ? total : 79); k++)
		putc('-', f);
	putc('\n', f);
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->ncols; j++) {
			const char *cell = t->cells[i * t->ncols + j];
			bool last = j + 1 == t->ncols;

			if (j)
				putc(' ', f);
			put_padded(f, cell ? cell : "", last && !t->right[j] ? 0 : width[j], t->right[j]);
		}
		putc('\n', f);
	}
}

/* "Label               value", the value cleaned for the terminal. */
static void put_field(TALLOC_CTX *mem, FILE *f, const char *label, const char *value)
{
	const char *v = text_clean(mem, value);

	if (v == NULL || v[0] == '\0')
		fprintf(f, "%s\n", label);
	else
		fprintf(f, "%-20s%s\n", label, v);
}

static const char *u32_text(TALLOC_CTX *mem, uint32_t v)
{
	return talloc_asprintf(mem, "%" PRIu32, v);
}

const char *unc_text(TALLOC_CTX *mem, const char *client)
{
	return talloc_asprintf(mem, "\\\\%s", client ? client : "");
}

void session_cells(TALLOC_CTX *mem, const struct smbsess_session_list *l, size_t i, const char **out)
{
	uint32_t f = smbsess_session_list_fields(l);
	char buf[32];

	out[0] = (f & SMBSESS_SESSION_CLIENT) ? unc_text(mem, smbsess_session_client(l, i)) : "";
	out[1] = (f & SMBSESS_SESSION_USER) ? smbsess_session_user(l, i) : "";
	out[2] = (f & SMBSESS_SESSION_CLIENT_TYPE) ? smbsess_session_client_type(l, i) : "";
	out[3] = (f & SMBSESS_SESSION_NUM_OPENS) ? u32_text(mem, smbsess_session_num_opens(l, i)) : "";
	out[4] = (f & SMBSESS_SESSION_IDLE_TIME)
			 ? talloc_strdup(mem, fmt_duration(buf, sizeof buf, smbsess_session_idle_time(l, i)))
			 : "";
}

static bool several(const struct app *a)
{
	return a->n_servers > 1;
}

size_t total_sessions(const struct app *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_servers; i++)
		if (!a->servers[i]->failed && a->servers[i]->sessions != NULL)
			n += smbsess_session_list_count(a->servers[i]->sessions);
	return n;
}

static void print_session_table(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	struct table t = { .mem = mem };
	bool srv = several(a);

	if (srv)
		table_col(&t, "Server", 15, false);
	table_col(&t, "Computer", 22, false);
	table_col(&t, "User name", 20, false);
	table_col(&t, "Client type", 17, false);
	table_col(&t, "Opens", 5, true);
	table_col(&t, "Idle time", 9, false);
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];

		if (s->failed || s->sessions == NULL)
			continue;
		for (size_t i = 0; i < smbsess_session_list_count(s->sessions); i++) {
			const char *row[6];

			row[0] = s->spec;
			session_cells(mem, s->sessions, i, row + 1);
			table_row(&t, srv ? row : row + 1);
		}
	}
	table_print(f, &t);
}

static void print_session_list(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	bool first = true;

	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];

		if (s->failed || s->sessions == NULL)
			continue;
		for (size_t i = 0; i < smbsess_session_list_count(s->sessions); i++) {
			const char *cells[5];

			session_cells(mem, s->sessions, i, cells);
			if (!first)
				putc('\n', f);
			first = false;
			if (several(a))
				put_field(mem, f, "Server", s->spec);
			put_field(mem, f, "Computer", cells[0]);
			put_field(mem, f, "User name", cells[1]);
			put_field(mem, f, "Client type", cells[2]);
			put_field(mem, f, "Opens", cells[3]);
			put_field(mem, f, "Idle time", cells[4]);
		}
	}
}

/* The shares of a session: the connections from its computer made by its user. */
static void print_shares(TALLOC_CTX *mem, const struct server *s, const char *user, FILE *f)
{
	const struct smbsess_connection_list *l = s->conns;
	struct table t = { .mem = mem };
	uint32_t fields;

	if (l == NULL)
		return;
	fields = smbsess_connection_list_fields(l);
	if (!(fields & SMBSESS_CONNECTION_SHARE))
		return;
	table_col(&t, "Share name", 14, false);
	table_col(&t, "Type", 8, false);
	table_col(&t, "# Opens", 7, false);
	for (size_t i = 0; i < smbsess_connection_list_count(l); i++) {
		const char *cu = (fields & SMBSESS_CONNECTION_USER) ? smbsess_connection_user(l, i) : NULL;
		const char *row[3];

		if (user != NULL && cu != NULL && strcasecmp(user, cu) != 0)
			continue;
		row[0] = smbsess_connection_share(l, i);
		row[1] = (fields & SMBSESS_CONNECTION_TYPE) ? share_type_name(smbsess_connection_type(l, i)) : "";
		row[2] = (fields & SMBSESS_CONNECTION_NUM_OPENS) ? u32_text(mem, smbsess_connection_num_opens(l, i))
								 : "";
		table_row(&t, row);
	}
	if (t.nrows == 0)
		return;
	putc('\n', f);
	table_print(f, &t);
}

/* NET SESSION \\CLIENT: each session of that computer in detail. */
static void print_session_detail(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	bool first = true;

	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];
		const struct smbsess_session_list *l = s->sessions;
		uint32_t fl;

		if (s->failed || l == NULL)
			continue;
		fl = smbsess_session_list_fields(l);
		for (size_t i = 0; i < smbsess_session_list_count(l); i++) {
			char buf[32];
			const char *user = (fl & SMBSESS_SESSION_USER) ? smbsess_session_user(l, i) : NULL;

			if (!first)
				putc('\n', f);
			first = false;
			if (several(a))
				put_field(mem, f, "Server", s->spec);
			put_field(mem, f, "User name", user);
			put_field(mem, f, "Computer", unc_text(mem, smbsess_session_client(l, i)));
			put_field(mem, f, "Guest logon",
				  (fl & SMBSESS_SESSION_USER_FLAGS) ? ((smbsess_session_user_flags(l, i) & 1) ? "Yes" : "No")
								    : "");
			put_field(mem, f, "Client type",
				  (fl & SMBSESS_SESSION_CLIENT_TYPE) ? smbsess_session_client_type(l, i) : "");
			put_field(mem, f, "Sess time",
				  (fl & SMBSESS_SESSION_TIME) ? fmt_duration(buf, sizeof buf, smbsess_session_time(l, i))
							      : "");
			put_field(mem, f, "Idle time",
				  (fl & SMBSESS_SESSION_IDLE_TIME)
					  ? fmt_duration(buf, sizeof buf, smbsess_session_idle_time(l, i))
					  : "");
			print_shares(mem, s, user, f);
		}
	}
}

void file_cells(TALLOC_CTX *mem, const struct smbsess_file_list *l, size_t i, const char **out)
{
	uint32_t f = smbsess_file_list_fields(l);

	out[0] = (f & SMBSESS_FILE_ID) ? u32_text(mem, smbsess_file_id(l, i)) : "";
	out[1] = (f & SMBSESS_FILE_PATH) ? smbsess_file_path(l, i) : "";
	out[2] = (f & SMBSESS_FILE_USER) ? smbsess_file_user(l, i) : "";
	out[3] = (f & SMBSESS_FILE_NUM_LOCKS) ? u32_text(mem, smbsess_file_num_locks(l, i)) : "";
}

size_t total_files(const struct app *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_servers; i++)
		if (!a->servers[i]->failed && a->servers[i]->files != NULL)
			n += a->servers[i]->nfsel;
	return n;
}

static void print_file_table(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	struct table t = { .mem = mem };
	bool srv = several(a);

	if (srv)
		table_col(&t, "Server", 15, false);
	table_col(&t, "ID", 10, false);
	table_col(&t, "Path", 39, false);
	table_col(&t, "User name", 20, false);
	table_col(&t, "# Locks", 7, false);
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];

		if (s->failed || s->files == NULL)
			continue;
		for (size_t j = 0; j < s->nfsel; j++) {
			const char *row[5];

			row[0] = s->spec;
			file_cells(mem, s->files, s->fsel[j], row + 1);
			table_row(&t, srv ? row : row + 1);
		}
	}
	table_print(f, &t);
}

/* NET FILE ID: one file in detail. */
static void print_file_detail(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];
		const struct smbsess_file_list *l = s->files;
		uint32_t fl;

		if (s->failed || l == NULL)
			continue;
		fl = smbsess_file_list_fields(l);
		for (size_t i = 0; i < smbsess_file_list_count(l); i++) {
			const char *cells[4];
			char buf[16];

			file_cells(mem, l, i, cells);
			if (several(a))
				put_field(mem, f, "Server", s->spec);
			put_field(mem, f, "File ID", cells[0]);
			put_field(mem, f, "User name", cells[2]);
			put_field(mem, f, "Locks", cells[3]);
			put_field(mem, f, "Path", cells[1]);
			put_field(mem, f, "Permissions", (fl & SMBSESS_FILE_PERMISSIONS)
								 ? fmt_permissions(buf, sizeof buf, smbsess_file_permissions(l, i))
								 : "");
		}
	}
}

static bool any_failed(const struct app *a)
{
	for (size_t i = 0; i < a->n_servers; i++)
		if (server_has_failure(a->servers[i]))
			return true;
	return false;
}

size_t total_actions(const struct app *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_servers; i++)
		n += a->servers[i]->n_acts;
	return n;
}

static void print_done(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	if (a->mode == MODE_FILE_CLOSE && !a->cli->have_id && total_actions(a) == 0 && !any_failed(a)) {
		fputs("There are no open files that match; nothing was done.\n", f);
		return;
	}
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];
		const char *spec = text_clean(mem, s->spec);

		if (!s->done)
			continue;
		for (size_t i = 0; i < s->n_acts; i++) {
			const struct action *act = &s->acts[i];
			struct cli sel = { .client = act->client, .client_user = act->user };

			if (!act->done)
				continue;
			if (a->mode == MODE_FILE_CLOSE)
				fprintf(f, "File ID %" PRIu32 " on %s has been closed.\n", act->id, spec);
			else if (act->client == NULL && act->user == NULL)
				fprintf(f, "Every session on %s has been ended.\n", spec);
			else
				fprintf(f, "The sessions %s on %s have been ended.\n", text_clean(mem, selection(mem, &sel)),
					spec);
		}
		if (s->dropped)
			fprintf(f, "(%s closed smbnet's own connection as well.)\n", spec);
	}
}


void print_text(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	print_body(mem, a, f);
	if (!any_failed(a) && !a->declined)
		fputs("The command completed successfully.\n", f);
}

void print_body(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	bool all_failed = true;

	for (size_t i = 0; i < a->n_servers; i++)
		if (!a->servers[i]->failed)
			all_failed = false;
	switch (a->mode) {
	case MODE_SESSION_LIST:
		if (all_failed)
			break;
		if (total_sessions(a) == 0)
			fputs("There are no entries in the list.\n", f);
		else if (a->cli->sw_list)
			print_session_list(mem, a, f);
		else
			print_session_table(mem, a, f);
		break;
	case MODE_SESSION_DETAIL:
		print_session_detail(mem, a, f);
		break;
	case MODE_FILE_LIST:
		if (all_failed)
			break;
		if (total_files(a) == 0)
			fputs("There are no entries in the list.\n", f);
		else
			print_file_table(mem, a, f);
		break;
	case MODE_FILE_DETAIL:
		print_file_detail(mem, a, f);
		break;
	case MODE_SESSION_DELETE:
	case MODE_FILE_CLOSE:
		print_done(mem, a, f);
		break;
	}
}
