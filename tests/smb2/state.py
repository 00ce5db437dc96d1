#!/usr/bin/python3
"""state.py: the SMB2 connection against a server that attacks its state (TAP).

    state.py SMB2_STATE

Runs tests/smb2/fake_smb2.py (a scripted SMB2/3 server, independent of our
C code) with one scenario at a time and tests/tools/smb2_state (lib/smb2
linked directly) against it, and checks what the connection did:

- first that the fake server is right: the library logs on, signs,
  encrypts and echoes at every dialect and cipher, and so do clients we did
  not write (impacket's SMBConnection, Samba's smbclient), with the fake
  checking their signatures, MICs and keys;
- then each fault of issue 9 sections 4 and 5: interim floods, credit
  grants of 65,535, answers to ids never sent or sent twice, answers under
  another session's keys, plaintext interims on an encrypted session, an
  interim and then nothing, an async TREE_CONNECT, limits below 64 KiB,
  the AES nonces, and the lifetimes (a finished or timed-out request freed
  after its connection, a session setup cancelled mid-round, a session
  freed while the answer to its cancelled request is on the way).

Every run of the tool must end without a sanitizer report and with no
talloc memory left (leak_blocks=0); and the fake must have seen no protocol
violation of the client (bad signature, reused message id, more credits
spent than granted, ...). Runs in suite 'smb2', so also in the ASan/UBSan
build of tests/run.sh. Debian's /usr/bin/python3 (impacket, pycryptodomex).
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'harness'))
from tap import check, diag, section, results, timings  # noqa: E402

FAKE = os.path.join(HERE, 'fake_smb2.py')
PY = '/usr/bin/python3'
SMBCLIENT = shutil.which('smbclient') or '/usr/bin/smbclient'
USER, PASSWORD, DOMAIN = 'alice', 'Secret-pw1', 'FAKEDOM'
SANITIZER = re.compile(r'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehavior')
MAX_CREDIT = 65535

TOOL = None
TMP = None


class Fake:
    """One fake server process with one scenario; its report is read at stop()."""

    def __init__(self, *args):
        fd, self.report = tempfile.mkstemp(prefix='fake-', suffix='.jsonl', dir=TMP)
        os.close(fd)
        self.args = ['--report', self.report, '--stdin', '--max-seconds', '300'] + list(args)
        self.proc = subprocess.Popen([PY, FAKE] + self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        deadline = time.monotonic() + 30
        out = b''
        fd = self.proc.stdout.fileno()
        while b'READY\n' not in out and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                out += chunk
        lines = out.decode(errors='replace').splitlines()
        for line in lines:
            if line.startswith('PORT='):
                self.port = int(line[5:])
        if self.port is None or 'READY' not in lines:
            err = self.stop_raw()
            raise RuntimeError('fake server did not start: %s %s' % (lines, err))
        self.events = []

    def stop_raw(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()

    def stop(self):
        self.stderr = self.stop_raw()
        with open(self.report) as f:
            self.events = [json.loads(line) for line in f if line.strip()]
        os.unlink(self.report)
        return self.events

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()

    def of(self, ev):
        return [e for e in self.events if e['ev'] == ev]


class Run:
    """One run of smb2_state: key=value lines (the last of a key wins) and the rest."""

    def __init__(self, sub, port, *kv, timeout=180):
        t0 = time.monotonic()
        try:
            p = subprocess.run([TOOL, sub, '127.0.0.1', str(port)] + list(kv), capture_output=True, text=True,
                               timeout=timeout)
            self.rc, self.stdout, self.stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            self.rc = 'timeout'
            self.stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
            self.stderr = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or '')
        self.seconds = time.monotonic() - t0
        self.v = {}
        for line in self.stdout.splitlines():
            if '=' in line:
                k, val = line.split('=', 1)
                self.v[k] = val

    def get(self, k, default=None):
        return self.v.get(k, default)

    def num(self, k):
        try:
            return int(self.v[k])
        except (KeyError, ValueError):
            return None

    def output(self):
        return 'exit %s after %.2f s\n--- stdout\n%s--- stderr (tail)\n%s' % (
            self.rc, self.seconds, self.stdout, '\n'.join(self.stderr.splitlines()[-40:]))


def scenario(fake_args, sub, *kv, timeout=180):
    """Starts the fake, runs the tool against it, stops the fake: (run, fake)."""
    with Fake(*fake_args) as f:
        r = Run(sub, f.port, *kv, timeout=timeout)
        f.stop()
    diag('%s %s: %.2f s, exit %s' % (sub, ' '.join(fake_args), r.seconds, r.rc))
    return r, f


def expect(r, what, **want):
    """One check: every key has its value (a callable value is a predicate)."""
    bad = []
    for k, w in want.items():
        got = r.get(k)
        ok = w(got) if callable(w) else got == str(w)
        if not ok:
            bad.append('%s=%s (wanted %s)' % (k, got, getattr(w, 'what', w)))
    return check(not bad, what, '\n'.join(bad) + '\n' + r.output())


def pred(fn, what):
    fn.what = what
    return fn


def at_most(n):
    return pred(lambda v: v is not None and v.isdigit() and int(v) <= n, '<= %d' % n)


def common(r, f, name, rc=0, violations=True):
    """Three checks every run gets: clean exit without sanitizer reports, no leak, a fake that saw no violation."""
    san = SANITIZER.search(r.stderr)
    check(r.rc == rc and not san, '%s: exit %s, no sanitizer report' % (name, rc), r.output())
    check(r.get('leak_blocks') == '0', '%s: no talloc memory left' % name, r.output())
    if violations:
        bad = [e for e in f.events if e['ev'] in ('violation', 'server_error')]
        check(not bad, '%s: the fake server saw no protocol violation of the client' % name,
              '\n'.join(json.dumps(e) for e in bad) + '\n' + f.stderr[-2000:])


# ---------------------------------------------------------------- 1. the fake against the library

NORMAL_CONFIGS = [
    # (fake args, encrypted?)
    (['--dialect', '3.1.1'], False),
    (['--dialect', '3.1.1', '--sign-alg', 'gmac', '--signing-required'], False),
    (['--dialect', '3.1.1', '--encrypt', '--cipher', 'gcm'], True),
    (['--dialect', '3.1.1', '--encrypt', '--cipher', 'ccm'], True),
    (['--dialect', '3.0.2', '--signing-required'], False),
    (['--dialect', '3.0', '--encrypt'], True),
    (['--dialect', '2.1'], False),
    (['--dialect', '2.0.2', '--signing-required'], False),
]


def normal_against_library():
    for args, enc in NORMAL_CONFIGS:
        name = 'library vs fake, %s' % ' '.join(args)
        r, f = scenario(['--scenario', 'normal'] + args, 'normal', 'echoes=10')
        expect(r, '%s: negotiate, logon (signed%s), IPC$, 10 ECHOs, LOGOFF' % (name, ', encrypted' if enc else ''),
               negotiate='OK', session_setup='OK', session_setup_signed=1, session_setup_encrypted=int(enc),
               tree_connect='OK', echoes_ok=10, logoff='OK', conn_error_after_echoes='OK')
        common(r, f, name)


# ---------------------------------------------------------------- 2. the fake against independent clients

IMPACKET_CLIENT = r'''
import sys
from impacket.smbconnection import SMBConnection
from impacket import smb3structs as s3
port, dialect = int(sys.argv[1]), {'2.1': s3.SMB2_DIALECT_21, '3.0': s3.SMB2_DIALECT_30}[sys.argv[2]]
c = SMBConnection('127.0.0.1', '127.0.0.1', sess_port=port, preferredDialect=dialect, timeout=20)
c.login(sys.argv[3], sys.argv[4], sys.argv[5])
tid = c.connectTree('IPC$')
assert c.getSMBServer().echo()
c.logoff()
print('OK dialect=0x%x signing=%s tid=%d' % (c.getDialect(), c.isSigningRequired(), tid))
'''


def smbclient_conf():
    d = os.path.join(TMP, 'smbclient')
    dirs = {k: os.path.join(d, k.replace(' ', '_')) for k in
            ('lock directory', 'state directory', 'cache directory', 'private dir', 'ncalrpc dir', 'pid directory')}
    for p in dirs.values():
        os.makedirs(p, exist_ok=True)
    conf = os.path.join(d, 'client.conf')
    with open(conf, 'w') as f:
        f.write('[global]\n\tclient min protocol = SMB2_02\n\tdisable netbios = yes\n\tload printers = no\n')
        f.write('\tlog file = %s\n' % os.path.join(d, 'log'))
        f.write(''.join('\t%s = %s\n' % kv for kv in dirs.items()))
    return conf


def independent_clients():
    conf = smbclient_conf()
    for dialect in ('2.1', '3.0'):
        name = "impacket's SMBConnection, %s, signing required" % dialect
        with Fake('--scenario', 'normal', '--dialect', dialect, '--signing-required') as f:
            p = subprocess.run([PY, '-c', IMPACKET_CLIENT, str(f.port), dialect, USER, PASSWORD, DOMAIN],
                               capture_output=True, text=True, timeout=60)
            f.stop()
        check(p.returncode == 0 and p.stdout.startswith('OK'),
              '%s: logon, IPC$, ECHO, LOGOFF' % name, p.stdout + p.stderr[-3000:])
        bad = [e for e in f.events if e['ev'] in ('violation', 'server_error')]
        check(f.of('session') and f.of('logoff') and not bad,
              '%s: the fake verified its NTLMv2 and its signatures' % name,
              '\n'.join(json.dumps(e) for e in f.events))
    cases = [
        (['--dialect', '3.1.1', '--encrypt', '--cipher', 'gcm'],
         ['-m', 'SMB3_11', '--option=client smb encrypt=required'], 'SMB 3.1.1, AES-128-GCM encryption'),
        (['--dialect', '3.1.1', '--encrypt', '--cipher', 'ccm'],
         ['-m', 'SMB3_11', '--option=client smb encrypt=required',
          '--option=client smb3 encryption algorithms=AES-128-CCM'], 'SMB 3.1.1, AES-128-CCM encryption'),
        (['--dialect', '3.1.1', '--sign-alg', 'gmac', '--signing-required'],
         ['-m', 'SMB3_11', '--option=client signing=required'], 'SMB 3.1.1, AES-GMAC signing'),
        (['--dialect', '3.0', '--signing-required'],
         ['-m', 'SMB3_00', '--option=client signing=required'], 'SMB 3.0, signing, VALIDATE_NEGOTIATE_INFO'),
        (['--dialect', '2.1', '--signing-required'],
         ['-m', 'SMB2_10', '--option=client signing=required'], 'SMB 2.1, signing'),
    ]
    for fargs, cargs, what in cases:
        name = "Samba's smbclient, %s" % what
        with Fake('--scenario', 'normal', *fargs) as f:
            p = subprocess.run([SMBCLIENT, '-s', conf, '//127.0.0.1/IPC$', '-p', str(f.port),
                                '-U', '%s/%s%%%s' % (DOMAIN, USER, PASSWORD)] + cargs + ['-c', 'exit'],
                               capture_output=True, text=True, timeout=60)
            f.stop()
        check(p.returncode == 0, '%s: logon and IPC$ (smbclient checks our signatures, keys, MIC)' % name,
              p.stdout + p.stderr)
        bad = [e for e in f.events if e['ev'] in ('violation', 'server_error')]
        enc = '--encrypt' in fargs
        sess = f.of('session')
        check(sess and f.of('tree_connect') and not bad and sess[0]['encrypt'] == enc and
              (not enc or len(f.of('nonce')) > 0),
              '%s: the fake verified its NTLMv2, MIC, signatures%s' % (name, ' and encryption' if enc else ''),
              '\n'.join(json.dumps(e) for e in f.events))
    with Fake('--scenario', 'normal', '--password', 'not-the-password') as f:
        p = subprocess.run([SMBCLIENT, '-s', conf, '//127.0.0.1/IPC$', '-p', str(f.port), '-m', 'SMB3_11',
                            '-U', '%s/%s%%%s' % (DOMAIN, USER, PASSWORD), '-c', 'exit'],
                           capture_output=True, text=True, timeout=60)
        f.stop()
    check(p.returncode != 0 and 'LOGON_FAILURE' in p.stdout + p.stderr and f.of('logon_failure'),
          "Samba's smbclient with a wrong password: the fake refuses it (NTProofStr checked)", p.stdout + p.stderr)


# ---------------------------------------------------------------- 3. the faults

PROTO = 'SMBSESS_E_PROTOCOL'
BADSIG = 'SMBSESS_E_BAD_SIGNATURE'


def interim_flood():
    for extra in ([], ['--encrypt']):
        name = 'interim_flood%s' % (' (encrypted)' if extra else ' (signed)')
        r, f = scenario(['--scenario', 'interim_flood'] + extra, 'interim_flood')
        fl = f.of('flood')
        diag('%s: %s interims to wrap the count, the client started at %s credits' %
             (name, fl[0]['interims'] if fl else '?', fl[0]['balance_before'] if fl else '?'))
        expect(r, '%s: the second interim fails the connection with SMBSESS_E_PROTOCOL' % name,
               session_setup_encrypted=int(bool(extra)), echo1=PROTO, conn_error_after_echo1=PROTO)
        expect(r, '%s: every later call fails with it' % name, echo2=PROTO, echo3=PROTO,
               conn_error_after_echo3=PROTO)
        expect(r, '%s: credits never exceeded 65,535' % name, credits_max=at_most(MAX_CREDIT))
        common(r, f, name)


def credit_max():
    r, f = scenario(['--scenario', 'credit_max'], 'credit_max')
    expect(r, 'credit_max: all 100 ECHOs succeed', echoes_ok=100, conn_error_after_echoes='OK')
    expect(r, 'credit_max: credits saturate at 65,535', credits_max=at_most(MAX_CREDIT),
           credits_after_echo_99=MAX_CREDIT)
    common(r, f, 'credit_max')


def unknown_mid_and_duplicate():
    for sc in ('unknown_mid', 'duplicate'):
        r, f = scenario(['--scenario', sc], sc)
        check(f.of('fault'), '%s: the fake made its fault' % sc, json.dumps(f.events))
        expect(r, '%s: the connection fails with SMBSESS_E_PROTOCOL' % sc, conn_error_after_wait=PROTO,
               echo1=pred(lambda v: v in ('OK', PROTO), 'OK or %s' % PROTO))
        expect(r, '%s: later calls fail with it' % sc, echo2=PROTO, echo3=PROTO)
        common(r, f, sc)


def other_session():
    for variant, what in (('transform', 'sealed under session B (transform SessionId B)'),
                          ('inner', "sealed under A's keys, inner header naming B")):
        name = 'other_session/%s' % variant
        r, f = scenario(['--scenario', 'other_session', '--variant', variant, '--encrypt', '--cipher', 'gcm'],
                        'other_session')
        expect(r, '%s: two encrypted sessions on one connection' % name, session_setup='OK',
               session_setup_b='OK', session_setup_encrypted=1, session_setup_b_encrypted=1)
        check(f.of('fault'), '%s: the fake answered an ECHO of A %s' % (name, what), json.dumps(f.events))
        expect(r, '%s: rejected with SMBSESS_E_BAD_SIGNATURE, the connection failed' % name,
               echo_a=BADSIG, conn_error_after_echo_a=BADSIG, echo_b=BADSIG)
        common(r, f, name)


def plaintext_interim():
    r, f = scenario(['--scenario', 'plaintext_interim_encrypted', '--encrypt', '--interims', '4'],
                    'plaintext_interim_encrypted')
    expect(r, 'plaintext_interim_encrypted: the session is encrypted', session_setup_encrypted=1)
    expect(r, 'plaintext_interim_encrypted: a plaintext interim fails the connection with SMBSESS_E_BAD_SIGNATURE',
           echo1=BADSIG, conn_error_after_echo1=BADSIG, echo2=BADSIG)
    expect(r, 'plaintext_interim_encrypted: its credits were never counted (<= 65,535 at all times)',
           credits_max=at_most(MAX_CREDIT))
    common(r, f, 'plaintext_interim_encrypted')


def pending_forever():
    timeout_ms = 500
    for extra in ([], ['--encrypt']):
        name = 'pending_forever%s' % (' (encrypted)' if extra else '')
        r, f = scenario(['--scenario', 'pending_forever'] + extra, 'pending_forever', 'timeout_ms=%d' % timeout_ms)
        ms = r.num('echo1_ms')
        diag('%s: the ECHO ended after %s ms (timeout %d ms)' % (name, ms, timeout_ms))
        expect(r, '%s: the ECHO ends with SMBSESS_E_TIMEOUT' % name, echo1='SMBSESS_E_TIMEOUT',
               conn_error_after_echo1='OK')
        check(ms is not None and timeout_ms * 0.9 <= ms <= timeout_ms * 5,
              '%s: after about its timeout (within 5x)' % name, r.output())
        faults = f.of('fault')
        cancels = f.of('cancel')
        check(faults and any(c['mid'] == faults[0]['mid'] and c['async_id'] == faults[0]['async_id']
                             for c in cancels),
              '%s: a CANCEL went out for it, with its AsyncId' % name, json.dumps(f.events))
        expect(r, '%s: the next ECHOs on the same connection succeed' % name, echo2='OK', echo3='OK',
               conn_error_after_echo3='OK')
        common(r, f, name)


def async_tree_connect():
    r, f = scenario(['--scenario', 'async_tree_connect'], 'async_tree_connect')
    expect(r, 'async_tree_connect: TREE_CONNECT fails with SMBSESS_E_PROTOCOL (no TreeId read from an AsyncId)',
           session_setup='OK', tree_connect=PROTO)
    common(r, f, 'async_tree_connect')


def small_limits():
    for which in ('transact', 'read', 'write'):
        name = 'small_limits: Max%sSize 65,535' % which.capitalize()
        r, f = scenario(['--scenario', 'small_limits', '--max-%s' % which, '65535'], 'negotiate')
        expect(r, '%s: NEGOTIATE fails with SMBSESS_E_PROTOCOL' % name, negotiate=PROTO)
        common(r, f, name)
    name = 'small_limits: all three 65,536'
    r, f = scenario(['--scenario', 'small_limits', '--max-transact', '65536', '--max-read', '65536',
                     '--max-write', '65536'], 'normal', 'echoes=3')
    expect(r, '%s: accepted, and the connection works' % name, negotiate='OK', max_transact=65536,
           max_read=65536, max_write=65536, session_setup='OK', tree_connect='OK', echoes_ok=3)
    common(r, f, name)


def nonces():
    for cipher, nlen in (('gcm', 12), ('ccm', 11)):
        name = 'nonces/AES-128-%s' % cipher.upper()
        r, f = scenario(['--scenario', 'nonces', '--encrypt', '--cipher', cipher], 'nonces', 'echoes=60')
        expect(r, '%s: 60 encrypted ECHOs' % name, session_setup_encrypted=1, echoes_ok=60)
        ns = [bytes.fromhex(e['nonce']) for e in f.of('nonce')]
        diag('%s: %d transform headers; first %s, last %s' %
             (name, len(ns), ns[0].hex() if ns else '-', ns[-1].hex() if ns else '-'))
        check(len(ns) >= 50, '%s: at least 50 transform headers recorded' % name, str(len(ns)))
        check(len(set(ns)) == len(ns), '%s: every nonce distinct' % name, '\n'.join(n.hex() for n in ns))
        counters = [int.from_bytes(n[:8], 'little') for n in ns]
        check(len(ns) > 1 and all(b > a for a, b in zip(counters, counters[1:])),
              '%s: bytes 0-7 (little-endian) strictly increase from one message to the next' % name,
              '\n'.join(n.hex() for n in ns[:10]))
        check(all(n[nlen:] == bytes(16 - nlen) for n in ns),
              '%s: the Nonce field past the %d nonce bytes is zero' % (name, nlen),
              '\n'.join(n.hex() for n in ns[:10]))
        common(r, f, name)


def freed_session_zombie():
    """A correct server's late answer to a cancelled request of a session freed since."""
    for extra in ([], ['--encrypt']):
        name = 'free_session_with_zombie%s' % (' (encrypted)' if extra else ' (signed)')
        r, f = scenario(['--scenario', 'pending_forever'] + extra, 'free_session_with_zombie')
        expect(r, '%s: sessions A and B; an ECHO on A held by the server, then freed with A' % name,
               session_setup='OK', session_setup_b='OK', echo_a_in_progress=1, session_a_freed=1)
        check(f.of('cancel'), '%s: a CANCEL went out, which the server answers (STATUS_CANCELLED)' % name,
              json.dumps(f.events))
        expect(r, "%s: the late answer is dropped; the connection and session B go on" % name,
               conn_error_after_late_answer='OK', echo_b='OK')
        common(r, f, name)


