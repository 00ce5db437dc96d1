/*
 * lib/smb2: key derivation, preauthentication hash, signing and
 * encryption of SMB2/3 messages. See crypto.h for what each function is for.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include "crypto.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/aes.h>
#include <nettle/ccm.h>
#include <nettle/cmac.h>
#include <nettle/gcm.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#define ST_INVAL SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT)
#define ST_PROTO SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL)
#define ST_BADSIG SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE)

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- key derivation ---- */

struct smbsess_status smbsess__sp800_108_hmac_sha256(const uint8_t *key, size_t key_len,
						     const uint8_t *label, size_t label_len,
						     const uint8_t *context, size_t context_len,
						     uint8_t *out, size_t out_len)
{
	static const uint8_t zero = 0;
	struct hmac_sha256_ctx ctx;
	uint8_t be[4], len_bits[4];
	uint32_t i = 1;
	size_t done = 0;

	if (key == NULL || key_len == 0 || out == NULL || out_len == 0 || out_len > 1024 ||
	    (label == NULL && label_len != 0) || (context == NULL && context_len != 0))
		return ST_INVAL;

	put_be32(len_bits, (uint32_t)(out_len * 8));
	hmac_sha256_set_key(&ctx, key_len, key);
	while (done < out_len) {
		size_t n = out_len - done;

		if (n > SHA256_DIGEST_SIZE)
			n = SHA256_DIGEST_SIZE;
		put_be32(be, i++);
		hmac_sha256_update(&ctx, sizeof(be), be);
		if (label_len > 0)
			hmac_sha256_update(&ctx, label_len, label);
		hmac_sha256_update(&ctx, 1, &zero);
		if (context_len > 0)
			hmac_sha256_update(&ctx, context_len, context);
		hmac_sha256_update(&ctx, sizeof(len_bits), len_bits);
		/* Digest resets the context to the same key for the next block. */
		hmac_sha256_digest(&ctx, n, out + done);
		done += n;
	}
	wipe(&ctx, sizeof(ctx));
	return SMBSESS__OK;
}

/* The labels and contexts of [MS-SMB2] 3.2.5.3.1; sizeof counts the NUL, as SMB does. */
static const uint8_t lbl30_sign[] = "SMB2AESCMAC";
static const uint8_t ctx30_sign[] = "SmbSign";
static const uint8_t lbl30_app[] = "SMB2APP";
static const uint8_t ctx30_app[] = "SmbRpc";
static const uint8_t lbl30_cipher[] = "SMB2AESCCM";
static const uint8_t ctx30_c2s[] = "ServerIn ";
static const uint8_t ctx30_s2c[] = "ServerOut";
static const uint8_t lbl311_sign[] = "SMBSigningKey";
static const uint8_t lbl311_app[] = "SMBAppKey";
static const uint8_t lbl311_c2s[] = "SMBC2SCipherKey";
static const uint8_t lbl311_s2c[] = "SMBS2CCipherKey";

static bool dialect_known(uint16_t d)
{
	return d == SMBSESS__SMB2_DIALECT_202 || d == SMBSESS__SMB2_DIALECT_210 ||
	       d == SMBSESS__SMB2_DIALECT_300 || d == SMBSESS__SMB2_DIALECT_302 ||
	       d == SMBSESS__SMB2_DIALECT_311;
}

/* Session.SessionKey: the first 16 bytes of the GSS key, right-padded with zeros. */
static void session_key16(const uint8_t *gss_key, size_t gss_key_len, uint8_t out[16])
{
	size_t n = gss_key_len < 16 ? gss_key_len : 16;

	memset(out, 0, 16);
	memcpy(out, gss_key, n);
}

static struct smbsess_status derive_signing(uint16_t dialect, const uint8_t sk[16],
					    const uint8_t *preauth_hash, uint8_t out[16])
{
	if (dialect < SMBSESS__SMB2_DIALECT_300) {
		memcpy(out, sk, 16);
		return SMBSESS__OK;
	}
	if (dialect == SMBSESS__SMB2_DIALECT_311)
		return smbsess__sp800_108_hmac_sha256(sk, 16, lbl311_sign, sizeof(lbl311_sign),
						      preauth_hash, SMBSESS__SMB2_PREAUTH_HASH_LEN,
						      out, 16);
	return smbsess__sp800_108_hmac_sha256(sk, 16, lbl30_sign, sizeof(lbl30_sign),
					      ctx30_sign, sizeof(ctx30_sign), out, 16);
}

