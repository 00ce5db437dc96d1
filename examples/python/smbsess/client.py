"""Credentials and the blocking Connection.

Every object of the C library lives in a talloc context that a Python
object owns: Credentials and Connection each have their own, freed by
close() or when the object is collected. A result list is copied into
dataclasses at once and its C memory freed before the call returns.
"""
from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any, Callable, Iterable, List, Optional, Tuple, TypeVar, Union

from . import _native
from .errors import SmbsessError, error_class
from .records import (CONNECTION_FIELDS, FILE_FIELDS, SESSION_FIELDS, Auth, Dialect, OpenFile,
                      Policy, Session, TreeConnection)

LEVEL_BEST = 0xFFFFFFFF

# enum smbsess_mechs
MECHS_NTLM_ONLY = 0
MECHS_KERBEROS_THEN_NTLM = 1
MECHS_KERBEROS_ONLY = 2
MECHS_NTLM_THEN_KERBEROS = 3

PolicyLike = Union[Policy, int, str]
T = TypeVar("T")


def _b(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else s.encode("utf-8")


def _s(b: Optional[bytes]) -> Optional[str]:
    # Names come from the server as UTF-16 and leave the library as UTF-8;
    # "surrogateescape" keeps any byte the library let through, visibly.
    return None if b is None else b.decode("utf-8", "surrogateescape")


def raise_status(st: Any, operation: Optional[str] = None) -> None:
    """Raises the SmbsessError subclass for a struct smbsess_status unless it is success."""
    n = _native.native()
    if n.smbsess_status_is_ok(st):
        return
    raise make_error(st, operation)


def make_error(st: Any, operation: Optional[str] = None) -> SmbsessError:
    n = _native.native()
    name = n.smbsess_status_name(st).decode()
    domain_name = n.smbsess_domain_name(st.domain).decode()
    message = n.smbsess_status_message(st).decode()
    return error_class(st.domain, name)(name, st.domain, domain_name, st.code, message, operation)


def _policy(p: PolicyLike, what: str) -> int:
    if isinstance(p, str):
        try:
            return Policy[p.upper()].value
        except KeyError:
            raise ValueError(f"{what}: one of auto, required, off, not {p!r}") from None
    return int(Policy(p))


class _Owned:
    """A talloc context owned by a Python object, freed once."""

    live: "weakref.WeakSet[_Owned]" = weakref.WeakSet()

    def __init__(self, name: bytes) -> None:
        n = _native.native()
        self._ctx = n.new_context(name)
        self._finalizer = weakref.finalize(self, n.free, self._ctx)
        _Owned.live.add(self)

    def _release(self) -> None:
        self._finalizer()

    def _talloc_size(self) -> Tuple[int, int]:
        if not self._finalizer.alive:
            return 0, 0
        t = _native.native().talloc
        return t.talloc_total_blocks(self._ctx), t.talloc_total_size(self._ctx)


class Credentials(_Owned):
    """Who to log on as. Made by Credentials.password(), .kerberos() or .keytab()."""

    kind: str
    _ptr: ctypes.c_void_p

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use Credentials.password(), Credentials.kerberos() or Credentials.keytab()")

    @classmethod
    def _new(cls, kind: str, make: Callable[["Credentials", Any], Any]) -> "Credentials":
        self = cls.__new__(cls)
        _Owned.__init__(self, b"smbsess.Credentials")
        self.kind = kind
        out = ctypes.c_void_p()
        try:
            make(self, out)
        except BaseException:
            self._release()
            raise
        self._ptr = out
        return self

    @classmethod
    def password(cls, user: str, password: str, domain: Optional[str] = None) -> "Credentials":
        """NTLM with a user name and password. ``domain`` defaults to the part
        before a backslash in ``user`` (``"EXAMPLE\\\\admin"``), else none."""
        if domain is None and "\\" in user:
            domain, user = user.split("\\", 1)

        def make(self: Credentials, out: Any) -> None:
            n = _native.native()
            raise_status(n.smbsess_credentials_new(self._ctx, _b(domain or ""), _b(user), _b(password),
                                                   ctypes.byref(out)), "credentials")
        return cls._new("password", make)

    @classmethod
    def kerberos(cls, ccache: Optional[str] = None) -> "Credentials":
        """Kerberos with the tickets of a credentials cache (``"FILE:/tmp/krb5cc_0"``),
        or of the default one (KRB5CCNAME) when None. NTLM is not used."""
        def make(self: Credentials, out: Any) -> None:
            n = _native.native()
            raise_status(n.smbsess_credentials_new_kerberos(self._ctx, _b(ccache), ctypes.byref(out)),
                         "Kerberos credentials")
        return cls._new("kerberos", make)

    @classmethod
    def keytab(cls, path: str, principal: Optional[str] = None) -> "Credentials":
        """Kerberos from a client keytab as ``principal`` (``"user@REALM"``; None:
        the keytab's first). Tickets go to a memory cache of this process."""
        def make(self: Credentials, out: Any) -> None:
            n = _native.native()
            raise_status(n.smbsess_credentials_new_kerberos(self._ctx, None, ctypes.byref(out)),
                         "Kerberos credentials")
            raise_status(n.smbsess_credentials_set_keytab(out, _b(path), _b(principal)), "keytab")
        return cls._new("keytab", make)

    def __repr__(self) -> str:
        return f"<smbsess.Credentials {self.kind}>"


def make_options(ctx: int, port: int, address: Optional[str], timeout: float, signing: PolicyLike,
                 encryption: PolicyLike, dialects: Optional[Tuple[int, int]],
                 max_entries: Optional[int], page_size: Optional[int],
                 max_bytes: Optional[int] = None) -> ctypes.c_void_p:
    """struct smbsess_options on ctx with these values."""
    n = _native.native()
    opts = ctypes.c_void_p()
    raise_status(n.smbsess_options_new(ctx, ctypes.byref(opts)), "options")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port: 1 to 65535, not {port!r}")
    raise_status(n.smbsess_options_set_port(opts, port), "port")
    if address is not None:
        raise_status(n.smbsess_options_set_address(opts, _b(address)), "address")
    ms = round(timeout * 1000)
    if not 0 < ms <= 0xFFFFFFFF:
        raise ValueError(f"timeout: seconds > 0, not {timeout!r}")
    raise_status(n.smbsess_options_set_timeout(opts, ms), "timeout")
    raise_status(n.smbsess_options_set_signing(opts, _policy(signing, "signing")), "signing")
    raise_status(n.smbsess_options_set_encryption(opts, _policy(encryption, "encryption")), "encryption")
    if dialects is not None:
        raise_status(n.smbsess_options_set_dialects(opts, int(dialects[0]), int(dialects[1])), "dialects")
    if max_entries is not None:
        raise_status(n.smbsess_options_set_max_entries(opts, max_entries), "max_entries")
    if page_size is not None:
        raise_status(n.smbsess_options_set_page_size(opts, page_size), "page_size")
    if max_bytes is not None:
        if not isinstance(max_bytes, int) or not 0 <= max_bytes < 1 << 64:
            raise ValueError(f"max_bytes: a byte count, not {max_bytes!r}")
        raise_status(n.optional("smbsess_options_set_max_bytes", "0.2")(opts, max_bytes), "max_bytes")
    return opts


def _fields(mask: int, table: Iterable[Tuple[str, int]]) -> List[str]:
    return [name for name, bit in table if mask & bit]


def read_sessions(server: str, lst: Any) -> Tuple[Session, ...]:
    n = _native.native()
    have = _fields(n.smbsess_session_list_fields(lst), SESSION_FIELDS)
    get = {"client": n.smbsess_session_client, "user": n.smbsess_session_user,
           "num_opens": n.smbsess_session_num_opens, "time": n.smbsess_session_time,
           "idle_time": n.smbsess_session_idle_time, "user_flags": n.smbsess_session_user_flags,
           "client_type": n.smbsess_session_client_type, "transport": n.smbsess_session_transport}
    return tuple(Session(server, **{f: _value(get[f](lst, i)) for f in have})
                 for i in range(n.smbsess_session_list_count(lst)))


def read_files(server: str, lst: Any) -> Tuple[OpenFile, ...]:
    n = _native.native()
    have = _fields(n.smbsess_file_list_fields(lst), FILE_FIELDS)
    get = {"id": n.smbsess_file_id, "permissions": n.smbsess_file_permissions,
           "num_locks": n.smbsess_file_num_locks, "path": n.smbsess_file_path, "user": n.smbsess_file_user}
    return tuple(OpenFile(server, **{f: _value(get[f](lst, i)) for f in have})
                 for i in range(n.smbsess_file_list_count(lst)))


def read_connections(server: str, lst: Any) -> Tuple[TreeConnection, ...]:
    n = _native.native()
    have = _fields(n.smbsess_connection_list_fields(lst), CONNECTION_FIELDS)
    get = {"id": n.smbsess_connection_id, "type": n.smbsess_connection_type,
           "num_opens": n.smbsess_connection_num_opens, "num_users": n.smbsess_connection_num_users,
           "time": n.smbsess_connection_time, "user": n.smbsess_connection_user,
           "share": n.smbsess_connection_share}
    return tuple(TreeConnection(server, **{f: _value(get[f](lst, i)) for f in have})
                 for i in range(n.smbsess_connection_list_count(lst)))


def _value(v: Any) -> Any:
    return _s(v) if isinstance(v, bytes) else v


def _file_id(file_id: int) -> int:
    if not isinstance(file_id, int) or not 0 <= file_id <= 0xFFFFFFFF:
        raise ValueError(f"file id: an integer from 0 to 4294967295, not {file_id!r}")
    return file_id


class Connection(_Owned):
    """An authenticated connection to one server with its srvsvc pipe bound.

    Connects when made; use it as a context manager, or call close().
    Blocking: each call runs the library's own event loop until it is done
    (other Python threads run meanwhile). One call at a time per connection;
    calls from several threads are serialised.

    ``server`` is the name for the share path and for Kerberos (the SPN is
    ``cifs/<server>``); ``address`` connects elsewhere (an address or another
    name). ``timeout`` in seconds applies to connecting and to each request.
    ``signing`` and ``encryption``: Policy.AUTO, .REQUIRED or .OFF (also as
    strings). ``dialects``: (min, max) of Dialect. ``max_entries``: most
    entries one listing may collect before LimitExceeded; ``max_bytes``:
    most memory one listing may hold (libsmbsess 0.2; default 512 MiB).
    ``page_size``: bytes per answer asked of the server (default: everything
    at once).
    """

    def __init__(self, server: str, credentials: Credentials, port: int = 445, address: Optional[str] = None,
                 timeout: float = 30, signing: PolicyLike = Policy.AUTO, encryption: PolicyLike = Policy.AUTO,
                 *, dialects: Optional[Tuple[int, int]] = None, max_entries: Optional[int] = None,
                 max_bytes: Optional[int] = None, page_size: Optional[int] = None) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials: a smbsess.Credentials")
        super().__init__(b"smbsess.Connection")
        self.server = server
        self._lock = threading.Lock()
        n = _native.native()
        try:
            opts = make_options(self._ctx, port, address, timeout, signing, encryption, dialects,
                                max_entries, page_size, max_bytes)
            conn = ctypes.c_void_p()
            raise_status(n.smbsess_connect(self._ctx, _b(server), credentials._ptr, opts, ctypes.byref(conn)),
                         f"connect to {server}")
        except BaseException:
            self._release()
            raise
        self._conn = conn
        # The options were copied by the connection.
        n.free(opts.value)

    # -- lifetime

    def close(self) -> None:
        """Disconnects (logs off and closes the TCP connection). Idempotent."""
        with self._lock:
            self._release()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"SMB {self.dialect}, {self.auth.name.lower()}"
        return f"<smbsess.Connection {self.server} {state}>"

    def _live(self) -> Any:
        if self.closed:
            raise ValueError("the connection is closed")
        return self._conn

    def _do(self, operation: str, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            raise_status(fn(self._live(), *args), operation)

    def _list(self, operation: str, fn: Callable[..., Any], args: Tuple[Any, ...],
              reader: Callable[[str, Any], T]) -> T:
        n = _native.native()
        with self._lock:
            conn = self._live()
            tmp = n.new_context(b"smbsess.Connection call")
            try:
                lst = ctypes.c_void_p()
                raise_status(fn(tmp, conn, *args, ctypes.byref(lst)), operation)
                return reader(self.server, lst)
            finally:
                n.free(tmp)

    # -- what the connection is

    @property
    def dialect(self) -> Dialect:
        return Dialect(_native.native().smbsess_conn_dialect(self._live()))

    @property
    def signed(self) -> bool:
        return bool(_native.native().smbsess_conn_signed(self._live()))

    @property
    def encrypted(self) -> bool:
        return bool(_native.native().smbsess_conn_encrypted(self._live()))

    @property
    def auth(self) -> Auth:
        return Auth(_native.native().smbsess_conn_auth(self._live()))

    # -- the calls

    def sessions(self, client: Optional[str] = None, user: Optional[str] = None) -> Tuple[Session, ...]:
        """The server's sessions, those of ``client`` (a computer name or
        address, with or without ``\\\\``) and/or ``user`` when given."""
        n = _native.native()
        return self._list("list sessions", n.smbsess_session_enum, (_b(client), _b(user), LEVEL_BEST),
                          read_sessions)

    def files(self, path: Optional[str] = None, user: Optional[str] = None) -> Tuple[OpenFile, ...]:
        """The server's open files, those under the path prefix ``path``
        and/or of ``user`` when given."""
        n = _native.native()
        return self._list("list open files", n.smbsess_file_enum, (_b(path), _b(user), LEVEL_BEST),
                          read_files)

    def connections(self, qualifier: str) -> Tuple[TreeConnection, ...]:
        """Tree connections to the share ``qualifier``, or from the computer
        ``qualifier`` when it starts with two backslashes."""
        n = _native.native()
        return self._list("list connections", n.smbsess_connection_enum, (_b(qualifier), LEVEL_BEST),
                          read_connections)

    def file(self, id: int) -> OpenFile:
        """The open file with this id. NotFound when there is none."""
        n = _native.native()
        found = self._list(f"open file {id}", n.smbsess_file_get_info, (_file_id(id), LEVEL_BEST), read_files)
        return found[0]

    def close_file(self, id: int) -> None:
        """Closes the open file with this id on the server; its holder loses
        the handle. NotFound when there is none."""
        n = _native.native()
        self._do(f"close file {id}", n.smbsess_file_close, _file_id(id))

    def delete_sessions(self, client: Optional[str] = None, user: Optional[str] = None) -> None:
        """Ends the sessions of ``client`` and/or ``user``; with neither, every
        session of the server, this connection's own too."""
        n = _native.native()
        self._do("end sessions", n.smbsess_session_delete, _b(client), _b(user))
