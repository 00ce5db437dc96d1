/*
 * A scripted srvsvc server behind an in-memory RPC transport: it pages like
 * Windows (a preferred-length budget, resume handles, ERROR_MORE_DATA until
 * the last page), and can be told to misbehave in ways a real server
 * won't. Requests are decoded, and answers encoded, with lib/srvsvc's coders.
 */
#ifndef SMBSESS_TESTS_FAKE_SRVSVC_H
#define SMBSESS_TESTS_FAKE_SRVSVC_H

#include "rpc/rpc.h"
#include "srvsvc/srvsvc.h"

struct fake_srvsvc {
	/* what the server has */
	uint32_t n_sessions;
	uint32_t n_files;
	uint32_t sess_levels;   /* bit per level index of {502, 2, 1, 10, 0}; 0: all */
	uint32_t file_levels;   /* bit per level index of {3, 2}; 0: all */
	/* misbehaviour */
	bool stuck_resume;      /* ERROR_MORE_DATA with a resume handle that never moves */
	bool get_info_fault;    /* NetrFileGetInfo answered by a fault (as Samba) */
	uint32_t force_result;  /* non-zero: every call answers this WERROR */
	/* what happened */
	unsigned calls;
	unsigned pages;
	uint32_t last_level;
	uint32_t last_max_buffer;
	/* the byte stream towards the client */
	uint8_t *out;
	size_t out_len, out_ofs;
	uint8_t *req_stub;      /* request fragments gathered so far */
	size_t req_len;
	uint16_t max_recv_frag;
};

/* A transport serving @p f (which the caller owns and keeps alive). */
struct smbsess__rpc_transport *fake_srvsvc_transport(TALLOC_CTX *mem_ctx, struct fake_srvsvc *f);

/* The entries the server has, for comparisons. */
void fake_srvsvc_file(TALLOC_CTX *mem, uint32_t i, struct smbsess__srvsvc_file_info *out);
void fake_srvsvc_session(TALLOC_CTX *mem, uint32_t i, struct smbsess__srvsvc_sess_info *out);

#endif
