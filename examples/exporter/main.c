/*
 * smbsess_exporter: Prometheus metrics of the SMB sessions and open files
 * of Windows and Samba servers, asked remotely over MS-SRVSVC.
 *
 *   smbsess_exporter --web.listen-address=ADDR:PORT --targets FILE
 *                    [-A AUTHFILE | -k [--keytab FILE --principal P]]
 *                    [--timeout SECONDS] [--per-user]
 *
 * GET /metrics asks every target of the targets file (the format of smbnet
 * -S @FILE), all at once; GET /probe?target=HOST[:PORT] asks one, for
 * Prometheus' multi-target pattern. The HTTP server is libmicrohttpd,
 * driven from the tevent loop of libsmbsess: its epoll descriptor is one
 * more fd of the loop, and a request waits suspended while its targets are
 * asked. See docs/smbsess_exporter.1.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "exporter.h"
#include "../common/creds.h"
#include "../common/servers.h"
#include "../common/text.h"

static const char *const progname = "smbsess_exporter";

#define DEFAULT_LISTEN ":9861"

struct args {
	const char *listen;
	const char *targets_file;
	const char *auth_file;
	bool kerberos;
	const char *keytab, *principal;
	uint32_t timeout_ms;
	bool per_user, help, version;
};

struct http {
	struct exporter *x;
	struct MHD_Daemon *d;
	struct tevent_fd *fde;
	struct tevent_timer *timer;
	struct tevent_immediate *im;
	bool stop;
};

static struct http *the_http; /* for the scrapes' completion, which MHD does not hand back */

/* ---- the command line ---- */

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s --targets FILE [-A AUTHFILE | -k [--keytab FILE --principal P]]\n"
		"                        [--web.listen-address ADDR:PORT] [--timeout SECONDS] [--per-user]\n"
		"\n"
		"A Prometheus exporter of the SMB sessions and open files of Windows and Samba\n"
		"servers, asked remotely (MS-SRVSVC); nothing runs on the servers.\n"
		"\n"
		"  /metrics                   the exporter's own metrics and every target's\n"
		"  /probe?target=HOST[:PORT]  one target's metrics (multi-target pattern)\n"
		"\n"
		"Options:\n"
		"      --web.listen-address ADDR:PORT\n"
		"                             where to serve HTTP (default %s; port 0: any free\n"
		"                             port, printed on standard error)\n"
		"      --targets FILE         the servers, one a line: HOST, HOST:PORT or\n"
		"                             [ADDRESS]:PORT; # comments (as smbnet -S @FILE)\n"
		"  -A, --authentication-file FILE\n"
		"                             username=, password= and domain= (Samba's format);\n"
		"                             without password=, $%s\n"
		"  -k, --kerberos             Kerberos: the credentials cache (KRB5CCNAME), or\n"
		"      --keytab FILE          a client keytab, with\n"
		"      --principal P          this principal\n"
		"      --timeout SECONDS      the most a target's query may take (default %g)\n"
		"      --per-user             also smbsess_user_sessions and smbsess_user_open_files\n"
		"  -h, --help                 print this help\n"
		"      --version              print the version\n",
		progname, DEFAULT_LISTEN, CREDS_PASSWORD_ENV, EXPORTER_DEFAULT_TIMEOUT_MS / 1000.0);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct {
		const char *name;
		char short_name;
		bool value;
	} opts[] = {
		{ "web.listen-address", 0, true }, { "targets", 0, true },  { "authentication-file", 'A', true },
		{ "kerberos", 'k', false },	   { "keytab", 0, true },   { "principal", 0, true },
		{ "timeout", 0, true },		   { "per-user", 0, false }, { "help", 'h', false },
		{ "version", 0, false },
	};

	*a = (struct args){ .listen = DEFAULT_LISTEN, .timeout_ms = EXPORTER_DEFAULT_TIMEOUT_MS };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL, *name;
		size_t len, k;

		if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0') {
			for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
				if (opts[k].short_name == arg[1])
					break;
		} else if (strncmp(arg, "--", 2) == 0) {
			const char *eq = strchr(arg + 2, '=');

			name = arg + 2;
			len = eq ? (size_t)(eq - name) : strlen(name);
			value = eq ? eq + 1 : NULL;
			for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
				if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
					break;
		} else {
			return usage("unexpected argument '%s'", arg);
		}
		if (k == sizeof opts / sizeof opts[0])
			return usage("unknown option '%s'", arg);
		if (opts[k].value && value == NULL) {
			if (i + 1 >= argc)
				return usage("option '%s' needs a value", arg);
			value = argv[++i];
		} else if (!opts[k].value && value != NULL) {
			return usage("option '--%s' takes no value", opts[k].name);
		}
		switch (k) {
		case 0: a->listen = value; break;
		case 1: a->targets_file = value; break;
		case 2: a->auth_file = value; break;
		case 3: a->kerberos = true; break;
		case 4: a->keytab = value; break;
		case 5: a->principal = value; break;
		case 6:
			if (!parse_seconds_ms(value, &a->timeout_ms))
				return usage("--timeout: '%s' is not a number of seconds", value);
			break;
		case 7: a->per_user = true; break;
		case 8: a->help = true; break;
		default: a->version = true; break;
		}
	}
	if (a->help || a->version)
		return 0;
	if ((a->keytab != NULL || a->principal != NULL) && !a->kerberos)
		return usage("--keytab and --principal go with -k");
	if (a->kerberos && a->auth_file != NULL && a->keytab != NULL)
		return usage("-A and --keytab: choose one");
	if (!a->kerberos && a->auth_file == NULL)
		return usage("no credentials: give -A AUTHFILE or -k");
	return 0;
}

