#!/usr/bin/python3
"""The impacket peer of the benchmarks: list a server's open files (or
sessions) with impacket.dcerpc.v5.srvs, the way a Python admin script would.

    impacket_fileenum.py HOST PORT DOMAIN USER PASSWORD [files|sessions]

Connects over SMB, binds \\srvsvc, calls hNetrFileEnum at level 3 (or
hNetrSessionEnum at level 1, the best Samba 4.17 answers) asking for
everything at once, follows resume handles while the server answers
ERROR_MORE_DATA, and prints one line a entry (path and user, or client and
user) and then "count=N".
"""
import sys

from impacket.dcerpc.v5 import srvs, transport
from impacket.dcerpc.v5.rpcrt import DCERPCException

ERROR_MORE_DATA = 234


def main(argv):
    if len(argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, domain, user, password = argv[1:6]
    what = argv[6] if len(argv) == 7 else "files"
    rpc = transport.SMBTransport(host, int(port), r"\srvsvc", username=user, password=password, domain=domain)
    dce = rpc.get_dce_rpc()
    dce.connect()
    dce.bind(srvs.MSRPC_UUID_SRVS)
    count, resume, out = 0, 0, []
    while True:
        try:
            if what == "files":
                r = srvs.hNetrFileEnum(dce, srvs.NULL, srvs.NULL, 3, resumeHandle=resume)
            else:
                r = srvs.hNetrSessionEnum(dce, srvs.NULL, srvs.NULL, 1, resumeHandle=resume)
        except DCERPCException as e:
            # a page of a longer answer comes as an "error" that carries the entries
            if e.get_error_code() != ERROR_MORE_DATA or e.get_packet() is None:
                raise
            r = e.get_packet()
        if what == "files":
            entries = r["InfoStruct"]["FileInfo"]["Level3"]["Buffer"]
            out += ["%s\t%s" % (e["fi3_path_name"][:-1], e["fi3_username"][:-1]) for e in entries]
        else:
            entries = r["InfoStruct"]["SessionInfo"]["Level1"]["Buffer"]
            out += ["%s\t%s" % (e["sesi1_cname"][:-1], e["sesi1_username"][:-1]) for e in entries]
        count += len(entries)
        if r["ErrorCode"] != ERROR_MORE_DATA or not r["ResumeHandle"]:
            break
        resume = r["ResumeHandle"]
    dce.disconnect()
    sys.stdout.write("".join(line + "\n" for line in out))
    print("count=%d" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
