/*
 * smbnet: errors in plain words, and the exit status.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>

#include "smbnet.h"

bool is_access_denied(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_WERROR, WERR_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_NETWORK_ACCESS_DENIED) ||
	       status_is(st, SMBSESS_DOMAIN_RPC, RPC_FAULT_ACCESS_DENIED);
}

bool is_no_such_file(struct smbsess_status st)
{
	return status_is(st, SMBSESS_DOMAIN_WERROR, WERR_NERR_FILE_ID_NOT_FOUND) ||
	       status_is(st, SMBSESS_DOMAIN_WERROR, WERR_FILE_NOT_FOUND);
}

const char *selection(TALLOC_CTX *mem, const struct cli *c)
{
	if (c->client != NULL && c->client_user != NULL)
		return talloc_asprintf(mem, "of user %s from \\\\%s", c->client_user, c->client);
	if (c->client != NULL)
		return talloc_asprintf(mem, "from \\\\%s", c->client);
	if (c->client_user != NULL)
		return talloc_asprintf(mem, "of user %s", c->client_user);
	return "";
}

const char *error_text(TALLOC_CTX *mem, const struct server *s)
{
	return failure_text(mem, s, s->failed_step, s->st, NULL);
}

const char *failure_text(TALLOC_CTX *mem, const struct server *s, enum step step, struct smbsess_status st,
			 const struct action *act)
{
	const struct cli *c = s->app->cli;
	uint32_t id = act ? act->id : c->id;
	const char *what;

	if (is_access_denied(st)) {
		switch (step) {
		case STEP_SESSIONS:
		case STEP_CONNECTIONS:
			return "access denied: listing sessions needs administrator rights on the server";
		case STEP_FILES:
		case STEP_FILE_INFO:
			return "access denied: listing open files needs administrator rights on the server";
		case STEP_DELETE:
			return "access denied: ending sessions needs administrator rights on the server (on Samba: "
			       "root or Domain Admins; Samba also answers so when no session matches)";
		case STEP_CLOSE:
			return "access denied: closing files needs administrator rights on the server (on Samba: "
			       "root or SeDiskOperatorPrivilege)";
		case STEP_CONNECT:
			return "access denied while connecting to the server's IPC$ share";
		}
	}
	if (status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_LOGON_FAILURE))
		return "logon failure: unknown user name or wrong password";
	if (is_no_such_file(st) && (step == STEP_FILE_INFO || step == STEP_CLOSE))
		return talloc_asprintf(mem, "no such file id %" PRIu32 ": no file with that id is open", id);
	if (status_is(st, SMBSESS_DOMAIN_WERROR, WERR_NERR_CLIENT_NAME_NOT_FOUND)) {
		struct cli sel = { .client = act ? act->client : c->client, .client_user = act ? act->user : c->client_user };

		return talloc_asprintf(mem, "no session %s", selection(mem, &sel));
	}
	if (status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNREFUSED))
		return talloc_asprintf(mem, "connection refused: nothing listens on port %u", (unsigned)s->port);
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_TIMEOUT) || status_is(st, SMBSESS_DOMAIN_ERRNO, ETIMEDOUT))
		return talloc_asprintf(mem, "timed out: no answer within %g second%s", c->timeout_ms / 1000.0,
				       c->timeout_ms == 1000 ? "" : "s");
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_HOST_NOT_FOUND))
		return talloc_asprintf(mem, "unknown host: the name %s cannot be resolved", s->host);
	if (status_is(st, SMBSESS_DOMAIN_ERRNO, EHOSTUNREACH) || status_is(st, SMBSESS_DOMAIN_ERRNO, ENETUNREACH))
		return "the host cannot be reached";
	if (step == STEP_CONNECT && (status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_OBJECT_NAME_NOT_FOUND) ||
					       status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_PIPE_NOT_AVAILABLE)))
		return "the server offers no srvsvc pipe (is its Server service running?)";
	if (step == STEP_CONNECT && status_is(st, SMBSESS_DOMAIN_NTSTATUS, NT_BAD_NETWORK_NAME))
		return "the server has no IPC$ share";
	if (status_is(st, SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_BIND_REJECTED) ||
	    status_is(st, SMBSESS_DOMAIN_RPC, RPC_UNKNOWN_INTERFACE))
		return "the server's srvsvc pipe does not serve the srvsvc interface";
	if (is_dropped_connection(st) || status_is(st, SMBSESS_DOMAIN_ERRNO, ECONNABORTED))
		return "the server closed the connection";
	switch (step) {
	case STEP_CONNECT: what = "cannot connect"; break;
	case STEP_SESSIONS:
	case STEP_CONNECTIONS: what = "cannot list the sessions"; break;
	case STEP_FILES: what = "cannot list the open files"; break;
	case STEP_FILE_INFO: what = talloc_asprintf(mem, "cannot read file id %" PRIu32, id); break;
	case STEP_DELETE: what = "cannot end the sessions"; break;
	case STEP_CLOSE: what = talloc_asprintf(mem, "cannot close file id %" PRIu32, id); break;
	default: what = "failed"; break;
	}
	return talloc_asprintf(mem, "%s: %s", what, smbsess_status_message(st));
}

bool server_has_failure(const struct server *s)
{
	if (s->failed)
		return true;
	for (size_t k = 0; k < s->n_acts; k++)
		if (s->acts[k].failed)
			return true;
	return false;
}

/* Where an action's failure happened: ending sessions or closing a file. */
static enum step action_step(const struct app *a)
{
	return a->mode == MODE_SESSION_DELETE ? STEP_DELETE : STEP_CLOSE;
}

void print_errors(TALLOC_CTX *mem, const struct app *a)
{
	for (size_t i = 0; i < a->n_servers; i++) {
		const struct server *s = a->servers[i];

		for (size_t k = 0; k < s->n_acts; k++) {
			const struct action *act = &s->acts[k];

			if (act->failed)
				fprintf(stderr, "%s: %s: %s (%s)\n", progname, text_clean(mem, s->spec),
					text_clean(mem, failure_text(mem, s, action_step(a), act->st, act)),
					smbsess_status_name(act->st));
		}
		if (s->failed)
			fprintf(stderr, "%s: %s: %s (%s)\n", progname, text_clean(mem, s->spec),
				text_clean(mem, error_text(mem, s)), smbsess_status_name(s->st));
	}
}

/* Whether every failure of the server is "access denied". */
static bool only_denied(const struct server *s)
{
	if (s->failed && !is_access_denied(s->st))
		return false;
	for (size_t k = 0; k < s->n_acts; k++)
		if (s->acts[k].failed && !is_access_denied(s->acts[k].st))
			return false;
	return true;
}

int exit_status(const struct app *a)
{
	size_t failed = 0, denied = 0;

	for (size_t i = 0; i < a->n_servers; i++) {
		if (!server_has_failure(a->servers[i]))
			continue;
		failed++;
		if (only_denied(a->servers[i]))
			denied++;
	}
	if (failed == 0)
		return SMBNET_EXIT_OK;
	if (denied == a->n_servers)
		return SMBNET_EXIT_DENIED;
	return SMBNET_EXIT_FAIL;
}
