#!/usr/bin/python3
"""Compare the ABI of the built libsmbsess with the committed baseline.

Dumps the library with abidw, counting only types defined in the public
headers, and compares the dump with tests/abi/libsmbsess.abi. Prints TAP:

  * abidw could read the library (it needs DWARF: build with -g);
  * the baseline was recorded for the same architecture (else SKIP);
  * no header under lib/ has the base name of a public header (abidw tells
    public from private types by the base name of the declaring file);
  * abidiff finds no incompatible change (exit bit 8, default filtering);
  * abidiff --harmless finds no change at all (exit bit 4): additions and
    changes abidiff calls harmless, such as swapped members of one type or a
    new enumerator, still need a deliberate baseline update;
  * every public enum is in the dump, and its enumerators and values equal
    the baseline's (abidiff only compares types reachable from a function,
    and the status code enums are not: codes travel as uint32_t).

With --update, writes the dump to the baseline instead (see
tests/abi/update-baseline.sh and docs/ABI.md).

Exits 0 once the TAP stream is out: its "not ok" lines are the verdict.
abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change,
8 incompatible ABI change; 0 means equal.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_ABI_CHANGE = 4
ABIDIFF_ABI_INCOMPATIBLE_CHANGE = 8

UPDATE_HINT = ("if the change is intended (a new symbol, a new enumerator), run "
               "tests/abi/update-baseline.sh and commit tests/abi/libsmbsess.abi; "
               "an incompatible change needs a new SONAME (docs/ABI.md)")


class Tap:
    def __init__(self):
        self.lines = []
        self.failed = 0
        self.abi_changed = False

    def check(self, ok, what, diag=None):
        self.lines.append((bool(ok), what, diag))
        if not ok:
            self.failed += 1
        return ok

    def finish(self):
        print("1..%d" % len(self.lines))
        for n, (ok, what, diag) in enumerate(self.lines, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
            if diag and not ok:
                for line in diag.rstrip("\n").splitlines():
                    print("#   " + line)
        if self.abi_changed:
            print("# " + UPDATE_HINT)
        if self.failed:
            # Again on stderr, which meson prints apart in its log.
            for n, (status, what, diag) in enumerate(self.lines, 1):
                if status is False or status == "not ok":
                    print("not ok %d - %s" % (n, what), file=sys.stderr)
                    for line in (diag or "").rstrip("\n").splitlines():
                        print("#   " + line, file=sys.stderr)
            if self.abi_changed:
                print("# " + UPDATE_HINT, file=sys.stderr)
        # A complete TAP stream exits 0: its "not ok" lines are the verdict.
        return 0


def skip_all(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)


def abidw_command(abidw, lib, headers_dir, out):
    return [abidw,
            "--headers-dir", headers_dir,  # types declared elsewhere are private...
            "--drop-private-types",        # ...and left out of the dump
            "--load-all-types",            # keep public enums no function reaches
            "--drop-undefined-syms",       # not our interface
            "--no-elf-needed",             # a new DT_NEEDED is not an ABI change
            "--no-show-locs",              # line numbers: no churn in the baseline
            "--no-comp-dir-path", "--no-corpus-path",
            "--type-id-style", "hash",     # ids that do not shift when types are added
            "--out-file", out, lib]


def has_debug_info(lib):
    out = subprocess.run(["readelf", "-S", "-W", lib], capture_output=True, text=True)
    return ".debug_info" in out.stdout


def public_enums(headers_dir):
    """Names of the tagged enums defined in the public headers."""
    names = {}
    for root, dirs, files in os.walk(headers_dir):
        dirs.sort()
        for fn in sorted(files):
            if not fn.endswith(".h"):
                continue
            path = os.path.join(root, fn)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
            for m in re.finditer(r"\benum\s+([A-Za-z_]\w*)\s*\{", text):
                names.setdefault(m.group(1), os.path.relpath(path, os.path.dirname(headers_dir)))
    return names


def dump_enums(path):
    """enum name -> {enumerator: value} from an abixml file."""
    enums = {}
    for el in ET.parse(path).iter("enum-decl"):
        name = el.get("name")
        if not name or el.get("is-declaration-only") == "yes":
            continue
        values = {e.get("name"): int(e.get("value")) for e in el.iter("enumerator")}
        enums.setdefault(name, []).append(values)
    return enums


def corpus_attr(path, attr):
    root = ET.parse(path).getroot()
    return root.get(attr)


def abi_check(tap, ok, what, diag=None):
    """A check that fails when the ABI differs from the baseline."""
    if not ok:
        tap.abi_changed = True
    return tap.check(ok, what, diag)


def compare_enum(old, new):
    problems = []
    for k in old:
        if k not in new:
            problems.append("%s removed (was %d)" % (k, old[k]))
        elif old[k] != new[k]:
            problems.append("%s renumbered from %d to %d" % (k, old[k], new[k]))
    for k in new:
        if k not in old:
            problems.append("%s = %d added" % (k, new[k]))
    return problems


def run_abidiff(abidiff, old, new, extra):
    p = subprocess.run([abidiff] + extra + [old, new], capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="the built shared library")
    ap.add_argument("--baseline", required=True, help="the committed abixml (tests/abi/libsmbsess.abi)")
    ap.add_argument("--headers-dir", required=True, help="include/smbsess")
    ap.add_argument("--private-dir", action="append", default=[],
                    help="a folder of private headers (lib/); may be repeated")
    ap.add_argument("--update", action="store_true", help="write the dump to --baseline")
    args = ap.parse_args()

    abidw = shutil.which("abidw")
    abidiff = shutil.which("abidiff")
    if not abidw or not abidiff:
        if args.update:
            sys.exit("abidw and abidiff are needed (Debian: apt-get install abigail-tools)")
        skip_all("abidw/abidiff not found (Debian: apt-get install abigail-tools)")
    if not has_debug_info(args.lib):
        if args.update:
            sys.exit("%s has no DWARF; configure with -g (debug=true)" % args.lib)
        skip_all("%s has no debug info; abidw needs -g (buildtype debug or debugoptimized)" % args.lib)

    with tempfile.TemporaryDirectory(prefix="smbsess-abi-") as tmp:
        dump = os.path.join(tmp, "current.abi")
        p = subprocess.run(abidw_command(abidw, args.lib, args.headers_dir, dump),
                           capture_output=True, text=True)
        if args.update:
            if p.returncode != 0:
                sys.exit("abidw failed (exit %d):\n%s" % (p.returncode, p.stderr))
            if os.path.exists(args.baseline):
                rc, report = run_abidiff(abidiff, args.baseline, dump, ["--harmless"])
                print(report if report else "no ABI change against the old baseline")
            shutil.copyfile(dump, args.baseline)
            print("wrote %s" % args.baseline)
            return 0

        tap = Tap()
        if not tap.check(p.returncode == 0 and os.path.exists(dump),
                         "abidw dumped %s" % os.path.basename(args.lib),
                         "abidw exit %d:\n%s" % (p.returncode, p.stderr)):
            return tap.finish()
        if not tap.check(os.path.exists(args.baseline), "baseline %s exists" % args.baseline,
                         "create it with tests/abi/update-baseline.sh"):
            return tap.finish()

        try:
            old_arch = corpus_attr(args.baseline, "architecture")
            parse_error = None
        except ET.ParseError as e:
            parse_error = str(e)
        if not tap.check(parse_error is None, "baseline %s is abixml" % args.baseline,
                         "%s; re-create it with tests/abi/update-baseline.sh" % parse_error):
            return tap.finish()
        new_arch = corpus_attr(dump, "architecture")
        if old_arch != new_arch:
            skip_all("the baseline is for %s, this library is %s" % (old_arch, new_arch))

        # abidw decides which types are public by the base name of the file
        # that declares them, so a private status.h would count as public.
        public = {fn for _, _, files in os.walk(args.headers_dir) for fn in files if fn.endswith(".h")}
        for d in args.private_dir:
            clashes = sorted(os.path.relpath(os.path.join(r, fn), os.path.dirname(d))
                             for r, _, files in os.walk(d) for fn in files if fn in public)
            tap.check(not clashes, "no header under %s/ has the name of a public header"
                      % os.path.basename(d.rstrip("/")),
                      "rename: " + ", ".join(clashes) + " (abidw would count its types as public)")

        rc, report = run_abidiff(abidiff, args.baseline, dump, [])
        tool_ok = tap.check(not rc & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR),
                            "abidiff compared the baseline with the library",
                            "abidiff exit %d:\n%s" % (rc, report))
        if tool_ok:
            abi_check(tap, not rc & ABIDIFF_ABI_INCOMPATIBLE_CHANGE,
                      "abidiff: no incompatible change to the exported functions or their types",
                      report)
            rc_h, report_h = run_abidiff(abidiff, args.baseline, dump, ["--harmless"])
            if tap.check(not rc_h & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR),
                         "abidiff --harmless compared the baseline with the library",
                         "abidiff exit %d:\n%s" % (rc_h, report_h)):
                same = rc & ABIDIFF_ABI_INCOMPATIBLE_CHANGE and report_h == report
                abi_check(tap, rc_h == 0 and rc == 0,
                          "abidiff --harmless: no change at all (nothing added, nothing harmless)",
                          "(the report above)" if same else report_h)

        # The enums, compared by value.
        old_enums = dump_enums(args.baseline)
        new_enums = dump_enums(dump)
        in_headers = public_enums(args.headers_dir)
        for name in sorted(old_enums):
            if name.startswith("smbsess_") and not name.startswith("smbsess__") \
                    and any(old_enums[name]) and name not in in_headers:
                abi_check(tap, False, "enum %s of the baseline is still in a public header" % name,
                          "removed or renamed: an incompatible change")
        for name, header in sorted(in_headers.items()):
            if not tap.check(name in new_enums, "enum %s (%s) is in the library's debug info" % (name, header),
                             "no code of the library uses it, so the compiler dropped it and "
                             "the baseline cannot guard its values; use it in lib/ (a name table, "
                             "a parameter) or fold it into an enum that is used"):
                continue
            if name not in old_enums:
                abi_check(tap, False, "enum %s is in the baseline" % name, "new public enum")
                continue
            new_v = new_enums[name][0]
            problems = []
            for other in new_enums[name][1:]:
                if other != new_v:
                    problems.append("differs between translation units of the library")
            problems += compare_enum(old_enums[name][0], new_v)
            abi_check(tap, not problems, "enum %s has the enumerators and values of the baseline" % name, "\n".join(problems))
        return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
