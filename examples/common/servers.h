/*
 * Servers as written on a command line or in a list file: HOST, HOST:PORT,
 * [V6ADDRESS] or [V6ADDRESS]:PORT. A server keeps the name it was written
 * with, port included, so that two servers on one host stay apart.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_SERVERS_H
#define EXAMPLES_COMMON_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbsess/smbsess.h>

/* Longest line and most servers a list file may have. */
#define SERVER_LIST_MAX_LINE 1024
#define SERVER_LIST_MAX_SERVERS 100000

/*
 * HOST, HOST:PORT, [V6ADDR] or [V6ADDR]:PORT; a bare IPv6 address (two or
 * more colons) has no port. *port is 0 when none is given. *host is on @p mem.
 */
bool parse_server_spec(TALLOC_CTX *mem, const char *spec, const char **host, uint16_t *port);

/*
 * Reads a list file: one server a line, '#' starts a comment, blank lines
 * are skipped, spaces around a name are ignored. Appends each server (as
 * written) to the talloc array *specs of *n entries, on @p mem. On failure
 * @p err says why ("FILE:LINE: ...") and false is returned.
 */
bool server_list_read(TALLOC_CTX *mem, const char *path, const char ***specs, size_t *n, char *err,
		      size_t errlen);

#endif
