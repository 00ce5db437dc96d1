/*
 * libFuzzer harnesses for the receive path of lib/smb2: NetBIOS framing,
 * process_frame / process_message (message ids, credits, interim answers,
 * compound chains, transform headers), and the NEGOTIATE and SESSION_SETUP
 * response parsers (negotiate contexts, SPNEGO/NTLMSSP through the auth
 * layer, key derivation and the final signature check). The parsers are
 * static inside lib/smb2, so they are driven through a real connection:
 *
 * A socketpair; smbsess__smb2_conn_new wraps one end, the harness plays the
 * server on the other. The input is a flags byte and then "units", each
 * [u16le n][n raw bytes] written as they are to the client (so a unit
 * carries its own NetBIOS headers, and may hold several frames, half of
 * one, keep-alives or garbage). The loop never blocks: whenever the client
 * is idle (no immediate event, nothing to read or write on its socket) the
 * next unit goes out; when none is left the server closes its end. A
 * request that is still running then, with nothing left to do, is a hang:
 * the harness aborts.
 *
 *   smb2_negotiate  smbsess__smb2_negotiate_send answered by the units.
 *                   Flags: bits 0-2 the client's highest dialect (0 and
 *                   5-7: 3.1.1, 1: 2.0.2, 2: 2.1, 3: 3.0, 4: 3.0.2), bit 3
 *                   lowest dialect 3.0 (when not above the highest), bit 4
 *                   signing required, bits 5-6 encryption (1 required, 2
 *                   off, else auto), bit 7 fix-up (below).
 *   smb2_session    negotiation succeeds with a response built here, then
 *                   smbsess__smb2_session_setup_send is answered by the
 *                   units. Flags: bits 0-2 the negotiated dialect and
 *                   contexts (0: 3.1.1, 1: 2.0.2, 2: 2.1, 3: 3.0, 4: 3.0.2,
 *                   5: 3.1.1 with AES-128-GCM, 6: 3.1.1 with AES-256-CCM and
 *                   AES-GMAC signing, 7: 3.0 with encryption), bit 3 the
 *                   server requires signing, bit 4 anonymous logon, bit 5
 *                   the client requires signing, bit 6 the client requires
 *                   encryption, bit 7 fix-up.
 *
 * Fix-up: a unit that starts with a NetBIOS header and an SMB2 header gets
 * the message id and command of the client's latest request, so that
 * mutations are not wasted on matching them.
 *
 * Checked: no crash, leak (talloc null tracking, LeakSanitizer), undefined
 * behaviour, hang or file descriptor leak; the request ends with a status
 * the API documents; what a successful request leaves in the connection is
 * consistent; every frame the client writes is well-formed SMB2.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "fuzz_loop.h"

#include "auth/spnego.h"
#include "rpc/rpc.h"
#include "smb2/smb2_private.h"
#include "util/treq.h"

/* A bind PDU's size, for a transceive of realistic length. */
#define RPC_BIND_LEN_FUZZ 72

#ifndef TARGET
#error "compile with -DTARGET=<name>, e.g. -DTARGET=smb2_negotiate"
#endif


/* ================================================================ the server end */

/*
 * What the server end knows of the session, to sign what it sends and to
 * encrypt the answers to encrypted requests (smb2_ops).
 */
struct server_sec {
	uint64_t session_id;   /* 0: no session yet */
	bool sign;
	uint16_t sign_alg, cipher;
	struct smbsess__smb2_keys keys;
};

struct server {
	int fd;                /* our end of the socketpair; -1 once closed */
	struct fuzz_in units;  /* what is left to send */
	bool fixup;
	struct server_sec sec;
	/* client bytes not yet parsed into frames */
	uint8_t *rbuf;
	size_t rlen;
	/* the client's latest request */
	bool have_req;
	bool req_encrypted;
	uint64_t mid;
	uint16_t cmd;
	size_t frames;         /* frames the client sent */
	/* a unit not completely written yet */
	uint8_t *wbuf;
	size_t wlen, woff;
	size_t sent_units;
};

/* Checks one frame the client wrote and remembers its first message. */
static void client_frame(struct server *s, const uint8_t *f, size_t n)
{
	s->frames++;
	if (n >= 4 && memcmp(f, "\xfdSMB", 4) == 0) {
		/* Encrypted: the transform header's fields ([MS-SMB2] 2.2.41); the server end has the keys. */
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		struct smbsess_status st;

		FUZZ_REQUIRE(n >= SMBSESS__SMB2_TF_HDR_LEN + SMBSESS__SMB2_HDR_LEN &&
				     smbsess__le32(f + SMBSESS__SMB2_TF_SIZE_OFF) == n - SMBSESS__SMB2_TF_HDR_LEN &&
				     smbsess__le16(f + SMBSESS__SMB2_TF_FLAGS_OFF) == 1,
			     "the client wrote a malformed transform header");
		FUZZ_REQUIRE(s->sec.cipher != 0 && smbsess__le64(f + SMBSESS__SMB2_TF_SESSION_OFF) == s->sec.session_id,
			     "the client encrypted for an unknown session");
		st = smbsess__smb2_decrypt_talloc(NULL, s->sec.cipher, s->sec.keys.encryption, s->sec.keys.cipher_key_len,
						  s->sec.session_id, f, n, &plain, &plain_len);
		FUZZ_REQUIRE(smbsess__st_ok(st), "the client's encrypted frame does not decrypt: %s", fuzz_st(st));
		client_frame(s, plain, plain_len);
		s->frames--;
		s->req_encrypted = true;
		talloc_free(plain);
		return;
	}
	s->req_encrypted = false;
	FUZZ_REQUIRE(n >= SMBSESS__SMB2_HDR_LEN && memcmp(f, "\xfeSMB", 4) == 0 && smbsess__le16(f + 4) == 64,
		     "the client wrote a frame that is not SMB2 (%zu bytes)", n);
	FUZZ_REQUIRE(!(smbsess__le32(f + HDR_FLAGS) & FLAG_SERVER_TO_REDIR), "the client wrote a response");
	for (size_t off = 0;;) {
		uint32_t next = smbsess__le32(f + off + HDR_NEXT);

		FUZZ_REQUIRE(memcmp(f + off, "\xfeSMB", 4) == 0, "a compound message that is not SMB2");
		if (next == 0)
			break;
		FUZZ_REQUIRE(next % 8 == 0 && next >= 64 && next <= n - off && n - off - next >= 64,
			     "the client wrote a bad NextCommand %" PRIu32, next);
		off += next;
	}
	s->have_req = true;
	s->mid = smbsess__le64(f + HDR_MESSAGE_ID);
	s->cmd = smbsess__le16(f + HDR_COMMAND);
}

