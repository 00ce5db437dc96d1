/*
 * srvsvc coders: round trips of every operation and level, a 100,000-entry
 * answer, and answers broken in every way a server could break them.
 * (Byte-exact agreement with Samba's encoder is tests/vectors.)
 */
#include <stdio.h>
#include <string.h>

#include "srvsvc/srvsvc.h"
#include "dump.h"
#include "testutil.h"

static char *dump(TALLOC_CTX *t, const struct codec_op *c, const void *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *s;

	c->dump(f, v);
	fclose(f);
	s = talloc_strdup(t, buf);
	free(buf);
	return s;
}

/* Push @p v with the op's coder, pull it back, and compare the dumps. */
static uint8_t *round_trip(TALLOC_CTX *t, const char *op, const char *dir, void *v, size_t *len)
{
	const struct codec_op *c = codec_find(op, dir);
	void *back = talloc_zero_size(t, c->size);
	uint8_t *blob;

	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, c->fn, v, &blob, len)));
	if (c->fn == smbsess__srvsvc_file_get_info_out)
		codec_set_level(c, back, ((struct smbsess__srvsvc_file_get_info_out *)v)->level);
	ck_assert(smbsess__st_ok(smbsess__ndr_pull_blob(t, blob, *len, NULL, c->fn, back, c->size)));
	ck_assert_str_eq(dump(t, c, back), dump(t, c, v));
	return blob;
}

static struct smbsess__srvsvc_sess_info *sessions(TALLOC_CTX *t, uint32_t n)
{
	struct smbsess__srvsvc_sess_info *a = talloc_zero_array(t, struct smbsess__srvsvc_sess_info, n);

	for (uint32_t i = 0; i < n; i++) {
		a[i].client = talloc_asprintf(t, "127.0.0.%u", i + 1);
		a[i].user = i == 1 ? NULL : talloc_asprintf(t, "user\xF0\x9F\x98\x80%u", i);
		a[i].num_open = i * 3;
		a[i].time = 0xFFFFFFFF - i;
		a[i].idle_time = i;
		a[i].user_flags = 1;
		a[i].client_type = i == 2 ? (char *)"" : (char *)"Windows";
		a[i].transport = (char *)"\\Device\\NetbiosSmb";
	}
	return a;
}

START_TEST(session_levels)
{
	static const uint32_t levels[] = { 0, 1, 2, 10, 502 };
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;

	for (size_t i = 0; i < 5; i++) {
		struct smbsess__srvsvc_enum_out out = {
			.ctr = { levels[i], true, 3, sessions(t, 3) },
			.totalentries = 3,
			.resume_handle = { true, 9 },
			.result = 234,
		};
		struct smbsess__srvsvc_sess_enum_in in = {
			.server_unc = (char *)"\\\\srv",
			.client = (char *)"\\\\127.0.0.1",
			.ctr = { levels[i], true, 0, NULL },
			.max_buffer = 0xFFFFFFFF,
			.resume_handle = { true, 0 },
		};
		round_trip(t, "sess_enum", "out", &out, &len);
		round_trip(t, "sess_enum", "in", &in, &len);
	}
	talloc_free(t);
}
END_TEST

START_TEST(file_and_connection_levels)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__srvsvc_file_info files[2] = {
		{ 0x10001, 0x3, 0, (char *)"C:\\srv\\Gr\xC3\xBC\xC3\x9F" "e.txt", (char *)"bob" },
		{ 0x20002, 0x1, 2, (char *)"C:\\srv\\\xF0\x9F\x98\x80.txt", NULL },
	};
	struct smbsess__srvsvc_conn_info conns[1] = {
		{ 7, 3, 2, 1, 100, (char *)"bob", (char *)"IPC$" },
	};
	size_t len;

	for (uint32_t level = 2; level <= 3; level++) {
		struct smbsess__srvsvc_enum_out out = { { level, true, 2, files }, 2, { false, 0 }, 0 };
		struct smbsess__srvsvc_file_enum_in in = { (char *)"\\\\srv", (char *)"C:\\srv", NULL,
							   { level, true, 0, NULL }, 65536, { true, 0 } };
		struct smbsess__srvsvc_file_get_info_out gi = { level, true, files[1], 0 };
		struct smbsess__srvsvc_file_get_info_in gin = { NULL, 0x20002, level };

		round_trip(t, "file_enum", "out", &out, &len);
		round_trip(t, "file_enum", "in", &in, &len);
		round_trip(t, "file_get_info", "out", &gi, &len);
		round_trip(t, "file_get_info", "in", &gin, &len);
	}
	for (uint32_t level = 0; level <= 1; level++) {
		struct smbsess__srvsvc_enum_out out = { { level, true, 1, conns }, 1, { true, 0 }, 0 };
		struct smbsess__srvsvc_conn_enum_in in = { (char *)"\\\\srv", (char *)"\\\\127.0.0.2",
							   { level, true, 0, NULL }, 65536, { false, 0 } };
		round_trip(t, "conn_enum", "out", &out, &len);
		round_trip(t, "conn_enum", "in", &in, &len);
	}
	struct smbsess__srvsvc_file_close_in fc = { (char *)"\\\\srv", 0x20002 };
	struct smbsess__srvsvc_sess_del_in sd = { NULL, (char *)"\\\\127.0.0.2", (char *)"bob" };
	struct smbsess__srvsvc_result_out res = { 2314 };
	round_trip(t, "file_close", "in", &fc, &len);
	round_trip(t, "sess_del", "in", &sd, &len);
	uint8_t *b = round_trip(t, "file_close", "out", &res, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(smbsess__le32(b), 2314);
	talloc_free(t);
}
END_TEST

