/*
 * Kerberos statuses: the GSS and KRB5 tables against the installed MIT
 * headers (by name, whatever their length), the mapping of GSS-API
 * major/minor pairs, and what real GSS-API calls of the krb5 mechanism give
 * without a ticket, with an empty cache, with an unreachable KDC and with
 * a keytab that is not there (no KDC needed; loopback only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <krb5.h>

#include "auth/gssapi.h"
#include "../auth/authtest.h"

#define E(n) { #n, (uint32_t)(n) }
static const struct {
	const char *name;
	uint32_t value;
} known[] = {
	E(GSS_S_BAD_MECH), E(GSS_S_BAD_NAME), E(GSS_S_BAD_NAMETYPE), E(GSS_S_BAD_BINDINGS),
	E(GSS_S_BAD_STATUS), E(GSS_S_BAD_SIG), E(GSS_S_NO_CRED), E(GSS_S_NO_CONTEXT),
	E(GSS_S_DEFECTIVE_TOKEN), E(GSS_S_DEFECTIVE_CREDENTIAL), E(GSS_S_CREDENTIALS_EXPIRED),
	E(GSS_S_CONTEXT_EXPIRED), E(GSS_S_FAILURE), E(GSS_S_BAD_QOP), E(GSS_S_UNAUTHORIZED),
	E(GSS_S_UNAVAILABLE), E(GSS_S_DUPLICATE_ELEMENT), E(GSS_S_NAME_NOT_MN),
	/* krb5 com_err codes (<krb5.h>, negative as longs) */
	E(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN), E(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN), E(KRB5KDC_ERR_PREAUTH_FAILED),
	E(KRB5KRB_AP_ERR_TKT_EXPIRED), E(KRB5KRB_AP_ERR_SKEW), E(KRB5_CC_NOTFOUND), E(KRB5_KDC_UNREACH),
	E(KRB5_FCC_NOFILE), E(KRB5_REALM_UNKNOWN), E(KRB5_KT_NOTFOUND), E(KRB5_KT_END),
	E(KRB5KDC_ERR_CLIENT_REVOKED), E(KRB5KDC_ERR_KEY_EXP), E(KRB5KRB_AP_ERR_BAD_INTEGRITY),
	E(KRB5KRB_AP_ERR_MODIFIED), E(KRB5_CONFIG_NODEFREALM), E(KRB5KDC_ERR_ETYPE_NOSUPP),
	E(KRB5_REALM_CANT_RESOLVE), E(KRB5KDC_ERR_POLICY), E(KRB5_CC_END),
};
#undef E

static uint32_t known_value(const char *name, bool *found)
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strcmp(known[i].name, name) == 0) {
			*found = true;
			return known[i].value;
		}
	}
	*found = false;
	return 0;
}

/* Every named GSS and KRB5 code has the value of the macro of its name. */
START_TEST(tables_match_headers)
{
	static const uint32_t domains[] = { SMBSESS_DOMAIN_GSS, SMBSESS_DOMAIN_KRB5 };

	for (size_t d = 0; d < 2; d++) {
		const char *name;
		uint32_t code;
		size_t n;

		for (n = 0; smbsess__status_table_entry(domains[d], n, &name, &code); n++) {
			bool found;
			uint32_t v = known_value(name, &found);

			ck_assert_msg(found, "%s: not a name this test knows from the headers", name);
			ck_assert_msg(v == code, "%s: table 0x%08x, header 0x%08x", name, code, v);
			ck_assert_str_eq(smbsess__status_name(smbsess__st(domains[d], code)), name);
			ck_assert_str_ne(smbsess__status_message(smbsess__st(domains[d], code)), "");
		}
		ck_assert_uint_gt(n, 0);
	}
	ck_assert_str_eq(smbsess__status_name(smbsess__st(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_KERBEROS_REFUSED)),
			 "SMBSESS_E_KERBEROS_REFUSED");
}
END_TEST

#define ck_status(st, dom, c)                                                                    \
	do {                                                                                     \
		struct smbsess_status ck_st = (st);                                              \
		ck_assert_msg(ck_st.domain == (uint32_t)(dom) && ck_st.code == (uint32_t)(c),    \
			      "%s: got %s (%u, 0x%x)", #st, smbsess__status_name(ck_st),         \
			      ck_st.domain, ck_st.code);                                          \
	} while (0)

