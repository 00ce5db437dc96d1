#!/usr/bin/python3
"""The ctypes binding example (examples/ffi/smbsess_ctypes.py) against a real
smbd, through the built shared library: sessions and an open file listed,
access denied reported. TAP."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import sambatest  # noqa: E402

SCRIPT, LIB = sys.argv[1], sys.argv[2]
results = []


def check(ok, what, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}")
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# "))


def run(srv, user, pw):
    return subprocess.run(["/usr/bin/python3", SCRIPT, "--lib", LIB, "--port", str(srv.port), "127.0.0.1",
                           "WORKGROUP", user, pw], capture_output=True, text=True, timeout=120)


def main():
    print("1..3")
    with sambatest.SmbServer(options={}) as srv:
        srv.add_user("ffiadmin", "Ffi!pw123", admin=True)
        srv.add_user("ffiuser", "Ffi!pw456")
        holder = sambatest.ImpacketClient(srv, "ffiuser", "Ffi!pw456", source="127.0.0.2")
        holder.open("share", "ffi-Grüße.txt", create=True)
        r = run(srv, "ffiadmin", "Ffi!pw123")
        sessions = [l.split("\t") for l in r.stdout.splitlines() if l.startswith("session\t")]
        files = [l.split("\t") for l in r.stdout.splitlines() if l.startswith("file\t")]
        check(r.returncode == 0 and any(s[1] == "127.0.0.2" and s[2] == "ffiuser" and s[3] == "1" for s in sessions),
              "ctypes: the impacket session from 127.0.0.2 is listed with one open file", r.stdout + r.stderr)
        check(any(f[2].endswith("ffi-Grüße.txt") and f[3] == "ffiuser" for f in files),
              "ctypes: the open file with a non-ASCII name is listed", r.stdout + r.stderr)
        r = run(srv, "ffiuser", "Ffi!pw456")
        check(r.returncode == 5 and "ERROR_ACCESS_DENIED" in r.stderr, "ctypes: a non-admin gets access denied",
              r.stdout + r.stderr)
        holder.close()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
