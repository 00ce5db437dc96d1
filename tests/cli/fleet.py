#!/usr/bin/python3
"""smbnet across a fleet, against two real Samba smbd servers on loopback. TAP.

  * -S @FILE server lists (host:port, [v6addr]:port, comments, blank lines),
    mixed with plain -S; servers named as written in tables, JSON and errors;
    --parallel caps the servers asked at once while each keeps its own time
    limit; one server's failure never stops the others;
  * --path GLOB, case-insensitive over the whole path, on both servers; its
    literal beginning sent as NetrFileEnum's base path (checked with tshark);
  * bulk /CLOSE (--path, --client-user) and /DELETE (--client-user) on both
    servers: the exact preview server by server, the refusal without a
    terminal, one JSON entry per file or session, one error per failure;
  * --watch: +/- lines and JSON events as independent clients open and close
    files and log on and off, a server that goes away and comes back
    (server_down, server_up), SIGINT and SIGTERM ending it with exit 0.

Independent peers hold the sessions and files: impacket clients from
127.0.0.2 to 127.0.0.7. Oracle: rpcclient (netfileenum/netsessenum).

usage: fleet.py SMBNET        (root, Debian's /usr/bin/python3; see tests/harness)
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section, timings  # noqa: E402
import sambatest  # noqa: E402
from sambatest import ImpacketClient, SmbServer, netfileenum, netsessenum  # noqa: E402
import clitools  # noqa: E402
from clitools import Silent, pty_run, raw, table_rows  # noqa: E402
from tshark_capture import Capture  # noqa: E402

SMBNET = sys.argv[1] if len(sys.argv) > 1 else None
clitools.SMBNET = SMBNET
PW = "Fleet!pw-7"
clitools.SECRETS.append(PW)
ADMIN = "sfl_admin"  # BUILTIN\Administrators on both: lists
OP = "sfl_op"        # administrator with SeDiskOperatorPrivilege on both: lists and closes files
BOB = "sfl_bob"
CAROL = "sfl_carol"
ROOT = "root"        # ends sessions on Samba
QUESTION = "Do you want to continue this operation? (Y/N) [N]"
UNI = "Grüße.txt"


class Relay:
    """A TCP relay from a loopback port to a server: stop() drops the port and every connection through it
    (the server "goes away"), start() brings it back on the same port."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = sambatest.free_port()
        self.sock = None
        self.conns = []
        self.lock = threading.Lock()

    def start(self):
        end = time.monotonic() + 10
        while True:
            try:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", self.port))
                break
            except OSError:
                s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        s.listen(16)
        self.sock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread, which holds the socket
            except OSError:
                pass
            self.sock.close()
            self.sock = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []


