"""list_many(): many servers at once on the library's own event loop.

One tevent context drives every connection in the calling thread: each
server is a chain of requests (smbsess_connect_send, then the listing's
_send), and tevent_req_set_callback() hands each finished request back to
Python, which receives its result and sends the next. No threads, no
blocking call per server: N servers cost about the time of the slowest.
"""
from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _native
from .client import (LEVEL_BEST, Credentials, PolicyLike, _b, make_error, make_options, read_files,
                     read_sessions)
from .errors import SmbsessError
from .records import OpenFile, Policy, Session


@dataclass(frozen=True)
class Server:
    """A server for list_many(): its name (the share path and Kerberos use
    it), and optionally a port and an address to connect to instead."""
    name: str
    port: Optional[int] = None
    address: Optional[str] = None

    @classmethod
    def parse(cls, spec: str) -> "Server":
        """``host``, ``host:port``, ``[v6addr]`` or ``[v6addr]:port``; the result's
        name is the host without port or brackets."""
        m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", spec)
        if m:
            return cls(m.group(1), int(m.group(2)) if m.group(2) else None)
        if spec.count(":") == 1:
            host, port = spec.split(":")
            if port.isdigit():
                return cls(host, int(port))
        return cls(spec)


@dataclass(frozen=True)
class ServerResult:
    """What one server answered: ``items`` (Session or OpenFile records),
    or ``error`` when connecting or listing failed."""
    server: str
    items: Tuple[Union[Session, OpenFile], ...] = ()
    error: Optional[SmbsessError] = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _State:
    def __init__(self, index: int, spec: str, server: Server, ctx: int) -> None:
        self.index = index
        self.spec = spec
        self.server = server
        self.ctx = ctx
        self.conn = ctypes.c_void_p()
        self.result: Optional[ServerResult] = None


def list_many(servers: Iterable[Union[str, Server]], credentials: Credentials, what: str = "sessions", *,
              client: Optional[str] = None, user: Optional[str] = None, path: Optional[str] = None,
              port: int = 445, timeout: float = 30, signing: PolicyLike = Policy.AUTO,
              encryption: PolicyLike = Policy.AUTO, dialects: Optional[Tuple[int, int]] = None,
              max_entries: Optional[int] = None, max_bytes: Optional[int] = None,
              page_size: Optional[int] = None, parallel: int = 32) -> List[ServerResult]:
    """Lists the sessions (``what="sessions"``, filtered by ``client`` and
    ``user``) or open files (``what="files"``, filtered by ``path`` and
    ``user``) of every server at once, at most ``parallel`` at a time, and
    returns one ServerResult per server in the order given. One server's
    failure (unreachable, refused, timed out) is its result's ``error`` and
    never stops the others; each server has its own ``timeout`` (seconds, for
    connecting and for each request). Servers are names, ``host:port``
    strings (as smbnet -S) or Server values; ``port`` is the default.
    """
    if what not in ("sessions", "files"):
        raise ValueError(f"what: 'sessions' or 'files', not {what!r}")
    if not isinstance(credentials, Credentials):
        raise TypeError("credentials: a smbsess.Credentials")
    if parallel < 1:
        raise ValueError("parallel: at least 1")
    specs: List[Tuple[str, Server]] = []
    for s in servers:
        if isinstance(s, Server):
            specs.append((s.name if s.port is None else f"{s.name}:{s.port}", s))
        else:
            specs.append((s, Server.parse(s)))
    if not specs:
        return []
    n = _native.native()
    root = n.new_context(b"smbsess.list_many")
    states: List[_State] = []
    by_req: Dict[int, Tuple[_State, Callable[[_State, int], None]]] = {}
    pending = [0]
    failure: List[BaseException] = []

    def finish(st: _State, result: ServerResult) -> None:
        st.result = result
        n.free(st.ctx)   # the connection, its requests and lists
        st.ctx = 0
        pending[0] -= 1
        start_next()

    def fail(st: _State, status: Any, operation: str) -> None:
        finish(st, ServerResult(st.spec, error=make_error(status, operation)))

    def watch(st: _State, req: Optional[int], then: Callable[[_State, int], None], operation: str) -> None:
        if not req:
            finish(st, ServerResult(st.spec, error=_nomem(operation)))
            return
        by_req[req] = (st, then)
        n.tevent.tevent_req_set_callback(req, callback, None)

    def connected(st: _State, req: int) -> None:
        status = n.smbsess_connect_recv(req, st.ctx, ctypes.byref(st.conn))
        n.free(req)
        if not n.smbsess_status_is_ok(status):
            fail(st, status, f"connect to {st.server.name}")
            return
        if what == "sessions":
            nxt = n.smbsess_session_enum_send(st.ctx, ev, st.conn, _b(client), _b(user), LEVEL_BEST)
        else:
            nxt = n.smbsess_file_enum_send(st.ctx, ev, st.conn, _b(path), _b(user), LEVEL_BEST)
        watch(st, nxt, listed, "list " + what)

    def listed(st: _State, req: int) -> None:
        lst = ctypes.c_void_p()
        recv = n.smbsess_session_enum_recv if what == "sessions" else n.smbsess_file_enum_recv
        status = recv(req, st.ctx, ctypes.byref(lst))
        n.free(req)
        if not n.smbsess_status_is_ok(status):
            fail(st, status, "list " + what)
            return
        items: Tuple[Union[Session, OpenFile], ...]
        if what == "sessions":
            items = read_sessions(st.spec, lst)
        else:
            items = read_files(st.spec, lst)
        finish(st, ServerResult(st.spec, items=items))

    def on_done(req: int) -> None:
        # Called by tevent from _tevent_loop_once(), in this thread. An
        # exception cannot cross the C frames: keep it for the loop.
        try:
            st, then = by_req.pop(req)
            then(st, req)
        except BaseException as e:  # noqa: B902 - re-raised by the loop below
            failure.append(e)

    callback = _native.REQ_CALLBACK(on_done)
    todo = list(range(len(specs)))

    def start_next() -> None:
        while todo and pending[0] < parallel:
            i = todo.pop(0)
            spec, server = specs[i]
            st = _State(i, spec, server, n.new_context(b"smbsess.list_many server", root))
            states[i] = st
            pending[0] += 1
            try:
                opts = make_options(st.ctx, server.port or port, server.address, timeout, signing, encryption,
                                    dialects, max_entries, page_size, max_bytes)
            except SmbsessError as e:
                finish(st, ServerResult(spec, error=e))
                continue
            watch(st, n.smbsess_connect_send(st.ctx, ev, _b(server.name), credentials._ptr, opts),
                  connected, f"connect to {server.name}")

    try:
        ev = n.tevent.tevent_context_init(root)
        if not ev:
            raise MemoryError("tevent_context_init failed")
        states = [None] * len(specs)  # type: ignore[list-item]
        start_next()
        while pending[0] > 0 and not failure:
            if n.tevent._tevent_loop_once(ev, b"smbsess.list_many") != 0:
                raise OSError(ctypes.get_errno(), "tevent_loop_once failed")
        if failure:
            raise failure[0]
        return [st.result for st in states]  # type: ignore[misc]
    finally:
        # Frees whatever is still in flight (cancelling it) and the loop.
        n.free(root)


def _nomem(operation: str) -> SmbsessError:
    # A _send function returns NULL only when it cannot allocate.
    return make_error(_native.Status(1, 1), operation)  # SMBSESS_DOMAIN_LIBRARY, SMBSESS_E_NOMEM


__all__: Sequence[str] = ("list_many", "Server", "ServerResult")
