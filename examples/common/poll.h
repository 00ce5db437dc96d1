/*
 * One server asked again and again (smbnet --watch, smbsess_exporter): the
 * connection is kept between polls and made again when it broke; a poll on
 * a kept connection that fails is tried once more on a new one, so that a
 * server that restarted is not taken for down.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_POLL_H
#define EXAMPLES_COMMON_POLL_H

#include <stdbool.h>
#include <stdint.h>

#include <smbsess/smbsess.h>

/* Options for one server: port, -I address (NULL: the name), time limit, policies. */
struct smbsess_status make_options(TALLOC_CTX *mem, uint16_t port, const char *address, uint32_t timeout_ms,
				   enum smbsess_policy signing, enum smbsess_policy encryption,
				   struct smbsess_options **out);

struct poll_target {
	TALLOC_CTX *mem;  /* owns the connection */
	const char *spec; /* as written: names the server everywhere */
	const char *host;
	uint16_t port;
	struct smbsess_options *opts;
	struct smbsess_conn *conn; /* kept between polls; NULL until connected and after a failure */
	uint64_t connects;         /* connections made */
};

enum poll_what { POLL_SESSIONS = 1u, POLL_FILES = 2u };
enum poll_step { POLL_STEP_CONNECT, POLL_STEP_SESSIONS, POLL_STEP_FILES };

/*
 * Connects when needed and enumerates what @p what asks for, with the
 * filters (NULL: none): sessions by @p client and @p user, files by
 * @p base_path and @p user. The target and the credentials must outlive
 * the request; freeing the request cancels it (then free t->conn too).
 */
struct tevent_req *poll_send(TALLOC_CTX *mem, struct tevent_context *ev, struct poll_target *t,
			     const struct smbsess_credentials *creds, unsigned what, const char *client,
			     const char *base_path, const char *user);
/* The lists asked for, on @p mem; on failure *failed_step says which step failed. */
struct smbsess_status poll_recv(struct tevent_req *req, TALLOC_CTX *mem, struct smbsess_session_list **sessions,
				struct smbsess_file_list **files, enum poll_step *failed_step);

#endif
