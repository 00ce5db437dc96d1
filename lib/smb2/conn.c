/*
 * The SMB2 connection: NetBIOS session framing, message ids and credits,
 * the table of messages in flight, interim responses, compound chains,
 * signing and encryption of whole frames, cancellation and timeouts.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "smb2_private.h"
#include "../util/treq.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_MESSAGE (8u * 1024 * 1024 + 64 * 1024)
#define NBSS_MAX 0xFFFFFFu
#define CREDITS_WANTED 256
/* As Samba's client: more would be a server's bug, and a uint32 could wrap. */
#define CREDITS_MAX 65535u
#define CREDITS_ASK_STEP 32
#define UNSOLICITED_MID UINT64_MAX

/* One frame to write: NBSS header + (transform header) + messages. */
struct out_frame {
	struct out_frame *next;
	uint8_t *buf;
	size_t len, sent;
};

/* A message in flight. Lives on the connection, so it survives its chain. */
struct pending {
	struct pending *prev, *next;
	uint64_t mid;
	uint64_t async_id;
	bool async;
	uint16_t cmd;
	uint64_t session_id;
	bool signing;  /* the response must be signed */
	bool encrypt;  /* the response must be encrypted */
	struct chain *chain; /* NULL: a zombie whose response is read and dropped */
	size_t idx;
};

/*
 * What a queued call needs of its session and tree, taken when it is
 * queued: the objects may be freed before it goes out.
 */
struct call_ids {
	uint64_t session_id;
	uint32_t tree_id;
	bool tree_encrypt;
};

/* The state of one smbsess__smb2_calls_send request. */
struct chain {
	struct chain *prev, *next; /* on conn->wait list */
	bool waiting;
	struct tevent_req *req;
	struct tevent_context *ev;
	struct smbsess__smb2_conn *conn;
	struct smbsess__smb2_call *calls; /* session and tree pointers are not kept: see ids */
	struct call_ids *ids;
	size_t n;
	bool related;
	struct smbsess__smb2_resp *resps;
	size_t received;
	bool sent;
};

/* ---- small list helpers ---- */

#define LIST_ADD_TAIL(head, tail, e) do { \
	(e)->prev = (tail); (e)->next = NULL; \
	if (tail) (tail)->next = (e); else (head) = (e); \
	(tail) = (e); \
} while (0)

#define LIST_REMOVE(head, tail, e) do { \
	if ((e)->prev) (e)->prev->next = (e)->next; else (head) = (e)->next; \
	if ((e)->next) (e)->next->prev = (e)->prev; else (tail) = (e)->prev; \
	(e)->prev = (e)->next = NULL; \
} while (0)

