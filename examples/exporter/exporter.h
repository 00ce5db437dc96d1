/*
 * smbsess_exporter: a Prometheus exporter that asks SMB servers for their
 * sessions and open files over MS-SRVSVC, remotely, on the library's event
 * loop. The declarations its files share:
 *
 *   main.c     the command line, the HTTP server (libmicrohttpd driven from
 *              the tevent loop), /metrics, /probe
 *   targets.c  the targets, one query in flight per target shared by the
 *              scrapes that want it, each bounded by its time limit
 *   metrics.c  the exposition format
 *
 * Credentials, server names and the polling of a server come from
 * ../common (shared with smbnet). Public API only: <smbsess/smbsess.h>.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXPORTER_EXPORTER_H
#define EXPORTER_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <smbsess/smbsess.h>

#include "../common/poll.h"

#define EXPORTER_DEFAULT_TIMEOUT_MS 10000u
#define EXPORTER_MAX_PROBE_TARGETS 1024

/* What one query of a target found. */
struct user_count {
	const char *user;
	uint32_t sessions, files;
};

struct result {
	bool up;
	double seconds;           /* how long the query took */
	struct smbsess_status st; /* why it failed */
	uint32_t sessions, users, open_files, open_files_locked;
	struct user_count *per_user; /* sorted by user */
	size_t n_users;
};

struct exporter;
struct scrape;

struct target {
	struct exporter *x;
	struct poll_target t;
	const char *label;  /* as written: the server label */
	bool configured;    /* from --targets (not only /probe) */
	uint64_t last_used; /* probe targets: for dropping the least recently used */
	struct tevent_req *req;       /* the query in flight */
	struct tevent_timer *deadline;
	struct timeval started;
	struct waiter *waiters; /* scrapes that wait for this query */
	size_t n_waiters;
};

struct exporter {
	struct tevent_context *ev;
	struct smbsess_credentials *creds;
	uint32_t timeout_ms;
	bool per_user;
	uint16_t default_port;
	struct target **targets; /* --targets, in file order */
	size_t n_targets;
	struct target **probes; /* /probe targets not in the file */
	size_t n_probes;
	uint64_t clock; /* for last_used */
	/* the exporter's own counters */
	uint64_t scrapes, queries, shared, query_errors;
	uint64_t dropped_connects; /* connections made by probe targets since dropped */
};

/* A scrape: the targets it asks and, slot by slot, what they answered. */
struct scrape {
	struct exporter *x;
	bool own_metrics; /* /metrics (with the exporter's own metrics), not /probe */
	struct target **targets;
	struct result **results;
	size_t n, pending;
	void (*done)(struct scrape *sc); /* called once every slot has its result */
	void *private_data;
};

/* A target for @p spec (HOST, HOST:PORT, [V6]:PORT); NULL with *err set when it is none. */
struct target *target_new(struct exporter *x, TALLOC_CTX *mem, const char *spec, bool configured, const char **err);
/* The /probe target for @p spec: a configured one, a known one, or a new one (the least recently used dropped). */
struct target *probe_target(struct exporter *x, const char *spec, const char **err);

/*
 * Asks every target of @p sc (sharing queries already in flight); calls
 * sc->done once all have answered or timed out, possibly before returning.
 */
void scrape_start(struct scrape *sc);

/* The exposition of a finished scrape, on @p mem. */
char *metrics_render(TALLOC_CTX *mem, const struct scrape *sc);

#endif
