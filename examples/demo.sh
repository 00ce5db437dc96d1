#!/usr/bin/env bash
# The first command to run, as root on a fresh Debian 12:
#
#   examples/demo.sh
#
# installs the Debian packages it needs (only those missing), builds
# libsmbsess and smbnet into build-demo/, starts a throwaway Samba server on
# loopback where independent SMB clients (impacket, through
# tests/harness/sambatest.py) hold sessions and open files, and shows
# smbnet on it: the sessions, one client's sessions in detail, the open
# files, closing one of them as a user allowed to, and the files again.
# Everything it starts is stopped when it ends, however it ends.
#
# Environment:
#   SMBNET=PATH     use this smbnet: install nothing, build nothing (the test
#                   suite runs the demo so, on its own build)
#   DEMO_BUILD_DIR  where to build (default: build-demo in the source tree)
#
# Exit status: 0 when every step worked, 1 when one failed.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
harness="$top/tests/harness"
py=/usr/bin/python3 # Debian's python3: the one that has impacket

PW='Demo-pw-1'
ADMIN=demo_admin       # member of BUILTIN\Administrators: may list sessions and files
OPERATOR=demo_operator # holds SeDiskOperatorPrivilege: may close files
ALICE=demo_alice       # plain users, whose clients hold sessions and files
BOB=demo_bob

say() { printf '\n==> %s\n' "$*"; }
die() {
	printf '\ndemo.sh: FAILED: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- clean-up

tmp=
world_pid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$world_pid" ] && kill -0 "$world_pid" 2>/dev/null; then
		# The harness stops smbd and the clients on SIGTERM; its reaper
		# process does it too should the world die by SIGKILL.
		kill -TERM "$world_pid" 2>/dev/null
		for _ in $(seq 150); do
			kill -0 "$world_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$world_pid" 2>/dev/null
		wait "$world_pid" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	if [ "$rc" -eq 0 ]; then
		printf '\nThe demo server is stopped. All done.\n'
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[ "$(id -u)" -eq 0 ] || die "run the demo as root: it creates users and starts smbd"

# ---------------------------------------------------------------- install and build

if [ -z "${SMBNET:-}" ]; then
	packages=(
		meson ninja-build pkg-config gcc libc6-dev                # build tools
		libtalloc-dev libtevent-dev libkrb5-dev nettle-dev        # libsmbsess's dependencies
		samba smbclient python3 python3-impacket                  # the demo server and its clients
	)
	say "Debian packages"
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q || die "apt-get update"
		apt-get install -y -q --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]}"
	else
		echo "all ${#packages[@]} packages are installed"
	fi

	build=${DEMO_BUILD_DIR:-$top/build-demo}
	say "building libsmbsess and smbnet in $build"
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$top" -Dtests=false >"$top/.demo-setup.log" 2>&1 ||
			{ cat "$top/.demo-setup.log"; die "meson setup"; }
		rm -f "$top/.demo-setup.log"
	fi
	ninja -C "$build" || die "the build"
	SMBNET=$build/examples/smbnet
fi
[ -x "$SMBNET" ] || die "no smbnet at $SMBNET"
"$SMBNET" --version || die "$SMBNET --version"

# ---------------------------------------------------------------- the demo server

tmp=$(mktemp -d /tmp/smbnet-demo.XXXXXX) || die "mktemp"
chmod 755 "$tmp"
cat >"$tmp/world.py" <<'EOF'
# A Samba server on loopback with users, and impacket clients holding
# sessions and open files on it; runs until SIGTERM (at most 15 minutes).
import os
import sys
import time

harness, tmp, pw, admin, operator, alice, bob = sys.argv[1:8]
sys.path.insert(0, harness)
from sambatest import ImpacketClient, SmbServer  # noqa: E402

with SmbServer(os.path.join(tmp, "samba")) as srv:
    srv.add_user(admin, pw, admin=True)
    srv.add_user(operator, pw)
    srv.grant(operator, "SeDiskOperatorPrivilege")
    srv.add_user(alice, pw)
    srv.add_user(bob, pw)
    a = ImpacketClient(srv, alice, pw, source="127.0.0.2")
    a.mkdir("share", "reports")
    a.open("share", "reports/q3-figures.xlsx")
    a.open("share", "reports/budget.docx")
    b = ImpacketClient(srv, bob, pw, source="127.0.0.3")
    b.open("share", "notes.txt")
    b_idle = ImpacketClient(srv, bob, pw, source="127.0.0.3")
    with open(os.path.join(tmp, "world.env.tmp"), "w") as f:
        f.write("PORT=%d\nSHARE=%s\n" % (srv.port, srv.share_path("share")))
    os.rename(os.path.join(tmp, "world.env.tmp"), os.path.join(tmp, "world.env"))
    print("ready: smbd on 127.0.0.1 port %d" % srv.port, flush=True)
    end = time.monotonic() + 900
    while time.monotonic() < end:
        time.sleep(0.5)
