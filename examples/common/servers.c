/*
 * Server names and list files (see servers.h).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "servers.h"
#include "text.h"

bool parse_server_spec(TALLOC_CTX *mem, const char *spec, const char **host, uint16_t *port)
{
	const char *colon;
	uint32_t v;

	*port = 0;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end == spec + 1)
			return false;
		*host = talloc_strndup(mem, spec + 1, (size_t)(end - spec - 1));
		if (end[1] == '\0')
			return *host != NULL;
		if (end[1] != ':' || !parse_u32_dec(end + 2, 65535, &v) || v == 0)
			return false;
		*port = (uint16_t)v;
		return *host != NULL;
	}
	colon = strchr(spec, ':');
	if (colon == NULL || strchr(colon + 1, ':') != NULL) {
		*host = talloc_strdup(mem, spec);
		return *host != NULL && spec[0] != '\0';
	}
	if (colon == spec || !parse_u32_dec(colon + 1, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	*host = talloc_strndup(mem, spec, (size_t)(colon - spec));
	return *host != NULL;
}

bool server_list_read(TALLOC_CTX *mem, const char *path, const char ***specs, size_t *n, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[SERVER_LIST_MAX_LINE + 2];
	unsigned lineno = 0;
	bool ok = true;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read the server list %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);
		char *hash, *item;
		const char *host;
		uint16_t port;
		const char **grown;

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno, SERVER_LIST_MAX_LINE);
			ok = false;
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		item = trim(line);
		if (item[0] == '\0')
			continue;
		if (strpbrk(item, " \t,") != NULL || !parse_server_spec(mem, item, &host, &port)) {
			snprintf(err, errlen, "%s:%u: '%s' is not HOST, HOST:PORT or [ADDRESS]:PORT", path, lineno,
				 text_clean(mem, item));
			ok = false;
			break;
		}
		if (*n >= SERVER_LIST_MAX_SERVERS) {
			snprintf(err, errlen, "%s:%u: more than %d servers", path, lineno, SERVER_LIST_MAX_SERVERS);
			ok = false;
			break;
		}
		grown = talloc_realloc(mem, *specs, const char *, *n + 1);
		if (grown == NULL || (grown[*n] = talloc_strdup(grown, item)) == NULL) {
			if (grown != NULL)
				*specs = grown;
			snprintf(err, errlen, "out of memory");
			ok = false;
			break;
		}
		*specs = grown;
		(*n)++;
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "cannot read the server list %s: %s", path, strerror(errno));
		ok = false;
	}
	fclose(f);
	return ok;
}
