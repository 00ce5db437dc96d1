#!/bin/sh
# Re-record the ABI baseline tests/abi/libsmbsess.abi from a fresh build.
#
# Run it only when you change the ABI on purpose (a new function, a new
# enumerator; see docs/ABI.md), read the abidiff report it prints against
# the old baseline, and commit the new file together with the change.
#
#   tests/abi/update-baseline.sh [BUILDDIR]     (default: build)
#
# The build must have debug info (debug or debugoptimized, the default).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
ninja -C "$build"
lib="$build/lib/api/libsmbsess.so"
[ -e "$lib" ] || { echo "no $lib: is $build a configured build folder of $src?" >&2; exit 1; }
exec /usr/bin/python3 "$src/tests/abi/check_baseline.py" --update \
	--lib "$lib" \
	--baseline "$src/tests/abi/libsmbsess.abi" \
	--headers-dir "$src/include/smbsess"
