#!/usr/bin/python3
"""The Debian packages, built, checked, installed, used and removed. TAP.

    packaging.py SOURCE_DIR [--keep DIR]

1. Copies the source tree without build directories (the files git knows
   and untracked files it does not ignore; every file but build*/ and
   obj-*/ when SOURCE_DIR is not a git checkout).
2. Builds there with `dpkg-buildpackage -us -uc -b` and a plain PATH
   (/usr/sbin:/usr/bin:/sbin:/bin, so that pybuild uses Debian's python3).
   The build runs the unit tests and derives the symbols file from the
   version script; dpkg-gensymbols -c4 fails it on any difference.
3. Runs lintian on the .changes: no error, no warning; every tag of lower
   severity (info, pedantic, experimental) is named with its reason in
   debian/README.source.
4. Checks what each package holds and depends on.
5. Installs the packages into this machine with dpkg (never apt: every
   dependency is already here as a build dependency or a package
   tests/run.sh installs), runs every test of debian/tests/control the way
   autopkgtest runs it (from the source tree, AUTOPKGTEST_TMP set), and
   purges the packages again. The machine's package list is the same
   afterwards; if an earlier run was killed half way, its packages are
   purged first (a marker file says they were ours). Packages of this name
   installed by anyone else are left alone and the test fails.
Needs root. Takes about a minute.
"""
import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PACKAGES = ["libsmbsess0", "libsmbsess-dev", "smbnet", "prometheus-smbsess-exporter", "python3-smbsess"]
MARKER = "/var/lib/libsmbsess-packaging-test.installed"
LOCK = "/run/lock/libsmbsess-packaging-test.lock"
PLAIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}", flush=True)
    if not ok and detail:
        for line in str(detail).rstrip().splitlines()[-60:]:
            print("# " + line, flush=True)
    return ok


def diag(text):
    for line in str(text).rstrip().splitlines():
        print("# " + line, flush=True)


def run(args, **kw):
    if "stderr" in kw:
        kw.setdefault("stdout", subprocess.PIPE)
    else:
        kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(args, **kw)


