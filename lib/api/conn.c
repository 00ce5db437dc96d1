/*
 * smbsess_connect: TCP, NEGOTIATE, SESSION_SETUP, then TREE_CONNECT IPC$,
 * CREATE \srvsvc and the bind in one compound; smbsess_disconnect: CLOSE,
 * TREE_DISCONNECT and LOGOFF in one.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "api.h"

struct connect_state {
	struct tevent_context *ev;
	struct smbsess_conn *conn;
	struct smbsess__creds *creds;
	struct smbsess__rpc_transport *transport;
};

static void connect_tcp_done(struct tevent_req *subreq);
static void connect_negotiate_done(struct tevent_req *subreq);
static void connect_session_done(struct tevent_req *subreq);
static void connect_bind_done(struct tevent_req *subreq);

/*
 * A connection made by the blocking smbsess_connect owns its event context:
 * everything that lives on that context must go before the context does.
 */
static int conn_destructor(struct smbsess_conn *c)
{
	struct tevent_context *ev = c->own_ev;

	if (ev != NULL) {
		talloc_steal(NULL, ev);
		talloc_free_children(c);
		talloc_free(ev);
	}
	return 0;
}

static struct smbsess_conn *conn_alloc(TALLOC_CTX *mem_ctx, struct tevent_context *ev, const char *server,
				       const struct smbsess_options *opts)
{
	struct smbsess_conn *conn = talloc_zero(mem_ctx, struct smbsess_conn);

	if (conn == NULL)
		return NULL;
	conn->ev = ev;
	talloc_set_destructor(conn, conn_destructor);
	if (opts != NULL) {
		conn->opts = *opts;
		conn->opts.address = opts->address ? talloc_strdup(conn, opts->address) : NULL;
	} else {
		smbsess__options_defaults(&conn->opts);
	}
	conn->server = talloc_strdup(conn, server);
	conn->server_unc = talloc_asprintf(conn, "\\\\%s", server);
	if (conn->server == NULL || conn->server_unc == NULL || (opts && opts->address && !conn->opts.address)) {
		talloc_free(conn);
		return NULL;
	}
	return conn;
}

SMBSESS_API struct tevent_req *smbsess_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    const char *server,
						    const struct smbsess_credentials *creds,
						    const struct smbsess_options *opts)
{
	struct tevent_req *req, *subreq;
	struct connect_state *s;
	const char *host;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct connect_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	if (server == NULL || server[0] == '\0' || creds == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	s->conn = conn_alloc(s, ev, server, opts);
	if (tevent_req_nomem(s->conn, req))
		return tevent_req_post(req, ev);
	if (smbsess__req_nok(req, smbsess__creds_copy(s, creds->creds, &s->creds)))
		return tevent_req_post(req, ev);
	if (!smbsess__req_set_timeout(req, ev, s->conn->opts.timeout_ms)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	host = s->conn->opts.address ? s->conn->opts.address : server;
	subreq = smbsess__tcp_connect_send(s, ev, host, s->conn->opts.port, s->conn->opts.timeout_ms);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, connect_tcp_done, req);
	return req;
}

static void connect_tcp_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct connect_state *s = tevent_req_data(req, struct connect_state);
	struct smbsess_conn *conn = s->conn;
	struct smbsess__smb2_options o = {
		.min_dialect = conn->opts.min_dialect,
		.max_dialect = conn->opts.max_dialect,
		.signing = conn->opts.signing == SMBSESS_POLICY_REQUIRED ? SMBSESS__SMB2_POLICY_REQUIRED
									  : SMBSESS__SMB2_POLICY_AUTO,
		.encryption = conn->opts.encryption == SMBSESS_POLICY_REQUIRED ? SMBSESS__SMB2_POLICY_REQUIRED
			      : conn->opts.encryption == SMBSESS_POLICY_OFF	 ? SMBSESS__SMB2_POLICY_OFF
										 : SMBSESS__SMB2_POLICY_AUTO,
		.timeout_ms = conn->opts.timeout_ms,
	};
	int fd = -1;

	if (smbsess__req_nok(req, smbsess__tcp_connect_recv(subreq, &fd)))
		return;
	TALLOC_FREE(subreq);
	conn->smb2 = smbsess__smb2_conn_new(conn, s->ev, fd, conn->server, &o);
	if (conn->smb2 == NULL) {
		close(fd);
		tevent_req_oom(req);
		return;
	}
	subreq = smbsess__smb2_negotiate_send(s, s->ev, conn->smb2);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, connect_negotiate_done, req);
}

