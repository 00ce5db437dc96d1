#!/usr/bin/python3
"""The Python binding (examples/python, package smbsess) against real Samba.

Independent clients hold the sessions and open files: impacket from the
source addresses 127.0.0.2 and 127.0.0.3, smbclient for a name outside the
BMP. rpcclient (netsessenum, netfileenum, netconnenum, parsed by the
harness) and smbnet --json are what the binding's answers are compared
with; closing and ending are checked on the server's side. TAP.

  * the package without a server: loading (SMBSESS_LIBRARY, the dynamic
    linker's path, a clear error without either), the constructors, typing;
  * every call: sessions (filters), files (filters), file, connections,
    close_file, delete_sessions; field names and values as smbnet's JSON;
  * Unicode paths exact: precomposed and decomposed forms, CJK, a name
    outside the BMP;
  * every error class, each with its status name, domain, code and message;
  * list_many: several servers at once on one event loop, one thread, with
    per-server results and errors, all connections open at the same time;
  * 1,000 calls in one process: RSS, the binding's talloc contexts and the
    whole process's talloc memory (null tracking) stay flat;
  * examples/python/who_has_open.py.

usage: binding.py --lib LIBSMBSESS --smbnet SMBNET --source DIR --version V
Runs as root with Debian's /usr/bin/python3 (impacket); see tests/harness.
"""
import argparse
import ctypes
import dataclasses
import inspect
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tap import check, diag, results, section, timings  # noqa: E402
import sambatest  # noqa: E402
from sambatest import ImpacketClient, SmbclientHolder, SmbServer, netfileenum, netsessenum  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--lib", required=True)
ap.add_argument("--smbnet", required=True)
ap.add_argument("--source", required=True)
ap.add_argument("--version", required=True)
A = ap.parse_args()
LIB = os.path.abspath(A.lib)
PYDIR = os.path.join(A.source, "examples", "python")

# The process's talloc memory is counted from here on (null tracking must
# be on before the allocations it should see).
_talloc = ctypes.CDLL("libtalloc.so.2")
_talloc.talloc_enable_null_tracking()
_talloc.talloc_total_blocks.restype = ctypes.c_size_t
_talloc.talloc_total_blocks.argtypes = [ctypes.c_void_p]
_talloc.talloc_total_size.restype = ctypes.c_size_t
_talloc.talloc_total_size.argtypes = [ctypes.c_void_p]

os.environ["SMBSESS_LIBRARY"] = LIB
sys.path.insert(0, PYDIR)
import smbsess  # noqa: E402
from smbsess import _native  # noqa: E402

PW = "Py!pw-5173"
ADMIN, BOB, CAROL, ROOT = "spy_admin", "spy_bob", "spy_carol", "root"
ADDR2, ADDR3 = "127.0.0.2", "127.0.0.3"
# Names whose bytes must come back exactly: precomposed and decomposed
# (two different files), CJK, and one outside the BMP (a surrogate pair in
# UTF-16; impacket 0.10 miscounts those, so smbclient holds it).
NAMES_BOB = ["Grüße.txt", "cafe\u0301.txt", "caf\u00e9.txt", "報告 2024.docx"]
NAME_EMOJI = "emoji-😀.txt"
ERROR_CLASSES = {smbsess.AccessDenied, smbsess.NotFound, smbsess.AuthError, smbsess.Timeout,
                 smbsess.ConnectError, smbsess.ProtocolError, smbsess.NotSupported,
                 smbsess.LimitExceeded, smbsess.InvalidArgument}
seen_errors = set()


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(args, **kw)


def expect_error(cls, fn, what, name=None):
    """Calls fn; checks that it raises cls (with status name `name`)."""
    try:
        fn()
    except smbsess.SmbsessError as e:
        seen_errors.add(type(e))
        ok = type(e) is cls and (name is None or e.name == name) and e.message and e.domain_name \
            and isinstance(e.code, int) and e.name in str(e) and e.message in str(e)
        check(ok, f"{what}: {cls.__name__} {e.name} ({e.domain_name} {e.code:#x}): {e.message}",
              f"got {type(e).__name__}: {e}")
        return e
    except Exception as e:  # noqa: BLE001
        check(False, f"{what}: {cls.__name__}", f"got {type(e).__name__}: {e}")
        return None
    check(False, f"{what}: {cls.__name__}", "no exception")
    return None


