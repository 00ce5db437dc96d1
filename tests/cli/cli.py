#!/usr/bin/python3
"""smbnet against a real Samba smbd on loopback. TAP.

Every form of the command line: the session table, list and detail views,
JSON compared with rpcclient (the harness's oracle), the file table and
detail, /CLOSE and /DELETE with and without /Y, the question on a terminal
(a pty, answered N then Y), the password prompt, -A files and
SMBSESS_PASSWORD, several servers at once with one down, time limits, exit
statuses 0, 1, 2 and 5, case-insensitive verbs and both switch forms, and
usage errors. Independent peers hold the sessions and files: impacket
clients from 127.0.0.2 to 127.0.0.6.

usage: cli.py SMBNET        (root, Debian's /usr/bin/python3; see tests/harness)
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section, timings  # noqa: E402
import sambatest  # noqa: E402
from sambatest import ImpacketClient, SmbServer, netfileenum, netsessenum  # noqa: E402
import clitools  # noqa: E402
from clitools import Silent, blocks, fmt_counter, pty_run, raw, table_rows  # noqa: E402

SMBNET = sys.argv[1] if len(sys.argv) > 1 else None
PW = "Cli!pw-42"
clitools.SMBNET = SMBNET
clitools.SECRETS.append(PW)
ADMIN = "scli_admin"  # BUILTIN\Administrators: lists sessions and files
BOB = "scli_bob"      # plain users holding sessions and files
CAROL = "scli_carol"
OP = "scli_op"        # SeDiskOperatorPrivilege: closes files
ROOT = "root"         # ends sessions on Samba
OURS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6")
UNI = "Grüße-日本.txt"
QUESTION = "Do you want to continue this operation? (Y/N) [N]"
HMS = re.compile(r"^\d\d+:\d\d:\d\d$")

# --------------------------------------------------------------------------
# running smbnet

class Ctx:
    """The server and its peers."""

    def __init__(self, srv):
        self.srv = srv
        self.clients = {}  # name -> ImpacketClient
        self.handles = {}  # name -> {relative path: Handle}
        self.where = {}    # name -> (source address, user)

    def add(self, name, user, source, files=()):
        c = ImpacketClient(self.srv, user, PW, source=source)
        self.clients[name] = c
        self.where[name] = (source, user)
        self.handles[name] = {f: c.open("share", f) for f in files}
        return c

    def sn(self, *args, user=ADMIN, password=PW, **kw):
        """smbnet -S 127.0.0.1 -p PORT -U user%password ARGS."""
        return raw("-S", "127.0.0.1", "-p", str(self.srv.port), "-U", f"{user}%{password}", *args, **kw)

    def remote(self, rel):
        return "C:" + os.path.join(self.srv.share_path("share"), rel).replace("/", "\\")

    def file_open(self, name, rel):
        """Whether the holder's handle still reads."""
        try:
            self.clients[name].read(self.handles[name][rel])
            return True
        except Exception:
            return False

    def file_closed(self, name, rel, wait=10):
        """Whether the holder's handle is dead within `wait` seconds: Samba accepts NetrFileClose
        at once, and the smbd serving the holder closes the file when it gets to the message."""
        end = time.monotonic() + wait
        while self.file_open(name, rel):
            if time.monotonic() > end:
                return False
            time.sleep(0.1)
        return True

    def expected_sessions(self, addresses=OURS, user=None):
        alive = [n for n, c in self.clients.items() if c.conn is not None]
        return Counter((self.where[n][0], self.where[n][1], len(self.clients[n].handles)) for n in alive
                       if self.where[n][0] in addresses and (user is None or self.where[n][1] == user))


def session_rows(out):
    """(computer, user, opens, idle) of each table row; the computer keeps its backslashes."""
    rows = []
    for line in table_rows(out):
        parts = line.split()
        if len(parts) >= 4:
            rows.append((parts[0], parts[1], parts[-2], parts[-1]))
    return rows


# --------------------------------------------------------------------------
# the checks

