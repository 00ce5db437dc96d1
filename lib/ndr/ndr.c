/*
 * The NDR 2.0 engine: primitives, pointers, strings, arrays, unions.
 */
#include "ndr.h"

const struct smbsess__ndr_limits smbsess__ndr_default_limits = {
	.max_entries = 1000000,
	.max_string_units = 65536,
	.max_alloc = (size_t)512 * 1024 * 1024,
	.max_depth = 16,
};

/* The value a pulled pointer member holds between the scalars and buffers phases. */
static char present_marker[1];
#define PRESENT ((void *)present_marker)

#define FIRST_REFERENT 0x00020000u

struct smbsess__ndr *smbsess__ndr_pull_new(TALLOC_CTX *mem_ctx, const uint8_t *data, size_t len,
					   const struct smbsess__ndr_limits *limits)
{
	struct smbsess__ndr *ndr = talloc_zero(mem_ctx, struct smbsess__ndr);

	if (ndr == NULL)
		return NULL;
	ndr->pull = true;
	ndr->data = (uint8_t *)data; /* never written in pull mode */
	ndr->len = len;
	ndr->mem = mem_ctx;
	ndr->limits = limits ? *limits : smbsess__ndr_default_limits;
	return ndr;
}

struct smbsess__ndr *smbsess__ndr_push_new(TALLOC_CTX *mem_ctx)
{
	struct smbsess__ndr *ndr = talloc_zero(mem_ctx, struct smbsess__ndr);

	if (ndr == NULL)
		return NULL;
	ndr->mem = ndr;
	ndr->next_ref = FIRST_REFERENT;
	ndr->limits = smbsess__ndr_default_limits;
	return ndr;
}

static struct smbsess_status ndr_err(uint32_t code)
{
	return SMBSESS__ST_NDR(code);
}

/* Push: make room for @p n more bytes, returning where they go. */
static struct smbsess_status push_space(struct smbsess__ndr *ndr, size_t n, uint8_t **p)
{
	if (n > SIZE_MAX / 2 - ndr->len)
		return ndr_err(SMBSESS_NDR_E_RANGE);
	if (ndr->len + n > ndr->cap) {
		size_t cap = ndr->cap ? ndr->cap : 256;
		uint8_t *d;

		while (cap < ndr->len + n)
			cap *= 2;
		d = talloc_realloc(ndr, ndr->data, uint8_t, cap);
		if (d == NULL)
			return SMBSESS__ST_NOMEM;
		ndr->data = d;
		ndr->cap = cap;
	}
	*p = ndr->data + ndr->len;
	ndr->len += n;
	return SMBSESS__OK;
}

/* Pull: the next @p n bytes, or NDR_E_SHORT. */
static struct smbsess_status pull_take(struct smbsess__ndr *ndr, size_t n, const uint8_t **p)
{
	if (n > ndr->len - ndr->ofs)
		return ndr_err(SMBSESS_NDR_E_SHORT);
	*p = ndr->data + ndr->ofs;
	ndr->ofs += n;
	return SMBSESS__OK;
}

static struct smbsess_status charge(struct smbsess__ndr *ndr, uint64_t bytes)
{
	if (bytes > ndr->limits.max_alloc - ndr->allocated)
		return ndr_err(SMBSESS_NDR_E_ALLOC_LIMIT);
	ndr->allocated += (size_t)bytes;
	return SMBSESS__OK;
}

/* String chunks grow from the first to the largest, so that small answers stay small. */
#define STR_CHUNK_FIRST 1024
#define STR_CHUNK_MAX 65536

/*
 * A decoded string: UTF-8 in a chunk of the decode's own (strings live as
 * long as the decoded value, never one by one), charged to the budget.
 */
static struct smbsess_status pull_utf8(struct smbsess__ndr *ndr, const uint8_t *p, size_t units, char **s)
{
	size_t len;

