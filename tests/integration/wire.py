#!/usr/bin/python3
"""What goes on the wire, checked by Wireshark against real Samba smbd: the
open of \\srvsvc as one related compound (TREE_CONNECT + CREATE + IOCTL with
the bind), the polite leave as one (CLOSE + TREE_DISCONNECT + LOGOFF), the
same requests one by one on SMB 2.x, and the pipelined READs of a
multi-fragment answer (3,000 files held open by an impacket client): how
many, how many in flight before the first answer, none left unanswered.
And, traced with strace, that an NTLM listing does no Kerberos work.
TAP output.

usage: wire.py API_TOOL
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from tap import check, diag, results, section  # noqa: E402
from sambatest import ImpacketClient, SmbServer, netfileenum  # noqa: E402
from tshark_capture import Capture  # noqa: E402

TOOL = sys.argv[1]
ADMIN, PW = "wire_admin", "Wire!pw-3"
HOLDER = "wire_bob"
FILES = 3000

# SMB2 command numbers
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT, CREATE, CLOSE, READ, IOCTL = 0, 1, 2, 3, 4, 5, 6, 8, 11


def tool(srv, opts, *cmd):
    r = subprocess.run([TOOL, "--port", str(srv.port), *opts, srv.address, "", ADMIN, PW, *cmd],
                       capture_output=True, text=True, timeout=120)
    fields = {}
    for line in r.stdout.splitlines():
        if "=" in line and "\t" not in line and not line.startswith("level="):
            k, v = line.split("=", 1)
            fields[k] = v
    return r, fields


def client_messages(cap, port):
    """The SMB2 commands of each NetBIOS message the client sent, in order."""
    rows = cap.fields(f"tcp.dstport == {port} && smb2", "frame.number", "smb2.cmd", "smb2.flags.chained")
    return [([int(c) for c in r[1]], r[2]) for r in rows]


def server_statuses(cap, port, cmds):
    """NT statuses of the server's answers to messages whose commands are exactly cmds (interims dropped)."""
    rows = cap.fields(f"tcp.srcport == {port} && smb2", "smb2.cmd", "smb2.nt_status")
    out = []
    for r in rows:
        if [int(c) for c in r[0]] == cmds:
            out.append([int(s, 16) for s in r[1]])
    return out


def compound_case(tmp, name, options, tool_args, want_compound, encrypted=0):
    with SmbServer(os.path.join(tmp, name), options=options) as srv:
        srv.add_user(ADMIN, PW, admin=True)
        cap = Capture(srv.port, os.path.join(tmp, name + ".pcapng"))
        with cap:
            r, f = tool(srv, [*tool_args, "--info", "--disconnect"], "sessions")
        check(r.returncode == 0 and f.get("disconnect") == "OK", f"{name}: listed and left (disconnect=OK)",
              r.stdout + r.stderr)
        check(f.get("disconnect_again") == "SMBSESS_E_DISCONNECTED" and f.get("after") == "SMBSESS_E_DISCONNECTED",
              f"{name}: after leaving, a second disconnect and any call fail with SMBSESS_E_DISCONNECTED", r.stdout)
        msgs = client_messages(cap, srv.port)
        cmds = [m[0] for m in msgs]
        if encrypted:
            # Wireshark cannot look inside: count the client's NetBIOS messages instead.
            n = len(cap.fields(f"tcp.dstport == {srv.port} && nbss.type == 0", "frame.number"))
            check(n == encrypted, f"{name}: {n} client messages, as many as without encryption ({encrypted})")
            return
        frames, bad = cap.bad_client_frames()
        check(frames and not bad, f"{name}: Wireshark decodes every frame the client sent, none malformed",
              "\n".join("|".join(",".join(x) for x in b) for b in bad))
        if want_compound:
            opens = [c for c in cmds if c[-2:] == [CREATE, IOCTL]]
            check(opens and opens[0] in ([TREE_CONNECT, CREATE, IOCTL], [CREATE, IOCTL]),
                  f"{name}: the pipe opened with its bind in one compound {opens[:1]}", cmds)
            chained = [m[1] for m in msgs if m[0] == opens[0]] if opens else []
            check(chained and chained[0][0] == "0" and all(x == "1" for x in chained[0][1:]),
                  f"{name}: related flag on every request of the compound but the first", chained)
            check([CLOSE, TREE_DISCONNECT, LOGOFF] in cmds and cmds[-1] == [CLOSE, TREE_DISCONNECT, LOGOFF],
                  f"{name}: the leave went as one compound CLOSE + TREE_DISCONNECT + LOGOFF, last", cmds)
            answers = server_statuses(cap, srv.port, [CLOSE, TREE_DISCONNECT, LOGOFF])
            check(answers and answers[-1] == [0, 0, 0],
                  f"{name}: Samba answered the leave's three requests with STATUS_SUCCESS", answers)
            diag(f"{name}: {len(msgs)} client messages: {cmds}")
        else:
            check(all(len(c) == 1 for c in cmds),
                  f"{name}: on SMB 2.x every request goes on its own (no compounds)", cmds)
            tail = cmds[-3:]
            check(tail == [[CLOSE], [TREE_DISCONNECT], [LOGOFF]] and [TREE_CONNECT] in cmds and [CREATE] in cmds,
                  f"{name}: TREE_CONNECT, CREATE and the bind one by one; CLOSE, TREE_DISCONNECT, LOGOFF last",
                  cmds)
            check(all(s == [0] for s in server_statuses(cap, srv.port, [LOGOFF])),
                  f"{name}: Samba answered the LOGOFF with STATUS_SUCCESS", cmds)