/* An answer without the container (NULL arm) and with an unknown level ([default] arm). */
START_TEST(empty_arms)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__srvsvc_enum_out out = { { 1, false, 0, NULL }, 0, { false, 0 }, 5 };
	struct smbsess__srvsvc_enum_out back;
	size_t len;
	uint8_t *b = round_trip(t, "sess_enum", "out", &out, &len);

	ck_assert_uint_eq(len, 24); /* level, switch, NULL arm, total, NULL resume, result */
	out.ctr.level = 7;
	b = round_trip(t, "sess_enum", "out", &out, &len);
	ck_assert_uint_eq(len, 20); /* no arm pointer at all */
	ck_assert(smbsess__st_ok(smbsess__ndr_pull_blob(t, b, len, NULL, smbsess__srvsvc_sess_enum_out,
						       &back, sizeof back)));
	ck_assert_uint_eq(back.ctr.level, 7);
	ck_assert(!back.ctr.present);
	ck_assert_uint_eq(back.result, 5);
	talloc_free(t);
}
END_TEST

START_TEST(hundred_thousand_files)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const uint32_t n = 100000;
	struct smbsess__srvsvc_file_info *a = talloc_zero_array(t, struct smbsess__srvsvc_file_info, n);
	struct smbsess__srvsvc_enum_out out = { { 3, true, n, a }, n, { true, 0 }, 0 }, back;
	uint8_t *blob;
	size_t len;

	for (uint32_t i = 0; i < n; i++) {
		a[i].fid = i * 7 + 1;
		a[i].permissions = i & 3;
		a[i].num_locks = i % 5;
		a[i].path = talloc_asprintf(a, "C:\\share\\dir%u\\file-%u.txt", i % 100, i);
		a[i].user = talloc_asprintf(a, "user%u", i % 13);
	}
	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, smbsess__srvsvc_file_enum_out, &out, &blob, &len)));
	ck_assert(smbsess__st_ok(smbsess__ndr_pull_blob(t, blob, len, NULL, smbsess__srvsvc_file_enum_out,
						       &back, sizeof back)));
	ck_assert_uint_eq(back.ctr.count, n);
	const struct smbsess__srvsvc_file_info *b = back.ctr.array;
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_uint_eq(b[i].fid, i * 7 + 1);
		ck_assert_uint_eq(b[i].num_locks, i % 5);
		ck_assert_str_eq(b[i].path, a[i].path);
		ck_assert_str_eq(b[i].user, a[i].user);
	}
	talloc_free(t);
}
END_TEST

/* A sessions answer at level 1 with two entries, for the breakage tests. */
static uint8_t *sample(TALLOC_CTX *t, size_t *len)
{
	struct smbsess__srvsvc_sess_info a[2] = {
		{ (char *)"ab", (char *)"u", 1, 2, 3, 0, NULL, NULL },
		{ (char *)"cd", NULL, 4, 5, 6, 0, NULL, NULL },
	};
	struct smbsess__srvsvc_enum_out out = { { 1, true, 2, a }, 2, { true, 0 }, 0 };
	uint8_t *blob;

	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, smbsess__srvsvc_sess_enum_out, &out, &blob, len)));
	return blob;
}

static uint32_t pull_code(TALLOC_CTX *t, const uint8_t *d, size_t len, const struct smbsess__ndr_limits *lim)
{
	struct smbsess__srvsvc_enum_out r;
	struct smbsess_status st = smbsess__ndr_pull_blob(t, d, len, lim, smbsess__srvsvc_sess_enum_out, &r, sizeof r);

	if (smbsess__st_ok(st))
		return 0;
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_NDR);
	ck_assert_ptr_null(r.ctr.array);
	return st.code;
}

