#!/usr/bin/python3
"""The Python binding with Kerberos, against a Samba AD DC started by the
test (tests/harness/addc.py): Credentials.kerberos() with a ticket cache
from kinit, Credentials.keytab() with a keytab the DC exported, list_many
with Kerberos, and a Kerberos failure as AuthError. An impacket client of
the domain holds a session and an open file. TAP.

usage: krb.py --lib LIBSMBSESS --source DIR
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tap import check, diag, section, timings  # noqa: E402
from addc import AdDc  # noqa: E402
from sambatest import ImpacketClient  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--lib", required=True)
ap.add_argument("--source", required=True)
A = ap.parse_args()
os.environ["SMBSESS_LIBRARY"] = os.path.abspath(A.lib)
sys.path.insert(0, os.path.join(A.source, "examples", "python"))
import smbsess  # noqa: E402

PW = "Krb!pw-9k2Q"
FILE = "krb-Bericht.txt"


def body(dc):
    dc.add_user("spyk_bob", PW)
    bob = ImpacketClient(dc, "spyk_bob", PW, source="127.0.0.2", domain=dc.domain)
    bob.open("share", FILE)
    env = dc.kinit("Administrator", dc.admin_password)
    # The library reads KRB5_CONFIG when it authenticates (on its worker thread).
    os.environ["KRB5_CONFIG"] = env["KRB5_CONFIG"]
    os.environ.pop("KRB5CCNAME", None)

    creds = smbsess.Credentials.kerberos(env["KRB5CCNAME"])
    with smbsess.Connection(dc.fqdn, creds, address=dc.address) as conn:
        check(conn.auth == smbsess.Auth.KERBEROS and conn.signed,
              f"Credentials.kerberos(ccache): connected to {dc.fqdn} with Kerberos, signed ({conn!r})")
        sess = conn.sessions(client="127.0.0.2")
        check(len(sess) == 1 and sess[0].user and sess[0].user.lower().endswith("spyk_bob"),
              "sessions(client=...) over Kerberos lists the domain user's impacket session", repr(sess))
        files = [f for f in conn.files() if f.path and f.path.endswith("\\" + FILE)]
        check(len(files) == 1 and conn.file(files[0].id) == files[0],
              "files() and file(id) over Kerberos find the open file", repr(files))

    kt = dc.export_keytab("Administrator")
    kcreds = smbsess.Credentials.keytab(kt, f"Administrator@{dc.realm}")
    with smbsess.Connection(dc.fqdn, kcreds, address=dc.address) as conn:
        check(conn.auth == smbsess.Auth.KERBEROS and any(s.client == "127.0.0.2" for s in conn.sessions()),
              "Credentials.keytab(path, principal): Kerberos from the exported keytab lists the sessions")

    res = smbsess.list_many([smbsess.Server(dc.fqdn, address=dc.address)], creds, "files")
    check(res[0].ok and any(f.path.endswith("\\" + FILE) for f in res[0].items),
          "list_many with Kerberos credentials", repr(res))

    missing = os.path.join(tempfile.gettempdir(), "smbsess-no-such-ccache")
    try:
        smbsess.Connection(dc.fqdn, smbsess.Credentials.kerberos("FILE:" + missing), address=dc.address)
        check(False, "a missing ticket cache is an AuthError")
    except smbsess.AuthError as e:
        check(e.name == "KRB5_FCC_NOFILE" and e.domain_name == "KRB5",
              f"a missing ticket cache is an AuthError: {e}")
    bob.close()


def main():
    print("1..6", flush=True)
    with AdDc() as dc:
        section("kerberos", 6, body, dc)
    diag("sections: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
