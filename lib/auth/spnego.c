/*
 * SPNEGO tokens (RFC 4178, MS-SPNG) and the SPNEGO/NTLMSSP client.
 */
#define _GNU_SOURCE
#include <string.h>

#include "spnego.h"
#include "der.h"
#include "../util/treq.h"

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

enum spnego_state {
	SPNEGO_START,      /* nothing sent yet */
	SPNEGO_WAIT_FIRST, /* NegTokenInit sent: the first answer names the mechanism */
	SPNEGO_WAIT_MORE,  /* the mechanism's exchange goes on */
	SPNEGO_WAIT_FINAL, /* our side is done: the verdict (and its mechListMIC) is missing */
	SPNEGO_DONE,
	SPNEGO_FAILED,
	SPNEGO_BUSY        /* a GSS-API step holds the Kerberos context */
};

/* What the result of a GSS-API step is for. */
enum gss_cont {
	CONT_INIT,  /* the optimistic Kerberos token of our NegTokenInit */
	CONT_START, /* the first Kerberos token after the server chose Kerberos over our optimistic NTLM */
	CONT_REPLY, /* the server's Kerberos token was processed */
	CONT_FINAL  /* the server's last mechListMIC was verified */
};

struct smbsess__spnego_client {
	struct smbsess__creds *creds;
	struct smbsess__ntlmssp *ntlmssp;
	char *service, *host;            /* the Kerberos target service@host */
	enum spnego_state state;
	enum smbsess__spnego_mech offered[2]; /* our MechTypeList, in our order */
	size_t num_offered;
	enum smbsess__spnego_mech mech;  /* the mechanism in use: NTLMSSP or KRB5; OTHER before */
	struct smbsess__gss *gss;        /* NULL while a step holds it, or without Kerberos */
	enum gss_cont cont;
	int peer_state;                  /* negState of the answer a pending step works on */
	uint8_t *mech_types;             /* the DER of our MechTypeList, what mechListMICs cover */
	size_t mech_types_len;
	bool sent_mic;
	bool mic_required;               /* the mechanism in use is not our first choice (RFC 4178 5) */
	bool peer_mic_ok;                /* the server's mechListMIC was checked and right */
	struct smbsess_status krb5_status; /* why Kerberos was left out; OK when it was not */
	smbsess__job_fn runner;          /* runs a GSS-API step; a fake in unit tests */
};

static int client_destructor(struct smbsess__spnego_client *c)
{
	smbsess__gss_free(c->gss);
	c->gss = NULL;
	return 0;
}

struct smbsess_status smbsess__spnego_client_new(TALLOC_CTX *mem_ctx,
						 const struct smbsess__creds *creds,
						 struct smbsess__spnego_client **out)
{
	struct smbsess__spnego_client *c = talloc_zero(mem_ctx, struct smbsess__spnego_client);
	struct smbsess_status st;

