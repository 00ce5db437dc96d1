/*
 * MS-SRVS coders. The IDL of each type stands above its field table; the
 * member names follow the specification's structures.
 */
#include "srvsvc.h"

#define SESS(kind, m) SMBSESS__NDR_FIELD_##kind(struct smbsess__srvsvc_sess_info, m)
#define FILEF(kind, m) SMBSESS__NDR_FIELD_##kind(struct smbsess__srvsvc_file_info, m)
#define CONN(kind, m) SMBSESS__NDR_FIELD_##kind(struct smbsess__srvsvc_conn_info, m)

/* SESSION_INFO_0 { [string] wchar_t *sesi0_cname; } */
static const struct smbsess__ndr_field sess0[] = {
	SESS(USTR, client), SMBSESS__NDR_FIELD_END
};
/* SESSION_INFO_1 { cname; username; DWORD num_opens, time, idle_time, user_flags; } */
static const struct smbsess__ndr_field sess1[] = {
	SESS(USTR, client), SESS(USTR, user), SESS(U32, num_open), SESS(U32, time),
	SESS(U32, idle_time), SESS(U32, user_flags), SMBSESS__NDR_FIELD_END
};
/* SESSION_INFO_2 { cname; username; num_opens, time, idle_time, user_flags; [string] cltype_name; } */
static const struct smbsess__ndr_field sess2[] = {
	SESS(USTR, client), SESS(USTR, user), SESS(U32, num_open), SESS(U32, time),
	SESS(U32, idle_time), SESS(U32, user_flags), SESS(USTR, client_type), SMBSESS__NDR_FIELD_END
};
/* SESSION_INFO_10 { cname; username; DWORD time, idle_time; } */
static const struct smbsess__ndr_field sess10[] = {
	SESS(USTR, client), SESS(USTR, user), SESS(U32, time), SESS(U32, idle_time),
	SMBSESS__NDR_FIELD_END
};
/* SESSION_INFO_502 { cname; username; num_opens, time, idle_time, user_flags; cltype_name; [string] transport; } */
static const struct smbsess__ndr_field sess502[] = {
	SESS(USTR, client), SESS(USTR, user), SESS(U32, num_open), SESS(U32, time),
	SESS(U32, idle_time), SESS(U32, user_flags), SESS(USTR, client_type), SESS(USTR, transport),
	SMBSESS__NDR_FIELD_END
};
/* FILE_INFO_2 { DWORD fi2_id; } */
static const struct smbsess__ndr_field file2[] = {
	FILEF(U32, fid), SMBSESS__NDR_FIELD_END
};
/* FILE_INFO_3 { DWORD fi3_id, fi3_permissions, fi3_num_locks; [string] fi3_path_name, fi3_username; } */
static const struct smbsess__ndr_field file3[] = {
	FILEF(U32, fid), FILEF(U32, permissions), FILEF(U32, num_locks), FILEF(USTR, path),
	FILEF(USTR, user), SMBSESS__NDR_FIELD_END
};
/* CONNECTION_INFO_0 { DWORD coni0_id; } */
static const struct smbsess__ndr_field conn0[] = {
	CONN(U32, conn_id), SMBSESS__NDR_FIELD_END
};
/* CONNECTION_INFO_1 { coni1_id, coni1_type, coni1_num_opens, coni1_num_users, coni1_time; [string] coni1_username, coni1_netname; } */
static const struct smbsess__ndr_field conn1[] = {
	CONN(U32, conn_id), CONN(U32, conn_type), CONN(U32, num_open), CONN(U32, num_users),
	CONN(U32, conn_time), CONN(USTR, user), CONN(USTR, share), SMBSESS__NDR_FIELD_END
};

const struct smbsess__ndr_field *smbsess__srvsvc_fields(enum smbsess__srvsvc_kind kind, uint32_t level)
{
	switch (kind) {
	case SMBSESS__SRVSVC_SESSIONS:
		switch (level) {
		case 0: return sess0;
		case 1: return sess1;
		case 2: return sess2;
		case 10: return sess10;
		case 502: return sess502;
		}
		break;
	case SMBSESS__SRVSVC_FILES:
		switch (level) {
		case 2: return file2;
		case 3: return file3;
		}
		break;
	case SMBSESS__SRVSVC_CONNECTIONS:
		switch (level) {
		case 0: return conn0;
		case 1: return conn1;
		}
		break;
	}
	return NULL;
}

size_t smbsess__srvsvc_info_size(enum smbsess__srvsvc_kind kind)
{
	switch (kind) {
	case SMBSESS__SRVSVC_SESSIONS: return sizeof(struct smbsess__srvsvc_sess_info);
	case SMBSESS__SRVSVC_FILES: return sizeof(struct smbsess__srvsvc_file_info);
	case SMBSESS__SRVSVC_CONNECTIONS: return sizeof(struct smbsess__srvsvc_conn_info);
	}
	return 0;
}