struct smbsess_status smbsess__smb2_derive_signing_key(uint16_t dialect,
						       const uint8_t *gss_key, size_t gss_key_len,
						       const uint8_t *preauth_hash,
						       uint8_t signing_key[16])
{
	struct smbsess_status st;
	uint8_t sk[16], out[16];

	if (gss_key == NULL || gss_key_len == 0 || signing_key == NULL || !dialect_known(dialect))
		return ST_INVAL;
	if (dialect == SMBSESS__SMB2_DIALECT_311 && preauth_hash == NULL)
		return ST_INVAL;
	session_key16(gss_key, gss_key_len, sk);
	st = derive_signing(dialect, sk, preauth_hash, out);
	if (smbsess__st_ok(st))
		memcpy(signing_key, out, 16);
	wipe(sk, sizeof(sk));
	wipe(out, sizeof(out));
	return st;
}

static struct smbsess_status derive_all(uint16_t dialect, uint16_t cipher,
					const uint8_t *gss_key, size_t gss_key_len,
					const uint8_t *ph, struct smbsess__smb2_keys *k)
{
	uint8_t sk[16];
	const uint8_t *ck = sk;
	size_t ck_len = 16, klen = smbsess__smb2_cipher_key_len(cipher);
	struct smbsess_status st;

	session_key16(gss_key, gss_key_len, sk);
	st = derive_signing(dialect, sk, ph, k->signing);
	if (!smbsess__st_ok(st))
		goto out;

	if (dialect < SMBSESS__SMB2_DIALECT_300) {
		memcpy(k->application, sk, 16);
		goto out;
	}
	if (dialect == SMBSESS__SMB2_DIALECT_311)
		st = smbsess__sp800_108_hmac_sha256(sk, 16, lbl311_app, sizeof(lbl311_app),
						    ph, SMBSESS__SMB2_PREAUTH_HASH_LEN,
						    k->application, 16);
	else
		st = smbsess__sp800_108_hmac_sha256(sk, 16, lbl30_app, sizeof(lbl30_app),
						    ctx30_app, sizeof(ctx30_app), k->application, 16);
	if (!smbsess__st_ok(st) || cipher == SMBSESS__SMB2_CIPHER_NONE)
		goto out;

	k->cipher_key_len = klen;
	if (dialect == SMBSESS__SMB2_DIALECT_311) {
		if (klen == 32) {
			/* AES-256: the whole key (Session.FullSessionKey) and L = 256. */
			ck = gss_key;
			ck_len = gss_key_len;
		}
		st = smbsess__sp800_108_hmac_sha256(ck, ck_len, lbl311_c2s, sizeof(lbl311_c2s),
						    ph, SMBSESS__SMB2_PREAUTH_HASH_LEN,
						    k->encryption, klen);
		if (smbsess__st_ok(st))
			st = smbsess__sp800_108_hmac_sha256(ck, ck_len, lbl311_s2c, sizeof(lbl311_s2c),
							    ph, SMBSESS__SMB2_PREAUTH_HASH_LEN,
							    k->decryption, klen);
	} else {
		st = smbsess__sp800_108_hmac_sha256(sk, 16, lbl30_cipher, sizeof(lbl30_cipher),
						    ctx30_c2s, sizeof(ctx30_c2s), k->encryption, 16);
		if (smbsess__st_ok(st))
			st = smbsess__sp800_108_hmac_sha256(sk, 16, lbl30_cipher, sizeof(lbl30_cipher),
							    ctx30_s2c, sizeof(ctx30_s2c),
							    k->decryption, 16);
	}
out:
	wipe(sk, sizeof(sk));
	return st;
}

struct smbsess_status smbsess__smb2_derive_keys(uint16_t dialect, uint16_t cipher,
						const uint8_t *gss_key, size_t gss_key_len,
						const uint8_t *preauth_hash,
						struct smbsess__smb2_keys *keys)
{
	struct smbsess__smb2_keys k;
	struct smbsess_status st;