def windows_path(srv, name, share="share"):
    return "C:" + srv.share_path(share).replace("/", "\\") + "\\" + name


# --------------------------------------------------------------------------
# without a server

def sec_offline():
    check(smbsess.library_path() == LIB and smbsess.library_version() == A.version
          and smbsess.__version__ == A.version,
          f"SMBSESS_LIBRARY names the library; library and package are version {A.version}",
          f"{smbsess.library_path()} {smbsess.library_version()} {smbsess.__version__}")
    code = ("import smbsess, sys; print(smbsess.library_path()); print(smbsess.library_version())")
    env = {k: v for k, v in os.environ.items() if k != "SMBSESS_LIBRARY"}
    env.update(PYTHONPATH=PYDIR, LD_LIBRARY_PATH=os.path.dirname(LIB))
    r = run([sys.executable, "-c", code], env=env)
    check(r.returncode == 0 and r.stdout.split() == ["libsmbsess.so.0", A.version],
          "without SMBSESS_LIBRARY it loads libsmbsess.so.0 by the dynamic linker's search (LD_LIBRARY_PATH)",
          r.stdout + r.stderr)
    env.update(LD_LIBRARY_PATH="", SMBSESS_LIBRARY=os.path.join(tempfile.gettempdir(), "no-such-libsmbsess.so.0"))
    r = run([sys.executable, "-c", "import smbsess\ntry:\n smbsess.library_version()\n"
             "except smbsess.LibraryNotFound as e:\n print('LNF', e)"], env=env)
    check(r.returncode == 0 and r.stdout.startswith("LNF") and "SMBSESS_LIBRARY" in r.stdout,
          "a library that cannot be loaded raises LibraryNotFound, which says how to point at one",
          r.stdout + r.stderr)
    r = run([sys.executable, "-c", "import smbsess, sys; print('_native' in dir(smbsess), "
             "smbsess._native._native is None)"], env=env)
    check(r.returncode == 0 and r.stdout.split() == ["True", "True"],
          "import smbsess loads nothing until a call needs the library", r.stdout + r.stderr)
    try:
        smbsess.Credentials()
        check(False, "Credentials() is refused: the class methods make credentials")
    except TypeError:
        check(True, "Credentials() is refused: the class methods make credentials")
    e = expect_error(smbsess.InvalidArgument, lambda: smbsess.Credentials.keytab(""),
                     "an empty keytab path (refused by the library)", "SMBSESS_E_INVALID_ARGUMENT")
    check(isinstance(e, ValueError), "InvalidArgument is also a ValueError")
    creds = smbsess.Credentials.password("EXAMPLE\\someone", "pw")
    check(repr(creds) == "<smbsess.Credentials password>" and smbsess.Credentials.kerberos().kind == "kerberos",
          "Credentials.password() and .kerberos() make credentials", repr(creds))
    for bad in (lambda: smbsess.Connection("x", creds, port=0), lambda: smbsess.Connection("x", creds, timeout=0),
                lambda: smbsess.Connection("x", creds, signing="sometimes")):
        try:
            bad()
            check(False, "bad port, timeout or policy raise ValueError before connecting")
        except ValueError as e:
            check(not isinstance(e, smbsess.SmbsessError),
                  f"a bad port, timeout or policy raises ValueError before connecting: {e}")
    P = smbsess.Server.parse
    check(P("fs1") == smbsess.Server("fs1") and P("fs1:4450") == smbsess.Server("fs1", 4450)
          and P("[::1]:4450") == smbsess.Server("::1", 4450) and P("[fe80::1]") == smbsess.Server("fe80::1")
          and P("fe80::1") == smbsess.Server("fe80::1"),
          "Server.parse: host, host:port, [v6], [v6]:port, bare v6")
    s = smbsess.Session("fs1", client="c", user="u")
    try:
        s.user = "x"  # type: ignore[misc]
        check(False, "the records are frozen dataclasses")
    except dataclasses.FrozenInstanceError:
        check(True, "the records are frozen dataclasses")
    # Error classes by status, the names coming from the library's own tables.
    mk = lambda d, c: smbsess.client.make_error(_native.Status(d, c))  # noqa: E731
    cases = [((3, 0xC000006D), smbsess.AuthError, "STATUS_LOGON_FAILURE"),
             ((4, 5), smbsess.AccessDenied, "ERROR_ACCESS_DENIED"),
             ((4, 2314), smbsess.NotFound, "NERR_FileIdNotFound"),
             ((2, 111), smbsess.ConnectError, "ECONNREFUSED"),
             ((1, 4), smbsess.Timeout, "SMBSESS_E_TIMEOUT"),
             ((5, 1), smbsess.ProtocolError, "NDR_E_SHORT"),
             ((5, 5), smbsess.LimitExceeded, "NDR_E_TOO_MANY"),
             ((8, 0x96C73A25), smbsess.AuthError, "KRB5KRB_AP_ERR_SKEW"),
             ((6, 0x1C010002), smbsess.NotSupported, "nca_s_op_rng_error"),
             ((3, 0xC0000001), smbsess.SmbsessError, "STATUS_UNSUCCESSFUL")]
    bad = [(st, type(mk(*st)).__name__, mk(*st).name) for st, cls, name in cases
           if type(mk(*st)) is not cls or mk(*st).name != name]
    check(not bad, f"statuses map to their classes ({len(cases)} cases, named by the library)", repr(bad))
    # Typing: py.typed, and every public callable annotated.
    missing = []
    for name in smbsess.__all__:
        obj = getattr(smbsess, name)
        fns = []
        if inspect.isfunction(obj):
            fns.append((name, obj))
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            fns += [(f"{name}.{n}", getattr(obj, n)) for n, f in vars(obj).items()
                    if not n.startswith("_") and (inspect.isfunction(f) or isinstance(f, classmethod))]
            if "__init__" in vars(obj):
                fns.append((f"{name}.__init__", obj.__init__))
        for fname, fn in fns:
            sig = inspect.signature(fn)
            for p in sig.parameters.values():
                if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty:
                    missing.append(f"{fname}({p.name})")
            if sig.return_annotation is inspect.Signature.empty:
                missing.append(f"{fname} -> ?")
    check(os.path.exists(os.path.join(PYDIR, "smbsess", "py.typed")) and not missing,
          "typed: py.typed is there and every public function and method is annotated", ", ".join(missing))


