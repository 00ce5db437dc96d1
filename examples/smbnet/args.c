/*
 * smbnet: the command line and --help.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "smbnet.h"

const char *const progname = "smbnet";

enum opt_id {
	OPT_SERVER, OPT_ADDRESS, OPT_PORT, OPT_USER, OPT_AUTH_FILE, OPT_KERBEROS, OPT_NO_PASS, OPT_SIGNING,
	OPT_ENCRYPT, OPT_TIMEOUT, OPT_JSON, OPT_HELP, OPT_VERSION, OPT_PATH, OPT_CLIENT_USER,
	OPT_DELETE, OPT_LIST, OPT_CLOSE, OPT_YES, OPT_PARALLEL, OPT_WATCH
};

struct opt_def {
	enum opt_id id;
	char short_name;
	const char *long_name;
	bool takes_value;
};

/* Long names are matched case-insensitively; the NET switches also as /NAME. */
static const struct opt_def opt_defs[] = {
	{ OPT_SERVER, 'S', "server", true },
	{ OPT_ADDRESS, 'I', "address", true },
	{ OPT_PORT, 'p', "port", true },
	{ OPT_USER, 'U', "user", true },
	{ OPT_AUTH_FILE, 'A', "authentication-file", true },
	{ OPT_KERBEROS, 'k', "kerberos", false },
	{ OPT_NO_PASS, 'N', "no-pass", false },
	{ OPT_SIGNING, 0, "signing", true },
	{ OPT_ENCRYPT, 0, "encrypt", true },
	{ OPT_TIMEOUT, 0, "timeout", true },
	{ OPT_PARALLEL, 0, "parallel", true },
	{ OPT_WATCH, 0, "watch", true },
	{ OPT_JSON, 0, "json", false },
	{ OPT_HELP, 'h', "help", false },
	{ OPT_VERSION, 0, "version", false },
	{ OPT_PATH, 0, "path", true },
	{ OPT_CLIENT_USER, 0, "client-user", true },
	{ OPT_DELETE, 0, "delete", false },
	{ OPT_LIST, 0, "list", false },
	{ OPT_CLOSE, 0, "close", false },
	{ OPT_YES, 0, "y", false },
	{ OPT_YES, 0, "yes", false },
};

/* The /SWITCH forms; any unambiguous abbreviation is accepted, as NET does (/D, /DEL, /Y). */
static const struct {
	const char *name;
	enum opt_id id;
} slash_switches[] = {
	{ "DELETE", OPT_DELETE }, { "LIST", OPT_LIST }, { "CLOSE", OPT_CLOSE },
	{ "YES", OPT_YES },	  { "HELP", OPT_HELP }, { "?", OPT_HELP },
};

static void usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_hint();
	return SMBNET_EXIT_USAGE;
}

