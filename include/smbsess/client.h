/*
 * libsmbsess - credentials, options and the connection to one server.
 *
 * Ownership: every object is a talloc context allocated on the mem_ctx the
 * caller passes; free it with talloc_free() (or by freeing its parent).
 * Nothing is global; a connection and its requests belong to the tevent
 * context they were created with and are used from that context's thread.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_CLIENT_H
#define SMBSESS_CLIENT_H

#include <talloc.h>
#include <tevent.h>

#include <smbsess/common.h>
#include <smbsess/status.h>

SMBSESS_BEGIN_DECLS

/**
 * Credentials: a domain, a user and a password for NTLM, where Kerberos
 * credentials come from, and which mechanisms may be used. Opaque.
 */
struct smbsess_credentials;
/** Connection options. Opaque. */
struct smbsess_options;
/** An authenticated connection to one server with its srvsvc pipe bound. Opaque. */
struct smbsess_conn;

/** Signing and encryption policies. */
enum smbsess_policy {
	SMBSESS_POLICY_AUTO = 0,     /**< as the server requires (signing is always used when possible) */
	SMBSESS_POLICY_REQUIRED = 1, /**< fail when it cannot be used */
	SMBSESS_POLICY_OFF = 2       /**< encryption only: never ask for it */
};

/** SMB dialects, for smbsess_options_set_dialects(). */
enum smbsess_dialect {
	SMBSESS_SMB_2_0_2 = 0x0202,
	SMBSESS_SMB_2_1 = 0x0210,
	SMBSESS_SMB_3_0 = 0x0300,
	SMBSESS_SMB_3_0_2 = 0x0302,
	SMBSESS_SMB_3_1_1 = 0x0311
};

/**
 * Which authentication mechanisms SPNEGO offers, and in which order
 * (smbsess_credentials_set_mechs()).
 */
enum smbsess_mechs {
	SMBSESS_MECHS_NTLM_ONLY = 0,          /**< NTLMSSP only: the default of smbsess_credentials_new() */
	SMBSESS_MECHS_KERBEROS_THEN_NTLM = 1, /**< Kerberos first; NTLMSSP when Kerberos cannot be used
						   (no ticket, KDC unreachable, unknown SPN, the server
						   does not offer it) */
	SMBSESS_MECHS_KERBEROS_ONLY = 2,      /**< Kerberos only, NTLM forbidden: the default of
						   Kerberos credentials */
	SMBSESS_MECHS_NTLM_THEN_KERBEROS = 3  /**< NTLMSSP first; Kerberos when the server prefers it */
};

/** How the session of a connection was authenticated (smbsess_conn_auth()). */
enum smbsess_auth {
	SMBSESS_AUTH_NONE = 0,      /**< not authenticated (no session) */
	SMBSESS_AUTH_ANONYMOUS = 1, /**< an anonymous NTLM logon */
	SMBSESS_AUTH_NTLM = 2,      /**< NTLMSSP (NTLMv2) */
	SMBSESS_AUTH_KERBEROS = 3   /**< Kerberos, mutually authenticated */
};

/**
 * New credentials on @p mem_ctx (the strings are copied; NULL counts as "").
 * An empty @p user means an anonymous logon. NTLM only until
 * smbsess_credentials_set_mechs() allows Kerberos, which then gets its
 * tickets with @p user and @p password (into a memory cache; the principal
 * is @p user when it contains '@', else user@DOMAIN when @p domain
 * contains a '.', else @p user in the default realm of krb5.conf).
 * Free with talloc_free().
 */
SMBSESS_API struct smbsess_status smbsess_credentials_new(TALLOC_CTX *mem_ctx, const char *domain,
							  const char *user, const char *password,
							  struct smbsess_credentials **out);

/**
 * New Kerberos credentials on @p mem_ctx that use the tickets of the
 * credentials cache @p ccache (such as "FILE:/tmp/krb5cc_1000"; copied), or
 * of the default cache (KRB5CCNAME, krb5.conf) when NULL; the cache is read
 * when a connection authenticates. Policy SMBSESS_MECHS_KERBEROS_ONLY; these
 * credentials have no NTLM identity, so no policy with NTLM can be set on
 * them. Free with talloc_free().
 */