# --------------------------------------------------------------------------
# against Samba

class Silent:
    """A TCP listener that accepts and never answers (for Timeout and for
    seeing connections of list_many open at the same time). A real server
    would answer: this fault is one it does not make."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.open_at_once = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            c.setblocking(False)
            self.conns.append(c)
            self.open_at_once = max(self.open_at_once, sum(1 for x in self.conns if _still_open(x)))

    def close(self):
        self._stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


def _still_open(c):
    try:
        return c.recv(65536, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class Junk:
    """Answers every connection with bytes that are no SMB2 message: a fault
    no real server makes (ProtocolError)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
                c.recv(4096)
                c.sendall(b"\x00\x00\x00\x14" + b"\xfeSMB" + b"\x00" * 16)
                time.sleep(0.5)
                c.close()
            except OSError:
                return

    def close(self):
        self.sock.close()


def smbnet_json(srv, verb, user=ADMIN):
    r = run([A.smbnet, "-S", "127.0.0.1", "-p", str(srv.port), "-U", f"{user}%{PW}", "--json", verb])
    try:
        return json.loads(r.stdout)
    except ValueError:
        diag(r.stdout + r.stderr)
        return {}


def sec_calls(srv, admin, root_creds, holders):
    with smbsess.Connection("127.0.0.1", admin, port=srv.port) as conn:
        check(conn.auth == smbsess.Auth.NTLM and conn.dialect == smbsess.Dialect.SMB_3_1_1 and conn.signed,
              f"connected: {conn!r}, signed")
        # --- sessions
        mine = conn.sessions()
        oracle = netsessenum(srv, ADMIN, PW)
        ours = {(s.client, s.user, s.num_opens) for s in mine if s.client in (ADDR2, ADDR3)}
        theirs = {(o["client"], o["user"], o["num_open"]) for o in oracle if o["client"] in (ADDR2, ADDR3)}
        check(ours == theirs and (ADDR2, BOB) in {(c, u) for c, u, _ in ours}
              and (ADDR3, CAROL) in {(c, u) for c, u, _ in ours},
              f"sessions(): the impacket sessions from {ADDR2} and {ADDR3} as rpcclient lists them",
              f"binding {sorted(ours)}\nrpcclient {sorted(theirs)}")
        check(all(isinstance(s, smbsess.Session) and s.server == "127.0.0.1" and s.time is not None for s in mine),
              "sessions() returns Session records with the server and the level's fields")
        by_client = conn.sessions(client=ADDR2)
        by_unc = conn.sessions(client="\\\\" + ADDR2)
        by_user = conn.sessions(user=CAROL)
        check({(s.client, s.user) for s in by_client} == {(ADDR2, BOB)} and by_unc == by_client
              and {(s.client, s.user) for s in by_user} == {(s.client, s.user) for s in mine if s.user == CAROL}
              and (ADDR3, CAROL) in {(s.client, s.user) for s in by_user},
              "sessions(client=...) with or without \\\\, and sessions(user=...), filter",
              f"{by_client}\n{by_unc}\n{by_user}")
        j = smbnet_json(srv, "session")
        jrows = {(r_.get("client"), r_.get("user")): r_ for r_ in j.get("sessions", [])}
        s = next((x for x in mine if x.client == ADDR2), None)
        jr = jrows.get((ADDR2, BOB), {})
        have = {k for k, v in dataclasses.asdict(s).items() if v is not None} if s else set()
        check(s and have == set(jr) and all(jr[k] == getattr(s, k) for k in ("server", "client", "user", "num_opens")),
              "a Session has the keys smbnet --json session gives it, with the same values",
              f"binding {sorted(have)}\nsmbnet  {sorted(jr)}\n{jr}")

        # --- files
        files = conn.files()
        oracle = netfileenum(srv, ADMIN, PW)
        ours = sorted((f.id, f.path, f.user, f.num_locks, f.permissions) for f in files)
        theirs = sorted((o["fid"], o["path"], o["user"], o["num_locks"], o["permissions"]) for o in oracle)
        check(ours == theirs and len(ours) == len(NAMES_BOB) + 2,
              f"files(): the {len(theirs)} open files exactly as rpcclient lists them", f"{ours}\n{theirs}")
        paths = {f.path for f in files}
        want = {windows_path(srv, n) for n in NAMES_BOB + [NAME_EMOJI, "dir/carol.txt".replace("/", "\\")]}
        check(paths == want, "Unicode paths exact: precomposed and decomposed é apart, CJK, 😀 (a surrogate pair)",
              "\n".join(ascii(p) for p in sorted(paths ^ want)))
        emoji = [f for f in files if f.path.endswith(NAME_EMOJI)]
        check(emoji and emoji[0].path.encode("utf-8").endswith("emoji-\xf0\x9f\x98\x80.txt".encode("latin-1")),
              "the name outside the BMP arrives as its 4-byte UTF-8 form", ascii(emoji))
        j = smbnet_json(srv, "file")
        jfiles = {r_["id"]: r_ for r_ in j.get("files", []) if "id" in r_}
        f0 = next(f for f in files if f.path.endswith(NAMES_BOB[0]))
        have = {k for k, v in dataclasses.asdict(f0).items() if v is not None}
        jr = jfiles.get(f0.id, {})
        check(have == set(jr) and all(jr[k] == getattr(f0, k) for k in jr) and len(jfiles) == len(files),
              "an OpenFile has the keys and values smbnet --json file gives it", f"{dataclasses.asdict(f0)}\n{jr}")
        bobs = conn.files(user=BOB)
        check(sorted(f.id for f in bobs) == sorted(f.id for f in files if f.user == BOB) and len(bobs) == len(NAMES_BOB)
              and all(f.user == BOB for f in bobs), "files(user=...) lists that user's files only", repr(bobs))
        sub = windows_path(srv, "dir")
        under = conn.files(path=sub)
        check([f.path for f in under] == [windows_path(srv, "dir\\carol.txt")],
              "files(path=...) lists the files under that path only", repr(under))
        one = conn.file(f0.id)
        check(one == f0, "file(id) is that file's record (Samba: answered from an enumeration)", f"{one}\n{f0}")

        # --- tree connections
        r = sambatest.rpcclient(srv, ADMIN, PW, "netconnenum", debug_ndr=True)
        orecs, result = sambatest.parse_ndr_out(r.output, "srvsvc_NetConnEnum")
        tc = conn.connections("IPC$")
        # Samba 4.17 answers one made-up entry per call (user "dummy_user",
        # the id counting calls): compare what does not depend on the caller.
        ours = {(t.type, t.num_users, t.user, t.share) for t in tc}
        theirs = {(o.get("conn_type"), o.get("num_users"), o.get("user"), o.get("share")) for o in orecs}
        check(result == "WERR_OK" and tc and ours == theirs,
              "connections('IPC$'): TreeConnection records as rpcclient netconnenum lists them",
              f"binding {tc}\nrpcclient {orecs} {result}")

    # --- closing and ending, checked on the server's side
    carol_client, bob_client, bob_handles = holders
    victim = next(f for f in files if f.path.endswith(NAMES_BOB[1]))
    with smbsess.Connection("127.0.0.1", smbsess.Credentials.password(BOB, PW), port=srv.port) as conn:
        expect_error(smbsess.AccessDenied, lambda: conn.close_file(victim.id),
                     "close_file as a user without administrative rights", "ERROR_ACCESS_DENIED")
    with smbsess.Connection("127.0.0.1", admin, port=srv.port) as conn:
        conn.close_file(victim.id)
        left = {o["fid"] for o in netfileenum(srv, ADMIN, PW)}
        h = bob_handles[NAMES_BOB[1]]
        try:
            bob_client.read(h)
            gone = False
        except Exception:  # noqa: BLE001 - impacket's SessionError: the handle is closed
            gone = True
        check(victim.id not in left and gone and len(left) == len(files) - 1,
              "close_file(id): rpcclient no longer lists it and the holder's handle is dead", repr(left))
        expect_error(smbsess.NotFound, lambda: conn.close_file(victim.id), "close_file of an id no longer open",
                     "ERROR_FILE_NOT_FOUND")
        expect_error(smbsess.NotFound, lambda: conn.file(victim.id), "file() of an id no longer open",
                     "NERR_FileIdNotFound")
    # Ending sessions takes root (or Domain Admins) on Samba.
    with smbsess.Connection("127.0.0.1", root_creds, port=srv.port) as conn:
        expect_error(smbsess.AccessDenied, lambda: conn.delete_sessions(client="127.0.0.99"),
                     "delete_sessions for a client without sessions (Samba answers access denied when "
                     "nothing matched)", "ERROR_ACCESS_DENIED")
        conn.delete_sessions(client=ADDR3)
        time.sleep(0.3)
        clients = {o["client"] for o in netsessenum(srv, ADMIN, PW)}
        check(ADDR3 not in clients and ADDR2 in clients and not carol_client.echo() and bob_client.echo(),
              "delete_sessions(client=...): that client's session is gone on the server, the other one stays",
              repr(clients))


