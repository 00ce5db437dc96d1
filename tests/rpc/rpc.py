#!/usr/bin/python3
"""Integration tests of lib/rpc against real Samba smbd on loopback.

rpc_probe (tests/tools/rpc_probe.c) binds srvsvc over lib/smb2 and calls
NetrSessionEnum, NetrFileEnum and NetrFileGetInfo with stubs from
lib/srvsvc; sessions and open files come from impacket clients (harness
ImpacketClient). The answers are compared with rpcclient's (harness
netsessenum/netfileenum, which parse Samba's own NDR print). A request of
about 40 KB (a 20,000-character client filter, which Samba ignores) must go
out in fragments and work; a response of several fragments must be put
back together. The capture of the exchange is read by Wireshark (tshark):
no frame of ours may be malformed, and its DCE/RPC dissector must see the
bind, the fragments with their flags and alloc_hints, and reassemble them
into the request we meant. Then encrypted SMB 3.1.1 and SMB 2.0.2 servers,
with open files from smbclient, and a tree freed under an open pipe.
TAP output.

usage: rpc.py RPC_PROBE
"""
import os
import subprocess
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
import sambatest  # noqa: E402
from tshark_capture import ERROR_SEVERITY, Capture  # noqa: E402

PROBE = sys.argv[1]
ADMIN, ADMIN_PW = "rpct_admin", "Rpc!adm1n"
BOB, BOB_PW = "rpct_bob", "Rpc!b0b"
CAROL, CAROL_PW = "rpct_carol", "Rpc!car0l"
SRVSVC = "4b324fc8-1670-01d3-1278-5a47bf6ee188"
NDR20 = "8a885d04-1ceb-11c9-9fe8-08002b104860"
FILTER_CHARS = 20000
# What Samba 4.17 answers to a bind that proposes 65535: its own largest fragment.
SAMBA_FRAG = 5840
LONG_NAME = "y" * 180
PLANNED = 25
results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    line = f"{'ok' if ok else 'not ok'} {len(results)} - {what}"
    if not ok and detail:
        line += "\n# " + str(detail).strip().replace("\n", "\n# ")[:6000]
    print(line, flush=True)


def probe(port, *commands, user=ADMIN, password=ADMIN_PW, timeout=120):
    r = subprocess.run([PROBE, "127.0.0.1", str(port), "WORKGROUP", user, password, *commands],
                       capture_output=True, text=True, timeout=timeout)
    single, multi = {}, {}
    for line in r.stdout.splitlines():
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k.endswith(".session") or k.endswith(".file"):
            multi.setdefault(k, []).append(v.split("\t"))
        else:
            single.setdefault(k, v)  # the first of repeated commands
            multi.setdefault(k + "#all", []).append(v)
    return r.returncode, single, multi, r.stdout + r.stderr


def sessions_of(rows):
    """(client, user, num_open, user_flags) of probe lines client\\tuser\\tnum_open\\ttime\\tidle\\tflags."""
    return Counter((r[0], r[1], int(r[2]), int(r[5])) for r in rows)


def oracle_sessions(recs):
    return Counter((r.get("client"), r.get("user"), int(r.get("num_open", -1)), int(r.get("user_flags", -1)))
                   for r in recs)


def intval(s):
    return int(s, 0)


