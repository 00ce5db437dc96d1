/*
 * lib/auth: SPNEGO (RFC 4178) tokens in the GSS-API framing of RFC 2743
 * 3.1, and a client that drives NTLMSSP through them for SMB2 SESSION_SETUP.
 *
 *   NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit,
 *                                 negTokenResp [1] NegTokenResp }
 *   NegTokenInit ::= SEQUENCE { mechTypes [0] MechTypeList,
 *                               reqFlags [1] ContextFlags OPTIONAL,
 *                               mechToken [2] OCTET STRING OPTIONAL,
 *                               mechListMIC [3] OCTET STRING OPTIONAL, ... }
 *   NegTokenInit2 (MS-SPNG 2.2.1): as NegTokenInit, but [3] is
 *                               negHints SEQUENCE { hintName [0] GeneralString OPTIONAL,
 *                                                   hintAddress [1] OCTET STRING OPTIONAL }
 *                               and [4] is mechListMIC.
 *   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL,
 *                               supportedMech [1] MechType OPTIONAL,
 *                               responseToken [2] OCTET STRING OPTIONAL,
 *                               mechListMIC [3] OCTET STRING OPTIONAL, ... }
 *
 * Tokens from the server are untrusted: each is first checked as a whole
 * (lib/auth/der.h), then read field by field with no recursion.
 *
 * The client offers Kerberos (through GSS-API, lib/auth/gssapi.h) and
 * NTLMSSP in the order the credentials' mechanism policy sets.
 */
#ifndef SMBSESS_LIB_AUTH_SPNEGO_H
#define SMBSESS_LIB_AUTH_SPNEGO_H

#include <tevent.h>

#include "../util/util.h"
#include "../util/job.h"
#include "creds.h"
#include "gssapi.h"
#include "ntlmssp.h"

enum smbsess__spnego_mech {
	SMBSESS__MECH_OTHER = 0,   /* an OID this library does not know */
	SMBSESS__MECH_NTLMSSP = 1, /* 1.3.6.1.4.1.311.2.2.10 */
	SMBSESS__MECH_KRB5 = 2,    /* 1.2.840.113554.1.2.2 */
	SMBSESS__MECH_MS_KRB5 = 3, /* 1.2.840.48018.1.2.2 */
	SMBSESS__MECH_NEGOEX = 4   /* 1.3.6.1.4.1.311.2.2.30 */
};

/* negState of NegTokenResp. */
#define SMBSESS__SPNEGO_ACCEPT_COMPLETED 0
#define SMBSESS__SPNEGO_ACCEPT_INCOMPLETE 1
#define SMBSESS__SPNEGO_REJECT 2
#define SMBSESS__SPNEGO_REQUEST_MIC 3
#define SMBSESS__SPNEGO_NO_STATE (-1)

/* Mechanisms read from one MechTypeList; more is an error. */
#define SMBSESS__SPNEGO_MAX_MECHS 32

/* The OID contents (no tag, no length) of a known mechanism; false for SMBSESS__MECH_OTHER. */
bool smbsess__spnego_mech_oid(enum smbsess__spnego_mech mech, const uint8_t **oid, size_t *len);

/* The mechanism an OID's contents name. */
enum smbsess__spnego_mech smbsess__spnego_mech_from_oid(const uint8_t *oid, size_t len);

/* A NegTokenInit or NegTokenInit2, read from a GSS-API InitialContextToken. */
struct smbsess__spnego_init {
	size_t num_mechs;
	enum smbsess__spnego_mech *mechs;
	uint8_t *mech_types;      /* the MechTypeList's DER as received, for mechListMIC */
	size_t mech_types_len;
	uint8_t *mech_token;      /* NULL when absent */
	size_t mech_token_len;
	char *hint_name;          /* negHints.hintName, NULL when absent */
	uint8_t *mech_list_mic;   /* NULL when absent */
	size_t mech_list_mic_len;
};

