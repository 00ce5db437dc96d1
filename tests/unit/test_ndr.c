/* The NDR engine: alignment, pointers, strings, arrays, limits. */
#include <string.h>

#include "ndr/ndr.h"
#include "testutil.h"

struct item {
	uint32_t a;
	char *s;
};

static const struct smbsess__ndr_field item_fields[] = {
	SMBSESS__NDR_FIELD_U32(struct item, a),
	SMBSESS__NDR_FIELD_USTR(struct item, s),
	SMBSESS__NDR_FIELD_END
};
static const struct smbsess__ndr_type item_type = { sizeof(struct item), item_fields };

struct list {
	uint32_t count;
	struct item *array;
};

static struct smbsess_status list_fn(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct list *l = p;
	return smbsess__ndr_counted_array(ndr, flags, &l->count, (void **)&l->array, &item_type);
}

static struct smbsess_status string_fn(struct smbsess__ndr *ndr, int flags, void *p)
{
	return smbsess__ndr_unique_string(ndr, flags, p);
}

static struct smbsess_status pull_status(TALLOC_CTX *t, const uint8_t *d, size_t n,
					 const struct smbsess__ndr_limits *lim, smbsess__ndr_fn fn,
					 void *v, size_t size)
{
	return smbsess__ndr_pull_blob(t, d, n, lim, fn, v, size);
}

START_TEST(primitives_and_alignment)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ndr *ndr = smbsess__ndr_push_new(t);
	uint8_t b = 0xAB;
	uint16_t h = 0x1234;
	uint32_t w = 0xDEADBEEF;
	uint64_t q = 0x0102030405060708ull;
	static const uint8_t want[] = {
		0xAB, 0x00, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0xAB, 0x00, 0x00, 0x00, 0xEF, 0xBE, 0xAD, 0xDE,
	};

	ck_assert(smbsess__st_ok(smbsess__ndr_u8(ndr, &b)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u16(ndr, &h)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u32(ndr, &w)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u64(ndr, &q)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u8(ndr, &b)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u32(ndr, &w)));
	ck_assert_uint_eq(ndr->len, sizeof want);
	ck_assert_mem_eq(ndr->data, want, sizeof want);

	struct smbsess__ndr *p = smbsess__ndr_pull_new(t, want, sizeof want, NULL);
	uint8_t b2;
	uint16_t h2;
	uint32_t w2;
	uint64_t q2;
	ck_assert(smbsess__st_ok(smbsess__ndr_u8(p, &b2)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u16(p, &h2)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u32(p, &w2)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u64(p, &q2)));
	ck_assert_uint_eq(b2, b);
	ck_assert_uint_eq(h2, h);
	ck_assert_uint_eq(w2, w);
	ck_assert(q2 == q);
	ck_assert(smbsess__st_ok(smbsess__ndr_u8(p, &b2)));
	ck_assert(smbsess__st_ok(smbsess__ndr_u32(p, &w2)));
	/* Nothing left: every further read is short, and leaves the position alone. */
	ck_assert_uint_eq(smbsess__ndr_u8(p, &b2).code, SMBSESS_NDR_E_SHORT);
	ck_assert_uint_eq(p->ofs, sizeof want);
	talloc_free(t);
}
END_TEST

START_TEST(short_reads)
{
	TALLOC_CTX *t = talloc_new(NULL);
	static const uint8_t d[] = { 1, 2, 3 };
	struct smbsess__ndr *p = smbsess__ndr_pull_new(t, d, sizeof d, NULL);
	uint32_t w;
	uint16_t h;

	ck_assert_uint_eq(smbsess__ndr_u32(p, &w).code, SMBSESS_NDR_E_SHORT);
	ck_assert(smbsess__st_ok(smbsess__ndr_u16(p, &h)));
	ck_assert_uint_eq(smbsess__ndr_u16(p, &h).code, SMBSESS_NDR_E_SHORT); /* align to 4 is past the end */
	talloc_free(t);
}
END_TEST

START_TEST(referent_ids)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__ndr *ndr = smbsess__ndr_push_new(t);
	bool yes = true, no = false;

	ck_assert(smbsess__st_ok(smbsess__ndr_ptr(ndr, &yes)));
	ck_assert(smbsess__st_ok(smbsess__ndr_ptr(ndr, &no)));
	ck_assert(smbsess__st_ok(smbsess__ndr_ptr(ndr, &yes)));
	ck_assert_uint_eq(smbsess__le32(ndr->data), 0x00020000);
	ck_assert_uint_eq(smbsess__le32(ndr->data + 4), 0);
	ck_assert_uint_eq(smbsess__le32(ndr->data + 8), 0x00020004); /* NULL takes no id */
	talloc_free(t);
}
END_TEST

