/*
 * libsmbsess - sessions, open files and tree connections of a server
 * (MS-SRVS NetrSessionEnum, NetrSessionDel, NetrFileEnum, NetrFileGetInfo,
 * NetrFileClose, NetrConnectionEnum).
 *
 * Results are lists read through getters by index; a list is a talloc
 * context on the mem_ctx given to the recv function, and every string a
 * getter returns belongs to the list. What a list holds depends on the
 * information level the server answered at: smbsess_*_list_fields() says
 * which getters have values (the others return 0 or NULL).
 *
 * Enumerations collect every page the server sends (ERROR_MORE_DATA and
 * resume handles) up to the connection's max_entries option. When the
 * server does not support the level asked for, they step down to the next
 * richer level it supports and remember it for the connection.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_SERVER_H
#define SMBSESS_SERVER_H

#include <smbsess/client.h>

SMBSESS_BEGIN_DECLS

/** Ask for the richest level the server supports. */
#define SMBSESS_LEVEL_BEST 0xFFFFFFFFu

/* ---- sessions ---- */

/** A list of sessions. Opaque. */
struct smbsess_session_list;

/** Bits of smbsess_session_list_fields(). */
enum smbsess_session_field {
	SMBSESS_SESSION_CLIENT = 1u << 0,
	SMBSESS_SESSION_USER = 1u << 1,
	SMBSESS_SESSION_NUM_OPENS = 1u << 2,
	SMBSESS_SESSION_TIME = 1u << 3,
	SMBSESS_SESSION_IDLE_TIME = 1u << 4,
	SMBSESS_SESSION_USER_FLAGS = 1u << 5,
	SMBSESS_SESSION_CLIENT_TYPE = 1u << 6,
	SMBSESS_SESSION_TRANSPORT = 1u << 7
};

/**
 * Enumerates the server's sessions. @p client (a computer name or address,
 * with or without leading backslashes) and @p user filter them when not
 * NULL. @p level is 0, 1, 2, 10, 502 or SMBSESS_LEVEL_BEST (tried in the
 * order 502, 2, 1, 10, 0). The request is a talloc child of @p mem_ctx.
 */
SMBSESS_API struct tevent_req *smbsess_session_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							 struct smbsess_conn *conn, const char *client,
							 const char *user, uint32_t level);
/** *list is allocated on @p mem_ctx. */
SMBSESS_API struct smbsess_status smbsess_session_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							    struct smbsess_session_list **list);
/** Blocking form (runs the connection's event context). */
SMBSESS_API struct smbsess_status smbsess_session_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
						       const char *client, const char *user, uint32_t level,
						       struct smbsess_session_list **list);

SMBSESS_API size_t smbsess_session_list_count(const struct smbsess_session_list *list);
/** The information level the server answered at. */
SMBSESS_API uint32_t smbsess_session_list_level(const struct smbsess_session_list *list);
/** A mask of enum smbsess_session_field: the values this list has. */
SMBSESS_API uint32_t smbsess_session_list_fields(const struct smbsess_session_list *list);
/** The client's computer name or address, without leading backslashes. */
SMBSESS_API const char *smbsess_session_client(const struct smbsess_session_list *list, size_t i);
SMBSESS_API const char *smbsess_session_user(const struct smbsess_session_list *list, size_t i);
SMBSESS_API uint32_t smbsess_session_num_opens(const struct smbsess_session_list *list, size_t i);
/** Seconds the session has existed. */
SMBSESS_API uint32_t smbsess_session_time(const struct smbsess_session_list *list, size_t i);
/** Seconds since the session was last used. */
SMBSESS_API uint32_t smbsess_session_idle_time(const struct smbsess_session_list *list, size_t i);
/** SESS_GUEST (1) and SESS_NOENCRYPTION (2) bits. */
SMBSESS_API uint32_t smbsess_session_user_flags(const struct smbsess_session_list *list, size_t i);
SMBSESS_API const char *smbsess_session_client_type(const struct smbsess_session_list *list, size_t i);
SMBSESS_API const char *smbsess_session_transport(const struct smbsess_session_list *list, size_t i);

/**
 * Ends the sessions of @p client and/or @p user (NULL: any). With both NULL
 * it ends every session, the caller's own too.
 */
SMBSESS_API struct tevent_req *smbsess_session_delete_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							   struct smbsess_conn *conn, const char *client,
							   const char *user);
SMBSESS_API struct smbsess_status smbsess_session_delete_recv(struct tevent_req *req);
SMBSESS_API struct smbsess_status smbsess_session_delete(struct smbsess_conn *conn, const char *client,
							 const char *user);

/* ---- open files ---- */

/** A list of open files. Opaque. */
struct smbsess_file_list;

enum smbsess_file_field {
	SMBSESS_FILE_ID = 1u << 0,
	SMBSESS_FILE_PERMISSIONS = 1u << 1,
	SMBSESS_FILE_NUM_LOCKS = 1u << 2,
	SMBSESS_FILE_PATH = 1u << 3,
	SMBSESS_FILE_USER = 1u << 4
};

