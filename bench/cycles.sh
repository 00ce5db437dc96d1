#!/usr/bin/env bash
# Issue 9, section 5: 10,000 sequential connect / list sessions and files /
# free cycles in one process against a local Samba, with the process's RSS
# and open descriptors sampled every 500 cycles and reported (not a timed
# test; see docs/PERFORMANCE.md). BENCH_CYCLES changes the count.
exec "$(dirname "$0")/run.sh" cycles "$@"
