#!/usr/bin/python3
"""Build the decode benchmark's inputs with Samba's own NDR encoder.

    /usr/bin/python3 bench/gen_decode.py OUTDIR [ENTRIES]

Writes two NDR response stubs (the bytes after the 24-byte DCE/RPC response
header), encoded by Samba's pidl-generated code through its Python bindings
(python3-samba), as tests/vectors/gen_srvsvc.py does for the golden vectors:

  OUTDIR/file_enum_l3_ENTRIES.bin    NetrFileEnum out, FILE_INFO_3 x ENTRIES
  OUTDIR/sess_enum_l502_ENTRIES.bin  NetrSessionEnum out, SESSION_INFO_502 x ENTRIES

and OUTDIR/NAME.check with the count and the first and last entries, which
the decoders print back so that bench.py can tell that both decoded the
same thing. Each blob is decoded again with Samba before it is written and
must give back the same number of entries. Existing files are kept (the
output depends only on ENTRIES).
"""
import os
import sys

from samba import ndr
from samba.dcerpc import srvsvc


def file_entry(i):
    e = srvsvc.NetFileInfo3()
    e.fid = 0x10000 + i
    e.permissions = 1 + i % 3
    e.num_locks = i % 2
    # A realistic share path: C: + share path, as Samba answers
    e.path = "C:\\srv\\projects\\dept%02d\\team%03d\\report_%06d.docx" % (i % 37, i % 499, i)
    e.user = "user%04d" % (i % 5000)
    return e


def sess_entry(i):
    e = srvsvc.NetSessInfo502()
    e.client = "\\\\10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
    e.user = "user%04d" % (i % 5000)
    e.num_open = i % 17
    e.time = 3600 + i
    e.idle_time = i % 600
    e.user_flags = 0
    e.client_type = "Windows 10 Enterprise 19045"
    e.transport = "\\Device\\NetbiosSmb"
    return e


def file_blob(n):
    r = srvsvc.NetFileEnum()
    c = srvsvc.NetFileInfoCtr()
    c.level = 3
    arm = srvsvc.NetFileCtr3()
    # Drop the containers before the list of entries: Samba's array holds
    # talloc references to the entries, and freeing 100,000 referenced
    # entries first takes tens of seconds (each unlink walks the references).
    entries = [file_entry(i) for i in range(n)]
    arm.array = entries
    arm.count = n
    c.ctr = arm
    r.out_info_ctr = c
    r.out_totalentries = n
    r.out_resume_handle = None
    r.result = 0
    blob = ndr.ndr_pack_out(r)
    del r, c, arm
    del entries
    return blob, srvsvc.NetFileEnum


def sess_blob(n):
    r = srvsvc.NetSessEnum()
    c = srvsvc.NetSessInfoCtr()
    c.level = 502
    arm = srvsvc.NetSessCtr502()
    entries = [sess_entry(i) for i in range(n)]  # freed last, as above
    arm.array = entries
    arm.count = n
    c.ctr = arm
    r.out_info_ctr = c
    r.out_totalentries = n
    r.out_resume_handle = None
    r.result = 0
    blob = ndr.ndr_pack_out(r)
    del r, c, arm
    del entries
    return blob, srvsvc.NetSessEnum


def check_line(kind, n):
    """What the decoders print for the first and the last entry."""
    if kind == "file":
        a, b = file_entry(0), file_entry(n - 1)
        return "count=%d first=%d|%s|%s last=%d|%s|%s" % (n, a.fid, a.path, a.user, b.fid, b.path, b.user)
    a, b = sess_entry(0), sess_entry(n - 1)
    return "count=%d first=%s|%s|%s last=%s|%s|%s" % (n, a.client, a.user, a.transport,
                                                      b.client, b.user, b.transport)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    outdir = argv[1]
    n = int(argv[2]) if len(argv) > 2 else 100000
    os.makedirs(outdir, exist_ok=True)
    for kind, name, build in (("file", "file_enum_l3_%d" % n, file_blob),
                              ("sess", "sess_enum_l502_%d" % n, sess_blob)):
        path = os.path.join(outdir, name + ".bin")
        if os.path.exists(path) and os.path.exists(path[:-4] + ".check"):
            continue
        blob, cls = build(n)
        back = cls()
        ndr.ndr_unpack_out(back, blob)
        if back.out_info_ctr.ctr.count != n or len(back.out_info_ctr.ctr.array) != n:
            raise SystemExit("%s: Samba does not decode its own blob to %d entries" % (name, n))
        with open(path + ".tmp", "wb") as f:
            f.write(blob)
        os.replace(path + ".tmp", path)
        with open(path[:-4] + ".check", "w", encoding="utf-8") as f:
            f.write(check_line(kind, n) + "\n")
        print("%s: %d bytes" % (path, len(blob)))


if __name__ == "__main__":
    main(sys.argv)
