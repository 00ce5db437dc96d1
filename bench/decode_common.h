/*
 * The part the two decode benchmarks share (bench/decode_ours.c,
 * bench/decode_samba.c): read the stub, pull it ITERATIONS times with the
 * decoder under test, and print one result line and one check line.
 *
 *   decode_X file|sess STUB.bin [ITERATIONS]
 *
 * Output:
 *   result decoder=X kind=K entries=N bytes=B iterations=I cold_ns=.. ns_median=.. ns_min=..
 *          peak_kb=.. tree_kb=..
 *   check count=N first=... last=...
 * ns values are per entry. cold_ns is the first decode of the process (its
 * memory comes fresh from the kernel), ns_median and ns_min are over the
 * later ones (ITERATIONS - 1 of them, default 7). peak_kb is how much the process's peak RSS (VmHWM) grew
 * during the first decode; tree_kb is talloc's count of the bytes the
 * decoded result holds.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_BENCH_DECODE_COMMON_H
#define SMBSESS_BENCH_DECODE_COMMON_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#define DECODE_MAX_ITERATIONS 100

/* What one decoder provides. */
struct decoder {
	const char *name;
	/* Decodes the whole stub under @p mem; returns the result (a talloc child of mem) or NULL. */
	void *(*pull)(TALLOC_CTX *mem, int sess, uint8_t *data, size_t len);
	/* Prints the check line of a result (without "check "), returns its number of entries; once, untimed. */
	uint32_t (*check)(FILE *f, const void *result, int sess);
};

static uint64_t decode_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's peak resident set (VmHWM), in KiB. */
static long decode_vmhwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static uint8_t *decode_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int decode_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int decode_main(const struct decoder *d, int argc, char **argv)
{
	uint64_t ns[DECODE_MAX_ITERATIONS];
	int iterations = 8, sess;
	size_t len;
	uint8_t *data;
	long hwm0, hwm1 = -1;
	size_t tree = 0;
	uint32_t entries = 0;

	if (argc < 3 || argc > 4 || (strcmp(argv[1], "file") != 0 && strcmp(argv[1], "sess") != 0)) {
		fprintf(stderr, "usage: %s file|sess STUB.bin [ITERATIONS]\n", argv[0]);
		return 2;
	}
	sess = strcmp(argv[1], "sess") == 0;
	if (argc == 4)
		iterations = atoi(argv[3]);
	if (iterations < 2 || iterations > DECODE_MAX_ITERATIONS) {
		fprintf(stderr, "ITERATIONS: 2 to %d\n", DECODE_MAX_ITERATIONS);
		return 2;
	}
	data = decode_read_file(argv[2], &len);
	if (data == NULL) {
		fprintf(stderr, "cannot read %s\n", argv[2]);
		return 2;
	}
	/* touch the input so that its pages count before the first measurement */
	for (size_t i = 0; i < len; i += 4096)
		((volatile uint8_t *)data)[i];
	hwm0 = decode_vmhwm_kb();
	for (int it = 0; it < iterations; it++) {
		TALLOC_CTX *mem = talloc_new(NULL);
		uint64_t t0 = decode_now_ns();
		void *r = d->pull(mem, sess, data, len);
		uint64_t t1 = decode_now_ns();

		if (r == NULL) {
			fprintf(stderr, "%s: decode failed\n", d->name);
			return 1;
		}
		ns[it] = t1 - t0;
		if (it == 0) {
			hwm1 = decode_vmhwm_kb();
			tree = talloc_total_size(mem);
			printf("check ");
			entries = d->check(stdout, r, sess);
			printf("\n");
		}
		talloc_free(mem);
	}
	if (entries == 0) {
		fprintf(stderr, "%s: no entries\n", d->name);
		return 1;
	}
	qsort(ns + 1, (size_t)iterations - 1, sizeof ns[0], decode_cmp_u64);
	printf("result decoder=%s kind=%s entries=%" PRIu32 " bytes=%zu iterations=%d cold_ns=%.1f ns_median=%.1f "
	       "ns_min=%.1f peak_kb=%ld tree_kb=%zu\n",
	       d->name, argv[1], entries, len, iterations, (double)ns[0] / entries,
	       (double)ns[1 + (iterations - 2) / 2] / entries, (double)ns[1] / entries, hwm1 - hwm0, tree / 1024);
	free(data);
	return 0;
}

#endif
