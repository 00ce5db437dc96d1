/*
 * smbnet: what NET SESSION and NET FILE do on Windows, from Linux, on
 * libsmbsess. The declarations its files share:
 *
 *   args.c     the command line and --help
 *   servers.c  the servers on one event loop: connect, read, act (the
 *              shared runner of ../common/runner.h caps and times them)
 *   errors.c   errors in plain words, exit statuses
 *   text.c     tables, lists and detail views
 *   json.c     the JSON writer and the --json document
 *   confirm.c  what /DELETE and /CLOSE will do, and the question
 *   glob.c     --path GLOB
 *   watch.c    --watch: list, then print the changes
 *   main.c     main()
 *
 * Credentials, server names and the runner come from ../common (shared
 * with smbsess_exporter). Public API only: <smbsess/smbsess.h>.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBNET_SMBNET_H
#define SMBNET_SMBNET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <smbsess/smbsess.h>

#include "../common/creds.h"
#include "../common/runner.h"
#include "../common/servers.h"
#include "../common/text.h"

#define SMBNET_EXIT_OK 0
#define SMBNET_EXIT_FAIL 1
#define SMBNET_EXIT_USAGE 2
#define SMBNET_EXIT_DENIED 5 /* ERRORLEVEL 5, as NET gives for access denied */

#define SMBNET_DEFAULT_PORT 445
#define SMBNET_DEFAULT_TIMEOUT_MS 30000u
#define SMBNET_DEFAULT_PARALLEL 32u
#define SMBNET_PASSWORD_ENV CREDS_PASSWORD_ENV

/* Status codes smbnet tells apart (values from MS-ERREF and errno). */
#define WERR_ACCESS_DENIED 5u
#define WERR_FILE_NOT_FOUND 2u
#define WERR_NERR_CLIENT_NAME_NOT_FOUND 2312u
#define WERR_NERR_FILE_ID_NOT_FOUND 2314u
#define NT_ACCESS_DENIED 0xC0000022u
#define NT_NETWORK_ACCESS_DENIED 0xC00000CAu
#define NT_LOGON_FAILURE 0xC000006Du
#define NT_OBJECT_NAME_NOT_FOUND 0xC0000034u
#define NT_PIPE_NOT_AVAILABLE 0xC00000ACu
#define NT_BAD_NETWORK_NAME 0xC00000CCu
#define NT_USER_SESSION_DELETED 0xC0000203u
#define NT_CONNECTION_DISCONNECTED 0xC000020Cu
#define NT_CONNECTION_RESET 0xC000020Du
#define RPC_FAULT_ACCESS_DENIED 5u
#define RPC_UNKNOWN_INTERFACE 0x1C010003u

extern const char *const progname;

/* ---- the command line (args.c) ---- */

enum verb { VERB_NONE, VERB_SESSION, VERB_FILE };

enum mode {
	MODE_SESSION_LIST,   /* session [\\CLIENT /LIST] [/LIST] [--client-user] */
	MODE_SESSION_DETAIL, /* session \\CLIENT */
	MODE_SESSION_DELETE, /* session [\\CLIENT] /DELETE */
	MODE_FILE_LIST,      /* file [--path] [--client-user] */
	MODE_FILE_DETAIL,    /* file ID */
	MODE_FILE_CLOSE      /* file ID /CLOSE, file --path|--client-user /CLOSE */
};

struct cli {
	enum verb verb;
	const char *client; /* \\CLIENT without its backslashes */
	bool have_id;
	uint32_t id;
	bool sw_delete, sw_list, sw_close, sw_yes;
	const char *path;        /* --path GLOB */
	const char *base_path;   /* its literal beginning, sent to the server (NULL: none) */
	const char *client_user; /* --client-user */
	const char **servers;    /* -S items and the lines of -S @FILE, HOST[:PORT] each, as written */
	size_t n_servers;
	size_t n_lists;          /* -S @FILE given */
	uint32_t parallel;       /* --parallel: servers asked at once */
	uint32_t watch_ms;       /* --watch: 0 when not watching */
	const char *address; /* -I */
	uint16_t port;       /* -p, else 445 */
	const char *user_arg;
	const char *auth_file;
	bool kerberos, no_pass, json, help, version;
	enum smbsess_policy signing, encryption;
	uint32_t timeout_ms;
};

