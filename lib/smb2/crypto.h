/*
 * lib/smb2: the cryptography of SMB2 and SMB3 ([MS-SMB2] 3.1.4).
 *
 * What is here and what each part is for:
 *
 *  - smbsess__sp800_108_hmac_sha256: the counter-mode KDF of NIST SP800-108
 *    with HMAC-SHA256 as PRF, in the form SMB 3.x uses it:
 *    PRF(Ki, [1]_32be || Label || 0x00 || Context || [L]_32be).
 *  - smbsess__smb2_derive_keys: every key a session needs after
 *    authentication (signing, application, client->server encryption,
 *    server->client decryption) for dialects 2.0.2 to 3.1.1 and all four
 *    ciphers ([MS-SMB2] 3.2.5.3.1). smbsess__smb2_derive_signing_key derives
 *    one signing key alone, for a channel bound to an existing session.
 *  - smbsess__smb2_preauth_*: the SHA-512 preauthentication integrity hash
 *    of SMB 3.1.1, H' = SHA-512(H || message).
 *  - smbsess__smb2_sign / _signature / _verify: signing of one SMB2 message
 *    (HMAC-SHA256 for 2.x, AES-128-CMAC for 3.x, AES-128-GMAC for 3.1.1
 *    when negotiated), the signature field counting as zero; verification
 *    compares in constant time. The _chain variants walk a compounded
 *    chain by NextCommand and handle each message on its own.
 *  - smbsess__smb2_encrypt / _decrypt: the SMB2 TRANSFORM_HEADER and
 *    AES-128/256-CCM/GCM sealing of whole messages ([MS-SMB2] 3.1.4.3,
 *    3.2.5.1.1). Decryption validates every length and the session id
 *    before it touches the ciphertext and never returns plaintext whose
 *    tag did not verify. The _talloc variants allocate the result.
 *  - smbsess__smb2_mac and smbsess__smb2_aead_*: the raw primitives under
 *    the above, exposed so that their wiring to nettle can be tested
 *    against NIST and RFC vectors.
 *
 * All primitives come from nettle. Nothing here keeps state between calls;
 * keys live in the caller's memory, and smbsess__smb2_keys_wipe clears them.
 * Every function returns SMBSESS_E_INVALID_ARGUMENT for a missing pointer,
 * an unknown algorithm or a key of the wrong size, and leaves its outputs
 * untouched on failure unless said otherwise.
 */
#ifndef SMBSESS_LIB_SMB2_CRYPTO_H
#define SMBSESS_LIB_SMB2_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "../util/util.h"

/* ---- sizes and field offsets ([MS-SMB2] 2.2.1, 2.2.41) ---- */

#define SMBSESS__SMB2_HDR_LEN 64
#define SMBSESS__SMB2_HDR_FLAGS_OFF 16
#define SMBSESS__SMB2_HDR_NEXT_OFF 20
#define SMBSESS__SMB2_HDR_MID_OFF 24
#define SMBSESS__SMB2_HDR_SIG_OFF 48
#define SMBSESS__SMB2_SIG_LEN 16

#define SMBSESS__SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMBSESS__SMB2_FLAGS_SIGNED 0x00000008u
#define SMBSESS__SMB2_CMD_CANCEL 0x000C

#define SMBSESS__SMB2_TF_HDR_LEN 52
#define SMBSESS__SMB2_TF_SIG_OFF 4
#define SMBSESS__SMB2_TF_NONCE_OFF 20
#define SMBSESS__SMB2_TF_NONCE_FIELD_LEN 16
#define SMBSESS__SMB2_TF_SIZE_OFF 36
#define SMBSESS__SMB2_TF_FLAGS_OFF 42
#define SMBSESS__SMB2_TF_SESSION_OFF 44
#define SMBSESS__SMB2_TF_AAD_LEN 32
#define SMBSESS__SMB2_TF_FLAG_ENCRYPTED 0x0001

