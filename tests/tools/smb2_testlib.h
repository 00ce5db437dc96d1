/* Shared by the SMB2 test tools: run the loop, connect all the way to IPC$. */
#ifndef SMBSESS_TESTS_SMB2_TESTLIB_H
#define SMBSESS_TESTS_SMB2_TESTLIB_H

#include "smb2/smb2.h"
#include "auth/ntlmssp.h"

/* Runs @p ev until @p req is no longer in progress; false when the loop fails. */
bool testlib_wait(struct tevent_context *ev, struct tevent_req *req);

/* Prints step=, error=, code= lines for a failure and returns 1. */
int testlib_fail(const char *step, struct smbsess_status st);

/*
 * Connects to HOST:PORT, negotiates, authenticates and connects to IPC$.
 * On failure prints it (testlib_fail) and returns its status; *step names it.
 */
struct smbsess_status testlib_connect(TALLOC_CTX *mem, struct tevent_context *ev, const char *host,
				      uint16_t port, const char *name,
				      const struct smbsess__smb2_options *opts, const char *domain,
				      const char *user, const char *password,
				      struct smbsess__smb2_conn **conn,
				      struct smbsess__smb2_session **session,
				      struct smbsess__smb2_tree **tree, const char **step);

/* A DCE/RPC bind PDU to srvsvc v3.0 with NDR 2.0, call id 1; returns its length (72). */
size_t testlib_make_bind(uint8_t b[72]);

#endif
