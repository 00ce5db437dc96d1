/*
 * smbnet: the JSON writer and the --json document.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "smbnet.h"

/* Escaped output is gathered here and written in large pieces: one call per string, not per character. */
struct json_buf {
	FILE *f;
	size_t len;
	char b[1024];
};

static void jb_put(struct json_buf *j, const void *p, size_t n)
{
	if (j->len + n > sizeof j->b) {
		fwrite(j->b, 1, j->len, j->f);
		j->len = 0;
		if (n > sizeof j->b) {
			fwrite(p, 1, n, j->f);
			return;
		}
	}
	memcpy(j->b + j->len, p, n);
	j->len += n;
}

void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct json_buf j;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	j.f = f;
	j.len = 0;
	jb_put(&j, "\"", 1);
	while (*p != '\0') {
		uint32_t cp;
		size_t n;
		char esc[8];

		/* A run of printable ASCII that needs no escape goes in at once. */
		for (n = 0; p[n] >= 0x20 && p[n] < 0x7F && p[n] != '"' && p[n] != '\\'; n++)
			;
		if (n > 0) {
			jb_put(&j, p, n);
			p += n;
			continue;
		}
		if (*p < 0x80) {
			switch (*p) {
			case '"': jb_put(&j, "\\\"", 2); break;
			case '\\': jb_put(&j, "\\\\", 2); break;
			case '\b': jb_put(&j, "\\b", 2); break;
			case '\f': jb_put(&j, "\\f", 2); break;
			case '\n': jb_put(&j, "\\n", 2); break;
			case '\r': jb_put(&j, "\\r", 2); break;
			case '\t': jb_put(&j, "\\t", 2); break;
			default: /* the other control characters and DEL */
				snprintf(esc, sizeof esc, "\\u%04x", (unsigned)*p);
				jb_put(&j, esc, 6);
				break;
			}
			p++;
			continue;
		}
		n = utf8_next(p, &cp);
		if (n == 0) {
			jb_put(&j, "\\ufffd", 6);
			p++;
			continue;
		}
		jb_put(&j, p, n);
		p += n;
	}
	jb_put(&j, "\"", 1);
	fwrite(j.b, 1, j.len, f);
}

void json_obj_begin(struct json_obj *o, FILE *f)
{
	o->f = f;
	o->first = true;
	putc('{', f);
}

void json_key(struct json_obj *o, const char *key)
{
	if (!o->first)
		fputs(", ", o->f);
	o->first = false;
	json_string(o->f, key);
	fputs(": ", o->f);
}

void json_str(struct json_obj *o, const char *key, const char *value)
{
	json_key(o, key);
	json_string(o->f, value);
}

void json_u32(struct json_obj *o, const char *key, uint32_t value)
{
	json_key(o, key);
	fprintf(o->f, "%" PRIu32, value);
}

void json_true(struct json_obj *o, const char *key)
{
	json_key(o, key);
	fputs("true", o->f);
}

void json_obj_end(struct json_obj *o)
{
	putc('}', o->f);
}


void json_arr_begin(struct json_arr *a, FILE *f, const char *key, bool first_member)
{
	fputs(first_member ? "{\n  " : ",\n  ", f);
	json_string(f, key);
	fputs(": [", f);
	a->f = f;
	a->n = 0;
}

void json_arr_next(struct json_arr *a)
{
	fputs(a->n++ ? ",\n    " : "\n    ", a->f);
}

void json_arr_end(struct json_arr *a)
{
	fputs(a->n ? "\n  ]" : "]", a->f);
}

void json_session(struct json_obj *o, const char *server, const struct smbsess_session_list *l, size_t i)
{
	uint32_t f = smbsess_session_list_fields(l);

	if (server != NULL)
		json_str(o, "server", server);
	if (f & SMBSESS_SESSION_CLIENT)
		json_str(o, "client", smbsess_session_client(l, i));
	if (f & SMBSESS_SESSION_USER)
		json_str(o, "user", smbsess_session_user(l, i));
	if (f & SMBSESS_SESSION_NUM_OPENS)
		json_u32(o, "num_opens", smbsess_session_num_opens(l, i));
	if (f & SMBSESS_SESSION_TIME)
		json_u32(o, "time", smbsess_session_time(l, i));
	if (f & SMBSESS_SESSION_IDLE_TIME)
		json_u32(o, "idle_time", smbsess_session_idle_time(l, i));
	if (f & SMBSESS_SESSION_USER_FLAGS)
		json_u32(o, "user_flags", smbsess_session_user_flags(l, i));
	if (f & SMBSESS_SESSION_CLIENT_TYPE)
		json_str(o, "client_type", smbsess_session_client_type(l, i));
	if (f & SMBSESS_SESSION_TRANSPORT)
		json_str(o, "transport", smbsess_session_transport(l, i));
}

