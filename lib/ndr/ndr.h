/*
 * lib/ndr: an NDR 2.0 (DCE/RPC transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2)
 * engine with one code path for push and pull.
 *
 * Every type has one coder function `f(ndr, flags, value)` that either writes
 * *value or reads into it, depending on the direction of @p ndr, so the two
 * directions cannot disagree on the field order. @p flags says which of the
 * two NDR phases to run: SMBSESS__NDR_SCALARS (the fixed part, with referent
 * ids in place of pointers) and SMBSESS__NDR_BUFFERS (the deferred referents,
 * in the order their pointers appeared). Deferral needs no table: a coder's
 * buffers phase revisits its own pointers in order, so a response with any
 * number of entries decodes.
 *
 * Pull never reads past its buffer: every count is checked against the bytes
 * left and against the caps in struct smbsess__ndr_limits before memory is
 * allocated, and every allocation is charged against a budget.
 */
#ifndef SMBSESS_LIB_NDR_H
#define SMBSESS_LIB_NDR_H

#include "../util/util.h"

#define SMBSESS__NDR_SCALARS 1
#define SMBSESS__NDR_BUFFERS 2
#define SMBSESS__NDR_BOTH (SMBSESS__NDR_SCALARS | SMBSESS__NDR_BUFFERS)

struct smbsess__ndr_limits {
	uint32_t max_entries;      /* elements in one array */
	uint32_t max_string_units; /* UTF-16 units in one string, terminator included */
	size_t max_alloc;          /* bytes allocated for one decode */
	unsigned max_depth;        /* nesting of constructed types */
};

/* 1,000,000 entries, 65,536 units, 512 MiB, 16 levels. */
extern const struct smbsess__ndr_limits smbsess__ndr_default_limits;

struct smbsess__ndr {
	bool pull;
	uint8_t *data;   /* pull: the input (not owned); push: the output */
	size_t len;      /* pull: input size; push: bytes written */
	size_t cap;      /* push: allocated size of data */
	size_t ofs;      /* pull: read position */
	TALLOC_CTX *mem; /* pull: where decoded values are allocated */
	uint32_t next_ref;
	size_t allocated;
	unsigned depth;
	struct smbsess__ndr_limits limits;
	/* pull: decoded strings are carved from chunks on mem, not allocated one by one */
	char *str_free;
	size_t str_left, str_chunk;
};

typedef struct smbsess_status (*smbsess__ndr_fn)(struct smbsess__ndr *ndr, int flags, void *value);

/*
 * A flat structure of uint32 and [unique,string] members, described by a
 * table of fields; the generic coder smbsess__ndr_struct walks it.
 */
enum smbsess__ndr_field_kind {
	SMBSESS__NDR_F_END = 0,
	SMBSESS__NDR_F_U32,  /* uint32_t */
	SMBSESS__NDR_F_USTR  /* char *, [unique,string,charset(UTF16)] uint16 * */
};

struct smbsess__ndr_field {
	enum smbsess__ndr_field_kind kind;
	size_t offset;
	const char *name;
};

#define SMBSESS__NDR_FIELD_U32(type, member) { SMBSESS__NDR_F_U32, offsetof(type, member), #member }
#define SMBSESS__NDR_FIELD_USTR(type, member) { SMBSESS__NDR_F_USTR, offsetof(type, member), #member }
#define SMBSESS__NDR_FIELD_END { SMBSESS__NDR_F_END, 0, NULL }

/* Codes one flat structure described by @p fields (all members are 4 bytes on the wire). */
struct smbsess_status smbsess__ndr_struct(struct smbsess__ndr *ndr, int flags, void *value,
					  const struct smbsess__ndr_field *fields);

/* The element type of a conformant array: a flat structure of @p size bytes. */
struct smbsess__ndr_type {
	size_t size;
	const struct smbsess__ndr_field *fields;
};

/*
 * A pull context reading @p len bytes at @p data (not copied: it must outlive
 * the context). Decoded values are allocated on @p mem_ctx. @p limits may be
 * NULL for the defaults. Returns NULL when out of memory.
 */
struct smbsess__ndr *smbsess__ndr_pull_new(TALLOC_CTX *mem_ctx, const uint8_t *data, size_t len,
					   const struct smbsess__ndr_limits *limits);
