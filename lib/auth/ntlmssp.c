/*
 * NTLMSSP client, NTLMv2 only ([MS-NLMP] sections 2.2, 3.1.5.1, 3.3.2, 3.4).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <nettle/md5.h>

#include "ntlmssp.h"

static const uint8_t ntlmssp_signature[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

#define NTLM_MSG_NEGOTIATE 1
#define NTLM_MSG_CHALLENGE 2
#define NTLM_MSG_AUTHENTICATE 3

/* Sizes of the fixed parts, [MS-NLMP] 2.2.1. */
#define NEGOTIATE_LEN 40          /* with the Version field */
#define CHALLENGE_MIN_LEN 32      /* the oldest form, without TargetInfoFields */
#define CHALLENGE_TI_LEN 48       /* with TargetInfoFields */
#define AUTH_VERSION_OFFSET 64
#define AUTH_MIC_OFFSET 72
#define AUTH_HEADER_LEN 72        /* with the Version field, without the MIC */

/* The revision in VERSION, NTLMSSP_REVISION_W2K3 ([MS-NLMP] 2.2.2.10). */
#define NTLMSSP_REVISION_W2K3 0x0f

/* FILETIME of 1970-01-01: seconds between 1601 and 1970, in 100 ns units. */
#define FILETIME_UNIX_EPOCH 116444736000000000ull

/* Flags the client asks for and the server may decline; the rest are the client's own. */
#define NEGOTIABLE_FLAGS                                                                        \
	(SMBSESS__NTLMSSP_NEGOTIATE_UNICODE | SMBSESS__NTLMSSP_NEGOTIATE_SIGN |                 \
	 SMBSESS__NTLMSSP_NEGOTIATE_SEAL | SMBSESS__NTLMSSP_NEGOTIATE_ALWAYS_SIGN |             \
	 SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |                                   \
	 SMBSESS__NTLMSSP_NEGOTIATE_IDENTIFY | SMBSESS__NTLMSSP_NEGOTIATE_128 |                  \
	 SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH | SMBSESS__NTLMSSP_NEGOTIATE_56)

/* What this client can do at all: no OEM strings, no LM key, no datagram mode. */
#define SUPPORTED_FLAGS                                                                         \
	(NEGOTIABLE_FLAGS | SMBSESS__NTLMSSP_REQUEST_TARGET | SMBSESS__NTLMSSP_NEGOTIATE_NTLM | \
	 SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO)

/* Always asked for: Unicode, NTLM and extended session security make NTLMv2 signing possible. */
#define REQUIRED_FLAGS                                                                          \
	(SMBSESS__NTLMSSP_NEGOTIATE_UNICODE | SMBSESS__NTLMSSP_NEGOTIATE_NTLM |                 \
	 SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)

/* The magic constants of SIGNKEY and SEALKEY, [MS-NLMP] 3.4.5.2 and 3.4.5.3, NUL included. */
static const char sign_c2s[] = "session key to client-to-server signing key magic constant";
static const char sign_s2c[] = "session key to server-to-client signing key magic constant";
static const char seal_c2s[] = "session key to client-to-server sealing key magic constant";
static const char seal_s2c[] = "session key to server-to-client sealing key magic constant";

enum ntlmssp_state { NTLMSSP_START, NTLMSSP_NEGOTIATED, NTLMSSP_DONE, NTLMSSP_FAILED };

struct smbsess__ntlmssp {
	char *domain;
	char *user;
	char *workstation;
	uint8_t nt_hash[16]; /* the password is not kept */
	bool anonymous;

	uint32_t req_flags;
	bool have_version;
	uint8_t version[8];
	bool mic_field;			/* the MIC field even when no MIC is computed */

	bool fixed_client_challenge;
	uint8_t client_challenge[8];
	bool fixed_session_key;
	uint8_t fixed_exported[16];
	bool fixed_time;
	uint64_t time;

	enum ntlmssp_state state;
	uint8_t *negotiate;
	size_t negotiate_len;
	struct smbsess__ntlm_challenge *challenge;

	uint32_t flags; /* as sent in the AUTHENTICATE_MESSAGE */
	bool sent_mic;
	bool have_key;
	uint8_t exported[16];
	bool can_sign;
	uint8_t client_sign_key[16];
	uint8_t server_sign_key[16];
	bool use_rc4;
	struct arcfour_ctx client_seal;
	struct arcfour_ctx server_seal;
	uint32_t client_seq;
	uint32_t server_seq;
};

static struct smbsess_status protocol_error(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

/* ---- small helpers ---- */

static void hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t out[16])
{
	struct hmac_md5_ctx ctx;

	hmac_md5_set_key(&ctx, key_len, key);
	hmac_md5_update(&ctx, a_len, a);
	if (b_len)
		hmac_md5_update(&ctx, b_len, b);
	hmac_md5_digest(&ctx, MD5_DIGEST_SIZE, out);
	explicit_bzero(&ctx, sizeof(ctx));
}

