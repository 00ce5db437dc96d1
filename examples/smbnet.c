/*
 * smbnet: what NET SESSION and NET FILE do on Windows, from Linux, on
 * libsmbsess.
 *
 *   smbnet [OPTIONS] session [\\CLIENT] [/DELETE] [/LIST] [/Y]
 *   smbnet [OPTIONS] session [--client-user NAME]
 *   smbnet [OPTIONS] file [ID [/CLOSE]] [/Y]
 *   smbnet [OPTIONS] file [--path PREFIX] [--client-user NAME]
 *
 * Every server named with -S is handled at the same time, on one tevent
 * loop, through the asynchronous API; the results are printed in the order
 * the servers were given. See `smbnet --help` and docs/smbnet.1.
 *
 * Exit status: 0 success, 1 failure, 2 usage error, 5 access denied.
 *
 * The file is self-contained (one translation unit): tests/cli/smbnet_unit.c
 * includes it to test its parsers and writers directly.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <smbsess/smbsess.h>

#define SMBNET_EXIT_OK 0
#define SMBNET_EXIT_FAIL 1
#define SMBNET_EXIT_USAGE 2
#define SMBNET_EXIT_DENIED 5 /* ERRORLEVEL 5, as NET gives for access denied */

#define SMBNET_DEFAULT_PORT 445
#define SMBNET_DEFAULT_TIMEOUT_MS 30000u
#define SMBNET_PASSWORD_ENV "SMBSESS_PASSWORD"

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

static const char *const progname = "smbnet";

/* ------------------------------------------------------------------------
 * small helpers
 */

static struct smbsess_status make_status(uint32_t domain, uint32_t code)
{
	return (struct smbsess_status){ domain, code };
}

static bool status_is(struct smbsess_status st, uint32_t domain, uint32_t code)
{
	return st.domain == domain && st.code == code;
}

static bool eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * One UTF-8 sequence at @p s: returns its length (1 to 4) and sets *cp, or
 * returns 0 for a byte that does not start a valid, complete, shortest-form
 * sequence of a scalar value. Never reads past a NUL.
 */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, c &= 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, c &= 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Columns a code point takes on a terminal: 0 for combining marks, 2 for wide (East Asian, emoji). */
static int cp_columns(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x200B && c <= 0x200F) ||
	    (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE20 && c <= 0xFE2F))
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
	    (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

/*
 * A copy of @p s that is safe to print on a terminal: control characters
 * (C0, DEL and C1) and bytes that are not UTF-8 become '?', so that a name
 * chosen by a remote peer cannot move the cursor or change colours.
 * NULL becomes "".
 */
static char *text_clean(TALLOC_CTX *mem, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = talloc_array(mem, char, strlen((const char *)p) + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
			out[o++] = '?';
			p += n ? n : 1;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

/* Terminal columns of a string made by text_clean(). */
static size_t text_columns(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0;

	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0) {
			cols++;
			p++;
			continue;
		}
		cols += (size_t)cp_columns(cp);
		p += n;
	}
	return cols;
}

/* Writes @p s and pads it with spaces to @p width columns. */
static void put_padded(FILE *f, const char *s, size_t width, bool right)
{
	size_t cols = text_columns(s);

	if (right)
		for (size_t i = cols; i < width; i++)
			putc(' ', f);
	fputs(s, f);
	if (!right)
		for (size_t i = cols; i < width; i++)
			putc(' ', f);
}

/*
 * Reads one line from @p fd byte by byte (no stdio buffering, so that a
 * password prompt and a question can share a terminal), without its end of
 * line. A line longer than @p size - 1 is read to its end and cut. Returns
 * the length, or -1 at end of input with nothing read.
 */
static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	bool any = false;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return any ? (ssize_t)n : -1;
}

/* ------------------------------------------------------------------------
 * JSON: a small writer. Strings are written as UTF-8 with quotes,
 * backslashes and control characters escaped; bytes that are not UTF-8
 * become U+FFFD so that the document stays valid.
 */

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	while (*p != '\0') {
		uint32_t cp;
		size_t n;

		if (*p < 0x80) {
			switch (*p) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\b': fputs("\\b", f); break;
			case '\f': fputs("\\f", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default:
				if (*p < 0x20 || *p == 0x7F)
					fprintf(f, "\\u%04x", (unsigned)*p);
				else
					putc(*p, f);
				break;
			}
			p++;
			continue;
		}
		n = utf8_next(p, &cp);
		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
	putc('"', f);
}

/* An object written on one line: {"key": value, ...}. */
struct json_obj {
	FILE *f;
	bool first;
};

static void json_obj_begin(struct json_obj *o, FILE *f)
{
	o->f = f;
	o->first = true;
	putc('{', f);
}

static void json_key(struct json_obj *o, const char *key)
{
	if (!o->first)
		fputs(", ", o->f);
	o->first = false;
	json_string(o->f, key);
	fputs(": ", o->f);
}

static void json_str(struct json_obj *o, const char *key, const char *value)
{
	json_key(o, key);
	json_string(o->f, value);
}

static void json_u32(struct json_obj *o, const char *key, uint32_t value)
{
	json_key(o, key);
	fprintf(o->f, "%" PRIu32, value);
}

static void json_true(struct json_obj *o, const char *key)
{
	json_key(o, key);
	fputs("true", o->f);
}

static void json_obj_end(struct json_obj *o)
{
	putc('}', o->f);
}

/* A member of the top-level object holding an array, one element a line. */
struct json_arr {
	FILE *f;
	size_t n;
};