/* ---- listening ---- */

/* ADDR:PORT, [V6]:PORT or :PORT (every address); the socket, or -1 after printing why. */
static int listen_on(const char *spec)
{
	const char *host = NULL, *port;
	char *h = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL, *ai;
	int fd = -1, rc;
	uint32_t p;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		h = strndup(spec + 1, (size_t)(end - spec - 1));
		port = end + 2;
	} else {
		const char *colon = strrchr(spec, ':');

		if (colon == NULL)
			goto bad;
		h = strndup(spec, (size_t)(colon - spec));
		port = colon + 1;
	}
	if (h == NULL || !(parse_u32_dec(port, 65535, &p) || strcmp(port, "0") == 0))
		goto bad;
	host = h[0] ? h : NULL;
	if (host == NULL)
		hints.ai_family = AF_INET6; /* every address, v4 too (dual stack), else v4 below */
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 && host == NULL) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(host, port, &hints, &res);
	}
	if (rc != 0) {
		fprintf(stderr, "%s: --web.listen-address %s: %s\n", progname, spec, gai_strerror(rc));
		free(h);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int one = 1, zero = 0;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6 && host == NULL)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "%s: cannot listen on %s: %s\n", progname, spec, strerror(errno));
	freeaddrinfo(res);
	free(h);
	return fd;
bad:
	free(h);
	fprintf(stderr, "%s: --web.listen-address: '%s' is not ADDRESS:PORT, [ADDRESS]:PORT or :PORT\n", progname,
		spec);
	return -1;
}

static void say_where(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		fprintf(stderr, "%s: listening on %s%s%s:%s\n", progname, ss.ss_family == AF_INET6 ? "[" : "", host,
			ss.ss_family == AF_INET6 ? "]" : "", serv);
}

/* ---- HTTP on the tevent loop ---- */

static void mhd_schedule(struct http *h);

static void mhd_run(struct http *h)
{
	MHD_run(h->d);
	mhd_schedule(h);
}

static void mhd_fd_ready(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	(void)ev, (void)fde, (void)flags;
	mhd_run(private_data);
}

static void mhd_timer_fired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *private_data)
{
	struct http *h = private_data;

	(void)ev, (void)te, (void)now;
	h->timer = NULL;
	mhd_run(h);
}

static void mhd_immediate(struct tevent_context *ev, struct tevent_immediate *im, void *private_data)
{
	(void)ev, (void)im;
	mhd_run(private_data);
}