int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
void print_help(FILE *f);
/* Parses argv into *c. Returns 0, or SMBNET_EXIT_USAGE after printing why. */
int parse_args(TALLOC_CTX *mem, int argc, char **argv, struct cli *c);
/* Which form the command line is; SMBNET_EXIT_USAGE (printed) when it is none. */
int check_form(TALLOC_CTX *mem, struct cli *c, enum mode *mode);

/* ---- the servers (servers.c) ---- */

enum step { STEP_CONNECT, STEP_SESSIONS, STEP_CONNECTIONS, STEP_FILES, STEP_FILE_INFO, STEP_DELETE, STEP_CLOSE };

struct app;

/* One thing /DELETE or /CLOSE does on a server: close a file, or end the sessions of a client and/or user. */
struct action {
	uint32_t id;        /* file_close */
	const char *path;   /* file_close: the file's path, when it was listed */
	const char *client; /* session_delete: the client (NULL: any) */
	const char *user;   /* session_delete: the user (NULL: any); file_close: the file's user, when listed */
	bool done, failed;
	bool dropped; /* session_delete: the server ended smbnet's own session as well */
	struct smbsess_status st;
};

struct server {
	struct app *app;
	const char *spec; /* as given to -S: names the server in messages and output */
	const char *host;
	uint16_t port;
	struct smbsess_options *opts;
	struct smbsess_conn *conn;
	struct tevent_req *req; /* the request in flight */
	struct runner_job *job; /* while connecting, reading or acting */
	enum step step;
	bool busy;

	bool failed; /* st and failed_step say why */
	enum step failed_step;
	struct smbsess_status st;

	struct smbsess_session_list *sessions;
	struct smbsess_status sessions_st; /* the check before /DELETE may fail */
	bool sessions_asked;
	struct smbsess_connection_list *conns; /* detail view; NULL when the server gives none */
	struct smbsess_file_list *files;
	size_t *fsel; /* the entries of files that --path selects, in order */
	size_t nfsel;
	struct smbsess_status files_st; /* the preview before /CLOSE may fail */
	bool files_asked;

	struct action *acts; /* /DELETE and /CLOSE, done in order */
	size_t n_acts, next_act;
	size_t *sess_act;    /* /DELETE: the action of each listed session (SIZE_MAX: none) */
	bool acting;         /* after the question */
	bool done;           /* an action succeeded */
	bool dropped;        /* a /DELETE ended smbnet's own session as well */
};

struct app {
	const struct cli *cli;
	enum mode mode;
	bool ask; /* destructive, and the user is asked first */
	struct tevent_context *ev;
	struct runner *runner;
	struct smbsess_credentials *creds;
	struct server **servers; /* in the order given */
	size_t n_servers;
	bool declined; /* the user answered no */
};

/* The credentials from -A, -U, $SMBSESS_PASSWORD or the terminal. Returns an exit status. */
int make_credentials(TALLOC_CTX *mem, const struct cli *c, struct smbsess_credentials **creds);
/* Per-server options; a failure here fails that server's connection. */
struct smbsess_status server_options(struct server *s, const struct cli *c);
void server_fail(struct server *s, enum step step, struct smbsess_status st);
/* Queues @p step for a server (connect, or act after the question). */
void begin(struct server *s, enum step step);
/* Runs the loop until every server queued is idle again. */
void run_loop(struct app *a);
/* Errors after which a /DELETE counts as done: the server ended our own session too. */
bool is_dropped_connection(struct smbsess_status st);
/* Fills s->fsel with the files that --path selects. */
bool select_files(struct server *s);

/* ---- --path (glob.c) ---- */