	if (gss_key == NULL || gss_key_len == 0 || keys == NULL || !dialect_known(dialect))
		return ST_INVAL;
	if (cipher != SMBSESS__SMB2_CIPHER_NONE && smbsess__smb2_cipher_key_len(cipher) == 0)
		return ST_INVAL;
	if (dialect < SMBSESS__SMB2_DIALECT_300 && cipher != SMBSESS__SMB2_CIPHER_NONE)
		return ST_INVAL;
	if ((dialect == SMBSESS__SMB2_DIALECT_300 || dialect == SMBSESS__SMB2_DIALECT_302) &&
	    cipher != SMBSESS__SMB2_CIPHER_NONE && cipher != SMBSESS__SMB2_CIPHER_AES128_CCM)
		return ST_INVAL;
	if (dialect == SMBSESS__SMB2_DIALECT_311 && preauth_hash == NULL)
		return ST_INVAL;

	memset(&k, 0, sizeof(k));
	st = derive_all(dialect, cipher, gss_key, gss_key_len, preauth_hash, &k);
	if (smbsess__st_ok(st))
		*keys = k;
	smbsess__smb2_keys_wipe(&k);
	return st;
}

void smbsess__smb2_keys_wipe(struct smbsess__smb2_keys *keys)
{
	if (keys != NULL)
		wipe(keys, sizeof(*keys));
}

/* ---- preauthentication integrity ---- */

void smbsess__smb2_preauth_init(uint8_t hash[SMBSESS__SMB2_PREAUTH_HASH_LEN])
{
	memset(hash, 0, SMBSESS__SMB2_PREAUTH_HASH_LEN);
}

struct smbsess_status smbsess__smb2_preauth_update(uint8_t hash[SMBSESS__SMB2_PREAUTH_HASH_LEN],
						   const uint8_t *msg, size_t len)
{
	struct sha512_ctx ctx;

	if (hash == NULL || (msg == NULL && len != 0))
		return ST_INVAL;
	sha512_init(&ctx);
	sha512_update(&ctx, SMBSESS__SMB2_PREAUTH_HASH_LEN, hash);
	if (len > 0)
		sha512_update(&ctx, len, msg);
	sha512_digest(&ctx, SMBSESS__SMB2_PREAUTH_HASH_LEN, hash);
	return SMBSESS__OK;
}

/* ---- signing ---- */

/* One MAC computation fed in pieces; GMAC needs every piece but the last to be whole blocks. */
struct mac {
	uint16_t alg;
	union {
		struct hmac_sha256_ctx hmac;
		struct cmac_aes128_ctx cmac;
		struct gcm_aes128_ctx gcm;
	} u;
};

static struct smbsess_status mac_init(struct mac *m, uint16_t alg, const uint8_t *key,
				      size_t key_len, const uint8_t *gmac_nonce)
{
	if (key == NULL || key_len == 0)
		return ST_INVAL;
	m->alg = alg;
	switch (alg) {
	case SMBSESS__SMB2_SIGN_HMAC_SHA256:
		hmac_sha256_set_key(&m->u.hmac, key_len, key);
		return SMBSESS__OK;
	case SMBSESS__SMB2_SIGN_AES_CMAC:
		if (key_len != AES128_KEY_SIZE)
			return ST_INVAL;
		cmac_aes128_set_key(&m->u.cmac, key);
		return SMBSESS__OK;
	case SMBSESS__SMB2_SIGN_AES_GMAC:
		if (key_len != AES128_KEY_SIZE || gmac_nonce == NULL)
			return ST_INVAL;
		gcm_aes128_set_key(&m->u.gcm, key);
		gcm_aes128_set_iv(&m->u.gcm, SMBSESS__SMB2_GMAC_NONCE_LEN, gmac_nonce);
		return SMBSESS__OK;
	default:
		return ST_INVAL;
	}
}

static void mac_update(struct mac *m, const uint8_t *data, size_t len)
{
	if (len == 0)
		return;
	switch (m->alg) {
	case SMBSESS__SMB2_SIGN_HMAC_SHA256:
		hmac_sha256_update(&m->u.hmac, len, data);
		break;
	case SMBSESS__SMB2_SIGN_AES_CMAC:
		cmac_aes128_update(&m->u.cmac, len, data);
		break;
	default:
		/* GMAC: the whole message is authenticated data, nothing is encrypted. */
		gcm_aes128_update(&m->u.gcm, len, data);
		break;
	}
}

