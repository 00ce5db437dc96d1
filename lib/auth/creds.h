/*
 * lib/auth: who logs on, and with which mechanisms.
 *
 * One struct for both mechanisms: the NTLM identity (domain, user,
 * password) and where Kerberos credentials come from (the password, a
 * credentials cache, or a client keytab), plus the mechanism policy that
 * says which of the two SPNEGO offers and in which order.
 */
#ifndef SMBSESS_LIB_AUTH_CREDS_H
#define SMBSESS_LIB_AUTH_CREDS_H

#include "../util/util.h"

/* The mechanism policy; the values are those of the public enum smbsess_mechs. */
enum smbsess__mechs {
	SMBSESS__MECHS_NTLM_ONLY = 0,
	SMBSESS__MECHS_KRB5_THEN_NTLM = 1,
	SMBSESS__MECHS_KRB5_ONLY = 2, /* NTLM forbidden */
	SMBSESS__MECHS_NTLM_THEN_KRB5 = 3
};

/* Where the Kerberos credentials come from. */
enum smbsess__krb5_source {
	SMBSESS__KRB5_FROM_PASSWORD = 0, /* user and password, acquired into a memory cache */
	SMBSESS__KRB5_FROM_CCACHE = 1,   /* a credentials cache (ccache NULL: the default one) */
	SMBSESS__KRB5_FROM_KEYTAB = 2    /* a client keytab */
};

/*
 * Strings are UTF-8 and owned by the struct; the password is wiped when it
 * is freed. An empty user means that NTLM would log on anonymously (the
 * NULL session of [MS-NLMP] 3.3.2, whatever the password).
 */
struct smbsess__creds {
	char *domain;
	char *user;
	char *password;
	enum smbsess__mechs mechs;
	enum smbsess__krb5_source krb5_source;
	char *ccache;    /* FROM_CCACHE: the cache's name, or NULL for the default cache */
	char *keytab;    /* FROM_KEYTAB: the keytab's name */
	char *principal; /* the client principal; NULL: see smbsess__gss_new */
};

/*
 * Copies the three strings (NULL counts as "") into a new talloc child of
 * @p mem_ctx: NTLM only, Kerberos (when a policy allows it) from the password.
 */
struct smbsess_status smbsess__creds_new(TALLOC_CTX *mem_ctx, const char *domain, const char *user,
					 const char *password, struct smbsess__creds **out);

/* A deep copy of @p c on @p mem_ctx. */
struct smbsess_status smbsess__creds_copy(TALLOC_CTX *mem_ctx, const struct smbsess__creds *c,
					  struct smbsess__creds **out);

/* Kerberos from the cache @p ccache (copied; NULL: the default cache). */
struct smbsess_status smbsess__creds_set_ccache(struct smbsess__creds *c, const char *ccache);

/* Kerberos from the client keytab @p keytab as @p principal (NULL: the keytab's first). */
struct smbsess_status smbsess__creds_set_keytab(struct smbsess__creds *c, const char *keytab,
						const char *principal);

/* True when an NTLM logon with these credentials would be anonymous (no user). */
bool smbsess__creds_is_anonymous(const struct smbsess__creds *c);

/* Whether the policy lets SPNEGO use Kerberos / NTLMSSP. NULL credentials: NTLM only. */
bool smbsess__creds_krb5_allowed(const struct smbsess__creds *c);
bool smbsess__creds_ntlm_allowed(const struct smbsess__creds *c);

/* True for the mechanism policies this library knows. */
bool smbsess__mechs_valid(int mechs);

#endif /* SMBSESS_LIB_AUTH_CREDS_H */
