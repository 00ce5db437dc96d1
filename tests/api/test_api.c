/*
 * The public API against a scripted srvsvc server (fake_srvsvc): paging with
 * resume handles, a resume handle that never moves, the entry limit, level
 * fallback and its memory, the NetrFileGetInfo fallback, client-side
 * filters, errors, cancelling. Real servers are in tests/integration.
 */
#include <string.h>

#include <smbsess/smbsess.h>

#include "api/api.h"
#include "fake_srvsvc.h"
#include "testutil.h"

static struct tevent_context *ev;

static bool ok(struct smbsess_status st)
{
	return smbsess_status_is_ok(st);
}

static struct smbsess_conn *fake_conn(TALLOC_CTX *t, struct fake_srvsvc *f, const struct smbsess_options *opts)
{
	struct smbsess__rpc_transport *tr = fake_srvsvc_transport(t, f);
	struct tevent_req *req = smbsess__rpc_bind_send(t, ev, tr, smbsess__rpc_srvsvc_uuid, 3, 0, 5000);
	struct smbsess__rpc_pipe *pipe = NULL;
	struct smbsess_conn *conn = NULL;

	ck_assert(tevent_req_poll(req, ev));
	ck_assert(ok(smbsess__rpc_bind_recv(req, t, &pipe)));
	talloc_free(req);
	ck_assert(ok(smbsess__conn_from_pipe(t, ev, "fake", opts, pipe, &conn)));
	return conn;
}

static struct smbsess_options *opts_with(TALLOC_CTX *t, uint32_t page, uint32_t max_entries)
{
	struct smbsess_options *o;

	ck_assert(ok(smbsess_options_new(t, &o)));
	if (page)
		ck_assert(ok(smbsess_options_set_page_size(o, page)));
	if (max_entries)
		ck_assert(ok(smbsess_options_set_max_entries(o, max_entries)));
	return o;
}

static void setup(void)
{
	/* The first context registers tevent's backends for good: not a leak of ours. */
	talloc_free(tevent_context_init(NULL));
	testutil_setup();
	ev = tevent_context_init(NULL);
}

static void teardown(void)
{
	talloc_free(ev);
	testutil_teardown();
}

START_TEST(paging_collects_every_page)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 2500 };
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 4096, 0));
	struct smbsess_file_list *l = NULL;

	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 2500);
	ck_assert_uint_eq(smbsess_file_list_level(l), 3);
	ck_assert_uint_gt(f.pages, 30); /* 64 entries a page */
	ck_assert_uint_eq(f.last_max_buffer, 4096);
	for (uint32_t i = 0; i < 2500; i++) {
		struct smbsess__srvsvc_file_info want;
		fake_srvsvc_file(t, i, &want);
		ck_assert_uint_eq(smbsess_file_id(l, i), want.fid);
		ck_assert_str_eq(smbsess_file_path(l, i), want.path);
		ck_assert_str_eq(smbsess_file_user(l, i), want.user);
		ck_assert_uint_eq(smbsess_file_num_locks(l, i), want.num_locks);
	}
	/* Out of range: no crash, no value. */
	ck_assert_ptr_null(smbsess_file_path(l, 2500));
	ck_assert_uint_eq(smbsess_file_id(l, 99999), 0);
	talloc_free(t);
}
END_TEST

START_TEST(one_page_by_default)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 300 };
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_file_list *l = NULL;

	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 300);
	ck_assert_uint_eq(f.pages, 1);
	ck_assert_uint_eq(f.last_max_buffer, 0xFFFFFFFFu);
	talloc_free(t);
}
END_TEST

START_TEST(hundred_thousand_entries)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 100000 };
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 1024 * 1024, 0));
	struct smbsess_file_list *l = NULL;

	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, 3, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 100000);
	for (uint32_t i = 0; i < 100000; i++)
		ck_assert_uint_eq(smbsess_file_id(l, i), 1000 + i);
	ck_assert_uint_gt(f.pages, 1);
	talloc_free(t);
}
END_TEST

