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
 */
#ifndef SMBSESS_LIB_AUTH_SPNEGO_H
#define SMBSESS_LIB_AUTH_SPNEGO_H

#include "../util/util.h"
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

/* ---- the client: SPNEGO with NTLMSSP ---- */

struct smbsess__spnego_client;

/* A new client for @p creds (copied; NULL means anonymous); freed with talloc_free. */
struct smbsess_status smbsess__spnego_client_new(TALLOC_CTX *mem_ctx,
						 const struct smbsess__creds *creds,
						 struct smbsess__spnego_client **out);

/* The NTLMSSP client inside, to set its options before the first step. */
struct smbsess__ntlmssp *smbsess__spnego_client_ntlmssp(struct smbsess__spnego_client *c);

/*
 * One round of the exchange. Feed, in order:
 *   1. the security buffer of the SMB2 NEGOTIATE response (may be empty);
 *      returns the NegTokenInit with the NTLMSSP NEGOTIATE_MESSAGE;
 *   2. the server's first NegTokenResp (with the CHALLENGE_MESSAGE);
 *      returns the NegTokenResp with the AUTHENTICATE_MESSAGE and, when
 *      the NTLMSSP MIC was sent, a mechListMIC;
 *   3. the server's last NegTokenResp (may be empty); returns nothing
 *      (*out NULL, *out_len 0) and the exchange is done. A mechListMIC from
 *      the server is verified.
 * *out is a talloc child of @p mem_ctx. Errors: those of the parsers,
 * SMBSESS_E_AUTH when the server rejects or the order is wrong,
 * SMBSESS_E_NOT_SUPPORTED when the server does not offer NTLMSSP,
 * SMBSESS_E_BAD_SIGNATURE when its mechListMIC does not verify. After an
 * error the client is unusable.
 */
struct smbsess_status smbsess__spnego_client_step(struct smbsess__spnego_client *c,
						  TALLOC_CTX *mem_ctx, const uint8_t *in,
						  size_t in_len, uint8_t **out, size_t *out_len);

bool smbsess__spnego_client_done(const struct smbsess__spnego_client *c);

/* The exported session key, as smbsess__ntlmssp_session_key. Available after step 2. */
struct smbsess_status smbsess__spnego_client_session_key(const struct smbsess__spnego_client *c,
							 uint8_t key[16]);

#endif /* SMBSESS_LIB_AUTH_SPNEGO_H */
