/*
 * sessions_async: list the sessions of several servers at once, on one
 * tevent loop, with the asynchronous API.
 *
 *   sessions_async PORT DOMAIN USER PASSWORD SERVER [SERVER...]
 *
 * Build: cc sessions_async.c $(pkg-config --cflags --libs smbsess)
 */
#include <stdio.h>
#include <stdlib.h>

#include <smbsess/smbsess.h>

struct server {
	const char *name;
	struct tevent_context *ev;
	struct smbsess_conn *conn;
	int *pending;
};

static void report(const struct server *s, const char *step, struct smbsess_status st)
{
	char msg[256];

	fprintf(stderr, "%s: %s: %s\n", s->name, step, smbsess_status_describe(st, msg, sizeof msg));
}

static void enum_done(struct tevent_req *req)
{
	struct server *s = tevent_req_callback_data_void(req);
	struct smbsess_session_list *list = NULL;
	/* The list is allocated on s; talloc_free(list) would release it early. */
	struct smbsess_status st = smbsess_session_enum_recv(req, s, &list);

	talloc_free(req);
	(*s->pending)--;
	if (!smbsess_status_is_ok(st)) {
		report(s, "session enumeration", st);
		return;
	}
	for (size_t i = 0; i < smbsess_session_list_count(list); i++)
		printf("%s\t\\\\%s\t%s\topens=%u\ttime=%u\tidle=%u\n", s->name, smbsess_session_client(list, i),
		       smbsess_session_user(list, i) ? smbsess_session_user(list, i) : "",
		       smbsess_session_num_opens(list, i), smbsess_session_time(list, i),
		       smbsess_session_idle_time(list, i));
}

static void connected(struct tevent_req *req)
{
	struct server *s = tevent_req_callback_data_void(req);
	struct smbsess_status st = smbsess_connect_recv(req, s, &s->conn);

	talloc_free(req);
	if (!smbsess_status_is_ok(st)) {
		(*s->pending)--;
		report(s, "connect", st);
		return;
	}
	req = smbsess_session_enum_send(s, s->ev, s->conn, NULL, NULL, SMBSESS_LEVEL_BEST);
	if (req == NULL) {
		(*s->pending)--;
		return;
	}
	tevent_req_set_callback(req, enum_done, s);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct smbsess_credentials *creds;
	struct smbsess_options *opts;
	int pending = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s PORT DOMAIN USER PASSWORD SERVER [SERVER...]\n", argv[0]);
		return 2;
	}
	if (ev == NULL || !smbsess_status_is_ok(smbsess_credentials_new(mem, argv[2], argv[3], argv[4], &creds)) ||
	    !smbsess_status_is_ok(smbsess_options_new(mem, &opts)) ||
	    !smbsess_status_is_ok(smbsess_options_set_port(opts, (uint16_t)atoi(argv[1]))))
		return 1;
	for (int i = 5; i < argc; i++) {
		struct server *s = talloc_zero(mem, struct server);
		struct tevent_req *req;

		s->name = argv[i];
		s->ev = ev;
		s->pending = &pending;
		req = smbsess_connect_send(s, ev, argv[i], creds, opts);
		if (req == NULL)
			return 1;
		tevent_req_set_callback(req, connected, s);
		pending++;
	}
	while (pending > 0)
		tevent_loop_once(ev);
	talloc_free(mem); /* connections, lists and the loop, all at once */
	return 0;
}