SMBSESS_API struct smbsess_status smbsess_credentials_new_kerberos(TALLOC_CTX *mem_ctx, const char *ccache,
								   struct smbsess_credentials **out);

/**
 * Kerberos from the credentials cache @p ccache (copied; NULL: the default
 * cache) instead of the password; the user and password stay for NTLM.
 * Credentials that allowed NTLM only switch to SMBSESS_MECHS_KERBEROS_ONLY;
 * set another policy afterwards to allow an NTLM fallback.
 */
SMBSESS_API struct smbsess_status smbsess_credentials_set_ccache(struct smbsess_credentials *creds,
								 const char *ccache);

/**
 * Kerberos from the client keytab @p keytab (such as "FILE:/etc/u.keytab")
 * as @p principal (NULL: the keytab's first principal); both copied. The
 * tickets go into a memory cache of this process, reused by later
 * connections with the same keytab and principal; the default cache is not
 * touched. Policy as for smbsess_credentials_set_ccache().
 */
SMBSESS_API struct smbsess_status smbsess_credentials_set_keytab(struct smbsess_credentials *creds,
								 const char *keytab, const char *principal);

/**
 * The Kerberos client principal ("user@REALM"; copied): with a password it
 * replaces the one derived from user and domain; with a cache it picks the
 * cache of a collection that holds this principal. NULL resets it.
 */
SMBSESS_API struct smbsess_status smbsess_credentials_set_principal(struct smbsess_credentials *creds,
								    const char *principal);

/**
 * The mechanism policy. SMBSESS_E_INVALID_ARGUMENT for an unknown value,
 * and for a policy with both mechanisms on credentials without a user
 * (the NTLM fallback would be an anonymous logon).
 */
SMBSESS_API struct smbsess_status smbsess_credentials_set_mechs(struct smbsess_credentials *creds,
								enum smbsess_mechs mechs);

/**
 * New options on @p mem_ctx with the defaults: port 445, connect to the
 * server name, 30 s per request, signing and encryption AUTO, SMB 2.0.2 to
 * 3.1.1, at most 1,000,000 entries per enumeration. Free with talloc_free().
 */
SMBSESS_API struct smbsess_status smbsess_options_new(TALLOC_CTX *mem_ctx, struct smbsess_options **out);
/** TCP port (1-65535). */
SMBSESS_API struct smbsess_status smbsess_options_set_port(struct smbsess_options *o, uint16_t port);
/**
 * The address (or host name) to connect to, when it differs from the server
 * name used for the share path and Kerberos. Copied; NULL resets it.
 */
SMBSESS_API struct smbsess_status smbsess_options_set_address(struct smbsess_options *o, const char *address);
/** Time limit of each request, and of connecting, in milliseconds (> 0). */
SMBSESS_API struct smbsess_status smbsess_options_set_timeout(struct smbsess_options *o, uint32_t ms);
SMBSESS_API struct smbsess_status smbsess_options_set_signing(struct smbsess_options *o, enum smbsess_policy p);
SMBSESS_API struct smbsess_status smbsess_options_set_encryption(struct smbsess_options *o, enum smbsess_policy p);
/** The dialect range (enum smbsess_dialect values, min <= max). */
SMBSESS_API struct smbsess_status smbsess_options_set_dialects(struct smbsess_options *o, uint16_t min,
							       uint16_t max);
/** Most entries one enumeration may collect before it fails with SMBSESS_E_LIMIT (> 0). */
SMBSESS_API struct smbsess_status smbsess_options_set_max_entries(struct smbsess_options *o, uint32_t max);
/**
 * Most bytes of memory one enumeration may hold (> 0; default 512 MiB): the
 * entries and strings it keeps, and the answer page being decoded. Past it
 * the enumeration fails with SMBSESS_E_LIMIT. Entries a client-side filter
 * drops are not kept and do not count. Added in 0.2.
 */
