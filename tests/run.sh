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
#
# Nothing here depends on what an earlier run, another package or the caller's
# environment left on the machine: every package is installed below, the
# machine-wide settings the tests rely on are checked or made in "host setup",
# and the locale, umask and Kerberos environment are the suite's own.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build_root=${BUILD_ROOT:-$top/build-tests}
fuzz_seconds=${FUZZ_SECONDS:-10}
summaries=()
status=0

step() { printf '\n=== %s (at %d s)\n' "$*" "$SECONDS"; }
# A step that stops the run still ends with the summary line.
abort() { echo "$*"; echo "0 passed, 1 failed"; exit 1; }

# The suite's own environment: UTF-8 output whatever the caller's locale
# (C.UTF-8 is built into Debian's libc), files readable by the servers' users,
# and no Kerberos configuration or ticket of the caller's (tests that use
# Kerberos write their own krb5.conf and caches and point at them).
export LANG=C.UTF-8 LC_ALL=C.UTF-8
umask 022
unset KRB5CCNAME KRB5_CLIENT_KTNAME KRB5_KTNAME KRB5_TRACE
mkdir -p "$build_root"
: >"$build_root/krb5-empty.conf"
export KRB5_CONFIG=$build_root/krb5-empty.conf

# Everything the suite uses, one package per need.
packages=(
	meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev   # build, sanitizers, fuzzing
	libtalloc-dev libtevent-dev libkrb5-dev nettle-dev check       # library and unit-test deps
	abigail-tools binutils                                         # ABI checks
	python3 python3-samba samba-testsuite                          # Samba's NDR as an oracle (ndrdump)
	samba smbclient python3-impacket                               # real servers and independent clients
	samba-ad-dc samba-ad-provision krb5-user winbind               # an AD DC and Kerberos clients
	libnss-wrapper                                                 # the DC's own name service (tests/harness/addc.py)
	tshark strace                                                  # Wireshark dissectors as an oracle; file calls (integration-wire)
	iproute2 passwd openssl xxd groff-base man-db                  # ip addr, useradd, asn1parse, seeds, man page checks
	build-essential dpkg-dev debhelper dh-python lintian           # the Debian packages (debian/, tests/packaging)
	python3-all python3-setuptools python3-wheel pybuild-plugin-pyproject   # the Python binding's Debian build
	python3-build python3-venv python3-mypy                        # its wheel, a fresh venv, its types (tests/python)
	libmicrohttpd-dev prometheus                                   # smbsess_exporter's HTTP server; a real Prometheus (tests/cli/exporter.py)
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
		apt-get update -q || abort "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" || abort "apt-get install failed"
	else
		echo "all ${#packages[@]} packages present"
	fi

	# The AD DC's processes resolve users through nss_wrapper and the DC's own
	# winbindd (tests/harness/addc.py), never through the machine's NSS. That
	# needs libnss_winbind.so.2 from libnss-winbind, but installing that
	# package adds `winbind` to /etc/nsswitch.conf (its postinst), which the
	# suite must not change: the library of the installed winbind's version is
	# unpacked where the harness looks for it instead.
	step "libnss_winbind for the DC's nss_wrapper"
	nss_dir=/var/cache/libsmbsess-tests/libnss-winbind
	wb_version=$(dpkg-query -W -f='${Version}' winbind)
	if [ -f "$nss_dir/libnss_winbind.so.2" ] && [ "$(cat "$nss_dir/version" 2>/dev/null)" = "$wb_version" ]; then
		echo "libnss_winbind.so.2 $wb_version in $nss_dir"
	else
		deb_dir=$(mktemp -d)
		chown _apt "$deb_dir" 2>/dev/null # apt downloads as _apt when it can write there
		fetch() { (cd "$deb_dir" && apt-get download -q "libnss-winbind=$wb_version" 2>&1); }
		fetch || { apt-get update -q && fetch; } || abort "apt-get download libnss-winbind=$wb_version failed"
		dpkg-deb -x "$deb_dir"/libnss-winbind_*.deb "$deb_dir/x" || abort "dpkg-deb -x libnss-winbind failed"
		lib=$(find "$deb_dir/x" -name libnss_winbind.so.2 | head -n 1)
		[ -n "$lib" ] || abort "no libnss_winbind.so.2 in libnss-winbind $wb_version"
		mkdir -p "$nss_dir"
		cp "$lib" "$nss_dir/libnss_winbind.so.2.new" && mv "$nss_dir/libnss_winbind.so.2.new" "$nss_dir/libnss_winbind.so.2"
		echo "$wb_version" >"$nss_dir/version"
		rm -rf "$deb_dir"
		echo "unpacked libnss_winbind.so.2 $wb_version into $nss_dir"
	fi
fi

# Machine-wide things the tests rely on, checked or made here.
step "host setup"
# /run/lock, where tests keep lock files: a booted Debian has it (1777), a
# container or chroot with an empty /run may not
[ -d /run/lock ] || install -d -m 1777 /run/lock || abort "cannot make /run/lock"
ip link set lo up || abort "cannot bring up lo"
# IPv6 on loopback (transport tests connect to ::1): on when the kernel has it
if [ -e /proc/sys/net/ipv6/conf/lo/disable_ipv6 ] && ! ip -6 addr show dev lo | grep -q 'inet6 ::1/'; then
	echo 0 >/proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null
	ip -6 addr add ::1/128 dev lo 2>/dev/null
	ip -6 addr show dev lo | grep -q 'inet6 ::1/' || echo "warning: no ::1 on lo; the IPv6 test will fail"
fi
# "localhost" names 127.0.0.1 (tests connect to servers by that name)
if ! getent ahostsv4 localhost | grep -q '^127\.'; then
	echo "adding '127.0.0.1 localhost' to /etc/hosts"
	echo '127.0.0.1 localhost' >>/etc/hosts
fi
# The machine's own name resolves without DNS, as Debian's installer writes
# it (127.0.1.1): Samba looks it up for every NTLM logon (the DNS computer
# name it announces); where only DNS could answer, one logon in seven waited
# 5 s for a resolver timeout (measured in a fresh tree).
host=$(uname -n)
if ! getent -s files hosts "$host" >/dev/null; then
	echo "adding '127.0.1.1 $host' to /etc/hosts"
	printf '127.0.1.1\t%s%s\n' "$host" "$([ "${host%%.*}" != "$host" ] && echo " ${host%%.*}")" >>/etc/hosts
fi
echo "lo up with $(ip -o addr show dev lo | wc -l) addresses, localhost is $(getent ahostsv4 localhost | awk 'NR==1{print $1}')," \
	"$host is $(getent -s files hosts "$host" | awk 'NR==1{print $1}'), /run/lock there"

# A build that fails counts as one failed test in the closing line.
build_failed() {
	local tap
	tap=$build_root/failed-$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '-').tap
	echo "$1 failed: see above"
	status=1
	printf 'not ok 1 - %s\n' "$1" >"$tap"
	summaries+=("tap:$tap")
}
rm -f "$build_root"/failed-*.tap "$build_root/sanitizer.summaries"

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