def sec_errors(srv, admin):
    expect_error(smbsess.AccessDenied,
                 lambda: smbsess.Connection("127.0.0.1", smbsess.Credentials.password(BOB, PW), port=srv.port).sessions(),
                 "sessions() as a user without administrative rights", "ERROR_ACCESS_DENIED")
    expect_error(smbsess.AuthError,
                 lambda: smbsess.Connection("127.0.0.1", smbsess.Credentials.password(ADMIN, "wrong"), port=srv.port),
                 "a wrong password", "STATUS_LOGON_FAILURE")
    silent = Silent()
    try:
        expect_error(smbsess.Timeout, lambda: smbsess.Connection("127.0.0.1", admin, port=silent.port, timeout=1),
                     "a server that never answers, timeout 1 s", "SMBSESS_E_TIMEOUT")
    finally:
        silent.close()
    closed = sambatest.free_port()
    expect_error(smbsess.ConnectError, lambda: smbsess.Connection("127.0.0.1", admin, port=closed),
                 "a port nobody listens on", "ECONNREFUSED")
    junk = Junk()
    try:
        expect_error(smbsess.ProtocolError, lambda: smbsess.Connection("127.0.0.1", admin, port=junk.port, timeout=5),
                     "a peer that answers with bytes that are not SMB2", "SMBSESS_E_PROTOCOL")
    finally:
        junk.close()
    expect_error(smbsess.NotSupported,
                 lambda: smbsess.Connection("127.0.0.1", admin, port=srv.port, encryption="required",
                                            dialects=(smbsess.Dialect.SMB_2_0_2, smbsess.Dialect.SMB_2_1)),
                 "encryption required on dialects without encryption", "SMBSESS_E_NOT_SUPPORTED")
    with smbsess.Connection("127.0.0.1", admin, port=srv.port, max_entries=1) as conn:
        expect_error(smbsess.LimitExceeded, conn.sessions, "sessions() with max_entries=1 and more sessions",
                     "SMBSESS_E_LIMIT")
    with smbsess.Connection("127.0.0.1", admin, port=srv.port, max_bytes=1024) as conn:
        expect_error(smbsess.LimitExceeded, conn.files, "files() with a byte budget of 1 KiB (max_bytes, libsmbsess 0.2)",
                     "SMBSESS_E_LIMIT")
    with smbsess.Connection("127.0.0.1", admin, port=srv.port, max_bytes=1 << 20) as conn:
        within, unbounded = conn.files(), smbsess.Connection("127.0.0.1", admin, port=srv.port).files()
        check(within and within == unbounded, "files() within a byte budget of 1 MiB lists them all",
              f"{within}\n{unbounded}")
    expect_error(smbsess.InvalidArgument, lambda: smbsess.Connection("", admin, port=srv.port),
                 "an empty server name", "SMBSESS_E_INVALID_ARGUMENT")
    conn = smbsess.Connection("127.0.0.1", admin, port=srv.port)
    conn.close()
    try:
        conn.sessions()
        check(False, "a closed connection refuses calls with ValueError")
    except ValueError as e:
        check(conn.closed and "closed" in str(e), "a closed connection refuses calls with ValueError")
    check(seen_errors >= ERROR_CLASSES, "every error class was raised by a real failure: "
          + ", ".join(sorted(c.__name__ for c in ERROR_CLASSES)),
          "never raised: " + ", ".join(sorted(c.__name__ for c in ERROR_CLASSES - seen_errors)))


