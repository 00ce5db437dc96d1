#!/usr/bin/python3
"""Kerberos integration tests against a Samba AD DC the test provisions
itself (tests/harness/addc.py), through tests/tools/api_tool (public API
only) and tests/krb/krb_loop (two connects on one event loop). TAP output.

The DC's own SMB server is the file server: impacket clients (NTLM, from
127.0.0.2 and 127.0.0.3) hold sessions and open files; api_tool lists them
as the domain Administrator with Kerberos (SMB 3.1.1, signed; and with
encryption required). At the end the DC is restarted allowing AES-256-GCM
only, which needs the whole Kerberos session key. Then the failures: no ticket, NTLM forbidden,
expired ticket, unknown SPN, clock skew, KDC unreachable, a server without
Kerberos; and a KDC that never answers must not stall another connection
on the same loop.

usage: krb.py API_TOOL KRB_LOOP
Runs as root with Debian's /usr/bin/python3 (impacket, samba-tool).
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tap import check, diag, results, section, skip, timings  # noqa: E402
import addc  # noqa: E402
from addc import AdDc, SilentKdc, write_krb5_conf  # noqa: E402
from sambatest import ImpacketClient, SmbServer  # noqa: E402

TOOL = sys.argv[1] if len(sys.argv) > 1 else None
LOOP = sys.argv[2] if len(sys.argv) > 2 else None
SMBNET = sys.argv[3] if len(sys.argv) > 3 else None
BOB, BOB_PW = "kbob", "Bob!pw-K5-1"
CAROL, CAROL_PW = "kcarol", "Carol!pw-K5-2"
ADDR2, ADDR3 = "127.0.0.2", "127.0.0.3"
NO_TICKET = ("KRB5_CC_NOTFOUND", "KRB5_FCC_NOFILE", "GSS_S_NO_CRED")

class Result:
    def __init__(self, args, rc, out, err, seconds):
        self.args, self.rc, self.out, self.err, self.seconds = args, rc, out, err, seconds
        self.error, self.info, self.entries, self.summary = None, {}, [], {}
        for line in out.splitlines():
            if line.startswith("error="):
                m = re.match(r"error=(\S+) domain=(\S+) code=(\S+) message=(.*)$", line)
                self.error = {"name": m.group(1), "domain": m.group(2), "code": m.group(3),
                              "message": m.group(4)} if m else {"name": line, "domain": ""}
            elif line.startswith("dialect="):
                self.info = dict(p.split("=", 1) for p in line.split())
            elif line.startswith("level="):
                self.summary = {k: int(v) for k, v in (p.split("=", 1) for p in line.split())}
            elif line:
                self.entries.append(dict(p.partition("=")[::2] for p in line.split("\t")))

    @property
    def err_name(self):
        return self.error["name"] if self.error else None

    @property
    def auth(self):
        return self.info.get("auth")

    def ok(self):
        return self.rc == 0 and self.error is None and self.summary.get("count") == len(self.entries)

    def __str__(self):
        return (f"$ api_tool {' '.join(self.args)}\nexit {self.rc} after {self.seconds:.2f} s\n"
                f"{self.out[-2500:]}{self.err[-1500:]}")


def tool(dc, *args, env=None, server=None, address=None, timeout=60):
    argv = ["--info", "--address", address or dc.address, *args[:-4], server or dc.fqdn, *args[-4:]]
    t0 = time.monotonic()
    try:
        p = subprocess.run([TOOL] + argv, capture_output=True, text=True, timeout=timeout,
                           env=env or dc.env())
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -999, (e.stdout or b"").decode(errors="replace"), "timed out"
    return Result(argv, rc, out, err, time.monotonic() - t0)


def user_is(entry, name):
    u = entry.get("user", "").replace("\\\\", "\\")
    return u.lower() == name.lower() or u.lower().endswith("\\" + name.lower())


def fails_with(r, names, domain=None):
    names = (names,) if isinstance(names, str) else names
    return r.rc == 1 and r.err_name in names and (domain is None or r.error["domain"] == domain)


# --------------------------------------------------------------------------

def missing_ccache(dc, name):
    return "FILE:" + os.path.join(dc.tmpdir, "no-such-cache-" + name)


def empty_ccache(dc, principal):
    """An initialised FILE cache that holds the principal and no ticket."""
    user, realm = principal.split("@")

    def cs(b):
        return struct.pack(">I", len(b)) + b
    path = os.path.join(dc.tmpdir, "empty-" + user)
    with open(path, "wb") as f:
        f.write(struct.pack(">HH", 0x0504, 0) + struct.pack(">II", 1, 1) + cs(realm.encode()) + cs(user.encode()))
    return "FILE:" + path


def skewed_ccache(dc, src, dst, seconds):
    """A copy of a FILE cache whose header says the KDC's clock is `seconds` ahead
    (the DeltaTime tag MIT keeps with kdc_timesync): the next request to the KDC
    carries a time off by that much."""
    with open(src[5:], "rb") as f:
        b = f.read()
    ver, hl = struct.unpack(">HH", b[:4])
    hdr = struct.pack(">HHii", 1, 8, seconds, 0)
    with open(dst[5:], "wb") as f:
        f.write(struct.pack(">HH", ver, len(hdr)) + hdr + b[4 + hl:])
    return dst


def sec_enumeration(dc, st):
    cc = st["admin_cc"]
    with ImpacketClient(dc, BOB, BOB_PW, source=ADDR2, domain=dc.domain) as bob, \
            ImpacketClient(dc, CAROL, CAROL_PW, source=ADDR3, domain=dc.domain) as carol:
        bob.open("share", "krb-bob.txt")
        carol.open("share", "krb-carol.txt")

        r = tool(dc, "--ccache", cc, "-", "-", "-", "sessions")
        check(r.ok() and r.auth == "kerberos" and r.info.get("dialect") == "0x0311"
              and r.info.get("signed") == "1",
              "sessions over Kerberos from a named cache: SMB 3.1.1, signed, auth=kerberos", r)
        have = {(e.get("client"), e.get("user", "").split("\\")[-1].lower()) for e in r.entries}
        check((ADDR2, BOB) in have and (ADDR3, CAROL) in have
              and any(user_is(e, "Administrator") for e in r.entries),
              "the impacket sessions of kbob (127.0.0.2) and kcarol (127.0.0.3) and our own are listed",
              f"{have}\n{r}")

        r = tool(dc, "--ccache", cc, "-", "-", "-", "files")
        paths = {(e.get("path", "").replace("\\\\", "\\").split("\\")[-1], e.get("user", "").split("\\")[-1].lower())
                 for e in r.entries}
        check(r.ok() and r.auth == "kerberos" and ("krb-bob.txt", BOB) in paths and ("krb-carol.txt", CAROL) in paths,
              "open files over Kerberos: both impacket handles with their users", f"{paths}\n{r}")

        r = tool(dc, "--ccache", cc, "--encrypt", "required", "-", "-", "-", "sessions")
        check(r.ok() and r.auth == "kerberos" and r.info.get("encrypted") == "1"
              and r.info.get("dialect") == "0x0311" and any(user_is(e, BOB) for e in r.entries),
              "encryption required over Kerberos: encrypted, sessions listed", r)

        r = tool(dc, "--kerberos", "-", "-", "-", "files", env=dc.env(cc))
        check(r.ok() and r.auth == "kerberos" and len(r.entries) >= 2,
              "--kerberos with the default cache (KRB5CCNAME)", r)

        # smbnet -k: the server by its name in the realm, the connection to its address
        r = subprocess.run([SMBNET, "-k", "-S", dc.fqdn, "-I", dc.address, "session"], env=dc.env(cc),
                           capture_output=True, text=True, timeout=60)
        rows = [l for l in r.stdout.splitlines() if l.startswith("\\\\")]
        check(r.returncode == 0 and any(l.startswith(f"\\\\{ADDR2} ") and BOB in l.lower() for l in rows),
              f"smbnet -k -S {dc.fqdn} -I {dc.address} session: kbob's session from {ADDR2} listed",
              r.stdout + r.stderr)
        r = subprocess.run([SMBNET, "-k", "-S", dc.fqdn, "-I", dc.address, "--json", "file"], env=dc.env(cc),
                           capture_output=True, text=True, timeout=60)
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            doc = {}
        names = {f.get("path", "").split("\\")[-1] for f in doc.get("files", [])}
        check(r.returncode == 0 and {"krb-bob.txt", "krb-carol.txt"} <= names and doc.get("errors") == [],
              "smbnet -k --json file: both open files, no errors", r.stdout + r.stderr)

        # the other key derivations: SP800-108 without preauth hash (3.0.2, AES-128-CCM), and 2.1
        r = tool(dc, "--ccache", cc, "--dialects", "0x0300-0x0302", "--encrypt", "required",
                 "-", "-", "-", "sessions")
        check(r.ok() and r.auth == "kerberos" and r.info.get("dialect") == "0x0302"
              and r.info.get("signed") == "1" and r.info.get("encrypted") == "1",
              "Kerberos over SMB 3.0.2, signed and encrypted", r)
        r = tool(dc, "--ccache", cc, "--dialects", "0x0202-0x0210", "-", "-", "-", "sessions")
        check(r.ok() and r.auth == "kerberos" and r.info.get("dialect") == "0x0210"
              and r.info.get("signed") == "1",
              "Kerberos over SMB 2.1, signed (HMAC-SHA256 with the session key)", r)


def sec_domain_users(dc, st):
    r = tool(dc, dc.domain, BOB, BOB_PW, "sessions", env=dc.env(missing_ccache(dc, "n1")))
    check(fails_with(r, "ERROR_ACCESS_DENIED") and r.auth == "ntlm",
          "a domain user with NTLM (the default) logs on; not an admin: ERROR_ACCESS_DENIED", r)
    r = tool(dc, dc.domain, dc.admin, dc.admin_password, "sessions", env=dc.env(missing_ccache(dc, "n2")))
    check(r.ok() and r.auth == "ntlm" and len(r.entries) >= 1, "the Administrator with NTLM enumerates", r)
    nocache = missing_ccache(dc, "pw")
    r = tool(dc, "--kerberos", dc.domain, BOB, BOB_PW, "sessions", env=dc.env(nocache))
    check(fails_with(r, "ERROR_ACCESS_DENIED") and r.auth == "kerberos" and not os.path.exists(nocache[5:]),
          "a domain user with Kerberos from a password (memory cache; the default cache untouched)", r)
    kt = dc.export_keytab(CAROL)
    nocache = missing_ccache(dc, "kt")
    r = tool(dc, "--keytab", "FILE:" + kt, "--principal", f"{CAROL}@{dc.realm}", "-", "-", "-", "sessions",
             env=dc.env(nocache))
    check(fails_with(r, "ERROR_ACCESS_DENIED") and r.auth == "kerberos" and not os.path.exists(nocache[5:]),
          "a domain user with Kerberos from a client keytab (the default cache untouched)", r)


def sec_no_ticket(dc, st):
    r = tool(dc, "--kerberos", "-", "-", "-", "sessions", env=dc.env(missing_ccache(dc, "d")))
    check(fails_with(r, ("KRB5_CC_NOTFOUND", "KRB5_FCC_NOFILE"), "KRB5") and r.seconds < 10,
          "no ticket: KRB5CCNAME names a missing cache: a KRB5 status saying so", r)
    r = tool(dc, "--ccache", missing_ccache(dc, "n"), "-", "-", "-", "sessions")
    check(fails_with(r, "KRB5_FCC_NOFILE", "KRB5"), "no ticket: a named cache that does not exist: KRB5_FCC_NOFILE", r)
    r = tool(dc, "--ccache", empty_ccache(dc, f"{dc.admin}@{dc.realm}"), "-", "-", "-", "sessions")
    check(fails_with(r, "GSS_S_NO_CRED", "GSS"), "no ticket: an empty cache: GSS_S_NO_CRED", r)


def sec_ntlm_forbidden(dc, st):
    empty = empty_ccache(dc, f"{BOB}@{dc.realm}")
    r = tool(dc, "--ccache", empty, "--mechs", "krb5", dc.domain, BOB, BOB_PW, "sessions")
    check(fails_with(r, NO_TICKET) and r.seconds < 10,
          "NTLM forbidden and no ticket: fails at once with the Kerberos status, no NTLM attempt", r)
    r = tool(dc, "--ccache", empty, "--mechs", "krb5,ntlm", dc.domain, BOB, BOB_PW, "sessions")
    check(fails_with(r, "ERROR_ACCESS_DENIED") and r.auth == "ntlm",
          "the same with NTLM allowed after Kerberos: falls back to NTLM and logs on", r)


def sec_expired(dc, st):
    cc, lifetime, t0 = st["short_cc"], st["short_lifetime"], st["short_t0"]
    if lifetime is None or lifetime > 30:
        skip("an expired ticket: KRB5KRB_AP_ERR_TKT_EXPIRED",
             f"the KDC did not issue a short ticket (lifetime {lifetime})")
        return
    wait = t0 + lifetime + 1.5 - time.time()
    if wait > 0:
        time.sleep(wait)
    r = tool(dc, "--ccache", cc, "-", "-", "-", "sessions")
    check(fails_with(r, ("KRB5KRB_AP_ERR_TKT_EXPIRED", "GSS_S_CREDENTIALS_EXPIRED")),
          f"an expired ticket (lifetime {lifetime} s): KRB5KRB_AP_ERR_TKT_EXPIRED", r)


def sec_unknown_spn(dc, st):
    bad = "nosuch." + dc.realm.lower()
    r = tool(dc, "--ccache", st["admin_cc"], "-", "-", "-", "sessions", server=bad)
    check(fails_with(r, "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN", "KRB5"),
          f"unknown SPN (cifs/{bad}): KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN", r)
    r = tool(dc, "--ccache", st["admin_cc"], "--mechs", "krb5,ntlm", dc.domain, dc.admin, dc.admin_password,
             "sessions", server=bad)
    check(r.ok() and r.auth == "ntlm", "unknown SPN with NTLM allowed: NTLM after Kerberos failed", r)


def sec_skew(dc, st):
    cc = skewed_ccache(dc, st["admin_cc"], dc.ccache_path("skewed"), 3600)
    r = tool(dc, "--ccache", cc, "-", "-", "-", "sessions")
    check(fails_with(r, "KRB5KRB_AP_ERR_SKEW", "KRB5"),
          "clock skew (the cache says the KDC is an hour ahead): KRB5KRB_AP_ERR_SKEW", r)


def sec_kdc_unreachable(dc, st):
    # a port nothing listens on: TCP and UDP are refused
    dead = write_krb5_conf(os.path.join(dc.tmpdir, "krb5-dead.conf"), dc.realm, [f"{dc.address}:1"])
    nocache = missing_ccache(dc, "dead")
    r = tool(dc, "--timeout", "10000", "--kerberos", dc.domain, BOB, BOB_PW, "sessions",
             env=dc.env(nocache, krb5_conf=dead))
    check(fails_with(r, "KRB5_KDC_UNREACH", "KRB5") and r.seconds < 10,
          f"KDC unreachable, password: KRB5_KDC_UNREACH in {r.seconds:.1f} s (timeout 10 s)", r)
    r = tool(dc, "--timeout", "10000", "--ccache", st["carol_tgt_cc"], "-", "-", "-", "sessions",
             env=dc.env(nocache, krb5_conf=dead))
    check(fails_with(r, "KRB5_KDC_UNREACH", "KRB5") and r.seconds < 10,
          f"KDC unreachable, a cache with only a TGT: KRB5_KDC_UNREACH in {r.seconds:.1f} s", r)


def sec_refused(dc, st):
    tmp = tempfile.mkdtemp(prefix="krbsa-")
    with SmbServer(os.path.join(tmp, "srv")) as srv:
        srv.add_user("ksa", "Sa!pw-K5-3", admin=True)
        argv = ["--port", str(srv.port), "--mechs", "krb5"]
        r = tool(dc, *argv, "SAMBATEST", "ksa", "Sa!pw-K5-3", "sessions", server="127.0.0.1",
                 address="127.0.0.1")
        check(fails_with(r, "SMBSESS_E_KERBEROS_REFUSED", "LIBRARY"),
              "a server that does not offer Kerberos, NTLM forbidden: SMBSESS_E_KERBEROS_REFUSED", r)
        argv = ["--port", str(srv.port), "--mechs", "krb5,ntlm"]
        r = tool(dc, *argv, "SAMBATEST", "ksa", "Sa!pw-K5-3", "sessions", server="127.0.0.1",
                 address="127.0.0.1")
        check(r.ok() and r.auth == "ntlm", "the same server with NTLM allowed: NTLM", r)
    subprocess.run(["rm", "-rf", tmp])


def sec_no_stall(dc, st):
    timeout_ms = 2000
    with SilentKdc("127.0.0.1", hold=4.0) as kdc:
        conf = write_krb5_conf(os.path.join(dc.tmpdir, "krb5-silent.conf"), dc.realm,
                               [f"127.0.0.1:{kdc.port}"], {"udp_preference_limit": "1"})
        t0 = time.monotonic()
        p = subprocess.run([LOOP, dc.fqdn, dc.address, dc.domain, dc.admin, dc.admin_password,
                            str(timeout_ms), "20"], capture_output=True, text=True, timeout=60,
                           env=dc.env(missing_ccache(dc, "loop"), krb5_conf=conf))
        took = time.monotonic() - t0
        accepted = kdc.accepted
    text = f"exit {p.returncode} after {took:.1f} s\n{p.stdout}{p.stderr}"
    lines = p.stdout.splitlines()
    ev = {}
    order = []
    for line in lines:
        m = re.match(r"([AB]) ms=(\d+) (.*)$", line)
        if m:
            ev[m.group(1)] = (int(m.group(2)), m.group(3))
            order.append(m.group(1))
    loop = dict(p.split("=") for p in next((x for x in lines if x.startswith("loop ")), "loop").split()[1:])
    thr = dict(p.split("=") for p in next((x for x in lines if x.startswith("threads=")), "").split())
    check(p.returncode == 0 and order == ["B", "A"] and ev["B"][1] == "ok auth=ntlm" and accepted >= 1,
          "two connects on one loop, A's KDC silent: B (NTLM) completes first", text)
    check("A" in ev and ev["A"][1] == "error=SMBSESS_E_TIMEOUT" and timeout_ms - 100 <= ev["A"][0] <= timeout_ms + 1500,
          f"A ends with SMBSESS_E_TIMEOUT at its timeout ({ev.get('A')})", text)
    check(loop and int(loop.get("max_gap_ms", 99999)) < 500,
          f"the loop never stalled while A waited for the KDC (longest gap {loop.get('max_gap_ms')} ms)", text)
    check(thr.get("threads") == "1",
          f"the abandoned Kerberos step finished alone on its thread ({thr})", text)


def sec_aes256(dc, st):
    dc.restart({"server smb3 encryption algorithms": "AES-256-GCM"})
    diag(f"DC restarted with AES-256-GCM only in {dc.timings['restart']:.1f} s")
    r = tool(dc, "--ccache", st["admin_cc"], "--encrypt", "required", "-", "-", "-", "sessions")
    check(r.ok() and r.auth == "kerberos" and r.info.get("encrypted") == "1",
          "AES-256-GCM only on the server: Kerberos with encryption (keys from the whole 32-byte key)", r)
    r = tool(dc, "--encrypt", "required", dc.domain, dc.admin, dc.admin_password, "sessions")
    check(r.ok() and r.auth == "ntlm" and r.info.get("encrypted") == "1",
          "AES-256-GCM only on the server: NTLM with encryption (16-byte key)", r)


def main():
    if not TOOL or not LOOP or not SMBNET:
        print("1..1\nnot ok 1 - usage: krb.py API_TOOL KRB_LOOP SMBNET")
        return 1
    print("1..34", flush=True)
    t_all = time.monotonic()
    st = {}
    dc = None
    try:
        t0 = time.monotonic()
        dc = AdDc()
        diag(f"{dc}: provision {dc.timings['provision']:.1f} s, start {dc.timings['start']:.1f} s")
        dc.add_user(BOB, BOB_PW)
        dc.add_user(CAROL, CAROL_PW)
        st["admin_cc"] = dc.kinit(dc.admin, dc.admin_password)["KRB5CCNAME"]
        st["carol_tgt_cc"] = dc.kinit(CAROL, CAROL_PW)["KRB5CCNAME"]
        # a ticket that expires soon, checked near the end
        short = dc.ccache_path("short")
        st["short_t0"] = time.time()
        dc.kinit(BOB, BOB_PW, ccache=short, lifetime="4s")
        st["short_cc"] = short
        st["short_lifetime"] = ticket_lifetime(dc, short)
        timings["setup"] = time.monotonic() - t0
        check(True, f"AD DC {dc.fqdn} at {dc.address} up, users and tickets made ({timings['setup']:.1f} s)")
    except Exception:
        check(False, "AD DC setup", traceback.format_exc() + (dc.log_tail() if dc else ""))
        for i in range(33):
            check(False, f"not reached ({i + 1})")
        if dc:
            dc.stop()
        return 1
    try:
        section("enumeration", 9, sec_enumeration, dc, st)
        section("domain users", 4, sec_domain_users, dc, st)
        section("no ticket", 3, sec_no_ticket, dc, st)
        section("ntlm forbidden", 2, sec_ntlm_forbidden, dc, st)
        section("unknown spn", 2, sec_unknown_spn, dc, st)
        section("clock skew", 1, sec_skew, dc, st)
        section("kdc unreachable", 2, sec_kdc_unreachable, dc, st)
        section("kerberos refused", 2, sec_refused, dc, st)
        section("no stall", 4, sec_no_stall, dc, st)
        section("expired", 1, sec_expired, dc, st)
        section("aes-256", 2, sec_aes256, dc, st)
    finally:
        t0 = time.monotonic()
        dc.stop()
        timings["stop"] = time.monotonic() - t0
    check(True, f"AD DC stopped ({timings['stop']:.1f} s)")
    diag("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
         + f"; total {time.monotonic() - t_all:.1f} s")
    if len(results) != 34:
        diag(f"{len(results)} checks made, 34 planned")
    return 0 if all(results) and len(results) == 34 else 1


def ticket_lifetime(dc, ccache):
    """Seconds between start and end of the TGT in a cache (klist), or None."""
    r = subprocess.run(["klist", "-c", ccache], capture_output=True, text=True, timeout=10, env=dc.env())
    for line in r.stdout.splitlines():
        if "krbtgt/" in line:
            parts = line.split()
            try:
                fmt = "%m/%d/%y %H:%M:%S"
                a = time.mktime(time.strptime(" ".join(parts[0:2]), fmt))
                b = time.mktime(time.strptime(" ".join(parts[2:4]), fmt))
                return int(b - a)
            except ValueError:
                return None
    return None


if __name__ == "__main__":
    sys.exit(main())
