/*
 * lib/auth: the client side of NTLMSSP ([MS-NLMP]), NTLMv2 only.
 *
 * Makes the NEGOTIATE_MESSAGE, reads the server's CHALLENGE_MESSAGE (which
 * is untrusted: every offset, length and AV pair is checked), makes the
 * AUTHENTICATE_MESSAGE with the MIC, and keeps the keys: the exported session
 * key for SMB signing and the NTLMSSP signing state for the SPNEGO
 * mechListMIC. Never LM or NTLMv1. Sends nothing.
 *
 * Crypto primitives (MD4, MD5, HMAC-MD5, RC4) come from nettle.
 */
#ifndef SMBSESS_LIB_AUTH_NTLMSSP_H
#define SMBSESS_LIB_AUTH_NTLMSSP_H

#include <nettle/arcfour.h>

#include "../util/util.h"
#include "creds.h"

/* NegotiateFlags, [MS-NLMP] 2.2.2.5. */
#define SMBSESS__NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define SMBSESS__NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define SMBSESS__NTLMSSP_REQUEST_TARGET 0x00000004u
#define SMBSESS__NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define SMBSESS__NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define SMBSESS__NTLMSSP_NEGOTIATE_DATAGRAM 0x00000040u
#define SMBSESS__NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define SMBSESS__NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define SMBSESS__NTLMSSP_ANONYMOUS 0x00000800u
#define SMBSESS__NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED 0x00001000u
#define SMBSESS__NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define SMBSESS__NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define SMBSESS__NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define SMBSESS__NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define SMBSESS__NTLMSSP_NEGOTIATE_IDENTIFY 0x00100000u
#define SMBSESS__NTLMSSP_REQUEST_NON_NT_SESSION_KEY 0x00400000u
#define SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define SMBSESS__NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define SMBSESS__NTLMSSP_NEGOTIATE_128 0x20000000u
#define SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define SMBSESS__NTLMSSP_NEGOTIATE_56 0x80000000u

/* What a client asks for unless told otherwise: signing-capable, NTLMv2 with ESS and key exchange. */
#define SMBSESS__NTLMSSP_DEFAULT_FLAGS                                                           \
	(SMBSESS__NTLMSSP_NEGOTIATE_UNICODE | SMBSESS__NTLMSSP_REQUEST_TARGET |                  \
	 SMBSESS__NTLMSSP_NEGOTIATE_SIGN | SMBSESS__NTLMSSP_NEGOTIATE_NTLM |                     \
	 SMBSESS__NTLMSSP_NEGOTIATE_ALWAYS_SIGN |                                                \
	 SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |                                   \
	 SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO | SMBSESS__NTLMSSP_NEGOTIATE_128 |               \
	 SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH | SMBSESS__NTLMSSP_NEGOTIATE_56)

/* AvId values of AV_PAIR, [MS-NLMP] 2.2.2.1. */
#define SMBSESS__MSV_AV_EOL 0x0000
#define SMBSESS__MSV_AV_NB_COMPUTER_NAME 0x0001
#define SMBSESS__MSV_AV_NB_DOMAIN_NAME 0x0002
#define SMBSESS__MSV_AV_DNS_COMPUTER_NAME 0x0003
#define SMBSESS__MSV_AV_DNS_DOMAIN_NAME 0x0004
#define SMBSESS__MSV_AV_DNS_TREE_NAME 0x0005
#define SMBSESS__MSV_AV_FLAGS 0x0006
#define SMBSESS__MSV_AV_TIMESTAMP 0x0007
#define SMBSESS__MSV_AV_SINGLE_HOST 0x0008
#define SMBSESS__MSV_AV_TARGET_NAME 0x0009
#define SMBSESS__MSV_AV_CHANNEL_BINDINGS 0x000a

/* MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC. */
#define SMBSESS__MSV_AV_FLAG_MIC 0x00000002u

/* AV pairs we accept in one CHALLENGE_MESSAGE (Windows sends about ten). */
#define SMBSESS__NTLM_MAX_AV_PAIRS 64

/* ---- the CHALLENGE_MESSAGE, parsed ---- */

/* [MS-NLMP] 2.2.1.2, with the AV pairs of 2.2.2.1 that matter to a client. */
struct smbsess__ntlm_challenge {
	uint32_t flags;
	uint8_t server_challenge[8];
	char *target_name;       /* UTF-8; NULL if absent or not valid UTF-16 */
	uint8_t *target_info;    /* the AV pairs up to and including MsvAvEOL; NULL if none */
	size_t target_info_len;
	size_t num_av_pairs;     /* MsvAvEOL not counted */
	bool has_timestamp;
	uint64_t timestamp;      /* MsvAvTimestamp, a FILETIME */
	bool has_av_flags;
	uint32_t av_flags;
	bool has_nb_computer;    /* MsvAvNbComputerName present */
	bool has_nb_domain;      /* MsvAvNbDomainName present */
	bool has_version;
	uint8_t version[8];
};

