#!/usr/bin/python3
"""Generate golden MS-SRVS NDR test vectors with Samba's own (pidl-generated) coders.

Run with Debian's /usr/bin/python3, which has python3-samba:

    /usr/bin/python3 tests/vectors/gen_srvsvc.py [OUTDIR]

For every case NAME this writes NAME.hex (the NDR stub as lowercase hex, 32
bytes a line) and NAME.txt (the canonical dump of the values the case was
built from; the format is described in README.md). Every blob is decoded
again with Samba before anything is written, and the dump of the decoded
values must equal the dump of the values that were encoded.

The output depends only on the case table below and Samba's NDR code, so
running it again reproduces the committed files byte for byte
(check_vectors.py --regen verifies that).
"""

import os
import sys

from samba import ndr
from samba.dcerpc import srvsvc

# ----------------------------------------------------------------------------
# Canonical dump.

# Our member names per kind and level, in the order of the field tables of
# lib/srvsvc/srvsvc.c (they are also Samba's attribute names).
FIELDS = {
    "sess": {
        0: ["client"],
        1: ["client", "user", "num_open", "time", "idle_time", "user_flags"],
        2: ["client", "user", "num_open", "time", "idle_time", "user_flags", "client_type"],
        10: ["client", "user", "time", "idle_time"],
        502: ["client", "user", "num_open", "time", "idle_time", "user_flags", "client_type",
              "transport"],
    },
    "file": {
        2: ["fid"],
        3: ["fid", "permissions", "num_locks", "path", "user"],
    },
    "conn": {
        0: ["conn_id"],
        1: ["conn_id", "conn_type", "num_open", "num_users", "conn_time", "user", "share"],
    },
}
STRING_FIELDS = {"client", "user", "client_type", "transport", "path", "share"}

# Samba's class name stems per kind.
STEM = {"sess": "NetSess", "file": "NetFile", "conn": "NetConn"}

# Operation -> (Samba function class, kind of its container or None).
OPS = {
    "sess_enum": ("NetSessEnum", "sess"),
    "file_enum": ("NetFileEnum", "file"),
    "conn_enum": ("NetConnEnum", "conn"),
    "file_get_info": ("NetFileGetInfo", "file"),
    "file_close": ("NetFileClose", None),
    "sess_del": ("NetSessDel", None),
}

# Top-level string parameters of the requests, in wire order:
# (our name, Samba attribute).
IN_STRINGS = {
    "sess_enum": [("server_unc", "in_server_unc"), ("client", "in_client"), ("user", "in_user")],
    "file_enum": [("server_unc", "in_server_unc"), ("path", "in_path"), ("user", "in_user")],
    "conn_enum": [("server_unc", "in_server_unc"), ("path", "in_path")],
    "file_get_info": [("server_unc", "in_server_unc")],
    "file_close": [("server_unc", "in_server_unc")],
    "sess_del": [("server_unc", "in_server_unc"), ("client", "in_client"), ("user", "in_user")],
}


def escape(s):
    """The dump's string escaping: on the UTF-8 bytes, backslash -> \\\\,
    newline -> \\n, other bytes below 0x20 -> \\xHH, the rest raw."""
    if s is None:
        return "(null)"
    out = bytearray()
    for b in s.encode("utf-8"):
        if b == 0x5C:
            out += b"\\\\"
        elif b == 0x0A:
            out += b"\\n"
        elif b < 0x20:
            out += b"\\x%02x" % b
        else:
            out.append(b)
    return out.decode("utf-8")


def dump_value(name, v):
    if name in STRING_FIELDS or name == "server_unc":
        return escape(v)
    return str(int(v))


