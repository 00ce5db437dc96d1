/*
 * Canonical text dumps of decoded srvsvc structures, shared by the codec
 * tool and the unit tests. The format is specified in tests/vectors/README.md.
 */
#ifndef SMBSESS_TESTS_DUMP_H
#define SMBSESS_TESTS_DUMP_H

#include <stdio.h>

#include "srvsvc/srvsvc.h"

/* The coders and dumpers of one operation direction, by name ("sess_enum", "in"). */
struct codec_op {
	const char *op;
	const char *dir;
	smbsess__ndr_fn fn;
	size_t size;
	void (*dump)(FILE *f, const void *value);
};

const struct codec_op *codec_find(const char *op, const char *dir);

/* Sets the request-supplied level of an out structure that needs one (file_get_info out). */
void codec_set_level(const struct codec_op *c, void *value, uint32_t level);

#endif
