/*
 * The DER reader and writer of lib/auth (X.690 8.1): lengths in every form,
 * object identifiers, and everything a hostile peer can send instead.
 */
#include "auth/der.h"
#include "authtest.h"

static struct smbsess_status check(TALLOC_CTX *t, const char *hex)
{
	size_t len;
	uint8_t *p = authtest_hex(t, hex, &len);

	return smbsess__der_check(p, len, SMBSESS__DER_MAX_DEPTH);
}

START_TEST(writer_lengths)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__der_writer w;
	uint8_t v[300];
	uint8_t *out;
	size_t len;

	memset(v, 0xab, sizeof(v));
	/* X.690 8.1.3.4: short form below 128. */
	smbsess__der_writer_init(&w, t);
	smbsess__der_put(&w, 0x04, v, 127);
	authtest_ok(smbsess__der_finish(&w, &out, &len));
	ck_assert_uint_eq(len, 129);
	ck_assert_uint_eq(out[0], 0x04);
	ck_assert_uint_eq(out[1], 0x7f);
	/* 8.1.3.5: long form, minimal: 0x81 nn, then 0x82 nn nn. */
	smbsess__der_writer_init(&w, t);
	smbsess__der_put(&w, 0x04, v, 128);
	smbsess__der_put(&w, 0x04, v, 300);
	authtest_ok(smbsess__der_finish(&w, &out, &len));
	ck_assert_uint_eq(len, 3 + 128 + 4 + 300);
	ck_assert_mem_eq(out, "\x04\x81\x80", 3);
	ck_assert_mem_eq(out + 131, "\x04\x82\x01\x2c", 4);
	/* An empty value. */
	smbsess__der_writer_init(&w, t);
	smbsess__der_put(&w, 0x05, NULL, 0);
	authtest_ok(smbsess__der_finish(&w, &out, &len));
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(out, "\x05\x00", 2);
	talloc_free(t);
}
END_TEST

START_TEST(writer_nesting)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__der_writer w;
	uint8_t v[200];
	uint8_t *out;
	size_t len, a, b, c;

	memset(v, 0x11, sizeof(v));
	/* 30 { a0 { 04 <200> } 30 { } }: the inner lengths grow to long form after the content is written. */
	smbsess__der_writer_init(&w, t);
	a = smbsess__der_begin(&w, 0x30);
	b = smbsess__der_begin(&w, 0xa0);
	smbsess__der_put(&w, 0x04, v, 200);
	smbsess__der_end(&w, b);
	c = smbsess__der_begin(&w, 0x30);
	smbsess__der_end(&w, c);
	smbsess__der_end(&w, a);
	authtest_ok(smbsess__der_finish(&w, &out, &len));
	/* 04 81 c8 + 200 = 203; a0 81 cb + 203 = 206; 30 00 = 2; 30 81 d0 + 208 = 211 */
	ck_assert_uint_eq(len, 211);
	ck_assert_mem_eq(out, "\x30\x81\xd0\xa0\x81\xcb\x04\x81\xc8", 9);
	ck_assert_mem_eq(out + 209, "\x30\x00", 2);
	authtest_ok(smbsess__der_check(out, len, SMBSESS__DER_MAX_DEPTH));
	talloc_free(t);
}
END_TEST

START_TEST(writer_failure_frees)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__der_writer w;
	uint8_t *out = (uint8_t *)"untouched";
	size_t len = 7;

	smbsess__der_writer_init(&w, t);
	smbsess__der_put(&w, 0x04, (const uint8_t *)"x", 1);
	/* An end without its begin is a bug; the writer refuses and keeps nothing. */
	smbsess__der_end(&w, 5);
	authtest_lib_err(smbsess__der_finish(&w, &out, &len), SMBSESS_E_INTERNAL);
	ck_assert_str_eq((char *)out, "untouched");
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(talloc_total_blocks(t), 1);
	talloc_free(t);
}
END_TEST

