/*
 * api_tool: a small command line over the public blocking API of
 * libsmbsess, for the integration tests (tests/integration/api.py).
 * Uses nothing but <smbsess/smbsess.h>.
 *
 * usage: api_tool [--port N] [--address A] [--encrypt auto|required|off]
 *                 [--sign auto|required] [--level L|best] [--max-entries N]
 *                 [--page-size N] [--timeout MS] [--info]
 *                 [--kerberos] [--ccache NAME] [--keytab KT] [--principal P]
 *                 [--mechs ntlm|krb5|krb5,ntlm|ntlm,krb5] [--dialects MIN-MAX]
 *                 [--disconnect]
 *                 SERVER DOMAIN USER PASSWORD CMD [ARGS]
 *   (--dialects takes two enum smbsess_dialect values, e.g. 0x0300-0x0302)
 *   CMD: sessions [CLIENT [USER]]   files [BASEPATH [USER]]   fileinfo ID
 *        close ID   sessdel [CLIENT [USER]]   conns QUALIFIER
 *   ("-" stands for NULL.)
 *
 * Output (stdout): one line per entry, tab-separated key=value pairs of
 * every field the list's field mask has (NULL strings print as an empty
 * value; backslash, tab, newline and carriage return in values are written
 * \\ \t \n \r), then "level=N count=N". close/sessdel print "ok=1".
 * --info first prints "dialect=0xNNNN signed=N encrypted=N auth=none|anonymous|ntlm|kerberos".
 * --disconnect then calls smbsess_disconnect and prints "disconnect=STATUS", a
 * second one "disconnect_again=STATUS" and the command once more "after=STATUS"
 * (status names; OK for success).
 *
 * Kerberos: --kerberos uses Kerberos only (NTLM forbidden) unless --mechs
 * says otherwise; the tickets come from --keytab, else --ccache, else the
 * password when USER and PASSWORD are given, else the default cache
 * (KRB5CCNAME). --ccache or --keytab alone imply --kerberos. SERVER is then
 * the name the KDC knows (the SPN is cifs/SERVER): use --address for the IP.
 * On failure: "error=NAME domain=DOMAIN code=0xCODE message=MESSAGE", exit 1.
 * Usage errors: exit 2.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbsess/smbsess.h>

_Noreturn static void usage(void)
{
	fprintf(stderr,
		"usage: api_tool [--port N] [--address A] [--encrypt auto|required|off] [--sign auto|required]\n"
		"                [--level L|best] [--max-entries N] [--page-size N] [--timeout MS] [--info]\n"
		"                [--kerberos] [--ccache NAME] [--keytab KT] [--principal P]\n"
		"                [--mechs ntlm|krb5|krb5,ntlm|ntlm,krb5] [--dialects MIN-MAX] [--disconnect]\n"
		"                SERVER DOMAIN USER PASSWORD CMD [ARGS]\n"
		"  CMD: sessions [CLIENT [USER]] | files [BASEPATH [USER]] | fileinfo ID | close ID |\n"
		"       sessdel [CLIENT [USER]] | conns QUALIFIER        (\"-\" means none)\n");
	exit(2);
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_policy(const char *s, bool allow_off, enum smbsess_policy *out)
{
	if (strcmp(s, "auto") == 0)
		*out = SMBSESS_POLICY_AUTO;
	else if (strcmp(s, "required") == 0)
		*out = SMBSESS_POLICY_REQUIRED;
	else if (allow_off && strcmp(s, "off") == 0)
		*out = SMBSESS_POLICY_OFF;
	else
		return false;
	return true;
}

/* "-" (or a missing argument) is NULL. */
static const char *arg_or_null(int argc, char **argv, int i)
{
	if (i >= argc || strcmp(argv[i], "-") == 0)
		return NULL;
	return argv[i];
}

static bool parse_mechs(const char *s, enum smbsess_mechs *out)
{
	if (strcmp(s, "ntlm") == 0)
		*out = SMBSESS_MECHS_NTLM_ONLY;
	else if (strcmp(s, "krb5") == 0)
		*out = SMBSESS_MECHS_KERBEROS_ONLY;
	else if (strcmp(s, "krb5,ntlm") == 0)
		*out = SMBSESS_MECHS_KERBEROS_THEN_NTLM;
	else if (strcmp(s, "ntlm,krb5") == 0)
		*out = SMBSESS_MECHS_NTLM_THEN_KERBEROS;
	else
		return false;
	return true;
}

static const char *auth_name(int auth)
{
	switch (auth) {
	case SMBSESS_AUTH_ANONYMOUS: return "anonymous";
	case SMBSESS_AUTH_NTLM: return "ntlm";
	case SMBSESS_AUTH_KERBEROS: return "kerberos";
	default: return "none";
	}
}