#define SMBSESS__SMB2_PREAUTH_HASH_LEN 64
#define SMBSESS__SMB2_AEAD_TAG_LEN 16
#define SMBSESS__SMB2_GMAC_NONCE_LEN 12

/* Dialect revisions ([MS-SMB2] 2.2.3). */
enum smbsess__smb2_dialect {
	SMBSESS__SMB2_DIALECT_202 = 0x0202,
	SMBSESS__SMB2_DIALECT_210 = 0x0210,
	SMBSESS__SMB2_DIALECT_300 = 0x0300,
	SMBSESS__SMB2_DIALECT_302 = 0x0302,
	SMBSESS__SMB2_DIALECT_311 = 0x0311
};

/* Cipher ids of SMB2_ENCRYPTION_CAPABILITIES ([MS-SMB2] 2.2.3.1.2); 0 is none. */
enum smbsess__smb2_cipher {
	SMBSESS__SMB2_CIPHER_NONE = 0x0000,
	SMBSESS__SMB2_CIPHER_AES128_CCM = 0x0001,
	SMBSESS__SMB2_CIPHER_AES128_GCM = 0x0002,
	SMBSESS__SMB2_CIPHER_AES256_CCM = 0x0003,
	SMBSESS__SMB2_CIPHER_AES256_GCM = 0x0004
};

/* Signing algorithm ids of SMB2_SIGNING_CAPABILITIES ([MS-SMB2] 2.2.3.1.7). */
enum smbsess__smb2_sign_alg {
	SMBSESS__SMB2_SIGN_HMAC_SHA256 = 0x0000,
	SMBSESS__SMB2_SIGN_AES_CMAC = 0x0001,
	SMBSESS__SMB2_SIGN_AES_GMAC = 0x0002
};

/* ---- key derivation ---- */

/*
 * SP800-108 counter mode, r = 32, PRF HMAC-SHA256, L = 8 * out_len bits.
 * @p label and @p context are used byte for byte (the SMB labels include
 * their NUL terminator; the 0x00 separator is added here). Either may be
 * NULL when its length is 0. @p out_len is 1 to 1024 bytes.
 */
struct smbsess_status smbsess__sp800_108_hmac_sha256(const uint8_t *key, size_t key_len,
						     const uint8_t *label, size_t label_len,
						     const uint8_t *context, size_t context_len,
						     uint8_t *out, size_t out_len);

/* The keys of one session. encryption is client->server, decryption server->client. */
struct smbsess__smb2_keys {
	uint8_t signing[16];
	uint8_t application[16];
	uint8_t encryption[32];
	uint8_t decryption[32];
	size_t cipher_key_len; /* 0 (no cipher), 16 or 32: the used bytes of encryption/decryption */
};

/*
 * Derives the session's keys from the GSS session key @p gss_key (any
 * length >= 1; Session.SessionKey is its first 16 bytes, zero padded, and
 * Session.FullSessionKey the whole key).
 *  - 2.0.2/2.1: signing and application key are the SessionKey; @p cipher
 *    must be NONE.
 *  - 3.0/3.0.2: labels "SMB2AESCMAC"/"SmbSign", "SMB2APP"/"SmbRpc",
 *    "SMB2AESCCM"/"ServerIn " and "SMB2AESCCM"/"ServerOut"; @p cipher is
 *    NONE or AES128_CCM.
 *  - 3.1.1: labels "SMBSigningKey", "SMBAppKey", "SMBC2SCipherKey",
 *    "SMBS2CCipherKey", context the 64-byte @p preauth_hash (required).
 *    For AES-256 ciphers the cipher keys use the FullSessionKey and L = 256.
 * With cipher NONE no cipher keys are derived (cipher_key_len 0).
 */
struct smbsess_status smbsess__smb2_derive_keys(uint16_t dialect, uint16_t cipher,
						const uint8_t *gss_key, size_t gss_key_len,
						const uint8_t *preauth_hash,
						struct smbsess__smb2_keys *keys);