def compounds(tmp):
    compound_case(tmp, "3.1.1", {}, [], True)
    compound_case(tmp, "3.0 signed (validate negotiate first)",
                  {"server max protocol": "SMB3_00", "server signing": "mandatory"}, [], True)
    compound_case(tmp, "3.1.1 encrypted", {"server smb encrypt": "required"}, [], True, encrypted=8)
    compound_case(tmp, "2.1", {}, ["--dialects", "0x0202-0x0210"], False)


def pipelining(tmp):
    with SmbServer(os.path.join(tmp, "pipe"), shares={"share": {}}) as srv:
        srv.add_user(ADMIN, PW, admin=True)
        srv.add_user(HOLDER, PW)
        with ImpacketClient(srv, HOLDER, PW, source="127.0.0.2") as c:
            for i in range(FILES):
                c.open("share", "f%05d.txt" % i)
            want = netfileenum(srv, ADMIN, PW)
            cap = Capture(srv.port, os.path.join(tmp, "pipe.pcapng"))
            with cap:
                r, _ = tool(srv, [], "files")
            lines = [l for l in r.stdout.splitlines() if l.startswith("id=")]
            check(r.returncode == 0 and len(lines) == FILES and len(want) >= FILES,
                  f"all {FILES} open files listed ({len(lines)}; rpcclient {len(want)})", r.stderr[-500:])
            # tshark puts several SMB2 messages of one TCP segment in one row: flatten them.
            rows = cap.fields(f"smb2.cmd == {READ}", "frame.number", "tcp.dstport", "smb2.msg_id",
                              "smb2.nt_status")
            reqs, finals = [], []
            for r in rows:
                frame = int(r[0][0])
                if r[1] == [str(srv.port)]:
                    reqs += [(frame, int(m, 0)) for m in r[2]]
                else:
                    finals += [(frame, int(m, 0), int(st, 16)) for m, st in zip(r[2], r[3]) if int(st, 16) != 0x103]
            first = cap.fields(f"tcp.srcport == {srv.port} && dcerpc.pkt_type == 2 && dcerpc.cn_flags == 0x01",
                               "dcerpc.cn_frag_len", "dcerpc.cn_alloc_hint")
            flen, hint = (int(first[0][0][0]), int(first[0][1][0])) if first else (0, 0)
            per = flen - 24
            want_reads = -(-(hint - per) // per) if per > 0 else -1
            check(want_reads > 50 and len(reqs) == want_reads,
                  f"one READ per fragment after the first: {len(reqs)} READs; the first fragment's alloc_hint "
                  f"({hint}) and size ({flen}) make {want_reads}", f"{len(reqs)} {want_reads}")
            first_answer = min(f for f, _, _ in finals) if finals else 0
            before = [m for f, m in reqs if f < first_answer]
            check(len(before) > 30,
                  f"pipelined: {len(before)} READs went out before the first READ answer came back")
            check(sorted(m for _, m in reqs) == sorted(m for _, m, _ in finals)
                  and all(st in (0, 0x80000005) for _, _, st in finals),
                  "every READ was answered (no READ left pending on the pipe), none failed",
                  f"{len(reqs)} requests, {len(finals)} answers")
            diag(f"fragments of {flen} bytes, alloc_hint {hint}: {len(reqs)} READs, "
                 f"{len(before)} in flight before the first answer")


def startup(tmp):
    """With NTLM, nothing of Kerberos beyond the shared libraries themselves: no krb5.conf, no
    GSS-API mechanism configuration, no credentials cache is opened."""
    with SmbServer(os.path.join(tmp, "startup")) as srv:
        srv.add_user(ADMIN, PW, admin=True)
        trace = os.path.join(tmp, "startup.strace")
        r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,stat,newfstatat,access",
                            "-o", trace, TOOL, "--port", str(srv.port), srv.address, "", ADMIN, PW, "sessions"],
                           capture_output=True, text=True, timeout=120)
        with open(trace) as f:
            lines = f.read().splitlines()
        # The loader's own search of library folders (/usr/lib, /lib) is the shared libraries'.
        krb = [l for l in lines if any(k in l for k in ("krb5", "gss", "KRB5", "/tmp/krb"))
               and ".so" not in l and '"/usr/lib/' not in l and '"/lib/' not in l]
        check(r.returncode == 0 and lines and not krb,
              f"an NTLM listing touches no Kerberos file ({len(lines)} file calls traced)",
              "\n".join(krb[:10]) + r.stderr[-300:])


def main():
    tmp = tempfile.mkdtemp(prefix="smbsess-wire-")
    section("compounds", 2 * 7 + 3 + 6, compounds, tmp)
    section("pipelined reads", 4, pipelining, tmp)
    section("start-up", 1, startup, tmp)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