SMBSESS_API struct smbsess_status smbsess_options_set_max_bytes(struct smbsess_options *o, uint64_t bytes);
/**
 * The preferred maximum length of one enumeration answer the server is
 * asked for, in bytes; 0xFFFFFFFF (the default) asks for everything at once.
 */
SMBSESS_API struct smbsess_status smbsess_options_set_page_size(struct smbsess_options *o, uint32_t bytes);

/**
 * Connects to @p server (a host name or address), authenticates with
 * @p creds, connects to IPC$ and binds the srvsvc pipe. Kerberos asks for a
 * ticket to cifs/@p server (so @p server must be the name the KDC knows,
 * such as "dc1.example.com"; connect to another address with
 * smbsess_options_set_address()) and requires mutual authentication.
 * Kerberos failures keep their reason: SMBSESS_DOMAIN_KRB5 codes such as
 * KRB5_FCC_NOFILE (no credentials cache), KRB5_CC_NOTFOUND (no ticket),
 * KRB5KRB_AP_ERR_TKT_EXPIRED, KRB5_KDC_UNREACH,
 * KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN (unknown SPN), KRB5KRB_AP_ERR_SKEW, or
 * SMBSESS_DOMAIN_GSS major statuses; SMBSESS_E_KERBEROS_REFUSED when the
 * server does not take Kerberos and NTLM is forbidden. The talks with the
 * KDC run on a worker thread and do not stall the event loop; when the
 * request times out while one is under way, that thread finishes alone. @p opts may be NULL
 * for the defaults; both are copied, so they may be freed afterwards.
 * The request is a talloc child of @p mem_ctx; free it to cancel.
 */
SMBSESS_API struct tevent_req *smbsess_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    const char *server,
						    const struct smbsess_credentials *creds,
						    const struct smbsess_options *opts);
/**
 * On success *conn is a new connection on @p mem_ctx; free it to
 * disconnect. The request is freed by the caller after recv.
 */
SMBSESS_API struct smbsess_status smbsess_connect_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						       struct smbsess_conn **conn);
/**
 * Blocking form: runs its own private event context, which the connection
 * keeps for the blocking calls below. *conn is allocated on @p mem_ctx.
 */
SMBSESS_API struct smbsess_status smbsess_connect(TALLOC_CTX *mem_ctx, const char *server,
						  const struct smbsess_credentials *creds,
						  const struct smbsess_options *opts, struct smbsess_conn **conn);

/**
 * Leaves the server politely: closes the srvsvc pipe, disconnects IPC$ and
 * logs the session off, in one message (one round trip), and waits for the
 * answer within the connection's timeout. @p ev must be the connection's
 * event context. Afterwards every operation on @p conn fails with
 * SMBSESS_E_DISCONNECTED, and so does a second disconnect; @p conn stays
 * allocated until the caller frees it (freeing without disconnecting just
 * drops the TCP connection, which servers also clean up after). The
 * request is allocated on @p mem_ctx. Added in 0.2.
 */
SMBSESS_API struct tevent_req *smbsess_disconnect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						       struct smbsess_conn *conn);
SMBSESS_API struct smbsess_status smbsess_disconnect_recv(struct tevent_req *req);
/** Blocking form, on the connection's event context. Added in 0.2. */
SMBSESS_API struct smbsess_status smbsess_disconnect(struct smbsess_conn *conn);

/** The server name the connection was made to. Owned by the connection. */
SMBSESS_API const char *smbsess_conn_server(const struct smbsess_conn *conn);
/** The negotiated dialect (enum smbsess_dialect). */
SMBSESS_API uint16_t smbsess_conn_dialect(const struct smbsess_conn *conn);
/** Non-zero when the connection's traffic is encrypted / signed. */
SMBSESS_API int smbsess_conn_encrypted(const struct smbsess_conn *conn);
SMBSESS_API int smbsess_conn_signed(const struct smbsess_conn *conn);
/** How the connection's session was authenticated (enum smbsess_auth). */
SMBSESS_API int smbsess_conn_auth(const struct smbsess_conn *conn);

SMBSESS_END_DECLS

#endif /* SMBSESS_CLIENT_H */
