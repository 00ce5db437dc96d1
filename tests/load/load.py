#!/usr/bin/python3
"""Load (issue 9, section 5): one event loop, 200 concurrent connections to
one local Samba smbd, each listing the sessions and the open files through
the asynchronous API (tests/tools/load_tool, public API only). TAP.

Independent impacket clients hold two sessions and six open files; rpcclient
is the oracle for what the server holds. Every one of the 200 connections
must succeed and see, while all 200 are connected, every one of them
(>= 202 sessions), both holder sessions and exactly the six files. Afterwards
the server still answers and our sessions are gone.

usage: load.py LOAD_TOOL [CONNECTIONS]
Runs as root with Debian's /usr/bin/python3 (impacket); see tests/harness.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section  # noqa: E402
from sambatest import ImpacketClient, SmbServer, netfileenum, netsessenum  # noqa: E402

TOOL = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PW = "Load!pw-9"
ADMIN, HOLDER = "sload_admin", "sload_bob"
HOLDER_FILES = {"127.0.0.2": ["a/one.txt", "a/two.txt", "three.txt"],
                "127.0.0.3": ["four.txt", "b/five.txt", "b/six.txt"]}
LINE = re.compile(r"conn=(\d+) sessions=(\d+) files=(\d+) holder_sessions=(\d+) holder_files=(\d+)$")


def run_load(srv):
    holders = []
    try:
        for source, paths in HOLDER_FILES.items():
            c = ImpacketClient(srv, HOLDER, PW, source=source)
            holders.append(c)
            for p in paths:
                if "/" in p:
                    try:
                        c.mkdir("share", p.split("/")[0])
                    except Exception:
                        pass  # made by the other holder or an earlier file
                c.open("share", p)
        want_files = sum(len(p) for p in HOLDER_FILES.values())
        # Warm the server: its RPC services start on demand, and a fresh smbd
        # leaves many simultaneous first pipe opens pending (TESTENV.md).
        oracle = [f for f in netfileenum(srv, ADMIN, PW) if f.get("user") == HOLDER]
        check(len(oracle) == want_files, f"rpcclient sees the {want_files} files the holders keep open",
              repr(oracle))

        t0 = time.monotonic()
        r = subprocess.run([TOOL, "--port", str(srv.port), "--timeout", "120000", "--holder", HOLDER,
                            srv.address, "SAMBATEST", ADMIN, PW, "concurrent", str(N)],
                           capture_output=True, text=True, timeout=600)
        diag(f"load_tool concurrent {N}: exit {r.returncode} after {time.monotonic() - t0:.1f} s; "
             + (r.stdout.splitlines() or ["(no output)"])[-1])
        lines = r.stdout.splitlines()
        ok = [LINE.match(line) for line in lines]
        ok = [m for m in ok if m]
        errors = [line for line in lines if " error=" in line]
        check(r.returncode == 0 and f"done ok={N} failed=0" in r.stdout,
              f"{N} connections on one loop: every one connected and listed sessions and files",
              "\n".join(errors[:20]) + "\n" + r.stderr[-2000:])
        check(sorted(int(m.group(1)) for m in ok) == list(range(N)),
              f"one result per connection, {N} in all", f"{len(ok)} results, {len(errors)} errors")
        low = [m.group(0) for m in ok if int(m.group(2)) < N + len(HOLDER_FILES)]
        check(ok and not low, f"each listing ran while all {N} were connected (>= {N + len(HOLDER_FILES)} sessions)",
              "\n".join(low[:10]))
        bad_holder = [m.group(0) for m in ok if int(m.group(4)) != len(HOLDER_FILES)]
        check(ok and not bad_holder, f"each lists the {len(HOLDER_FILES)} sessions of the independent holder",
              "\n".join(bad_holder[:10]))
        bad_files = [m.group(0) for m in ok if int(m.group(3)) != want_files or int(m.group(5)) != want_files]
        check(ok and not bad_files, f"each lists exactly the {want_files} open files, all the holder's",
              "\n".join(bad_files[:10]))

        # Afterwards: the server still serves, the holders are still there,
        # and our connections logged off (smbd children exit after the TCP close).
        deadline = time.monotonic() + 30
        while True:
            sessions = netsessenum(srv, ADMIN, PW)
            ours = [s for s in sessions if s.get("user") == ADMIN]
            if len(ours) <= 1 or time.monotonic() > deadline:  # rpcclient's own session
                break
            time.sleep(0.5)
        check(len(ours) <= 1, f"after the run none of the {N} sessions is left on the server",
              f"{len(ours)} sessions of {ADMIN}")
        check(all(c.echo() for c in holders) and
              len([s for s in sessions if s.get("user") == HOLDER]) == len(HOLDER_FILES),
              "the holders' sessions survived and the server still answers", repr(sessions))
    finally:
        for c in holders:
            c.close()


def main():
    print("1..8", flush=True)
    with SmbServer(options={}) as srv:
        srv.add_user(ADMIN, PW, admin=True)
        srv.add_user(HOLDER, PW)
        section("load", 8, run_load, srv)
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