/* Reads what the client wrote, frame by frame. */
static void server_read(struct server *s)
{
	uint8_t buf[16384];

	while (s->fd >= 0) {
		ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n <= 0) {
			FUZZ_REQUIRE(n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET,
				     "recv on the server end: %s", strerror(errno));
			break;
		}
		s->rbuf = must(talloc_realloc_size(NULL, s->rbuf, s->rlen + (size_t)n));
		memcpy(s->rbuf + s->rlen, buf, (size_t)n);
		s->rlen += (size_t)n;
	}
	for (;;) {
		size_t len;

		if (s->rlen < 4)
			return;
		FUZZ_REQUIRE(s->rbuf[0] == 0, "the client wrote NetBIOS message type 0x%02x", s->rbuf[0]);
		len = ((size_t)s->rbuf[1] << 16) | ((size_t)s->rbuf[2] << 8) | s->rbuf[3];
		if (s->rlen < 4 + len)
			return;
		client_frame(s, s->rbuf + 4, len);
		memmove(s->rbuf, s->rbuf + 4 + len, s->rlen - 4 - len);
		s->rlen -= 4 + len;
	}
}

/* Writes (the rest of) the current unit; false when nothing was pending. */
static bool server_write(struct server *s)
{
	ssize_t n;

	if (s->woff >= s->wlen)
		return false;
	if (s->fd < 0) {
		s->woff = s->wlen;
		return true;
	}
	n = send(s->fd, s->wbuf + s->woff, s->wlen - s->woff, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0) {
		FUZZ_REQUIRE(errno == EAGAIN || errno == EWOULDBLOCK || errno == EPIPE || errno == ECONNRESET,
			     "send on the server end: %s", strerror(errno));
		if (errno == EPIPE || errno == ECONNRESET)
			s->woff = s->wlen; /* the client is gone */
		return true;
	}
	s->woff += (size_t)n;
	return true;
}

/*
 * Fix-up of the first NetBIOS frame of the current unit, when it holds an
 * SMB2 message: the message id and command of the client's latest request,
 * and (smb2_ops) the session id, and a signature over the whole chain or,
 * when the request was encrypted, the encryption a server knowing the
 * session's keys would add.
 */
static void fix_unit(struct server *s)
{
	uint8_t *m = s->wbuf + 4;
	size_t flen, rest;

	if (!s->have_req || s->wlen < 4 + SMBSESS__SMB2_HDR_LEN || s->wbuf[0] != 0 || memcmp(m, "\xfeSMB", 4) != 0)
		return;
	flen = ((size_t)s->wbuf[1] << 16) | ((size_t)s->wbuf[2] << 8) | s->wbuf[3];
	if (flen < SMBSESS__SMB2_HDR_LEN || flen > s->wlen - 4)
		flen = s->wlen - 4;
	rest = s->wlen - 4 - flen;
	smbsess__put_le64(m + HDR_MESSAGE_ID, s->mid);
	smbsess__put_le16(m + HDR_COMMAND, s->cmd);
	if (s->sec.session_id == 0)
		return;
	smbsess__put_le64(m + HDR_SESSION_ID, s->sec.session_id);
	if (s->sec.sign && !s->req_encrypted)
		(void)smbsess__smb2_sign_chain(s->sec.sign_alg, s->sec.keys.signing, 16, m, flen);
	if (s->req_encrypted) {
		uint8_t *tf, *nb;
		size_t tf_len;
		struct smbsess_status st = smbsess__smb2_encrypt_talloc(NULL, s->sec.cipher, s->sec.keys.decryption,
								       s->sec.keys.cipher_key_len, s->sec.session_id,
								       NULL, m, flen, &tf, &tf_len);

		FUZZ_REQUIRE(smbsess__st_ok(st), "encrypting a unit: %s", fuzz_st(st));
		nb = must(talloc_size(NULL, 4 + tf_len + rest + 1));
		nb[0] = 0;
		nb[1] = (uint8_t)(tf_len >> 16);
		nb[2] = (uint8_t)(tf_len >> 8);
		nb[3] = (uint8_t)tf_len;
		memcpy(nb + 4, tf, tf_len);
		memcpy(nb + 4 + tf_len, s->wbuf + 4 + flen, rest);
		talloc_free(tf);
		talloc_free(s->wbuf);
		s->wbuf = nb;
		s->wlen = 4 + tf_len + rest;
	} else {
		s->wbuf[1] = (uint8_t)(flen >> 16);
		s->wbuf[2] = (uint8_t)(flen >> 8);
		s->wbuf[3] = (uint8_t)flen;
	}
}

/* Starts the next unit; false when there is none. */
static bool server_next_unit(struct server *s)
{
	size_t n;
	const uint8_t *u;

	if (s->units.len == 0)
		return false;
	u = fuzz_piece(&s->units, &n);
	talloc_free(s->wbuf);
	s->wbuf = must(talloc_memdup(NULL, n ? u : (const uint8_t *)"", n ? n : 1));
	s->wlen = n;
	s->woff = 0;
	s->sent_units++;
	if (s->fixup)
		fix_unit(s);
	fuzz_log("unit %zu: %zu bytes (client frames so far %zu, latest mid %" PRIu64 " command %u)", s->sent_units,
		 n, s->frames, s->mid, s->cmd);
	server_write(s);
	return true;
}