START_TEST(mapping)
{
	/* A krb5 minor code the table knows wins over the major status. */
	ck_status(smbsess__gss_status(GSS_S_FAILURE, (uint32_t)KRB5_KDC_UNREACH), SMBSESS_DOMAIN_KRB5,
		  (uint32_t)KRB5_KDC_UNREACH);
	ck_status(smbsess__gss_status(GSS_S_FAILURE, (uint32_t)KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN),
		  SMBSESS_DOMAIN_KRB5, (uint32_t)KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN);
	ck_status(smbsess__gss_status(GSS_S_CREDENTIALS_EXPIRED, (uint32_t)KRB5KRB_AP_ERR_TKT_EXPIRED),
		  SMBSESS_DOMAIN_KRB5, (uint32_t)KRB5KRB_AP_ERR_TKT_EXPIRED);
	ck_status(smbsess__gss_status(GSS_S_NO_CRED, (uint32_t)KRB5_FCC_NOFILE), SMBSESS_DOMAIN_KRB5,
		  (uint32_t)KRB5_FCC_NOFILE);
	/* Another com_err code of a failing mechanism stays, in the KRB5 domain. */
	ck_status(smbsess__gss_status(GSS_S_FAILURE, (uint32_t)KRB5_PLUGIN_NO_HANDLE), SMBSESS_DOMAIN_KRB5,
		  (uint32_t)KRB5_PLUGIN_NO_HANDLE);
	ck_assert_str_eq(smbsess__status_name(smbsess__st(SMBSESS_DOMAIN_KRB5, (uint32_t)KRB5_PLUGIN_NO_HANDLE)),
			 "KRB5_UNKNOWN");
	/* An errno minor, or a major status other than failure: the major's routine error. */
	ck_status(smbsess__gss_status(GSS_S_FAILURE, ENOENT), SMBSESS_DOMAIN_GSS, GSS_S_FAILURE);
	ck_status(smbsess__gss_status(GSS_S_NO_CRED, 0), SMBSESS_DOMAIN_GSS, GSS_S_NO_CRED);
	ck_status(smbsess__gss_status(GSS_S_NO_CRED | GSS_S_CALL_BAD_STRUCTURE, 39756044u), SMBSESS_DOMAIN_GSS,
		  GSS_S_NO_CRED);
	ck_status(smbsess__gss_status(GSS_S_BAD_NAME, 0), SMBSESS_DOMAIN_GSS, GSS_S_BAD_NAME);
	/* A calling error alone is still a failure. */
	ck_assert_uint_ne(smbsess__gss_status(GSS_S_CALL_INACCESSIBLE_READ, 0).domain, SMBSESS_DOMAIN_OK);
}
END_TEST

/* ---- real GSS-API calls, no KDC ---- */

static char dir[64];
static char conf[128];

static void env_setup(void)
{
	FILE *f;

	testutil_setup();
	strcpy(dir, "/tmp/krbstatusXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof conf, "%s/krb5.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	/* Port 1 on loopback: nothing listens there, so both UDP and TCP are refused at once. */
	fprintf(f, "[libdefaults]\n default_realm = NOWHERE.TEST\n dns_lookup_kdc = false\n"
		   " dns_lookup_realm = false\n dns_canonicalize_hostname = false\n rdns = false\n"
		   "[realms]\n NOWHERE.TEST = {\n  kdc = 127.0.0.1:1\n }\n");
	fclose(f);
	setenv("KRB5_CONFIG", conf, 1);
	unsetenv("KRB5_CLIENT_KTNAME");
	unsetenv("KRB5_KTNAME");
}

static void env_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	testutil_teardown();
}

/* One first step for these credentials against cifs/host.nowhere.test. */
static struct smbsess_status first_step(struct smbsess__creds *creds)
{
	struct smbsess__gss_call *call = smbsess__gss_call_new();
	struct smbsess_status st;

	ck_assert_ptr_nonnull(call);
	authtest_ok(smbsess__gss_new(creds, "cifs", "host.nowhere.test", &call->gss));
	call->start = true;
	smbsess__gss_call_run(call);
	st = call->st;
	ck_assert_ptr_null(call->out);
	smbsess__gss_call_free(call);
	return st;
}

/* An initialised FILE cache with a principal and no ticket at all. */
static void write_empty_ccache(const char *path)
{
	static const uint8_t cc[] = { 0x05, 0x04, 0x00, 0x00,                    /* version 4, no header */
				      0, 0, 0, 1, 0, 0, 0, 1,                    /* name type, 1 component */
				      0, 0, 0, 12, 'N', 'O', 'W', 'H', 'E', 'R', 'E', '.', 'T', 'E', 'S', 'T',
				      0, 0, 0, 1, 'u' };
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(cc, 1, sizeof cc, f), sizeof cc);
	fclose(f);
}