/**
 * Enumerates the server's open files, filtered by @p base_path (a path
 * prefix) and @p user when not NULL. @p level is 2, 3 or SMBSESS_LEVEL_BEST.
 */
SMBSESS_API struct tevent_req *smbsess_file_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						      struct smbsess_conn *conn, const char *base_path,
						      const char *user, uint32_t level);
SMBSESS_API struct smbsess_status smbsess_file_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							 struct smbsess_file_list **list);
SMBSESS_API struct smbsess_status smbsess_file_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
						    const char *base_path, const char *user, uint32_t level,
						    struct smbsess_file_list **list);

/**
 * The one open file with id @p id, as a list of one entry. Servers that do
 * not implement NetrFileGetInfo (Samba) are answered from an enumeration.
 * An unknown id fails with NERR_FileIdNotFound.
 */
SMBSESS_API struct tevent_req *smbsess_file_get_info_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							  struct smbsess_conn *conn, uint32_t id,
							  uint32_t level);
SMBSESS_API struct smbsess_status smbsess_file_get_info_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							     struct smbsess_file_list **list);
SMBSESS_API struct smbsess_status smbsess_file_get_info(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
							uint32_t id, uint32_t level,
							struct smbsess_file_list **list);

SMBSESS_API size_t smbsess_file_list_count(const struct smbsess_file_list *list);
SMBSESS_API uint32_t smbsess_file_list_level(const struct smbsess_file_list *list);
SMBSESS_API uint32_t smbsess_file_list_fields(const struct smbsess_file_list *list);
SMBSESS_API uint32_t smbsess_file_id(const struct smbsess_file_list *list, size_t i);
/** PERM_FILE_READ (1), PERM_FILE_WRITE (2), PERM_FILE_CREATE (4) bits. */
SMBSESS_API uint32_t smbsess_file_permissions(const struct smbsess_file_list *list, size_t i);
SMBSESS_API uint32_t smbsess_file_num_locks(const struct smbsess_file_list *list, size_t i);
SMBSESS_API const char *smbsess_file_path(const struct smbsess_file_list *list, size_t i);
SMBSESS_API const char *smbsess_file_user(const struct smbsess_file_list *list, size_t i);

/** Closes the open file with id @p id on the server (its holder loses the handle). */
SMBSESS_API struct tevent_req *smbsess_file_close_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						       struct smbsess_conn *conn, uint32_t id);
SMBSESS_API struct smbsess_status smbsess_file_close_recv(struct tevent_req *req);
SMBSESS_API struct smbsess_status smbsess_file_close(struct smbsess_conn *conn, uint32_t id);

/* ---- tree connections ---- */

/** A list of tree connections. Opaque. */
struct smbsess_connection_list;

enum smbsess_connection_field {
	SMBSESS_CONNECTION_ID = 1u << 0,
	SMBSESS_CONNECTION_TYPE = 1u << 1,
	SMBSESS_CONNECTION_NUM_OPENS = 1u << 2,
	SMBSESS_CONNECTION_NUM_USERS = 1u << 3,
	SMBSESS_CONNECTION_TIME = 1u << 4,
	SMBSESS_CONNECTION_USER = 1u << 5,
	SMBSESS_CONNECTION_SHARE = 1u << 6
};

/**
 * Enumerates tree connections to the share @p qualifier, or made from the
 * computer @p qualifier when it starts with two backslashes. @p level is 0,
 * 1 or SMBSESS_LEVEL_BEST.
 */
SMBSESS_API struct tevent_req *smbsess_connection_enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							    struct smbsess_conn *conn, const char *qualifier,
							    uint32_t level);
SMBSESS_API struct smbsess_status smbsess_connection_enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
							       struct smbsess_connection_list **list);
SMBSESS_API struct smbsess_status smbsess_connection_enum(TALLOC_CTX *mem_ctx, struct smbsess_conn *conn,
							  const char *qualifier, uint32_t level,
							  struct smbsess_connection_list **list);

SMBSESS_API size_t smbsess_connection_list_count(const struct smbsess_connection_list *list);
SMBSESS_API uint32_t smbsess_connection_list_level(const struct smbsess_connection_list *list);
SMBSESS_API uint32_t smbsess_connection_list_fields(const struct smbsess_connection_list *list);
SMBSESS_API uint32_t smbsess_connection_id(const struct smbsess_connection_list *list, size_t i);
SMBSESS_API uint32_t smbsess_connection_type(const struct smbsess_connection_list *list, size_t i);
SMBSESS_API uint32_t smbsess_connection_num_opens(const struct smbsess_connection_list *list, size_t i);
SMBSESS_API uint32_t smbsess_connection_num_users(const struct smbsess_connection_list *list, size_t i);
SMBSESS_API uint32_t smbsess_connection_time(const struct smbsess_connection_list *list, size_t i);
SMBSESS_API const char *smbsess_connection_user(const struct smbsess_connection_list *list, size_t i);
/** The share name (or, when the qualifier was a share, the client's name). */
SMBSESS_API const char *smbsess_connection_share(const struct smbsess_connection_list *list, size_t i);

SMBSESS_END_DECLS

#endif /* SMBSESS_SERVER_H */