/* What a client-side filter drops is freed with its page (issue: memory grew with every page). */
START_TEST(filtered_out_entries_cost_nothing)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 100000 }; /* ignores the base path, like Samba */
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 1024 * 1024, 0));
	struct smbsess_file_list *l = NULL;

	ck_assert(ok(smbsess_file_enum(t, conn, "C:\\share\\dir3\\file-00003.txt", NULL, 3, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 1);
	ck_assert_str_eq(smbsess_file_path(l, 0), "C:\\share\\dir3\\file-00003.txt");
	ck_assert_str_eq(smbsess_file_user(l, 0), "user3");
	ck_assert_uint_gt(f.pages, 5);
	/* One entry and one string chunk, not the 100,000 decoded entries. */
	ck_assert_uint_lt(talloc_total_size(l), 128 * 1024);
	talloc_free(t);
}
END_TEST

/* The byte budget next to the entry limit. */
START_TEST(byte_budget)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 10000 };
	struct smbsess_options *o = opts_with(t, 64 * 1024, 0);
	struct smbsess_conn *conn;
	struct smbsess_file_list *l = NULL;
	struct smbsess_status st;

	ck_assert_uint_eq(smbsess_options_set_max_bytes(o, 0).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_options_set_max_bytes(NULL, 1).code, SMBSESS_E_INVALID_ARGUMENT);
	/* Paged: the result outgrows the budget. */
	ck_assert(ok(smbsess_options_set_max_bytes(o, 256 * 1024)));
	conn = fake_conn(t, &f, o);
	st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_LIBRARY);
	ck_assert_uint_eq(st.code, SMBSESS_E_LIMIT);
	ck_assert_ptr_null(l);
	/* One page alone is too big to decode within it. */
	o = opts_with(t, 0, 0);
	ck_assert(ok(smbsess_options_set_max_bytes(o, 256 * 1024)));
	conn = fake_conn(t, &f, o);
	st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_LIBRARY);
	ck_assert_uint_eq(st.code, SMBSESS_E_LIMIT);
	/* Enough: everything, within the budget. */
	o = opts_with(t, 64 * 1024, 0);
	ck_assert(ok(smbsess_options_set_max_bytes(o, 4 * 1024 * 1024)));
	conn = fake_conn(t, &f, o);
	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, 3, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 10000);
	ck_assert_uint_le(talloc_total_size(l), 4 * 1024 * 1024);
	talloc_free(t);
}
END_TEST

START_TEST(stuck_resume_handle_stops)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 500, .stuck_resume = true };
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 4096, 0));
	struct smbsess_file_list *l = NULL;
	struct smbsess_status st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);

	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_LIBRARY);
	ck_assert_uint_eq(st.code, SMBSESS_E_NO_PROGRESS);
	ck_assert_ptr_null(l);
	ck_assert_uint_le(f.calls, 2);
	talloc_free(t);
}
END_TEST

START_TEST(entry_limit)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 2500 };
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 4096, 100));
	struct smbsess_file_list *l = NULL;
	struct smbsess_status st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);

	ck_assert_uint_eq(st.code, SMBSESS_E_LIMIT);
	/* The same limit when one page alone is too big. */
	conn = fake_conn(t, &f, opts_with(t, 0, 100));
	st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_LIBRARY);
	ck_assert_uint_eq(st.code, SMBSESS_E_LIMIT);
	talloc_free(t);
}
END_TEST

