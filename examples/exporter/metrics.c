/*
 * smbsess_exporter: the Prometheus text exposition format (version 0.0.4).
 * Each family once, with its HELP and TYPE lines, then its samples, one per
 * target in the order of the scrape; label values escaped (\\, \", \n) and
 * kept valid UTF-8. A target that is down has smbsess_up 0 and its
 * duration, and no other sample.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exporter.h"
#include "../common/text.h"

/* A label value: backslash, double quote and newline escaped, bytes that are not UTF-8 as U+FFFD. */
static char *label_value(TALLOC_CTX *mem, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = talloc_strdup(mem, "");

	while (out != NULL && *p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0) {
			out = talloc_strdup_append_buffer(out, "\xEF\xBF\xBD");
			p++;
		} else if (*p == '\\') {
			out = talloc_strdup_append_buffer(out, "\\\\");
			p++;
		} else if (*p == '"') {
			out = talloc_strdup_append_buffer(out, "\\\"");
			p++;
		} else if (*p == '\n') {
			out = talloc_strdup_append_buffer(out, "\\n");
			p++;
		} else {
			out = talloc_strndup_append_buffer(out, (const char *)p, n);
			p += n;
		}
	}
	return out;
}

struct out {
	TALLOC_CTX *mem;
	char *text;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->text == NULL)
		return;
	va_start(ap, fmt);
	o->text = talloc_vasprintf_append_buffer(o->text, fmt, ap);
	va_end(ap);
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum value { V_UP, V_DURATION, V_SESSIONS, V_USERS, V_FILES, V_LOCKED };

/* One sample per target of a family of per-server gauges. */
static void per_server(struct out *o, const struct scrape *sc, const char *name, const char *help, enum value v)
{
	bool any = false;

	for (size_t i = 0; i < sc->n; i++)
		any = any || v == V_UP || v == V_DURATION || sc->results[i]->up;
	if (!any)
		return;
	family(o, name, "gauge", help);
	for (size_t i = 0; i < sc->n; i++) {
		const struct result *r = sc->results[i];
		char *label = label_value(o->mem, sc->targets[i]->label);

		if (label == NULL) {
			o->text = NULL;
			return;
		}
		switch (v) {
		case V_UP: put(o, "%s{server=\"%s\"} %d\n", name, label, r->up ? 1 : 0); break;
		case V_DURATION: put(o, "%s{server=\"%s\"} %.6f\n", name, label, r->seconds); break;
		case V_SESSIONS:
			if (r->up)
				put(o, "%s{server=\"%s\"} %" PRIu32 "\n", name, label, r->sessions);
			break;
		case V_USERS:
			if (r->up)
				put(o, "%s{server=\"%s\"} %" PRIu32 "\n", name, label, r->users);
			break;
		case V_FILES:
			if (r->up)
				put(o, "%s{server=\"%s\"} %" PRIu32 "\n", name, label, r->open_files);
			break;
		case V_LOCKED:
			if (r->up)
				put(o, "%s{server=\"%s\"} %" PRIu32 "\n", name, label, r->open_files_locked);
			break;
		}
	}
}

/* --per-user: one sample per server and user. */
static void per_user(struct out *o, const struct scrape *sc, const char *name, const char *help, bool files)
{
	bool any = false;

	for (size_t i = 0; i < sc->n; i++)
		any = any || (sc->results[i]->up && sc->results[i]->n_users > 0);
	if (!any)
		return;
	family(o, name, "gauge", help);
	for (size_t i = 0; i < sc->n; i++) {
		const struct result *r = sc->results[i];
		char *label = label_value(o->mem, sc->targets[i]->label);

		if (!r->up)
			continue;
		for (size_t k = 0; label != NULL && k < r->n_users; k++) {
			char *user = label_value(o->mem, r->per_user[k].user);

			if (user == NULL) {
				o->text = NULL;
				return;
			}
			put(o, "%s{server=\"%s\",user=\"%s\"} %" PRIu32 "\n", name, label, user,
			    files ? r->per_user[k].files : r->per_user[k].sessions);
		}
	}
}

char *metrics_render(TALLOC_CTX *mem, const struct scrape *sc)
{
	const struct exporter *x = sc->x;
	struct out o = { .mem = mem, .text = talloc_strdup(mem, "") };

	if (sc->own_metrics) {
		uint64_t connects = x->dropped_connects;

		for (size_t i = 0; i < x->n_targets; i++)
			connects += x->targets[i]->t.connects;
		for (size_t i = 0; i < x->n_probes; i++)
			connects += x->probes[i]->t.connects;
		family(&o, "smbsess_exporter_build_info", "gauge",
		       "The version of libsmbsess the exporter runs on (always 1).");
		put(&o, "smbsess_exporter_build_info{version=\"%s\"} 1\n", smbsess_version());
		family(&o, "smbsess_exporter_targets", "gauge", "Targets in the targets file.");
		put(&o, "smbsess_exporter_targets %zu\n", x->n_targets);
		family(&o, "smbsess_exporter_scrapes_total", "counter", "Scrapes of /metrics and /probe answered or under way.");
		put(&o, "smbsess_exporter_scrapes_total %" PRIu64 "\n", x->scrapes);
		family(&o, "smbsess_exporter_queries_total", "counter", "Queries of a target started.");
		put(&o, "smbsess_exporter_queries_total %" PRIu64 "\n", x->queries);
		family(&o, "smbsess_exporter_shared_queries_total", "counter",
		       "Times a scrape joined a query of a target already in flight instead of starting one.");
		put(&o, "smbsess_exporter_shared_queries_total %" PRIu64 "\n", x->shared);
		family(&o, "smbsess_exporter_query_errors_total", "counter",
		       "Queries of a target that failed or timed out.");
		put(&o, "smbsess_exporter_query_errors_total %" PRIu64 "\n", x->query_errors);
		family(&o, "smbsess_exporter_connections_total", "counter",
		       "SMB connections made to targets (kept from one query to the next).");
		put(&o, "smbsess_exporter_connections_total %" PRIu64 "\n", connects);
	}
	per_server(&o, sc, "smbsess_up", "Whether the server answered the last query (1) or not (0).", V_UP);
	per_server(&o, sc, "smbsess_scrape_duration_seconds", "How long the last query of the server took.",
		   V_DURATION);
	per_server(&o, sc, "smbsess_sessions", "SMB sessions on the server (the exporter's own included).",
		   V_SESSIONS);
	per_server(&o, sc, "smbsess_users", "Distinct users with a session on the server.", V_USERS);
	per_server(&o, sc, "smbsess_open_files", "Files open on the server.", V_FILES);
	per_server(&o, sc, "smbsess_open_files_locked", "Open files with at least one lock.", V_LOCKED);
	if (x->per_user) {
		per_user(&o, sc, "smbsess_user_sessions", "SMB sessions of the user on the server.", false);
		per_user(&o, sc, "smbsess_user_open_files", "Files the user holds open on the server.", true);
	}
	return o.text;
}
