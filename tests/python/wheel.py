#!/usr/bin/python3
"""The Python binding as a user installs it: a wheel built offline from a
copy of examples/python, installed into a fresh virtual environment that
sees nothing of the build tree, and used from there against real Samba.
Also: the package and its example pass mypy --strict. TAP.

usage: wheel.py --lib LIBSMBSESS --source DIR --version V
Runs as root with Debian's /usr/bin/python3 (python3-build, python3-venv).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tap import check, diag, section, timings  # noqa: E402
from sambatest import ImpacketClient, SmbServer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--lib", required=True)
ap.add_argument("--source", required=True)
ap.add_argument("--version", required=True)
A = ap.parse_args()
LIB = os.path.abspath(A.lib)
SOURCE = os.path.abspath(A.source)
PYDIR = os.path.join(SOURCE, "examples", "python")
PW = "Whl!pw-3071"


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(args, **kw)


def clean_env(**more):
    """No PYTHONPATH, no pyenv: what a user's shell with the venv has."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYENV", "VIRTUAL_ENV", "SMBSESS_"))}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    env.update(more)
    return env


def main():
    print("1..11", flush=True)
    tmp = tempfile.mkdtemp(prefix="smbsess-wheel.")
    try:
        section("wheel", 11, body, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    diag("sections: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return 0


def body(tmp):
    # A copy, so that the build leaves nothing (build/, *.egg-info) in the tree.
    src = os.path.join(tmp, "src")
    shutil.copytree(PYDIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "dist"))
    dist = os.path.join(tmp, "dist")
    r = run(["/usr/bin/python3", "-m", "build", "--no-isolation", "--wheel", "--outdir", dist, src],
            cwd=src, env=clean_env())
    wheels = os.listdir(dist) if os.path.isdir(dist) else []
    name = f"smbsess-{A.version}-py3-none-any.whl"
    check(r.returncode == 0 and wheels == [name],
          f"python3 -m build --no-isolation --wheel builds {name} offline", r.stdout[-3000:] + r.stderr[-3000:])
    whl = os.path.join(dist, name)
    members = zipfile.ZipFile(whl).namelist() if os.path.exists(whl) else []
    pkg = sorted(m for m in members if m.startswith("smbsess/"))
    check(pkg == ["smbsess/__init__.py", "smbsess/_native.py", "smbsess/client.py", "smbsess/errors.py",
                  "smbsess/many.py", "smbsess/py.typed", "smbsess/records.py"]
          and all(m.startswith(("smbsess/", f"smbsess-{A.version}.dist-info/")) for m in members),
          "the wheel holds the smbsess package with py.typed, and nothing else", "\n".join(members))

    venv = os.path.join(tmp, "venv")
    r = run(["/usr/bin/python3", "-m", "venv", venv], env=clean_env())
    py = os.path.join(venv, "bin", "python")
    r2 = run([py, "-m", "pip", "install", "--no-index", "--no-cache-dir", whl], env=clean_env())
    check(r.returncode == 0 and r2.returncode == 0,
          "a fresh venv (no system site-packages) takes the wheel with pip install --no-index",
          r.stderr + r2.stdout[-2000:] + r2.stderr[-2000:])

    # From a folder outside the tree, in isolated mode (-I: no PYTHON* variables,
    # no user site, no script folder on sys.path).
    where = os.path.join(tmp, "elsewhere")
    os.mkdir(where)
    probe = ("import json, sys, smbsess\n"
             "print(json.dumps({'file': smbsess.__file__, 'path': sys.path, 'prefix': sys.prefix,\n"
             "  'version': smbsess.__version__, 'lib': smbsess.library_version()}))\n")
    r = run([py, "-I", "-c", probe], cwd=where, env=clean_env(SMBSESS_LIBRARY=LIB))
    try:
        import json
        info = json.loads(r.stdout)
    except ValueError:
        info = {}
    in_tree = [p for p in info.get("path", []) if p.startswith(SOURCE)]
    check(info and info["file"].startswith(os.path.join(venv, "lib")) and not in_tree
          and "/usr/lib/python3/dist-packages" not in info["path"],
          "the venv imports smbsess from its own site-packages; nothing of the source tree or of Debian's "
          "dist-packages is on sys.path", r.stdout + r.stderr)
    check(info.get("version") == A.version and info.get("lib") == A.version,
          f"installed package and library are version {A.version}", repr(info))

    with SmbServer(os.path.join(tmp, "srv")) as srv:
        srv.add_user("swhl_admin", PW, admin=True)
        srv.add_user("swhl_bob", PW)
        bob = ImpacketClient(srv, "swhl_bob", PW, source="127.0.0.2")
        bob.open("share", "wheel-Überweisung.pdf")
        code = ("import sys, smbsess\n"
                "c = smbsess.Credentials.password('swhl_admin', sys.argv[2])\n"
                "with smbsess.Connection('127.0.0.1', c, port=int(sys.argv[1])) as conn:\n"
                "    for s in conn.sessions(client='127.0.0.2'): print('S', s.client, s.user, s.num_opens)\n"
                "    for f in conn.files(): print('F', f.id, f.user, f.path)\n"
                "r = smbsess.list_many(['127.0.0.1:' + sys.argv[1], '127.0.0.1:1'], c, 'files')\n"
                "print('M', [x.ok for x in r], type(r[1].error).__name__)\n")
        r = run([py, "-I", "-c", code, str(srv.port), PW], cwd=where, env=clean_env(SMBSESS_LIBRARY=LIB))
        lines = r.stdout.splitlines()
        check(r.returncode == 0 and "S 127.0.0.2 swhl_bob 1" in lines,
              "from the venv: sessions() lists the impacket session", r.stdout + r.stderr)
        check(any(l.startswith("F ") and l.endswith("\\wheel-Überweisung.pdf") and " swhl_bob " in l for l in lines),
              "from the venv: files() lists the open file with its Unicode name", r.stdout + r.stderr)
        check("M [True, False] ConnectError" in lines,
              "from the venv: list_many answers per server", r.stdout + r.stderr)
        ex = os.path.join(where, "who_has_open.py")
        shutil.copy(os.path.join(PYDIR, "who_has_open.py"), ex)
        r = run([py, "-I", ex, "-S", f"127.0.0.1:{srv.port}", "-U", f"swhl_admin%{PW}", "wheel-überweisung.PDF"],
                cwd=where, env=clean_env(SMBSESS_LIBRARY=LIB))
        check(r.returncode == 0 and "\tswhl_bob\t" in r.stdout,
              "from the venv: the example who_has_open.py names the holder", r.stdout + r.stderr)
        bob.close()

    # Typing, checked by a type checker on the installed package and the example.
    mypy = run(["/usr/bin/python3", "-m", "mypy", "--version"], env=clean_env())
    if mypy.returncode != 0:
        check(False, "mypy is installed (python3-mypy)", "tests/run.sh installs python3-mypy")
    else:
        site = run([py, "-I", "-c", "import smbsess, os; print(os.path.dirname(os.path.dirname(smbsess.__file__)))"],
                   env=clean_env()).stdout.strip()
        r = run(["/usr/bin/python3", "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull,
                 os.path.join(site, "smbsess"), ex], cwd=where, env=clean_env(MYPYPATH=site))
        check(r.returncode == 0, f"mypy --strict passes on the installed package and the example "
              f"({mypy.stdout.strip()})", r.stdout + r.stderr)
    r = run([py, "-m", "pip", "uninstall", "-y", "smbsess"], env=clean_env())
    r2 = run([py, "-I", "-c", "import smbsess"], cwd=where, env=clean_env())
    check(r.returncode == 0 and r2.returncode != 0 and "ModuleNotFoundError" in r2.stderr,
          "pip uninstall removes it again", r.stdout + r.stderr + r2.stderr)


if __name__ == "__main__":
    sys.exit(main())
