/* UTF-16LE <-> UTF-8: exact conversions, surrogate pairs, strict rejection. */
#include <string.h>

#include "util/util.h"
#include "testutil.h"

static struct smbsess_status from16(TALLOC_CTX *t, const uint16_t *u, size_t n, char **out)
{
	uint8_t buf[64];

	for (size_t i = 0; i < n; i++)
		smbsess__put_le16(buf + 2 * i, u[i]);
	return smbsess__utf16le_to_utf8(t, buf, n, out);
}

START_TEST(to_utf8)
{
	TALLOC_CTX *t = talloc_new(NULL);
	/* "Aé€😀" = U+0041 U+00E9 U+20AC U+1F600 (D83D DE00) */
	const uint16_t in[] = { 0x0041, 0x00E9, 0x20AC, 0xD83D, 0xDE00 };
	char *s = NULL;

	ck_assert(smbsess__st_ok(from16(t, in, 5, &s)));
	ck_assert_str_eq(s, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	ck_assert(smbsess__st_ok(from16(t, in, 0, &s)));
	ck_assert_str_eq(s, "");
	/* The highest code point, U+10FFFF = DBFF DFFF. */
	const uint16_t max[] = { 0xDBFF, 0xDFFF };
	ck_assert(smbsess__st_ok(from16(t, max, 2, &s)));
	ck_assert_str_eq(s, "\xF4\x8F\xBF\xBF");
	/* All ASCII (the fast path), and ASCII up to a unit with a high byte: 0x0141 is not 'A'. */
	const uint16_t ascii[] = { 'C', ':', '\\', 'x', 0x7F };
	const uint16_t high_byte[] = { 'a', 'b', 0x0141, 'c' };
	ck_assert(smbsess__st_ok(from16(t, ascii, 5, &s)));
	ck_assert_str_eq(s, "C:\\x\x7F");
	ck_assert(smbsess__st_ok(from16(t, high_byte, 4, &s)));
	ck_assert_str_eq(s, "ab\xC5\x81" "c");
	talloc_free(t);
}
END_TEST

START_TEST(to_utf8_rejects)
{
	TALLOC_CTX *t = talloc_new(NULL);
	const uint16_t lone_high[] = { 0x0041, 0xD83D };
	const uint16_t lone_low[] = { 0xDE00, 0x0041 };
	const uint16_t high_high[] = { 0xD83D, 0xD83D };
	const uint16_t nul[] = { 0x0041, 0x0000, 0x0042 };
	const uint16_t nul_first[] = { 0x0000, 0x0041 };
	const uint16_t nul_high[] = { 0x0041, 0x0100, 0x0000 };
	char *s = (char *)"untouched";

	ck_assert_uint_eq(from16(t, lone_high, 2, &s).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(from16(t, lone_low, 2, &s).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(from16(t, high_high, 2, &s).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(from16(t, nul, 3, &s).domain, SMBSESS_DOMAIN_NDR);
	ck_assert_uint_eq(from16(t, nul_first, 2, &s).code, SMBSESS_NDR_E_STRING);
	ck_assert_uint_eq(from16(t, nul_high, 3, &s).code, SMBSESS_NDR_E_STRING);
	ck_assert_str_eq(s, "untouched");
	talloc_free(t);
}
END_TEST

START_TEST(from_utf8)
{
	const char *s = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
	const uint16_t want[] = { 0x0041, 0x00E9, 0x20AC, 0xD83D, 0xDE00 };
	uint8_t out[32];
	size_t units;

	ck_assert(smbsess__st_ok(smbsess__utf8_utf16_units(s, strlen(s), &units)));
	ck_assert_uint_eq(units, 5);
	ck_assert_uint_eq(smbsess__utf8_to_utf16le(s, strlen(s), out), 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(smbsess__le16(out + 2 * i), want[i]);
}
END_TEST

START_TEST(from_utf8_rejects)
{
	static const char *bad[] = {
		"\xC0\xAF",         /* overlong '/' */
		"\xE0\x80\xAF",     /* overlong */
		"\xED\xA0\x80",     /* surrogate D800 in UTF-8 */
		"\xF4\x90\x80\x80", /* above U+10FFFF */
		"\xF8\x88\x80\x80\x80",
		"\x80",             /* lone continuation */
		"A\xC3",            /* truncated */
		"\xE2\x82",         /* truncated */
		"\xFF",
	};
	size_t units;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(smbsess__utf8_utf16_units(bad[i], strlen(bad[i]), &units).code == SMBSESS_NDR_E_STRING,
			      "case %zu accepted", i);
	/* An embedded NUL inside the given length. */
	ck_assert_uint_eq(smbsess__utf8_utf16_units("a\0b", 3, &units).code, SMBSESS_NDR_E_STRING);
}
END_TEST

/* Every BMP code point but the surrogates and NUL survives a round trip. */
START_TEST(round_trip_bmp)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t u16[4], back[4];
	char *s;
	size_t units;

	for (uint32_t cp = 1; cp < 0x10000; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		smbsess__put_le16(u16, (uint16_t)cp);
		ck_assert(smbsess__st_ok(smbsess__utf16le_to_utf8(t, u16, 1, &s)));
		ck_assert(smbsess__st_ok(smbsess__utf8_utf16_units(s, strlen(s), &units)));
		ck_assert_uint_eq(units, 1);
		smbsess__utf8_to_utf16le(s, strlen(s), back);
		ck_assert_uint_eq(smbsess__le16(back), cp);
		talloc_free(s);
	}
	talloc_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("utf16");
	TCase *tc = testutil_tcase("utf16");

	tcase_add_test(tc, to_utf8);
	tcase_add_test(tc, to_utf8_rejects);
	tcase_add_test(tc, from_utf8);
	tcase_add_test(tc, from_utf8_rejects);
	tcase_add_test(tc, round_trip_bmp);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
