/*
 * A minimal DER reader and writer for SPNEGO (X.690 8.1: identifier,
 * length, contents).
 */
#include "der.h"

/* No token we read or write comes near this; it bounds every length. */
#define DER_MAX_TOTAL ((size_t)1 << 24)

static struct smbsess_status malformed(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

void smbsess__der_cursor_init(struct smbsess__der_cursor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->depth = 0;
}

/*
 * Decodes the identifier and length at p[0..avail). On success *hdr is the
 * number of identifier and length bytes and *clen the contents length, which
 * is known to fit in avail - *hdr.
 */
static struct smbsess_status read_header(const uint8_t *p, size_t avail, uint8_t *tag,
					 size_t *hdr, size_t *clen)
{
	size_t n, l = 0;

	if (avail < 2)
		return malformed();
	/* High tag numbers (low bits 11111) are not used by SPNEGO. */
	if ((p[0] & 0x1f) == 0x1f)
		return malformed();
	/* Tag 0 of the universal class is end-of-contents, which only BER's indefinite form uses. */
	if (p[0] == 0x00)
		return malformed();
	if (p[1] < 0x80) {
		l = p[1];
		n = 2;
	} else {
		size_t k = p[1] & 0x7f;

		/* 0x80 is the indefinite form; 0xff is reserved (X.690 8.1.3.5). */
		if (k == 0 || k == 0x7f)
			return malformed();
		if (k > 4)
			return malformed();
		if (avail - 2 < k)
			return malformed();
		for (size_t i = 0; i < k; i++)
			l = (l << 8) | p[2 + i];
		n = 2 + k;
	}
	if (l > avail - n)
		return malformed();
	*tag = p[0];
	*hdr = n;
	*clen = l;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__der_next(struct smbsess__der_cursor *c, struct smbsess__der_tlv *out)
{
	uint8_t tag;
	size_t hdr, clen;

	SMBSESS__CHECK(read_header(c->p, c->len, &tag, &hdr, &clen));
	out->tag = tag;
	out->raw = c->p;
	out->raw_len = hdr + clen;
	out->value = c->p + hdr;
	out->len = clen;
	c->p += hdr + clen;
	c->len -= hdr + clen;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__der_expect(struct smbsess__der_cursor *c, uint8_t tag,
					  struct smbsess__der_tlv *out)
{
	struct smbsess__der_cursor save = *c;
	struct smbsess__der_tlv t;

	SMBSESS__CHECK(smbsess__der_next(c, &t));
	if (t.tag != tag) {
		*c = save;
		return malformed();
	}
	*out = t;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__der_enter(const struct smbsess__der_cursor *parent,
					 const struct smbsess__der_tlv *tlv,
					 struct smbsess__der_cursor *child)
{
	if (!(tlv->tag & SMBSESS__DER_CONSTRUCTED))
		return malformed();
	if (parent->depth + 1 > SMBSESS__DER_MAX_DEPTH)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	child->p = tlv->value;
	child->len = tlv->len;
	child->depth = parent->depth + 1;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__der_check(const uint8_t *p, size_t len, unsigned max_depth)
{
	/* ends[d] is the offset where the container at depth d ends; ends[0] is the buffer. */
	size_t ends[SMBSESS__DER_MAX_DEPTH + 1];
	unsigned depth = 0;
	size_t pos = 0;

	if (max_depth > SMBSESS__DER_MAX_DEPTH)
		max_depth = SMBSESS__DER_MAX_DEPTH;
	if (p == NULL && len != 0)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	if (len > DER_MAX_TOTAL)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	ends[0] = len;
	for (;;) {
		uint8_t tag;
		size_t hdr, clen;

		/* Close every container that ends here; each must end exactly. */
		while (depth > 0 && pos == ends[depth])
			depth--;
		if (depth == 0 && pos == len)
			return SMBSESS__OK;
		SMBSESS__CHECK(read_header(p + pos, ends[depth] - pos, &tag, &hdr, &clen));
		if (tag & SMBSESS__DER_CONSTRUCTED) {
			if (depth + 1 > max_depth)
				return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
			depth++;
			ends[depth] = pos + hdr + clen;
			pos += hdr;
		} else {
			pos += hdr + clen;
		}
	}
}

struct smbsess_status smbsess__der_get_uint(const struct smbsess__der_tlv *t, uint32_t *v)
{
	uint32_t x = 0;

	if (t->len == 0 || t->len > 4)
		return malformed();
	/* Negative values are not ours to accept. */
	if (t->value[0] & 0x80)
		return malformed();
	/* Minimal: a leading zero octet only in front of a set high bit. */
	if (t->len > 1 && t->value[0] == 0 && !(t->value[1] & 0x80))
		return malformed();
	for (size_t i = 0; i < t->len; i++)
		x = (x << 8) | t->value[i];
	*v = x;
	return SMBSESS__OK;
}

/* Writes @p v in base 128, high groups first, at out[*pos]. */
static bool put_base128(uint8_t *out, size_t cap, size_t *pos, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v);
	if (cap - *pos < n)
		return false;
	while (n > 0) {
		n--;
		out[(*pos)++] = (uint8_t)(tmp[n] | (n ? 0x80 : 0));
	}
	return true;
}

struct smbsess_status smbsess__der_oid_encode(const uint32_t *arcs, size_t n, uint8_t *out,
					      size_t cap, size_t *len)
{
	size_t pos = 0;

	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	/* X.690 8.19.4: the first two arcs share one subidentifier. */
	if (!put_base128(out, cap, &pos, (uint64_t)arcs[0] * 40 + arcs[1]))
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	for (size_t i = 2; i < n; i++)
		if (!put_base128(out, cap, &pos, arcs[i]))
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	*len = pos;
	return SMBSESS__OK;
}

/* ---- writer ---- */

void smbsess__der_writer_init(struct smbsess__der_writer *w, TALLOC_CTX *mem_ctx)
{
	w->mem = mem_ctx;
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	w->st = SMBSESS__OK;
}

static void fail(struct smbsess__der_writer *w, struct smbsess_status st)
{
	if (smbsess__st_ok(w->st))
		w->st = st;
}

static bool reserve(struct smbsess__der_writer *w, size_t more)
{
	size_t want;
	uint8_t *nb;

	if (!smbsess__st_ok(w->st))
		return false;
	if (more > DER_MAX_TOTAL || w->len > DER_MAX_TOTAL - more) {
		fail(w, SMBSESS__ST_LIB(SMBSESS_E_LIMIT));
		return false;
	}
	want = w->len + more;
	if (want <= w->cap)
		return true;
	if (want < 64)
		want = 64;
	if (want < w->cap * 2)
		want = w->cap * 2;
	nb = talloc_realloc(w->mem, w->buf, uint8_t, want);
	if (nb == NULL) {
		fail(w, SMBSESS__ST_NOMEM);
		return false;
	}
	w->buf = nb;
	w->cap = want;
	return true;
}

static size_t len_size(size_t len)
{
	size_t n = 1;

	if (len < 0x80)
		return 1;
	while (len) {
		n++;
		len >>= 8;
	}
	return n;
}

static void write_len(uint8_t *p, size_t len)
{
	size_t n = len_size(len);

	if (n == 1) {
		p[0] = (uint8_t)len;
		return;
	}
	p[0] = (uint8_t)(0x80 | (n - 1));
	for (size_t i = n - 1; i >= 1; i--) {
		p[i] = (uint8_t)len;
		len >>= 8;
	}
}

void smbsess__der_put(struct smbsess__der_writer *w, uint8_t tag, const uint8_t *value, size_t len)
{
	size_t n;

	if (len > DER_MAX_TOTAL) {
		fail(w, SMBSESS__ST_LIB(SMBSESS_E_LIMIT));
		return;
	}
	n = len_size(len);
	if (!reserve(w, 1 + n + len))
		return;
	w->buf[w->len] = tag;
	write_len(w->buf + w->len + 1, len);
	if (len)
		memcpy(w->buf + w->len + 1 + n, value, len);
	w->len += 1 + n + len;
}

void smbsess__der_put_raw(struct smbsess__der_writer *w, const uint8_t *p, size_t len)
{
	if (!reserve(w, len))
		return;
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

size_t smbsess__der_begin(struct smbsess__der_writer *w, uint8_t tag)
{
	size_t mark = w->len;

	/* A one-byte length placeholder; end() makes room if more are needed. */
	if (!reserve(w, 2))
		return mark;
	w->buf[w->len] = tag;
	w->buf[w->len + 1] = 0;
	w->len += 2;
	return mark;
}

void smbsess__der_end(struct smbsess__der_writer *w, size_t mark)
{
	size_t clen, n;

	if (!smbsess__st_ok(w->st))
		return;
	if (mark + 2 > w->len) {
		fail(w, SMBSESS__ST_LIB(SMBSESS_E_INTERNAL));
		return;
	}
	clen = w->len - (mark + 2);
	n = len_size(clen);
	if (n > 1) {
		if (!reserve(w, n - 1))
			return;
		memmove(w->buf + mark + 1 + n, w->buf + mark + 2, clen);
		w->len += n - 1;
	}
	write_len(w->buf + mark + 1, clen);
}

struct smbsess_status smbsess__der_finish(struct smbsess__der_writer *w, uint8_t **out, size_t *len)
{
	struct smbsess_status st = w->st;

	if (!smbsess__st_ok(st)) {
		smbsess__der_writer_discard(w);
		return st;
	}
	if (w->buf == NULL) {
		/* Nothing written: still hand out a valid (empty) talloc buffer. */
		w->buf = talloc_array(w->mem, uint8_t, 0);
		if (w->buf == NULL)
			return SMBSESS__ST_NOMEM;
	}
	*out = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return SMBSESS__OK;
}

void smbsess__der_writer_discard(struct smbsess__der_writer *w)
{
	TALLOC_FREE(w->buf);
	w->len = w->cap = 0;
}