	SMBSESS__CHECK(smbsess__utf16le_utf8_len(p, units, &len));
	if (len + 1 > ndr->str_left) {
		size_t chunk = ndr->str_chunk == 0 ? STR_CHUNK_FIRST
			       : ndr->str_chunk < STR_CHUNK_MAX ? 2 * ndr->str_chunk : STR_CHUNK_MAX;

		ndr->str_chunk = chunk;
		if (chunk < len + 1)
			chunk = len + 1;

		SMBSESS__CHECK(charge(ndr, chunk));
		ndr->str_free = talloc_size(ndr->mem, chunk);
		if (ndr->str_free == NULL) {
			ndr->str_left = 0;
			return SMBSESS__ST_NOMEM;
		}
		ndr->str_left = chunk;
	}
	smbsess__utf16le_to_utf8_buf(p, units, len, ndr->str_free);
	*s = ndr->str_free;
	ndr->str_free += len + 1;
	ndr->str_left -= len + 1;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_pull_end(struct smbsess__ndr *ndr)
{
	if (ndr->len - ndr->ofs >= 8)
		return ndr_err(SMBSESS_NDR_E_TRAILING);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_enter(struct smbsess__ndr *ndr)
{
	if (ndr->depth >= ndr->limits.max_depth)
		return ndr_err(SMBSESS_NDR_E_DEPTH);
	ndr->depth++;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_align(struct smbsess__ndr *ndr, size_t n)
{
	size_t pos = ndr->pull ? ndr->ofs : ndr->len;
	size_t pad = (n - (pos & (n - 1))) & (n - 1);

	if (pad == 0)
		return SMBSESS__OK;
	if (ndr->pull) {
		const uint8_t *p;
		return pull_take(ndr, pad, &p);
	} else {
		uint8_t *p;
		SMBSESS__CHECK(push_space(ndr, pad, &p));
		memset(p, 0, pad);
		return SMBSESS__OK;
	}
}

struct smbsess_status smbsess__ndr_bytes(struct smbsess__ndr *ndr, uint8_t **v, size_t n)
{
	if (ndr->pull) {
		const uint8_t *p;
		SMBSESS__CHECK(pull_take(ndr, n, &p));
		*v = (uint8_t *)p;
	} else {
		uint8_t *p;
		SMBSESS__CHECK(push_space(ndr, n, &p));
		if (n)
			memcpy(p, *v, n);
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_u8(struct smbsess__ndr *ndr, uint8_t *v)
{
	if (ndr->pull) {
		const uint8_t *p;
		SMBSESS__CHECK(pull_take(ndr, 1, &p));
		*v = *p;
	} else {
		uint8_t *p;
		SMBSESS__CHECK(push_space(ndr, 1, &p));
		*p = *v;
	}
	return SMBSESS__OK;
}

#define PRIMITIVE(name, type, size, get, put) \
struct smbsess_status name(struct smbsess__ndr *ndr, type *v) \
{ \
	SMBSESS__CHECK(smbsess__ndr_align(ndr, size)); \
	if (ndr->pull) { \
		const uint8_t *p; \
		SMBSESS__CHECK(pull_take(ndr, size, &p)); \
		*v = get(p); \
	} else { \
		uint8_t *p; \
		SMBSESS__CHECK(push_space(ndr, size, &p)); \
		put(p, *v); \
	} \
	return SMBSESS__OK; \
}

PRIMITIVE(smbsess__ndr_u16, uint16_t, 2, smbsess__le16, smbsess__put_le16)
PRIMITIVE(smbsess__ndr_u64, uint64_t, 8, smbsess__le64, smbsess__put_le64)
/* The most frequent item of all: a pull takes padding and bounds in one check. */
struct smbsess_status smbsess__ndr_u32(struct smbsess__ndr *ndr, uint32_t *v)
{
	uint8_t *p;

	if (ndr->pull) {
		size_t at = (ndr->ofs + 3) & ~(size_t)3;

		if (at > ndr->len || ndr->len - at < 4)
			return ndr_err(SMBSESS_NDR_E_SHORT);
		*v = smbsess__le32(ndr->data + at);
		ndr->ofs = at + 4;
		return SMBSESS__OK;
	}
	SMBSESS__CHECK(smbsess__ndr_align(ndr, 4));
	SMBSESS__CHECK(push_space(ndr, 4, &p));
	smbsess__put_le32(p, *v);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_ptr(struct smbsess__ndr *ndr, bool *present)
{
	uint32_t id = 0;

	if (!ndr->pull && *present) {
		id = ndr->next_ref;
		ndr->next_ref += 4;
	}
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &id));
	if (ndr->pull)
		*present = id != 0;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_string_body(struct smbsess__ndr *ndr, char **s)
{
	uint32_t max_count, offset, actual;

	if (!ndr->pull) {
		size_t len = strlen(*s), units;
		uint8_t *p;

		SMBSESS__CHECK(smbsess__utf8_utf16_units(*s, len, &units));
		if (units >= UINT32_MAX / 2)
			return ndr_err(SMBSESS_NDR_E_RANGE);
		max_count = actual = (uint32_t)units + 1;
		offset = 0;
		SMBSESS__CHECK(smbsess__ndr_u32(ndr, &max_count));
		SMBSESS__CHECK(smbsess__ndr_u32(ndr, &offset));
		SMBSESS__CHECK(smbsess__ndr_u32(ndr, &actual));
		SMBSESS__CHECK(push_space(ndr, (size_t)actual * 2, &p));
		smbsess__utf8_to_utf16le(*s, len, p);
		smbsess__put_le16(p + units * 2, 0);
		return SMBSESS__OK;
	}

	const uint8_t *p;

	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &max_count));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &offset));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &actual));
	if (offset != 0 || actual > max_count)
		return ndr_err(SMBSESS_NDR_E_ARRAY_SIZE);
	if (max_count > ndr->limits.max_string_units)
		return ndr_err(SMBSESS_NDR_E_TOO_MANY);
	if (actual == 0)
		return ndr_err(SMBSESS_NDR_E_STRING); /* [string] needs its terminator */
	SMBSESS__CHECK(pull_take(ndr, (size_t)actual * 2, &p));
	if (smbsess__le16(p + (size_t)(actual - 1) * 2) != 0)
		return ndr_err(SMBSESS_NDR_E_STRING);
	return pull_utf8(ndr, p, actual - 1, s);
}

