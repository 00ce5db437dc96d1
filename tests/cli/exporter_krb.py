#!/usr/bin/python3
"""smbsess_exporter with Kerberos (-k) against a Samba AD DC the test
provisions itself (tests/harness/addc.py), whose SMB server is the target.
TAP.

  * -k --keytab FILE --principal P: tickets from a keytab exported from the
    DC; the metrics count the files an impacket client (NTLM) holds open;
  * -k with the credentials cache of KRB5CCNAME (kinit);
  * -k --principal of a user the KDC does not know: smbsess_up 0, the
    exporter keeps serving.

The target is named by the DC's host name, as the KDC knows it; the
exporter resolves it through nss_wrapper (NSS_WRAPPER_HOSTS) so that
nothing of the machine's own name service changes.

usage: exporter_krb.py EXPORTER      (root, Debian's /usr/bin/python3)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section, timings  # noqa: E402
from addc import AdDc  # noqa: E402
from sambatest import ImpacketClient  # noqa: E402

EXPORTER = sys.argv[1] if len(sys.argv) > 1 else None
BOB, BOB_PW = "xkbob", "Bob!pw-X5-1"
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def value(body, name, server):
    m = re.search(r'^%s\{server="%s"\} (\S+)$' % (re.escape(name), re.escape(server)), body, re.M)
    return float(m.group(1)) if m else None


def scrape(env, *args, tries=1):
    """Starts the exporter with env and args, scrapes /metrics (until smbsess_up is 1, at most `tries`
    times), stops it. (body, exit status, stderr)."""
    p = subprocess.Popen([EXPORTER, "--web.listen-address=127.0.0.1:0", *args], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = p.stderr.readline().decode()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    body = ""
    if m:
        for _ in range(tries):
            body = get(f"http://127.0.0.1:{m.group(1)}/metrics")[1]
            if "smbsess_up{" in body and re.search(r"^smbsess_up\{.*\} 1$", body, re.M):
                break
            time.sleep(1)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    err = line + p.stderr.read().decode()
    p.stderr.close()
    return body, rc, err


def checks(dc, tmp):
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write(f"{dc.address} {dc.fqdn} {dc.host}\n")
    targets = os.path.join(tmp, "targets")
    with open(targets, "w") as f:
        f.write(f"{dc.fqdn}\n")
    env = dict(dc.env(), LD_PRELOAD=NSS_WRAPPER, NSS_WRAPPER_HOSTS=hosts)
    env.pop("KRB5CCNAME", None)

    c = ImpacketClient(dc, BOB, BOB_PW, source="127.0.0.2", domain=dc.domain)
    try:
        for n in ("k1.txt", "k2.txt", "k3.txt"):
            c.open("share", n)
        kt = dc.export_keytab("Administrator")
        admin = f"Administrator@{dc.realm}"
        body, rc, err = scrape(env, "--targets", targets, "-k", "--keytab", f"FILE:{kt}", "--principal", admin,
                               "--per-user", tries=5)
        check(value(body, "smbsess_up", dc.fqdn) == 1 and value(body, "smbsess_open_files", dc.fqdn) == 3
              and re.search(r'^smbsess_user_open_files\{server="%s",user="(?:%s\\\\)?%s"\} 3$'
                            % (re.escape(dc.fqdn), dc.domain, BOB), body, re.M | re.I) and rc == 0,
              f"-k --keytab --principal {admin}: smbsess_up 1 for {dc.fqdn}, the 3 files {BOB} holds open",
              f"exit {rc}\n{err}\n{body}")
        kenv = dc.kinit("Administrator", dc.admin_password)
        env2 = dict(env, KRB5CCNAME=kenv["KRB5CCNAME"])
        body, rc, err = scrape(env2, "--targets", targets, "-k", tries=5)
        check(value(body, "smbsess_up", dc.fqdn) == 1 and value(body, "smbsess_open_files", dc.fqdn) == 3
              and rc == 0,
              "-k with the credentials cache of KRB5CCNAME: smbsess_up 1, the same 3 files",
              f"exit {rc}\n{err}\n{body}")
        body, rc, err = scrape(env2, "--targets", targets, "-k", "--principal", f"nosuch@{dc.realm}")
        check(value(body, "smbsess_up", dc.fqdn) == 0 and value(body, "smbsess_open_files", dc.fqdn) is None
              and "smbsess_exporter_query_errors_total 1" in body and rc == 0,
              "-k --principal of a user with no ticket: smbsess_up 0, the exporter still serves",
              f"exit {rc}\n{err}\n{body}")
    finally:
        c.close()


def main():
    if EXPORTER is None or not os.access(EXPORTER, os.X_OK):
        print("1..1\nnot ok 1 - usage: exporter_krb.py EXPORTER")
        return 1
    print("1..3", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smbsess-exporter-krb-") as tmp:
        os.chmod(tmp, 0o755)
        with AdDc(os.path.join(tmp, "dc")) as dc:
            dc.add_user(BOB, BOB_PW)
            timings["dc"] = time.monotonic() - t0
            section("kerberos", 3, checks, dc, tmp)
    timings["total"] = time.monotonic() - t0
    diag("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return 0 if all(results) and len(results) == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