static void connect_negotiate_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct connect_state *s = tevent_req_data(req, struct connect_state);

	if (smbsess__req_nok(req, smbsess__smb2_negotiate_recv(subreq)))
		return;
	TALLOC_FREE(subreq);
	subreq = smbsess__smb2_session_setup_send(s, s->ev, s->conn->smb2, s->creds);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, connect_session_done, req);
}

static void connect_session_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct connect_state *s = tevent_req_data(req, struct connect_state);

	if (smbsess__req_nok(req, smbsess__smb2_session_setup_recv(subreq, &s->conn->session)))
		return;
	s->conn->anonymous = smbsess__creds_is_anonymous(s->creds);
	TALLOC_FREE(subreq);
	/* The pipe opens with the bind: TREE_CONNECT IPC$ + CREATE \srvsvc + IOCTL, one round trip. */
	s->transport = smbsess__rpc_smb2_pipe_new(s->conn, s->ev, s->conn->session, "IPC$", "srvsvc");
	if (tevent_req_nomem(s->transport, req))
		return;
	subreq = smbsess__rpc_bind_send(s, s->ev, s->transport, smbsess__rpc_srvsvc_uuid,
					SMBSESS__SRVSVC_VERSION_MAJOR, SMBSESS__SRVSVC_VERSION_MINOR,
					s->conn->opts.timeout_ms);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, connect_bind_done, req);
}

static void connect_bind_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct connect_state *s = tevent_req_data(req, struct connect_state);

	if (smbsess__req_nok(req, smbsess__rpc_bind_recv(subreq, s->conn, &s->conn->pipe)))
		return;
	TALLOC_FREE(subreq);
	s->conn->transport = s->transport;
	s->conn->tree = smbsess__rpc_smb2_tree(s->transport);
	tevent_req_done(req);
}

SMBSESS_API struct smbsess_status smbsess_connect_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						       struct smbsess_conn **conn)
{
	struct connect_state *s;
	struct smbsess_status st;

	if (req == NULL || conn == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	s = tevent_req_data(req, struct connect_state);
	st = smbsess__req_status(req);
	if (smbsess__st_ok(st))
		*conn = talloc_steal(mem_ctx, s->conn);
	tevent_req_received(req);
	return st;
}

struct smbsess_status smbsess__api_wait(struct smbsess_conn *conn, struct tevent_req *req)
{
	if (req == NULL)
		return SMBSESS__ST_NOMEM;
	if (!tevent_req_poll(req, conn->ev))
		return SMBSESS__ST_ERRNO(errno ? errno : EIO);
	return SMBSESS__OK;
}

SMBSESS_API struct smbsess_status smbsess_connect(TALLOC_CTX *mem_ctx, const char *server,
						  const struct smbsess_credentials *creds,
						  const struct smbsess_options *opts, struct smbsess_conn **conn)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct tevent_context *ev;
	struct tevent_req *req;
	struct smbsess_status st;

	if (tmp == NULL)
		return SMBSESS__ST_NOMEM;
	if (conn == NULL) {
		talloc_free(tmp);
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	}
	ev = tevent_context_init(tmp);
	if (ev == NULL) {
		talloc_free(tmp);
		return SMBSESS__ST_NOMEM;
	}
	req = smbsess_connect_send(tmp, ev, server, creds, opts);
	if (req == NULL) {
		talloc_free(tmp);
		return SMBSESS__ST_NOMEM;
	}
	if (!tevent_req_poll(req, ev)) {
		talloc_free(tmp);
		return SMBSESS__ST_ERRNO(errno ? errno : EIO);
	}
	st = smbsess_connect_recv(req, mem_ctx, conn);
	if (smbsess__st_ok(st)) {
		/* The connection keeps the event context its sockets live on. */
		(*conn)->own_ev = talloc_steal(*conn, ev);
	}
	talloc_free(tmp);
	return st;
}

