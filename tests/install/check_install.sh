#!/bin/sh
# The packaged library as a distribution's -dev package ships it: `meson
# install` into a staging root, then a program compiled and linked with
# nothing but `pkg-config --cflags --libs smbsess` against that root, and run.
# TAP output.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'; }

echo "1..6"
if out=$(DESTDIR="$stage" meson install -C "$build" --no-rebuild --quiet 2>&1); then ok "meson install into a staging root"; else notok "meson install" "$out"; fi

pc=$(find "$stage" -name smbsess.pc | head -n 1)
lib=$(find "$stage" -name 'libsmbsess.so.0' | head -n 1)
if [ -n "$pc" ] && [ -n "$lib" ] && [ -f "$(dirname "$lib")/libsmbsess.so" ] && [ -f "$(find "$stage" -path '*include/smbsess/smbsess.h' | head -n 1)" ]; then
	ok "installed: smbsess.pc, libsmbsess.so.0 with its dev link, include/smbsess/smbsess.h"
else
	notok "installed files" "$(cd "$stage" && find . -type f | head -50)"
fi

# pkg-config's sysroot handling puts the staging root in front of every path of the .pc file.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$stage"
if flags=$(pkg-config --cflags --libs smbsess 2>&1) && echo "$flags" | grep -q -- "-lsmbsess"; then
	ok "pkg-config --cflags --libs smbsess: $flags"
else
	notok "pkg-config" "$flags"
fi
if pkg-config --print-requires smbsess | grep -q talloc && pkg-config --print-requires smbsess | grep -q tevent; then
	ok "talloc and tevent in Requires (they appear in the public headers)"
else
	notok "Requires" "$(pkg-config --print-requires smbsess)"
fi

exe="$stage/files_blocking"
if out=$(cc -std=c99 -Wall -Wextra -Werror -o "$exe" "$src/examples/files_blocking.c" $flags 2>&1); then
	ok "an example compiles and links against the installed library alone"
else
	notok "compile against the installed library" "$out"
fi
out=$(LD_LIBRARY_PATH="$(dirname "$lib")" "$exe" 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q usage &&
	LD_LIBRARY_PATH="$(dirname "$lib")" ldd "$exe" | grep -q "$(dirname "$lib")/libsmbsess.so.0"; then
	ok "it runs with the installed libsmbsess.so.0 (usage, exit 2)"
else
	notok "run against the installed library (rc $rc)" "$out"
fi
exit 0