def plain_env(**more):
    """The environment of a packager's shell: no pyenv, no variables of
    this project's tests that would change what is built or loaded."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYENV", "PYTHON", "SMBSESS_", "MESON", "DEB_", "DH_", "LD_", "PKG_CONFIG"))}
    env.update(PATH=PLAIN_PATH, LC_ALL="C.UTF-8", **more)
    return env


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and "install ok installed" in r.stdout


def package_state():
    r = run(["dpkg-query", "-W", "-f=${Package}:${Architecture} ${Version} ${Status}\n"])
    return sorted(r.stdout.splitlines())


# ------------------------------------------------------------------ the copy

def copy_tree(src, dst):
    """Copies the tree without build directories; returns the file count."""
    files = None
    r = run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if r.returncode == 0:
        files = sorted({f for f in r.stdout.split("\0") if f})
    else:
        files = []
        for root, dirs, names in os.walk(src):
            rel = os.path.relpath(root, src)
            dirs[:] = [d for d in dirs if not (rel == "." and (d.startswith(("build", "obj-")) or d == ".git"))]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    n = 0
    for f in files:
        s = os.path.join(src, f)
        if not os.path.lexists(s):      # deleted in the work tree, not yet in git
            continue
        d = os.path.join(dst, f)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)
        n += 1
    return n


# ------------------------------------------------------------------ checks

def deb_files(deb):
    r = run(["dpkg-deb", "-c", deb])
    return [line.split(None, 5)[5].split(" -> ")[0].lstrip(".") for line in r.stdout.splitlines()]


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def lintian_tags(output):
    """(severity letter, package, tag) of every line lintian printed."""
    tags = []
    for line in output.splitlines():
        m = re.match(r"^([EWIPXOC]): (\S+?)(?: \w+)?: (\S+)", line)
        if m:
            tags.append((m.group(1), m.group(2), m.group(3)))
    return tags


def autopkgtests(control_text):
    """[(test name, [dependencies])] from debian/tests/control."""
    tests = []
    for stanza in re.split(r"\n\s*\n", control_text):
        fields = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "tests" in fields:
            deps = [d.strip().split()[0] for d in fields.get("depends", "").split(",") if d.strip()]
            for name in fields["tests"].split():
                tests.append((name, deps))
    return tests


def build_depends(tree):
    """Build-Depends of debian/control, one package a line (no versions, no profiles)."""
    text = open(os.path.join(tree, "debian", "control"), encoding="utf-8").read()
    m = re.search(r"^Build-Depends:(.*?)(?=^\S)", text, re.M | re.S)
    deps = m.group(1) if m else ""
    return "\n".join(re.sub(r"\(.*?\)|<.*?>|\[.*?\]", "", d).strip() for d in deps.split(",") if d.strip())


def run_sh_packages(path):
    """The names in the packages=( ... ) array of tests/run.sh."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^packages=\((.*?)^\)", text, re.M | re.S)
    if not m:
        return set()
    return set(w for line in m.group(1).splitlines() for w in line.split("#", 1)[0].split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--keep", help="build in this folder and keep it")
    a = ap.parse_args()
    src = os.path.abspath(a.source)
    print("1..27", flush=True)
    t0 = time.monotonic()

    if os.geteuid() != 0:
        check(False, "runs as root (dpkg -i)", "run it as root, as tests/run.sh does")
        return 0
    work = a.keep or tempfile.mkdtemp(prefix="smbsess-pkg.")
    os.makedirs(work, exist_ok=True)
    try:
        return body(src, work, t0)
    except Exception:  # noqa: BLE001 - reported as a failing check, then the plan tells the rest
        import traceback
        check(False, "the packaging test ran to its end", traceback.format_exc())
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def body(src, work, t0):
    tree = os.path.join(work, "libsmbsess")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    os.makedirs(tree)
    n = copy_tree(src, tree)
    leftovers = [d for d in os.listdir(tree) if d.startswith(("build", "obj-"))]
    check(n > 0 and os.path.exists(os.path.join(tree, "debian", "control")) and not leftovers,
          f"a copy of the source tree without build directories ({n} files)", f"left over: {leftovers}")

    # ---- what the build and the autopkgtests need, installed by tests/run.sh
    needed = set(re.findall(r"^\s*([a-z0-9][a-z0-9.+-]+)", build_depends(tree), re.M))
    needed.discard("debhelper-compat")
    needed.update(("debhelper", "build-essential", "dpkg-dev", "lintian"))
    ours = set(PACKAGES)
    for _, deps in autopkgtests(open(os.path.join(tree, "debian", "tests", "control"), encoding="utf-8").read()):
        needed.update(d for d in deps if d not in ours and d != "@")
    listed = run_sh_packages(os.path.join(tree, "tests", "run.sh"))
    check(listed and needed <= listed,
          f"tests/run.sh installs every build dependency and autopkgtest dependency ({len(needed)})",
          "missing from its package list: " + " ".join(sorted(needed - listed)))

    # ---- build
    t = time.monotonic()
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, stderr=subprocess.STDOUT,
            env=plain_env(DEB_BUILD_OPTIONS="parallel=%d" % (os.cpu_count() or 1)))
    log = r.stdout
    with open(os.path.join(work, "build.log"), "w", encoding="utf-8") as f:
        f.write(log)
    changes = os.path.join(work, "libsmbsess_%s_%s.changes" % (
        run(["dpkg-parsechangelog", "-S", "Version"], cwd=tree).stdout.strip(),
        run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).stdout.strip()))
    debs = {}
    for fn in os.listdir(work):
        m = re.match(r"^([a-z0-9.+-]+)_([^_]+)_([a-z0-9]+)\.deb$", fn)
        if m:
            debs[m.group(1)] = os.path.join(work, fn)
    check(r.returncode == 0 and all(p in debs for p in PACKAGES) and os.path.exists(changes),
          "dpkg-buildpackage -us -uc -b builds %s (%.0f s)" % (", ".join(PACKAGES), time.monotonic() - t),
          log)
    if r.returncode != 0:
        return 0
    check(re.search(r"^\d+/\d+ libsmbsess:unit / unit-status +OK", log, re.M)
          and not re.search(r"^\d+/\d+ .* (FAIL|ERROR|TIMEOUT)", log, re.M)
          and "smbsess binding, library " in log,
          "the build ran the unit tests and loaded the built library through the binding", log)
    check("dh_makeshlibs -- -c4" in log and "dpkg-gensymbols: warning" not in log,
          "the symbols file derived from the map matches the library (dpkg-gensymbols -c4, no warning)",
          "\n".join(l for l in log.splitlines() if "gensymbols" in l))

    # ---- lintian
    t = time.monotonic()
    r = run(["lintian", "--pedantic", "--display-info", "--display-experimental", "--show-overrides",
             "--fail-on", "none", changes], env=plain_env())
    tags = lintian_tags(r.stdout)
    bad = [t_ for t_ in tags if t_[0] in "EW"]
    check(r.returncode == 0 and not bad, "lintian on the .changes: no error, no warning (%.0f s)" % (time.monotonic() - t),
          r.stdout + r.stderr)
    readme = open(os.path.join(tree, "debian", "README.source"), encoding="utf-8").read()
    rest = sorted({tag for sev, _, tag in tags if sev not in "EW"})
    check(all(tag in readme for tag in rest),
          "every lintian tag below warning level is explained in debian/README.source (%s)" % (", ".join(rest) or "none"),
          "not explained: " + ", ".join(tag for tag in rest if tag not in readme) + "\n" + r.stdout)

    # ---- contents
    lib, dev, tool, exporter, py = (debs[p] for p in PACKAGES)
    lib_files = [f for f in deb_files(lib) if not f.endswith("/")]
    check(lib_files and all(re.search(r"/libsmbsess\.so\.0(\.\d+)*$", f) or f.startswith("/usr/share/doc/libsmbsess0/")
                            for f in lib_files)
          and any(f.endswith("/libsmbsess.so.0") for f in lib_files),
          "libsmbsess0 holds the shared library (libsmbsess.so.0) and its doc folder only", "\n".join(lib_files))
    dev_files = deb_files(dev)
    want = ["/usr/include/smbsess/smbsess.h", "/pkgconfig/smbsess.pc", "/libsmbsess.so", "/usr/share/man/man3/libsmbsess.3.gz"]
    check(all(any(f.endswith(w) for f in dev_files) for w in want) and not any(".so.0" in f for f in dev_files),
          "libsmbsess-dev holds the headers, smbsess.pc, the .so link and libsmbsess(3)", "\n".join(dev_files))
    tool_files = deb_files(tool)
    check("/usr/bin/smbnet" in tool_files and "/usr/share/man/man1/smbnet.1.gz" in tool_files
          and not any("man3" in f for f in tool_files)
          and [f for f in tool_files if f.startswith("/usr/bin/") and not f.endswith("/")] == ["/usr/bin/smbnet"],
          "smbnet holds /usr/bin/smbnet and smbnet(1)", "\n".join(tool_files))
    exp_files = deb_files(exporter)
    check("/usr/bin/smbsess_exporter" in exp_files and "/usr/share/man/man1/smbsess_exporter.1.gz" in exp_files
          and [f for f in exp_files if f.startswith("/usr/bin/") and not f.endswith("/")] == ["/usr/bin/smbsess_exporter"],
          "prometheus-smbsess-exporter holds /usr/bin/smbsess_exporter and smbsess_exporter(1)", "\n".join(exp_files))
    py_files = deb_files(py)
    check(any(f.endswith("/dist-packages/smbsess/__init__.py") for f in py_files)
          and any(f.endswith("/dist-packages/smbsess/py.typed") for f in py_files)
          and deb_field(py, "Architecture") == "all",
          "python3-smbsess (Architecture: all) holds the smbsess package with py.typed", "\n".join(py_files))
    derived = run([os.path.join(tree, "debian", "symbols-from-map"), os.path.join(tree, "lib", "api", "libsmbsess.map")])
    shipped = run(["sh", "-c", "dpkg-deb -I \"$1\" symbols", "-", lib]).stdout
    check(shipped and sorted(shipped.splitlines()) == sorted(derived.stdout.splitlines()),
          "libsmbsess0's symbols control file is the one derived from the version script", shipped)
    deps = {p: deb_field(debs[p], "Depends") for p in PACKAGES}
    check(re.search(r"libsmbsess0 \(>= \d", deps["smbnet"]) and "libtalloc2" in deps["smbnet"],
          "smbnet depends on libsmbsess0 (>= the version of its newest symbol) through the symbols file", deps["smbnet"])
    check(re.search(r"libsmbsess0 \(= ", deps["libsmbsess-dev"]) and "libtalloc-dev" in deps["libsmbsess-dev"]
          and "libtevent-dev" in deps["libsmbsess-dev"],
          "libsmbsess-dev depends on the same libsmbsess0 and on the -dev packages smbsess.pc requires",
          deps["libsmbsess-dev"])
    check(re.search(r"libsmbsess0 \(>= ", deps["python3-smbsess"]) and "python3" in deps["python3-smbsess"],
          "python3-smbsess depends on libsmbsess0 and python3", deps["python3-smbsess"])
    cr = run(["sh", "-c", "dpkg-deb --fsys-tarfile \"$1\" | tar -xO ./usr/share/doc/smbnet/copyright", "-", tool]).stdout
    check(cr.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
          and "License: LGPL-3+" in cr, "the copyright file is machine-readable (DEP-5)", cr[:400])

    # ---- install, use, remove
    with open(LOCK, "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        return install_use_remove(tree, debs, t0)


def install_use_remove(tree, debs, t0):
    present = [p for p in PACKAGES if installed(p)]
    if present and os.path.exists(MARKER):
        diag("purging what a killed earlier run left installed: " + " ".join(present))
        run(["dpkg", "--purge"] + PACKAGES)
        present = [p for p in PACKAGES if installed(p)]
    before = package_state()
    if not check(not present, "none of the packages is installed before the test",
                 f"installed by someone else: {' '.join(present)}; this test leaves them alone"):
        return 0
    with open(MARKER, "w") as f:
        f.write(" ".join(PACKAGES) + "\n")
    ok_all = True
    try:
        r = run(["dpkg", "-i"] + [debs[p] for p in PACKAGES], env=plain_env(DEBIAN_FRONTEND="noninteractive"))
        ok_all = check(r.returncode == 0 and all(installed(p) for p in PACKAGES),
                       "dpkg -i installs the %d packages (their dependencies are on the machine)" % len(PACKAGES),
                       r.stdout + r.stderr)
        tests = autopkgtests(open(os.path.join(tree, "debian", "tests", "control"), encoding="utf-8").read())
        want = ["build-against-dev", "smbnet-version", "exporter-version", "python-import"]
        check([t for t, _ in tests] == want, "debian/tests/control declares " + ", ".join(want),
              repr(tests))
        for name, deps in tests:
            missing = [d for d in deps if d != "@" and not installed(d)]
            with tempfile.TemporaryDirectory() as tmp:
                r = run([os.path.join(tree, "debian", "tests", name)], cwd=tree,
                        env=plain_env(AUTOPKGTEST_TMP=tmp), stderr=subprocess.STDOUT)
            check(ok_all and not missing and r.returncode == 0,
                  f"autopkgtest {name} passes against the installed packages",
                  (f"dependencies not installed: {missing}\n" if missing else "") + r.stdout)
            diag(r.stdout)
    finally:
        r = run(["dpkg", "--purge"] + PACKAGES, env=plain_env(DEBIAN_FRONTEND="noninteractive"))
        gone = not any(installed(p) for p in PACKAGES)
        if gone:
            os.unlink(MARKER)
    check(r.returncode == 0 and gone, "dpkg --purge removes them again", r.stdout + r.stderr)
    leftovers = [p for p in ("/usr/bin/smbnet", "/usr/bin/smbsess_exporter", "/usr/include/smbsess",
                             "/usr/lib/python3/dist-packages/smbsess")
                 if os.path.exists(p)]
    leftovers += [os.path.join(d, f) for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib")
                  if os.path.isdir(d) for f in os.listdir(d) if f.startswith("libsmbsess.so")]
    check(not leftovers, "no file of theirs is left on the machine", "\n".join(leftovers))
    after = package_state()
    check(after == before, "the machine's package list is as it was before the install",
          "\n".join(sorted(set(before) ^ set(after))))
    diag("packaging test: %.0f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