/* The credentials the options ask for. */
static struct smbsess_status make_creds(TALLOC_CTX *mem, bool kerberos, const char *ccache, const char *keytab,
					const char *principal, bool have_mechs, enum smbsess_mechs mechs,
					const char *domain, const char *user, const char *password,
					struct smbsess_credentials **out)
{
	struct smbsess_credentials *c = NULL;
	struct smbsess_status st;

	if (ccache != NULL || keytab != NULL)
		kerberos = true;
	if (kerberos && ccache == NULL && keytab == NULL && (user == NULL || password == NULL)) {
		/* no password: the tickets of the default cache */
		st = smbsess_credentials_new_kerberos(mem, NULL, &c);
	} else {
		st = smbsess_credentials_new(mem, domain, user, password, &c);
		if (smbsess_status_is_ok(st) && keytab != NULL)
			st = smbsess_credentials_set_keytab(c, keytab, principal);
		else if (smbsess_status_is_ok(st) && ccache != NULL)
			st = smbsess_credentials_set_ccache(c, ccache);
		if (smbsess_status_is_ok(st) && kerberos && !have_mechs)
			st = smbsess_credentials_set_mechs(c, SMBSESS_MECHS_KERBEROS_ONLY);
	}
	if (smbsess_status_is_ok(st) && principal != NULL && keytab == NULL)
		st = smbsess_credentials_set_principal(c, principal);
	if (smbsess_status_is_ok(st) && have_mechs)
		st = smbsess_credentials_set_mechs(c, mechs);
	if (!smbsess_status_is_ok(st)) {
		talloc_free(c);
		return st;
	}
	*out = c;
	return st;
}

static int fail(struct smbsess_status st)
{
	printf("error=%s domain=%s code=0x%" PRIx32 " message=%s\n", smbsess_status_name(st),
	       smbsess_domain_name(st.domain), st.code, smbsess_status_message(st));
	return 1;
}

/* ---- output of one entry ---- */

static bool first_field;

static void begin_entry(void)
{
	first_field = true;
}

static void end_entry(void)
{
	putchar('\n');
}

static void put_key(const char *key)
{
	if (!first_field)
		putchar('\t');
	first_field = false;
	fputs(key, stdout);
	putchar('=');
}

