#!/usr/bin/python3
"""A Windows-shaped SMB2 + srvsvc test server built on impacket's.

impacket's SimpleSMBServer (SMB 2.0.2, NTLM, signing) serves the SMB side.
Its srvsvc pipe answers share calls only; this server adds the session and
file calls of MS-SRVS (opnums 8-13: NetrConnectionEnum, NetrFileEnum,
NetrFileGetInfo, NetrFileClose, NetrSessionEnum, NetrSessionDel) and
answers them the way Windows does: every information level (sessions 0, 1,
2, 10, 502; files 2, 3), server-side filters, paging by
PreferedMaximumLength with ERROR_MORE_DATA and resume handles (optionally
by the server's own limit when the client asks for everything), client
names with leading backslashes, Windows error codes. Every answer is
encoded by impacket's own NDR types (impacket.dcerpc.v5.srvs): none of
libsmbsess's code is involved.

What it lists comes from a state the test controls (sessions, open files,
tree connections; loaded through a control socket) plus, when `live` is on,
the real SMB sessions on this server and the files and pipes they hold
open. NetrFileClose and NetrSessionDel change that state (and close real
handles / drop real connections), so a test reads the effect on the
server's side, not through the client it tests.

impacket 0.10 defects fixed here, in this process only (see
tests/harness/README.md and /work/shared/guides/TESTENV.md):
  - DCERPCServer serves one pipe client at a time, fragments only when the
    callback returns bytes, writes the whole answer's length into every
    fragment's frag_length (broken past 64 KiB), answers unknown opnums
    with a short fault PDU, and swallows exceptions in callbacks. Replaced
    by RpcServer: a thread per pipe client, fragments of the negotiated
    max_xmit_frag each with its own frag_length and alloc_hint, 32-byte
    fault PDUs (nca_s_op_rng_error for unknown opnums), and every callback
    exception logged with its traceback and recorded (the test fails on it).
  - Its SMB2 pipe READ and FSCTL_PIPE_TRANSCEIVE return whatever bytes the
    socket has (a byte stream) and block forever on an empty pipe. Here a
    pipe is in message mode as on Windows: one DCE/RPC fragment per READ or
    IOCTL; a fragment larger than the request's buffer gives
    STATUS_BUFFER_OVERFLOW with the first part and the rest on the next
    READ; an empty pipe waits at most `pipe_wait` seconds, then answers
    STATUS_PIPE_EMPTY (Windows would pend; nothing blocks forever).
  - It never checks the signatures of what clients send: every SMB2 request
    after the session setup is checked here (HMAC-SHA256, Python's hmac)
    and counted; a badly signed request ends the connection (an unsigned
    one too under require_signing).
  - Compounded requests: a related operation gets its TreeId from its own
    header (after a TREE_CONNECT in the same chain: STATUS_SMB_BAD_TID) and
    every answer of a chain is signed before its NextCommand is set (all
    those signatures are wrong). Here related operations take the TreeId and
    FileId of the one before, and each answer is padded, chained, then
    signed ([MS-SMB2] 3.3.5.2.7, 3.3.4.1.1).

Command line (Debian's /usr/bin/python3, which has impacket):

    winserver.py [--address A] [--port P] [--dir D] [--user name:pw[:admin]]...
                 [--share NAME]... [--state FILE] [--signing enabled|required]
                 [--plain] [--stdin] [--max-seconds N] [--log FILE]

prints ADDRESS=, PORT=, CONTROL=, DIR=, LOG=, SHARE_<NAME>= and READY, and
runs until SIGTERM/SIGINT, end of stdin (--stdin) or --max-seconds.
--plain leaves impacket's own srvsvc and pipe code as they are (to show
what an unfixed impacket server answers); its SMB side is fixed as above.

From Python: `WinServer(tmpdir, users=..., state=...)` (a context manager)
starts one and offers load(), state(), stats(), options(), stop(); see
tests/harness/README.md.
"""
import argparse
import atexit
import hashlib
import hmac
import json
import logging
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))

# MS-ERREF values the server answers with.
NERR_SUCCESS = 0
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_PARAMETER = 87
ERROR_INVALID_LEVEL = 124
ERROR_MORE_DATA = 234
NERR_USER_NOT_FOUND = 2221
NERR_NET_NAME_NOT_FOUND = 2310
NERR_CLIENT_NAME_NOT_FOUND = 2312
NERR_FILE_ID_NOT_FOUND = 2314
MAX_PREFERRED_LENGTH = 0xFFFFFFFF

# DCE/RPC ([C706] 12.6) and NT status values.
NCA_S_OP_RNG_ERROR = 0x1C010002
RPC_S_CALL_FAILED = 0x000006BE
RPC_X_BAD_STUB_DATA = 0x000006F7
PFC_FIRST_FRAG, PFC_LAST_FRAG = 0x01, 0x02
PTYPE_REQUEST, PTYPE_RESPONSE, PTYPE_FAULT, PTYPE_BIND, PTYPE_BIND_ACK = 0, 2, 3, 11, 12
STATUS_SUCCESS = 0
STATUS_BUFFER_OVERFLOW = 0x80000005
STATUS_PIPE_EMPTY = 0xC00000D9
STATUS_INVALID_HANDLE = 0xC0000008
STATUS_ACCESS_DENIED = 0xC0000022
FSCTL_PIPE_TRANSCEIVE = 0x0011C017
SMB2_NEGOTIATE, SMB2_SESSION_SETUP, SMB2_CANCEL = 0, 1, 12
SMB2_FLAGS_SIGNED = 0x00000008
SESSION_LEVELS = (0, 1, 2, 10, 502)
FILE_LEVELS = (2, 3)
CONN_LEVELS = (0, 1)
LIVE_FILE_ID_BASE = 0x00F00000   # ids of real open files: state file ids must stay clear of it
SRVSVC_UUID = ('4B324FC8-1670-01D3-1278-5A47BF6EE188', '3.0')


def _utf16_units(s):
    return len(s.encode('utf-16-le')) // 2


def _strip_unc(name):
    while name.startswith('\\'):
        name = name[1:]
    return name


# ===========================================================================
# the state: what the server lists
# ===========================================================================

class StateError(Exception):
    pass