def capture_checks(cap, port, filter_chars):
    # 1. Nothing we sent is malformed or carries an error-level expert note.
    frames = cap.fields(f"tcp.dstport == {port} && (smb2 || dcerpc || _ws.malformed)",
                        "frame.number", "_ws.malformed", "_ws.expert.severity", "_ws.col.Info")
    bad = [f for f in frames if f[1] or any(intval(s) >= ERROR_SEVERITY for s in f[2])]
    check(len(frames) > 20 and not bad,
          f"Wireshark decodes all {len(frames)} client frames without malformed or error marks",
          "\n".join("|".join(",".join(x) for x in b) for b in bad))

    # 2. The bind: srvsvc v3.0, NDR 2.0, the largest fragments there are (65535/65535), call id 1; accepted.
    binds = cap.fields("dcerpc.pkt_type == 11", "frame.number", "dcerpc.cn_bind_to_uuid", "dcerpc.cn_bind_if_ver",
                       "dcerpc.cn_bind_if_ver_minor", "dcerpc.cn_bind_trans_id", "dcerpc.cn_bind_trans_ver",
                       "dcerpc.cn_max_xmit", "dcerpc.cn_max_recv", "dcerpc.cn_frag_len", "dcerpc.cn_call_id",
                       "dcerpc.cn_flags")
    first = binds[0] if binds else None
    check(first is not None and first[1] == [SRVSVC] and first[2] == ["3"] and first[3] == ["0"]
          and first[4] == [NDR20] and first[5] == ["2"] and first[6] == ["65535"] and first[7] == ["65535"]
          and first[8] == ["72"] and first[9] == ["1"] and first[10] == ["0x03"],
          "Wireshark reads our bind: srvsvc v3.0, NDR 2.0 v2, max frags 65535/65535, 72 bytes, call id 1, first|last",
          binds)
    acks = cap.fields("dcerpc.pkt_type == 12", "dcerpc.cn_ack_result", "dcerpc.cn_ack_trans_id",
                      "dcerpc.cn_max_xmit", "dcerpc.cn_max_recv")
    check(len(acks) >= 1 and acks[0][0] == ["0"] and acks[0][1] == [NDR20],
          "the server accepted NDR 2.0 for the context (Wireshark's reading of the bind_ack)", acks)
    # Samba lowers our 65535 to its own limit; the client's fragments follow what it receives.
    server_recv = int(acks[0][3][0]) if acks and acks[0][3] else 0
    check(acks and acks[0][2] == [str(SAMBA_FRAG)] and server_recv == SAMBA_FRAG,
          f"Samba answered {SAMBA_FRAG}/{SAMBA_FRAG} in its bind_ack", acks)

    # 3. The fragmented request: every PDU of the call whose first alloc_hint is the stub's size.
    reqs = cap.fields(f"tcp.dstport == {port} && dcerpc.pkt_type == 0", "frame.number", "dcerpc.cn_call_id",
                      "dcerpc.cn_flags", "dcerpc.cn_frag_len", "dcerpc.cn_alloc_hint", "dcerpc.opnum", "smb2.cmd",
                      "dcerpc.fragment.count", "dcerpc.reassembled.length")
    stub_len = None
    big = []
    for r in reqs:
        hint = int(r[4][0]) if r[4] else 0
        if stub_len is None and r[2] == ["0x01"] and hint > 2 * ((SAMBA_FRAG - 24) & ~7):
            stub_len, call = hint, r[1]
        if stub_len is not None and r[1] == call:
            big.append(r)
    per = (SAMBA_FRAG - 24) & ~7
    n = (stub_len + per - 1) // per if stub_len else 0
    want_flags = ["0x01"] + ["0x00"] * (n - 2) + ["0x02"]
    want_lens = [str(24 + min(per, stub_len - i * per)) for i in range(n)] if stub_len else []
    want_hints = [str(stub_len - i * per) for i in range(n)] if stub_len else []
    check(stub_len is not None and stub_len > 2 * filter_chars and len(big) == n
          and [r[2][0] for r in big] == want_flags and [r[3][0] for r in big] == want_lens
          and [r[4][0] for r in big] == want_hints and all(r[5] == ["12"] for r in big),
          f"a {stub_len}-byte NetrSessionEnum stub went out as {len(big)} fragments of at most {SAMBA_FRAG} bytes: "
          "flags first/none/last, alloc_hint = what is left, opnum 12 in each",
          "\n".join(str(r) for r in big))
    check(len(big) == n and n > 2 and all("9" in r[6] for r in big[:-1]) and "11" in big[-1][6],
          "all but the last fragment by SMB2 WRITE, the last by IOCTL FSCTL_PIPE_TRANSCEIVE",
          [(r[0], r[6]) for r in big])
    check(len(big) == n and n > 2 and big[-1][7] == [str(n)] and big[-1][8] == [str(stub_len)],
          f"Wireshark reassembled the {n} fragments into one {stub_len}-byte request", big[-1] if big else reqs)
    client = cap.fields("srvsvc.opnum == 12 && srvsvc.srvsvc_NetSessEnum.client", "srvsvc.srvsvc_NetSessEnum.client")
    longest = max((len(c[0][0]) for c in client if c[0]), default=0)
    check(longest == filter_chars + 2,
          f"...and decoded the NetSessEnum request in it, with its {filter_chars + 2}-character client filter",
          f"longest client string {longest}")

    # 4. Call ids increase and calls never overlap on the pipe: request, response, request, ...
    pdus = cap.fields("dcerpc.pkt_type == 0 || dcerpc.pkt_type == 2 || dcerpc.pkt_type == 3",
                      "frame.number", "dcerpc.pkt_type", "dcerpc.cn_call_id", "dcerpc.cn_flags", "tcp.dstport")
    seq = []
    for p in pdus:
        for t, cid, fl in zip(p[1], p[2], p[3]):
            last = intval(fl) & 2
            seq.append((t, int(cid), last))
    calls, ok_order, open_call = [], True, None
    for t, cid, last in seq:
        if t == "0":
            if open_call is not None and open_call != cid:
                ok_order = False
            open_call = cid
            if last:
                calls.append(cid)
        else:
            if open_call != cid:
                ok_order = False
            if last:
                open_call = None
    check(ok_order and len(calls) >= 8 and calls == sorted(calls) and len(set(calls)) == len(calls),
          f"{len(calls)} calls on the pipe, one at a time, call ids {calls[:3]}... strictly increasing", seq[:80])

    # 5. A response of several fragments, read back with READ after the first came with the IOCTL.
    resp = cap.fields(f"tcp.srcport == {port} && dcerpc.pkt_type == 2", "frame.number", "dcerpc.cn_call_id",
                      "dcerpc.cn_flags", "dcerpc.fragment.count", "dcerpc.reassembled.length", "smb2.cmd")
    multi = [r for r in resp if r[3] and int(r[3][0]) >= 3]
    reads = cap.fields(f"tcp.dstport == {port} && smb2.cmd == 8 && smb2.flags.response == 0", "frame.number")
    check(multi and reads, f"a response of {multi[0][3][0] if multi else '?'} fragments "
          f"({multi[0][4][0] if multi else '?'} bytes) was reassembled; the client sent {len(reads)} SMB2 READs",
          resp)


