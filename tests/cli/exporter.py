#!/usr/bin/python3
"""smbsess_exporter against two real Samba smbd servers, scraped by a real
Prometheus server (Debian's prometheus, started here with its own config,
data directory and loopback port). TAP.

  * /metrics: HELP and TYPE lines, `promtool check metrics` clean; every
    value as rpcclient (the harness's oracle) counts it; the server label as
    written in the targets file; --per-user;
  * a dead target has smbsess_up 0; a silent one costs at most --timeout and
    never holds up the others (a /probe of a live server answers at once
    while a /metrics waits for the silent one);
  * concurrent scrapes share one query per target and open no new
    connection;
  * /probe?target= for a server not in the file, errors for a missing target;
  * Prometheus scrapes /metrics and /probe (the relabelling of
    docs/exporter/prometheus.yml) and loads docs/exporter/smbsess.rules.yml:
    its HTTP API returns smbsess_open_files equal to the files an impacket
    client holds open, following as it opens and closes files, smbsess_up 0
    for the dead target, and the alert pending for it.

usage: exporter.py EXPORTER DOCS_DIR       (root, Debian's /usr/bin/python3)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section, timings  # noqa: E402
import sambatest  # noqa: E402
from sambatest import ImpacketClient, SmbServer, netfileenum, netsessenum  # noqa: E402
from clitools import Silent  # noqa: E402

EXPORTER = sys.argv[1] if len(sys.argv) > 1 else None
DOCS = sys.argv[2] if len(sys.argv) > 2 else None
PW = "Expo!pw-3"
ADMIN = "sex_admin"
BOB = "sex_bob"
CAROL = "sex_carol"
TIMEOUT = 2.0
FAMILIES = ["smbsess_up", "smbsess_scrape_duration_seconds", "smbsess_sessions", "smbsess_users",
            "smbsess_open_files", "smbsess_open_files_locked", "smbsess_user_sessions", "smbsess_user_open_files"]


def lock_range(client, h):
    """A byte-range lock on an open file, through impacket's SMB2 connection (its own lock() joins the
    elements as str, which breaks on Python 3)."""
    from impacket import smb3structs as s3
    from impacket.nt_errors import STATUS_SUCCESS
    smb = client.conn.getSMBServer()
    el = s3.SMB2_LOCK_ELEMENT()
    el["Offset"], el["Length"] = 0, 16
    el["Flags"] = s3.SMB2_LOCKFLAG_EXCLUSIVE_LOCK | s3.SMB2_LOCKFLAG_FAIL_IMMEDIATELY
    lk = s3.SMB2Lock()
    lk["FileID"], lk["LockCount"], lk["LockSequence"], lk["Locks"] = h.fid, 1, 0, el.getData()
    pkt = smb.SMB_PACKET()
    pkt["Command"], pkt["TreeID"], pkt["Data"] = s3.SMB2_LOCK, h.tid, lk
    if not smb.recvSMB(smb.sendSMB(pkt)).isValidAnswer(STATUS_SUCCESS):
        raise RuntimeError("SMB2 LOCK failed")


def http_get(url, timeout=30):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace"), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), time.monotonic() - t0


def samples(text):
    """{(name, frozenset(labels.items())): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            out[("UNPARSED", line)] = None
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


class Exporter:
    def __init__(self, *args):
        self.p = subprocess.Popen([EXPORTER, "--web.listen-address=127.0.0.1:0", *args], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        line = self.p.stderr.readline().decode()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.p.kill()
            raise RuntimeError(f"the exporter did not start: {line}{self.p.stderr.read().decode()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path, timeout=30):
        return http_get(self.url + path, timeout)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.p.stderr.close()
        return rc


class Prometheus:
    def __init__(self, tmp, config):
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(os.path.join(self.dir, "data"))
        self.port = sambatest.free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(config)
        shutil.copy(os.path.join(DOCS, "exporter", "smbsess.rules.yml"), self.dir)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.p = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
                                   f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h",
                                   "--web.enable-lifecycle"],
                                  stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True, cwd=self.dir)
        self.url = f"http://127.0.0.1:{self.port}"
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if http_get(self.url + "/-/ready", 2)[0] == 200:
                    return
            except OSError:
                pass
            if self.p.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready:\n" + self.tail())

    def tail(self):
        self.log.flush()
        with open(os.path.join(self.dir, "log")) as f:
            return "".join(f.readlines()[-30:])

    def api(self, path, **params):
        st, body, _ = http_get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}", 10)
        return json.loads(body) if st == 200 else {"status": st, "body": body}

    def query(self, q):
        """{frozenset(labels): value} of an instant query."""
        d = self.api("query", query=q)
        out = {}
        for r in d.get("data", {}).get("result", []):
            out[frozenset(r["metric"].items())] = float(r["value"][1])
        return out

    def wait_value(self, q, want, timeout=30):
        """Polls until the query's single value equals want (bounded); the last value seen."""
        end = time.monotonic() + timeout
        got = None
        while time.monotonic() < end:
            vals = list(self.query(q).values())
            got = vals[0] if len(vals) == 1 else vals
            if got == want:
                return got
            time.sleep(0.5)
        return got

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()