def dump_ctr(lines, kind, c):
    """The info container (Samba NetXxxInfoCtr object) as ctr.* lines."""
    lines.append("ctr.level=%d" % c.level)
    fields = FIELDS[kind].get(c.level)
    arm = c.ctr if fields is not None else None
    lines.append("ctr.present=%d" % (arm is not None))
    if arm is None:
        return
    lines.append("ctr.count=%d" % arm.count)
    if arm.array is None:
        lines.append("ctr.array=(null)")
        return
    for i, e in enumerate(arm.array[:arm.count]):
        for f in fields:
            lines.append("ctr.array[%d].%s=%s" % (i, f, dump_value(f, getattr(e, f))))


def dump_resume(lines, v):
    lines.append("resume_handle=" + ("(null)" if v is None else str(int(v))))


def werr(v):
    """Samba's Python returns a WERROR as an int or an (int, name) tuple."""
    if isinstance(v, tuple):
        return int(v[0])
    return int(v)


def dump(op, direction, r, level=None):
    """The canonical dump of Samba function object @r, in the order of the
    coder calls of lib/srvsvc/srvsvc.c."""
    lines = []
    kind = OPS[op][1]
    if direction == "in":
        for ours, attr in IN_STRINGS[op]:
            lines.append("%s=%s" % (ours, escape(getattr(r, attr))))
        if op in ("sess_enum", "file_enum", "conn_enum"):
            dump_ctr(lines, kind, r.in_info_ctr)
            lines.append("max_buffer=%d" % r.in_max_buffer)
            dump_resume(lines, r.in_resume_handle)
        elif op == "file_get_info":
            lines.append("fid=%d" % r.in_fid)
            lines.append("level=%d" % r.in_level)
        elif op == "file_close":
            lines.append("fid=%d" % r.in_fid)
    else:
        if op in ("sess_enum", "file_enum", "conn_enum"):
            dump_ctr(lines, kind, r.out_info_ctr)
            lines.append("totalentries=%d" % r.out_totalentries)
            dump_resume(lines, r.out_resume_handle)
        elif op == "file_get_info":
            fields = FIELDS["file"].get(level)
            lines.append("level=%d" % level)
            info = r.out_info if fields is not None else None
            lines.append("present=%d" % (info is not None))
            if info is not None:
                for f in fields:
                    lines.append("info.%s=%s" % (f, dump_value(f, getattr(info, f))))
        lines.append("result=%d" % werr(r.result))
    return "".join(line + "\n" for line in lines)


def to_hex(blob):
    h = blob.hex()
    return "".join(h[i:i + 64] + "\n" for i in range(0, len(h), 64))


# ----------------------------------------------------------------------------
# Building Samba objects.

def info(kind, level, values):
    e = getattr(srvsvc, "%sInfo%d" % (STEM[kind], level))()
    for f in FIELDS[kind][level]:
        setattr(e, f, values.get(f, None if f in STRING_FIELDS else 0))
    return e


NOARRAY = object()


def container(kind, level, entries=NOARRAY, count=None, present=True):
    """A NetXxxInfoCtr. entries: a list of value dicts, or NOARRAY for a NULL
    array pointer; present=False gives a NULL union arm pointer."""
    c = getattr(srvsvc, "%sInfoCtr" % STEM[kind])()
    c.level = level
    if level not in FIELDS[kind]:
        return c  # the union's [default] arm: nothing on the wire
    if not present:
        c.ctr = None
        return c
    arm = getattr(srvsvc, "%sCtr%d" % (STEM[kind], level))()
    if entries is NOARRAY:
        arm.array = None
        arm.count = 0 if count is None else count
    else:
        arm.array = [info(kind, level, v) for v in entries]
        arm.count = len(entries) if count is None else count
    c.ctr = arm
    if c.ctr is None or c.ctr.count != arm.count:
        raise SystemExit("Samba did not take the %s level %d container" % (kind, level))
    return c


def request_ctr(kind, level):
    """What a real client sends: the arm pointer set, count 0, no array."""
    return container(kind, level, NOARRAY)


CASES = []


def case(name, op, direction, r, level=None):
    CASES.append((name, op, direction, r, level))


def new(op):
    return getattr(srvsvc, OPS[op][0])()


