/*
 * lib/rpc: connection-oriented DCE/RPC ([C706] chapter 12, [MS-RPCE] 2.2.2)
 * over a named pipe. NDR 2.0 only, one presentation context per pipe, no
 * RPC-level authentication: SMB signing or encryption protects the pipe.
 *
 * Three pieces:
 *  - a transport: three operations on a message pipe (transceive, write,
 *    read), each a tevent send/recv pair. pipe_smb2.c implements them over an
 *    SMB2 named pipe; tests plug in their own.
 *  - a bind (smbsess__rpc_bind_send) that negotiates the fragment sizes and
 *    yields a struct smbsess__rpc_pipe.
 *  - calls (smbsess__rpc_call_send): one request stub in, one response stub
 *    out, with fragmentation and reassembly. Calls on one pipe run one at a
 *    time in the order they were made; later ones wait in a queue.
 *
 * Pipe states. A pipe stays usable after a call that succeeded or ended in
 * a fault PDU. Anything that may leave bytes of a call in the pipe breaks
 * it: a transport error, a malformed or unexpected PDU, a limit exceeded, a
 * timeout, freeing a call while it is in flight, or an answer that ends
 * while READs the server's alloc_hint called for are still out (the answer
 * stands; the pipe breaks with SMBSESS_E_PROTOCOL, as such a READ may yet
 * take bytes of the next call).
 *
 * Reads are pipelined: once the first fragment of an answer is in, its
 * alloc_hint and frag_length say how many bytes remain, and READs of one
 * fragment each go out at once to cover them (at most 128 in flight);
 * without an alloc_hint, one READ at a time. A broken pipe fails
 * every later or queued call with SMBSESS_E_DISCONNECTED; what broke it is
 * smbsess__rpc_pipe_error(): the call's own status, SMBSESS_E_TIMEOUT for a
 * call that timed out in flight, SMBSESS_E_CANCELLED for one freed in
 * flight. To go on, open and bind a new pipe. (A call that times out or is
 * freed while it still waits in the queue leaves the pipe as it was.)
 *
 * Completeness of an answer is decided from frag_length and PFC_LAST_FRAG
 * alone, never from the transport's "more": Samba says STATUS_SUCCESS or
 * STATUS_BUFFER_OVERFLOW at fragment boundaries depending on what its RPC
 * server has queued at that moment.
 */
#ifndef SMBSESS_LIB_RPC_H
#define SMBSESS_LIB_RPC_H

#include <tevent.h>

#include "../util/util.h"

struct smbsess__smb2_tree;
struct smbsess__smb2_session;

/* ---- the transport ---- */

/*
 * The operations of a message-mode pipe. @p ctx is the transport's ctx.
 * Requests complete from the event loop, never inside the send function,
 * and may be freed at any time to cancel them. The data given to a send
 * stays valid until the request completes or is freed. A recv calls
 * tevent_req_received; buffers it returns belong to @p mem_ctx.
 */
struct smbsess__rpc_transport_ops {
	const char *name;
	/*
	 * Writes all @p len bytes as one message and reads the answer, at most
	 * @p max_out bytes; *more: the server has more bytes queued (the SMB2
	 * IOCTL FSCTL_PIPE_TRANSCEIVE answered STATUS_BUFFER_OVERFLOW).
	 */
	struct tevent_req *(*transceive_send)(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					      const uint8_t *data, size_t len, uint32_t max_out);
	struct smbsess_status (*transceive_recv)(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						 uint8_t **out, size_t *out_len, bool *more);
	/* Writes all @p len bytes (the SMB2 WRITE). */
	struct tevent_req *(*write_send)(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					 const uint8_t *data, size_t len);
	struct smbsess_status (*write_recv)(struct tevent_req *req);
	/* Reads at least one and at most @p max bytes (the SMB2 READ); *more as above. */
	struct tevent_req *(*read_send)(TALLOC_CTX *mem_ctx, struct tevent_context *ev, void *ctx,
					uint32_t max);
	struct smbsess_status (*read_recv)(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					   uint8_t **out, size_t *out_len, bool *more);
};

struct smbsess__rpc_transport {
	const struct smbsess__rpc_transport_ops *ops;
	void *ctx;
};

/*
 * Opens the named pipe @p pipe_name (for example "srvsvc") on @p tree (an
 * IPC$ tree connection) and returns a transport over it, allocated on
 * @p mem_ctx; freeing the transport closes the pipe (an SMB2 CLOSE sent in
 * the background, allocated on the tree). If the tree goes away first, the
 * transport's operations fail with SMBSESS_E_DISCONNECTED.
 */
struct tevent_req *smbsess__rpc_smb2_open_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					       struct smbsess__smb2_tree *tree, const char *pipe_name);
struct smbsess_status smbsess__rpc_smb2_open_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						  struct smbsess__rpc_transport **transport);

/*
 * A transport over the named pipe @p pipe_name of \\\\server\\@p share that
 * opens itself on its first transceive (the bind): TREE_CONNECT + CREATE +
 * IOCTL in one related compound, one round trip. No I/O here; NULL when
 * out of memory or the name is invalid. Its first operation must be a
 * transceive (others fail with SMBSESS_E_INVALID_ARGUMENT until then). The
 * tree it connects is allocated on @p session; freeing the transport closes
 * the pipe in the background as for smbsess__rpc_smb2_open_send.
 */