class World:
    def __init__(self, s1, s2, tmp, dead, silent):
        self.srv = [s1, s2]
        self.tmp = tmp
        self.names = [f"127.0.0.1:{s1.port}", f"localhost:{s2.port}"]
        self.dead = f"127.0.0.1:{dead}"
        self.silent = f"127.0.0.1:{silent.port}"
        self.clients = []
        self.exporters = []

    def oracle(self, i):
        files = netfileenum(self.srv[i], ADMIN, PW)
        sess = netsessenum(self.srv[i], ADMIN, PW)
        return files, sess


# --------------------------------------------------------------------------

def metrics_checks(w, x):
    st, body, secs = x.get("/metrics")
    pc = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    helps = set(re.findall(r"^# HELP (\S+) ", body, re.M))
    types = dict(re.findall(r"^# TYPE (\S+) (\w+)$", body, re.M))
    check(st == 200 and pc.returncode == 0 and not (pc.stdout + pc.stderr).strip()
          and set(FAMILIES) <= helps and all(types.get(f) == "gauge" for f in FAMILIES)
          and all(t == "counter" for n, t in types.items() if n.endswith("_total")),
          f"/metrics: 200, HELP and TYPE for every family, `promtool check metrics` says nothing "
          f"({len(helps)} families)", f"{pc.stdout}{pc.stderr}\n{body}")
    diag("promtool check metrics: exit %d, output %r" % (pc.returncode, (pc.stdout + pc.stderr).strip()))
    s = samples(body)
    ok = True
    detail = []
    for i in (0, 1):
        files, sess = w.oracle(i)
        n = w.names[i]
        # rpcclient logs on as ADMIN for itself; so does the exporter, whose session it counts: the peers' and one.
        sess = [e for e in sess if e["user"] != ADMIN] + [{"user": ADMIN}]
        users = {e["user"].lower() for e in sess if e["user"]}
        want = {"smbsess_up": 1, "smbsess_open_files": len(files), "smbsess_sessions": len(sess),
                "smbsess_users": len(users), "smbsess_open_files_locked": sum(1 for e in files if e["num_locks"] > 0)}
        for k, v in want.items():
            got = value(s, k, server=n)
            if got != v:
                ok = False
                detail.append(f"{k}{{server={n}}}: {got}, rpcclient: {v}")
        for u in users:
            us = sum(1 for e in sess if e["user"].lower() == u)
            uf = sum(1 for e in files if e["user"].lower() == u)
            if value(s, "smbsess_user_sessions", server=n, user=u) != us or \
                    value(s, "smbsess_user_open_files", server=n, user=u) != uf:
                ok = False
                detail.append(f"user {u} on {n}: sessions {us} files {uf} wanted")
    locked = [sum(1 for e in w.oracle(i)[0] if e["num_locks"] > 0) for i in (0, 1)]
    check(ok and locked == [1, 1],
          "every target's sessions, users, open files, locked files (one each, locked by the client) and per-user "
          "counts as rpcclient lists them, the server label as written in the targets file",
          f"rpcclient's locked files: {locked}\n" + "\n".join(detail) + "\n" + body)
    check(value(s, "smbsess_up", server=w.dead) == 0 and value(s, "smbsess_up", server=w.silent) == 0
          and value(s, "smbsess_open_files", server=w.dead) is None
          and value(s, "smbsess_scrape_duration_seconds", server=w.silent) <= TIMEOUT + 0.5
          and secs < TIMEOUT + 1.5,
          f"the dead and the silent target: smbsess_up 0 and no other value; the silent one cost at most its "
          f"--timeout {TIMEOUT} s and the whole scrape {secs:.1f} s", body)


