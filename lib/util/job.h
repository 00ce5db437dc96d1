/*
 * Running a blocking function on a worker thread without stalling the
 * tevent loop (name resolution now, GSSAPI calls later).
 *
 * @p fn runs on its own thread with @p arg. @p arg must not be talloc memory
 * shared with the loop: allocate it with malloc or on a separate talloc root
 * the loop does not touch until the job is done. The request completes on
 * the loop when fn has returned; then the caller reads its results from arg.
 * Freeing the request before that detaches the job: the thread finishes
 * alone and @p free_arg(arg) runs on it. On normal completion, free_arg runs
 * when the request is freed.
 */
#ifndef SMBSESS_LIB_UTIL_JOB_H
#define SMBSESS_LIB_UTIL_JOB_H

#include <tevent.h>

#include "util.h"

typedef void (*smbsess__job_fn)(void *arg);

struct tevent_req *smbsess__job_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
				     smbsess__job_fn fn, void *arg, void (*free_arg)(void *arg));
struct smbsess_status smbsess__job_recv(struct tevent_req *req);

#endif