static void put_str(const char *key, const char *value)
{
	put_key(key);
	for (const char *p = value; p != NULL && *p != '\0'; p++) {
		switch (*p) {
		case '\\': fputs("\\\\", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default: putchar(*p); break;
		}
	}
}

static void put_u32(const char *key, uint32_t value)
{
	put_key(key);
	printf("%" PRIu32, value);
}

static void put_summary(uint32_t level, size_t count)
{
	printf("level=%" PRIu32 " count=%zu\n", level, count);
}

/* ---- the three kinds of lists ---- */

static void print_sessions(const struct smbsess_session_list *l)
{
	uint32_t f = smbsess_session_list_fields(l);
	size_t n = smbsess_session_list_count(l);

	for (size_t i = 0; i < n; i++) {
		begin_entry();
		if (f & SMBSESS_SESSION_CLIENT)
			put_str("client", smbsess_session_client(l, i));
		if (f & SMBSESS_SESSION_USER)
			put_str("user", smbsess_session_user(l, i));
		if (f & SMBSESS_SESSION_NUM_OPENS)
			put_u32("num_opens", smbsess_session_num_opens(l, i));
		if (f & SMBSESS_SESSION_TIME)
			put_u32("time", smbsess_session_time(l, i));
		if (f & SMBSESS_SESSION_IDLE_TIME)
			put_u32("idle_time", smbsess_session_idle_time(l, i));
		if (f & SMBSESS_SESSION_USER_FLAGS)
			put_u32("user_flags", smbsess_session_user_flags(l, i));
		if (f & SMBSESS_SESSION_CLIENT_TYPE)
			put_str("client_type", smbsess_session_client_type(l, i));
		if (f & SMBSESS_SESSION_TRANSPORT)
			put_str("transport", smbsess_session_transport(l, i));
		end_entry();
	}
	put_summary(smbsess_session_list_level(l), n);
}

static void print_files(const struct smbsess_file_list *l)
{
	uint32_t f = smbsess_file_list_fields(l);
	size_t n = smbsess_file_list_count(l);

	for (size_t i = 0; i < n; i++) {
		begin_entry();
		if (f & SMBSESS_FILE_ID)
			put_u32("id", smbsess_file_id(l, i));
		if (f & SMBSESS_FILE_PERMISSIONS)
			put_u32("permissions", smbsess_file_permissions(l, i));
		if (f & SMBSESS_FILE_NUM_LOCKS)
			put_u32("num_locks", smbsess_file_num_locks(l, i));
		if (f & SMBSESS_FILE_PATH)
			put_str("path", smbsess_file_path(l, i));
		if (f & SMBSESS_FILE_USER)
			put_str("user", smbsess_file_user(l, i));
		end_entry();
	}
	put_summary(smbsess_file_list_level(l), n);
}

static void print_connections(const struct smbsess_connection_list *l)
{
	uint32_t f = smbsess_connection_list_fields(l);
	size_t n = smbsess_connection_list_count(l);

	for (size_t i = 0; i < n; i++) {
		begin_entry();
		if (f & SMBSESS_CONNECTION_ID)
			put_u32("id", smbsess_connection_id(l, i));
		if (f & SMBSESS_CONNECTION_TYPE)
			put_u32("type", smbsess_connection_type(l, i));
		if (f & SMBSESS_CONNECTION_NUM_OPENS)
			put_u32("num_opens", smbsess_connection_num_opens(l, i));
		if (f & SMBSESS_CONNECTION_NUM_USERS)
			put_u32("num_users", smbsess_connection_num_users(l, i));
		if (f & SMBSESS_CONNECTION_TIME)
			put_u32("time", smbsess_connection_time(l, i));
		if (f & SMBSESS_CONNECTION_USER)
			put_str("user", smbsess_connection_user(l, i));
		if (f & SMBSESS_CONNECTION_SHARE)
			put_str("share", smbsess_connection_share(l, i));
		end_entry();
	}
	put_summary(smbsess_connection_list_level(l), n);
}

/* ---- commands ---- */

static struct smbsess_status run(TALLOC_CTX *mem, struct smbsess_conn *conn, const char *cmd, int argc,
				 char **argv, uint32_t level)
{
	struct smbsess_status st;
	uint32_t id;

	if (strcmp(cmd, "sessions") == 0) {
		struct smbsess_session_list *l = NULL;

		st = smbsess_session_enum(mem, conn, arg_or_null(argc, argv, 0), arg_or_null(argc, argv, 1), level,
					  &l);
		if (smbsess_status_is_ok(st))
			print_sessions(l);
		talloc_free(l);
		return st;
	}
	if (strcmp(cmd, "files") == 0) {
		struct smbsess_file_list *l = NULL;

		st = smbsess_file_enum(mem, conn, arg_or_null(argc, argv, 0), arg_or_null(argc, argv, 1), level, &l);
		if (smbsess_status_is_ok(st))
			print_files(l);
		talloc_free(l);
		return st;
	}
	if (strcmp(cmd, "fileinfo") == 0) {
		struct smbsess_file_list *l = NULL;

		if (argc != 1 || !parse_u32(argv[0], &id))
			usage();
		st = smbsess_file_get_info(mem, conn, id, level, &l);
		if (smbsess_status_is_ok(st))
			print_files(l);
		talloc_free(l);
		return st;
	}
	if (strcmp(cmd, "close") == 0) {
		if (argc != 1 || !parse_u32(argv[0], &id))
			usage();
		st = smbsess_file_close(conn, id);
		if (smbsess_status_is_ok(st))
			printf("ok=1\n");
		return st;
	}
	if (strcmp(cmd, "sessdel") == 0) {
		st = smbsess_session_delete(conn, arg_or_null(argc, argv, 0), arg_or_null(argc, argv, 1));
		if (smbsess_status_is_ok(st))
			printf("ok=1\n");
		return st;
	}
	if (strcmp(cmd, "conns") == 0) {
		struct smbsess_connection_list *l = NULL;

		if (argc != 1)
			usage();
		st = smbsess_connection_enum(mem, conn, argv[0], level, &l);
		if (smbsess_status_is_ok(st))
			print_connections(l);
		talloc_free(l);
		return st;
	}
	usage();
}

/* Checks a command and its arguments before connecting. */
static bool known_command(const char *cmd, int nargs, char **args)
{
	uint32_t id;

	if (strcmp(cmd, "sessions") == 0 || strcmp(cmd, "files") == 0 || strcmp(cmd, "sessdel") == 0)
		return nargs <= 2;
	if (strcmp(cmd, "fileinfo") == 0 || strcmp(cmd, "close") == 0)
		return nargs == 1 && parse_u32(args[0], &id);
	if (strcmp(cmd, "conns") == 0)
		return nargs == 1;
	return false;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem;
	struct smbsess_options *opts = NULL;
	struct smbsess_credentials *creds = NULL;
	struct smbsess_conn *conn = NULL;
	struct smbsess_status st;
	uint32_t level = SMBSESS_LEVEL_BEST, v;
	bool info = false, kerberos = false, have_mechs = false, disconnect = false;
	const char *ccache = NULL, *keytab = NULL, *principal = NULL;
	enum smbsess_mechs mechs = SMBSESS_MECHS_NTLM_ONLY;
	int i, rc;

	mem = talloc_new(NULL);
	if (mem == NULL) {
		fprintf(stderr, "api_tool: out of memory\n");
		return 1;
	}
	st = smbsess_options_new(mem, &opts);
	if (!smbsess_status_is_ok(st)) {
		rc = fail(st);
		goto out;
	}

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		enum smbsess_policy p;

		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(opt, "--info") == 0) {
			info = true;
			continue;
		}
		if (strcmp(opt, "--kerberos") == 0) {
			kerberos = true;
			continue;
		}
		if (strcmp(opt, "--disconnect") == 0) {
			disconnect = true;
			continue;
		}
		if (val == NULL)
			usage();
		i++;
		if (strcmp(opt, "--port") == 0) {
			if (!parse_u32(val, &v) || v == 0 || v > 65535)
				usage();
			st = smbsess_options_set_port(opts, (uint16_t)v);
		} else if (strcmp(opt, "--address") == 0) {
			st = smbsess_options_set_address(opts, val);
		} else if (strcmp(opt, "--encrypt") == 0) {
			if (!parse_policy(val, true, &p))
				usage();
			st = smbsess_options_set_encryption(opts, p);
		} else if (strcmp(opt, "--sign") == 0) {
			if (!parse_policy(val, false, &p))
				usage();
			st = smbsess_options_set_signing(opts, p);
		} else if (strcmp(opt, "--level") == 0) {
			if (strcmp(val, "best") == 0)
				level = SMBSESS_LEVEL_BEST;
			else if (!parse_u32(val, &level))
				usage();
			continue;
		} else if (strcmp(opt, "--max-entries") == 0) {
			if (!parse_u32(val, &v))
				usage();
			st = smbsess_options_set_max_entries(opts, v);
		} else if (strcmp(opt, "--page-size") == 0) {
			if (!parse_u32(val, &v))
				usage();
			st = smbsess_options_set_page_size(opts, v);
		} else if (strcmp(opt, "--ccache") == 0) {
			ccache = val;
			continue;
		} else if (strcmp(opt, "--keytab") == 0) {
			keytab = val;
			continue;
		} else if (strcmp(opt, "--principal") == 0) {
			principal = val;
			continue;
		} else if (strcmp(opt, "--mechs") == 0) {
			if (!parse_mechs(val, &mechs))
				usage();
			have_mechs = true;
			continue;
		} else if (strcmp(opt, "--dialects") == 0) {
			char *dash = strchr(val, '-');
			uint32_t lo, hi;
			char *min;

			if (dash == NULL || (min = strndup(val, (size_t)(dash - val))) == NULL)
				usage();
			if (!parse_u32(min, &lo) || !parse_u32(dash + 1, &hi) || lo > 0xFFFF || hi > 0xFFFF) {
				free(min);
				usage();
			}
			free(min);
			st = smbsess_options_set_dialects(opts, (uint16_t)lo, (uint16_t)hi);
		} else if (strcmp(opt, "--timeout") == 0) {
			if (!parse_u32(val, &v))
				usage();
			st = smbsess_options_set_timeout(opts, v);
		} else {
			usage();
		}
		if (!smbsess_status_is_ok(st)) {
			rc = fail(st);
			goto out;
		}
	}
	if (argc - i < 5 || !known_command(argv[i + 4], argc - i - 5, argv + i + 5))
		usage();

	st = make_creds(mem, kerberos, ccache, keytab, principal, have_mechs, mechs, arg_or_null(argc, argv, i + 1),
			arg_or_null(argc, argv, i + 2), arg_or_null(argc, argv, i + 3), &creds);
	if (!smbsess_status_is_ok(st)) {
		rc = fail(st);
		goto out;
	}
	st = smbsess_connect(mem, argv[i], creds, opts, &conn);
	if (!smbsess_status_is_ok(st)) {
		rc = fail(st);
		goto out;
	}
	if (info)
		printf("dialect=0x%04x signed=%d encrypted=%d auth=%s\n", (unsigned)smbsess_conn_dialect(conn),
		       smbsess_conn_signed(conn) != 0, smbsess_conn_encrypted(conn) != 0,
		       auth_name(smbsess_conn_auth(conn)));
	st = run(mem, conn, argv[i + 4], argc - i - 5, argv + i + 5, level);
	rc = smbsess_status_is_ok(st) ? 0 : fail(st);
	if (disconnect) {
		printf("disconnect=%s\n", smbsess_status_name(smbsess_disconnect(conn)));
		printf("disconnect_again=%s\n", smbsess_status_name(smbsess_disconnect(conn)));
		/* quietly: only its status */
		fflush(stdout);
		{
			struct smbsess_session_list *l = NULL;

			st = smbsess_session_enum(mem, conn, NULL, NULL, level, &l);
			printf("after=%s\n", smbsess_status_name(st));
		}
	}
out:
	fflush(stdout);
	talloc_free(mem); /* conn, creds, opts and every list */
	return rc;
}