/* A NegTokenResp. */
struct smbsess__spnego_resp {
	int neg_state;            /* SMBSESS__SPNEGO_*, or SMBSESS__SPNEGO_NO_STATE */
	bool has_supported_mech;
	enum smbsess__spnego_mech supported_mech;
	uint8_t *response_token;  /* NULL when absent */
	size_t response_token_len;
	uint8_t *mech_list_mic;   /* NULL when absent */
	size_t mech_list_mic_len;
};

/*
 * The DER of a MechTypeList (SEQUENCE OF OBJECT IDENTIFIER) naming @p mechs,
 * the bytes a mechListMIC covers. *out is a talloc child of @p mem_ctx.
 */
struct smbsess_status smbsess__spnego_mech_types(TALLOC_CTX *mem_ctx,
						 const enum smbsess__spnego_mech *mechs, size_t n,
						 uint8_t **out, size_t *out_len);

/*
 * Builds the GSS-API InitialContextToken carrying a NegTokenInit with
 * @p mechs and, when @p mech_token is not NULL, the mechToken.
 * *out is a talloc child of @p mem_ctx.
 */
struct smbsess_status smbsess__spnego_build_init(TALLOC_CTX *mem_ctx,
						 const enum smbsess__spnego_mech *mechs, size_t n,
						 const uint8_t *mech_token, size_t mech_token_len,
						 uint8_t **out, size_t *out_len);

/*
 * Reads a GSS-API InitialContextToken with the SPNEGO OID and a
 * NegTokenInit or NegTokenInit2 in it, such as the hint in an SMB2
 * NEGOTIATE response. Errors: SMBSESS_E_PROTOCOL (malformed),
 * SMBSESS_E_LIMIT (nesting or mechanism count), SMBSESS_E_NOT_SUPPORTED
 * (another mechanism than SPNEGO). *out (a talloc child of @p mem_ctx) is
 * only set on success.
 */
struct smbsess_status smbsess__spnego_parse_init(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
						 struct smbsess__spnego_init **out);

/*
 * Builds a NegTokenResp ([1] NegTokenResp, no GSS-API framing). Fields set
 * to absent (SMBSESS__SPNEGO_NO_STATE, NULL) are left out.
 */
struct smbsess_status smbsess__spnego_build_resp(TALLOC_CTX *mem_ctx,
						 const struct smbsess__spnego_resp *resp,
						 uint8_t **out, size_t *out_len);

/* Reads a NegTokenResp. Errors as for smbsess__spnego_parse_init. */
struct smbsess_status smbsess__spnego_parse_resp(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
						 struct smbsess__spnego_resp **out);

/* ---- the client: SPNEGO with Kerberos and NTLMSSP ---- */

struct smbsess__spnego_client;

/* Longest session key the client hands out. */
#define SMBSESS__SPNEGO_MAX_KEY SMBSESS__GSS_MAX_KEY

/*
 * A new client for @p creds (copied; NULL means anonymous NTLM); freed with
 * talloc_free. Which mechanisms it offers, in which order, follows
 * creds->mechs:
 *   - NTLM_ONLY: NTLMSSP.
 *   - KRB5_THEN_NTLM: Kerberos first (its token is the optimistic one); when
 *     Kerberos fails before anything is sent (no ticket, KDC unreachable,
 *     unknown SPN, ...), NTLMSSP alone, and smbsess__spnego_client_krb5_status
 *     tells why.
 *   - KRB5_ONLY: Kerberos only; its failure is the step's failure.
 *   - NTLM_THEN_KRB5: NTLMSSP first, Kerberos when the server prefers it.
 * A mechanism the server's hint does not list is left out. NTLM never
 * stands in for Kerberos when the credentials have no user (that would be
 * an anonymous logon). The Kerberos target defaults to "cifs" and must be
 * given a host with smbsess__spnego_client_set_target.
 */
struct smbsess_status smbsess__spnego_client_new(TALLOC_CTX *mem_ctx,
						 const struct smbsess__creds *creds,
						 struct smbsess__spnego_client **out);

/* The Kerberos service principal service/host (a host-based name), before the first step. */
struct smbsess_status smbsess__spnego_client_set_target(struct smbsess__spnego_client *c,
							const char *service, const char *host);

