#!/usr/bin/python3
"""The one list of exported symbols, its Debian form, and the version
numbers that must agree with it. TAP.

lib/api/libsmbsess.map is the only list of exported symbols: each name sits
in the version node of the release that added it (docs/ABI.md). The Debian
symbols file is derived from it by debian/symbols-from-map at package build
time; nothing else lists symbols. This test checks, against the built
library:

  * the symbols file derived from the map matches the library exactly
    (dpkg-gensymbols -c4: no symbol new, missing or in another version);
  * every node names a release no later than the project version: a symbol
    added in this release goes into the node of this release (0.2.0 ->
    SMBSESS_0.2), never into an older, frozen node;
  * the project version (meson.build) is the one in include/smbsess/version.h,
    in the Python package (pyproject.toml and smbsess.__version__), in the
    library (smbsess_version()) and at the top of debian/changelog;
  * the Debian binary package of the library is named after the SONAME
    (libsmbsess.so.N -> libsmbsessN) and the other packages depend on it.

Every failure says what to change.

usage: check_symbols.py --lib LIB --source-dir DIR --version V
"""
import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile

results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}", flush=True)
    if not ok and detail:
        for line in str(detail).rstrip().splitlines():
            print("# " + line)
    return ok


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def vtuple(v):
    return tuple(int(x) for x in v.split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--version", required=True, help="meson's project version")
    a = ap.parse_args()
    src = a.source_dir
    mapfile = os.path.join(src, "lib", "api", "libsmbsess.map")
    gen = os.path.join(src, "debian", "symbols-from-map")
    version = a.version

    # --- the symbols file, derived
    r = subprocess.run([sys.executable, gen, mapfile, "--meson", os.path.join(src, "meson.build")],
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.startswith("libsmbsess.so."),
          "debian/symbols-from-map derives a symbols file from lib/api/libsmbsess.map", r.stderr)
    symbols = r.stdout
    nodes = sorted(set(re.findall(r"^ (SMBSESS_\d+\.\d+)@\1 ", symbols, re.M)), key=lambda n: vtuple(n[8:]))
    entries = re.findall(r"^ (smbsess_\w+)@(SMBSESS_[\d.]+) ([\d.]+)$", symbols, re.M)
    check(entries and all(v == node[8:] + ".0" for _, node, v in entries),
          f"each of the {len(entries)} symbols has the release of its node as its minimal version "
          "(SMBSESS_X.Y -> X.Y.0)")

    gensymbols = shutil.which("dpkg-gensymbols")
    if gensymbols is None:
        check(False, "dpkg-gensymbols (dpkg-dev) is installed", "tests/run.sh installs dpkg-dev")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "symbols"), "w", encoding="utf-8") as f:
                f.write(symbols)
            os.mkdir(os.path.join(tmp, "pkg"))
            pkg = symbols.split()[1]
            r = subprocess.run([gensymbols, "-p" + pkg, "-P" + os.path.join(tmp, "pkg"), "-e" + os.path.abspath(a.lib),
                                "-I" + os.path.join(tmp, "symbols"), "-O" + os.path.join(tmp, "out"),
                                "-c4", "-v" + version], cwd=tmp, capture_output=True, text=True)
            check(r.returncode == 0 and "warning" not in r.stderr,
                  "dpkg-gensymbols -c4: the derived symbols file and the built library agree",
                  r.stdout + r.stderr + "\nA '+' line is a symbol the library exports but the map does not "
                  "list under that version; a '#MISSING' line one the map lists and the library lacks. "
                  "Change lib/api/libsmbsess.map (never move a symbol to another node), not the symbols "
                  "file: it is derived.")

    # --- nodes against the project version
    major, minor = vtuple(version)[:2]
    late = [n for n in nodes if vtuple(n[8:]) > (major, minor)]
    check(nodes and not late,
          f"every version node names a release up to {version} ({', '.join(nodes)})",
          f"{', '.join(late)} names a release after {version}: new symbols go into SMBSESS_{major}.{minor}, "
          f"or the project version in meson.build moves to that release first")

    # --- one version everywhere
    vh = read(os.path.join(src, "include", "smbsess", "version.h"))
    hv = ".".join(re.search(r"#define SMBSESS_VERSION_%s (\d+)" % p, vh).group(1) for p in ("MAJOR", "MINOR", "PATCH"))
    check(hv == version, f"include/smbsess/version.h says {hv}, as meson.build ({version})",
          "set SMBSESS_VERSION_MAJOR/MINOR/PATCH to the project version")
    lv = ctypes.CDLL(os.path.abspath(a.lib)).smbsess_version
    lv.restype = ctypes.c_char_p
    check(lv().decode() == version, f"smbsess_version() of the built library is {version}", lv().decode())
    pyproject = read(os.path.join(src, "examples", "python", "pyproject.toml"))
    m = re.search(r'^version\s*=\s*"([^"]+)"', pyproject, re.M)
    check(m and m.group(1) == version, f"examples/python/pyproject.toml has version {version}",
          "set version in [project] to the project version")
    init = read(os.path.join(src, "examples", "python", "smbsess", "__init__.py"))
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', init, re.M)
    check(m and m.group(1) == version, f"smbsess.__version__ is {version}",
          "set __version__ in examples/python/smbsess/__init__.py")
    changelog = read(os.path.join(src, "debian", "changelog"))
    m = re.match(r"libsmbsess \(([^)]+)\)", changelog)
    upstream = m.group(1).split("-")[0] if m else None
    check(upstream == version, f"debian/changelog's newest entry is for {version}",
          f"it is for {upstream}: add an entry with dch -v {version} (native package: no Debian revision)")

    # --- the SONAME and the package names
    so = re.search(r"^soversion\s*=\s*'(\d+)'", read(os.path.join(src, "meson.build")), re.M).group(1)
    control = read(os.path.join(src, "debian", "control"))
    packages = re.findall(r"^Package: (\S+)", control, re.M)
    libpkg = "libsmbsess" + so
    check(libpkg in packages, f"debian/control has the package {libpkg} for the SONAME libsmbsess.so.{so}",
          f"packages: {', '.join(packages)}; rename the library package (and its .install file) "
          "when the SONAME moves")
    stanzas = {re.search(r"^Package: (\S+)", s, re.M).group(1): s
               for s in control.split("\n\n") if re.search(r"^Package: ", s, re.M)}
    dev = stanzas.get("libsmbsess-dev", "")
    check(re.search(r"\b%s \(= \$\{binary:Version\}\)" % libpkg, dev),
          f"libsmbsess-dev depends on {libpkg} (= ${{binary:Version}})")
    py = stanzas.get("python3-smbsess", "")
    check(re.search(r"\b%s \(>= " % libpkg, py), f"python3-smbsess depends on {libpkg} (it loads libsmbsess.so.{so})")
    binding = read(os.path.join(src, "examples", "python", "smbsess", "_native.py"))
    check(f'SONAME = "libsmbsess.so.{so}"' in binding, f"the Python binding loads libsmbsess.so.{so}")

    print(f"1..{len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
