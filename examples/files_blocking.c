/*
 * files_blocking: list the open files of a server, and close one, with the
 * blocking API.
 *
 *   files_blocking SERVER PORT DOMAIN USER PASSWORD [ID-TO-CLOSE]
 *
 * Build: cc files_blocking.c $(pkg-config --cflags --libs smbsess)
 */
#include <stdio.h>
#include <stdlib.h>

#include <smbsess/smbsess.h>

static int fail(const char *what, struct smbsess_status st)
{
	char msg[256];

	fprintf(stderr, "%s: %s\n", what, smbsess_status_describe(st, msg, sizeof msg));
	return 1;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbsess_credentials *creds;
	struct smbsess_options *opts;
	struct smbsess_conn *conn;
	struct smbsess_file_list *files;
	struct smbsess_status st;
	int rc = 0;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: %s SERVER PORT DOMAIN USER PASSWORD [ID-TO-CLOSE]\n", argv[0]);
		return 2;
	}
	st = smbsess_credentials_new(mem, argv[3], argv[4], argv[5], &creds);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_new(mem, &opts);
	if (smbsess_status_is_ok(st))
		st = smbsess_options_set_port(opts, (uint16_t)atoi(argv[2]));
	if (smbsess_status_is_ok(st))
		st = smbsess_connect(mem, argv[1], creds, opts, &conn);
	if (!smbsess_status_is_ok(st)) {
		rc = fail("connect", st);
		goto out;
	}
	st = smbsess_file_enum(mem, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &files);
	if (!smbsess_status_is_ok(st)) {
		rc = fail("file enumeration", st);
		goto out;
	}
	for (size_t i = 0; i < smbsess_file_list_count(files); i++)
		printf("%u\t%s\t%s\tlocks=%u\n", smbsess_file_id(files, i),
		       smbsess_file_path(files, i) ? smbsess_file_path(files, i) : "",
		       smbsess_file_user(files, i) ? smbsess_file_user(files, i) : "",
		       smbsess_file_num_locks(files, i));
	if (argc == 7) {
		st = smbsess_file_close(conn, (uint32_t)strtoul(argv[6], NULL, 0));
		if (!smbsess_status_is_ok(st))
			rc = fail("close", st);
	}
out:
	talloc_free(mem); /* disconnects and frees everything */
	return rc;
}
