/*
 * Small helpers the example programs share: status values, UTF-8, text that
 * is safe on a terminal, its width in columns, and reading a line without
 * stdio. Public API only (<smbsess/smbsess.h>).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_TEXT_H
#define EXAMPLES_COMMON_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <smbsess/smbsess.h>

struct smbsess_status make_status(uint32_t domain, uint32_t code);
bool status_is(struct smbsess_status st, uint32_t domain, uint32_t code);
bool eq_nocase(const char *a, const char *b);

/*
 * One UTF-8 sequence at @p s: its length (1 to 4) with *cp set, or 0 for a
 * byte that does not start a valid, complete, shortest-form sequence of a
 * scalar value. Never reads past a NUL.
 */
size_t utf8_next(const unsigned char *s, uint32_t *cp);

/* A copy of @p s safe to print on a terminal: C0, DEL, C1 and bytes that are not UTF-8 become '?'. NULL is "". */
char *text_clean(TALLOC_CTX *mem, const char *s);
/* Terminal columns of a string made by text_clean(). */
size_t text_columns(const char *s);
/* Writes @p s padded with spaces to @p width columns (on the left when @p right). */
void put_padded(FILE *f, const char *s, size_t width, bool right);

/*
 * Reads one line from @p fd byte by byte (no stdio buffering, so that a
 * prompt and a question can share a terminal), without its end of line; a
 * longer line is read to its end and cut. The length, or -1 at end of
 * input with nothing read.
 */
ssize_t read_line(int fd, char *buf, size_t size);

/* Spaces and tabs off both ends, in place. */
char *trim(char *s);
/* A decimal number of at most @p max, digits only. */
bool parse_u32_dec(const char *s, uint32_t max, uint32_t *out);
/* Seconds as a positive number (fractions allowed) in milliseconds, at most 2^32-1. */
bool parse_seconds_ms(const char *s, uint32_t *ms);

#endif
