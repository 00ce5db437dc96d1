#!/usr/bin/python3
"""examples/demo.sh as the suite runs it: with SMBNET set (no packages, no
build), on this build's smbnet. It must show the sessions and files of the
demo server, close one file, show it gone, exit 0 and leave no process and
no directory behind; when a step fails it must exit non-zero and clean up
just the same. TAP.

usage: demo.py SMBNET DEMO_SH      (root; see tests/harness)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import sambatest  # noqa: E402

results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}", flush=True)
    if not ok and detail:
        for line in str(detail).rstrip().splitlines()[-80:]:
            print("# " + line)
    return ok


def run_demo(demo, smbnet, timeout=240):
    env = dict(os.environ, SMBNET=smbnet)
    env.pop("SMBSESS_PASSWORD", None)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["bash", demo], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, env=env, errors="replace")
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc = -999
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = f"timed out after {timeout} s"
    return rc, out, err, time.monotonic() - t0


def leftovers(out):
    """The demo's directory and whatever still runs from it, a few seconds after it ended."""
    m = re.search(r"\(in (/tmp/smbnet-demo\.\w+)\)", out)
    if not m:
        return None, ["the demo did not say where its server lives"]
    d = m.group(1)
    left = []
    end = time.monotonic() + 15  # the harness's reaper gives smbd up to 10 s
    while time.monotonic() < end:
        left = sorted(sambatest.processes_matching(d))
        if not left and not os.path.exists(d):
            break
        time.sleep(0.5)
    return d, left


def main():
    smbnet, demo = sys.argv[1], sys.argv[2]
    print("1..6", flush=True)

    rc, out, err, secs = run_demo(demo, smbnet)
    shown = f"exit {rc} after {secs:.1f} s\n--- stdout\n{out}\n--- stderr\n{err}"
    check(rc == 0 and out.rstrip().endswith("All done."), f"demo.sh exits 0 after {secs:.1f} s", shown)
    sess = re.search(r"\$ smbnet -S 127\.0\.0\.1 -p \d+ -U demo_admin session\n(.*?)\n==>", out, re.S)
    rows = sess.group(1) if sess else ""
    check(re.search(r"^Computer +User name +Client type +Opens +Idle time$", rows, re.M)
          and re.search(r"^\\\\127\.0\.0\.2 +demo_alice +2 \d\d:\d\d:\d\d$", rows, re.M)
          and len(re.findall(r"^\\\\127\.0\.0\.3 +demo_bob ", rows, re.M)) == 2,
          "it shows the session table: alice from 127.0.0.2 with 2 open files, bob's two sessions from "
          "127.0.0.3", shown)
    m = re.search(r"File ID (\d+) on 127\.0\.0\.1 has been closed\.", out)
    fid = m.group(1) if m else None
    files = re.findall(r"^(\d+) +C:\\\S+\\(\S+) +(demo_\w+) +0$", out, re.M)
    before = {n for i, n, _ in files if i == fid}
    last = out[out.rfind("the open files again"):].partition("\n")[2]  # after that header line
    check(fid and before == {"budget.docx"} and "budget.docx" not in last and "q3-figures.xlsx" in last
          and "notes.txt" in last,
          f"it lists the open files, closes budget.docx (id {fid}) as demo_operator, and it is gone after",
          shown)
    d, left = leftovers(out)
    check(d and not left and not os.path.exists(d),
          "after it: no process of its server is left and its directory is gone", f"{d}: {left}")

    # A step that fails: an smbnet that refuses to close files.
    with tempfile.TemporaryDirectory(prefix="smbnet-demo-test-") as tmp:
        fake = os.path.join(tmp, "smbnet")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\ncase \"$*\" in *CLOSE*) echo 'refused by the test' >&2; exit 5;; esac\n"
                    f"exec '{smbnet}' \"$@\"\n")
        os.chmod(fake, 0o755)
        rc, out, err, secs = run_demo(demo, fake)
        shown = f"exit {rc} after {secs:.1f} s\n--- stdout\n{out}\n--- stderr\n{err}"
        check(rc not in (0, -999) and "FAILED" in err and "exited with 5" in err,
              f"when the close step fails, demo.sh says so and exits {rc}", shown)
        d, left = leftovers(out)
        check(d and not left and not os.path.exists(d), "and still stops its server and removes its directory",
              f"{d}: {left}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
