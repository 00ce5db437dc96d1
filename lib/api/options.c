/* Credentials and options. */
#include "api.h"

#define INVALID SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT)

SMBSESS_API struct smbsess_status smbsess_credentials_new(TALLOC_CTX *mem_ctx, const char *domain,
							  const char *user, const char *password,
							  struct smbsess_credentials **out)
{
	struct smbsess_credentials *c;

	if (out == NULL)
		return INVALID;
	c = talloc_zero(mem_ctx, struct smbsess_credentials);
	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	SMBSESS__CHECK(smbsess__creds_new(c, domain, user, password, &c->creds));
	*out = c;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_credentials_new_kerberos(TALLOC_CTX *mem_ctx, const char *ccache,
								   struct smbsess_credentials **out)
{
	struct smbsess_credentials *c;
	struct smbsess_status st;

	if (out == NULL || (ccache != NULL && ccache[0] == '\0'))
		return INVALID;
	c = talloc_zero(mem_ctx, struct smbsess_credentials);
	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	st = smbsess__creds_new(c, NULL, NULL, NULL, &c->creds);
	if (smbsess__st_ok(st))
		st = smbsess__creds_set_ccache(c->creds, ccache);
	if (!smbsess__st_ok(st)) {
		talloc_free(c);
		return st;
	}
	c->creds->mechs = SMBSESS__MECHS_KRB5_ONLY;
	*out = c;
	return SMBSESS__OK;
}

/* Asking for a Kerberos source means asking for Kerberos. */
static void kerberos_wanted(struct smbsess__creds *c)
{
	if (c->mechs == SMBSESS__MECHS_NTLM_ONLY)
		c->mechs = SMBSESS__MECHS_KRB5_ONLY;
}

SMBSESS_API struct smbsess_status smbsess_credentials_set_ccache(struct smbsess_credentials *creds,
								 const char *ccache)
{
	if (creds == NULL || creds->creds == NULL)
		return INVALID;
	SMBSESS__CHECK(smbsess__creds_set_ccache(creds->creds, ccache));
	kerberos_wanted(creds->creds);
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_credentials_set_keytab(struct smbsess_credentials *creds,
								 const char *keytab, const char *principal)
{
	if (creds == NULL || creds->creds == NULL)
		return INVALID;
	SMBSESS__CHECK(smbsess__creds_set_keytab(creds->creds, keytab, principal));
	kerberos_wanted(creds->creds);
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_credentials_set_principal(struct smbsess_credentials *creds,
								    const char *principal)
{
	char *copy = NULL;

	if (creds == NULL || creds->creds == NULL || (principal != NULL && principal[0] == '\0'))
		return INVALID;
	if (principal != NULL) {
		copy = talloc_strdup(creds->creds, principal);
		if (copy == NULL)
			return SMBSESS__ST_NOMEM;
	}
	talloc_free(creds->creds->principal);
	creds->creds->principal = copy;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_credentials_set_mechs(struct smbsess_credentials *creds,
								enum smbsess_mechs mechs)
{
	if (creds == NULL || creds->creds == NULL || !smbsess__mechs_valid((int)mechs))
		return INVALID;
	/* Both mechanisms without a user: the NTLM fallback would be anonymous. */
	if ((mechs == SMBSESS_MECHS_KERBEROS_THEN_NTLM || mechs == SMBSESS_MECHS_NTLM_THEN_KERBEROS) &&
	    smbsess__creds_is_anonymous(creds->creds))
		return INVALID;
	/* Kerberos from a password needs someone to get tickets for. */
	if (mechs != SMBSESS_MECHS_NTLM_ONLY && creds->creds->krb5_source == SMBSESS__KRB5_FROM_PASSWORD &&
	    smbsess__creds_is_anonymous(creds->creds) && creds->creds->principal == NULL)
		return INVALID;
	/* Kerberos credentials without a user cannot fall back to anything. */
	if (mechs == SMBSESS_MECHS_NTLM_ONLY && creds->creds->krb5_source != SMBSESS__KRB5_FROM_PASSWORD &&
	    smbsess__creds_is_anonymous(creds->creds))
		return INVALID;
	creds->creds->mechs = (enum smbsess__mechs)mechs;
	return SMBSESS__OK;
}

void smbsess__options_defaults(struct smbsess_options *o)
{
	memset(o, 0, sizeof *o);
	o->port = 445;
	o->timeout_ms = 30000;
	o->signing = SMBSESS_POLICY_AUTO;
	o->encryption = SMBSESS_POLICY_AUTO;
	o->min_dialect = SMBSESS_SMB_2_0_2;
	o->max_dialect = SMBSESS_SMB_3_1_1;
	o->max_entries = 1000000;
	o->max_bytes = SMBSESS__DEFAULT_MAX_BYTES;
	o->page_size = 0xFFFFFFFFu;
}

SMBSESS_API struct smbsess_status smbsess_options_new(TALLOC_CTX *mem_ctx, struct smbsess_options **out)
{
	struct smbsess_options *o;

	if (out == NULL)
		return INVALID;
	o = talloc_zero(mem_ctx, struct smbsess_options);
	if (o == NULL)
		return SMBSESS__ST_NOMEM;
	smbsess__options_defaults(o);
	*out = o;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_port(struct smbsess_options *o, uint16_t port)
{
	if (o == NULL || port == 0)
		return INVALID;
	o->port = port;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_address(struct smbsess_options *o, const char *address)
{
	char *copy = NULL;

	if (o == NULL)
		return INVALID;
	if (address != NULL) {
		if (address[0] == '\0')
			return INVALID;
		copy = talloc_strdup(o, address);
		if (copy == NULL)
			return SMBSESS__ST_NOMEM;
	}
	talloc_free(o->address);
	o->address = copy;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_timeout(struct smbsess_options *o, uint32_t ms)
{
	if (o == NULL || ms == 0)
		return INVALID;
	o->timeout_ms = ms;
	return SMBSESS__OK;
}

static bool policy_ok(enum smbsess_policy p)
{
	return p == SMBSESS_POLICY_AUTO || p == SMBSESS_POLICY_REQUIRED || p == SMBSESS_POLICY_OFF;
}

SMBSESS_API struct smbsess_status smbsess_options_set_signing(struct smbsess_options *o, enum smbsess_policy p)
{
	/* Signing cannot be switched off: it protects the RPC traffic. */
	if (o == NULL || !policy_ok(p) || p == SMBSESS_POLICY_OFF)
		return INVALID;
	o->signing = p;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_encryption(struct smbsess_options *o, enum smbsess_policy p)
{
	if (o == NULL || !policy_ok(p))
		return INVALID;
	o->encryption = p;
	return SMBSESS__OK;
}

static bool dialect_ok(uint16_t d)
{
	return d == SMBSESS_SMB_2_0_2 || d == SMBSESS_SMB_2_1 || d == SMBSESS_SMB_3_0 || d == SMBSESS_SMB_3_0_2 ||
	       d == SMBSESS_SMB_3_1_1;
}

SMBSESS_API struct smbsess_status smbsess_options_set_dialects(struct smbsess_options *o, uint16_t min,
							       uint16_t max)
{
	if (o == NULL || !dialect_ok(min) || !dialect_ok(max) || min > max)
		return INVALID;
	o->min_dialect = min;
	o->max_dialect = max;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_max_entries(struct smbsess_options *o, uint32_t max)
{
	if (o == NULL || max == 0)
		return INVALID;
	o->max_entries = max;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_max_bytes(struct smbsess_options *o, uint64_t bytes)
{
	if (o == NULL || bytes == 0)
		return INVALID;
	o->max_bytes = bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_options_set_page_size(struct smbsess_options *o, uint32_t bytes)
{
	if (o == NULL || bytes == 0)
		return INVALID;
	o->page_size = bytes;
	return SMBSESS__OK;
}
