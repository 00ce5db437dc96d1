/*
 * Shared pieces of the libFuzzer harnesses of lib/auth, lib/rpc and
 * lib/smb2: invariant checks that abort() (libFuzzer reports a crash), the
 * talloc leak check around each input, and a reader that splits an input
 * into the pieces a harness needs.
 */
#ifndef SMBSESS_TESTS_FUZZ_COMMON_H
#define SMBSESS_TESTS_FUZZ_COMMON_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's name for messages; each harness sets it in LLVMFuzzerInitialize. */
static const char *fuzz_name = "fuzz";
/* FUZZ_VERBOSE=1: the harness says what it does with an input (for reproducing by hand). */
static bool fuzz_verbose;

static inline void fuzz_init_common(const char *name)
{
	const char *v = getenv("FUZZ_VERBOSE");

	fuzz_name = name;
	fuzz_verbose = v != NULL && strcmp(v, "0") != 0;
}

__attribute__((format(printf, 1, 2))) static inline void fuzz_log(const char *fmt, ...)
{
	va_list ap;

	if (!fuzz_verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", fuzz_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

__attribute__((noreturn, format(printf, 1, 2))) static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: INVARIANT VIOLATED: ", fuzz_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

#define FUZZ_REQUIRE(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/* "NAME (domain D code 0xC)" of a status, in a static buffer. */
static inline const char *fuzz_st(struct smbsess_status st)
{
	static char buf[128];

	snprintf(buf, sizeof buf, "%s (domain %" PRIu32 " code 0x%" PRIx32 ")", smbsess__status_name(st),
		 st.domain, st.code);
	return buf;
}

static inline bool fuzz_st_is_lib(struct smbsess_status st, uint32_t code)
{
	return st.domain == SMBSESS_DOMAIN_LIBRARY && st.code == code;
}

/* The failure is one of the library codes (ints) in the 0-terminated list; SMBSESS_E_NOMEM always is. */
static inline void fuzz_require_lib_error(struct smbsess_status st, const char *what, ...)
{
	va_list ap;
	int code;

	if (fuzz_st_is_lib(st, SMBSESS_E_NOMEM))
		return;
	va_start(ap, what);
	while ((code = va_arg(ap, int)) != 0) {
		if (fuzz_st_is_lib(st, (uint32_t)code)) {
			va_end(ap);
			return;
		}
	}
	va_end(ap);
	fuzz_fail("%s failed with an unexpected status %s", what, fuzz_st(st));
}

/* ---- leak check ---- */

/*
 * Null tracking is on during each input, so every block without a parent
 * hangs off the null context and a leak shows in its count. It is switched
 * off after each input (the null context would otherwise look like a leak
 * to LeakSanitizer at exit).
 */
static size_t fuzz_blocks_before;

static inline void fuzz_leak_begin(void)
{
	talloc_enable_null_tracking();
	fuzz_blocks_before = talloc_total_blocks(NULL);
}

static inline void fuzz_leak_end(void)
{
	size_t now = talloc_total_blocks(NULL);

	if (now != fuzz_blocks_before) {
		talloc_report_full(NULL, stderr);
		fuzz_fail("talloc blocks leaked: %zu before the input, %zu after", fuzz_blocks_before, now);
	}
	talloc_disable_null_tracking();
}

/* ---- shared by the harness sources ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

static inline TALLOC_CTX *must(TALLOC_CTX *p)
{
	if (p == NULL)
		fuzz_fail("out of memory");
	return p;
}

/* One harness of a source file: the TARGET it is built for, and its function. */
struct fuzz_target {
	const char *name;
	void (*fn)(TALLOC_CTX *mem, const uint8_t *data, size_t size);
};

static void (*fuzz_target_fn)(TALLOC_CTX *mem, const uint8_t *data, size_t size);

/* Selects the harness named @p name among @p targets; aborts when there is none. */
static inline void fuzz_select(const char *source, const struct fuzz_target *targets, size_t n,
			       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(targets[i].name, name) == 0)
			fuzz_target_fn = targets[i].fn;
	if (fuzz_target_fn == NULL) {
		fprintf(stderr, "%s: unknown TARGET %s\n", source, name);
		abort();
	}
	{
		static char label[64];

		snprintf(label, sizeof label, "fuzz_%s", name);
		fuzz_init_common(label);
	}
}

/* Runs the selected harness on one input in a fresh talloc context; nothing may leak. */
static inline int fuzz_run_selected(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem;

	fuzz_leak_begin();
	mem = must(talloc_new(NULL));
	fuzz_target_fn(mem, data, size);
	talloc_free(mem);
	fuzz_leak_end();
	return 0;
}

/* A copy of @p p in its own allocation of exactly @p n bytes, so ASan sees any read past it. */
static inline uint8_t *fuzz_dup(TALLOC_CTX *mem, const uint8_t *p, size_t n)
{
	uint8_t *d = talloc_size(mem, n ? n : 1);

	if (d == NULL)
		fuzz_fail("out of memory");
	if (n)
		memcpy(d, p, n);
	return d;
}

/* ---- input reader ---- */

struct fuzz_in {
	const uint8_t *p;
	size_t len;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;

	if (in->len == 0)
		return 0;
	v = in->p[0];
	in->p++;
	in->len--;
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | (fuzz_u8(in) << 8));
}

/* The next @p n bytes, or fewer at the end. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->len)
		n = in->len;
	in->p += n;
	in->len -= n;
	*got = n;
	return p;
}

/* A piece with a 16-bit little-endian length in front (cut short at the end of the input). */
static inline const uint8_t *fuzz_piece(struct fuzz_in *in, size_t *got)
{
	size_t n = fuzz_u16(in);

	return fuzz_bytes(in, n, got);
}

#endif