static void json_arr_begin(struct json_arr *a, FILE *f, const char *key, bool first_member)
{
	fputs(first_member ? "{\n  " : ",\n  ", f);
	json_string(f, key);
	fputs(": [", f);
	a->f = f;
	a->n = 0;
}

static void json_arr_next(struct json_arr *a)
{
	fputs(a->n++ ? ",\n    " : "\n    ", a->f);
}

static void json_arr_end(struct json_arr *a)
{
	fputs(a->n ? "\n  ]" : "]", a->f);
}

/* ------------------------------------------------------------------------
 * how values are shown
 */

/* Seconds as Windows shows a duration: HH:MM:SS, hours not wrapped. 0xFFFFFFFF (unknown) is empty. */
static const char *fmt_duration(char *buf, size_t size, uint32_t seconds)
{
	if (seconds == UINT32_MAX)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, "%02" PRIu32 ":%02" PRIu32 ":%02" PRIu32, seconds / 3600, seconds / 60 % 60,
			 seconds % 60);
	return buf;
}

/* PERM_FILE_READ, _WRITE and _CREATE as the letters R, W and C. */
static const char *fmt_permissions(char *buf, size_t size, uint32_t perms)
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

/* ------------------------------------------------------------------------
 * the command line
 */

enum verb { VERB_NONE, VERB_SESSION, VERB_FILE };

enum mode {
	MODE_SESSION_LIST,   /* session [\\CLIENT /LIST] [/LIST] [--client-user] */
	MODE_SESSION_DETAIL, /* session \\CLIENT */
	MODE_SESSION_DELETE, /* session [\\CLIENT] /DELETE */
	MODE_FILE_LIST,      /* file [--path] [--client-user] */
	MODE_FILE_DETAIL,    /* file ID */
	MODE_FILE_CLOSE      /* file ID /CLOSE */
};

struct cli {
	enum verb verb;
	const char *client; /* \\CLIENT without its backslashes */
	bool have_id;
	uint32_t id;
	bool sw_delete, sw_list, sw_close, sw_yes;
	const char *path;        /* --path */
	const char *client_user; /* --client-user */
	const char **servers;    /* -S items, HOST[:PORT] each */
	size_t n_servers;
	const char *address; /* -I */
	uint16_t port;       /* -p, else 445 */
	const char *user_arg;
	const char *auth_file;
	bool kerberos, no_pass, json, help, version;
	enum smbsess_policy signing, encryption;
	uint32_t timeout_ms;
};

