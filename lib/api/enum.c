/*
 * The three enumerations (sessions, files, tree connections): the paging
 * loop over ERROR_MORE_DATA with resume handles, the entry limit, and the
 * step down through information levels on ERROR_INVALID_LEVEL.
 */
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "api.h"
#include "lists.h"

#define MAX_PAGES 1000000u

/* The levels of each kind, richest first. */
static const uint32_t sess_levels[] = { 502, 2, 1, 10, 0 };
static const uint32_t file_levels[] = { 3, 2 };
static const uint32_t conn_levels[] = { 1, 0 };

struct kind_info {
	enum smbsess__srvsvc_kind kind;
	uint16_t opnum;
	const uint32_t *levels;
	size_t n_levels;
	smbsess__ndr_fn in_fn, out_fn;
	size_t elem_size;
};

static const struct kind_info kinds[] = {
	[SMBSESS__SRVSVC_SESSIONS] = { SMBSESS__SRVSVC_SESSIONS, SMBSESS__SRVSVC_NETRSESSIONENUM, sess_levels, 5,
				       smbsess__srvsvc_sess_enum_in, smbsess__srvsvc_sess_enum_out,
				       sizeof(struct smbsess__srvsvc_sess_info) },
	[SMBSESS__SRVSVC_FILES] = { SMBSESS__SRVSVC_FILES, SMBSESS__SRVSVC_NETRFILEENUM, file_levels, 2,
				    smbsess__srvsvc_file_enum_in, smbsess__srvsvc_file_enum_out,
				    sizeof(struct smbsess__srvsvc_file_info) },
	[SMBSESS__SRVSVC_CONNECTIONS] = { SMBSESS__SRVSVC_CONNECTIONS, SMBSESS__SRVSVC_NETRCONNECTIONENUM,
					  conn_levels, 2, smbsess__srvsvc_conn_enum_in,
					  smbsess__srvsvc_conn_enum_out,
					  sizeof(struct smbsess__srvsvc_conn_info) },
};

struct enum_state {
	struct tevent_context *ev;
	struct smbsess__weak *conn;   /* the caller may free the connection while a page is on its way */
	const struct kind_info *k;
	char *filter1, *filter2;
	size_t level_idx;     /* index into k->levels of the level being tried */
	bool level_known;     /* the server answered at this level once */
	struct smbsess__srvsvc_enum_out out;
	union {
		struct smbsess__srvsvc_sess_enum_in sess;
		struct smbsess__srvsvc_file_enum_in file;
		struct smbsess__srvsvc_conn_enum_in conn;
	} in;
	uint32_t resume;
	uint32_t pages;
	struct smbsess__list *list;
	TALLOC_CTX *page_mem;
};

static uint32_t *bad_levels(struct smbsess_conn *conn, enum smbsess__srvsvc_kind kind)
{
	switch (kind) {
	case SMBSESS__SRVSVC_SESSIONS: return &conn->bad_sess_levels;
	case SMBSESS__SRVSVC_FILES: return &conn->bad_file_levels;
	default: return &conn->bad_conn_levels;
	}
}

/* The next level to try from index @p from on, skipping those known to be unsupported. */
static bool next_level(struct enum_state *s, struct smbsess_conn *conn, size_t from)
{
	uint32_t bad = *bad_levels(conn, s->k->kind);

	for (size_t i = from; i < s->k->n_levels; i++) {
		if (!(bad & (1u << i))) {
			s->level_idx = i;
			return true;
		}
	}
	return false;
}

static void enum_page_done(struct tevent_req *subreq);

static const char *skip_backslashes(const char *s)
{
	while (s && *s == '\\')
		s++;
	return s;
}

/*
 * Names are compared without regard to case the way Windows compares them:
 * character by character, each mapped to its Unicode uppercase (towupper in
 * the C.UTF-8 locale, which glibc has built in). Without that locale only
 * ASCII letters fold. Bytes that do not form UTF-8 compare as themselves.
 */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The next character of @p *p, folded to upper case; advances *p. */
