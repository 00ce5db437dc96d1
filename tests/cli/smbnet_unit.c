/*
 * Unit tests of smbnet's own pieces, without a server: the JSON writer, the
 * terminal cleaning and widths, durations, the command line, credentials
 * strings and files, and the wording and exit status of errors. Linked with
 * everything of smbnet but its main() (smbnet_core, examples_common).
 * TAP output.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../examples/smbnet/smbnet.h"

static int n_tests, n_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* What json_string writes for s. */
static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_string(f, s);
	fclose(f);
	return buf;
}

static void check_json(const char *in, const char *want, const char *what)
{
	char *got = json_of(in);

	ok(strcmp(got, want) == 0, "json: %s -> %s (got %s)", what, want, got);
	free(got);
}

static void test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct json_arr arr;
	struct json_obj o;

	check_json("plain", "\"plain\"", "plain ASCII");
	check_json("say \"hi\"", "\"say \\\"hi\\\"\"", "quotes");
	check_json("C:\\srv\\a.txt", "\"C:\\\\srv\\\\a.txt\"", "backslashes");
	check_json("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"", "the short escapes");
	check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", "other control characters and DEL as \\u00XX");
	check_json("Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5 \xf0\x9f\x98\x80", "\"Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5 \xf0\x9f\x98\x80\"",
		   "non-ASCII UTF-8 passes through (2, 3 and 4 bytes)");
	check_json("a\xff" "b\xc3", "\"a\\ufffdb\\ufffd\"", "bytes that are not UTF-8 become U+FFFD");
	check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "an encoded surrogate is not UTF-8");
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"", "an overlong form is not UTF-8");
	check_json("", "\"\"", "empty string");
	check_json(NULL, "null", "NULL is null");

	f = open_memstream(&buf, &len);
	json_arr_begin(&arr, f, "files", true);
	json_arr_next(&arr);
	json_obj_begin(&o, f);
	json_str(&o, "server", "s1");
	json_u32(&o, "id", 4294967295u);
	json_obj_end(&o);
	json_arr_next(&arr);
	json_obj_begin(&o, f);
	json_true(&o, "x");
	json_obj_end(&o);
	json_arr_end(&arr);
	json_arr_begin(&arr, f, "errors", false);
	json_arr_end(&arr);
	fputs("\n}\n", f);
	fclose(f);
	ok(strcmp(buf, "{\n  \"files\": [\n    {\"server\": \"s1\", \"id\": 4294967295},\n    {\"x\": true}\n  ],\n"
		       "  \"errors\": []\n}\n") == 0,
	   "json: a document with an array of objects and an empty array");
	free(buf);
}

static void test_text(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	char buf[32];

	ok(strcmp(text_clean(mem, "a\x1b[31mb\x7f" "c\xc2\x9b" "d"), "a?[31mb?c?d") == 0,
	   "text_clean: escape, DEL and C1 characters become ?");
	ok(strcmp(text_clean(mem, "x\xff" "y"), "x?y") == 0, "text_clean: invalid UTF-8 becomes ?");
	ok(strcmp(text_clean(mem, NULL), "") == 0, "text_clean: NULL is empty");
	ok(text_columns("Gr\xc3\xbc\xc3\x9f" "e") == 5, "text_columns: Gruesse with umlaut and sharp s is 5 columns");
	ok(text_columns("\xe6\x97\xa5\xe6\x9c\xac") == 4, "text_columns: two CJK characters are 4 columns");
	ok(text_columns("\xf0\x9f\x98\x80.txt") == 6, "text_columns: an emoji is 2 columns");
	ok(text_columns("e\xcc\x81") == 1, "text_columns: a combining accent takes none");

	ok(strcmp(fmt_duration(buf, sizeof buf, 0), "00:00:00") == 0, "duration 0");
	ok(strcmp(fmt_duration(buf, sizeof buf, 3661), "01:01:01") == 0, "duration 3661 s");
	ok(strcmp(fmt_duration(buf, sizeof buf, 100 * 3600 + 59), "100:00:59") == 0, "hours do not wrap");
	ok(strcmp(fmt_duration(buf, sizeof buf, UINT32_MAX), "") == 0, "0xFFFFFFFF (unknown) is empty");
	ok(strcmp(fmt_permissions(buf, sizeof buf, 3), "RW") == 0 &&
		   strcmp(fmt_permissions(buf, sizeof buf, 7), "RWC") == 0 &&
		   strcmp(fmt_permissions(buf, sizeof buf, 0), "None") == 0,
	   "permissions as letters");
	talloc_free(mem);
}

