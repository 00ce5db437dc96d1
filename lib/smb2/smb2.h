/*
 * lib/smb2: the SMB2/3 client transport, on tevent. What the layers above
 * (lib/rpc, lib/api) use.
 *
 * A connection (smbsess__smb2_conn) owns its socket, the message-id and
 * credit accounting, and the table of requests in flight. Sessions and tree
 * connections hang off it. Every operation is a tevent request: freeing it
 * at any time cancels it, and the connection stays usable.
 */
#ifndef SMBSESS_LIB_SMB2_H
#define SMBSESS_LIB_SMB2_H

#include <tevent.h>

#include "../util/util.h"
#include "crypto.h"

/* Commands ([MS-SMB2] 2.2.1.2). */
enum smbsess__smb2_cmd {
	SMBSESS__SMB2_NEGOTIATE = 0x0000,
	SMBSESS__SMB2_SESSION_SETUP = 0x0001,
	SMBSESS__SMB2_LOGOFF = 0x0002,
	SMBSESS__SMB2_TREE_CONNECT = 0x0003,
	SMBSESS__SMB2_TREE_DISCONNECT = 0x0004,
	SMBSESS__SMB2_CREATE = 0x0005,
	SMBSESS__SMB2_CLOSE = 0x0006,
	SMBSESS__SMB2_READ = 0x0008,
	SMBSESS__SMB2_WRITE = 0x0009,
	SMBSESS__SMB2_IOCTL = 0x000B,
	SMBSESS__SMB2_CANCEL = 0x000C,
	SMBSESS__SMB2_ECHO = 0x000D,
	SMBSESS__SMB2_OPLOCK_BREAK = 0x0012,
};

/* NTSTATUS values the transport itself interprets. */
#define SMBSESS__NT_OK 0x00000000u
#define SMBSESS__NT_PENDING 0x00000103u
#define SMBSESS__NT_BUFFER_OVERFLOW 0x80000005u
#define SMBSESS__NT_MORE_PROCESSING 0xC0000016u
#define SMBSESS__NT_USER_SESSION_DELETED 0xC0000203u
#define SMBSESS__NT_NETWORK_SESSION_EXPIRED 0xC000035Cu

/* Signing and encryption policy of a connection. */
enum smbsess__smb2_policy {
	SMBSESS__SMB2_POLICY_AUTO = 0,     /* as the server requires */
	SMBSESS__SMB2_POLICY_REQUIRED = 1, /* fail if it cannot be used */
	SMBSESS__SMB2_POLICY_OFF = 2       /* encryption only: never ask for it */
};

struct smbsess__smb2_options {
	uint16_t min_dialect;     /* 0: 2.0.2 */
	uint16_t max_dialect;     /* 0: 3.1.1 */
	enum smbsess__smb2_policy signing;
	enum smbsess__smb2_policy encryption;
	uint32_t timeout_ms;      /* per request; 0: 30 s */
	uint32_t max_message;     /* largest message accepted; 0: 8 MiB + 64 KiB */
};

struct smbsess__smb2_conn;
struct smbsess__smb2_session;
struct smbsess__smb2_tree;

/* ---- connection ---- */

/*
 * Resolves @p host without blocking the loop (numeric addresses directly,
 * names on a worker thread), connects over TCP to @p port (IPv4 or IPv6),
 * and returns the socket. @p timeout_ms bounds the whole operation.
 */
struct tevent_req *smbsess__tcp_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     const char *host, uint16_t port, uint32_t timeout_ms);
struct smbsess_status smbsess__tcp_connect_recv(struct tevent_req *req, int *fd);

/*
 * Wraps a connected socket (the connection owns and closes it).
 * @p server_name is the server's name for tree paths and Kerberos.
 */
struct smbsess__smb2_conn *smbsess__smb2_conn_new(TALLOC_CTX *mem_ctx, struct tevent_context *ev, int fd,
						  const char *server_name,
						  const struct smbsess__smb2_options *opts);

/* The status that ended the connection, or OK while it is usable. */
struct smbsess_status smbsess__smb2_conn_error(const struct smbsess__smb2_conn *conn);
uint16_t smbsess__smb2_conn_dialect(const struct smbsess__smb2_conn *conn);
const char *smbsess__smb2_conn_server_name(const struct smbsess__smb2_conn *conn);
uint32_t smbsess__smb2_conn_max_transact(const struct smbsess__smb2_conn *conn);
uint32_t smbsess__smb2_conn_max_read(const struct smbsess__smb2_conn *conn);
uint32_t smbsess__smb2_conn_max_write(const struct smbsess__smb2_conn *conn);
uint16_t smbsess__smb2_conn_cipher(const struct smbsess__smb2_conn *conn);
uint16_t smbsess__smb2_conn_sign_alg(const struct smbsess__smb2_conn *conn);

/* ---- raw calls, for the command files ---- */

