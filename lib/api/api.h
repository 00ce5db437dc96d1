/*
 * lib/api: the only layer that exports symbols. Every exported function is
 * declared in include/smbsess/ with SMBSESS_API and listed in libsmbsess.map.
 */
#ifndef SMBSESS_LIB_API_H
#define SMBSESS_LIB_API_H

#include <smbsess/smbsess.h>

#include "../util/util.h"
#include "../util/treq.h"
#include "../ndr/ndr.h"
#include "../srvsvc/srvsvc.h"
#include "../auth/ntlmssp.h"
#include "../auth/spnego.h"
#include "../smb2/smb2.h"
#include "../rpc/rpc.h"

/* The NTLM identity, the Kerberos source and the mechanism policy (lib/auth/creds.h). */
struct smbsess_credentials {
	struct smbsess__creds *creds;
};

struct smbsess_options {
	uint16_t port;
	char *address;
	uint32_t timeout_ms;
	enum smbsess_policy signing, encryption;
	uint16_t min_dialect, max_dialect;
	uint32_t max_entries;
	size_t max_bytes;            /* memory one enumeration may hold */
	uint32_t page_size;
};

struct smbsess_conn {
	struct tevent_context *ev;
	struct tevent_context *own_ev; /* made by the blocking smbsess_connect */
	char *server;
	char *server_unc;              /* \\server */
	struct smbsess_options opts;
	struct smbsess__smb2_conn *smb2;
	struct smbsess__smb2_session *session;
	struct smbsess__smb2_tree *tree;
	struct smbsess__rpc_pipe *pipe;
	struct smbsess__rpc_transport *transport; /* the pipe's, for leaving (NULL over a test's pipe) */
	bool left;                     /* smbsess_disconnect sent the leave */
	bool anonymous;                /* the credentials had no user (for smbsess_conn_auth) */
	/* levels the server said it does not support (ERROR_INVALID_LEVEL) */
	uint32_t bad_sess_levels, bad_file_levels, bad_conn_levels;
};

/* The defaults of smbsess_options_new. */
void smbsess__options_defaults(struct smbsess_options *o);

/*
 * A connection over an already bound RPC pipe, for tests that put a
 * scripted server behind an RPC transport. @p pipe becomes the connection's.
 */
struct smbsess_status smbsess__conn_from_pipe(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					      const char *server, const struct smbsess_options *opts,
					      struct smbsess__rpc_pipe *pipe, struct smbsess_conn **conn);

/*
 * One srvsvc call: pushes @p in with @p in_fn, calls @p opnum, pulls the
 * answer into @p out (of @p out_size bytes) with @p out_fn, its memory on
 * @p out_mem. A transport or RPC failure is the status; the operation's
 * WERROR stays in @p out.
 */
struct tevent_req *smbsess__api_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess_conn *conn, uint16_t opnum,
					  smbsess__ndr_fn in_fn, void *in,
					  smbsess__ndr_fn out_fn, void *out, size_t out_size,
					  TALLOC_CTX *out_mem);
struct smbsess_status smbsess__api_call_recv(struct tevent_req *req);

/* Runs the connection's event context until @p req is done. */
struct smbsess_status smbsess__api_wait(struct smbsess_conn *conn, struct tevent_req *req);

/* "\\name" for a request: adds the two backslashes when missing; NULL stays NULL. */
char *smbsess__unc_name(TALLOC_CTX *mem_ctx, const char *name);

/* The default of smbsess_options_set_max_bytes: 512 MiB, as one NDR decode. */
#define SMBSESS__DEFAULT_MAX_BYTES ((size_t)512 * 1024 * 1024)

#define SMBSESS__WERR_INVALID_LEVEL 124u
#define SMBSESS__WERR_MORE_DATA 234u
#define SMBSESS__NERR_FILE_ID_NOT_FOUND 2314u
#define SMBSESS__RPC_OP_RNG_ERROR 0x1C010002u

#endif
