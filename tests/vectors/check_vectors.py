#!/usr/bin/python3
"""Check libsmbsess's srvsvc coders against the golden vectors made with Samba.

    /usr/bin/python3 check_vectors.py CODEC VECTORDIR [--no-regen] [--only SUBSTR]

CODEC is build/tests/tools/srvsvc_codec, VECTORDIR the folder with NAME.hex,
NAME.txt and gen_srvsvc.py. Prints TAP. Tests:

  regenerate      gen_srvsvc.py into a temporary folder gives exactly the
                  committed files (skipped with --no-regen)
  NAME ndrdump    Samba's ndrdump --validate decodes NAME.hex ("dump OK") and
                  prints every value of NAME.txt for the matching field, and
                  every value it prints is one of NAME.txt's
  NAME dump       `CODEC dump OP DIR NAME.hex [LEVEL]` prints NAME.txt exactly
  NAME repush     `CODEC repush ...` gives back the bytes of NAME.hex exactly

Exits 1 when anything failed.
"""

import difflib
import os
import re
import subprocess
import sys
import tempfile

from samba import ndr
from samba.dcerpc import srvsvc
import samba.werror

OPS = {
    "sess_enum": "srvsvc_NetSessEnum",
    "file_enum": "srvsvc_NetFileEnum",
    "conn_enum": "srvsvc_NetConnEnum",
    "file_get_info": "srvsvc_NetFileGetInfo",
    "file_close": "srvsvc_NetFileClose",
    "sess_del": "srvsvc_NetSessDel",
}
# The levels each container's union has an arm for (the others are [default]).
ARMS = {
    "sess_enum": {0, 1, 2, 10, 502},
    "file_enum": {2, 3},
    "conn_enum": {0, 1},
    "file_get_info": {2, 3},
}
STRING_KEYS = {"server_unc", "client", "user", "path", "client_type", "transport", "share"}

NAME_RE = re.compile(r"^(%s)_(in|out)(?:_l(\d+))?_[a-z0-9]+$" % "|".join(
    sorted(OPS, key=len, reverse=True)))

# WERROR values -> the names ndrdump may print for them.
WERR_NAMES = {}
for _k in dir(samba.werror):
    _v = getattr(samba.werror, _k)
    if _k.startswith("WERR_") and isinstance(_v, int):
        WERR_NAMES.setdefault(_v, set()).add(_k)
WERR_NAMES.setdefault(0, set()).add("WERR_OK")


def escape(s):
    """The canonical dump's escaping (see README.md)."""
    out = bytearray()
    for b in s.encode("utf-8", "surrogateescape"):
        if b == 0x5C:
            out += b"\\\\"
        elif b == 0x0A:
            out += b"\\n"
        elif b < 0x20:
            out += b"\\x%02x" % b
        else:
            out.append(b)
    return out.decode("utf-8", "surrogateescape")


def parse_name(name):
    m = NAME_RE.match(name)
    if not m:
        return None
    return m.group(1), m.group(2), (int(m.group(3)) if m.group(3) else None)


def read_hex(path):
    with open(path, encoding="ascii") as f:
        return bytes.fromhex("".join(f.read().split()))


# ----------------------------------------------------------------------------
# ndrdump's output as a tree of paths.

ITEM_RE = re.compile(r"^( {4,})([A-Za-z_][A-Za-z0-9_]*)(?: +: |: )(.*)$")
STATUS_RE = re.compile(r"^(pull returned|push returned|dump OK)")


def parse_ndrdump(text):
    """Returns {path: [values...]} where path is a tuple of member names and
    array indices below the in/out struct, and the values are those printed
    on that path in order (a pointer prints '*' or NULL, then its referent)."""
    lines = text.split("\n")
    items = []  # (indent, name, value)
    i = 0
    while i < len(lines):
        m = ITEM_RE.match(lines[i])
        i += 1
        if not m:
            continue
        indent, name, value = len(m.group(1)), m.group(2), m.group(3)
        if value.startswith("'"):
            # A string printed raw may contain newlines: take the following
            # lines that are not items themselves.
            while (i < len(lines) and not ITEM_RE.match(lines[i])
                   and not STATUS_RE.match(lines[i])):
                value += "\n" + lines[i]
                i += 1
        items.append((indent, name, value))

    tree = {}
    stack = []  # (indent, path, is_array, [next index])
    for indent, name, value in items:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            parent = stack[-1]
            if parent[2]:
                path = parent[1] + (parent[3][0],)
                parent[3][0] += 1
            elif parent[1] and parent[1][-1] == name:
                path = parent[1]
            else:
                path = parent[1] + (name,)
        else:
            path = (name,)
        tree.setdefault(path, []).append(value)
        stack.append((indent, path, value.startswith("ARRAY("), [0]))
    # Drop the function and in/out levels: ("srvsvc_NetSessEnum", "out", ...).
    return {p[2:]: v for p, v in tree.items() if len(p) > 2}


def is_leaf(values):
    v = values[-1]
    return not (v == "*" or v.startswith("struct ") or v.startswith("union ")
                or v.startswith("ARRAY("))


