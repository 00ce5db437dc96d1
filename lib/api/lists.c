/* Result lists and their getters. */
#include <stddef.h>

#include "lists.h"

struct smbsess__list *smbsess__list_new(TALLOC_CTX *mem_ctx, enum smbsess__srvsvc_kind kind)
{
	struct smbsess__list *l = talloc_zero(mem_ctx, struct smbsess__list);

	if (l != NULL)
		l->kind = kind;
	return l;
}

/* The string members of each kind of entry. */
static const size_t sess_strings[] = {
	offsetof(struct smbsess__srvsvc_sess_info, client), offsetof(struct smbsess__srvsvc_sess_info, user),
	offsetof(struct smbsess__srvsvc_sess_info, client_type),
	offsetof(struct smbsess__srvsvc_sess_info, transport),
};
static const size_t file_strings[] = {
	offsetof(struct smbsess__srvsvc_file_info, path), offsetof(struct smbsess__srvsvc_file_info, user),
};
static const size_t conn_strings[] = {
	offsetof(struct smbsess__srvsvc_conn_info, user), offsetof(struct smbsess__srvsvc_conn_info, share),
};

/* String chunks grow from the first to the largest, so that a list of one entry stays small. */
#define POOL_CHUNK_FIRST 256
#define POOL_CHUNK_MAX 65536

/* Copies @p s into the list's string pool; chunks never move, so earlier copies stay put. */
static struct smbsess_status pool_strdup(struct smbsess__list *l, const char *s, size_t max_bytes, char **out)
{
	size_t n = strlen(s) + 1;

	if (n > l->pool_left) {
		size_t chunk = l->pool_chunk == 0 ? POOL_CHUNK_FIRST
			       : l->pool_chunk < POOL_CHUNK_MAX ? 2 * l->pool_chunk : POOL_CHUNK_MAX;

		l->pool_chunk = chunk;
		if (chunk < n)
			chunk = n;

		if (chunk > max_bytes || l->bytes > max_bytes - chunk)
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		l->pool = talloc_size(l, chunk);
		if (l->pool == NULL) {
			l->pool_left = 0;
			return SMBSESS__ST_NOMEM;
		}
		l->pool_left = chunk;
		l->bytes += chunk;
	}
	memcpy(l->pool, s, n);
	*out = l->pool;
	l->pool += n;
	l->pool_left -= n;
	return SMBSESS__OK;
}

struct smbsess_status smbsess__list_add(struct smbsess__list *l, const void *entry, uint32_t max_entries,
					size_t max_bytes)
{
	size_t size = smbsess__srvsvc_info_size(l->kind);
	const size_t *strings = l->kind == SMBSESS__SRVSVC_SESSIONS ? sess_strings
				: l->kind == SMBSESS__SRVSVC_FILES  ? file_strings
								    : conn_strings;
	size_t n_strings = l->kind == SMBSESS__SRVSVC_SESSIONS ? 4 : 2;
	uint8_t *copy;

	if (l->count >= max_entries)
		return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *grown;

		/* What the array grows by counts against the budget. */
		if (cap * size > max_bytes || l->bytes > max_bytes - (cap - l->cap) * size)
			return SMBSESS__ST_LIB(SMBSESS_E_LIMIT);
		grown = talloc_realloc_size(l, l->array, cap * size);
		if (grown == NULL)
			return SMBSESS__ST_NOMEM;
		l->bytes += (cap - l->cap) * size;
		l->array = grown;
		l->cap = cap;
	}
	copy = (uint8_t *)l->array + l->count * size;
	memcpy(copy, entry, size);
	for (size_t i = 0; i < n_strings; i++) {
		char **field = (char **)(void *)(copy + strings[i]);

		if (*field != NULL)
			SMBSESS__CHECK(pool_strdup(l, *field, max_bytes, field));
	}
	l->count++;
	return SMBSESS__OK;
}

/* Which public field bits a level has. */
static uint32_t fields_of(const struct smbsess__list *l)
{
	switch (l->kind) {
	case SMBSESS__SRVSVC_SESSIONS:
		switch (l->level) {
		case 0: return SMBSESS_SESSION_CLIENT;
		case 1: return 0x3F;
		case 2: return 0x7F;
		case 10: return SMBSESS_SESSION_CLIENT | SMBSESS_SESSION_USER | SMBSESS_SESSION_TIME |
				SMBSESS_SESSION_IDLE_TIME;
		case 502: return 0xFF;
		}
		break;
	case SMBSESS__SRVSVC_FILES:
		return l->level == 2 ? SMBSESS_FILE_ID : l->level == 3 ? 0x1F : 0;
	case SMBSESS__SRVSVC_CONNECTIONS:
		return l->level == 0 ? SMBSESS_CONNECTION_ID : l->level == 1 ? 0x7F : 0;
	}
	return 0;
}

#define ENTRY(list, kind_, type, i) \
	((list) != NULL && (list)->kind == (kind_) && (i) < (list)->count \
		 ? &((const type *)(list)->array)[i] : NULL)