/*
 * Only the signing key, as smbsess__smb2_derive_keys would derive it; for
 * a channel bound to a session (3.1.1: @p preauth_hash is the binding's own
 * hash, [MS-SMB2] 3.2.5.3.1).
 */
struct smbsess_status smbsess__smb2_derive_signing_key(uint16_t dialect,
						       const uint8_t *gss_key, size_t gss_key_len,
						       const uint8_t *preauth_hash,
						       uint8_t signing_key[16]);

/* Overwrites every key in @p keys with zeros. */
void smbsess__smb2_keys_wipe(struct smbsess__smb2_keys *keys);

/* ---- preauthentication integrity (3.1.1, SHA-512) ---- */

/* Sets @p hash to the initial value: 64 zero bytes. */
void smbsess__smb2_preauth_init(uint8_t hash[SMBSESS__SMB2_PREAUTH_HASH_LEN]);

/* hash = SHA-512(hash || msg[0..len)); @p msg is the whole SMB2 message. */
struct smbsess_status smbsess__smb2_preauth_update(uint8_t hash[SMBSESS__SMB2_PREAUTH_HASH_LEN],
						   const uint8_t *msg, size_t len);

/* ---- signing ---- */

/*
 * The raw 16-byte MAC of @p data: HMAC-SHA256 truncated to 16 bytes (key
 * of any length >= 1), AES-128-CMAC (16-byte key), or AES-128-GMAC
 * (16-byte key and the 12-byte @p gmac_nonce, NULL otherwise).
 */
struct smbsess_status smbsess__smb2_mac(uint16_t alg, const uint8_t *key, size_t key_len,
					const uint8_t *gmac_nonce,
					const uint8_t *data, size_t len,
					uint8_t out[SMBSESS__SMB2_SIG_LEN]);

/*
 * The signature of one SMB2 message @p msg of @p len bytes (header and
 * everything up to the next message of a chain, padding included), its
 * signature field counted as zero. For GMAC the nonce is built from the
 * header: MessageId, the sender's role from SMB2_FLAGS_SERVER_TO_REDIR,
 * and the cancel bit for an SMB2 CANCEL request ([MS-SMB2] 3.1.4.1).
 * @p msg is not modified.
 */
struct smbsess_status smbsess__smb2_signature(uint16_t alg, const uint8_t *key, size_t key_len,
					      const uint8_t *msg, size_t len,
					      uint8_t sig[SMBSESS__SMB2_SIG_LEN]);

/* Sets SMB2_FLAGS_SIGNED in @p msg and writes its signature into the header. */
struct smbsess_status smbsess__smb2_sign(uint16_t alg, const uint8_t *key, size_t key_len,
					 uint8_t *msg, size_t len);

/*
 * Checks the signature in the header of @p msg in constant time.
 * SMBSESS_E_BAD_SIGNATURE when it does not match; SMBSESS_E_PROTOCOL when
 * @p len is shorter than a header.
 */
struct smbsess_status smbsess__smb2_verify(uint16_t alg, const uint8_t *key, size_t key_len,
					   const uint8_t *msg, size_t len);

/*
 * Walks a compounded chain in @p buf: for the message at @p offset, sets
 * @p msg_len to its length (NextCommand, or the rest of the buffer for the
 * last one). NextCommand must be a multiple of 8, at least a header and
 * inside the buffer (SMBSESS_E_PROTOCOL otherwise). @p *last tells whether
 * the message is the chain's last.
 */
struct smbsess_status smbsess__smb2_chain_next(const uint8_t *buf, size_t len, size_t offset,
					       size_t *msg_len, bool *last);

/* Signs / verifies every message of the compounded chain in @p buf, each on its own. */
struct smbsess_status smbsess__smb2_sign_chain(uint16_t alg, const uint8_t *key, size_t key_len,
					       uint8_t *buf, size_t len);
struct smbsess_status smbsess__smb2_verify_chain(uint16_t alg, const uint8_t *key, size_t key_len,
						 const uint8_t *buf, size_t len);

/* ---- encryption ---- */