/*
 * Parses a CHALLENGE_MESSAGE. Every field is checked against @p len; the
 * AV pair list must end with MsvAvEOL within its buffer and hold at most
 * SMBSESS__NTLM_MAX_AV_PAIRS pairs. Errors: SMBSESS_E_PROTOCOL for malformed
 * input, SMBSESS_E_LIMIT for too many pairs. *out (a talloc child of
 * @p mem_ctx) is only set on success.
 */
struct smbsess_status smbsess__ntlm_challenge_parse(TALLOC_CTX *mem_ctx, const uint8_t *msg,
						    size_t len,
						    struct smbsess__ntlm_challenge **out);

/* ---- the building blocks of [MS-NLMP] 3.3.2 and 3.4, exposed for known-answer tests ---- */

/* NTOWFv1: MD4(UNICODE(password)). */
struct smbsess_status smbsess__ntlm_nt_hash(const char *password, uint8_t out[16]);

/* NTOWFv2: HMAC_MD5(MD4(UNICODE(password)), UNICODE(Uppercase(user) || domain)). */
struct smbsess_status smbsess__ntlm_ntowfv2(const char *password, const char *user,
					    const char *domain, uint8_t out[16]);

/*
 * The NTLMv2 response: NtChallengeResponse = NTProofStr || temp, where temp
 * = 0x01 0x01 Z(6) time client_challenge Z(4) av_pairs Z(4); and the session
 * base key HMAC_MD5(response_key, NTProofStr). *nt_response is a talloc child
 * of @p mem_ctx; its first 16 bytes are NTProofStr.
 */
struct smbsess_status smbsess__ntlmv2_response(TALLOC_CTX *mem_ctx, const uint8_t response_key[16],
					       const uint8_t server_challenge[8],
					       const uint8_t client_challenge[8], uint64_t time,
					       const uint8_t *av_pairs, size_t av_len,
					       uint8_t **nt_response, size_t *nt_len,
					       uint8_t session_base_key[16]);

/* LMv2: HMAC_MD5(response_key, server_challenge || client_challenge) || client_challenge. */
void smbsess__ntlm_lmv2_response(const uint8_t response_key[16], const uint8_t server_challenge[8],
				 const uint8_t client_challenge[8], uint8_t out[24]);

/* SIGNKEY with extended session security, [MS-NLMP] 3.4.5.2. */
void smbsess__ntlm_sign_key(const uint8_t exported_session_key[16], bool client_to_server,
			    uint8_t out[16]);

/* SEALKEY with extended session security, [MS-NLMP] 3.4.5.3; @p flags picks 128, 56 or 40 bits. */
void smbsess__ntlm_seal_key(const uint8_t exported_session_key[16], uint32_t flags,
			    bool client_to_server, uint8_t out[16]);

/*
 * MAC with extended session security, [MS-NLMP] 3.4.4.2: the 16-byte
 * NTLMSSP_MESSAGE_SIGNATURE of @p data for sequence number @p seq. With key
 * exchange the checksum goes through @p seal (the RC4 state, advanced by 8
 * bytes); without it pass NULL.
 */
void smbsess__ntlm_mac(const uint8_t sign_key[16], struct arcfour_ctx *seal, uint32_t seq,
		       const uint8_t *data, size_t len, uint8_t out[16]);

/* ---- the client ---- */

struct smbsess__ntlmssp;

/*
 * A new client for @p creds (copied; NULL means anonymous). Freed with
 * talloc_free; its keys are wiped then. Options below apply before
 * smbsess__ntlmssp_negotiate.
 */
struct smbsess_status smbsess__ntlmssp_client_new(TALLOC_CTX *mem_ctx,
						  const struct smbsess__creds *creds,
						  struct smbsess__ntlmssp **out);

/* The NegotiateFlags to ask for (default SMBSESS__NTLMSSP_DEFAULT_FLAGS). */
void smbsess__ntlmssp_set_flags(struct smbsess__ntlmssp *n, uint32_t flags);

/*
 * Sends a VERSION ([MS-NLMP] 2.2.2.10, revision 15) and sets
 * NTLMSSP_NEGOTIATE_VERSION. Default 6.1 build 0, as Samba's client.
 */