enum opt_id {
	OPT_SERVER, OPT_ADDRESS, OPT_PORT, OPT_USER, OPT_AUTH_FILE, OPT_KERBEROS, OPT_NO_PASS, OPT_SIGNING,
	OPT_ENCRYPT, OPT_TIMEOUT, OPT_JSON, OPT_HELP, OPT_VERSION, OPT_PATH, OPT_CLIENT_USER,
	OPT_DELETE, OPT_LIST, OPT_CLOSE, OPT_YES
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

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
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

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %1$s [OPTIONS] session [\\\\CLIENT] [/DELETE] [/LIST] [/Y]\n"
		"       %1$s [OPTIONS] session [--client-user NAME]\n"
		"       %1$s [OPTIONS] file [ID [/CLOSE]] [/Y]\n"
		"       %1$s [OPTIONS] file [--path PREFIX] [--client-user NAME]\n"
		"\n"
		"Shows and ends the SMB sessions and open files of Windows and Samba servers,\n"
		"as NET SESSION and NET FILE do on Windows.\n"
		"\n"
		"Commands:\n"
		"  session                    every session, as a table\n"
		"  session [\\\\CLIENT] /LIST   every session (or that computer's), as a list\n"
		"  session \\\\CLIENT           the sessions of that computer in detail, with their shares\n"
		"  session \\\\CLIENT /DELETE   end the sessions of that computer\n"
		"  session /DELETE            end every session (smbnet's own too)\n"
		"  file                       every open file, as a table\n"
		"  file ID                    one open file in detail\n"
		"  file ID /CLOSE             close that file (its holder loses it)\n"
		"Commands and switches are case-insensitive, and each switch has two forms:\n"
		"/DELETE or --delete, /LIST or --list, /CLOSE or --close, /Y or --y (--yes).\n"
		"/DELETE and /CLOSE ask for confirmation on a terminal; /Y answers yes.\n"
		"Without a terminal they need /Y.\n"
		"\n"
		"Filters:\n"
		"      --client-user NAME     only the sessions or files of this user\n"
		"      --path PREFIX          only the files whose path starts with PREFIX\n"
		"\n"
		"Options:\n"
		"  -S, --server HOST[:PORT]   a server to ask (repeatable, or comma-separated;\n"
		"                             default: the -I address, else localhost); several\n"
		"                             are asked at the same time\n"
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
		"      --timeout SECONDS      time limit of each request (default 30)\n"
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

static bool parse_u32_dec(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/*
 * HOST, HOST:PORT, [V6ADDR] or [V6ADDR]:PORT; a bare IPv6 address (two or
 * more colons) has no port. *port is 0 when none is given.
 */
static bool parse_server_spec(TALLOC_CTX *mem, const char *spec, const char **host, uint16_t *port)
{
	const char *colon;
	uint32_t v;

	*port = 0;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end == spec + 1)
			return false;
		*host = talloc_strndup(mem, spec + 1, (size_t)(end - spec - 1));
		if (end[1] == '\0')
			return *host != NULL;
		if (end[1] != ':' || !parse_u32_dec(end + 2, 65535, &v) || v == 0)
			return false;
		*port = (uint16_t)v;
		return *host != NULL;
	}
	colon = strchr(spec, ':');
	if (colon == NULL || strchr(colon + 1, ':') != NULL) {
		*host = talloc_strdup(mem, spec);
		return *host != NULL && spec[0] != '\0';
	}
	if (colon == spec || !parse_u32_dec(colon + 1, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	*host = talloc_strndup(mem, spec, (size_t)(colon - spec));
	return *host != NULL;
}

static int add_servers(TALLOC_CTX *mem, struct cli *c, const char *value)
{
	const char *p = value;

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
	case OPT_USER: c->user_arg = value; return 0;
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
	case OPT_TIMEOUT: {
		char *end;
		double secs;

		errno = 0;
		secs = strtod(value, &end);
		/* NaN fails both comparisons; the upper bound keeps milliseconds in 32 bits. */
		if (errno != 0 || end == value || *end != '\0' || !(secs > 0) || !(secs <= 4294967.0))
			return usage_error("%s: '%s' is not a number of seconds", shown, value);
		c->timeout_ms = (uint32_t)(secs * 1000.0 + 0.5);
		if (c->timeout_ms == 0)
			c->timeout_ms = 1;
		return 0;
	}
	case OPT_JSON: c->json = true; return 0;
	case OPT_HELP: c->help = true; return 0;
	case OPT_VERSION: c->version = true; return 0;
	case OPT_PATH: c->path = value; return 0;
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

/* Parses argv into *c. Returns 0, or SMBNET_EXIT_USAGE after printing why. */
static int parse_args(TALLOC_CTX *mem, int argc, char **argv, struct cli *c)
{
	bool options_done = false;
	int rc;

	*c = (struct cli){ .port = SMBNET_DEFAULT_PORT, .timeout_ms = SMBNET_DEFAULT_TIMEOUT_MS };
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

/* Which form the command line is; SMBNET_EXIT_USAGE (printed) when it is none. */
static int check_form(TALLOC_CTX *mem, struct cli *c, enum mode *mode)
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
		if (c->sw_close && !c->have_id)
			return usage_error("/CLOSE needs the ID of the file to close");
		if (c->have_id && (c->path != NULL || c->client_user != NULL))
			return usage_error("--path and --client-user filter the list of files; not with an ID");
		*mode = !c->have_id ? MODE_FILE_LIST : c->sw_close ? MODE_FILE_CLOSE : MODE_FILE_DETAIL;
	}
	if (c->n_servers == 0) {
		const char *dflt = c->address ? c->address : "localhost";
		char *spec = strchr(dflt, ':') ? talloc_asprintf(mem, "[%s]", dflt) : talloc_strdup(mem, dflt);

		if (spec == NULL || add_servers(mem, c, spec) != 0)
			return SMBNET_EXIT_USAGE;
	}
	if (c->address != NULL && c->n_servers > 1)
		return usage_error("-I (--address) goes with exactly one server");
	if ((*mode == MODE_FILE_DETAIL || *mode == MODE_FILE_CLOSE) && c->n_servers > 1)
		return usage_error("a file ID belongs to one server: give exactly one -S");
	return 0;
}

/* ------------------------------------------------------------------------
 * our own credentials
 */

struct who {
	const char *domain;
	const char *user;
	const char *password; /* NULL: not given */
};

/* [DOMAIN\]USER[%PASSWORD], with DOMAIN/USER accepted too, as Samba's tools do. */
static bool parse_user_string(TALLOC_CTX *mem, const char *s, struct who *w)
{
	const char *pct = strchr(s, '%');
	char *u = talloc_strndup(mem, s, pct ? (size_t)(pct - s) : strlen(s));
	char *sep;

	if (u == NULL)
		return false;
	if (pct != NULL && (w->password = talloc_strdup(mem, pct + 1)) == NULL)
		return false;
	sep = strpbrk(u, "\\/");
	if (sep != NULL) {
		*sep = '\0';
		w->domain = u;
		w->user = sep + 1;
	} else {
		w->user = u;
	}
	return true;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * An authentication file as Samba's -A reads it: "name = value" lines with
 * the names username (which may carry DOMAIN\ and %PASSWORD), password and
 * domain, in any case; other lines are ignored. The value starts after the
 * spaces that follow '=' and runs to the end of the line.
 */
static bool read_auth_file(TALLOC_CTX *mem, const char *path, struct who *w, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool ok = true;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read the authentication file %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);
		char *eq, *key, *val;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		key = trim(line);
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		if (eq_nocase(key, "username"))
			ok = parse_user_string(mem, val, w);
		else if (eq_nocase(key, "password"))
			ok = (w->password = talloc_strdup(mem, val)) != NULL;
		else if (eq_nocase(key, "domain"))
			ok = (w->domain = talloc_strdup(mem, val)) != NULL;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read the authentication file %s: %s", path, strerror(errno));
		ok = false;
	} else if (!ok) {
		snprintf(err, errlen, "out of memory");
	}
	fclose(f);
	return ok;
}

static const char *login_name(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u != NULL && u[0] != '\0')
		return u;
	pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "";
}

/* Restores the terminal when a signal arrives while echo is off. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

static void restore_tty_and_die(int sig)
{
	if (tty_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Asks for the password on the terminal (stdin) without echo. NULL at end of input. */
static char *prompt_password(TALLOC_CTX *mem, const struct who *w)
{
	struct sigaction sa = { .sa_handler = restore_tty_and_die }, old_int, old_term, old_hup;
	struct termios quiet;
	char buf[1024];
	ssize_t n;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	/* Echo goes off before the prompt shows, so that nothing typed after it is echoed or lost. */
	if (tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
		quiet = saved_tty;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &quiet) == 0)
			tty_saved = 1;
	}
	fprintf(stderr, "Password for %s%s%s: ", w->domain && w->domain[0] ? w->domain : "",
		w->domain && w->domain[0] ? "\\" : "", w->user);
	fflush(stderr);
	n = read_line(STDIN_FILENO, buf, sizeof buf);
	if (tty_saved) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
		tty_saved = 0;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	fputc('\n', stderr);
	if (n < 0)
		return NULL;
	return talloc_strdup(mem, buf);
}