START_TEST(level_fallback_is_remembered)
{
	TALLOC_CTX *t = talloc_new(NULL);
	/* Like Samba: sessions at levels 1 and 0 only (indexes 2 and 4 of 502, 2, 1, 10, 0). */
	struct fake_srvsvc f = { .n_sessions = 12, .sess_levels = (1u << 2) | (1u << 4) };
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_session_list *l = NULL;

	ck_assert(ok(smbsess_session_enum(t, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(smbsess_session_list_level(l), 1);
	ck_assert_uint_eq(f.calls, 3); /* 502, 2, then 1 */
	ck_assert_uint_eq(smbsess_session_list_count(l), 12);
	ck_assert_uint_eq(smbsess_session_list_fields(l), SMBSESS_SESSION_CLIENT | SMBSESS_SESSION_USER |
				  SMBSESS_SESSION_NUM_OPENS | SMBSESS_SESSION_TIME | SMBSESS_SESSION_IDLE_TIME |
				  SMBSESS_SESSION_USER_FLAGS);
	ck_assert_str_eq(smbsess_session_client(l, 0), "10.0.0.1"); /* no leading backslashes */
	ck_assert_str_eq(smbsess_session_user(l, 3), "user3");
	ck_assert_uint_eq(smbsess_session_time(l, 3), 103);
	ck_assert_ptr_null(smbsess_session_client_type(l, 0)); /* level 1 has none */

	ck_assert(ok(smbsess_session_enum(t, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(f.calls, 4); /* straight to level 1 */
	ck_assert(ok(smbsess_session_enum(t, conn, NULL, NULL, 10, &l)));
	ck_assert_uint_eq(smbsess_session_list_level(l), 0); /* 10 refused, then 0 */
	ck_assert_uint_eq(smbsess_session_list_fields(l), SMBSESS_SESSION_CLIENT);
	ck_assert_uint_eq(f.calls, 6);
	talloc_free(t);
}
END_TEST

START_TEST(no_level_left)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 3, .file_levels = 1u << 1 }; /* level 2 only */
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_file_list *l = NULL;
	struct smbsess_status st;

	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(smbsess_file_list_level(l), 2);
	ck_assert_uint_eq(smbsess_file_list_fields(l), SMBSESS_FILE_ID);
	ck_assert_ptr_null(smbsess_file_path(l, 0));
	f.file_levels = 1u << 5; /* nothing the library knows */
	conn = fake_conn(t, &f, NULL);
	st = smbsess_file_enum(t, conn, NULL, NULL, 3, &l);
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_WERROR);
	ck_assert_uint_eq(st.code, 124);
	ck_assert_str_eq(smbsess_status_name(st), "ERROR_INVALID_LEVEL");
	talloc_free(t);
}
END_TEST

START_TEST(server_errors)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_sessions = 3, .force_result = 5 };
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_session_list *l = NULL;
	struct smbsess_status st = smbsess_session_enum(t, conn, NULL, NULL, 1, &l);

	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_WERROR);
	ck_assert_str_eq(smbsess_status_name(st), "ERROR_ACCESS_DENIED");
	ck_assert_ptr_null(l);
	talloc_free(t);
}
END_TEST

START_TEST(file_get_info_and_fallback)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 100 };
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_file_list *l = NULL;
	struct smbsess_status st;

	ck_assert(ok(smbsess_file_get_info(t, conn, 1042, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(f.calls, 1);
	ck_assert_uint_eq(smbsess_file_list_count(l), 1);
	ck_assert_str_eq(smbsess_file_path(l, 0), "C:\\share\\dir0\\file-00042.txt");
	st = smbsess_file_get_info(t, conn, 5, 3, &l);
	ck_assert_str_eq(smbsess_status_name(st), "NERR_FileIdNotFound");

	/* A server without NetrFileGetInfo (a fault): answered from an enumeration. */
	f.get_info_fault = true;
	f.calls = 0;
	ck_assert(ok(smbsess_file_get_info(t, conn, 1077, SMBSESS_LEVEL_BEST, &l)));
	ck_assert_uint_eq(f.calls, 2);
	ck_assert_uint_eq(smbsess_file_id(l, 0), 1077);
	ck_assert_str_eq(smbsess_file_user(l, 0), "user2");
	st = smbsess_file_get_info(t, conn, 7, SMBSESS_LEVEL_BEST, &l);
	ck_assert_uint_eq(st.domain, SMBSESS_DOMAIN_WERROR);
	ck_assert_uint_eq(st.code, 2314);

	/* Level 2 from a server that enumerates at level 3 only (Samba): the id alone. */
	f.file_levels = 1u << 0;
	ck_assert(ok(smbsess_file_get_info(t, conn, 1077, 2, &l)));
	ck_assert_uint_eq(smbsess_file_list_level(l), 2);
	ck_assert_uint_eq(smbsess_file_list_fields(l), SMBSESS_FILE_ID);
	ck_assert_uint_eq(smbsess_file_id(l, 0), 1077);
	ck_assert_ptr_null(smbsess_file_path(l, 0));
	talloc_free(t);
}
END_TEST

START_TEST(client_side_filters)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_sessions = 20, .n_files = 70 }; /* filters ignored, like Samba */
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_session_list *s = NULL;
	struct smbsess_file_list *l = NULL;

	ck_assert(ok(smbsess_session_enum(t, conn, "10.0.0.5", NULL, 1, &s)));
	ck_assert_uint_eq(smbsess_session_list_count(s), 1);
	ck_assert_str_eq(smbsess_session_client(s, 0), "10.0.0.5");
	ck_assert(ok(smbsess_session_enum(t, conn, "\\\\10.0.0.6", "USER0", 1, &s)));
	ck_assert_uint_eq(smbsess_session_list_count(s), 1); /* session 5: 10.0.0.6, user0 */
	ck_assert(ok(smbsess_session_enum(t, conn, NULL, "user1", 1, &s)));
	ck_assert_uint_eq(smbsess_session_list_count(s), 4);
	ck_assert(ok(smbsess_file_enum(t, conn, "c:\\share\\DIR3", NULL, 3, &l)));
	ck_assert_uint_eq(smbsess_file_list_count(l), 10);
	for (size_t i = 0; i < 10; i++)
		ck_assert(strncmp(smbsess_file_path(l, i), "C:\\share\\dir3\\", 14) == 0);
	talloc_free(t);
}
END_TEST

