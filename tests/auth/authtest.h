/*
 * Helpers shared by the auth tests: hex vectors as they are printed in the
 * specifications (spaces and newlines allowed), and byte comparisons that
 * show both sides on failure.
 */
#ifndef SMBSESS_TESTS_AUTHTEST_H
#define SMBSESS_TESTS_AUTHTEST_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* Decodes @p s into a new talloc buffer; whitespace is skipped. Aborts the test on bad input. */
static inline uint8_t *authtest_hex(TALLOC_CTX *mem_ctx, const char *s, size_t *len)
{
	size_t n = 0, cap = strlen(s) / 2 + 1;
	uint8_t *out = talloc_array(mem_ctx, uint8_t, cap);
	int hi = -1;

	ck_assert_ptr_nonnull(out);
	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s))
			continue;
		ck_assert_msg(isxdigit((unsigned char)*s), "bad hex digit '%c'", *s);
		v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	ck_assert_msg(hi < 0, "odd number of hex digits");
	*len = n;
	return out;
}

static inline void authtest_dump(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

#define authtest_mem_eq(got, got_len, want, want_len)                                   \
	do {                                                                            \
		size_t authtest_gl = (got_len), authtest_wl = (want_len);               \
		if (authtest_gl != authtest_wl ||                                       \
		    memcmp((got), (want), authtest_wl) != 0) {                          \
			authtest_dump("got", (got), authtest_gl);                      \
			authtest_dump("want", (want), authtest_wl);                    \
		}                                                                       \
		ck_assert_uint_eq(authtest_gl, authtest_wl);                            \
		ck_assert_mem_eq((got), (want), authtest_wl);                           \
	} while (0)

/* A status check that names the status on failure. */
#define authtest_ok(expr)                                                                \
	do {                                                                             \
		struct smbsess_status authtest_st = (expr);                              \
		ck_assert_msg(smbsess__st_ok(authtest_st), "%s: %s", #expr,             \
			      smbsess__status_name(authtest_st));                        \
	} while (0)

#define authtest_lib_err(expr, want_code)                                                \
	do {                                                                             \
		struct smbsess_status authtest_st = (expr);                              \
		ck_assert_msg(authtest_st.domain == SMBSESS_DOMAIN_LIBRARY &&            \
				      authtest_st.code == (uint32_t)(want_code),         \
			      "%s: got %s, want code %u", #expr,                         \
			      smbsess__status_name(authtest_st), (unsigned)(want_code)); \
	} while (0)

#endif
