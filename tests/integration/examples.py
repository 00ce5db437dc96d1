#!/usr/bin/python3
"""The API guide's example programs against a real smbd: the blocking one
lists and closes a file held open by impacket, the asynchronous one lists
the sessions of two servers at once, and reports a third that is down. TAP."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import sambatest  # noqa: E402

FILES, SESSIONS = sys.argv[1], sys.argv[2]
results = []


def check(ok, what, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}")
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# "))


def main():
    print("1..5")
    with sambatest.SmbServer(options={}) as a:
        a.add_user("exadmin", "Ex4mple!pw", admin=True)
        a.grant("exadmin", "SeDiskOperatorPrivilege")
        holder = sambatest.ImpacketClient(a, "exadmin", "Ex4mple!pw")
        holder.open("share", "example.txt", create=True)
        r = subprocess.run([FILES, "127.0.0.1", str(a.port), "WORKGROUP", "exadmin", "Ex4mple!pw"],
                           capture_output=True, text=True, timeout=60)
        line = [l for l in r.stdout.splitlines() if l.endswith("example.txt\texadmin\tlocks=0") or "example.txt" in l]
        check(r.returncode == 0 and len(line) == 1, "files_blocking lists the file impacket holds", r.stdout + r.stderr)
        fid = line[0].split("\t")[0] if line else "0"
        r = subprocess.run([FILES, "127.0.0.1", str(a.port), "WORKGROUP", "exadmin", "Ex4mple!pw", fid],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"files_blocking closes file {fid}", r.stdout + r.stderr)
        r = subprocess.run([FILES, "127.0.0.1", str(a.port), "WORKGROUP", "exadmin", "Ex4mple!pw"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "example.txt" not in r.stdout, "the closed file is gone", r.stdout)
        holder.close()
        # The example takes one port for all servers: "localhost" reaches the same smbd
        # under another name, as a second connection on the same loop.
        r = subprocess.run([SESSIONS, str(a.port), "WORKGROUP", "exadmin", "Ex4mple!pw", "127.0.0.1", "localhost",
                            "127.0.0.9"], capture_output=True, text=True, timeout=120)
        names = {l.split("\t")[0] for l in r.stdout.splitlines()}
        check("127.0.0.1" in names and "localhost" in names,
              "sessions_async lists the sessions of two connections on one loop", r.stdout + r.stderr)
        check("127.0.0.9: connect:" in r.stderr, "and reports the server that is down", r.stderr)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
