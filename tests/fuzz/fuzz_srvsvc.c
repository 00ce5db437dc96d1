/*
 * libFuzzer harness for the srvsvc NDR coders. One source, compiled once per
 * coder with -DTARGET=<name> (see meson.build for the list).
 *
 * Every input is pulled with the default limits. On success the value is
 * walked (every string measured and checked to be a talloc chunk, every u32
 * and array element read into a dump), pushed, pulled again and pushed
 * again: the two dumps must be equal, the two pushes byte-identical, and the
 * canonical push at most 7 bytes (trailing padding) shorter than the
 * input. The same input is then pulled with three sets of small limits; a
 * pull that passes there must give the same value and hold no more memory
 * than max_alloc, and one that fails there but passes with the defaults
 * must fail on a limit. Failures must leave no memory and a zeroed value; at the end
 * of every input the talloc tree (null tracking on) has exactly the blocks
 * it had before. Any violation calls abort().
 *
 * file_get_info_out: the first byte is the level the request asked for
 * (2 and 3 exist, anything else is unknown); the rest is the stub.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "srvsvc/srvsvc.h"

#ifndef TARGET
#error "compile with -DTARGET=<coder name>, e.g. -DTARGET=sess_enum_out"
#endif
#define STR_(x) #x
#define STR(x) STR_(x)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum shape {
	S_SESS_ENUM_IN,
	S_FILE_ENUM_IN,
	S_CONN_ENUM_IN,
	S_ENUM_OUT,
	S_FILE_GET_INFO_IN,
	S_FILE_GET_INFO_OUT,
	S_FILE_CLOSE_IN,
	S_SESS_DEL_IN,
	S_RESULT_OUT,
};

struct target {
	const char *name;
	smbsess__ndr_fn fn;
	size_t size;
	enum shape shape;
	enum smbsess__srvsvc_kind kind; /* the container's, where there is one */
};

#define T(n, sh, type, k) { #n, smbsess__srvsvc_##n, sizeof(type), sh, k }
static const struct target targets[] = {
	T(sess_enum_in, S_SESS_ENUM_IN, struct smbsess__srvsvc_sess_enum_in, SMBSESS__SRVSVC_SESSIONS),
	T(sess_enum_out, S_ENUM_OUT, struct smbsess__srvsvc_enum_out, SMBSESS__SRVSVC_SESSIONS),
	T(file_enum_in, S_FILE_ENUM_IN, struct smbsess__srvsvc_file_enum_in, SMBSESS__SRVSVC_FILES),
	T(file_enum_out, S_ENUM_OUT, struct smbsess__srvsvc_enum_out, SMBSESS__SRVSVC_FILES),
	T(conn_enum_in, S_CONN_ENUM_IN, struct smbsess__srvsvc_conn_enum_in, SMBSESS__SRVSVC_CONNECTIONS),
	T(conn_enum_out, S_ENUM_OUT, struct smbsess__srvsvc_enum_out, SMBSESS__SRVSVC_CONNECTIONS),
	T(file_get_info_in, S_FILE_GET_INFO_IN, struct smbsess__srvsvc_file_get_info_in, SMBSESS__SRVSVC_FILES),
	T(file_get_info_out, S_FILE_GET_INFO_OUT, struct smbsess__srvsvc_file_get_info_out, SMBSESS__SRVSVC_FILES),
	T(file_close_in, S_FILE_CLOSE_IN, struct smbsess__srvsvc_file_close_in, SMBSESS__SRVSVC_FILES),
	T(sess_del_in, S_SESS_DEL_IN, struct smbsess__srvsvc_sess_del_in, SMBSESS__SRVSVC_SESSIONS),
	T(result_out, S_RESULT_OUT, struct smbsess__srvsvc_result_out, SMBSESS__SRVSVC_SESSIONS),
};
#undef T

union value {
	struct smbsess__srvsvc_sess_enum_in sess_enum_in;
	struct smbsess__srvsvc_file_enum_in file_enum_in;
	struct smbsess__srvsvc_conn_enum_in conn_enum_in;
	struct smbsess__srvsvc_enum_out enum_out;
	struct smbsess__srvsvc_file_get_info_in fgi_in;
	struct smbsess__srvsvc_file_get_info_out fgi_out;
	struct smbsess__srvsvc_file_close_in file_close_in;
	struct smbsess__srvsvc_sess_del_in sess_del_in;
	struct smbsess__srvsvc_result_out result_out;
};

