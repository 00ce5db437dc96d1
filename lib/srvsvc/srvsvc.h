/*
 * lib/srvsvc: the MS-SRVS (srvsvc) operations libsmbsess uses, as NDR coders.
 * Interface 4b324fc8-1670-01d3-1278-5a47bf6ee188 version 3.0.
 *
 * Pure encoding: every operation has a request ("in") and a response ("out")
 * structure and one coder for each that pushes or pulls depending on the
 * NDR context, so the client (push in, pull out) and a test server (pull in,
 * push out) share the same code.
 *
 * Info structures are supersets of the levels: a level codes only its own
 * members; the others stay zero/NULL.
 */
#ifndef SMBSESS_LIB_SRVSVC_H
#define SMBSESS_LIB_SRVSVC_H

#include "../ndr/ndr.h"

#define SMBSESS__SRVSVC_UUID "4b324fc8-1670-01d3-1278-5a47bf6ee188"
#define SMBSESS__SRVSVC_VERSION_MAJOR 3
#define SMBSESS__SRVSVC_VERSION_MINOR 0

enum smbsess__srvsvc_opnum {
	SMBSESS__SRVSVC_NETRCONNECTIONENUM = 8,
	SMBSESS__SRVSVC_NETRFILEENUM = 9,
	SMBSESS__SRVSVC_NETRFILEGETINFO = 10,
	SMBSESS__SRVSVC_NETRFILECLOSE = 11,
	SMBSESS__SRVSVC_NETRSESSIONENUM = 12,
	SMBSESS__SRVSVC_NETRSESSIONDEL = 13,
};

/* SESSION_INFO_0, _1, _2, _10 and _502. */
struct smbsess__srvsvc_sess_info {
	char *client;
	char *user;
	uint32_t num_open;
	uint32_t time;
	uint32_t idle_time;
	uint32_t user_flags;
	char *client_type;
	char *transport;
};

/* FILE_INFO_2 and _3. */
struct smbsess__srvsvc_file_info {
	uint32_t fid;
	uint32_t permissions;
	uint32_t num_locks;
	char *path;
	char *user;
};

/* CONNECTION_INFO_0 and _1. */
struct smbsess__srvsvc_conn_info {
	uint32_t conn_id;
	uint32_t conn_type;
	uint32_t num_open;
	uint32_t num_users;
	uint32_t conn_time;
	char *user;
	char *share;
};

/* What an enumeration's container holds. */
enum smbsess__srvsvc_kind {
	SMBSESS__SRVSVC_SESSIONS,
	SMBSESS__SRVSVC_FILES,
	SMBSESS__SRVSVC_CONNECTIONS,
};

/*
 * The [in,out] info container of the three enumerations:
 *   struct { uint32 level; [switch_is(level)] union { [case(N)] CtrN *ctrN; ... [default]; } ctr; }
 *   CtrN: struct { uint32 count; [size_is(count)] INFO_N *array; }
 * present is the union arm's pointer; an unknown level has no arm ([default]).
 */
struct smbsess__srvsvc_ctr {
	uint32_t level;
	bool present;
	uint32_t count;
	void *array; /* struct smbsess__srvsvc_{sess,file,conn}_info[count] */
};

/*
 * The field table of @p kind at @p level, or NULL when the level does not
 * exist for that kind. The element size is that of the kind's info structure.
 */
const struct smbsess__ndr_field *smbsess__srvsvc_fields(enum smbsess__srvsvc_kind kind, uint32_t level);
size_t smbsess__srvsvc_info_size(enum smbsess__srvsvc_kind kind);

/*
 * NetrSessionEnum (12): [in,unique,string] wchar_t *ServerName, *ClientName,
 * *UserName; [in,out,ref] SESSION_ENUM_STRUCT *InfoStruct; [in] DWORD
 * PreferedMaximumLength; [out] DWORD *TotalEntries; [in,out,unique] DWORD *ResumeHandle.
 */
struct smbsess__srvsvc_sess_enum_in {
	char *server_unc;
	char *client;
	char *user;
	struct smbsess__srvsvc_ctr ctr;
	uint32_t max_buffer;
	struct smbsess__ndr_opt_u32 resume_handle;
};

/*
 * NetrFileEnum (9): [in,unique,string] ServerName, BasePath, UserName;
 * [in,out,ref] FILE_ENUM_STRUCT *InfoStruct; [in] PreferedMaximumLength;
 * [out] TotalEntries; [in,out,unique] ResumeHandle.
 */
struct smbsess__srvsvc_file_enum_in {
	char *server_unc;
	char *path;
	char *user;
	struct smbsess__srvsvc_ctr ctr;
	uint32_t max_buffer;
	struct smbsess__ndr_opt_u32 resume_handle;
};

/*
 * NetrConnectionEnum (8): [in,unique,string] ServerName, Qualifier;
 * [in,out,ref] CONNECT_ENUM_STRUCT *InfoStruct; [in] PreferedMaximumLength;
 * [out] TotalEntries; [in,out,unique] ResumeHandle.
 */
struct smbsess__srvsvc_conn_enum_in {
	char *server_unc;
	char *path;
	struct smbsess__srvsvc_ctr ctr;
	uint32_t max_buffer;
	struct smbsess__ndr_opt_u32 resume_handle;
};

/* The response of all three enumerations: InfoStruct, TotalEntries, ResumeHandle, result. */
struct smbsess__srvsvc_enum_out {
	struct smbsess__srvsvc_ctr ctr;
	uint32_t totalentries;
	struct smbsess__ndr_opt_u32 resume_handle;
	uint32_t result; /* WERROR */
};

/* NetrFileGetInfo (10): [in,unique,string] ServerName; [in] DWORD FileId, Level. */
struct smbsess__srvsvc_file_get_info_in {
	char *server_unc;
	uint32_t fid;
	uint32_t level;
};

/*
 * [out,ref,switch_is(Level)] LPFILE_INFO InfoStruct: the union's discriminant,
 * its arm's pointer, the info; then the result. @p level must be set from the
 * request before a pull: the discriminant on the wire must equal it.
 */
struct smbsess__srvsvc_file_get_info_out {
	uint32_t level;
	bool present;
	struct smbsess__srvsvc_file_info info;
	uint32_t result;
};

/* NetrFileClose (11): [in,unique,string] ServerName; [in] DWORD FileId. */
struct smbsess__srvsvc_file_close_in {
	char *server_unc;
	uint32_t fid;
};

/* NetrSessionDel (13): [in,unique,string] ServerName, ClientName, UserName. */
struct smbsess__srvsvc_sess_del_in {
	char *server_unc;
	char *client;
	char *user;
};

/* The response of NetrFileClose and NetrSessionDel: the result alone. */
struct smbsess__srvsvc_result_out {
	uint32_t result;
};

/* Coders: smbsess__ndr_fn-shaped, value points to the matching structure. */
struct smbsess_status smbsess__srvsvc_sess_enum_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_sess_enum_out(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_file_enum_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_file_enum_out(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_conn_enum_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_conn_enum_out(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_file_get_info_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_file_get_info_out(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_file_close_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_sess_del_in(struct smbsess__ndr *ndr, int flags, void *r);
struct smbsess_status smbsess__srvsvc_result_out(struct smbsess__ndr *ndr, int flags, void *r);

#endif /* SMBSESS_LIB_SRVSVC_H */
