/*
 * lib/smb2 internals shared by the files of this folder only.
 */
#ifndef SMBSESS_LIB_SMB2_PRIVATE_H
#define SMBSESS_LIB_SMB2_PRIVATE_H

#include "smb2.h"

/* Header fields ([MS-SMB2] 2.2.1). */
#define HDR_PROTOCOL 0
#define HDR_STRUCTURE_SIZE 4
#define HDR_CREDIT_CHARGE 6
#define HDR_STATUS 8
#define HDR_COMMAND 12
#define HDR_CREDIT 14
#define HDR_FLAGS 16
#define HDR_NEXT 20
#define HDR_MESSAGE_ID 24
#define HDR_PID 32
#define HDR_ASYNC_ID 32
#define HDR_TREE_ID 36
#define HDR_SESSION_ID 40
#define HDR_SIGNATURE 48

#define FLAG_SERVER_TO_REDIR 0x00000001u
#define FLAG_ASYNC 0x00000002u
#define FLAG_RELATED 0x00000004u
#define FLAG_SIGNED 0x00000008u

/* Capabilities ([MS-SMB2] 2.2.3). */
#define CAP_DFS 0x00000001u
#define CAP_LEASING 0x00000002u
#define CAP_LARGE_MTU 0x00000004u
#define CAP_MULTI_CHANNEL 0x00000008u
#define CAP_PERSISTENT_HANDLES 0x00000010u
#define CAP_DIRECTORY_LEASING 0x00000020u
#define CAP_ENCRYPTION 0x00000040u

/* Security mode. */
#define SIGNING_ENABLED 0x0001
#define SIGNING_REQUIRED 0x0002

/* Session flags of SESSION_SETUP responses. */
#define SESSION_FLAG_IS_GUEST 0x0001
#define SESSION_FLAG_IS_NULL 0x0002
#define SESSION_FLAG_ENCRYPT_DATA 0x0004

/* Share flags of TREE_CONNECT responses. */
#define SHAREFLAG_ENCRYPT_DATA 0x00008000u

struct smbsess__smb2_conn {
	struct tevent_context *ev;
	int fd;
	struct tevent_fd *fde;
	char *server_name;
	struct smbsess__smb2_options opts;
	struct smbsess_status error; /* set once the connection is dead */

	/* negotiated */
	bool negotiated;
	uint16_t dialect;
	uint16_t security_mode;
	uint32_t capabilities;
	uint32_t max_transact, max_read, max_write;
	uint8_t server_guid[16];
	uint8_t client_guid[16];
	uint16_t cipher;   /* 0: none */
	uint16_t sign_alg; /* SMBSESS__SMB2_SIGN_* */
	uint8_t preauth[SMBSESS__SMB2_PREAUTH_HASH_LEN];
	uint8_t *neg_token; /* the server's SPNEGO hint */
	size_t neg_token_len;
	uint16_t client_security_mode;
	uint32_t client_capabilities;
	uint16_t *client_dialects;
	size_t n_client_dialects;

	/* message ids and credits */
	uint64_t next_mid;
	uint32_t credits;

	/* frames waiting to be written, oldest first */
	struct out_frame *out_head, *out_tail;
	/* chains waiting for credits, oldest first */
	struct chain *wait_head, *wait_tail;
	/* messages in flight */
	struct pending *pending;

	/* the frame being read */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *in;
	size_t in_len, in_got;

	struct smbsess__smb2_session *sessions;
	/* the keys of freed sessions whose cancelled requests are still to be answered */
	struct smbsess__smb2_ghost *ghosts;
};

struct smbsess__smb2_session {
	struct smbsess__smb2_conn *conn; /* NULL once the connection is gone */
	struct smbsess__smb2_session *prev, *next;
	uint64_t id;
	uint16_t flags;                  /* SESSION_FLAG_* */
	bool signing;                    /* sign requests, require signed responses */
	bool encrypt;                    /* encrypt everything of this session */
	struct smbsess__smb2_keys keys;
	bool have_keys;
	uint64_t nonce_counter;          /* the last transform nonce counter used */
	uint8_t nonce_salt[8];           /* the random rest of every nonce of this session */
	uint8_t preauth[SMBSESS__SMB2_PREAUTH_HASH_LEN];
	uint8_t auth_mech;               /* enum smbsess__spnego_mech that authenticated it */
};

struct smbsess__smb2_tree {
	struct smbsess__smb2_session *session;
	uint32_t id;
	uint8_t share_type;
	uint32_t share_flags;
	uint32_t capabilities;
	bool encrypt;
};

/*
 * One command, one response, one parser: the generic request behind the
 * command files. @p parse checks the response and fills @p out (a zeroed
 * block of @p out_size bytes); buffers it hands out go on @p out_mem. The
 * recv copies the block into @p out and moves the buffers to @p mem_ctx.
 */
typedef struct smbsess_status (*smbsess__smb2_parse_fn)(const struct smbsess__smb2_resp *r, void *out,
							 TALLOC_CTX *out_mem);
struct tevent_req *smbsess__smb2_op_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					 struct smbsess__smb2_conn *conn,
					 const struct smbsess__smb2_call *call,
					 smbsess__smb2_parse_fn parse, size_t out_size);
struct smbsess_status smbsess__smb2_op_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, void *out);

/* Appends @p s as UTF-16LE (no terminator) at b + *off; *off advances. */
struct smbsess_status smbsess__smb2_put_utf16(TALLOC_CTX *mem_ctx, const char *s, uint8_t **b, size_t *len);

/* ---- bodies and parsers shared by the single commands and the compounds of open.c ---- */

/* The TREE_CONNECT body for \\\\server\\@p share. */
struct smbsess_status smbsess__smb2_tree_body(TALLOC_CTX *mem_ctx, const struct smbsess__smb2_session *session,
					      const char *share, uint8_t **body, size_t *body_len);
/* The tree a TREE_CONNECT response made, allocated on @p session. */
struct smbsess_status smbsess__smb2_tree_from_resp(struct smbsess__smb2_session *session,
						   const struct smbsess__smb2_resp *r,
						   struct smbsess__smb2_tree **out);
/* Whether the first tree of @p session must be followed by VALIDATE_NEGOTIATE_INFO (3.0, 3.0.2 signed). */
bool smbsess__smb2_tree_needs_validation(const struct smbsess__smb2_session *session);
/* The IOCTL body (NULL when out of memory or too long) and the parse of its response. */
uint8_t *smbsess__smb2_ioctl_body(TALLOC_CTX *mem_ctx, const struct smbsess__smb2_fileid *fid, uint32_t ctl_code,
				  const uint8_t *in, size_t in_len, uint32_t max_out, size_t *body_len);
struct smbsess_status smbsess__smb2_ioctl_parse(const struct smbsess__smb2_resp *r, TALLOC_CTX *mem_ctx,
						uint8_t **out, size_t *out_len, bool *more);

/*
 * A session is being freed: if requests of it are still to be answered
 * (cancelled ones, whose answers are read and dropped), its keys stay on
 * the connection until they are, so that those answers can still be
 * verified or decrypted.
 */
void smbsess__smb2_conn_session_gone(struct smbsess__smb2_conn *conn, const struct smbsess__smb2_session *session);

/* Sets the connection's fatal error (the first one wins) and fails everything in flight. */
void smbsess__smb2_conn_fail(struct smbsess__smb2_conn *conn, struct smbsess_status st);

#endif