/* The info container: level, the union (discriminant, arm pointer), then the counted array. */
static struct smbsess_status ctr(struct smbsess__ndr *ndr, enum smbsess__srvsvc_kind kind,
				 struct smbsess__srvsvc_ctr *c)
{
	const struct smbsess__ndr_field *fields;
	struct smbsess__ndr_type t;
	struct smbsess_status st;

	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &c->level));
	SMBSESS__CHECK(smbsess__ndr_union_switch(ndr, c->level));
	fields = smbsess__srvsvc_fields(kind, c->level);
	if (fields == NULL) {
		/* [default]: an empty arm. */
		if (ndr->pull) {
			c->present = false;
			c->count = 0;
			c->array = NULL;
		}
		return SMBSESS__OK;
	}
	SMBSESS__CHECK(smbsess__ndr_ptr(ndr, &c->present));
	if (!c->present) {
		if (ndr->pull) {
			c->count = 0;
			c->array = NULL;
		}
		return SMBSESS__OK;
	}
	t.size = smbsess__srvsvc_info_size(kind);
	t.fields = fields;
	SMBSESS__CHECK(smbsess__ndr_enter(ndr));
	st = smbsess__ndr_counted_array(ndr, SMBSESS__NDR_BOTH, &c->count, &c->array, &t);
	smbsess__ndr_leave(ndr);
	return st;
}

/* A top-level [in,unique,string] parameter: referent id, then the string. */
static struct smbsess_status top_string(struct smbsess__ndr *ndr, char **s)
{
	return smbsess__ndr_unique_string(ndr, SMBSESS__NDR_BOTH, s);
}

/* The out half shared by the three enumerations. */
static struct smbsess_status enum_out(struct smbsess__ndr *ndr, enum smbsess__srvsvc_kind kind,
				      struct smbsess__srvsvc_enum_out *r)
{
	SMBSESS__CHECK(ctr(ndr, kind, &r->ctr));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &r->totalentries));
	SMBSESS__CHECK(smbsess__ndr_unique_u32(ndr, &r->resume_handle));
	return smbsess__ndr_u32(ndr, &r->result);
}

struct smbsess_status smbsess__srvsvc_sess_enum_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_sess_enum_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	SMBSESS__CHECK(top_string(ndr, &r->client));
	SMBSESS__CHECK(top_string(ndr, &r->user));
	SMBSESS__CHECK(ctr(ndr, SMBSESS__SRVSVC_SESSIONS, &r->ctr));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &r->max_buffer));
	return smbsess__ndr_unique_u32(ndr, &r->resume_handle);
}

struct smbsess_status smbsess__srvsvc_sess_enum_out(struct smbsess__ndr *ndr, int flags, void *p)
{
	(void)flags;
	return enum_out(ndr, SMBSESS__SRVSVC_SESSIONS, p);
}

struct smbsess_status smbsess__srvsvc_file_enum_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_file_enum_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	SMBSESS__CHECK(top_string(ndr, &r->path));
	SMBSESS__CHECK(top_string(ndr, &r->user));
	SMBSESS__CHECK(ctr(ndr, SMBSESS__SRVSVC_FILES, &r->ctr));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &r->max_buffer));
	return smbsess__ndr_unique_u32(ndr, &r->resume_handle);
}

struct smbsess_status smbsess__srvsvc_file_enum_out(struct smbsess__ndr *ndr, int flags, void *p)
{
	(void)flags;
	return enum_out(ndr, SMBSESS__SRVSVC_FILES, p);
}

struct smbsess_status smbsess__srvsvc_conn_enum_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_conn_enum_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	SMBSESS__CHECK(top_string(ndr, &r->path));
	SMBSESS__CHECK(ctr(ndr, SMBSESS__SRVSVC_CONNECTIONS, &r->ctr));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &r->max_buffer));
	return smbsess__ndr_unique_u32(ndr, &r->resume_handle);
}

struct smbsess_status smbsess__srvsvc_conn_enum_out(struct smbsess__ndr *ndr, int flags, void *p)
{
	(void)flags;
	return enum_out(ndr, SMBSESS__SRVSVC_CONNECTIONS, p);
}

struct smbsess_status smbsess__srvsvc_file_get_info_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_file_get_info_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	SMBSESS__CHECK(smbsess__ndr_u32(ndr, &r->fid));
	return smbsess__ndr_u32(ndr, &r->level);
}

struct smbsess_status smbsess__srvsvc_file_get_info_out(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_file_get_info_out *r = p;
	const struct smbsess__ndr_field *fields = smbsess__srvsvc_fields(SMBSESS__SRVSVC_FILES, r->level);

	(void)flags;
	SMBSESS__CHECK(smbsess__ndr_union_switch(ndr, r->level));
	if (fields != NULL) {
		SMBSESS__CHECK(smbsess__ndr_ptr(ndr, &r->present));
		if (r->present) {
			struct smbsess_status st;

			SMBSESS__CHECK(smbsess__ndr_enter(ndr));
			st = smbsess__ndr_struct(ndr, SMBSESS__NDR_BOTH, &r->info, fields);
			smbsess__ndr_leave(ndr);
			SMBSESS__CHECK(st);
		}
	} else if (ndr->pull) {
		r->present = false;
	}
	return smbsess__ndr_u32(ndr, &r->result);
}

struct smbsess_status smbsess__srvsvc_file_close_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_file_close_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	return smbsess__ndr_u32(ndr, &r->fid);
}

struct smbsess_status smbsess__srvsvc_sess_del_in(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_sess_del_in *r = p;

	(void)flags;
	SMBSESS__CHECK(top_string(ndr, &r->server_unc));
	SMBSESS__CHECK(top_string(ndr, &r->client));
	return top_string(ndr, &r->user);
}

struct smbsess_status smbsess__srvsvc_result_out(struct smbsess__ndr *ndr, int flags, void *p)
{
	struct smbsess__srvsvc_result_out *r = p;

	(void)flags;
	return smbsess__ndr_u32(ndr, &r->result);
}
