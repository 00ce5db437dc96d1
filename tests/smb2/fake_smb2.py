#!/usr/bin/python3
"""fake_smb2: a scripted SMB2/3 server for faults a real server does not make.

Independent of libsmbsess's C code: message layouts from [MS-SMB2], NTLMv2
from [MS-NLMP], SPNEGO from RFC 4178, written here in Python; the primitives
(AES-CMAC/GCM/CCM, RC4) come from pycryptodomex (a dependency of
impacket) and impacket's NTOWFv2 (MD4 inside). Debian's /usr/bin/python3.

It listens on 127.0.0.1 on a free port, prints ``PORT=<n>`` and ``READY``,
and serves any number of clients (one thread each) until SIGTERM/SIGINT,
the end of stdin (--stdin) or --max-seconds. What it saw goes to --report
as JSON lines (one event a line, flushed at once): connections, sessions,
CANCELs, the nonce of every transform header a client sent, and every
protocol violation of a client it detected (bad signature, bad MIC, a
message id used twice, ...).

Served: NEGOTIATE (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1 with SHA-512 preauth
integrity, AES-128-GCM / AES-128-CCM encryption and AES-CMAC / AES-GMAC /
HMAC-SHA256 signing contexts), SESSION_SETUP (SPNEGO with NTLMSSP: CHALLENGE
with a timestamp, AUTHENTICATE checked with NTLMv2 and its MIC, the
client's mechListMIC checked and ours sent, the exported session key
RC4-decrypted, SMB2/3 keys derived, the final response signed), several
sessions on one connection, TREE_CONNECT, IOCTL VALIDATE_NEGOTIATE_INFO,
ECHO, CANCEL (recorded, answered only by the scenario), LOGOFF,
TREE_DISCONNECT; anything else gets STATUS_NOT_SUPPORTED. Encrypted
requests get encrypted answers; signed sessions get signed answers.

Scenarios (--scenario), each a fault a hostile server or a party in the
middle could make:
  normal                     none
  interim_flood              the first ECHO after logon gets interim answers
                             (STATUS_PENDING, async) granting 65,535 credits
                             each, as many as wrap the client's uint32 count
                             to exactly 0 after the final answer (or
                             --interims N), then the final answer
  credit_max                 every answer grants 65,535 credits
  unknown_mid                an answer to a message id never sent (before
                             the real answer of the first ECHO)
  duplicate                  the first ECHO's answer sent twice
  other_session              two encrypted sessions A and B: the first ECHO
                             of A once B exists is answered encrypted under
                             B's keys (--variant transform: transform
                             SessionId B, inner A) or under A's keys with
                             the inner header naming B (--variant inner)
  plaintext_interim_encrypted  on an encrypted session, --interims N (4)
                             plaintext unsigned interims granting 65,535 each
                             before the encrypted final answer
  pending_forever            the first ECHO after logon gets an interim and
                             then nothing; its CANCEL is recorded and (unless
                             --ignore-cancel) answered STATUS_CANCELLED
  async_tree_connect         TREE_CONNECT answered by an interim and an async
                             final answer (AsyncId 0xA5A5A5A5_00000007 in
                             bytes 32-39, where a sync header has its TreeId)
  small_limits               NEGOTIATE with --max-transact/--max-read/--max-write
  nonces                     nothing special: every transform nonce is
                             reported anyway
  slow_setup                 the first session's second SESSION_SETUP round
                             is answered only after --delay seconds

    fake_smb2.py --scenario normal --dialect 3.1.1 --encrypt --report r.jsonl
"""

import argparse
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

from Cryptodome.Cipher import AES, ARC4
from Cryptodome.Hash import CMAC
from impacket import ntlm as impacket_ntlm

# ---------------------------------------------------------------- constants

SMB2_MAGIC = b'\xfeSMB'
TRANSFORM_MAGIC = b'\xfdSMB'
HDR_LEN = 64
TF_LEN = 52

NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
IOCTL, CANCEL, ECHO = 0x0B, 0x0C, 0x0D

FLAG_RESPONSE = 0x1
FLAG_ASYNC = 0x2
FLAG_RELATED = 0x4
FLAG_SIGNED = 0x8

STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_MORE_PROCESSING = 0xC0000016
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_NOT_SUPPORTED = 0xC00000BB
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_CANCELLED = 0xC0000120
STATUS_USER_SESSION_DELETED = 0xC0000203
STATUS_ACCESS_DENIED = 0xC0000022

DIALECTS = {'2.0.2': 0x0202, '2.1': 0x0210, '3.0': 0x0300, '3.0.2': 0x0302, '3.1.1': 0x0311}

CAP_DFS, CAP_LEASING, CAP_LARGE_MTU, CAP_ENCRYPTION = 0x1, 0x2, 0x4, 0x40

CIPHER_CCM, CIPHER_GCM = 0x0001, 0x0002
SIGN_HMAC, SIGN_CMAC, SIGN_GMAC = 0x0000, 0x0001, 0x0002

SESSION_FLAG_ENCRYPT_DATA = 0x0004

FSCTL_VALIDATE_NEGOTIATE_INFO = 0x00140204

# NTLMSSP ([MS-NLMP] 2.2.2.5)
NTLM_UNICODE = 0x00000001
NTLM_REQUEST_TARGET = 0x00000004
NTLM_SIGN = 0x00000010
NTLM_SEAL = 0x00000020
NTLM_NTLM = 0x00000200
NTLM_ALWAYS_SIGN = 0x00008000
NTLM_TARGET_TYPE_SERVER = 0x00020000
NTLM_ESS = 0x00080000
NTLM_TARGET_INFO = 0x00800000
NTLM_VERSION = 0x02000000
NTLM_128 = 0x20000000
NTLM_KEY_EXCH = 0x40000000
NTLM_56 = 0x80000000

OID_SPNEGO = bytes.fromhex('2b0601050502')             # 1.3.6.1.5.5.2
OID_NTLMSSP = bytes.fromhex('2b06010401823702020a')     # 1.3.6.1.4.1.311.2.2.10

ASYNC_ID_TREE = 0xA5A5A5A500000007
MAX_CREDIT = 65535


def filetime(t=None):
    return int(((time.time() if t is None else t) + 11644473600) * 10_000_000)


