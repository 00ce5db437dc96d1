/*
 * Non-blocking TCP connect: numeric addresses directly, host names resolved
 * on a worker thread, each address tried in turn within one time limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smb2.h"
#include "../util/job.h"
#include "../util/treq.h"

#define MAX_ADDRS 16

/* Filled by the resolver thread; malloc'd so the thread can outlive the request. */
struct resolve_job {
	char *host;
	char port[8];
	int err; /* EAI_* */
	int sys_errno;
	size_t n;
	struct sockaddr_storage addrs[MAX_ADDRS];
	socklen_t lens[MAX_ADDRS];
};

static void resolve_free(void *arg)
{
	struct resolve_job *j = arg;

	free(j->host);
	free(j);
}

static void resolve_run(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;

	j->err = getaddrinfo(j->host, j->port, &hints, &res);
	if (j->err == EAI_SYSTEM)
		j->sys_errno = errno;
	for (struct addrinfo *a = res; a && j->n < MAX_ADDRS; a = a->ai_next) {
		if (a->ai_addrlen > sizeof j->addrs[0])
			continue;
		memcpy(&j->addrs[j->n], a->ai_addr, a->ai_addrlen);
		j->lens[j->n++] = a->ai_addrlen;
	}
	if (res)
		freeaddrinfo(res);
}

struct tcp_state {
	struct tevent_context *ev;
	uint16_t port;
	struct sockaddr_storage addrs[MAX_ADDRS];
	socklen_t lens[MAX_ADDRS];
	size_t n, next;
	int fd;
	struct tevent_fd *fde;
	struct smbsess_status last;
	struct resolve_job *job; /* owned by the job request while it runs */
};

static int tcp_state_destructor(struct tcp_state *s)
{
	TALLOC_FREE(s->fde);
	if (s->fd >= 0)
		close(s->fd);
	return 0;
}

static void tcp_try_next(struct tevent_req *req);

static void tcp_connected(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	struct tevent_req *req = private_data;
	struct tcp_state *s = tevent_req_data(req, struct tcp_state);
	int err = 0;
	socklen_t len = sizeof err;

	(void)ev;
	(void)fde;
	(void)flags;
	TALLOC_FREE(s->fde);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0) {
		tevent_req_done(req);
		return;
	}
	s->last = SMBSESS__ST_ERRNO(err);
	close(s->fd);
	s->fd = -1;
	tcp_try_next(req);
}

static void tcp_try_next(struct tevent_req *req)
{
	struct tcp_state *s = tevent_req_data(req, struct tcp_state);

	while (s->next < s->n) {
		struct sockaddr_storage *a = &s->addrs[s->next];
		socklen_t alen = s->lens[s->next];
		int one = 1;

		s->next++;
		if (a->ss_family == AF_INET)
			((struct sockaddr_in *)a)->sin_port = htons(s->port);
		else if (a->ss_family == AF_INET6)
			((struct sockaddr_in6 *)a)->sin6_port = htons(s->port);
		else
			continue;
		s->fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			s->last = SMBSESS__ST_ERRNO(errno);
			continue;
		}
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s->fd, (struct sockaddr *)a, alen) == 0) {
			tevent_req_done(req);
			return;
		}
		if (errno == EINPROGRESS) {
			/* READ too: tevent reports a refused connect (EPOLLERR) only to readers. */
			s->fde = tevent_add_fd(s->ev, s, s->fd, TEVENT_FD_READ | TEVENT_FD_WRITE, tcp_connected, req);
			if (tevent_req_nomem(s->fde, req))
				return;
			return;
		}
		s->last = SMBSESS__ST_ERRNO(errno);
		close(s->fd);
		s->fd = -1;
	}
	smbsess__req_nok(req, s->last);
}

static bool parse_numeric(struct tcp_state *s, const char *host)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&s->addrs[0];
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s->addrs[0];

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof buf) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	memset(&s->addrs[0], 0, sizeof s->addrs[0]);
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		s->lens[0] = sizeof *v4;
		s->n = 1;
		return true;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		s->lens[0] = sizeof *v6;
		s->n = 1;
		return true;
	}
	return false;
}


static void tcp_resolved(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct tcp_state *s = tevent_req_data(req, struct tcp_state);
	struct resolve_job *j = s->job;
	struct smbsess_status st;

	/* Read the results before the job request is received: that frees them. */
	if (j->err == 0) {
		s->n = j->n;
		memcpy(s->addrs, j->addrs, sizeof s->addrs);
		memcpy(s->lens, j->lens, sizeof s->lens);
	} else if (j->err == EAI_SYSTEM) {
		s->last = SMBSESS__ST_ERRNO(j->sys_errno);
	} else {
		s->last = j->err == EAI_MEMORY ? SMBSESS__ST_NOMEM : SMBSESS__ST_LIB(SMBSESS_E_HOST_NOT_FOUND);
	}
	s->job = NULL;
	st = smbsess__job_recv(subreq);
	if (smbsess__req_nok(req, st))
		return;
	if (s->n == 0) {
		smbsess__req_nok(req, s->last);
		return;
	}
	tcp_try_next(req);
}

struct tevent_req *smbsess__tcp_connect_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					     const char *host, uint16_t port, uint32_t timeout_ms)
{
	struct tevent_req *req, *subreq;
	struct tcp_state *s;
	struct resolve_job *j;

	req = tevent_req_create(mem_ctx, &s, struct tcp_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->port = port;
	s->fd = -1;
	s->last = SMBSESS__ST_ERRNO(EHOSTUNREACH);
	talloc_set_destructor(s, tcp_state_destructor);
	if (host == NULL || host[0] == '\0' || port == 0) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (!smbsess__req_set_timeout(req, ev, timeout_ms ? timeout_ms : 30000)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	if (parse_numeric(s, host)) {
		tcp_try_next(req);
		if (!tevent_req_is_in_progress(req))
			return tevent_req_post(req, ev);
		return req;
	}
	j = calloc(1, sizeof *j);
	if (j == NULL || (j->host = strdup(host)) == NULL) {
		free(j);
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	snprintf(j->port, sizeof j->port, "%u", (unsigned)port);
	s->job = j;
	subreq = smbsess__job_send(s, ev, resolve_run, j, resolve_free);
	if (tevent_req_nomem(subreq, req))
		return tevent_req_post(req, ev);
	tevent_req_set_callback(subreq, tcp_resolved, req);
	return req;
}

struct smbsess_status smbsess__tcp_connect_recv(struct tevent_req *req, int *fd)
{
	struct tcp_state *s = tevent_req_data(req, struct tcp_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*fd = s->fd;
		s->fd = -1;
	}
	tevent_req_received(req);
	return st;
}
