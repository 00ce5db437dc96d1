/*
 * smbnet: --path GLOB, a case-insensitive shell-style pattern over the whole
 * path of an open file. '*' matches any run of characters, backslashes
 * included (so that *\budget.xlsx finds the file in any folder), '?' one
 * character, [abc], [a-z] and [!x] (or [^x]) one of a set. A backslash is
 * a path separator, never an escape. A pattern without wildcards names a
 * file or a folder: it matches that path and every path below it.
 * Characters are compared as Unicode code points folded to lower case
 * (C.UTF-8), so that Ü matches ü.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <locale.h>
#include <string.h>
#include <wctype.h>

#include "smbnet.h"

/* Code points, folded; bytes that are not UTF-8 stand for themselves (above the Unicode range). */
static uint32_t *decode_folded(TALLOC_CTX *mem, const char *s, size_t *n)
{
	static locale_t loc;
	const unsigned char *p = (const unsigned char *)s;
	uint32_t *out = talloc_array(mem, uint32_t, strlen(s) + 1);
	size_t k = 0;

	if (loc == (locale_t)0)
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);

		if (len == 0) {
			cp = 0x110000u + *p;
			len = 1;
		} else if (cp < 0x80) {
			if (cp >= 'A' && cp <= 'Z')
				cp += 'a' - 'A';
		} else if (loc != (locale_t)0) {
			cp = (uint32_t)towlower_l((wint_t)cp, loc);
		}
		out[k++] = cp;
		p += len;
	}
	out[k] = 0;
	*n = k;
	return out;
}

bool glob_has_wildcards(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

/* [set] at pat[*pi] (after the '['); *pi moves past the ']'. -1: not a set (a literal '['). */
static int match_set(const uint32_t *pat, size_t np, size_t *pi, uint32_t c)
{
	size_t i = *pi;
	bool neg = false, hit = false, first = true;

	if (i < np && (pat[i] == '!' || pat[i] == '^')) {
		neg = true;
		i++;
	}
	while (i < np && (pat[i] != ']' || first)) {
		uint32_t lo = pat[i], hi = lo;

		first = false;
		if (i + 2 < np && pat[i + 1] == '-' && pat[i + 2] != ']') {
			hi = pat[i + 2];
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
		i++;
	}
	if (i >= np)
		return -1;
	*pi = i + 1;
	return hit != neg;
}

/* Iterative matching with one backtrack point for the last '*': linear memory, no recursion. */
static bool match(const uint32_t *pat, size_t np, const uint32_t *str, size_t ns)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;

	while (si < ns) {
		if (pi < np && pat[pi] == '*') {
			while (pi < np && pat[pi] == '*')
				pi++;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < np && pat[pi] == '[') {
			size_t after = pi + 1;
			int r = match_set(pat, np, &after, str[si]);

			if (r == 1) {
				pi = after;
				si++;
				continue;
			}
			if (r == -1 && str[si] == '[') {
				pi++;
				si++;
				continue;
			}
		} else if (pi < np && (pat[pi] == '?' || pat[pi] == str[si])) {
			pi++;
			si++;
			continue;
		}
		if (star_p == (size_t)-1)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < np && pat[pi] == '*')
		pi++;
	return pi == np;
}

bool glob_match(const char *pattern, const char *path)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	size_t np, ns;
	uint32_t *pat = decode_folded(tmp, pattern, &np);
	uint32_t *str = decode_folded(tmp, path ? path : "", &ns);
	bool ok = false;

	if (pat != NULL && str != NULL) {
		if (glob_has_wildcards(pattern)) {
			ok = match(pat, np, str, ns);
		} else {
			/* A file or a folder: that path, or below it. */
			while (np > 0 && pat[np - 1] == '\\')
				np--;
			ok = ns >= np && memcmp(pat, str, np * sizeof *pat) == 0 &&
			     (ns == np || str[np] == '\\');
		}
	}
	talloc_free(tmp);
	return ok;
}

char *glob_literal_prefix(TALLOC_CTX *mem, const char *pattern)
{
	size_t n = 0;

	/* Up to the first wildcard, and only ASCII: the server and the library compare without folding. */
	while (pattern[n] != '\0' && strchr("*?[", pattern[n]) == NULL && (unsigned char)pattern[n] < 0x80)
		n++;
	if (!glob_has_wildcards(pattern) && pattern[n] == '\0') {
		/* No wildcard: the whole path names a folder or a file. */
		return talloc_strdup(mem, pattern);
	}
	return n > 0 ? talloc_strndup(mem, pattern, n) : NULL;
}
