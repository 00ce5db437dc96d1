/*
 * The status type: every code the library produces has a name and a
 * message; GSS-API and Kerberos codes agree with the system headers.
 */
#include <errno.h>
#include <gssapi/gssapi.h>
#include <krb5.h>
#include <string.h>

#include <smbsess/smbsess.h>

#include "util/util.h"
#include "testutil.h"

static struct smbsess_status mk(uint32_t d, uint32_t c)
{
	struct smbsess_status st = { d, c };
	return st;
}

START_TEST(ok_status)
{
	ck_assert(smbsess_status_is_ok(mk(SMBSESS_DOMAIN_OK, 0)));
	ck_assert(!smbsess_status_is_ok(mk(SMBSESS_DOMAIN_NTSTATUS, 0xC000006D)));
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_OK, 0)), "OK");
}
END_TEST

/* Every library and NDR code has its own name (not the fallback) and message. */
START_TEST(own_codes_named)
{
	static const uint32_t domains[] = { SMBSESS_DOMAIN_LIBRARY, SMBSESS_DOMAIN_NDR };

	for (size_t d = 0; d < 2; d++) {
		const char *name;
		uint32_t code;
		size_t n = 0;

		for (size_t i = 0; smbsess__status_table_entry(domains[d], i, &name, &code); i++, n++) {
			struct smbsess_status st = mk(domains[d], code);
			ck_assert_str_eq(smbsess_status_name(st), name);
			ck_assert(strstr(name, "UNKNOWN") == NULL);
			ck_assert(strlen(smbsess_status_message(st)) > 5);
		}
		/* Codes are dense from 1: a new enum value without a table entry fails here. */
		for (uint32_t c = 1; c <= n; c++)
			ck_assert_msg(strstr(smbsess_status_name(mk(domains[d], c)), "UNKNOWN") == NULL,
				      "domain %u code %u has no name", domains[d], c);
	}
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NO_PROGRESS)),
			 "SMBSESS_E_NO_PROGRESS");
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_NDR, SMBSESS_NDR_E_RANGE)), "NDR_E_RANGE");
}
END_TEST

START_TEST(unknown_codes_have_names)
{
	char buf[200];

	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_NTSTATUS, 0xC0FFEE01)), "NTSTATUS_UNKNOWN");
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_WERROR, 99999)), "WERROR_UNKNOWN");
	ck_assert_str_eq(smbsess_status_name(mk(77, 1)), "UNKNOWN_DOMAIN");
	ck_assert_str_eq(smbsess_domain_name(77), "UNKNOWN_DOMAIN");
	ck_assert_ptr_nonnull(smbsess_status_message(mk(77, 1)));
	smbsess_status_describe(mk(SMBSESS_DOMAIN_NTSTATUS, 0xC0FFEE01), buf, sizeof buf);
	ck_assert_str_eq(buf, "NTSTATUS_UNKNOWN (NTSTATUS 0xC0FFEE01): "
			 "the server returned an NTSTATUS this library does not know");
}
END_TEST

START_TEST(describe)
{
	char buf[200], small[8];

	smbsess_status_describe(mk(SMBSESS_DOMAIN_NTSTATUS, 0xC000006D), buf, sizeof buf);
	ck_assert_str_eq(buf, "STATUS_LOGON_FAILURE (NTSTATUS 0xC000006D): "
			 "logon failure: unknown user name or wrong password");
	smbsess_status_describe(mk(SMBSESS_DOMAIN_WERROR, 2314), buf, sizeof buf);
	ck_assert_str_eq(buf, "NERR_FileIdNotFound (WERROR 0x0000090A): there is no open file with that id");
	smbsess_status_describe(mk(SMBSESS_DOMAIN_ERRNO, ECONNREFUSED), buf, sizeof buf);
	ck_assert_str_eq(buf, "ECONNREFUSED (ERRNO 111): Connection refused");
	ck_assert_ptr_eq(smbsess_status_describe(mk(SMBSESS_DOMAIN_OK, 0), small, sizeof small), small);
	ck_assert_str_eq(small, "OK (OK ");
	ck_assert_ptr_null(smbsess_status_describe(mk(SMBSESS_DOMAIN_OK, 0), NULL, 0));
}
END_TEST

START_TEST(errno_names)
{
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_ERRNO, ETIMEDOUT)), "ETIMEDOUT");
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_ERRNO, 100000)), "ERRNO_UNKNOWN");
	ck_assert_str_eq(smbsess_status_message(mk(SMBSESS_DOMAIN_ERRNO, 100000)), "unknown system error");
}
END_TEST