class State:
    """Sessions, open files and tree connections the test defined, plus the
    real SMB connections of this server when `live` is on. One lock guards
    everything; the RPC threads and the control socket take it.

    A state session: {"id": int, "client": "10.0.0.5" | "[fd00::5]" | "WS1",
      "user": str, "time": s, "idle_time": s, "user_flags": int,
      "client_type": str, "transport": str, "shares": [share names]}
    A state file: {"id": u32 != 0, "session": session id, "share": str,
      "path": str, "permissions": int, "num_locks": int}
    Sessions are listed in list order, files by id; a session's num_opens is
    its number of files; a file's user is its session's user.
    """

    OPTION_DEFAULTS = {
        'own_limit': 0,         # bytes; > 0: pages of at most this even when the client asks for everything
        'live': True,           # list the real connections too
        'levels_sessions': list(SESSION_LEVELS),   # levels answered; others: ERROR_INVALID_LEVEL
        'levels_files': list(FILE_LEVELS),
        'pipe_wait': 5.0,       # seconds an empty-pipe READ waits for a message
        'max_xmit_frag': 4280,  # the largest fragment this server sends (the bind_ack's max_xmit_frag)
        'require_signing': False,   # NEGOTIATE says SIGNING_REQUIRED; unsigned requests end the connection
    }

    def __init__(self, smb=None):
        self.lock = threading.RLock()
        self.smb = smb          # the SMB side (SmbSide) for live entries, or None
        self.sessions = []
        self.files = {}         # id -> file
        self.options = dict(self.OPTION_DEFAULTS)
        self.admins = set()     # lower-case user names with admin rights
        self.calls = []         # one record per srvsvc call
        self.errors = []        # tracebacks of callback failures
        self.rpc_stats = {'fragments': 0, 'max_frag': 0, 'reads': 0, 'read_overflows': 0,
                          'transceives': 0, 'transceive_overflows': 0, 'empty_reads': 0, 'pipe_clients': 0}

    # ---- loading and showing ----
    def load(self, data):
        sessions, files = data.get('sessions', []), data.get('files', [])
        ids = set()
        for s in sessions:
            for k in ('id', 'client', 'user'):
                if k not in s:
                    raise StateError('session without %s: %r' % (k, s))
            if s['id'] in ids:
                raise StateError('duplicate session id %r' % s['id'])
            ids.add(s['id'])
        byid = {}
        for f in files:
            fid = f.get('id')
            if not isinstance(fid, int) or not 0 < fid <= 0xFFFFFFFF:
                raise StateError('file id must be 1..2^32-1: %r' % f)
            if LIVE_FILE_ID_BASE <= fid < LIVE_FILE_ID_BASE + 0x100000:
                raise StateError('file id %#x is in the range of real open files' % fid)
            if fid in byid:
                raise StateError('duplicate file id %#x' % fid)
            if f.get('session') not in ids:
                raise StateError('file %#x: no session %r' % (fid, f.get('session')))
            byid[fid] = f
        with self.lock:
            self.sessions = [dict(DEFAULT_SESSION, **s) for s in sessions]
            self.files = {fid: dict(DEFAULT_FILE, **f) for fid, f in byid.items()}
            if 'options' in data:
                self.set_options(data['options'])

    def set_options(self, opts):
        with self.lock:
            for k, v in opts.items():
                if k not in self.OPTION_DEFAULTS:
                    raise StateError('unknown option %r' % k)
                self.options[k] = v

    def snapshot(self):
        """The state as the server sees it now, state and live entries."""
        with self.lock:
            sess, files = self.view()
            return {'sessions': sess, 'files': files, 'options': dict(self.options),
                    'admins': sorted(self.admins)}

    def stats(self):
        with self.lock:
            return {'calls': list(self.calls), 'errors': list(self.errors), 'rpc': dict(self.rpc_stats),
                    'connections': self.smb.connection_stats() if self.smb else []}

    def reset_stats(self):
        with self.lock:
            self.calls.clear()
            self.errors.clear()
            for k in self.rpc_stats:
                self.rpc_stats[k] = 0
            if self.smb:
                self.smb.reset_stats()

    # ---- the combined view ----
    def view(self):
        """(sessions, files): the state's and, with `live`, the real ones.
        Each session gets num_opens; each file gets user and client."""
        sessions = []
        by_session = {}
        for f in self.files.values():
            by_session.setdefault(f['session'], []).append(f)
        for s in self.sessions:
            e = dict(s)
            e['num_opens'] = len(by_session.get(s['id'], []))
            e['live'] = False
            sessions.append(e)
        users = {s['id']: s for s in self.sessions}
        files = []
        for f in self.files.values():
            e = dict(f)
            e['user'] = users[f['session']]['user']
            e['client'] = users[f['session']]['client']
            e['live'] = False
            files.append(e)
        if self.options['live'] and self.smb is not None:
            ls, lf = self.smb.live_view()
            sessions += ls
            files += lf
        files.sort(key=lambda f: f['id'])
        return sessions, files

    def is_admin(self, user):
        return user is not None and user.lower() in self.admins

    def record_call(self, **kw):
        with self.lock:
            if len(self.calls) < 100000:
                self.calls.append(kw)

    def record_error(self, text):
        with self.lock:
            self.errors.append(text)
        logging.error('%s', text)

    def count(self, key, n=1):
        with self.lock:
            self.rpc_stats[key] += n

    def note_frag(self, length):
        with self.lock:
            self.rpc_stats['fragments'] += 1
            self.rpc_stats['max_frag'] = max(self.rpc_stats['max_frag'], length)

    # ---- changes made by NetrFileClose / NetrSessionDel ----
    def close_file(self, fid):
        """True if a file with that id was open (state or live) and is closed now."""
        with self.lock:
            if fid in self.files:
                del self.files[fid]
                return True
        return self.smb.close_live_file(fid) if (self.smb and self.options['live']) else False

    def delete_sessions(self, matches, own_conn):
        """Ends the sessions of the view that `matches` accepts; returns how many."""
        with self.lock:
            n = 0
            keep = []
            for s in self.sessions:
                if matches(s):
                    n += 1
                    for fid in [f for f, x in self.files.items() if x['session'] == s['id']]:
                        del self.files[fid]
                else:
                    keep.append(s)
            self.sessions = keep
        if self.smb and self.options['live']:
            n += self.smb.drop_live_sessions(matches, own_conn)
        return n


DEFAULT_SESSION = {'time': 0, 'idle_time': 0, 'user_flags': 0, 'client_type': '', 'transport': '', 'shares': []}
DEFAULT_FILE = {'permissions': 1, 'num_locks': 0, 'share': ''}


# ===========================================================================
# the SMB side: impacket's SimpleSMBServer with message-mode pipes,
# signature checks and a registry of live connections
# ===========================================================================

class PipeMessages:
    """Message-mode reading of one pipe: the socket to the RPC server carries
    whole DCE/RPC fragments; each READ/IOCTL returns (part of) one."""

    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()
        self.rest = b''        # the unread part of the current message
        self.buf = b''         # bytes read past the current message

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('pipe closed by the RPC server')
            self.buf += chunk
        return True

    def read(self, maxlen, wait):
        """(data, overflow): up to maxlen bytes of one message; None if the
        pipe stayed empty for `wait` seconds."""
        with self.lock:
            if not self.rest:
                deadline = time.monotonic() + wait
                if not self._fill(16, deadline):
                    return None, False
                frag_len = struct.unpack_from('<H', self.buf, 8)[0]
                if frag_len < 16:
                    raise EOFError('RPC server sent frag_length %d' % frag_len)
                if not self._fill(frag_len, time.monotonic() + 30):
                    raise EOFError('RPC server sent a partial fragment')
                self.rest, self.buf = self.buf[:frag_len], self.buf[frag_len:]
            data, self.rest = self.rest[:maxlen], self.rest[maxlen:]
            return data, bool(self.rest)