/*
 * Small limits, each input is pulled with every set: "tight" (a plausible
 * configuration), "tiny" (reachable with inputs of a few hundred bytes, so
 * the entry, string and allocation limits all trip) and "shallow" (depth 1:
 * every present array is refused on depth, after its count was checked).
 */
static const struct smbsess__ndr_limits small_limits[] = {
	{ .max_entries = 100, .max_string_units = 256, .max_alloc = 64 * 1024, .max_depth = 16 },
	{ .max_entries = 4, .max_string_units = 16, .max_alloc = 512, .max_depth = 16 },
	{ .max_entries = 1000000, .max_string_units = 65536, .max_alloc = 512 * 1024 * 1024, .max_depth = 1 },
};
/*
 * Bytes a decode may hold beyond what it charged: the array allocation has
 * one byte more than its entries so an empty array is non-NULL.
 */
#define ALLOC_SLACK 16

static const struct target *tgt;
static bool verbose; /* FUZZ_VERBOSE=1: print each decode, for reproducing by hand */

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_%s: INVARIANT VIOLATED: %s%s%s\n", tgt->name, what,
		detail ? ": " : "", detail ? detail : "");
	abort();
}

static void require(bool cond, const char *what)
{
	if (!cond)
		fail(what, NULL);
}

/* ---- dump: every member, in a string; walking it touches every byte ---- */

/* What the last dump saw, for the limit boundaries. */
static struct {
	uint32_t max_units; /* UTF-16 units of the longest string, terminator included; 0: none */
	uint32_t count;     /* entries of the container; 0: none */
} walked;

/* UTF-16 units of a valid UTF-8 string: one per code point, two from U+10000. */
static uint32_t utf16_units(const char *s)
{
	uint32_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n++;
		if (*p >= 0xF0)
			n++;
	}
	return n;
}

static char *addf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *addf(char *buf, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = talloc_vasprintf_append_buffer(buf, fmt, ap);
	va_end(ap);
	if (s == NULL)
		fail("out of memory in dump", NULL);
	return s;
}

static char *dump_str(char *buf, const char *name, const char *s)
{
	size_t len;

	if (s == NULL)
		return addf(buf, "%s=(null)\n", name);
	/*
	 * Decoded strings share chunks of the decode (lib/ndr); AddressSanitizer
	 * catches a string that runs past its chunk here.
	 */
	len = strlen(s);
	if (utf16_units(s) + 1 > walked.max_units)
		walked.max_units = utf16_units(s) + 1;
	return addf(buf, "%s=%zu:%s\n", name, len, s);
}

static char *dump_u32(char *buf, const char *name, uint32_t v)
{
	return addf(buf, "%s=%" PRIu32 "\n", name, v);
}

static char *dump_opt(char *buf, const char *name, const struct smbsess__ndr_opt_u32 *v)
{
	if (!v->present && v->value != 0)
		fail("absent unique u32 with a non-zero value", name);
	return addf(buf, "%s=%s%" PRIu32 "\n", name, v->present ? "" : "absent/", v->value);
}

/* Members outside @p fields must be zero: a level codes only its own members. */
static void check_level_members(const void *info, size_t size, const struct smbsess__ndr_field *fields)
{
	unsigned char tmp[128];

	require(size <= sizeof tmp, "info structure larger than the check buffer");
	memcpy(tmp, info, size);
	for (const struct smbsess__ndr_field *f = fields; f && f->kind != SMBSESS__NDR_F_END; f++)
		memset(tmp + f->offset, 0, f->kind == SMBSESS__NDR_F_U32 ? sizeof(uint32_t) : sizeof(char *));
	for (size_t i = 0; i < size; i++)
		if (tmp[i] != 0)
			fail("member outside the level's field table is set", NULL);
}