void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %1$s [OPTIONS] session [\\\\CLIENT] [/DELETE] [/LIST] [/Y]\n"
		"       %1$s [OPTIONS] session [--client-user NAME] [/DELETE] [/Y] [--watch SECONDS]\n"
		"       %1$s [OPTIONS] file [ID [/CLOSE]] [/Y]\n"
		"       %1$s [OPTIONS] file [--path GLOB] [--client-user NAME] [/CLOSE] [/Y] [--watch SECONDS]\n"
		"\n"
		"Shows and ends the SMB sessions and open files of Windows and Samba servers,\n"
		"as NET SESSION and NET FILE do on Windows, on one server or a whole fleet.\n"
		"\n"
		"Commands:\n"
		"  session                    every session, as a table\n"
		"  session [\\\\CLIENT] /LIST   every session (or that computer's), as a list\n"
		"  session \\\\CLIENT           the sessions of that computer in detail, with their shares\n"
		"  session \\\\CLIENT /DELETE   end the sessions of that computer\n"
		"  session --client-user NAME /DELETE\n"
		"                             end every session of that user, on every server\n"
		"  session /DELETE            end every session (smbnet's own too)\n"
		"  file                       every open file, as a table\n"
		"  file ID                    one open file in detail\n"
		"  file ID /CLOSE             close that file (its holder loses it)\n"
		"  file --path GLOB /CLOSE    close every file that matches, on every server\n"
		"  file --client-user NAME /CLOSE\n"
		"                             close every file of that user, on every server\n"
		"Commands and switches are case-insensitive, and each switch has two forms:\n"
		"/DELETE or --delete, /LIST or --list, /CLOSE or --close, /Y or --y (--yes).\n"
		"/DELETE and /CLOSE show what they will do, server by server, and ask on a\n"
		"terminal; /Y answers yes. Without a terminal they need /Y.\n"
		"\n"
		"Filters:\n"
		"      --client-user NAME     only the sessions or files of this user\n"
		"      --path GLOB            only the files whose path matches GLOB, a shell-style\n"
		"                             pattern over the whole path, case-insensitive\n"
		"                             ('*\\budget.xlsx', 'C:\\Shares\\Finance\\*'); without\n"
		"                             wildcards, that file or folder and what is below it\n"
		"\n"
		"Watching:\n"
		"      --watch SECONDS        with session or file: list, then every SECONDS print\n"
		"                             what appeared (+) and vanished (-), until interrupted;\n"
		"                             with --json, one event object a line\n"
		"\n"
		"Options:\n"
		"  -S, --server HOST[:PORT]   a server to ask (repeatable, or comma-separated;\n"
		"                             default: the -I address, else localhost); several\n"
		"                             are asked at the same time\n"
		"  -S @FILE                   the servers listed in FILE, one a line (HOST,\n"
		"                             HOST:PORT, [ADDRESS]:PORT; # comments)\n"
		"      --parallel N           ask at most N servers at once (default 32)\n"
		"  -I, --address ADDR         connect to ADDR instead of the server's name\n"
		"  -p, --port N               TCP port (default 445)\n"
		"  -U, --user [DOMAIN\\]USER[%%PASSWORD]\n"
		"                             our own credentials (default: the login name)\n"
		"  -A, --authentication-file FILE\n"
		"                             read username=, password= and domain= from FILE\n"
		"  -N, --no-pass              log on with an empty password, do not ask\n"
		"  -k, --kerberos             use Kerberos (credentials cache, KRB5CCNAME)\n"
		"      --signing auto|required\n"
		"      --encrypt auto|required\n"
		"      --timeout SECONDS      time limit of each request, per server (default 30)\n"
		"      --json                 print one JSON document\n"
		"  -h, --help                 print this help\n"
		"      --version              print the version\n"
		"\n"
		"Without a password from -U or -A, smbnet uses $%2$s, else asks on\n"
		"the terminal.\n"
		"\n"
		"Exit status: 0 success, 1 failure (also when one of several servers failed),\n"
		"2 usage error, 5 access denied.\n",
		progname, SMBNET_PASSWORD_ENV);
}

static int add_servers(TALLOC_CTX *mem, struct cli *c, const char *value)
{
	const char *p = value;

	if (value[0] == '@') {
		char err[1024];
		size_t before = c->n_servers;

		if (!server_list_read(mem, value + 1, &c->servers, &c->n_servers, err, sizeof err))
			return usage_error("-S %s: %s", value, err);
		if (c->n_servers == before)
			return usage_error("-S %s: the list names no server", value);
		c->n_lists++;
		return 0;
	}

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *host;
		uint16_t port;
		char *item;

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		item = talloc_strndup(mem, p, len);
		if (item == NULL)
			return usage_error("out of memory");
		if (len == 0)
			return usage_error("-S: empty server name in '%s'", value);
		if (!parse_server_spec(mem, item, &host, &port))
			return usage_error("-S: '%s' is not HOST, HOST:PORT or [ADDRESS]:PORT", item);
		c->servers = talloc_realloc(mem, c->servers, const char *, c->n_servers + 1);
		if (c->servers == NULL)
			return usage_error("out of memory");
		c->servers[c->n_servers++] = item;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static bool parse_policy(const char *s, enum smbsess_policy *out)
{
	if (eq_nocase(s, "auto"))
		*out = SMBSESS_POLICY_AUTO;
	else if (eq_nocase(s, "required"))
		*out = SMBSESS_POLICY_REQUIRED;
	else
		return false;
	return true;
}

static int apply_option(TALLOC_CTX *mem, struct cli *c, const struct opt_def *d, const char *value,
			const char *shown)
{
	uint32_t v;

	switch (d->id) {
	case OPT_SERVER: return add_servers(mem, c, value);
	case OPT_ADDRESS:
		if (value[0] == '\0')
			return usage_error("%s: empty address", shown);
		c->address = value;
		return 0;
	case OPT_PORT:
		if (!parse_u32_dec(value, 65535, &v) || v == 0)
			return usage_error("%s: '%s' is not a port number (1-65535)", shown, value);
		c->port = (uint16_t)v;
		return 0;
	case OPT_USER: {
		char *copy = talloc_strdup(mem, value), *pct = strchr(value, '%');

		if (copy == NULL)
			return usage_error("out of memory");
		c->user_arg = copy;
		/*
		 * Hide the password from ps and /proc/PID/cmdline, as Samba's
		 * tools do: the argument strings are ours to write.
		 */
		if (pct != NULL)
			memset(pct + 1, 'X', strlen(pct + 1));
		return 0;
	}
	case OPT_AUTH_FILE: c->auth_file = value; return 0;
	case OPT_KERBEROS: c->kerberos = true; return 0;
	case OPT_NO_PASS: c->no_pass = true; return 0;
	case OPT_SIGNING:
		if (!parse_policy(value, &c->signing))
			return usage_error("%s: '%s' is neither auto nor required", shown, value);
		return 0;
	case OPT_ENCRYPT:
		if (!parse_policy(value, &c->encryption))
			return usage_error("%s: '%s' is neither auto nor required", shown, value);
		return 0;
	case OPT_TIMEOUT:
		if (!parse_seconds_ms(value, &c->timeout_ms))
			return usage_error("%s: '%s' is not a number of seconds", shown, value);
		return 0;
	case OPT_PARALLEL:
		if (!parse_u32_dec(value, 100000, &v) || v == 0)
			return usage_error("%s: '%s' is not a number of servers (1-100000)", shown, value);
		c->parallel = v;
		return 0;
	case OPT_WATCH:
		if (!parse_seconds_ms(value, &c->watch_ms) || c->watch_ms < 100)
			return usage_error("%s: '%s' is not a number of seconds (at least 0.1)", shown, value);
		return 0;
	case OPT_JSON: c->json = true; return 0;
	case OPT_HELP: c->help = true; return 0;
	case OPT_VERSION: c->version = true; return 0;
	case OPT_PATH:
		if (value[0] == '\0')
			return usage_error("%s: empty pattern", shown);
		c->path = value;
		return 0;
	case OPT_CLIENT_USER:
		if (value[0] == '\0')
			return usage_error("%s: empty user name", shown);
		c->client_user = value;
		return 0;
	case OPT_DELETE: c->sw_delete = true; return 0;
	case OPT_LIST: c->sw_list = true; return 0;
	case OPT_CLOSE: c->sw_close = true; return 0;
	case OPT_YES: c->sw_yes = true; return 0;
	}
	return usage_error("internal error: unknown option");
}

static const struct opt_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++)
		if (strlen(opt_defs[i].long_name) == len && strncasecmp(opt_defs[i].long_name, name, len) == 0)
			return &opt_defs[i];
	return NULL;
}

