#!/usr/bin/env bash
# The test command: installs what the tests need (Debian packages), builds,
# and runs every test: unit tests, Samba oracle checks, ABI checks and
# integration tests in a normal gcc build, the unit tests again under
# AddressSanitizer/UndefinedBehaviorSanitizer, and every libFuzzer harness for
# a bounded time. Ends with one line "N passed, N failed[, N skipped]" and
# exits non-zero on any failure.
#
# Environment: FUZZ_SECONDS (per harness, default 10), SKIP_INSTALL=1 to not
# touch packages, BUILD_ROOT (default ./build-tests).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build_root=${BUILD_ROOT:-$top/build-tests}
fuzz_seconds=${FUZZ_SECONDS:-10}
summaries=()
status=0

step() { printf '\n=== %s\n' "$*"; }

# Everything the suite uses, one package per need.
packages=(
	meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev   # build, sanitizers, fuzzing
	libtalloc-dev libtevent-dev libkrb5-dev nettle-dev check       # library and unit-test deps
	abigail-tools binutils                                         # ABI checks
	python3 python3-samba samba-testsuite                          # Samba's NDR as an oracle (ndrdump)
	samba smbclient python3-impacket                               # real servers and independent clients
	samba-ad-dc samba-ad-provision krb5-user                       # an AD DC and Kerberos clients
	tshark                                                         # Wireshark dissectors as an oracle
)

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	step "packages"
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q || { echo "apt-get update failed"; exit 1; }
		apt-get install -y -q --no-install-recommends "${missing[@]}" || { echo "apt-get install failed"; exit 1; }
	else
		echo "all ${#packages[@]} packages present"
	fi
fi

# A build directory configured once, reconfigured when it exists.
setup() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
	else
		mkdir -p "$(dirname "$dir")"
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
	fi || { cat "$dir.setup.log"; return 1; }
}

step "build (gcc)"
if setup "$build_root/gcc" && ninja -C "$build_root/gcc"; then
	step "tests (gcc build)"
	meson test -C "$build_root/gcc" --print-errorlogs --no-rebuild || status=1
	summaries+=("$build_root/gcc/meson-logs/testlog.json")
else
	echo "gcc build failed"; status=1; build_failed=1
fi

step "build (clang, ASan+UBSan, fuzzers)"
if CC=clang CXX=clang++ setup "$build_root/asan" -Dfuzzing=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' -Dwerror=true && ninja -C "$build_root/asan"; then
	# Everything but the integration tests (run once, above) and the ABI checks
	# (they compare a gcc build's debug info).
	step "unit and oracle tests under sanitizers"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C "$build_root/asan" --no-suite integration --no-suite abi --print-errorlogs \
		--no-rebuild || status=1
	summaries+=("$build_root/asan/meson-logs/testlog.json")
	if [ -x tests/fuzz/run.sh ]; then
		step "fuzzers (${fuzz_seconds}s each)"
		tests/fuzz/run.sh "$build_root/asan" "$fuzz_seconds" | tee "$build_root/fuzz.tap" || status=1
		summaries+=("tap:$build_root/fuzz.tap")
	fi
else
	echo "sanitizer build failed"; status=1; build_failed=1
fi

step "summary"
/usr/bin/python3 tests/summarize.py "${summaries[@]}" || status=1
if [ "${build_failed:-0}" = 1 ]; then
	echo "a build failed: see above"
	status=1
fi
exit $status