/*
 * Kerberos (-k): the hook for the Kerberos issue, which adds Kerberos
 * credentials to <smbsess/client.h>. To wire it, make *out here from the
 * default credentials cache (NULL ccache: KRB5CCNAME, else krb5.conf's
 * default), e.g. smbsess_credentials_new_kerberos(mem, NULL, out), and when
 * -U named a user (w->user, "user@REALM" or with w->domain) pick that
 * principal with smbsess_credentials_set_principal(); return its status.
 * Nothing else in smbnet changes: -k skips the password, Kerberos failures
 * are reported like any other status, and the server name given to -S is
 * the one the ticket is asked for (-I connects elsewhere).
 */
/*
 * -k: with a password (from -U or -A), Kerberos only with that password;
 * otherwise the tickets of the credentials cache (KRB5CCNAME honoured), for
 * the principal -U/-A named if they named one.
 */
static struct smbsess_status kerberos_credentials(TALLOC_CTX *mem, const struct who *w, bool user_named,
						  struct smbsess_credentials **out)
{
	struct smbsess_status st;

	if (w->password != NULL) {
		st = smbsess_credentials_new(mem, w->domain, w->user, w->password, out);
		if (smbsess_status_is_ok(st))
			st = smbsess_credentials_set_mechs(*out, SMBSESS_MECHS_KERBEROS_ONLY);
		return st;
	}
	st = smbsess_credentials_new_kerberos(mem, NULL, out);
	if (smbsess_status_is_ok(st) && user_named) {
		const char *principal = strchr(w->user, '@') || w->domain == NULL || w->domain[0] == '\0'
					? w->user : talloc_asprintf(mem, "%s@%s", w->user, w->domain);

		st = principal ? smbsess_credentials_set_principal(*out, principal)
			       : make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
	}
	return st;
}

/* The credentials from -A, -U, $SMBSESS_PASSWORD or the terminal. Returns an exit status. */
static int make_credentials(TALLOC_CTX *mem, const struct cli *c, struct smbsess_credentials **creds)
{
	struct who w = { 0 };
	struct smbsess_status st;
	char err[512];

	if (c->auth_file != NULL && !read_auth_file(mem, c->auth_file, &w, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return SMBNET_EXIT_FAIL;
	}
	if (c->user_arg != NULL && !parse_user_string(mem, c->user_arg, &w)) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return SMBNET_EXIT_FAIL;
	}
	bool user_named = w.user != NULL && w.user[0] != '\0';

	if (!user_named)
		w.user = login_name();
	if (c->kerberos) {
		st = kerberos_credentials(mem, &w, user_named, creds);
		if (!smbsess_status_is_ok(st)) {
			fprintf(stderr, "%s: Kerberos: %s (%s)\n", progname, smbsess_status_message(st),
				smbsess_status_name(st));
			return SMBNET_EXIT_FAIL;
		}
		return SMBNET_EXIT_OK;
	}
	if (w.password == NULL && c->no_pass)
		w.password = "";
	if (w.password == NULL)
		w.password = getenv(SMBNET_PASSWORD_ENV);
	if (w.password == NULL && isatty(STDIN_FILENO)) {
		w.password = prompt_password(mem, &w);
		if (w.password == NULL) {
			fprintf(stderr, "%s: no password given\n", progname);
			return SMBNET_EXIT_FAIL;
		}
	}
	if (w.password == NULL) {
		fprintf(stderr,
			"%s: no password for %s: give -U USER%%PASSWORD, -A FILE or $%s, or run on a terminal "
			"to be asked\n",
			progname, w.user, SMBNET_PASSWORD_ENV);
		return SMBNET_EXIT_USAGE;
	}
	st = smbsess_credentials_new(mem, w.domain, w.user, w.password, creds);
	if (!smbsess_status_is_ok(st)) {
		fprintf(stderr, "%s: %s\n", progname, smbsess_status_message(st));
		return SMBNET_EXIT_FAIL;
	}
	return SMBNET_EXIT_OK;
}

/* ------------------------------------------------------------------------
 * the servers, all on one event loop
 */

enum step { STEP_CONNECT, STEP_SESSIONS, STEP_CONNECTIONS, STEP_FILES, STEP_FILE_INFO, STEP_DELETE, STEP_CLOSE };

struct app;

struct server {
	struct app *app;
	const char *spec; /* as given to -S: names the server in messages and output */
	const char *host;
	uint16_t port;
	struct smbsess_options *opts;
	struct smbsess_conn *conn;
	struct tevent_req *req; /* the request in flight */
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
	struct smbsess_status files_st; /* the preview before /CLOSE may fail */
	bool files_asked;

	bool done;    /* /DELETE or /CLOSE succeeded */
	bool dropped; /* /DELETE ended smbnet's own session as well */
};

struct app {
	const struct cli *cli;
	enum mode mode;
	bool ask; /* destructive, and the user is asked first */
	struct tevent_context *ev;
	struct smbsess_credentials *creds;
	struct server **servers; /* in the order given */
	size_t n_servers;
	size_t pending;
	bool declined; /* the user answered no */
};

static void step_done(struct tevent_req *req);

static void server_idle(struct server *s)
{
	if (s->busy) {
		s->busy = false;
		s->app->pending--;
	}
}

