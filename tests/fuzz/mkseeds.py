#!/usr/bin/python3
"""Seed corpora of the lib/auth, lib/rpc and lib/smb2 harnesses.

    mkseeds.py NAME DIR      writes the seeds of harness NAME into DIR and
                             prints how many came from captures

The seeds come from what a real Samba smbd sent libsmbsess, recorded by
capture.py into seeds/conv_*.hex (one block per NetBIOS session message),
cut and framed the way each harness reads its input (see the harness
sources), plus a few inputs built here for what a capture cannot show.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")

NEGOTIATE, SESSION_SETUP, TREE_CONNECT, CREATE, CLOSE, READ, WRITE, IOCTL = 0, 1, 3, 5, 6, 8, 9, 0xB


# ---- reading the captures ----

def read_conv(path):
    """[(header line, bytes)] of one conv_*.hex file."""
    msgs, cur, head = [], None, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# S "):
                if cur is not None:
                    msgs.append((head, bytes.fromhex(cur)))
                head, cur = line[2:], ""
            elif line.startswith("#") or not line:
                continue
            elif cur is not None:
                cur += line
    if cur is not None:
        msgs.append((head, bytes.fromhex(cur)))
    return msgs


def convs():
    """{case: [message bytes]} of every capture, in a stable order."""
    out = {}
    for name in sorted(os.listdir(SEEDS)):
        if name.startswith("conv_") and name.endswith(".hex"):
            out[name[5:-4]] = [m for _, m in read_conv(os.path.join(SEEDS, name))]
    return out


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def is_smb2(m):
    return len(m) >= 64 and m[:4] == b"\xfeSMB"


def cmd(m):
    return u16(m, 12)


def status(m):
    return u32(m, 8)


def negotiate_hint(m):
    off, n = u16(m, 64 + 56), u16(m, 64 + 58)
    return m[off:off + n]


def session_token(m):
    off, n = u16(m, 64 + 4), u16(m, 64 + 6)
    return m[off:off + n]


def der_items(b):
    """[(tag, value)] of the TLVs in b (no checks beyond what the seeds need)."""
    pos, out = 0, []
    while pos + 2 <= len(b):
        tag, l = b[pos], b[pos + 1]
        pos += 2
        if l & 0x80:
            k = l & 0x7f
            l = int.from_bytes(b[pos:pos + k], "big")
            pos += k
        out.append((tag, b[pos:pos + l]))
        pos += l
    return out


def der(tag, value):
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(nb)]) + nb + value


def ntlm_from_resp(tok):
    """The responseToken of a NegTokenResp, or None."""
    items = der_items(tok)
    if not items or items[0][0] != 0xa1:
        return None
    seq = der_items(items[0][1])
    if not seq or seq[0][0] != 0x30:
        return None
    for tag, v in der_items(seq[0][1]):
        if tag == 0xa2:
            inner = der_items(v)
            if inner and inner[0][0] == 0x04:
                return inner[0][1]
    return None


def rpc_stream(msgs):
    """The DCE/RPC bytes the server sent through IOCTL and READ answers, in order."""
    out = b""
    for m in msgs:
        if not is_smb2(m) or status(m) not in (0, 0x80000005):
            continue
        if cmd(m) == IOCTL and len(m) >= 64 + 48:
            off, n = u32(m, 64 + 32), u32(m, 64 + 36)
            out += m[off:off + n]
        elif cmd(m) == READ and len(m) >= 64 + 16:
            off, n = m[64 + 2], u32(m, 64 + 4)
            out += m[off:off + n]
    return out


def pdus(stream):
    pos, out = 0, []
    while pos + 16 <= len(stream):
        n = u16(stream, pos + 8)
        if n < 16:
            break
        out.append(stream[pos:pos + n])
        pos += n
    return out


def uniq(items):
    seen, out = set(), []
    for i in items:
        if i and i not in seen:
            seen.add(i)
            out.append(i)
    return out


def nbss(m):
    return b"\x00" + len(m).to_bytes(3, "big") + m


def units(frames):
    """The smb2 harnesses' framing: each unit is [u16le n][n raw bytes]."""
    return b"".join(struct.pack("<H", len(f)) + f for f in frames)


# ---- what every harness gets ----

def tokens(cv):
    hints, resps, challenges = [], [], []
    for msgs in cv.values():
        for m in msgs:
            if not is_smb2(m):
                continue
            if cmd(m) == NEGOTIATE:
                hints.append(negotiate_hint(m))
            elif cmd(m) == SESSION_SETUP and len(m) >= 72:
                t = session_token(m)
                resps.append(t)
                c = ntlm_from_resp(t)
                if c:
                    challenges.append(c)
    return uniq(hints), uniq(resps), uniq(challenges)


