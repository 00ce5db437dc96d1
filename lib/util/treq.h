/*
 * Carrying a struct smbsess_status through tevent requests.
 *
 * tevent_req_error() takes a non-zero uint64_t; a failed status always has a
 * non-zero domain, so (domain << 32 | code) is never zero and round-trips.
 */
#ifndef SMBSESS_LIB_UTIL_TREQ_H
#define SMBSESS_LIB_UTIL_TREQ_H

#include <tevent.h>

#include "util.h"

/* Fails @p req with @p st when @p st is a failure; returns true then. */
static inline bool smbsess__req_nok(struct tevent_req *req, struct smbsess_status st)
{
	if (smbsess__st_ok(st))
		return false;
	tevent_req_error(req, ((uint64_t)st.domain << 32) | st.code);
	return true;
}

/*
 * The status a finished request failed with (OK when it succeeded). A
 * request that timed out through tevent_req_set_endtime gives
 * SMBSESS_E_TIMEOUT, one that ran out of memory SMBSESS_E_NOMEM.
 */
static inline struct smbsess_status smbsess__req_status(struct tevent_req *req)
{
	enum tevent_req_state state;
	uint64_t err;

	if (!tevent_req_is_error(req, &state, &err))
		return SMBSESS__OK;
	switch (state) {
	case TEVENT_REQ_USER_ERROR:
		return smbsess__st((uint32_t)(err >> 32), (uint32_t)err);
	case TEVENT_REQ_TIMED_OUT:
		return SMBSESS__ST_LIB(SMBSESS_E_TIMEOUT);
	case TEVENT_REQ_NO_MEMORY:
		return SMBSESS__ST_NOMEM;
	default:
		return SMBSESS__ST_LIB(SMBSESS_E_INTERNAL);
	}
}

/* Sets an end time @p ms milliseconds from now; false when out of memory. */
static inline bool smbsess__req_set_timeout(struct tevent_req *req, struct tevent_context *ev, uint32_t ms)
{
	return tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(ms / 1000, (ms % 1000) * 1000));
}

#endif