static void server_fail(struct server *s, enum step step, struct smbsess_status st)
{
	s->failed = true;
	s->failed_step = step;
	s->st = st;
	server_idle(s);
}

static void start_step(struct server *s, enum step step)
{
	struct app *a = s->app;
	const struct cli *c = a->cli;
	struct tevent_req *req = NULL;
	const char *qualifier;

	s->step = step;
	switch (step) {
	case STEP_CONNECT:
		req = smbsess_connect_send(s, a->ev, s->host, a->creds, s->opts);
		break;
	case STEP_SESSIONS:
		req = smbsess_session_enum_send(s, a->ev, s->conn, c->client, c->client_user, SMBSESS_LEVEL_BEST);
		break;
	case STEP_CONNECTIONS:
		qualifier = talloc_asprintf(s, "\\\\%s", c->client);
		if (qualifier != NULL)
			req = smbsess_connection_enum_send(s, a->ev, s->conn, qualifier, SMBSESS_LEVEL_BEST);
		break;
	case STEP_FILES:
		req = smbsess_file_enum_send(s, a->ev, s->conn, c->path, c->client_user, SMBSESS_LEVEL_BEST);
		break;
	case STEP_FILE_INFO:
		req = smbsess_file_get_info_send(s, a->ev, s->conn, c->id, SMBSESS_LEVEL_BEST);
		break;
	case STEP_DELETE:
		req = smbsess_session_delete_send(s, a->ev, s->conn, c->client, c->client_user);
		break;
	case STEP_CLOSE:
		req = smbsess_file_close_send(s, a->ev, s->conn, c->id);
		break;
	}
	if (req == NULL) {
		server_fail(s, step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM));
		return;
	}
	s->req = req;
	tevent_req_set_callback(req, step_done, s);
}

/* The first phase after connecting: what to read from the server. */
static void after_connect(struct server *s)
{
	const struct app *a = s->app;
	const struct cli *c = a->cli;

	switch (a->mode) {
	case MODE_SESSION_LIST:
	case MODE_SESSION_DETAIL:
		start_step(s, STEP_SESSIONS);
		return;
	case MODE_SESSION_DELETE:
		/* What would be ended: shown before asking, and checked when a filter is given. */
		if (a->ask || c->client != NULL || c->client_user != NULL) {
			s->sessions_asked = true;
			start_step(s, STEP_SESSIONS);
			return;
		}
		break;
	case MODE_FILE_LIST:
		start_step(s, STEP_FILES);
		return;
	case MODE_FILE_DETAIL:
		start_step(s, STEP_FILE_INFO);
		return;
	case MODE_FILE_CLOSE:
		if (a->ask) {
			s->files_asked = true;
			start_step(s, STEP_FILE_INFO);
			return;
		}
		break;
	}
	server_idle(s);
}

/* Errors after which a /DELETE counts as done: the server ended our own session too. */
static bool is_dropped_connection(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_DISCONNECTED) ||
	       status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNRESET) || status_is(st, SMBSESS_DOMAIN_ERRNO, EPIPE) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_USER_SESSION_DELETED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_CONNECTION_DISCONNECTED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_CONNECTION_RESET);
}

static void step_done(struct tevent_req *req)
{
	struct server *s = tevent_req_callback_data(req, struct server);
	const struct app *a = s->app;
	struct smbsess_status st;

	s->req = NULL;
	switch (s->step) {
	case STEP_CONNECT:
		st = smbsess_connect_recv(req, s, &s->conn);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CONNECT, st);
			return;
		}
		after_connect(s);
		return;
	case STEP_SESSIONS:
		st = smbsess_session_enum_recv(req, s, &s->sessions);
		talloc_free(req);
		if (a->mode == MODE_SESSION_DELETE) {
			s->sessions_st = st; /* only informative */
			server_idle(s);
			return;
		}
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_SESSIONS, st);
			return;
		}
		if (a->mode == MODE_SESSION_DETAIL && smbsess_session_list_count(s->sessions) > 0) {
			start_step(s, STEP_CONNECTIONS);
			return;
		}
		server_idle(s);
		return;
	case STEP_CONNECTIONS:
		/* The shares are shown where the server gives them; failing to is no error. */
		st = smbsess_connection_enum_recv(req, s, &s->conns);
		talloc_free(req);
		if (!smbsess_status_is_ok(st))
			s->conns = NULL;
		server_idle(s);
		return;
	case STEP_FILES:
		st = smbsess_file_enum_recv(req, s, &s->files);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_FILES, st);
			return;
		}
		server_idle(s);
		return;
	case STEP_FILE_INFO:
		st = smbsess_file_get_info_recv(req, s, &s->files);
		talloc_free(req);
		if (a->mode == MODE_FILE_CLOSE) {
			s->files_st = st;
			server_idle(s);
			return;
		}
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_FILE_INFO, st);
			return;
		}
		server_idle(s);
		return;
	case STEP_DELETE:
		st = smbsess_session_delete_recv(req);
		talloc_free(req);
		if (smbsess_status_is_ok(st) || is_dropped_connection(st)) {
			s->done = true;
			s->dropped = !smbsess_status_is_ok(st);
			server_idle(s);
			return;
		}
		server_fail(s, STEP_DELETE, st);
		return;
	case STEP_CLOSE:
		st = smbsess_file_close_recv(req);
		talloc_free(req);
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CLOSE, st);
			return;
		}
		s->done = true;
		server_idle(s);
		return;
	}
}

/* A last resort should a request outlive its own time limits: it counts as timed out. */
static void watchdog_fired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct app *a = private_data;

	(void)ev, (void)te, (void)now;
	for (size_t i = 0; i < a->n_servers; i++) {
		struct server *s = a->servers[i];

		if (!s->busy)
			continue;
		TALLOC_FREE(s->req); /* cancels it */
		server_fail(s, s->step, make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT));
	}
}