START_TEST(string_encoding)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char *s = (char *)"ab", *back = NULL;
	uint8_t *out;
	size_t len;
	static const uint8_t want[] = {
		0x00, 0x00, 0x02, 0x00, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
		'a', 0, 'b', 0, 0, 0,
	};

	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, string_fn, &s, &out, &len)));
	ck_assert_uint_eq(len, sizeof want);
	ck_assert_mem_eq(out, want, sizeof want);
	ck_assert(smbsess__st_ok(pull_status(t, out, len, NULL, string_fn, &back, sizeof back)));
	ck_assert_str_eq(back, "ab");

	/* A NULL pointer is a zero referent and no body. */
	char *null = NULL;
	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, string_fn, &null, &out, &len)));
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(smbsess__le32(out), 0);
	back = (char *)"x";
	ck_assert(smbsess__st_ok(pull_status(t, out, len, NULL, string_fn, &back, sizeof back)));
	ck_assert_ptr_null(back);

	/* Invalid UTF-8 cannot be pushed. */
	char *bad = (char *)"\xC0\xAF";
	ck_assert_uint_eq(smbsess__ndr_push_blob(t, string_fn, &bad, &out, &len).code, SMBSESS_NDR_E_STRING);
	talloc_free(t);
}
END_TEST

/* Builds a pointer + string header by hand and decodes it. */
static struct smbsess_status pull_raw_string(TALLOC_CTX *t, uint32_t max, uint32_t off, uint32_t actual,
					     const uint16_t *units, size_t n, const struct smbsess__ndr_limits *lim)
{
	uint8_t buf[128];
	char *s = NULL;

	smbsess__put_le32(buf, 0x20000);
	smbsess__put_le32(buf + 4, max);
	smbsess__put_le32(buf + 8, off);
	smbsess__put_le32(buf + 12, actual);
	for (size_t i = 0; i < n; i++)
		smbsess__put_le16(buf + 16 + 2 * i, units[i]);
	return pull_status(t, buf, 16 + 2 * n, lim, string_fn, &s, sizeof s);
}

START_TEST(string_rejects)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const uint16_t ok[] = { 'a', 'b', 0 };
	const uint16_t noterm[] = { 'a', 'b', 'c' };
	const uint16_t lone[] = { 0xD800, 'b', 0 };
	const uint16_t nul[] = { 'a', 0, 0 };
	struct smbsess__ndr_limits lim = smbsess__ndr_default_limits;

	ck_assert(smbsess__st_ok(pull_raw_string(t, 3, 0, 3, ok, 3, NULL)));
	ck_assert(smbsess__st_ok(pull_raw_string(t, 10, 0, 3, ok, 3, NULL))); /* max above actual is legal */
	ck_assert_uint_eq(pull_raw_string(t, 3, 1, 3, ok, 3, NULL).code, SMBSESS_NDR_E_ARRAY_SIZE);
	ck_assert_uint_eq(pull_raw_string(t, 2, 0, 3, ok, 3, NULL).code, SMBSESS_NDR_E_ARRAY_SIZE);
	ck_assert_uint_eq(pull_raw_string(t, 0, 0, 0, ok, 0, NULL).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, noterm, 3, NULL).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, lone, 3, NULL).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, nul, 3, NULL).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, ok, 2, NULL).code, SMBSESS_NDR_E_SHORT);
	ck_assert_uint_eq(pull_raw_string(t, 0xFFFFFFFF, 0, 0xFFFFFFFF, ok, 3, NULL).code,
			  SMBSESS_NDR_E_TOO_MANY);
	lim.max_string_units = 2;
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, ok, 3, &lim).code, SMBSESS_NDR_E_TOO_MANY);
	lim = smbsess__ndr_default_limits;
	lim.max_alloc = 4;
	ck_assert_uint_eq(pull_raw_string(t, 3, 0, 3, ok, 3, &lim).code, SMBSESS_NDR_E_ALLOC_LIMIT);
	talloc_free(t);
}
END_TEST

static uint8_t *push_list(TALLOC_CTX *t, uint32_t n, size_t *len)
{
	struct list l = { n, talloc_zero_array(t, struct item, n ? n : 1) };
	uint8_t *out;

	for (uint32_t i = 0; i < n; i++) {
		l.array[i].a = i;
		l.array[i].s = i % 2 ? talloc_asprintf(t, "item-%u", i) : NULL;
	}
	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, list_fn, &l, &out, len)));
	return out;
}

