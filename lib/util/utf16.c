/*
 * Strict UTF-16LE <-> UTF-8 conversion for NDR strings. A server may send
 * anything: every unit is checked, nothing is guessed or replaced.
 */
#include "util.h"

static struct smbsess_status bad_string(void)
{
	return SMBSESS__ST_NDR(SMBSESS_NDR_E_STRING);
}

struct smbsess_status smbsess__utf16le_utf8_len(const uint8_t *src, size_t units, size_t *len)
{
	size_t need = 0, i = 0;

	/* Names and paths are mostly ASCII: a tight loop first, the general one from the first other unit. */
	while (i < units && src[2 * i + 1] == 0 && src[2 * i] != 0 && src[2 * i] < 0x80)
		i++;
	need = i;
	/* Then validate and measure. At most 3 bytes per unit. */
	for (; i < units; i++) {
		uint16_t u = smbsess__le16(src + 2 * i);

		if (u == 0)
			return bad_string();
		if (u < 0x80)
			need += 1;
		else if (u < 0x800)
			need += 2;
		else if (u >= 0xD800 && u <= 0xDBFF) {
			uint16_t lo;

			if (i + 1 >= units)
				return bad_string();
			lo = smbsess__le16(src + 2 * (i + 1));
			if (lo < 0xDC00 || lo > 0xDFFF)
				return bad_string();
			need += 4;
			i++;
		} else if (u >= 0xDC00 && u <= 0xDFFF)
			return bad_string();
		else
			need += 3;
	}
	*len = need;
	return SMBSESS__OK;
}

void smbsess__utf16le_to_utf8_buf(const uint8_t *src, size_t units, size_t len, char *dst)
{
	size_t o = 0;

	if (len == units) {
		/* All ASCII (the length says so): the low bytes. */
		for (size_t i = 0; i < units; i++)
			dst[i] = (char)src[2 * i];
		dst[units] = '\0';
		return;
	}
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = smbsess__le16(src + 2 * i);

		if (cp >= 0xD800 && cp <= 0xDBFF) {
			uint32_t lo = smbsess__le16(src + 2 * (i + 1));
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		}
		if (cp < 0x80) {
			dst[o++] = (char)cp;
		} else if (cp < 0x800) {
			dst[o++] = (char)(0xC0 | (cp >> 6));
			dst[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			dst[o++] = (char)(0xE0 | (cp >> 12));
			dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			dst[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			dst[o++] = (char)(0xF0 | (cp >> 18));
			dst[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			dst[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	dst[o] = '\0';
}

struct smbsess_status smbsess__utf16le_to_utf8(TALLOC_CTX *mem_ctx, const uint8_t *src,
					       size_t units, char **out)
{
	size_t need;
	char *s;

	SMBSESS__CHECK(smbsess__utf16le_utf8_len(src, units, &need));
	s = talloc_array(mem_ctx, char, need + 1);
	if (s == NULL)
		return SMBSESS__ST_NOMEM;
	smbsess__utf16le_to_utf8_buf(src, units, need, s);
	*out = s;
	return SMBSESS__OK;
}

bool smbsess__utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		*i += 1;
		return true;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1; v = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2; v = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3; v = c & 0x07; min = 0x10000;
	} else {
		return false;
	}
	if (len - *i <= n)
		return false;
	for (size_t k = 1; k <= n; k++) {
		unsigned char cc = s[*i + k];
		if ((cc & 0xC0) != 0x80)
			return false;
		v = (v << 6) | (cc & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return false;
	*cp = v;
	*i += n + 1;
	return true;
}

struct smbsess_status smbsess__utf8_utf16_units(const char *s, size_t len, size_t *units)
{
	size_t i = 0, n = 0;
	uint32_t cp;

	while (i < len) {
		if (!smbsess__utf8_next((const unsigned char *)s, len, &i, &cp) || cp == 0)
			return bad_string();
		n += cp >= 0x10000 ? 2 : 1;
	}
	*units = n;
	return SMBSESS__OK;
}

size_t smbsess__utf8_to_utf16le(const char *s, size_t len, uint8_t *dst)
{
	size_t i = 0, n = 0;
	uint32_t cp;

	while (i < len && smbsess__utf8_next((const unsigned char *)s, len, &i, &cp)) {
		if (cp >= 0x10000) {
			cp -= 0x10000;
			smbsess__put_le16(dst + 2 * n++, (uint16_t)(0xD800 + (cp >> 10)));
			smbsess__put_le16(dst + 2 * n++, (uint16_t)(0xDC00 + (cp & 0x3FF)));
		} else {
			smbsess__put_le16(dst + 2 * n++, (uint16_t)cp);
		}
	}
	return n;
}