NTLMSSP_OID = bytes.fromhex("2b0601040182370202 0a".replace(" ", ""))
SPNEGO_OID = bytes.fromhex("2b0601050502")
KRB5_OID = bytes.fromhex("2a864886f712010202")


def neg_token_init(mechs, token=None, mic=None):
    body = der(0xa0, der(0x30, b"".join(der(0x06, o) for o in mechs)))
    if token is not None:
        body += der(0xa2, der(0x04, token))
    if mic is not None:
        body += der(0xa3, der(0x04, mic))
    return der(0x60, der(0x06, SPNEGO_OID) + der(0xa0, der(0x30, body)))


def neg_token_resp(state=None, mech=None, token=None, mic=None):
    body = b""
    if state is not None:
        body += der(0xa0, der(0x0a, bytes([state])))
    if mech is not None:
        body += der(0xa1, der(0x06, mech))
    if token is not None:
        body += der(0xa2, der(0x04, token))
    if mic is not None:
        body += der(0xa3, der(0x04, mic))
    return der(0xa1, der(0x30, body))


def ntlm_negotiate():
    return b"NTLMSSP\x00" + struct.pack("<IIHHIHHI", 1, 0xe2088297, 0, 0, 40, 0, 0, 40)


def ntlm_challenge(flags, ti=b"", name=b"", version=True):
    head = 56 if version else 48
    payload = name + ti
    m = b"NTLMSSP\x00" + struct.pack("<I", 2)
    m += struct.pack("<HHI", len(name), len(name), head)
    m += struct.pack("<I", flags) + bytes(range(1, 9)) + bytes(8)
    m += struct.pack("<HHI", len(ti), len(ti), head + len(name))
    if version:
        m += bytes([10, 0, 0x5d, 0x58, 0, 0, 0, 15])
    return m + payload


def av(id_, v):
    return struct.pack("<HH", id_, len(v)) + v


def built_challenges():
    name = "SRV".encode("utf-16-le")
    ti = av(2, "DOM".encode("utf-16-le")) + av(1, name) + av(4, b"d\x00") + av(3, b"s\x00") + \
        av(7, bytes(8)) + av(6, struct.pack("<I", 0)) + av(0, b"")
    return [
        ntlm_challenge(0xe2898215, ti, name),                        # as Samba, with flags and a timestamp
        ntlm_challenge(0xe2898215, av(2, b"D\x00") + av(1, b"S\x00") + av(0, b""), name),  # no timestamp: no MIC
        ntlm_challenge(0x00000201, version=False),                   # OEM only
        ntlm_challenge(0x00808215, av(0, b"")[:2], version=False),   # target info without MsvAvEOL
        ntlm_challenge(0xe2898215, b"".join(av(9, b"x") for _ in range(70)) + av(0, b"")),  # too many pairs
    ]


def auth_seeds(name, cv):
    hints, resps, challenges = tokens(cv)
    if name == "ntlm_challenge":
        return challenges, built_challenges()
    if name == "spnego_init":
        built = [neg_token_init([NTLMSSP_OID], ntlm_negotiate()),
                 neg_token_init([KRB5_OID, NTLMSSP_OID], None, b"\x00" * 16),
                 neg_token_init([b"\x2a\x03"] * 33)]
        return hints, built
    if name == "spnego_resp":
        built = [neg_token_resp(1, NTLMSSP_OID, built_challenges()[0]),
                 neg_token_resp(0, None, None, bytes(16)), neg_token_resp(2), neg_token_resp(3, KRB5_OID)]
        return resps, built
    if name == "der":
        return [b"\x08" + t for t in hints + resps], [b"\x02" + hints[0], b"\x00", b"\x08\x30\x80",
                                                      b"\x08" + b"\x30\x02" * 10 + b"\x04\x00"]
    if name == "spnego_client":
        out = []
        for msgs in cv.values():
            h = [negotiate_hint(m) for m in msgs if is_smb2(m) and cmd(m) == NEGOTIATE]
            s = [session_token(m) for m in msgs if is_smb2(m) and cmd(m) == SESSION_SETUP and len(m) >= 72]
            if h and len(s) >= 2:
                out.append(struct.pack("<H", len(h[0])) + h[0] + struct.pack("<H", len(s[0])) + s[0] + s[1])
        # Built: no hint, Samba's challenge with request-mic, an empty final answer.
        ch = challenges[0] if challenges else built_challenges()[0]
        built = [struct.pack("<H", 0) + struct.pack("<H", len(t)) + t for t in
                 (neg_token_resp(3, NTLMSSP_OID, ch), neg_token_resp(1, None, built_challenges()[1]))]
        return uniq(out), built
    raise KeyError(name)


# ---- lib/rpc ----