MAXU32 = 4294967295

# ---- NetSessEnum requests ---------------------------------------------------

def sess_enum_in(name, level, client=None, user=None, max_buffer=MAXU32, resume=None,
                 server="\\\\srv"):
    r = new("sess_enum")
    r.in_server_unc = server
    r.in_client = client
    r.in_user = user
    r.in_info_ctr = request_ctr("sess", level)
    r.in_max_buffer = max_buffer
    r.in_resume_handle = resume
    case(name, "sess_enum", "in", r)


sess_enum_in("sess_enum_in_l1_null", 1)
sess_enum_in("sess_enum_in_l1_filter", 1, client="\\\\10.0.0.7", user="alice", resume=0)
sess_enum_in("sess_enum_in_l1_resume", 1, max_buffer=65536, resume=7)
sess_enum_in("sess_enum_in_l1_noserver", 1, server=None, user="Jürgen", max_buffer=0)
sess_enum_in("sess_enum_in_l0_basic", 0, resume=0)
sess_enum_in("sess_enum_in_l2_basic", 2, resume=0)
sess_enum_in("sess_enum_in_l10_basic", 10, client="\\\\10.0.0.7", resume=0)
sess_enum_in("sess_enum_in_l502_basic", 502, user="user😀", resume=MAXU32)
sess_enum_in("sess_enum_in_l3_badlevel", 3)

# ---- Entries used by the enumeration responses -------------------------------

SESS_BASIC = [
    {"client": "\\\\10.0.0.7", "user": "alice", "num_open": 2, "time": 3600, "idle_time": 12,
     "user_flags": 0, "client_type": "Windows 10 Pro 19045", "transport": "\\Device\\NetbiosSmb"},
    {"client": "", "user": None, "num_open": MAXU32, "time": MAXU32, "idle_time": MAXU32,
     "user_flags": 1, "client_type": "", "transport": None},
    {"client": "\\\\[fe80::1]", "user": "Jürgen", "num_open": 0, "time": 0, "idle_time": 0,
     "user_flags": 2, "client_type": None, "transport": "user😀"},
]
SESS_BASIC_L0 = [{"client": "\\\\10.0.0.7"}, {"client": ""}, {"client": "\\\\hôte😀"}]
SESS_MORE = [
    {"client": "\\\\127.0.0.1", "user": "user😀", "num_open": 1, "time": 5, "idle_time": 5,
     "user_flags": 0, "client_type": "Samba\t4.17\n", "transport": "\\\\tcp"},
    {"client": None, "user": "", "num_open": 7, "time": 86400, "idle_time": 1,
     "user_flags": MAXU32, "client_type": "\x01\x1f\x7f", "transport": ""},
]
SESS_MORE_L0 = [{"client": None}, {"client": "\\\\a\nb"}]

FILE_BASIC = [
    {"fid": 0x12340001, "permissions": 1, "num_locks": 0, "path": "C:\\srv\\dir\\Grüße.txt",
     "user": "alice"},
    {"fid": MAXU32, "permissions": 0x23, "num_locks": MAXU32, "path": "C:\\srv\\😀.txt",
     "user": None},
    {"fid": 0, "permissions": 0, "num_locks": 3, "path": "", "user": "Jürgen"},
]
FILE_MORE = [
    {"fid": 65537, "permissions": 3, "num_locks": 1, "path": None, "user": ""},
    {"fid": 7, "permissions": MAXU32, "num_locks": 0, "path": "C:\\srv\\a\tb", "user": "user😀"},
]