/* The NTLMSSP client inside, to set its options before the first step. */
struct smbsess__ntlmssp *smbsess__spnego_client_ntlmssp(struct smbsess__spnego_client *c);

/*
 * For tests: the function that runs a GSS-API step (default
 * smbsess__gss_call_run). A fake may fill call->out, call->complete and
 * call->st, and mark the context established with smbsess__gss_test_establish.
 */
void smbsess__spnego_client_set_runner(struct smbsess__spnego_client *c, smbsess__job_fn runner);

/*
 * One round of the exchange. Feed, in order:
 *   1. the security buffer of the SMB2 NEGOTIATE response (may be empty);
 *      returns the NegTokenInit with the optimistic token (the Kerberos
 *      AP-REQ or the NTLMSSP NEGOTIATE_MESSAGE);
 *   2. each NegTokenResp of the server; returns our next NegTokenResp
 *      (the AUTHENTICATE_MESSAGE, the first token of the mechanism the
 *      server chose instead, our mechListMIC) or nothing (*out NULL,
 *      *out_len 0) when the exchange is done. mechListMICs from the server
 *      are verified; Kerberos must end with mutual authentication.
 * *out is a talloc child of @p mem_ctx. Errors: those of the parsers,
 * SMBSESS_E_AUTH when the server rejects or the order is wrong,
 * SMBSESS_E_NOT_SUPPORTED when the server offers none of our mechanisms,
 * SMBSESS_E_KERBEROS_REFUSED when the server will not do Kerberos and NTLM
 * is forbidden, SMBSESS_E_BAD_SIGNATURE when its mechListMIC does not
 * verify, and the GSS/KRB5 statuses of Kerberos (smbsess__gss_status).
 * After an error the client is unusable.
 *
 * This form makes the GSS-API calls on the caller's thread and may block.
 */
struct smbsess_status smbsess__spnego_client_step(struct smbsess__spnego_client *c,
						  TALLOC_CTX *mem_ctx, const uint8_t *in,
						  size_t in_len, uint8_t **out, size_t *out_len);

/*
 * The same step for an event loop: a step that needs GSS-API runs it on a
 * worker thread (one job per step) and the loop goes on meanwhile. @p in is
 * copied. Freeing the request before it is done abandons the step: the
 * thread finishes alone and frees the Kerberos context, and the client is
 * unusable from then on. One step at a time per client.
 */
struct tevent_req *smbsess__spnego_client_step_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    struct smbsess__spnego_client *c, const uint8_t *in,
						    size_t in_len);
struct smbsess_status smbsess__spnego_client_step_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						       uint8_t **out, size_t *out_len);

bool smbsess__spnego_client_done(const struct smbsess__spnego_client *c);

/* The mechanism in use: SMBSESS__MECH_NTLMSSP or SMBSESS__MECH_KRB5; OTHER before step 1 ends. */
enum smbsess__spnego_mech smbsess__spnego_client_mech(const struct smbsess__spnego_client *c);

/* Why Kerberos was left out or refused (OK when it was not): the fallback's reason. */
struct smbsess_status smbsess__spnego_client_krb5_status(const struct smbsess__spnego_client *c);

/*
 * The first 16 bytes of the session key, zero padded ([MS-SMB2]
 * Session.SessionKey): the NTLMSSP exported session key (available after
 * its AUTHENTICATE_MESSAGE; SMBSESS_E_NOT_SUPPORTED when anonymous), or the
 * Kerberos key once the exchange is done.
 */
struct smbsess_status smbsess__spnego_client_session_key(const struct smbsess__spnego_client *c,
							 uint8_t key[16]);

/* The whole session key (Session.FullSessionKey): 16 bytes for NTLM, up to 32 for Kerberos. */
struct smbsess_status smbsess__spnego_client_full_session_key(const struct smbsess__spnego_client *c,
							      uint8_t key[SMBSESS__SPNEGO_MAX_KEY],
							      size_t *key_len);

#endif /* SMBSESS_LIB_AUTH_SPNEGO_H */