	if (c == NULL)
		return SMBSESS__ST_NOMEM;
	talloc_set_destructor(c, client_destructor);
	c->runner = smbsess__gss_call_run;
	c->krb5_status = SMBSESS__OK;
	st = creds ? smbsess__creds_copy(c, creds, &c->creds) : smbsess__creds_new(c, "", "", "", &c->creds);
	if (smbsess__st_ok(st))
		st = smbsess__ntlmssp_client_new(c, creds, &c->ntlmssp);
	if (smbsess__st_ok(st)) {
		c->service = talloc_strdup(c, "cifs");
		if (c->service == NULL)
			st = SMBSESS__ST_NOMEM;
	}
	if (!smbsess__st_ok(st)) {
		talloc_free(c);
		return st;
	}
	c->state = SPNEGO_START;
	*out = c;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__spnego_client_set_target(struct smbsess__spnego_client *c,
							const char *service, const char *host)
{
	char *s, *h;

	if (c == NULL || service == NULL || service[0] == '\0' || host == NULL || host[0] == '\0')
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	s = talloc_strdup(c, service);
	h = talloc_strdup(c, host);
	if (s == NULL || h == NULL) {
		talloc_free(s);
		talloc_free(h);
		return SMBSESS__ST_NOMEM;
	}
	talloc_free(c->service);
	talloc_free(c->host);
	c->service = s;
	c->host = h;
	return SMBSESS__OK;
}

void smbsess__spnego_client_set_runner(struct smbsess__spnego_client *c, smbsess__job_fn runner)
{
	c->runner = runner ? runner : smbsess__gss_call_run;
}

struct smbsess__ntlmssp *smbsess__spnego_client_ntlmssp(struct smbsess__spnego_client *c)
{
	return c->ntlmssp;
}

bool smbsess__spnego_client_done(const struct smbsess__spnego_client *c)
{
	return c->state == SPNEGO_DONE;
}

enum smbsess__spnego_mech smbsess__spnego_client_mech(const struct smbsess__spnego_client *c)
{
	return c->mech;
}

struct smbsess_status smbsess__spnego_client_krb5_status(const struct smbsess__spnego_client *c)
{
	return c->krb5_status;
}

struct smbsess_status smbsess__spnego_client_full_session_key(const struct smbsess__spnego_client *c,
							      uint8_t key[SMBSESS__SPNEGO_MAX_KEY],
							      size_t *key_len)
{
	if (c->mech == SMBSESS__MECH_KRB5) {
		if (c->state != SPNEGO_DONE || c->gss == NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		return smbsess__gss_session_key(c->gss, key, key_len);
	}
	SMBSESS__CHECK(smbsess__ntlmssp_session_key(c->ntlmssp, key));
	*key_len = 16;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__spnego_client_session_key(const struct smbsess__spnego_client *c,
							 uint8_t key[16])
{
	uint8_t full[SMBSESS__SPNEGO_MAX_KEY];
	size_t len;

	if (c->mech != SMBSESS__MECH_KRB5)
		return smbsess__ntlmssp_session_key(c->ntlmssp, key);
	SMBSESS__CHECK(smbsess__spnego_client_full_session_key(c, full, &len));
	/* [MS-SMB2] 3.2.5.3: the first 16 bytes, zero padded when shorter. */
	memset(key, 0, 16);
	memcpy(key, full, len < 16 ? len : 16);
	explicit_bzero(full, sizeof full);
	return SMBSESS__OK;
}

/* Kerberos under either of its OIDs. */
static enum smbsess__spnego_mech norm_mech(enum smbsess__spnego_mech m)
{
	return m == SMBSESS__MECH_MS_KRB5 ? SMBSESS__MECH_KRB5 : m;
}

static bool offered(const struct smbsess__spnego_client *c, enum smbsess__spnego_mech m)
{
	for (size_t i = 0; i < c->num_offered; i++)
		if (c->offered[i] == m)
			return true;
	return false;
}

/* The failure when the server will not do Kerberos: its own status when NTLM is forbidden. */
static struct smbsess_status krb5_refused(const struct smbsess__spnego_client *c)
{
	if (!smbsess__creds_ntlm_allowed(c->creds))
		return SMBSESS__ST_LIB(SMBSESS_E_KERBEROS_REFUSED);
	return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
}

/*
 * Starts a GSS-API step: the context moves into a new call with copies of
 * the inputs. The first step creates the context.
 */
static struct smbsess_status new_call(struct smbsess__spnego_client *c, bool start, const uint8_t *in,
				      size_t in_len, const uint8_t *peer_mic, size_t peer_mic_len,
				      bool make_mic, enum gss_cont cont, struct smbsess__gss_call **out)
{
	struct smbsess__gss_call *call;

	if (start && c->gss == NULL) {
		if (c->host == NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
		SMBSESS__CHECK(smbsess__gss_new(c->creds, c->service, c->host, &c->gss));
	}
	if (c->gss == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	call = smbsess__gss_call_new();
	if (call == NULL)
		return SMBSESS__ST_NOMEM;
	call->start = start;
	call->make_mic = make_mic;
	call->in = smbsess__gss_memdup(in, in_len);
	call->in_len = in_len;
	call->peer_mic = smbsess__gss_memdup(peer_mic, peer_mic_len);
	call->peer_mic_len = peer_mic_len;
	call->mech_types = smbsess__gss_memdup(c->mech_types, c->mech_types_len);
	call->mech_types_len = c->mech_types_len;
	if ((in && !call->in) || (peer_mic && !call->peer_mic) || (c->mech_types && !call->mech_types)) {
		smbsess__gss_call_free(call);
		return SMBSESS__ST_NOMEM;
	}
	call->gss = c->gss;
	c->gss = NULL;
	c->cont = cont;
	c->state = SPNEGO_BUSY;
	*out = call;
	return SMBSESS__OK;
}

static void drop_krb5(struct smbsess__spnego_client *c)
{
	smbsess__gss_free(c->gss);
	c->gss = NULL;
}

/* Our MechTypeList is fixed once we send it. */
static struct smbsess_status set_offered(struct smbsess__spnego_client *c, const enum smbsess__spnego_mech *m,
					 size_t n)
{
	uint8_t *der;
	size_t len;

	SMBSESS__CHECK(smbsess__spnego_mech_types(c, m, n, &der, &len));
	talloc_free(c->mech_types);
	c->mech_types = der;
	c->mech_types_len = len;
	memcpy(c->offered, m, n * sizeof m[0]);
	c->num_offered = n;
	return SMBSESS__OK;
}

/* The NegTokenInit with NTLMSSP as the optimistic mechanism. */
static struct smbsess_status init_ntlm(struct smbsess__spnego_client *c, TALLOC_CTX *tmp, uint8_t **out,
				       size_t *out_len)
{
	uint8_t *neg;
	size_t neg_len;

	SMBSESS__CHECK(smbsess__ntlmssp_negotiate(c->ntlmssp, tmp, &neg, &neg_len));
	SMBSESS__CHECK(smbsess__spnego_build_init(tmp, c->offered, c->num_offered, neg, neg_len, out, out_len));
	c->mech = SMBSESS__MECH_NTLMSSP;
	c->state = SPNEGO_WAIT_FIRST;
	return SMBSESS__OK;
}

/* Kerberos failed before anything was sent: go on with NTLM alone when allowed. */
static struct smbsess_status init_without_krb5(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					       struct smbsess_status why, uint8_t **out, size_t *out_len)
{
	static const enum smbsess__spnego_mech ntlm[] = { SMBSESS__MECH_NTLMSSP };

	drop_krb5(c);
	c->krb5_status = why;
	if (!offered(c, SMBSESS__MECH_NTLMSSP) || smbsess__st_equal(why, SMBSESS__ST_NOMEM))
		return why;
	SMBSESS__CHECK(set_offered(c, ntlm, 1));
	return init_ntlm(c, tmp, out, out_len);
}

/* Step 1: the server's hint (optional), then our NegTokenInit. */
static struct smbsess_status step_init(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
				       const uint8_t *in, size_t in_len, uint8_t **out,
				       size_t *out_len, struct smbsess__gss_call **call)
{
	enum smbsess__spnego_mech order[2], list[2];
	size_t n_order = 0, n = 0;
	bool has_krb5 = true, has_ntlm = true;
	struct smbsess_status st;

	if (in_len > 0) {
		struct smbsess__spnego_init *hint;

		SMBSESS__CHECK(smbsess__spnego_parse_init(tmp, in, in_len, &hint));
		has_krb5 = has_ntlm = false;
		for (size_t i = 0; i < hint->num_mechs; i++) {
			has_ntlm = has_ntlm || hint->mechs[i] == SMBSESS__MECH_NTLMSSP;
			has_krb5 = has_krb5 || norm_mech(hint->mechs[i]) == SMBSESS__MECH_KRB5;
		}
	}
	switch (c->creds->mechs) {
	case SMBSESS__MECHS_KRB5_THEN_NTLM:
		order[n_order++] = SMBSESS__MECH_KRB5;
		order[n_order++] = SMBSESS__MECH_NTLMSSP;
		break;
	case SMBSESS__MECHS_KRB5_ONLY:
		order[n_order++] = SMBSESS__MECH_KRB5;
		break;
	case SMBSESS__MECHS_NTLM_THEN_KRB5:
		order[n_order++] = SMBSESS__MECH_NTLMSSP;
		order[n_order++] = SMBSESS__MECH_KRB5;
		break;
	default:
		order[n_order++] = SMBSESS__MECH_NTLMSSP;
		break;
	}
	for (size_t i = 0; i < n_order; i++) {
		if (order[i] == SMBSESS__MECH_KRB5 && has_krb5)
			list[n++] = order[i];
		/* An NTLM fallback never turns a Kerberos logon into an anonymous one. */
		if (order[i] == SMBSESS__MECH_NTLMSSP && has_ntlm &&
		    (n_order == 1 || !smbsess__creds_is_anonymous(c->creds)))
			list[n++] = order[i];
	}
	if (n == 0) {
		if (smbsess__creds_krb5_allowed(c->creds) && !has_krb5) {
			c->krb5_status = SMBSESS__ST_LIB(SMBSESS_E_KERBEROS_REFUSED);
			if (!smbsess__creds_ntlm_allowed(c->creds))
				return c->krb5_status;
		}
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	}
	if (smbsess__creds_krb5_allowed(c->creds) && !has_krb5)
		c->krb5_status = SMBSESS__ST_LIB(SMBSESS_E_KERBEROS_REFUSED);
	SMBSESS__CHECK(set_offered(c, list, n));
	if (list[0] != SMBSESS__MECH_KRB5)
		return init_ntlm(c, tmp, out, out_len);
	st = new_call(c, true, NULL, 0, NULL, 0, false, CONT_INIT, call);
	if (!smbsess__st_ok(st))
		return init_without_krb5(c, tmp, st, out, out_len);
	return SMBSESS__OK;
}

/* The NTLM CHALLENGE_MESSAGE in, the AUTHENTICATE_MESSAGE (and our mechListMIC) out. */
static struct smbsess_status ntlm_challenge(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					    const struct smbsess__spnego_resp *r, uint8_t **out,
					    size_t *out_len)
{
	struct smbsess__spnego_resp mine = { .neg_state = SMBSESS__SPNEGO_NO_STATE };
	uint8_t mic[16];

	/*
	 * RFC 4178 4.2.2: negState is required in the first reply; NTLM needs
	 * another leg. request-mic asks us to send a mechListMIC (RFC 4178 5(d)).
	 */
	if (r->neg_state != SMBSESS__SPNEGO_ACCEPT_INCOMPLETE &&
	    r->neg_state != SMBSESS__SPNEGO_REQUEST_MIC)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->response_token == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	SMBSESS__CHECK(smbsess__ntlmssp_authenticate(c->ntlmssp, r->response_token,
						     r->response_token_len, tmp,
						     &mine.response_token,
						     &mine.response_token_len));
	/*
	 * A client that put a MIC in the AUTHENTICATE_MESSAGE also protects
	 * the mechanism list, as Windows does; servers that saw the MIC
	 * (Samba among them) expect a mechListMIC. So does a server that
	 * chose a mechanism other than our first (RFC 4178 5).
	 */
	if ((r->neg_state == SMBSESS__SPNEGO_REQUEST_MIC || c->mic_required) &&
	    !smbsess__ntlmssp_can_sign(c->ntlmssp))
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if ((smbsess__ntlmssp_sent_mic(c->ntlmssp) || r->neg_state == SMBSESS__SPNEGO_REQUEST_MIC ||
	     c->mic_required) &&
	    smbsess__ntlmssp_can_sign(c->ntlmssp)) {
		SMBSESS__CHECK(smbsess__ntlmssp_sign(c->ntlmssp, c->mech_types, c->mech_types_len, mic));
		mine.mech_list_mic = mic;
		mine.mech_list_mic_len = sizeof(mic);
		c->sent_mic = true;
	}
	SMBSESS__CHECK(smbsess__spnego_build_resp(tmp, &mine, out, out_len));
	c->state = SPNEGO_WAIT_FINAL;
	return SMBSESS__OK;
}

/* A Kerberos token from the server (the AP-REP): a GSS-API step. */
static struct smbsess_status krb5_reply(struct smbsess__spnego_client *c, const struct smbsess__spnego_resp *r,
					struct smbsess__gss_call **call)
{
	int state = r->neg_state == SMBSESS__SPNEGO_NO_STATE ? SMBSESS__SPNEGO_ACCEPT_INCOMPLETE : r->neg_state;

	if (state != SMBSESS__SPNEGO_ACCEPT_COMPLETED && state != SMBSESS__SPNEGO_ACCEPT_INCOMPLETE &&
	    state != SMBSESS__SPNEGO_REQUEST_MIC)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	/* Mutual authentication: an acceptance without the server's token proves nothing. */
	if (r->response_token == NULL || r->response_token_len == 0)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	c->peer_state = state;
	return new_call(c, false, r->response_token, r->response_token_len, r->mech_list_mic,
			r->mech_list_mic ? r->mech_list_mic_len : 0, state != SMBSESS__SPNEGO_ACCEPT_COMPLETED,
			CONT_REPLY, call);
}

/* A NegTokenResp that carries only our next mechanism token or our mechListMIC. */
static struct smbsess_status build_token_resp(TALLOC_CTX *tmp, const uint8_t *token, size_t token_len,
					      const uint8_t *mic, size_t mic_len, uint8_t **out,
					      size_t *out_len)
{
	struct smbsess__spnego_resp mine = { .neg_state = SMBSESS__SPNEGO_NO_STATE };

	mine.response_token = (uint8_t *)token;
	mine.response_token_len = token_len;
	mine.mech_list_mic = (uint8_t *)mic;
	mine.mech_list_mic_len = mic_len;
	return smbsess__spnego_build_resp(tmp, &mine, out, out_len);
}

/* Step 2: the server's first NegTokenResp names the mechanism. */
static struct smbsess_status step_first(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					const uint8_t *in, size_t in_len, uint8_t **out,
					size_t *out_len, struct smbsess__gss_call **call)
{
	struct smbsess__spnego_resp *r;
	enum smbsess__spnego_mech sel;

	SMBSESS__CHECK(smbsess__spnego_parse_resp(tmp, in, in_len, &r));
	if (r->neg_state == SMBSESS__SPNEGO_REJECT)
		return c->mech == SMBSESS__MECH_KRB5 ? krb5_refused(c) : SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	sel = r->has_supported_mech ? norm_mech(r->supported_mech) : c->mech;
	if (!offered(c, sel)) {
		if (sel == SMBSESS__MECH_NTLMSSP && !smbsess__creds_ntlm_allowed(c->creds))
			return SMBSESS__ST_LIB(SMBSESS_E_KERBEROS_REFUSED);
		return SMBSESS__ST_LIB(SMBSESS_E_NOT_SUPPORTED);
	}
	if (sel == c->mech) {
		if (sel == SMBSESS__MECH_NTLMSSP)
			return ntlm_challenge(c, tmp, r, out, out_len);
		return krb5_reply(c, r, call);
	}
	/* The server chose our other mechanism: both sides must then exchange mechListMICs. */
	c->mic_required = true;
	if (r->neg_state != SMBSESS__SPNEGO_ACCEPT_INCOMPLETE && r->neg_state != SMBSESS__SPNEGO_REQUEST_MIC)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (sel == SMBSESS__MECH_NTLMSSP) {
		uint8_t *neg;
		size_t neg_len;

		drop_krb5(c);
		c->krb5_status = SMBSESS__ST_LIB(SMBSESS_E_KERBEROS_REFUSED);
		c->mech = SMBSESS__MECH_NTLMSSP;
		if (r->response_token != NULL && r->response_token_len > 0)
			return ntlm_challenge(c, tmp, r, out, out_len);
		SMBSESS__CHECK(smbsess__ntlmssp_negotiate(c->ntlmssp, tmp, &neg, &neg_len));
		SMBSESS__CHECK(build_token_resp(tmp, neg, neg_len, NULL, 0, out, out_len));
		c->state = SPNEGO_WAIT_MORE;
		return SMBSESS__OK;
	}
	/* Kerberos after our optimistic NTLM: its first token now. */
	if (r->response_token != NULL && r->response_token_len > 0)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	c->mech = SMBSESS__MECH_KRB5;
	return new_call(c, true, NULL, 0, NULL, 0, false, CONT_START, call);
}

/* Later NegTokenResps while the mechanism's exchange goes on. */
static struct smbsess_status step_more(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
				       const uint8_t *in, size_t in_len, uint8_t **out,
				       size_t *out_len, struct smbsess__gss_call **call)
{
	struct smbsess__spnego_resp *r;

	SMBSESS__CHECK(smbsess__spnego_parse_resp(tmp, in, in_len, &r));
	if (r->neg_state == SMBSESS__SPNEGO_REJECT)
		return c->mech == SMBSESS__MECH_KRB5 ? krb5_refused(c) : SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (r->has_supported_mech && norm_mech(r->supported_mech) != c->mech)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (c->mech == SMBSESS__MECH_NTLMSSP)
		return ntlm_challenge(c, tmp, r, out, out_len);
	return krb5_reply(c, r, call);
}

/*
 * The end of a successful exchange. When the server chose a mechanism other
 * than our first, its mechListMIC is what proves that nobody in the middle
 * struck our first choice from the list (RFC 4178 5): without it, no logon.
 */
static struct smbsess_status finish_done(struct smbsess__spnego_client *c)
{
	if (c->mic_required && !c->peer_mic_ok)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	c->state = SPNEGO_DONE;
	return SMBSESS__OK;
}

/* The server's verdict, and its mechListMIC when it sends one. */
static struct smbsess_status step_final(struct smbsess__spnego_client *c, TALLOC_CTX *tmp,
					const uint8_t *in, size_t in_len,
					struct smbsess__gss_call **call)
{
	struct smbsess__spnego_resp *r;

	/* SMB2 may end the exchange with STATUS_SUCCESS and no token at all. */
	if (in_len == 0)
		return finish_done(c);
	SMBSESS__CHECK(smbsess__spnego_parse_resp(tmp, in, in_len, &r));
	if (r->neg_state == SMBSESS__SPNEGO_REJECT)
		return c->mech == SMBSESS__MECH_KRB5 ? krb5_refused(c) : SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (r->neg_state != SMBSESS__SPNEGO_ACCEPT_COMPLETED && r->neg_state != SMBSESS__SPNEGO_NO_STATE)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->response_token != NULL && r->response_token_len > 0)
		return SMBSESS__ST_LIB(SMBSESS_E_PROTOCOL);
	if (r->mech_list_mic && c->mech == SMBSESS__MECH_KRB5)
		return new_call(c, false, NULL, 0, r->mech_list_mic, r->mech_list_mic_len, false, CONT_FINAL,
				call);
	if (r->mech_list_mic && smbsess__ntlmssp_can_sign(c->ntlmssp)) {
		if (r->mech_list_mic_len != 16)
			return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
		SMBSESS__CHECK(smbsess__ntlmssp_check(c->ntlmssp, c->mech_types, c->mech_types_len,
						      r->mech_list_mic));
		c->peer_mic_ok = true;
	}
	return finish_done(c);
}

/*
 * The part of a step on the caller's thread before any GSS-API call: either
 * the output (*call NULL) or a GSS-API step to run (*call set).
 */
static struct smbsess_status prepare(struct smbsess__spnego_client *c, TALLOC_CTX *tmp, const uint8_t *in,
				     size_t in_len, uint8_t **out, size_t *out_len,
				     struct smbsess__gss_call **call)
{
	*out = NULL;
	*out_len = 0;
	*call = NULL;
	if (in == NULL && in_len != 0)
		return SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT);
	switch (c->state) {
	case SPNEGO_START:
		return step_init(c, tmp, in, in_len, out, out_len, call);
	case SPNEGO_WAIT_FIRST:
		return step_first(c, tmp, in, in_len, out, out_len, call);
	case SPNEGO_WAIT_MORE:
		return step_more(c, tmp, in, in_len, out, out_len, call);
	case SPNEGO_WAIT_FINAL:
		return step_final(c, tmp, in, in_len, call);
	default:
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	}
}

/* The part after a GSS-API step, back on the caller's thread: the context returns to the client. */
static struct smbsess_status complete(struct smbsess__spnego_client *c, struct smbsess__gss_call *call,
				      TALLOC_CTX *tmp, uint8_t **out, size_t *out_len)
{
	struct smbsess_status st = call->st;

	c->gss = call->gss;
	call->gss = NULL;
	/* GSS-API verified the server's mechListMIC it was given. */
	if (smbsess__st_ok(st) && call->complete && call->peer_mic != NULL)
		c->peer_mic_ok = true;
	switch (c->cont) {
	case CONT_INIT:
		if (!smbsess__st_ok(st))
			return init_without_krb5(c, tmp, st, out, out_len);
		if (call->out == NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		SMBSESS__CHECK(smbsess__spnego_build_init(tmp, c->offered, c->num_offered, call->out,
							  call->out_len, out, out_len));
		c->mech = SMBSESS__MECH_KRB5;
		c->state = SPNEGO_WAIT_FIRST;
		return SMBSESS__OK;
	case CONT_START:
		SMBSESS__CHECK(st);
		if (call->out == NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		SMBSESS__CHECK(build_token_resp(tmp, call->out, call->out_len, NULL, 0, out, out_len));
		c->state = SPNEGO_WAIT_MORE;
		return SMBSESS__OK;
	case CONT_REPLY:
		SMBSESS__CHECK(st);
		if (!call->complete) {
			if (call->out == NULL)
				return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
			SMBSESS__CHECK(build_token_resp(tmp, call->out, call->out_len, NULL, 0, out, out_len));
			c->state = SPNEGO_WAIT_MORE;
			return SMBSESS__OK;
		}
		if (call->out == NULL && c->peer_state == SMBSESS__SPNEGO_ACCEPT_COMPLETED)
			return finish_done(c);
		SMBSESS__CHECK(build_token_resp(tmp, call->out, call->out_len, call->mic, call->mic_len, out,
						out_len));
		c->sent_mic = call->mic != NULL;
		c->state = SPNEGO_WAIT_FINAL;
		return SMBSESS__OK;
	case CONT_FINAL:
	default:
		SMBSESS__CHECK(st);
		return finish_done(c);
	}
}

struct smbsess_status smbsess__spnego_client_step(struct smbsess__spnego_client *c,
						  TALLOC_CTX *mem_ctx, const uint8_t *in,
						  size_t in_len, uint8_t **out, size_t *out_len)
{
	TALLOC_CTX *tmp;
	struct smbsess__gss_call *call = NULL;
	uint8_t *o = NULL;
	size_t o_len = 0;
	struct smbsess_status st;

	tmp = talloc_new(NULL);
	if (tmp == NULL)
		return SMBSESS__ST_NOMEM;
	st = prepare(c, tmp, in, in_len, &o, &o_len, &call);
	if (smbsess__st_ok(st) && call != NULL) {
		c->runner(call);
		st = complete(c, call, tmp, &o, &o_len);
	}
	smbsess__gss_call_free(call);
	if (smbsess__st_ok(st)) {
		*out = o ? talloc_steal(mem_ctx, o) : NULL;
		*out_len = o_len;
	} else if (c->state != SPNEGO_DONE) {
		c->state = SPNEGO_FAILED;
	}
	talloc_free(tmp);
	return st;
}

/* ---- the same step without blocking the event loop ---- */

struct step_state {
	struct smbsess__spnego_client *c;
	struct smbsess__gss_call *call; /* the job's argument: the job owns it */
	uint8_t *out;
	size_t out_len;
};

static void step_job_done(struct tevent_req *subreq);

static void step_fail(struct tevent_req *req, struct smbsess__spnego_client *c, struct smbsess_status st)
{
	if (c->state != SPNEGO_DONE)
		c->state = SPNEGO_FAILED;
	smbsess__req_nok(req, st);
}

struct tevent_req *smbsess__spnego_client_step_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
						    struct smbsess__spnego_client *c, const uint8_t *in,
						    size_t in_len)
{
	struct tevent_req *req, *subreq;
	struct step_state *s;
	struct smbsess__gss_call *call = NULL;
	struct smbsess_status st;

	req = tevent_req_create(mem_ctx, &s, struct step_state);
	if (req == NULL)
		return NULL;
	s->c = c;
	st = prepare(c, s, in, in_len, &s->out, &s->out_len, &call);
	if (!smbsess__st_ok(st)) {
		step_fail(req, c, st);
		return tevent_req_post(req, ev);
	}
	if (call == NULL) {
		tevent_req_done(req);
		return tevent_req_post(req, ev);
	}
	/* From here the call (and the context in it) belongs to the job. */
	s->call = call;
	subreq = smbsess__job_send(s, ev, c->runner, call, smbsess__gss_call_free);
	if (subreq == NULL) {
		smbsess__gss_call_free(call);
		s->call = NULL;
		step_fail(req, c, SMBSESS__ST_NOMEM);
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, step_job_done, req);
	return req;
}

static void step_job_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq, struct tevent_req);
	struct step_state *s = tevent_req_data(req, struct step_state);
	struct smbsess_status st = smbsess__req_status(subreq);

	/* Take the results before the job is received: that frees the call. */
	if (smbsess__st_ok(st))
		st = complete(s->c, s->call, s, &s->out, &s->out_len);
	s->call = NULL;
	smbsess__job_recv(subreq);
	if (!smbsess__st_ok(st)) {
		step_fail(req, s->c, st);
		return;
	}
	tevent_req_done(req);
}

struct smbsess_status smbsess__spnego_client_step_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
						       uint8_t **out, size_t *out_len)
{
	struct step_state *s = tevent_req_data(req, struct step_state);
	struct smbsess_status st = smbsess__req_status(req);

	if (smbsess__st_ok(st)) {
		*out = s->out ? talloc_steal(mem_ctx, s->out) : NULL;
		*out_len = s->out_len;
	} else if (s->c->state == SPNEGO_BUSY) {
		/* Abandoned while a step ran: the context went with the job. */
		s->c->state = SPNEGO_FAILED;
	}
	tevent_req_received(req);
	return st;
}