class SmbSide:
    """Hooks into impacket's SMBSERVER instance."""

    def __init__(self, server, state, share_paths):
        from impacket import smbserver
        self.impacket = smbserver
        self.server = server            # impacket.smbserver.SMBSERVER
        self.state = state
        self.share_paths = share_paths  # upper-case share name -> local path
        self.lock = threading.Lock()
        self.sockets = {}               # connId -> client socket (to drop a session)
        self.conn_info = {}             # connId -> {'serial', 'logon', 'last', stats...}
        self.history = []               # stats of connections that ended
        self.pipe_owner = {}            # (addr, port) of a pipe socket -> connId
        self.live_ids = {}              # (connId, fileID) -> live file id
        self.next_live = 1
        self.serial = 0
        self.dropping = set()

    # ---- installing ----
    def install(self, pipes=True):
        """Hooks the SMB side; `pipes`: also message-mode pipes (off: impacket's own pipe code)."""
        s = self.server
        if pipes:
            self.orig_create = s.hookSmb2Command(self.impacket.smb2.SMB2_CREATE, self.smb2_create)
            self.orig_read = s.hookSmb2Command(self.impacket.smb2.SMB2_READ, self.smb2_read)
            self.orig_ioctl = s.hookSmb2Command(self.impacket.smb2.SMB2_IOCTL, self.smb2_ioctl)
        self.orig_negotiate = s.hookSmb2Command(self.impacket.smb2.SMB2_NEGOTIATE, self.smb2_negotiate)
        self.orig_process = s.processRequest
        s.processRequest = self.process_request
        side = self
        base = s.RequestHandlerClass

        class Handler(base):
            def handle(self):
                connId = threading.current_thread().name
                with side.lock:
                    side.sockets[connId] = self.request
                    side.serial += 1
                    side.conn_info[connId] = {'serial': side.serial, 'client': self.client_address[0],
                                              'port': self.client_address[1], 'logon': None,
                                              'last': time.time(), 'user': None, 'signed_ok': 0,
                                              'unsigned': 0, 'bad_signature': 0, 'requests': 0,
                                              'after_auth': 0, 'commands': {}, 'dialect': None,
                                              'security_mode': None}
                try:
                    base.handle(self)
                finally:
                    with side.lock:
                        side.sockets.pop(connId, None)
                        info = side.conn_info.pop(connId, None)
                        if info is not None:
                            info['ended'] = True
                            side.history.append(info)
                        for k in [k for k in side.live_ids if k[0] == connId]:
                            del side.live_ids[k]
                        for k in [k for k, v in side.pipe_owner.items() if v == connId]:
                            del side.pipe_owner[k]

            def finish(self):
                try:
                    base.finish(self)   # impacket forgets the connection here
                finally:
                    with side.lock:     # a deleted session stays unlisted until then
                        side.dropping.discard(threading.current_thread().name)

        s.RequestHandlerClass = Handler

    # ---- statistics ----
    def connection_stats(self):
        with self.lock:
            now = list(self.conn_info.values())
            return [dict(c, commands=dict(c['commands'])) for c in self.history + now]

    def reset_stats(self):
        with self.lock:
            self.history.clear()

    # ---- every request: signatures and activity ----
    def process_request(self, connId, data):
        connData = self.server.getConnectionData(connId, False)
        info = self.conn_info.get(connId)
        smb2 = data[:4] == b'\xfeSMB'
        if info is not None and smb2:
            self.check_signatures(connId, connData, info, data)
        if smb2 and len(data) >= 24 and struct.unpack_from('<L', data, 20)[0]:
            out = self.process_compound(connId, connData, data)
        else:
            out = self.orig_process(connId, data)
        if info is not None and info['user'] is None and connData.get('Authenticated'):
            info['user'] = self._user(connData)
            info['logon'] = time.time()
        return out

    # Where the FileId of a request is, by command (header included).
    FILEID_AT = {6: 72, 7: 72, 8: 80, 9: 80, 10: 72, 11: 72, 14: 72, 15: 72, 16: 88, 17: 80}

    def process_compound(self, connId, connData, data):
        """A compounded request, element by element, as [MS-SMB2] 3.3.5.2.7 has it.

        impacket takes a related operation's TreeId from its own header (the
        client does not know it yet after a TREE_CONNECT in the same chain:
        STATUS_SMB_BAD_TID) and signs each answer before it sets NextCommand
        (every signature of a compounded answer is wrong). Here related
        operations get the TreeId and FileId of the operation before them,
        and each answer is padded, chained and signed over its final bytes."""
        elements, off = [], 0
        while off + 64 <= len(data):
            nxt = struct.unpack_from('<L', data, off + 20)[0]
            end = off + nxt if nxt else len(data)
            elements.append(bytearray(data[off:end]))
            if not nxt:
                break
            off = end
        answers, tree, fid = [], None, None
        for el in elements:
            cmd = struct.unpack_from('<H', el, 12)[0]
            related = struct.unpack_from('<L', el, 16)[0] & 0x4
            struct.pack_into('<L', el, 20, 0)
            if related:
                if tree is not None:
                    struct.pack_into('<L', el, 36, tree)
                at = self.FILEID_AT.get(cmd)
                if at is not None and fid is not None and len(el) >= at + 16 and el[at:at + 16] == b'\xff' * 16:
                    el[at:at + 16] = fid
            out = self.orig_process(connId, bytes(el))
            ans = bytearray(b''.join(x.getData() if hasattr(x, 'getData') else x for x in out))
            status = struct.unpack_from('<L', ans, 8)[0]
            tree = struct.unpack_from('<L', ans, 36)[0]
            if cmd == 5 and status == STATUS_SUCCESS and len(ans) >= 144:
                fid = bytes(ans[128:144])
            if related:
                struct.pack_into('<L', ans, 16, struct.unpack_from('<L', ans, 16)[0] | 0x4)
            answers.append(ans)
        key = connData.get('SigningSessionKey') if connData.get('SignatureEnabled') else None
        chain = b''
        for i, ans in enumerate(answers):
            if i + 1 < len(answers):
                ans += b'\0' * ((8 - len(ans) % 8) % 8)
                struct.pack_into('<L', ans, 20, len(ans))
            if key and struct.unpack_from('<L', ans, 16)[0] & SMB2_FLAGS_SIGNED:
                ans[48:64] = b'\0' * 16
                ans[48:64] = hmac.new(key, bytes(ans), hashlib.sha256).digest()[:16]
            chain += bytes(ans)
        with self.lock:
            info = self.conn_info.get(connId)
            if info is not None:
                info['compounds'] = info.get('compounds', 0) + 1
        return [chain]

    def check_signatures(self, connId, connData, info, data):
        off = 0
        while True:
            msg = data[off:]
            if len(msg) < 64:
                return
            cmd = struct.unpack_from('<H', msg, 12)[0]
            flags, nxt = struct.unpack_from('<LL', msg, 16)
            if nxt:
                msg = msg[:nxt]
            with self.lock:
                info['requests'] += 1
                info['commands'][str(cmd)] = info['commands'].get(str(cmd), 0) + 1
                info['last'] = time.time()
            authed = connData.get('Authenticated') and connData.get('SignatureEnabled')
            if authed and cmd not in (SMB2_NEGOTIATE, SMB2_SESSION_SETUP):
                key = connData['SigningSessionKey']
                with self.lock:
                    info['after_auth'] += 1
                if not flags & SMB2_FLAGS_SIGNED:
                    with self.lock:
                        info['unsigned'] += 1
                    logging.error('connection %s: unsigned request (command %d)', connId, cmd)
                    if self.state.options['require_signing']:
                        raise Exception('unsigned request on a signed session')
                else:
                    zeroed = msg[:48] + b'\0' * 16 + msg[64:]
                    want = hmac.new(key, zeroed, hashlib.sha256).digest()[:16]
                    if hmac.compare_digest(want, msg[48:64]):
                        with self.lock:
                            info['signed_ok'] += 1
                    else:
                        with self.lock:
                            info['bad_signature'] += 1
                        logging.error('connection %s: bad signature (command %d)', connId, cmd)
                        raise Exception('request with a bad signature')
            if not nxt:
                return
            off += nxt

    # ---- NEGOTIATE: record the dialect; signing required on request ----
    def smb2_negotiate(self, connId, smbServer, recvPacket, isSMB1=False):
        cmds, packets, status = self.orig_negotiate(connId, smbServer, recvPacket, isSMB1)
        try:
            body = packets[0]['Data']
            if self.state.options['require_signing']:
                body['SecurityMode'] = 3   # SIGNING_ENABLED | SIGNING_REQUIRED
                packets[0]['Data'] = body
            with self.lock:
                info = self.conn_info.get(connId)
                if info is not None:
                    info['dialect'] = body['DialectRevision']
                    info['security_mode'] = body['SecurityMode']
        except Exception:
            self.state.record_error('negotiate hook: ' + traceback.format_exc())
        return cmds, packets, status

    # ---- CREATE: remember who opened a pipe ----
    def smb2_create(self, connId, smbServer, recvPacket):
        cmds, packets, status = self.orig_create(connId, smbServer, recvPacket)
        if status == STATUS_SUCCESS:
            connData = smbServer.getConnectionData(connId)
            try:
                fileID = cmds[0]['FileID'].getData() if hasattr(cmds[0]['FileID'], 'getData') else cmds[0]['FileID']
                entry = connData['OpenedFiles'].get(fileID)
                if entry is not None:
                    entry['OpenedAt'] = time.time()
                    if 'Socket' in entry:
                        entry['Messages'] = PipeMessages(entry['Socket'])
                        with self.lock:
                            self.pipe_owner[entry['Socket'].getsockname()[:2]] = connId
            except Exception:
                self.state.record_error('create hook: ' + traceback.format_exc())
        return cmds, packets, status

    def _file_id(self, connData, raw):
        if raw == b'\xff' * 16 and 'SMB2_CREATE' in connData['LastRequest']:
            return connData['LastRequest']['SMB2_CREATE']['FileID']
        return raw

    def _pipe(self, connId, smbServer, recvPacket, raw_fid):
        """The PipeMessages of a pipe handle, or None for anything else."""
        connData = smbServer.getConnectionData(connId)
        if recvPacket['TreeID'] not in connData['ConnectedShares']:
            return None
        entry = connData['OpenedFiles'].get(self._file_id(connData, raw_fid))
        if entry is None or 'Messages' not in entry:
            return None
        return entry['Messages']

    # ---- READ on a pipe: one message per read ----
    def smb2_read(self, connId, smbServer, recvPacket):
        smb2 = self.impacket.smb2
        req = smb2.SMB2Read(recvPacket['Data'])
        pipe = self._pipe(connId, smbServer, recvPacket, req['FileID'].getData())
        if pipe is None:
            return self.orig_read(connId, smbServer, recvPacket)
        self.state.count('reads')
        try:
            data, overflow = pipe.read(req['Length'], float(self.state.options['pipe_wait']))
        except (EOFError, OSError) as e:
            logging.error('pipe read: %s', e)
            return [smb2.SMB2Error()], None, STATUS_INVALID_HANDLE
        if data is None:
            self.state.count('empty_reads')
            return [smb2.SMB2Error()], None, STATUS_PIPE_EMPTY
        if overflow:
            self.state.count('read_overflows')
        resp = smb2.SMB2Read_Response()
        resp['DataOffset'] = 0x50
        resp['DataLength'] = len(data)
        resp['DataRemaining'] = 0
        resp['Buffer'] = data
        return [resp], None, STATUS_BUFFER_OVERFLOW if overflow else STATUS_SUCCESS

    # ---- FSCTL_PIPE_TRANSCEIVE: write, then one message ----
    def smb2_ioctl(self, connId, smbServer, recvPacket):
        smb2 = self.impacket.smb2
        req = smb2.SMB2Ioctl(recvPacket['Data'])
        if req['CtlCode'] != FSCTL_PIPE_TRANSCEIVE:
            return self.orig_ioctl(connId, smbServer, recvPacket)
        pipe = self._pipe(connId, smbServer, recvPacket, req['FileID'].getData())
        if pipe is None:
            return self.orig_ioctl(connId, smbServer, recvPacket)
        self.state.count('transceives')
        raw = recvPacket['Data']
        start = req['InputOffset'] - 64
        data_in = raw[start:start + req['InputCount']]
        try:
            pipe.sock.sendall(data_in)
            data, overflow = pipe.read(req['MaxOutputResponse'], max(30.0, float(self.state.options['pipe_wait'])))
        except (EOFError, OSError) as e:
            logging.error('pipe transceive: %s', e)
            return [smb2.SMB2Error()], None, STATUS_INVALID_HANDLE
        if data is None:
            return [smb2.SMB2Error()], None, STATUS_PIPE_EMPTY
        if overflow:
            self.state.count('transceive_overflows')
        resp = smb2.SMB2Ioctl_Response()
        resp['CtlCode'] = req['CtlCode']
        resp['FileID'] = req['FileID']
        resp['InputOffset'] = 0x70
        resp['InputCount'] = 0
        resp['OutputOffset'] = 0x70
        resp['OutputCount'] = len(data)
        resp['Flags'] = 0
        resp['Buffer'] = data
        return [resp], None, STATUS_BUFFER_OVERFLOW if overflow else STATUS_SUCCESS

    # ---- the live view ----
    def _user(self, connData):
        m = connData.get('AUTHENTICATE_MESSAGE')
        if m is None:
            return None
        return m['user_name'].decode('utf-16le')

    def owner_of_pipe(self, peer):
        """(connId, user) of the SMB connection that opened the pipe whose socket is `peer`."""
        with self.lock:
            connId = self.pipe_owner.get(peer[:2])
        if connId is None:
            return None, None
        try:
            connData = self.server.getConnectionData(connId, False)
        except KeyError:
            return connId, None
        return connId, self._user(connData)

    @staticmethod
    def _local_path(file_name):
        """Where a real open file is, as Windows shows it: C: and the local path."""
        return 'C:' + file_name.replace('/', '\\')

    def live_view(self):
        sessions, files = [], []
        now = time.time()
        for connId, connData in list(self.server.getActiveConnections().items()):
            if not connData.get('Authenticated') or connId in self.dropping:
                continue
            user = self._user(connData)
            info = self.conn_info.get(connId)
            if info is None:
                continue
            if info['logon'] is None:
                continue
            opened = list(connData['OpenedFiles'].items())
            shares = [v.get('shareName', '') for v in list(connData['ConnectedShares'].values())]
            sessions.append({'id': 'live:%s' % connId, 'client': info['client'], 'user': user,
                             'num_opens': len(opened), 'time': int(now - info['logon']),
                             'idle_time': int(max(0, now - info['last'])), 'user_flags': 0,
                             'client_type': '', 'transport': '\\Device\\NetbiosSmb',
                             'shares': [s.split('\\')[-1].upper() for s in shares], 'live': True,
                             'conn': connId})
            for fileID, entry in opened:
                with self.lock:
                    key = (connId, fileID)
                    if key not in self.live_ids:
                        self.live_ids[key] = LIVE_FILE_ID_BASE + self.next_live
                        self.next_live += 1
                    fid = self.live_ids[key]
                if 'Socket' in entry:
                    path = '\\PIPE\\' + os.path.basename(entry['FileName'])
                    perms = 3
                else:
                    path = self._local_path(entry['FileName'])
                    perms = 3
                files.append({'id': fid, 'session': 'live:%s' % connId, 'share': '', 'path': path,
                              'permissions': perms, 'num_locks': 0, 'user': user, 'client': info['client'],
                              'live': True, 'conn': connId})
        return sessions, files

    def close_live_file(self, fid):
        with self.lock:
            key = next((k for k, v in self.live_ids.items() if v == fid), None)
        if key is None:
            return False
        connId, fileID = key
        try:
            connData = self.server.getConnectionData(connId, False)
        except KeyError:
            return False
        entry = connData['OpenedFiles'].pop(fileID, None)
        with self.lock:
            self.live_ids.pop(key, None)
        if entry is None:
            return False
        try:
            if 'Socket' in entry:
                entry['Socket'].close()
            else:
                os.close(entry['FileHandle'])
        except OSError:
            pass
        return True

    def drop_live_sessions(self, matches, own_conn):
        sessions, _ = self.live_view()
        n = 0
        for s in sessions:
            if not matches(s):
                continue
            n += 1
            connId = s['conn']
            with self.lock:
                self.dropping.add(connId)
                sock = self.sockets.get(connId)
            delay = 0.3 if connId == own_conn else 0.0  # our own answer goes out first

            def drop(sock=sock, connId=connId):
                try:
                    if sock is not None:
                        sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if delay:
                threading.Timer(delay, drop).start()
            else:
                drop()
        return n


