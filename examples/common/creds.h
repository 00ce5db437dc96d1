/*
 * Our own credentials, as Samba's tools take them: -U [DOMAIN\]USER[%PASSWORD],
 * -A FILE (username=, password=, domain=), $SMBSESS_PASSWORD, a prompt on the
 * terminal, -k for Kerberos (the credentials cache, or a keytab). Shared by
 * smbnet and smbsess_exporter.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_CREDS_H
#define EXAMPLES_COMMON_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include <smbsess/smbsess.h>

#define CREDS_PASSWORD_ENV "SMBSESS_PASSWORD"

struct who {
	const char *domain;
	const char *user;
	const char *password; /* NULL: not given */
};

/* [DOMAIN\]USER[%PASSWORD], with DOMAIN/USER accepted too, as Samba's tools do. */
bool parse_user_string(TALLOC_CTX *mem, const char *s, struct who *w);

/*
 * An authentication file as Samba's -A reads it: "name = value" lines with
 * the names username (which may carry DOMAIN\ and %PASSWORD), password and
 * domain, in any case; other lines are ignored. The value starts after the
 * spaces that follow '=' and runs to the end of the line.
 */
bool read_auth_file(TALLOC_CTX *mem, const char *path, struct who *w, char *err, size_t errlen);

struct creds_args {
	const char *auth_file;  /* -A, or NULL */
	const char *user_arg;   /* -U, or NULL */
	bool kerberos;          /* -k */
	bool no_pass;           /* -N: an empty password, do not ask */
	const char *keytab;     /* with -k: a client keytab instead of the credentials cache */
	const char *principal;  /* with -k: the principal to use */
	bool may_prompt;        /* ask on the terminal when stdin is one */
	const char *no_password_hint; /* where a password can come from, for the error message */
};

enum creds_result { CREDS_OK = 0, CREDS_FAIL = 1, CREDS_USAGE = 2 };

/*
 * Makes *out on @p mem from -A, -U, $SMBSESS_PASSWORD or the terminal (or
 * Kerberos with -k). On failure @p err says why (without a program name).
 */
enum creds_result creds_make(TALLOC_CTX *mem, const struct creds_args *a, struct smbsess_credentials **out,
			     char *err, size_t errlen);

#endif
