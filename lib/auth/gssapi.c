/*
 * Kerberos through GSS-API: credentials, context tokens, session key.
 * See gssapi.h for who owns what while a worker thread runs a step.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "gssapi.h"

struct smbsess__gss {
	enum smbsess__krb5_source source;
	char *ccache;    /* FROM_CCACHE: NULL for the default cache */
	char *keytab;    /* FROM_KEYTAB */
	char *principal; /* NULL: see smbsess__gss_new */
	char *password;  /* FROM_PASSWORD; wiped when freed */
	char *target;    /* service@host */
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_name_t target_name;
	bool complete;
	uint8_t key[SMBSESS__GSS_MAX_KEY];
	size_t key_len;
};

#define ST_INVAL SMBSESS__ST_LIB(SMBSESS_E_INVALID_ARGUMENT)

uint8_t *smbsess__gss_memdup(const void *p, size_t len)
{
	uint8_t *d;

	if (p == NULL)
		return NULL;
	d = malloc(len ? len : 1);
	if (d != NULL && len)
		memcpy(d, p, len);
	return d;
}

static bool dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return true;
	*out = strdup(s);
	return *out != NULL;
}

/* The client principal for password credentials, malloc'd; see smbsess__gss_new. */
static char *password_principal(const struct smbsess__creds *c)
{
	char *p = NULL;

	if (c->principal != NULL)
		return strdup(c->principal);
	if (c->user == NULL || c->user[0] == '\0')
		return NULL;
	if (strchr(c->user, '@') != NULL || c->domain == NULL || strchr(c->domain, '.') == NULL)
		return strdup(c->user);
	if (asprintf(&p, "%s@%s", c->user, c->domain) < 0)
		return NULL;
	for (char *r = strchr(p, '@') + 1; *r; r++)
		*r = (char)toupper((unsigned char)*r);
	return p;
}

struct smbsess_status smbsess__gss_new(const struct smbsess__creds *creds, const char *service,
				       const char *host, struct smbsess__gss **out)
{
	struct smbsess__gss *g;
	bool ok;

	if (creds == NULL || service == NULL || host == NULL || host[0] == '\0' || out == NULL)
		return ST_INVAL;
	if (creds->krb5_source == SMBSESS__KRB5_FROM_PASSWORD &&
	    (creds->user == NULL || creds->user[0] == '\0') && creds->principal == NULL)
		return ST_INVAL; /* no one to get tickets for */
	if (creds->krb5_source == SMBSESS__KRB5_FROM_KEYTAB && creds->keytab == NULL)
		return ST_INVAL;
	g = calloc(1, sizeof *g);
	if (g == NULL)
		return SMBSESS__ST_NOMEM;
	g->cred = GSS_C_NO_CREDENTIAL;
	g->ctx = GSS_C_NO_CONTEXT;
	g->target_name = GSS_C_NO_NAME;
	g->source = creds->krb5_source;
	ok = dup_opt(creds->ccache, &g->ccache) && dup_opt(creds->keytab, &g->keytab) &&
	     asprintf(&g->target, "%s@%s", service, host) >= 0;
	if (!ok)
		g->target = NULL;
	if (ok && g->source == SMBSESS__KRB5_FROM_PASSWORD) {
		g->principal = password_principal(creds);
		ok = g->principal != NULL && dup_opt(creds->password ? creds->password : "", &g->password);
	} else if (ok) {
		ok = dup_opt(creds->principal, &g->principal);
	}
	if (!ok) {
		smbsess__gss_free(g);
		return SMBSESS__ST_NOMEM;
	}
	*out = g;
	return SMBSESS__OK;
}

void smbsess__gss_free(struct smbsess__gss *g)
{
	OM_uint32 minor;

	if (g == NULL)
		return;
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &g->cred);
	if (g->target_name != GSS_C_NO_NAME)
		gss_release_name(&minor, &g->target_name);
	if (g->password) {
		explicit_bzero(g->password, strlen(g->password));
		free(g->password);
	}
	free(g->ccache);
	free(g->keytab);
	free(g->principal);
	free(g->target);
	explicit_bzero(g->key, sizeof g->key);
	free(g);
}

bool smbsess__gss_complete(const struct smbsess__gss *g)
{
	return g != NULL && g->complete;
}

void smbsess__gss_test_establish(struct smbsess__gss *g, const uint8_t *key, size_t key_len)
{
	if (key_len > sizeof g->key)
		key_len = sizeof g->key;
	memcpy(g->key, key, key_len);
	g->key_len = key_len;
	g->complete = true;
}

struct smbsess_status smbsess__gss_session_key(const struct smbsess__gss *g,
					       uint8_t key[SMBSESS__GSS_MAX_KEY], size_t *key_len)
{
	if (g == NULL || key == NULL || key_len == NULL)
		return ST_INVAL;
	if (!g->complete || g->key_len == 0)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	memcpy(key, g->key, g->key_len);
	*key_len = g->key_len;
	return SMBSESS__OK;
}