static char *dump_info(char *buf, enum smbsess__srvsvc_kind kind, const void *e)
{
	switch (kind) {
	case SMBSESS__SRVSVC_SESSIONS: {
		const struct smbsess__srvsvc_sess_info *i = e;
		buf = dump_str(buf, " client", i->client);
		buf = dump_str(buf, " user", i->user);
		buf = dump_u32(buf, " num_open", i->num_open);
		buf = dump_u32(buf, " time", i->time);
		buf = dump_u32(buf, " idle_time", i->idle_time);
		buf = dump_u32(buf, " user_flags", i->user_flags);
		buf = dump_str(buf, " client_type", i->client_type);
		return dump_str(buf, " transport", i->transport);
	}
	case SMBSESS__SRVSVC_FILES: {
		const struct smbsess__srvsvc_file_info *i = e;
		buf = dump_u32(buf, " fid", i->fid);
		buf = dump_u32(buf, " permissions", i->permissions);
		buf = dump_u32(buf, " num_locks", i->num_locks);
		buf = dump_str(buf, " path", i->path);
		return dump_str(buf, " user", i->user);
	}
	case SMBSESS__SRVSVC_CONNECTIONS: {
		const struct smbsess__srvsvc_conn_info *i = e;
		buf = dump_u32(buf, " conn_id", i->conn_id);
		buf = dump_u32(buf, " conn_type", i->conn_type);
		buf = dump_u32(buf, " num_open", i->num_open);
		buf = dump_u32(buf, " num_users", i->num_users);
		buf = dump_u32(buf, " conn_time", i->conn_time);
		buf = dump_str(buf, " user", i->user);
		return dump_str(buf, " share", i->share);
	}
	}
	fail("unknown kind", NULL);
	return buf;
}

static char *dump_ctr(char *buf, enum smbsess__srvsvc_kind kind, const struct smbsess__srvsvc_ctr *c)
{
	const struct smbsess__ndr_field *fields = smbsess__srvsvc_fields(kind, c->level);
	size_t size = smbsess__srvsvc_info_size(kind);
	const uint8_t *a = c->array;

	buf = dump_u32(buf, "ctr.level", c->level);
	buf = addf(buf, "ctr.present=%d\nctr.count=%" PRIu32 "\nctr.array=%s\n", (int)c->present, c->count,
		   a ? "set" : "(null)");
	if (fields == NULL && (c->present || c->count || a))
		fail("unknown level with a container", NULL);
	if (!c->present && (c->count || a))
		fail("absent container arm with entries", NULL);
	if (c->count && a == NULL)
		fail("non-zero count without an array", NULL);
	if (a == NULL)
		return buf;
	walked.count = c->count;
	if (talloc_get_size(a) < (size_t)c->count * size)
		fail("array smaller than count entries", NULL);
	for (uint32_t n = 0; n < c->count; n++) {
		buf = addf(buf, "ctr.array[%" PRIu32 "]\n", n);
		check_level_members(a + (size_t)n * size, size, fields);
		buf = dump_info(buf, kind, a + (size_t)n * size);
	}
	return buf;
}