static const struct opt_def *find_short(char ch)
{
	for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++)
		if (opt_defs[i].short_name == ch)
			return &opt_defs[i];
	return NULL;
}

static const struct opt_def *find_def(enum opt_id id)
{
	for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++)
		if (opt_defs[i].id == id)
			return &opt_defs[i];
	return NULL;
}

/* /NAME: exact, or an abbreviation that fits one switch only. */
static const struct opt_def *find_slash(const char *name)
{
	const struct opt_def *found = NULL;
	size_t len = strlen(name);

	if (len == 0)
		return NULL;
	for (size_t i = 0; i < sizeof slash_switches / sizeof slash_switches[0]; i++) {
		if (eq_nocase(slash_switches[i].name, name))
			return find_def(slash_switches[i].id);
		if (strncasecmp(slash_switches[i].name, name, len) == 0) {
			if (found != NULL)
				return NULL;
			found = find_def(slash_switches[i].id);
		}
	}
	return found;
}

/* The argument after \\ or //: a computer name or address. */
static int take_client(TALLOC_CTX *mem, struct cli *c, const char *arg)
{
	const char *name = arg;

	if (c->client != NULL)
		return usage_error("more than one computer name ('\\\\%s' and '%s')", c->client, arg);
	if (strncmp(name, "\\\\", 2) == 0 || strncmp(name, "//", 2) == 0)
		name += 2;
	else if (name[0] == '\\') /* an unquoted \\NAME loses one backslash to the shell */
		name += 1;
	else
		return usage_error("'%s': a computer is written \\\\NAME (quote it for the shell: '\\\\%s')",
				   arg, arg);
	if (name[0] == '\0' || strpbrk(name, "\\/") != NULL)
		return usage_error("'%s' is not a computer name", arg);
	c->client = talloc_strdup(mem, name);
	return c->client ? 0 : usage_error("out of memory");
}

static int take_positional(TALLOC_CTX *mem, struct cli *c, const char *arg)
{
	if (c->verb == VERB_NONE) {
		if (eq_nocase(arg, "session") || eq_nocase(arg, "sessions"))
			c->verb = VERB_SESSION;
		else if (eq_nocase(arg, "file") || eq_nocase(arg, "files"))
			c->verb = VERB_FILE;
		else
			return usage_error("unknown command '%s' (use session or file)", arg);
		return 0;
	}
	if (c->verb == VERB_SESSION)
		return take_client(mem, c, arg);
	if (c->have_id)
		return usage_error("more than one file ID ('%" PRIu32 "' and '%s')", c->id, arg);
	if (!parse_u32_dec(arg, UINT32_MAX, &c->id))
		return usage_error("'%s' is not a file ID (the number in the ID column of '%s file')", arg,
				   progname);
	c->have_id = true;
	return 0;
}

