#!/usr/bin/python3
"""The manual pages stay clean and true. TAP.

  * smbnet.1, libsmbsess.3 and smbsess_exporter.1 render without a single warning
    (groff -man -ww -z, and man --warnings -l where man-db is installed);
  * the FUNCTIONS section of libsmbsess.3 lists exactly the SMBSESS_API
    functions of include/smbsess/*.h, each once;
  * its example compiles against the headers, warnings as errors;
  * smbnet.1 documents every option that `smbnet --help` prints, and every
    option smbnet.1 documents is one smbnet accepts;
  * smbsess_exporter.1 documents every option of its --help and the metrics;
  * the pages carry the project's version.

usage: manpages.py --smbnet SMBNET --version V --include-dir DIR --cc "CC ARGS" --docs DIR [--exporter EXPORTER]
"""
import argparse
import os
import re
import shlex
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


def skip(what, why):
    results.append(True)
    print(f"ok {len(results)} - {what} # SKIP {why}", flush=True)


def header_functions(include_dir):
    """Names of the functions declared with SMBSESS_API in the public headers."""
    names = []
    for fn in sorted(os.listdir(include_dir)):
        if not fn.endswith(".h"):
            continue
        with open(os.path.join(include_dir, fn), encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
        names += re.findall(r"\bSMBSESS_API\b[^;{(]*?\b(smbsess_\w+)\s*\(", text)
    return names


def section(text, name):
    """The roff source of one .SH section."""
    m = re.search(r"^\.SH %s\s*$(.*?)(?=^\.SH |\Z)" % re.escape(name), text, re.M | re.S)
    return m.group(1) if m else ""


def tag_names(sec):
    """smbsess_* names on the tag lines (the line after .TP) of a section."""
    lines = sec.splitlines()
    names = []
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            names += re.findall(r"\bsmbsess_\w+", lines[i + 1])
    return names


def roff_example(sec):
    """The text between .EX and .EE, with roff escapes undone."""
    m = re.search(r"^\.EX\n(.*?)^\.EE", sec, re.M | re.S)
    if not m:
        return ""
    return m.group(1).replace("\\e", "\\").replace("\\-", "-")


def render_checks(page):
    name = os.path.basename(page)
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and not r.stderr.strip(), f"{name}: groff -man -ww -z prints no warning",
              r.stderr)
    else:
        skip(f"{name}: groff -man -ww -z", "groff is not installed")
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
        r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, timeout=60,
                           env=env)
        check(r.returncode == 0 and not r.stderr.strip() and len(r.stdout) > 500,
              f"{name}: man --warnings -l renders it without a warning ({len(r.stdout)} characters)",
              r.stderr)
    else:
        skip(f"{name}: man --warnings -l", "man is not installed")


def help_options(smbnet):
    r = subprocess.run([smbnet, "--help"], capture_output=True, text=True, timeout=30)
    return r, sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", r.stdout)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbnet", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--include-dir", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--exporter", help="smbsess_exporter, to check smbsess_exporter.1 against its --help")
    a = ap.parse_args()
    page1 = os.path.join(a.docs, "smbnet.1")
    page3 = os.path.join(a.docs, "libsmbsess.3")
    pagex = os.path.join(a.docs, "smbsess_exporter.1")
    print("1..12")

    render_checks(page1)
    render_checks(page3)

    with open(page3, encoding="utf-8") as f:
        text3 = f.read()
    with open(page1, encoding="utf-8") as f:
        text1 = f.read()

    want = header_functions(a.include_dir)
    listed = tag_names(section(text3, "FUNCTIONS"))
    missing = sorted(set(want) - set(listed))
    extra = sorted(set(listed) - set(want))
    twice = sorted({n for n in listed if listed.count(n) > 1})
    check(want and not missing and not extra and not twice,
          f"libsmbsess.3 lists the {len(set(want))} SMBSESS_API functions of the headers, each once",
          f"not in libsmbsess.3: {missing}\nnot in the headers: {extra}\nlisted twice: {twice}")

    example = roff_example(section(text3, "EXAMPLES"))
    with tempfile.TemporaryDirectory(prefix="smbsess-man-") as tmp:
        src = os.path.join(tmp, "example.c")
        with open(src, "w") as f:
            f.write(example)
        include_root = os.path.dirname(os.path.abspath(a.include_dir))
        cmd = shlex.split(a.cc) + ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                   "-I", include_root, src]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        check("int main" in example and r.returncode == 0,
              "the example of libsmbsess.3 compiles against the headers (-Wall -Wextra -Werror)",
              f"{' '.join(cmd)}\n{r.stdout}{r.stderr}\n{example}")

    r, opts = help_options(a.smbnet)
    plain1 = text1.replace("\\-", "-")
    undocumented = [o for o in opts if o not in plain1]
    check(r.returncode == 0 and len(opts) >= 15 and not undocumented,
          f"smbnet.1 documents each of the {len(opts)} options of smbnet --help",
          f"not in smbnet.1: {undocumented}\n{r.stdout}{r.stderr}")
    documented = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", section(plain1, "OPTIONS") +
                                       section(plain1, "SWITCHES AND FILTERS"))))
    unknown = []
    for o in documented:
        rr = subprocess.run([a.smbnet, o, "--help"], capture_output=True, text=True, timeout=30)
        if "unknown option" in rr.stderr:
            unknown.append(o)
    check(len(documented) >= 10 and not unknown,
          f"every option documented in smbnet.1 ({len(documented)}) is one smbnet accepts",
          f"refused: {unknown}")

    render_checks(pagex)
    with open(pagex, encoding="utf-8") as f:
        textx = f.read().replace("\\-", "-")
    if a.exporter:
        r = subprocess.run([a.exporter, "--help"], capture_output=True, text=True, timeout=30)
        opts = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z.-]*[a-z]", r.stdout)))
        undocumented = [o for o in opts if o not in section(textx, "OPTIONS")]
        metrics = sorted(set(re.findall(r"\bsmbsess_\w+", section(textx, "METRICS"))))
        check(r.returncode == 0 and len(opts) >= 8 and not undocumented and len(metrics) >= 13,
              f"smbsess_exporter.1 documents each of the {len(opts)} options of smbsess_exporter --help "
              f"and {len(metrics)} metrics", f"not in OPTIONS: {undocumented}\n{r.stdout}{r.stderr}")
    else:
        check(False, "smbsess_exporter.1 against smbsess_exporter --help", "no --exporter given: it was not built")

    th1 = re.search(r'^\.TH .*"libsmbsess ([^"]+)"', text1, re.M)
    th3 = re.search(r'^\.TH .*"libsmbsess ([^"]+)"', text3, re.M)
    thx = re.search(r'^\.TH .*"libsmbsess ([^"]+)"', textx, re.M)
    check(th1 and th3 and thx and th1.group(1) == a.version == th3.group(1) == thx.group(1),
          f"the pages name version {a.version} in their .TH line",
          f"smbnet.1: {th1 and th1.group(1)}, libsmbsess.3: {th3 and th3.group(1)}, "
          f"smbsess_exporter.1: {thx and thx.group(1)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