def rpc_seeds(name, cv):
    streams = [rpc_stream(msgs) for msgs in cv.values()]
    all_pdus = uniq(p for s in streams for p in pdus(s))
    acks = [p for p in all_pdus if p[2] == 12]
    # The answers to a call with id 2 (the first call after a bind), whole.
    calls = []
    for s in streams:
        frags = [p for p in pdus(s) if p[2] in (2, 3) and u32(p, 12) == 2]
        if frags:
            calls.append(b"".join(frags))
    calls = uniq(calls)
    if name == "rpc_pdu":
        out = []
        for s in uniq(streams):
            out += [bytes([sel]) + s for sel in (0x00, 0x05, 0x0a, 0x47)]
        return uniq(out + [b"\x00" + p for p in all_pdus]), []
    if name == "rpc_bind":
        out = []
        for a in acks:
            for ctl in (0x00, 0x40, 0x05):
                out.append(bytes([ctl]) + a)
            for c in calls:
                out.append(b"\x80" + a + c)
                out.append(b"\xa3" + a + c)
        return uniq(out), []
    if name == "rpc_call":
        out = []
        for c in calls:
            # [flags][piece][ack sizes][u16 stub length][limits][cancel point] answer
            for hdr in (bytes([0, 0, 0x99]) + struct.pack("<H", 60) + b"\x00\x00",
                        bytes([1, 0x21, 0x00]) + struct.pack("<H", 5000) + b"\x00\x00",
                        bytes([2, 0, 0x99]) + struct.pack("<H", 8) + b"\x00\x00",
                        bytes([4, 0x05, 0x99]) + struct.pack("<H", 8) + b"\x00\x03",
                        bytes([0, 0, 0x99]) + struct.pack("<H", 8) + b"\x21\x00"):
                out.append(hdr + c)
        fault = bytes.fromhex("05000303100000002000000002000000") + bytes(4) + b"\x00\x00\x00\x00" + \
            struct.pack("<I", 0x1c010002) + bytes(4)
        out.append(bytes([2, 0, 0x99]) + struct.pack("<H", 8) + b"\x00\x00" + fault)
        return uniq(out), []
    raise KeyError(name)


# ---- lib/smb2 ----

def with_header(m, **kw):
    """A copy of SMB2 message m with header fields changed."""
    b = bytearray(m)
    fields = {"status": (8, "<I"), "cmd": (12, "<H"), "credits": (14, "<H"), "flags": (16, "<I"),
              "next": (20, "<I"), "mid": (24, "<Q"), "async_id": (32, "<Q"), "session": (40, "<Q")}
    for k, v in kw.items():
        off, fmt = fields[k]
        struct.pack_into(fmt, b, off, v)
    return bytes(b)


def interim(m):
    """The STATUS_PENDING interim answer Samba sends before m (as for the pipe IOCTL)."""
    body = struct.pack("<HBBI", 9, 0, 0, 0) + b"\x00"
    return with_header(m[:64], status=0x103, flags=u32(m, 16) | 2, async_id=0x55, credits=1) + body


# Dialect bits of the smb2_negotiate flags byte, by the capture's dialect.
NEG_BITS = {0x0202: 1, 0x0210: 2, 0x0300: 3, 0x0302: 4, 0x0311: 0}
# smb2_session: dialect/contexts bits and whether the server required signing, by capture.
SESSION_BITS = {"202": 1, "210": 2, "300_signreq": 3 | 8, "302_enc": 4, "311": 0, "311_anon": 0x10,
                "311_enc_gcm": 5, "311_files": 0, "311_signreq": 0 | 8}


