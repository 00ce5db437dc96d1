#!/usr/bin/python3
"""Integration tests of the SMB2/3 transport against real Samba smbd on
loopback (issue: transport). For each server configuration: connect,
authenticate, open \\srvsvc on IPC$, exchange a DCE/RPC bind, close; the
capture of the exchange is decoded by Wireshark (tshark), which must find
no malformed or error-level frame among those our client sent. Then error
paths and the transport behaviour tool. TAP output.

usage: transport.py SMB2_PROBE SMB2_BEHAVIOUR
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import sambatest  # noqa: E402
from tshark_capture import Capture  # noqa: E402

PROBE, BEHAVIOUR = sys.argv[1], sys.argv[2]
USER, PASSWORD = "smbsess_t1", "Tr4nsport!pw"
results = []


def check(ok, what, detail=""):
    results.append(ok)
    line = f"{'ok' if ok else 'not ok'} {len(results)} - {what}"
    print(line + ("" if ok or not detail else f"\n# {detail.strip().replace(chr(10), chr(10) + '# ')}"),
          flush=True)


def probe(srv_port, *extra, host="127.0.0.1", user=USER, password=PASSWORD, timeout=60):
    r = subprocess.run([PROBE, *extra, host, str(srv_port), "WORKGROUP", user, password],
                       capture_output=True, text=True, timeout=timeout)
    fields = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
    return r.returncode, fields, r.stdout + r.stderr



CASES = [
    # (name, server options, probe options, expected dialect, expected cipher or None, encrypted)
    ("SMB 2.0.2 only", {"server max protocol": "SMB2_02"}, [], "0x0202", None, False),
    ("default (3.1.1)", {}, [], "0x0311", None, False),
    ("3.1.1, signing mandatory", {"server signing": "mandatory", "server min protocol": "SMB3_11"}, [],
     "0x0311", None, False),
    ("3.0, signing mandatory (validate negotiate)", {"server max protocol": "SMB3_00",
                                                    "server signing": "mandatory"}, [], "0x0300", None, False),
    ("3.0.2, encryption required", {"server max protocol": "SMB3_02", "server smb encrypt": "required"}, [],
     "0x0302", "1", True),
]
for cipher, cid in (("AES-128-CCM", "1"), ("AES-128-GCM", "2"), ("AES-256-CCM", "3"), ("AES-256-GCM", "4")):
    CASES.append((f"3.1.1, encryption required, {cipher}",
                  {"server smb encrypt": "required", "server smb3 encryption algorithms": cipher}, [],
                  "0x0311", cid, True))
CASES.append(("3.1.1, encryption asked by the client", {}, ["--encrypt", "required"], "0x0311", None, True))
CASES.append(("client pinned to 2.1", {}, ["--max", "0x0210"], "0x0210", None, False))


def run_case(tmp, name, opts, extra, dialect, cipher, encrypted):
    with sambatest.SmbServer(options=opts) as srv:
        srv.add_user(USER, PASSWORD, admin=True)
        cap = Capture(srv.port, os.path.join(tmp, f"cap{len(results)}.pcapng"))
        with cap:
            rc, f, out = probe(srv.port, *extra)
        ok = (rc == 0 and f.get("ok") == "1" and f.get("dialect") == dialect and f.get("signed") == "1"
              and f.get("encrypted") == ("1" if encrypted else "0")
              and (cipher is None or f.get("cipher") == cipher))
        check(ok, f"{name}: session, IPC$, \\srvsvc, RPC bind (dialect {f.get('dialect')}, "
                  f"cipher {f.get('cipher')}, encrypted {f.get('encrypted')})", out)
        frames, bad = cap.bad_client_frames()
        sent_encrypted = [fr for fr in frames if any("0xfd534d42" in v.lower() for v in fr[4])]
        check(len(frames) >= 5 and not bad,
              f"{name}: Wireshark decodes all {len(frames)} client frames without malformed or error marks",
              "\n".join(str(b) for b in bad) or f"{len(frames)} frames")
        if encrypted:
            check(len(sent_encrypted) >= 4, f"{name}: the client sent {len(sent_encrypted)} encrypted frames")


def silent_listener():
    """A TCP listener that accepts and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    held = []

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return s, held