static uint64_t filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return FILETIME_UNIX_EPOCH + (uint64_t)ts.tv_sec * 10000000u + (uint64_t)ts.tv_nsec / 100u;
}

/* Windows upper-cases a name one UTF-16 unit at a time; surrogates stay as they are. */
static uint16_t upcase_unit(uint16_t u, locale_t loc)
{
	wint_t r;

	if (u < 0x80)
		return (u >= 'a' && u <= 'z') ? (uint16_t)(u - 0x20) : u;
	if (loc == (locale_t)0 || (u >= 0xD800 && u <= 0xDFFF))
		return u;
	r = towupper_l((wint_t)u, loc);
	if (r > 0xFFFF || (r >= 0xD800 && r <= 0xDFFF))
		return u;
	return (uint16_t)r;
}

/*
 * UNICODE(s) of [MS-NLMP]: UTF-16LE without terminator, as a talloc buffer.
 * At most @p max_bytes; invalid UTF-8 is the caller's mistake.
 */
static struct smbsess_status utf16(TALLOC_CTX *mem_ctx, const char *s, bool upper, size_t max_bytes,
				   uint8_t **out, size_t *bytes)
{
	size_t len = s ? strlen(s) : 0;
	size_t units;
	uint8_t *buf;

	if (!smbsess__st_ok(smbsess__utf8_utf16_units(s ? s : "", len, &units)))
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	if (units > max_bytes / 2)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	buf = talloc_array(mem_ctx, uint8_t, units * 2 + 1);
	if (buf == NULL)
		return SMBSESS__ST_NOMEM;
	if (units)
		smbsess__utf8_to_utf16le(s, len, buf);
	if (upper && units) {
		locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

		for (size_t i = 0; i < units; i++)
			smbsess__put_le16(buf + 2 * i, upcase_unit(smbsess__le16(buf + 2 * i), loc));
		if (loc != (locale_t)0)
			freelocale(loc);
	}
	*out = buf;
	*bytes = units * 2;
	return SMBSESS__OK;
}

/* ---- [MS-NLMP] 3.3.2 and 3.4 ---- */

struct smbsess_status smbsess__ntlm_nt_hash(const char *password, uint8_t out[16])
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct md4_ctx ctx;
	uint8_t *pw;
	size_t pw_len;
	struct smbsess_status st;

	if (tmp == NULL)
		return SMBSESS__ST_NOMEM;
	/* Windows passwords are at most 256 characters; leave room for any. */
	st = utf16(tmp, password, false, 0x10000, &pw, &pw_len);
	if (smbsess__st_ok(st)) {
		md4_init(&ctx);
		md4_update(&ctx, pw_len, pw);
		md4_digest(&ctx, MD4_DIGEST_SIZE, out);
		explicit_bzero(&ctx, sizeof(ctx));
		explicit_bzero(pw, pw_len);
	}
	talloc_free(tmp);
	return st;
}

/* NTOWFv2 from the NT hash: HMAC_MD5(hash, UNICODE(Uppercase(User) || UserDom)). */
static struct smbsess_status ntowfv2_from_hash(const uint8_t nt_hash[16], const char *user,
					       const char *domain, uint8_t out[16])
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	uint8_t *u, *d;
	size_t u_len, d_len;
	struct smbsess_status st;

	if (tmp == NULL)
		return SMBSESS__ST_NOMEM;
	st = utf16(tmp, user, true, 0xffff, &u, &u_len);
	if (smbsess__st_ok(st))
		st = utf16(tmp, domain, false, 0xffff, &d, &d_len);
	if (smbsess__st_ok(st))
		hmac_md5(nt_hash, 16, u, u_len, d, d_len, out);
	talloc_free(tmp);
	return st;
}

struct smbsess_status smbsess__ntlm_ntowfv2(const char *password, const char *user,
					    const char *domain, uint8_t out[16])
{
	uint8_t h[16];
	struct smbsess_status st = smbsess__ntlm_nt_hash(password, h);

	if (smbsess__st_ok(st))
		st = ntowfv2_from_hash(h, user, domain, out);
	explicit_bzero(h, sizeof(h));
	return st;
}

