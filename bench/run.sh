#!/usr/bin/env bash
# The benchmarks (issue 10) side by side with rpcclient, impacket and Samba's
# own NDR code: installs what they need (Debian packages), builds the library
# and the benchmark tools, runs them, prints one table with the machine it
# ran on, and writes it to a file. Not tests: nothing passes or fails on a
# number; the exit status is non-zero only when a benchmark could not run.
# docs/PERFORMANCE.md explains the table and keeps the latest one.
#
#   bench/run.sh                 every benchmark (decode messages fanout e2e wan curve), ~6-10 min
#   bench/run.sh NAME...         only those (each runs alone)
#   bench/run.sh cycles          issue 9's 10,000 connect/list/free cycles with RSS samples
#                                (also bench/cycles.sh; several minutes, not in the default set)
#
# Environment: BENCH_BUILD (build directory, default ./build-bench),
# BENCH_OUT (the table's file, default $BENCH_BUILD/bench/results.md),
# BENCH_RUNS (timed runs per command, default 5), BENCH_CYCLES (default 10000),
# BENCH_COMMIT (measure that commit, exported with git archive into
# $BENCH_BUILD/src and built there, instead of the working tree as it is),
# SKIP_INSTALL=1 to not touch packages. Runs as root (servers on loopback).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BENCH_BUILD:-$top/build-bench}
out=${BENCH_OUT:-$build/bench/results.md}
runs=${BENCH_RUNS:-5}
cycles=${BENCH_CYCLES:-10000}
export LANG=C.UTF-8 LC_ALL=C.UTF-8
umask 022

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root (it starts Samba servers and adds loopback addresses)" >&2
	exit 2
fi

# BENCH_COMMIT: the benchmarks of a commit, from a clean export of it (the
# working tree may hold unfinished work); this script then runs from there.
if [ -n "${BENCH_COMMIT:-}" ]; then
	sha=$(git -C "$top" rev-parse --verify "${BENCH_COMMIT}^{commit}") || exit 2
	src=$build/src
	rm -rf "$src" && mkdir -p "$src" || exit 1
	git -C "$top" archive "$sha" | tar -x -C "$src" || exit 1
	[ -x "$src/bench/run.sh" ] || { echo "bench/run.sh: commit $sha has no bench/" >&2; exit 2; }
	exec env -u BENCH_COMMIT BENCH_EXPORTED="$sha" BENCH_BUILD="$build/build" BENCH_OUT="$out" \
		"$src/bench/run.sh" "$@"
fi

packages=(
	meson ninja-build pkg-config gcc                         # build
	libtalloc-dev libtevent-dev libkrb5-dev nettle-dev check # the library's dependencies
	samba-dev python3-samba                                  # Samba's generated NDR code (decode) and its Python encoder
	samba smbclient python3-impacket                         # the server, rpcclient, impacket
	tshark iproute2 passwd time git                          # message counts, loopback addresses, users, ru_maxrss, commit
)
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "bench: installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >&2 || exit 1
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || exit 1
	fi
fi

# An optimised build of the library as shipped (meson's default buildtype,
# debugoptimized: -O2 -g), with the benchmark tools.
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbench=true >&2 || exit 1
else
	meson configure "$build" -Dbench=true >&2 || exit 1
fi
ninja -C "$build" examples/smbnet tests/tools/load_tool bench/decode_ours bench/decode_samba >&2 || exit 1

exec /usr/bin/python3 "$top/bench/bench.py" --build "$build" --out "$out" --runs "$runs" --cycles "$cycles" "$@"
