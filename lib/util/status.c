/*
 * Names and messages for every status the library can produce or receive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "status_codes.h"

struct code_entry {
	uint32_t code;
	const char *name;
	const char *message;
};

#define ENTRY(n, v, m) { (uint32_t)(v), #n, m },
static const struct code_entry lib_codes[] = { SMBSESS__LIB_CODES(ENTRY) };
static const struct code_entry ndr_codes[] = { SMBSESS__NDR_CODES(ENTRY) };
static const struct code_entry nt_codes[] = { SMBSESS__NTSTATUS_CODES(ENTRY) };
static const struct code_entry werr_codes[] = { SMBSESS__WERROR_CODES(ENTRY) };
static const struct code_entry rpc_codes[] = { SMBSESS__RPC_CODES(ENTRY) };
static const struct code_entry gss_codes[] = { SMBSESS__GSS_CODES(ENTRY) };
static const struct code_entry krb5_codes[] = { SMBSESS__KRB5_CODES(ENTRY) };
#undef ENTRY

struct domain_info {
	const char *name;
	const char *unknown_name;
	const char *unknown_message;
	const struct code_entry *codes;
	size_t count;
};

#define TABLE(t) t, sizeof(t) / sizeof((t)[0])
static const struct domain_info domains[] = {
	[SMBSESS_DOMAIN_OK] = { "OK", "OK", "success", NULL, 0 },
	[SMBSESS_DOMAIN_LIBRARY] = { "LIBRARY", "SMBSESS_E_UNKNOWN", "unknown libsmbsess error",
				     TABLE(lib_codes) },
	[SMBSESS_DOMAIN_ERRNO] = { "ERRNO", "ERRNO_UNKNOWN", "unknown system error", NULL, 0 },
	[SMBSESS_DOMAIN_NTSTATUS] = { "NTSTATUS", "NTSTATUS_UNKNOWN",
				      "the server returned an NTSTATUS this library does not know",
				      TABLE(nt_codes) },
	[SMBSESS_DOMAIN_WERROR] = { "WERROR", "WERROR_UNKNOWN",
				    "the server returned an error code this library does not know",
				    TABLE(werr_codes) },
	[SMBSESS_DOMAIN_NDR] = { "NDR", "NDR_E_UNKNOWN", "malformed NDR data", TABLE(ndr_codes) },
	[SMBSESS_DOMAIN_RPC] = { "RPC", "RPC_FAULT_UNKNOWN",
				 "the RPC server answered with a fault this library does not know",
				 TABLE(rpc_codes) },
	[SMBSESS_DOMAIN_GSS] = { "GSS", "GSS_S_UNKNOWN", "GSS-API failure", TABLE(gss_codes) },
	[SMBSESS_DOMAIN_KRB5] = { "KRB5", "KRB5_UNKNOWN", "Kerberos failure", TABLE(krb5_codes) },
};
#undef TABLE

static const struct domain_info unknown_domain = {
	"UNKNOWN_DOMAIN", "UNKNOWN_DOMAIN", "status of an unknown domain", NULL, 0
};

static const struct domain_info *domain_of(uint32_t domain)
{
	if (domain >= sizeof(domains) / sizeof(domains[0]))
		return &unknown_domain;
	return &domains[domain];
}

static const struct code_entry *find(const struct domain_info *d, uint32_t code)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->codes[i].code == code)
			return &d->codes[i];
	return NULL;
}

/* GSS major status: the routine error lives in bits 16-23. */
static uint32_t gss_routine(uint32_t code)
{
	return code & 0x00FF0000u;
}

const char *smbsess__domain_name(uint32_t domain)
{
	return domain_of(domain)->name;
}

const char *smbsess__status_name(struct smbsess_status st)
{
	const struct domain_info *d = domain_of(st.domain);
	const struct code_entry *e;

	if (st.domain == SMBSESS_DOMAIN_ERRNO) {
		const char *n = strerrorname_np((int)st.code);
		return n ? n : d->unknown_name;
	}
	if (st.domain == SMBSESS_DOMAIN_OK)
		return d->unknown_name;
	e = find(d, st.domain == SMBSESS_DOMAIN_GSS ? gss_routine(st.code) : st.code);
	return e ? e->name : d->unknown_name;
}

const char *smbsess__status_message(struct smbsess_status st)
{
	const struct domain_info *d = domain_of(st.domain);
	const struct code_entry *e;

	if (st.domain == SMBSESS_DOMAIN_ERRNO) {
		const char *m = strerrordesc_np((int)st.code);
		return m ? m : d->unknown_message;
	}
	if (st.domain == SMBSESS_DOMAIN_OK)
		return d->unknown_message;
	e = find(d, st.domain == SMBSESS_DOMAIN_GSS ? gss_routine(st.code) : st.code);
	return e ? e->message : d->unknown_message;
}

char *smbsess__status_describe(struct smbsess_status st, char *buf, size_t size)
{
	if (buf == NULL || size == 0)
		return buf;
	if (st.domain == SMBSESS_DOMAIN_ERRNO)
		snprintf(buf, size, "%s (%s %u): %s", smbsess__status_name(st),
			 smbsess__domain_name(st.domain), st.code, smbsess__status_message(st));
	else
		snprintf(buf, size, "%s (%s 0x%08X): %s", smbsess__status_name(st),
			 smbsess__domain_name(st.domain), st.code, smbsess__status_message(st));
	return buf;
}

bool smbsess__status_table_entry(uint32_t domain, size_t i, const char **name, uint32_t *code)
{
	const struct domain_info *d = domain_of(domain);

	if (i >= d->count)
		return false;
	*name = d->codes[i].name;
	*code = d->codes[i].code;
	return true;
}
