#!/usr/bin/python3
"""Checks the DCE/RPC fault and reject codes we name (SMBSESS__RPC_CODES in
lib/util/status_codes.h, printed by status_table) against Samba's own list
(samba.dcerpc.dcerpc DCERPC_NCA_S_* and DCERPC_FAULT_*), an independent
transcription of C706 Appendix E and MS-RPCE. TAP output.

usage: rpc_codes_oracle.py STATUS_TABLE
"""
import subprocess
import sys

from samba.dcerpc import dcerpc


def main():
    samba = {}
    for name in dir(dcerpc):
        if name.startswith(("DCERPC_NCA_S_", "DCERPC_FAULT_")) and isinstance(getattr(dcerpc, name), int):
            samba.setdefault(getattr(dcerpc, name) & 0xFFFFFFFF, []).append(name)
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    ours = [line.split()[1:] for line in out.splitlines() if line.startswith("RPC ")]
    checks = []
    values = [int(code, 16) for _, code in ours]
    checks.append((len(values) == len(set(values)), f"{len(values)} RPC codes, no value named twice"))
    for name, code in ours:
        value = int(code, 16)
        if value in samba:
            checks.append((True, f"{name} = {code} (Samba: {', '.join(sorted(samba[value]))})"))
        else:
            checks.append((False, f"{name} = {code}: Samba knows no fault or reject code of that value"))
    print(f"1..{len(checks)}")
    for i, (ok, msg) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {msg}")
    return 0 if len(ours) > 20 and all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
