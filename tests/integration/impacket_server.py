#!/usr/bin/python3
"""The library against a second SMB server implementation: impacket's
SimpleSMBServer (through tests/harness/winserver.py, which adds srvsvc's
session and file calls and fixes impacket's pipe defects; the SMB side,
NTLM and signing are impacket's own).

Logon with the right and wrong password, the dialects impacket offers (2.0.2
only), signing (every request after the logon signed, and checked by the
server with Python's hmac), and srvsvc calls through impacket's pipe, with
the sessions and open files of independent impacket clients: listed by the C
API (tests/tools/api_tool) and smbnet, closed and ended through them and
checked on the clients' side. Wireshark checks what our client sent.
impacket's own srvsvc, unfixed, is refused cleanly. TAP.

usage: impacket_server.py API_TOOL SMBNET
Runs as root with Debian's /usr/bin/python3 (impacket, tshark); see tests/harness.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from tap import check, diag, results, section, timings  # noqa: E402
from sambatest import ImpacketClient  # noqa: E402
from tshark_capture import Capture  # noqa: E402
from winserver import WinServer, api_tool, parse_table, smbnet  # noqa: E402

TOOL, SMBNET = (sys.argv[1:3] + [None, None])[:2]
ADDRESS = '127.0.0.8'
ADMIN, BOB, CAROL, PW = 'iadmin', 'ibob', 'icarol', 'Imp!pw-3'
ADDR_BOB, ADDR_CAROL = '127.0.0.2', '127.0.0.3'
OWN = '127.0.0.1'


def our_connections(srv, user):
    """The server's record of the SMB connections our tools made as `user` (logged on)."""
    return [c for c in srv.stats()['connections'] if c['user'] == user and c['client'] == OWN]


def signing_ok(conns):
    return bool(conns) and all(c['after_auth'] > 0 and c['signed_ok'] == c['after_auth'] and c['unsigned'] == 0
                               and c['bad_signature'] == 0 for c in conns)


# ---------------------------------------------------------------------------

def logon_checks(w):
    srv = w.srv
    from impacket.smbconnection import SMBConnection
    got = {}
    for d in (0x0202, 0x0210, 0x0300, None):
        c = SMBConnection(srv.address, srv.address, sess_port=srv.port, preferredDialect=d, timeout=10)
        got[d] = c.getDialect()
        c.close()
    check(set(got.values()) == {0x0202},
          "impacket's server offers SMB 2.0.2 only (asked for 2.0.2, 2.1, 3.0 and SMB1's multi-protocol "
          "negotiate, impacket's client got %s)" % sorted({hex(v) for v in got.values()}))
    srv.reset_stats()
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--info',))
    check(r.listing_ok() and r.info.get('dialect') == '0x0202' and r.info.get('signed') == '1'
          and r.info.get('auth') == 'ntlm' and r.info.get('encrypted') == '0',
          'logon (NTLMv2 in SPNEGO): dialect %s, signed %s, auth %s' % (r.info.get('dialect'), r.info.get('signed'),
                                                                       r.info.get('auth')), r)
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--dialects', '0x0202-0x0202', '--info'))
    check(r.listing_ok() and r.info.get('dialect') == '0x0202', '--dialects 0x0202-0x0202: logs on at 2.0.2', r)
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--dialects', '0x0210-0x0311'))
    check(r.rc == 1 and r.error is not None and not r.entries,
          '--dialects 0x0210-0x0311: the server answers 2.0.2, which was not offered: refused (%s)' % r.err_name, r)
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--encrypt', 'required'))
    check(r.rc == 1 and r.err_name == 'SMBSESS_E_NOT_SUPPORTED' and not r.entries,
          '--encrypt required: SMB 2.0.2 has no encryption: %s' % r.err_name, r)
    r = api_tool(TOOL, srv, ADMIN, 'wrong' + PW, 'sessions')
    r2 = api_tool(TOOL, srv, 'nosuchuser', PW, 'sessions')
    s = smbnet(SMBNET, srv, ADMIN, 'wrong' + PW, 'session')
    check(r.rc == 1 and r.err_name == 'STATUS_LOGON_FAILURE' and r2.err_name == 'STATUS_LOGON_FAILURE'
          and s.rc != 0 and 'STATUS_LOGON_FAILURE' in s.err,
          'a wrong password and an unknown user: STATUS_LOGON_FAILURE (API and smbnet)', '%s\n%s\n%s' % (r, r2, s))


