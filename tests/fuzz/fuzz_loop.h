/*
 * Running a tevent loop for a fuzz input without ever blocking: a "probe"
 * timer due at once tells whether an iteration found an immediate event
 * (tevent runs those before timers) or nothing but timers and file
 * descriptors were left.
 */
#ifndef SMBSESS_TESTS_FUZZ_LOOP_H
#define SMBSESS_TESTS_FUZZ_LOOP_H

#include <tevent.h>

#include "fuzz_common.h"

static void fuzz_probe_fired(struct tevent_context *ev, struct tevent_timer *te, struct timeval now, void *priv)
{
	(void)ev;
	(void)te;
	(void)now;
	*(bool *)priv = true;
}

/*
 * One iteration of @p ev that never waits: true when it ran an immediate
 * event (or a timer that was already due), false when nothing was ready
 * but file descriptors (which the caller checks itself) and future timers.
 */
static inline bool fuzz_loop_step(struct tevent_context *ev)
{
	bool fired = false;
	struct tevent_timer *te = tevent_add_timer(ev, ev, tevent_timeval_zero(), fuzz_probe_fired, &fired);

	if (te == NULL)
		fuzz_fail("out of memory");
	if (tevent_loop_once(ev) != 0)
		fuzz_fail("tevent_loop_once failed");
	if (fired)
		return false;
	talloc_free(te);
	return true;
}

#endif