class Fleet:
    """Two servers and their peers."""

    def __init__(self, s1, s2, tmp):
        self.srv = [s1, s2]
        self.tmp = tmp
        self.clients = {}  # name -> (ImpacketClient, server index, source, user)
        self.handles = {}  # name -> {relative path: Handle}

    def name(self, i):
        """How the tests write server i: 127.0.0.1:PORT and localhost:PORT, two servers on one host."""
        return (f"127.0.0.1:{self.srv[0].port}", f"localhost:{self.srv[1].port}")[i]

    def add(self, name, i, user, source, files=()):
        c = ImpacketClient(self.srv[i], user, PW, source=source)
        self.clients[name] = (c, i, source, user)
        self.handles[name] = {f: c.open("share", f) for f in files}
        return c

    def remote(self, i, rel):
        return "C:" + os.path.join(self.srv[i].share_path("share"), rel).replace("/", "\\")

    def sn(self, *args, user=ADMIN, servers=None, **kw):
        s = servers if servers is not None else f"{self.name(0)},{self.name(1)}"
        return raw("-S", s, "-U", f"{user}%{PW}", *args, **kw)

    def is_open(self, name, rel):
        c = self.clients[name][0]
        try:
            c.read(self.handles[name][rel])
            return True
        except Exception:
            return False

    def closed_within(self, name, rel, wait=10):
        end = time.monotonic() + wait
        while self.is_open(name, rel):
            if time.monotonic() > end:
                return False
            time.sleep(0.1)
        return True

    def files(self, i):
        return netfileenum(self.srv[i], ADMIN, PW)

    def write_list(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path


def by_server(doc, key):
    got = {}
    for e in doc.get(key, []):
        got.setdefault(e.get("server"), []).append(e)
    return got


# --------------------------------------------------------------------------

def lists_checks(x, dead):
    lst = x.write_list("servers.txt", f"# the file servers\n\n  {x.name(0)}   # the first\n"
                                      f"{x.name(1)}\n[::1]:{dead}\n   \n# end\n")
    r = raw("-S", f"@{lst}", "-U", f"{ADMIN}%{PW}", "--json", "file")
    d = r.json() or {}
    got = by_server(d, "files")
    want = {x.name(i): sorted(e["fid"] for e in x.files(i)) for i in (0, 1)}
    check(r.rc == 1 and {k: sorted(e["id"] for e in v) for k, v in got.items()} == want and all(want.values())
          and d.get("errors") == [{"server": f"[::1]:{dead}", "code": "ECONNREFUSED",
                                   "message": f"connection refused: nothing listens on port {dead}"}],
          "-S @FILE (comments, blank lines, host:port, [::1]:port): both servers' files under the names "
          "as written, one error for the [::1] entry, exit 1", r)
    lst2 = x.write_list("one.txt", f"{x.name(1)}\n")
    r = raw("-S", x.name(0), "-S", f"@{lst2}", "-U", f"{ADMIN}%{PW}", "file")
    rows = table_rows(r.out)
    names = Counter(line.split()[0] for line in rows)
    check(r.rc == 0 and r.out.split()[0] == "Server"
          and names == Counter({x.name(0): len(want[x.name(0)]), x.name(1): len(want[x.name(1)])}),
          f"-S HOST:PORT mixed with -S @FILE: one table, the Server column names both as written ({dict(names)})", r)
    bad = x.write_list("bad.txt", f"{x.name(0)}\nfs9:0\n")
    r1 = raw("-S", f"@{bad}", "-U", f"{ADMIN}%{PW}", "file")
    r2 = raw("-S", "@" + os.path.join(x.tmp, "missing.txt"), "-U", f"{ADMIN}%{PW}", "file")
    empty = x.write_list("empty.txt", "# nothing\n\n")
    r3 = raw("-S", f"@{empty}", "-U", f"{ADMIN}%{PW}", "file")
    check(r1.rc == 2 and f"{bad}:2:" in r1.err and "fs9:0" in r1.err and r2.rc == 2 and "cannot read" in r2.err
          and r3.rc == 2 and "no server" in r3.err and not (r1.out + r2.out + r3.out),
          "a bad line (FILE:LINE named), a missing file and an empty list: usage errors (exit 2)",
          f"{r1}\n{r2}\n{r3}")


def parallel_checks(x):
    s1, s2, s3 = Silent(), Silent(), Silent()
    try:
        silent = [f"127.0.0.1:{s.port}" for s in (s1, s2, s3)]
        r1 = raw("-S", ",".join(silent), "-U", f"{ADMIN}%{PW}", "--timeout", "1", "--parallel", "1", "file")
        r3 = raw("-S", ",".join(silent), "-U", f"{ADMIN}%{PW}", "--timeout", "1", "file")
        check(r1.rc == 1 and r1.err.count("timed out: no answer within 1 second") == 3 and r1.seconds >= 2.9
              and r3.rc == 1 and r3.err.count("timed out") == 3 and r3.seconds < 2.5,
              f"three silent servers, --timeout 1: --parallel 1 asks them one after the other ({r1.seconds:.1f} s, "
              f"each timed out after its own second), the default all at once ({r3.seconds:.1f} s)", f"{r1}\n{r3}")
        r = raw("-S", f"{silent[0]},{x.name(0)},{x.name(1)}", "-U", f"{ADMIN}%{PW}", "--timeout", "1",
                "--parallel", "2", "--json", "file")
        d = r.json() or {}
        got = {k: len(v) for k, v in by_server(d, "files").items()}
        check(r.rc == 1 and got == {x.name(0): len(x.files(0)), x.name(1): len(x.files(1))}
              and [e["server"] for e in d.get("errors", [])] == [silent[0]]
              and d["errors"][0]["code"] == "SMBSESS_E_TIMEOUT",
              f"--parallel 2 with a silent server first: the two live servers still answer ({got}), one error", r)
    finally:
        for s in (s1, s2, s3):
            s.close()


def glob_checks(x):
    all_files = [(i, e) for i in (0, 1) for e in x.files(i)]

    def want(pred):
        return sorted((x.name(i), e["fid"]) for i, e in all_files if pred(e["path"]))

    def got(r):
        return sorted((e["server"], e["id"]) for e in (r.json() or {}).get("files", []))

    r = x.sn("--json", "file", "--path", "*\\BUDGET.XLSX")
    w = want(lambda p: p.lower().endswith("\\budget.xlsx"))
    check(r.rc == 0 and got(r) == w and len(w) == 3 and {s for s, _ in w} == {x.name(0), x.name(1)},
          f"--path '*\\BUDGET.XLSX': the {len(w)} budget.xlsx files in any folder of both servers, any case", r)
    fin = x.remote(0, "Finance")
    r = x.sn("--json", "file", "--path", fin.upper() + "\\*")
    w = want(lambda p: p.lower().startswith(fin.lower() + "\\"))
    check(r.rc == 0 and got(r) == w and len(w) == 2,
          f"--path '<share>\\FINANCE\\*' (a literal prefix, upper case): the {len(w)} files below Finance", r)
    r = x.sn("--json", "file", "--path", "*\\q[0-9]\\*.xls?")
    w = want(lambda p: re.search(r"\\q[0-9]\\[^\\]*\.xls.$", p, re.I) is not None)
    check(r.rc == 0 and got(r) == w and len(w) == 3, f"--path '*\\q[0-9]\\*.xls?': sets and ? ({len(w)} files)", r)
    r = x.sn("--json", "file", "--path", "*\\GRÜ*.TXT")
    w = want(lambda p: UNI.lower() in p.lower())
    r2 = x.sn("file", "--path", x.remote(0, "Finance"))
    w2 = want(lambda p: p.lower().startswith(fin.lower() + "\\"))
    check(r.rc == 0 and got(r) == w and len(w) == 1 and r2.rc == 0 and len(table_rows(r2.out)) == len(w2),
          "--path '*\\GRÜ*.TXT' finds Grüße.txt (Ü folds to ü); a pattern without wildcards is that folder and below",
          f"{r}\n{r2}")


def base_path_checks(x):
    """What the server is asked for: the pattern's literal beginning as NetrFileEnum's base path (Wireshark)."""
    fin = x.remote(0, "Finance")
    with Capture(x.srv[0].port, os.path.join(x.tmp, "base.pcapng")) as cap:
        r1 = raw("-S", x.name(0), "-U", f"{ADMIN}%{PW}", "file", "--path", fin + "\\Q*\\*.xlsx")
        time.sleep(0.3)
        r2 = raw("-S", x.name(0), "-U", f"{ADMIN}%{PW}", "file", "--path", "*\\budget.xlsx")
    reqs = cap.fields(f"tcp.dstport == {x.srv[0].port} && srvsvc.opnum == 9", "srvsvc.srvsvc_NetFileEnum.path")
    paths = [row[0] for row in reqs]
    check(r1.rc == 0 and r2.rc == 0 and paths == [[fin + "\\Q"], []],
          "NetrFileEnum as Wireshark decodes it: base path '<share>\\Finance\\Q' for '<share>\\Finance\\Q*\\*.xlsx', "
          "none for '*\\budget.xlsx'", f"requests: {paths}\n{r1}\n{r2}")


def close_checks(x):
    x.add("k1", 0, CAROL, "127.0.0.4", ["Finance/Q3/report.xlsx", "close/keep.txt"])
    x.add("k2", 1, CAROL, "127.0.0.4", ["close/report.xlsx", "close/other.txt"])
    ids = {(i, e["path"]): e["fid"] for i in (0, 1) for e in x.files(i)}
    targets = [(0, "Finance/Q3/report.xlsx"), (1, "close/report.xlsx")]
    tid = {t: ids[(t[0], x.remote(t[0], t[1]))] for t in targets}

    r = x.sn("file", "--path", "*\\report.xlsx", "/CLOSE", user=OP)
    check(r.rc == 2 and "/Y" in r.err and "terminal" in r.err and x.is_open("k1", "Finance/Q3/report.xlsx")
          and x.is_open("k2", "close/report.xlsx"),
          "file --path GLOB /CLOSE without /Y and without a terminal: exit 2, nothing closed", r)
    argv = ["-S", f"{x.name(0)},{x.name(1)}", "-U", f"{OP}%{PW}", "file", "--path", "*\\report.xlsx", "/CLOSE"]
    rn = pty_run(argv, [(re.escape(QUESTION), "n")])
    pre = rn.out.split(QUESTION)[0]
    want_pre = (f"These files on {x.name(0)} will be closed:\n"
                f"  {tid[targets[0]]}  {x.remote(0, 'Finance/Q3/report.xlsx')}  (user {CAROL})\n"
                f"These files on {x.name(1)} will be closed:\n"
                f"  {tid[targets[1]]}  {x.remote(1, 'close/report.xlsx')}  (user {CAROL})\n")
    check(rn.rc == 1 and pre.endswith(want_pre) and "nothing was done" in rn.out
          and x.is_open("k1", "Finance/Q3/report.xlsx") and x.is_open("k2", "close/report.xlsx"),
          "on a terminal it shows exactly the files it will close, server by server, and asks; n: nothing closed",
          f"{rn}\n--- wanted before the question\n{want_pre}")
    r = x.sn("--json", "file", "--path", "*\\report.xlsx", "/CLOSE", "/Y", user=OP)
    d = r.json() or {}
    want_done = [{"server": x.name(i), "operation": "file_close", "id": tid[(i, rel)], "path": x.remote(i, rel),
                  "user": CAROL} for i, rel in targets]
    check(r.rc == 0 and d.get("done") == want_done and d.get("errors") == []
          and x.closed_within("k1", "Finance/Q3/report.xlsx") and x.closed_within("k2", "close/report.xlsx")
          and x.is_open("k1", "close/keep.txt") and x.is_open("k2", "close/other.txt"),
          "--json --path GLOB /CLOSE /Y: one done entry per file on both servers; those handles are dead, "
          "the holder's others live", r)

    keep = ids[(0, x.remote(0, "close/keep.txt"))]
    r = x.sn("file", "--path", "*\\KEEP.TXT", "/CLOSE", "/Y", user=OP)
    check(r.rc == 0 and r.out == f"File ID {keep} on {x.name(0)} has been closed.\nThe command completed successfully.\n"
          and x.closed_within("k1", "close/keep.txt"),
          "file --path GLOB /CLOSE /Y as text: 'File ID N on SERVER has been closed.' for the one file that matches",
          r)

    x.add("k3", 0, CAROL, "127.0.0.4", ["close/c1.txt"])
    x.handles["k2"]["close/c2.txt"] = x.clients["k2"][0].open("share", "close/c2.txt")
    carol = {(x.name(i), e["fid"]): e["path"] for i in (0, 1) for e in x.files(i) if e["user"] == CAROL}
    gone = ids[(1, x.remote(1, "close/other.txt"))]

    def close_one_first():
        x.clients["k2"][0].close_file(x.handles["k2"]["close/other.txt"])  # gone before smbnet acts
        return "y"

    argv = ["-S", f"{x.name(0)},{x.name(1)}", "-U", f"{OP}%{PW}", "file", "--client-user", CAROL, "/CLOSE"]
    r = pty_run(argv, [(re.escape(QUESTION), close_one_first)])
    closed = sorted((s_, int(i)) for i, s_ in re.findall(r"^File ID (\d+) on (\S+) has been closed\.$", r.out, re.M))
    errs = re.findall(r"^smbnet: (\S+): no such file id (\d+): .*\(ERROR_FILE_NOT_FOUND\)$", r.out, re.M)
    check(r.rc == 1 and closed == sorted(k for k in carol if k != (x.name(1), gone)) and len(closed) == 3
          and errs == [(x.name(1), str(gone))] and "completed successfully" not in r.out
          and x.closed_within("k3", "close/c1.txt") and x.closed_within("k2", "close/c2.txt"),
          f"--client-user {CAROL} /CLOSE on both servers while one of the files is closed by its holder after the "
          "question: the others are closed, one error for that file, exit 1", r)
    r = x.sn("--json", "file", "--path", "*\\no-such-file.none", "/CLOSE", "/Y", user=OP)
    rt = x.sn("file", "--path", "*\\no-such-file.none", "/CLOSE", "/Y", user=OP)
    check(r.rc == 0 and r.json() == {"done": [], "errors": []} and rt.rc == 0 and "nothing was done" in rt.out,
          "a pattern that matches nothing: nothing to do, exit 0", f"{r}\n{rt}")
    for n in ("k1", "k2", "k3"):
        x.clients[n][0].close()


def delete_checks(x):
    x.add("d1", 0, BOB, "127.0.0.5")
    x.add("d2", 1, BOB, "127.0.0.5")
    x.add("d3", 1, BOB, "127.0.0.6")
    x.add("e1", 0, CAROL, "127.0.0.5")
    x.add("e2", 1, CAROL, "127.0.0.6")
    bob_names = [n for n, v in x.clients.items() if v[3] == BOB and v[0].conn is not None]
    alive = lambda names: [n for n in names if x.clients[n][0].echo()]  # noqa: E731

    r = x.sn("session", "--client-user", BOB, "/DELETE", user=ROOT)
    check(r.rc == 2 and "/Y" in r.err and len(alive(bob_names)) == len(bob_names),
          "session --client-user U /DELETE without /Y and without a terminal: exit 2, all live", r)
    argv = ["-S", f"{x.name(0)},{x.name(1)}", "-U", f"{ROOT}%{PW}", "session", "--client-user", BOB, "/DELETE"]
    rn = pty_run(argv, [(re.escape(QUESTION), "n")])
    pre = rn.out.split(QUESTION)[0]
    blocks = re.findall(r"^These sessions on (\S+) will be ended:\n((?:  .*\n)+)", pre, re.M)
    shown = {s: Counter(tuple(line.split()[:2]) for line in body.splitlines()) for s, body in blocks}
    want = {x.name(i): Counter((f"\\\\{v[2]}", BOB) for v in x.clients.values()
                               if v[3] == BOB and v[1] == i and v[0].conn is not None) for i in (0, 1)}
    check(rn.rc == 1 and shown == want and len(alive(bob_names)) == len(bob_names),
          f"on a terminal: {BOB}'s sessions, server by server, then the question; n: all live", f"{rn}\n{want}")
    orc = [Counter((e["client"], e["user"]) for e in netsessenum(x.srv[i], ADMIN, PW) if e["user"] == BOB)
           for i in (0, 1)]
    r = x.sn("--json", "session", "--client-user", BOB, "/DELETE", "/Y", user=ROOT)
    d = r.json() or {}
    end = time.monotonic() + 10
    while time.monotonic() < end and alive(bob_names):
        time.sleep(0.2)
    got = [Counter((e["client"], e["user"]) for e in d.get("done", []) if e["server"] == x.name(i)) for i in (0, 1)]
    check(r.rc == 0 and got == orc and sum(sum(c.values()) for c in orc) == len(bob_names) and d.get("errors") == []
          and all(e["operation"] == "session_delete" for e in d.get("done", []))
          and not alive(bob_names) and alive(["e1", "e2"]) == ["e1", "e2"],
          f"--json session --client-user {BOB} /DELETE /Y: one done entry per session on both servers (as "
          f"rpcclient listed them), they are gone, {CAROL}'s live", r)
    for n in bob_names:
        x.clients[n][0].close()
    r = x.sn("--json", "session", "--client-user", BOB, "/DELETE", "/Y", user=ROOT)
    d = r.json() or {}
    check(r.rc == 1 and d.get("done") == [] and sorted(e["server"] for e in d.get("errors", [])) ==
          sorted([x.name(0), x.name(1)]) and all(e["code"] == "NERR_ClientNameNotFound" for e in d["errors"]),
          "again, with none left anywhere: exit 1, NERR_ClientNameNotFound from each server", r)


# ---- --watch

class Watcher:
    """smbnet --watch running in the background; its stdout read line by line."""

    def __init__(self, *argv):
        self.p = subprocess.Popen([SMBNET, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        self.lines = []
        self.buf = b""

    def read_until(self, pred, timeout):
        """Lines read so far until pred(line) is true for a new line; that line, or None."""
        end = time.monotonic() + timeout
        start = len(self.lines)
        while True:
            for line in self.lines[start:]:
                if pred(line):
                    return line
            start = len(self.lines)
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.2))
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    return None
                self.buf += data
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    self.lines.append(line.decode("utf-8", "replace"))

    def stop(self, sig=signal.SIGINT, timeout=10):
        t0 = time.monotonic()
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        err = self.p.stderr.read().decode("utf-8", "replace")
        self.p.stdout.close()
        self.p.stderr.close()
        return rc, time.monotonic() - t0, err

    def shown(self):
        return "\n".join(self.lines[-60:])


def events(w, after=0):
    out = []
    for line in w.lines[after:]:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({"bad": line})
    return out


def watch_checks(x):
    relay = Relay(x.srv[1].port)
    relay.start()
    second = f"127.0.0.1:{relay.port}"
    w = Watcher("-S", f"{x.name(0)},{second}", "-U", f"{ADMIN}%{PW}", "--timeout", "2", "--json",
                "--watch", "0.5", "file", "--path", "*\\watch\\*")
    try:
        c = x.add("w1", 1, CAROL, "127.0.0.7")
        first = w.read_until(lambda line: True, 3)  # about five rounds
        n0 = len(w.lines)
        h = c.open("share", "watch/w.txt")
        x.handles["w1"]["watch/w.txt"] = h
        path = x.remote(1, "watch/w.txt")
        fid = next(e["fid"] for e in x.files(1) if e["path"] == path)
        opened = w.read_until(lambda line: '"opened"' in line, 15)
        ev = json.loads(opened) if opened else {}
        check(first is None and ev == {"event": "opened", "server": second,
                                       "file": {"id": fid, "path": path, "user": CAROL, "num_locks": 0,
                                                "permissions": ev.get("file", {}).get("permissions")}}
              and all("event" in e for e in events(w, n0)),
              "--json --watch file: nothing at first (no file matches), then one 'opened' event with the server as "
              "written and the file as rpcclient lists it", w.shown())
        c.close_file(h)
        closed = w.read_until(lambda line: '"closed"' in line, 15)
        ev = json.loads(closed) if closed else {}
        check(ev.get("event") == "closed" and ev.get("server") == second and ev.get("file", {}).get("id") == fid,
              "closing it: one 'closed' event for that file", w.shown())
        relay.stop()
        down = w.read_until(lambda line: '"server_down"' in line, 20)
        ev = json.loads(down) if down else {}
        check(ev.get("server") == second and ev.get("error", {}).get("code") == "ECONNREFUSED"
              and w.p.poll() is None,
              "the second server goes away: one 'server_down' event with the error; smbnet watches on", w.shown())
        h2 = c.open("share", "watch/while-down.txt")
        x.handles["w1"]["watch/while-down.txt"] = h2
        relay.start()
        n1 = len(w.lines)
        up = w.read_until(lambda line: '"server_up"' in line, 20)
        w.read_until(lambda line: '"opened"' in line, 10)
        evs = events(w, n1)
        check(up is not None and [e.get("event") for e in evs[:2]] == ["server_up", "opened"]
              and evs[1].get("file", {}).get("path") == x.remote(1, "watch/while-down.txt"),
              "it comes back: 'server_up', then the file opened while it was away", w.shown())
    finally:
        relay.stop()
        rc, secs, err = w.stop(signal.SIGINT)
    check(rc == 0 and secs < 5, f"SIGINT ends --watch with exit 0 ({secs:.1f} s)", f"exit {rc}\n{err}")

    w = Watcher("-S", f"{x.name(0)},{x.name(1)}", "-U", f"{ADMIN}%{PW}", "--watch", "0.5", "session",
                "--client-user", BOB)
    try:
        head = w.read_until(lambda line: "There are no entries" in line or line.startswith("---"), 15)
        n0 = len(w.lines)
        b = x.add("wb", 0, BOB, "127.0.0.3")
        plus = w.read_until(lambda line: line.startswith("+ "), 15)
        b.close()
        minus = w.read_until(lambda line: line.startswith("- "), 15)
        changes = [line for line in w.lines[n0:] if line[:2] in ("+ ", "- ", "! ")]
        want = f"{x.name(0)}  \\\\127.0.0.3  {BOB}"
        check(head is not None and plus == f"+ {want}" and minus == f"- {want}" and changes == [plus, minus],
              f"--watch session --client-user {BOB}: the list once, then '+ SERVER  \\\\CLIENT  USER' when {BOB} "
              "logs on and '- ...' when he logs off, nothing else", w.shown())
    finally:
        rc, secs, err = w.stop(signal.SIGTERM)
    check(rc == 0 and secs < 5, f"SIGTERM ends --watch with exit 0 ({secs:.1f} s)", f"exit {rc}\n{err}")
    r = x.sn("--watch", "1", "file", "7", servers=x.name(0))
    r2 = x.sn("--watch", "0", "file")
    check(r.rc == 2 and "--watch" in r.err and r2.rc == 2, "--watch with a file ID, or 0 seconds: usage errors",
          f"{r}\n{r2}")


def main():
    if SMBNET is None or not os.access(SMBNET, os.X_OK):
        print("1..1\nnot ok 1 - usage: fleet.py SMBNET")
        return 1
    plan = 3 + 2 + 4 + 1 + 6 + 4 + 8
    print(f"1..{plan}", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smbsess-fleet-") as tmp:
        os.chmod(tmp, 0o755)
        dead = sambatest.free_port("::1") if socket.has_ipv6 else sambatest.free_port()
        with SmbServer(os.path.join(tmp, "s1")) as s1, SmbServer(os.path.join(tmp, "s2")) as s2:
            for srv in (s1, s2):
                for u, admin in ((ADMIN, True), (BOB, False), (CAROL, False), (OP, True),
                                 (ROOT, True)):
                    srv.add_user(u, PW, admin=admin)
                srv.grant(OP, "SeDiskOperatorPrivilege")
                share = srv.share_path("share")
                for d in ("Finance/Q3", "Finance/q4", "Other", "close", "watch"):
                    os.makedirs(os.path.join(share, d), mode=0o777, exist_ok=True)
                for dp, dn, _ in os.walk(share):
                    for n in dn:
                        os.chmod(os.path.join(dp, n), 0o777)
            x = Fleet(s1, s2, tmp)
            try:
                x.add("a1", 0, BOB, "127.0.0.2", ["Finance/Q3/budget.xlsx", "Finance/q4/plan.xlsm", "Other/" + UNI])
                x.add("a2", 1, BOB, "127.0.0.2", ["Other/budget.xlsx", "Other/notes.txt"])
                x.add("a3", 1, CAROL, "127.0.0.3", ["Finance/Q3/Budget.xlsx"])
                x.files(0), x.files(1)  # rpcd on both servers started before the tests ask them at once
                timings["setup"] = time.monotonic() - t0
                section("lists", 3, lists_checks, x, dead)
                section("parallel", 2, parallel_checks, x)
                section("glob", 4, glob_checks, x)
                section("base path", 1, base_path_checks, x)
                section("close", 6, close_checks, x)
                section("delete", 4, delete_checks, x)
                section("watch", 8, watch_checks, x)
            finally:
                for v in x.clients.values():
                    v[0].close()
    timings["total"] = time.monotonic() - t0
    diag("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return 0 if all(results) and len(results) == plan else 1


if __name__ == "__main__":
    sys.exit(main())