def signing_checks(w):
    srv = w.srv
    srv.reset_stats()
    for opts in ((), ('--sign', 'required')):
        api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=opts)
        api_tool(TOOL, srv, ADMIN, PW, 'files', opts=opts)
    smbnet(SMBNET, srv, ADMIN, PW, 'file')
    time.sleep(0.3)
    conns = our_connections(srv, ADMIN)
    check(len(conns) == 5 and signing_ok(conns) and all(c['security_mode'] == 1 for c in conns),
          'every request after the logon of 5 connections (api_tool, api_tool --sign required, smbnet) was '
          'signed, and the server verified each signature (%d requests)' % sum(c['after_auth'] for c in conns),
          str(conns))
    srv.options(require_signing=True)
    srv.reset_stats()
    try:
        r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--info',))
        time.sleep(0.3)
        conns = our_connections(srv, ADMIN)
    finally:
        srv.options(require_signing=False)
    check(r.listing_ok() and r.info.get('signed') == '1' and len(conns) == 1 and conns[0]['security_mode'] == 3
          and signing_ok(conns),
          'a server that requires signing (SecurityMode 3): logon, signed listing', '%s\n%s' % (conns, r))
    # What our client sent, as Wireshark reads it.
    for attempt in (1, 2):   # dumpcap has been seen not to start on a loaded machine: once more then
        path = os.path.join(w.tmp, 'impacket%d.pcapng' % attempt)
        with Capture(srv.port, path) as cap:
            r = api_tool(TOOL, srv, ADMIN, PW, 'files')
            r2 = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--level', '10'))
        if os.path.exists(path) and os.path.getsize(path) > 0:
            break
        diag('capture %d: no file from tshark: %s' % (attempt, cap.proc.stderr.read()[-1000:]))
    rows = cap.fields('tcp.dstport == %d && smb2' % srv.port, 'frame.number', 'smb2.cmd', 'smb2.flags.signature')
    # A frame may carry a compounded chain: one value per SMB2 command in it.
    cmds = [(c, sig) for x in rows for c, sig in zip(x[1], x[2])]
    after_logon = [(c, sig) for c, sig in cmds if c not in ('0', '1')]
    unsigned = [(c, sig) for c, sig in after_logon if sig not in ('1', 'True')]
    all_frames, bad = cap.bad_client_frames()
    binds = cap.fields('tcp.dstport == %d && dcerpc.pkt_type == 11' % srv.port, 'dcerpc.cn_bind_to_uuid')
    reqs = stubs(cap, 'tcp.dstport == %d && dcerpc.pkt_type == 0' % srv.port)
    answers = stubs(cap, 'tcp.srcport == %d && dcerpc.pkt_type == 2' % srv.port)
    srvsvc_uuid = '4b324fc8-1670-01d3-1278-5a47bf6ee188'
    check(r.listing_ok() and r2.listing_ok() and after_logon and not unsigned and not bad
          and [x[0] for x in binds] == [[srvsvc_uuid]] * 2 and [x[0] for x in reqs] == [['9'], ['12']],
          'Wireshark: the %d SMB2 commands our client sent after the logon are all signed, none malformed; '
          'two binds to srvsvc, then opnums 9 and 12' % len(after_logon),
          'unsigned %s\nbad %s\nbinds %s\nrequests %s' % (unsigned, bad, binds, [x[0] for x in reqs]))
    # The stubs, as Samba's NDR (ndrdump) reads them: our requests (pushed back byte for byte), impacket's answers.
    dumps = []
    for (fn, direction, level), x in zip((('srvsvc_NetFileEnum', 'in', 3), ('srvsvc_NetSessEnum', 'in', 10)), reqs):
        dumps.append((level, ndrdump(w, fn, direction, x[1][0] if x[1] else '', validate=True)))
    ok_req = all('dump OK' in d and re.search(r'level\s*: 0x%08x \(%d\)' % (lv, lv), d) for lv, d in dumps)
    out = ndrdump(w, 'srvsvc_NetFileEnum', 'out', answers[0][1][0] if answers and answers[0][1] else '')
    paths = re.findall(r"^\s*path\s*: '(.*)'$", out, re.M)
    check(ok_req and 'dump OK' in out and 'WERR_OK' in out and len(answers) == 2
          and sorted(paths) == sorted(e['path'] for e in r.entries),
          'ndrdump reads our NetFileEnum (level 3) and NetSessEnum (level 10) requests and pushes them back '
          'byte for byte; it reads impacket\'s answer as WERR_OK with the %d paths api_tool printed' % len(paths),
          '\n'.join(d[-1500:] for _, d in dumps) + '\n' + out[-1500:])


def stubs(cap, display_filter):
    """[opnum], [stub hex] of each DCE/RPC PDU the filter selects. Wireshark's srvsvc dissector is
    off: it would take the stub (when it can tie the call to the bind; not after a bind in a
    compounded chain), and ndrdump reads the stubs instead."""
    r = subprocess.run(['tshark', '-r', cap.path, '-d', 'tcp.port==%d,nbss' % cap.port, '-o',
                        'dcerpc.reassemble_dcerpc:TRUE', '--disable-protocol', 'srvsvc', '-Y', display_filter,
                        '-T', 'fields', '-E', 'separator=|', '-e', 'dcerpc.opnum', '-e', 'dcerpc.stub_data'],
                       capture_output=True, text=True, timeout=120)
    return [[p.split(',') if p else [] for p in line.split('|')] for line in r.stdout.splitlines() if '|' in line]