NUM_RE = re.compile(r"^0x[0-9a-f]+ \((\d+)\)$")


def compare_value(key, want, values):
    """Whether ndrdump's values on a path show our canonical value @want."""
    got = values[-1]
    leaf = key.rsplit(".", 1)[-1]
    if want == "(null)":
        return got == "NULL"
    if leaf == "result":
        return got in WERR_NAMES.get(int(want), set())
    if leaf in STRING_KEYS:
        if not (len(got) >= 2 and got[0] == "'" and got[-1] == "'"):
            return False
        return escape(got[1:-1]) == want
    m = NUM_RE.match(got)
    return bool(m) and m.group(1) == want


ARRAY_KEY_RE = re.compile(r"^ctr\.array\[(\d+)\]\.([a-z_]+)$")


def check_ndrdump(op, direction, txt, tree):
    """Errors found matching NAME.txt against ndrdump's tree."""
    errors = []
    used = set()
    lines = [ln.split("=", 1) for ln in txt.split("\n") if ln]
    keys = {k for k, _ in lines}
    level = None

    def expect(path, ok, key, want):
        used.add(path)
        if path not in tree:
            errors.append("%s=%s: ndrdump has no %s" % (key, want, ".".join(map(str, path))))
        elif not ok(tree[path]):
            errors.append("%s=%s: ndrdump prints %s = %r" % (
                key, want, ".".join(map(str, path)), tree[path][-1]))

    def no_arm(parent, key, want):
        """A [default] arm: ndrdump prints the union and nothing below it."""
        if want != "0":
            errors.append("%s=%s: level %d has no arm in Samba's IDL" % (key, want, level))
        extra = [p for p in tree if len(p) > len(parent) + 1 and p[:len(parent)] == parent
                 or (len(p) == len(parent) + 1 and p[:len(parent)] == parent
                     and p[-1] not in ("level", "ctr"))]
        if extra:
            errors.append("%s=%s: ndrdump prints an arm: %s" % (key, want, extra[0]))

    def union_case(n):
        return lambda v: any(x.startswith("union ") and x.endswith("(case %d)" % n) for x in v)

    def first_is(marker):
        return lambda v: v[0] == marker

    for key, want in lines:
        if key == "ctr.level":
            level = int(want)
            expect(("info_ctr", "level"), lambda v, w=want: compare_value("level", w, v), key, want)
            expect(("info_ctr", "ctr"), union_case(level), key, want)
        elif key == "ctr.present":
            if level in ARMS[op]:
                expect(("info_ctr", "ctr%d" % level), first_is("*" if want == "1" else "NULL"),
                       key, want)
            else:
                no_arm(("info_ctr",), key, want)
        elif key == "ctr.count":
            arm = ("info_ctr", "ctr%d" % level)
            expect(arm + ("count",), lambda v, w=want: compare_value("count", w, v), key, want)
            if "ctr.array" not in keys:
                expect(arm + ("array",), first_is("*"), key, want)
        elif key == "ctr.array":
            expect(("info_ctr", "ctr%d" % level, "array"), first_is("NULL"), key, want)
        elif ARRAY_KEY_RE.match(key):
            m = ARRAY_KEY_RE.match(key)
            path = ("info_ctr", "ctr%d" % level, "array", int(m.group(1)), m.group(2))
            expect(path, lambda v, k=key, w=want: compare_value(k, w, v), key, want)
        elif op == "file_get_info" and direction == "out" and key == "level":
            level = int(want)
            expect(("info",), union_case(level), key, want)
        elif op == "file_get_info" and direction == "out" and key == "present":
            if level in ARMS[op]:
                expect(("info", "info%d" % level), first_is("*" if want == "1" else "NULL"),
                       key, want)
            else:
                no_arm(("info",), key, want)
        elif key.startswith("info."):
            path = ("info", "info%d" % level, key[5:])
            expect(path, lambda v, k=key, w=want: compare_value(k, w, v), key, want)
        else:
            expect((key,), lambda v, k=key, w=want: compare_value(k, w, v), key, want)

    for path, values in sorted(tree.items(), key=lambda kv: str(kv[0])):
        if is_leaf(values) and path not in used:
            errors.append("ndrdump prints %s = %r, not in the .txt" % (
                ".".join(map(str, path)), values[-1]))
    return errors


def getinfo_context(level):
    """A NetFileGetInfo request for @level, made with Samba (ndrdump -c)."""
    r = srvsvc.NetFileGetInfo()
    r.in_server_unc = None
    r.in_fid = 0
    r.in_level = level
    return ndr.ndr_pack_in(r)


def run_ndrdump(tmp, name, op, direction, level, blob):
    binpath = os.path.join(tmp, name + ".bin")
    with open(binpath, "wb") as f:
        f.write(blob)
    cmd = ["ndrdump", "--validate"]
    if op == "file_get_info" and direction == "out":
        ctx = os.path.join(tmp, "getinfo_in_l%d.bin" % level)
        with open(ctx, "wb") as f:
            f.write(getinfo_context(level))
        cmd += ["-c", ctx]
    cmd += ["srvsvc", OPS[op], direction, binpath]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape")


