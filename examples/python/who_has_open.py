#!/usr/bin/env python3
"""Who has this file open? Asks one or more servers at once and prints one
line per holder: server, file id, user, path.

    who_has_open.py -S fs1,fs2 -U 'EXAMPLE\\admin' budget.xlsx
    who_has_open.py -S fs1 -U admin%secret -p 4450 'C:\\Shares\\Finance\\*.xlsx'
    who_has_open.py -S dc1.example.com -k --address 10.0.0.5 report.docx

FILE matches a path when it equals the path, equals its last component,
or matches it as a shell pattern (fnmatch), without regard to case, with
either kind of slash. The password comes from -U USER%PASSWORD,
SMBSESS_PASSWORD, or a prompt; -k uses the Kerberos ticket cache instead.
Exit status: 0 someone has it open, 1 nobody does, 2 usage, 3 a server
could not be asked (the others are still printed).
"""
from __future__ import annotations

import argparse
import fnmatch
import getpass
import os
import sys
from typing import List, Union

import smbsess


def matches(pattern: str, path: str) -> bool:
    p = pattern.replace("/", "\\").casefold()
    full = path.replace("/", "\\").casefold()
    return full == p or full.rsplit("\\", 1)[-1] == p or fnmatch.fnmatchcase(full, p)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-S", "--server", required=True, help="server[,server...] (host, host:port, [v6]:port)")
    ap.add_argument("-U", "--user", help="[DOMAIN\\]USER[%%PASSWORD]")
    ap.add_argument("-k", "--kerberos", action="store_true", help="use the Kerberos ticket cache")
    ap.add_argument("-p", "--port", type=int, default=445)
    ap.add_argument("--address", help="connect to this address (one server only)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per server and request")
    ap.add_argument("file", help="a name, a path or a shell pattern")
    a = ap.parse_args(argv)

    if a.kerberos:
        creds = smbsess.Credentials.kerberos()
    elif a.user:
        user, sep, password = a.user.partition("%")
        if not sep:
            password = os.environ.get("SMBSESS_PASSWORD") or getpass.getpass(f"Password for {user}: ")
        creds = smbsess.Credentials.password(user, password)
    else:
        ap.error("give -U USER or -k")
    names = [s for s in a.server.split(",") if s]
    servers: List[Union[str, smbsess.Server]] = list(names)
    if a.address and len(names) != 1:
        ap.error("--address goes with a single server")
    if a.address:
        spec = smbsess.Server.parse(names[0])
        servers = [smbsess.Server(spec.name, spec.port, a.address)]

    found = failed = 0
    for result in smbsess.list_many(servers, creds, "files", port=a.port, timeout=a.timeout):
        if result.error is not None:
            print(f"{result.server}: {result.error}", file=sys.stderr)
            failed += 1
            continue
        for f in result.items:
            if isinstance(f, smbsess.OpenFile) and f.path is not None and matches(a.file, f.path):
                print(f"{result.server}\t{f.id}\t{f.user or '-'}\t{f.path}")
                found += 1
    if failed:
        return 3
    return 0 if found else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except smbsess.SmbsessError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3)