def sessions_checks(x):
    time.sleep(2.2)  # let the sessions age a little, to compare their times
    r = x.sn("session")
    lines = r.out.splitlines()
    head = lines[0].split() if lines else []
    check(r.rc == 0 and " ".join(head) == "Computer User name Client type Opens Idle time"
          and r.out.rstrip().endswith("The command completed successfully."),
          "session: exit 0, the table's header is Computer, User name, Client type, Opens, Idle time", r)
    rows = session_rows(r.out)
    got = Counter((c[2:], u, int(o)) for c, u, o, _ in rows if c[2:] in OURS)
    want = x.expected_sessions()
    orc = netsessenum(x.srv, ADMIN, PW)
    o = Counter((e["client"], e["user"], e["num_open"]) for e in orc if e.get("client") in OURS)
    check(got == want == o, f"the table has the {sum(want.values())} sessions of the clients, as rpcclient lists them",
          f"smbnet:\n{fmt_counter(got)}\nclients:\n{fmt_counter(want)}\nrpcclient:\n{fmt_counter(o)}\n{r}")
    with_bs = [line for line in r.out.splitlines() if "\\" in line]
    check(with_bs == table_rows(r.out) and all(line.startswith("\\\\") for line in with_bs)
          and all(HMS.match(i) for _, _, _, i in rows),
          f"grep '\\\\' keeps exactly the {len(with_bs)} session rows, each starting with \\\\COMPUTER; "
          f"idle times are HH:MM:SS", r)

    rl = x.sn("session", "/LIST")
    bl = blocks(rl.out)
    check(rl.rc == 0 and len(bl) == len(rows)
          and all(set(b) == {"Computer", "User name", "Client type", "Opens", "Idle time"} for b in bl)
          and Counter((b["Computer"], b["User name"]) for b in bl) == Counter((c, u) for c, u, _, _ in rows),
          f"session /LIST: {len(bl)} blocks of Computer, User name, Client type, Opens, Idle time", rl)

    rj = x.sn("--json", "session")
    doc = rj.json() or {}
    ent = [e for e in doc.get("sessions", []) if e.get("client") in OURS]
    keys = {frozenset(e) for e in doc.get("sessions", [])}
    check(rj.rc == 0 and set(doc) == {"sessions", "errors"} and doc.get("errors") == []
          and keys == {frozenset({"server", "client", "user", "num_opens", "time", "idle_time", "user_flags"})},
          "--json session: one document {sessions, errors}; the keys of Samba's level 1, no client_type "
          "or transport", rj)
    o_by = sorted((e["client"], e["user"], e["num_open"], e["time"], e["user_flags"])
                  for e in orc if e.get("client") in OURS)
    j_by = sorted((e["client"], e["user"], e["num_opens"], e["time"], e["user_flags"]) for e in ent)
    close_enough = len(o_by) == len(j_by) and all(
        a[:3] == b[:3] and a[4] == b[4] and abs(a[3] - b[3]) <= 5 for a, b in zip(o_by, j_by))
    check(close_enough and all(e["server"] == "127.0.0.1" for e in ent),
          "the JSON sessions match rpcclient netsessenum: client, user, opens, flags, times within 5 s",
          f"smbnet {j_by}\nrpcclient {o_by}\n{rj}")

    rc = x.sn("--json", "session", "--client-user", CAROL.upper())
    docc = rc.json() or {}
    gotc = Counter((e["client"], e["user"], e["num_opens"]) for e in docc.get("sessions", []))
    wantc = x.expected_sessions(user=CAROL)
    check(rc.rc == 0 and gotc == wantc and wantc,
          f"session --client-user {CAROL.upper()}: only {CAROL}'s {sum(wantc.values())} sessions "
          "(case-insensitive)", f"got:\n{fmt_counter(gotc)}\nwant:\n{fmt_counter(wantc)}\n{rc}")


