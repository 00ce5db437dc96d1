#!/usr/bin/python3
"""Hold files open on an SMB server with impacket, an SMB client that shares
no code with libsmbsess, until stdin closes. Used by bench/bench.py.

    hold_files.py HOST PORT USER PASSWORD SHARE LISTFILE [--max-seconds S]

Opens every path of LISTFILE (one a line, relative to SHARE, existing files:
the benchmark creates them on disk first) on one SMB session and keeps the
handles. Prints "READY <files> <seconds>" once all are open, then waits for
end of stdin (at most --max-seconds, default 3600) and logs off, which
closes them. Exits 1 with the error on stdout if an open fails.
"""
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "harness"))
from sambatest import ImpacketClient  # noqa: E402


def main(argv):
    max_seconds = 3600.0
    if "--max-seconds" in argv:
        i = argv.index("--max-seconds")
        max_seconds = float(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, user, password, share, listfile = argv[1:]
    from impacket.smb3structs import FILE_READ_DATA, FILE_OPEN, FILE_NON_DIRECTORY_FILE
    with open(listfile, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    t0 = time.monotonic()
    c = ImpacketClient(None, user, password, host=host, port=int(port))
    try:
        tid = c.tree(share)
        for p in paths:
            c.conn.openFile(tid, p.replace("/", "\\"), desiredAccess=FILE_READ_DATA, shareMode=7,
                            creationOption=FILE_NON_DIRECTORY_FILE, creationDisposition=FILE_OPEN)
        print("READY %d %.2f" % (len(paths), time.monotonic() - t0), flush=True)
        end = time.monotonic() + max_seconds
        while time.monotonic() < end:
            r, _, _ = select.select([sys.stdin], [], [], max(0.0, min(5.0, end - time.monotonic())))
            if r and not os.read(sys.stdin.fileno(), 4096):
                break
    except Exception as e:
        print("ERROR %s" % e, flush=True)
        return 1
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