/* GSS major codes and Kerberos codes checked against the installed MIT headers. */
START_TEST(gss_krb5_values)
{
	static const struct { const char *name; uint32_t value; } gss[] = {
		{ "GSS_S_BAD_MECH", GSS_S_BAD_MECH }, { "GSS_S_BAD_NAME", GSS_S_BAD_NAME },
		{ "GSS_S_BAD_NAMETYPE", GSS_S_BAD_NAMETYPE }, { "GSS_S_BAD_BINDINGS", GSS_S_BAD_BINDINGS },
		{ "GSS_S_BAD_STATUS", GSS_S_BAD_STATUS }, { "GSS_S_BAD_SIG", GSS_S_BAD_SIG },
		{ "GSS_S_NO_CRED", GSS_S_NO_CRED }, { "GSS_S_NO_CONTEXT", GSS_S_NO_CONTEXT },
		{ "GSS_S_DEFECTIVE_TOKEN", GSS_S_DEFECTIVE_TOKEN },
		{ "GSS_S_DEFECTIVE_CREDENTIAL", GSS_S_DEFECTIVE_CREDENTIAL },
		{ "GSS_S_CREDENTIALS_EXPIRED", GSS_S_CREDENTIALS_EXPIRED },
		{ "GSS_S_CONTEXT_EXPIRED", GSS_S_CONTEXT_EXPIRED }, { "GSS_S_FAILURE", GSS_S_FAILURE },
		{ "GSS_S_BAD_QOP", GSS_S_BAD_QOP }, { "GSS_S_UNAUTHORIZED", GSS_S_UNAUTHORIZED },
		{ "GSS_S_UNAVAILABLE", GSS_S_UNAVAILABLE }, { "GSS_S_DUPLICATE_ELEMENT", GSS_S_DUPLICATE_ELEMENT },
		{ "GSS_S_NAME_NOT_MN", GSS_S_NAME_NOT_MN },
	};
	static const struct { const char *name; uint32_t value; } krb[] = {
		{ "KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN", (uint32_t)KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN },
		{ "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN", (uint32_t)KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN },
		{ "KRB5KDC_ERR_PREAUTH_FAILED", (uint32_t)KRB5KDC_ERR_PREAUTH_FAILED },
		{ "KRB5KRB_AP_ERR_TKT_EXPIRED", (uint32_t)KRB5KRB_AP_ERR_TKT_EXPIRED },
		{ "KRB5KRB_AP_ERR_SKEW", (uint32_t)KRB5KRB_AP_ERR_SKEW },
		{ "KRB5_CC_NOTFOUND", (uint32_t)KRB5_CC_NOTFOUND },
		{ "KRB5_KDC_UNREACH", (uint32_t)KRB5_KDC_UNREACH },
		{ "KRB5_FCC_NOFILE", (uint32_t)KRB5_FCC_NOFILE },
	};
	const char *name;
	uint32_t code;
	size_t n;

	for (n = 0; smbsess__status_table_entry(SMBSESS_DOMAIN_GSS, n, &name, &code); n++) {
		ck_assert_str_eq(name, gss[n].name);
		ck_assert_uint_eq(code, gss[n].value);
	}
	ck_assert_uint_eq(n, sizeof gss / sizeof gss[0]);
	for (n = 0; smbsess__status_table_entry(SMBSESS_DOMAIN_KRB5, n, &name, &code); n++) {
		ck_assert_str_eq(name, krb[n].name);
		ck_assert_uint_eq(code, krb[n].value);
	}
	ck_assert_uint_eq(n, sizeof krb / sizeof krb[0]);
	/* A GSS major status with calling/supplementary bits still finds its routine error. */
	ck_assert_str_eq(smbsess_status_name(mk(SMBSESS_DOMAIN_GSS, GSS_S_NO_CRED | GSS_S_CONTINUE_NEEDED)),
			 "GSS_S_NO_CRED");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = testutil_tcase("status");

	tcase_add_test(tc, ok_status);
	tcase_add_test(tc, own_codes_named);
	tcase_add_test(tc, unknown_codes_have_names);
	tcase_add_test(tc, describe);
	tcase_add_test(tc, errno_names);
	tcase_add_test(tc, gss_krb5_values);
	suite_add_tcase(s, tc);
	return s;
}

TESTUTIL_MAIN(suite)