def ndrdump(w, function, direction, hexstub, validate=False):
    """Samba's ndrdump of one stub (hex as tshark prints it)."""
    path = os.path.join(w.tmp, 'stub-%s-%s.bin' % (function, direction))
    with open(path, 'wb') as f:
        f.write(bytes.fromhex(hexstub.replace(':', '')))
    args = ['ndrdump'] + (['--validate'] if validate else []) + ['srvsvc', function, direction, path]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def srvsvc_checks(w):
    srv = w.srv
    time.sleep(1.1)  # the holders' sessions age a little
    state = srv.state()
    held = [s for s in state['sessions'] if s['client'] in (ADDR_BOB, ADDR_CAROL)]
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions')
    got = sorted((e['client'], e['user'], e['num_opens']) for e in r.entries if e['client'] != OWN)
    want = [(ADDR_BOB, BOB, '3'), (ADDR_CAROL, CAROL, '1')]
    own = [e for e in r.entries if e['client'] == OWN]
    times = {e['client']: int(e['time']) for e in r.entries}
    check(r.listing_ok() and r.level == 502 and got == want and len(own) == 1 and own[0]['user'] == ADMIN
          and own[0]['num_opens'] == '1' and times.get(ADDR_BOB, -1) >= 1 and len(held) == 2,
          'sessions (level 502) through impacket\'s pipe: bob from %s with his 3 open files, carol from %s '
          'with 1, our own with its pipe' % (ADDR_BOB, ADDR_CAROL), '%s\n%s' % (held, r))
    bad = []
    for level in (0, 1, 2, 10):
        x = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--level', str(level)))
        clients = sorted(e['client'] for e in x.entries)
        if not (x.listing_ok() and x.level == level and clients == sorted([ADDR_BOB, ADDR_CAROL, OWN])):
            bad.append(str(x))
    check(not bad, 'sessions at levels 0, 1, 2 and 10: the same three computers', '\n'.join(bad))
    r = api_tool(TOOL, srv, ADMIN, PW, 'files')
    files = {e['path']: e for e in r.entries}
    want = {w.remote(p): u for p, u in w.files.items()}
    got = {p: e['user'] for p, e in files.items() if p in want}
    check(r.listing_ok() and r.level == 3 and got == want and len(r.entries) == len(want) + 1
          and files.get('\\PIPE\\srvsvc', {}).get('user') == ADMIN,
          'files (level 3): the 4 files the impacket clients hold, C: + their local path, with their users; '
          'our own srvsvc pipe', r)
    w.ids = {p: int(files[w.remote(p)]['id']) for p in w.files if w.remote(p) in files}
    x = api_tool(TOOL, srv, ADMIN, PW, 'fileinfo', str(w.ids.get('bob 2 Grüße.txt', 0)))
    check(x.listing_ok() and x.count == 1 and x.entries[0] == files.get(w.remote('bob 2 Grüße.txt')),
          'fileinfo of bob\'s second file (NetrFileGetInfo): the enumeration\'s entry', x)
    s = smbnet(SMBNET, srv, ADMIN, PW, 'session')
    try:
        rows = parse_table(s.out, ['Computer', 'User name', 'Client type', 'Opens', 'Idle time'])
    except ValueError:
        rows = []
    got = sorted((x['Computer'], x['User name'], x['Opens']) for x in rows)
    check(s.rc == 0 and got == sorted([('\\\\' + ADDR_BOB, BOB, '3'), ('\\\\' + ADDR_CAROL, CAROL, '1'),
                                       ('\\\\' + OWN, ADMIN, '1')]),
          'smbnet session: the same sessions as a table', str(s))
    s = smbnet(SMBNET, srv, ADMIN, PW, '--json', 'file', '--client-user', BOB)
    doc = s.json() if s.rc == 0 else {}
    got = sorted(e['path'] for e in doc.get('files', []))
    check(s.rc == 0 and got == sorted(w.remote(p) for p, u in w.files.items() if u == BOB),
          'smbnet --json file --client-user %s: his 3 files' % BOB, str(s))
    r = api_tool(TOOL, srv, BOB, PW, 'sessions')
    s = smbnet(SMBNET, srv, BOB, PW, 'file')
    check(r.rc == 1 and r.err_name == 'ERROR_ACCESS_DENIED' and s.rc == 5,
          'a user without admin rights: ERROR_ACCESS_DENIED (smbnet exit 5)', '%s\n%s' % (r, s))


