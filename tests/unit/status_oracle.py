#!/usr/bin/python3
"""Checks our NTSTATUS and WERROR tables against Samba's (samba.ntstatus,
samba.werror), an independent list of the same Windows codes. TAP output."""
import subprocess
import sys

import samba.ntstatus as ntstatus
import samba.werror as werror


# Codes Samba's tables lack, each checked by hand against the source named.
NOT_IN_SAMBA = {
    # MS-ERREF / Windows SDK ntstatus.h (winapi::shared::ntstatus)
    "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP": 0xC05D0000,
}


def samba_name(domain, name):
    if domain == "NTSTATUS":
        return "NT_" + name  # STATUS_X -> NT_STATUS_X
    if name.startswith("NERR_"):
        return "WERR_NERR_" + name[5:].upper()
    if name.startswith("ERROR_"):
        return "WERR_" + name[6:]
    if name.startswith("RPC_S_"):
        return "WERR_" + name
    return None


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    checks = []
    for line in out.splitlines():
        domain, name, code = line.split()
        if domain not in ("NTSTATUS", "WERROR"):
            continue
        mod = ntstatus if domain == "NTSTATUS" else werror
        sname = samba_name(domain, name)
        if name == "ERROR_SUCCESS":
            sname = "WERR_SUCCESS"
        value = getattr(mod, sname, None) if sname else None
        if value is None and name in NOT_IN_SAMBA:
            value, sname = NOT_IN_SAMBA[name], "(listed by hand)"
        if value is None:
            checks.append((False, f"{domain} {name}: Samba has no {sname}"))
        elif (value & 0xFFFFFFFF) != int(code, 16):
            checks.append((False, f"{domain} {name}: ours {code}, Samba {value:#010x}"))
        else:
            checks.append((True, f"{domain} {name} = {code}"))
    print(f"1..{len(checks)}")
    for i, (ok, msg) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {msg}")
    return 0 if all(ok for ok, _ in checks) and checks else 1


if __name__ == "__main__":
    sys.exit(main())
