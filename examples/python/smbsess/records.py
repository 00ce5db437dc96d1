"""What the calls return: frozen dataclasses whose field names are the keys
of smbnet's JSON (``smbnet --json session`` / ``file``). A field the
server's information level does not carry is None, where smbnet leaves the
key out.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class Policy(enum.IntEnum):
    """Signing and encryption policies (enum smbsess_policy)."""
    AUTO = 0      #: as the server requires (signing is used whenever possible)
    REQUIRED = 1  #: fail when it cannot be used
    OFF = 2       #: encryption only: never ask for it


class Dialect(enum.IntEnum):
    """SMB dialects (enum smbsess_dialect)."""
    SMB_2_0_2 = 0x0202
    SMB_2_1 = 0x0210
    SMB_3_0 = 0x0300
    SMB_3_0_2 = 0x0302
    SMB_3_1_1 = 0x0311

    def __str__(self) -> str:
        return {0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1"}[self.value]


class Auth(enum.IntEnum):
    """How a connection's session was authenticated (enum smbsess_auth)."""
    NONE = 0
    ANONYMOUS = 1
    NTLM = 2
    KERBEROS = 3


# Bits of smbsess_session_list_fields() and friends (include/smbsess/server.h).
SESSION_FIELDS = (("client", 1 << 0), ("user", 1 << 1), ("num_opens", 1 << 2), ("time", 1 << 3),
                  ("idle_time", 1 << 4), ("user_flags", 1 << 5), ("client_type", 1 << 6),
                  ("transport", 1 << 7))
FILE_FIELDS = (("id", 1 << 0), ("permissions", 1 << 1), ("num_locks", 1 << 2), ("path", 1 << 3),
               ("user", 1 << 4))
CONNECTION_FIELDS = (("id", 1 << 0), ("type", 1 << 1), ("num_opens", 1 << 2), ("num_users", 1 << 3),
                     ("time", 1 << 4), ("user", 1 << 5), ("share", 1 << 6))

# NetrSessionEnum user_flags, NetrFileEnum permissions.
SESS_GUEST = 1
SESS_NOENCRYPTION = 2
PERM_FILE_READ = 1
PERM_FILE_WRITE = 2
PERM_FILE_CREATE = 4


@dataclass(frozen=True)
class Session:
    """One SMB session on a server (NetrSessionEnum)."""
    server: str                       #: the server as it was named to the call
    client: Optional[str] = None      #: the client's computer name or address, without backslashes
    user: Optional[str] = None        #: the user name the session logged on with
    num_opens: Optional[int] = None   #: files, devices and pipes the session holds open
    time: Optional[int] = None        #: seconds the session has existed
    idle_time: Optional[int] = None   #: seconds since the session was last used
    user_flags: Optional[int] = None  #: SESS_GUEST (1), SESS_NOENCRYPTION (2)
    client_type: Optional[str] = None
    transport: Optional[str] = None


@dataclass(frozen=True)
class OpenFile:
    """One open file on a server (NetrFileEnum, NetrFileGetInfo)."""
    server: str
    id: Optional[int] = None           #: the id for file() and close_file()
    path: Optional[str] = None         #: the server's local path, such as "C:\\Shares\\a.txt"
    user: Optional[str] = None         #: who holds it open
    num_locks: Optional[int] = None
    permissions: Optional[int] = None  #: PERM_FILE_READ (1), PERM_FILE_WRITE (2), PERM_FILE_CREATE (4)


@dataclass(frozen=True)
class TreeConnection:
    """One tree connection to a share (NetrConnectionEnum)."""
    server: str
    id: Optional[int] = None
    type: Optional[int] = None
    num_opens: Optional[int] = None
    num_users: Optional[int] = None
    time: Optional[int] = None
    user: Optional[str] = None
    share: Optional[str] = None  #: the share, or the client's name when the qualifier was a share