def probe_checks(w, x):
    other = f"127.0.0.1:{w.srv[1].port}"  # the second server under another name than in the file
    st, body, _ = x.get("/probe?target=" + urllib.parse.quote(other))
    s = samples(body)
    files, _ = w.oracle(1)
    check(st == 200 and value(s, "smbsess_up", server=other) == 1 and value(s, "smbsess_open_files", server=other)
          == len(files) and not any(k[0].startswith("smbsess_exporter_") for k in s)
          and subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True,
                             timeout=60).returncode == 0,
          f"/probe?target={other} (not in the targets file): that server's metrics under that name, without the "
          "exporter's own", body)
    r1 = x.get("/probe")
    r2 = x.get("/probe?target=" + urllib.parse.quote("fs1:0"))
    r3 = x.get("/nothing")
    check(r1[0] == 400 and "target" in r1[1] and r2[0] == 400 and r3[0] == 404,
          "/probe without a target or with a bad one: 400; another path: 404", f"{r1}\n{r2}\n{r3}")

    # A /metrics waits for the silent target; a /probe of a live server meanwhile answers at once.
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("m", x.get("/metrics")))
    t.start()
    time.sleep(0.3)
    st, body, secs = x.get("/probe?target=" + urllib.parse.quote(w.names[0]))
    t.join(30)
    m = box.get("m", (None, "", 99))
    check(st == 200 and secs < 1.0 and m[0] == 200 and m[2] >= TIMEOUT - 0.5,
          f"while a /metrics waits {m[2]:.1f} s for the silent target, a /probe of a live server answers in "
          f"{secs:.2f} s", body)


