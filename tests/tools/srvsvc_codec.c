/*
 * srvsvc_codec: decode a srvsvc stub with libsmbsess's coders and print it in
 * the canonical text form (dump), or decode and encode it again (repush).
 * Used by tests/vectors/check_vectors.py to compare against Samba.
 *
 *   srvsvc_codec dump|repush OP in|out FILE.hex [LEVEL]
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "dump.h"

static uint8_t *read_hex(TALLOC_CTX *mem, const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	uint8_t *buf = NULL;
	size_t n = 0;
	int c, hi = -1;

	if (f == NULL)
		return NULL;
	buf = talloc_array(mem, uint8_t, 1);
	while (buf != NULL && (c = fgetc(f)) != EOF) {
		int v;

		if (isspace(c))
			continue;
		if (!isxdigit(c)) {
			buf = NULL;
			break;
		}
		v = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
		if (hi < 0) {
			hi = v;
			continue;
		}
		buf = talloc_realloc(mem, buf, uint8_t, n + 1);
		if (buf != NULL)
			buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	fclose(f);
	if (hi >= 0)
		return NULL;
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	const struct codec_op *c;
	uint8_t *data;
	size_t len;
	void *value;
	struct smbsess_status st;
	char msg[256];
	int rc = 0;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s dump|repush OP in|out FILE.hex [LEVEL]\n", argv[0]);
		return 2;
	}
	c = codec_find(argv[2], argv[3]);
	if (c == NULL) {
		fprintf(stderr, "unknown operation %s %s\n", argv[2], argv[3]);
		return 2;
	}
	data = read_hex(mem, argv[4], &len);
	if (data == NULL) {
		fprintf(stderr, "cannot read hex from %s\n", argv[4]);
		return 2;
	}
	value = talloc_zero_size(mem, c->size);
	if (argc == 6)
		codec_set_level(c, value, (uint32_t)strtoul(argv[5], NULL, 0));
	st = smbsess__ndr_pull_blob(mem, data, len, NULL, c->fn, value, c->size);
	if (!smbsess__st_ok(st)) {
		printf("error=%s\n", smbsess__status_describe(st, msg, sizeof msg));
		rc = 1;
	} else if (argv[1][0] == 'd') {
		c->dump(stdout, value);
	} else {
		uint8_t *out;
		size_t out_len;

		st = smbsess__ndr_push_blob(mem, c->fn, value, &out, &out_len);
		if (!smbsess__st_ok(st)) {
			printf("error=%s\n", smbsess__status_describe(st, msg, sizeof msg));
			rc = 1;
		} else {
			for (size_t i = 0; i < out_len; i++)
				printf("%02x%s", out[i], (i % 32 == 31 || i + 1 == out_len) ? "\n" : "");
		}
	}
	talloc_free(mem);
	return rc;
}