def detail_checks(x):
    orc = {(e["client"], e["user"]): e for e in netsessenum(x.srv, ADMIN, PW)}
    r = x.sn("session", "\\\\127.0.0.3")
    bl = blocks(r.out)
    labels = ["User name", "Computer", "Guest logon", "Client type", "Sess time", "Idle time"]
    want = sorted(u for (a, u, _), n in x.expected_sessions(("127.0.0.3",)).items() for _ in range(n))
    ok = r.rc == 0 and sorted(b.get("User name") for b in bl) == want and all(
        list(b) == labels and b["Computer"] == "\\\\127.0.0.3" and b["Guest logon"] == "No"
        and HMS.match(b["Sess time"]) and HMS.match(b["Idle time"]) for b in bl)
    secs = [sum(int(p) * m for p, m in zip(b["Sess time"].split(":"), (3600, 60, 1))) for b in bl] if ok else []
    o_secs = [orc[("127.0.0.3", b["User name"])]["time"] for b in bl] if ok else []
    check(ok and all(abs(a - b) <= 5 for a, b in zip(secs, o_secs)),
          f"session \\\\127.0.0.3: a detail block per session ({', '.join(want)}): user, computer, guest, "
          "client type, session time (as rpcclient's, HH:MM:SS) and idle time",
          f"session times {secs}, rpcclient {o_secs}\n{r}")
    r1 = x.sn("session", "\\127.0.0.3")
    r2 = x.sn("Session", "//127.0.0.3")
    check(r1.rc == 0 and r2.rc == 0 and len(blocks(r1.out)) == len(bl) == len(blocks(r2.out)),
          "\\127.0.0.3 (one backslash eaten by the shell) and //127.0.0.3 give the same view", f"{r1}\n{r2}")
    rl = x.sn("session", "\\\\127.0.0.3", "/LIST")
    check(rl.rc == 0 and sorted(b.get("User name") for b in blocks(rl.out)) == want
          and all(b.get("Computer") == "\\\\127.0.0.3" for b in blocks(rl.out)),
          "session \\\\127.0.0.3 /LIST: that computer's sessions as a list", rl)
    rj = x.sn("--json", "session", "\\\\127.0.0.2")
    doc = rj.json() or {}
    got = Counter((e["client"], e["user"], e["num_opens"]) for e in doc.get("sessions", []))
    check(rj.rc == 0 and got == x.expected_sessions(("127.0.0.2",)) and got,
          "--json session \\\\127.0.0.2: only that computer's sessions", rj)
    rn = x.sn("session", "\\\\127.0.0.99")
    rnj = x.sn("--json", "session", "\\\\127.0.0.99")
    dn = rnj.json() or {}
    check(rn.rc == 1 and "127.0.0.1" in rn.err and "no session from \\\\127.0.0.99" in rn.err
          and rnj.rc == 1 and dn.get("sessions") == []
          and [e.get("code") for e in dn.get("errors", [])] == ["NERR_ClientNameNotFound"],
          "session \\\\127.0.0.99 (no such client): exit 1, 'no session from \\\\127.0.0.99', "
          "JSON code NERR_ClientNameNotFound", f"{rn}\n{rnj}")


