/*
 * lib/util: status helpers, UTF-16 conversion, byte order.
 * The lowest layer; it includes nothing of the library but the public
 * status type.
 */
#ifndef SMBSESS_LIB_UTIL_H
#define SMBSESS_LIB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include <smbsess/status.h>

/* ---- status ---- */

static inline struct smbsess_status smbsess__st(uint32_t domain, uint32_t code)
{
	struct smbsess_status st = { domain, code };
	return st;
}

#define SMBSESS__OK smbsess__st(SMBSESS_DOMAIN_OK, 0)
#define SMBSESS__ST_LIB(c) smbsess__st(SMBSESS_DOMAIN_LIBRARY, (c))
#define SMBSESS__ST_NDR(c) smbsess__st(SMBSESS_DOMAIN_NDR, (c))
#define SMBSESS__ST_NT(c) smbsess__st(SMBSESS_DOMAIN_NTSTATUS, (c))
#define SMBSESS__ST_WERR(c) smbsess__st(SMBSESS_DOMAIN_WERROR, (c))
#define SMBSESS__ST_ERRNO(c) smbsess__st(SMBSESS_DOMAIN_ERRNO, (uint32_t)(c))
#define SMBSESS__ST_NOMEM SMBSESS__ST_LIB(SMBSESS_E_NOMEM)

static inline bool smbsess__st_ok(struct smbsess_status st)
{
	return st.domain == SMBSESS_DOMAIN_OK;
}

static inline bool smbsess__st_equal(struct smbsess_status a, struct smbsess_status b)
{
	return a.domain == b.domain && a.code == b.code;
}

/* Evaluate a status expression; return it from the caller on failure. */
#define SMBSESS__CHECK(expr) do { \
	struct smbsess_status smbsess__c = (expr); \
	if (!smbsess__st_ok(smbsess__c)) return smbsess__c; \
} while (0)

const char *smbsess__status_name(struct smbsess_status st);
const char *smbsess__status_message(struct smbsess_status st);
const char *smbsess__domain_name(uint32_t domain);
char *smbsess__status_describe(struct smbsess_status st, char *buf, size_t size);

/* For the oracle test: walk every named code of a domain. Returns false at the end. */
bool smbsess__status_table_entry(uint32_t domain, size_t i, const char **name, uint32_t *code);

/* ---- randomness ---- */

/* Fills @p p with @p n bytes from getrandom(), retrying on EINTR. */
struct smbsess_status smbsess__random_bytes(uint8_t *p, size_t n);

/* ---- UTF-16LE <-> UTF-8 ---- */

/*
 * Converts @p units UTF-16LE code units at @p src into a new NUL-terminated
 * UTF-8 string allocated on @p mem_ctx. Unpaired surrogates and embedded NUL
 * units are rejected (NDR_E_STRING). @p *out is only set on success.
 */
struct smbsess_status smbsess__utf16le_to_utf8(TALLOC_CTX *mem_ctx, const uint8_t *src,
					       size_t units, char **out);

/*
 * The same in two steps, for callers with their own buffers: the checks
 * and the UTF-8 length (without terminator) of @p units units, then the
 * conversion of units that passed into @p dst (@p len + 1 bytes).
 */
struct smbsess_status smbsess__utf16le_utf8_len(const uint8_t *src, size_t units, size_t *len);
void smbsess__utf16le_to_utf8_buf(const uint8_t *src, size_t units, size_t len, char *dst);

/*
 * Validates the UTF-8 string @p s (length @p len bytes) and counts the
 * UTF-16 code units it needs, not counting a terminator. Overlong forms,
 * surrogates encoded in UTF-8, code points above U+10FFFF and embedded NULs
 * are rejected (NDR_E_STRING).
 */
struct smbsess_status smbsess__utf8_utf16_units(const char *s, size_t len, size_t *units);

/*
 * Decodes the UTF-8 sequence at s[*i] (of @p len bytes) into *cp and moves
 * *i past it; false, with nothing moved, when it is not well formed
 * (overlong, a surrogate, above U+10FFFF, cut short).
 */
bool smbsess__utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp);

/* Writes the UTF-16LE form of an already validated UTF-8 string; returns units written. */
size_t smbsess__utf8_to_utf16le(const char *s, size_t len, uint8_t *dst);

/* ---- little-endian access ---- */

static inline uint16_t smbsess__le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t smbsess__le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t smbsess__le64(const uint8_t *p)
{
	return (uint64_t)smbsess__le32(p) | ((uint64_t)smbsess__le32(p + 4) << 32);
}

static inline void smbsess__put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void smbsess__put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void smbsess__put_le64(uint8_t *p, uint64_t v)
{
	smbsess__put_le32(p, (uint32_t)v);
	smbsess__put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * A weak reference: smbsess__weak_get gives @p target while it lives and
 * NULL once it is freed. The reference is a talloc child of @p owner and
 * lets go of the target when freed. For requests that must not touch an
 * object the caller may free while they wait. NULL when out of memory or
 * @p target is NULL.
 */
struct smbsess__weak;
struct smbsess__weak *smbsess__weak_new(TALLOC_CTX *owner, void *target);
void *smbsess__weak_get(const struct smbsess__weak *w);

#endif /* SMBSESS_LIB_UTIL_H */
