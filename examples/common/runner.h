/*
 * The fan-out runner: jobs, one per server, on one tevent loop, at most
 * `parallel` of them at once, each with its own deadline that starts when
 * the job starts (a job waiting for a slot spends none of its time).
 * One job's failure is that job's alone.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_RUNNER_H
#define EXAMPLES_COMMON_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbsess/smbsess.h>

struct runner;
struct runner_job;

typedef void (*runner_fn)(struct runner_job *job, void *private_data);

/* A runner on @p mem; @p parallel 0 means no cap. */
struct runner *runner_new(TALLOC_CTX *mem, struct tevent_context *ev, size_t parallel);

/*
 * Queues a job. When a slot is free, start(job, private_data) is called; it
 * starts the job's work, which ends with runner_job_done(job). When
 * @p deadline_ms > 0 and the job has not ended that long after it started,
 * expire(job, private_data) is called: it cancels the job's work and calls
 * runner_job_done(job). NULL when out of memory.
 */
struct runner_job *runner_submit(struct runner *r, uint32_t deadline_ms, runner_fn start, runner_fn expire,
				 void *private_data);

/* The job has ended (or, still waiting, is dropped): its slot goes to the next job waiting. The job is freed. */
void runner_job_done(struct runner_job *job);

/* Jobs waiting or running. */
size_t runner_pending(const struct runner *r);

/* Expires every job, running or waiting (when the event loop has failed). */
void runner_abort(struct runner *r);

/* Runs the event loop until no job waits or runs; false when the loop failed (errno says why). */
bool runner_wait(struct runner *r);

/* Milliseconds as a tevent time from now. */
struct timeval runner_ofs_ms(uint64_t ms);

#endif