static void server_close(struct server *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Whether the client's socket has something for the event loop: bytes to read, room to write. */
static bool client_ready(const struct smbsess__smb2_conn *conn)
{
	struct pollfd p;

	if (conn->fd < 0 || conn->fde == NULL)
		return false;
	p.fd = conn->fd;
	p.events = POLLIN | (conn->out_head ? POLLOUT : 0);
	p.revents = 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (p.events | POLLHUP | POLLERR));
}

/*
 * Runs the loop until @p req is done, feeding units whenever the client is
 * idle. When they are used up and the client is idle: @p close_at_end
 * closes the server end (the request must then end), otherwise returns.
 */
static void pump(struct tevent_context *ev, struct smbsess__smb2_conn *conn, struct server *s,
		 struct tevent_req *req, bool close_at_end)
{
	for (unsigned i = 0; tevent_req_is_in_progress(req); i++) {
		FUZZ_REQUIRE(i < 2000000, "no end after two million loop iterations");
		if (fuzz_loop_step(ev))
			continue;
		server_read(s);
		if (client_ready(conn)) {
			if (tevent_loop_once(ev) != 0)
				fuzz_fail("tevent_loop_once failed");
			continue;
		}
		/* The client is idle. */
		if (server_write(s) || server_next_unit(s))
			continue;
		if (!close_at_end)
			return;
		if (s->fd >= 0) {
			fuzz_log("units used up: closing the server end");
			server_close(s);
			continue;
		}
		fuzz_fail("the request is still running with nothing left to do (server end closed, client idle)");
	}
}

/* ================================================================ the connection */

struct world {
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	struct smbsess__smb2_conn *conn;
	int client_fd;
	struct server srv;
};

static void world_new(struct world *w, TALLOC_CTX *mem, const struct smbsess__smb2_options *opts,
		      const uint8_t *units, size_t units_len, bool fixup)
{
	int fds[2];

	memset(w, 0, sizeof *w);
	w->mem = mem;
	w->ev = must(tevent_context_init(mem));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0)
		fuzz_fail("fcntl: %s", strerror(errno));
	w->client_fd = fds[0];
	w->srv.fd = fds[1];
	w->srv.units = (struct fuzz_in){ units, units_len };
	w->srv.fixup = fixup;
	w->conn = smbsess__smb2_conn_new(mem, w->ev, fds[0], "fuzzsrv", opts);
	FUZZ_REQUIRE(w->conn != NULL, "conn_new failed");
}

static void world_free(struct world *w)
{
	/* The connection closes its socket when freed. */
	TALLOC_FREE(w->conn);
	FUZZ_REQUIRE(fcntl(w->client_fd, F_GETFD) == -1 && errno == EBADF,
		     "the connection left its socket open when freed");
	server_close(&w->srv);
	talloc_free(w->srv.rbuf);
	talloc_free(w->srv.wbuf);
	/* Nothing may be left in the event loop: no timer, no immediate that fires. */
	for (unsigned i = 0; fuzz_loop_step(w->ev); i++)
		FUZZ_REQUIRE(i < 100000, "events keep firing after the connection was freed");
	TALLOC_FREE(w->ev);
}

static bool allowed_end(struct smbsess_status st)
{
	if (smbsess__st_ok(st) || st.domain == SMBSESS_DOMAIN_NTSTATUS || st.domain == SMBSESS_DOMAIN_ERRNO)
		return true;
	if (st.domain != SMBSESS_DOMAIN_LIBRARY)
		return false;
	switch (st.code) {
	case SMBSESS_E_NOMEM:
	case SMBSESS_E_PROTOCOL:
	case SMBSESS_E_NOT_SUPPORTED:
	case SMBSESS_E_LIMIT:
	case SMBSESS_E_DISCONNECTED:
	case SMBSESS_E_BAD_SIGNATURE:
	case SMBSESS_E_AUTH:
		return true;
	default:
		return false; /* TIMEOUT: the harness never lets a request wait that long */
	}
}

/* What a connection that negotiated must hold. */
static void check_negotiated(const struct smbsess__smb2_conn *c)
{
	uint16_t d = c->dialect;

	FUZZ_REQUIRE(c->negotiated, "negotiate succeeded but the connection is not negotiated");
	FUZZ_REQUIRE(d == 0x0202 || d == 0x0210 || d == 0x0300 || d == 0x0302 || d == 0x0311, "dialect 0x%04x", d);
	{
		bool offered = false;

		for (size_t i = 0; i < c->n_client_dialects; i++)
			offered = offered || c->client_dialects[i] == d;
		FUZZ_REQUIRE(offered, "dialect 0x%04x was not offered", d);
	}
	FUZZ_REQUIRE(c->max_transact >= 4096 && c->max_read >= 4096 && c->max_write >= 4096, "sizes below 4096");
	FUZZ_REQUIRE(c->cipher <= 4, "cipher %u", c->cipher);
	FUZZ_REQUIRE(c->cipher == 0 || d >= 0x0300, "cipher %u with dialect 0x%04x", c->cipher, d);
	FUZZ_REQUIRE(c->cipher == 0 || c->opts.encryption != SMBSESS__SMB2_POLICY_OFF, "cipher with encryption off");
	FUZZ_REQUIRE(c->cipher != 0 || c->opts.encryption != SMBSESS__SMB2_POLICY_REQUIRED,
		     "no cipher with encryption required");
	FUZZ_REQUIRE(c->sign_alg <= 2 && (d == 0x0311 || c->sign_alg == (d >= 0x0300 ? 1 : 0)),
		     "signing algorithm %u with dialect 0x%04x", c->sign_alg, d);
	FUZZ_REQUIRE((c->neg_token == NULL) == (c->neg_token_len == 0) &&
			     (c->neg_token == NULL || talloc_get_size(c->neg_token) >= c->neg_token_len),
		     "SPNEGO hint inconsistent");
	/* The connection may have died after the answer (on what followed it in its frame). */
	FUZZ_REQUIRE(allowed_end(c->error), "negotiated connection died with %s",
		     fuzz_st(c->error));
}

