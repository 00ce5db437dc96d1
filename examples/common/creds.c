/*
 * Our own credentials (see creds.h).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "creds.h"
#include "text.h"

bool parse_user_string(TALLOC_CTX *mem, const char *s, struct who *w)
{
	const char *pct = strchr(s, '%');
	char *u = talloc_strndup(mem, s, pct ? (size_t)(pct - s) : strlen(s));
	char *sep;

	if (u == NULL)
		return false;
	if (pct != NULL && (w->password = talloc_strdup(mem, pct + 1)) == NULL)
		return false;
	sep = strpbrk(u, "\\/");
	if (sep != NULL) {
		*sep = '\0';
		w->domain = u;
		w->user = sep + 1;
	} else {
		w->user = u;
	}
	return true;
}

bool read_auth_file(TALLOC_CTX *mem, const char *path, struct who *w, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool ok = true;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read the authentication file %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);
		char *eq, *key, *val;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		key = trim(line);
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		if (eq_nocase(key, "username"))
			ok = parse_user_string(mem, val, w);
		else if (eq_nocase(key, "password"))
			ok = (w->password = talloc_strdup(mem, val)) != NULL;
		else if (eq_nocase(key, "domain"))
			ok = (w->domain = talloc_strdup(mem, val)) != NULL;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read the authentication file %s: %s", path, strerror(errno));
		ok = false;
	} else if (!ok) {
		snprintf(err, errlen, "out of memory");
	}
	fclose(f);
	return ok;
}

static const char *login_name(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u != NULL && u[0] != '\0')
		return u;
	pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "";
}

/* Restores the terminal when a signal arrives while echo is off. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

static void restore_tty_and_die(int sig)
{
	if (tty_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Asks for the password on the terminal (stdin) without echo. NULL at end of input. */
static char *prompt_password(TALLOC_CTX *mem, const struct who *w)
{
	struct sigaction sa = { .sa_handler = restore_tty_and_die }, old_int, old_term, old_hup;
	struct termios quiet;
	char buf[1024];
	ssize_t n;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	/* Echo goes off before the prompt shows, so that nothing typed after it is echoed or lost. */
	if (tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
		quiet = saved_tty;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &quiet) == 0)
			tty_saved = 1;
	}
	fprintf(stderr, "Password for %s%s%s: ", w->domain && w->domain[0] ? w->domain : "",
		w->domain && w->domain[0] ? "\\" : "", w->user);
	fflush(stderr);
	n = read_line(STDIN_FILENO, buf, sizeof buf);
	if (tty_saved) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
		tty_saved = 0;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	fputc('\n', stderr);
	if (n < 0)
		return NULL;
	return talloc_strdup(mem, buf);
}

/*
 * -k: with a keytab, Kerberos from it; with a password (from -U or -A),
 * Kerberos only with that password; otherwise the tickets of the
 * credentials cache (KRB5CCNAME honoured), for the principal -U/-A named if
 * they named one.
 */
static struct smbsess_status kerberos_credentials(TALLOC_CTX *mem, const struct creds_args *a, const struct who *w,
						  bool user_named, struct smbsess_credentials **out)
{
	struct smbsess_status st;

	if (a->keytab != NULL) {
		st = smbsess_credentials_new_kerberos(mem, NULL, out);
		if (smbsess_status_is_ok(st))
			st = smbsess_credentials_set_keytab(*out, a->keytab, a->principal);
		return st;
	}
	if (w->password != NULL) {
		st = smbsess_credentials_new(mem, w->domain, w->user, w->password, out);
		if (smbsess_status_is_ok(st))
			st = smbsess_credentials_set_mechs(*out, SMBSESS_MECHS_KERBEROS_ONLY);
		if (smbsess_status_is_ok(st) && a->principal != NULL)
			st = smbsess_credentials_set_principal(*out, a->principal);
		return st;
	}
	st = smbsess_credentials_new_kerberos(mem, NULL, out);
	if (smbsess_status_is_ok(st) && a->principal != NULL) {
		st = smbsess_credentials_set_principal(*out, a->principal);
	} else if (smbsess_status_is_ok(st) && user_named) {
		const char *principal = strchr(w->user, '@') || w->domain == NULL || w->domain[0] == '\0'
					? w->user : talloc_asprintf(mem, "%s@%s", w->user, w->domain);

		st = principal ? smbsess_credentials_set_principal(*out, principal)
			       : make_status(SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM);
	}
	return st;
}

enum creds_result creds_make(TALLOC_CTX *mem, const struct creds_args *a, struct smbsess_credentials **out,
			     char *err, size_t errlen)
{
	struct who w = { 0 };
	struct smbsess_status st;
	bool user_named;

	if (a->auth_file != NULL && !read_auth_file(mem, a->auth_file, &w, err, errlen))
		return CREDS_FAIL;
	if (a->user_arg != NULL && !parse_user_string(mem, a->user_arg, &w)) {
		snprintf(err, errlen, "out of memory");
		return CREDS_FAIL;
	}
	user_named = w.user != NULL && w.user[0] != '\0';
	if (!user_named)
		w.user = login_name();
	if (a->kerberos) {
		st = kerberos_credentials(mem, a, &w, user_named, out);
		if (!smbsess_status_is_ok(st)) {
			snprintf(err, errlen, "Kerberos: %s (%s)", smbsess_status_message(st), smbsess_status_name(st));
			return CREDS_FAIL;
		}
		return CREDS_OK;
	}
	if (w.password == NULL && a->no_pass)
		w.password = "";
	if (w.password == NULL)
		w.password = getenv(CREDS_PASSWORD_ENV);
	if (w.password == NULL && a->may_prompt && isatty(STDIN_FILENO)) {
		w.password = prompt_password(mem, &w);
		if (w.password == NULL) {
			snprintf(err, errlen, "no password given");
			return CREDS_FAIL;
		}
	}
	if (w.password == NULL) {
		snprintf(err, errlen, "no password for %s: %s", w.user,
			 a->no_password_hint ? a->no_password_hint : "give one in $" CREDS_PASSWORD_ENV);
		return CREDS_USAGE;
	}
	st = smbsess_credentials_new(mem, w.domain, w.user, w.password, out);
	if (!smbsess_status_is_ok(st)) {
		snprintf(err, errlen, "%s", smbsess_status_message(st));
		return CREDS_FAIL;
	}
	return CREDS_OK;
}
