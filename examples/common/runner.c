/*
 * The fan-out runner (see runner.h).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>

#include "runner.h"

struct runner_job {
	struct runner *r;
	struct runner_job *next; /* in the queue, or among the running jobs */
	struct runner_job *prev; /* among the running jobs */
	uint32_t deadline_ms;
	runner_fn start, expire;
	void *private_data;
	struct tevent_timer *timer;
	bool running;
};

struct runner {
	struct tevent_context *ev;
	size_t parallel;
	size_t running;
	size_t waiting;
	struct runner_job *head, *tail; /* waiting */
	struct runner_job *active;      /* running */
	bool pumping;
};

struct timeval runner_ofs_ms(uint64_t ms)
{
	return tevent_timeval_current_ofs((uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
}

struct runner *runner_new(TALLOC_CTX *mem, struct tevent_context *ev, size_t parallel)
{
	struct runner *r = talloc_zero(mem, struct runner);

	if (r != NULL) {
		r->ev = ev;
		r->parallel = parallel;
	}
	return r;
}

static void job_expired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct runner_job *job = private_data;

	(void)ev, (void)te, (void)now;
	job->timer = NULL; /* a fired timer frees itself */
	job->expire(job, job->private_data);
}

/* Starts waiting jobs while slots are free; not re-entered from a job that ends at once. */
static void pump(struct runner *r)
{
	if (r->pumping)
		return;
	r->pumping = true;
	while (r->head != NULL && (r->parallel == 0 || r->running < r->parallel)) {
		struct runner_job *job = r->head;

		r->head = job->next;
		if (r->head == NULL)
			r->tail = NULL;
		r->waiting--;
		r->running++;
		job->running = true;
		job->prev = NULL;
		job->next = r->active;
		if (r->active != NULL)
			r->active->prev = job;
		r->active = job;
		if (job->deadline_ms > 0)
			job->timer = tevent_add_timer(r->ev, job, runner_ofs_ms(job->deadline_ms), job_expired, job);
		job->start(job, job->private_data);
	}
	r->pumping = false;
}

struct runner_job *runner_submit(struct runner *r, uint32_t deadline_ms, runner_fn start, runner_fn expire,
				 void *private_data)
{
	struct runner_job *job = talloc_zero(r, struct runner_job);

	if (job == NULL)
		return NULL;
	*job = (struct runner_job){ .r = r, .deadline_ms = deadline_ms, .start = start, .expire = expire,
				    .private_data = private_data };
	if (r->tail != NULL)
		r->tail->next = job;
	else
		r->head = job;
	r->tail = job;
	r->waiting++;
	pump(r);
	return job;
}

void runner_job_done(struct runner_job *job)
{
	struct runner *r = job->r;

	if (job->running) {
		r->running--;
		if (job->prev != NULL)
			job->prev->next = job->next;
		else
			r->active = job->next;
		if (job->next != NULL)
			job->next->prev = job->prev;
	} else {
		/* Ended before it started: out of the queue. */
		struct runner_job **pp = &r->head, *last = NULL;

		while (*pp != NULL && *pp != job) {
			last = *pp;
			pp = &(*pp)->next;
		}
		if (*pp == job) {
			*pp = job->next;
			if (r->tail == job)
				r->tail = last;
			r->waiting--;
		}
	}
	talloc_free(job); /* and its timer */
	pump(r);
}

size_t runner_pending(const struct runner *r)
{
	return r->running + r->waiting;
}

void runner_abort(struct runner *r)
{
	r->parallel = 0; /* every waiting job starts, and is expired at once */
	pump(r);
	while (r->active != NULL) {
		struct runner_job *job = r->active;

		TALLOC_FREE(job->timer);
		job->expire(job, job->private_data);
		if (r->active == job) /* it did not end: end it here */
			runner_job_done(job);
	}
}

bool runner_wait(struct runner *r)
{
	while (runner_pending(r) > 0)
		if (tevent_loop_once(r->ev) != 0)
			return false;
	return true;
}