/* A push context whose output grows on demand; the output belongs to the context. */
struct smbsess__ndr *smbsess__ndr_push_new(TALLOC_CTX *mem_ctx);

/* Pull: ok if everything was read but for fewer than 8 bytes of padding. */
struct smbsess_status smbsess__ndr_pull_end(struct smbsess__ndr *ndr);

struct smbsess_status smbsess__ndr_align(struct smbsess__ndr *ndr, size_t n);
struct smbsess_status smbsess__ndr_u8(struct smbsess__ndr *ndr, uint8_t *v);
struct smbsess_status smbsess__ndr_u16(struct smbsess__ndr *ndr, uint16_t *v);
struct smbsess_status smbsess__ndr_u32(struct smbsess__ndr *ndr, uint32_t *v);
struct smbsess_status smbsess__ndr_u64(struct smbsess__ndr *ndr, uint64_t *v);
/* Raw bytes, no alignment. Pull: *v points into the input. */
struct smbsess_status smbsess__ndr_bytes(struct smbsess__ndr *ndr, uint8_t **v, size_t n);

/*
 * A unique pointer's referent id. Push writes the next id when *present,
 * else 0; pull sets *present from the id.
 */
struct smbsess_status smbsess__ndr_ptr(struct smbsess__ndr *ndr, bool *present);

/* The body of a [string,charset(UTF16)] uint16 * referent (conformant varying). */
struct smbsess_status smbsess__ndr_string_body(struct smbsess__ndr *ndr, char **s);

/*
 * A [unique,string,charset(UTF16)] uint16 * member: SCALARS writes or reads
 * the referent id, BUFFERS the string. Between the phases of a pull, *s holds
 * a marker that only means "present".
 */
struct smbsess_status smbsess__ndr_unique_string(struct smbsess__ndr *ndr, int flags, char **s);

/* A [unique] uint32 * top-level parameter (present + value). */
struct smbsess__ndr_opt_u32 {
	bool present;
	uint32_t value;
};
struct smbsess_status smbsess__ndr_unique_u32(struct smbsess__ndr *ndr, struct smbsess__ndr_opt_u32 *v);

/*
 * The container struct { uint32 count; [size_is(count)] T *array; } used by
 * every srvsvc enumeration. Pull allocates *array (zeroed) on the pull
 * context's memory; a NULL array with a non-zero count is refused.
 */
struct smbsess_status smbsess__ndr_counted_array(struct smbsess__ndr *ndr, int flags, uint32_t *count,
						 void **array, const struct smbsess__ndr_type *t);

/*
 * The discriminant of a non-encapsulated union. Push writes @p level; pull
 * reads it and requires it to equal @p level.
 */
struct smbsess_status smbsess__ndr_union_switch(struct smbsess__ndr *ndr, uint32_t level);

/* Whether a pulled pointer member is present; true for any non-NULL pushed pointer. */
static inline bool smbsess__ndr_present(const void *p)
{
	return p != NULL;
}

/*
 * Encodes @p value with @p fn (both phases) into a new buffer on @p mem_ctx.
 * On success *out and *out_len are set; the caller owns *out.
 */
struct smbsess_status smbsess__ndr_push_blob(TALLOC_CTX *mem_ctx, smbsess__ndr_fn fn, void *value,
					     uint8_t **out, size_t *out_len);

/*
 * Decodes @p len bytes at @p data with @p fn (both phases) into @p value.
 * Everything decoded is allocated under one new talloc child of @p mem_ctx,
 * which the caller owns through @p mem_ctx. On failure nothing stays
 * allocated and @p value (of @p value_size bytes) is zeroed.
 */
struct smbsess_status smbsess__ndr_pull_blob(TALLOC_CTX *mem_ctx, const uint8_t *data, size_t len,
					     const struct smbsess__ndr_limits *limits, smbsess__ndr_fn fn,
					     void *value, size_t value_size);

/* Enter/leave a constructed type, checking the nesting limit. */
struct smbsess_status smbsess__ndr_enter(struct smbsess__ndr *ndr);
static inline void smbsess__ndr_leave(struct smbsess__ndr *ndr)
{
	ndr->depth--;
}

#endif /* SMBSESS_LIB_NDR_H */