START_TEST(reader_walk)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	/* 30 { 0a 01 01, a1 { 06 03 2a 03 04 } } 05 00 */
	uint8_t *p = authtest_hex(t, "30 0a 0a 01 01 a1 05 06 03 2a 03 04 05 00", &len);
	struct smbsess__der_cursor top, seq, ctx;
	struct smbsess__der_tlv tlv, e, f, o;
	uint32_t v;

	smbsess__der_cursor_init(&top, p, len);
	authtest_ok(smbsess__der_expect(&top, 0x30, &tlv));
	ck_assert_uint_eq(tlv.len, 10);
	ck_assert_uint_eq(tlv.raw_len, 12);
	ck_assert_int_eq(smbsess__der_peek(&top), 0x05);
	authtest_ok(smbsess__der_enter(&top, &tlv, &seq));
	ck_assert_uint_eq(seq.depth, 1);
	authtest_ok(smbsess__der_expect(&seq, 0x0a, &e));
	authtest_ok(smbsess__der_get_uint(&e, &v));
	ck_assert_uint_eq(v, 1);
	/* A wrong tag leaves the cursor where it was. */
	authtest_lib_err(smbsess__der_expect(&seq, 0xa0, &f), SMBSESS_E_PROTOCOL);
	authtest_ok(smbsess__der_expect(&seq, 0xa1, &f));
	ck_assert(smbsess__der_at_end(&seq));
	authtest_ok(smbsess__der_enter(&seq, &f, &ctx));
	authtest_ok(smbsess__der_expect(&ctx, 0x06, &o));
	ck_assert_mem_eq(o.value, "\x2a\x03\x04", 3);
	/* A primitive cannot be entered. */
	authtest_lib_err(smbsess__der_enter(&ctx, &o, &seq), SMBSESS_E_PROTOCOL);
	authtest_ok(smbsess__der_expect(&top, 0x05, &tlv));
	ck_assert(smbsess__der_at_end(&top));
	ck_assert_int_eq(smbsess__der_peek(&top), -1);
	talloc_free(t);
}
END_TEST

START_TEST(reader_uint)
{
	struct smbsess__der_tlv t = { 0 };
	uint32_t v = 99;

	t.value = (const uint8_t *)"\x00\x80";
	t.len = 2;
	authtest_ok(smbsess__der_get_uint(&t, &v));
	ck_assert_uint_eq(v, 128);
	/* Not minimal, negative, empty, too long. */
	t.value = (const uint8_t *)"\x00\x01";
	authtest_lib_err(smbsess__der_get_uint(&t, &v), SMBSESS_E_PROTOCOL);
	t.value = (const uint8_t *)"\xff";
	t.len = 1;
	authtest_lib_err(smbsess__der_get_uint(&t, &v), SMBSESS_E_PROTOCOL);
	t.len = 0;
	authtest_lib_err(smbsess__der_get_uint(&t, &v), SMBSESS_E_PROTOCOL);
	t.value = (const uint8_t *)"\x01\x00\x00\x00\x00";
	t.len = 5;
	authtest_lib_err(smbsess__der_get_uint(&t, &v), SMBSESS_E_PROTOCOL);
	ck_assert_uint_eq(v, 128);
}
END_TEST