def files_checks(x):
    orc = netfileenum(x.srv, ADMIN, PW)
    r = x.sn("file")
    lines = r.out.splitlines()
    rows = table_rows(r.out)
    ids = sorted(int(line.split()[0]) for line in rows)
    check(r.rc == 0 and lines and lines[0].split() == ["ID", "Path", "User", "name", "#", "Locks"]
          and ids == sorted(e["fid"] for e in orc) and ids,
          f"file: a table ID, Path, User name, # Locks with the {len(ids)} ids rpcclient lists", r)
    paths_ok = all(any(e["path"] in line and e["user"] in line and str(e["fid"]) == line.split()[0]
                       for line in rows) for e in orc)
    check(paths_ok, "each row has the id, path and user rpcclient gives for it (the name with ü, ß and CJK too)",
          f"rpcclient {orc}\n{r}")

    rj = x.sn("--json", "file")
    doc = rj.json() or {}
    got = sorted((e["id"], e["path"], e["user"], e["num_locks"], e["permissions"]) for e in doc.get("files", []))
    want = sorted((e["fid"], e["path"], e["user"], e["num_locks"], e["permissions"]) for e in orc)
    keys = {frozenset(e) for e in doc.get("files", [])}
    check(rj.rc == 0 and got == want and doc.get("errors") == []
          and keys == {frozenset({"server", "id", "path", "user", "num_locks", "permissions"})},
          f"--json file: the {len(got)} files exactly as rpcclient netfileenum has them", f"{got}\n{want}\n{rj}")
    uni = x.remote("cli/" + UNI)
    check(uni in [e["path"] for e in doc.get("files", [])] and "\\\\" in rj.out and UNI in rj.out,
          "JSON: backslashes escaped, the UTF-8 name passed through unescaped, parsed back byte for byte", rj)

    sub = x.remote("cli/sub")
    rp = x.sn("--json", "file", "--path", sub.lower())
    dp = rp.json() or {}
    wantp = sorted(e["path"] for e in orc if e["path"].lower().startswith(sub.lower() + "\\"))
    check(rp.rc == 0 and sorted(e["path"] for e in dp.get("files", [])) == wantp and wantp,
          f"file --path <share>\\cli\\sub (in lower case): only the {len(wantp)} files below it", rp)
    ru = x.sn("file", "--client-user", CAROL)
    wantu = sorted(str(e["fid"]) for e in orc if e["user"] == CAROL)
    check(ru.rc == 0 and sorted(line.split()[0] for line in table_rows(ru.out)) == wantu and wantu,
          f"file --client-user {CAROL}: only that user's files", ru)

    e0 = next(e for e in orc if e["path"] == uni)
    rd = x.sn("file", str(e0["fid"]))
    b = (blocks(rd.out) or [{}])[0]
    check(rd.rc == 0 and list(b) == ["File ID", "User name", "Locks", "Path", "Permissions"]
          and b["File ID"] == str(e0["fid"]) and b["User name"] == e0["user"] and b["Path"] == e0["path"]
          and b["Locks"] == str(e0["num_locks"]) and b["Permissions"] == "RW",
          "file ID: File ID, User name, Locks, Path and Permissions (RW) as rpcclient has them", rd)
    rdj = x.sn("--json", "file", str(e0["fid"]))
    check(rdj.rc == 0 and (rdj.json() or {}).get("files") == [e for e in doc["files"] if e["id"] == e0["fid"]],
          "--json file ID: that one entry, the same as in the list", rdj)
    rn = x.sn("file", "4000000000")
    rnj = x.sn("--json", "file", "4000000000")
    check(rn.rc == 1 and "no such file id 4000000000" in rn.err and rnj.rc == 1
          and [e["code"] for e in (rnj.json() or {}).get("errors", [])] == ["NERR_FileIdNotFound"],
          "file 4000000000: exit 1, 'no such file id', JSON code NERR_FileIdNotFound", f"{rn}\n{rnj}")


def close_checks(x):
    k = x.add("k", BOB, "127.0.0.4", ["close/v1.txt", "close/v2.txt", "close/v3.txt"])
    for h in x.handles["k"].values():
        k.write(h, b"data")
    ids = {e["path"]: e["fid"] for e in netfileenum(x.srv, ADMIN, PW)}
    v1, v2, v3 = (ids[x.remote(f"close/v{i}.txt")] for i in (1, 2, 3))

    r = x.sn("file", str(v1), "/CLOSE", user=OP)
    check(r.rc == 2 and "/Y" in r.err and "terminal" in r.err and x.file_open("k", "close/v1.txt"),
          "file ID /CLOSE without /Y and without a terminal: refused with exit 2, the file stays open", r)
    r = x.sn("file", str(v1), "/CLOSE", "/Y", user=BOB)
    check(r.rc == 5 and "access denied" in r.err and "127.0.0.1" in r.err and x.file_open("k", "close/v1.txt"),
          f"file ID /CLOSE /Y as {BOB} (no right to): exit 5, access denied, the file stays open", r)
    argv = ["-S", "127.0.0.1", "-p", str(x.srv.port), "-U", f"{OP}%{PW}", "file", str(v1), "/CLOSE"]
    rn = pty_run(argv, [(re.escape(QUESTION), "N")])
    check(rn.rc == 1 and QUESTION in rn.out and "nothing was done" in rn.out and "close/v1.txt" not in rn.out
          and x.file_open("k", "close/v1.txt"),
          "on a terminal, file ID /CLOSE asks the question; N: exit 1, nothing done, the file stays open", rn)
    ry = pty_run(argv, [(re.escape(QUESTION), "y")])
    check(ry.rc == 0 and QUESTION in ry.out and f"File ID {v1} on 127.0.0.1" in ry.out
          and "has been closed" in ry.out and x.file_closed("k", "close/v1.txt")
          and x.file_open("k", "close/v2.txt"),
          "answered y: exit 0, closed; the holder's handle is dead, its other handles read", ry)
    rj = x.sn("--json", "file", str(v2), "--CLOSE", "--y", user=OP)
    check(rj.rc == 0 and rj.json() == {"done": [{"server": "127.0.0.1", "operation": "file_close", "id": v2}],
                                       "errors": []} and x.file_closed("k", "close/v2.txt"),
          "--json file ID --CLOSE --y: {done: [{server, operation, id}], errors: []}, closed", rj)
    ra = x.sn("FILES", str(v3), "/c", "/YES", user=ROOT)
    check(ra.rc == 0 and "has been closed" in ra.out and x.file_closed("k", "close/v3.txt"),
          "FILES ID /c /YES (upper-case verb, abbreviated switch) as root: closed", ra)
    rg = x.sn("file", str(v1), "/CLOSE", "/Y", user=OP)
    check(rg.rc == 1 and f"no such file id {v1}" in rg.err,
          "closing it again: exit 1, 'no such file id'", rg)