struct smbsess_status smbsess__conn_from_pipe(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					      const char *server, const struct smbsess_options *opts,
					      struct smbsess__rpc_pipe *pipe, struct smbsess_conn **conn)
{
	struct smbsess_conn *c = conn_alloc(mem_ctx, ev, server, opts);

	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	c->pipe = talloc_steal(c, pipe);
	*conn = c;
	return SMBSESS__OK;
}

/* ---- leaving ---- */

struct disconnect_state {
	struct smbsess_conn *conn;
};

static void disconnect_done(struct tevent_req *subreq);

SMBSESS_API struct tevent_req *smbsess_disconnect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						       struct smbsess_conn *conn)
{
	struct tevent_req *req, *subreq;
	struct disconnect_state *s;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct disconnect_state);
	if (req == NULL)
		return NULL;
	s->conn = conn;
	if (conn == NULL || ev != conn->ev) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (conn->left || conn->transport == NULL || conn->pipe == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return tevent_req_post(req, ev);
	}
	/* From now on nothing else goes out on this connection. */
	conn->left = true;
	subreq = smbsess__rpc_smb2_leave_send(s, ev, conn->transport);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, disconnect_done, req);
	return req;
}

static void disconnect_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct smbsess_status st = smbsess__rpc_smb2_leave_recv(subreq);

	TALLOC_FREE(subreq);
	if (smbsess__req_nok(req, st))
		return;
	tevent_req_done(req);
}

SMBSESS_API struct smbsess_status smbsess_disconnect_recv(struct tevent_req *req)
{
	struct smbsess_status st;

	if (req == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	st = smbsess__req_status(req);
	tevent_req_received(req);
	return st;
}

SMBSESS_API struct smbsess_status smbsess_disconnect(struct smbsess_conn *conn)
{
	struct tevent_req *req;
	struct smbsess_status st;

	if (conn == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	req = smbsess_disconnect_send(conn, conn->ev, conn);
	st = smbsess__api_wait(conn, req);
	if (smbsess__st_ok(st))
		st = smbsess_disconnect_recv(req);
	talloc_free(req);
	return st;
}

SMBSESS_API const char *smbsess_conn_server(const struct smbsess_conn *conn)
{
	return conn ? conn->server : NULL;
}

SMBSESS_API uint16_t smbsess_conn_dialect(const struct smbsess_conn *conn)
{
	return conn && conn->smb2 ? smbsess__smb2_conn_dialect(conn->smb2) : 0;
}

SMBSESS_API int smbsess_conn_encrypted(const struct smbsess_conn *conn)
{
	return conn && conn->tree ? smbsess__smb2_tree_encrypted(conn->tree) : 0;
}

SMBSESS_API int smbsess_conn_signed(const struct smbsess_conn *conn)
{
	return conn && conn->session ? smbsess__smb2_session_signed(conn->session) : 0;
}

SMBSESS_API int smbsess_conn_auth(const struct smbsess_conn *conn)
{
	if (conn == NULL || conn->session == NULL)
		return SMBSESS_AUTH_NONE;
	switch (smbsess__smb2_session_mech(conn->session)) {
	case SMBSESS__MECH_KRB5:
		return SMBSESS_AUTH_KERBEROS;
	case SMBSESS__MECH_NTLMSSP:
		return conn->anonymous ? SMBSESS_AUTH_ANONYMOUS : SMBSESS_AUTH_NTLM;
	default:
		return SMBSESS_AUTH_NONE;
	}
}

char *smbsess__unc_name(TALLOC_CTX *mem_ctx, const char *name)
{
	if (name == NULL)
		return NULL;
	if (name[0] == '\\' && name[1] == '\\')
		return talloc_strdup(mem_ctx, name);
	return talloc_asprintf(mem_ctx, "\\\\%s", name);
}