/* OIDs encoded from their arcs by X.690 8.19 must match the bytes the SPNEGO code uses. */
START_TEST(oid_encoding)
{
	static const uint32_t ntlmssp[] = { 1, 3, 6, 1, 4, 1, 311, 2, 2, 10 };
	static const uint32_t spnego[] = { 1, 3, 6, 1, 5, 5, 2 };
	static const uint32_t krb5[] = { 1, 2, 840, 113554, 1, 2, 2 };
	static const uint32_t mskrb5[] = { 1, 2, 840, 48018, 1, 2, 2 };
	static const uint32_t big[] = { 2, 999, 4294967295u };
	uint8_t out[32];
	size_t len;

	authtest_ok(smbsess__der_oid_encode(ntlmssp, 10, out, sizeof(out), &len));
	authtest_mem_eq(out, len, (const uint8_t *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 10);
	authtest_ok(smbsess__der_oid_encode(spnego, 7, out, sizeof(out), &len));
	authtest_mem_eq(out, len, (const uint8_t *)"\x2b\x06\x01\x05\x05\x02", 6);
	authtest_ok(smbsess__der_oid_encode(krb5, 7, out, sizeof(out), &len));
	authtest_mem_eq(out, len, (const uint8_t *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02", 9);
	authtest_ok(smbsess__der_oid_encode(mskrb5, 7, out, sizeof(out), &len));
	authtest_mem_eq(out, len, (const uint8_t *)"\x2a\x86\x48\x82\xf7\x12\x01\x02\x02", 9);
	/* X.690 8.19.5 example: 2.999.3 is 0x88 0x37 0x03; 2^32-1 takes five groups. */
	authtest_ok(smbsess__der_oid_encode(big, 3, out, sizeof(out), &len));
	authtest_mem_eq(out, len, (const uint8_t *)"\x88\x37\x8f\xff\xff\xff\x7f", 7);
	authtest_lib_err(smbsess__der_oid_encode(big, 1, out, sizeof(out), &len), SMBSESS_E_INVALID_ARGUMENT);
	authtest_lib_err(smbsess__der_oid_encode((const uint32_t[]){ 1, 40 }, 2, out, sizeof(out), &len),
			 SMBSESS_E_INVALID_ARGUMENT);
	authtest_lib_err(smbsess__der_oid_encode(ntlmssp, 10, out, 5, &len), SMBSESS_E_LIMIT);
}
END_TEST

START_TEST(check_accepts)
{
	TALLOC_CTX *t = talloc_new(NULL);

	authtest_ok(check(t, ""));
	authtest_ok(check(t, "05 00"));
	authtest_ok(check(t, "30 00 30 03 04 01 aa"));
	/* Long form, and the non-minimal long form BER allows (tolerated). */
	authtest_ok(check(t, "04 81 01 aa"));
	authtest_ok(check(t, "30 84 00 00 00 03 04 01 aa"));
	/* Eight levels of nesting are the limit... */
	authtest_ok(check(t, "30 0e 30 0c 30 0a 30 08 30 06 30 04 30 02 30 00"));
	talloc_free(t);
}
END_TEST

START_TEST(check_rejects)
{
	TALLOC_CTX *t = talloc_new(NULL);

	/* ... nine are too many. */
	authtest_lib_err(check(t, "30 10 30 0e 30 0c 30 0a 30 08 30 06 30 04 30 02 30 00"),
			 SMBSESS_E_LIMIT);
	/* Lengths past the end: short form, long form, a child past its parent. */
	authtest_lib_err(check(t, "04 05 aa bb"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "04 82 01 00 aa"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "04 84 ff ff ff ff aa"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "30 03 04 05 aa bb cc dd ee"), SMBSESS_E_PROTOCOL);
	/* The length bytes themselves cut off. */
	authtest_lib_err(check(t, "04 82 01"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "04"), SMBSESS_E_PROTOCOL);
	/* Indefinite length, with and without its end-of-contents. */
	authtest_lib_err(check(t, "30 80"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "04 80"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "30 80 04 01 aa 00 00"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "a1 80 30 80 00 00 00 00"), SMBSESS_E_PROTOCOL);
	/* Reserved length 0xff, more than four length bytes. */
	authtest_lib_err(check(t, "04 ff"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "04 85 00 00 00 00 01 aa"), SMBSESS_E_PROTOCOL);
	/* End-of-contents on its own, a high tag number. */
	authtest_lib_err(check(t, "00 00"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "1f 81 00 00"), SMBSESS_E_PROTOCOL);
	/* Trailing half of a header after a valid item, inside and outside a container. */
	authtest_lib_err(check(t, "05 00 04"), SMBSESS_E_PROTOCOL);
	authtest_lib_err(check(t, "30 03 05 00 04"), SMBSESS_E_PROTOCOL);
	talloc_free(t);
}
END_TEST

/* Deep nesting is refused by the cursor too, without any recursion in the reader. */
START_TEST(enter_depth)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t buf[2 * 20];
	struct smbsess__der_cursor c, inner;
	struct smbsess__der_tlv tlv;
	unsigned levels = 0;
	struct smbsess_status st;

	for (int i = 0; i < 20; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (uint8_t)(2 * (19 - i));
	}
	authtest_lib_err(smbsess__der_check(buf, sizeof(buf), SMBSESS__DER_MAX_DEPTH), SMBSESS_E_LIMIT);
	/* A caller may ask for less than the compiled-in bound, never more. */
	authtest_lib_err(smbsess__der_check(buf, sizeof(buf), 1000), SMBSESS_E_LIMIT);
	authtest_lib_err(smbsess__der_check(buf + 36, 4, 1), SMBSESS_E_LIMIT);
	authtest_ok(smbsess__der_check(buf + 36, 4, 2));
	smbsess__der_cursor_init(&c, buf, sizeof(buf));
	for (;;) {
		authtest_ok(smbsess__der_next(&c, &tlv));
		st = smbsess__der_enter(&c, &tlv, &inner);
		if (!smbsess__st_ok(st))
			break;
		c = inner;
		levels++;
	}
	authtest_lib_err(st, SMBSESS_E_LIMIT);
	ck_assert_uint_eq(levels, SMBSESS__DER_MAX_DEPTH);
	talloc_free(t);
}
END_TEST

static Suite *der_suite(void)
{
	Suite *s = suite_create("auth-der");
	TCase *tc = testutil_tcase("der");

	tcase_add_test(tc, writer_lengths);
	tcase_add_test(tc, writer_nesting);
	tcase_add_test(tc, writer_failure_frees);
	tcase_add_test(tc, reader_walk);
	tcase_add_test(tc, reader_uint);
	tcase_add_test(tc, oid_encoding);
	tcase_add_test(tc, check_accepts);
	tcase_add_test(tc, check_rejects);
	tcase_add_test(tc, enter_depth);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(der_suite)