EOF

say "starting a throwaway Samba server on 127.0.0.1, with clients from 127.0.0.2 and 127.0.0.3"
"$py" "$tmp/world.py" "$harness" "$tmp" "$PW" "$ADMIN" "$OPERATOR" "$ALICE" "$BOB" >"$tmp/world.log" 2>&1 &
world_pid=$!
for _ in $(seq 600); do # at most 60 s
	[ -f "$tmp/world.env" ] && break
	kill -0 "$world_pid" 2>/dev/null || break
	sleep 0.1
done
if [ ! -f "$tmp/world.env" ]; then
	cat "$tmp/world.log" >&2
	die "the demo server did not come up"
fi
PORT=$(sed -n 's/^PORT=//p' "$tmp/world.env")
echo "smbd listens on 127.0.0.1 port $PORT (in $tmp)."
echo "$ALICE (from 127.0.0.2) holds 2 files open; $BOB (from 127.0.0.3) holds 1, in two sessions."

# ---------------------------------------------------------------- smbnet at work

# Shows a command as it would be typed, then runs it; the password comes
# from SMBSESS_PASSWORD. Fails the demo on an unexpected exit status.
export SMBSESS_PASSWORD=$PW
show() {
	local a out='$ smbnet'
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:%,=@+-]+$ ]]; then out+=" $a"; else out+=" '$a'"; fi
	done
	printf '%s\n' "$out"
}
run() {
	local want=$1
	shift
	show "$@"
	"$SMBNET" --timeout 20 "$@"
	local rc=$?
	[ "$rc" -eq "$want" ] || die "smbnet $* exited with $rc, not $want"
}
server=(-S 127.0.0.1 -p "$PORT")

say "every session of the server (as $ADMIN, an administrator)"
run 0 "${server[@]}" -U "$ADMIN" session

say "only the session rows, as NET SESSION | FIND \"\\\\\" does"
echo "$(show "${server[@]}" -U "$ADMIN" session) | grep '\\\\'"
rows=$("$SMBNET" "${server[@]}" -U "$ADMIN" session | grep '\\') || die "no session rows"
echo "$rows"
for who in "127.0.0.2 *$ALICE" "127.0.0.3 *$BOB"; do
	grep -q "^\\\\\\\\$who" <<<"$rows" || die "no session row for $who"
done

say "the sessions of one computer in detail"
run 0 "${server[@]}" -U "$ADMIN" session '\\127.0.0.2'

say "every open file"
run 0 "${server[@]}" -U "$ADMIN" file

say "the same as JSON, to pick the id of budget.docx"
show "${server[@]}" -U "$ADMIN" --json file --client-user "$ALICE"
json=$("$SMBNET" "${server[@]}" -U "$ADMIN" --json file --client-user "$ALICE") || die "smbnet --json file"
echo "$json"
id=$("$py" -c '
import json, sys
doc = json.loads(sys.argv[1])
print(next(f["id"] for f in doc["files"] if f["path"].endswith("budget.docx")))
' "$json") || die "budget.docx is not among the open files"

say "that file in detail"
run 0 "${server[@]}" -U "$ADMIN" file "$id"

say "closing it as $OPERATOR (SeDiskOperatorPrivilege); $ALICE's client loses its handle"
run 0 "${server[@]}" -U "$OPERATOR" file "$id" /CLOSE /Y

say "the open files again: budget.docx is gone"
# Samba accepts the close at once and the smbd serving the holder closes the
# file a moment later: wait for that (at most 10 s).
show "${server[@]}" -U "$ADMIN" file
for _ in $(seq 50); do
	after=$("$SMBNET" "${server[@]}" -U "$ADMIN" file) || die "smbnet file"
	grep -q 'budget\.docx' <<<"$after" || break
	sleep 0.2
done
echo "$after"
grep -q 'budget\.docx' <<<"$after" && die "budget.docx is still open"
grep -q 'q3-figures\.xlsx' <<<"$after" || die "q3-figures.xlsx should still be open"

say "stopping the demo server"
exit 0