/* Key length of a cipher (16 or 32), 0 for none or an unknown id. */
size_t smbsess__smb2_cipher_key_len(uint16_t cipher);

/* Nonce length a cipher uses from the Nonce field: 11 for CCM, 12 for GCM, 0 otherwise. */
size_t smbsess__smb2_cipher_nonce_len(uint16_t cipher);

/*
 * Raw AEAD with a 16-byte tag: AES-128/256-CCM with a nonce of 7 to 13
 * bytes (the message must fit the CCM length field), AES-128/256-GCM with a
 * 12-byte nonce. @p dst may equal @p src. On a tag mismatch the decryption
 * returns SMBSESS_E_BAD_SIGNATURE and overwrites @p dst with zeros.
 */
struct smbsess_status smbsess__smb2_aead_encrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
						 const uint8_t *nonce, size_t nonce_len,
						 const uint8_t *aad, size_t aad_len,
						 const uint8_t *src, size_t len, uint8_t *dst,
						 uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN]);
struct smbsess_status smbsess__smb2_aead_decrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
						 const uint8_t *nonce, size_t nonce_len,
						 const uint8_t *aad, size_t aad_len,
						 const uint8_t *src, size_t len,
						 const uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN],
						 uint8_t *dst);

/*
 * Builds the transformed message: TRANSFORM_HEADER (52 bytes) followed by
 * @p msg (at least an SMB2 header) encrypted with @p key (the session's
 * EncryptionKey) under @p cipher, into @p out of @p out_size >= 52 + len
 * bytes. @p nonce_field is NULL in normal use: then 11 (CCM) or 12 (GCM)
 * bytes come from getrandom() and the rest of the field is zero; tests pass
 * the whole 16-byte Nonce field. @p msg may equal @p out + 52.
 */
struct smbsess_status smbsess__smb2_encrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
					    uint64_t session_id, const uint8_t *nonce_field,
					    const uint8_t *msg, size_t len,
					    uint8_t *out, size_t out_size);

/* As smbsess__smb2_encrypt, into a new buffer on @p mem_ctx; @p *out and @p *out_len set on success. */
struct smbsess_status smbsess__smb2_encrypt_talloc(TALLOC_CTX *mem_ctx, uint16_t cipher,
						   const uint8_t *key, size_t key_len,
						   uint64_t session_id, const uint8_t *nonce_field,
						   const uint8_t *msg, size_t len,
						   uint8_t **out, size_t *out_len);

/*
 * Checks the fixed parts of a transformed message (length, ProtocolId,
 * Flags, OriginalMessageSize == in_len - 52 and >= an SMB2 header) and
 * returns its SessionId, so that the caller can find the session's key.
 * SMBSESS_E_PROTOCOL when the message is malformed.
 */
struct smbsess_status smbsess__smb2_transform_session_id(const uint8_t *in, size_t in_len,
							 uint64_t *session_id);

/*
 * Validates the transformed message @p in as smbsess__smb2_transform_session_id
 * does, requires its SessionId to be @p session_id (SMBSESS_E_PROTOCOL
 * otherwise), decrypts it with @p key (the session's DecryptionKey) into
 * @p out (@p out_size bytes, at least OriginalMessageSize) and sets
 * @p *out_len. A bad tag gives SMBSESS_E_BAD_SIGNATURE and no plaintext.
 */
struct smbsess_status smbsess__smb2_decrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
					    uint64_t session_id,
					    const uint8_t *in, size_t in_len,
					    uint8_t *out, size_t out_size, size_t *out_len);

/* As smbsess__smb2_decrypt, into a new buffer on @p mem_ctx. */
struct smbsess_status smbsess__smb2_decrypt_talloc(TALLOC_CTX *mem_ctx, uint16_t cipher,
						   const uint8_t *key, size_t key_len,
						   uint64_t session_id,
						   const uint8_t *in, size_t in_len,
						   uint8_t **out, size_t *out_len);

#endif /* SMBSESS_LIB_SMB2_CRYPTO_H */