/* ================================================================ smb2_negotiate */

static const uint16_t dialects_by_bits[8] = { 0, 0x0202, 0x0210, 0x0300, 0x0302, 0x0311, 0x0311, 0x0311 };

static void fuzz_smb2_negotiate(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	struct smbsess__smb2_options opts = { 0 };
	struct world w;
	struct tevent_req *req;
	struct smbsess_status st;
	uint8_t *units = fuzz_dup(mem, in.p, in.len);

	opts.max_dialect = dialects_by_bits[flags & 7];
	if ((flags & 8) && (opts.max_dialect == 0 || opts.max_dialect >= 0x0300))
		opts.min_dialect = 0x0300;
	opts.signing = (flags & 0x10) ? SMBSESS__SMB2_POLICY_REQUIRED : SMBSESS__SMB2_POLICY_AUTO;
	opts.encryption = ((flags >> 5) & 3) == 1 ? SMBSESS__SMB2_POLICY_REQUIRED
			  : ((flags >> 5) & 3) == 2 ? SMBSESS__SMB2_POLICY_OFF : SMBSESS__SMB2_POLICY_AUTO;
	opts.timeout_ms = 20000;

	world_new(&w, mem, &opts, units, in.len, flags & 0x80);
	req = smbsess__smb2_negotiate_send(mem, w.ev, w.conn);
	FUZZ_REQUIRE(req != NULL, "negotiate_send returned NULL");
	pump(w.ev, w.conn, &w.srv, req, true);
	st = smbsess__smb2_negotiate_recv(req);
	talloc_free(req);
	fuzz_log("negotiate: %s after %zu units, dialect 0x%04x", fuzz_st(st), w.srv.sent_units, w.conn->dialect);
	FUZZ_REQUIRE(allowed_end(st) && !fuzz_st_is_lib(st, SMBSESS_E_AUTH) &&
			     !fuzz_st_is_lib(st, SMBSESS_E_BAD_SIGNATURE),
		     "negotiate ended with %s", fuzz_st(st));
	FUZZ_REQUIRE(w.srv.frames >= 1, "the client sent no NEGOTIATE");
	if (smbsess__st_ok(st))
		check_negotiated(w.conn);
	else
		FUZZ_REQUIRE(!w.conn->negotiated, "failed negotiate left the connection negotiated");
	world_free(&w);
}

/* ================================================================ smb2_session */

/* Samba 4.17's NegTokenInit2 hint ("not_defined_in_RFC4178@please_ignore"). */
static const uint8_t samba_hint[] = {
	0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c,
	0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa3, 0x2a, 0x30, 0x28, 0xa0, 0x26,
	0x1b, 0x24, 0x6e, 0x6f, 0x74, 0x5f, 0x64, 0x65, 0x66, 0x69, 0x6e, 0x65, 0x64, 0x5f, 0x69, 0x6e, 0x5f, 0x52,
	0x46, 0x43, 0x34, 0x31, 0x37, 0x38, 0x40, 0x70, 0x6c, 0x65, 0x61, 0x73, 0x65, 0x5f, 0x69, 0x67, 0x6e, 0x6f,
	0x72, 0x65,
};

struct neg_choice {
	uint16_t dialect;
	uint32_t caps;
	uint16_t cipher;   /* 3.1.1: the encryption context's cipher, 0 for none */
	int sign_alg;      /* 3.1.1: the signing context's algorithm, -1 for none */
};

static const struct neg_choice neg_choices[8] = {
	{ 0x0311, 0x07, 0, -1 },      { 0x0202, 0x01, 0, -1 }, { 0x0210, 0x07, 0, -1 }, { 0x0300, 0x07, 0, -1 },
	{ 0x0302, 0x07, 0, -1 },      { 0x0311, 0x07, 2, 1 },  { 0x0311, 0x07, 3, 2 },  { 0x0300, 0x47, 0, -1 },
};

static size_t put_ctx(uint8_t *p, uint16_t type, const uint8_t *d, uint16_t len)
{
	smbsess__put_le16(p, type);
	smbsess__put_le16(p + 2, len);
	smbsess__put_le32(p + 4, 0);
	memcpy(p + 8, d, len);
	return 8 + (size_t)len;
}