struct smbsess_status smbsess__ntlmv2_response(TALLOC_CTX *mem_ctx, const uint8_t response_key[16],
					       const uint8_t server_challenge[8],
					       const uint8_t client_challenge[8], uint64_t time,
					       const uint8_t *av_pairs, size_t av_len,
					       uint8_t **nt_response, size_t *nt_len,
					       uint8_t session_base_key[16])
{
	/* temp: RespType, HiRespType, Z(6), Time, ClientChallenge, Z(4), ServerName, Z(4). */
	size_t temp_len = 28 + av_len + 4;
	uint8_t *r, *temp;

	if (av_len > 0xffff)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	r = talloc_zero_array(mem_ctx, uint8_t, 16 + temp_len);
	if (r == NULL)
		return SMBSESS__ST_NOMEM;
	temp = r + 16;
	temp[0] = 0x01;
	temp[1] = 0x01;
	smbsess__put_le64(temp + 8, time);
	memcpy(temp + 16, client_challenge, 8);
	if (av_len)
		memcpy(temp + 28, av_pairs, av_len);
	/* NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp) */
	hmac_md5(response_key, 16, server_challenge, 8, temp, temp_len, r);
	/* SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr) */
	hmac_md5(response_key, 16, r, 16, NULL, 0, session_base_key);
	*nt_response = r;
	*nt_len = 16 + temp_len;
	return SMBSESS__OK;
}

void smbsess__ntlm_lmv2_response(const uint8_t response_key[16], const uint8_t server_challenge[8],
				 const uint8_t client_challenge[8], uint8_t out[24])
{
	hmac_md5(response_key, 16, server_challenge, 8, client_challenge, 8, out);
	memcpy(out + 16, client_challenge, 8);
}

static void md5_key_constant(const uint8_t *key, size_t key_len, const char *constant, uint8_t out[16])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_update(&ctx, key_len, key);
	md5_update(&ctx, strlen(constant) + 1, (const uint8_t *)constant);
	md5_digest(&ctx, MD5_DIGEST_SIZE, out);
	explicit_bzero(&ctx, sizeof(ctx));
}

void smbsess__ntlm_sign_key(const uint8_t exported_session_key[16], bool client_to_server,
			    uint8_t out[16])
{
	md5_key_constant(exported_session_key, 16, client_to_server ? sign_c2s : sign_s2c, out);
}

void smbsess__ntlm_seal_key(const uint8_t exported_session_key[16], uint32_t flags,
			    bool client_to_server, uint8_t out[16])
{
	size_t n = 5;

	if (flags & SMBSESS__NTLMSSP_NEGOTIATE_128)
		n = 16;
	else if (flags & SMBSESS__NTLMSSP_NEGOTIATE_56)
		n = 7;
	md5_key_constant(exported_session_key, n, client_to_server ? seal_c2s : seal_s2c, out);
}

void smbsess__ntlm_mac(const uint8_t sign_key[16], struct arcfour_ctx *seal, uint32_t seq,
		       const uint8_t *data, size_t len, uint8_t out[16])
{
	uint8_t seqb[4], digest[16];
	struct hmac_md5_ctx ctx;

	smbsess__put_le32(seqb, seq);
	hmac_md5_set_key(&ctx, 16, sign_key);
	hmac_md5_update(&ctx, 4, seqb);
	if (len)
		hmac_md5_update(&ctx, len, data);
	hmac_md5_digest(&ctx, MD5_DIGEST_SIZE, digest);
	explicit_bzero(&ctx, sizeof(ctx));

	/* NTLMSSP_MESSAGE_SIGNATURE with ESS, [MS-NLMP] 2.2.2.9.2: Version, Checksum, SeqNum. */
	smbsess__put_le32(out, 1);
	if (seal)
		arcfour_crypt(seal, 8, out + 4, digest);
	else
		memcpy(out + 4, digest, 8);
	smbsess__put_le32(out + 12, seq);
	explicit_bzero(digest, sizeof(digest));
}

/* ---- CHALLENGE_MESSAGE ---- */

/*
 * A Len/MaxLen/Offset triple at @p at; the buffer it names must lie within
 * the message. An empty field is fine wherever its offset points.
 */
static bool get_field(const uint8_t *msg, size_t len, size_t at, const uint8_t **p, size_t *flen)
{
	size_t l = smbsess__le16(msg + at);
	size_t off = smbsess__le32(msg + at + 4);

	if (l == 0) {
		*p = NULL;
		*flen = 0;
		return true;
	}
	if (off > len || l > len - off)
		return false;
	*p = msg + off;
	*flen = l;
	return true;
}