def delete_checks(x):
    x.add("d", CAROL, "127.0.0.5", ["del/d.txt"])
    x.add("d2", BOB, "127.0.0.5")
    x.add("e", CAROL, "127.0.0.6")
    alive = lambda *names: all(x.clients[n].echo() for n in names)  # noqa: E731

    r = x.sn("session", "\\\\127.0.0.5", "/DELETE", user=ROOT)
    check(r.rc == 2 and "/Y" in r.err and alive("d", "d2"),
          "session \\\\CLIENT /DELETE without /Y and without a terminal: exit 2, the sessions live on", r)
    r = x.sn("session", "\\\\127.0.0.5", "/DELETE", "/Y", user=ADMIN)
    check(r.rc == 5 and "access denied" in r.err and alive("d", "d2"),
          f"as {ADMIN} (administrator, not root): exit 5, the sessions live on", r)
    argv = ["-S", "127.0.0.1", "-p", str(x.srv.port), "-U", f"{ROOT}%{PW}", "session", "\\\\127.0.0.5", "/delete"]
    rn = pty_run(argv, [(re.escape(QUESTION), "n")])
    check(rn.rc == 1 and QUESTION in rn.out and re.search(r"\\\\127\.0\.0\.5 +" + CAROL, rn.out)
          and re.search(r"\\\\127\.0\.0\.5 +" + BOB, rn.out) and alive("d", "d2"),
          "on a terminal it lists the sessions it would end and asks; n: exit 1, they live on", rn)
    ry = pty_run(argv, [(re.escape(QUESTION), "Y")])
    end = time.monotonic() + 10
    while time.monotonic() < end and (x.clients["d"].echo() or x.clients["d2"].echo()):
        time.sleep(0.2)
    gone = not x.clients["d"].echo() and not x.clients["d2"].echo()
    check(ry.rc == 0 and "have been ended" in ry.out and gone and alive("e", "k", "b1", "c1"),
          "Y: exit 0, both sessions from 127.0.0.5 are gone, the others answer", ry)
    for n in ("d", "d2"):
        x.clients[n].close()
    rj = x.sn("--json", "session", "//127.0.0.6", "--Delete", "--Y", user=ROOT)
    end = time.monotonic() + 10
    while time.monotonic() < end and x.clients["e"].echo():
        time.sleep(0.2)
    check(rj.rc == 0 and rj.json() == {"done": [{"server": "127.0.0.1", "operation": "session_delete",
                                                 "client": "127.0.0.6", "user": CAROL}], "errors": []}
          and not x.clients["e"].echo(),
          "--json session //CLIENT --Delete --Y: {done: [one entry per session ended]}, that session is gone",
          rj)
    x.clients["e"].close()
    end = time.monotonic() + 5  # the ended smbd processes may still be leaving the session table
    while True:
        ra = x.sn("session", "\\\\127.0.0.5", "/D", "/Y", user=ROOT)
        if ra.rc == 1 or time.monotonic() > end:
            break
        time.sleep(0.3)
    check(ra.rc == 1 and "no session from \\\\127.0.0.5" in ra.err,
          "again, with nothing left to end: exit 1, 'no session from \\\\127.0.0.5' (Samba would say "
          "access denied)", ra)