def sec_many(srv, srv2, admin):
    silent = Silent()
    refused = sambatest.free_port()
    try:
        specs = [f"127.0.0.1:{srv.port}", smbsess.Server("localhost", srv2.port, "127.0.0.1"),
                 f"127.0.0.1:{refused}", f"127.0.0.1:{silent.port}", f"127.0.0.1:{silent.port}"]
        res = smbsess.list_many(specs, admin, "files", timeout=3)
        check([r_.server for r_ in res] == [specs[0], f"localhost:{srv2.port}", specs[2], specs[3], specs[4]],
              "list_many: one result per server, in the order given, named as given", repr([r_.server for r_ in res]))
        want1 = sorted(o["fid"] for o in netfileenum(srv, ADMIN, PW))
        want2 = sorted(o["fid"] for o in netfileenum(srv2, ADMIN, PW))
        check(res[0].ok and sorted(f.id for f in res[0].items) == want1 and res[1].ok
              and sorted(f.id for f in res[1].items) == want2 and len(want2) == 1
              and all(f.server == specs[0] for f in res[0].items),
              "list_many: the two Samba servers' open files, as rpcclient lists them", repr(res[:2]))
        check(isinstance(res[2].error, smbsess.ConnectError) and res[2].error.name == "ECONNREFUSED"
              and isinstance(res[3].error, smbsess.Timeout) and isinstance(res[4].error, smbsess.Timeout),
              "list_many: a refused and two silent servers are per-server errors; the others still answered",
              repr(res[2:]))
        check(silent.open_at_once >= 2,
              "list_many: both silent servers had a connection open at the same time (one event loop, "
              "not one server after the other)", f"open at once: {silent.open_at_once}")
        res = smbsess.list_many([f"127.0.0.1:{srv.port}", f"127.0.0.1:{srv2.port}"], admin, "sessions",
                                user=BOB, parallel=1)
        check(all(r_.ok for r_ in res) and {(s.client, s.user) for s in res[0].items} == {(ADDR2, BOB)}
              and res[1].items and all(s.user == BOB for s in res[1].items),
              "list_many sessions with a user filter, one server at a time", repr(res))
        res = smbsess.list_many([f"127.0.0.1:{srv.port}"], smbsess.Credentials.password(BOB, PW), "sessions")
        check(isinstance(res[0].error, smbsess.AccessDenied) and res[0].error.operation == "list sessions",
              "list_many: an error of the listing (not of connecting) is the server's result", repr(res))
    finally:
        silent.close()


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sec_memory(srv, admin):
    null_ctx = None
    n_calls = 1000
    marks = {}
    conn = smbsess.Connection("127.0.0.1", admin, port=srv.port)
    fid = conn.files()[0].id
    kinds = ["sessions", "files", "file", "sessions-filtered", "files-filtered", "connections", "not-found",
             "list_many", "connect", "denied"]
    try:
        for i in range(n_calls):
            k = kinds[i % len(kinds)]
            if k == "sessions":
                conn.sessions()
            elif k == "files":
                conn.files()
            elif k == "file":
                conn.file(fid)
            elif k == "sessions-filtered":
                conn.sessions(client=ADDR2, user=BOB)
            elif k == "files-filtered":
                conn.files(user=BOB)
            elif k == "connections":
                conn.connections("IPC$")
            elif k == "not-found":
                try:
                    conn.file(12345)
                except smbsess.NotFound:
                    pass
            elif k == "list_many":
                smbsess.list_many([f"127.0.0.1:{srv.port}"], admin, "sessions")
            elif k == "connect":
                with smbsess.Connection("127.0.0.1", admin, port=srv.port) as c2:
                    c2.sessions()
            elif k == "denied":
                try:
                    smbsess.Connection("127.0.0.1", smbsess.Credentials.password(ADMIN, "wrong"), port=srv.port)
                except smbsess.AuthError:
                    pass
            if i + 1 in (200, n_calls):
                marks[i + 1] = (rss_kib(), smbsess.talloc_report(),
                                _talloc.talloc_total_blocks(null_ctx), _talloc.talloc_total_size(null_ctx))
    finally:
        conn.close()
    (rss0, rep0, nb0, ns0), (rss1, rep1, nb1, ns1) = marks[200], marks[n_calls]
    diag(f"after 200 calls: RSS {rss0} KiB, binding {rep0}, process talloc {nb0} blocks {ns0} bytes")
    diag(f"after {n_calls} calls: RSS {rss1} KiB, binding {rep1}, process talloc {nb1} blocks {ns1} bytes")
    check(rep1 == rep0 and rep0[0] >= 2,
          f"{n_calls} calls of every kind: the binding's talloc contexts hold the same blocks and bytes after 200 "
          f"and after {n_calls} calls {rep1}", f"{rep0} -> {rep1}")
    check(nb1 == nb0 and ns1 == ns0,
          "the process's whole talloc memory (null tracking) is the same too", f"{nb0}/{ns0} -> {nb1}/{ns1}")
    check(rss1 - rss0 < 1024, f"RSS grows less than 1 MiB from call 200 to call {n_calls} ({rss1 - rss0:+d} KiB)",
          f"{rss0} -> {rss1} KiB")
    conn = None
    import gc
    gc.collect()
    check(smbsess.talloc_report()[0] == 2,
          "closed connections free their memory: only the two credentials main() holds are left",
          repr(smbsess.talloc_report()))