static void pending_unlink(struct smbsess__smb2_conn *conn, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		conn->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

static void pending_add(struct smbsess__smb2_conn *conn, struct pending *p)
{
	p->prev = NULL;
	p->next = conn->pending;
	if (conn->pending)
		conn->pending->prev = p;
	conn->pending = p;
}

static void add_credits(struct smbsess__smb2_conn *conn, uint16_t granted)
{
	uint32_t sum = conn->credits + granted;

	conn->credits = sum > CREDITS_MAX ? CREDITS_MAX : sum;
}

/*
 * The Nonce field of the next transform header of @p s: a per-session
 * counter in bytes 0-7 (never reused under one key, as SP 800-38D asks of
 * GCM) and the session's random salt in the rest of the cipher's nonce.
 */
static struct smbsess_status next_nonce(struct smbsess__smb2_conn *conn, struct smbsess__smb2_session *s,
					uint8_t field[SMBSESS__SMB2_TF_NONCE_FIELD_LEN])
{
	size_t nonce_len = smbsess__smb2_cipher_nonce_len(conn->cipher);

	if (s->nonce_counter == UINT64_MAX || nonce_len < 8 || nonce_len > 8 + sizeof(s->nonce_salt))
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	memset(field, 0, SMBSESS__SMB2_TF_NONCE_FIELD_LEN);
	smbsess__put_le64(field, ++s->nonce_counter);
	memcpy(field + 8, s->nonce_salt, nonce_len - 8);
	return SMBSESS__OK;
}

/* ---- status helpers ---- */

struct smbsess_status smbsess__smb2_nt(uint32_t ntstatus)
{
	return ntstatus == 0 ? SMBSESS__OK : SMBSESS__ST_NT(ntstatus);
}

static struct smbsess_status proto_err(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

struct smbsess_status smbsess__smb2_check_body(const struct smbsess__smb2_resp *r, size_t fixed,
					       uint16_t structure_size)
{
	if (r->body_len < fixed || r->body_len < 2)
		return proto_err();
	if ((smbsess__le16(r->body) & 0xFFFE) != (structure_size & 0xFFFE))
		return proto_err();
	return SMBSESS__OK;
}

struct smbsess_status smbsess__smb2_resp_buffer(const struct smbsess__smb2_resp *r, uint32_t offset,
						uint32_t length, const uint8_t **p)
{
	if (length == 0) {
		*p = NULL;
		return SMBSESS__OK;
	}
	if (offset < SMBSESS__SMB2_HDR_LEN || offset > r->len || length > r->len - offset)
		return proto_err();
	*p = r->msg + offset;
	return SMBSESS__OK;
}

/* ---- accessors ---- */

struct smbsess_status smbsess__smb2_conn_error(const struct smbsess__smb2_conn *conn)
{
	return conn->error;
}

uint16_t smbsess__smb2_conn_dialect(const struct smbsess__smb2_conn *conn)
{
	return conn->dialect;
}

const char *smbsess__smb2_conn_server_name(const struct smbsess__smb2_conn *conn)
{
	return conn->server_name;
}

uint32_t smbsess__smb2_conn_max_transact(const struct smbsess__smb2_conn *conn)
{
	return conn->max_transact;
}

uint32_t smbsess__smb2_conn_max_read(const struct smbsess__smb2_conn *conn)
{
	return conn->max_read;
}

uint32_t smbsess__smb2_conn_max_write(const struct smbsess__smb2_conn *conn)
{
	return conn->max_write;
}

uint16_t smbsess__smb2_conn_cipher(const struct smbsess__smb2_conn *conn)
{
	return conn->cipher;
}

uint16_t smbsess__smb2_conn_sign_alg(const struct smbsess__smb2_conn *conn)
{
	return conn->sign_alg;
}

/* ---- failing ---- */

static void chain_fail(struct chain *c, struct smbsess_status st)
{
	if (tevent_req_is_in_progress(c->req))
		smbsess__req_nok(c->req, st);
}

void smbsess__smb2_conn_fail(struct smbsess__smb2_conn *conn, struct smbsess_status st)
{
	if (!smbsess__st_ok(conn->error))
		return;
	conn->error = st;
	TALLOC_FREE(conn->fde);
	if (conn->fd >= 0) {
		close(conn->fd);
		conn->fd = -1;
	}
	/* Fail every chain still waiting or in flight; their cleanup drops the entries. */
	while (conn->wait_head) {
		struct chain *c = conn->wait_head;
		LIST_REMOVE(conn->wait_head, conn->wait_tail, c);
		c->waiting = false;
		chain_fail(c, st);
	}
	for (struct pending *p = conn->pending, *next; p; p = next) {
		next = p->next;
		if (p->chain)
			chain_fail(p->chain, st);
	}
	while (conn->pending) {
		struct pending *p = conn->pending;
		pending_unlink(conn, p);
		talloc_free(p);
	}
	while (conn->out_head) {
		struct out_frame *f = conn->out_head;
		conn->out_head = f->next;
		talloc_free(f);
	}
	conn->out_tail = NULL;
}

/* ---- writing ---- */

static void conn_io(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data);

static void update_fd_flags(struct smbsess__smb2_conn *conn)
{
	if (conn->fde)
		tevent_fd_set_flags(conn->fde, TEVENT_FD_READ | (conn->out_head ? TEVENT_FD_WRITE : 0));
}

static void conn_write(struct smbsess__smb2_conn *conn)
{
	while (conn->out_head) {
		struct out_frame *f = conn->out_head;
		ssize_t n = send(conn->fd, f->buf + f->sent, f->len - f->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			smbsess__smb2_conn_fail(conn, SMBSESS__ST_ERRNO(errno));
			return;
		}
		f->sent += (size_t)n;
		if (f->sent < f->len)
			break;
		conn->out_head = f->next;
		if (conn->out_head == NULL)
			conn->out_tail = NULL;
		talloc_free(f);
	}
	update_fd_flags(conn);
}

static void queue_frame(struct smbsess__smb2_conn *conn, struct out_frame *f)
{
	f->next = NULL;
	if (conn->out_tail)
		conn->out_tail->next = f;
	else
		conn->out_head = f;
	conn->out_tail = f;
	update_fd_flags(conn);
}

/* ---- sessions, and the keys of gone ones ---- */

static struct smbsess__smb2_session *find_session(struct smbsess__smb2_conn *conn, uint64_t id)
{
	for (struct smbsess__smb2_session *s = conn->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

struct smbsess__smb2_ghost {
	struct smbsess__smb2_ghost *next;
	uint64_t id;
	struct smbsess__smb2_keys keys;
};

static int ghost_destructor(struct smbsess__smb2_ghost *g)
{
	smbsess__smb2_keys_wipe(&g->keys);
	return 0;
}

static bool session_pending(const struct smbsess__smb2_conn *conn, uint64_t id)
{
	for (const struct pending *p = conn->pending; p; p = p->next)
		if (p->session_id == id)
			return true;
	return false;
}

void smbsess__smb2_conn_session_gone(struct smbsess__smb2_conn *conn, const struct smbsess__smb2_session *session)
{
	struct smbsess__smb2_ghost *g;

	if (!session->have_keys || session->id == 0 || !session_pending(conn, session->id))
		return;
	g = talloc_zero(conn, struct smbsess__smb2_ghost);
	if (g == NULL)
		return; /* the late answers will fail the connection: safe, if rude */
	g->id = session->id;
	g->keys = session->keys;
	talloc_set_destructor(g, ghost_destructor);
	g->next = conn->ghosts;
	conn->ghosts = g;
}

/* Lets go of the keys of gone sessions with nothing left to answer. */
static void ghosts_prune(struct smbsess__smb2_conn *conn)
{
	struct smbsess__smb2_ghost **link = &conn->ghosts;

	while (*link) {
		struct smbsess__smb2_ghost *g = *link;

		if (session_pending(conn, g->id)) {
			link = &g->next;
			continue;
		}
		*link = g->next;
		talloc_free(g);
	}
}

/* The keys to check or open an answer for session @p id with: its own, or those it left behind. */
static const struct smbsess__smb2_keys *answer_keys(struct smbsess__smb2_conn *conn, uint64_t id)
{
	struct smbsess__smb2_session *s = find_session(conn, id);

	if (s != NULL)
		return s->have_keys ? &s->keys : NULL;
	for (struct smbsess__smb2_ghost *g = conn->ghosts; g; g = g->next)
		if (g->id == id)
			return &g->keys;
	return NULL;
}

/* ---- building frames ---- */

static uint16_t credit_charge(const struct smbsess__smb2_conn *conn, const struct smbsess__smb2_call *c)
{
	size_t payload;

	if (!conn->negotiated || conn->dialect == SMBSESS__SMB2_DIALECT_202 || !(conn->capabilities & CAP_LARGE_MTU))
		return 1;
	payload = c->body_len > c->expected_out ? c->body_len : c->expected_out;
	if (payload == 0)
		return 1;
	return (uint16_t)(1 + (payload - 1) / 65536);
}

static bool chain_encrypts(struct chain *c)
{
	struct smbsess__smb2_session *s = c->ids[0].session_id ? find_session(c->conn, c->ids[0].session_id) : NULL;

	return s && s->have_keys && (s->encrypt || c->ids[0].tree_encrypt);
}

static void write_header(struct smbsess__smb2_conn *conn, uint8_t *h, uint16_t cmd, uint64_t session_id,
			 uint32_t tree_id, uint16_t charge, uint64_t mid, uint32_t flags)
{
	uint16_t ask = charge;

	if (conn->credits < CREDITS_WANTED)
		ask += CREDITS_ASK_STEP;
	memset(h, 0, SMBSESS__SMB2_HDR_LEN);
	h[0] = 0xFE; h[1] = 'S'; h[2] = 'M'; h[3] = 'B';
	smbsess__put_le16(h + HDR_STRUCTURE_SIZE, 64);
	smbsess__put_le16(h + HDR_CREDIT_CHARGE, conn->dialect == SMBSESS__SMB2_DIALECT_202 || !conn->negotiated
				  ? 0 : charge);
	smbsess__put_le16(h + HDR_COMMAND, cmd);
	smbsess__put_le16(h + HDR_CREDIT, ask);
	smbsess__put_le32(h + HDR_FLAGS, flags);
	smbsess__put_le64(h + HDR_MESSAGE_ID, mid);
	smbsess__put_le32(h + HDR_PID, 0xFEFF);
	smbsess__put_le32(h + HDR_TREE_ID, tree_id);
	smbsess__put_le64(h + HDR_SESSION_ID, session_id);
}

/* Lays out, signs, encrypts and queues a chain whose credits are available. */
static struct smbsess_status chain_transmit(struct chain *c)
{
	struct smbsess__smb2_conn *conn = c->conn;
	size_t total = 0, off = 0;
	bool encrypt = chain_encrypts(c);
	uint8_t *buf;
	struct out_frame *f;
	struct pending **pend;

	for (size_t i = 0; i < c->n; i++) {
		size_t len = SMBSESS__SMB2_HDR_LEN + c->calls[i].body_len;
		if (i + 1 < c->n)
			len = (len + 7) & ~(size_t)7;
		total += len;
	}
	if (total + (encrypt ? SMBSESS__SMB2_TF_HDR_LEN : 0) > NBSS_MAX)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);

	buf = talloc_zero_array(c, uint8_t, total);
	pend = talloc_zero_array(c, struct pending *, c->n);
	if (buf == NULL || pend == NULL)
		return SMBSESS__ST_NOMEM;

	for (size_t i = 0; i < c->n; i++) {
		const struct smbsess__smb2_call *call = &c->calls[i];
		size_t len = SMBSESS__SMB2_HDR_LEN + call->body_len;
		size_t padded = i + 1 < c->n ? (len + 7) & ~(size_t)7 : len;
		uint16_t charge = credit_charge(conn, call);
		uint32_t flags = (i > 0 && c->related) ? FLAG_RELATED : 0;
		uint8_t *h = buf + off;
		struct smbsess__smb2_session *s = c->ids[i].session_id ? find_session(conn, c->ids[i].session_id) : NULL;
		struct pending *p;

		write_header(conn, h, call->cmd, c->ids[i].session_id, c->ids[i].tree_id, charge, conn->next_mid, flags);
		if (i + 1 < c->n)
			smbsess__put_le32(h + HDR_NEXT, (uint32_t)padded);
		if (call->body_len)
			memcpy(h + SMBSESS__SMB2_HDR_LEN, call->body, call->body_len);

		p = talloc_zero(conn, struct pending);
		if (p == NULL)
			return SMBSESS__ST_NOMEM;
		p->mid = conn->next_mid;
		p->cmd = call->cmd;
		p->session_id = s ? s->id : 0;
		p->signing = s && s->have_keys && s->signing && !call->no_sign && !encrypt;
		p->encrypt = encrypt;
		p->chain = c;
		p->idx = i;
		pend[i] = p;
		conn->next_mid += charge;
		conn->credits -= charge;

		c->resps[i].sent = talloc_memdup(c->resps, h, len);
		c->resps[i].sent_len = len;
		if (c->resps[i].sent == NULL)
			return SMBSESS__ST_NOMEM;
		if (s && s->have_keys && s->signing && !call->no_sign && !encrypt)
			SMBSESS__CHECK(smbsess__smb2_sign(conn->sign_alg, s->keys.signing, 16, h, padded));
		off += padded;
	}

	f = talloc_zero(conn, struct out_frame);
	if (f == NULL)
		return SMBSESS__ST_NOMEM;
	if (encrypt) {
		struct smbsess__smb2_session *s = find_session(conn, c->ids[0].session_id);
		uint8_t nonce[SMBSESS__SMB2_TF_NONCE_FIELD_LEN];
		uint8_t *tf;
		size_t tf_len;

		SMBSESS__CHECK(next_nonce(conn, s, nonce));
		SMBSESS__CHECK(smbsess__smb2_encrypt_talloc(f, conn->cipher, s->keys.encryption,
							     s->keys.cipher_key_len, s->id, nonce, buf, total,
							     &tf, &tf_len));
		f->buf = talloc_array(f, uint8_t, tf_len + 4);
		if (f->buf == NULL)
			return SMBSESS__ST_NOMEM;
		memcpy(f->buf + 4, tf, tf_len);
		talloc_free(tf);
		total = tf_len;
	} else {
		f->buf = talloc_array(f, uint8_t, total + 4);
		if (f->buf == NULL)
			return SMBSESS__ST_NOMEM;
		memcpy(f->buf + 4, buf, total);
	}
	talloc_free(buf);
	f->buf[0] = 0;
	f->buf[1] = (uint8_t)(total >> 16);
	f->buf[2] = (uint8_t)(total >> 8);
	f->buf[3] = (uint8_t)total;
	f->len = total + 4;

	for (size_t i = 0; i < c->n; i++)
		pending_add(conn, pend[i]);
	talloc_free(pend);
	c->sent = true;
	queue_frame(conn, f);
	return SMBSESS__OK;
}

static uint32_t chain_charge(const struct chain *c)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < c->n; i++)
		sum += credit_charge(c->conn, &c->calls[i]);
	return sum;
}

/* Sends waiting chains, oldest first, while credits allow. */
static void dispatch_waiting(struct smbsess__smb2_conn *conn)
{
	while (conn->wait_head && smbsess__st_ok(conn->error)) {
		struct chain *c = conn->wait_head;
		uint32_t need = chain_charge(c);
		struct smbsess_status st;

		if (need > conn->credits) {
			if (conn->pending == NULL) {
				/* Nothing in flight can return credits: it would wait forever. */
				LIST_REMOVE(conn->wait_head, conn->wait_tail, c);
				c->waiting = false;
				chain_fail(c, proto_err());
				continue;
			}
			return;
		}
		LIST_REMOVE(conn->wait_head, conn->wait_tail, c);
		c->waiting = false;
		if (c->ids[0].session_id && find_session(conn, c->ids[0].session_id) == NULL) {
			/* Its session was freed while it waited: nothing was sent yet. */
			chain_fail(c, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
			continue;
		}
		st = chain_transmit(c);
		if (!smbsess__st_ok(st)) {
			/* Message ids may be spent without a message: the session cannot go on. */
			smbsess__smb2_conn_fail(conn, st);
			chain_fail(c, st);
		}
	}
}

/* ---- cancelling ---- */

static void send_cancel(struct smbsess__smb2_conn *conn, struct pending *p)
{
	struct smbsess__smb2_session *s = find_session(conn, p->session_id);
	uint8_t msg[SMBSESS__SMB2_HDR_LEN + 4];
	struct out_frame *f;
	uint32_t flags = p->async ? FLAG_ASYNC : 0;
	write_header(conn, msg, SMBSESS__SMB2_CANCEL, p->session_id, 0, 0, p->mid, flags);
	smbsess__put_le16(msg + HDR_CREDIT_CHARGE, 0);
	smbsess__put_le16(msg + HDR_CREDIT, 0);
	if (p->async)
		smbsess__put_le64(msg + HDR_ASYNC_ID, p->async_id);
	smbsess__put_le16(msg + SMBSESS__SMB2_HDR_LEN, 4);
	smbsess__put_le16(msg + SMBSESS__SMB2_HDR_LEN + 2, 0);
	f = talloc_zero(conn, struct out_frame);
	if (f == NULL)
		return;
	if (s && s->have_keys && p->encrypt) {
		uint8_t nonce[SMBSESS__SMB2_TF_NONCE_FIELD_LEN];
		uint8_t *tf;
		size_t tf_len;
		if (!smbsess__st_ok(next_nonce(conn, s, nonce)) ||
		    !smbsess__st_ok(smbsess__smb2_encrypt_talloc(f, conn->cipher, s->keys.encryption,
								  s->keys.cipher_key_len, s->id, nonce, msg,
								  sizeof msg, &tf, &tf_len))) {
			talloc_free(f);
			return;
		}
		f->buf = talloc_realloc(f, tf, uint8_t, tf_len + 4);
		if (f->buf == NULL) {
			talloc_free(f);
			return;
		}
		memmove(f->buf + 4, f->buf, tf_len);
		f->len = tf_len + 4;
	} else {
		if (s && s->have_keys && p->signing &&
		    !smbsess__st_ok(smbsess__smb2_sign(conn->sign_alg, s->keys.signing, 16, msg, sizeof msg))) {
			talloc_free(f);
			return;
		}
		f->buf = talloc_array(f, uint8_t, sizeof msg + 4);
		if (f->buf == NULL) {
			talloc_free(f);
			return;
		}
		memcpy(f->buf + 4, msg, sizeof msg);
		f->len = sizeof msg + 4;
	}
	f->buf[0] = 0;
	f->buf[1] = (uint8_t)((f->len - 4) >> 16);
	f->buf[2] = (uint8_t)((f->len - 4) >> 8);
	f->buf[3] = (uint8_t)(f->len - 4);
	queue_frame(conn, f);
}

/*
 * Runs when a chain finishes in any way or is freed: its messages still in
 * flight become zombies (their answers are read for their credits and
 * dropped) and the server is asked to cancel them.
 */
static void chain_cleanup(struct tevent_req *req, enum tevent_req_state state)
{
	struct chain *c = tevent_req_data(req, struct chain);
	struct smbsess__smb2_conn *conn = c->conn;

	if (conn == NULL)
		return;
	if (c->waiting) {
		LIST_REMOVE(conn->wait_head, conn->wait_tail, c);
		c->waiting = false;
	}
	for (struct pending *p = conn->pending; p; p = p->next) {
		if (p->chain != c)
			continue;
		p->chain = NULL;
		if (smbsess__st_ok(conn->error))
			send_cancel(conn, p);
	}
	/*
	 * A finished chain has nothing left on the connection, and the
	 * connection may go before the request is received or freed.
	 */
	(void)state;
	c->conn = NULL;
}

/* ---- reading ---- */

/*
 * Whether an answer may stand for @p p at all: one that must be encrypted
 * is, and an encrypted one came under the keys of the request's own
 * session, with that session in its header too. Checked before anything of
 * the answer (credits, an interim's AsyncId) is taken.
 */
static struct smbsess_status check_envelope(const struct pending *p, const uint8_t *msg, bool encrypted,
					    uint64_t tf_session_id)
{
	if (p->encrypt && !encrypted)
		return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	if (encrypted && (p->session_id == 0 || tf_session_id != p->session_id ||
			  smbsess__le64(msg + HDR_SESSION_ID) != tf_session_id))
		return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	return SMBSESS__OK;
}

static struct smbsess_status verify_response(struct smbsess__smb2_conn *conn, struct pending *p,
					     const uint8_t *msg, size_t len, bool encrypted, uint32_t status,
					     bool *was_signed)
{
	uint32_t flags = smbsess__le32(msg + HDR_FLAGS);
	const struct smbsess__smb2_keys *keys;

	*was_signed = false;
	if (encrypted || !p->signing)
		return SMBSESS__OK;
	if (!(flags & FLAG_SIGNED)) {
		/* The server cannot sign for a session it no longer has. */
		if (status == SMBSESS__NT_USER_SESSION_DELETED || status == SMBSESS__NT_NETWORK_SESSION_EXPIRED)
			return SMBSESS__OK;
		return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	}
	keys = answer_keys(conn, p->session_id);
	if (keys == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	SMBSESS__CHECK(smbsess__smb2_verify(conn->sign_alg, keys->signing, 16, msg, len));
	*was_signed = true;
	return SMBSESS__OK;
}

static struct smbsess_status process_message(struct smbsess__smb2_conn *conn, const uint8_t *msg, size_t len,
					     bool encrypted, uint64_t tf_session_id)
{
	uint64_t mid;
	uint32_t flags, status;
	uint16_t cmd;
	struct pending *p;
	struct chain *c;
	struct smbsess__smb2_resp *r;
	bool was_signed;

	if (len < SMBSESS__SMB2_HDR_LEN || msg[0] != 0xFE || msg[1] != 'S' || msg[2] != 'M' || msg[3] != 'B' ||
	    smbsess__le16(msg + HDR_STRUCTURE_SIZE) != 64)
		return proto_err();
	flags = smbsess__le32(msg + HDR_FLAGS);
	if (!(flags & FLAG_SERVER_TO_REDIR))
		return proto_err();
	mid = smbsess__le64(msg + HDR_MESSAGE_ID);
	cmd = smbsess__le16(msg + HDR_COMMAND);
	status = smbsess__le32(msg + HDR_STATUS);

	if (mid == UNSOLICITED_MID && cmd == SMBSESS__SMB2_OPLOCK_BREAK)
		return SMBSESS__OK; /* we take no oplocks or leases; nothing to do */

	for (p = conn->pending; p; p = p->next)
		if (p->mid == mid)
			break;
	if (p == NULL || p->cmd != cmd)
		return proto_err();
	SMBSESS__CHECK(check_envelope(p, msg, encrypted, tf_session_id));

	if ((flags & FLAG_ASYNC) && status == SMBSESS__NT_PENDING) {
		/*
		 * An interim answer: the real one follows under the same
		 * message id. Interim answers are not signed ([MS-SMB2]
		 * 3.3.4.2), so one per request, as Samba's client takes.
		 */
		if (p->async)
			return proto_err();
		p->async = true;
		p->async_id = smbsess__le64(msg + HDR_ASYNC_ID);
		add_credits(conn, smbsess__le16(msg + HDR_CREDIT));
		return SMBSESS__OK;
	}

	SMBSESS__CHECK(verify_response(conn, p, msg, len, encrypted, status, &was_signed));
	add_credits(conn, smbsess__le16(msg + HDR_CREDIT));

	c = p->chain;
	{
		size_t idx = p->idx;

		pending_unlink(conn, p);
		talloc_free(p);
		if (conn->ghosts)
			ghosts_prune(conn);
		if (c == NULL || !tevent_req_is_in_progress(c->req))
			return SMBSESS__OK;
		r = &c->resps[idx];
	}
	r->msg = talloc_memdup(c->resps, msg, len);
	if (r->msg == NULL)
		return SMBSESS__ST_NOMEM;
	r->len = len;
	r->status = status;
	r->body = r->msg + SMBSESS__SMB2_HDR_LEN;
	r->body_len = len - SMBSESS__SMB2_HDR_LEN;
	r->was_signed = was_signed;
	r->was_encrypted = encrypted;
	if (++c->received == c->n)
		tevent_req_done(c->req);
	return SMBSESS__OK;
}

/* A whole frame: decrypts a transformed one, then walks the chain. */
static struct smbsess_status process_frame(struct smbsess__smb2_conn *conn, uint8_t *buf, size_t len)
{
	uint8_t *plain = NULL;
	bool encrypted = false;
	uint64_t sid = 0;
	size_t off = 0;
	struct smbsess_status st = SMBSESS__OK;

	if (len >= 4 && buf[0] == 0xFD && buf[1] == 'S' && buf[2] == 'M' && buf[3] == 'B') {
		const struct smbsess__smb2_keys *keys;
		size_t plain_len;

		SMBSESS__CHECK(smbsess__smb2_transform_session_id(buf, len, &sid));
		keys = answer_keys(conn, sid);
		if (keys == NULL || conn->cipher == 0)
			return proto_err();
		SMBSESS__CHECK(smbsess__smb2_decrypt_talloc(conn, conn->cipher, keys->decryption,
							     keys->cipher_key_len, sid, buf, len,
							     &plain, &plain_len));
		buf = plain;
		len = plain_len;
		encrypted = true;
	}
	while (off < len) {
		size_t msg_len;
		bool last;

		st = smbsess__smb2_chain_next(buf, len, off, &msg_len, &last);
		if (!smbsess__st_ok(st))
			break;
		st = process_message(conn, buf + off, msg_len, encrypted, sid);
		if (!smbsess__st_ok(st) || last)
			break;
		off += msg_len;
	}
	talloc_free(plain);
	return st;
}

/* Reads what the socket has; processes each complete frame. */
static void conn_read(struct smbsess__smb2_conn *conn)
{
	for (;;) {
		ssize_t n;

		if (conn->hdr_got < 4) {
			n = recv(conn->fd, conn->hdr + conn->hdr_got, 4 - conn->hdr_got, MSG_DONTWAIT);
		} else {
			n = recv(conn->fd, conn->in + conn->in_got, conn->in_len - conn->in_got, MSG_DONTWAIT);
		}
		if (n == 0) {
			smbsess__smb2_conn_fail(conn, SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED));
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			smbsess__smb2_conn_fail(conn, SMBSESS__ST_ERRNO(errno));
			return;
		}
		if (conn->hdr_got < 4) {
			conn->hdr_got += (size_t)n;
			if (conn->hdr_got < 4)
				continue;
			conn->in_len = ((size_t)conn->hdr[1] << 16) | ((size_t)conn->hdr[2] << 8) | conn->hdr[3];
			if (conn->hdr[0] == 0x85 && conn->in_len == 0) { /* NetBIOS keep-alive */
				conn->hdr_got = 0;
				continue;
			}
			if (conn->hdr[0] != 0 || conn->in_len < SMBSESS__SMB2_HDR_LEN ||
			    conn->in_len > conn->opts.max_message) {
				smbsess__smb2_conn_fail(conn, proto_err());
				return;
			}
			conn->in = talloc_array(conn, uint8_t, conn->in_len);
			conn->in_got = 0;
			if (conn->in == NULL) {
				smbsess__smb2_conn_fail(conn, SMBSESS__ST_NOMEM);
				return;
			}
			continue;
		}
		conn->in_got += (size_t)n;
		if (conn->in_got < conn->in_len)
			continue;
		{
			uint8_t *frame = conn->in;
			struct smbsess_status st;

			conn->in = NULL;
			conn->hdr_got = 0;
			st = process_frame(conn, frame, conn->in_len);
			talloc_free(frame);
			if (!smbsess__st_ok(st)) {
				smbsess__smb2_conn_fail(conn, st);
				return;
			}
			dispatch_waiting(conn);
			if (!smbsess__st_ok(conn->error))
				return;
		}
	}
}

static void conn_io(struct tevent_context *ev, struct tevent_fd *fde, uint16_t flags, void *private_data)
{
	struct smbsess__smb2_conn *conn = private_data;

	(void)ev;
	(void)fde;
	if (flags & TEVENT_FD_WRITE)
		conn_write(conn);
	if ((flags & TEVENT_FD_READ) && smbsess__st_ok(conn->error))
		conn_read(conn);
}

/* ---- the connection object ---- */

static int conn_destructor(struct smbsess__smb2_conn *conn)
{
	struct smbsess_status gone = SMBSESS__ST_LIB(SMBSESS_E_DISCONNECTED);

	/* Detach and fail every chain first: their cleanup must not touch this connection. */
	while (conn->wait_head) {
		struct chain *c = conn->wait_head;
		LIST_REMOVE(conn->wait_head, conn->wait_tail, c);
		c->waiting = false;
		c->conn = NULL;
		chain_fail(c, gone);
	}
	for (struct pending *p = conn->pending; p; p = p->next) {
		struct chain *c = p->chain;
		if (c) {
			c->conn = NULL;
			chain_fail(c, gone);
		}
	}
	smbsess__smb2_conn_fail(conn, gone);
	/* Sessions may outlive the connection (a setup request owns its session until received). */
	while (conn->sessions) {
		struct smbsess__smb2_session *s = conn->sessions;
		conn->sessions = s->next;
		s->prev = s->next = NULL;
		s->conn = NULL;
	}
	return 0;
}

struct smbsess__smb2_conn *smbsess__smb2_conn_new(TALLOC_CTX *mem_ctx, struct tevent_context *ev, int fd,
						  const char *server_name,
						  const struct smbsess__smb2_options *opts)
{
	struct smbsess__smb2_conn *conn = talloc_zero(mem_ctx, struct smbsess__smb2_conn);

	if (conn == NULL)
		return NULL;
	conn->ev = ev;
	conn->fd = fd;
	conn->credits = 1;
	conn->error = SMBSESS__OK;
	if (opts)
		conn->opts = *opts;
	if (conn->opts.timeout_ms == 0)
		conn->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (conn->opts.max_message == 0)
		conn->opts.max_message = DEFAULT_MAX_MESSAGE;
	if (conn->opts.max_message > NBSS_MAX)
		conn->opts.max_message = NBSS_MAX;
	conn->server_name = talloc_strdup(conn, server_name ? server_name : "");
	conn->fde = tevent_add_fd(ev, conn, fd, TEVENT_FD_READ, conn_io, conn);
	if (conn->server_name == NULL || conn->fde == NULL) {
		TALLOC_FREE(conn->fde);
		talloc_free(conn);
		return NULL;
	}
	talloc_set_destructor(conn, conn_destructor);
	return conn;
}

/* ---- calls ---- */

struct tevent_req *smbsess__smb2_calls_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					    struct smbsess__smb2_conn *conn,
					    const struct smbsess__smb2_call *calls, size_t n, bool related,
					    uint32_t timeout_ms)
{
	struct tevent_req *req;
	struct chain *c;

	req = tevent_req_create(mem_ctx, &c, struct chain);
	if (req == NULL)
		return NULL;
	c->req = req;
	c->ev = ev;
	c->conn = conn;
	c->n = n;
	c->related = related;
	/* Callbacks always run from the event loop, never inside our read handler. */
	tevent_req_defer_callback(req, ev);

	if (n == 0 || n > 32) {
		smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
		return tevent_req_post(req, ev);
	}
	if (!smbsess__st_ok(conn->error)) {
		smbsess__req_nok(req, conn->error);
		return tevent_req_post(req, ev);
	}
	c->calls = talloc_zero_array(c, struct smbsess__smb2_call, n);
	c->ids = talloc_zero_array(c, struct call_ids, n);
	c->resps = talloc_zero_array(c, struct smbsess__smb2_resp, n);
	if (tevent_req_nomem(c->calls, req) || tevent_req_nomem(c->ids, req) || tevent_req_nomem(c->resps, req))
		return tevent_req_post(req, ev);
	for (size_t i = 0; i < n; i++) {
		c->calls[i] = calls[i];
		c->calls[i].session = NULL;
		c->calls[i].tree = NULL;
		c->ids[i].session_id = calls[i].session ? calls[i].session->id : 0;
		c->ids[i].tree_id = calls[i].tree ? calls[i].tree->id : 0;
		c->ids[i].tree_encrypt = calls[i].tree && calls[i].tree->encrypt;
		if (calls[i].body_len) {
			c->calls[i].body = talloc_memdup(c->calls, calls[i].body, calls[i].body_len);
			if (tevent_req_nomem(c->calls[i].body, req))
				return tevent_req_post(req, ev);
		}
		/* Encryption and signing are per session: a chain stays within one. */
		if (calls[i].session != calls[0].session) {
			smbsess__req_nok(req, SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT));
			return tevent_req_post(req, ev);
		}
	}
	tevent_req_set_cleanup_fn(req, chain_cleanup);
	if (!smbsess__req_set_timeout(req, ev, timeout_ms ? timeout_ms : conn->opts.timeout_ms)) {
		tevent_req_oom(req);
		return tevent_req_post(req, ev);
	}
	LIST_ADD_TAIL(conn->wait_head, conn->wait_tail, c);
	c->waiting = true;
	dispatch_waiting(conn);
	if (!tevent_req_is_in_progress(req))
		return tevent_req_post(req, ev);
	return req;
}

struct smbsess_status smbsess__smb2_calls_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					       struct smbsess__smb2_resp **resps)
{
	struct chain *c = tevent_req_data(req, struct chain);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st))
		*resps = talloc_move(mem_ctx, &c->resps);
	tevent_req_received(req);
	return st;
}

struct tevent_req *smbsess__smb2_call_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
					   struct smbsess__smb2_conn *conn,
					   const struct smbsess__smb2_call *call, uint32_t timeout_ms)
{
	return smbsess__smb2_calls_send(mem_ctx, ev, conn, call, 1, false, timeout_ms);
}

struct smbsess_status smbsess__smb2_call_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
					      struct smbsess__smb2_resp *resp)
{
	struct smbsess__smb2_resp *all = NULL;
	struct smbsess_status st = smbsess__smb2_calls_recv(req, mem_ctx, &all);

	if (smbsess__st_ok(st)) {
		*resp = all[0];
		/* The buffers stay children of the array, which stays on mem_ctx. */
	}
	return st;
}