def errors_checks(x, dead_port):
    r = x.sn("session", user=BOB)
    check(r.rc == 5 and r.out == "" and re.search(r"^smbnet: 127\.0\.0\.1: access denied: .*\(ERROR_ACCESS_DENIED\)$",
                                                 r.err, re.M),
          "session as a plain user: exit 5, one line naming the server and 'access denied'", r)
    r = x.sn("--json", "file", user=BOB)
    d = r.json() or {}
    check(r.rc == 5 and d.get("files") == [] and [e["code"] for e in d.get("errors", [])] == ["ERROR_ACCESS_DENIED"]
          and d["errors"][0]["server"] == "127.0.0.1" and "access denied" in d["errors"][0]["message"],
          "--json file as a plain user: exit 5, errors [{server, code ERROR_ACCESS_DENIED, message}]", r)
    r = x.sn("session", password="wrong")
    check(r.rc == 1 and "logon failure" in r.err and "STATUS_LOGON_FAILURE" in r.err,
          "a wrong password: exit 1, 'logon failure'", r)
    r = raw("-S", f"127.0.0.1:{dead_port}", "-U", f"{ADMIN}%{PW}", "session")
    check(r.rc == 1 and f"127.0.0.1:{dead_port}: connection refused" in r.err,
          "nothing listening: exit 1, 'connection refused' with the server's name", r)
    r = raw("-S", "no-such-host.invalid", "-U", f"{ADMIN}%{PW}", "session")
    check(r.rc == 1 and "no-such-host.invalid: unknown host" in r.err, "an unknown host: exit 1, 'unknown host'", r)

    silent, silent2 = Silent(), Silent()
    try:
        r = raw("-S", f"127.0.0.1:{silent.port}", "-U", f"{ADMIN}%{PW}", "--timeout", "1.5", "session")
        check(r.rc == 1 and "timed out: no answer within 1.5 seconds" in r.err and r.seconds < 6,
              f"a server that never answers, --timeout 1.5: exit 1 after {r.seconds:.1f} s, 'timed out'", r)
        r = raw("-S", f"127.0.0.1:{silent.port},127.0.0.1:{silent2.port}", "-U", f"{ADMIN}%{PW}",
                "--timeout", "2", "file")
        check(r.rc == 1 and r.err.count("timed out") == 2 and r.seconds < 3.8,
              f"two such servers with --timeout 2 take {r.seconds:.1f} s, not 4: they are asked at the same time",
              r)
    finally:
        silent.close()
        silent2.close()


def servers_checks(x, dead_port):
    p = x.srv.port
    r = raw("-S", f"127.0.0.1:{p},localhost:{p}", "-U", f"{ADMIN}%{PW}", "session")
    rows = table_rows(r.out)
    # Both names reach the same smbd: each may or may not see the other's own session, so only the
    # peers' rows are compared.
    by = Counter(line.split()[0] for line in rows if line.split()[1][2:] in OURS)
    check(r.rc == 0 and r.out.split()[0] == "Server" and set(by) == {f"127.0.0.1:{p}", f"localhost:{p}"}
          and by[f"127.0.0.1:{p}"] == by[f"localhost:{p}"],
          f"-S 127.0.0.1:P,localhost:P: one table with a Server column, both servers' rows ({dict(by)})", r)
    rj = raw("-S", f"127.0.0.1:{p}", "-S", f"127.0.0.1:{dead_port}", "-U", f"{ADMIN}%{PW}", "--json", "file")
    d = rj.json() or {}
    rt = raw("-S", f"127.0.0.1:{p}", "-S", f"127.0.0.1:{dead_port}", "-U", f"{ADMIN}%{PW}", "file")
    orc = netfileenum(x.srv, ADMIN, PW)
    check(rj.rc == 1 and sorted(e["id"] for e in d.get("files", [])) == sorted(e["fid"] for e in orc)
          and all(e["server"] == f"127.0.0.1:{p}" for e in d.get("files", []))
          and d.get("errors") == [{"server": f"127.0.0.1:{dead_port}", "code": "ECONNREFUSED",
                                   "message": f"connection refused: nothing listens on port {dead_port}"}],
          "two servers, one down, --json: the live one's files, one error {server, code ECONNREFUSED, "
          "message}, exit 1", rj)
    check(rt.rc == 1 and len(table_rows(rt.out)) == len(orc) and f"127.0.0.1:{dead_port}: connection refused"
          in rt.err and "completed successfully" not in rt.out,
          "the same as a table: the live server's rows on stdout, the other on stderr, exit 1", rt)
    r = x.sn("--signing", "required", "--encrypt", "REQUIRED", "session")
    check(r.rc == 0 and table_rows(r.out), "--signing required --encrypt REQUIRED against Samba: works", r)