# ---------------------------------------------------------------- report

class Report:
    def __init__(self, path):
        self.f = open(path, 'a', buffering=1) if path else None
        self.lock = threading.Lock()

    def __call__(self, ev, **kw):
        kw['ev'] = ev
        kw['t'] = round(time.monotonic(), 4)
        line = json.dumps(kw, sort_keys=True)
        with self.lock:
            if self.f:
                self.f.write(line + '\n')
                self.f.flush()
            if os.environ.get('FAKE_SMB2_DEBUG'):
                print('# ' + line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- DER (SPNEGO)

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_parse(buf, off=0):
    """One TLV at off: (tag, value, whole TLV bytes, offset after it)."""
    if off + 2 > len(buf):
        raise ValueError('DER: truncated')
    tag = buf[off]
    n = buf[off + 1]
    p = off + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or p + k > len(buf):
            raise ValueError('DER: bad length')
        n = int.from_bytes(buf[p:p + k], 'big')
        p += k
    if p + n > len(buf):
        raise ValueError('DER: value past the end')
    return tag, buf[p:p + n], buf[off:p + n], p + n


def der_children(value):
    out, off = [], 0
    while off < len(value):
        tag, v, whole, off = der_parse(value, off)
        out.append((tag, v, whole))
    return out


def spnego_hint():
    """The NEGOTIATE response's NegTokenInit2 hint: NTLMSSP only."""
    mechs = der(0x30, der(0x06, OID_NTLMSSP))
    init = der(0x30, der(0xA0, mechs))
    return der(0x60, der(0x06, OID_SPNEGO) + der(0xA0, init))


def spnego_parse(token):
    """Client token -> dict(mech_types_der, mech_types, token, mic)."""
    out = {'mech_types_der': None, 'mech_types': [], 'token': None, 'mic': None}
    tag, v, _, _ = der_parse(token)
    if tag == 0x60:                       # GSS-API InitialContextToken
        kids = der_children(v)
        if not kids or kids[0][0] != 0x06 or kids[0][1] != OID_SPNEGO or len(kids) < 2 or kids[1][0] != 0xA0:
            raise ValueError('SPNEGO: not a NegTokenInit')
        seq = der_children(kids[1][1])
        if len(seq) != 1 or seq[0][0] != 0x30:
            raise ValueError('SPNEGO: NegTokenInit not a SEQUENCE')
        for t, val, _ in der_children(seq[0][1]):
            if t == 0xA0:
                mt = der_children(val)[0]
                out['mech_types_der'] = mt[2]
                out['mech_types'] = [x[1] for x in der_children(mt[1])]
            elif t == 0xA2:
                out['token'] = der_children(val)[0][1]
            elif t == 0xA3:
                out['mic'] = der_children(val)[0][1]
    elif tag == 0xA1:                     # NegTokenResp
        seq = der_children(v)
        if len(seq) != 1 or seq[0][0] != 0x30:
            raise ValueError('SPNEGO: NegTokenResp not a SEQUENCE')
        for t, val, _ in der_children(seq[0][1]):
            if t == 0xA2:
                out['token'] = der_children(val)[0][1]
            elif t == 0xA3:
                out['mic'] = der_children(val)[0][1]
    else:
        raise ValueError('SPNEGO: unknown token 0x%02x' % tag)
    return out


def spnego_resp(state, mech=None, token=None, mic=None):
    body = der(0xA0, der(0x0A, bytes([state])))
    if mech is not None:
        body += der(0xA1, der(0x06, mech))
    if token is not None:
        body += der(0xA2, der(0x04, token))
    if mic is not None:
        body += der(0xA3, der(0x04, mic))
    return der(0xA1, der(0x30, body))


# ---------------------------------------------------------------- crypto

def kdf(key, label, context, bits=128):
    """SP800-108 counter mode, HMAC-SHA256, one block ([MS-SMB2] 3.1.4.2)."""
    data = struct.pack('>I', 1) + label + b'\x00' + context + struct.pack('>I', bits)
    return hmac.new(key, data, hashlib.sha256).digest()[:bits // 8]


def hmac_md5(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def aes_cmac(key, data):
    return CMAC.new(key, data, ciphermod=AES).digest()


def aes_gmac(key, nonce, data):
    c = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    c.update(data)
    return c.digest()


def signature(alg, key, msg):
    """The signature of one message (its signature field counted as zero)."""
    m = bytearray(msg)
    m[48:64] = bytes(16)
    if alg == SIGN_HMAC:
        return hmac.new(key, bytes(m), hashlib.sha256).digest()[:16]
    if alg == SIGN_CMAC:
        return aes_cmac(key, bytes(m))
    flags = struct.unpack_from('<I', m, 16)[0]
    cmd = struct.unpack_from('<H', m, 12)[0]
    role = (1 if flags & FLAG_RESPONSE else 0) | (2 if cmd == CANCEL else 0)
    nonce = m[24:32] + struct.pack('<I', role)
    return aes_gmac(key, bytes(nonce), bytes(m))


def sign(alg, key, msg):
    m = bytearray(msg)
    struct.pack_into('<I', m, 16, struct.unpack_from('<I', m, 16)[0] | FLAG_SIGNED)
    m[48:64] = signature(alg, key, bytes(m))
    return bytes(m)


def encrypt(cipher, key, session_id, msg, nonce=None):
    nlen = 12 if cipher == CIPHER_GCM else 11
    nonce = os.urandom(nlen) if nonce is None else nonce
    tf = bytearray(TF_LEN)
    tf[0:4] = TRANSFORM_MAGIC
    tf[20:20 + nlen] = nonce
    struct.pack_into('<IHHQ', tf, 36, len(msg), 0, 1, session_id)
    aad = bytes(tf[20:52])
    if cipher == CIPHER_GCM:
        c = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    else:
        c = AES.new(key, AES.MODE_CCM, nonce=nonce, mac_len=16, msg_len=len(msg), assoc_len=len(aad))
    c.update(aad)
    ct, tag = c.encrypt_and_digest(msg)
    tf[4:20] = tag
    return bytes(tf) + ct


def decrypt(cipher, key, frame):
    nlen = 12 if cipher == CIPHER_GCM else 11
    size = struct.unpack_from('<I', frame, 36)[0]
    if size != len(frame) - TF_LEN:
        raise ValueError('transform: OriginalMessageSize %d, %d bytes follow' % (size, len(frame) - TF_LEN))
    nonce = frame[20:20 + nlen]
    aad = frame[20:52]
    if cipher == CIPHER_GCM:
        c = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    else:
        c = AES.new(key, AES.MODE_CCM, nonce=nonce, mac_len=16, msg_len=size, assoc_len=len(aad))
    c.update(aad)
    return c.decrypt_and_verify(frame[TF_LEN:], frame[4:20])


# ---------------------------------------------------------------- NTLMSSP server

def utf16(s):
    return s.encode('utf-16-le')


def av_pair(av_id, value):
    return struct.pack('<HH', av_id, len(value)) + value


class NtlmServer:
    """The server side of one NTLMv2 exchange."""

    def __init__(self, user, password, domain, computer, report):
        self.user, self.password, self.domain, self.computer = user, password, domain, computer
        self.report = report
        self.negotiate_msg = self.challenge_msg = None
        self.flags = 0
        self.exported_key = None
        self.client_sent_mic = False

    def challenge(self, negotiate_msg):
        if negotiate_msg[:8] != b'NTLMSSP\x00' or struct.unpack_from('<I', negotiate_msg, 8)[0] != 1:
            raise ValueError('NTLMSSP: not a NEGOTIATE_MESSAGE')
        self.negotiate_msg = negotiate_msg
        cflags = struct.unpack_from('<I', negotiate_msg, 12)[0]
        keep = (NTLM_UNICODE | NTLM_SIGN | NTLM_SEAL | NTLM_ALWAYS_SIGN | NTLM_ESS | NTLM_VERSION |
                NTLM_128 | NTLM_56 | NTLM_KEY_EXCH)
        self.flags = (cflags & keep) | NTLM_UNICODE | NTLM_NTLM | NTLM_REQUEST_TARGET | \
            NTLM_TARGET_INFO | NTLM_TARGET_TYPE_SERVER
        self.server_challenge = os.urandom(8)
        target = utf16(self.computer.upper())
        info = (av_pair(2, utf16(self.domain.upper())) + av_pair(1, utf16(self.computer.upper())) +
                av_pair(4, utf16(self.domain.lower() + '.test')) +
                av_pair(3, utf16(self.computer.lower() + '.' + self.domain.lower() + '.test')) +
                av_pair(7, struct.pack('<Q', filetime())) + av_pair(0, b''))
        off = 56
        msg = b'NTLMSSP\x00' + struct.pack('<I', 2)
        msg += struct.pack('<HHI', len(target), len(target), off)
        msg += struct.pack('<I', self.flags) + self.server_challenge + bytes(8)
        msg += struct.pack('<HHI', len(info), len(info), off + len(target))
        msg += bytes([10, 0]) + struct.pack('<H', 20348) + bytes([0, 0, 0, 15])
        assert len(msg) == off
        self.challenge_msg = msg + target + info
        return self.challenge_msg

    def authenticate(self, msg):
        """Checks an AUTHENTICATE_MESSAGE; sets exported_key. Returns an NTSTATUS."""
        def field(off):
            ln, _, o = struct.unpack_from('<HHI', msg, off)
            if o + ln > len(msg):
                raise ValueError('NTLMSSP: field at %d past the end' % off)
            return msg[o:o + ln]

        if msg[:8] != b'NTLMSSP\x00' or struct.unpack_from('<I', msg, 8)[0] != 3:
            raise ValueError('NTLMSSP: not an AUTHENTICATE_MESSAGE')
        nt = field(20)
        domain = field(28).decode('utf-16-le')
        user = field(36).decode('utf-16-le')
        enc_key = field(52)
        aflags = struct.unpack_from('<I', msg, 60)[0]
        if user.lower() != self.user.lower() or len(nt) < 48:
            self.report('logon_failure', user=user, domain=domain, why='unknown user or no NTLMv2 response')
            return STATUS_LOGON_FAILURE
        response_key = impacket_ntlm.NTOWFv2(user, self.password, domain)
        proof, temp = nt[:16], nt[16:]
        if hmac_md5(response_key, self.server_challenge + temp) != proof:
            self.report('logon_failure', user=user, domain=domain, why='NTProofStr mismatch')
            return STATUS_LOGON_FAILURE
        base_key = hmac_md5(response_key, proof)
        if aflags & NTLM_KEY_EXCH:
            if len(enc_key) != 16:
                self.report('violation', what='KEY_EXCH without a 16-byte EncryptedRandomSessionKey')
                return STATUS_LOGON_FAILURE
            self.exported_key = ARC4.new(base_key).decrypt(enc_key)
        else:
            self.exported_key = base_key
        self.flags = aflags
        # MsvAvFlags bit 2 in the client's AV pairs: a MIC at offset 72.
        av, off = temp[28:], 0
        av_flags = 0
        while off + 4 <= len(av):
            av_id, ln = struct.unpack_from('<HH', av, off)
            if av_id == 0:
                break
            if av_id == 6 and ln == 4:
                av_flags = struct.unpack_from('<I', av, off + 4)[0]
            off += 4 + ln
        if av_flags & 2:
            self.client_sent_mic = True
            mic = msg[72:88]
            zeroed = msg[:72] + bytes(16) + msg[88:]
            want = hmac_md5(self.exported_key, self.negotiate_msg + self.challenge_msg + zeroed)
            if mic != want:
                self.report('violation', what='NTLMSSP MIC mismatch')
                return STATUS_LOGON_FAILURE
        self.report('ntlm_ok', user=user, domain=domain, flags='0x%08x' % aflags, mic=bool(av_flags & 2))
        return STATUS_SUCCESS

    def _keys(self, direction):
        if direction == 'c2s':
            sk = b'session key to client-to-server signing key magic constant\x00'
            ek = b'session key to client-to-server sealing key magic constant\x00'
        else:
            sk = b'session key to server-to-client signing key magic constant\x00'
            ek = b'session key to server-to-client sealing key magic constant\x00'
        return hashlib.md5(self.exported_key + sk).digest(), hashlib.md5(self.exported_key + ek).digest()

    def mech_list_mic(self, direction, data, seq=0):
        """An NTLMSSP_MESSAGE_SIGNATURE (ESS) over data, as the SPNEGO mechListMIC."""
        sign_key, seal_key = self._keys(direction)
        checksum = hmac_md5(sign_key, struct.pack('<I', seq) + data)[:8]
        if self.flags & NTLM_KEY_EXCH:
            checksum = ARC4.new(seal_key).encrypt(checksum)
        return struct.pack('<I', 1) + checksum + struct.pack('<I', seq)


# ---------------------------------------------------------------- the server

class ClientGone(Exception):
    pass


class Session:
    def __init__(self, sid):
        self.id = sid
        self.ntlm = None
        self.mech_types_der = None
        self.preauth = None
        self.rounds = 0
        self.keys = None          # dict: signing, enc (c2s), dec (s2c)
        self.signing = False
        self.encrypt = False
        self.valid = False
        self.trees = {}


class Connection:
    def __init__(self, srv, sock, addr, conn_no):
        self.srv, self.sock, self.addr, self.no = srv, sock, addr, conn_no
        self.opt = srv.opt
        self.report = srv.report
        self.wlock = threading.Lock()
        self.dialect = None
        self.cipher = 0
        self.sign_alg = SIGN_HMAC
        self.preauth = None
        self.sessions = {}
        self.next_session = 1
        self.next_tree = 1
        self.next_async = 1
        self.granted = 1               # the client's balance as the server sees it: granted - charged
        self.seen_mids = set()
        self.timers = []
        self.echo_count = 0
        self.client_neg = None
        self.done_once = set()         # scenario faults made already
        self.closed = False

    # ---- sending

    def send_frame(self, payload):
        frame = struct.pack('>I', len(payload)) + payload
        with self.wlock:
            if self.closed:
                raise ClientGone()
            try:
                self.sock.sendall(frame)
            except OSError as e:
                self.closed = True
                raise ClientGone() from e

    def header(self, req, status, credit, flags=0, async_id=None, session_id=None, tree_id=None, mid=None,
               cmd=None):
        h = bytearray(HDR_LEN)
        h[0:4] = SMB2_MAGIC
        struct.pack_into('<HHIHH', h, 4, 64, struct.unpack_from('<H', req, 6)[0], status,
                         struct.unpack_from('<H', req, 12)[0] if cmd is None else cmd, credit)
        flags |= FLAG_RESPONSE
        if async_id is not None:
            flags |= FLAG_ASYNC
        struct.pack_into('<II', h, 16, flags, 0)
        struct.pack_into('<Q', h, 24, struct.unpack_from('<Q', req, 24)[0] if mid is None else mid)
        if async_id is not None:
            struct.pack_into('<Q', h, 32, async_id)
        else:
            struct.pack_into('<I', h, 32, struct.unpack_from('<I', req, 32)[0])
            struct.pack_into('<I', h, 36, struct.unpack_from('<I', req, 36)[0] if tree_id is None else tree_id)
        struct.pack_into('<Q', h, 40, struct.unpack_from('<Q', req, 40)[0] if session_id is None else session_id)
        return h

    def grant_for(self, req):
        """Credits granted in the answer to req (and counted in the balance)."""
        if self.opt.scenario == 'credit_max':
            g = MAX_CREDIT
        else:
            asked = struct.unpack_from('<H', req, 14)[0]
            g = min(max(asked, 1), 512)
        return g

    def respond(self, req, status, body, encrypted, credit=None, flags=0, async_id=None, session=None,
                sign=True, tree_id=None, session_id=None, mid=None, raw=False):
        """Builds, signs (when the session signs), encrypts (when the request was) and sends one answer."""
        if credit is None:
            credit = self.grant_for(req)
        self.granted += credit
        msg = bytes(self.header(req, status, credit, flags, async_id, session_id, tree_id, mid)) + body
        if raw:
            self.send_frame(msg)
            return msg
        s = session if session is not None else self.sessions.get(struct.unpack_from('<Q', req, 40)[0])
        if encrypted and s is not None and s.keys:
            self.send_frame(self.seal(s, msg))
        else:
            if sign and s is not None and s.signing and s.keys:
                msg = sign_msg(self, s, msg)
            self.send_frame(msg)
        return msg

    def seal(self, s, msg, transform_session=None):
        return encrypt(self.cipher, s.keys['dec'], s.id if transform_session is None else transform_session, msg)

    def later(self, seconds, fn):
        t = threading.Timer(seconds, self._run_later, args=(fn,))
        t.daemon = True
        self.timers.append(t)
        t.start()

    def _run_later(self, fn):
        try:
            fn()
        except ClientGone:
            pass
        except Exception as e:  # a bug of this server: visible in the report
            self.report('server_error', conn=self.no, error=repr(e))

    # ---- receiving

    def recv_exact(self, n):
        buf = b''
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except OSError:
                chunk = b''
            if not chunk:
                raise ClientGone()
            buf += chunk
        return buf

    def serve(self):
        self.report('conn', conn=self.no, peer='%s:%d' % self.addr[:2])
        try:
            while True:
                nb = self.recv_exact(4)
                if nb[0] != 0:
                    self.report('violation', conn=self.no, what='NetBIOS type 0x%02x' % nb[0])
                    continue
                n = int.from_bytes(nb[1:], 'big')
                frame = self.recv_exact(n)
                self.frame(frame)
        except ClientGone:
            pass
        except Exception as e:
            self.report('server_error', conn=self.no, error=repr(e))
            import traceback
            traceback.print_exc()
        finally:
            for t in self.timers:
                t.cancel()
            with self.wlock:
                self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass
            self.report('closed', conn=self.no)

    def frame(self, frame):
        encrypted = False
        if frame[:4] == TRANSFORM_MAGIC:
            if len(frame) < TF_LEN + HDR_LEN:
                self.report('violation', conn=self.no, what='short transform frame')
                return
            sid = struct.unpack_from('<Q', frame, 44)[0]
            flags = struct.unpack_from('<H', frame, 42)[0]
            s = self.sessions.get(sid)
            self.report('nonce', conn=self.no, session=sid, nonce=frame[20:36].hex(),
                        cipher=self.cipher, flags=flags)
            if s is None or not s.keys or flags != 1:
                self.report('violation', conn=self.no, what='transform for unknown session %x' % sid)
                return
            try:
                frame = decrypt(self.cipher, s.keys['enc'], frame)
            except ValueError as e:
                self.report('violation', conn=self.no, what='decryption failed: %s' % e)
                return
            encrypted = True
        off = 0
        while True:
            if len(frame) - off < HDR_LEN or frame[off:off + 4] != SMB2_MAGIC:
                self.report('violation', conn=self.no, what='not an SMB2 message at %d' % off)
                return
            nxt = struct.unpack_from('<I', frame, off + 20)[0]
            end = off + nxt if nxt else len(frame)
            if nxt and (nxt % 8 or end > len(frame)):
                self.report('violation', conn=self.no, what='bad NextCommand %d' % nxt)
                return
            self.message(frame[off:end], encrypted)
            if not nxt:
                return
            off = end

    def message(self, msg, encrypted):
        cmd = struct.unpack_from('<H', msg, 12)[0]
        flags = struct.unpack_from('<I', msg, 16)[0]
        mid = struct.unpack_from('<Q', msg, 24)[0]
        charge = struct.unpack_from('<H', msg, 6)[0]
        sid = struct.unpack_from('<Q', msg, 40)[0]
        if flags & FLAG_RESPONSE:
            self.report('violation', conn=self.no, what='a response from the client')
            return
        if cmd != CANCEL:
            n = max(charge, 1)
            for m in range(mid, mid + n):
                if m in self.seen_mids:
                    self.report('violation', conn=self.no, what='message id %d used twice' % m)
                self.seen_mids.add(m)
            self.granted -= n
            if self.granted < 0:
                self.report('violation', conn=self.no, what='more credits charged than granted (%d)' % self.granted)
        s = self.sessions.get(sid)
        # Signed sessions: every request but SESSION_SETUP is signed (unless encrypted).
        if s is not None and s.valid and s.signing and not encrypted and cmd != SESSION_SETUP:
            if not flags & FLAG_SIGNED:
                self.report('violation', conn=self.no, what='unsigned request (command %d) on a signed session' % cmd)
            elif signature(self.sign_alg, s.keys['signing'], msg) != msg[48:64]:
                self.report('violation', conn=self.no, what='bad signature on command %d' % cmd)
        if s is not None and s.valid and s.encrypt and not encrypted and cmd not in (SESSION_SETUP, NEGOTIATE):
            self.report('violation', conn=self.no, what='plaintext request (command %d) on an encrypted session' % cmd)
        handler = {
            NEGOTIATE: self.negotiate, SESSION_SETUP: self.session_setup, LOGOFF: self.logoff,
            TREE_CONNECT: self.tree_connect, TREE_DISCONNECT: self.tree_disconnect, IOCTL: self.ioctl,
            CANCEL: self.cancel, ECHO: self.echo,
        }.get(cmd)
        if handler is None:
            self.respond(msg, STATUS_NOT_SUPPORTED, error_body(), encrypted)
            return
        handler(msg, encrypted)

    # ---- NEGOTIATE

    def negotiate(self, req, encrypted):
        body = req[HDR_LEN:]
        count = struct.unpack_from('<H', body, 2)[0]
        sec_mode = struct.unpack_from('<H', body, 4)[0]
        caps = struct.unpack_from('<I', body, 8)[0]
        guid = body[12:28]
        offered = [struct.unpack_from('<H', body, 36 + 2 * i)[0] for i in range(count)]
        want = DIALECTS[self.opt.dialect]
        if want not in offered:
            self.report('negotiate_refused', conn=self.no, offered=['0x%04x' % d for d in offered])
            self.respond(req, STATUS_NOT_SUPPORTED, error_body(), False)
            return
        self.dialect = want
        self.client_neg = (caps, guid, sec_mode, offered)
        ctx_out = b''
        nctx = 0
        if want == 0x0311:
            ctx_off = struct.unpack_from('<I', body, 28)[0]
            ctx_cnt = struct.unpack_from('<H', body, 32)[0]
            off = ctx_off
            ciphers, sign_algs, have_preauth = [], None, False
            for _ in range(ctx_cnt):
                off = (off + 7) & ~7
                ctype, dlen = struct.unpack_from('<HH', req, off)
                data = req[off + 8:off + 8 + dlen]
                if ctype == 1:
                    n = struct.unpack_from('<H', data, 0)[0]
                    algs = [struct.unpack_from('<H', data, 4 + 2 * i)[0] for i in range(n)]
                    have_preauth = 1 in algs
                elif ctype == 2:
                    n = struct.unpack_from('<H', data, 0)[0]
                    ciphers = [struct.unpack_from('<H', data, 2 + 2 * i)[0] for i in range(n)]
                elif ctype == 8:
                    n = struct.unpack_from('<H', data, 0)[0]
                    sign_algs = [struct.unpack_from('<H', data, 2 + 2 * i)[0] for i in range(n)]
                off += 8 + dlen
            if not have_preauth:
                self.report('violation', conn=self.no, what='3.1.1 NEGOTIATE without SHA-512 preauth')
            want_cipher = {'gcm': CIPHER_GCM, 'ccm': CIPHER_CCM, 'none': 0}[self.opt.cipher]
            self.cipher = want_cipher if want_cipher in ciphers else 0
            salt = os.urandom(32)
            contexts = [(1, struct.pack('<HHH', 1, 32, 1) + salt),
                        (2, struct.pack('<HH', 1, self.cipher))]
            want_sign = {'hmac': SIGN_HMAC, 'cmac': SIGN_CMAC, 'gmac': SIGN_GMAC}[self.opt.sign_alg]
            self.sign_alg = SIGN_CMAC
            if sign_algs is not None:
                self.sign_alg = want_sign if want_sign in sign_algs else SIGN_CMAC
                contexts.append((8, struct.pack('<HH', 1, self.sign_alg)))
            for ctype, data in contexts:
                ctx_out += bytes((-len(ctx_out)) % 8)
                ctx_out += struct.pack('<HHI', ctype, len(data), 0) + data
            nctx = len(contexts)
        elif want >= 0x0300:
            self.sign_alg = SIGN_CMAC
            self.cipher = CIPHER_CCM if (caps & CAP_ENCRYPTION) and self.opt.cipher != 'none' else 0
        else:
            self.sign_alg = SIGN_HMAC
        hint = spnego_hint()
        server_caps = CAP_DFS | (CAP_LARGE_MTU if want >= 0x0210 else 0) | \
            (CAP_ENCRYPTION if want in (0x0300, 0x0302) and self.cipher else 0)
        mode = 0x1 | (0x2 if self.opt.signing_required else 0)
        sec_off = HDR_LEN + 64
        resp = struct.pack('<HHHH', 65, mode, want, nctx) + self.srv.guid
        resp += struct.pack('<IIII', server_caps, self.opt.max_transact, self.opt.max_read, self.opt.max_write)
        resp += struct.pack('<QQ', filetime(), 0)
        ctx_off = (sec_off + len(hint) + 7) & ~7 if nctx else 0
        resp += struct.pack('<HHI', sec_off, len(hint), ctx_off)
        resp += hint
        if nctx:
            resp += bytes(ctx_off - sec_off - len(hint)) + ctx_out
        msg = self.respond(req, STATUS_SUCCESS, resp, False)
        if want == 0x0311:
            self.preauth = hashlib.sha512(hashlib.sha512(bytes(64) + req).digest() + msg).digest()
        self.report('negotiate', conn=self.no, dialect='0x%04x' % want, cipher=self.cipher,
                    sign_alg=self.sign_alg, offered=['0x%04x' % d for d in offered],
                    client_security_mode=sec_mode, client_caps='0x%x' % caps)

    # ---- SESSION_SETUP

    def session_setup(self, req, encrypted):
        if self.dialect is None:
            self.report('violation', conn=self.no, what='SESSION_SETUP before NEGOTIATE')
            return
        body = req[HDR_LEN:]
        sec_off, sec_len = struct.unpack_from('<HH', body, 12)
        token = req[sec_off:sec_off + sec_len]
        sid = struct.unpack_from('<Q', req, 40)[0]
        if sid == 0:
            sid = 0x0000100000000000 + self.no * 0x100 + self.next_session
            self.next_session += 1
            s = Session(sid)
            s.preauth = self.preauth
            s.ntlm = NtlmServer(self.opt.user, self.opt.password, self.opt.domain, 'FAKESRV', self.report)
            self.sessions[sid] = s
        else:
            s = self.sessions.get(sid)
            if s is None or s.valid:
                self.respond(req, STATUS_USER_SESSION_DELETED, error_body(), False, session_id=sid)
                return
        s.rounds += 1
        if self.dialect == 0x0311:
            s.preauth = hashlib.sha512(s.preauth + req).digest()
        try:
            tok = spnego_parse(token)
        except ValueError as e:
            self.report('violation', conn=self.no, what=str(e))
            self.respond(req, STATUS_INVALID_PARAMETER, error_body(), False, session_id=sid)
            return
        if s.rounds == 1:
            if tok['mech_types_der'] is None or OID_NTLMSSP not in tok['mech_types']:
                self.report('violation', conn=self.no, what='first SPNEGO token without NTLMSSP')
                self.respond(req, STATUS_NOT_SUPPORTED, error_body(), False, session_id=sid)
                return
            s.mech_types_der = tok['mech_types_der']
            chal = s.ntlm.challenge(tok['token'])
            out = spnego_resp(1, OID_NTLMSSP, chal)
            msg = self.respond(req, STATUS_MORE_PROCESSING, ss_body(0, out), False, session_id=sid)
            if self.dialect == 0x0311:
                s.preauth = hashlib.sha512(s.preauth + msg).digest()
            return
        st = s.ntlm.authenticate(tok['token'] or b'')
        mic_out = None
        if st == STATUS_SUCCESS and tok['mic'] is not None:
            want = s.ntlm.mech_list_mic('c2s', s.mech_types_der)
            if tok['mic'] != want:
                self.report('violation', conn=self.no, what='SPNEGO mechListMIC mismatch')
                st = STATUS_LOGON_FAILURE
            else:
                mic_out = s.ntlm.mech_list_mic('s2c', s.mech_types_der)
        elif st == STATUS_SUCCESS and s.ntlm.client_sent_mic:
            self.report('violation', conn=self.no, what='NTLM MIC but no SPNEGO mechListMIC')
        if st != STATUS_SUCCESS:
            del self.sessions[sid]
            self.respond(req, st, error_body(), False, session_id=sid)
            return
        self.derive(s)
        s.encrypt = bool(self.opt.encrypt and self.cipher)
        out = spnego_resp(0, None, None, mic_out)
        sflags = SESSION_FLAG_ENCRYPT_DATA if s.encrypt else 0
        first_session = not any(x.valid for x in self.sessions.values())

        def final():
            s.valid = s.signing = True
            self.respond(req, STATUS_SUCCESS, ss_body(sflags, out), False, session=s, session_id=sid)
            self.report('session', conn=self.no, session=sid, encrypt=s.encrypt, signing=s.signing,
                        dialect='0x%04x' % self.dialect)

        if self.opt.scenario == 'slow_setup' and first_session and 'slow' not in self.done_once:
            self.done_once.add('slow')
            self.report('slow_setup', conn=self.no, session=sid, delay=self.opt.delay)
            self.later(self.opt.delay, final)
            return
        final()

    def derive(self, s):
        key = s.ntlm.exported_key[:16].ljust(16, b'\x00')
        d = self.dialect
        if d < 0x0300:
            s.keys = {'signing': key}
        elif d < 0x0311:
            s.keys = {'signing': kdf(key, b'SMB2AESCMAC\x00', b'SmbSign\x00'),
                      'enc': kdf(key, b'SMB2AESCCM\x00', b'ServerIn \x00'),
                      'dec': kdf(key, b'SMB2AESCCM\x00', b'ServerOut\x00')}
        else:
            s.keys = {'signing': kdf(key, b'SMBSigningKey\x00', s.preauth),
                      'enc': kdf(key, b'SMBC2SCipherKey\x00', s.preauth),
                      'dec': kdf(key, b'SMBS2CCipherKey\x00', s.preauth)}

    # ---- LOGOFF, TREE_CONNECT, TREE_DISCONNECT, IOCTL

    def logoff(self, req, encrypted):
        sid = struct.unpack_from('<Q', req, 40)[0]
        s = self.sessions.get(sid)
        if s is None:
            self.respond(req, STATUS_USER_SESSION_DELETED, error_body(), encrypted)
            return
        self.respond(req, STATUS_SUCCESS, struct.pack('<HH', 4, 0), encrypted)
        self.report('logoff', conn=self.no, session=sid)
        del self.sessions[sid]

    def tree_connect(self, req, encrypted):
        sid = struct.unpack_from('<Q', req, 40)[0]
        s = self.sessions.get(sid)
        if s is None or not s.valid:
            self.respond(req, STATUS_USER_SESSION_DELETED, error_body(), encrypted)
            return
        po, pl = struct.unpack_from('<HH', req, HDR_LEN + 4)
        path = req[po:po + pl].decode('utf-16-le', 'replace')
        share = path.rsplit('\\', 1)[-1].upper()
        tid = self.next_tree
        self.next_tree += 1
        s.trees[tid] = share
        stype = 2 if share == 'IPC$' else 1
        body = struct.pack('<HBBIII', 16, stype, 0, 0, 0, 0x001F01FF)
        self.report('tree_connect', conn=self.no, session=sid, path=path, tree=tid)
        if self.opt.scenario == 'async_tree_connect':
            aid = ASYNC_ID_TREE
            self.respond(req, STATUS_PENDING, error_body(), encrypted, credit=1, async_id=aid)
            self.respond(req, STATUS_SUCCESS, body, encrypted, credit=1, async_id=aid)
            self.report('async_tree_connect', conn=self.no, async_id='0x%016x' % aid, tree=tid)
            return
        self.respond(req, STATUS_SUCCESS, body, encrypted, tree_id=tid)

    def tree_disconnect(self, req, encrypted):
        self.respond(req, STATUS_SUCCESS, struct.pack('<HH', 4, 0), encrypted)

    def ioctl(self, req, encrypted):
        ctl = struct.unpack_from('<I', req, HDR_LEN + 4)[0]
        if ctl != FSCTL_VALIDATE_NEGOTIATE_INFO:
            self.respond(req, STATUS_NOT_SUPPORTED, error_body(), encrypted)
            return
        in_off, in_cnt = struct.unpack_from('<II', req, HDR_LEN + 24)
        data = req[in_off:in_off + in_cnt]
        caps, guid, mode, cnt = struct.unpack_from('<I16sHH', data, 0)
        dialects = [struct.unpack_from('<H', data, 24 + 2 * i)[0] for i in range(cnt)]
        ccaps, cguid, cmode, coffered = self.client_neg
        if (caps, guid, mode, dialects) != (ccaps, cguid, cmode, coffered):
            self.report('violation', conn=self.no, what='VALIDATE_NEGOTIATE_INFO differs from the NEGOTIATE')
        server_caps = CAP_DFS | CAP_LARGE_MTU | (CAP_ENCRYPTION if self.cipher else 0)
        out = struct.pack('<I16sHH', server_caps, self.srv.guid, 0x1 | (0x2 if self.opt.signing_required else 0),
                          self.dialect)
        body = struct.pack('<HHI16sIIIIII', 49, 0, ctl, req[HDR_LEN + 8:HDR_LEN + 24], HDR_LEN + 48, 0,
                           HDR_LEN + 48, len(out), 0, 0) + out
        self.report('validate_negotiate', conn=self.no)
        self.respond(req, STATUS_SUCCESS, body, encrypted)

    # ---- CANCEL and ECHO: where most scenarios strike

    def cancel(self, req, encrypted):
        flags = struct.unpack_from('<I', req, 16)[0]
        mid = struct.unpack_from('<Q', req, 24)[0]
        aid = struct.unpack_from('<Q', req, 32)[0] if flags & FLAG_ASYNC else None
        sid = struct.unpack_from('<Q', req, 40)[0]
        self.report('cancel', conn=self.no, mid=mid, async_id=aid, session=sid, encrypted=encrypted,
                    signed=bool(flags & FLAG_SIGNED))
        pend = self.srv.pending_echo.get((self.no, mid))
        if pend is not None and not self.opt.ignore_cancel:
            preq, penc, paid = pend
            del self.srv.pending_echo[(self.no, mid)]
            self.respond(preq, STATUS_CANCELLED, error_body(), penc, credit=0, async_id=paid)

    def echo(self, req, encrypted):
        sc = self.opt.scenario
        sid = struct.unpack_from('<Q', req, 40)[0]
        s = self.sessions.get(sid)
        body = struct.pack('<HH', 4, 0)
        logged_on = s is not None and s.valid
        first = logged_on and sc not in self.done_once
        self.echo_count += 1
        if not logged_on:
            self.respond(req, STATUS_SUCCESS, body, encrypted)
            return
        if sc == 'interim_flood' and first:
            self.done_once.add(sc)
            self.flood(req, encrypted, s, body)
            return
        if sc == 'unknown_mid' and first:
            self.done_once.add(sc)
            mid = struct.unpack_from('<Q', req, 24)[0]
            self.report('fault', conn=self.no, what='answer to message id %d, never sent' % (mid + 1000))
            self.respond(req, STATUS_SUCCESS, body, encrypted, credit=1, mid=mid + 1000)
            self.respond(req, STATUS_SUCCESS, body, encrypted)
            return
        if sc == 'duplicate' and first:
            self.done_once.add(sc)
            self.report('fault', conn=self.no, what='answer to message id %d sent twice'
                        % struct.unpack_from('<Q', req, 24)[0])
            self.respond(req, STATUS_SUCCESS, body, encrypted, credit=1)
            self.respond(req, STATUS_SUCCESS, body, encrypted, credit=1)
            return
        if sc == 'other_session' and 'other_session' not in self.done_once:
            others = [x for x in self.sessions.values() if x.valid and x.id != sid and x.keys]
            if others and encrypted and sid == min(x.id for x in self.sessions.values() if x.valid):
                self.done_once.add(sc)
                b = others[0]
                self.report('fault', conn=self.no, what='answer for session %x sealed as %s' %
                            (sid, self.opt.variant), a=sid, b=b.id)
                credit = self.grant_for(req)
                self.granted += credit
                if self.opt.variant == 'transform':
                    msg = bytes(self.header(req, STATUS_SUCCESS, credit)) + body
                    self.send_frame(encrypt(self.cipher, b.keys['dec'], b.id, msg))
                else:
                    msg = bytes(self.header(req, STATUS_SUCCESS, credit, session_id=b.id)) + body
                    self.send_frame(encrypt(self.cipher, s.keys['dec'], s.id, msg))
                return
        if sc == 'plaintext_interim_encrypted' and first and encrypted:
            self.done_once.add(sc)
            n = self.opt.interims if self.opt.interims is not None else 4
            aid = self.new_async()
            self.report('fault', conn=self.no, what='%d plaintext interims of 65535 credits' % n,
                        interims=n)
            for _ in range(n):
                self.respond(req, STATUS_PENDING, error_body(), False, credit=MAX_CREDIT, async_id=aid,
                             sign=False, raw=True)
            self.respond(req, STATUS_SUCCESS, body, encrypted, async_id=aid)
            return
        if sc == 'pending_forever' and first:
            self.done_once.add(sc)
            aid = self.new_async()
            mid = struct.unpack_from('<Q', req, 24)[0]
            self.srv.pending_echo[(self.no, mid)] = (req, encrypted, aid)
            self.report('fault', conn=self.no, what='interim for message id %d, then nothing' % mid,
                        mid=mid, async_id=aid)
            self.respond(req, STATUS_PENDING, error_body(), encrypted, credit=1, async_id=aid)
            return
        self.respond(req, STATUS_SUCCESS, body, encrypted)

    def new_async(self):
        aid = (self.no << 32) | self.next_async
        self.next_async += 1
        return aid

    def flood(self, req, encrypted, s, body):
        """Interims of 65,535 credits until the client's count wraps to 0 with the final answer."""
        aid = self.new_async()
        balance = self.granted            # after this ECHO's charge
        if self.opt.interims is not None:
            counts = [MAX_CREDIT] * self.opt.interims
            final = 1
        else:
            total = (1 << 32) - balance   # what makes balance + total == 2^32, i.e. 0 in a uint32
            final = 1
            rest = total - final
            counts = [MAX_CREDIT] * (rest // MAX_CREDIT)
            if rest % MAX_CREDIT:
                counts.append(rest % MAX_CREDIT)
        self.report('flood', conn=self.no, balance_before=balance, interims=len(counts),
                    total=sum(counts) + final)
        sid = s.id
        parts = []
        for c in counts:
            msg = bytes(self.header(req, STATUS_PENDING, c, async_id=aid)) + error_body()
            if encrypted:
                parts.append(frame_of(self.seal(s, msg)))
            else:
                if s.signing:
                    msg = sign_msg(self, s, msg)
                parts.append(frame_of(msg))
            self.granted += c
            if len(parts) >= (8 if self.granted < (1 << 20) else 4096):
                self.send_raw(b''.join(parts))
                parts = []
        if parts:
            self.send_raw(b''.join(parts))
        self.respond(req, STATUS_SUCCESS, body, encrypted, credit=final, async_id=aid, session_id=sid)
        self.report('flood_done', conn=self.no, balance_after=self.granted % (1 << 32))

    def send_raw(self, data):
        with self.wlock:
            if self.closed:
                raise ClientGone()
            try:
                self.sock.sendall(data)
            except OSError as e:
                self.closed = True
                raise ClientGone() from e


def frame_of(payload):
    return struct.pack('>I', len(payload)) + payload


def sign_msg(conn, s, msg):
    return sign(conn.sign_alg, s.keys['signing'], msg)


def error_body():
    return struct.pack('<HBBI', 9, 0, 0, 0) + b'\x00'


def ss_body(sflags, token):
    return struct.pack('<HHHH', 9, sflags, HDR_LEN + 8, len(token)) + token


class Server:
    def __init__(self, opt):
        self.opt = opt
        self.report = Report(opt.report)
        self.guid = os.urandom(16)
        self.pending_echo = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((opt.address, opt.port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = 0

    def run(self):
        while True:
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conns += 1
            conn = Connection(self, c, addr, self.conns)
            threading.Thread(target=conn.serve, daemon=True).start()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--scenario', default='normal',
                   choices=['normal', 'interim_flood', 'credit_max', 'unknown_mid', 'duplicate', 'other_session',
                            'plaintext_interim_encrypted', 'pending_forever', 'async_tree_connect',
                            'small_limits', 'nonces', 'slow_setup'])
    p.add_argument('--variant', default='transform', choices=['transform', 'inner'])
    p.add_argument('--dialect', default='3.1.1', choices=sorted(DIALECTS))
    p.add_argument('--cipher', default='gcm', choices=['gcm', 'ccm', 'none'])
    p.add_argument('--sign-alg', default='cmac', choices=['hmac', 'cmac', 'gmac'])
    p.add_argument('--encrypt', action='store_true', help='sessions get SESSION_FLAG_ENCRYPT_DATA')
    p.add_argument('--signing-required', action='store_true')
    p.add_argument('--max-transact', type=int, default=8 * 1024 * 1024)
    p.add_argument('--max-read', type=int, default=8 * 1024 * 1024)
    p.add_argument('--max-write', type=int, default=8 * 1024 * 1024)
    p.add_argument('--interims', type=int, default=None)
    p.add_argument('--delay', type=float, default=3.0)
    p.add_argument('--ignore-cancel', action='store_true')
    p.add_argument('--user', default='alice')
    p.add_argument('--password', default='Secret-pw1')
    p.add_argument('--domain', default='FAKEDOM')
    p.add_argument('--address', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--report', default=None)
    p.add_argument('--stdin', action='store_true', help='stop at the end of stdin')
    p.add_argument('--max-seconds', type=float, default=600)
    return p.parse_args(argv)


def main():
    opt = parse_args()
    srv = Server(opt)

    def stop(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)
    threading.Timer(opt.max_seconds, stop).start()
    if opt.stdin:
        def watch():
            while sys.stdin.read(4096):
                pass
            stop()
        threading.Thread(target=watch, daemon=True).start()
    print('PORT=%d' % srv.port, flush=True)
    print('READY', flush=True)
    srv.run()


if __name__ == '__main__':
    main()
