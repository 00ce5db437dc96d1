#!/bin/bash
# Runs every libFuzzer harness for a bounded time and prints TAP.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [NAME...]
#
# BUILD_DIR is a build directory configured for fuzzing (see README.md); the
# harnesses are (re)built there first with `ninja fuzzers`. SECONDS (default
# 60) is the libFuzzer -max_total_time of each harness; NAMEs restrict the
# run to some harnesses (default: all). Each harness starts from a fresh
# corpus under BUILD_DIR/tests/fuzz/run/NAME/: the srvsvc ones seeded from
# the golden vectors tests/vectors/<op>_<direction>_*.hex, the lib/auth,
# lib/rpc and lib/smb2 ones by mkseeds.py from the Samba captures in
# tests/fuzz/seeds/. Exits non-zero if any harness fails (crash, leak, UB,
# timeout, out of memory, invariant).
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [SECONDS] [NAME...]" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
secs=${2:-60}
shift $(($# < 2 ? $# : 2))
case $secs in
'' | *[!0-9]* | 0*) echo "SECONDS must be a positive number: $secs" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/../.." && pwd)
vectors=$src/tests/vectors

srvsvc=(sess_enum_out file_enum_out conn_enum_out file_get_info_out result_out
	sess_enum_in file_enum_in conn_enum_in file_get_info_in file_close_in sess_del_in)
# Seeded by mkseeds.py (keep in step with meson.build and mkseeds.py).
captured=(ntlm_challenge spnego_init spnego_resp der spnego_client
	rpc_pdu rpc_bind rpc_call
	smb2_negotiate smb2_session smb2_ops)
all=("${srvsvc[@]}" "${captured[@]}")
if [ $# -gt 0 ]; then
	names=("$@")
else
	names=("${all[@]}")
fi

if ! ninja -C "$build" fuzzers >"$build/fuzz-build.log" 2>&1; then
	echo "Bail out! building the fuzzers failed, see $build/fuzz-build.log"
	exit 1
fi

# The vector name prefixes whose blobs a harness decodes.
prefixes() {
	case $1 in
	result_out) echo "file_close_out sess_del_out result_out" ;;
	*) echo "$1" ;;
	esac
}

# hex text (whitespace and #-comments allowed) -> binary; fails on anything else.
unhex() {
	local h
	h=$(sed 's/#.*//' "$1" | tr -d ' \t\r\n') || return 1
	case $h in *[!0-9a-fA-F]*) return 1 ;; esac
	[ $((${#h} % 2)) -eq 0 ] || return 1
	printf '%s' "$h" | xxd -r -p
}

is_captured() {
	local c
	for c in "${captured[@]}"; do
		[ "$c" = "$1" ] && return 0
	done
	return 1
}

# Writes the seed corpus of harness $1 into $2; prints how many files came
# from vectors or captures.
seed() {
	local name=$1 dir=$2 n=0 p f base lvl
	if is_captured "$name"; then
		/usr/bin/python3 "$src/tests/fuzz/mkseeds.py" "$name" "$dir" || echo 0
		return
	fi
	for p in $(prefixes "$name"); do
		for f in "$vectors/$p"_*.hex "$vectors/$p".hex; do
			[ -f "$f" ] || continue
			base=$(basename "$f" .hex)
			if [ "$name" = file_get_info_out ]; then
				# The harness reads the requested level from the first byte.
				lvl=$(printf '%s\n' "$base" | sed -n 's/.*_l\([0-9][0-9]*\)\(_.*\)\{0,1\}$/\1/p')
				if [ -n "$lvl" ] && [ "$lvl" -lt 256 ]; then
					{ printf '%b' "\\x$(printf %02x "$lvl")"; unhex "$f"; } >"$dir/$base" || continue
				else
					{ printf '\x02'; unhex "$f"; } >"$dir/$base.l2" || continue
					{ printf '\x03'; unhex "$f"; } >"$dir/$base.l3" || continue
				fi
			else
				unhex "$f" >"$dir/$base" || { rm -f "$dir/$base"; continue; }
			fi
			n=$((n + 1))
		done
	done
	# A few bytes in any case: zeros decode as empty values for most coders.
	for k in 4 8 16 24 32 48; do
		head -c "$k" /dev/zero >"$dir/zero$k"
	done
	if [ "$name" = file_get_info_out ]; then
		printf '\x02\x02\0\0\0\0\0\0\0\0\0\0\0' >"$dir/l2-absent"
		printf '\x03\x03\0\0\0\0\0\0\0\0\0\0\0' >"$dir/l3-absent"
		printf '\x07\x07\0\0\0\0\0\0\0' >"$dir/l7-unknown"
	fi
	echo "$n"
}

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

echo "1..${#names[@]}"
i=0
failed=0
for name in "${names[@]}"; do
	i=$((i + 1))
	bin=$build/tests/fuzz/fuzz_$name
	work=$build/tests/fuzz/run/$name
	if [ ! -x "$bin" ]; then
		echo "not ok $i - fuzz $name (no harness $bin)"
		failed=1
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
	nvec=$(seed "$name" "$work/seeds")
	if is_captured "$name"; then
		what_seeds="seeds $(find "$work/seeds" -type f | wc -l), $nvec from captures"
	else
		what_seeds="seeds $nvec vectors"
	fi
	# timeout(1) only as a backstop should libFuzzer not stop on its own.
	timeout -k 10 $((secs * 2 + 120)) "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
		"$work/corpus" "$work/seeds" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -1)
	corp=$(find "$work/corpus" -type f | wc -l)
	artifact=
	for a in "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
		if [ -f "$a" ]; then
			artifact=$a
			break
		fi
	done
	if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
		echo "ok $i - fuzz $name (${secs}s, runs ${runs:-?}, ${cov:-cov ?}, corpus $corp, $what_seeds)"
	else
		failed=1
		if [ -n "$artifact" ]; then
			what=$artifact
		else
			what="exit $rc, no artifact"
		fi
		echo "not ok $i - fuzz $name ($what; log $work/log)"
		grep -m1 -E 'ERROR: |runtime error:|INVARIANT VIOLATED' "$work/log" | sed 's/^/# /'
	fi
done
exit $failed