void json_file(struct json_obj *o, const char *server, const struct smbsess_file_list *l, size_t i)
{
	uint32_t f = smbsess_file_list_fields(l);

	if (server != NULL)
		json_str(o, "server", server);
	if (f & SMBSESS_FILE_ID)
		json_u32(o, "id", smbsess_file_id(l, i));
	if (f & SMBSESS_FILE_PATH)
		json_str(o, "path", smbsess_file_path(l, i));
	if (f & SMBSESS_FILE_USER)
		json_str(o, "user", smbsess_file_user(l, i));
	if (f & SMBSESS_FILE_NUM_LOCKS)
		json_u32(o, "num_locks", smbsess_file_num_locks(l, i));
	if (f & SMBSESS_FILE_PERMISSIONS)
		json_u32(o, "permissions", smbsess_file_permissions(l, i));
}

/* What an action acted on: the file's id (path, user), or the sessions' client and user. */
static void json_action(struct json_obj *o, const struct app *a, const struct action *act)
{
	if (a->mode == MODE_FILE_CLOSE) {
		json_u32(o, "id", act->id);
		if (act->path != NULL)
			json_str(o, "path", act->path);
		if (act->user != NULL)
			json_str(o, "user", act->user);
		return;
	}
	if (act->client != NULL)
		json_str(o, "client", act->client);
	if (act->user != NULL)
		json_str(o, "user", act->user);
}

/* The done entries of one server: one per file closed, one per session ended. */
static void json_done(struct json_arr *arr, const struct app *a, const struct server *s)
{
	struct json_obj o;

	for (size_t k = 0; k < s->n_acts; k++) {
		const struct action *act = &s->acts[k];
		const struct smbsess_session_list *l = s->sessions;
		bool per_session = a->mode == MODE_SESSION_DELETE && s->sess_act != NULL && l != NULL;
		size_t n = per_session ? smbsess_session_list_count(l) : 1;

		if (!act->done)
			continue;
		for (size_t i = 0; i < n; i++) {
			uint32_t fl = per_session ? smbsess_session_list_fields(l) : 0;

			if (per_session && s->sess_act[i] != k)
				continue;
			json_arr_next(arr);
			json_obj_begin(&o, arr->f);
			json_str(&o, "server", s->spec);
			json_str(&o, "operation", a->mode == MODE_FILE_CLOSE ? "file_close" : "session_delete");
			if (!per_session) {
				json_action(&o, a, act);
			} else {
				if (fl & SMBSESS_SESSION_CLIENT)
					json_str(&o, "client", smbsess_session_client(l, i));
				if (fl & SMBSESS_SESSION_USER)
					json_str(&o, "user", smbsess_session_user(l, i));
			}
			if (act->dropped)
				json_true(&o, "own_connection_closed");
			json_obj_end(&o);
		}
	}
}

void print_json(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	struct json_arr arr = { .f = f };
	struct json_obj o;

	switch (a->mode) {
	case MODE_SESSION_LIST:
	case MODE_SESSION_DETAIL:
		json_arr_begin(&arr, f, "sessions", true);
		for (size_t k = 0; k < a->n_servers; k++) {
			const struct server *s = a->servers[k];

			if (s->failed || s->sessions == NULL)
				continue;
			for (size_t i = 0; i < smbsess_session_list_count(s->sessions); i++) {
				json_arr_next(&arr);
				json_obj_begin(&o, f);
				json_session(&o, s->spec, s->sessions, i);
				json_obj_end(&o);
			}
		}
		break;
	case MODE_FILE_LIST:
	case MODE_FILE_DETAIL:
		json_arr_begin(&arr, f, "files", true);
		for (size_t k = 0; k < a->n_servers; k++) {
			const struct server *s = a->servers[k];

			if (s->failed || s->files == NULL)
				continue;
			for (size_t i = 0; i < s->nfsel; i++) {
				json_arr_next(&arr);
				json_obj_begin(&o, f);
				json_file(&o, s->spec, s->files, s->fsel[i]);
				json_obj_end(&o);
			}
		}
		break;
	case MODE_SESSION_DELETE:
	case MODE_FILE_CLOSE:
		json_arr_begin(&arr, f, "done", true);
		for (size_t k = 0; k < a->n_servers; k++)
			json_done(&arr, a, a->servers[k]);
		break;
	}
	json_arr_end(&arr);
	json_arr_begin(&arr, f, "errors", false);
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];

		for (size_t i = 0; i < s->n_acts; i++) {
			const struct action *act = &s->acts[i];

			if (!act->failed)
				continue;
			json_arr_next(&arr);
			json_obj_begin(&o, f);
			json_str(&o, "server", s->spec);
			json_str(&o, "code", smbsess_status_name(act->st));
			json_str(&o, "message",
				 failure_text(mem, s, a->mode == MODE_FILE_CLOSE ? STEP_CLOSE : STEP_DELETE, act->st, act));
			json_action(&o, a, act);
			json_obj_end(&o);
		}
		if (!s->failed)
			continue;
		json_arr_next(&arr);
		json_obj_begin(&o, f);
		json_str(&o, "server", s->spec);
		json_str(&o, "code", smbsess_status_name(s->st));
		json_str(&o, "message", error_text(mem, s));
		json_obj_end(&o);
	}
	json_arr_end(&arr);
	fputs("\n}\n", f);
}