def sharing_checks(w, x):
    before = samples(x.get("/metrics")[1])
    box = []
    lock = threading.Lock()

    def one():
        r = x.get("/metrics")
        with lock:
            box.append(r)

    threads = [threading.Thread(target=one) for _ in range(10)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    secs = time.monotonic() - t0
    after = samples(x.get("/metrics")[1])

    def delta(name):
        return (value(after, name) or 0) - (value(before, name) or 0)

    # 11 scrapes (10 and the last), 4 targets each: 44 asks; the silent target's 10 concurrent ones are one query.
    check(len(box) == 10 and all(r[0] == 200 for r in box) and delta("smbsess_exporter_shared_queries_total") >= 9
          and delta("smbsess_exporter_queries_total") <= 44 - 9 and delta("smbsess_exporter_connections_total") == 0
          and secs < TIMEOUT + 2,
          f"10 concurrent scrapes in {secs:.1f} s: {delta('smbsess_exporter_queries_total'):.0f} queries, "
          f"{delta('smbsess_exporter_shared_queries_total'):.0f} joined one in flight, no new connection (kept)",
          f"before {sorted((k, v) for k, v in before.items() if k[0].startswith('smbsess_exporter'))}\n"
          f"after {sorted((k, v) for k, v in after.items() if k[0].startswith('smbsess_exporter'))}")


def prometheus_checks(w, auth):
    # An exporter of its own without the silent target, so that a scrape fits in Prometheus' 1 s interval.
    targets = os.path.join(w.tmp, "targets-prom")
    with open(targets, "w") as f:
        f.write(f"{w.names[0]}\n{w.names[1]}\n{w.dead}\n")
    x = Exporter("--targets", targets, "-A", auth, "--timeout", "0.9")
    w.exporters.append(x)
    cfg = f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - smbsess.rules.yml
scrape_configs:
  - job_name: smbsess
    static_configs:
      - targets: ['127.0.0.1:{x.port}']
  - job_name: smbsess_probe
    metrics_path: /probe
    static_configs:
      - targets: ['127.0.0.1:{w.srv[1].port}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{x.port}
"""
    prom = Prometheus(w.tmp, cfg)
    try:
        q = f'smbsess_open_files{{job="smbsess",server="{w.names[0]}"}}'
        files, _ = w.oracle(0)
        got = prom.wait_value(q, float(len(files)))
        up = prom.wait_value(f'smbsess_up{{job="smbsess",server="{w.dead}"}}', 0.0)
        check(got == len(files) and up == 0.0,
              f"Prometheus (its HTTP API): smbsess_open_files of the first server = {got}, the files the clients "
              f"hold open ({len(files)}); smbsess_up of the dead target = {up}", prom.tail())
        c = ImpacketClient(w.srv[0], CAROL, PW, source="127.0.0.5")
        w.clients.append(c)
        hs = [c.open("share", f"prom/p{i}.txt") for i in range(3)]
        files, _ = w.oracle(0)
        got_up = prom.wait_value(q, float(len(files)))
        for h in hs[:2]:
            c.close_file(h)
        files2, _ = w.oracle(0)
        got_down = prom.wait_value(q, float(len(files2)))
        check(got_up == len(files) and got_down == len(files2) == len(files) - 2,
              f"a client opens 3 files: Prometheus follows to {got_up}; it closes 2: back to {got_down}",
              prom.tail())
        pq = f'smbsess_open_files{{job="smbsess_probe",server="127.0.0.1:{w.srv[1].port}"}}'
        files_b, _ = w.oracle(1)
        got_p = prom.wait_value(pq, float(len(files_b)))
        check(got_p == len(files_b),
              f"the probe job (/probe?target= through relabelling) gives the second server's {got_p} open files",
              prom.tail())
        end = time.monotonic() + 20
        alerts = []
        while time.monotonic() < end:
            alerts = prom.api("alerts").get("data", {}).get("alerts", [])
            if any(a["labels"].get("alertname") == "SmbServerUnreachable" and a["labels"].get("server") == w.dead
                   for a in alerts):
                break
            time.sleep(0.5)
        rules = prom.api("rules").get("data", {}).get("groups", [])
        healthy = [r["name"] for g in rules for r in g["rules"] if r.get("health") == "ok"]
        names = {(a["labels"].get("alertname"), a["labels"].get("server")) for a in alerts}
        check(("SmbServerUnreachable", w.dead) in names and ("SmbServerUnreachable", w.names[0]) not in names
              and {"SmbServerUnreachable", "SmbServerManyOpenFiles"} <= set(healthy),
              "docs/exporter/smbsess.rules.yml loads, its rules evaluate without error, and SmbServerUnreachable "
              "is pending or firing for the dead target only", f"{alerts}\n{rules}")
    finally:
        prom.stop()


def docs_checks():
    r1 = subprocess.run(["promtool", "check", "rules", os.path.join(DOCS, "exporter", "smbsess.rules.yml")],
                        capture_output=True, text=True, timeout=60)
    with tempfile.TemporaryDirectory() as d:
        for f in ("prometheus.yml", "smbsess.rules.yml"):
            shutil.copy(os.path.join(DOCS, "exporter", f), d)
        r2 = subprocess.run(["promtool", "check", "config", os.path.join(d, "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    check(r1.returncode == 0 and r2.returncode == 0 and "SUCCESS" in r2.stdout,
          "promtool check rules and check config accept docs/exporter/", r1.stdout + r1.stderr + r2.stdout + r2.stderr)


def usage_checks(tmp):
    r1 = subprocess.run([EXPORTER, "--targets", "/nonexistent"], capture_output=True, text=True, timeout=30)
    bad = os.path.join(tmp, "bad-targets")
    with open(bad, "w") as f:
        f.write("fs1\nfs2:0\n")
    auth = os.path.join(tmp, "auth")
    r2 = subprocess.run([EXPORTER, "--targets", bad, "-A", auth], capture_output=True, text=True, timeout=30)
    r3 = subprocess.run([EXPORTER, "--help"], capture_output=True, text=True, timeout=30)
    r4 = subprocess.run([EXPORTER, "--web.listen-address=nonsense", "-A", auth], capture_output=True, text=True,
                        timeout=30)
    check(r1.returncode == 2 and "-A" in r1.stderr and r2.returncode == 2 and "bad-targets:2:" in r2.stderr
          and r3.returncode == 0 and "--per-user" in r3.stdout and r4.returncode != 0,
          "no credentials, a bad targets line (FILE:LINE), a bad listen address: refused; --help",
          f"{r1}\n{r2}\n{r4}")
    with open(auth, "w") as f:
        f.write("username = nobody\npassword = x\n")
    x = Exporter("-A", auth)
    st, body, _ = x.get("/")
    st2, body2, _ = x.get("/metrics")
    t0 = time.monotonic()
    rc = x.stop()
    check(st == 200 and "/metrics" in body and st2 == 200 and "smbsess_exporter_targets 0" in body2
          and "smbsess_up" not in body2 and rc == 0 and time.monotonic() - t0 < 5,
          f"without --targets: / links the endpoints, /metrics has the exporter's own metrics only; SIGTERM: exit {rc}",
          f"{body}\n{body2}")


def main():
    if EXPORTER is None or not os.access(EXPORTER, os.X_OK) or DOCS is None:
        print("1..1\nnot ok 1 - usage: exporter.py EXPORTER DOCS_DIR")
        return 1
    plan = 3 + 3 + 1 + 4 + 1 + 2
    print(f"1..{plan}", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smbsess-exporter-") as tmp:
        os.chmod(tmp, 0o755)
        dead = sambatest.free_port()
        silent = Silent()
        with SmbServer(os.path.join(tmp, "s1")) as s1, SmbServer(os.path.join(tmp, "s2")) as s2:
            for srv in (s1, s2):
                for u, admin in ((ADMIN, True), (BOB, False), (CAROL, False)):
                    srv.add_user(u, PW, admin=admin)
                os.makedirs(os.path.join(srv.share_path("share"), "prom"), mode=0o777, exist_ok=True)
                os.chmod(os.path.join(srv.share_path("share"), "prom"), 0o777)
            w = World(s1, s2, tmp, dead, silent)
            auth = os.path.join(tmp, "auth")
            with open(auth, "w") as f:
                f.write(f"username = {ADMIN}\npassword = {PW}\n")
            os.chmod(auth, 0o600)
            targets = os.path.join(tmp, "targets")
            with open(targets, "w") as f:
                f.write(f"# the fleet\n{w.names[0]}\n{w.names[1]}  # the second, by name\n{w.dead}\n{w.silent}\n")
            x = None
            try:
                c1 = ImpacketClient(s1, BOB, PW, source="127.0.0.2")
                c2 = ImpacketClient(s2, BOB, PW, source="127.0.0.3")
                c3 = ImpacketClient(s2, CAROL, PW, source="127.0.0.4")
                w.clients += [c1, c2, c3]
                for c, fs in ((c1, ["a.txt", "b.txt"]), (c2, ["c.txt"]), (c3, ["d.txt", "e.txt", "f.txt"])):
                    for f in fs:
                        h = c.open("share", f)
                        if f in ("b.txt", "e.txt"):
                            c.write(h, b"0123456789abcdef")
                            lock_range(c, h)  # one locked file on each server
                w.oracle(0), w.oracle(1)  # rpcd started on both before anything asks them at once
                x = Exporter("--targets", targets, "-A", auth, "--timeout", str(TIMEOUT), "--per-user")
                timings["setup"] = time.monotonic() - t0
                section("metrics", 3, metrics_checks, w, x)
                section("probe", 3, probe_checks, w, x)
                section("sharing", 1, sharing_checks, w, x)
                section("prometheus", 4, prometheus_checks, w, auth)
                section("docs", 1, docs_checks)
                section("usage", 2, usage_checks, tmp)
            finally:
                rc = x.stop() if x else None
                diag(f"exporter stopped with exit status {rc}")
                for e in w.exporters:
                    e.stop()
                for c in w.clients:
                    c.close()
                silent.close()
    timings["total"] = time.monotonic() - t0
    diag("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return 0 if all(results) and len(results) == plan else 1


if __name__ == "__main__":
    sys.exit(main())