static void test_specs(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	const char *host;
	uint16_t port;

	ok(parse_server_spec(mem, "fs1", &host, &port) && strcmp(host, "fs1") == 0 && port == 0, "spec HOST");
	ok(parse_server_spec(mem, "fs1:4455", &host, &port) && strcmp(host, "fs1") == 0 && port == 4455,
	   "spec HOST:PORT");
	ok(parse_server_spec(mem, "[::1]:4455", &host, &port) && strcmp(host, "::1") == 0 && port == 4455,
	   "spec [V6]:PORT");
	ok(parse_server_spec(mem, "fe80::1", &host, &port) && strcmp(host, "fe80::1") == 0 && port == 0,
	   "spec bare IPv6 address");
	ok(!parse_server_spec(mem, "fs1:0", &host, &port) && !parse_server_spec(mem, "fs1:70000", &host, &port) &&
		   !parse_server_spec(mem, ":445", &host, &port) && !parse_server_spec(mem, "[::1", &host, &port) &&
		   !parse_server_spec(mem, "fs1:x", &host, &port),
	   "bad specs are refused");
	talloc_free(mem);
}

static void test_glob(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	static const struct {
		const char *pattern, *path;
		bool want;
	} cases[] = {
		{ "*\\budget.xlsx", "C:\\Shares\\Finance\\Q3\\budget.xlsx", true },
		{ "*\\BUDGET.XLSX", "C:\\Shares\\Finance\\Q3\\Budget.xlsx", true },
		{ "*\\budget.xlsx", "C:\\Shares\\Finance\\Q3\\budget.xlsx.bak", false },
		{ "*\\budget.xlsx", "C:\\Shares\\my-budget.xlsx", false },
		{ "C:\\Shares\\Finance\\*", "C:\\shares\\finance\\a\\b.txt", true },
		{ "C:\\Shares\\Finance\\*", "C:\\Shares\\Finance2\\b.txt", false },
		{ "C:\\Shares\\Finance", "C:\\Shares\\Finance\\b.txt", true },
		{ "C:\\Shares\\Finance", "C:\\Shares\\Finance", true },
		{ "C:\\Shares\\Finance\\", "C:\\Shares\\Finance\\b.txt", true },
		{ "C:\\Shares\\Finance", "C:\\Shares\\Finance2\\b.txt", false },
		{ "*\\q?\\*", "C:\\x\\Q3\\a", true },
		{ "*\\q?\\*", "C:\\x\\Q33\\a", false },
		{ "*[0-9].txt", "C:\\a7.TXT", true },
		{ "*[!0-9].txt", "C:\\a7.txt", false },
		{ "*[^0-9].txt", "C:\\ab.txt", true },
		{ "*[]x].txt", "C:\\a].txt", true },
		{ "*[ab", "C:\\x[ab", true },
		{ "*GR\xc3\x9c\xc3\x9f*", "C:\\gr\xc3\xbc\xc3\x9f" "e.txt", true },
		{ "*\xc3\xa9*", "C:\\\xc3\x89t\xc3\xa9", true },
		{ "a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
		{ "*", "", true },
		{ "?", "", false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ok(glob_match(cases[i].pattern, cases[i].path) == cases[i].want, "glob '%s' %s '%s'", cases[i].pattern,
		   cases[i].want ? "matches" : "does not match", cases[i].path);
	ok(strcmp(glob_literal_prefix(mem, "C:\\Shares\\Fin*\\x"), "C:\\Shares\\Fin") == 0 &&
		   glob_literal_prefix(mem, "*\\budget.xlsx") == NULL &&
		   strcmp(glob_literal_prefix(mem, "C:\\S\\a.txt"), "C:\\S\\a.txt") == 0 &&
		   strcmp(glob_literal_prefix(mem, "C:\\Gr\xc3\xbc*"), "C:\\Gr") == 0,
	   "the literal prefix sent as base path: up to the first wildcard, ASCII only");
	talloc_free(mem);
}

static void test_server_list(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	char path[] = "/tmp/smbnet-unit-list-XXXXXX", err[512];
	const char **specs = NULL;
	size_t n = 0;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("# servers\n\nfs1\n  fs2:4455  # second\r\n[::1]:445\n\t\n[fe80::1]\n", f);
	fclose(f);
	ok(server_list_read(mem, path, &specs, &n, err, sizeof err) && n == 4 && strcmp(specs[0], "fs1") == 0 &&
		   strcmp(specs[1], "fs2:4455") == 0 && strcmp(specs[2], "[::1]:445") == 0 &&
		   strcmp(specs[3], "[fe80::1]") == 0,
	   "a server list: comments, blank lines, spaces and CRLF skipped, names kept as written");
	f = fopen(path, "w");
	fputs("fs1\nfs2 fs3\n", f);
	fclose(f);
	ok(!server_list_read(mem, path, &specs, &n, err, sizeof err) && strstr(err, ":2: 'fs2 fs3'") != NULL,
	   "two names on one line: refused with FILE:LINE (%s)", err);
	f = fopen(path, "w");
	fputs("fs1:99999\n", f);
	fclose(f);
	ok(!server_list_read(mem, path, &specs, &n, err, sizeof err) && strstr(err, ":1:") != NULL,
	   "a bad port: refused (%s)", err);
	unlink(path);
	talloc_free(mem);
}

static void test_credentials(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct who w = { 0 };
	char path[] = "/tmp/smbnet-unit-XXXXXX", err[256];
	int fd;
	FILE *f;

	ok(parse_user_string(mem, "DOM\\bob%p%w d", &w) && strcmp(w.domain, "DOM") == 0 &&
		   strcmp(w.user, "bob") == 0 && strcmp(w.password, "p%w d") == 0,
	   "-U DOMAIN\\USER%%PASSWORD (password split at the first %%)");
	w = (struct who){ 0 };
	ok(parse_user_string(mem, "DOM/bob", &w) && strcmp(w.domain, "DOM") == 0 && strcmp(w.user, "bob") == 0 &&
		   w.password == NULL,
	   "-U DOMAIN/USER, no password");
	w = (struct who){ 0 };
	ok(parse_user_string(mem, "bob%", &w) && w.domain == NULL && strcmp(w.password, "") == 0,
	   "-U USER%% is an empty password");

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("# comment line\nUserName = EXAMPLE\\alice\r\n  password=  s3 cr=t \ndomain\t= OTHER\nrealm = R\n", f);
	fclose(f);
	w = (struct who){ 0 };
	ok(read_auth_file(mem, path, &w, err, sizeof err) && strcmp(w.user, "alice") == 0 &&
		   strcmp(w.password, "s3 cr=t ") == 0 && strcmp(w.domain, "OTHER") == 0,
	   "-A file: keys in any case, value after the spaces that follow =, CRLF, later domain wins");
	unlink(path);
	w = (struct who){ 0 };
	ok(!read_auth_file(mem, path, &w, err, sizeof err) && strstr(err, "cannot read") != NULL,
	   "-A of a missing file fails: %s", err);
	talloc_free(mem);
}

static int parse(TALLOC_CTX *mem, struct cli *c, enum mode *mode, const char *line)
{
	char *copy = talloc_strdup(mem, line), *save = NULL;
	char *argv[32];
	int argc = 0, rc;

	argv[argc++] = "smbnet";
	for (char *t = strtok_r(copy, " ", &save); t != NULL && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	rc = parse_args(mem, argc, argv, c);
	if (rc == 0 && !c->help && !c->version)
		rc = check_form(mem, c, mode);
	return rc;
}

static void test_command_line(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cli c;
	enum mode m = MODE_SESSION_LIST;

	ok(parse(mem, &c, &m, "session") == 0 && m == MODE_SESSION_LIST && c.n_servers == 1 &&
		   strcmp(c.servers[0], "localhost") == 0 && c.port == 445 && c.timeout_ms == 30000,
	   "session: defaults (localhost, port 445, 30 s)");
	ok(parse(mem, &c, &m, "SESSION /List") == 0 && m == MODE_SESSION_LIST && c.sw_list, "SESSION /List");
	ok(parse(mem, &c, &m, "Session --LIST") == 0 && c.sw_list, "Session --LIST");
	ok(parse(mem, &c, &m, "session \\\\PC1 /d /Y") == 0 && m == MODE_SESSION_DELETE && c.sw_yes &&
		   strcmp(c.client, "PC1") == 0,
	   "session \\\\PC1 /d /Y: abbreviated /DELETE");
	ok(parse(mem, &c, &m, "session \\\\PC1 /list") == 0 && m == MODE_SESSION_LIST && strcmp(c.client, "PC1") == 0,
	   "session \\\\PC1 /list: that computer's sessions as a list");
	ok(parse(mem, &c, &m, "session \\PC1") == 0 && m == MODE_SESSION_DETAIL && strcmp(c.client, "PC1") == 0,
	   "session \\PC1 (one backslash left by the shell)");
	ok(parse(mem, &c, &m, "session //10.0.0.5 --delete --yes") == 0 && m == MODE_SESSION_DELETE &&
		   strcmp(c.client, "10.0.0.5") == 0,
	   "session //ADDR --delete --yes");
	ok(parse(mem, &c, &m, "files 42 /CLOSE -S a,b:4455") == SMBNET_EXIT_USAGE,
	   "file ID /CLOSE with two servers is a usage error");
	ok(parse(mem, &c, &m, "-S fs1 --port=4455 -Ubob%pw file 42 --Close --y") == 0 && m == MODE_FILE_CLOSE &&
		   c.id == 42 && c.port == 4455 && strcmp(c.user_arg, "bob%pw") == 0 && c.sw_yes,
	   "-S fs1 --port=4455 -Ubob%%pw file 42 --Close --y");
	ok(parse(mem, &c, &m, "-S a,b -S c:1 --json --timeout 2.5 --signing required --encrypt AUTO file --path "
			      "C:\\x --client-user bob") == 0 &&
		   m == MODE_FILE_LIST && c.n_servers == 3 && strcmp(c.servers[2], "c:1") == 0 && c.json &&
		   c.timeout_ms == 2500 && c.signing == SMBSESS_POLICY_REQUIRED &&
		   c.encryption == SMBSESS_POLICY_AUTO && strcmp(c.path, "C:\\x") == 0,
	   "servers repeated and comma-separated, --timeout 2.5, policies, filters");
	ok(parse(mem, &c, &m, "-I 10.1.2.3 file 7") == 0 && m == MODE_FILE_DETAIL &&
		   strcmp(c.servers[0], "10.1.2.3") == 0,
	   "-I without -S names the server by its address");
	ok(parse(mem, &c, &m, "-kN session") == 0 && c.kerberos && c.no_pass, "clustered short flags -kN");
	ok(parse(mem, &c, &m, "--help") == 0 && c.help && parse(mem, &c, &m, "session /?") == 0 && c.help,
	   "--help and /?");
	ok(parse(mem, &c, &m, "file --path C:\\S\\*\\budget.xlsx /CLOSE") == 0 && m == MODE_FILE_CLOSE && !c.have_id &&
		   strcmp(c.base_path, "C:\\S\\") == 0 && c.parallel == 32,
	   "file --path GLOB /CLOSE: a bulk close; the literal prefix is the base path; --parallel 32 by default");
	ok(parse(mem, &c, &m, "-S a,b file --client-user bob --close") == 0 && m == MODE_FILE_CLOSE,
	   "file --client-user U --close on two servers");
	ok(parse(mem, &c, &m, "--parallel 3 --watch 2.5 session --client-user bob") == 0 && m == MODE_SESSION_LIST &&
		   c.parallel == 3 && c.watch_ms == 2500,
	   "--parallel 3 --watch 2.5 session");

	static const char *const bad[] = {
		"",
		"bogus",
		"session PC1",
		"session \\\\PC1 \\\\PC2",
		"session /DELETE /LIST",
		"session /CLOSE",
		"session --path x",
		"file /CLOSE",
		"file abc",
		"file -1",
		"file 4294967296",
		"file 1 2",
		"file /DELETE",
		"file /LIST",
		"file 5 --path x",
		"file /X",
		"-p 0 session",
		"-p 65536 session",
		"--port session",
		"--timeout 0 session",
		"--timeout nan session",
		"--timeout -1 session",
		"--signing off session",
		"--encrypt maybe session",
		"--nosuch session",
		"-Q session",
		"--json=yes session",
		"-S , session",
		"-S a:0 session",
		"-I x -S a,b session",
		"--client-user= session",
		"-S",
		"--parallel 0 session",
		"--parallel x session",
		"--watch 0 session",
		"--watch 0.01 file",
		"--watch 1 file 7",
		"--watch 1 session \\\\PC1",
		"--watch 1 session /DELETE /Y",
		"--watch 1 file --path x /CLOSE",
		"--path= file",
		"-S @/nonexistent/list session",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(parse(mem, &c, &m, bad[i]) == SMBNET_EXIT_USAGE, "usage error: smbnet %s", bad[i]);
	talloc_free(mem);
}

/* error_text and exit_status on servers made up here. */
static void test_errors(void)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cli c = { .client = "PC1", .id = 77, .timeout_ms = 30000 };
	struct app a = { .cli = &c, .mode = MODE_SESSION_LIST };
	struct server s1 = { .app = &a, .spec = "fs1", .host = "fs1", .port = 4455, .failed = true };
	struct server s2 = { .app = &a, .spec = "fs2", .host = "fs2", .port = 445 };
	struct server *list[2] = { &s1, &s2 };
	static const struct {
		enum step step;
		uint32_t domain, code;
		const char *want;
	} cases[] = {
		{ STEP_CONNECT, SMBSESS_DOMAIN_NTSTATUS, NT_OBJECT_NAME_NOT_FOUND, "offers no srvsvc pipe" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_NTSTATUS, NT_LOGON_FAILURE, "logon failure" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_ERRNO, ECONNREFUSED, "connection refused: nothing listens on port 4455" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT, "timed out: no answer within 30 seconds" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_HOST_NOT_FOUND, "unknown host" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_BIND_REJECTED, "does not serve the srvsvc interface" },
		{ STEP_CONNECT, SMBSESS_DOMAIN_NTSTATUS, NT_BAD_NETWORK_NAME, "no IPC$ share" },
		{ STEP_SESSIONS, SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED, "access denied: listing sessions" },
		{ STEP_FILES, SMBSESS_DOMAIN_NTSTATUS, NT_ACCESS_DENIED, "access denied: listing open files" },
		{ STEP_CLOSE, SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED, "SeDiskOperatorPrivilege" },
		{ STEP_DELETE, SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED, "Domain Admins" },
		{ STEP_CLOSE, SMBSESS_DOMAIN_WERROR, WERR_FILE_NOT_FOUND, "no such file id 77" },
		{ STEP_FILE_INFO, SMBSESS_DOMAIN_WERROR, WERR_NERR_FILE_ID_NOT_FOUND, "no such file id 77" },
		{ STEP_SESSIONS, SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND, "no session from \\\\PC1" },
		{ STEP_SESSIONS, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_DISCONNECTED, "closed the connection" },
		{ STEP_FILES, SMBSESS_DOMAIN_NDR, 2, "cannot list the open files: " },
	};

	a.servers = list;
	a.n_servers = 2;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *text;

		s1.failed_step = cases[i].step;
		s1.st = make_status(cases[i].domain, cases[i].code);
		text = error_text(mem, &s1);
		ok(strstr(text, cases[i].want) != NULL, "error %s: \"%s\"", smbsess_status_name(s1.st), text);
	}
	s1.st = make_status(SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED);
	ok(exit_status(&a) == SMBNET_EXIT_FAIL, "one of two servers denied: exit 1");
	s2.failed = true;
	s2.st = make_status(SMBSESS_DOMAIN_NTSTATUS, NT_ACCESS_DENIED);
	ok(exit_status(&a) == SMBNET_EXIT_DENIED, "both denied (WERROR and NTSTATUS): exit 5");
	s2.st = make_status(SMBSESS_DOMAIN_ERRNO, ECONNREFUSED);
	ok(exit_status(&a) == SMBNET_EXIT_FAIL, "denied and refused: exit 1");
	s1.failed = s2.failed = false;
	ok(exit_status(&a) == SMBNET_EXIT_OK, "no failure: exit 0");
	talloc_free(mem);
}

int main(void)
{
	test_json();
	test_text();
	test_specs();
	test_glob();
	test_server_list();
	test_credentials();
	test_command_line();
	test_errors();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