static char *dump_value(TALLOC_CTX *mem, const union value *v)
{
	char *buf = talloc_strdup(mem, "");

	walked.max_units = 0;
	walked.count = 0;
	if (buf == NULL)
		fail("out of memory in dump", NULL);
	switch (tgt->shape) {
	case S_SESS_ENUM_IN:
		buf = dump_str(buf, "server_unc", v->sess_enum_in.server_unc);
		buf = dump_str(buf, "client", v->sess_enum_in.client);
		buf = dump_str(buf, "user", v->sess_enum_in.user);
		buf = dump_ctr(buf, tgt->kind, &v->sess_enum_in.ctr);
		buf = dump_u32(buf, "max_buffer", v->sess_enum_in.max_buffer);
		return dump_opt(buf, "resume_handle", &v->sess_enum_in.resume_handle);
	case S_FILE_ENUM_IN:
		buf = dump_str(buf, "server_unc", v->file_enum_in.server_unc);
		buf = dump_str(buf, "path", v->file_enum_in.path);
		buf = dump_str(buf, "user", v->file_enum_in.user);
		buf = dump_ctr(buf, tgt->kind, &v->file_enum_in.ctr);
		buf = dump_u32(buf, "max_buffer", v->file_enum_in.max_buffer);
		return dump_opt(buf, "resume_handle", &v->file_enum_in.resume_handle);
	case S_CONN_ENUM_IN:
		buf = dump_str(buf, "server_unc", v->conn_enum_in.server_unc);
		buf = dump_str(buf, "path", v->conn_enum_in.path);
		buf = dump_ctr(buf, tgt->kind, &v->conn_enum_in.ctr);
		buf = dump_u32(buf, "max_buffer", v->conn_enum_in.max_buffer);
		return dump_opt(buf, "resume_handle", &v->conn_enum_in.resume_handle);
	case S_ENUM_OUT:
		buf = dump_ctr(buf, tgt->kind, &v->enum_out.ctr);
		buf = dump_u32(buf, "totalentries", v->enum_out.totalentries);
		buf = dump_opt(buf, "resume_handle", &v->enum_out.resume_handle);
		return dump_u32(buf, "result", v->enum_out.result);
	case S_FILE_GET_INFO_IN:
		buf = dump_str(buf, "server_unc", v->fgi_in.server_unc);
		buf = dump_u32(buf, "fid", v->fgi_in.fid);
		return dump_u32(buf, "level", v->fgi_in.level);
	case S_FILE_GET_INFO_OUT: {
		const struct smbsess__ndr_field *fields =
			smbsess__srvsvc_fields(SMBSESS__SRVSVC_FILES, v->fgi_out.level);

		buf = dump_u32(buf, "level", v->fgi_out.level);
		buf = addf(buf, "present=%d\n", (int)v->fgi_out.present);
		if (fields == NULL && v->fgi_out.present)
			fail("unknown level with an info arm", NULL);
		/* An absent arm leaves no member set; a present one only its level's. */
		check_level_members(&v->fgi_out.info, sizeof v->fgi_out.info,
				    v->fgi_out.present ? fields : NULL);
		buf = dump_info(buf, SMBSESS__SRVSVC_FILES, &v->fgi_out.info);
		return dump_u32(buf, "result", v->fgi_out.result);
	}
	case S_FILE_CLOSE_IN:
		buf = dump_str(buf, "server_unc", v->file_close_in.server_unc);
		return dump_u32(buf, "fid", v->file_close_in.fid);
	case S_SESS_DEL_IN:
		buf = dump_str(buf, "server_unc", v->sess_del_in.server_unc);
		buf = dump_str(buf, "client", v->sess_del_in.client);
		return dump_str(buf, "user", v->sess_del_in.user);
	case S_RESULT_OUT:
		return dump_u32(buf, "result", v->result_out.result);
	}
	fail("unknown shape", NULL);
	return buf;
}

/* ---- pull, push ---- */

static void describe(struct smbsess_status st, char *buf, size_t size)
{
	snprintf(buf, size, "domain %" PRIu32 " code %" PRIu32, st.domain, st.code);
}

/*
 * Pulls @p data into @p v on a new child of @p scratch, which is returned
 * through @p mem (freed, and NULL, on failure). Checks the failure contract.
 */
static struct smbsess_status pull(TALLOC_CTX *scratch, const uint8_t *data, size_t size,
				  const struct smbsess__ndr_limits *limits, uint32_t level, union value *v,
				  TALLOC_CTX **mem)
{
	struct smbsess_status st;
	TALLOC_CTX *m = talloc_new(scratch);

	if (m == NULL)
		fail("out of memory", NULL);
	memset(v, 0, sizeof *v);
	if (tgt->shape == S_FILE_GET_INFO_OUT)
		v->fgi_out.level = level;
	st = smbsess__ndr_pull_blob(m, data, size, limits, tgt->fn, v, tgt->size);
	if (smbsess__st_ok(st)) {
		const struct smbsess__ndr_limits *l = limits ? limits : &smbsess__ndr_default_limits;

		if (talloc_total_size(m) > l->max_alloc + ALLOC_SLACK)
			fail("decode holds more memory than max_alloc", NULL);
		*mem = m;
		return st;
	}
	if (st.domain != SMBSESS_DOMAIN_NDR &&
	    !(st.domain == SMBSESS_DOMAIN_LIBRARY && st.code == SMBSESS_E_NOMEM)) {
		char d[64];
		describe(st, d, sizeof d);
		fail("pull failed outside the NDR domain", d);
	}
	if (talloc_total_blocks(m) != 1)
		fail("failed pull left memory on the context", NULL);
	for (size_t i = 0; i < tgt->size; i++)
		if (((const uint8_t *)v)[i] != 0)
			fail("failed pull did not zero the value", NULL);
	talloc_free(m);
	*mem = NULL;
	return st;
}

