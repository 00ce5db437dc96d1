/* The result lists behind smbsess_session_list, smbsess_file_list and smbsess_connection_list. */
#ifndef SMBSESS_LIB_API_LISTS_H
#define SMBSESS_LIB_API_LISTS_H

#include "api.h"

/*
 * One layout for the three public list types (they are this struct). A
 * list owns all it points to: the entries, and their strings in a pool of
 * its own, so that the decoded pages they came from can be freed at once.
 */
struct smbsess__list {
	enum smbsess__srvsvc_kind kind;
	uint32_t level;
	size_t count;
	size_t cap;
	void *array;      /* struct smbsess__srvsvc_{sess,file,conn}_info[count] */
	size_t bytes;     /* allocated for the array and the string pool */
	char *pool;       /* the free end of the current string chunk */
	size_t pool_left, pool_chunk;
};

struct smbsess__list *smbsess__list_new(TALLOC_CTX *mem_ctx, enum smbsess__srvsvc_kind kind);

/*
 * Appends a copy of @p entry, its strings included. SMBSESS_E_LIMIT when
 * the list would hold more than @p max_entries entries or @p max_bytes
 * bytes of memory.
 */
struct smbsess_status smbsess__list_add(struct smbsess__list *l, const void *entry, uint32_t max_entries,
					size_t max_bytes);

struct tevent_req *smbsess__enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, struct smbsess_conn *conn,
				      enum smbsess__srvsvc_kind kind, const char *filter1, const char *filter2,
				      uint32_t want);
struct smbsess_status smbsess__enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, struct smbsess__list **list);

#endif