def main_case(tmp):
    with sambatest.SmbServer(options={"server signing": "mandatory"}) as srv:
        srv.add_user(ADMIN, ADMIN_PW, admin=True)
        srv.add_user(BOB, BOB_PW)
        srv.add_user(CAROL, CAROL_PW)
        with sambatest.ImpacketClient(srv, BOB, BOB_PW, source="127.0.0.2") as bob, \
                sambatest.ImpacketClient(srv, CAROL, CAROL_PW, source="127.0.0.3") as carol, \
                sambatest.ImpacketClient(srv, BOB, BOB_PW, source="127.0.0.4"):
            for i in range(30):
                bob.open("share", f"f{i:02d}_{LONG_NAME}.txt")
            carol.open("share", "carol.txt")
            want_sessions = oracle_sessions(sambatest.netsessenum(srv, ADMIN, ADMIN_PW))
            want_files = sambatest.netfileenum(srv, ADMIN, ADMIN_PW)
            fid = want_files[0]["fid"] if want_files else 1
            cap = Capture(srv.port, os.path.join(tmp, "rpc.pcapng"))
            with cap:
                rc, f, m, out = probe(srv.port, "sessenum:1", "sessenum:0", f"sessfilter:{FILTER_CHARS}",
                                      "fileenum:3", f"fileinfo:{fid}", "parallel:3", "bogusop", "unknownif",
                                      "sessenum:1")
            again = oracle_sessions(sambatest.netsessenum(srv, ADMIN, ADMIN_PW))

        check(rc == 0 and f.get("bind") == "ok" and f.get("ok") == "1",
              "rpc_probe: bind srvsvc over \\srvsvc and run every command", out)
        check(f.get("max_xmit_frag") == str(SAMBA_FRAG) and f.get("max_recv_frag") == str(SAMBA_FRAG),
              f"negotiated fragment sizes {SAMBA_FRAG}/{SAMBA_FRAG} taken from the bind_ack", out)

        got = sessions_of(m.get("sessenum1.session", [])[: int(f.get("sessenum1.count", "0"))])
        check(f.get("sessenum1.status") == "OK" and f.get("sessenum1.result") == "0" and want_sessions == again
              and got == want_sessions and len(got) == 4,
              f"NetrSessionEnum level 1: the same {sum(got.values())} sessions (client, user, open files, "
              f"flags) as rpcclient", f"ours {sorted(got.items())}\nrpcclient {sorted(want_sessions.items())}")
        l0 = Counter(r[0] for r in m.get("sessenum0.session", []))
        check(f.get("sessenum0.status") == "OK" and f.get("sessenum0.level") == "0"
              and l0 == Counter(c for c, _, _, _ in got.elements()),
              "NetrSessionEnum level 0: the same clients", f"{l0} vs {got}")
        filt = sessions_of(m.get("sessfilter.session", []))
        check(f.get("sessfilter.status") == "OK" and f.get("sessfilter.result") == "0"
              and f.get("sessfilter.client_filter_len") == str(FILTER_CHARS + 2) and filt == got,
              f"a {FILTER_CHARS + 2}-character client filter (Samba ignores it): the call works, same sessions",
              out[-3000:])

        files = Counter(tuple(r) for r in m.get("fileenum.file", []))
        want = Counter((str(r["fid"]), str(r["permissions"]), str(r["num_locks"]), r["path"], r["user"])
                       for r in want_files)
        check(f.get("fileenum.status") == "OK" and f.get("fileenum.result") == "0" and len(want) == 31
              and files == want,
              f"NetrFileEnum level 3: the same {len(want)} open files as rpcclient, in a "
              f"{f.get('fileenum.response_stub_len')}-byte answer", f"ours {sorted(files)}\nrpcclient {sorted(want)}")
        check(f.get("fileinfo.status") == "nca_s_op_rng_error" and f.get("fileinfo.domain") == "RPC"
              and f.get("fileinfo.code") == "0x1C010002" and f.get("fileinfo.pipe_usable") == "1",
              "NetrFileGetInfo (opnum 10): Samba's fault nca_s_op_rng_error as an RPC-domain status; "
              "the pipe stays usable", out[-2000:])
        check(f.get("parallel.ok") == "3" and f.get("parallel.same") == "1",
              "three calls issued at once on one pipe all succeed (queued, one in flight)", out[-2000:])
        check(f.get("bogusop.status") == "nca_s_op_rng_error" and f.get("bogusop.pipe_usable") == "1",
              "opnum 200: fault nca_s_op_rng_error", out[-2000:])
        check(f.get("unknownif.status") == "SMBSESS_E_BIND_REJECTED",
              "bind to an interface Samba does not serve: SMBSESS_E_BIND_REJECTED", out[-2000:])
        statuses = m.get("sessenum1.status#all", [])
        check(statuses == ["OK", "OK"] and f.get("pipe_error") == "OK",
              "after faults and a rejected bind the pipe still carries calls", out[-2000:])
        capture_checks(cap, srv.port, FILTER_CHARS)