/* One message of a call: the command and its body (fixed part + buffers). */
struct smbsess__smb2_call {
	uint16_t cmd;
	struct smbsess__smb2_session *session; /* NULL: session id 0 */
	struct smbsess__smb2_tree *tree;       /* NULL: tree id 0 */
	const uint8_t *body;                   /* offsets inside count from the header's start */
	size_t body_len;
	uint32_t expected_out;                 /* largest response payload, for the credit charge */
	bool no_sign;                          /* session setup requests are not signed */
};

/* One response. */
struct smbsess__smb2_resp {
	uint32_t status;      /* the NTSTATUS of the header */
	uint8_t *msg;         /* the whole message (header + body) */
	size_t len;
	const uint8_t *body;  /* msg + 64 */
	size_t body_len;
	uint8_t *sent;        /* the request as sent (before signing), for preauth hashing */
	size_t sent_len;
	bool was_signed;      /* the response carried a verified signature */
	bool was_encrypted;
};

/*
 * Sends @p n messages in one frame (a compound chain when n > 1; @p related
 * makes each message after the first use the previous one's file/session/
 * tree) and completes when every response has arrived. The recv gives the
 * responses in order; a transport failure (disconnect, timeout, a response
 * whose signature or encryption is wrong) is the recv's status, an NTSTATUS
 * of the server is in each response.
 */
struct tevent_req *smbsess__smb2_calls_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_conn *conn,
					    const struct smbsess__smb2_call *calls, size_t n, bool related,
					    uint32_t timeout_ms);
struct smbsess_status smbsess__smb2_calls_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					       struct smbsess__smb2_resp **resps);

/* A single message. */
struct tevent_req *smbsess__smb2_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					   struct smbsess__smb2_conn *conn,
					   const struct smbsess__smb2_call *call, uint32_t timeout_ms);
struct smbsess_status smbsess__smb2_call_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					      struct smbsess__smb2_resp *resp);

/* The NTSTATUS of a response as a status: OK for STATUS_SUCCESS. */
struct smbsess_status smbsess__smb2_nt(uint32_t ntstatus);

/*
 * Checks a response body: at least @p fixed bytes, and the StructureSize in
 * its first two bytes equal to @p structure_size. SMBSESS_E_PROTOCOL otherwise.
 */
struct smbsess_status smbsess__smb2_check_body(const struct smbsess__smb2_resp *r, size_t fixed,
					       uint16_t structure_size);

/*
 * A buffer of a response given as offset (from the header's start) and
 * length: checked to lie inside the message. A zero length gives NULL.
 */
struct smbsess_status smbsess__smb2_resp_buffer(const struct smbsess__smb2_resp *r, uint32_t offset,
						uint32_t length, const uint8_t **p);


/* ---- commands ---- */

/* A 16-byte SMB2 FileId (persistent + volatile). */
struct smbsess__smb2_fileid {
	uint8_t id[16];
};

/* NEGOTIATE on a fresh connection. */
struct tevent_req *smbsess__smb2_negotiate_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						struct smbsess__smb2_conn *conn);
struct smbsess_status smbsess__smb2_negotiate_recv(struct tevent_req *req);

struct smbsess__creds;

/*
 * SESSION_SETUP with SPNEGO (Kerberos and/or NTLMSSP, as the policy of
 * @p creds says; Kerberos for cifs/<server name>) for @p creds. The session is allocated
 * on the connection and signs (and, when the server or the options require
 * it, encrypts) everything after. A guest session when credentials were
 * given is refused (SMBSESS_E_AUTH).
 */
struct tevent_req *smbsess__smb2_session_setup_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    struct smbsess__smb2_conn *conn,
						    const struct smbsess__creds *creds);
struct smbsess_status smbsess__smb2_session_setup_recv(struct tevent_req *req,
						       struct smbsess__smb2_session **session);

/* Whether everything of the session (or of the tree) is encrypted / signed. */
bool smbsess__smb2_session_encrypted(const struct smbsess__smb2_session *session);
bool smbsess__smb2_session_signed(const struct smbsess__smb2_session *session);
/* The mechanism that authenticated the session (enum smbsess__spnego_mech; 0 when none). */
int smbsess__smb2_session_mech(const struct smbsess__smb2_session *session);
bool smbsess__smb2_tree_encrypted(const struct smbsess__smb2_tree *tree);

/*
 * TREE_CONNECT to \\server\share on @p session. The tree is allocated on the
 * session. On 3.0/3.0.2 with a signed session, also checks the negotiation
 * with FSCTL_VALIDATE_NEGOTIATE_INFO.
 */
struct tevent_req *smbsess__smb2_tree_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						   struct smbsess__smb2_session *session, const char *share);
struct smbsess_status smbsess__smb2_tree_connect_recv(struct tevent_req *req,
						      struct smbsess__smb2_tree **tree);

struct tevent_req *smbsess__smb2_tree_disconnect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						      struct smbsess__smb2_tree *tree);
struct smbsess_status smbsess__smb2_tree_disconnect_recv(struct tevent_req *req);