/* Runs the loop until every busy server is idle again; at most three time limits and a little more. */
static void run_loop(struct app *a)
{
	uint64_t ms = (uint64_t)a->cli->timeout_ms * 3 + 5000;
	struct tevent_timer *te = tevent_add_timer(a->ev, a, tevent_timeval_current_ofs((uint32_t)(ms / 1000),
									(uint32_t)(ms % 1000) * 1000),
					   watchdog_fired, a);

	while (a->pending > 0) {
		if (te == NULL || tevent_loop_once(a->ev) != 0) {
			struct smbsess_status st = make_status(SMBSESS_DOMAIN_ERRNO, errno ? (uint32_t)errno : EIO);

			for (size_t i = 0; i < a->n_servers; i++)
				if (a->servers[i]->busy) {
					TALLOC_FREE(a->servers[i]->req);
					server_fail(a->servers[i], a->servers[i]->step, st);
				}
		}
	}
	talloc_free(te);
}

static void begin(struct server *s, enum step step)
{
	s->busy = true;
	s->app->pending++;
	start_step(s, step);
}

/* Per-server options; a failure here fails that server's connection. */
static struct smbsess_status server_options(struct server *s, const struct cli *c)
{
	struct smbsess_status st = smbsess_options_new(s, &s->opts);

	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_port(s->opts, s->port);
	if (smbsess_status_is_ok(st) && c->address != NULL)
		st = smbsess_options_set_address(s->opts, c->address);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_timeout(s->opts, c->timeout_ms);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_signing(s->opts, c->signing);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_encryption(s->opts, c->encryption);
	return st;
}

/* ------------------------------------------------------------------------
 * errors in plain words
 */

static bool is_access_denied(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_NETWORK_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_RPC, RPC_FAULT_ACCESS_DENIED);
}

static bool is_no_such_file(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_WERROR, WERR_NERR_FILE_ID_NOT_FOUND) ||
	       status_is(st, SMBSESS_DOMAIN_WERROR, WERR_FILE_NOT_FOUND);
}

/* "from \\CLIENT", "of user U", or both: what a session filter selects. */
static const char *selection(TALLOC_CTX *mem, const struct cli *c)
{
	if (c->client != NULL && c->client_user != NULL)
		return talloc_asprintf(mem, "of user %s from \\\\%s", c->client_user, c->client);
	if (c->client != NULL)
		return talloc_asprintf(mem, "from \\\\%s", c->client);
	if (c->client_user != NULL)
		return talloc_asprintf(mem, "of user %s", c->client_user);
	return "";
}

/* Why a server failed, in plain words, without the server's name and the status name. */
static const char *error_text(TALLOC_CTX *mem, const struct server *s)
{
	const struct cli *c = s->app->cli;
	struct smbsess_status st = s->st;
	const char *what;

	if (is_access_denied(st)) {
		switch (s->failed_step) {
		case STEP_SESSIONS:
		case STEP_CONNECTIONS:
			return "access denied: listing sessions needs administrator rights on the server";
		case STEP_FILES:
		case STEP_FILE_INFO:
			return "access denied: listing open files needs administrator rights on the server";
		case STEP_DELETE:
			return "access denied: ending sessions needs administrator rights on the server (on Samba: "
			       "root or Domain Admins; Samba also answers so when no session matches)";
		case STEP_CLOSE:
			return "access denied: closing files needs administrator rights on the server (on Samba: "
			       "root or SeDiskOperatorPrivilege)";
		case STEP_CONNECT:
			return "access denied while connecting to the server's IPC$ share";
		}
	}
	if (status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_LOGON_FAILURE))
		return "logon failure: unknown user name or wrong password";
	if (is_no_such_file(st) && (s->failed_step == STEP_FILE_INFO || s->failed_step == STEP_CLOSE))
		return talloc_asprintf(mem, "no such file id %" PRIu32 ": no file with that id is open", c->id);
	if (status_is(st, SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND))
		return talloc_asprintf(mem, "no session %s", selection(mem, c));
	if (status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNREFUSED))
		return talloc_asprintf(mem, "connection refused: nothing listens on port %u", (unsigned)s->port);
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT) || status_is(st, SMBSESS_DOMAIN_ERRNO, ETIMEDOUT))
		return talloc_asprintf(mem, "timed out: no answer within %g second%s", c->timeout_ms / 1000.0,
				       c->timeout_ms == 1000 ? "" : "s");
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_HOST_NOT_FOUND))
		return talloc_asprintf(mem, "unknown host: the name %s cannot be resolved", s->host);
	if (status_is(st, SMBSESS_DOMAIN_ERRNO, EHOSTUNREACH) || status_is(st, SMBSESS_DOMAIN_ERRNO, ENETUNREACH))
		return "the host cannot be reached";
	if (s->failed_step == STEP_CONNECT && (status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_OBJECT_NAME_NOT_FOUND) ||
					       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_PIPE_NOT_AVAILABLE)))
		return "the server offers no srvsvc pipe (is its Server service running?)";
	if (s->failed_step == STEP_CONNECT && status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_BAD_NETWORK_NAME))
		return "the server has no IPC$ share";
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_BIND_REJECTED) ||
	    status_is(st, SMBSESS_DOMAIN_RPC, RPC_UNKNOWN_INTERFACE))
		return "the server's srvsvc pipe does not serve the srvsvc interface";
	if (is_dropped_connection(st) || status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNABORTED))
		return "the server closed the connection";
	switch (s->failed_step) {
	case STEP_CONNECT: what = "cannot connect"; break;
	case STEP_SESSIONS:
	case STEP_CONNECTIONS: what = "cannot list the sessions"; break;
	case STEP_FILES: what = "cannot list the open files"; break;
	case STEP_FILE_INFO: what = talloc_asprintf(mem, "cannot read file id %" PRIu32, c->id); break;
	case STEP_DELETE: what = "cannot end the sessions"; break;
	case STEP_CLOSE: what = talloc_asprintf(mem, "cannot close file id %" PRIu32, c->id); break;
	default: what = "failed"; break;
	}
	return talloc_asprintf(mem, "%s: %s", what, smbsess_status_message(st));
}

