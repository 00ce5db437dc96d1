"""Errors: every failure of the library is a SmbsessError that carries the
library's status (a domain and a code, with the status's name and message).
Subclasses group the statuses a program is likely to handle apart; a status
that fits none of them is raised as SmbsessError itself.

    try:
        conn.close_file(1234)
    except smbsess.NotFound:
        ...                              # no open file with that id
    except smbsess.AccessDenied as e:
        print(e.name, e.domain_name)     # ERROR_ACCESS_DENIED WERROR
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple, Type

# enum smbsess_domain (include/smbsess/status.h); never renumbered.
DOMAIN_OK = 0
DOMAIN_LIBRARY = 1
DOMAIN_ERRNO = 2
DOMAIN_NTSTATUS = 3
DOMAIN_WERROR = 4
DOMAIN_NDR = 5
DOMAIN_RPC = 6
DOMAIN_GSS = 7
DOMAIN_KRB5 = 8


class SmbsessError(Exception):
    """A failure reported by libsmbsess.

    Attributes: ``name`` (``"STATUS_LOGON_FAILURE"``), ``domain`` (the
    number of enum smbsess_domain), ``domain_name`` (``"NTSTATUS"``),
    ``code`` (the code within the domain), ``message`` (the library's
    sentence for it), ``operation`` (what was being done, such as
    ``"connect to fs1"``).
    """

    def __init__(self, name: str, domain: int, domain_name: str, code: int, message: str,
                 operation: Optional[str] = None) -> None:
        self.name = name
        self.domain = domain
        self.domain_name = domain_name
        self.code = code
        self.message = message
        self.operation = operation
        super().__init__(name, domain, domain_name, code, message, operation)

    def __str__(self) -> str:
        code = str(self.code) if self.domain == DOMAIN_ERRNO else "0x%08X" % self.code
        text = f"{self.name} ({self.domain_name} {code}): {self.message}"
        return f"{self.operation}: {text}" if self.operation else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, domain={self.domain}, code={self.code:#x})"


class AccessDenied(SmbsessError):
    """The server refused the operation to this user (administrative rights,
    a privilege or root are needed)."""


class NotFound(SmbsessError):
    """No such open file, session, client, user or share."""


class AuthError(SmbsessError):
    """Logon failed: a wrong password, an unknown or disabled account, or a
    Kerberos failure (no ticket, an unknown SPN, an unreachable KDC, ...)."""


class Timeout(SmbsessError):
    """The server (or the KDC) did not answer within the timeout."""


class ConnectError(SmbsessError):
    """The server could not be reached, or the connection was lost: an
    unknown name, a refused or reset connection, a session the server ended."""


class ProtocolError(SmbsessError):
    """The server's answer broke the protocol, failed its integrity check,
    or could not be decoded."""


class NotSupported(SmbsessError):
    """The server (or the library) does not support what was asked: an
    information level, an operation, signing or encryption."""


class LimitExceeded(SmbsessError):
    """A configured limit was reached, such as max_entries."""


class InvalidArgument(SmbsessError, ValueError):
    """The library rejected an argument (a port of 0, an empty name, ...)."""


# (domain, name) -> class. Names are the library's (smbsess_status_name()),
# which are never renamed; a code the library cannot name falls back on its
# domain below.
_BY_NAME: Dict[Tuple[int, str], Type[SmbsessError]] = {}


def _add(cls: Type[SmbsessError], domain: int, *names: str) -> None:
    for n in names:
        _BY_NAME[(domain, n)] = cls


_add(AccessDenied, DOMAIN_NTSTATUS, "STATUS_ACCESS_DENIED", "STATUS_NETWORK_ACCESS_DENIED",
     "STATUS_PRIVILEGE_NOT_HELD")
_add(AccessDenied, DOMAIN_WERROR, "ERROR_ACCESS_DENIED")
_add(AccessDenied, DOMAIN_RPC, "nca_s_fault_access_denied")
_add(AccessDenied, DOMAIN_ERRNO, "EACCES", "EPERM")

_add(NotFound, DOMAIN_WERROR, "NERR_FileIdNotFound", "NERR_ClientNameNotFound", "NERR_UserNotFound",
     "NERR_NetNameNotFound", "ERROR_FILE_NOT_FOUND", "ERROR_PATH_NOT_FOUND", "ERROR_NOT_FOUND",
     "ERROR_BAD_NETPATH", "ERROR_BAD_NET_NAME")
_add(NotFound, DOMAIN_NTSTATUS, "STATUS_NOT_FOUND", "STATUS_BAD_NETWORK_NAME", "STATUS_NO_SUCH_FILE",
     "STATUS_OBJECT_PATH_NOT_FOUND")
_add(NotFound, DOMAIN_ERRNO, "ENOENT")

_add(AuthError, DOMAIN_LIBRARY, "SMBSESS_E_AUTH", "SMBSESS_E_KERBEROS_REFUSED")
_add(AuthError, DOMAIN_NTSTATUS, "STATUS_LOGON_FAILURE", "STATUS_WRONG_PASSWORD", "STATUS_NO_SUCH_USER",
     "STATUS_ACCOUNT_RESTRICTION", "STATUS_INVALID_LOGON_HOURS", "STATUS_INVALID_WORKSTATION",
     "STATUS_PASSWORD_EXPIRED", "STATUS_ACCOUNT_DISABLED", "STATUS_PASSWORD_MUST_CHANGE",
     "STATUS_ACCOUNT_LOCKED_OUT", "STATUS_LOGON_TYPE_NOT_GRANTED", "STATUS_NO_LOGON_SERVERS",
     "STATUS_NO_SUCH_LOGON_SESSION", "STATUS_TRUSTED_RELATIONSHIP_FAILURE",
     "STATUS_TIME_DIFFERENCE_AT_DC", "STATUS_MORE_PROCESSING_REQUIRED")

_add(Timeout, DOMAIN_LIBRARY, "SMBSESS_E_TIMEOUT")
_add(Timeout, DOMAIN_NTSTATUS, "STATUS_IO_TIMEOUT")
_add(Timeout, DOMAIN_ERRNO, "ETIMEDOUT")

_add(ConnectError, DOMAIN_LIBRARY, "SMBSESS_E_HOST_NOT_FOUND", "SMBSESS_E_DISCONNECTED")
_add(ConnectError, DOMAIN_ERRNO, "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EHOSTUNREACH",
     "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "EPIPE", "EADDRNOTAVAIL", "ENOTCONN")
_add(ConnectError, DOMAIN_NTSTATUS, "STATUS_CONNECTION_DISCONNECTED", "STATUS_CONNECTION_RESET",
     "STATUS_CONNECTION_REFUSED", "STATUS_REMOTE_DISCONNECT", "STATUS_NETWORK_UNREACHABLE",
     "STATUS_HOST_UNREACHABLE", "STATUS_USER_SESSION_DELETED", "STATUS_NETWORK_SESSION_EXPIRED",
     "STATUS_NETWORK_NAME_DELETED", "STATUS_REQUEST_NOT_ACCEPTED", "STATUS_PIPE_DISCONNECTED",
     "STATUS_PIPE_BROKEN", "STATUS_PIPE_CLOSING")
_add(ConnectError, DOMAIN_WERROR, "RPC_S_SERVER_UNAVAILABLE")

_add(ProtocolError, DOMAIN_LIBRARY, "SMBSESS_E_PROTOCOL", "SMBSESS_E_BAD_SIGNATURE",
     "SMBSESS_E_NO_PROGRESS", "SMBSESS_E_BIND_REJECTED")
_add(ProtocolError, DOMAIN_NTSTATUS, "STATUS_INVALID_SIGNATURE", "STATUS_INVALID_NETWORK_RESPONSE",
     "STATUS_DOWNGRADE_DETECTED")

_add(NotSupported, DOMAIN_LIBRARY, "SMBSESS_E_NOT_SUPPORTED")
_add(NotSupported, DOMAIN_WERROR, "ERROR_INVALID_LEVEL", "ERROR_NOT_SUPPORTED", "ERROR_CALL_NOT_IMPLEMENTED",
     "ERROR_INVALID_FUNCTION")
_add(NotSupported, DOMAIN_NTSTATUS, "STATUS_NOT_SUPPORTED", "STATUS_NOT_IMPLEMENTED",
     "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP")
_add(NotSupported, DOMAIN_RPC, "nca_s_op_rng_error", "nca_s_unk_if")

_add(LimitExceeded, DOMAIN_LIBRARY, "SMBSESS_E_LIMIT")
# The decoder's caps come from max_entries and the library's memory limit.
_add(LimitExceeded, DOMAIN_NDR, "NDR_E_TOO_MANY", "NDR_E_ALLOC_LIMIT")
_add(InvalidArgument, DOMAIN_LIBRARY, "SMBSESS_E_INVALID_ARGUMENT")

# Whole domains: a malformed answer is a protocol error, any Kerberos or
# GSS-API failure an authentication error, an unnamed DCE/RPC fault a protocol error.
_BY_DOMAIN: Dict[int, Type[SmbsessError]] = {
    DOMAIN_NDR: ProtocolError,
    DOMAIN_RPC: ProtocolError,
    DOMAIN_GSS: AuthError,
    DOMAIN_KRB5: AuthError,
}


def error_class(domain: int, name: str) -> Type[SmbsessError]:
    """The class raised for a status (the most specific that fits)."""
    return _BY_NAME.get((domain, name)) or _BY_DOMAIN.get(domain) or SmbsessError
