#include <inttypes.h>
#include <string.h>

#include "dump.h"

static void dump_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s=", key);
	if (s == NULL) {
		fputs("(null)\n", f);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

static void dump_u32(FILE *f, const char *key, uint32_t v)
{
	fprintf(f, "%s=%" PRIu32 "\n", key, v);
}

static void dump_fields(FILE *f, const char *prefix, const void *value, const struct smbsess__ndr_field *fields)
{
	const uint8_t *base = value;
	char key[128];

	for (const struct smbsess__ndr_field *fl = fields; fl->kind != SMBSESS__NDR_F_END; fl++) {
		snprintf(key, sizeof key, "%s%s", prefix, fl->name);
		if (fl->kind == SMBSESS__NDR_F_U32)
			dump_u32(f, key, *(const uint32_t *)(const void *)(base + fl->offset));
		else
			dump_str(f, key, *(char *const *)(const void *)(base + fl->offset));
	}
}

static void dump_ctr(FILE *f, enum smbsess__srvsvc_kind kind, const struct smbsess__srvsvc_ctr *c)
{
	const struct smbsess__ndr_field *fields = smbsess__srvsvc_fields(kind, c->level);
	size_t size = smbsess__srvsvc_info_size(kind);
	char prefix[64];

	dump_u32(f, "ctr.level", c->level);
	dump_u32(f, "ctr.present", c->present);
	if (!c->present || fields == NULL)
		return;
	dump_u32(f, "ctr.count", c->count);
	if (c->array == NULL) {
		fputs("ctr.array=(null)\n", f);
		return;
	}
	for (uint32_t i = 0; i < c->count; i++) {
		snprintf(prefix, sizeof prefix, "ctr.array[%" PRIu32 "].", i);
		dump_fields(f, prefix, (const uint8_t *)c->array + (size_t)i * size, fields);
	}
}

static void dump_resume(FILE *f, const struct smbsess__ndr_opt_u32 *r)
{
	if (r->present)
		dump_u32(f, "resume_handle", r->value);
	else
		fputs("resume_handle=(null)\n", f);
}

static void sess_enum_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_sess_enum_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_str(f, "client", r->client);
	dump_str(f, "user", r->user);
	dump_ctr(f, SMBSESS__SRVSVC_SESSIONS, &r->ctr);
	dump_u32(f, "max_buffer", r->max_buffer);
	dump_resume(f, &r->resume_handle);
}

static void file_enum_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_file_enum_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_str(f, "path", r->path);
	dump_str(f, "user", r->user);
	dump_ctr(f, SMBSESS__SRVSVC_FILES, &r->ctr);
	dump_u32(f, "max_buffer", r->max_buffer);
	dump_resume(f, &r->resume_handle);
}

static void conn_enum_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_conn_enum_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_str(f, "path", r->path);
	dump_ctr(f, SMBSESS__SRVSVC_CONNECTIONS, &r->ctr);
	dump_u32(f, "max_buffer", r->max_buffer);
	dump_resume(f, &r->resume_handle);
}

static void enum_out(FILE *f, enum smbsess__srvsvc_kind kind, const struct smbsess__srvsvc_enum_out *r)
{
	dump_ctr(f, kind, &r->ctr);
	dump_u32(f, "totalentries", r->totalentries);
	dump_resume(f, &r->resume_handle);
	dump_u32(f, "result", r->result);
}

static void sess_enum_out(FILE *f, const void *p) { enum_out(f, SMBSESS__SRVSVC_SESSIONS, p); }
static void file_enum_out(FILE *f, const void *p) { enum_out(f, SMBSESS__SRVSVC_FILES, p); }
static void conn_enum_out(FILE *f, const void *p) { enum_out(f, SMBSESS__SRVSVC_CONNECTIONS, p); }

static void file_get_info_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_file_get_info_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_u32(f, "fid", r->fid);
	dump_u32(f, "level", r->level);
}

static void file_get_info_out(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_file_get_info_out *r = p;
	const struct smbsess__ndr_field *fields = smbsess__srvsvc_fields(SMBSESS__SRVSVC_FILES, r->level);

	dump_u32(f, "level", r->level);
	dump_u32(f, "present", r->present);
	if (r->present && fields != NULL)
		dump_fields(f, "info.", &r->info, fields);
	dump_u32(f, "result", r->result);
}

static void file_close_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_file_close_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_u32(f, "fid", r->fid);
}

static void sess_del_in(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_sess_del_in *r = p;
	dump_str(f, "server_unc", r->server_unc);
	dump_str(f, "client", r->client);
	dump_str(f, "user", r->user);
}

static void result_out(FILE *f, const void *p)
{
	const struct smbsess__srvsvc_result_out *r = p;
	dump_u32(f, "result", r->result);
}

#define OP(name, dir, type) { #name, #dir, smbsess__srvsvc_##name##_##dir, sizeof(type), name##_##dir }
static const struct codec_op ops[] = {
	OP(sess_enum, in, struct smbsess__srvsvc_sess_enum_in),
	OP(sess_enum, out, struct smbsess__srvsvc_enum_out),
	OP(file_enum, in, struct smbsess__srvsvc_file_enum_in),
	OP(file_enum, out, struct smbsess__srvsvc_enum_out),
	OP(conn_enum, in, struct smbsess__srvsvc_conn_enum_in),
	OP(conn_enum, out, struct smbsess__srvsvc_enum_out),
	OP(file_get_info, in, struct smbsess__srvsvc_file_get_info_in),
	OP(file_get_info, out, struct smbsess__srvsvc_file_get_info_out),
	OP(file_close, in, struct smbsess__srvsvc_file_close_in),
	{ "file_close", "out", smbsess__srvsvc_result_out, sizeof(struct smbsess__srvsvc_result_out), result_out },
	OP(sess_del, in, struct smbsess__srvsvc_sess_del_in),
	{ "sess_del", "out", smbsess__srvsvc_result_out, sizeof(struct smbsess__srvsvc_result_out), result_out },
};

const struct codec_op *codec_find(const char *op, const char *dir)
{
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(ops[i].op, op) == 0 && strcmp(ops[i].dir, dir) == 0)
			return &ops[i];
	return NULL;
}

void codec_set_level(const struct codec_op *c, void *value, uint32_t level)
{
	if (c->fn == smbsess__srvsvc_file_get_info_out)
		((struct smbsess__srvsvc_file_get_info_out *)value)->level = level;
}