static void print_errors(TALLOC_CTX *mem, const struct app *a)
{
	for (size_t i = 0; i < a->n_servers; i++) {
		const struct server *s = a->servers[i];

		if (s->failed)
			fprintf(stderr, "%s: %s: %s (%s)\n", progname, text_clean(mem, s->spec),
				text_clean(mem, error_text(mem, s)), smbsess_status_name(s->st));
	}
}

/* 0, 5 when every server failed with access denied, else 1. */
static int exit_status(const struct app *a)
{
	size_t failed = 0, denied = 0;

	for (size_t i = 0; i < a->n_servers; i++) {
		if (!a->servers[i]->failed)
			continue;
		failed++;
		if (is_access_denied(a->servers[i]->st))
			denied++;
	}
	if (failed == 0)
		return SMBNET_EXIT_OK;
	if (denied == a->n_servers)
		return SMBNET_EXIT_DENIED;
	return SMBNET_EXIT_FAIL;
}

/* ------------------------------------------------------------------------
 * text output: tables and "label value" views
 */

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

static const char *unc_text(TALLOC_CTX *mem, const char *client)
{
	return talloc_asprintf(mem, "\\\\%s", client ? client : "");
}

/* The cells of session i: Computer, User name, Client type, Opens, Idle time. */
static void session_cells(TALLOC_CTX *mem, const struct smbsess_session_list *l, size_t i, const char **out)
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

static size_t total_sessions(const struct app *a)
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

/* The cells of file i: ID, Path, User name, # Locks. */
static void file_cells(TALLOC_CTX *mem, const struct smbsess_file_list *l, size_t i, const char **out)
{
	uint32_t f = smbsess_file_list_fields(l);

	out[0] = (f & SMBSESS_FILE_ID) ? u32_text(mem, smbsess_file_id(l, i)) : "";
	out[1] = (f & SMBSESS_FILE_PATH) ? smbsess_file_path(l, i) : "";
	out[2] = (f & SMBSESS_FILE_USER) ? smbsess_file_user(l, i) : "";
	out[3] = (f & SMBSESS_FILE_NUM_LOCKS) ? u32_text(mem, smbsess_file_num_locks(l, i)) : "";
}

static size_t total_files(const struct app *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_servers; i++)
		if (!a->servers[i]->failed && a->servers[i]->files != NULL)
			n += smbsess_file_list_count(a->servers[i]->files);
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
		for (size_t i = 0; i < smbsess_file_list_count(s->files); i++) {
			const char *row[5];

			row[0] = s->spec;
			file_cells(mem, s->files, i, row + 1);
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

static void print_done(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	const struct cli *c = a->cli;

	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];
		const char *spec = text_clean(mem, s->spec);

		if (!s->done)
			continue;
		if (a->mode == MODE_FILE_CLOSE)
			fprintf(f, "File ID %" PRIu32 " on %s has been closed.\n", c->id, spec);
		else if (c->client == NULL && c->client_user == NULL)
			fprintf(f, "Every session on %s has been ended.\n", spec);
		else
			fprintf(f, "The sessions %s on %s have been ended.\n", text_clean(mem, selection(mem, c)), spec);
		if (s->dropped)
			fprintf(f, "(%s closed smbnet's own connection as well.)\n", spec);
	}
}

static bool any_failed(const struct app *a)
{
	for (size_t i = 0; i < a->n_servers; i++)
		if (a->servers[i]->failed)
			return true;
	return false;
}

static void print_text(TALLOC_CTX *mem, const struct app *a, FILE *f)
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
	if (!any_failed(a) && !a->declined)
		fputs("The command completed successfully.\n", f);
}

/* ------------------------------------------------------------------------
 * JSON output
 */

static void json_session(struct json_obj *o, const char *server, const struct smbsess_session_list *l, size_t i)
{
	uint32_t f = smbsess_session_list_fields(l);

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

static void json_file(struct json_obj *o, const char *server, const struct smbsess_file_list *l, size_t i)
{
	uint32_t f = smbsess_file_list_fields(l);

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

static void print_json(TALLOC_CTX *mem, const struct app *a, FILE *f)
{
	const struct cli *c = a->cli;
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
			for (size_t i = 0; i < smbsess_file_list_count(s->files); i++) {
				json_arr_next(&arr);
				json_obj_begin(&o, f);
				json_file(&o, s->spec, s->files, i);
				json_obj_end(&o);
			}
		}
		break;
	case MODE_SESSION_DELETE:
	case MODE_FILE_CLOSE:
		json_arr_begin(&arr, f, "done", true);
		for (size_t k = 0; k < a->n_servers; k++) {
			const struct server *s = a->servers[k];

			if (!s->done)
				continue;
			json_arr_next(&arr);
			json_obj_begin(&o, f);
			json_str(&o, "server", s->spec);
			if (a->mode == MODE_FILE_CLOSE) {
				json_str(&o, "operation", "file_close");
				json_u32(&o, "id", c->id);
			} else {
				json_str(&o, "operation", "session_delete");
				if (c->client != NULL)
					json_str(&o, "client", c->client);
				if (c->client_user != NULL)
					json_str(&o, "user", c->client_user);
				if (s->dropped)
					json_true(&o, "own_connection_closed");
			}
			json_obj_end(&o);
		}
		break;
	}
	json_arr_end(&arr);
	json_arr_begin(&arr, f, "errors", false);
	for (size_t k = 0; k < a->n_servers; k++) {
		const struct server *s = a->servers[k];

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

/* ------------------------------------------------------------------------
 * confirmation of /DELETE and /CLOSE
 */

static bool ask_yes_no(void)
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

/*
 * Between reading and acting: drops the servers where nothing matches, shows
 * (when asking) what is about to happen. Returns the number of servers to
 * act on.
 */
static size_t review(TALLOC_CTX *mem, struct app *a, FILE *f)
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

/* ------------------------------------------------------------------------
 * main
 */

static const char *mode_action(enum mode m)
{
	return m == MODE_SESSION_DELETE ? "ending sessions (/DELETE)" : "closing a file (/CLOSE)";
}

static int finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: cannot write the output: %s\n", progname, strerror(errno));
		return SMBNET_EXIT_FAIL;
	}
	return rc;
}