def sec_example(srv, admin_pw_user):
    script = os.path.join(PYDIR, "who_has_open.py")
    env = dict(os.environ, PYTHONPATH=PYDIR, SMBSESS_LIBRARY=LIB)
    base = [sys.executable, script, "-S", f"127.0.0.1:{srv.port}", "-U", f"{admin_pw_user}%{PW}"]
    r = run(base + [NAMES_BOB[0].upper()], env=env)
    lines = [l.split("\t") for l in r.stdout.splitlines()]
    check(r.returncode == 0 and len(lines) == 1 and lines[0][2] == BOB
          and lines[0][3] == windows_path(srv, NAMES_BOB[0]),
          "who_has_open.py NAME prints the holder of that file (name matched without regard to case)",
          r.stdout + r.stderr)
    r = run(base + ["*\\報告 *.DOCX"], env=env)
    check(r.returncode == 0 and [l.split("\t")[3] for l in r.stdout.splitlines()] == [windows_path(srv, NAMES_BOB[3])],
          "who_has_open.py PATTERN matches whole paths", r.stdout + r.stderr)
    r = run(base + ["nobody-has-this.txt"], env=env)
    check(r.returncode == 1 and r.stdout == "", "who_has_open.py exits 1 when nobody has it open", r.stdout + r.stderr)
    r = run([sys.executable, script, "-S", f"127.0.0.1:{srv.port},127.0.0.1:{sambatest.free_port()}",
             "-U", f"{admin_pw_user}%{PW}", NAMES_BOB[0]], env=env)
    check(r.returncode == 3 and BOB in r.stdout and "ECONNREFUSED" in r.stderr,
          "who_has_open.py reports a server it cannot ask (exit 3) and still prints the others",
          r.stdout + r.stderr)