/* CREATE (open) of @p name on @p tree, for reading and writing; a named pipe on IPC$. */
struct tevent_req *smbsess__smb2_create_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     struct smbsess__smb2_tree *tree, const char *name);
struct smbsess_status smbsess__smb2_create_recv(struct tevent_req *req, struct smbsess__smb2_fileid *fid);

/*
 * The bodies and parsers of CREATE and CLOSE, for compound chains (a
 * related CLOSE uses the all-ones FileId to mean "the file just opened").
 */
struct smbsess_status smbsess__smb2_create_body(TALLOC_CTX *mem_ctx, const char *name,
					       uint8_t **body, size_t *body_len);
struct smbsess_status smbsess__smb2_create_parse(const struct smbsess__smb2_resp *r,
						struct smbsess__smb2_fileid *fid);
void smbsess__smb2_close_body(const struct smbsess__smb2_fileid *fid, uint8_t body[24]);
struct smbsess_status smbsess__smb2_close_parse(const struct smbsess__smb2_resp *r);

struct tevent_req *smbsess__smb2_close_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid);
struct smbsess_status smbsess__smb2_close_recv(struct tevent_req *req);

/*
 * IOCTL FSCTL @p ctl_code with input @p in; up to @p max_out bytes back.
 * *more is set when the server answered STATUS_BUFFER_OVERFLOW: the output
 * is valid and more data waits (for a pipe: read it with READ).
 */
struct tevent_req *smbsess__smb2_ioctl_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid, uint32_t ctl_code,
					    const uint8_t *in, size_t in_len, uint32_t max_out);
struct smbsess_status smbsess__smb2_ioctl_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					       uint8_t **out, size_t *out_len, bool *more);

/*
 * The least MaxTransactSize, MaxReadSize and MaxWriteSize a server may
 * answer: every READ, WRITE and IOCTL of up to this size goes through.
 */
#define SMBSESS__SMB2_MIN_IO 65536u

#define SMBSESS__FSCTL_PIPE_TRANSCEIVE 0x0011C017u
#define SMBSESS__FSCTL_VALIDATE_NEGOTIATE_INFO 0x00140204u

/* READ up to @p len bytes at @p offset; *more as for IOCTL. */
struct tevent_req *smbsess__smb2_read_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					   struct smbsess__smb2_tree *tree,
					   const struct smbsess__smb2_fileid *fid, uint32_t len, uint64_t offset);
struct smbsess_status smbsess__smb2_read_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					      uint8_t **data, size_t *data_len, bool *more);

/* WRITE @p len bytes at @p offset; *written is what the server took. */
struct tevent_req *smbsess__smb2_write_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree,
					    const struct smbsess__smb2_fileid *fid,
					    const uint8_t *data, size_t len, uint64_t offset);
struct smbsess_status smbsess__smb2_write_recv(struct tevent_req *req, uint32_t *written);

/*
 * Opens @p name on \\server\@p share and makes one IOCTL @p ctl_code with
 * @p in on it (for a pipe: FSCTL_PIPE_TRANSCEIVE, the first exchange), in
 * one related compound TREE_CONNECT + CREATE + IOCTL: one round trip. On
 * 3.0/3.0.2 with signing, the tree connect and its VALIDATE_NEGOTIATE_INFO
 * go first, then CREATE + IOCTL; on 2.0.2 and 2.1 all three go one by one. The recv gives the new tree (allocated on
 * the session), the FileId, and the IOCTL's output as smbsess__smb2_ioctl_recv.
 * When the IOCTL fails, the file is closed in the background.
 */
struct tevent_req *smbsess__smb2_open_ioctl_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						 struct smbsess__smb2_session *session, const char *share,
						 const char *name, uint32_t ctl_code, const uint8_t *in,
						 size_t in_len, uint32_t max_out);
struct smbsess_status smbsess__smb2_open_ioctl_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						    struct smbsess__smb2_tree **tree,
						    struct smbsess__smb2_fileid *fid, uint8_t **out,
						    size_t *out_len, bool *more);

/*
 * Leaves politely in one related compound: CLOSE of @p fid, TREE_DISCONNECT
 * of @p tree, LOGOFF of its session (one by one on 2.0.2 and 2.1). The
 * recv gives the first failure.
 * The objects stay until freed; the session cannot be used after.
 */
struct tevent_req *smbsess__smb2_leave_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_tree *tree, const struct smbsess__smb2_fileid *fid);
struct smbsess_status smbsess__smb2_leave_recv(struct tevent_req *req);

/* LOGOFF of a session; the session object stays until freed. */
struct tevent_req *smbsess__smb2_logoff_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     struct smbsess__smb2_session *session);
struct smbsess_status smbsess__smb2_logoff_recv(struct tevent_req *req);

#endif /* SMBSESS_LIB_SMB2_H */