/* MHD's next timeout as a tevent timer (0: run again at once). */
static void mhd_schedule(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	TALLOC_FREE(h->timer);
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return;
	if (ms == 0) {
		tevent_schedule_immediate(h->im, h->x->ev, mhd_immediate, h);
		return;
	}
	if (ms > 60000)
		ms = 60000;
	h->timer = tevent_add_timer(h->x->ev, h, tevent_timeval_current_ofs((uint32_t)(ms / 1000),
									     (uint32_t)(ms % 1000) * 1000),
				    mhd_timer_fired, h);
}

/* One HTTP request: what it asked for and, once known, the answer. */
struct request {
	struct MHD_Connection *conn;
	struct scrape *sc;
	char *body;
	unsigned status;
	const char *content_type;
	bool answered, suspended;
};

static enum MHD_Result answer(struct request *rq)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(rq->body), rq->body,
								    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", rq->content_type);
	ret = MHD_queue_response(rq->conn, rq->status, resp);
	MHD_destroy_response(resp);
	rq->answered = true;
	return ret;
}

static void scrape_done(struct scrape *sc)
{
	struct request *rq = sc->private_data;

	rq->body = metrics_render(rq, sc);
	rq->status = rq->body ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
	if (rq->body == NULL)
		rq->body = talloc_strdup(rq, "out of memory\n");
	rq->content_type = rq->body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain";
	if (rq->suspended) {
		rq->suspended = false;
		MHD_resume_connection(rq->conn);
		tevent_schedule_immediate(the_http->im, the_http->x->ev, mhd_immediate, the_http);
	}
}

static void set_plain(struct request *rq, unsigned status, const char *text)
{
	rq->status = status;
	rq->content_type = "text/plain; charset=utf-8";
	rq->body = talloc_strdup(rq, text);
}

