"""smbsess: who is connected to a Windows or Samba file server, and which
files they hold open, from Python: a typed binding of libsmbsess over
ctypes (standard library only).

    import smbsess

    creds = smbsess.Credentials.password("admin", "secret", domain="EXAMPLE")
    with smbsess.Connection("fs1.example.com", creds) as conn:
        for s in conn.sessions():
            print(s.client, s.user, s.num_opens)
        for f in conn.files(user="bob"):
            print(f.id, f.path)

The library is libsmbsess.so.0, found as ctypes.util finds libraries, or
at the path in the environment variable SMBSESS_LIBRARY.
"""
from __future__ import annotations

from typing import Tuple

from ._native import ENV_VAR, SONAME, LibraryNotFound, library_path
from .client import Connection, Credentials
from .errors import (AccessDenied, AuthError, ConnectError, InvalidArgument, LimitExceeded,
                     NotFound, NotSupported, ProtocolError, SmbsessError, Timeout)
from .many import Server, ServerResult, list_many
from .records import (PERM_FILE_CREATE, PERM_FILE_READ, PERM_FILE_WRITE, SESS_GUEST, SESS_NOENCRYPTION, Auth,
                      Dialect, OpenFile, Policy, Session, TreeConnection)

__version__ = "0.2.0"


def library_version() -> str:
    """The version of the loaded libsmbsess ("0.2.0"); loads it."""
    from ._native import native
    return native().version


def talloc_report() -> Tuple[int, int, int]:
    """(objects, blocks, bytes): the live Credentials and Connection objects
    and the C memory (talloc blocks and bytes) they hold, for leak checks.
    Not thread-safe: call it while no other thread uses a Connection."""
    from .client import _Owned
    objects = blocks = size = 0
    for obj in list(_Owned.live):
        b, s = obj._talloc_size()
        objects += 1 if b else 0
        blocks += b
        size += s
    return objects, blocks, size


__all__ = [
    "Credentials", "Connection", "list_many", "Server", "ServerResult",
    "Session", "OpenFile", "TreeConnection", "Policy", "Dialect", "Auth",
    "SESS_GUEST", "SESS_NOENCRYPTION", "PERM_FILE_READ", "PERM_FILE_WRITE", "PERM_FILE_CREATE",
    "SmbsessError", "AccessDenied", "NotFound", "AuthError", "Timeout", "ConnectError", "ProtocolError",
    "NotSupported", "LimitExceeded", "InvalidArgument",
    "LibraryNotFound", "library_path", "library_version", "talloc_report", "SONAME", "ENV_VAR",
    "__version__",
]
