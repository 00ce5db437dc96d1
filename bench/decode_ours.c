/*
 * decode_ours: the decode benchmark of libsmbsess's own coders (lib/ndr,
 * lib/srvsvc, through the internal static libraries, as
 * tests/tools/srvsvc_codec.c uses them), with the limits the library itself
 * decodes with (lib/api/call.c: the defaults).
 *
 *   decode_ours file|sess STUB.bin [ITERATIONS]     (see decode_common.h)
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include "srvsvc/srvsvc.h"

#include "decode_common.h"

static void *ours_pull(TALLOC_CTX *mem, int sess, uint8_t *data, size_t len)
{
	struct smbsess__srvsvc_enum_out *r = talloc_zero(mem, struct smbsess__srvsvc_enum_out);
	struct smbsess_status st;

	if (r == NULL)
		return NULL;
	/* what the library's enumeration would have asked for */
	r->ctr.level = sess ? 502 : 3;
	st = smbsess__ndr_pull_blob(r, data, len, NULL,
				    sess ? smbsess__srvsvc_sess_enum_out : smbsess__srvsvc_file_enum_out, r, sizeof *r);
	if (!smbsess__st_ok(st) || r->result != 0 || !r->ctr.present)
		return NULL;
	return r;
}

static uint32_t ours_check(FILE *f, const void *result, int sess)
{
	const struct smbsess__srvsvc_enum_out *r = result;
	uint32_t n = r->ctr.count;

	fprintf(f, "count=%" PRIu32, n);
	if (n == 0)
		return 0;
	if (sess) {
		const struct smbsess__srvsvc_sess_info *a = r->ctr.array;

		fprintf(f, " first=%s|%s|%s last=%s|%s|%s", a[0].client, a[0].user, a[0].transport, a[n - 1].client,
			a[n - 1].user, a[n - 1].transport);
	} else {
		const struct smbsess__srvsvc_file_info *a = r->ctr.array;

		fprintf(f, " first=%" PRIu32 "|%s|%s last=%" PRIu32 "|%s|%s", a[0].fid, a[0].path, a[0].user,
			a[n - 1].fid, a[n - 1].path, a[n - 1].user);
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct decoder d = { "ours", ours_pull, ours_check };

	return decode_main(&d, argc, argv);
}
