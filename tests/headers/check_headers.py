#!/usr/bin/python3
"""Compile every public header on its own, as C and as C++.

For each header under include/smbsess/ (found at run time, so a new header is
covered without touching this test), and for each compiler given, compiles a
translation unit that includes only that header, then nothing:

  C:    CC  -std=c99   -pedantic -Wall -Wextra -Werror -Wstrict-prototypes
  C++:  CXX -std=c++11 -pedantic -Wall -Wextra -Werror -x c++

with the include flags of talloc and tevent from pkg-config, so a header may
include <talloc.h> or <tevent.h>. Also checks, with the first C compiler,
that each header can be included twice (include guard), and, with each C++
compiler, that the functions it declares with SMBSESS_API get C linkage (the
object file refers to them by their plain names, not by mangled ones).

Prints one TAP line per header and compiler. Exits 0 once the
TAP stream is out: its "not ok" lines are the verdict.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

C_FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wstrict-prototypes"]
CXX_FLAGS = ["-std=c++11", "-pedantic", "-Wall", "-Wextra", "-Werror", "-x", "c++"]

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "abi"))
import check_exports  # noqa: E402  (the header parser of tests/abi)


class Tap:
    def __init__(self):
        self.lines = []
        self.failed = 0

    def check(self, ok, what, diag=None):
        self.lines.append(("ok" if ok else "not ok", what, diag))
        if not ok:
            self.failed += 1

    def skip(self, what, why):
        self.lines.append(("ok", "%s # SKIP %s" % (what, why), None))

    def finish(self):
        print("1..%d" % len(self.lines))
        for n, (status, what, diag) in enumerate(self.lines, 1):
            print("%s %d - %s" % (status, n, what))
            if diag and status != "ok":
                for line in diag.rstrip("\n").splitlines():
                    print("#   " + line)
        if self.failed:
            # Again on stderr, which meson prints apart in its log.
            for n, (status, what, diag) in enumerate(self.lines, 1):
                if status is False or status == "not ok":
                    print("not ok %d - %s" % (n, what), file=sys.stderr)
                    for line in (diag or "").rstrip("\n").splitlines():
                        print("#   " + line, file=sys.stderr)
        # A complete TAP stream exits 0: its "not ok" lines are the verdict.
        return 0


def pkg_cflags(packages):
    pc = shutil.which("pkg-config")
    if not pc:
        return [], "pkg-config not found"
    p = subprocess.run([pc, "--cflags"] + packages, capture_output=True, text=True)
    if p.returncode != 0:
        return [], "pkg-config --cflags %s failed: %s" % (" ".join(packages), p.stderr.strip())
    return shlex.split(p.stdout), None


def headers(include_root):
    found = []
    top = os.path.join(include_root, "smbsess")
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for fn in sorted(files):
            if fn.endswith(".h"):
                found.append(os.path.relpath(os.path.join(root, fn), include_root))
    return found


def compile_tu(cmd, flags, source, tmp, obj_name):
    src = os.path.join(tmp, "tu.c")
    with open(src, "w", encoding="utf-8") as f:
        f.write(source)
    obj = os.path.join(tmp, obj_name)
    argv = cmd + flags + ["-c", src, "-o", obj]
    p = subprocess.run(argv, capture_output=True, text=True)
    out = "$ " + " ".join(shlex.quote(a) for a in argv) + "\n" + \
        "".join("tu.c: " + ln + "\n" for ln in source.splitlines()) + p.stdout + p.stderr
    return p.returncode == 0, out, obj


def describe(cmd):
    return os.path.basename(cmd[-1])


def api_functions(path):
    return sorted({d.name for d in check_exports.header_decls(path, path)
                   if d.exported and d.kind == "function"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--include-root", required=True, help="the include/ folder")
    ap.add_argument("--c", action="append", default=[], metavar="CMD",
                    help="a C compiler command (may be repeated; quoted words)")
    ap.add_argument("--cxx", action="append", default=[], metavar="CMD",
                    help="a C++ compiler command (may be repeated)")
    ap.add_argument("--want", action="append", default=[], metavar="NAME",
                    help="a compiler that was looked for and not found: reported as skipped")
    args = ap.parse_args()

    tap = Tap()
    extra, why = pkg_cflags(["talloc", "tevent"])
    tap.check(why is None, "talloc and tevent include flags from pkg-config: %s"
              % (" ".join(extra) or "(none needed)"), why)
    base = ["-I", args.include_root] + extra

    found = headers(args.include_root)
    tap.check(found, "public headers found under %s/smbsess" % args.include_root)
    tap.check("smbsess/smbsess.h" in found, "the umbrella header smbsess/smbsess.h exists")

    # Drop a compiler that is the same program as one before it.
    def unique(cmds):
        seen, out = set(), []
        for c in cmds:
            words = shlex.split(c)
            real = os.path.realpath(shutil.which(words[-1]) or words[-1])
            if real not in seen:
                seen.add(real)
                out.append(words)
        return out

    c_compilers = unique(args.c)
    cxx_compilers = unique(args.cxx)
    for name in args.want:
        tap.skip("compile the headers with %s" % name, "%s not found" % name)

    with tempfile.TemporaryDirectory(prefix="smbsess-hdr-") as tmp:
        for n, hdr in enumerate(found):
            include = "#include <%s>\n" % hdr
            alone_ok = []
            for cmd in c_compilers:
                ok, out, _ = compile_tu(cmd, C_FLAGS + base, include, tmp, "c%d.o" % n)
                tap.check(ok, "%s compiles alone as C99 with %s" % (hdr, describe(cmd)), out)
                alone_ok.append(ok)
            if c_compilers and alone_ok[0]:
                ok, out, _ = compile_tu(c_compilers[0], C_FLAGS + base, include * 2, tmp, "g%d.o" % n)
                tap.check(ok, "%s can be included twice (include guard)" % hdr, out)

            funcs = api_functions(os.path.join(args.include_root, hdr))
            for cmd in cxx_compilers:
                ok, out, _ = compile_tu(cmd, CXX_FLAGS + base, include, tmp, "x%d.o" % n)
                tap.check(ok, "%s compiles alone as C++11 with %s" % (hdr, describe(cmd)), out)
                if not ok or not funcs:
                    continue
                # Refer to every function so the object names them.
                refs = include + "typedef void (*smbsess_hdr_fn)(void);\n" \
                    "extern const smbsess_hdr_fn smbsess_hdr_refs[];\n" \
                    "const smbsess_hdr_fn smbsess_hdr_refs[] = {\n" + \
                    "".join("\treinterpret_cast<smbsess_hdr_fn>(&%s),\n" % f for f in funcs) + "};\n"
                ok, out, obj = compile_tu(cmd, CXX_FLAGS + base, refs, tmp, "l%d.o" % n)
                if not ok:
                    tap.check(False, "%s declares its functions with C linkage (%s)" % (hdr, describe(cmd)), out)
                    continue
                nm = subprocess.run(["nm", "-u", "-P", obj], capture_output=True, text=True)
                undefined = {line.split()[0] for line in nm.stdout.splitlines() if line.strip()}
                mangled = [f for f in funcs if f not in undefined]
                tap.check(not mangled, "%s declares its functions with C linkage (%s)" % (hdr, describe(cmd)),
                          "C++ sees these with C++ linkage (wrap the declarations in "
                          "SMBSESS_BEGIN_DECLS / SMBSESS_END_DECLS): " + ", ".join(mangled)
                          + "\nundefined symbols of the object: " + ", ".join(sorted(undefined)))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
