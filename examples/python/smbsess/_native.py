"""The C libraries behind the binding: libsmbsess.so.0 and the talloc and
tevent libraries it is built on, loaded with ctypes.

Where libsmbsess comes from, in this order:
  1. the path in the environment variable SMBSESS_LIBRARY;
  2. what ctypes.util.find_library("smbsess") finds (ldconfig's cache, then
     the compiler's and the linker's search paths and LD_LIBRARY_PATH), when
     that is the SONAME this binding is written for, libsmbsess.so.0;
  3. dlopen("libsmbsess.so.0"): LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib.
Nothing is loaded before the first use (import smbsess does not need it).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any, Dict, List, Optional, Tuple

SONAME = "libsmbsess.so.0"
ENV_VAR = "SMBSESS_LIBRARY"

c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_size_t = ctypes.c_size_t
c_uint32 = ctypes.c_uint32
c_uint16 = ctypes.c_uint16
c_int = ctypes.c_int
PVOID = ctypes.POINTER(ctypes.c_void_p)


class Status(ctypes.Structure):
    """struct smbsess_status: two uint32_t, passed and returned by value."""
    _fields_ = [("domain", c_uint32), ("code", c_uint32)]


# tevent_req_fn: void (*)(struct tevent_req *req)
REQ_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p)

# name: (restype, argtypes). The functions of the SMBSESS_0.1 node, which
# every libsmbsess.so.0 has.
_Table = Dict[str, Tuple[Any, List[Any]]]

_SMBSESS: _Table = {
    "smbsess_version": (c_char_p, []),
    "smbsess_status_is_ok": (c_int, [Status]),
    "smbsess_status_name": (c_char_p, [Status]),
    "smbsess_status_message": (c_char_p, [Status]),
    "smbsess_domain_name": (c_char_p, [c_uint32]),
    "smbsess_status_describe": (c_char_p, [Status, c_char_p, c_size_t]),

    "smbsess_credentials_new": (Status, [c_void_p, c_char_p, c_char_p, c_char_p, PVOID]),
    "smbsess_credentials_new_kerberos": (Status, [c_void_p, c_char_p, PVOID]),
    "smbsess_credentials_set_ccache": (Status, [c_void_p, c_char_p]),
    "smbsess_credentials_set_keytab": (Status, [c_void_p, c_char_p, c_char_p]),
    "smbsess_credentials_set_principal": (Status, [c_void_p, c_char_p]),
    "smbsess_credentials_set_mechs": (Status, [c_void_p, c_int]),

    "smbsess_options_new": (Status, [c_void_p, PVOID]),
    "smbsess_options_set_port": (Status, [c_void_p, c_uint16]),
    "smbsess_options_set_address": (Status, [c_void_p, c_char_p]),
    "smbsess_options_set_timeout": (Status, [c_void_p, c_uint32]),
    "smbsess_options_set_signing": (Status, [c_void_p, c_int]),
    "smbsess_options_set_encryption": (Status, [c_void_p, c_int]),
    "smbsess_options_set_dialects": (Status, [c_void_p, c_uint16, c_uint16]),
    "smbsess_options_set_max_entries": (Status, [c_void_p, c_uint32]),
    "smbsess_options_set_page_size": (Status, [c_void_p, c_uint32]),

    "smbsess_connect": (Status, [c_void_p, c_char_p, c_void_p, c_void_p, PVOID]),
    "smbsess_connect_send": (c_void_p, [c_void_p, c_void_p, c_char_p, c_void_p, c_void_p]),
    "smbsess_connect_recv": (Status, [c_void_p, c_void_p, PVOID]),
    "smbsess_conn_server": (c_char_p, [c_void_p]),
    "smbsess_conn_dialect": (c_uint16, [c_void_p]),
    "smbsess_conn_encrypted": (c_int, [c_void_p]),
    "smbsess_conn_signed": (c_int, [c_void_p]),
    "smbsess_conn_auth": (c_int, [c_void_p]),

    "smbsess_session_enum": (Status, [c_void_p, c_void_p, c_char_p, c_char_p, c_uint32, PVOID]),
    "smbsess_session_enum_send": (c_void_p, [c_void_p, c_void_p, c_void_p, c_char_p, c_char_p, c_uint32]),
    "smbsess_session_enum_recv": (Status, [c_void_p, c_void_p, PVOID]),
    "smbsess_session_list_count": (c_size_t, [c_void_p]),
    "smbsess_session_list_level": (c_uint32, [c_void_p]),
    "smbsess_session_list_fields": (c_uint32, [c_void_p]),
    "smbsess_session_client": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_session_user": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_session_num_opens": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_session_time": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_session_idle_time": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_session_user_flags": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_session_client_type": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_session_transport": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_session_delete": (Status, [c_void_p, c_char_p, c_char_p]),

    "smbsess_file_enum": (Status, [c_void_p, c_void_p, c_char_p, c_char_p, c_uint32, PVOID]),
    "smbsess_file_enum_send": (c_void_p, [c_void_p, c_void_p, c_void_p, c_char_p, c_char_p, c_uint32]),
    "smbsess_file_enum_recv": (Status, [c_void_p, c_void_p, PVOID]),
    "smbsess_file_get_info": (Status, [c_void_p, c_void_p, c_uint32, c_uint32, PVOID]),
    "smbsess_file_list_count": (c_size_t, [c_void_p]),
    "smbsess_file_list_level": (c_uint32, [c_void_p]),
    "smbsess_file_list_fields": (c_uint32, [c_void_p]),
    "smbsess_file_id": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_file_permissions": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_file_num_locks": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_file_path": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_file_user": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_file_close": (Status, [c_void_p, c_uint32]),

    "smbsess_connection_enum": (Status, [c_void_p, c_void_p, c_char_p, c_uint32, PVOID]),
    "smbsess_connection_list_count": (c_size_t, [c_void_p]),
    "smbsess_connection_list_level": (c_uint32, [c_void_p]),
    "smbsess_connection_list_fields": (c_uint32, [c_void_p]),
    "smbsess_connection_id": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_connection_type": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_connection_num_opens": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_connection_num_users": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_connection_time": (c_uint32, [c_void_p, c_size_t]),
    "smbsess_connection_user": (c_char_p, [c_void_p, c_size_t]),
    "smbsess_connection_share": (c_char_p, [c_void_p, c_size_t]),
}

# Functions of later nodes: set up when the loaded library has them.
_SMBSESS_0_2: _Table = {
    "smbsess_options_set_max_bytes": (Status, [c_void_p, ctypes.c_uint64]),  # SMBSESS_0.2
}

# talloc_new() and talloc_free() are macros over these.
_TALLOC: _Table = {
    "talloc_named_const": (c_void_p, [c_void_p, c_size_t, c_char_p]),
    "_talloc_free": (c_int, [c_void_p, c_char_p]),
    "talloc_total_size": (c_size_t, [c_void_p]),
    "talloc_total_blocks": (c_size_t, [c_void_p]),
}

# tevent_loop_once() is a macro over _tevent_loop_once().
_TEVENT: _Table = {
    "tevent_context_init": (c_void_p, [c_void_p]),
    "_tevent_loop_once": (c_int, [c_void_p, c_char_p]),
    "tevent_req_set_callback": (None, [c_void_p, REQ_CALLBACK, c_void_p]),
    "tevent_req_is_in_progress": (ctypes.c_bool, [c_void_p]),
}


class Native:
    """The three loaded libraries with their prototypes set."""

    def __init__(self, path: str) -> None:
        self.path = path
        # RTLD_GLOBAL is not needed: talloc and tevent are looked up by
        # SONAME and are the very objects libsmbsess is linked with.
        self.smbsess = ctypes.CDLL(path)
        self.talloc = ctypes.CDLL("libtalloc.so.2")
        self.tevent = ctypes.CDLL("libtevent.so.0")
        for lib, table in ((self.smbsess, _SMBSESS), (self.talloc, _TALLOC), (self.tevent, _TEVENT)):
            for name, (res, args) in table.items():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = res, args
        for name, (res, args) in _SMBSESS_0_2.items():
            if hasattr(self.smbsess, name):
                fn = getattr(self.smbsess, name)
                fn.restype, fn.argtypes = res, args
        self.version: str = self.smbsess.smbsess_version().decode()

    def __getattr__(self, name: str) -> Any:
        # n.smbsess_connect(...) rather than n.smbsess.smbsess_connect(...)
        if name.startswith("smbsess_"):
            return getattr(self.smbsess, name)
        raise AttributeError(name)

    def optional(self, name: str, since: str) -> Any:
        """A function of a later version node; NotImplementedError when the
        loaded library is older."""
        if name not in _SMBSESS_0_2 or not hasattr(self.smbsess, name):
            raise NotImplementedError(f"{name} needs libsmbsess {since} or later; {self.path} is {self.version}")
        return getattr(self.smbsess, name)

    def new_context(self, name: bytes, parent: Optional[int] = None) -> int:
        ctx = self.talloc.talloc_named_const(parent, 0, name)
        if not ctx:
            raise MemoryError("talloc_named_const failed")
        return int(ctx)

    def free(self, ctx: Optional[int]) -> None:
        if ctx:
            self.talloc._talloc_free(ctx, b"smbsess (Python)")


def library_path() -> str:
    """The file or SONAME that load() opens (see the module's text)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    found = ctypes.util.find_library("smbsess")
    if found and os.path.basename(found) == SONAME:
        return found
    return SONAME


class LibraryNotFound(ImportError):
    """libsmbsess.so.0 (or talloc, tevent) could not be loaded."""


_lock = threading.Lock()
_native: Optional[Native] = None


def native() -> Native:
    """The loaded libraries; loads them on first use."""
    global _native
    if _native is None:
        with _lock:
            if _native is None:
                path = library_path()
                try:
                    _native = Native(path)
                except OSError as e:
                    raise LibraryNotFound(
                        f"cannot load {path} ({e}); install libsmbsess0, or set {ENV_VAR} "
                        f"to the path of libsmbsess.so.0") from e
    return _native
