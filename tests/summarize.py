#!/usr/bin/python3
"""Adds up every test of a tests/run.sh run and prints the closing line
"N passed, N failed[, N skipped]". Arguments: meson testlog.json files, and
"tap:FILE" for raw TAP output. A TAP test counts each of its lines; a test
whose process failed beyond its TAP lines (crash, bad plan) counts one more
failure; a test without TAP counts once."""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def count_tap(text):
    passed = failed = skipped = 0
    for line in text.splitlines():
        m = TAP.match(line.strip())
        if not m:
            continue
        directive = m.group(2).upper()
        if "# SKIP" in directive:
            skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
    return passed, failed, skipped


def main(args):
    passed = failed = skipped = 0
    failures = []
    for arg in args:
        if arg.startswith("tap:"):
            try:
                text = open(arg[4:], encoding="utf-8", errors="replace").read()
            except OSError:
                failed += 1
                failures.append(f"{arg}: missing")
                continue
            p, f, s = count_tap(text)
            if p + f + s == 0:
                f = 1
                failures.append(f"{arg}: no TAP results")
            passed, failed, skipped = passed + p, failed + f, skipped + s
            continue
        try:
            lines = open(arg, encoding="utf-8").read().splitlines()
        except OSError:
            failed += 1
            failures.append(f"{arg}: missing")
            continue
        for line in lines:
            t = json.loads(line)
            result = t.get("result", "")
            p, f, s = count_tap(t.get("stdout") or "")
            if p + f + s == 0:
                if result == "SKIP":
                    s = 1
                elif result in ("OK", "EXPECTEDFAIL"):
                    p = 1
                else:
                    f = 1
            elif result not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0:
                f = 1  # the process failed although its lines passed
            if f:
                failures.append(f"{t.get('name')}: {result}")
            passed, failed, skipped = passed + p, failed + f, skipped + s
    for line in failures:
        print(f"FAILED: {line}")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
