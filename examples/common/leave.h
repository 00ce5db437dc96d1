/*
 * Leaving servers politely: smbsess_disconnect on every connection at once
 * (one message each: CLOSE, TREE_DISCONNECT, LOGOFF), within a time limit.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef EXAMPLES_COMMON_LEAVE_H
#define EXAMPLES_COMMON_LEAVE_H

#include <stddef.h>
#include <stdint.h>

#include <smbsess/smbsess.h>

/*
 * Disconnects every non-NULL *conns[i] (made on @p ev) at once and waits for
 * the answers, at most @p timeout_ms in all; then frees them and sets them
 * to NULL. What the servers answer changes nothing: the work is done.
 */
void leave_all(struct tevent_context *ev, struct smbsess_conn ***conns, size_t n, uint32_t timeout_ms);

#endif
