/*
 * Helpers shared by the example programs (see text.h).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <unistd.h>

#include "text.h"

struct smbsess_status make_status(uint32_t domain, uint32_t code)
{
	return (struct smbsess_status){ domain, code };
}

bool status_is(struct smbsess_status st, uint32_t domain, uint32_t code)
{
	return st.domain == domain && st.code == code;
}

bool eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * One UTF-8 sequence at @p s: returns its length (1 to 4) and sets *cp, or
 * returns 0 for a byte that does not start a valid, complete, shortest-form
 * sequence of a scalar value. Never reads past a NUL.
 */
size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, c &= 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, c &= 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Columns a code point takes on a terminal: 0 for combining marks, 2 for wide (East Asian, emoji). */
static int cp_columns(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x200B && c <= 0x200F) ||
	    (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE20 && c <= 0xFE2F))
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
	    (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

/*
 * A copy of @p s that is safe to print on a terminal: control characters
 * (C0, DEL and C1) and bytes that are not UTF-8 become '?', so that a name
 * chosen by a remote peer cannot move the cursor or change colours.
 * NULL becomes "".
 */
char *text_clean(TALLOC_CTX *mem, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = talloc_array(mem, char, strlen((const char *)p) + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
			out[o++] = '?';
			p += n ? n : 1;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

/* Terminal columns of a string made by text_clean(). */
size_t text_columns(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0;

	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0) {
			cols++;
			p++;
			continue;
		}
		cols += (size_t)cp_columns(cp);
		p += n;
	}
	return cols;
}

/* Writes @p s and pads it with spaces to @p width columns. */
void put_padded(FILE *f, const char *s, size_t width, bool right)
{
	size_t cols = text_columns(s);

	if (right)
		for (size_t i = cols; i < width; i++)
			putc(' ', f);
	fputs(s, f);
	if (!right)
		for (size_t i = cols; i < width; i++)
			putc(' ', f);
}

/*
 * Reads one line from @p fd byte by byte (no stdio buffering, so that a
 * password prompt and a question can share a terminal), without its end of
 * line. A line longer than @p size - 1 is read to its end and cut. Returns
 * the length, or -1 at end of input with nothing read.
 */
ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	bool any = false;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return any ? (ssize_t)n : -1;
}

char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool parse_u32_dec(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool parse_seconds_ms(const char *s, uint32_t *ms)
{
	char *end;
	double secs;

	errno = 0;
	secs = strtod(s, &end);
	/* NaN fails both comparisons; the upper bound keeps milliseconds in 32 bits. */
	if (errno != 0 || end == s || *end != '\0' || !(secs > 0) || !(secs <= 4294967.0))
		return false;
	*ms = (uint32_t)(secs * 1000.0 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return true;
}