def other_server(name, options):
    with sambatest.SmbServer(options=options) as srv:
        srv.add_user(ADMIN, ADMIN_PW, admin=True)
        srv.add_user(BOB, BOB_PW)
        paths = [f"g{i:02d}_{LONG_NAME}.txt" for i in range(25)]
        with sambatest.SmbclientHolder(srv, "share", BOB, BOB_PW, paths):
            rc, f, m, out = probe(srv.port, "sessenum:1", f"sessfilter:{FILTER_CHARS}", "fileenum:3",
                                  "parallel:3", "treegone")
        ok = (rc == 0 and f.get("sessenum1.status") == "OK" and f.get("sessenum1.result") == "0"
              and len(m.get("sessenum1.session", [])) == 2 and f.get("sessfilter.status") == "OK"
              and f.get("sessfilter.result") == "0" and f.get("fileenum.status") == "OK"
              and f.get("fileenum.count") == "25" and int(f.get("fileenum.response_stub_len", "0")) > 2 * 4256
              and f.get("parallel.ok") == "3")
        check(ok, f"{name}: NetrSessionEnum, a fragmented request, a {f.get('fileenum.response_stub_len')}-byte "
                  "fragmented response, queued calls", out[-3000:])
        check(f.get("treegone.status") == "SMBSESS_E_DISCONNECTED" and f.get("pipe_error") == "SMBSESS_E_DISCONNECTED"
              and f.get("logoff") == "OK",
              f"{name}: once the tree object is gone the pipe's transport refuses (SMBSESS_E_DISCONNECTED), "
              "the session still logs off", out[-1000:])


def main():
    print(f"1..{PLANNED}")
    with tempfile.TemporaryDirectory(prefix="smbsess-rpc-") as tmp:
        main_case(tmp)
    # Open files from smbclient here: impacket 0.10 cannot do encrypted sessions.
    other_server("SMB 3.1.1, encryption required", {"server smb encrypt": "required"})
    other_server("SMB 2.0.2 only", {"server max protocol": "SMB2_02"})
    return 0 if all(results) and len(results) == PLANNED else 1


if __name__ == "__main__":
    sys.exit(main())