void smbsess__ntlmssp_set_version(struct smbsess__ntlmssp *n, uint8_t major, uint8_t minor,
				  uint16_t build);

/*
 * Whether the AUTHENTICATE_MESSAGE carries the 16-byte MIC field, zeroed,
 * also when no MIC is computed (default yes, as Windows since Vista). Some
 * servers (impacket's) read the payload in order from where the header would
 * end with Version and MIC whenever NEGOTIATE_VERSION is set, and otherwise
 * take the wrong bytes for the session key. The [MS-NLMP] 4.2.4 example has
 * no such field.
 */
void smbsess__ntlmssp_set_mic_field(struct smbsess__ntlmssp *n, bool always);

/* The workstation name put in the AUTHENTICATE_MESSAGE (default none). */
struct smbsess_status smbsess__ntlmssp_set_workstation(struct smbsess__ntlmssp *n, const char *name);

/*
 * For tests only: fixes the client challenge, the exported session key used
 * with key exchange, and the time used when the server sends no
 * MsvAvTimestamp (NULL leaves that one to the clock). Any may be NULL.
 */
void smbsess__ntlmssp_set_test_values(struct smbsess__ntlmssp *n, const uint8_t client_challenge[8],
				      const uint8_t exported_session_key[16], const uint64_t *time);

/* Makes the NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1). *out is a talloc child of @p mem_ctx. */
struct smbsess_status smbsess__ntlmssp_negotiate(struct smbsess__ntlmssp *n, TALLOC_CTX *mem_ctx,
						 uint8_t **out, size_t *out_len);

/*
 * Reads the server's CHALLENGE_MESSAGE and makes the AUTHENTICATE_MESSAGE
 * ([MS-NLMP] 3.1.5.1.2). Errors: SMBSESS_E_PROTOCOL / SMBSESS_E_LIMIT for a
 * malformed challenge, SMBSESS_E_NOT_SUPPORTED when the server lacks
 * Unicode or extended session security, SMBSESS_E_AUTH when the target info
 * lacks the NetBIOS names needed for signing ([MS-NLMP] 3.1.5.1.2).
 * *out is a talloc child of @p mem_ctx.
 */
struct smbsess_status smbsess__ntlmssp_authenticate(struct smbsess__ntlmssp *n,
						    const uint8_t *challenge, size_t challenge_len,
						    TALLOC_CTX *mem_ctx, uint8_t **out,
						    size_t *out_len);

/*
 * The exported session key: the key for SMB2 signing and key derivation.
 * SMBSESS_E_AUTH before the AUTHENTICATE_MESSAGE is made;
 * SMBSESS_E_NOT_SUPPORTED for an anonymous logon, which has none.
 */
struct smbsess_status smbsess__ntlmssp_session_key(const struct smbsess__ntlmssp *n, uint8_t key[16]);

/* The flags in the AUTHENTICATE_MESSAGE (0 before it). */
uint32_t smbsess__ntlmssp_flags(const struct smbsess__ntlmssp *n);

bool smbsess__ntlmssp_is_anonymous(const struct smbsess__ntlmssp *n);

/* True when the AUTHENTICATE_MESSAGE carries a MIC (the server sent MsvAvTimestamp). */
bool smbsess__ntlmssp_sent_mic(const struct smbsess__ntlmssp *n);

/* True when signing keys exist: authenticated, not anonymous, NTLMSSP_NEGOTIATE_SIGN agreed. */
bool smbsess__ntlmssp_can_sign(const struct smbsess__ntlmssp *n);

/* The parsed CHALLENGE_MESSAGE, or NULL before it. */
const struct smbsess__ntlm_challenge *smbsess__ntlmssp_challenge(const struct smbsess__ntlmssp *n);

/*
 * Signs @p data client to server with the next client sequence number
 * (0 first) ([MS-NLMP] 3.4.4.2). SMBSESS_E_AUTH when no signing keys exist.
 */
struct smbsess_status smbsess__ntlmssp_sign(struct smbsess__ntlmssp *n, const uint8_t *data,
					    size_t len, uint8_t sig[16]);

/*
 * Verifies a server-to-client signature with the next server sequence
 * number (0 first). SMBSESS_E_BAD_SIGNATURE when it does not match.
 */
struct smbsess_status smbsess__ntlmssp_check(struct smbsess__ntlmssp *n, const uint8_t *data,
					     size_t len, const uint8_t sig[16]);

#endif /* SMBSESS_LIB_AUTH_NTLMSSP_H */