/* A NEGOTIATE response, as Samba would send it, framed for the wire. */
static uint8_t *make_negotiate_response(TALLOC_CTX *mem, const struct neg_choice *c, bool sign_required,
					size_t *len)
{
	uint8_t *b = must(talloc_zero_size(mem, 4 + 512));
	uint8_t *m = b + 4;
	size_t off = 64 + 64 + sizeof samba_hint, n = 0;

	memcpy(m, "\xfeSMB", 4);
	smbsess__put_le16(m + 4, 64);
	smbsess__put_le16(m + HDR_CREDIT, 64);
	smbsess__put_le32(m + HDR_FLAGS, FLAG_SERVER_TO_REDIR);
	smbsess__put_le16(m + 64, 65);
	smbsess__put_le16(m + 66, (uint16_t)(SIGNING_ENABLED | (sign_required ? SIGNING_REQUIRED : 0)));
	smbsess__put_le16(m + 68, c->dialect);
	memcpy(m + 72, "fuzz-server-guid", 16);
	smbsess__put_le32(m + 88, c->caps);
	smbsess__put_le32(m + 92, 8388608);
	smbsess__put_le32(m + 96, 8388608);
	smbsess__put_le32(m + 100, 8388608);
	smbsess__put_le16(m + 120, 128);
	smbsess__put_le16(m + 122, sizeof samba_hint);
	memcpy(m + 128, samba_hint, sizeof samba_hint);
	if (c->dialect == 0x0311) {
		uint8_t d[38] = { 1, 0, 32, 0, 1, 0 };

		off = (off + 7) & ~(size_t)7;
		smbsess__put_le32(m + 124, (uint32_t)off);
		for (size_t i = 0; i < 32; i++)
			d[6 + i] = (uint8_t)(0x40 + i);
		off += put_ctx(m + off, 1, d, 38);
		n++;
		if (c->cipher) {
			uint8_t e[4] = { 1, 0, (uint8_t)c->cipher, 0 };

			off = (off + 7) & ~(size_t)7;
			off += put_ctx(m + off, 2, e, 4);
			n++;
		}
		if (c->sign_alg >= 0) {
			uint8_t g[4] = { 1, 0, (uint8_t)c->sign_alg, 0 };

			off = (off + 7) & ~(size_t)7;
			off += put_ctx(m + off, 8, g, 4);
			n++;
		}
		smbsess__put_le16(m + 70, (uint16_t)n);
	}
	b[1] = 0;
	b[2] = (uint8_t)(off >> 8);
	b[3] = (uint8_t)off;
	*len = 4 + off;
	return b;
}

static void fuzz_smb2_session(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	const struct neg_choice *nc = &neg_choices[flags & 7];
	bool anonymous = flags & 0x10;
	struct smbsess__smb2_options opts = { 0 };
	struct world w;
	struct tevent_req *req;
	struct smbsess_status st;
	struct smbsess__creds *creds = NULL;
	struct smbsess__smb2_session *session = NULL;
	uint8_t *neg, *units = fuzz_dup(mem, in.p, in.len);
	size_t neg_len, neg_units_len;
	uint8_t *neg_units;

	opts.signing = (flags & 0x20) ? SMBSESS__SMB2_POLICY_REQUIRED : SMBSESS__SMB2_POLICY_AUTO;
	opts.encryption = (flags & 0x40) ? SMBSESS__SMB2_POLICY_REQUIRED : SMBSESS__SMB2_POLICY_AUTO;
	opts.timeout_ms = 20000;
	/* Encryption required needs a cipher: 3.0 and 3.0.2 take AES-128-CCM with CAP_ENCRYPTION. */
	neg = make_negotiate_response(mem, nc, flags & 8, &neg_len);
	neg_units_len = 2 + neg_len;
	neg_units = must(talloc_size(mem, neg_units_len));
	smbsess__put_le16(neg_units, (uint16_t)neg_len);
	memcpy(neg_units + 2, neg, neg_len);

	world_new(&w, mem, &opts, neg_units, neg_units_len, false);
	req = smbsess__smb2_negotiate_send(mem, w.ev, w.conn);
	FUZZ_REQUIRE(req != NULL, "negotiate_send returned NULL");
	pump(w.ev, w.conn, &w.srv, req, false);
	FUZZ_REQUIRE(!tevent_req_is_in_progress(req), "negotiate did not end on its answer");
	st = smbsess__smb2_negotiate_recv(req);
	talloc_free(req);
	if (!smbsess__st_ok(st)) {
		/* Only when encryption is required and the dialect has no cipher. */
		FUZZ_REQUIRE(fuzz_st_is_lib(st, SMBSESS_E_NOT_SUPPORTED) && (flags & 0x40),
			     "negotiate with a good answer: %s", fuzz_st(st));
		world_free(&w);
		return;
	}
	check_negotiated(w.conn);

	/* Now the units answer the session setup. */
	w.srv.units = (struct fuzz_in){ units, in.len };
	w.srv.fixup = flags & 0x80;
	if (!anonymous) {
		st = smbsess__creds_new(mem, "FUZZDOM", "fuzzuser", "Fuzz!Passw0rd", &creds);
		FUZZ_REQUIRE(smbsess__st_ok(st), "creds_new: %s", fuzz_st(st));
	}
	req = smbsess__smb2_session_setup_send(mem, w.ev, w.conn, creds);
	FUZZ_REQUIRE(req != NULL, "session_setup_send returned NULL");
	pump(w.ev, w.conn, &w.srv, req, true);
	st = smbsess__smb2_session_setup_recv(req, &session);
	talloc_free(req);
	fuzz_log("session setup (%s, dialect 0x%04x): %s after %zu units", anonymous ? "anonymous" : "password",
		 nc->dialect, fuzz_st(st), w.srv.sent_units);
	FUZZ_REQUIRE(allowed_end(st), "session setup ended with %s", fuzz_st(st));
	if (smbsess__st_ok(st)) {
		FUZZ_REQUIRE(session != NULL && session->conn == w.conn && session->id != 0, "session object");
		FUZZ_REQUIRE(w.conn->sessions == session || session->prev != NULL, "session not on its connection");
		FUZZ_REQUIRE(!session->signing || session->have_keys, "signing without keys");
		FUZZ_REQUIRE(!session->encrypt || (session->have_keys && w.conn->cipher != 0), "encryption without keys");
		FUZZ_REQUIRE(opts.signing != SMBSESS__SMB2_POLICY_REQUIRED || session->signing,
			     "signing required but the session does not sign");
		FUZZ_REQUIRE(opts.encryption != SMBSESS__SMB2_POLICY_REQUIRED || session->encrypt,
			     "encryption required but the session does not encrypt");
		if (anonymous)
			FUZZ_REQUIRE(!session->have_keys, "anonymous session with keys");
		else
			FUZZ_REQUIRE(session->have_keys, "authenticated session without keys (flags 0x%x)",
				     session->flags);
		talloc_free(session);
	} else {
		FUZZ_REQUIRE(w.conn->sessions == NULL, "a failed session setup left its session on the connection");
	}
	world_free(&w);
	talloc_free(creds);
}