def credentials_checks(x, tmp):
    port = str(x.srv.port)
    auth = os.path.join(tmp, "auth.txt")
    with open(auth, "w") as f:
        f.write(f"# smbnet test\nusername = {ADMIN}\npassword = {PW}\ndomain = SAMBATEST\n")
    os.chmod(auth, 0o600)
    r = raw("-S", "127.0.0.1", "-p", port, "-A", auth, "session")
    check(r.rc == 0 and table_rows(r.out), "-A FILE (username=, password=, domain=): works", r)
    r = raw("-S", "127.0.0.1", "-p", port, "-A", os.path.join(tmp, "missing"), "session")
    check(r.rc == 1 and "cannot read the authentication file" in r.err, "-A of a missing file: exit 1", r)
    r = raw("-S", "127.0.0.1", "-p", port, "-U", ADMIN, "session", env={"SMBSESS_PASSWORD": PW})
    check(r.rc == 0 and table_rows(r.out), "-U USER with the password in SMBSESS_PASSWORD: works", r)
    r = raw("-S", "127.0.0.1", "-p", port, "-U", ADMIN, "session")
    check(r.rc == 2 and "no password" in r.err and "SMBSESS_PASSWORD" in r.err,
          "no password anywhere and no terminal: exit 2, says where one can come from", r)
    rp = pty_run(["-S", "127.0.0.1", "-p", port, "-U", ADMIN, "session"], [(f"Password for {ADMIN}: ", PW)])
    check(rp.rc == 0 and PW not in rp.out and "completed successfully" in rp.out,
          "on a terminal it asks 'Password for USER:' and does not echo the answer", rp)
    r = raw("-S", "127.0.0.1", "-p", port, "-k", "session", env={"KRB5CCNAME": "FILE:/nonexistent/smbnet-cli-cc"})
    check(r.rc == 1 and "Kerberos" in r.err and "SMBSESS_E_KERBEROS_REFUSED" in r.err,
          "-k against a server without Kerberos (standalone smbd): exit 1, says so", r)
    # The password of -U USER%PASSWORD is hidden from ps and /proc/PID/cmdline while smbnet runs.
    p = subprocess.Popen([SMBNET, "-S", "127.0.0.1", "-p", port, "-U", f"{ADMIN}%{PW}", "--watch", "1", "session"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdout.readline()  # it has parsed its arguments and listed once
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            cmdline = f.read().split(b"\0")
    finally:
        p.terminate()
        p.communicate(timeout=30)
    user_arg = [a for a in cmdline if a.startswith(ADMIN.encode())]
    check(user_arg and PW.encode() not in b" ".join(cmdline) and user_arg[0] == f"{ADMIN}%".encode() + b"X" * len(PW),
          "-U USER%PASSWORD: the password reads as X's in /proc/PID/cmdline while smbnet runs", cmdline)


def forms_checks(x, dead_port):
    ref = len(blocks(x.sn("session", "/LIST").out))
    variants = [("SESSION", "/LIST"), ("Session", "--list"), ("sessions", "/l"), ("sEsSiOn", "--LIST")]
    res = [x.sn(*v) for v in variants]
    check(ref and all(r.rc == 0 and len(blocks(r.out)) == ref for r in res),
          f"verbs and switches in any case, /X and --x forms: {', '.join(' '.join(v) for v in variants)}",
          "\n".join(map(str, res)))
    r = x.sn("File")
    check(r.rc == 0 and table_rows(r.out), "File (mixed case) lists the files", r)
    h = raw("--help")
    v = raw("--version")
    check(h.rc == 0 and h.out.startswith("Usage: smbnet") and "--client-user" in h.out
          and v.rc == 0 and re.match(r"^smbnet \(libsmbsess\) \d+\.\d+\.\d+$", v.out.strip()),
          "--help and --version: exit 0", f"{h}\n{v}")
    bad = [[], ["bogus"], ["session", "PC1"], ["session", "/DELETE", "/LIST"], ["session", "/CLOSE"],
           ["file", "/CLOSE"], ["file", "abc"], ["file", "1", "/DELETE"], ["file", "5", "--path", "x"],
           ["--port", "0", "session"], ["--timeout", "soon", "session"], ["--signing", "off", "session"],
           ["--nosuch", "session"], ["session", "/NOSUCH"], ["-S", "a:1,b:1", "file", "7"], ["-S"]]
    res = [raw("-S", f"127.0.0.1:{dead_port}", "-U", "u%p", *b) if b != ["-S"] else raw("-S") for b in bad]
    check(all(r.rc == 2 and "Try 'smbnet --help'" in r.err and "connection refused" not in r.err
              and r.out == "" for r in res),
          f"{len(bad)} usage errors: exit 2 with a hint, before connecting",
          "\n".join(str(r) for r in res if r.rc != 2 or "Try" not in r.err))


def delete_all_checks(x):
    r = x.sn("session", "/DELETE", "/Y", user=ROOT)
    end = time.monotonic() + 10
    live = [n for n, c in x.clients.items() if c.conn is not None]
    while time.monotonic() < end and any(x.clients[n].echo() for n in live):
        time.sleep(0.2)
    # Client by client (NetrSessionDel without client and user means nothing in MS-SRVS), smbnet's own last.
    ended = re.findall(r"The sessions from (\\\\\S+) on 127\.0\.0\.1 have been ended", r.out)
    check(r.rc == 0 and len(ended) == len(set(ended)) >= 2 and "\\\\127.0.0.1" in ended
          and not any(x.clients[n].echo() for n in live),
          f"session /DELETE /Y as root ends every session ({len(live)} clients' and smbnet's own), "
          "client by client: exit 0", r)


def main():
    if SMBNET is None or not os.access(SMBNET, os.X_OK):
        print("1..1\nnot ok 1 - usage: cli.py SMBNET")
        return 1
    plan = 7 + 5 + 9 + 7 + 6 + 7 + 4 + 7 + 4 + 1
    print(f"1..{plan}", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smbsess-cli-") as tmp:
        os.chmod(tmp, 0o755)
        dead_port = sambatest.free_port()
        with SmbServer(os.path.join(tmp, "srv")) as srv:
            for u, admin in ((ADMIN, True), (BOB, False), (CAROL, False), (OP, False), (ROOT, True)):
                srv.add_user(u, PW, admin=admin)
            srv.grant(OP, "SeDiskOperatorPrivilege")
            share = srv.share_path("share")
            for d in ("cli", "cli/sub", "close", "del"):
                os.makedirs(os.path.join(share, d), mode=0o777, exist_ok=True)
                os.chmod(os.path.join(share, d), 0o777)
            x = Ctx(srv)
            try:
                x.add("b1", BOB, "127.0.0.2", ["cli/b1_a.txt", "cli/b1_b.txt", "cli/" + UNI])
                x.add("c1", CAROL, "127.0.0.3", ["cli/c1.txt", "cli/sub/c1_sub.txt"])
                x.add("b2", BOB, "127.0.0.3")
                timings["setup"] = time.monotonic() - t0
                section("sessions", 7, sessions_checks, x)
                section("detail", 5, detail_checks, x)
                section("files", 9, files_checks, x)
                section("close", 7, close_checks, x)
                section("delete", 6, delete_checks, x)
                section("errors", 7, errors_checks, x, dead_port)
                section("servers", 4, servers_checks, x, dead_port)
                section("credentials", 7, credentials_checks, x, tmp)
                section("forms", 4, forms_checks, x, dead_port)
                section("delete all", 1, delete_all_checks, x)
            finally:
                for c in x.clients.values():
                    c.close()
    timings["total"] = time.monotonic() - t0
    diag("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return 0 if all(results) and len(results) == plan else 1


if __name__ == "__main__":
    sys.exit(main())
