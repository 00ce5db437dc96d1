/*
 * Credentials: the NTLM identity, the Kerberos source and the mechanism policy.
 */
#define _GNU_SOURCE
#include <string.h>

#include "creds.h"

static int creds_destructor(struct smbsess__creds *c)
{
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	return 0;
}

/* A copy of @p s on @p c, NULL staying NULL; false when out of memory. */
static bool dup_opt(struct smbsess__creds *c, const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return true;
	*out = talloc_strdup(c, s);
	return *out != NULL;
}

struct smbsess_status smbsess__creds_new(TALLOC_CTX *mem_ctx, const char *domain, const char *user,
					 const char *password, struct smbsess__creds **out)
{
	struct smbsess__creds *c = talloc_zero(mem_ctx, struct smbsess__creds);

	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	talloc_set_destructor(c, creds_destructor);
	c->domain = talloc_strdup(c, domain ? domain : "");
	c->user = talloc_strdup(c, user ? user : "");
	c->password = talloc_strdup(c, password ? password : "");
	if (c->domain == NULL || c->user == NULL || c->password == NULL) {
		talloc_free(c);
		return SMBSESS__ST_NOMEM;
	}
	c->mechs = SMBSESS__MECHS_NTLM_ONLY;
	c->krb5_source = SMBSESS__KRB5_FROM_PASSWORD;
	*out = c;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__creds_copy(TALLOC_CTX *mem_ctx, const struct smbsess__creds *c,
					  struct smbsess__creds **out)
{
	struct smbsess__creds *n;

	if (c == NULL || out == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	SMBSESS__CHECK(smbsess__creds_new(mem_ctx, c->domain, c->user, c->password, &n));
	n->mechs = c->mechs;
	n->krb5_source = c->krb5_source;
	if (!dup_opt(n, c->ccache, &n->ccache) || !dup_opt(n, c->keytab, &n->keytab) ||
	    !dup_opt(n, c->principal, &n->principal)) {
		talloc_free(n);
		return SMBSESS__ST_NOMEM;
	}
	*out = n;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__creds_set_ccache(struct smbsess__creds *c, const char *ccache)
{
	char *name;

	if (c == NULL || (ccache != NULL && ccache[0] == '\0'))
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	if (!dup_opt(c, ccache, &name))
		return SMBSESS__ST_NOMEM;
	TALLOC_FREE(c->ccache);
	TALLOC_FREE(c->keytab);
	c->ccache = name;
	c->krb5_source = SMBSESS__KRB5_FROM_CCACHE;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__creds_set_keytab(struct smbsess__creds *c, const char *keytab,
						const char *principal)
{
	char *kt, *p;

	if (c == NULL || keytab == NULL || keytab[0] == '\0' || (principal != NULL && principal[0] == '\0'))
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	if (!dup_opt(c, keytab, &kt))
		return SMBSESS__ST_NOMEM;
	if (!dup_opt(c, principal, &p)) {
		talloc_free(kt);
		return SMBSESS__ST_NOMEM;
	}
	TALLOC_FREE(c->ccache);
	TALLOC_FREE(c->keytab);
	TALLOC_FREE(c->principal);
	c->keytab = kt;
	c->principal = p;
	c->krb5_source = SMBSESS__KRB5_FROM_KEYTAB;
	return SMBSESS__OK;
}

bool smbsess__creds_is_anonymous(const struct smbsess__creds *c)
{
	return c == NULL || c->user == NULL || c->user[0] == '\0';
}

bool smbsess__creds_krb5_allowed(const struct smbsess__creds *c)
{
	return c != NULL && c->mechs != SMBSESS__MECHS_NTLM_ONLY;
}

bool smbsess__creds_ntlm_allowed(const struct smbsess__creds *c)
{
	return c == NULL || c->mechs != SMBSESS__MECHS_KRB5_ONLY;
}

bool smbsess__mechs_valid(int mechs)
{
	return mechs == SMBSESS__MECHS_NTLM_ONLY || mechs == SMBSESS__MECHS_KRB5_THEN_NTLM ||
	       mechs == SMBSESS__MECHS_KRB5_ONLY || mechs == SMBSESS__MECHS_NTLM_THEN_KRB5;
}