# ===========================================================================
# DCE/RPC: impacket's DCERPCServer, fixed
# ===========================================================================

def _make_rpc_server_class():
    from impacket.dcerpc.v5 import rpcrt
    from impacket.uuid import uuidtup_to_bin

    class RpcServer(rpcrt.DCERPCServer):
        """DCERPCServer with a thread per pipe client and correct fragments."""

        def __init__(self, state, smb):
            rpcrt.DCERPCServer.__init__(self)
            self.state = state
            self.smb = smb
            self.daemon = True
            self.ndr_uuid = uuidtup_to_bin(('8a885d04-1ceb-11c9-9fe8-08002b104860', '2.0'))

        def run(self):
            self._sock.listen(64)
            while True:
                try:
                    sock, peer = self._sock.accept()
                except OSError:
                    return
                self.state.count('pipe_clients')
                threading.Thread(target=self.serve_client, args=(sock, peer), daemon=True).start()

        # ---- one pipe client ----
        def serve_client(self, sock, peer):
            conn = {'sock': sock, 'peer': peer, 'bound': None, 'max_xmit': 4280, 'pending': {}}
            try:
                while True:
                    pdu = self.read_pdu(sock)
                    if pdu is None:
                        break
                    self.handle_pdu(conn, pdu)
            except (OSError, EOFError):
                pass
            except Exception:
                self.state.record_error('RPC connection: ' + traceback.format_exc())
            finally:
                sock.close()

        @staticmethod
        def read_pdu(sock):
            buf = b''
            while len(buf) < 16:
                chunk = sock.recv(16 - len(buf))
                if not chunk:
                    return None
                buf += chunk
            frag_len = struct.unpack_from('<H', buf, 8)[0]
            if frag_len < 16:
                raise EOFError('frag_length %d' % frag_len)
            while len(buf) < frag_len:
                chunk = sock.recv(frag_len - len(buf))
                if not chunk:
                    raise EOFError('partial PDU')
                buf += chunk
            return buf

        def send_pdu(self, conn, data):
            self.state.note_frag(len(data))
            conn['sock'].sendall(data)

        def handle_pdu(self, conn, pdu):
            ptype, flags = pdu[2], pdu[3]
            call_id = struct.unpack_from('<L', pdu, 12)[0]
            if ptype == PTYPE_BIND:
                self.bind(conn, pdu)
            elif ptype == PTYPE_REQUEST:
                if flags & 0x80 or struct.unpack_from('<H', pdu, 10)[0]:
                    self.fault(conn, call_id, 0, RPC_S_CALL_FAILED)   # object UUIDs and auth: not ours
                    return
                ctx_id, opnum = struct.unpack_from('<HH', pdu, 20)
                stub = pdu[24:]
                key = call_id
                if flags & PFC_FIRST_FRAG:
                    conn['pending'][key] = b''
                conn['pending'][key] = conn['pending'].get(key, b'') + stub
                if flags & PFC_LAST_FRAG:
                    whole = conn['pending'].pop(key)
                    self.dispatch(conn, call_id, ctx_id, opnum, whole)
            else:
                self.fault(conn, call_id, 0, NCA_S_OP_RNG_ERROR)

        def bind(self, conn, pdu):
            packet = rpcrt.MSRPCHeader(pdu)
            bind = rpcrt.MSRPCBind(packet['pduData'])
            resp = rpcrt.MSRPCBindAck()
            resp['type'] = PTYPE_BIND_ACK
            resp['flags'] = PFC_FIRST_FRAG | PFC_LAST_FRAG
            resp['frag_len'] = 0
            resp['auth_len'] = 0
            resp['auth_data'] = b''
            resp['call_id'] = packet['call_id']
            ours = int(self.state.options['max_xmit_frag'])
            # We send fragments no larger than the client receives, and take its own size.
            conn['max_xmit'] = min(ours, bind['max_rfrag'])
            resp['max_tfrag'] = conn['max_xmit']
            resp['max_rfrag'] = min(ours, bind['max_tfrag'])
            resp['assoc_group'] = 0x12345
            data = bind['ctx_items']
            items = b''
            resp['SecondaryAddrLen'] = 0
            n = 0
            for _ in range(bind['ctx_num']):
                item = rpcrt.CtxItem(data)
                data = data[len(item):]
                result, reason = rpcrt.MSRPC_CONT_RESULT_PROV_REJECT, 2   # transfer syntax not supported
                if item['TransferSyntax'] == self.ndr_uuid:
                    reason = 1   # abstract syntax not supported
                    if item['AbstractSyntax'] in self._listenUUIDS:
                        resp['SecondaryAddr'] = self._listenUUIDS[item['AbstractSyntax']]['SecondaryAddr']
                        resp['SecondaryAddrLen'] = len(resp['SecondaryAddr']) + 1
                        result, reason = rpcrt.MSRPC_CONT_RESULT_ACCEPT, 0
                        conn['bound'] = item['AbstractSyntax']
                r = rpcrt.CtxItemResult()
                r['Result'] = result
                r['Reason'] = reason
                r['TransferSyntax'] = self.ndr_uuid
                items += r.getData()
                n += 1
            resp['ctx_num'] = n
            resp['Pad'] = 'A' * ((4 - ((resp['SecondaryAddrLen'] + rpcrt.MSRPCBindAck._SIZE) % 4)) % 4)
            resp['ctx_items'] = items
            resp['frag_len'] = len(resp.getData())
            self.send_pdu(conn, resp.getData())

        def dispatch(self, conn, call_id, ctx_id, opnum, stub):
            callbacks = self._listenUUIDS.get(conn['bound'], {}).get('CallBacks', {}) if conn['bound'] else {}
            if opnum not in callbacks:
                self.fault(conn, call_id, ctx_id, NCA_S_OP_RNG_ERROR)
                return
            try:
                answer = callbacks[opnum](stub, conn)
                if not isinstance(answer, bytes):
                    answer = answer.getData()
            except BadStub:
                self.state.record_error('opnum %d: undecodable request: %s' % (opnum, traceback.format_exc()))
                self.fault(conn, call_id, ctx_id, RPC_X_BAD_STUB_DATA)
                return
            except Exception:
                self.state.record_error('opnum %d: %s' % (opnum, traceback.format_exc()))
                self.fault(conn, call_id, ctx_id, RPC_S_CALL_FAILED)
                return
            self.respond(conn, call_id, ctx_id, answer)

        def respond(self, conn, call_id, ctx_id, stub):
            per_frag = conn['max_xmit'] - 24
            off = 0
            while True:
                chunk = stub[off:off + per_frag]
                flags = (PFC_FIRST_FRAG if off == 0 else 0)
                if off + len(chunk) >= len(stub):
                    flags |= PFC_LAST_FRAG
                r = rpcrt.MSRPCRespHeader()
                r['type'] = PTYPE_RESPONSE
                r['flags'] = flags
                r['call_id'] = call_id
                r['ctx_id'] = ctx_id
                r['alloc_hint'] = len(stub) - off
                r['pduData'] = chunk
                r['frag_len'] = 24 + len(chunk)
                r['auth_len'] = 0
                self.send_pdu(conn, r.getData())
                off += len(chunk)
                if off >= len(stub):
                    return

        def fault(self, conn, call_id, ctx_id, status):
            r = rpcrt.MSRPCRespHeader()
            r['type'] = PTYPE_FAULT
            r['flags'] = PFC_FIRST_FRAG | PFC_LAST_FRAG
            r['call_id'] = call_id
            r['ctx_id'] = ctx_id
            r['alloc_hint'] = 32
            r['pduData'] = struct.pack('<LL', status, 0)   # status, reserved: a 32-byte fault PDU
            r['frag_len'] = 32
            r['auth_len'] = 0
            self.send_pdu(conn, r.getData())

    return RpcServer