START_TEST(bad_arguments)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 3 };
	struct smbsess_conn *conn = fake_conn(t, &f, NULL);
	struct smbsess_file_list *l = NULL;
	struct smbsess_options *o = NULL;
	struct smbsess_status st;

	st = smbsess_file_enum(t, conn, NULL, NULL, 7, &l);
	ck_assert_uint_eq(st.code, SMBSESS_E_INVALID_ARGUMENT);
	st = smbsess_file_enum(t, NULL, NULL, NULL, 3, &l);
	ck_assert_uint_eq(st.code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_ptr_null(smbsess_file_enum_send(t, NULL, conn, NULL, NULL, 3));
	ck_assert_uint_eq(smbsess_file_close(NULL, 1).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert(ok(smbsess_options_new(t, &o)));
	ck_assert_uint_eq(smbsess_options_set_port(o, 0).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_options_set_dialects(o, 0x0311, 0x0202).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_options_set_dialects(o, 0x0301, 0x0311).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_options_set_signing(o, SMBSESS_POLICY_OFF).code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_options_set_address(o, "").code, SMBSESS_E_INVALID_ARGUMENT);
	ck_assert_uint_eq(smbsess_session_list_count(NULL), 0);
	ck_assert_ptr_null(smbsess_session_user(NULL, 0));
	/* A list of one kind read with another kind's getter gives nothing. */
	ck_assert(ok(smbsess_file_enum(t, conn, NULL, NULL, 3, &l)));
	ck_assert_ptr_null(smbsess_session_user((const struct smbsess_session_list *)(const void *)l, 0));
	talloc_free(t);
}
END_TEST

static void set_flag(struct tevent_context *e, struct tevent_timer *te, struct timeval now, void *p)
{
	(void)e;
	(void)te;
	(void)now;
	*(bool *)p = true;
}

/* Runs the loop for @p ms milliseconds. */
static void run_for(unsigned ms)
{
	bool done = false;
	struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_current_ofs(0, ms * 1000), set_flag, &done);

	ck_assert_ptr_nonnull(te);
	while (!done)
		tevent_loop_once(ev);
}

START_TEST(freeing_a_request_cancels_it)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct fake_srvsvc f = { .n_files = 5000 };
	struct smbsess_conn *conn = fake_conn(t, &f, opts_with(t, 1024, 0));
	struct tevent_req *req = smbsess_file_enum_send(t, ev, conn, NULL, NULL, 3);
	unsigned before;

	ck_assert_ptr_nonnull(req);
	for (int i = 0; i < 5; i++)
		tevent_loop_once(ev); /* the fake answers at once: each turn serves one step */
	ck_assert(tevent_req_is_in_progress(req));
	talloc_free(req);
	before = f.calls;
	run_for(50);
	ck_assert_uint_le(f.calls, before + 1);
	talloc_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, paging_collects_every_page);
	tcase_add_test(tc, one_page_by_default);
	tcase_add_test(tc, hundred_thousand_entries);
	tcase_add_test(tc, filtered_out_entries_cost_nothing);
	tcase_add_test(tc, byte_budget);
	tcase_add_test(tc, stuck_resume_handle_stops);
	tcase_add_test(tc, entry_limit);
	tcase_add_test(tc, level_fallback_is_remembered);
	tcase_add_test(tc, no_level_left);
	tcase_add_test(tc, server_errors);
	tcase_add_test(tc, file_get_info_and_fallback);
	tcase_add_test(tc, client_side_filters);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, freeing_a_request_cancels_it);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