static void push(TALLOC_CTX *scratch, union value *v, uint8_t **out, size_t *out_len)
{
	TALLOC_CTX *m = talloc_new(scratch);
	struct smbsess_status st;

	if (m == NULL)
		fail("out of memory", NULL);
	*out = NULL;
	st = smbsess__ndr_push_blob(m, tgt->fn, v, out, out_len);
	if (!smbsess__st_ok(st)) {
		char d[64];
		describe(st, d, sizeof d);
		fail("push of a pulled value failed", d);
	}
	if (*out == NULL || talloc_parent(*out) != m || talloc_total_blocks(m) != 2)
		fail("push_blob left more than its output on the context", NULL);
}

static bool limit_error(struct smbsess_status st)
{
	return st.domain == SMBSESS_DOMAIN_NDR &&
	       (st.code == SMBSESS_NDR_E_TOO_MANY || st.code == SMBSESS_NDR_E_ALLOC_LIMIT ||
		st.code == SMBSESS_NDR_E_DEPTH);
}

static void limited(TALLOC_CTX *scratch, const uint8_t *data, size_t size, uint32_t level,
		    const struct smbsess__ndr_limits *limits, struct smbsess_status st0, const char *dump0)
{
	union value v;
	TALLOC_CTX *mem;
	struct smbsess_status st = pull(scratch, data, size, limits, level, &v, &mem);

	if (verbose)
		fprintf(stderr, "pull with max_entries %" PRIu32 ", max_alloc %zu: domain %" PRIu32 " code %" PRIu32 "\n",
			limits->max_entries, limits->max_alloc, st.domain, st.code);
	if (smbsess__st_ok(st)) {
		char *d;

		if (!smbsess__st_ok(st0))
			fail("pull passes with small limits but fails with the defaults", NULL);
		d = dump_value(scratch, &v);
		if (strcmp(d, dump0) != 0)
			fail("small limits decode a different value", NULL);
		talloc_free(d);
		talloc_free(mem);
	} else if (smbsess__st_ok(st0) && !limit_error(st)) {
		char d[64];
		describe(st, d, sizeof d);
		fail("small limits fail without a limit error", d);
	}
}

/*
 * Limits just below what a decode needs must refuse it, on that limit:
 * max_alloc one byte under the memory it holds (less the slack), max_entries
 * one under its count, max_string_units one under its longest string. A
 * max_entries of exactly the count must pass with the same value.
 */