static void mac_digest(struct mac *m, uint8_t out[SMBSESS__SMB2_SIG_LEN])
{
	switch (m->alg) {
	case SMBSESS__SMB2_SIGN_HMAC_SHA256:
		hmac_sha256_digest(&m->u.hmac, SMBSESS__SMB2_SIG_LEN, out);
		break;
	case SMBSESS__SMB2_SIGN_AES_CMAC:
		cmac_aes128_digest(&m->u.cmac, SMBSESS__SMB2_SIG_LEN, out);
		break;
	default:
		gcm_aes128_digest(&m->u.gcm, SMBSESS__SMB2_SIG_LEN, out);
		break;
	}
	wipe(m, sizeof(*m));
}

struct smbsess_status smbsess__smb2_mac(uint16_t alg, const uint8_t *key, size_t key_len,
					const uint8_t *gmac_nonce,
					const uint8_t *data, size_t len,
					uint8_t out[SMBSESS__SMB2_SIG_LEN])
{
	struct mac m;

	if (out == NULL || (data == NULL && len != 0))
		return ST_INVAL;
	SMBSESS__CHECK(mac_init(&m, alg, key, key_len, gmac_nonce));
	mac_update(&m, data, len);
	mac_digest(&m, out);
	return SMBSESS__OK;
}

/*
 * The AES-GMAC nonce of [MS-SMB2] 3.1.4.1: MessageId (8 bytes, as in the
 * header), then a 32-bit little-endian word whose bit 0 is set when a
 * server sends and bit 1 for an SMB2 CANCEL request.
 */
static void gmac_nonce_from_header(const uint8_t *hdr, uint8_t nonce[SMBSESS__SMB2_GMAC_NONCE_LEN])
{
	uint32_t flags = smbsess__le32(hdr + SMBSESS__SMB2_HDR_FLAGS_OFF);
	uint16_t command = smbsess__le16(hdr + 12);
	uint32_t word = 0;

	memcpy(nonce, hdr + SMBSESS__SMB2_HDR_MID_OFF, 8);
	if (flags & SMBSESS__SMB2_FLAGS_SERVER_TO_REDIR)
		word |= 1u;
	else if (command == SMBSESS__SMB2_CMD_CANCEL)
		word |= 2u;
	smbsess__put_le32(nonce + 8, word);
}

