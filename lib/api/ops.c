/*
 * The public operations: enumerations (on lib/api/enum.c), NetrSessionDel,
 * NetrFileClose and NetrFileGetInfo, each as send/recv and blocking.
 */
#include "api.h"
#include "lists.h"

#define INVALID SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT)

/* ---- enumerations ---- */

SMBSESS_API struct tevent_req *smbsess_session_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							 struct smbsess_conn *conn, const char *client,
							 const char *user, uint32_t level)
{
	return smbsess__enum_send(mem_ctx, ev, conn, SMBSESS__SRVSVC_SESSIONS, client, user, level);
}

SMBSESS_API struct smbsess_status smbsess_session_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							    struct smbsess_session_list **list)
{
	if (req == NULL || list == NULL)
		return INVALID;
	return smbsess__enum_recv(req, mem_ctx, (struct smbsess__list **)(void *)list);
}

SMBSESS_API struct tevent_req *smbsess_file_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						      struct smbsess_conn *conn, const char *base_path,
						      const char *user, uint32_t level)
{
	return smbsess__enum_send(mem_ctx, ev, conn, SMBSESS__SRVSVC_FILES, base_path, user, level);
}

SMBSESS_API struct smbsess_status smbsess_file_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							 struct smbsess_file_list **list)
{
	if (req == NULL || list == NULL)
		return INVALID;
	return smbsess__enum_recv(req, mem_ctx, (struct smbsess__list **)(void *)list);
}

SMBSESS_API struct tevent_req *smbsess_connection_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							    struct smbsess_conn *conn, const char *qualifier,
							    uint32_t level)
{
	return smbsess__enum_send(mem_ctx, ev, conn, SMBSESS__SRVSVC_CONNECTIONS, qualifier, NULL, level);
}

SMBSESS_API struct smbsess_status smbsess_connection_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							       struct smbsess_connection_list **list)
{
	if (req == NULL || list == NULL)
		return INVALID;
	return smbsess__enum_recv(req, mem_ctx, (struct smbsess__list **)(void *)list);
}

/* Blocking: the send on the connection's own event context, then the recv. */
#define BLOCKING(send_call, recv_call) do { \
	struct tevent_req *req_; \
	struct smbsess_status st_; \
	if (conn == NULL) \
		return INVALID; \
	req_ = send_call; \
	st_ = smbsess__api_wait(conn, req_); \
	if (smbsess__st_ok(st_)) \
		st_ = recv_call; \
	talloc_free(req_); \
	return st_; \
} while (0)

SMBSESS_API struct smbsess_status smbsess_session_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
						       const char *client, const char *user, uint32_t level,
						       struct smbsess_session_list **list)
{
	BLOCKING(smbsess_session_enum_send(conn, conn->ev, conn, client, user, level),
		 smbsess_session_enum_recv(req_, mem_ctx, list));
}

SMBSESS_API struct smbsess_status smbsess_file_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
						    const char *base_path, const char *user, uint32_t level,
						    struct smbsess_file_list **list)
{
	BLOCKING(smbsess_file_enum_send(conn, conn->ev, conn, base_path, user, level),
		 smbsess_file_enum_recv(req_, mem_ctx, list));
}

SMBSESS_API struct smbsess_status smbsess_connection_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
							  const char *qualifier, uint32_t level,
							  struct smbsess_connection_list **list)
{
	BLOCKING(smbsess_connection_enum_send(conn, conn->ev, conn, qualifier, level),
		 smbsess_connection_enum_recv(req_, mem_ctx, list));
}

/* ---- operations answered by a WERROR alone ---- */

struct result_state {
	struct smbsess__srvsvc_result_out out;
	union {
		struct smbsess__srvsvc_sess_del_in del;
		struct smbsess__srvsvc_file_close_in close;
	} in;
};

static void result_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct result_state *s = tevent_req_data(req, struct result_state);

	if (smbsess__req_nok(req, smbsess__api_call_recv(subreq)))
		return;
	if (s->out.result != 0) {
		smbsess__req_nok(req, SMBSESS__ST_WERR(s->out.result));
		return;
	}
	tevent_req_done(req);
}