static void boundaries(TALLOC_CTX *scratch, const uint8_t *data, size_t size, uint32_t level,
		       size_t held, uint32_t count, uint32_t max_units, const char *dump0)
{
	struct smbsess__ndr_limits l;
	union value v;
	TALLOC_CTX *mem;
	struct smbsess_status st;

	if (held > ALLOC_SLACK) {
		l = smbsess__ndr_default_limits;
		l.max_alloc = held - ALLOC_SLACK - 1;
		st = pull(scratch, data, size, &l, level, &v, &mem);
		if (!smbsess__st_equal(st, SMBSESS__ST_NDR(SMBSESS_NDR_E_ALLOC_LIMIT)))
			fail("max_alloc below the memory a decode holds does not fail with ALLOC_LIMIT", NULL);
	}
	if (count > 0) {
		char *d;

		l = smbsess__ndr_default_limits;
		l.max_entries = count - 1;
		st = pull(scratch, data, size, &l, level, &v, &mem);
		if (!smbsess__st_equal(st, SMBSESS__ST_NDR(SMBSESS_NDR_E_TOO_MANY)))
			fail("max_entries below the count does not fail with TOO_MANY", NULL);
		l.max_entries = count;
		st = pull(scratch, data, size, &l, level, &v, &mem);
		if (!smbsess__st_ok(st))
			fail("max_entries equal to the count fails", NULL);
		d = dump_value(scratch, &v);
		if (strcmp(d, dump0) != 0)
			fail("max_entries equal to the count decodes a different value", NULL);
		talloc_free(d);
		talloc_free(mem);
	}
	if (max_units > 0) {
		l = smbsess__ndr_default_limits;
		l.max_string_units = max_units - 1;
		st = pull(scratch, data, size, &l, level, &v, &mem);
		if (!smbsess__st_equal(st, SMBSESS__ST_NDR(SMBSESS_NDR_E_TOO_MANY)))
			fail("max_string_units below the longest string does not fail with TOO_MANY", NULL);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(targets[i].name, STR(TARGET)) == 0)
			tgt = &targets[i];
	if (tgt == NULL) {
		fprintf(stderr, "fuzz_srvsvc: unknown TARGET %s\n", STR(TARGET));
		abort();
	}
	verbose = getenv("FUZZ_VERBOSE") != NULL && strcmp(getenv("FUZZ_VERBOSE"), "0") != 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t level = 0;
	size_t blocks_before;
	TALLOC_CTX *scratch, *mem1, *mem2;
	union value v1, v2;
	struct smbsess_status st;
	char *dump1 = NULL;

	if (tgt->shape == S_FILE_GET_INFO_OUT) {
		if (size < 1)
			return 0;
		level = data[0];
		data++;
		size--;
	}
	/*
	 * Every allocation without a parent hangs off the null context while
	 * tracking is on, so a leak shows in its block count. Tracking is
	 * switched off again after each input: the null context is a zero-size
	 * chunk whose only pointer points past its end, which LeakSanitizer
	 * would report at exit.
	 */
	talloc_enable_null_tracking();
	blocks_before = talloc_total_blocks(NULL);
	scratch = talloc_new(NULL);
	if (scratch == NULL)
		fail("out of memory", NULL);

	st = pull(scratch, data, size, NULL, level, &v1, &mem1);
	if (verbose) {
		fprintf(stderr, "%s: %zu bytes", tgt->name, size);
		if (tgt->shape == S_FILE_GET_INFO_OUT)
			fprintf(stderr, " after the level byte %" PRIu32, level);
		fprintf(stderr, ", pull with the defaults: domain %" PRIu32 " code %" PRIu32 "\n", st.domain, st.code);
	}
	if (smbsess__st_ok(st)) {
		size_t held = talloc_total_size(mem1), n2, n3;
		uint32_t count, max_units;
		uint8_t *b2, *b3;
		char *dump2;

		dump1 = dump_value(scratch, &v1);
		count = walked.count;
		max_units = walked.max_units;
		if (verbose)
			fprintf(stderr, "%s(holds %zu bytes, %" PRIu32 " entries, longest string %" PRIu32 " units)\n",
				dump1, held, count, max_units);
		push(scratch, &v1, &b2, &n2);
		/* Same items, same sizes: only up to 7 bytes of trailing padding can go. */
		if (n2 > size || size - n2 >= 8)
			fail("canonical push differs in length from the input", NULL);
		if (!smbsess__st_ok(pull(scratch, b2, n2, NULL, level, &v2, &mem2)))
			fail("pull of our own push failed", NULL);
		dump2 = dump_value(scratch, &v2);
		if (strcmp(dump1, dump2) != 0) {
			fprintf(stderr, "first decode:\n%s\nsecond decode:\n%s\n", dump1, dump2);
			fail("round trip changed the value", NULL);
		}
		push(scratch, &v2, &b3, &n3);
		if (n2 != n3 || memcmp(b2, b3, n2) != 0)
			fail("push is not stable across a round trip", NULL);
		talloc_free(mem2);
		talloc_free(mem1);
		boundaries(scratch, data, size, level, held, count, max_units, dump1);
	}

	for (size_t i = 0; i < sizeof small_limits / sizeof small_limits[0]; i++)
		limited(scratch, data, size, level, &small_limits[i], st, dump1);

	talloc_free(scratch);
	if (talloc_total_blocks(NULL) != blocks_before)
		fail("talloc blocks leaked", NULL);
	talloc_disable_null_tracking();
	return 0;
}