bool glob_has_wildcards(const char *pattern);
/* Whether @p path matches @p pattern (case-insensitive; see glob.c). */
bool glob_match(const char *pattern, const char *path);
/* The literal beginning of @p pattern that the server may filter by (ASCII only), or NULL. */
char *glob_literal_prefix(TALLOC_CTX *mem, const char *pattern);

/* ---- errors (errors.c) ---- */

bool is_access_denied(struct smbsess_status st);
bool is_no_such_file(struct smbsess_status st);
/* "from \\CLIENT", "of user U", or both: what a session filter selects. */
const char *selection(TALLOC_CTX *mem, const struct cli *c);
/* Why a server failed, in plain words, without the server's name and the status name. */
const char *error_text(TALLOC_CTX *mem, const struct server *s);
/* Why one action (or, with @p act NULL, the server) failed at @p step with @p st. */
const char *failure_text(TALLOC_CTX *mem, const struct server *s, enum step step, struct smbsess_status st,
			 const struct action *act);
/* Whether the server or one of its actions failed. */
bool server_has_failure(const struct server *s);
void print_errors(TALLOC_CTX *mem, const struct app *a);
/* 0, 5 when every server failed with access denied, else 1. */
int exit_status(const struct app *a);

/* ---- text output (text.c) ---- */

const char *fmt_duration(char *buf, size_t size, uint32_t seconds);
const char *fmt_permissions(char *buf, size_t size, uint32_t perms);
/* The cells of session i: Computer, User name, Client type, Opens, Idle time. */
void session_cells(TALLOC_CTX *mem, const struct smbsess_session_list *l, size_t i, const char **out);
/* The cells of file i: ID, Path, User name, # Locks. */
void file_cells(TALLOC_CTX *mem, const struct smbsess_file_list *l, size_t i, const char **out);
size_t total_sessions(const struct app *a);
size_t total_files(const struct app *a);
void print_text(TALLOC_CTX *mem, const struct app *a, FILE *f);
/* print_text() without "The command completed successfully." */
void print_body(TALLOC_CTX *mem, const struct app *a, FILE *f);
/* "\\\\client" */
const char *unc_text(TALLOC_CTX *mem, const char *client);
size_t total_actions(const struct app *a);

/* ---- JSON (json.c) ---- */

/* A string as JSON: UTF-8 with quotes, backslashes and controls escaped; bytes not UTF-8 become U+FFFD. */
void json_string(FILE *f, const char *s);

/* An object written on one line: {"key": value, ...}. */
struct json_obj {
	FILE *f;
	bool first;
};
void json_obj_begin(struct json_obj *o, FILE *f);
/* The key of the next member; its value is written next. */
void json_key(struct json_obj *o, const char *key);
void json_str(struct json_obj *o, const char *key, const char *value);
void json_u32(struct json_obj *o, const char *key, uint32_t value);
void json_true(struct json_obj *o, const char *key);
void json_obj_end(struct json_obj *o);

/* A member of the top-level object holding an array, one element a line. */
struct json_arr {
	FILE *f;
	size_t n;
};
void json_arr_begin(struct json_arr *a, FILE *f, const char *key, bool first_member);
void json_arr_next(struct json_arr *a);
void json_arr_end(struct json_arr *a);

/* The keys of one session or file; "server" first unless @p server is NULL. */
void json_session(struct json_obj *o, const char *server, const struct smbsess_session_list *l, size_t i);
void json_file(struct json_obj *o, const char *server, const struct smbsess_file_list *l, size_t i);
void print_json(TALLOC_CTX *mem, const struct app *a, FILE *f);

/* ---- /DELETE and /CLOSE (confirm.c) ---- */

bool ask_yes_no(void);
/*
 * Between reading and acting: drops the servers where nothing matches, shows
 * (when asking) what is about to happen. Returns the number of servers to
 * act on.
 */
size_t review(TALLOC_CTX *mem, struct app *a, FILE *f);

/* ---- --watch (watch.c) ---- */

/* Lists, then prints the changes every c->watch_ms until SIGINT or SIGTERM. Returns the exit status. */
int watch(TALLOC_CTX *mem, const struct cli *c, enum mode mode, struct smbsess_credentials *creds);

#endif