/* Walks the AV pairs ([MS-NLMP] 2.2.2.1) and copies them, MsvAvEOL included, into @p c. */
static struct smbsess_status parse_av_pairs(struct smbsess__ntlm_challenge *c, const uint8_t *ti,
					    size_t ti_len)
{
	size_t pos = 0;
	size_t count = 0;
	bool seen_ts = false, seen_flags = false;

	for (;;) {
		uint16_t id, l;

		if (ti_len - pos < 4)
			return protocol_error(); /* no MsvAvEOL */
		id = smbsess__le16(ti + pos);
		l = smbsess__le16(ti + pos + 2);
		if (l > ti_len - pos - 4)
			return protocol_error();
		if (id == SMBSESS__MSV_AV_EOL) {
			if (l != 0)
				return protocol_error();
			pos += 4;
			break;
		}
		if (++count > SMBSESS__NTLM_MAX_AV_PAIRS)
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		switch (id) {
		case SMBSESS__MSV_AV_TIMESTAMP:
			if (l != 8 || seen_ts)
				return protocol_error();
			seen_ts = true;
			c->has_timestamp = true;
			c->timestamp = smbsess__le64(ti + pos + 4);
			break;
		case SMBSESS__MSV_AV_FLAGS:
			if (l != 4 || seen_flags)
				return protocol_error();
			seen_flags = true;
			c->has_av_flags = true;
			c->av_flags = smbsess__le32(ti + pos + 4);
			break;
		case SMBSESS__MSV_AV_NB_COMPUTER_NAME:
			c->has_nb_computer = true;
			break;
		case SMBSESS__MSV_AV_NB_DOMAIN_NAME:
			c->has_nb_domain = true;
			break;
		default:
			break;
		}
		pos += 4 + (size_t)l;
	}
	/* Bytes after MsvAvEOL are not part of the list and are not echoed back. */
	c->target_info = talloc_memdup(c, ti, pos);
	if (c->target_info == NULL)
		return SMBSESS__ST_NOMEM;
	c->target_info_len = pos;
	c->num_av_pairs = count;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ntlm_challenge_parse(TALLOC_CTX *mem_ctx, const uint8_t *msg,
						    size_t len,
						    struct smbsess__ntlm_challenge **out)
{
	struct smbsess__ntlm_challenge *c;
	const uint8_t *name, *ti;
	size_t name_len, ti_len = 0;
	struct smbsess_status st;

	if (msg == NULL || len < CHALLENGE_MIN_LEN)
		return protocol_error();
	if (memcmp(msg, ntlmssp_signature, 8) != 0 || smbsess__le32(msg + 8) != NTLM_MSG_CHALLENGE)
		return protocol_error();
	c = talloc_zero(mem_ctx, struct smbsess__ntlm_challenge);
	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	c->flags = smbsess__le32(msg + 20);
	memcpy(c->server_challenge, msg + 24, 8);

	if (!get_field(msg, len, 12, &name, &name_len))
		goto bad;
	/* TargetName is informational: keep it when it is valid UTF-16, never fail on it. */
	if (name_len && (c->flags & SMBSESS__NTLMSSP_NEGOTIATE_UNICODE) && name_len % 2 == 0) {
		char *s;

		if (smbsess__st_ok(smbsess__utf16le_to_utf8(c, name, name_len / 2, &s)))
			c->target_name = s;
	}

	if (len >= CHALLENGE_TI_LEN) {
		if (!get_field(msg, len, 40, &ti, &ti_len))
			goto bad;
	} else if (c->flags & SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO) {
		goto bad;
	}
	if ((c->flags & SMBSESS__NTLMSSP_NEGOTIATE_TARGET_INFO) && ti_len > 0) {
		st = parse_av_pairs(c, ti, ti_len);
		if (!smbsess__st_ok(st)) {
			talloc_free(c);
			return st;
		}
	}
	if ((c->flags & SMBSESS__NTLMSSP_NEGOTIATE_VERSION) && len >= CHALLENGE_TI_LEN + 8) {
		c->has_version = true;
		memcpy(c->version, msg + CHALLENGE_TI_LEN, 8);
	}
	*out = c;
	return SMBSESS__OK;
bad:
	talloc_free(c);
	return protocol_error();
}

/* ---- the client ---- */

static int ntlmssp_destructor(struct smbsess__ntlmssp *n)
{
	explicit_bzero(n->nt_hash, sizeof(n->nt_hash));
	explicit_bzero(n->fixed_exported, sizeof(n->fixed_exported));
	explicit_bzero(n->exported, sizeof(n->exported));
	explicit_bzero(n->client_sign_key, sizeof(n->client_sign_key));
	explicit_bzero(n->server_sign_key, sizeof(n->server_sign_key));
	explicit_bzero(&n->client_seal, sizeof(n->client_seal));
	explicit_bzero(&n->server_seal, sizeof(n->server_seal));
	return 0;
}

struct smbsess_status smbsess__ntlmssp_client_new(TALLOC_CTX *mem_ctx,
						  const struct smbsess__creds *creds,
						  struct smbsess__ntlmssp **out)
{
	struct smbsess__ntlmssp *n;
	struct smbsess_status st = SMBSESS__OK;

	n = talloc_zero(mem_ctx, struct smbsess__ntlmssp);
	if (n == NULL)
		return SMBSESS__ST_NOMEM;
	talloc_set_destructor(n, ntlmssp_destructor);
	n->anonymous = smbsess__creds_is_anonymous(creds);
	n->user = talloc_strdup(n, n->anonymous ? "" : creds->user);
	n->domain = talloc_strdup(n, (n->anonymous || creds->domain == NULL) ? "" : creds->domain);
	if (n->user == NULL || n->domain == NULL) {
		talloc_free(n);
		return SMBSESS__ST_NOMEM;
	}
	if (!n->anonymous)
		st = smbsess__ntlm_nt_hash(creds->password ? creds->password : "", n->nt_hash);
	if (!smbsess__st_ok(st)) {
		talloc_free(n);
		return st;
	}
	n->req_flags = SMBSESS__NTLMSSP_DEFAULT_FLAGS;
	/*
	 * Always a VERSION and NTLMSSP_NEGOTIATE_VERSION, as Windows and Samba
	 * send them: some servers (impacket's) read the AUTHENTICATE payload at
	 * the positions the flag implies, and without it take the MIC for the
	 * payload and decrypt a wrong session key. 6.1, build 0, as Samba.
	 */
	smbsess__ntlmssp_set_version(n, 6, 1, 0);
	n->mic_field = true;
	n->state = NTLMSSP_START;
	*out = n;
	return SMBSESS__OK;
}

void smbsess__ntlmssp_set_flags(struct smbsess__ntlmssp *n, uint32_t flags)
{
	n->req_flags = flags;
}

void smbsess__ntlmssp_set_version(struct smbsess__ntlmssp *n, uint8_t major, uint8_t minor,
				  uint16_t build)
{
	n->have_version = true;
	memset(n->version, 0, sizeof(n->version));
	n->version[0] = major;
	n->version[1] = minor;
	smbsess__put_le16(n->version + 2, build);
	n->version[7] = NTLMSSP_REVISION_W2K3;
}

void smbsess__ntlmssp_set_mic_field(struct smbsess__ntlmssp *n, bool always)
{
	n->mic_field = always;
}

struct smbsess_status smbsess__ntlmssp_set_workstation(struct smbsess__ntlmssp *n, const char *name)
{
	char *w = NULL;

	if (name && name[0]) {
		w = talloc_strdup(n, name);
		if (w == NULL)
			return SMBSESS__ST_NOMEM;
	}
	talloc_free(n->workstation);
	n->workstation = w;
	return SMBSESS__OK;
}

void smbsess__ntlmssp_set_test_values(struct smbsess__ntlmssp *n, const uint8_t client_challenge[8],
				      const uint8_t exported_session_key[16], const uint64_t *time)
{
	if (client_challenge) {
		n->fixed_client_challenge = true;
		memcpy(n->client_challenge, client_challenge, 8);
	}
	if (exported_session_key) {
		n->fixed_session_key = true;
		memcpy(n->fixed_exported, exported_session_key, 16);
	}
	if (time) {
		n->fixed_time = true;
		n->time = *time;
	}
}

/* The flags of our NEGOTIATE_MESSAGE. */
static uint32_t negotiate_flags(const struct smbsess__ntlmssp *n)
{
	uint32_t f = (n->req_flags & SUPPORTED_FLAGS) | REQUIRED_FLAGS;

	if (n->have_version)
		f |= SMBSESS__NTLMSSP_NEGOTIATE_VERSION;
	return f;
}

struct smbsess_status smbsess__ntlmssp_negotiate(struct smbsess__ntlmssp *n, TALLOC_CTX *mem_ctx,
						 uint8_t **out, size_t *out_len)
{
	uint8_t *m, *copy;

	if (n->state != NTLMSSP_START)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	/* [MS-NLMP] 2.2.1.1: no domain or workstation supplied; their offsets point at the payload. */
	m = talloc_zero_array(mem_ctx, uint8_t, NEGOTIATE_LEN);
	if (m == NULL)
		return SMBSESS__ST_NOMEM;
	memcpy(m, ntlmssp_signature, 8);
	smbsess__put_le32(m + 8, NTLM_MSG_NEGOTIATE);
	smbsess__put_le32(m + 12, negotiate_flags(n));
	smbsess__put_le32(m + 20, NEGOTIATE_LEN);
	smbsess__put_le32(m + 28, NEGOTIATE_LEN);
	if (n->have_version)
		memcpy(m + 32, n->version, 8);
	/* Kept for the MIC, which covers all three messages. */
	copy = talloc_memdup(n, m, NEGOTIATE_LEN);
	if (copy == NULL) {
		talloc_free(m);
		return SMBSESS__ST_NOMEM;
	}
	n->negotiate = copy;
	n->negotiate_len = NEGOTIATE_LEN;
	n->state = NTLMSSP_NEGOTIATED;
	*out = m;
	*out_len = NEGOTIATE_LEN;
	return SMBSESS__OK;
}

/*
 * The target info echoed in the NTLMv2 response. When a MIC is sent,
 * MsvAvFlags gets bit 0x2, added before MsvAvEOL if the server sent none
 * ([MS-NLMP] 3.1.5.1.2).
 */
static struct smbsess_status response_av_pairs(TALLOC_CTX *mem_ctx,
					       const struct smbsess__ntlm_challenge *c, bool mic,
					       uint8_t **out, size_t *out_len)
{
	size_t len = c->target_info_len;
	size_t pos = 0;
	uint8_t *p;

	if (!mic) {
		*out = c->target_info;
		*out_len = len;
		return SMBSESS__OK;
	}
	if (len == 0)
		len = 4; /* just MsvAvEOL */
	if (!c->has_av_flags)
		len += 8;
	p = talloc_zero_array(mem_ctx, uint8_t, len);
	if (p == NULL)
		return SMBSESS__ST_NOMEM;
	/* The list was validated when the challenge was parsed: copy all but MsvAvEOL. */
	for (size_t i = 0; c->target_info && i + 4 <= c->target_info_len;) {
		uint16_t id = smbsess__le16(c->target_info + i);
		size_t l = smbsess__le16(c->target_info + i + 2);

		if (id == SMBSESS__MSV_AV_EOL)
			break;
		memcpy(p + pos, c->target_info + i, 4 + l);
		if (id == SMBSESS__MSV_AV_FLAGS)
			smbsess__put_le32(p + pos + 4,
					  smbsess__le32(p + pos + 4) | SMBSESS__MSV_AV_FLAG_MIC);
		pos += 4 + l;
		i += 4 + l;
	}
	if (!c->has_av_flags) {
		smbsess__put_le16(p + pos, SMBSESS__MSV_AV_FLAGS);
		smbsess__put_le16(p + pos + 2, 4);
		smbsess__put_le32(p + pos + 4, SMBSESS__MSV_AV_FLAG_MIC);
		pos += 8;
	}
	/* MsvAvEOL: four zero bytes, already there. */
	pos += 4;
	*out = p;
	*out_len = pos;
	return SMBSESS__OK;
}

/* One payload item of the AUTHENTICATE_MESSAGE. */
struct auth_field {
	const uint8_t *data;
	size_t len;
	size_t header_at; /* where its Len/MaxLen/Offset triple goes */
};

static void derive_signing(struct smbsess__ntlmssp *n)
{
	uint8_t k[16];

	smbsess__ntlm_sign_key(n->exported, true, n->client_sign_key);
	smbsess__ntlm_sign_key(n->exported, false, n->server_sign_key);
	n->use_rc4 = (n->flags & SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH) != 0;
	if (n->use_rc4) {
		smbsess__ntlm_seal_key(n->exported, n->flags, true, k);
		arcfour_set_key(&n->client_seal, 16, k);
		smbsess__ntlm_seal_key(n->exported, n->flags, false, k);
		arcfour_set_key(&n->server_seal, 16, k);
		explicit_bzero(k, sizeof(k));
	}
	n->client_seq = 0;
	n->server_seq = 0;
	n->can_sign = (n->flags & SMBSESS__NTLMSSP_NEGOTIATE_SIGN) != 0;
}

static struct smbsess_status build_authenticate(struct smbsess__ntlmssp *n, TALLOC_CTX *tmp,
						const uint8_t *challenge, size_t challenge_len,
						uint8_t **msg_out, size_t *msg_len)
{
	const struct smbsess__ntlm_challenge *c = n->challenge;
	uint8_t *domain, *user, *ws = NULL, *lm, *nt = NULL, *av, *msg;
	size_t domain_len, user_len, ws_len = 0, lm_len, nt_len = 0, av_len;
	uint8_t response_key[16], base_key[16], enc_key[16];
	uint8_t client_challenge[8];
	uint64_t time;
	bool mic;
	bool key_exch;
	uint32_t flags;
	struct auth_field fields[6];
	size_t header_len, total, pos;
	struct smbsess_status st;

	/* What both sides agreed on; the client's own flags stay as it sent them. */
	flags = negotiate_flags(n);
	flags &= ~(NEGOTIABLE_FLAGS & ~c->flags);
	if (!(c->flags & SMBSESS__NTLMSSP_NEGOTIATE_UNICODE))
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	if (!n->anonymous && !(c->flags & SMBSESS__NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY))
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	if (n->anonymous) {
		flags |= SMBSESS__NTLMSSP_ANONYMOUS;
		flags &= ~SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH;
	} else if ((flags & (SMBSESS__NTLMSSP_NEGOTIATE_SIGN | SMBSESS__NTLMSSP_NEGOTIATE_SEAL)) &&
		   !(c->has_nb_computer && c->has_nb_domain)) {
		/* [MS-NLMP] 3.1.5.1.2: integrity without both NetBIOS names is a logon failure. */
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	}
	key_exch = (flags & SMBSESS__NTLMSSP_NEGOTIATE_KEY_EXCH) != 0;
	mic = !n->anonymous && c->has_timestamp;

	SMBSESS__CHECK(utf16(tmp, n->domain, false, 0xffff, &domain, &domain_len));
	SMBSESS__CHECK(utf16(tmp, n->user, false, 0xffff, &user, &user_len));
	if (n->workstation)
		SMBSESS__CHECK(utf16(tmp, n->workstation, false, 0xffff, &ws, &ws_len));

	if (n->anonymous) {
		/* [MS-NLMP] 3.3.2: NtChallengeResponse empty, LmChallengeResponse Z(1). */
		lm = talloc_zero_array(tmp, uint8_t, 1);
		if (lm == NULL)
			return SMBSESS__ST_NOMEM;
		lm_len = 1;
	} else {
		if (n->fixed_client_challenge)
			memcpy(client_challenge, n->client_challenge, 8);
		else
			SMBSESS__CHECK(smbsess__random_bytes(client_challenge, 8));
		/* The server's time when it sent one, so that its clock is what counts. */
		if (c->has_timestamp)
			time = c->timestamp;
		else if (n->fixed_time)
			time = n->time;
		else
			time = filetime_now();

		SMBSESS__CHECK(response_av_pairs(tmp, c, mic, &av, &av_len));
		SMBSESS__CHECK(ntowfv2_from_hash(n->nt_hash, n->user, n->domain, response_key));
		st = smbsess__ntlmv2_response(tmp, response_key, c->server_challenge,
					      client_challenge, time, av, av_len, &nt, &nt_len,
					      base_key);
		if (!smbsess__st_ok(st)) {
			explicit_bzero(response_key, sizeof(response_key));
			return st;
		}
		if (nt_len > 0xffff) {
			explicit_bzero(response_key, sizeof(response_key));
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		}
		lm = talloc_zero_array(tmp, uint8_t, 24);
		if (lm == NULL) {
			explicit_bzero(response_key, sizeof(response_key));
			return SMBSESS__ST_NOMEM;
		}
		lm_len = 24;
		/* With MsvAvTimestamp the client sends Z(24) instead of LMv2 ([MS-NLMP] 3.3.2). */
		if (!c->has_timestamp)
			smbsess__ntlm_lmv2_response(response_key, c->server_challenge,
						    client_challenge, lm);
		explicit_bzero(response_key, sizeof(response_key));

		/* NTLMv2: KeyExchangeKey = SessionBaseKey ([MS-NLMP] 3.4.5.1). */
		if (key_exch) {
			struct arcfour_ctx rc4;

			if (n->fixed_session_key)
				memcpy(n->exported, n->fixed_exported, 16);
			else {
				st = smbsess__random_bytes(n->exported, 16);
				if (!smbsess__st_ok(st)) {
					explicit_bzero(base_key, sizeof(base_key));
					return st;
				}
			}
			arcfour_set_key(&rc4, 16, base_key);
			arcfour_crypt(&rc4, 16, enc_key, n->exported);
			explicit_bzero(&rc4, sizeof(rc4));
		} else {
			memcpy(n->exported, base_key, 16);
		}
		explicit_bzero(base_key, sizeof(base_key));
		n->have_key = true;
	}

	/* Payload order as in the [MS-NLMP] 4.2.4.3 example. */
	fields[0] = (struct auth_field){ domain, domain_len, 28 };
	fields[1] = (struct auth_field){ user, user_len, 36 };
	fields[2] = (struct auth_field){ ws, ws_len, 44 };
	fields[3] = (struct auth_field){ lm, lm_len, 12 };
	fields[4] = (struct auth_field){ nt, nt_len, 20 };
	fields[5] = (struct auth_field){ enc_key, key_exch ? 16 : 0, 52 };

	/* The MIC field when a MIC is sent, and else zeroed unless told otherwise. */
	header_len = AUTH_HEADER_LEN + ((mic || n->mic_field) ? 16 : 0);
	total = header_len;
	for (size_t i = 0; i < 6; i++)
		total += fields[i].len;
	msg = talloc_zero_array(tmp, uint8_t, total);
	if (msg == NULL)
		return SMBSESS__ST_NOMEM;
	memcpy(msg, ntlmssp_signature, 8);
	smbsess__put_le32(msg + 8, NTLM_MSG_AUTHENTICATE);
	pos = header_len;
	for (size_t i = 0; i < 6; i++) {
		smbsess__put_le16(msg + fields[i].header_at, (uint16_t)fields[i].len);
		smbsess__put_le16(msg + fields[i].header_at + 2, (uint16_t)fields[i].len);
		smbsess__put_le32(msg + fields[i].header_at + 4, (uint32_t)pos);
		if (fields[i].len)
			memcpy(msg + pos, fields[i].data, fields[i].len);
		pos += fields[i].len;
	}
	smbsess__put_le32(msg + 60, flags);
	if (n->have_version)
		memcpy(msg + AUTH_VERSION_OFFSET, n->version, 8);
	explicit_bzero(enc_key, sizeof(enc_key));

	n->flags = flags;
	n->sent_mic = mic;
	if (mic) {
		/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE), MIC zeroed. */
		struct hmac_md5_ctx h;

		hmac_md5_set_key(&h, 16, n->exported);
		hmac_md5_update(&h, n->negotiate_len, n->negotiate);
		hmac_md5_update(&h, challenge_len, challenge);
		hmac_md5_update(&h, total, msg);
		hmac_md5_digest(&h, MD5_DIGEST_SIZE, msg + AUTH_MIC_OFFSET);
		explicit_bzero(&h, sizeof(h));
	}
	if (n->have_key)
		derive_signing(n);
	*msg_out = msg;
	*msg_len = total;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ntlmssp_authenticate(struct smbsess__ntlmssp *n,
						    const uint8_t *challenge, size_t challenge_len,
						    TALLOC_CTX *mem_ctx, uint8_t **out,
						    size_t *out_len)
{
	TALLOC_CTX *tmp;
	struct smbsess__ntlm_challenge *c;
	uint8_t *msg;
	size_t msg_len;
	struct smbsess_status st;

	if (n->state != NTLMSSP_NEGOTIATED)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	st = smbsess__ntlm_challenge_parse(n, challenge, challenge_len, &c);
	if (!smbsess__st_ok(st)) {
		n->state = NTLMSSP_FAILED;
		return st;
	}
	n->challenge = c;
	tmp = talloc_new(NULL);
	if (tmp == NULL) {
		n->state = NTLMSSP_FAILED;
		return SMBSESS__ST_NOMEM;
	}
	st = build_authenticate(n, tmp, challenge, challenge_len, &msg, &msg_len);
	if (smbsess__st_ok(st)) {
		*out = talloc_steal(mem_ctx, msg);
		*out_len = msg_len;
		n->state = NTLMSSP_DONE;
	} else {
		n->state = NTLMSSP_FAILED;
		n->have_key = false;
		n->can_sign = false;
		explicit_bzero(n->exported, sizeof(n->exported));
	}
	talloc_free(tmp);
	return st;
}

struct smbsess_status smbsess__ntlmssp_session_key(const struct smbsess__ntlmssp *n, uint8_t key[16])
{
	if (n->state != NTLMSSP_DONE)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (!n->have_key)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	memcpy(key, n->exported, 16);
	return SMBSESS__OK;
}

uint32_t smbsess__ntlmssp_flags(const struct smbsess__ntlmssp *n)
{
	return n->state == NTLMSSP_DONE ? n->flags : 0;
}

bool smbsess__ntlmssp_is_anonymous(const struct smbsess__ntlmssp *n)
{
	return n->anonymous;
}

bool smbsess__ntlmssp_sent_mic(const struct smbsess__ntlmssp *n)
{
	return n->state == NTLMSSP_DONE && n->sent_mic;
}

bool smbsess__ntlmssp_can_sign(const struct smbsess__ntlmssp *n)
{
	return n->state == NTLMSSP_DONE && n->can_sign;
}

const struct smbsess__ntlm_challenge *smbsess__ntlmssp_challenge(const struct smbsess__ntlmssp *n)
{
	return n->challenge;
}

struct smbsess_status smbsess__ntlmssp_sign(struct smbsess__ntlmssp *n, const uint8_t *data,
					    size_t len, uint8_t sig[16])
{
	if (!smbsess__ntlmssp_can_sign(n))
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	smbsess__ntlm_mac(n->client_sign_key, n->use_rc4 ? &n->client_seal : NULL, n->client_seq,
			  data, len, sig);
	n->client_seq++;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ntlmssp_check(struct smbsess__ntlmssp *n, const uint8_t *data,
					     size_t len, const uint8_t sig[16])
{
	uint8_t want[16];
	uint8_t diff = 0;

	if (!smbsess__ntlmssp_can_sign(n))
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	smbsess__ntlm_mac(n->server_sign_key, n->use_rc4 ? &n->server_seal : NULL, n->server_seq,
			  data, len, want);
	n->server_seq++;
	for (size_t i = 0; i < 16; i++)
		diff |= (uint8_t)(want[i] ^ sig[i]);
	explicit_bzero(want, sizeof(want));
	return diff ? SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE) : SMBSESS__OK;
}