def smb2_seeds(name, cv):
    out, built = [], []
    if name == "smb2_negotiate":
        negs = uniq(m for msgs in cv.values() for m in msgs if is_smb2(m) and cmd(m) == NEGOTIATE)
        for m in negs:
            d = u16(m, 68)
            out.append(bytes([NEG_BITS.get(d, 0)]) + units([nbss(m)]))
            out.append(bytes([0x80]) + units([nbss(m)]))
        m = negs[-1]
        built += [
            b"\x00" + units([nbss(interim(m)), nbss(m)]),                    # interim, then the answer
            b"\x00" + units([b"\x85\x00\x00\x00" + nbss(m)]),                # keep-alive first
            b"\x00" + units([nbss(m)[:40], nbss(m)[40:]]),                   # one frame in two writes
            b"\x00" + units([nbss(with_header(m, mid=2**64 - 1, cmd=0x12) + bytes(24)), nbss(m)]),  # oplock break
            b"\x00" + units([nbss(with_header(m, next=(len(m) + 7) // 8 * 8) + bytes(-len(m) % 8) + m)]),  # chain
            b"\x00" + units([nbss(with_header(m, status=0xc0000022))]),         # an error status
            b"\x00" + units([nbss(b"\xfdSMB" + bytes(48) + m)]),                 # a transform header
            b"\x20" + units([nbss(m)]),                                        # encryption required
            b"\x50" + units([nbss(m)]),                                        # signing required, no 3.1.1
        ]
        return out, built
    if name == "smb2_session":
        for case, msgs in cv.items():
            ss = [m for m in msgs if is_smb2(m) and cmd(m) == SESSION_SETUP]
            if len(ss) < 2:
                continue
            bits = SESSION_BITS.get(case, 0)
            out.append(bytes([bits]) + units([nbss(ss[0]), nbss(ss[1])]))
            out.append(bytes([bits | 0x80]) + units([nbss(ss[0]), nbss(ss[1])]))
        ss = [m for m in cv["311_anon"] if is_smb2(m) and cmd(m) == SESSION_SETUP]
        built += [
            b"\x10" + units([nbss(interim(ss[0])), nbss(ss[0]), nbss(ss[1])]),
            b"\x10" + units([nbss(ss[0]), nbss(with_header(ss[1], flags=9))]),          # "signed" anonymous
            b"\x10" + units([nbss(ss[0]), nbss(ss[1][:64] + struct.pack("<HHHH", 9, 1, 0, 0))]),  # guest
            b"\x00" + units([nbss(ss[0]), nbss(ss[1][:64] + struct.pack("<HHHH", 9, 2, 0, 0))]),  # null
            b"\x50" + units([nbss(ss[0]), nbss(ss[1][:64] + struct.pack("<HHHH", 9, 4, 0, 0))]),  # encrypt
            b"\x00" + units([nbss(with_header(ss[0], session=0))]),
        ]
        return out, built
    if name == "smb2_ops":
        def by_cmd(case, c):
            return [m for m in cv[case] if is_smb2(m) and cmd(m) == c]
        files = cv["311_files"]
        start = next(i for i, m in enumerate(files) if is_smb2(m) and cmd(m) == CREATE)
        write = by_cmd("311", CLOSE)[0][:64] + struct.pack("<HHIII", 17, 0, 100, 0, 0)
        write = with_header(write, cmd=WRITE)
        plans = [  # (op, dialect choice, [messages])
            (0, 0, by_cmd("311", TREE_CONNECT)),
            (0, 1, by_cmd("300_signreq", TREE_CONNECT) + by_cmd("300_signreq", IOCTL)[:1]),
            (1, 0, by_cmd("311", 4)),
            (2, 0, by_cmd("311", CREATE)),
            (3, 2, by_cmd("210", CLOSE)),
            (4, 0, by_cmd("311", IOCTL)),
            (5, 0, by_cmd("311_files", READ)[:1]),
            (5, 3, by_cmd("311_files", READ)[-1:]),
            (6, 0, [write]),
            (7, 0, files[start:]),
            (7, 1, files[start:]),
        ]
        for op, choice, msgs in plans:
            u = units([nbss(m) for m in msgs])
            for mode in (0, 1, 2, 3):
                out.append(bytes([0x80 | op << 4 | choice << 2 | mode]) + u)
            out.append(bytes([op << 4 | choice << 2]) + u)
        # 3.0, signed: the tree connect and the VALIDATE_NEGOTIATE_INFO answer that matches the
        # harness's NEGOTIATE response (capabilities 0x47, its GUID, signing enabled, 3.0).
        tc = by_cmd("300_signreq", TREE_CONNECT)[0]
        ioctl = by_cmd("300_signreq", IOCTL)[0]
        vout = struct.pack("<I", 0x47) + b"fuzz-server-guid" + struct.pack("<HH", 1, 0x0300)
        body = bytearray(ioctl[64:64 + 48])
        struct.pack_into("<II", body, 32, 64 + 48, len(vout))
        valid = ioctl[:64] + bytes(body) + vout
        built += [bytes([0x85]) + units([nbss(tc), nbss(valid)]),
                  bytes([0x85]) + units([nbss(tc), nbss(interim(valid)), nbss(valid)])]
        return uniq(out), built
    raise KeyError(name)


HARNESSES = {
    "ntlm_challenge": auth_seeds, "spnego_init": auth_seeds, "spnego_resp": auth_seeds, "der": auth_seeds,
    "spnego_client": auth_seeds,
    "rpc_pdu": rpc_seeds, "rpc_bind": rpc_seeds, "rpc_call": rpc_seeds,
    "smb2_negotiate": smb2_seeds, "smb2_session": smb2_seeds, "smb2_ops": smb2_seeds,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in HARNESSES:
        print("usage: mkseeds.py NAME DIR   (NAME: %s)" % " ".join(HARNESSES), file=sys.stderr)
        return 2
    name, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    captured, built = HARNESSES[name](name, convs())
    for i, s in enumerate(captured):
        with open(os.path.join(d, f"capture-{i:03d}"), "wb") as f:
            f.write(s)
    for i, s in enumerate(built):
        with open(os.path.join(d, f"built-{i:03d}"), "wb") as f:
            f.write(s)
    print(len(captured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
