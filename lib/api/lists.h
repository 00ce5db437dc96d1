/* The result lists behind smbsess_session_list, smbsess_file_list and smbsess_connection_list. */
#ifndef SMBSESS_LIB_API_LISTS_H
#define SMBSESS_LIB_API_LISTS_H

#include "api.h"

/* One layout for the three public list types (they are this struct). */
struct smbsess__list {
	enum smbsess__srvsvc_kind kind;
	uint32_t level;
	size_t count;
	size_t cap;
	void *array; /* struct smbsess__srvsvc_{sess,file,conn}_info[count] */
};

struct smbsess__list *smbsess__list_new(TALLOC_CTX *mem_ctx, enum smbsess__srvsvc_kind kind);

/*
 * Appends @p n entries (shallow: their strings stay where they are, which
 * must live as long as the list). SMBSESS_E_LIMIT past @p max entries.
 */
struct smbsess_status smbsess__list_append(struct smbsess__list *l, const void *entries, size_t n, uint32_t max);

struct tevent_req *smbsess__enum_send(TALLOC_CTX *mem_ctx, struct tevent_context *ev, struct smbsess_conn *conn,
				      enum smbsess__srvsvc_kind kind, const char *filter1, const char *filter2,
				      uint32_t want);
struct smbsess_status smbsess__enum_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx, struct smbsess__list **list);

#endif