# The sanitizer pass: a clang build under ASan+UBSan, the unit and oracle
# tests again there, and every fuzzer for FUZZ_SECONDS. It is CPU-bound and
# shares nothing with the gcc build, whose tests mostly wait on servers, so it
# runs beside them at a lower priority (nice 10) into sanitizer.log, which is
# shown after them. It lists the results it made in sanitizer.summaries.
sanitizer_pass() {
	summaries=()
	status=0
	step "build (clang, ASan+UBSan, fuzzers)"
	if CC=clang CXX=clang++ setup "$build_root/asan" -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' -Dwerror=true && ninja -C "$build_root/asan"; then
		# Everything but the integration tests (run once, in the gcc build), the ABI checks
		# (they compare a gcc build's debug info) and the packaging test (it builds
		# from the sources, not from this build).
		step "unit and oracle tests under sanitizers"
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			meson test -C "$build_root/asan" --no-suite integration --no-suite abi --no-suite packaging --print-errorlogs \
			--no-rebuild || status=1
		summaries+=("$build_root/asan/meson-logs/testlog.json")
		if [ -x tests/fuzz/run.sh ]; then
			step "fuzzers (${fuzz_seconds}s each)"
			tests/fuzz/run.sh "$build_root/asan" "$fuzz_seconds" | tee "$build_root/fuzz.tap" || status=1
			summaries+=("tap:$build_root/fuzz.tap")
		fi
	else
		build_failed "build (clang, ASan+UBSan, fuzzers)"
	fi
	printf '%s\n' "${summaries[@]}" >"$build_root/sanitizer.summaries"
	return $status
}

step "build (gcc)"
setup "$build_root/gcc" && ninja -C "$build_root/gcc"
gcc_built=$?

step "sanitizer pass started beside the gcc tests (log: $build_root/sanitizer.log)"
set -m # its own process group, ended with the run however the run ends
(renice -n 10 -p "$BASHPID" >/dev/null 2>&1; sanitizer_pass) </dev/null >"$build_root/sanitizer.log" 2>&1 &
sanitizer_pid=$!
set +m
trap 'kill -TERM -- "-$sanitizer_pid" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$gcc_built" = 0 ]; then
	step "tests (gcc build)"
	meson test -C "$build_root/gcc" --print-errorlogs --no-rebuild || status=1
	summaries+=("$build_root/gcc/meson-logs/testlog.json")
else
	build_failed "build (gcc)"
fi

step "waiting for the sanitizer pass"
wait "$sanitizer_pid" || status=1
cat "$build_root/sanitizer.log"
if [ -s "$build_root/sanitizer.summaries" ]; then
	mapfile -t more <"$build_root/sanitizer.summaries"
	summaries+=("${more[@]}")
else
	build_failed "sanitizer pass"
fi

step "summary"
echo "tests/run.sh took $SECONDS s"
/usr/bin/python3 tests/summarize.py "${summaries[@]}" || status=1
exit $status