/* ---- status ---- */

static bool krb5_code_known(uint32_t code)
{
	const char *name;
	uint32_t c;

	for (size_t i = 0; smbsess__status_table_entry(SMBSESS_DOMAIN_KRB5, i, &name, &c); i++)
		if (c == code)
			return true;
	return false;
}

struct smbsess_status smbsess__gss_status(uint32_t major, uint32_t minor)
{
	uint32_t routine = major & (GSS_C_ROUTINE_ERROR_MASK << GSS_C_ROUTINE_ERROR_OFFSET);

	if (minor != 0 && krb5_code_known(minor))
		return smbsess__st(SMBSESS_DOMAIN_KRB5, minor);
	/* com_err codes are far above errno values; keep the mechanism's own reason. */
	if (routine == GSS_S_FAILURE && minor > 0xFFFF)
		return smbsess__st(SMBSESS_DOMAIN_KRB5, minor);
	if (routine == 0)
		return smbsess__st(SMBSESS_DOMAIN_GSS, major ? major : GSS_S_FAILURE);
	return smbsess__st(SMBSESS_DOMAIN_GSS, routine);
}

/* ---- one step ---- */

/* FNV-1a, only to give a memory cache a short name per keytab and principal. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h ^ 0xff;
}

/* The file of a FILE: (or untyped) keytab name; NULL for other keytab types. */
static const char *keytab_file(const char *name)
{
	const char *colon = strchr(name, ':');

	if (colon == NULL || name[0] == '/')
		return name;
	if (strncmp(name, "FILE:", 5) == 0 || strncmp(name, "WRFILE:", 7) == 0)
		return colon + 1;
	return NULL;
}

static OM_uint32 import_name(OM_uint32 *minor, const char *s, gss_OID type, gss_name_t *out)
{
	gss_buffer_desc b = { strlen(s), (void *)s };

	return gss_import_name(minor, &b, type, out);
}

static struct smbsess_status acquire(struct smbsess__gss *g)
{
	gss_OID_set_desc mechs = { 1, gss_mech_krb5 };
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 major, minor = 0;
	gss_key_value_element_desc el[2];
	gss_key_value_set_desc store = { 0, el };
	char memcache[64];

	if (g->principal != NULL) {
		major = import_name(&minor, g->principal, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
		if (GSS_ERROR(major))
			return smbsess__gss_status(major, minor);
	}
	switch (g->source) {
	case SMBSESS__KRB5_FROM_PASSWORD: {
		gss_buffer_desc pw = { strlen(g->password), g->password };

		major = gss_acquire_cred_with_password(&minor, name, &pw, GSS_C_INDEFINITE, &mechs,
						       GSS_C_INITIATE, &g->cred, NULL, NULL);
		break;
	}
	case SMBSESS__KRB5_FROM_KEYTAB: {
		const char *path = keytab_file(g->keytab);

		/* MIT reports a missing keytab as an empty cache: say what is missing. */
		if (path != NULL && access(path, R_OK) != 0) {
			int e = errno;

			if (name != GSS_C_NO_NAME)
				gss_release_name(&minor, &name);
			return SMBSESS__ST_ERRNO(e);
		}
		/* Never the user's default cache: a memory cache of our own. */
		snprintf(memcache, sizeof memcache, "MEMORY:smbsess-kt-%016llx",
			 (unsigned long long)fnv1a(fnv1a(0xcbf29ce484222325ull, g->keytab), g->principal));
		el[0] = (gss_key_value_element_desc){ "client_keytab", g->keytab };
		el[1] = (gss_key_value_element_desc){ "ccache", memcache };
		store.count = 2;
		major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &store,
					      &g->cred, NULL, NULL);
		break;
	}
	case SMBSESS__KRB5_FROM_CCACHE:
	default:
		if (g->ccache != NULL) {
			el[0] = (gss_key_value_element_desc){ "ccache", g->ccache };
			store.count = 1;
			major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
						      &store, &g->cred, NULL, NULL);
		} else {
			major = gss_acquire_cred(&minor, name, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &g->cred,
						 NULL, NULL);
		}
		break;
	}
	if (name != GSS_C_NO_NAME) {
		OM_uint32 m2;

		gss_release_name(&m2, &name);
	}
	if (GSS_ERROR(major))
		return smbsess__gss_status(major, minor);
	return SMBSESS__OK;
}

static struct smbsess_status take_session_key(struct smbsess__gss *g)
{
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	OM_uint32 major, minor = 0;
	struct smbsess_status st = SMBSESS__OK;