/* ================================================================ smb2_ops */

#define OPS_SESSION_ID 0x0000400000000019ull
#define OPS_TREE_ID 7

/* A frame holding one SMB2 response: header for @p cmd and @p status, then @p body. */
static uint8_t *make_response(TALLOC_CTX *mem, uint16_t cmd, uint32_t status, uint64_t session_id, uint32_t tree_id,
			      const uint8_t *body, size_t body_len, size_t *len)
{
	uint8_t *b = must(talloc_zero_size(mem, 4 + 64 + body_len));
	uint8_t *m = b + 4;

	b[1] = (uint8_t)((64 + body_len) >> 16);
	b[2] = (uint8_t)((64 + body_len) >> 8);
	b[3] = (uint8_t)(64 + body_len);
	memcpy(m, "\xfeSMB", 4);
	smbsess__put_le16(m + 4, 64);
	smbsess__put_le32(m + HDR_STATUS, status);
	smbsess__put_le16(m + HDR_COMMAND, cmd);
	smbsess__put_le16(m + HDR_CREDIT, 64);
	smbsess__put_le32(m + HDR_FLAGS, FLAG_SERVER_TO_REDIR);
	smbsess__put_le32(m + HDR_TREE_ID, tree_id);
	smbsess__put_le64(m + HDR_SESSION_ID, session_id);
	memcpy(m + 64, body, body_len);
	*len = 4 + 64 + body_len;
	return b;
}

/* Appends @p frame as one unit ([u16le n][frame]) to *units. */
static void add_unit(TALLOC_CTX *mem, uint8_t **units, size_t *len, const uint8_t *frame, size_t n)
{
	*units = must(talloc_realloc_size(mem, *units, *len + 2 + n));
	smbsess__put_le16(*units + *len, (uint16_t)n);
	memcpy(*units + *len + 2, frame, n);
	*len += 2 + n;
}

/* The two SESSION_SETUP answers of an anonymous NTLMSSP logon. */
static void anonymous_session_units(TALLOC_CTX *mem, uint8_t **units, size_t *len)
{
	static const uint8_t ti[] = { 2, 0, 6, 0, 'D', 0, 'O', 0, 'M', 0, 1, 0, 6, 0, 'S', 0, 'R', 0, 'V', 0, 0, 0, 0, 0 };
	uint8_t chal[48 + 8 + sizeof ti] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2 };
	struct smbsess__spnego_resp r = { .neg_state = SMBSESS__SPNEGO_ACCEPT_INCOMPLETE,
					  .has_supported_mech = true,
					  .supported_mech = SMBSESS__MECH_NTLMSSP,
					  .response_token = chal,
					  .response_token_len = sizeof chal };
	uint8_t *tok, *body, *f;
	size_t tok_len, n;
	struct smbsess_status st;

	smbsess__put_le32(chal + 16, 56);
	smbsess__put_le32(chal + 20, 0xe2898215u);
	memcpy(chal + 24, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
	smbsess__put_le16(chal + 40, sizeof ti);
	smbsess__put_le16(chal + 42, sizeof ti);
	smbsess__put_le32(chal + 44, 56);
	memcpy(chal + 56, ti, sizeof ti);
	st = smbsess__spnego_build_resp(mem, &r, &tok, &tok_len);
	FUZZ_REQUIRE(smbsess__st_ok(st), "build_resp: %s", fuzz_st(st));
	body = must(talloc_zero_size(mem, 8 + tok_len));
	smbsess__put_le16(body, 9);
	smbsess__put_le16(body + 4, 64 + 8);
	smbsess__put_le16(body + 6, (uint16_t)tok_len);
	memcpy(body + 8, tok, tok_len);
	f = make_response(mem, SMBSESS__SMB2_SESSION_SETUP, SMBSESS__NT_MORE_PROCESSING, OPS_SESSION_ID, 0, body,
			  8 + tok_len, &n);
	add_unit(mem, units, len, f, n);
	memset(body, 0, 8);
	smbsess__put_le16(body, 9);
	f = make_response(mem, SMBSESS__SMB2_SESSION_SETUP, 0, OPS_SESSION_ID, 0, body, 8, &n);
	add_unit(mem, units, len, f, n);
}

static uint8_t *tree_connect_response(TALLOC_CTX *mem, uint32_t share_flags, size_t *n)
{
	uint8_t body[16] = { 16, 0, 2 /* pipe */ };

	smbsess__put_le32(body + 4, share_flags);
	smbsess__put_le32(body + 12, 0x001f01ff);
	return make_response(mem, SMBSESS__SMB2_TREE_CONNECT, 0, OPS_SESSION_ID, OPS_TREE_ID, body, sizeof body, n);
}

/* The FSCTL_VALIDATE_NEGOTIATE_INFO answer that matches what @p c negotiated. */
static uint8_t *validate_response(TALLOC_CTX *mem, const struct smbsess__smb2_conn *c, size_t *n)
{
	uint8_t body[48 + 24] = { 49 };

	smbsess__put_le32(body + 4, SMBSESS__FSCTL_VALIDATE_NEGOTIATE_INFO);
	memset(body + 8, 0xff, 16);
	smbsess__put_le32(body + 32, 64 + 48);
	smbsess__put_le32(body + 36, 24);
	smbsess__put_le32(body + 48, c->capabilities);
	memcpy(body + 52, c->server_guid, 16);
	smbsess__put_le16(body + 68, c->security_mode);
	smbsess__put_le16(body + 70, c->dialect);
	return make_response(mem, SMBSESS__SMB2_IOCTL, 0, OPS_SESSION_ID, OPS_TREE_ID, body, sizeof body, n);
}