def close_delete_checks(w):
    srv = w.srv
    bob, carol = w.clients
    victim, keep = w.handles['bob 2 Grüße.txt'], w.handles['bob 1.txt']
    r = api_tool(TOOL, srv, ADMIN, PW, 'close', str(w.ids['bob 2 Grüße.txt']))
    try:
        bob.read(victim)
        dead = 'read still works'
    except Exception as e:
        dead = str(e)
    alive = bob.read(keep)
    files = {f['path'] for f in srv.state()['files']}
    check(r.rc == 0 and r.ok_line and 'STATUS_' in dead and alive == b'bob-one'
          and w.remote('bob 2 Grüße.txt') not in files and w.remote('bob 1.txt') in files,
          'close ID through the API: impacket closed the real handle (bob\'s next read: %s), his other file reads'
          % dead.split('(')[0].strip(), '%s\n%s' % (dead, r))
    s = smbnet(SMBNET, srv, ADMIN, PW, 'session', '\\\\' + ADDR_CAROL, '/DELETE', '/Y')
    end = time.monotonic() + 10
    while carol.echo() and time.monotonic() < end:
        time.sleep(0.2)
    gone = not carol.echo()
    left = {x['client'] for x in srv.state()['sessions']}
    check(s.rc == 0 and gone and bob.echo() and ADDR_CAROL not in left and ADDR_BOB in left,
          'smbnet session \\\\%s /DELETE /Y: carol\'s connection is dropped (echo fails), bob\'s answers' % ADDR_CAROL,
          '%s\nleft %s' % (s, left))
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', ADDR_CAROL)
    check(r.rc == 1 and r.err_name == 'NERR_ClientNameNotFound', 'sessions %s afterwards: %s' % (ADDR_CAROL, r.err_name), r)


def plain_checks(w):
    """impacket's own srvsvc and pipes, as they are."""
    with WinServer(os.path.join(w.tmp, 'plain'), address=ADDRESS, users=[(ADMIN, PW, True)], plain=True) as srv:
        r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=('--info',))
        check(r.rc == 1 and r.err_name == 'SMBSESS_E_PROTOCOL' and r.info.get('signed') == '1',
              "impacket's own srvsvc (no opnum 12, and a 28-byte fault PDU where [C706] has 32): logon and signing "
              "work, the answer is refused as %s" % r.err_name, r)


class World:
    def remote(self, name):
        return 'C:' + os.path.join(self.srv.share_path('share'), name).replace('/', '\\')


def main():
    if not TOOL or not SMBNET or not os.access(TOOL, os.X_OK) or not os.access(SMBNET, os.X_OK):
        print('1..1\nnot ok 1 - usage: impacket_server.py API_TOOL SMBNET')
        return 1
    plan = 6 + 4 + 7 + 3 + 1 + 1
    print('1..%d' % plan, flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='smbsess-impacket-') as tmp:
        os.chmod(tmp, 0o755)
        w = World()
        w.tmp = tmp
        try:
            w.srv = WinServer(os.path.join(tmp, 'srv'), address=ADDRESS,
                              users=[(ADMIN, PW, True), (BOB, PW, False), (CAROL, PW, False)])
        except Exception:
            diag(traceback.format_exc())
            for i in range(plan):
                check(False, 'impacket server did not start (%d)' % (i + 1))
            return 1
        w.clients = []
        try:
            with w.srv:
                timings['server start'] = time.monotonic() - t0
                section('logon and dialects', 6, logon_checks, w)
                section('signing', 4, signing_checks, w)
                bob = ImpacketClient(w.srv, BOB, PW, source=ADDR_BOB)
                carol = ImpacketClient(w.srv, CAROL, PW, source=ADDR_CAROL)
                w.clients = [bob, carol]
                w.files = {'bob 1.txt': BOB, 'bob 2 Grüße.txt': BOB, 'bob 3.txt': BOB, 'carol.txt': CAROL}
                w.handles = {}
                for name, user in w.files.items():
                    w.handles[name] = (bob if user == BOB else carol).open('share', name)
                bob.write(w.handles['bob 1.txt'], b'bob-one')
                section('srvsvc through impacket', 7, srvsvc_checks, w)
                section('close and delete', 3, close_delete_checks, w)
                section('unfixed impacket', 1, plain_checks, w)
                errs = w.srv.stats()['errors']
                check(not errs, 'the server recorded no failure of its own', '\n'.join(errs[:5]))
        finally:
            for c in w.clients:
                c.close()
    timings['total'] = time.monotonic() - t0
    diag('timings: ' + ', '.join('%s %.1f s' % (k, v) for k, v in timings.items()))
    return 0 if all(results) and len(results) == plan else 1


if __name__ == '__main__':
    sys.exit(main())