def codec_args(op, direction, level):
    args = [op, direction]
    return args, ([str(level)] if op == "file_get_info" and direction == "out" else [])


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


# ----------------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, desc):
        self.n += 1
        print("ok %d - %s" % (self.n, desc), flush=True)

    def not_ok(self, desc, reason, detail=()):
        self.n += 1
        self.failed += 1
        print("not ok %d - %s: %s" % (self.n, desc, reason))
        for line in detail:
            print("# " + line)
        sys.stdout.flush()


def check_regen(tap, vecdir, names):
    gen = os.path.join(vecdir, "gen_srvsvc.py")
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([sys.executable, gen, tmp], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            tap.not_ok("regenerate", "gen_srvsvc.py failed",
                       p.stdout.decode("utf-8", "replace").splitlines())
            return
        fresh = sorted(f for f in os.listdir(tmp) if f.endswith((".hex", ".txt")))
        committed = sorted(n + ext for n in names for ext in (".hex", ".txt"))
        problems = []
        for f in sorted(set(fresh) ^ set(committed)):
            problems.append("%s: %s" % (f, "only regenerated" if f in fresh else "only committed"))
        for f in sorted(set(fresh) & set(committed)):
            with open(os.path.join(tmp, f), "rb") as a, open(os.path.join(vecdir, f), "rb") as b:
                if a.read() != b.read():
                    problems.append("%s differs" % f)
        if problems:
            tap.not_ok("regenerate", "%d files differ from a fresh gen_srvsvc.py run" % len(problems),
                       problems)
        else:
            tap.ok("regenerate: %d files identical" % len(fresh))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    regen = "--no-regen" not in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
        args.remove(only)
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    codec, vecdir = args
    names = sorted(f[:-4] for f in os.listdir(vecdir) if f.endswith(".hex"))
    if only:
        names = [n for n in names if only in n]

    print("1..%d" % (len(names) * 3 + (1 if regen else 0)), flush=True)
    tap = Tap()
    if regen:
        check_regen(tap, vecdir, names)

    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            parsed = parse_name(name)
            hexpath = os.path.join(vecdir, name + ".hex")
            txtpath = os.path.join(vecdir, name + ".txt")
            if parsed is None:
                for what in ("ndrdump", "dump", "repush"):
                    tap.not_ok("%s %s" % (name, what), "name is not OP_DIR[_lLEVEL]_CASE")
                continue
            op, direction, level = parsed
            blob = read_hex(hexpath)
            with open(txtpath, "rb") as f:
                txt_bytes = f.read()
            txt = txt_bytes.decode("utf-8")

            # (a) Samba's ndrdump.
            desc = "%s ndrdump %s %s" % (name, OPS[op], direction)
            rc, out = run_ndrdump(tmp, name, op, direction, level, blob)
            if rc != 0 or "dump OK" not in out:
                tap.not_ok(desc, "ndrdump failed (rc %d)" % rc, out.splitlines()[-15:])
            else:
                errors = check_ndrdump(op, direction, txt, parse_ndrdump(out))
                if errors:
                    tap.not_ok(desc, "%d values differ from ndrdump" % len(errors), errors)
                else:
                    tap.ok(desc)

            # (b) our decoder's dump.
            a, lvl = codec_args(op, direction, level)
            desc = "%s dump" % name
            try:
                p = subprocess.run([codec, "dump"] + a + [hexpath] + lvl, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
            except OSError as e:
                tap.not_ok(desc, "cannot run %s: %s" % (codec, e))
                p = None
            if p is not None:
                if p.returncode != 0 or p.stdout != txt_bytes:
                    got = p.stdout.decode("utf-8", "replace").splitlines()
                    diff = list(difflib.unified_diff(txt.splitlines(), got, "expected", "codec",
                                                     lineterm=""))
                    diff += p.stderr.decode("utf-8", "replace").splitlines()
                    tap.not_ok(desc, "codec dump differs (rc %d)" % p.returncode, diff[:40])
                else:
                    tap.ok(desc)

            # (c) our encoder's bytes after a decode.
            desc = "%s repush" % name
            try:
                p = subprocess.run([codec, "repush"] + a + [hexpath] + lvl, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
            except OSError as e:
                tap.not_ok(desc, "cannot run %s: %s" % (codec, e))
                continue
            text = p.stdout.decode("ascii", "replace")
            try:
                again = bytes.fromhex("".join(text.split()))
            except ValueError:
                again = None
            if p.returncode != 0 or again is None:
                tap.not_ok(desc, "codec repush failed (rc %d)" % p.returncode,
                           (text + p.stderr.decode("utf-8", "replace")).splitlines()[:10])
            elif again != blob:
                at = first_diff(again, blob)
                tap.not_ok(desc, "re-encoded bytes differ at offset %d (%d vs %d bytes)" % (
                    at, len(again), len(blob)),
                    ["samba: " + blob[max(0, at - 8):at + 24].hex(),
                     "ours:  " + again[max(0, at - 8):at + 24].hex()])
            else:
                tap.ok(desc)

    if tap.n != len(names) * 3 + (1 if regen else 0):
        print("# internal error: planned and run test counts differ")
        return 1
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