#define LIST(p) ((const struct smbsess__list *)(const void *)(p))

/* Drops the leading backslashes servers put on client names. */
static const char *no_backslashes(const char *s)
{
	while (s != NULL && *s == '\\')
		s++;
	return s;
}

/* ---- sessions ---- */

#define SESS(list, i) ENTRY(LIST(list), SMBSESS__SRVSVC_SESSIONS, struct smbsess__srvsvc_sess_info, i)

SMBSESS_API size_t smbsess_session_list_count(const struct smbsess_session_list *list)
{
	return list ? LIST(list)->count : 0;
}

SMBSESS_API uint32_t smbsess_session_list_level(const struct smbsess_session_list *list)
{
	return list ? LIST(list)->level : 0;
}

SMBSESS_API uint32_t smbsess_session_list_fields(const struct smbsess_session_list *list)
{
	return list ? fields_of(LIST(list)) : 0;
}

SMBSESS_API const char *smbsess_session_client(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? no_backslashes(e->client) : NULL;
}

SMBSESS_API const char *smbsess_session_user(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->user : NULL;
}

SMBSESS_API uint32_t smbsess_session_num_opens(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->num_open : 0;
}

SMBSESS_API uint32_t smbsess_session_time(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->time : 0;
}

SMBSESS_API uint32_t smbsess_session_idle_time(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->idle_time : 0;
}

SMBSESS_API uint32_t smbsess_session_user_flags(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->user_flags : 0;
}

SMBSESS_API const char *smbsess_session_client_type(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->client_type : NULL;
}

SMBSESS_API const char *smbsess_session_transport(const struct smbsess_session_list *list, size_t i)
{
	const struct smbsess__srvsvc_sess_info *e = SESS(list, i);
	return e ? e->transport : NULL;
}

/* ---- files ---- */

#define FILEE(list, i) ENTRY(LIST(list), SMBSESS__SRVSVC_FILES, struct smbsess__srvsvc_file_info, i)

SMBSESS_API size_t smbsess_file_list_count(const struct smbsess_file_list *list)
{
	return list ? LIST(list)->count : 0;
}

SMBSESS_API uint32_t smbsess_file_list_level(const struct smbsess_file_list *list)
{
	return list ? LIST(list)->level : 0;
}

SMBSESS_API uint32_t smbsess_file_list_fields(const struct smbsess_file_list *list)
{
	return list ? fields_of(LIST(list)) : 0;
}

SMBSESS_API uint32_t smbsess_file_id(const struct smbsess_file_list *list, size_t i)
{
	const struct smbsess__srvsvc_file_info *e = FILEE(list, i);
	return e ? e->fid : 0;
}

SMBSESS_API uint32_t smbsess_file_permissions(const struct smbsess_file_list *list, size_t i)
{
	const struct smbsess__srvsvc_file_info *e = FILEE(list, i);
	return e ? e->permissions : 0;
}

SMBSESS_API uint32_t smbsess_file_num_locks(const struct smbsess_file_list *list, size_t i)
{
	const struct smbsess__srvsvc_file_info *e = FILEE(list, i);
	return e ? e->num_locks : 0;
}

SMBSESS_API const char *smbsess_file_path(const struct smbsess_file_list *list, size_t i)
{
	const struct smbsess__srvsvc_file_info *e = FILEE(list, i);
	return e ? e->path : NULL;
}

SMBSESS_API const char *smbsess_file_user(const struct smbsess_file_list *list, size_t i)
{
	const struct smbsess__srvsvc_file_info *e = FILEE(list, i);
	return e ? e->user : NULL;
}

/* ---- tree connections ---- */

#define CONNE(list, i) ENTRY(LIST(list), SMBSESS__SRVSVC_CONNECTIONS, struct smbsess__srvsvc_conn_info, i)

SMBSESS_API size_t smbsess_connection_list_count(const struct smbsess_connection_list *list)
{
	return list ? LIST(list)->count : 0;
}

SMBSESS_API uint32_t smbsess_connection_list_level(const struct smbsess_connection_list *list)
{
	return list ? LIST(list)->level : 0;
}

SMBSESS_API uint32_t smbsess_connection_list_fields(const struct smbsess_connection_list *list)
{
	return list ? fields_of(LIST(list)) : 0;
}

SMBSESS_API uint32_t smbsess_connection_id(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->conn_id : 0;
}

SMBSESS_API uint32_t smbsess_connection_type(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->conn_type : 0;
}

SMBSESS_API uint32_t smbsess_connection_num_opens(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->num_open : 0;
}

SMBSESS_API uint32_t smbsess_connection_num_users(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->num_users : 0;
}

SMBSESS_API uint32_t smbsess_connection_time(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->conn_time : 0;
}

SMBSESS_API const char *smbsess_connection_user(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->user : NULL;
}

SMBSESS_API const char *smbsess_connection_share(const struct smbsess_connection_list *list, size_t i)
{
	const struct smbsess__srvsvc_conn_info *e = CONNE(list, i);
	return e ? e->share : NULL;
}