class BadStub(Exception):
    pass


# ===========================================================================
# srvsvc: opnums 8-13 with impacket's NDR types
# ===========================================================================

class Srvsvc:
    """The srvsvc calls, on the State. Each takes the request stub and the
    pipe connection and returns an impacket NDRCALL response."""

    # Bytes Windows counts for one entry's fixed part, per level (32-bit
    # pointers); strings add 2 bytes per UTF-16 unit and their NUL.
    FIXED = {('s', 0): 4, ('s', 1): 24, ('s', 2): 28, ('s', 10): 16, ('s', 502): 32,
             ('f', 2): 4, ('f', 3): 20, ('c', 0): 4, ('c', 1): 28}

    def __init__(self, state, smb, share_srvs):
        from impacket.dcerpc.v5 import srvs
        from impacket.dcerpc.v5.dtypes import NULL
        self.srvs, self.NULL = srvs, NULL
        self.state = state
        self.smb = smb
        self.shares = share_srvs   # impacket's SRVSServer, for the share opnums

    def callbacks(self):
        cb = {8: self.connection_enum, 9: self.file_enum, 10: self.file_get_info, 11: self.file_close,
              12: self.session_enum, 13: self.session_del}
        if self.shares is not None:
            for op, fn in ((15, self.shares.NetrShareEnum), (16, self.shares.NetrShareGetInfo),
                           (21, self.shares.NetrServerGetInfo)):
                cb[op] = (lambda f: lambda stub, conn: f(stub))(fn)
        return cb

    # ---- helpers ----
    def parse(self, cls, stub):
        try:
            return cls(stub)
        except Exception as e:
            raise BadStub(str(e))

    def text(self, v):
        """A parsed [string, unique] WCHAR*: None for NULL, else without its NUL."""
        if v is None or isinstance(v, bytes) or v == self.NULL:
            return None
        return v[:-1] if v.endswith('\x00') else v

    def caller(self, conn):
        if self.smb is None:
            return None, None
        return self.smb.owner_of_pipe(conn['peer'])

    def page(self, kind, level, entries, strings_of, want, resume_index):
        """Windows-style paging: entries from resume_index on while their
        estimated size fits PreferedMaximumLength (and the server's own limit);
        at least one. Returns (page, more)."""
        limit = want
        own = int(self.state.options['own_limit'] or 0)
        if own and (limit == MAX_PREFERRED_LENGTH or limit > own):
            limit = own
        rest = entries[resume_index:]
        if limit == MAX_PREFERRED_LENGTH:
            return rest, False
        used, out = 0, []
        fixed = self.FIXED[(kind, level)]
        for e in rest:
            size = fixed + sum(2 * (_utf16_units(s) + 1) for s in strings_of(e) if s is not None)
            if out and used + size > limit:
                break
            out.append(e)
            used += size
        return out, len(out) < len(rest)

    @staticmethod
    def resume_in(req):
        """The request's resume handle (impacket decodes the DWORD* as a signed LONG), or None."""
        v = req['ResumeHandle']
        return v & 0xFFFFFFFF if isinstance(v, int) else None

    @staticmethod
    def resume_out(v):
        return v - (1 << 32) if v >= 1 << 31 else v

    @staticmethod
    def wstr(s):
        return s + '\x00'

    def fill(self, cont, items):
        """A container's entries: a NULL array pointer when there are none, as Windows sends."""
        cont['EntriesRead'] = len(items)
        if not items:
            cont['Buffer'] = self.NULL
            return
        for e in items:
            cont['Buffer'].append(e)

    # ---- NetrSessionEnum (12) ----
    SESSION_STRINGS = {0: ('client',), 1: ('client', 'user'), 2: ('client', 'user', 'client_type'),
                       10: ('client', 'user'), 502: ('client', 'user', 'client_type', 'transport')}

    def session_enum(self, stub, conn):
        srvs, NULL = self.srvs, self.NULL
        req = self.parse(srvs.NetrSessionEnum, stub)
        level = req['InfoStruct']['Level']
        client, user = self.text(req['ClientName']), self.text(req['UserName'])
        want = req['PreferedMaximumLength']
        resume_in = self.resume_in(req)
        _, who = self.caller(conn)
        resp = srvs.NetrSessionEnumResponse()
        resp['InfoStruct']['Level'] = level
        resp['InfoStruct']['SessionInfo']['tag'] = level
        cont = resp['InfoStruct']['SessionInfo']['Level%d' % level]
        resp['TotalEntries'] = 0
        resp['ResumeHandle'] = NULL if resume_in is None else 0
        rec = {'op': 'NetrSessionEnum', 'level': level, 'client': client, 'user': user, 'caller': who,
               'prefmaxlen': want, 'resume_in': resume_in}

        def done(code, n=0, resume=None):
            if n == 0:
                self.fill(cont, [])
            resp['ErrorCode'] = code
            rec.update(result=code, entries=n, resume_out=resume)
            self.state.record_call(**rec)
            return resp

        if not self.state.is_admin(who):
            return done(ERROR_ACCESS_DENIED)
        if level not in self.state.options['levels_sessions']:
            return done(ERROR_INVALID_LEVEL)
        if client is not None and not client.startswith('\\\\'):
            return done(ERROR_INVALID_PARAMETER)
        with self.state.lock:
            sessions, _ = self.state.view()
        if client is not None:
            name = _strip_unc(client).lower()
            sessions = [s for s in sessions if s['client'].lower() == name]
            if not sessions:
                return done(NERR_CLIENT_NAME_NOT_FOUND)
        if user is not None:
            sessions = [s for s in sessions if s['user'] is not None and s['user'].lower() == user.lower()]
            if not sessions:
                return done(NERR_USER_NOT_FOUND)
        start = resume_in or 0
        fields = self.SESSION_STRINGS[level]
        page, more = self.page('s', level, sessions, lambda s: ['\\\\' + s['client'] if k == 'client' else s[k]
                                                                for k in fields], want, start)
        resp['TotalEntries'] = len(sessions) - min(start, len(sessions))
        self.fill(cont, [self.session_info(level, s) for s in page])
        resume = start + len(page) if more else 0
        if resume_in is not None:
            resp['ResumeHandle'] = self.resume_out(resume)
        return done(ERROR_MORE_DATA if more else NERR_SUCCESS, len(page), resume)

    def session_info(self, level, s):
        srvs = self.srvs
        cls = {0: srvs.SESSION_INFO_0, 1: srvs.SESSION_INFO_1, 2: srvs.SESSION_INFO_2,
               10: srvs.SESSION_INFO_10, 502: srvs.SESSION_INFO_502}[level]
        e = cls()
        p = 'sesi%d_' % level
        e[p + 'cname'] = self.wstr('\\\\' + s['client'])
        if level == 0:
            return e
        e[p + 'username'] = self.wstr(s['user'] or '')
        if level != 10:
            e[p + 'num_opens'] = s['num_opens']
        e[p + 'time'] = s['time']
        e[p + 'idle_time'] = s['idle_time']
        if level == 10:
            return e
        e[p + 'user_flags'] = s['user_flags']
        if level in (2, 502):
            e[p + 'cltype_name'] = self.wstr(s['client_type'])
        if level == 502:
            e[p + 'transport'] = self.wstr(s['transport'])
        return e

    # ---- NetrSessionDel (13) ----
    def session_del(self, stub, conn):
        req = self.parse(self.srvs.NetrSessionDel, stub)
        client, user = self.text(req['ClientName']), self.text(req['UserName'])
        own, who = self.caller(conn)
        resp = self.srvs.NetrSessionDelResponse()
        rec = {'op': 'NetrSessionDel', 'client': client, 'user': user, 'caller': who}

        def done(code, n=0):
            resp['ErrorCode'] = code
            rec.update(result=code, deleted=n)
            self.state.record_call(**rec)
            return resp

        if not self.state.is_admin(who):
            return done(ERROR_ACCESS_DENIED)
        if client is None and user is None:
            return done(ERROR_INVALID_PARAMETER)
        if client is not None and not client.startswith('\\\\'):
            return done(ERROR_INVALID_PARAMETER)
        name = _strip_unc(client).lower() if client is not None else None

        def matches(s):
            return ((name is None or s['client'].lower() == name) and
                    (user is None or (s['user'] or '').lower() == user.lower()))
        n = self.state.delete_sessions(matches, own)
        if n == 0:
            return done(NERR_CLIENT_NAME_NOT_FOUND if client is not None else NERR_USER_NOT_FOUND)
        return done(NERR_SUCCESS, n)

    # ---- NetrFileEnum (9) ----
    FILE_STRINGS = {2: (), 3: ('path', 'user')}

    def file_enum(self, stub, conn):
        srvs, NULL = self.srvs, self.NULL
        req = self.parse(srvs.NetrFileEnum, stub)
        level = req['InfoStruct']['Level']
        base, user = self.text(req['BasePath']), self.text(req['UserName'])
        want = req['PreferedMaximumLength']
        resume_in = self.resume_in(req)
        _, who = self.caller(conn)
        resp = srvs.NetrFileEnumResponse()
        resp['InfoStruct']['Level'] = level
        resp['InfoStruct']['FileInfo']['tag'] = level
        cont = resp['InfoStruct']['FileInfo']['Level%d' % level]
        resp['TotalEntries'] = 0
        resp['ResumeHandle'] = NULL if resume_in is None else 0
        rec = {'op': 'NetrFileEnum', 'level': level, 'base': base, 'user': user, 'caller': who,
               'prefmaxlen': want, 'resume_in': resume_in}

        def done(code, n=0, resume=None):
            if n == 0:
                self.fill(cont, [])
            resp['ErrorCode'] = code
            rec.update(result=code, entries=n, resume_out=resume)
            self.state.record_call(**rec)
            return resp

        if not self.state.is_admin(who):
            return done(ERROR_ACCESS_DENIED)
        if level not in self.state.options['levels_files']:
            return done(ERROR_INVALID_LEVEL)
        with self.state.lock:
            _, files = self.state.view()
        if base is not None:
            files = [f for f in files if f['path'].lower().startswith(base.lower())]
        if user is not None:
            files = [f for f in files if (f['user'] or '').lower() == user.lower()]
        # The resume handle is the id of the next file: closing files between pages loses nothing.
        start = 0
        if resume_in:
            start = next((i for i, f in enumerate(files) if f['id'] >= resume_in), len(files))
        fields = self.FILE_STRINGS[level]
        page, more = self.page('f', level, files, lambda f: [f[k] for k in fields], want, start)
        resp['TotalEntries'] = len(files) - start
        self.fill(cont, [self.file_info(level, f) for f in page])
        resume = files[start + len(page)]['id'] if more else 0
        if resume_in is not None:
            resp['ResumeHandle'] = self.resume_out(resume)
        return done(ERROR_MORE_DATA if more else NERR_SUCCESS, len(page), resume)

    def file_info(self, level, f):
        if level == 2:
            e = self.srvs.FILE_INFO_2()
            e['fi2_id'] = f['id']
            return e
        e = self.srvs.FILE_INFO_3()
        e['fi3_id'] = f['id']
        e['fi3_permissions'] = f['permissions']
        e['fi3_num_locks'] = f['num_locks']
        e['fi3_path_name'] = self.wstr(f['path'])
        e['fi3_username'] = self.wstr(f['user'] or '')
        return e

    # ---- NetrFileGetInfo (10) ----
    def file_get_info(self, stub, conn):
        req = self.parse(self.srvs.NetrFileGetInfo, stub)
        fid, level = req['FileId'], req['Level']
        _, who = self.caller(conn)
        resp = self.srvs.NetrFileGetInfoResponse()
        # The out union switches on the request's level; only 2 and 3 have arms.
        tag = level if level in FILE_LEVELS else 3
        resp['InfoStruct']['tag'] = tag
        rec = {'op': 'NetrFileGetInfo', 'level': level, 'id': fid, 'caller': who}

        def done(code):
            if code != NERR_SUCCESS:
                resp['InfoStruct']['FileInfo%d' % tag] = self.NULL
            resp['ErrorCode'] = code
            rec.update(result=code)
            self.state.record_call(**rec)
            return resp

        if not self.state.is_admin(who):
            return done(ERROR_ACCESS_DENIED)
        if level not in FILE_LEVELS or level not in self.state.options['levels_files']:
            return done(ERROR_INVALID_LEVEL)
        with self.state.lock:
            _, files = self.state.view()
        f = next((x for x in files if x['id'] == fid), None)
        if f is None:
            return done(NERR_FILE_ID_NOT_FOUND)
        info = resp['InfoStruct']['FileInfo%d' % level]
        for k, v in self.file_info(level, f).fields.items():
            info[k] = v
        return done(NERR_SUCCESS)

    # ---- NetrFileClose (11) ----
    def file_close(self, stub, conn):
        req = self.parse(self.srvs.NetrFileClose, stub)
        fid = req['FileId']
        _, who = self.caller(conn)
        resp = self.srvs.NetrFileCloseResponse()
        rec = {'op': 'NetrFileClose', 'id': fid, 'caller': who}
        if not self.state.is_admin(who):
            code = ERROR_ACCESS_DENIED
        elif self.state.close_file(fid):
            code = NERR_SUCCESS
        else:
            code = NERR_FILE_ID_NOT_FOUND
        resp['ErrorCode'] = code
        rec['result'] = code
        self.state.record_call(**rec)
        return resp

    # ---- NetrConnectionEnum (8) ----
    def connection_enum(self, stub, conn):
        srvs, NULL = self.srvs, self.NULL
        req = self.parse(srvs.NetrConnectionEnum, stub)
        level = req['InfoStruct']['Level']
        qual = self.text(req['Qualifier'])
        want = req['PreferedMaximumLength']
        resume_in = self.resume_in(req)
        _, who = self.caller(conn)
        resp = srvs.NetrConnectionEnumResponse()
        resp['InfoStruct']['Level'] = level
        resp['InfoStruct']['ConnectInfo']['tag'] = level
        cont = resp['InfoStruct']['ConnectInfo']['Level%d' % level]
        resp['TotalEntries'] = 0
        resp['ResumeHandle'] = NULL if resume_in is None else 0
        rec = {'op': 'NetrConnectionEnum', 'level': level, 'qualifier': qual, 'caller': who,
               'prefmaxlen': want, 'resume_in': resume_in}

        def done(code, n=0, resume=None):
            if n == 0:
                self.fill(cont, [])
            resp['ErrorCode'] = code
            rec.update(result=code, entries=n, resume_out=resume)
            self.state.record_call(**rec)
            return resp

        if not self.state.is_admin(who):
            return done(ERROR_ACCESS_DENIED)
        if level not in CONN_LEVELS:
            return done(ERROR_INVALID_LEVEL)
        if not qual:
            return done(ERROR_INVALID_PARAMETER)
        with self.state.lock:
            sessions, files = self.state.view()
        conns = self.connections(sessions, files)
        if qual.startswith('\\\\'):
            name = _strip_unc(qual).lower()
            rows = [dict(c, netname=c['share']) for c in conns if c['client'].lower() == name]
            if not rows:
                return done(NERR_CLIENT_NAME_NOT_FOUND)
        else:
            rows = [dict(c, netname=c['client']) for c in conns if c['share'].lower() == qual.lower()]
            if not rows and qual.lower() not in {c['share'].lower() for c in conns} | self.known_shares():
                return done(NERR_NET_NAME_NOT_FOUND)
        start = resume_in or 0
        page, more = self.page('c', level, rows, lambda c: [c['user'], c['netname']] if level == 1 else [],
                               want, start)
        resp['TotalEntries'] = len(rows) - min(start, len(rows))
        items = []
        for c in page:
            if level == 0:
                e = srvs.CONNECTION_INFO_0()
                e['coni0_id'] = c['id']
            else:
                e = srvs.CONNECTION_INFO_1()
                e['coni1_id'] = c['id']
                e['coni1_type'] = c['type']
                e['coni1_num_opens'] = c['num_opens']
                e['coni1_num_users'] = 1
                e['coni1_time'] = c['time']
                e['coni1_username'] = self.wstr(c['user'] or '')
                e['coni1_netname'] = self.wstr(c['netname'])
            items.append(e)
        self.fill(cont, items)
        resume = start + len(page) if more else 0
        if resume_in is not None:
            resp['ResumeHandle'] = self.resume_out(resume)
        return done(ERROR_MORE_DATA if more else NERR_SUCCESS, len(page), resume)

    def known_shares(self):
        return {s.lower() for s in (self.smb.share_paths if self.smb else {})} | {'ipc$'}

    @staticmethod
    def connections(sessions, files):
        """One tree connection per (session, share), numbered in order."""
        opens = {}
        for f in files:
            opens[(f['session'], f['share'].lower())] = opens.get((f['session'], f['share'].lower()), 0) + 1
        out = []
        for s in sessions:
            for share in s.get('shares', []):
                out.append({'id': len(out) + 1, 'client': s['client'], 'user': s['user'], 'share': share,
                            'type': 3 if share.upper() == 'IPC$' else 0,
                            'num_opens': opens.get((s['id'], share.lower()), 0), 'time': s['time']})
        return out