static struct tevent_req *result_start(struct tevent_req *req, struct tevent_context *ev, struct smbsess_conn *conn,
				       uint16_t opnum, smbsess__ndr_fn in_fn, void *in)
{
	struct result_state *s = tevent_req_data(req, struct result_state);
	struct tevent_req *subreq;

	subreq = smbsess__api_call_send(s, ev, conn, opnum, in_fn, in, smbsess__srvsvc_result_out, &s->out,
					sizeof s->out, s);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, result_done, req);
	return req;
}

static struct smbsess_status result_recv(struct tevent_req *req)
{
	struct smbsess_status st;

	if (req == NULL)
		return INVALID;
	st = smbsess__req_status(req);
	tevent_req_received(req);
	return st;
}

SMBSESS_API struct tevent_req *smbsess_session_delete_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							   struct smbsess_conn *conn, const char *client,
							   const char *user)
{
	struct result_state *s;
	struct tevent_req *req;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct result_state);
	if (req == NULL)
		return NULL;
	if (conn == NULL) {
		smbsess__req_nok(req, INVALID);
		return tevent_req_post(req, ev);
	}
	s->in.del.server_unc = conn->server_unc;
	s->in.del.client = smbsess__unc_name(s, client);
	s->in.del.user = user ? talloc_strdup(s, user) : NULL;
	if ((client && !s->in.del.client) || (user && !s->in.del.user)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	return result_start(req, ev, conn, SMBSESS__SRVSVC_NETRSESSIONDEL, smbsess__srvsvc_sess_del_in,
			    &s->in.del);
}

SMBSESS_API struct smbsess_status smbsess_session_delete_recv(struct tevent_req *req)
{
	return result_recv(req);
}

SMBSESS_API struct smbsess_status smbsess_session_delete(struct smbsess_conn *conn, const char *client,
							 const char *user)
{
	BLOCKING(smbsess_session_delete_send(conn, conn->ev, conn, client, user), smbsess_session_delete_recv(req_));
}

SMBSESS_API struct tevent_req *smbsess_file_close_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						       struct smbsess_conn *conn, uint32_t id)
{
	struct result_state *s;
	struct tevent_req *req;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct result_state);
	if (req == NULL)
		return NULL;
	if (conn == NULL) {
		smbsess__req_nok(req, INVALID);
		return tevent_req_post(req, ev);
	}
	s->in.close.server_unc = conn->server_unc;
	s->in.close.fid = id;
	return result_start(req, ev, conn, SMBSESS__SRVSVC_NETRFILECLOSE, smbsess__srvsvc_file_close_in,
			    &s->in.close);
}

SMBSESS_API struct smbsess_status smbsess_file_close_recv(struct tevent_req *req)
{
	return result_recv(req);
}

SMBSESS_API struct smbsess_status smbsess_file_close(struct smbsess_conn *conn, uint32_t id)
{
	BLOCKING(smbsess_file_close_send(conn, conn->ev, conn, id), smbsess_file_close_recv(req_));
}

/* ---- NetrFileGetInfo, with an enumeration where the server lacks it ---- */

struct get_info_state {
	struct tevent_context *ev;
	struct smbsess__weak *conn;   /* the caller may free the connection meanwhile */
	size_t max_bytes;
	uint32_t id;
	uint32_t want;
	size_t level_idx;
	struct smbsess__srvsvc_file_get_info_in in;
	struct smbsess__srvsvc_file_get_info_out out;
	struct smbsess__list *list;
};

static const uint32_t info_levels[] = { 3, 2 };

static void get_info_done(struct tevent_req *subreq);
static void get_info_enum_done(struct tevent_req *subreq);

static void get_info_request(struct tevent_req *req, struct smbsess_conn *conn)
{
	struct get_info_state *s = tevent_req_data(req, struct get_info_state);
	struct tevent_req *subreq;

	s->in = (struct smbsess__srvsvc_file_get_info_in){ conn->server_unc, s->id, info_levels[s->level_idx] };
	memset(&s->out, 0, sizeof s->out);
	s->out.level = s->in.level;
	subreq = smbsess__api_call_send(s, s->ev, conn, SMBSESS__SRVSVC_NETRFILEGETINFO,
					smbsess__srvsvc_file_get_info_in, &s->in, smbsess__srvsvc_file_get_info_out,
					&s->out, sizeof s->out, s);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, get_info_done, req);
}