class TamperProxy:
    """A relay between our client and a real smbd that corrupts one answer the
    way a real server never would: the server-to-client frame that answers
    TREE_CONNECT (or, encrypted, the first transformed frame)."""

    def __init__(self, server_port, mode):
        self.server_port, self.mode, self.done = server_port, mode, False
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", self.server_port))
        threading.Thread(target=self._pipe, args=(c, s, False), daemon=True).start()
        self._pipe(s, c, True)

    def _recv_exact(self, sock, n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _tamper(self, frame):
        msg = bytearray(frame)
        if self.done:
            return bytes(msg)
        if self.mode == "flip-encrypted" and msg[:4] == b"\xfdSMB":
            msg[-1] ^= 0x01
            self.done = True
        elif (self.mode == "null-session" and msg[:4] == b"\xfeSMB" and int.from_bytes(msg[12:14], "little") == 1
              and int.from_bytes(msg[8:12], "little") == 0):
            # The final SESSION_SETUP answer turned into a NULL session: no keys, so no signing.
            msg[64 + 2] |= 0x02
            self.done = True
        elif msg[:4] == b"\xfeSMB" and int.from_bytes(msg[12:14], "little") == 3:
            if self.mode == "flip-signature":
                msg[48] ^= 0x01
            elif self.mode == "strip-signature":
                flags = int.from_bytes(msg[16:20], "little") & ~0x8
                msg[16:20] = flags.to_bytes(4, "little")
                msg[48:64] = bytes(16)
            self.done = True
        return bytes(msg)

    def _pipe(self, src, dst, from_server):
        try:
            while True:
                hdr = self._recv_exact(src, 4)
                body = self._recv_exact(src, int.from_bytes(hdr[1:4], "big"))
                if from_server:
                    body = self._tamper(body)
                dst.sendall(hdr + body)
        except (EOFError, OSError):
            pass
        finally:
            for x in (src, dst):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def main():
    print(f"1..{len(CASES) * 2 + sum(1 for c in CASES if c[5]) + 7 + 10 + 5}")
    with tempfile.TemporaryDirectory(prefix="smbsess-transport-") as tmp:
        for case in CASES:
            run_case(tmp, *case)

        with sambatest.SmbServer(options={}) as srv:
            srv.add_user(USER, PASSWORD, admin=True)
            rc, f, out = probe(srv.port, password="wrong-password")
            check(rc == 1 and f.get("step") == "session_setup" and f.get("code") == "STATUS_LOGON_FAILURE"
                  and "wrong password" in f.get("error", ""), "wrong password: STATUS_LOGON_FAILURE with a clear message", out)
            rc, f, out = probe(srv.port, user="nosuchuser")
            check(rc == 1 and f.get("code") == "STATUS_LOGON_FAILURE", "unknown user: STATUS_LOGON_FAILURE", out)
            rc, f, out = probe(srv.port, host="localhost")
            check(rc == 0 and f.get("ok") == "1", "a host name (localhost) resolved off the event loop", out)
            rc, f, out = probe(srv.port, "--min", "0x0302", "--max", "0x0202")
            check(rc == 1 and f.get("code") == "SMBSESS_E_INVALID_ARGUMENT", "an empty dialect range is refused", out)

            r = subprocess.run([BEHAVIOUR, "127.0.0.1", str(srv.port), "WORKGROUP", USER, PASSWORD],
                               capture_output=True, text=True, timeout=180)
            lines = [l for l in r.stdout.splitlines() if l.startswith(("ok", "not ok"))]
            for l in lines:
                what = l.split(" - ", 1)[-1]
                check(l.startswith("ok"), f"behaviour: {what}", r.stderr[-1000:])
            for _ in range(10 - len(lines)):
                check(False, "behaviour: missing result", r.stdout + r.stderr[-1000:])

        for mode, opts, extra in (("flip-signature", {}, []), ("strip-signature", {}, []),
                                  ("flip-signature", {"server max protocol": "SMB2_02"}, []),
                                  ("flip-encrypted", {"server smb encrypt": "required"}, [])):
            with sambatest.SmbServer(options=opts) as srv:
                srv.add_user(USER, PASSWORD, admin=True)
                proxy = TamperProxy(srv.port, mode)
                rc, f, out = probe(proxy.port, *extra, "--timeout", "5000")
                proxy.close()
                check(rc == 1 and f.get("step") == "tree_connect" and f.get("code") == "SMBSESS_E_BAD_SIGNATURE",
                      f"a tampered answer ({mode}, {opts or 'default'}) is refused: {f.get('code')}", out)
        with sambatest.SmbServer(options={}) as srv:
            srv.add_user(USER, PASSWORD, admin=True)
            proxy = TamperProxy(srv.port, "null-session")
            rc, f, out = probe(proxy.port, "--timeout", "5000")
            proxy.close()
            check(rc == 1 and f.get("step") == "session_setup" and f.get("code") == "SMBSESS_E_AUTH",
                  f"a logon turned into a NULL session in transit is refused: {f.get('code')}", out)

        port = sambatest.free_port()
        t0 = time.time()
        rc, f, out = probe(port, "--timeout", "3000")
        check(rc == 1 and f.get("step") == "connect" and f.get("code") == "ECONNREFUSED" and time.time() - t0 < 3,
              "nothing listening: connection refused, reported at once", out)

        s, held = silent_listener()
        t0 = time.time()
        rc, f, out = probe(s.getsockname()[1], "--timeout", "1000")
        took = time.time() - t0
        check(rc == 1 and f.get("step") == "negotiate" and f.get("code") == "SMBSESS_E_TIMEOUT" and took < 5,
              f"a server that never answers: timed out after {took:.1f} s (limit 1 s)", out)
        s.close()
        for c in held:
            c.close()

        ipv6 = False
        try:
            with socket.socket(socket.AF_INET6) as t:
                t.bind(("::1", 0))
                ipv6 = True
        except OSError:
            pass
        if ipv6:
            with sambatest.SmbServer(address="::1", options={}) as srv:
                srv.add_user(USER, PASSWORD, admin=True)
                rc, f, out = probe(srv.port, host="::1")
                check(rc == 0 and f.get("ok") == "1", "IPv6 (::1)", out)
        else:
            check(False, "IPv6 (::1): loopback has no IPv6 address here")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