# ===========================================================================
# the control socket
# ===========================================================================

class Control(threading.Thread):
    """JSON lines on a unix socket: {"op": "load"|"state"|"stats"|"reset_stats"|"options", ...}."""

    def __init__(self, path, state):
        threading.Thread.__init__(self, daemon=True)
        self.path = path
        self.state = state
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o600)
        self.sock.listen(8)

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile('rwb')
        try:
            for line in f:
                try:
                    req = json.loads(line)
                    out = self.do(req)
                except Exception as e:
                    out = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
                f.write(json.dumps(out).encode() + b'\n')
                f.flush()
        except OSError:
            pass
        finally:
            c.close()

    def do(self, req):
        op = req.get('op')
        if op == 'load':
            self.state.load(req['state'])
            return {'ok': True}
        if op == 'options':
            self.state.set_options(req['options'])
            return {'ok': True}
        if op == 'state':
            return {'ok': True, 'state': self.state.snapshot()}
        if op == 'stats':
            return {'ok': True, 'stats': self.state.stats()}
        if op == 'reset_stats':
            self.state.reset_stats()
            return {'ok': True}
        return {'ok': False, 'error': 'unknown op %r' % op}


# ===========================================================================
# the server process
# ===========================================================================

def serve(args):
    from impacket import smbserver
    from impacket.ntlm import compute_lmhash, compute_nthash

    os.makedirs(args.dir, exist_ok=True)
    log = args.log or os.path.join(args.dir, 'winserver.log')
    logging.basicConfig(filename=log, level=logging.INFO, format='%(asctime)s %(threadName)s %(levelname)s %(message)s')
    # impacket logs through its own logger; keep its messages in our log.
    logging.getLogger('impacket').propagate = True

    # Port 0: the kernel picks a free one when impacket binds (no window for another process to take it).
    srv = smbserver.SimpleSMBServer(listenAddress=args.address, listenPort=args.port)
    args.port = srv._SimpleSMBServer__server.server_address[1]
    srv.setSMB2Support(True)
    share_paths = {}
    for name in args.share or ['share']:
        p = os.path.join(args.dir, 'shares', name)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, 0o777)
        srv.addShare(name.upper(), p, '')
        share_paths[name.upper()] = p
    state = State()
    for spec in args.user or []:
        parts = spec.split(':')
        name, pw = parts[0], parts[1]
        srv.addCredential(name, 0, compute_lmhash(pw), compute_nthash(pw))
        if len(parts) > 2 and parts[2] == 'admin':
            state.admins.add(name.lower())
    smb = srv._SimpleSMBServer__server
    side = SmbSide(smb, state, share_paths)
    state.options['require_signing'] = args.signing == 'required'
    side.install(pipes=not args.plain)   # signature checks and compounded requests in both modes
    if not args.plain:
        state.smb = side
        RpcServer = _make_rpc_server_class()
        rpc = RpcServer(state, side)
        handlers = Srvsvc(state, side, srv._SimpleSMBServer__srvsServer)
        rpc.addCallbacks(SRVSVC_UUID, '\\PIPE\\srvsvc', handlers.callbacks())
        srv.registerNamedPipe('srvsvc', ('127.0.0.1', rpc.getListenPort()))
        rpc.start()
    if args.state:
        with open(args.state, encoding='utf-8') as f:
            state.load(json.load(f))
    control_path = os.path.join(args.dir, 'control.sock')
    Control(control_path, state).start()

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    t = threading.Thread(target=srv.start, daemon=True)
    t.start()
    # Ready once the port accepts.
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection((args.address, args.port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    print('ADDRESS=%s' % args.address)
    print('PORT=%d' % args.port)
    print('CONTROL=%s' % control_path)
    print('DIR=%s' % args.dir)
    print('LOG=%s' % log)
    for name, p in share_paths.items():
        print('SHARE_%s=%s' % (name, p))
    print('READY', flush=True)
    if args.stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait(args.max_seconds)
    try:
        smb.server_close()
    except Exception:
        pass
    os._exit(0)   # impacket's threads are not daemons everywhere: do not wait for them


def _set_pdeathsig():
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except Exception:
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--address', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--dir', default=None)
    ap.add_argument('--user', action='append', help='name:password[:admin]')
    ap.add_argument('--share', action='append')
    ap.add_argument('--state', help='a JSON state to load at start')
    ap.add_argument('--signing', choices=('enabled', 'required'), default='enabled')
    ap.add_argument('--plain', action='store_true', help="impacket's own srvsvc and pipes, unfixed")
    ap.add_argument('--stdin', action='store_true', help='stop at the end of stdin')
    ap.add_argument('--max-seconds', type=float, default=3600)
    ap.add_argument('--log')
    args = ap.parse_args(argv)
    if args.dir is None:
        args.dir = tempfile.mkdtemp(prefix='winserver-')
    if args.address not in ('127.0.0.1', '::1') and args.address.startswith('127.'):
        sys.path.insert(0, HERE)
        import sambatest
        sambatest.ensure_loopback_address(args.address)
    serve(args)


# ===========================================================================
# the test side: start one and talk to it
# ===========================================================================

class WinServerError(Exception):
    pass


_live_servers = weakref.WeakSet()


class WinServer:
    """A winserver.py process for a test.

    WinServer(tmpdir=None, address='127.0.0.1', users=[(name, pw, admin)], shares=['share'],
              state=None, signing='enabled', plain=False, start_timeout=30)
    Attributes: address port control dir log share_paths pid; methods: load(state),
    options(**kw), state(), stats(), reset_stats(), log_tail(n), stop().
    The process ends at stop(), at interpreter exit, and by itself when the
    test process dies (stdin EOF, PR_SET_PDEATHSIG).
    """

    def __init__(self, tmpdir=None, address='127.0.0.1', users=(), shares=('share',), state=None,
                 signing='enabled', plain=False, start_timeout=30, port=0):
        self._tmp = None
        if tmpdir is None:
            tmpdir = self._tmp = tempfile.mkdtemp(prefix='winserver-')
        os.makedirs(tmpdir, exist_ok=True)
        self.dir = tmpdir
        self.address = address
        argv = ['/usr/bin/python3', os.path.abspath(__file__), '--address', address, '--port', str(port),
                '--dir', tmpdir, '--stdin', '--signing', signing]
        for name, pw, admin in users:
            argv += ['--user', '%s:%s%s' % (name, pw, ':admin' if admin else '')]
        for s in shares:
            argv += ['--share', s]
        if plain:
            argv.append('--plain')
        if state is not None:
            p = os.path.join(tmpdir, 'initial-state.json')
            with open(p, 'w', encoding='utf-8') as f:
                json.dump(state, f)
            argv += ['--state', p]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_set_pdeathsig)
        self.pid = self.proc.pid
        _live_servers.add(self)
        info = {}
        end = time.monotonic() + start_timeout
        fd, buf, ready = self.proc.stdout.fileno(), b'', False
        while not ready and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                line = line.decode('utf-8', 'replace').strip()
                if line == 'READY':
                    ready = True
                    break
                k, _, v = line.partition('=')
                info[k] = v
        if not ready or 'PORT' not in info or self.proc.poll() is not None:
            err = b''
            self.stop()
            try:
                err = self.proc.stderr.read() or b''
            except Exception:
                pass
            raise WinServerError('winserver did not start: %r\n%s' % (info, err.decode('utf-8', 'replace')[-3000:]))
        self.port = int(info['PORT'])
        self.control = info['CONTROL']
        self.log = info['LOG']
        self.share_paths = {k[6:].lower(): v for k, v in info.items() if k.startswith('SHARE_')}
        self._ctl = None
        self._ctl_lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def share_path(self, name):
        return self.share_paths[name.lower()]

    def _call(self, req, timeout=60):
        with self._ctl_lock:
            if self._ctl is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(timeout)
                s.connect(self.control)
                self._ctl = (s, s.makefile('rwb'))
            s, f = self._ctl
            f.write(json.dumps(req).encode() + b'\n')
            f.flush()
            line = f.readline()
        if not line:
            raise WinServerError('control socket closed')
        out = json.loads(line)
        if not out.get('ok'):
            raise WinServerError(out.get('error', 'control call failed'))
        return out

    def load(self, state):
        self._call({'op': 'load', 'state': state})

    def options(self, **kw):
        self._call({'op': 'options', 'options': kw})

    def state(self):
        return self._call({'op': 'state'})['state']

    def stats(self):
        return self._call({'op': 'stats'})['stats']

    def reset_stats(self):
        self._call({'op': 'reset_stats'})

    def log_tail(self, n=40):
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError as e:
            return str(e)

    def stop(self):
        _live_servers.discard(self)
        if getattr(self, '_ctl', None):
            try:
                self._ctl[0].close()
            except OSError:
                pass
            self._ctl = None
        p = getattr(self, 'proc', None)
        if p is not None and p.poll() is None:
            try:
                p.stdin.close()
            except OSError:
                pass
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if self._tmp:
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill_now(self):
        p = getattr(self, 'proc', None)
        if p is not None and p.poll() is None:
            p.kill()