struct smbsess_status smbsess__ndr_unique_string(struct smbsess__ndr *ndr, int flags, char **s)
{
	if (flags & SMBSESS__NDR_SCALARS) {
		bool present = *s != NULL;

		SMBSESS__CHECK(smbsess__ndr_ptr(ndr, &present));
		if (ndr->pull)
			*s = present ? PRESENT : NULL;
	}
	if ((flags & SMBSESS__NDR_BUFFERS) && *s != NULL) {
		if (ndr->pull)
			*s = NULL;
		SMBSESS__CHECK(smbsess__ndr_string_body(ndr, s));
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_unique_u32(struct smbsess__ndr *ndr, struct smbsess__ndr_opt_u32 *v)
{
	SMBSESS__CHECK(smbsess__ndr_ptr(ndr, &v->present));
	if (v->present)
		SMBSESS__CHECK(smbsess__ndr_u32(ndr, &v->value));
	else if (ndr->pull)
		v->value = 0;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_union_switch(struct smbsess__ndr *ndr, uint32_t level)
{
	uint32_t wire = level;

	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &wire));
	if (wire != level)
		return ndr_err(SMBSESS_NDR_E_SWITCH);
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_struct(struct smbsess__ndr *ndr, int flags, void *value,
					  const struct smbsess__ndr_field *fields)
{
	uint8_t *base = value;

	if (flags & SMBSESS__NDR_SCALARS) {
		SMBSESS__CHECK(smbsess__ndr_align(ndr, 4));
		for (const struct smbsess__ndr_field *f = fields; f->kind != SMBSESS__NDR_F_END; f++) {
			if (f->kind == SMBSESS__NDR_F_U32)
				SMBSESS__CHECK(smbsess__ndr_u32(ndr, (uint32_t *)(void *)(base + f->offset)));
			else
				SMBSESS__CHECK(smbsess__ndr_unique_string(ndr, SMBSESS__NDR_SCALARS,
									  (char **)(void *)(base + f->offset)));
		}
	}
	if (flags & SMBSESS__NDR_BUFFERS) {
		for (const struct smbsess__ndr_field *f = fields; f->kind != SMBSESS__NDR_F_END; f++)
			if (f->kind == SMBSESS__NDR_F_USTR)
				SMBSESS__CHECK(smbsess__ndr_unique_string(ndr, SMBSESS__NDR_BUFFERS,
									  (char **)(void *)(base + f->offset)));
	}
	return SMBSESS__OK;
}

static size_t wire_min(const struct smbsess__ndr_field *fields)
{
	size_t n = 0;

	while (fields[n].kind != SMBSESS__NDR_F_END)
		n++;
	return 4 * n;
}

static struct smbsess_status array_elements(struct smbsess__ndr *ndr, uint32_t count, void *array,
					    const struct smbsess__ndr_type *t)
{
	uint8_t *base = array;

	for (uint32_t i = 0; i < count; i++)
		SMBSESS__CHECK(smbsess__ndr_struct(ndr, SMBSESS__NDR_SCALARS, base + (size_t)i * t->size, t->fields));
	for (uint32_t i = 0; i < count; i++)
		SMBSESS__CHECK(smbsess__ndr_struct(ndr, SMBSESS__NDR_BUFFERS, base + (size_t)i * t->size, t->fields));
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_counted_array(struct smbsess__ndr *ndr, int flags, uint32_t *count,
						 void **array, const struct smbsess__ndr_type *t)
{
	if (flags & SMBSESS__NDR_SCALARS) {
		bool present = *array != NULL;

		if (!ndr->pull && !present && *count != 0)
			return ndr_err(SMBSESS_NDR_E_POINTER);
		SMBSESS__CHECK(smbsess__ndr_align(ndr, 4));
		SMBSESS__CHECK(smbsess__ndr_u32(ndr, count));
		SMBSESS__CHECK(smbsess__ndr_ptr(ndr, &present));
		if (ndr->pull) {
			if (!present && *count != 0)
				return ndr_err(SMBSESS_NDR_E_POINTER);
			*array = present ? PRESENT : NULL;
		}
	}
	if ((flags & SMBSESS__NDR_BUFFERS) && *array != NULL) {
		uint32_t max_count = *count;
		struct smbsess_status st;

		SMBSESS__CHECK(smbsess__ndr_u32(ndr, &max_count));
		if (ndr->pull) {
			*array = NULL;
			if (max_count != *count)
				return ndr_err(SMBSESS_NDR_E_ARRAY_SIZE);
			if (*count > ndr->limits.max_entries)
				return ndr_err(SMBSESS_NDR_E_TOO_MANY);
			if ((uint64_t)*count * wire_min(t->fields) > ndr->len - ndr->ofs)
				return ndr_err(SMBSESS_NDR_E_SHORT);
			SMBSESS__CHECK(charge(ndr, (uint64_t)*count * t->size));
			/* Always a real allocation, so a present empty array stays non-NULL. */
			*array = talloc_zero_size(ndr->mem, (size_t)*count * t->size + 1);
			if (*array == NULL)
				return SMBSESS__ST_NOMEM;
		}
		SMBSESS__CHECK(smbsess__ndr_enter(ndr));
		st = array_elements(ndr, *count, *array, t);
		smbsess__ndr_leave(ndr);
		return st;
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__ndr_push_blob(TALLOC_CTX *mem_ctx, smbsess__ndr_fn fn, void *value,
					     uint8_t **out, size_t *out_len)
{
	struct smbsess__ndr *ndr = smbsess__ndr_push_new(mem_ctx);
	struct smbsess_status st;

	if (ndr == NULL)
		return SMBSESS__ST_NOMEM;
	st = fn(ndr, SMBSESS__NDR_BOTH, value);
	if (smbsess__st_ok(st)) {
		/* Hand over the buffer alone; an empty result still gets one. */
		uint8_t *buf = ndr->data ? ndr->data : talloc_size(ndr, 1);
		if (buf == NULL) {
			st = SMBSESS__ST_NOMEM;
		} else {
			*out = talloc_steal(mem_ctx, buf);
			*out_len = ndr->len;
		}
	}
	talloc_free(ndr);
	return st;
}

struct smbsess_status smbsess__ndr_pull_blob(TALLOC_CTX *mem_ctx, const uint8_t *data, size_t len,
					     const struct smbsess__ndr_limits *limits, smbsess__ndr_fn fn,
					     void *value, size_t value_size)
{
	TALLOC_CTX *owner = talloc_named_const(mem_ctx, 0, "ndr pull");
	struct smbsess__ndr *ndr;
	struct smbsess_status st;

	if (owner == NULL)
		return SMBSESS__ST_NOMEM;
	ndr = smbsess__ndr_pull_new(owner, data, len, limits);
	if (ndr == NULL) {
		talloc_free(owner);
		return SMBSESS__ST_NOMEM;
	}
	st = fn(ndr, SMBSESS__NDR_BOTH, value);
	if (smbsess__st_ok(st))
		st = smbsess__ndr_pull_end(ndr);
	talloc_free(ndr);
	if (!smbsess__st_ok(st)) {
		talloc_free(owner);
		memset(value, 0, value_size);
	}
	return st;
}