def main():
    print("1..60", flush=True)
    section("offline", 15, sec_offline)
    tmp = tempfile.mkdtemp(prefix="smbsess-py.")
    srv = SmbServer(os.path.join(tmp, "a"))
    srv2 = SmbServer(os.path.join(tmp, "b"))
    try:
        for s in (srv, srv2):
            s.add_user(ADMIN, PW, admin=True)
            s.add_user(BOB, PW)
            s.add_user(CAROL, PW)
            s.add_user(ROOT, PW)
        admin = smbsess.Credentials.password(ADMIN, PW)
        root_creds = smbsess.Credentials.password(ROOT, PW)
        bob = ImpacketClient(srv, BOB, PW, source=ADDR2)
        carol = ImpacketClient(srv, CAROL, PW, source=ADDR3)
        handles = {n: bob.open("share", n) for n in NAMES_BOB}
        carol.mkdir("share", "dir")
        carol.open("share", "dir/carol.txt")
        emoji = SmbclientHolder(srv, "share", CAROL, PW, [NAME_EMOJI])
        bob2 = ImpacketClient(srv2, BOB, PW, source=ADDR2)
        bob2.open("share", "second.txt")
        section("calls", 19, sec_calls, srv, admin, root_creds, (carol, bob, handles))
        section("errors", 12, sec_errors, srv, admin)
        section("list_many", 6, sec_many, srv, srv2, admin)
        section("memory", 4, sec_memory, srv, admin)
        section("example", 4, sec_example, srv, ADMIN)
        emoji.stop()
    finally:
        srv.stop()
        srv2.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    diag("sections: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