static uint32_t next_upper(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t n = 0;
	uint32_t c;

	if (s[0] < 0x80) {
		*p += 1;
		return s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32u : s[0];
	}
	/* A sequence is at most 4 bytes; the terminator ends one as any byte that continues none. */
	if (!smbsess__utf8_next(s, 4, &n, &c)) {
		*p += 1;
		return 0x110000u + s[0]; /* no character has this value */
	}
	*p += n;
	pthread_once(&utf8_once, utf8_locale_init);
	return utf8_locale != (locale_t)0 ? (uint32_t)towupper_l((wint_t)c, utf8_locale) : c;
}

/* @p name equals @p want (or, with @p prefix, starts with it), case ignored. */
static bool name_matches(const char *name, const char *want, bool prefix)
{
	while (*want != '\0') {
		if (*name == '\0' || next_upper(&name) != next_upper(&want))
			return false;
	}
	return prefix || *name == '\0';
}

/*
 * Whether an entry passes the caller's filters. Servers are asked to filter
 * too, but some ignore it (Samba ignores the session filters and the file
 * base path), so the answer is filtered here as well.
 */
static bool keep(const struct enum_state *s, const void *e)
{
	switch (s->k->kind) {
	case SMBSESS__SRVSVC_SESSIONS: {
		const struct smbsess__srvsvc_sess_info *x = e;
		if (s->filter1 &&
		    (!x->client || !name_matches(skip_backslashes(x->client), skip_backslashes(s->filter1), false)))
			return false;
		/* Levels without a user name cannot be filtered by it here. */
		if (s->filter2 && x->user && !name_matches(x->user, s->filter2, false))
			return false;
		return true;
	}
	case SMBSESS__SRVSVC_FILES: {
		const struct smbsess__srvsvc_file_info *x = e;
		if (s->filter1 && x->path && !name_matches(x->path, s->filter1, true))
			return false;
		if (s->filter2 && x->user && !name_matches(x->user, s->filter2, false))
			return false;
		return true;
	}
	default:
		return true;
	}
}

/*
 * Copies the entries of a page that pass the filters into the list; the
 * decoded page is freed after, so what the filter drops costs nothing.
 */
static struct smbsess_status append_page(struct enum_state *s, const struct smbsess_conn *conn,
					 const struct smbsess__srvsvc_ctr *c)
{
	size_t size = s->k->elem_size;
	const uint8_t *p = c->array;

	for (uint32_t i = 0; i < c->count; i++) {
		if (!keep(s, p + (size_t)i * size))
			continue;
		SMBSESS__CHECK(smbsess__list_add(s->list, p + (size_t)i * size, conn->opts.max_entries,
						 conn->opts.max_bytes));
	}
	return SMBSESS__OK;
}

static void enum_request_page(struct tevent_req *req, struct smbsess_conn *conn)
{
	struct enum_state *s = tevent_req_data(req, struct enum_state);
	struct smbsess__srvsvc_ctr ctr = { .level = s->k->levels[s->level_idx], .present = true };
	struct smbsess__ndr_opt_u32 resume = { true, s->resume };
	struct tevent_req *subreq;
	void *in;

	switch (s->k->kind) {
	case SMBSESS__SRVSVC_SESSIONS:
		s->in.sess = (struct smbsess__srvsvc_sess_enum_in){ conn->server_unc, s->filter1, s->filter2, ctr,
								    conn->opts.page_size, resume };
		in = &s->in.sess;
		break;
	case SMBSESS__SRVSVC_FILES:
		s->in.file = (struct smbsess__srvsvc_file_enum_in){ conn->server_unc, s->filter1, s->filter2, ctr,
								    conn->opts.page_size, resume };
		in = &s->in.file;
		break;
	default:
		s->in.conn = (struct smbsess__srvsvc_conn_enum_in){ conn->server_unc, s->filter1, ctr,
								    conn->opts.page_size, resume };
		in = &s->in.conn;
		break;
	}
	s->page_mem = talloc_new(s);
	if (tevent_req_nomem(s->page_mem, req))
		return;
	subreq = smbsess__api_call_send(s, s->ev, conn, s->k->opnum, s->k->in_fn, in, s->k->out_fn, &s->out,
					sizeof s->out, s->page_mem);
	if (tevent_req_nomem(subreq, req))
		return;
	tevent_req_set_callback(subreq, enum_page_done, req);
}