CONN_BASIC = [
    {"conn_id": 1, "conn_type": 0, "num_open": 2, "num_users": 1, "conn_time": 120,
     "user": "alice", "share": "share"},
    {"conn_id": MAXU32, "conn_type": 3, "num_open": MAXU32, "num_users": MAXU32,
     "conn_time": MAXU32, "user": None, "share": "IPC$"},
    {"conn_id": 0, "conn_type": 1, "num_open": 0, "num_users": 0, "conn_time": 0,
     "user": "Jürgen", "share": "Grüße😀"},
]
CONN_MORE = [
    {"conn_id": 7, "conn_type": 0, "num_open": 1, "num_users": 1, "conn_time": 5,
     "user": "", "share": None},
    {"conn_id": 8, "conn_type": 0, "num_open": 0, "num_users": 2, "conn_time": 6,
     "user": "user😀", "share": "c\\d"},
]


def enum_out_cases(op, kind, level, basic, more):
    def out(name, c, total, resume, result):
        r = new(op)
        r.out_info_ctr = c
        r.out_totalentries = total
        r.out_resume_handle = resume
        r.result = result
        case("%s_out_l%d_%s" % (op, level, name), op, "out", r)

    out("basic", container(kind, level, basic), len(basic), 1234567, 0)
    out("empty", container(kind, level, []), 0, 0, 0)
    out("emptynull", container(kind, level, NOARRAY), 0, None, 0)
    out("denied", container(kind, level, present=False), 0, None, 5)
    out("more", container(kind, level, more), 5, 7, 234)


def bad_level_out(op, kind, level):
    """A level the union has no arm for ([default]), as a server answers
    ERROR_INVALID_LEVEL (124)."""
    r = new(op)
    r.out_info_ctr = container(kind, level)
    r.out_totalentries = 0
    r.out_resume_handle = None
    r.result = 124
    case("%s_out_l%d_badlevel" % (op, level), op, "out", r)


bad_level_out("sess_enum", "sess", 3)
bad_level_out("file_enum", "file", 1)
bad_level_out("conn_enum", "conn", 2)

for lvl in (0, 1, 2, 10, 502):
    enum_out_cases("sess_enum", "sess", lvl,
                   SESS_BASIC_L0 if lvl == 0 else SESS_BASIC,
                   SESS_MORE_L0 if lvl == 0 else SESS_MORE)

# ---- NetFileEnum ---------------------------------------------------------------

def file_enum_in(name, level, path=None, user=None, max_buffer=MAXU32, resume=None):
    r = new("file_enum")
    r.in_server_unc = "\\\\srv"
    r.in_path = path
    r.in_user = user
    r.in_info_ctr = request_ctr("file", level)
    r.in_max_buffer = max_buffer
    r.in_resume_handle = resume
    case(name, "file_enum", "in", r)


file_enum_in("file_enum_in_l3_null", 3)
file_enum_in("file_enum_in_l3_filter", 3, path="C:\\share", user="bob", resume=0)
file_enum_in("file_enum_in_l3_resume", 3, user="bob", max_buffer=4096, resume=7)
file_enum_in("file_enum_in_l2_null", 2)
file_enum_in("file_enum_in_l2_filter", 2, path="C:\\share", user="bob", resume=0)

for lvl in (2, 3):
    enum_out_cases("file_enum", "file", lvl, FILE_BASIC, FILE_MORE)

# ---- NetConnEnum ---------------------------------------------------------------

def conn_enum_in(name, level, path, max_buffer=MAXU32, resume=None):
    r = new("conn_enum")
    r.in_server_unc = "\\\\srv"
    r.in_path = path
    r.in_info_ctr = request_ctr("conn", level)
    r.in_max_buffer = max_buffer
    r.in_resume_handle = resume
    case(name, "conn_enum", "in", r)


conn_enum_in("conn_enum_in_l0_client", 0, "\\\\10.0.0.7")
conn_enum_in("conn_enum_in_l1_client", 1, "\\\\10.0.0.7", resume=0)
conn_enum_in("conn_enum_in_l1_share", 1, "IPC$", max_buffer=8192, resume=7)

for lvl in (0, 1):
    enum_out_cases("conn_enum", "conn", lvl, CONN_BASIC, CONN_MORE)

# ---- NetFileGetInfo -------------------------------------------------------------