int parse_args(TALLOC_CTX *mem, int argc, char **argv, struct cli *c)
{
	bool options_done = false;
	int rc;

	*c = (struct cli){ .port = SMBNET_DEFAULT_PORT, .timeout_ms = SMBNET_DEFAULT_TIMEOUT_MS,
			   .parallel = SMBNET_DEFAULT_PARALLEL };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct opt_def *d;

		if (options_done || arg[0] == '\0' || strcmp(arg, "-") == 0 || strncmp(arg, "//", 2) == 0) {
			rc = take_positional(mem, c, arg);
		} else if (strcmp(arg, "--") == 0) {
			options_done = true;
			rc = 0;
		} else if (strncmp(arg, "--", 2) == 0) {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *value = eq ? eq + 1 : NULL;

			d = find_long(name, len);
			if (d == NULL)
				return usage_error("unknown option '--%.*s'", (int)len, name);
			if (d->takes_value && value == NULL) {
				if (i + 1 >= argc)
					return usage_error("option '--%s' needs a value", d->long_name);
				value = argv[++i];
			} else if (!d->takes_value && value != NULL) {
				return usage_error("option '--%s' takes no value", d->long_name);
			}
			rc = apply_option(mem, c, d, value, arg);
		} else if (arg[0] == '-') {
			rc = 0;
			for (const char *p = arg + 1; *p != '\0' && rc == 0; p++) {
				char shown[3] = { '-', *p, '\0' };

				d = find_short(*p);
				if (d == NULL)
					return usage_error("unknown option '-%c'", *p);
				if (!d->takes_value) {
					rc = apply_option(mem, c, d, NULL, shown);
					continue;
				}
				if (p[1] != '\0') {
					rc = apply_option(mem, c, d, p + 1, shown);
				} else if (i + 1 < argc) {
					rc = apply_option(mem, c, d, argv[++i], shown);
				} else {
					return usage_error("option '-%c' needs a value", *p);
				}
				break;
			}
		} else if (arg[0] == '/') {
			d = find_slash(arg + 1);
			if (d == NULL)
				return usage_error("unknown switch '%s'", arg);
			rc = apply_option(mem, c, d, NULL, arg);
		} else {
			rc = take_positional(mem, c, arg);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int check_form(TALLOC_CTX *mem, struct cli *c, enum mode *mode)
{
	if (c->verb == VERB_NONE)
		return usage_error("no command: use session or file");
	if (c->verb == VERB_SESSION) {
		if (c->sw_close)
			return usage_error("/CLOSE belongs to the file command");
		if (c->path != NULL)
			return usage_error("--path belongs to the file command");
		if (c->sw_list && c->sw_delete)
			return usage_error("/LIST and /DELETE cannot be combined");
		if (c->sw_delete)
			*mode = MODE_SESSION_DELETE;
		else if (c->client != NULL && !c->sw_list)
			*mode = MODE_SESSION_DETAIL;
		else
			*mode = MODE_SESSION_LIST;
	} else {
		if (c->sw_delete)
			return usage_error("/DELETE belongs to the session command (a file is closed with ID /CLOSE)");
		if (c->sw_list)
			return usage_error("/LIST belongs to the session command");
		if (c->sw_close && !c->have_id && c->path == NULL && c->client_user == NULL)
			return usage_error("/CLOSE needs the ID of the file to close, or --path or --client-user to "
					   "choose the files");
		if (c->have_id && (c->path != NULL || c->client_user != NULL))
			return usage_error("--path and --client-user filter the list of files; not with an ID");
		*mode = c->sw_close ? MODE_FILE_CLOSE : c->have_id ? MODE_FILE_DETAIL : MODE_FILE_LIST;
	}
	if (c->n_servers == 0) {
		const char *dflt = c->address ? c->address : "localhost";
		char *spec = strchr(dflt, ':') ? talloc_asprintf(mem, "[%s]", dflt) : talloc_strdup(mem, dflt);

		if (spec == NULL || add_servers(mem, c, spec) != 0)
			return SMBNET_EXIT_USAGE;
	}
	if (c->address != NULL && c->n_servers > 1)
		return usage_error("-I (--address) goes with exactly one server");
	if ((*mode == MODE_FILE_DETAIL || *mode == MODE_FILE_CLOSE) && c->have_id && c->n_servers > 1)
		return usage_error("a file ID belongs to one server: give exactly one -S");
	if (c->watch_ms > 0 && *mode != MODE_SESSION_LIST && *mode != MODE_FILE_LIST)
		return usage_error("--watch goes with the session and file lists (not with an ID, \\\\CLIENT in "
				   "detail, /DELETE or /CLOSE)");
	if (c->path != NULL && (c->base_path = glob_literal_prefix(mem, c->path)) == NULL && c->path[0] != '*' &&
	    c->path[0] != '?' && c->path[0] != '[')
		return usage_error("out of memory");
	return 0;
}
