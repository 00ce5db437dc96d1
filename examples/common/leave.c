/* Leaving servers politely (leave.h). SPDX-License-Identifier: LGPL-3.0-or-later */
#include <stdbool.h>

#include "leave.h"

struct leave_wait {
	size_t pending;
	bool expired;
};

static void left(struct tevent_req *req)
{
	struct leave_wait *w = tevent_req_callback_data_void(req);

	(void)smbsess_disconnect_recv(req);
	talloc_free(req);
	w->pending--;
}

static void expired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct leave_wait *w = private_data;

	(void)ev;
	(void)te;
	(void)now;
	w->expired = true;
}

void leave_all(struct tevent_context *ev, struct smbsess_conn ***conns, size_t n, uint32_t timeout_ms)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct leave_wait w = { 0, false };
	struct tevent_timer *te = NULL;

	for (size_t i = 0; tmp != NULL && i < n; i++) {
		struct tevent_req *req;

		if (*conns[i] == NULL)
			continue;
		req = smbsess_disconnect_send(tmp, ev, *conns[i]);
		if (req == NULL)
			continue;
		tevent_req_set_callback(req, left, &w);
		w.pending++;
	}
	if (w.pending > 0)
		te = tevent_add_timer(ev, tmp, tevent_timeval_current_ofs(timeout_ms / 1000, (timeout_ms % 1000) * 1000),
				      expired, &w);
	while (te != NULL && w.pending > 0 && !w.expired)
		if (tevent_loop_once(ev) != 0)
			break;
	/* Requests still waiting are cancelled with their connections. */
	talloc_free(tmp);
	for (size_t i = 0; i < n; i++)
		TALLOC_FREE(*conns[i]);
}
