/*
 * lib/auth: Kerberos through GSS-API (MIT libgssapi_krb5), the blocking part.
 *
 * Acquiring credentials and making context tokens may talk to a KDC and
 * block. Callers on an event loop therefore run smbsess__gss_call_run on a
 * worker thread (lib/util/job.h); everything a call touches is malloc'd,
 * not talloc memory, and belongs to exactly one thread at a time:
 *   - a struct smbsess__gss (credentials, context, target name, session
 *     key) is owned by its SPNEGO client while idle;
 *   - to run a step, the client moves it into a struct smbsess__gss_call
 *     together with malloc'd copies of the inputs; the call is the job's
 *     argument and the loop does not look at it until the job is done;
 *   - when the job completes, the client takes the context back. When the
 *     job is abandoned (its request freed, e.g. on timeout), the thread
 *     finishes alone and smbsess__gss_call_free releases everything there.
 * Nothing here sends anything: the tokens go back to the caller.
 */
#ifndef SMBSESS_LIB_AUTH_GSSAPI_H
#define SMBSESS_LIB_AUTH_GSSAPI_H

#include "../util/util.h"
#include "creds.h"

/* Longest session key kept from a context (AES-256 has 32 bytes). */
#define SMBSESS__GSS_MAX_KEY 64

struct smbsess__gss;

/*
 * A new Kerberos initiator for the service principal @p service/@p host
 * (a host-based name, "cifs" and the server's name), with the credentials
 * of @p creds (copied). Makes no GSS-API call. The client principal:
 *   FROM_PASSWORD: creds->principal if set, else the user when it holds an
 *     '@', else user@DOMAIN when the domain holds a '.' (upper-cased), else
 *     the user in the default realm;
 *   FROM_CCACHE: creds->principal if set, else the cache's own;
 *   FROM_KEYTAB: creds->principal if set, else the keytab's first entry.
 * Keytab credentials are kept in a memory cache of this process named after
 * keytab and principal, so that later connections reuse the tickets.
 * Free with smbsess__gss_free.
 */
struct smbsess_status smbsess__gss_new(const struct smbsess__creds *creds, const char *service,
				       const char *host, struct smbsess__gss **out);

/* Deletes the context, releases the credentials, wipes the key. NULL is fine. */
void smbsess__gss_free(struct smbsess__gss *g);

/* True once the context is established (mutual authentication done). */
bool smbsess__gss_complete(const struct smbsess__gss *g);

/* For tests only: marks the context established with @p key (no GSS-API call). */
void smbsess__gss_test_establish(struct smbsess__gss *g, const uint8_t *key, size_t key_len);

/* The session key of an established context ([MS-SMB2] 3.2.5.3: the whole key). */
struct smbsess_status smbsess__gss_session_key(const struct smbsess__gss *g,
					       uint8_t key[SMBSESS__GSS_MAX_KEY], size_t *key_len);

/* One step of the exchange, with its inputs and results; every pointer malloc'd. */
struct smbsess__gss_call {
	struct smbsess__gss *gss;   /* owned by the call while it runs */
	uint8_t *in;                /* the acceptor's token; NULL for the first step */
	size_t in_len;
	bool start;                 /* first step: acquire the credentials first */
	uint8_t *mech_types;        /* what a mechListMIC covers; NULL when no MIC is involved */
	size_t mech_types_len;
	uint8_t *peer_mic;          /* the acceptor's mechListMIC to verify once complete, or NULL */
	size_t peer_mic_len;
	bool make_mic;              /* make our mechListMIC once complete */
	/* results */
	struct smbsess_status st;
	uint8_t *out;               /* the token for the acceptor, or NULL */
	size_t out_len;
	uint8_t *mic;               /* our mechListMIC, or NULL */
	size_t mic_len;
	bool complete;
};

/* A zeroed call (calloc). NULL when out of memory. */
struct smbsess__gss_call *smbsess__gss_call_new(void);

/*
 * Runs one step: with @p start, acquires the credentials; then
 * gss_init_sec_context with the input token (mutual authentication,
 * integrity, replay and sequence detection); once the context is
 * established, checks that it is mutual, takes the session key, verifies
 * peer_mic and makes mic as asked. Blocks. The result is in call->st.
 * Matches the smbsess__job_fn type.
 */
void smbsess__gss_call_run(void *call);

/* Frees a call and everything it still owns (the context too, if still in it). */
void smbsess__gss_call_free(void *call);

/* Copies @p len bytes into a new malloc'd block (NULL when out of memory or len 0 and p NULL). */
uint8_t *smbsess__gss_memdup(const void *p, size_t len);

/*
 * The status for a failed GSS-API call. The minor status of the krb5
 * mechanism is a com_err code: a code the KRB5 table knows becomes
 * SMBSESS_DOMAIN_KRB5 with it; any other minor code of a failing mechanism
 * (GSS_S_FAILURE) is kept too, in the KRB5 domain; otherwise the major
 * status's routine error in SMBSESS_DOMAIN_GSS.
 */
struct smbsess_status smbsess__gss_status(uint32_t major, uint32_t minor);

#endif /* SMBSESS_LIB_AUTH_GSSAPI_H */