static int run(TALLOC_CTX *mem, struct cli *c)
{
	struct app *a;
	enum mode mode = MODE_SESSION_LIST;
	int rc;
	bool destructive;

	rc = check_form(mem, c, &mode);
	if (rc != 0)
		return rc;
	destructive = mode == MODE_SESSION_DELETE || mode == MODE_FILE_CLOSE;
	if (destructive && !c->sw_yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"%s: %s needs a confirmation, and there is no terminal to ask on: add /Y to confirm\n",
			progname, mode_action(mode));
		return SMBNET_EXIT_USAGE;
	}

	a = talloc_zero(mem, struct app);
	if (a == NULL)
		return SMBNET_EXIT_FAIL;
	a->cli = c;
	a->mode = mode;
	a->ask = destructive && !c->sw_yes;
	rc = make_credentials(a, c, &a->creds);
	if (rc != 0)
		return rc;
	a->ev = tevent_context_init(a);
	a->servers = talloc_zero_array(a, struct server *, c->n_servers);
	for (size_t i = 0; a->servers != NULL && i < c->n_servers; i++)
		if ((a->servers[i] = talloc_zero(a->servers, struct server)) == NULL)
			a->servers = NULL;
	if (a->ev == NULL || a->servers == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return SMBNET_EXIT_FAIL;
	}
	a->n_servers = c->n_servers;
	signal(SIGPIPE, SIG_IGN);

	/* Phase 1, for every server at once: connect and read. */
	for (size_t i = 0; i < a->n_servers; i++) {
		struct server *s = a->servers[i];
		struct smbsess_status st;

		s->app = a;
		s->spec = c->servers[i];
		if (!parse_server_spec(a, s->spec, &s->host, &s->port))
			return SMBNET_EXIT_USAGE; /* checked while parsing */
		if (s->port == 0)
			s->port = c->port;
		st = server_options(s, c);
		s->busy = true;
		a->pending++;
		if (!smbsess_status_is_ok(st)) {
			server_fail(s, STEP_CONNECT, st);
			continue;
		}
		start_step(s, STEP_CONNECT);
	}
	run_loop(a);

	/* Phase 2, for /DELETE and /CLOSE: after the question, act on every server at once. */
	if (destructive) {
		size_t n = review(mem, a, stderr);

		if (n > 0 && a->ask && !ask_yes_no()) {
			a->declined = true;
			fprintf(stderr, "%s: cancelled; nothing was done.\n", progname);
		}
		for (size_t i = 0; i < a->n_servers && n > 0 && !a->declined; i++)
			if (!a->servers[i]->failed)
				begin(a->servers[i], mode == MODE_SESSION_DELETE ? STEP_DELETE : STEP_CLOSE);
		run_loop(a);
	}

	/* Asked for a computer that has no session anywhere: an error, as NET says (NERR_ClientNameNotFound). */
	if ((mode == MODE_SESSION_DETAIL || mode == MODE_SESSION_LIST) && c->client != NULL && total_sessions(a) == 0) {
		for (size_t i = 0; i < a->n_servers; i++) {
			struct server *s = a->servers[i];

			if (!s->failed) {
				s->failed = true;
				s->failed_step = STEP_SESSIONS;
				s->st = make_status(SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND);
			}
		}
	}

	/* Disconnect before printing, so that a closed stdout may end smbnet the usual way. */
	for (size_t i = 0; i < a->n_servers; i++)
		TALLOC_FREE(a->servers[i]->conn);
	signal(SIGPIPE, SIG_DFL);
	if (c->json)
		print_json(mem, a, stdout);
	else
		print_text(mem, a, stdout);
	fflush(stdout);
	print_errors(mem, a);
	rc = exit_status(a);
	if (a->declined && rc == SMBNET_EXIT_OK)
		rc = SMBNET_EXIT_FAIL;
	return finish_output(rc);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cli c;
	int rc;

	if (mem == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return SMBNET_EXIT_FAIL;
	}
	rc = parse_args(mem, argc, argv, &c);
	if (rc == 0 && c.help) {
		print_help(stdout);
		rc = finish_output(SMBNET_EXIT_OK);
	} else if (rc == 0 && c.version) {
		printf("%s (libsmbsess) %s\n", progname, smbsess_version());
		rc = finish_output(SMBNET_EXIT_OK);
	} else if (rc == 0) {
		rc = run(mem, &c);
	}
	talloc_free(mem);
	return rc;
}
