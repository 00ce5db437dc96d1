/*
 * SPNEGO tokens (RFC 4178, MS-SPNG) and the SPNEGO/NTLMSSP client.
 */
#include "spnego.h"
#include "der.h"

/* OID contents, X.690 8.19. */
static const uint8_t oid_spnego[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };             /* 1.3.6.1.5.5.2 */
static const uint8_t oid_ntlmssp[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
static const uint8_t oid_krb5[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
static const uint8_t oid_ms_krb5[] = { 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02 };
static const uint8_t oid_negoex[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e };

static const struct {
	enum smbsess__spnego_mech mech;
	const uint8_t *oid;
	size_t len;
} mech_table[] = {
	{ SMBSESS__MECH_NTLMSSP, oid_ntlmssp, sizeof(oid_ntlmssp) },
	{ SMBSESS__MECH_KRB5, oid_krb5, sizeof(oid_krb5) },
	{ SMBSESS__MECH_MS_KRB5, oid_ms_krb5, sizeof(oid_ms_krb5) },
	{ SMBSESS__MECH_NEGOEX, oid_negoex, sizeof(oid_negoex) },
};

static struct smbsess_status malformed(void)
{
	return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
}

bool smbsess__spnego_mech_oid(enum smbsess__spnego_mech mech, const uint8_t **oid, size_t *len)
{
	for (size_t i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++) {
		if (mech_table[i].mech == mech) {
			*oid = mech_table[i].oid;
			*len = mech_table[i].len;
			return true;
		}
	}
	return false;
}

enum smbsess__spnego_mech smbsess__spnego_mech_from_oid(const uint8_t *oid, size_t len)
{
	for (size_t i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++)
		if (mech_table[i].len == len && memcmp(mech_table[i].oid, oid, len) == 0)
			return mech_table[i].mech;
	return SMBSESS__MECH_OTHER;
}

/* ---- writing ---- */

static void put_mech_types(struct smbsess__der_writer *w, const enum smbsess__spnego_mech *mechs,
			   size_t n)
{
	size_t seq = smbsess__der_begin(w, SMBSESS__DER_SEQUENCE);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *oid;
		size_t len;

		if (!smbsess__spnego_mech_oid(mechs[i], &oid, &len)) {
			if (smbsess__st_ok(w->st))
				w->st = SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
			return;
		}
		smbsess__der_put(w, SMBSESS__DER_OID, oid, len);
	}
	smbsess__der_end(w, seq);
}

struct smbsess_status smbsess__spnego_mech_types(TALLOC_CTX *mem_ctx,
						 const enum smbsess__spnego_mech *mechs, size_t n,
						 uint8_t **out, size_t *out_len)
{
	struct smbsess__der_writer w;

	if (n == 0 || mechs == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	smbsess__der_writer_init(&w, mem_ctx);
	put_mech_types(&w, mechs, n);
	return smbsess__der_finish(&w, out, out_len);
}

struct smbsess_status smbsess__spnego_build_init(TALLOC_CTX *mem_ctx,
						 const enum smbsess__spnego_mech *mechs, size_t n,
						 const uint8_t *mech_token, size_t mech_token_len,
						 uint8_t **out, size_t *out_len)
{
	struct smbsess__der_writer w;
	size_t app, choice, seq, f;

	if (n == 0 || mechs == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	smbsess__der_writer_init(&w, mem_ctx);
	/* InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE { thisMech, innerContextToken } */
	app = smbsess__der_begin(&w, SMBSESS__DER_APP0);
	smbsess__der_put(&w, SMBSESS__DER_OID, oid_spnego, sizeof(oid_spnego));
	choice = smbsess__der_begin(&w, SMBSESS__DER_CTX(0));
	seq = smbsess__der_begin(&w, SMBSESS__DER_SEQUENCE);
	f = smbsess__der_begin(&w, SMBSESS__DER_CTX(0));
	put_mech_types(&w, mechs, n);
	smbsess__der_end(&w, f);
	if (mech_token) {
		f = smbsess__der_begin(&w, SMBSESS__DER_CTX(2));
		smbsess__der_put(&w, SMBSESS__DER_OCTET_STRING, mech_token, mech_token_len);
		smbsess__der_end(&w, f);
	}
	smbsess__der_end(&w, seq);
	smbsess__der_end(&w, choice);
	smbsess__der_end(&w, app);
	return smbsess__der_finish(&w, out, out_len);
}

struct smbsess_status smbsess__spnego_build_resp(TALLOC_CTX *mem_ctx,
						 const struct smbsess__spnego_resp *resp,
						 uint8_t **out, size_t *out_len)
{
	struct smbsess__der_writer w;
	size_t choice, seq, f;

	if (resp->neg_state != SMBSESS__SPNEGO_NO_STATE &&
	    (resp->neg_state < SMBSESS__SPNEGO_ACCEPT_COMPLETED ||
	     resp->neg_state > SMBSESS__SPNEGO_REQUEST_MIC))
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	smbsess__der_writer_init(&w, mem_ctx);
	choice = smbsess__der_begin(&w, SMBSESS__DER_CTX(1));
	seq = smbsess__der_begin(&w, SMBSESS__DER_SEQUENCE);
	if (resp->neg_state != SMBSESS__SPNEGO_NO_STATE) {
		uint8_t v = (uint8_t)resp->neg_state;

		f = smbsess__der_begin(&w, SMBSESS__DER_CTX(0));
		smbsess__der_put(&w, SMBSESS__DER_ENUMERATED, &v, 1);
		smbsess__der_end(&w, f);
	}
	if (resp->has_supported_mech) {
		const uint8_t *oid;
		size_t len;

		if (!smbsess__spnego_mech_oid(resp->supported_mech, &oid, &len)) {
			smbsess__der_writer_discard(&w);
			return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
		}
		f = smbsess__der_begin(&w, SMBSESS__DER_CTX(1));
		smbsess__der_put(&w, SMBSESS__DER_OID, oid, len);
		smbsess__der_end(&w, f);
	}
	if (resp->response_token) {
		f = smbsess__der_begin(&w, SMBSESS__DER_CTX(2));
		smbsess__der_put(&w, SMBSESS__DER_OCTET_STRING, resp->response_token,
				 resp->response_token_len);
		smbsess__der_end(&w, f);
	}
	if (resp->mech_list_mic) {
		f = smbsess__der_begin(&w, SMBSESS__DER_CTX(3));
		smbsess__der_put(&w, SMBSESS__DER_OCTET_STRING, resp->mech_list_mic,
				 resp->mech_list_mic_len);
		smbsess__der_end(&w, f);
	}
	smbsess__der_end(&w, seq);
	smbsess__der_end(&w, choice);
	return smbsess__der_finish(&w, out, out_len);
}

/* ---- reading ---- */

/*
 * The single TLV inside an EXPLICIT [n] field, which must carry @p tag and
 * fill the field exactly.
 */
static struct smbsess_status explicit_inner(const struct smbsess__der_cursor *parent,
					    const struct smbsess__der_tlv *field, uint8_t tag,
					    struct smbsess__der_cursor *inner_cur,
					    struct smbsess__der_tlv *inner)
{
	SMBSESS__CHECK(smbsess__der_enter(parent, field, inner_cur));
	SMBSESS__CHECK(smbsess__der_expect(inner_cur, tag, inner));
	if (!smbsess__der_at_end(inner_cur))
		return malformed();
	return SMBSESS__OK;
}

/* Copies an OCTET STRING in an EXPLICIT field. */
static struct smbsess_status get_octets(TALLOC_CTX *mem_ctx, const struct smbsess__der_cursor *parent,
					const struct smbsess__der_tlv *field, uint8_t **out,
					size_t *out_len)
{
	struct smbsess__der_cursor ic;
	struct smbsess__der_tlv t;
	uint8_t *p;

	SMBSESS__CHECK(explicit_inner(parent, field, SMBSESS__DER_OCTET_STRING, &ic, &t));
	/* One byte more, so that an empty string is still a non-NULL, present value. */
	p = talloc_array(mem_ctx, uint8_t, t.len + 1);
	if (p == NULL)
		return SMBSESS__ST_NOMEM;
	if (t.len)
		memcpy(p, t.value, t.len);
	*out = p;
	*out_len = t.len;
	return SMBSESS__OK;
}

/*
 * The next field of a SEQUENCE with EXPLICIT context tags: fields come in
 * increasing tag order and each is constructed. *number is the tag number.
 */
static struct smbsess_status next_field(struct smbsess__der_cursor *seq, int *last,
					struct smbsess__der_tlv *field, int *number)
{
	SMBSESS__CHECK(smbsess__der_next(seq, field));
	if ((field->tag & 0xe0) != 0xa0)
		return malformed();
	*number = field->tag & 0x1f;
	if (*number <= *last)
		return malformed();
	*last = *number;
	return SMBSESS__OK;
}

static struct smbsess_status parse_mech_list(TALLOC_CTX *mem_ctx, const struct smbsess__der_cursor *seq,
					     const struct smbsess__der_tlv *field,
					     struct smbsess__spnego_init *init)
{
	struct smbsess__der_cursor ic, lc;
	struct smbsess__der_tlv list, oid;
	enum smbsess__spnego_mech *mechs;
	size_t n = 0;

	SMBSESS__CHECK(explicit_inner(seq, field, SMBSESS__DER_SEQUENCE, &ic, &list));
	SMBSESS__CHECK(smbsess__der_enter(&ic, &list, &lc));
	mechs = talloc_array(mem_ctx, enum smbsess__spnego_mech, SMBSESS__SPNEGO_MAX_MECHS);
	if (mechs == NULL)
		return SMBSESS__ST_NOMEM;
	init->mechs = mechs;
	while (!smbsess__der_at_end(&lc)) {
		if (n == SMBSESS__SPNEGO_MAX_MECHS)
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		SMBSESS__CHECK(smbsess__der_expect(&lc, SMBSESS__DER_OID, &oid));
		if (oid.len == 0)
			return malformed();
		mechs[n++] = smbsess__spnego_mech_from_oid(oid.value, oid.len);
	}
	/* RFC 4178 4.2.1: the list is not empty. */
	if (n == 0)
		return malformed();
	init->num_mechs = n;
	init->mech_types = talloc_memdup(mem_ctx, list.raw, list.raw_len);
	if (init->mech_types == NULL)
		return SMBSESS__ST_NOMEM;
	init->mech_types_len = list.raw_len;
	return SMBSESS__OK;
}

/* negHints ::= SEQUENCE { hintName [0] GeneralString OPTIONAL, hintAddress [1] OCTET STRING OPTIONAL } */
static struct smbsess_status parse_neg_hints(TALLOC_CTX *mem_ctx, const struct smbsess__der_cursor *seq,
					     const struct smbsess__der_tlv *field,
					     struct smbsess__spnego_init *init)
{
	struct smbsess__der_cursor ic, hc;
	struct smbsess__der_tlv hints, f;
	int last = -1, num;

	SMBSESS__CHECK(explicit_inner(seq, field, SMBSESS__DER_SEQUENCE, &ic, &hints));
	SMBSESS__CHECK(smbsess__der_enter(&ic, &hints, &hc));
	while (!smbsess__der_at_end(&hc)) {
		SMBSESS__CHECK(next_field(&hc, &last, &f, &num));
		if (num == 0) {
			struct smbsess__der_cursor nc;
			struct smbsess__der_tlv name;

			SMBSESS__CHECK(explicit_inner(&hc, &f, SMBSESS__DER_GENERAL_STRING, &nc, &name));
			/* Only a hint: keep it as text when it is text, else drop it. */
			if (memchr(name.value, 0, name.len) == NULL) {
				init->hint_name = talloc_strndup(mem_ctx, (const char *)name.value, name.len);
				if (init->hint_name == NULL)
					return SMBSESS__ST_NOMEM;
			}
		}
		/* hintAddress and extensions are not used. */
	}
	return SMBSESS__OK;
}

static struct smbsess_status parse_init_body(TALLOC_CTX *mem_ctx, const struct smbsess__der_cursor *choice_cur,
					     const struct smbsess__der_tlv *choice,
					     struct smbsess__spnego_init *init)
{
	struct smbsess__der_cursor cc, sc;
	struct smbsess__der_tlv seq, f;
	int last = -1, num;
	bool have_mechs = false;

	SMBSESS__CHECK(explicit_inner(choice_cur, choice, SMBSESS__DER_SEQUENCE, &cc, &seq));
	SMBSESS__CHECK(smbsess__der_enter(&cc, &seq, &sc));
	while (!smbsess__der_at_end(&sc)) {
		SMBSESS__CHECK(next_field(&sc, &last, &f, &num));
		switch (num) {
		case 0:
			SMBSESS__CHECK(parse_mech_list(mem_ctx, &sc, &f, init));
			have_mechs = true;
			break;
		case 2:
			SMBSESS__CHECK(get_octets(mem_ctx, &sc, &f, &init->mech_token,
						  &init->mech_token_len));
			break;
		case 3:
			/* mechListMIC in NegTokenInit, negHints in NegTokenInit2. */
			if (f.len > 0 && f.value[0] == SMBSESS__DER_SEQUENCE)
				SMBSESS__CHECK(parse_neg_hints(mem_ctx, &sc, &f, init));
			else
				SMBSESS__CHECK(get_octets(mem_ctx, &sc, &f, &init->mech_list_mic,
							  &init->mech_list_mic_len));
			break;
		case 4:
			if (init->mech_list_mic)
				return malformed();
			SMBSESS__CHECK(get_octets(mem_ctx, &sc, &f, &init->mech_list_mic,
						  &init->mech_list_mic_len));
			break;
		default:
			/* reqFlags [1] and later extensions carry nothing we use. */
			break;
		}
	}
	if (!have_mechs)
		return malformed();
	return SMBSESS__OK;
}

struct smbsess_status smbsess__spnego_parse_init(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
						 struct smbsess__spnego_init **out)
{
	struct smbsess__der_cursor top, app_cur;
	struct smbsess__der_tlv app, oid, choice;
	struct smbsess__spnego_init *init;
	struct smbsess_status st;

	SMBSESS__CHECK(smbsess__der_check(buf, len, SMBSESS__DER_MAX_DEPTH));
	smbsess__der_cursor_init(&top, buf, len);
	SMBSESS__CHECK(smbsess__der_expect(&top, SMBSESS__DER_APP0, &app));
	if (!smbsess__der_at_end(&top))
		return malformed();
	SMBSESS__CHECK(smbsess__der_enter(&top, &app, &app_cur));
	SMBSESS__CHECK(smbsess__der_expect(&app_cur, SMBSESS__DER_OID, &oid));
	if (oid.len != sizeof(oid_spnego) || memcmp(oid.value, oid_spnego, oid.len) != 0)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	SMBSESS__CHECK(smbsess__der_expect(&app_cur, SMBSESS__DER_CTX(0), &choice));
	if (!smbsess__der_at_end(&app_cur))
		return malformed();

	init = talloc_zero(mem_ctx, struct smbsess__spnego_init);
	if (init == NULL)
		return SMBSESS__ST_NOMEM;
	st = parse_init_body(init, &app_cur, &choice, init);
	if (!smbsess__st_ok(st)) {
		talloc_free(init);
		return st;
	}
	*out = init;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__spnego_parse_resp(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
						 struct smbsess__spnego_resp **out)
{
	struct smbsess__der_cursor top, cc, sc;
	struct smbsess__der_tlv choice, seq, f;
	struct smbsess__spnego_resp *r;
	struct smbsess_status st = SMBSESS__OK;
	int last = -1, num;

	SMBSESS__CHECK(smbsess__der_check(buf, len, SMBSESS__DER_MAX_DEPTH));
	smbsess__der_cursor_init(&top, buf, len);
	SMBSESS__CHECK(smbsess__der_expect(&top, SMBSESS__DER_CTX(1), &choice));
	if (!smbsess__der_at_end(&top))
		return malformed();
	SMBSESS__CHECK(explicit_inner(&top, &choice, SMBSESS__DER_SEQUENCE, &cc, &seq));
	SMBSESS__CHECK(smbsess__der_enter(&cc, &seq, &sc));

	r = talloc_zero(mem_ctx, struct smbsess__spnego_resp);
	if (r == NULL)
		return SMBSESS__ST_NOMEM;
	r->neg_state = SMBSESS__SPNEGO_NO_STATE;
	while (smbsess__st_ok(st) && !smbsess__der_at_end(&sc)) {
		struct smbsess__der_cursor ic;
		struct smbsess__der_tlv t;
		uint32_t v;

		st = next_field(&sc, &last, &f, &num);
		if (!smbsess__st_ok(st))
			break;
		switch (num) {
		case 0:
			st = explicit_inner(&sc, &f, SMBSESS__DER_ENUMERATED, &ic, &t);
			if (smbsess__st_ok(st))
				st = smbsess__der_get_uint(&t, &v);
			if (smbsess__st_ok(st) && v > SMBSESS__SPNEGO_REQUEST_MIC)
				st = malformed();
			if (smbsess__st_ok(st))
				r->neg_state = (int)v;
			break;
		case 1:
			st = explicit_inner(&sc, &f, SMBSESS__DER_OID, &ic, &t);
			if (smbsess__st_ok(st) && t.len == 0)
				st = malformed();
			if (smbsess__st_ok(st)) {
				r->has_supported_mech = true;
				r->supported_mech = smbsess__spnego_mech_from_oid(t.value, t.len);
			}
			break;
		case 2:
			st = get_octets(r, &sc, &f, &r->response_token, &r->response_token_len);
			break;
		case 3:
			st = get_octets(r, &sc, &f, &r->mech_list_mic, &r->mech_list_mic_len);
			break;
		default:
			break; /* extensions */
		}
	}
	if (!smbsess__st_ok(st)) {
		talloc_free(r);
		return st;
	}
	*out = r;
	return SMBSESS__OK;
}

/* ---- the client ---- */

enum spnego_state { SPNEGO_START, SPNEGO_SENT_INIT, SPNEGO_SENT_AUTH, SPNEGO_DONE, SPNEGO_FAILED };

struct smbsess__spnego_client {
	struct smbsess__ntlmssp *ntlmssp;
	enum spnego_state state;
	uint8_t *mech_types; /* what our mechListMIC covers */
	size_t mech_types_len;
	bool sent_mic;
};

static const enum smbsess__spnego_mech client_mechs[] = { SMBSESS__MECH_NTLMSSP };

struct smbsess_status smbsess__spnego_client_new(TALLOC_CTX *mem_ctx,
						 const struct smbsess__creds *creds,
						 struct smbsess__spnego_client **out)
{
	struct smbsess__spnego_client *c = talloc_zero(mem_ctx, struct smbsess__spnego_client);
	struct smbsess_status st;

	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	st = smbsess__ntlmssp_client_new(c, creds, &c->ntlmssp);
	if (smbsess__st_ok(st))
		st = smbsess__spnego_mech_types(c, client_mechs, 1, &c->mech_types,
						&c->mech_types_len);
	if (!smbsess__st_ok(st)) {
		talloc_free(c);
		return st;
	}
	c->state = SPNEGO_START;
	*out = c;
	return SMBSESS__OK;
}

struct smbsess__ntlmssp *smbsess__spnego_client_ntlmssp(struct smbsess__spnego_client *c)
{
	return c->ntlmssp;
}

bool smbsess__spnego_client_done(const struct smbsess__spnego_client *c)
{
	return c->state == SPNEGO_DONE;
}

struct smbsess_status smbsess__spnego_client_session_key(const struct smbsess__spnego_client *c,
							 uint8_t key[16])
{
	return smbsess__ntlmssp_session_key(c->ntlmssp, key);
}

/* Step 1: the server's hint (optional), then our NegTokenInit. */
static struct smbsess_status step_init(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
				       const uint8_t *in, size_t in_len, uint8_t **out,
				       size_t *out_len)
{
	uint8_t *neg;
	size_t neg_len;

	if (in_len > 0) {
		struct smbsess__spnego_init *hint;
		bool ntlm = false;

		SMBSESS__CHECK(smbsess__spnego_parse_init(tmp, in, in_len, &hint));
		for (size_t i = 0; i < hint->num_mechs; i++)
			ntlm = ntlm || hint->mechs[i] == SMBSESS__MECH_NTLMSSP;
		if (!ntlm)
			return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	}
	SMBSESS__CHECK(smbsess__ntlmssp_negotiate(c->ntlmssp, tmp, &neg, &neg_len));
	return smbsess__spnego_build_init(tmp, client_mechs, 1, neg, neg_len, out, out_len);
}

/* Step 2: the CHALLENGE_MESSAGE in, the AUTHENTICATE_MESSAGE (and our mechListMIC) out. */
static struct smbsess_status step_challenge(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					    const uint8_t *in, size_t in_len, uint8_t **out,
					    size_t *out_len)
{
	struct smbsess__spnego_resp *r;
	struct smbsess__spnego_resp mine = { .neg_state = SMBSESS__SPNEGO_NO_STATE };
	uint8_t mic[16];

	SMBSESS__CHECK(smbsess__spnego_parse_resp(tmp, in, in_len, &r));
	if (r->neg_state == SMBSESS__SPNEGO_REJECT)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	/*
	 * RFC 4178 4.2.2: negState is required in the first reply; NTLM needs
	 * another leg. request-mic asks us to send a mechListMIC (RFC 4178 5(d)).
	 */
	if (r->neg_state != SMBSESS__SPNEGO_ACCEPT_INCOMPLETE &&
	    r->neg_state != SMBSESS__SPNEGO_REQUEST_MIC)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->has_supported_mech && r->supported_mech != SMBSESS__MECH_NTLMSSP)
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	if (r->response_token == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	SMBSESS__CHECK(smbsess__ntlmssp_authenticate(c->ntlmssp, r->response_token,
						     r->response_token_len, tmp,
						     &mine.response_token,
						     &mine.response_token_len));
	/*
	 * A client that put a MIC in the AUTHENTICATE_MESSAGE also protects
	 * the mechanism list, as Windows does; servers that saw the MIC
	 * (Samba among them) expect a mechListMIC.
	 */
	if (r->neg_state == SMBSESS__SPNEGO_REQUEST_MIC && !smbsess__ntlmssp_can_sign(c->ntlmssp))
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if ((smbsess__ntlmssp_sent_mic(c->ntlmssp) || r->neg_state == SMBSESS__SPNEGO_REQUEST_MIC) &&
	    smbsess__ntlmssp_can_sign(c->ntlmssp)) {
		SMBSESS__CHECK(smbsess__ntlmssp_sign(c->ntlmssp, c->mech_types, c->mech_types_len, mic));
		mine.mech_list_mic = mic;
		mine.mech_list_mic_len = sizeof(mic);
		c->sent_mic = true;
	}
	return smbsess__spnego_build_resp(tmp, &mine, out, out_len);
}

/* Step 3: the server's verdict, and its mechListMIC when it sends one. */
static struct smbsess_status step_final(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					const uint8_t *in, size_t in_len)
{
	struct smbsess__spnego_resp *r;

	/* SMB2 may end the exchange with STATUS_SUCCESS and no token at all. */
	if (in_len == 0)
		return SMBSESS__OK;
	SMBSESS__CHECK(smbsess__spnego_parse_resp(tmp, in, in_len, &r));
	if (r->neg_state == SMBSESS__SPNEGO_REJECT)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (r->neg_state != SMBSESS__SPNEGO_ACCEPT_COMPLETED && r->neg_state != SMBSESS__SPNEGO_NO_STATE)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->response_token != NULL && r->response_token_len > 0)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->mech_list_mic && smbsess__ntlmssp_can_sign(c->ntlmssp)) {
		if (r->mech_list_mic_len != 16)
			return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
		SMBSESS__CHECK(smbsess__ntlmssp_check(c->ntlmssp, c->mech_types, c->mech_types_len,
						      r->mech_list_mic));
	}
	return SMBSESS__OK;
}

struct smbsess_status smbsess__spnego_client_step(struct smbsess__spnego_client *c,
						  TALLOC_CTX *mem_ctx, const uint8_t *in,
						  size_t in_len, uint8_t **out, size_t *out_len)
{
	TALLOC_CTX *tmp;
	uint8_t *o = NULL;
	size_t o_len = 0;
	struct smbsess_status st;
	enum spnego_state next;

	if (in == NULL && in_len != 0)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	tmp = talloc_new(NULL);
	if (tmp == NULL)
		return SMBSESS__ST_NOMEM;
	switch (c->state) {
	case SPNEGO_START:
		st = step_init(c, tmp, in, in_len, &o, &o_len);
		next = SPNEGO_SENT_INIT;
		break;
	case SPNEGO_SENT_INIT:
		st = step_challenge(c, tmp, in, in_len, &o, &o_len);
		next = SPNEGO_SENT_AUTH;
		break;
	case SPNEGO_SENT_AUTH:
		st = step_final(c, tmp, in, in_len);
		next = SPNEGO_DONE;
		break;
	default:
		st = SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		next = c->state;
		break;
	}
	if (smbsess__st_ok(st)) {
		c->state = next;
		*out = o ? talloc_steal(mem_ctx, o) : NULL;
		*out_len = o_len;
	} else if (c->state != SPNEGO_DONE) {
		c->state = SPNEGO_FAILED;
	}
	talloc_free(tmp);
	return st;
}
