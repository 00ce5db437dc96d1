#!/usr/bin/python3
"""Captures what a real Samba smbd answers to libsmbsess, for the fuzz seeds.

    capture.py TOOLS_DIR [OUT_DIR]

TOOLS_DIR holds smb2_probe and api_tool of a normal (gcc) build
(BUILD/tests/tools). For each case below a private smbd is started with
tests/harness/sambatest.py, our own client talks to it while tshark records
the loopback traffic, and every NetBIOS session message the server sent on
that TCP connection is written, in order, into OUT_DIR/conv_<case>.hex
(default: tests/fuzz/seeds). Each message is one block:

    # S <n> <COMMAND> mid=<m> status=0x<s> flags=0x<f>     (or: # S <n> TRANSFORM ...)
    <hex of the NBSS payload: the SMB2 message or chain, or the transformed message>

mkseeds.py turns these into the seed corpora of the SMB2, SPNEGO, NTLMSSP
and DCE/RPC harnesses. Run as root (smbd, tshark on lo); Debian's
/usr/bin/python3 (impacket). Needs a few minutes. The result is committed:
run.sh does not capture.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import sambatest  # noqa: E402
from tshark_capture import Capture  # noqa: E402

USER, PASSWORD = "smbsess_fz", "Fuzz!seed1"
CMDS = {0: "NEGOTIATE", 1: "SESSION_SETUP", 2: "LOGOFF", 3: "TREE_CONNECT", 4: "TREE_DISCONNECT",
        5: "CREATE", 6: "CLOSE", 8: "READ", 9: "WRITE", 0xB: "IOCTL", 0xC: "CANCEL", 0xD: "ECHO",
        0x12: "OPLOCK_BREAK"}

# (name, server options, tool, tool arguments before HOST, user)
CASES = [
    ("311", {}, "smb2_probe", [], USER),
    ("311_files", {}, "api_tool", ["--level", "3"], USER),
    ("311_anon", {"restrict anonymous": "0", "map to guest": "Bad User"}, "smb2_probe", [], ""),
    ("311_signreq", {"server signing": "mandatory", "server min protocol": "SMB3_11"}, "smb2_probe", [], USER),
    ("311_enc_gcm", {"server smb encrypt": "required", "server smb3 encryption algorithms": "AES-128-GCM"},
     "smb2_probe", [], USER),
    ("302_enc", {"server max protocol": "SMB3_02", "server smb encrypt": "required"}, "smb2_probe", [], USER),
    ("300_signreq", {"server max protocol": "SMB3_00", "server signing": "mandatory"}, "smb2_probe", [], USER),
    ("210", {}, "smb2_probe", ["--max", "0x0210"], USER),
    ("202", {"server max protocol": "SMB2_02"}, "smb2_probe", [], USER),
]


def streams(pcap, port):
    """{stream index: (client bytes, server bytes)} of every TCP connection to port."""
    r = subprocess.run(["tshark", "-r", pcap, "-Y", f"tcp.port == {port} && tcp.len > 0", "-T", "fields",
                        "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.payload"],
                       capture_output=True, text=True, timeout=120, check=True)
    out = {}
    seen = set()
    for line in r.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or not parts[3]:
            continue
        idx, sport, seq, payload = int(parts[0]), int(parts[1]), int(parts[2]), parts[3].replace(":", "")
        key = (idx, sport == port, seq)
        if key in seen:  # a retransmission
            continue
        seen.add(key)
        c, s = out.setdefault(idx, (bytearray(), bytearray()))
        (s if sport == port else c).extend(bytes.fromhex(payload))
    return out


def frames(data):
    """NBSS session messages (type 0) of a byte stream; keep-alives dropped."""
    pos, res = 0, []
    while pos + 4 <= len(data):
        t, n = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
        body = bytes(data[pos + 4:pos + 4 + n])
        pos += 4 + n
        if t == 0:
            res.append(body)
    return res


def describe(msg):
    if msg[:4] == b"\xfdSMB":
        sid = int.from_bytes(msg[44:52], "little")
        return f"TRANSFORM session=0x{sid:x} size={int.from_bytes(msg[36:40], 'little')}"
    if msg[:4] != b"\xfeSMB" or len(msg) < 64:
        return "UNKNOWN"
    parts, off = [], 0
    while True:
        h = msg[off:off + 64]
        cmd = int.from_bytes(h[12:14], "little")
        parts.append(f"{CMDS.get(cmd, hex(cmd))} mid={int.from_bytes(h[24:32], 'little')} "
                     f"status=0x{int.from_bytes(h[8:12], 'little'):08x} flags=0x{int.from_bytes(h[16:20], 'little'):x} "
                     f"credits={int.from_bytes(h[14:16], 'little')}")
        nxt = int.from_bytes(h[20:24], "little")
        if nxt == 0 or off + nxt >= len(msg):
            break
        off += nxt
    return " + ".join(parts)


def write_conv(path, case, server_frames, note):
    with open(path, "w") as f:
        f.write(f"# What Samba smbd sent libsmbsess on one TCP connection, case {case}\n")
        f.write(f"# ({note}); written by tests/fuzz/capture.py, one block per NBSS message.\n")
        for n, m in enumerate(server_frames):
            f.write(f"# S {n} {describe(m)}\n")
            h = m.hex()
            for i in range(0, len(h), 64):
                f.write(h[i:i + 64] + "\n")


def smbd_version():
    r = subprocess.run([sambatest.SMBD, "--version"], capture_output=True, text=True)
    return r.stdout.strip()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tools = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "seeds")
    os.makedirs(out_dir, exist_ok=True)
    version = smbd_version()
    with tempfile.TemporaryDirectory(prefix="smbsess-fuzzcap-") as tmp:
        for name, opts, tool, extra, user in CASES:
            with sambatest.SmbServer(options=opts) as srv:
                srv.add_user(USER, PASSWORD, admin=True)
                holder = None
                if name.endswith("_files"):
                    # Enough open files for a NetFileEnum answer of several fragments.
                    paths = [f"dir/file-with-a-long-name-{i:03d}.txt" for i in range(60)]
                    holder = sambatest.SmbclientHolder(srv, "share", USER, PASSWORD, paths)
                pcap = os.path.join(tmp, f"{name}.pcapng")
                try:
                    with Capture(srv.port, pcap):
                        if tool == "api_tool":
                            args = [os.path.join(tools, tool), "--port", str(srv.port), *extra,
                                    "127.0.0.1", "WORKGROUP", user, PASSWORD, "files"]
                        else:
                            args = [os.path.join(tools, tool), *extra, "127.0.0.1", str(srv.port),
                                    "WORKGROUP", user, PASSWORD if user else ""]
                        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
                finally:
                    if holder is not None:
                        holder.stop()
                print(f"{name}: {tool} exit {r.returncode}: {r.stdout.strip().splitlines()[-1:]}"
                      f"{r.stderr.strip()[-200:]}", flush=True)
                conns = streams(pcap, srv.port)
                # Our tool's connection is the one whose client began with a NEGOTIATE from libsmbsess;
                # the smbclient holder's connection (if any) started earlier.
                ours = None
                for idx, (c, s) in sorted(conns.items()):
                    cf = frames(c)
                    if cf and cf[0][:4] == b"\xfeSMB" and int.from_bytes(cf[0][24:32], "little") == 0 \
                            and int.from_bytes(cf[0][32:36], "little") == 0xFEFF:
                        ours = s
                if ours is None:
                    print(f"{name}: no connection of our client captured", file=sys.stderr)
                    return 1
                sf = frames(ours)
                write_conv(os.path.join(out_dir, f"conv_{name}.hex"), name, sf,
                           f"{version}; server options {opts or 'default'}; client {tool} {' '.join(extra)}".strip())
                print(f"{name}: {len(sf)} server messages", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