SMBSESS_API struct tevent_req *smbsess_file_get_info_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							  struct smbsess_conn *conn, uint32_t id,
							  uint32_t level)
{
	struct tevent_req *req;
	struct get_info_state *s;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct get_info_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->id = id;
	s->want = level;
	if (conn == NULL || (level != SMBSESS_LEVEL_BEST && level != 2 && level != 3)) {
		smbsess__req_nok(req, INVALID);
		return tevent_req_post(req, ev);
	}
	s->level_idx = level == 2 ? 1 : 0;
	s->max_bytes = conn->opts.max_bytes;
	s->conn = smbsess__weak_new(s, conn);
	s->list = smbsess__list_new(s, SMBSESS__SRVSVC_FILES);
	if (tevent_req_nomem(s->conn, req) || tevent_req_nomem(s->list, req))
		return tevent_req_post(req, ev);
	get_info_request(req, conn);
	if (!tevent_req_is_in_progress(req))
		return tevent_req_post(req, ev);
	return req;
}

static void get_info_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct get_info_state *s = tevent_req_data(req, struct get_info_state);
	struct smbsess_status st = smbsess__api_call_recv(subreq);
	struct smbsess_conn *conn = smbsess__weak_get(s->conn);

	if (conn == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
		return;
	}
	if (st.domain == SMBSESS_DOMAIN_RPC && st.code == SMBSESS__RPC_OP_RNG_ERROR) {
		/*
		 * The server has no NetrFileGetInfo (Samba): find the id in an
		 * enumeration at the best level it has; a level-2 answer is cut
		 * down from it (Samba enumerates at level 3 only).
		 */
		subreq = smbsess__enum_send(s, s->ev, conn, SMBSESS__SRVSVC_FILES, NULL, NULL, SMBSESS_LEVEL_BEST);
		if (tevent_req_nomem(subreq, req))
			return;
		tevent_req_set_callback(subreq, get_info_enum_done, req);
		return;
	}
	if (smbsess__req_nok(req, st))
		return;
	if (s->out.result == SMBSESS__WERR_INVALID_LEVEL && s->level_idx + 1 < 2) {
		s->level_idx++;
		get_info_request(req, conn);
		return;
	}
	if (s->out.result != 0) {
		smbsess__req_nok(req, SMBSESS__ST_WERR(s->out.result));
		return;
	}
	if (!s->out.present) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		return;
	}
	s->list->level = s->out.level;
	if (smbsess__req_nok(req, smbsess__list_add(s->list, &s->out.info, 1, s->max_bytes)))
		return;
	tevent_req_done(req);
}

static void get_info_enum_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct get_info_state *s = tevent_req_data(req, struct get_info_state);
	struct smbsess__list *all = NULL;
	const struct smbsess__srvsvc_file_info *files;

	if (smbsess__req_nok(req, smbsess__enum_recv(subreq, s, &all)))
		return;
	files = all->array;
	for (size_t i = 0; i < all->count; i++) {
		struct smbsess__srvsvc_file_info id_only = { .fid = files[i].fid };

		if (files[i].fid != s->id)
			continue;
		if (s->want == 2) {
			s->list->level = 2;
			if (smbsess__req_nok(req, smbsess__list_add(s->list, &id_only, 1, s->max_bytes)))
				return;
			tevent_req_done(req);
			return;
		}
		s->list->level = all->level;
		if (smbsess__req_nok(req, smbsess__list_add(s->list, &files[i], 1, s->max_bytes)))
			return;
		tevent_req_done(req);
		return;
	}
	smbsess__req_nok(req, SMBSESS__ST_WERR(SMBSESS__NERR_FILE_ID_NOT_FOUND));
}

SMBSESS_API struct smbsess_status smbsess_file_get_info_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							     struct smbsess_file_list **list)
{
	struct get_info_state *s;
	struct smbsess_status st;

	if (req == NULL || list == NULL)
		return INVALID;
	s = tevent_req_data(req, struct get_info_state);
	st = smbsess__req_status(req);
	if (smbsess__st_ok(st))
		*list = (struct smbsess_file_list *)(void *)talloc_steal(mem_ctx, s->list);
	tevent_req_received(req);
	return st;
}

SMBSESS_API struct smbsess_status smbsess_file_get_info(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
							uint32_t id, uint32_t level,
							struct smbsess_file_list **list)
{
	BLOCKING(smbsess_file_get_info_send(conn, conn->ev, conn, id, level),
		 smbsess_file_get_info_recv(req_, mem_ctx, list));
}