struct smbsess__rpc_transport *smbsess__rpc_smb2_pipe_new(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
							  struct smbsess__smb2_session *session,
							  const char *share, const char *pipe_name);

/* The tree an SMB2 transport's pipe is open on (NULL before it opened, or for another transport). */
struct smbsess__smb2_tree *smbsess__rpc_smb2_tree(const struct smbsess__rpc_transport *transport);

/*
 * Leaves an open SMB2 pipe politely: CLOSE + TREE_DISCONNECT + LOGOFF of its
 * session in one compound. The transport cannot be used after, and its
 * destructor then sends nothing.
 */
struct tevent_req *smbsess__rpc_smb2_leave_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						struct smbsess__rpc_transport *transport);
struct smbsess_status smbsess__rpc_smb2_leave_recv(struct tevent_req *req);

/* ---- bind ---- */

/* srvsvc: 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0, in wire (little-endian GUID) layout. */
extern const uint8_t smbsess__rpc_srvsvc_uuid[16];
#define SMBSESS__RPC_SRVSVC_VERS_MAJOR 3
#define SMBSESS__RPC_SRVSVC_VERS_MINOR 0

/* NDR 2.0: 8a885d04-1ceb-11c9-9fe8-08002b104860 v2, in wire layout. */
extern const uint8_t smbsess__rpc_ndr20_uuid[16];

/*
 * What we propose in the bind, for both directions: the largest fragment
 * there is, so that the server's own limit decides (Samba answers 5840).
 */
#define SMBSESS__RPC_MAX_FRAG 65535
/* Neither side may announce less ([C706] 12.6.3.1: MustRecvFragSize). */
#define SMBSESS__RPC_MIN_FRAG 1432
/* 0 as a timeout means this. */
#define SMBSESS__RPC_DEFAULT_TIMEOUT_MS 60000
/* The default caps on one response: stub bytes and fragments. */
#define SMBSESS__RPC_DEFAULT_MAX_STUB (64u * 1024 * 1024)
#define SMBSESS__RPC_DEFAULT_MAX_FRAGS 100000u

struct smbsess__rpc_pipe;

/*
 * Binds interface @p uuid (wire layout) version @p vers_major.@p vers_minor
 * with NDR 2.0 as the only transfer syntax, over @p transport, within
 * @p timeout_ms (0: the default). A bind_nak, or a bind_ack whose result for
 * our context is not an acceptance of NDR 2.0, fails with
 * SMBSESS_E_BIND_REJECTED; a malformed answer with SMBSESS_E_PROTOCOL.
 *
 * @p transport must be a talloc object; on success the pipe owns it (it
 * becomes a talloc child of the pipe, so freeing the pipe closes an SMB2
 * pipe). On failure it stays with the caller.
 */
struct tevent_req *smbsess__rpc_bind_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess__rpc_transport *transport, const uint8_t uuid[16],
					  uint16_t vers_major, uint16_t vers_minor, uint32_t timeout_ms);
/* The pipe is allocated on @p mem_ctx; *pipe is only set on success. */
struct smbsess_status smbsess__rpc_bind_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					     struct smbsess__rpc_pipe **pipe);

/* The negotiated sizes: largest fragment we send, largest we accept. */
uint16_t smbsess__rpc_pipe_max_xmit_frag(const struct smbsess__rpc_pipe *pipe);
uint16_t smbsess__rpc_pipe_max_recv_frag(const struct smbsess__rpc_pipe *pipe);

/*
 * Caps on one response: @p max_stub bytes of stub data (SMBSESS_E_LIMIT
 * beyond; 0 keeps the current value) and @p max_frags fragments (likewise).
 * Requests larger than @p max_stub are refused with SMBSESS_E_LIMIT too.
 */
void smbsess__rpc_pipe_set_limits(struct smbsess__rpc_pipe *pipe, size_t max_stub, uint32_t max_frags);

/* OK while the pipe is usable; else the status that broke it. */
struct smbsess_status smbsess__rpc_pipe_error(const struct smbsess__rpc_pipe *pipe);

/* ---- calls ---- */

/*
 * Calls operation @p opnum with the NDR stub @p stub (copied) and returns
 * the response stub. @p ev must be the event context the pipe was bound on.
 * The call waits for the calls before it on the pipe; @p timeout_ms (0: the
 * default) counts from now, waiting included. Freeing the request while it
 * waits removes it from the queue; freeing it while it is in flight breaks
 * the pipe (see the top of this file).
 *
 * A fault PDU fails the call with a status in SMBSESS_DOMAIN_RPC whose code
 * is the fault's status; the pipe stays usable.
 */
struct tevent_req *smbsess__rpc_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					  struct smbsess__rpc_pipe *pipe, uint16_t opnum,
					  const uint8_t *stub, size_t len, uint32_t timeout_ms);
/*
 * *out_stub (allocated on @p mem_ctx, never NULL on success, even for an
 * empty stub) and *out_len are only set on success.
 */
struct smbsess_status smbsess__rpc_call_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					     uint8_t **out_stub, size_t *out_len);

#endif /* SMBSESS_LIB_RPC_H */
