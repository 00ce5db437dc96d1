/*
 * lib/auth: a minimal DER reader and writer (ITU-T X.690), enough for the
 * SPNEGO tokens of RFC 4178 and the GSS-API framing of RFC 2743 3.1.
 *
 * Reading is strict about what matters for safety: one-byte tags only,
 * definite lengths only, every length inside the bytes that contain it,
 * nesting bounded, no recursion. It tolerates one thing DER forbids and BER
 * allows, a long-form length that is not minimal, because it is harmless
 * once checked and some peers have sent it. Writing always produces DER.
 *
 * Errors: malformed encodings give SMBSESS_E_PROTOCOL, nesting deeper than
 * the limit gives SMBSESS_E_LIMIT (library domain).
 */
#ifndef SMBSESS_LIB_AUTH_DER_H
#define SMBSESS_LIB_AUTH_DER_H

#include "../util/util.h"

/* Constructed nesting a token may have; SPNEGO needs 7 at most. */
#define SMBSESS__DER_MAX_DEPTH 8

/* Universal tags used by SPNEGO. */
#define SMBSESS__DER_BIT_STRING 0x03
#define SMBSESS__DER_OCTET_STRING 0x04
#define SMBSESS__DER_OID 0x06
#define SMBSESS__DER_ENUMERATED 0x0a
#define SMBSESS__DER_GENERAL_STRING 0x1b
#define SMBSESS__DER_SEQUENCE 0x30
/* [n] EXPLICIT, constructed, context class */
#define SMBSESS__DER_CTX(n) ((uint8_t)(0xa0 | (n)))
/* [APPLICATION 0] constructed: the GSS-API InitialContextToken */
#define SMBSESS__DER_APP0 0x60

#define SMBSESS__DER_CONSTRUCTED 0x20

/* A reading position inside a buffer that is not ours. */
struct smbsess__der_cursor {
	const uint8_t *p;
	size_t len;     /* bytes left */
	unsigned depth; /* constructed encodings around these bytes */
};

/* One tag-length-value read from a cursor; points into its buffer. */
struct smbsess__der_tlv {
	uint8_t tag;
	const uint8_t *value;
	size_t len;
	const uint8_t *raw; /* the whole encoding, tag and length included */
	size_t raw_len;
};

void smbsess__der_cursor_init(struct smbsess__der_cursor *c, const uint8_t *p, size_t len);

static inline bool smbsess__der_at_end(const struct smbsess__der_cursor *c)
{
	return c->len == 0;
}

/* The next tag, or -1 at the end. */
static inline int smbsess__der_peek(const struct smbsess__der_cursor *c)
{
	return c->len ? c->p[0] : -1;
}

/* Reads the next TLV and advances past it. */
struct smbsess_status smbsess__der_next(struct smbsess__der_cursor *c, struct smbsess__der_tlv *out);

/* Reads the next TLV, which must carry @p tag. */
struct smbsess_status smbsess__der_expect(struct smbsess__der_cursor *c, uint8_t tag,
					  struct smbsess__der_tlv *out);

/* A cursor over the contents of a constructed TLV read from @p parent; one level deeper. */
struct smbsess_status smbsess__der_enter(const struct smbsess__der_cursor *parent,
					 const struct smbsess__der_tlv *tlv,
					 struct smbsess__der_cursor *child);

/*
 * Walks every TLV in @p p[0..len), descending into constructed ones without
 * recursion, and checks that each length fits its container exactly, that
 * no length is indefinite and that nesting stays within @p max_depth
 * (at most SMBSESS__DER_MAX_DEPTH).
 */
struct smbsess_status smbsess__der_check(const uint8_t *p, size_t len, unsigned max_depth);

/* An ENUMERATED or small INTEGER value 0..0x7fffffff in minimal form. */
struct smbsess_status smbsess__der_get_uint(const struct smbsess__der_tlv *t, uint32_t *v);

/*
 * Encodes the OBJECT IDENTIFIER contents (no tag, no length) for @p n arcs
 * into @p out (capacity @p cap). The first arc is 0..2, the second below 40
 * unless the first is 2; at least two arcs.
 */
struct smbsess_status smbsess__der_oid_encode(const uint32_t *arcs, size_t n, uint8_t *out,
					      size_t cap, size_t *len);

/* ---- writer ---- */

/*
 * An encoding being built on a talloc buffer. Errors are sticky: after the
 * first failure every call does nothing and finish reports the failure.
 */
struct smbsess__der_writer {
	TALLOC_CTX *mem;
	uint8_t *buf;
	size_t len;
	size_t cap;
	struct smbsess_status st;
};

void smbsess__der_writer_init(struct smbsess__der_writer *w, TALLOC_CTX *mem_ctx);

/* Appends a whole TLV. */
void smbsess__der_put(struct smbsess__der_writer *w, uint8_t tag, const uint8_t *value, size_t len);

/* Appends bytes that already are DER. */
void smbsess__der_put_raw(struct smbsess__der_writer *w, const uint8_t *p, size_t len);

/* Opens a constructed TLV; returns the mark that smbsess__der_end needs. */
size_t smbsess__der_begin(struct smbsess__der_writer *w, uint8_t tag);

/* Closes the constructed TLV opened at @p mark; the innermost one first. */
void smbsess__der_end(struct smbsess__der_writer *w, size_t mark);

/*
 * Hands the encoding to the caller: *out is a talloc child of the writer's
 * context. On failure nothing is returned and the buffer is freed.
 */
struct smbsess_status smbsess__der_finish(struct smbsess__der_writer *w, uint8_t **out, size_t *len);

/* Frees the buffer of a writer whose result is not wanted. */
void smbsess__der_writer_discard(struct smbsess__der_writer *w);

#endif /* SMBSESS_LIB_AUTH_DER_H */
