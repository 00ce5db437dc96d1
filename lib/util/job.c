#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "job.h"
#include "treq.h"

/* Shared by the thread and the loop; freed by whichever lets go last. */
struct job {
	pthread_mutex_t lock;
	int refs;
	int fds[2]; /* the thread writes one byte to fds[1] when fn returned */
	smbsess__job_fn fn;
	void *arg;
	void (*free_arg)(void *arg);
};

static void job_unref(struct job *j)
{
	int left;

	pthread_mutex_lock(&j->lock);
	left = --j->refs;
	pthread_mutex_unlock(&j->lock);
	if (left > 0)
		return;
	if (j->free_arg)
		j->free_arg(j->arg);
	close(j->fds[0]);
	close(j->fds[1]);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *job_thread(void *p)
{
	struct job *j = p;
	char one = 1;
	ssize_t n;

	j->fn(j->arg);
	do {
		n = write(j->fds[1], &one, 1);
	} while (n < 0 && errno == EINTR);
	job_unref(j);
	return NULL;
}

struct job_state {
	struct job *job;
	struct tevent_fd *fde;
};

static int job_state_destructor(struct job_state *s)
{
	TALLOC_FREE(s->fde);
	if (s->job)
		job_unref(s->job);
	return 0;
}

static void job_done(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	struct tevent_req *req = private_data;
	struct job_state *s = tevent_req_data(req, struct job_state);

	(void)ev;
	(void)fde;
	(void)flags;
	TALLOC_FREE(s->fde);
	tevent_req_done(req);
}

struct tevent_req *smbsess__job_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
				     smbsess__job_fn fn, void *arg, void (*free_arg)(void *arg))
{
	struct tevent_req *req;
	struct job_state *s;
	struct job *j;
	pthread_t tid;
	pthread_attr_t attr;
	int rc;

	req = tevent_req_create(mem_ctx, &s, struct job_state);
	if (req == NULL)
		return NULL;
	talloc_set_destructor(s, job_state_destructor);
	j = calloc(1, sizeof *j);
	if (j == NULL) {
		if (free_arg)
			free_arg(arg);
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	j->fn = fn;
	j->arg = arg;
	j->free_arg = free_arg;
	j->refs = 1;
	pthread_mutex_init(&j->lock, NULL);
	if (pipe2(j->fds, O_CLOEXEC) != 0) {
		int e = errno;
		if (free_arg)
			free_arg(arg);
		pthread_mutex_destroy(&j->lock);
		free(j);
		smbsess__req_nok(req, SMBSESS__ST_ERRNO(e));
		return tevent_req_post(req, ev);
	}
	s->job = j;
	s->fde = tevent_add_fd(ev, s, j->fds[0], TEVENT_FD_READ, job_done, req);
	if (tevent_req_nomem(s->fde, req))
		return tevent_req_post(req, ev);

	j->refs = 2; /* the loop's and the thread's */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, job_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		j->refs = 1;
		smbsess__req_nok(req, SMBSESS__ST_ERRNO(rc));
		return tevent_req_post(req, ev);
	}
	return req;
}

struct smbsess_status smbsess__job_recv(struct tevent_req *req)
{
	struct smbsess_status st = smbsess__req_status(req);

	tevent_req_received(req);
	return st;
}
