#!/usr/bin/python3
"""Calling libsmbsess from Python with ctypes: no compiler, no binding
generator, just the C ABI. Lists a server's sessions and open files.

    python3 smbsess_ctypes.py [--port N] [--lib PATH] SERVER DOMAIN USER PASSWORD

The library's objects are talloc contexts: one root context is made here,
every object is allocated on it, and freeing it frees them all.
"""
import argparse
import ctypes
import ctypes.util
import sys


class Status(ctypes.Structure):
    """struct smbsess_status, returned by value."""
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_uint32)]


def load(path=None):
    lib = ctypes.CDLL(path or ctypes.util.find_library("smbsess") or "libsmbsess.so.0")
    talloc = ctypes.CDLL(ctypes.util.find_library("talloc") or "libtalloc.so.2")
    vp, sz, u32, u16, cp = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_uint16, ctypes.c_char_p
    sigs = {
        "smbsess_status_is_ok": (ctypes.c_int, [Status]),
        "smbsess_status_name": (cp, [Status]),
        "smbsess_status_message": (cp, [Status]),
        "smbsess_version": (cp, []),
        "smbsess_credentials_new": (Status, [vp, cp, cp, cp, ctypes.POINTER(vp)]),
        "smbsess_options_new": (Status, [vp, ctypes.POINTER(vp)]),
        "smbsess_options_set_port": (Status, [vp, u16]),
        "smbsess_connect": (Status, [vp, cp, vp, vp, ctypes.POINTER(vp)]),
        "smbsess_session_enum": (Status, [vp, vp, cp, cp, u32, ctypes.POINTER(vp)]),
        "smbsess_session_list_count": (sz, [vp]),
        "smbsess_session_list_level": (u32, [vp]),
        "smbsess_session_client": (cp, [vp, sz]),
        "smbsess_session_user": (cp, [vp, sz]),
        "smbsess_session_num_opens": (u32, [vp, sz]),
        "smbsess_session_time": (u32, [vp, sz]),
        "smbsess_session_idle_time": (u32, [vp, sz]),
        "smbsess_file_enum": (Status, [vp, vp, cp, cp, u32, ctypes.POINTER(vp)]),
        "smbsess_file_list_count": (sz, [vp]),
        "smbsess_file_id": (u32, [vp, sz]),
        "smbsess_file_path": (cp, [vp, sz]),
        "smbsess_file_user": (cp, [vp, sz]),
        "smbsess_file_num_locks": (u32, [vp, sz]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    # talloc_new and talloc_free are macros over these two.
    talloc.talloc_named_const.restype, talloc.talloc_named_const.argtypes = vp, [vp, sz, cp]
    talloc._talloc_free.restype, talloc._talloc_free.argtypes = ctypes.c_int, [vp, cp]
    return lib, talloc


class SmbsessError(Exception):
    def __init__(self, lib, what, st):
        super().__init__(f"{what}: {lib.smbsess_status_name(st).decode()}: {lib.smbsess_status_message(st).decode()}")
        self.name = lib.smbsess_status_name(st).decode()


def text(b):
    return b.decode("utf-8") if b is not None else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=445)
    ap.add_argument("--lib")
    ap.add_argument("server")
    ap.add_argument("domain")
    ap.add_argument("user")
    ap.add_argument("password")
    a = ap.parse_args()

    lib, talloc = load(a.lib)
    root = talloc.talloc_named_const(None, 0, b"smbsess_ctypes")

    def ok(what, st):
        if not lib.smbsess_status_is_ok(st):
            raise SmbsessError(lib, what, st)

    try:
        creds, opts, conn, lst = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        ok("credentials", lib.smbsess_credentials_new(root, a.domain.encode(), a.user.encode(),
                                                      a.password.encode(), ctypes.byref(creds)))
        ok("options", lib.smbsess_options_new(root, ctypes.byref(opts)))
        ok("port", lib.smbsess_options_set_port(opts, a.port))
        ok("connect", lib.smbsess_connect(root, a.server.encode(), creds, opts, ctypes.byref(conn)))

        ok("sessions", lib.smbsess_session_enum(root, conn, None, None, 0xFFFFFFFF, ctypes.byref(lst)))
        print(f"# libsmbsess {text(lib.smbsess_version())}: sessions at level {lib.smbsess_session_list_level(lst)}")
        for i in range(lib.smbsess_session_list_count(lst)):
            print("session", text(lib.smbsess_session_client(lst, i)), text(lib.smbsess_session_user(lst, i)),
                  lib.smbsess_session_num_opens(lst, i), lib.smbsess_session_time(lst, i),
                  lib.smbsess_session_idle_time(lst, i), sep="\t")

        ok("files", lib.smbsess_file_enum(root, conn, None, None, 0xFFFFFFFF, ctypes.byref(lst)))
        for i in range(lib.smbsess_file_list_count(lst)):
            print("file", lib.smbsess_file_id(lst, i), text(lib.smbsess_file_path(lst, i)),
                  text(lib.smbsess_file_user(lst, i)), lib.smbsess_file_num_locks(lst, i), sep="\t")
        return 0
    except SmbsessError as e:
        print(f"error: {e}", file=sys.stderr)
        return 5 if e.name.endswith("ACCESS_DENIED") else 1
    finally:
        talloc._talloc_free(root, b"smbsess_ctypes.py")


if __name__ == "__main__":
    sys.exit(main())