	major = gss_inquire_sec_context_by_oid(&minor, g->ctx, GSS_C_INQ_SSPI_SESSION_KEY, &set);
	if (GSS_ERROR(major))
		return smbsess__gss_status(major, minor);
	if (set == GSS_C_NO_BUFFER_SET || set->count < 1 || set->elements[0].length == 0 ||
	    set->elements[0].length > sizeof g->key) {
		st = SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	} else {
		memcpy(g->key, set->elements[0].value, set->elements[0].length);
		g->key_len = set->elements[0].length;
	}
	if (set != GSS_C_NO_BUFFER_SET) {
		for (size_t i = 0; i < set->count; i++)
			if (set->elements[i].value)
				explicit_bzero(set->elements[i].value, set->elements[i].length);
		gss_release_buffer_set(&minor, &set);
	}
	return st;
}

/* With an established context: verify the acceptor's mechListMIC, make ours. */
static struct smbsess_status mics(struct smbsess__gss_call *c)
{
	struct smbsess__gss *g = c->gss;
	OM_uint32 major, minor = 0;

	if ((c->peer_mic != NULL || c->make_mic) && c->mech_types == NULL)
		return ST_INVAL;
	if (c->peer_mic != NULL) {
		gss_buffer_desc msg = { c->mech_types_len, c->mech_types };
		gss_buffer_desc tok = { c->peer_mic_len, c->peer_mic };

		major = gss_verify_mic(&minor, g->ctx, &msg, &tok, NULL);
		if (GSS_ERROR(major))
			return SMBSESS__ST_LIB(SMBSESS_E_BAD_SIGNATURE);
	}
	if (c->make_mic) {
		gss_buffer_desc msg = { c->mech_types_len, c->mech_types };
		gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;

		major = gss_get_mic(&minor, g->ctx, GSS_C_QOP_DEFAULT, &msg, &tok);
		if (GSS_ERROR(major))
			return smbsess__gss_status(major, minor);
		c->mic = smbsess__gss_memdup(tok.value, tok.length);
		c->mic_len = tok.length;
		gss_release_buffer(&minor, &tok);
		if (c->mic == NULL)
			return SMBSESS__ST_NOMEM;
	}
	return SMBSESS__OK;
}

static struct smbsess_status run(struct smbsess__gss_call *c)
{
	struct smbsess__gss *g = c->gss;
	gss_buffer_desc in = { c->in_len, c->in }, out = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor = 0, rel_minor, flags = 0;
	const OM_uint32 want = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG;

	if (g == NULL)
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	if (g->complete) {
		/* Only the mechListMICs are left. */
		if (c->start || c->in != NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		c->complete = true;
		return mics(c);
	}
	if (c->start) {
		if (g->ctx != GSS_C_NO_CONTEXT || c->in != NULL)
			return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
		if (g->target_name == GSS_C_NO_NAME) {
			major = import_name(&minor, g->target, GSS_C_NT_HOSTBASED_SERVICE, &g->target_name);
			if (GSS_ERROR(major))
				return smbsess__gss_status(major, minor);
		}
		if (g->cred == GSS_C_NO_CREDENTIAL)
			SMBSESS__CHECK(acquire(g));
	} else if (g->ctx == GSS_C_NO_CONTEXT || c->in == NULL) {
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	}
	major = gss_init_sec_context(&minor, g->cred, &g->ctx, g->target_name, gss_mech_krb5, want,
				     GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS,
				     c->in ? &in : GSS_C_NO_BUFFER, NULL, &out, &flags, NULL);
	if (out.length > 0) {
		c->out = smbsess__gss_memdup(out.value, out.length);
		c->out_len = out.length;
	}
	gss_release_buffer(&rel_minor, &out);
	if (GSS_ERROR(major))
		return smbsess__gss_status(major, minor);
	if (c->out_len > 0 && c->out == NULL)
		return SMBSESS__ST_NOMEM;
	if (major & GSS_S_CONTINUE_NEEDED)
		return SMBSESS__OK;
	/* Established: it must be mutual; then the key and the mechListMICs. */
	if (!(flags & GSS_C_MUTUAL_FLAG))
		return SMBSESS__ST_LIB(SMBSESS_E_AUTH);
	SMBSESS__CHECK(take_session_key(g));
	g->complete = true;
	c->complete = true;
	return mics(c);
}

struct smbsess__gss_call *smbsess__gss_call_new(void)
{
	return calloc(1, sizeof(struct smbsess__gss_call));
}

void smbsess__gss_call_run(void *arg)
{
	struct smbsess__gss_call *c = arg;

	c->st = run(c);
}

void smbsess__gss_call_free(void *arg)
{
	struct smbsess__gss_call *c = arg;

	if (c == NULL)
		return;
	smbsess__gss_free(c->gss);
	free(c->in);
	free(c->mech_types);
	free(c->peer_mic);
	free(c->out);
	free(c->mic);
	free(c);
}
