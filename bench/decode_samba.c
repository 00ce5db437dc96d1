/*
 * decode_samba: the decode benchmark of Samba's own pidl-generated NDR code
 * (libndr-standard from samba-dev): ndr_pull_srvsvc_NetFileEnum and
 * ndr_pull_srvsvc_NetSessEnum, reached as ndrdump reaches them, through
 * ndr_table_srvsvc's call table (opnums 9 and 12), with ndrdump's flags.
 *
 *   decode_samba file|sess STUB.bin [ITERATIONS]    (see decode_common.h)
 *
 * The generated structures are not among samba-dev's headers, so the check
 * line is taken from Samba's own ndr_print of the result (once, untimed).
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#include <stdarg.h>
#include <stdbool.h>

#include <ndr.h>

#include "decode_common.h"

extern const struct ndr_interface_table ndr_table_srvsvc;

#define OPNUM_NETFILEENUM 9
#define OPNUM_NETSESSENUM 12

static const struct ndr_interface_call *samba_call(int sess)
{
	const struct ndr_interface_call *c = &ndr_table_srvsvc.calls[sess ? OPNUM_NETSESSENUM : OPNUM_NETFILEENUM];

	return strcmp(c->name, sess ? "srvsvc_NetSessEnum" : "srvsvc_NetFileEnum") == 0 ? c : NULL;
}

static void *samba_pull(TALLOC_CTX *mem, int sess, uint8_t *data, size_t len)
{
	const struct ndr_interface_call *c = samba_call(sess);
	DATA_BLOB blob = { data, len };
	struct ndr_pull *ndr;
	void *r;

	if (c == NULL)
		return NULL;
	r = talloc_zero_size(mem, c->struct_size);
	ndr = ndr_pull_init_blob(&blob, mem);
	if (r == NULL || ndr == NULL)
		return NULL;
	ndr->flags |= LIBNDR_FLAG_REF_ALLOC; /* as ndrdump: allocate the [ref] out pointers */
	if (c->ndr_pull(ndr, NDR_OUT, r) != NDR_ERR_SUCCESS || ndr->offset != ndr->data_size)
		return NULL;
	talloc_free(ndr);
	return r;
}

/* What the check collects from Samba's print of the result. */
struct samba_seen {
	int sess;
	uint32_t count;
	unsigned n;        /* fields of the current entry seen */
	char cur[3][512];  /* the current entry's three fields */
	char first[1600];
	char last[1600];
	bool have_first;
};

static void samba_print(struct ndr_print *p, const char *fmt, ...) PRINTF_ATTRIBUTE(2, 3);
static void samba_print(struct ndr_print *p, const char *fmt, ...)
{
	struct samba_seen *s = p->private_data;
	static const char *const names[2][3] = { { "fid", "path", "user" }, { "client", "user", "transport" } };
	char line[1024], name[64], *colon, *v;
	va_list ap;
	size_t k;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	colon = strstr(line, ": ");
	if (colon == NULL || (size_t)(colon - line) >= sizeof name)
		return;
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	for (k = strlen(name); k > 0 && name[k - 1] == ' '; k--)
		name[k - 1] = '\0';
	v = colon + 2;
	if (strcmp(name, "count") == 0) {
		char *paren = strchr(v, '(');
		s->count = paren ? (uint32_t)strtoul(paren + 1, NULL, 10) : 0;
		return;
	}
	if (s->n >= 3 || strcmp(name, names[s->sess][s->n]) != 0)
		return;
	if (*v == '*' || strcmp(v, "NULL") == 0)
		return; /* the pointer line before its string */
	if (*v == '\'') {
		v++;
		if (*v != '\0' && v[strlen(v) - 1] == '\'')
			v[strlen(v) - 1] = '\0';
	} else if (strchr(v, '(') != NULL) {
		char *paren = strchr(v, '(');
		v = paren + 1;
		v[strcspn(v, ")")] = '\0';
	}
	snprintf(s->cur[s->n], sizeof s->cur[0], "%s", v);
	if (++s->n == 3) {
		snprintf(s->last, sizeof s->last, "%s|%s|%s", s->cur[0], s->cur[1], s->cur[2]);
		if (!s->have_first) {
			memcpy(s->first, s->last, sizeof s->first);
			s->have_first = true;
		}
		s->n = 0;
	}
}

static void samba_walk(const void *result, int sess, struct samba_seen *seen)
{
	const struct ndr_interface_call *c = samba_call(sess);
	struct ndr_print *p = talloc_zero(NULL, struct ndr_print);

	memset(seen, 0, sizeof *seen);
	seen->sess = sess;
	if (p == NULL)
		return;
	p->print = samba_print;
	p->private_data = seen;
	p->depth = 1;
	c->ndr_print(p, c->name, NDR_OUT, result);
	talloc_free(p);
}

static uint32_t samba_check(FILE *f, const void *result, int sess)
{
	struct samba_seen seen;

	samba_walk(result, sess, &seen);
	fprintf(f, "count=%" PRIu32, seen.count);
	if (seen.have_first)
		fprintf(f, " first=%s last=%s", seen.first, seen.last);
	return seen.count;
}

int main(int argc, char **argv)
{
	static const struct decoder d = { "samba", samba_pull, samba_check };

	return decode_main(&d, argc, argv);
}