struct smbsess_status smbsess__smb2_signature(uint16_t alg, const uint8_t *key, size_t key_len,
					      const uint8_t *msg, size_t len,
					      uint8_t sig[SMBSESS__SMB2_SIG_LEN])
{
	static const uint8_t zero_sig[SMBSESS__SMB2_SIG_LEN];
	uint8_t nonce[SMBSESS__SMB2_GMAC_NONCE_LEN];
	struct mac m;

	if (msg == NULL || sig == NULL)
		return ST_INVAL;
	if (len < SMBSESS__SMB2_HDR_LEN)
		return ST_PROTO;
	gmac_nonce_from_header(msg, nonce);
	SMBSESS__CHECK(mac_init(&m, alg, key, key_len, nonce));
	/* 48, 16, rest: whole blocks until the last piece, as GMAC needs. */
	mac_update(&m, msg, SMBSESS__SMB2_HDR_SIG_OFF);
	mac_update(&m, zero_sig, sizeof(zero_sig));
	mac_update(&m, msg + SMBSESS__SMB2_HDR_LEN, len - SMBSESS__SMB2_HDR_LEN);
	mac_digest(&m, sig);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_sign(uint16_t alg, const uint8_t *key, size_t key_len,
					 uint8_t *msg, size_t len)
{
	uint8_t sig[SMBSESS__SMB2_SIG_LEN];
	uint32_t flags;

	if (msg == NULL)
		return ST_INVAL;
	if (len < SMBSESS__SMB2_HDR_LEN)
		return ST_PROTO;
	flags = smbsess__le32(msg + SMBSESS__SMB2_HDR_FLAGS_OFF);
	smbsess__put_le32(msg + SMBSESS__SMB2_HDR_FLAGS_OFF, flags | SMBSESS__SMB2_FLAGS_SIGNED);
	SMBSESS__CHECK(smbsess__smb2_signature(alg, key, key_len, msg, len, sig));
	memcpy(msg + SMBSESS__SMB2_HDR_SIG_OFF, sig, sizeof(sig));
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_verify(uint16_t alg, const uint8_t *key, size_t key_len,
					   const uint8_t *msg, size_t len)
{
	uint8_t sig[SMBSESS__SMB2_SIG_LEN];
	int same;

	SMBSESS__CHECK(smbsess__smb2_signature(alg, key, key_len, msg, len, sig));
	same = memeql_sec(sig, msg + SMBSESS__SMB2_HDR_SIG_OFF, sizeof(sig));
	wipe(sig, sizeof(sig));
	return same ? SMBSESS__OK : ST_BADSIG;
}

struct smbsess_status smbsess__smb2_chain_next(const uint8_t *buf, size_t len, size_t offset,
					       size_t *msg_len, bool *last)
{
	uint32_t next;

	if (buf == NULL || msg_len == NULL || last == NULL || offset > len)
		return ST_INVAL;
	if (len - offset < SMBSESS__SMB2_HDR_LEN)
		return ST_PROTO;
	next = smbsess__le32(buf + offset + SMBSESS__SMB2_HDR_NEXT_OFF);
	if (next == 0) {
		*msg_len = len - offset;
		*last = true;
		return SMBSESS__OK;
	}
	if (next % 8 != 0 || next < SMBSESS__SMB2_HDR_LEN || next > len - offset ||
	    len - offset - next < SMBSESS__SMB2_HDR_LEN)
		return ST_PROTO;
	*msg_len = next;
	*last = false;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_sign_chain(uint16_t alg, const uint8_t *key, size_t key_len,
					       uint8_t *buf, size_t len)
{
	size_t off = 0, n;
	bool last = false;

	if (buf == NULL)
		return ST_INVAL;
	/* Check the whole chain's framing first so that nothing is half signed. */
	while (!last) {
		SMBSESS__CHECK(smbsess__smb2_chain_next(buf, len, off, &n, &last));
		off += n;
	}
	for (off = 0, last = false; !last; off += n) {
		SMBSESS__CHECK(smbsess__smb2_chain_next(buf, len, off, &n, &last));
		SMBSESS__CHECK(smbsess__smb2_sign(alg, key, key_len, buf + off, n));
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_verify_chain(uint16_t alg, const uint8_t *key, size_t key_len,
						 const uint8_t *buf, size_t len)
{
	size_t off, n;
	bool last = false;

	if (buf == NULL)
		return ST_INVAL;
	for (off = 0; !last; off += n) {
		SMBSESS__CHECK(smbsess__smb2_chain_next(buf, len, off, &n, &last));
		SMBSESS__CHECK(smbsess__smb2_verify(alg, key, key_len, buf + off, n));
	}
	return SMBSESS__OK;
}

/* ---- encryption ---- */

size_t smbsess__smb2_cipher_key_len(uint16_t cipher)
{
	switch (cipher) {
	case SMBSESS__SMB2_CIPHER_AES128_CCM:
	case SMBSESS__SMB2_CIPHER_AES128_GCM:
		return 16;
	case SMBSESS__SMB2_CIPHER_AES256_CCM:
	case SMBSESS__SMB2_CIPHER_AES256_GCM:
		return 32;
	default:
		return 0;
	}
}

size_t smbsess__smb2_cipher_nonce_len(uint16_t cipher)
{
	switch (cipher) {
	case SMBSESS__SMB2_CIPHER_AES128_CCM:
	case SMBSESS__SMB2_CIPHER_AES256_CCM:
		return 11;
	case SMBSESS__SMB2_CIPHER_AES128_GCM:
	case SMBSESS__SMB2_CIPHER_AES256_GCM:
		return 12;
	default:
		return 0;
	}
}

static bool is_ccm(uint16_t cipher)
{
	return cipher == SMBSESS__SMB2_CIPHER_AES128_CCM || cipher == SMBSESS__SMB2_CIPHER_AES256_CCM;
}

static struct smbsess_status aead_check(uint16_t cipher, const uint8_t *key, size_t key_len,
					const uint8_t *nonce, size_t nonce_len,
					const uint8_t *aad, size_t aad_len,
					const uint8_t *src, size_t len, const uint8_t *dst,
					const uint8_t *tag)
{
	size_t klen = smbsess__smb2_cipher_key_len(cipher);

	if (klen == 0 || key == NULL || key_len != klen || nonce == NULL || tag == NULL ||
	    (aad == NULL && aad_len != 0) || ((src == NULL || dst == NULL) && len != 0))
		return ST_INVAL;
	if (is_ccm(cipher)) {
		/*
		 * CCM (SP800-38C, RFC 3610): nonces of 7 to 13 bytes; the other
		 * 15 - nonce_len bytes encode the message length.
		 */
		size_t lbytes;

		if (nonce_len < 7 || nonce_len > 13)
			return ST_INVAL;
		lbytes = 15 - nonce_len;
		if (lbytes < sizeof(uint64_t) && (uint64_t)len >> (8 * lbytes) != 0)
			return ST_INVAL;
	} else if (nonce_len != GCM_IV_SIZE) {
		return ST_INVAL;
	}
	return SMBSESS__OK;
}

/* One AEAD operation on nettle's per-key-size contexts. */
struct aead {
	uint16_t cipher;
	union {
		struct ccm_aes128_ctx ccm128;
		struct ccm_aes256_ctx ccm256;
		struct gcm_aes128_ctx gcm128;
		struct gcm_aes256_ctx gcm256;
	} u;
};

static void aead_start(struct aead *a, uint16_t cipher, const uint8_t *key,
		       const uint8_t *nonce, size_t nonce_len,
		       const uint8_t *aad, size_t aad_len, size_t len)
{
	a->cipher = cipher;
	switch (cipher) {
	case SMBSESS__SMB2_CIPHER_AES128_CCM:
		ccm_aes128_set_key(&a->u.ccm128, key);
		ccm_aes128_set_nonce(&a->u.ccm128, nonce_len, nonce, aad_len, len,
				     SMBSESS__SMB2_AEAD_TAG_LEN);
		if (aad_len > 0)
			ccm_aes128_update(&a->u.ccm128, aad_len, aad);
		break;
	case SMBSESS__SMB2_CIPHER_AES256_CCM:
		ccm_aes256_set_key(&a->u.ccm256, key);
		ccm_aes256_set_nonce(&a->u.ccm256, nonce_len, nonce, aad_len, len,
				     SMBSESS__SMB2_AEAD_TAG_LEN);
		if (aad_len > 0)
			ccm_aes256_update(&a->u.ccm256, aad_len, aad);
		break;
	case SMBSESS__SMB2_CIPHER_AES128_GCM:
		gcm_aes128_set_key(&a->u.gcm128, key);
		gcm_aes128_set_iv(&a->u.gcm128, nonce_len, nonce);
		if (aad_len > 0)
			gcm_aes128_update(&a->u.gcm128, aad_len, aad);
		break;
	default:
		gcm_aes256_set_key(&a->u.gcm256, key);
		gcm_aes256_set_iv(&a->u.gcm256, nonce_len, nonce);
		if (aad_len > 0)
			gcm_aes256_update(&a->u.gcm256, aad_len, aad);
		break;
	}
}

static void aead_crypt(struct aead *a, bool encrypt, size_t len, uint8_t *dst, const uint8_t *src)
{
	if (len == 0)
		return;
	switch (a->cipher) {
	case SMBSESS__SMB2_CIPHER_AES128_CCM:
		(encrypt ? ccm_aes128_encrypt : ccm_aes128_decrypt)(&a->u.ccm128, len, dst, src);
		break;
	case SMBSESS__SMB2_CIPHER_AES256_CCM:
		(encrypt ? ccm_aes256_encrypt : ccm_aes256_decrypt)(&a->u.ccm256, len, dst, src);
		break;
	case SMBSESS__SMB2_CIPHER_AES128_GCM:
		(encrypt ? gcm_aes128_encrypt : gcm_aes128_decrypt)(&a->u.gcm128, len, dst, src);
		break;
	default:
		(encrypt ? gcm_aes256_encrypt : gcm_aes256_decrypt)(&a->u.gcm256, len, dst, src);
		break;
	}
}

static void aead_finish(struct aead *a, uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN])
{
	switch (a->cipher) {
	case SMBSESS__SMB2_CIPHER_AES128_CCM:
		ccm_aes128_digest(&a->u.ccm128, SMBSESS__SMB2_AEAD_TAG_LEN, tag);
		break;
	case SMBSESS__SMB2_CIPHER_AES256_CCM:
		ccm_aes256_digest(&a->u.ccm256, SMBSESS__SMB2_AEAD_TAG_LEN, tag);
		break;
	case SMBSESS__SMB2_CIPHER_AES128_GCM:
		gcm_aes128_digest(&a->u.gcm128, SMBSESS__SMB2_AEAD_TAG_LEN, tag);
		break;
	default:
		gcm_aes256_digest(&a->u.gcm256, SMBSESS__SMB2_AEAD_TAG_LEN, tag);
		break;
	}
	wipe(a, sizeof(*a));
}

struct smbsess_status smbsess__smb2_aead_encrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
						 const uint8_t *nonce, size_t nonce_len,
						 const uint8_t *aad, size_t aad_len,
						 const uint8_t *src, size_t len, uint8_t *dst,
						 uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN])
{
	struct aead a;

	SMBSESS__CHECK(aead_check(cipher, key, key_len, nonce, nonce_len, aad, aad_len,
				  src, len, dst, tag));
	aead_start(&a, cipher, key, nonce, nonce_len, aad, aad_len, len);
	aead_crypt(&a, true, len, dst, src);
	aead_finish(&a, tag);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_aead_decrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
						 const uint8_t *nonce, size_t nonce_len,
						 const uint8_t *aad, size_t aad_len,
						 const uint8_t *src, size_t len,
						 const uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN],
						 uint8_t *dst)
{
	uint8_t want[SMBSESS__SMB2_AEAD_TAG_LEN];
	struct aead a;
	int same;

	SMBSESS__CHECK(aead_check(cipher, key, key_len, nonce, nonce_len, aad, aad_len,
				  src, len, dst, tag));
	aead_start(&a, cipher, key, nonce, nonce_len, aad, aad_len, len);
	aead_crypt(&a, false, len, dst, src);
	aead_finish(&a, want);
	same = memeql_sec(want, tag, sizeof(want));
	wipe(want, sizeof(want));
	if (!same) {
		if (len > 0)
			wipe(dst, len);
		return ST_BADSIG;
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_encrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
					    uint64_t session_id, const uint8_t *nonce_field,
					    const uint8_t *msg, size_t len,
					    uint8_t *out, size_t out_size)
{
	size_t nonce_len = smbsess__smb2_cipher_nonce_len(cipher);
	uint8_t hdr[SMBSESS__SMB2_TF_HDR_LEN];
	uint8_t tag[SMBSESS__SMB2_AEAD_TAG_LEN];

	if (nonce_len == 0 || key == NULL || key_len != smbsess__smb2_cipher_key_len(cipher) ||
	    msg == NULL || out == NULL)
		return ST_INVAL;
	if (len < SMBSESS__SMB2_HDR_LEN || len > UINT32_MAX ||
	    out_size < SMBSESS__SMB2_TF_HDR_LEN || out_size - SMBSESS__SMB2_TF_HDR_LEN < len)
		return ST_INVAL;
	/* In place (msg == out + 52) works; any other overlap would not. */
	if (msg != out + SMBSESS__SMB2_TF_HDR_LEN && msg < out + SMBSESS__SMB2_TF_HDR_LEN + len &&
	    out < msg + len)
		return ST_INVAL;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 0xFD;
	hdr[1] = 'S';
	hdr[2] = 'M';
	hdr[3] = 'B';
	if (nonce_field != NULL)
		memcpy(hdr + SMBSESS__SMB2_TF_NONCE_OFF, nonce_field, SMBSESS__SMB2_TF_NONCE_FIELD_LEN);
	else
		SMBSESS__CHECK(smbsess__random_bytes(hdr + SMBSESS__SMB2_TF_NONCE_OFF, nonce_len));
	smbsess__put_le32(hdr + SMBSESS__SMB2_TF_SIZE_OFF, (uint32_t)len);
	smbsess__put_le16(hdr + SMBSESS__SMB2_TF_FLAGS_OFF, SMBSESS__SMB2_TF_FLAG_ENCRYPTED);
	smbsess__put_le64(hdr + SMBSESS__SMB2_TF_SESSION_OFF, session_id);

	SMBSESS__CHECK(smbsess__smb2_aead_encrypt(cipher, key, key_len,
						  hdr + SMBSESS__SMB2_TF_NONCE_OFF, nonce_len,
						  hdr + SMBSESS__SMB2_TF_NONCE_OFF, SMBSESS__SMB2_TF_AAD_LEN,
						  msg, len, out + SMBSESS__SMB2_TF_HDR_LEN, tag));
	memcpy(hdr + SMBSESS__SMB2_TF_SIG_OFF, tag, sizeof(tag));
	memcpy(out, hdr, sizeof(hdr));
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_encrypt_talloc(TALLOC_CTX *mem_ctx, uint16_t cipher,
						   const uint8_t *key, size_t key_len,
						   uint64_t session_id, const uint8_t *nonce_field,
						   const uint8_t *msg, size_t len,
						   uint8_t **out, size_t *out_len)
{
	struct smbsess_status st;
	uint8_t *buf;

	if (out == NULL || out_len == NULL || len > UINT32_MAX)
		return ST_INVAL;
	buf = talloc_array(mem_ctx, uint8_t, SMBSESS__SMB2_TF_HDR_LEN + len);
	if (buf == NULL)
		return SMBSESS__ST_NOMEM;
	st = smbsess__smb2_encrypt(cipher, key, key_len, session_id, nonce_field, msg, len,
				   buf, SMBSESS__SMB2_TF_HDR_LEN + len);
	if (!smbsess__st_ok(st)) {
		talloc_free(buf);
		return st;
	}
	*out = buf;
	*out_len = SMBSESS__SMB2_TF_HDR_LEN + len;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_transform_session_id(const uint8_t *in, size_t in_len,
							 uint64_t *session_id)
{
	uint32_t orig;

	if (in == NULL || session_id == NULL)
		return ST_INVAL;
	if (in_len < SMBSESS__SMB2_TF_HDR_LEN)
		return ST_PROTO;
	if (in[0] != 0xFD || in[1] != 'S' || in[2] != 'M' || in[3] != 'B')
		return ST_PROTO;
	if (smbsess__le16(in + SMBSESS__SMB2_TF_FLAGS_OFF) != SMBSESS__SMB2_TF_FLAG_ENCRYPTED)
		return ST_PROTO;
	orig = smbsess__le32(in + SMBSESS__SMB2_TF_SIZE_OFF);
	if (orig < SMBSESS__SMB2_HDR_LEN || orig != in_len - SMBSESS__SMB2_TF_HDR_LEN)
		return ST_PROTO;
	*session_id = smbsess__le64(in + SMBSESS__SMB2_TF_SESSION_OFF);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_decrypt(uint16_t cipher, const uint8_t *key, size_t key_len,
					    uint64_t session_id,
					    const uint8_t *in, size_t in_len,
					    uint8_t *out, size_t out_size, size_t *out_len)
{
	size_t nonce_len = smbsess__smb2_cipher_nonce_len(cipher);
	uint64_t sid;
	size_t len;

	if (nonce_len == 0 || key == NULL || key_len != smbsess__smb2_cipher_key_len(cipher) ||
	    out == NULL || out_len == NULL)
		return ST_INVAL;
	SMBSESS__CHECK(smbsess__smb2_transform_session_id(in, in_len, &sid));
	if (sid != session_id)
		return ST_PROTO;
	len = in_len - SMBSESS__SMB2_TF_HDR_LEN;
	if (out_size < len)
		return ST_INVAL;
	SMBSESS__CHECK(smbsess__smb2_aead_decrypt(cipher, key, key_len,
						  in + SMBSESS__SMB2_TF_NONCE_OFF, nonce_len,
						  in + SMBSESS__SMB2_TF_NONCE_OFF, SMBSESS__SMB2_TF_AAD_LEN,
						  in + SMBSESS__SMB2_TF_HDR_LEN, len,
						  in + SMBSESS__SMB2_TF_SIG_OFF, out));
	*out_len = len;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_decrypt_talloc(TALLOC_CTX *mem_ctx, uint16_t cipher,
						   const uint8_t *key, size_t key_len,
						   uint64_t session_id,
						   const uint8_t *in, size_t in_len,
						   uint8_t **out, size_t *out_len)
{
	struct smbsess_status st;
	uint64_t sid;
	uint8_t *buf;
	size_t n;

	if (out == NULL || out_len == NULL)
		return ST_INVAL;
	/* Validate before allocating what the peer's header asks for. */
	SMBSESS__CHECK(smbsess__smb2_transform_session_id(in, in_len, &sid));
	buf = talloc_array(mem_ctx, uint8_t, in_len - SMBSESS__SMB2_TF_HDR_LEN);
	if (buf == NULL)
		return SMBSESS__ST_NOMEM;
	st = smbsess__smb2_decrypt(cipher, key, key_len, session_id, in, in_len,
				   buf, in_len - SMBSESS__SMB2_TF_HDR_LEN, &n);
	if (!smbsess__st_ok(st)) {
		talloc_free(buf);
		return st;
	}
	*out = buf;
	*out_len = n;
	return SMBSESS__OK;
}