static void enum_page_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct enum_state *s = tevent_req_data(req, struct enum_state);
	struct smbsess__srvsvc_enum_out *o = &s->out;
	uint32_t level = s->k->levels[s->level_idx];
	struct smbsess_conn *conn = smbsess__weak_get(s->conn);
	struct smbsess_status st;

	st = smbsess__api_call_recv(subreq);
	if (smbsess__st_ok(st) && conn == NULL)
		st = SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED);
	/* A page past the caller's entry or memory limit is the caller's limit. */
	if (st.domain == SMBSESS_DOMAIN_NDR && (st.code == SMBSESS_NDR_E_TOO_MANY || st.code == SMBSESS_NDR_E_ALLOC_LIMIT))
		st = SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	if (smbsess__req_nok(req, st))
		return;

	if (o->result == SMBSESS__WERR_INVALID_LEVEL && !s->level_known && s->pages == 0) {
		/* Not this level: remember it and try the next one down. */
		*bad_levels(conn, s->k->kind) |= 1u << s->level_idx;
		TALLOC_FREE(s->page_mem);
		if (!next_level(s, conn, s->level_idx + 1)) {
			smbsess__req_nok(req, SMBSESS__ST_WERR(o->result));
			return;
		}
		enum_request_page(req, conn);
		return;
	}
	if (o->result != 0 && o->result != SMBSESS__WERR_MORE_DATA) {
		smbsess__req_nok(req, SMBSESS__ST_WERR(o->result));
		return;
	}
	if (o->ctr.level != level) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL));
		return;
	}
	s->level_known = true;
	s->list->level = level;
	if (o->ctr.count > 0 && smbsess__req_nok(req, append_page(s, conn, &o->ctr)))
		return;
	TALLOC_FREE(s->page_mem);
	s->pages++;

	if (o->result == 0) {
		tevent_req_done(req);
		return;
	}
	/* ERROR_MORE_DATA: a page must bring entries and move the resume handle, or we would spin. */
	if (!o->resume_handle.present || o->ctr.count == 0 || o->resume_handle.value == s->resume ||
	    s->pages >= MAX_PAGES) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_NO_PROGRESS));
		return;
	}
	s->resume = o->resume_handle.value;
	enum_request_page(req, conn);
}

struct tevent_req *smbsess__enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, struct smbsess_conn *conn,
				      enum smbsess__srvsvc_kind kind, const char *filter1, const char *filter2,
				      uint32_t want)
{
	struct tevent_req *req;
	struct enum_state *s;
	size_t first = 0;

	if (ev == NULL)
		return NULL;
	req = tevent_req_create(mem_ctx, &s, struct enum_state);
	if (req == NULL)
		return NULL;
	s->ev = ev;
	s->k = &kinds[kind];
	if (conn == NULL) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	s->conn = smbsess__weak_new(s, conn);
	if (tevent_req_nomem(s->conn, req))
		return tevent_req_post(req, ev);
	if (want != SMBSESS_LEVEL_BEST) {
		for (first = 0; first < s->k->n_levels && s->k->levels[first] != want; first++)
			;
		if (first == s->k->n_levels) {
			smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
			return tevent_req_post(req, ev);
		}
	}
	/* Sessions are filtered by client computer: the request wants "\\name". */
	s->filter1 = kind == SMBSESS__SRVSVC_SESSIONS ? smbsess__unc_name(s, filter1)
						      : (filter1 ? talloc_strdup(s, filter1) : NULL);
	s->filter2 = filter2 ? talloc_strdup(s, filter2) : NULL;
	s->list = smbsess__list_new(s, kind);
	if ((filter1 && !s->filter1) || (filter2 && !s->filter2) || s->list == NULL) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	if (!next_level(s, conn, first)) {
		smbsess__req_nok(req, SMBSESS__ST_WERR(SMBSESS__WERR_INVALID_LEVEL));
		return tevent_req_post(req, ev);
	}
	enum_request_page(req, conn);
	if (!tevent_req_is_in_progress(req))
		return tevent_req_post(req, ev);
	return req;
}

struct smbsess_status smbsess__enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, struct smbsess__list **list)
{
	struct enum_state *s = tevent_req_data(req, struct enum_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st))
		*list = talloc_steal(mem_ctx, s->list);
	tevent_req_received(req);
	return st;
}
