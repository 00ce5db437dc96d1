/*
 * libsmbsess - credentials, options and the connection to one server.
 *
 * Ownership: every object is a talloc context allocated on the mem_ctx the
 * caller passes; free it with talloc_free() (or by freeing its parent).
 * Nothing is global; a connection and its requests belong to the tevent
 * context they were created with and are used from that context's thread.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_CLIENT_H
#define SMBSESS_CLIENT_H

#include <talloc.h>
#include <tevent.h>

#include <smbsess/common.h>
#include <smbsess/status.h>

SMBSESS_BEGIN_DECLS

/** Credentials: a domain, a user and a password. Opaque. */
struct smbsess_credentials;
/** Connection options. Opaque. */
struct smbsess_options;
/** An authenticated connection to one server with its srvsvc pipe bound. Opaque. */
struct smbsess_conn;

/** Signing and encryption policies. */
enum smbsess_policy {
	SMBSESS_POLICY_AUTO = 0,     /**< as the server requires (signing is always used when possible) */
	SMBSESS_POLICY_REQUIRED = 1, /**< fail when it cannot be used */
	SMBSESS_POLICY_OFF = 2       /**< encryption only: never ask for it */
};

/** SMB dialects, for smbsess_options_set_dialects(). */
enum smbsess_dialect {
	SMBSESS_SMB_2_0_2 = 0x0202,
	SMBSESS_SMB_2_1 = 0x0210,
	SMBSESS_SMB_3_0 = 0x0300,
	SMBSESS_SMB_3_0_2 = 0x0302,
	SMBSESS_SMB_3_1_1 = 0x0311
};

/**
 * New credentials on @p mem_ctx (the strings are copied; NULL counts as "").
 * An empty @p user means an anonymous logon. Free with talloc_free().
 */
SMBSESS_API struct smbsess_status smbsess_credentials_new(TALLOC_CTX *mem_ctx, const char *domain,
							  const char *user, const char *password,
							  struct smbsess_credentials **out);

/**
 * New options on @p mem_ctx with the defaults: port 445, connect to the
 * server name, 30 s per request, signing and encryption AUTO, SMB 2.0.2 to
 * 3.1.1, at most 1,000,000 entries per enumeration. Free with talloc_free().
 */
SMBSESS_API struct smbsess_status smbsess_options_new(TALLOC_CTX *mem_ctx, struct smbsess_options **out);
/** TCP port (1-65535). */
SMBSESS_API struct smbsess_status smbsess_options_set_port(struct smbsess_options *o, uint16_t port);
/**
 * The address (or host name) to connect to, when it differs from the server
 * name used for the share path and Kerberos. Copied; NULL resets it.
 */
SMBSESS_API struct smbsess_status smbsess_options_set_address(struct smbsess_options *o, const char *address);
/** Time limit of each request, and of connecting, in milliseconds (> 0). */
SMBSESS_API struct smbsess_status smbsess_options_set_timeout(struct smbsess_options *o, uint32_t ms);
SMBSESS_API struct smbsess_status smbsess_options_set_signing(struct smbsess_options *o, enum smbsess_policy p);
SMBSESS_API struct smbsess_status smbsess_options_set_encryption(struct smbsess_options *o, enum smbsess_policy p);
/** The dialect range (enum smbsess_dialect values, min <= max). */
SMBSESS_API struct smbsess_status smbsess_options_set_dialects(struct smbsess_options *o, uint16_t min,
							       uint16_t max);
/** Most entries one enumeration may collect before it fails with SMBSESS_E_LIMIT (> 0). */
SMBSESS_API struct smbsess_status smbsess_options_set_max_entries(struct smbsess_options *o, uint32_t max);
/**
 * The preferred maximum length of one enumeration answer the server is
 * asked for, in bytes; 0xFFFFFFFF (the default) asks for everything at once.
 */
SMBSESS_API struct smbsess_status smbsess_options_set_page_size(struct smbsess_options *o, uint32_t bytes);

/**
 * Connects to @p server (a host name or address), authenticates with
 * @p creds, connects to IPC$ and binds the srvsvc pipe. @p opts may be NULL
 * for the defaults; both are copied, so they may be freed afterwards.
 * The request is a talloc child of @p mem_ctx; free it to cancel.
 */
SMBSESS_API struct tevent_req *smbsess_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    const char *server,
						    const struct smbsess_credentials *creds,
						    const struct smbsess_options *opts);
/**
 * On success *conn is a new connection on @p mem_ctx; free it to
 * disconnect. The request is freed by the caller after recv.
 */
SMBSESS_API struct smbsess_status smbsess_connect_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						       struct smbsess_conn **conn);
/**
 * Blocking form: runs its own private event context, which the connection
 * keeps for the blocking calls below. *conn is allocated on @p mem_ctx.
 */
SMBSESS_API struct smbsess_status smbsess_connect(TALLOC_CTX *mem_ctx, const char *server,
						  const struct smbsess_credentials *creds,
						  const struct smbsess_options *opts, struct smbsess_conn **conn);

/** The server name the connection was made to. Owned by the connection. */
SMBSESS_API const char *smbsess_conn_server(const struct smbsess_conn *conn);
/** The negotiated dialect (enum smbsess_dialect). */
SMBSESS_API uint16_t smbsess_conn_dialect(const struct smbsess_conn *conn);
/** Non-zero when the connection's traffic is encrypted / signed. */
SMBSESS_API int smbsess_conn_encrypted(const struct smbsess_conn *conn);
SMBSESS_API int smbsess_conn_signed(const struct smbsess_conn *conn);

SMBSESS_END_DECLS

#endif /* SMBSESS_CLIENT_H */