START_TEST(no_ticket)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__creds *c;
	char path[160], name[170];
	struct smbsess_status st;

	/* A named cache that does not exist. */
	snprintf(path, sizeof path, "%s/missing", dir);
	snprintf(name, sizeof name, "FILE:%s", path);
	authtest_ok(smbsess__creds_new(t, NULL, NULL, NULL, &c));
	authtest_ok(smbsess__creds_set_ccache(c, name));
	ck_status(first_step(c), SMBSESS_DOMAIN_KRB5, (uint32_t)KRB5_FCC_NOFILE);

	/* The default cache, missing: no ticket to be found. */
	setenv("KRB5CCNAME", name, 1);
	authtest_ok(smbsess__creds_set_ccache(c, NULL));
	st = first_step(c);
	ck_assert_msg(st.domain == SMBSESS_DOMAIN_KRB5 &&
			      (st.code == (uint32_t)KRB5_CC_NOTFOUND || st.code == (uint32_t)KRB5_FCC_NOFILE),
		      "default cache missing: %s", smbsess__status_name(st));
	unsetenv("KRB5CCNAME");

	/* A cache with a principal but no ticket. */
	write_empty_ccache(path);
	authtest_ok(smbsess__creds_set_ccache(c, name));
	ck_status(first_step(c), SMBSESS_DOMAIN_GSS, GSS_S_NO_CRED);
	talloc_free(t);
}
END_TEST

START_TEST(kdc_unreachable)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__creds *c;

	authtest_ok(smbsess__creds_new(t, "NOWHERE", "u", "pw", &c));
	c->mechs = SMBSESS__MECHS_KRB5_ONLY;
	ck_status(first_step(c), SMBSESS_DOMAIN_KRB5, (uint32_t)KRB5_KDC_UNREACH);
	talloc_free(t);
}
END_TEST

START_TEST(keytab_missing)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__creds *c;
	char kt[160];
	struct smbsess_status st;

	snprintf(kt, sizeof kt, "FILE:%s/none.keytab", dir);
	authtest_ok(smbsess__creds_new(t, NULL, NULL, NULL, &c));
	authtest_ok(smbsess__creds_set_keytab(c, kt, "u@NOWHERE.TEST"));
	/* MIT would call it an empty cache; the file is what is missing. */
	ck_status(first_step(c), SMBSESS_DOMAIN_ERRNO, ENOENT);
	snprintf(kt, sizeof kt, "%s/none.keytab", dir);
	authtest_ok(smbsess__creds_set_keytab(c, kt, NULL));
	ck_status(first_step(c), SMBSESS_DOMAIN_ERRNO, ENOENT);
	/* A keytab type this library does not look into: MIT's answer. */
	authtest_ok(smbsess__creds_set_keytab(c, "MEMORY:smbsess-test-none", "u@NOWHERE.TEST"));
	st = first_step(c);
	ck_assert_msg(st.domain == SMBSESS_DOMAIN_GSS || st.domain == SMBSESS_DOMAIN_KRB5, "%s",
		      smbsess__status_name(st));
	talloc_free(t);
}
END_TEST

START_TEST(argument_checks)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbsess__creds *c;
	struct smbsess__gss *g;

	authtest_ok(smbsess__creds_new(t, NULL, NULL, NULL, &c));
	/* Kerberos from a password needs a user. */
	authtest_lib_err(smbsess__gss_new(c, "cifs", "h", &g), SMBSESS_E_INVALID_ARGUMENT);
	authtest_ok(smbsess__creds_set_ccache(c, NULL));
	authtest_lib_err(smbsess__gss_new(c, "cifs", "", &g), SMBSESS_E_INVALID_ARGUMENT);
	authtest_lib_err(smbsess__creds_set_keytab(c, "", NULL), SMBSESS_E_INVALID_ARGUMENT);
	authtest_lib_err(smbsess__creds_set_ccache(c, ""), SMBSESS_E_INVALID_ARGUMENT);
	authtest_ok(smbsess__gss_new(c, "cifs", "h", &g));
	ck_assert(!smbsess__gss_complete(g));
	smbsess__gss_free(g);
	smbsess__gss_free(NULL);
	talloc_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("krb5-status");
	TCase *tc = testutil_tcase("tables");
	TCase *real = tcase_create("gssapi");

	tcase_add_test(tc, tables_match_headers);
	tcase_add_test(tc, mapping);
	tcase_add_test(tc, argument_checks);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(real, env_setup, env_teardown);
	tcase_set_timeout(real, 60);
	tcase_add_test(real, no_ticket);
	tcase_add_test(real, kdc_unreachable);
	tcase_add_test(real, keytab_missing);
	suite_add_tcase(s, real);
	return s;
}

TESTUTIL_MAIN(suite)
