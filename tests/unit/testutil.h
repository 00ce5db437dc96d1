/*
 * Shared by the check-based unit tests: a fixture that fails a test which
 * leaves talloc memory behind, and a main that reports in TAP.
 */
#ifndef SMBSESS_TESTUTIL_H
#define SMBSESS_TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <talloc.h>

static size_t testutil_blocks;

static void testutil_setup(void)
{
	talloc_enable_null_tracking();
	testutil_blocks = talloc_total_blocks(NULL);
}

static void testutil_teardown(void)
{
	size_t now = talloc_total_blocks(NULL);

	if (now != testutil_blocks)
		talloc_report_full(NULL, stderr);
	/* Frees the tracking context itself, so that LeakSanitizer sees nothing of ours. */
	talloc_disable_null_tracking();
	ck_assert_msg(now == testutil_blocks, "talloc leak: %zu blocks before, %zu after",
		      testutil_blocks, now);
}

/* A test case with the leak check attached. */
static inline TCase *testutil_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, testutil_setup, testutil_teardown);
	tcase_set_timeout(tc, 120);
	return tc;
}

#define TESTUTIL_MAIN(make_suite) \
	int main(void) \
	{ \
		SRunner *sr = srunner_create(make_suite()); \
		int failed; \
		srunner_set_tap(sr, "-"); \
		srunner_run_all(sr, CK_SILENT); \
		failed = srunner_ntests_failed(sr); \
		srunner_free(sr); \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