# ---------------------------------------------------------------- 4. lifetimes

def lifetimes():
    r, f = scenario(['--scenario', 'normal'], 'done_then_free_conn')
    expect(r, 'done_then_free_conn: the ECHO completed (callback ran, not received), connection and request freed',
           callback_ran=1, request_status='OK', conn_freed=1, request_freed=1)
    common(r, f, 'done_then_free_conn')
    for extra in ([], ['--ignore-cancel']):
        name = 'timeout_then_free_conn%s' % (' (CANCEL ignored)' if extra else '')
        r, f = scenario(['--scenario', 'pending_forever'] + extra, 'timeout_then_free_conn', 'timeout_ms=300')
        expect(r, '%s: the ECHO timed out, connection and request freed' % name, callback_ran=1,
               request_status='SMBSESS_E_TIMEOUT', conn_freed=1, request_freed=1)
        common(r, f, name)
    r, f = scenario(['--scenario', 'slow_setup', '--delay', '1.5'], 'cancel_setup', 'late_ms=2000')
    expect(r, 'cancel_setup: freed while its second round was in flight', setup_in_progress=1)
    expect(r, 'cancel_setup: no session object left, under the connection or anywhere',
           sessions_left=0, sessions_left_anywhere=0)
    expect(r, 'cancel_setup: the connection still works (a second session setup and ECHOs)',
           conn_error_after_cancel='OK', session_setup2='OK', echo_after_cancel='OK', echo_after_late_answer='OK')
    check(f.of('cancel') and f.of('slow_setup'), 'cancel_setup: a CANCEL went out for the round',
          json.dumps(f.events))
    common(r, f, 'cancel_setup')


def main():
    global TOOL, TMP
    if len(sys.argv) != 2:
        print('usage: state.py SMB2_STATE', file=sys.stderr)
        return 2
    TOOL = os.path.abspath(sys.argv[1])
    TMP = tempfile.mkdtemp(prefix='smb2-state-')
    try:
        section('library vs fake', 4 * len(NORMAL_CONFIGS), normal_against_library)
        section('independent clients vs fake', 2 * 2 + 2 * 5 + 1, independent_clients)
        section('a. interim_flood', 12, interim_flood)
        section('b. credit_max', 5, credit_max)
        section('c/d. unknown_mid, duplicate', 12, unknown_mid_and_duplicate)
        section('e. other_session', 12, other_session)
        section('f. plaintext_interim_encrypted', 6, plaintext_interim)
        section('g. pending_forever', 14, pending_forever)
        section('h. async_tree_connect', 4, async_tree_connect)
        section('i. small_limits', 16, small_limits)
        section('j. nonces', 16, nonces)
        section('lifetimes', 4 + 8 + 7, lifetimes)
        section('a freed session with a request in flight', 12, freed_session_zombie)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    for name, secs in timings.items():
        diag('%-32s %6.1f s' % (name, secs))
    print('1..%d' % len(results))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