static size_t find16(const uint8_t *d, size_t len, const char *ascii)
{
	size_t n = strlen(ascii);

	for (size_t i = 0; i + 2 * n <= len; i++) {
		size_t k = 0;
		while (k < n && d[i + 2 * k] == (uint8_t)ascii[k] && d[i + 2 * k + 1] == 0)
			k++;
		if (k == n)
			return i;
	}
	ck_abort_msg("string %s not found", ascii);
	return 0;
}

START_TEST(truncated_at_every_byte)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *blob = sample(t, &len);

	ck_assert_uint_eq(pull_code(t, blob, len, NULL), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = talloc_memdup(t, blob, n + 1); /* exact-size copy for ASan */
		ck_assert_uint_ne(pull_code(t, copy, n, NULL), 0);
		talloc_free(copy);
	}
	talloc_free(t);
}
END_TEST

START_TEST(malformed_answers)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *blob = sample(t, &len);
	uint8_t *d = talloc_memdup(t, blob, len);
	struct smbsess__ndr_limits lim = smbsess__ndr_default_limits;
	/* level@0 switch@4 arm@8 count@12 array@16 max_count@20 elements@24 */
#define RESET() memcpy(d, blob, len)

	smbsess__put_le32(d + 4, 2);                /* switch disagrees with level */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_SWITCH);
	RESET();
	smbsess__put_le32(d + 20, 3);               /* size_is disagrees with count */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_ARRAY_SIZE);
	RESET();
	smbsess__put_le32(d + 12, 0xFFFFFFFF);      /* count that overflows */
	smbsess__put_le32(d + 20, 0xFFFFFFFF);
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_TOO_MANY);
	lim.max_entries = UINT32_MAX;
	ck_assert_uint_eq(pull_code(t, d, len, &lim), SMBSESS_NDR_E_SHORT);
	RESET();
	smbsess__put_le32(d + 16, 0);               /* NULL array with a count */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_POINTER);
	RESET();
	size_t ab = find16(d, len, "ab");
	smbsess__put_le16(d + ab, 0xDC00);          /* unpaired low surrogate */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_STRING);
	RESET();
	smbsess__put_le16(d + ab + 4, 'x');         /* terminator replaced */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_STRING);
	RESET();
	smbsess__put_le32(d + ab - 8, 1);           /* string offset != 0 */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_ARRAY_SIZE);
	RESET();
	smbsess__put_le32(d + ab - 4, 4);           /* actual_count > max_count */
	ck_assert_uint_eq(pull_code(t, d, len, NULL), SMBSESS_NDR_E_ARRAY_SIZE);
	RESET();
	smbsess__put_le32(d + ab - 4, 0x7FFFFFFF);  /* string longer than the data */
	smbsess__put_le32(d + ab - 12, 0x7FFFFFFF);
	lim = smbsess__ndr_default_limits;
	lim.max_string_units = UINT32_MAX;
	ck_assert_uint_eq(pull_code(t, d, len, &lim), SMBSESS_NDR_E_SHORT);
	RESET();
	lim = smbsess__ndr_default_limits;
	lim.max_entries = 1;
	ck_assert_uint_eq(pull_code(t, d, len, &lim), SMBSESS_NDR_E_TOO_MANY);
	lim = smbsess__ndr_default_limits;
	lim.max_alloc = 100;
	ck_assert_uint_eq(pull_code(t, d, len, &lim), SMBSESS_NDR_E_ALLOC_LIMIT);
	lim = smbsess__ndr_default_limits;
	lim.max_depth = 1;
	ck_assert_uint_eq(pull_code(t, d, len, &lim), SMBSESS_NDR_E_DEPTH);
	ck_assert_uint_eq(pull_code(t, d, len, NULL), 0); /* unchanged copy still decodes */
#undef RESET
	talloc_free(t);
}
END_TEST

START_TEST(file_get_info_switch)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__srvsvc_file_get_info_out gi = { 3, true, { 1, 2, 3, (char *)"p", (char *)"u" }, 0 };
	struct smbsess__srvsvc_file_get_info_out back = { .level = 2 };
	uint8_t *blob;
	size_t len;

	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, smbsess__srvsvc_file_get_info_out, &gi, &blob, &len)));
	/* Decoded as the answer to a level-2 request: the discriminant says 3. */
	ck_assert_uint_eq(smbsess__ndr_pull_blob(t, blob, len, NULL, smbsess__srvsvc_file_get_info_out,
						 &back, sizeof back).code, SMBSESS_NDR_E_SWITCH);
	talloc_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("srvsvc");
	TCase *tc = testutil_tcase("srvsvc");

	tcase_add_test(tc, session_levels);
	tcase_add_test(tc, file_and_connection_levels);
	tcase_add_test(tc, empty_arms);
	tcase_add_test(tc, hundred_thousand_files);
	tcase_add_test(tc, truncated_at_every_byte);
	tcase_add_test(tc, malformed_answers);
	tcase_add_test(tc, file_get_info_switch);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