# ===========================================================================
# the test side: the tools under test and what they print
# ===========================================================================

def _unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == '\\' and i + 1 < len(v):
            out.append({'\\': '\\', 't': '\t', 'n': '\n', 'r': '\r'}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return ''.join(out)


class ToolRun:
    """One run of tests/tools/api_tool, parsed: entries (dicts of strings),
    summary {'level', 'count'}, error {'name', 'domain', 'code', 'message'},
    info (--info), ok_line (close/sessdel)."""

    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds
        self.entries, self.summary, self.error, self.info, self.ok_line = [], {}, None, {}, False
        for line in out.splitlines():
            if line.startswith('error='):
                parts = dict(p.split('=', 1) for p in line.split(' ', 3) if '=' in p)
                self.error = {'name': parts.get('error'), 'domain': parts.get('domain'),
                              'code': parts.get('code'), 'message': parts.get('message', '')}
            elif line.startswith('level='):
                self.summary = {k: int(v) for k, v in (p.split('=', 1) for p in line.split())}
            elif line.startswith('dialect='):
                self.info = dict(p.split('=', 1) for p in line.split())
            elif line == 'ok=1':
                self.ok_line = True
            elif line:
                self.entries.append({k: _unescape(v) for k, v in (p.partition('=')[::2] for p in line.split('\t'))})

    level = property(lambda self: self.summary.get('level'))
    count = property(lambda self: self.summary.get('count'))
    err_name = property(lambda self: self.error['name'] if self.error else None)

    def listing_ok(self):
        return self.rc == 0 and self.error is None and self.count == len(self.entries)

    def __str__(self):
        return '$ api_tool %s\nexit %s after %.2f s\n%s%s' % (' '.join(self.argv), self.rc, self.seconds,
                                                            self.out[-3000:], self.err[-1500:])


def api_tool(tool, srv, user, password, cmd, *args, opts=(), timeout=120, address=None):
    argv = ['--port', str(srv.port), *opts, address or srv.address, '-', user, password, cmd, *args]
    t0 = time.monotonic()
    try:
        r = subprocess.run([tool, *argv], capture_output=True, timeout=timeout)
        rc, out, err = r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as e:
        rc, out, err = -999, (e.stdout or b'').decode('utf-8', 'replace'), 'timed out after %s s' % timeout
    return ToolRun([a if a != password else '***' for a in argv], rc, out, err, time.monotonic() - t0)


class CliRun:
    """One run of a command line tool: rc, out, err, seconds; json() parses stdout."""

    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds

    def json(self):
        return json.loads(self.out)

    def __str__(self):
        return '$ %s\nexit %s after %.2f s\n%s\n%s' % (' '.join(self.argv), self.rc, self.seconds,
                                                      self.out[-3000:], self.err[-1500:])


def run_cli(argv, timeout=120, env=None, hide=()):
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        rc, out, err = r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as e:
        rc, out, err = -999, (e.stdout or b'').decode('utf-8', 'replace'), 'timed out after %s s' % timeout
    shown = [a if not any(h and h in a for h in hide) else '***' for a in argv]
    return CliRun(shown, rc, out, err, time.monotonic() - t0)


def smbnet(binary, srv, user, password, *args, timeout=120):
    """smbnet -S ADDRESS -p PORT -U USER%PASSWORD ARGS..."""
    return run_cli([binary, '-S', srv.address, '-p', str(srv.port), '-U', '%s%%%s' % (user, password), *args],
                   timeout=timeout, hide=(password,))


def text_width(s):
    """Terminal columns of s: 2 for East Asian wide and full-width characters, 0 for combining marks."""
    import unicodedata
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ('W', 'F') else 1
    return w


def parse_table(text, columns):
    """The rows of a NET-style table (header, empty line, dashes, rows) as
    dicts {column: cell}. Columns are cut at the display columns where the
    header names start, counting wide characters as two columns."""
    lines = text.split('\n')
    try:
        h = next(i for i, l in enumerate(lines) if all(c in l for c in columns))
    except StopIteration:
        raise ValueError('no table header with %r' % (columns,))
    header = lines[h]
    starts = [header.index(c) for c in columns]
    if lines[h + 1] != '' or not lines[h + 2].startswith('---'):
        raise ValueError('table header not followed by an empty line and dashes')
    rows = []
    for line in lines[h + 3:]:
        if line == '' or line.startswith('The command completed'):
            break
        cells = [''] * len(columns)
        col = 0
        for ch in line:
            j = max(k for k in range(len(starts)) if starts[k] <= col) if col >= starts[0] else 0
            cells[j] += ch
            col += text_width(ch)
        rows.append({c: cells[k].strip() for k, c in enumerate(columns)})
    return rows


@atexit.register
def _stop_all():
    for s in list(_live_servers):
        try:
            s.stop()
        except Exception:
            pass


if __name__ == '__main__':
    main()