for lvl in (2, 3):
    r = new("file_get_info")
    r.in_server_unc = "\\\\srv"
    r.in_fid = 0x12340001
    r.in_level = lvl
    case("file_get_info_in_l%d_basic" % lvl, "file_get_info", "in", r)

r = new("file_get_info")
r.in_server_unc = None
r.in_fid = MAXU32
r.in_level = 3
case("file_get_info_in_l3_noserver", "file_get_info", "in", r)

def file_get_info_out(name, level, values, result):
    r = new("file_get_info")
    # Samba's Python converts the out union by the request's level: set it first.
    r.in_level = level
    r.out_info = None if values is None else info("file", level, values)
    if (r.out_info is None) != (values is None):
        raise SystemExit(name + ": Samba did not take the info union")
    r.result = result
    case(name, "file_get_info", "out", r, level)


for lvl in (2, 3):
    file_get_info_out("file_get_info_out_l%d_ok" % lvl, lvl, FILE_BASIC[0], 0)
    file_get_info_out("file_get_info_out_l%d_notfound" % lvl, lvl, None, 2314)  # NERR_FileIdNotFound
file_get_info_out("file_get_info_out_l3_odd", 3, FILE_MORE[1], 0)
file_get_info_out("file_get_info_out_l1_badlevel", 1, None, 124)  # no arm for level 1

# ---- NetFileClose, NetSessDel ---------------------------------------------------

for name, server, fid in (("basic", "\\\\srv", 0x12340001), ("noserver", None, MAXU32)):
    r = new("file_close")
    r.in_server_unc = server
    r.in_fid = fid
    case("file_close_in_" + name, "file_close", "in", r)

for name, result in (("ok", 0), ("notfound", 2314)):
    r = new("file_close")
    r.result = result
    case("file_close_out_" + name, "file_close", "out", r)

for name, client, user in (("client", "\\\\10.0.0.7", None), ("user", None, "bob"),
                           ("all", None, None), ("both", "\\\\10.0.0.7", "Jürgen")):
    r = new("sess_del")
    r.in_server_unc = "\\\\srv"
    r.in_client = client
    r.in_user = user
    case("sess_del_in_" + name, "sess_del", "in", r)

for name, result in (("ok", 0), ("denied", 5), ("notfound", 2312)):
    r = new("sess_del")
    r.result = result
    case("sess_del_out_" + name, "sess_del", "out", r)


# ----------------------------------------------------------------------------

def roundtrip(op, direction, r, level):
    """Encode with Samba, decode again with Samba, and check the decoded
    values dump the same as the encoded ones. Returns (blob, dump text)."""
    text = dump(op, direction, r, level)
    if direction == "in":
        blob = ndr.ndr_pack_in(r)
        back = new(op)
        ndr.ndr_unpack_in(back, blob)
    else:
        blob = ndr.ndr_pack_out(r)
        back = new(op)
        if op == "file_get_info":
            back.in_level = level  # the out union switches on the request's level
        ndr.ndr_unpack_out(back, blob)
    again = dump(op, direction, back, level)
    if again != text:
        raise SystemExit("%s: Samba decodes its own blob differently:\n%s---\n%s" % (
            op, text, again))
    reblob = ndr.ndr_pack_in(back) if direction == "in" else ndr.ndr_pack_out(back)
    if reblob != blob:
        raise SystemExit("%s: Samba re-encodes its own blob differently" % op)
    return blob, text


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(outdir, exist_ok=True)
    names = set()
    for name, op, direction, r, level in CASES:
        if name in names:
            raise SystemExit("duplicate case " + name)
        names.add(name)
        blob, text = roundtrip(op, direction, r, level)
        with open(os.path.join(outdir, name + ".hex"), "w", encoding="ascii", newline="\n") as f:
            f.write(to_hex(blob))
        with open(os.path.join(outdir, name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print("%d vectors written to %s" % (len(CASES), outdir))


if __name__ == "__main__":
    main(sys.argv)
