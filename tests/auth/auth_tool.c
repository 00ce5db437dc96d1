/*
 * Drives the auth layer for tests/auth/oracle_impacket.py, one token per
 * line of hex on stdin and stdout ("-" is an empty token):
 *
 *   auth_tool ntlm USER DOMAIN PASSWORD [WORKSTATION]
 *     out: negotiate HEX; in: CHALLENGE; out: authenticate HEX, key HEX|none
 *   auth_tool spnego USER DOMAIN PASSWORD
 *     per input token: out HEX|-, key HEX|none; "done" when finished
 *
 * Errors print "error NAME" and exit 1. Real randomness and real time:
 * nothing is fixed for the oracle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ntlmssp.h"
#include "auth/spnego.h"

static void print_hex(const char *what, const uint8_t *p, size_t len)
{
	printf("%s ", what);
	if (len == 0)
		printf("-");
	for (size_t i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
	fflush(stdout);
}

static int fail(struct smbsess_status st)
{
	printf("error %s\n", smbsess__status_name(st));
	fflush(stdout);
	return 1;
}

/* Reads one line of hex into a talloc buffer; "-" is empty. NULL at end of input or on bad hex. */
static uint8_t *read_hex(TALLOC_CTX *mem_ctx, size_t *len)
{
	static char line[1 << 17];
	size_t n, o = 0;
	uint8_t *out;

	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	out = talloc_array(mem_ctx, uint8_t, n / 2 + 1);
	if (out == NULL)
		return NULL;
	if (strcmp(line, "-") == 0) {
		*len = 0;
		return out;
	}
	if (n % 2)
		return NULL;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;

		if (sscanf(line + i, "%2x", &v) != 1)
			return NULL;
		out[o++] = (uint8_t)v;
	}
	*len = o;
	return out;
}

static void print_key(struct smbsess_status st, const uint8_t key[16])
{
	if (smbsess__st_ok(st))
		print_hex("key", key, 16);
	else
		printf("key none\n");
	fflush(stdout);
}

static int run_ntlm(TALLOC_CTX *t, const struct smbsess__creds *creds, const char *ws)
{
	struct smbsess__ntlmssp *n;
	uint8_t *neg, *chal, *auth, key[16];
	size_t neg_len, chal_len, auth_len;
	struct smbsess_status st;

	st = smbsess__ntlmssp_client_new(t, creds, &n);
	if (smbsess__st_ok(st) && ws)
		st = smbsess__ntlmssp_set_workstation(n, ws);
	if (smbsess__st_ok(st))
		st = smbsess__ntlmssp_negotiate(n, t, &neg, &neg_len);
	if (!smbsess__st_ok(st))
		return fail(st);
	print_hex("negotiate", neg, neg_len);
	chal = read_hex(t, &chal_len);
	if (chal == NULL)
		return fail(SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
	st = smbsess__ntlmssp_authenticate(n, chal, chal_len, t, &auth, &auth_len);
	if (!smbsess__st_ok(st))
		return fail(st);
	print_hex("authenticate", auth, auth_len);
	print_key(smbsess__ntlmssp_session_key(n, key), key);
	return 0;
}

static int run_spnego(TALLOC_CTX *t, const struct smbsess__creds *creds)
{
	struct smbsess__spnego_client *c;
	struct smbsess_status st = smbsess__spnego_client_new(t, creds, &c);
	uint8_t key[16];

	if (!smbsess__st_ok(st))
		return fail(st);
	while (!smbsess__spnego_client_done(c)) {
		size_t in_len, out_len;
		uint8_t *in = read_hex(t, &in_len), *out;

		if (in == NULL)
			return fail(SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		st = smbsess__spnego_client_step(c, t, in, in_len, &out, &out_len);
		if (!smbsess__st_ok(st))
			return fail(st);
		print_hex("out", out, out_len);
		print_key(smbsess__spnego_client_session_key(c, key), key);
	}
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *t;
	struct smbsess__creds *creds;
	int rc;

	if (argc < 5 || (strcmp(argv[1], "ntlm") != 0 && strcmp(argv[1], "spnego") != 0)) {
		fprintf(stderr, "usage: %s ntlm|spnego USER DOMAIN PASSWORD [WORKSTATION]\n", argv[0]);
		return 2;
	}
	t = talloc_new(NULL);
	if (!smbsess__st_ok(smbsess__creds_new(t, argv[3], argv[2], argv[4], &creds)))
		return 2;
	if (strcmp(argv[1], "ntlm") == 0)
		rc = run_ntlm(t, creds, argc > 5 ? argv[5] : NULL);
	else
		rc = run_spnego(t, creds);
	talloc_free(t);
	return rc;
}