/* Starts the scrape a request asks for, or sets the answer at once. */
static void route(struct http *h, struct request *rq, const char *url)
{
	struct exporter *x = h->x;
	struct scrape *sc;

	if (strcmp(url, "/") == 0) {
		rq->status = MHD_HTTP_OK;
		rq->content_type = "text/html; charset=utf-8";
		rq->body = talloc_asprintf(rq,
					   "<html><head><title>smbsess_exporter</title></head><body>\n"
					   "<h1>smbsess_exporter %s</h1>\n<p><a href=\"/metrics\">/metrics</a>: %zu "
					   "target(s); /probe?target=HOST[:PORT]: one target</p>\n</body></html>\n",
					   smbsess_version(), x->n_targets);
		return;
	}
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/probe") != 0) {
		set_plain(rq, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /probe?target=HOST[:PORT]\n");
		return;
	}
	sc = talloc_zero(rq, struct scrape);
	if (sc == NULL) {
		set_plain(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return;
	}
	*sc = (struct scrape){ .x = x, .done = scrape_done, .private_data = rq };
	if (strcmp(url, "/metrics") == 0) {
		sc->own_metrics = true;
		sc->targets = x->targets;
		sc->n = x->n_targets;
	} else {
		const char *spec = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "target");
		const char *err = NULL;
		struct target *t;

		if (spec == NULL || spec[0] == '\0') {
			set_plain(rq, MHD_HTTP_BAD_REQUEST, "the target parameter is missing: /probe?target=HOST[:PORT]\n");
			return;
		}
		t = probe_target(x, spec, &err);
		if (t == NULL) {
			rq->status = MHD_HTTP_BAD_REQUEST;
			rq->content_type = "text/plain; charset=utf-8";
			rq->body = talloc_asprintf(rq, "target %s: %s\n", text_clean(rq, spec), err);
			return;
		}
		sc->targets = talloc_array(sc, struct target *, 1);
		if (sc->targets == NULL) {
			set_plain(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
			return;
		}
		sc->targets[0] = t;
		sc->n = 1;
	}
	sc->results = talloc_zero_array(sc, struct result *, sc->n ? sc->n : 1);
	if (sc->results == NULL) {
		set_plain(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return;
	}
	rq->sc = sc;
	scrape_start(sc); /* may call scrape_done at once */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http *h = cls;
	struct request *rq = *con_cls;

	(void)version, (void)upload_data;
	if (rq == NULL) { /* the headers: only now a request */
		rq = talloc_zero(h->x, struct request);
		if (rq == NULL)
			return MHD_NO;
		rq->conn = conn;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size != 0) { /* a body: ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	if (rq->body == NULL && rq->sc == NULL) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			set_plain(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
		else
			route(h, rq, url);
	}
	if (rq->body != NULL)
		return answer(rq);
	/* Waiting for the targets: suspended until scrape_done resumes it. */
	rq->suspended = true;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls, (void)conn, (void)toe;
	/* A request is only completed once answered, so no scrape of it still waits for a target. */
	talloc_free(rq);
	*con_cls = NULL;
}

static void on_signal(struct tevent_context *ev, struct tevent_signal *se, int signum, int count, void *siginfo,
		      void *private_data)
{
	struct http *h = private_data;

	(void)ev, (void)se, (void)signum, (void)count, (void)siginfo;
	h->stop = true;
}

/* ---- main ---- */

static bool load_targets(struct exporter *x, const char *path)
{
	const char **specs = NULL;
	size_t n = 0;
	char err[1024];

	if (!server_list_read(x, path, &specs, &n, err, sizeof err)) {
		fprintf(stderr, "%s: --targets: %s\n", progname, err);
		return false;
	}
	x->targets = talloc_zero_array(x, struct target *, n ? n : 1);
	if (x->targets == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;

		x->targets[i] = target_new(x, x, specs[i], true, &why);
		if (x->targets[i] == NULL) {
			fprintf(stderr, "%s: --targets: %s: %s\n", progname, specs[i], why);
			return false;
		}
	}
	x->n_targets = n;
	return true;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct args a;
	struct exporter *x;
	struct http *h;
	struct creds_args ca;
	const union MHD_DaemonInfo *info;
	char err[1024];
	int rc, fd;

	rc = parse_args(argc, argv, &a);
	if (rc != 0 || a.help || a.version) {
		if (rc == 0 && a.help)
			print_help(stdout);
		else if (rc == 0)
			printf("%s (libsmbsess) %s\n", progname, smbsess_version());
		talloc_free(mem);
		return rc;
	}
	x = talloc_zero(mem, struct exporter);
	h = talloc_zero(mem, struct http);
	if (x == NULL || h == NULL || (x->ev = tevent_context_init(x)) == NULL ||
	    (h->im = tevent_create_immediate(h)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return 1;
	}
	x->timeout_ms = a.timeout_ms;
	x->per_user = a.per_user;
	x->default_port = 445;
	ca = (struct creds_args){ .auth_file = a.auth_file, .kerberos = a.kerberos, .keytab = a.keytab,
				  .principal = a.principal,
				  .no_password_hint = "give password= in the -A file or $" CREDS_PASSWORD_ENV };
	switch (creds_make(x, &ca, &x->creds, err, sizeof err)) {
	case CREDS_OK: break;
	case CREDS_USAGE: fprintf(stderr, "%s: %s\n", progname, err); return 2;
	default: fprintf(stderr, "%s: %s\n", progname, err); return 1;
	}
	if (a.targets_file != NULL && !load_targets(x, a.targets_file))
		return 2;
	fd = listen_on(a.listen);
	if (fd < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	h->x = x;
	the_http = h;
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)60, MHD_OPTION_END);
	if (h->d == NULL) {
		fprintf(stderr, "%s: cannot start the HTTP server\n", progname);
		return 1;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL ||
	    (h->fde = tevent_add_fd(x->ev, h, info->epoll_fd, TEVENT_FD_READ, mhd_fd_ready, h)) == NULL ||
	    tevent_add_signal(x->ev, h, SIGINT, 0, on_signal, h) == NULL ||
	    tevent_add_signal(x->ev, h, SIGTERM, 0, on_signal, h) == NULL) {
		fprintf(stderr, "%s: cannot run the HTTP server on the event loop\n", progname);
		return 1;
	}
	say_where(fd);
	mhd_schedule(h);
	while (!h->stop)
		if (tevent_loop_once(x->ev) != 0) {
			fprintf(stderr, "%s: the event loop failed: %s\n", progname, strerror(errno));
			return 1;
		}
	/* Requests still waiting for targets are dropped with the process. */
	fprintf(stderr, "%s: stopped\n", progname);
	return 0;
}