/* Runs @p req to its end on what is in the server's units; they must have been enough. */
static void setup_step(struct world *w, struct tevent_req *req, const char *what)
{
	FUZZ_REQUIRE(req != NULL, "%s: send returned NULL", what);
	pump(w->ev, w->conn, &w->srv, req, false);
	FUZZ_REQUIRE(!tevent_req_is_in_progress(req), "%s did not end on its answers", what);
}

static const struct neg_choice ops_neg[4] = {
	{ 0x0311, 0x07, 2, 2 },  /* AES-128-GCM, AES-GMAC */
	{ 0x0300, 0x47, 0, -1 }, /* AES-128-CCM from CAP_ENCRYPTION, AES-CMAC */
	{ 0x0210, 0x07, 0, -1 }, /* HMAC-SHA256, no encryption */
	{ 0x0311, 0x07, 3, 0 },  /* AES-256-CCM, HMAC-SHA256 */
};

static const char *const op_names[8] = { "tree_connect", "tree_disconnect", "create", "close",
					 "ioctl",        "read",            "write",  "rpc" };

static void fuzz_smb2_ops(TALLOC_CTX *mem, const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	unsigned mode = flags & 3, op = (flags >> 4) & 7;
	const struct neg_choice *nc = &ops_neg[(flags >> 2) & 3];
	struct smbsess__smb2_options opts = { 0 };
	struct world w;
	struct tevent_req *req;
	struct smbsess_status st;
	struct smbsess__smb2_session *session = NULL;
	struct smbsess__smb2_tree *tree = NULL;
	struct smbsess__smb2_fileid fid, pipe_fid;
	uint8_t *units = NULL, *f, *fuzz_units = fuzz_dup(mem, in.p, in.len);
	size_t units_len = 0, n;
	bool signed_, encrypt_session, encrypt_tree;

	opts.timeout_ms = 20000;
	memset(&pipe_fid, 0x11, sizeof pipe_fid);

	/* Negotiate and an anonymous session, from answers built here. */
	f = make_negotiate_response(mem, nc, false, &n);
	add_unit(mem, &units, &units_len, f, n);
	anonymous_session_units(mem, &units, &units_len);
	world_new(&w, mem, &opts, units, units_len, true);
	req = smbsess__smb2_negotiate_send(mem, w.ev, w.conn);
	setup_step(&w, req, "negotiate");
	st = smbsess__smb2_negotiate_recv(req);
	talloc_free(req);
	FUZZ_REQUIRE(smbsess__st_ok(st), "negotiate: %s", fuzz_st(st));
	req = smbsess__smb2_session_setup_send(mem, w.ev, w.conn, NULL);
	setup_step(&w, req, "session setup");
	st = smbsess__smb2_session_setup_recv(req, &session);
	talloc_free(req);
	FUZZ_REQUIRE(smbsess__st_ok(st) && session->id == OPS_SESSION_ID, "anonymous session setup: %s", fuzz_st(st));

	/* Signing and encryption as after an authenticated logon: keys the server end knows too. */
	signed_ = mode != 0;
	encrypt_session = mode == 2 && w.conn->cipher != 0;
	encrypt_tree = mode == 3 && w.conn->cipher != 0;
	if (signed_) {
		static const uint8_t gss_key[16] = "fuzz-session-key";

		st = smbsess__smb2_derive_keys(w.conn->dialect, w.conn->cipher, gss_key, sizeof gss_key, session->preauth,
					       &session->keys);
		FUZZ_REQUIRE(smbsess__st_ok(st), "derive_keys: %s", fuzz_st(st));
		session->have_keys = true;
		session->signing = true;
		session->encrypt = encrypt_session;
		w.srv.sec.keys = session->keys;
	}
	w.srv.sec.session_id = session->id;
	w.srv.sec.sign = signed_;
	w.srv.sec.sign_alg = w.conn->sign_alg;
	w.srv.sec.cipher = w.conn->cipher;

	/* A tree on IPC$, unless that is what is fuzzed. */
	if (op != 0) {
		units_len = 0;
		f = tree_connect_response(mem, encrypt_tree ? SHAREFLAG_ENCRYPT_DATA : 0, &n);
		add_unit(mem, &units, &units_len, f, n);
		if ((w.conn->dialect == 0x0300 || w.conn->dialect == 0x0302) && signed_ && !encrypt_session) {
			f = validate_response(mem, w.conn, &n);
			add_unit(mem, &units, &units_len, f, n);
		}
		w.srv.units = (struct fuzz_in){ units, units_len };
		req = smbsess__smb2_tree_connect_send(mem, w.ev, session, "IPC$");
		setup_step(&w, req, "tree connect");
		st = smbsess__smb2_tree_connect_recv(req, &tree);
		talloc_free(req);
		FUZZ_REQUIRE(smbsess__st_ok(st) && tree->encrypt == encrypt_tree, "tree connect: %s", fuzz_st(st));
	}

	/* The operation, answered by the input. */
	w.srv.units = (struct fuzz_in){ fuzz_units, in.len };
	w.srv.fixup = flags & 0x80;
	fuzz_log("%s on dialect 0x%04x, %s%s%s, fix-up %d", op_names[op], w.conn->dialect,
		 signed_ ? "signed" : "unsigned", encrypt_session ? ", session encrypted" : "",
		 encrypt_tree ? ", tree encrypted" : "", !!(flags & 0x80));
	switch (op) {
	case 0: {
		struct smbsess__smb2_tree *t = NULL;

		req = smbsess__smb2_tree_connect_send(mem, w.ev, session, "IPC$");
		FUZZ_REQUIRE(req != NULL, "tree_connect_send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__smb2_tree_connect_recv(req, &t);
		if (smbsess__st_ok(st)) {
			FUZZ_REQUIRE(t != NULL && t->session == session && talloc_parent(t) == session, "tree object");
			FUZZ_REQUIRE(!t->encrypt || ((t->share_flags & SHAREFLAG_ENCRYPT_DATA) && w.conn->cipher),
				     "tree encrypted without the share flag or a cipher");
			talloc_free(t);
		}
		break;
	}
	case 1:
		req = smbsess__smb2_tree_disconnect_send(mem, w.ev, tree);
		FUZZ_REQUIRE(req != NULL, "send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__smb2_tree_disconnect_recv(req);
		break;
	case 2:
		req = smbsess__smb2_create_send(mem, w.ev, tree, "srvsvc");
		FUZZ_REQUIRE(req != NULL, "send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__smb2_create_recv(req, &fid);
		break;
	case 3:
		req = smbsess__smb2_close_send(mem, w.ev, tree, &pipe_fid);
		FUZZ_REQUIRE(req != NULL, "send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__smb2_close_recv(req);
		break;
	case 4:
	case 5: {
		uint8_t bind[RPC_BIND_LEN_FUZZ], *out = NULL;
		size_t out_len = 0;
		bool more = false;

		memset(bind, 0x5a, sizeof bind);
		req = op == 4 ? smbsess__smb2_ioctl_send(mem, w.ev, tree, &pipe_fid, SMBSESS__FSCTL_PIPE_TRANSCEIVE, bind,
							 sizeof bind, 4280)
			      : smbsess__smb2_read_send(mem, w.ev, tree, &pipe_fid, 4280, 0);
		FUZZ_REQUIRE(req != NULL, "send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = op == 4 ? smbsess__smb2_ioctl_recv(req, mem, &out, &out_len, &more)
			     : smbsess__smb2_read_recv(req, mem, &out, &out_len, &more);
		if (smbsess__st_ok(st)) {
			FUZZ_REQUIRE(out != NULL && talloc_get_size(out) >= out_len && talloc_is_parent(out, mem),
				     "output buffer");
			talloc_free(out);
		}
		break;
	}
	case 6: {
		uint8_t wdata[100];
		uint32_t written = 0;

		memset(wdata, 0xa5, sizeof wdata);
		req = smbsess__smb2_write_send(mem, w.ev, tree, &pipe_fid, wdata, sizeof wdata, 0);
		FUZZ_REQUIRE(req != NULL, "send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__smb2_write_recv(req, &written);
		break;
	}
	default: {
		/* DCE/RPC over the pipe: open, bind, one call; freeing the transport closes it. */
		struct smbsess__rpc_transport *t = NULL;
		struct smbsess__rpc_pipe *pipe = NULL;
		static const uint8_t stub[16] = "fuzz stub bytes";

		req = smbsess__rpc_smb2_open_send(mem, w.ev, tree, "srvsvc");
		FUZZ_REQUIRE(req != NULL, "open_send returned NULL");
		pump(w.ev, w.conn, &w.srv, req, true);
		st = smbsess__rpc_smb2_open_recv(req, mem, &t);
		TALLOC_FREE(req);
		fuzz_log("rpc open: %s", fuzz_st(st));
		if (smbsess__st_ok(st)) {
			req = smbsess__rpc_bind_send(mem, w.ev, t, smbsess__rpc_srvsvc_uuid, 3, 0, 20000);
			FUZZ_REQUIRE(req != NULL, "bind_send returned NULL");
			pump(w.ev, w.conn, &w.srv, req, true);
			st = smbsess__rpc_bind_recv(req, mem, &pipe);
			TALLOC_FREE(req);
			fuzz_log("rpc bind: %s", fuzz_st(st));
			if (!smbsess__st_ok(st))
				FUZZ_REQUIRE(st.domain != SMBSESS_DOMAIN_LIBRARY || st.code != SMBSESS_E_TIMEOUT,
					     "bind timed out");
		}
		if (pipe != NULL) {
			uint8_t *out = NULL;
			size_t out_len = 0;

			req = smbsess__rpc_call_send(mem, w.ev, pipe, 15, stub, sizeof stub, 20000);
			FUZZ_REQUIRE(req != NULL, "call_send returned NULL");
			pump(w.ev, w.conn, &w.srv, req, true);
			st = smbsess__rpc_call_recv(req, mem, &out, &out_len);
			fuzz_log("rpc call: %s", fuzz_st(st));
			FUZZ_REQUIRE(!smbsess__st_ok(st) || (out != NULL && out_len <= 64u * 1024 * 1024),
				     "call output");
			talloc_free(out);
			talloc_free(pipe); /* and with it the transport: a CLOSE goes out in the background */
		} else {
			talloc_free(t);
		}
		if (st.domain == SMBSESS_DOMAIN_RPC)
			st = SMBSESS__OK; /* a fault from the server */
		if (fuzz_st_is_lib(st, SMBSESS_E_BIND_REJECTED))
			st = SMBSESS__OK;
		break;
	}
	}
	if (op < 7)
		talloc_free(req);
	fuzz_log("%s: %s after %zu units", op_names[op], fuzz_st(st), w.srv.sent_units);
	FUZZ_REQUIRE(allowed_end(st) && !fuzz_st_is_lib(st, SMBSESS_E_AUTH), "%s ended with %s", op_names[op],
		     fuzz_st(st));
	/* Whatever is still on its way (a background CLOSE) goes with the connection. */
	talloc_free(tree);
	talloc_free(session);
	world_free(&w);
}

/* ================================================================ entry points */

static const struct fuzz_target targets[] = {
	{ "smb2_negotiate", fuzz_smb2_negotiate },
	{ "smb2_session", fuzz_smb2_session },
	{ "smb2_ops", fuzz_smb2_ops },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_select("fuzz_smb2", targets, sizeof targets / sizeof targets[0], STR(TARGET));
	/* tevent allocates its backend list once, on the first context: not per input. */
	talloc_free(tevent_context_init(NULL));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run_selected(data, size);
}