START_TEST(arrays)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *blob = push_list(t, 5, &len);
	struct list l;

	ck_assert(smbsess__st_ok(pull_status(t, blob, len, NULL, list_fn, &l, sizeof l)));
	ck_assert_uint_eq(l.count, 5);
	for (uint32_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(l.array[i].a, i);
		if (i % 2)
			ck_assert_str_eq(l.array[i].s, talloc_asprintf(t, "item-%u", i));
		else
			ck_assert_ptr_null(l.array[i].s);
	}
	/* count, ptr, max_count, then the scalars of all elements, then their strings. */
	ck_assert_uint_eq(smbsess__le32(blob), 5);
	ck_assert_uint_eq(smbsess__le32(blob + 8), 5);
	ck_assert_uint_eq(smbsess__le32(blob + 12), 0);        /* [0].a */
	ck_assert_uint_eq(smbsess__le32(blob + 16), 0);        /* [0].s NULL */
	ck_assert_uint_eq(smbsess__le32(blob + 24), 0x20004);  /* [1].s */
	ck_assert_uint_eq(smbsess__le32(blob + 52), 7);        /* [1].s max_count ("item-1" + NUL), after 5 elements */

	/* A present empty array is not NULL; a NULL array with count 0 is NULL. */
	struct list e = { 0, talloc_zero(t, struct item) };
	uint8_t *out;
	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, list_fn, &e, &out, &len)));
	ck_assert(smbsess__st_ok(pull_status(t, out, len, NULL, list_fn, &l, sizeof l)));
	ck_assert_ptr_nonnull(l.array);
	e.array = NULL;
	ck_assert(smbsess__st_ok(smbsess__ndr_push_blob(t, list_fn, &e, &out, &len)));
	ck_assert(smbsess__st_ok(pull_status(t, out, len, NULL, list_fn, &l, sizeof l)));
	ck_assert_ptr_null(l.array);
	/* Pushing a NULL array with a count is a caller error. */
	e.count = 2;
	ck_assert_uint_eq(smbsess__ndr_push_blob(t, list_fn, &e, &out, &len).code, SMBSESS_NDR_E_POINTER);
	talloc_free(t);
}
END_TEST

START_TEST(array_rejects)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *blob = push_list(t, 5, &len);
	uint8_t *d = talloc_memdup(t, blob, len);
	struct smbsess__ndr_limits lim = smbsess__ndr_default_limits;
	struct list l;

	/* size_is disagreeing with the count */
	smbsess__put_le32(d + 8, 6);
	ck_assert_uint_eq(pull_status(t, d, len, NULL, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_ARRAY_SIZE);
	ck_assert_ptr_null(l.array); /* zeroed on failure */
	/* a count that would overflow 32-bit arithmetic */
	memcpy(d, blob, len);
	smbsess__put_le32(d, 0xFFFFFFFF);
	smbsess__put_le32(d + 8, 0xFFFFFFFF);
	ck_assert_uint_eq(pull_status(t, d, len, NULL, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_TOO_MANY);
	lim.max_entries = UINT32_MAX;
	ck_assert_uint_eq(pull_status(t, d, len, &lim, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_SHORT);
	/* a NULL array with a non-zero count */
	memcpy(d, blob, len);
	smbsess__put_le32(d + 4, 0);
	ck_assert_uint_eq(pull_status(t, d, len, NULL, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_POINTER);
	/* limits */
	lim = smbsess__ndr_default_limits;
	lim.max_entries = 4;
	ck_assert_uint_eq(pull_status(t, blob, len, &lim, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_TOO_MANY);
	lim = smbsess__ndr_default_limits;
	lim.max_alloc = 5 * sizeof(struct item) - 1;
	ck_assert_uint_eq(pull_status(t, blob, len, &lim, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_ALLOC_LIMIT);
	lim = smbsess__ndr_default_limits;
	lim.max_depth = 0;
	ck_assert_uint_eq(pull_status(t, blob, len, &lim, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_DEPTH);
	/* truncated anywhere */
	for (size_t n = 0; n < len; n++)
		ck_assert_uint_eq(pull_status(t, blob, n, NULL, list_fn, &l, sizeof l).domain, SMBSESS_DOMAIN_NDR);
	talloc_free(t);
}
END_TEST

START_TEST(trailing_bytes)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *blob = push_list(t, 2, &len);
	uint8_t *d = talloc_zero_array(t, uint8_t, len + 8);
	struct list l;

	memcpy(d, blob, len);
	ck_assert(smbsess__st_ok(pull_status(t, d, len + 7, NULL, list_fn, &l, sizeof l)));
	ck_assert_uint_eq(pull_status(t, d, len + 8, NULL, list_fn, &l, sizeof l).code, SMBSESS_NDR_E_TRAILING);
	talloc_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ndr");
	TCase *tc = testutil_tcase("ndr");

	tcase_add_test(tc, primitives_and_alignment);
	tcase_add_test(tc, short_reads);
	tcase_add_test(tc, referent_ids);
	tcase_add_test(tc, string_encoding);
	tcase_add_test(tc, string_rejects);
	tcase_add_test(tc, arrays);
	tcase_add_test(tc, array_rejects);
	tcase_add_test(tc, trailing_bytes);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
