#!/usr/bin/python3
"""The library against a Windows-shaped srvsvc server (tests/harness/winserver.py:
impacket's SMB server, srvsvc opnums 8-13 answered with impacket's own NDR
types, Windows' levels, paging, filters and error codes).

1,000+ sessions and 3,000+ open files (IPv4, IPv6 and NetBIOS client names,
Unicode user names and paths, one needing a surrogate pair, file ids above
2^31) are listed exactly (every field compared with the server's state) by
smbnet (table and --json), the C API (tests/tools/api_tool) and the FFI
example, at every level, unpaged, paged by PreferedMaximumLength and paged
by the server's own limit. Close and delete are checked on the server's
side. TAP.

usage: windows.py API_TOOL SMBNET FFI_SCRIPT LIBSMBSESS
Runs as root with Debian's /usr/bin/python3 (impacket); see tests/harness.
"""
import os
import re
import sys
import tempfile
import time
import traceback
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from tap import check, diag, results, section, timings  # noqa: E402
from winserver import WinServer, api_tool, parse_table, run_cli, smbnet  # noqa: E402

TOOL, SMBNET, FFI, LIB = (sys.argv[1:5] + [None] * 4)[:4]
ADMIN, PW = 'wadmin', 'Win!pw-1'
PLAIN = 'wplain'                      # no admin rights
OWN = '127.0.0.1'                     # where our tools connect from: their own live session
N_SESSIONS, N_FILES = 1000, 3000

ERROR_MORE_DATA = 234
ERROR_INVALID_LEVEL = 124

# ---------------------------------------------------------------------------
# the state: deterministic, varied

USERS = ['alice', 'Bob', 'jürgen', 'Łukasz', '日本語ユーザー', 'émile.dupont', 'o\'connor', 'svc_backup',
         'zoë', 'user😀x', 'ADMINISTRATOR', 'müller-lüdenscheidt']
CLIENT_TYPES = ['', 'Windows 10 Enterprise 19045', 'Samba 4.17.12-Debian', 'Mac OS X 14']
TRANSPORTS = ['\\Device\\NetbiosSmb', '\\Device\\NetBT_Tcpip_{5A4B3C2D-1E0F-4A5B-8C7D-6E5F4A3B2C1D}', '']
NAMES = ['Grüße.txt', 'Отчёт 2024.docx', '日本語のファイル名.xlsx', 'emoji 😀 file.txt', 'plain.txt',
         'a b c.pdf', 'über\\tief\\Datei.bin']


def client_of(i):
    """About 500 client computers for 1,000 sessions: two sessions from most."""
    k = i // 2
    if k % 10 == 3:
        return '[fd00::%x:%x]' % (k // 256, k % 256)
    if k % 10 == 7:
        return 'WS-%03d-Ü' % k if k % 20 == 7 else 'PC%04d' % k
    return '10.%d.%d.%d' % (1 + k // 65536, (k // 256) % 256, k % 256)


def make_state():
    sessions = []
    for i in range(N_SESSIONS):
        sessions.append({
            'id': i + 1, 'client': client_of(i), 'user': USERS[i % len(USERS)],
            'time': 7 * i + 3 + (400000 if i % 97 == 0 else 0), 'idle_time': (13 * i) % 3600,
            'user_flags': (0, 0, 1, 2)[i % 4], 'client_type': CLIENT_TYPES[i % len(CLIENT_TYPES)],
            'transport': TRANSPORTS[i % len(TRANSPORTS)],
            'shares': ['DATA', 'IPC$'] if i % 3 else ['DATA', 'HOME', 'IPC$']})
    files = []
    for j in range(N_FILES):
        s = sessions[(j * 7) % N_SESSIONS]
        if j % 2:
            fid = 0x80000000 + j * 1021 + 17          # above 2^31
        else:
            fid = 0x00001000 + j * 389                # below the live range 0xF00000
        if j == N_FILES - 1:
            fid = 0xFFFFFFFE
        share = 'HOME' if 'HOME' in s['shares'] and j % 2 else 'DATA'
        files.append({'id': fid, 'session': s['id'], 'share': share,
                      'path': 'C:\\Shares\\%s\\dir%03d\\%04d %s' % (share, j % 101, j, NAMES[j % len(NAMES)]),
                      'permissions': 1 + j % 7, 'num_locks': j % 4})
    return {'sessions': sessions, 'files': files}


# ---------------------------------------------------------------------------
# what a listing must be

SESSION_FIELDS = {0: ('client',), 1: ('client', 'user', 'num_opens', 'time', 'idle_time', 'user_flags'),
                  2: ('client', 'user', 'num_opens', 'time', 'idle_time', 'user_flags', 'client_type'),
                  10: ('client', 'user', 'time', 'idle_time'),
                  502: ('client', 'user', 'num_opens', 'time', 'idle_time', 'user_flags', 'client_type',
                        'transport')}
FILE_FIELDS = {2: ('id',), 3: ('id', 'permissions', 'num_locks', 'path', 'user')}


def norm(e, fields):
    return tuple(str(e[k]) for k in fields)


def split_own(entries, key='client'):
    """(listed state entries, our own live entries)."""
    own = [e for e in entries if e.get(key) == OWN]
    return [e for e in entries if e.get(key) != OWN], own


def compare(got, want, what):
    """Exact multiset comparison, with a readable difference."""
    g, w = Counter(got), Counter(want)
    if g == w:
        return True, ''
    miss, extra = w - g, g - w
    return False, '%s: %d listed, %d expected; missing %d, e.g. %s; unexpected %d, e.g. %s' % (
        what, len(got), len(want), sum(miss.values()), list(miss)[:3], sum(extra.values()), list(extra)[:3])


def want_sessions(state, level, client=None, user=None):
    rows = [s for s in state['sessions'] if not s['live']]
    if client is not None:
        rows = [s for s in rows if s['client'].lower() == client.lower()]
    if user is not None:
        rows = [s for s in rows if s['user'].lower() == user.lower()]
    return [norm(s, SESSION_FIELDS[level]) for s in rows]


def want_files(state, level, base=None, user=None):
    rows = [f for f in state['files'] if not f['live']]
    if base is not None:
        rows = [f for f in rows if f['path'].lower().startswith(base.lower())]
    if user is not None:
        rows = [f for f in rows if f['user'].lower() == user.lower()]
    return [norm(f, FILE_FIELDS[level]) for f in rows]


def own_session_ok(own, level):
    """Our own session, listed as Windows lists it: once, our user, the srvsvc pipe open."""
    if len(own) != 1:
        return False
    e = own[0]
    if level in (1, 2, 10, 502) and e.get('user') != ADMIN:
        return False
    if level in (1, 2, 502) and e.get('num_opens') != '1':
        return False
    return True


def held(srv):
    """The server's state now, without the live entries of connections (ours may still be ending)."""
    st = srv.state()
    return {'sessions': [x for x in st['sessions'] if not x['live']],
            'files': [x for x in st['files'] if not x['live']]}


def pages(srv, op):
    """The server's record of the calls of one listing: (pages, results, resume chain ok). The chain
    is not ok either if our client read an empty pipe (a READ the answer did not need)."""
    stats = srv.stats()
    calls = [c for c in stats['calls'] if c['op'] == op]
    chain = all(calls[i + 1]['resume_in'] == calls[i]['resume_out'] for i in range(len(calls) - 1))
    chain = chain and bool(calls) and calls[0]['resume_in'] == 0 and stats['rpc']['empty_reads'] == 0
    return len(calls), [c['result'] for c in calls], chain


# ---------------------------------------------------------------------------
# sections

def server_checks(w):
    """The test server itself, through clients that are not ours."""
    srv = w.srv
    # rpcclient (Samba's NDR) decodes what impacket's types encoded: every session, every file.
    conf = os.path.join(w.tmp, 'client.conf')
    with open(conf, 'w') as f:
        f.write('[global]\n  client min protocol = SMB2_02\n  private dir = %s\n  lock directory = %s\n'
                '  state directory = %s\n  cache directory = %s\n' % ((os.path.join(w.tmp, 'rc'),) * 4))
    os.makedirs(os.path.join(w.tmp, 'rc'), exist_ok=True)
    r = run_cli(['rpcclient', '-s', conf, '-p', str(srv.port), '-U', '%s%%%s' % (ADMIN, PW), srv.address,
                 '-c', 'netsessenum'], hide=(PW,))
    m = re.search(r'Received (\d+) entries', r.out)
    check(r.rc == 0 and m and int(m.group(1)) == N_SESSIONS + 1,
          'rpcclient (Samba\'s decoder) reads all %d sessions and its own from the server in one answer '
          '(> 64 KiB, %d fragments)' % (N_SESSIONS, srv.stats()['rpc']['fragments']), r)
    s = srv.stats()
    check(not s['errors'] and s['rpc']['max_frag'] == 4280 and s['rpc']['fragments'] >= 16,
          'the server answered in fragments of at most 4280 bytes (%d fragments), no callback failed'
          % s['rpc']['fragments'], '\n'.join(s['errors'][:2]) + str(s['rpc']))
    # rpcclient's netfileenum makes one call of 64 KiB and does not resume: a smaller state for it.
    full = {'sessions': [x for x in w.initial['sessions']], 'files': w.initial['files']}
    small = dict(full, files=[f for j, f in enumerate(full['files']) if j < 420])
    srv.load(small)
    try:
        r = run_cli(['rpcclient', '-s', conf, '-p', str(srv.port), '-U', '%s%%%s' % (ADMIN, PW), srv.address,
                     '-c', 'netfileenum 3'], hide=(PW,))
    finally:
        srv.load(full)
    paths = [l for l in r.out.splitlines() if l]
    want = sorted(f['path'] for f in small['files']) + ['\\PIPE\\srvsvc']
    check(r.rc == 0 and sorted(paths) == sorted(want) and any('😀' in p for p in paths),
          'rpcclient netfileenum 3 (%d files): every path, surrogate pairs included, byte for byte' % len(paths),
          '%s\nmissing %s\nextra %s' % (r, sorted(set(want) - set(paths))[:3], sorted(set(paths) - set(want))[:3]))
    pipe_checks(w)


def pipe_checks(w):
    """Message-mode pipe semantics, through impacket's own SMB client."""
    from impacket.smbconnection import SMBConnection
    from impacket import smb3structs as s3
    from impacket.dcerpc.v5 import rpcrt
    from impacket.uuid import uuidtup_to_bin
    srv = w.srv
    srv.options(pipe_wait=1.0)
    c = SMBConnection(srv.address, srv.address, sess_port=srv.port, timeout=20)
    c.login(ADMIN, PW)
    try:
        tid = c.connectTree('IPC$')
        fid = c.openFile(tid, 'srvsvc', desiredAccess=s3.FILE_READ_DATA | s3.FILE_WRITE_DATA, shareMode=0,
                         creationOption=0, creationDisposition=s3.FILE_OPEN)
        bind = rpcrt.MSRPCBind()
        item = rpcrt.CtxItem()
        item['AbstractSyntax'] = uuidtup_to_bin(('4B324FC8-1670-01D3-1278-5A47BF6EE188', '3.0'))
        item['TransferSyntax'] = uuidtup_to_bin(('8a885d04-1ceb-11c9-9fe8-08002b104860', '2.0'))
        item['TransItems'] = 1
        bind.addCtxItem(item)
        hdr = rpcrt.MSRPCHeader()
        hdr['type'] = rpcrt.MSRPC_BIND
        hdr['pduData'] = bind.getData()
        hdr['call_id'] = 1
        smb = c.getSMBServer()

        def raw_ioctl(data, max_out):
            p = s3.SMB2Packet()
            p['Command'] = s3.SMB2_IOCTL
            p['TreeID'] = tid
            io = s3.SMB2Ioctl()
            io['FileID'] = fid
            io['CtlCode'] = 0x0011C017   # FSCTL_PIPE_TRANSCEIVE
            io['MaxInputResponse'] = 0
            io['MaxOutputResponse'] = max_out
            io['InputCount'] = len(data)
            io['Buffer'] = data
            io['OutputOffset'] = 0
            io['Flags'] = s3.SMB2_0_IOCTL_IS_FSCTL
            p['Data'] = io
            ans = smb.recvSMB(smb.sendSMB(p))
            out = b''
            if ans['Status'] in (0, 0x80000005):
                resp = s3.SMB2Ioctl_Response(ans['Data'])
                out = resp['Buffer'][:resp['OutputCount']]
            return ans['Status'], out

        def raw_read(length):
            p = s3.SMB2Packet()
            p['Command'] = s3.SMB2_READ
            p['TreeID'] = tid
            r = s3.SMB2Read()
            r['FileID'] = fid
            r['Length'] = length
            r['Offset'] = 0
            r['Buffer'] = b'\x00'
            p['Data'] = r
            ans = smb.recvSMB(smb.sendSMB(p))
            status = ans['Status']
            data = b''
            if status in (0, 0x80000005):
                resp = s3.SMB2Read_Response(ans['Data'])
                data = resp['Buffer'][:resp['DataLength']]
            return status, data
        st0, head = raw_ioctl(hdr.getData(), 20)
        st0b, tail = raw_read(4280)
        ack1 = head + tail
        c.writeFile(tid, fid, hdr.getData())
        st1, part = raw_read(16)
        st2, rest = raw_read(4280)
        whole = part + rest

        def one_ack(m):   # one whole bind_ack that accepted the context
            return (len(m) > 60 and m[2] == 12 and int.from_bytes(m[8:10], 'little') == len(m)
                    and m[-24:-22] == b'\0\0')
        check(st0 == 0x80000005 and len(head) == 20 and st0b == 0 and one_ack(ack1)
              and st1 == 0x80000005 and len(part) == 16 and st2 == 0 and one_ack(whole),
              'message-mode pipe: a transceive with 20 bytes of output room and a READ of 16 bytes both get '
              'STATUS_BUFFER_OVERFLOW and that much; the next READ brings exactly the rest of that one '
              'bind_ack (%d bytes)' % len(whole),
              'statuses %#x %#x %#x %#x, lengths %d %d %d %d' % (st0, st0b, st1, st2, len(head), len(tail),
                                                                 len(part), len(rest)))
        t0 = time.monotonic()
        st3, _ = raw_read(4280)
        waited = time.monotonic() - t0
        check(st3 == 0xC00000D9 and waited < 5,
              'a READ on an empty pipe does not block: STATUS_PIPE_EMPTY after %.1f s (pipe_wait 1 s)' % waited,
              'status %#x' % st3)
        # The same connection still works, and a second pipe client is served meanwhile.
        r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', '-', 'jürgen', opts=('--level', '0'))
        check(r.listing_ok() and r.count > 0,
              'while impacket holds a pipe open, our client lists on another pipe (%d sessions)' % (r.count or 0), r)
        c.closeFile(tid, fid)
    finally:
        c.close()
        srv.options(pipe_wait=5.0)
    # A request the server cannot decode: the failure is visible (fault and error record), not swallowed.
    c = SMBConnection(srv.address, srv.address, sess_port=srv.port, timeout=20)
    c.login(ADMIN, PW)
    try:
        from impacket.dcerpc.v5 import transport
        t = transport.SMBTransport(srv.address, srv.port, 'srvsvc', smb_connection=c)
        dce = t.get_dce_rpc()
        dce.connect()
        dce.bind(uuidtup_to_bin(('4B324FC8-1670-01D3-1278-5A47BF6EE188', '3.0')))
        fault = None
        try:
            dce.call(12, b'\x01\x02\x03')
            dce.recv()
        except Exception as e:
            fault = str(e)
        errs = srv.stats()['errors']
        check(fault is not None and ('stub' in fault.lower() or '6f7' in fault.lower()) and len(errs) == 1
              and 'undecodable' in errs[0],
              'an undecodable request: a DCE/RPC fault (%s) and one error record in the server' % fault,
              '%s\n%s' % (fault, errs))
        dce.disconnect()
    finally:
        c.close()
    srv.reset_stats()


def level_checks(w, mode):
    """Every level of sessions and files, exact, in one paging mode."""
    srv, st = w.srv, w.state
    opts = ()
    if mode == 'paged':
        opts = ('--page-size', '8192')
        srv.options(own_limit=0)
    elif mode == 'own limit':
        srv.options(own_limit=12000)
    else:
        srv.options(own_limit=0)
    for level in (0, 1, 2, 10, 502):
        srv.reset_stats()
        r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', opts=opts + ('--level', str(level)))
        timings['sessions %s %s' % (level, mode)] = r.seconds
        listed, own = split_own(r.entries)
        ok, why = compare([norm(e, SESSION_FIELDS[level]) for e in listed], want_sessions(st, level),
                          'sessions')
        n, res, chain = pages(srv, 'NetrSessionEnum')
        paging_ok = (n == 1 and res == [0] and chain) if mode == 'unpaged' else \
            (n > 1 and res[-1] == 0 and all(x == ERROR_MORE_DATA for x in res[:-1]) and chain)
        check(r.listing_ok() and r.level == level and ok and own_session_ok(own, level) and paging_ok,
              'sessions --level %d (%s): all %d exactly, every field (%s) as the server holds it, our own '
              'session once; %d call(s)' % (level, mode, len(listed), ', '.join(SESSION_FIELDS[level]), n),
              '%s\nown %s\nresults %s chain %s\n%s' % (why, own, res[:5], chain, r))
    for level in (2, 3):
        srv.reset_stats()
        r = api_tool(TOOL, srv, ADMIN, PW, 'files', opts=opts + ('--level', str(level)))
        timings['files %s %s' % (level, mode)] = r.seconds
        listed = [e for e in r.entries if int(e['id']) < 0x00F00000 or int(e['id']) >= 0x01000000]
        own = [e for e in r.entries if e not in listed]
        ok, why = compare([norm(e, FILE_FIELDS[level]) for e in listed], want_files(st, level), 'files')
        own_ok = len(own) == 1 and (level == 2 or (own[0]['path'] == '\\PIPE\\srvsvc' and own[0]['user'] == ADMIN))
        ids = [int(e['id']) for e in r.entries]
        n, res, chain = pages(srv, 'NetrFileEnum')
        paging_ok = (n == 1 and res == [0] and chain) if mode == 'unpaged' else \
            (n > 1 and res[-1] == 0 and all(x == ERROR_MORE_DATA for x in res[:-1]) and chain)
        check(r.listing_ok() and r.level == level and ok and own_ok and ids == sorted(ids) and paging_ok
              and max(ids) == 0xFFFFFFFE,
              'files --level %d (%s): all %d exactly (%s), ids above 2^31 up to 0xFFFFFFFE, our own pipe '
              'once; %d call(s)' % (level, mode, len(listed), ', '.join(FILE_FIELDS[level]), n),
              '%s\nown %s\nresults %s chain %s\n%s' % (why, own, res[:5], chain, r))
    srv.options(own_limit=0)


def smbnet_checks(w):
    srv, st = w.srv, w.state
    srv.options(own_limit=16000)   # smbnet asks for everything: the server pages by its own limit
    r = smbnet(SMBNET, srv, ADMIN, PW, '--json', 'session')
    timings['smbnet --json session'] = r.seconds
    doc = r.json() if r.rc == 0 else {}
    listed, own = split_own(doc.get('sessions', []))
    ok, why = compare([norm(e, SESSION_FIELDS[502]) for e in listed], want_sessions(st, 502), 'sessions')
    check(r.rc == 0 and ok and len(own) == 1 and not doc.get('errors'),
          'smbnet --json session: %d sessions at level 502, every field, through the server\'s paging' % len(listed),
          '%s\n%s' % (why, r))
    r = smbnet(SMBNET, srv, ADMIN, PW, 'session')
    timings['smbnet session'] = r.seconds
    try:
        rows = parse_table(r.out, ['Computer', 'User name', 'Client type', 'Opens', 'Idle time'])
    except ValueError as e:
        rows = []
        diag('smbnet session: %s' % e)
    got = [(x['Computer'], x['User name'], x['Client type'], x['Opens'], x['Idle time']) for x in rows
           if x['Computer'] != '\\\\' + OWN]
    want = [('\\\\' + s['client'], s['user'], s['client_type'], str(s['num_opens']),
             '%02d:%02d:%02d' % (s['idle_time'] // 3600, s['idle_time'] // 60 % 60, s['idle_time'] % 60))
            for s in st['sessions']]
    ok, why = compare(got, want, 'table rows')
    check(r.rc == 0 and ok and len(rows) == len(want) + 1,
          'smbnet session (table): %d rows, computer \\\\name, user, client type, opens and idle time as '
          'held by the server (wide characters take two columns)' % len(rows), '%s\n%s' % (why, r.out[:2000]))
    r = smbnet(SMBNET, srv, ADMIN, PW, '--json', 'file')
    timings['smbnet --json file'] = r.seconds
    doc = r.json() if r.rc == 0 else {}
    fl = [e for e in doc.get('files', []) if e.get('path') != '\\PIPE\\srvsvc']
    ok, why = compare([norm(e, FILE_FIELDS[3]) for e in fl], want_files(st, 3), 'files')
    check(r.rc == 0 and ok and len(doc.get('files', [])) == len(fl) + 1,
          'smbnet --json file: %d files at level 3, every field' % len(fl), '%s\n%s' % (why, r))
    r = smbnet(SMBNET, srv, ADMIN, PW, 'file')
    timings['smbnet file'] = r.seconds
    try:
        rows = parse_table(r.out, ['ID', 'Path', 'User name', '# Locks'])
    except ValueError as e:
        rows = []
        diag('smbnet file: %s' % e)
    got = [(x['ID'], x['Path'], x['User name'], x['# Locks']) for x in rows if x['Path'] != '\\PIPE\\srvsvc']
    want = [(str(f['id']), f['path'], f['user'], str(f['num_locks'])) for f in st['files']]
    ok, why = compare(got, want, 'table rows')
    check(r.rc == 0 and ok, 'smbnet file (table): %d rows, id, path, user and locks' % len(got),
          '%s\n%s' % (why, r.out[:2000]))
    n, res, chain = pages(srv, 'NetrFileEnum')
    check(n > 1 and chain and res[-1] == 0,
          'the server paged those answers by its own limit (%d calls for the last listing) and smbnet followed '
          'the resume handles' % n, str(res[:5]))
    srv.options(own_limit=0)


def ffi_checks(w):
    srv, st = w.srv, w.state
    srv.options(own_limit=20000)
    r = run_cli(['/usr/bin/python3', FFI, '--lib', LIB, '--port', str(srv.port), srv.address, '-', ADMIN, PW],
                hide=(PW,))
    timings['ffi'] = r.seconds
    sess = [l.split('\t')[1:] for l in r.out.splitlines() if l.startswith('session\t')]
    files = [l.split('\t')[1:] for l in r.out.splitlines() if l.startswith('file\t')]
    got = [tuple(x) for x in sess if x[0] != OWN]
    want = [(s['client'], s['user'], str(s['num_opens']), str(s['time']), str(s['idle_time'])) for s in st['sessions']]
    ok1, why1 = compare(got, want, 'sessions')
    got = [tuple(x) for x in files if x[1] != '\\PIPE\\srvsvc']
    want = [(str(f['id']), f['path'], f['user'], str(f['num_locks'])) for f in st['files']]
    ok2, why2 = compare(got, want, 'files')
    check(r.rc == 0 and ok1 and ok2 and len(sess) == N_SESSIONS + 1 and len(files) == N_FILES + 1,
          'the FFI example (ctypes): %d sessions and %d files, every field it prints' % (len(sess), len(files)),
          '%s\n%s\n%s' % (why1, why2, r))
    srv.options(own_limit=0)


def filter_checks(w):
    srv, st = w.srv, w.state
    ipv6 = next(s['client'] for s in st['sessions'] if s['client'].startswith('['))
    netbios = next(s['client'] for s in st['sessions'] if s['client'].startswith('WS-'))
    ipv4 = st['sessions'][10]['client']
    for arg, client in ((ipv4, ipv4), ('\\\\' + ipv4, ipv4), (ipv6, ipv6), ('\\\\' + netbios.lower(), netbios)):
        srv.reset_stats()
        r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', arg)
        calls = srv.stats()['calls']
        want = want_sessions(st, 502, client=client)
        ok, why = compare([norm(e, SESSION_FIELDS[502]) for e in r.entries], want, 'sessions')
        served = calls and calls[-1]['client'] == '\\\\' + _strip(arg) and calls[-1]['entries'] == len(want)
        check(r.listing_ok() and ok and want and served,
              'sessions %s: its %d sessions; the server got \\\\%s and filtered itself' % (arg, len(want), _strip(arg)),
              '%s\n%s\n%s' % (why, calls[-1:] if calls else None, r))
    srv.reset_stats()
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', '-', 'JÜRGEN')
    want = want_sessions(st, 502, user='jürgen')
    ok, why = compare([norm(e, SESSION_FIELDS[502]) for e in r.entries], want, 'sessions')
    calls = srv.stats()['calls']
    check(r.listing_ok() and ok and calls and calls[-1]['entries'] == len(want),
          'sessions - JÜRGEN: the %d sessions of jürgen (case-insensitive, server-side)' % len(want), why + str(r))
    user = 'user😀x'
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', ipv6, user)
    want = want_sessions(st, 502, client=ipv6, user=user)
    ok, why = compare([norm(e, SESSION_FIELDS[502]) for e in r.entries], want, 'sessions')
    r2 = api_tool(TOOL, srv, ADMIN, PW, 'sessions', '-', user)
    want2 = want_sessions(st, 502, user=user)
    ok2, why2 = compare([norm(e, SESSION_FIELDS[502]) for e in r2.entries], want2, 'sessions')
    check((r.listing_ok() and ok and want) or (r.err_name == 'NERR_UserNotFound' and not want),
          'sessions %s %s (client and a user name with a surrogate pair): %d' % (ipv6, user, len(want)), why + str(r))
    check(r2.listing_ok() and ok2 and len(want2) == N_SESSIONS // len(USERS) + (1 if 9 < N_SESSIONS % len(USERS) else 0),
          'sessions - %s: all %d sessions of that user' % (user, len(want2)), why2 + str(r2))
    base = 'C:\\Shares\\HOME\\dir007\\'
    srv.reset_stats()
    r = api_tool(TOOL, srv, ADMIN, PW, 'files', base.lower())
    want = want_files(st, 3, base=base)
    ok, why = compare([norm(e, FILE_FIELDS[3]) for e in r.entries], want, 'files')
    calls = srv.stats()['calls']
    check(r.listing_ok() and ok and want and calls and calls[-1]['base'] == base.lower(),
          'files %s: the %d files below that path (case-insensitive prefix, server-side)' % (base.lower(), len(want)),
          why + str(r))
    r = api_tool(TOOL, srv, ADMIN, PW, 'files', 'C:\\Shares\\DATA\\', '日本語ユーザー')
    want = want_files(st, 3, base='C:\\Shares\\DATA\\', user='日本語ユーザー')
    ok, why = compare([norm(e, FILE_FIELDS[3]) for e in r.entries], want, 'files')
    check(r.listing_ok() and ok and want, 'files C:\\Shares\\DATA\\ 日本語ユーザー: base path and user (%d)' % len(want),
          why + str(r))
    # tree connections by client and by share
    s = st['sessions'][4]
    r = api_tool(TOOL, srv, ADMIN, PW, 'conns', '\\\\' + s['client'])
    sess = [x for x in st['sessions'] if x['client'] == s['client']]
    want = Counter((sh, x['user']) for x in sess for sh in x['shares'])
    got = Counter((e['share'], e['user']) for e in r.entries)
    check(r.listing_ok() and r.level == 1 and got == want,
          'conns \\\\%s: the shares its %d sessions use (%d connections, share names)' % (s['client'], len(sess), len(want)),
          str(r))
    r = api_tool(TOOL, srv, ADMIN, PW, 'conns', 'HOME')
    want = Counter((x['client'], x['user']) for x in st['sessions'] if 'HOME' in x['shares'])
    got = Counter((e['share'], e['user']) for e in r.entries)
    check(r.listing_ok() and got == want, 'conns HOME: the %d connections to that share, by client' % len(want),
          str(r)[:2000])


def _strip(name):
    return name.lstrip('\\')


def error_checks(w):
    srv, st = w.srv, w.state
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', '\\\\10.99.99.99')
    sn = smbnet(SMBNET, srv, ADMIN, PW, 'session', '\\\\10.99.99.99')
    check(r.rc == 1 and r.err_name == 'NERR_ClientNameNotFound' and sn.rc == 1 and 'NERR_ClientNameNotFound' in sn.err,
          'no session from that computer: NERR_ClientNameNotFound (2312) from the API and smbnet', '%s\n%s' % (r, sn))
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions', '-', 'nobody')
    check(r.rc == 1 and r.err_name == 'NERR_UserNotFound', 'no session of that user: %s' % r.err_name, r)
    r = api_tool(TOOL, srv, ADMIN, PW, 'fileinfo', '3')
    r2 = api_tool(TOOL, srv, ADMIN, PW, 'close', '3')
    check(r.rc == 1 and r.err_name == 'NERR_FileIdNotFound' and r2.rc == 1 and r2.err_name == 'NERR_FileIdNotFound',
          'fileinfo and close of an id nobody holds: NERR_FileIdNotFound (2314)', '%s\n%s' % (r, r2))
    res = []
    for cmd in (('sessions',), ('files',), ('close', str(st['files'][0]['id'])), ('sessdel', st['sessions'][0]['client'])):
        x = api_tool(TOOL, srv, PLAIN, PW, *cmd)
        res.append((cmd[0], x.rc, x.err_name))
    sn = smbnet(SMBNET, srv, PLAIN, PW, 'file')
    after = held(srv)
    check(all(rc == 1 and n == 'ERROR_ACCESS_DENIED' for _, rc, n in res) and sn.rc == 5
          and len(after['files']) == len(st['files']) and len(after['sessions']) == len(st['sessions']),
          'a user without admin rights: ERROR_ACCESS_DENIED for sessions, files, close and sessdel (smbnet exit 5), '
          'nothing changed on the server', '%s\n%s' % (res, sn))
    # A server that lacks levels: the library steps down, the server saw each try.
    srv.options(levels_sessions=[0, 1, 10], levels_files=[2])
    srv.reset_stats()
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessions')
    tries = [(c['level'], c['result']) for c in srv.stats()['calls']]
    listed, own = split_own(r.entries)
    ok, why = compare([norm(e, SESSION_FIELDS[1]) for e in listed], want_sessions(st, 1), 'sessions')
    check(r.listing_ok() and r.level == 1 and ok and tries == [(502, ERROR_INVALID_LEVEL), (2, ERROR_INVALID_LEVEL), (1, 0)],
          'a server without levels 502 and 2: ERROR_INVALID_LEVEL twice, the library answers at level 1 '
          '(tries %s)' % tries, '%s\n%s' % (why, r))
    srv.reset_stats()
    fid = st['files'][1]['id']
    r = api_tool(TOOL, srv, ADMIN, PW, 'fileinfo', str(fid))
    tries = [(c['level'], c['result']) for c in srv.stats()['calls']]
    check(r.listing_ok() and r.level == 2 and r.entries == [{'id': str(fid)}]
          and tries == [(3, ERROR_INVALID_LEVEL), (2, 0)],
          'fileinfo on a server without file level 3: ERROR_INVALID_LEVEL, then level 2 (the id)', '%s\n%s' % (tries, r))
    srv.options(levels_sessions=[0, 1, 2, 10, 502], levels_files=[2, 3])


def fileinfo_checks(w):
    srv, st = w.srv, w.state
    big = [f for f in st['files'] if f['id'] > 0x80000000 and '😀' in f['path']][:3]
    bad = []
    for f in big:
        for level in (3, 2):
            r = api_tool(TOOL, srv, ADMIN, PW, 'fileinfo', str(f['id']), opts=('--level', str(level)))
            if not (r.listing_ok() and r.level == level and r.count == 1 and
                    norm(r.entries[0], FILE_FIELDS[level]) == norm(f, FILE_FIELDS[level])):
                bad.append(str(r))
    check(len(big) == 3 and not bad,
          'fileinfo of 3 ids above 2^31 with a surrogate pair in the path, at levels 3 and 2 (NetrFileGetInfo)',
          '\n'.join(bad[:2]))


def close_checks(w):
    srv, st = w.srv, w.state
    victim = st['files'][1234]
    owner = next(s for s in st['sessions'] if s['id'] == victim['session'])
    r = smbnet(SMBNET, srv, ADMIN, PW, 'file', str(victim['id']), '/CLOSE', '/Y')
    after = held(srv)
    ids = {f['id'] for f in after['files']}
    sess = next(s for s in after['sessions'] if s['id'] == owner['id'])
    check(r.rc == 0 and victim['id'] not in ids and len(ids) == len(st['files']) - 1
          and sess['num_opens'] == owner['num_opens'] - 1,
          'smbnet file %d /CLOSE /Y: the server no longer holds it, its session has one open file less, '
          'nothing else changed' % victim['id'], str(r))
    v2 = st['files'][2999]
    r = api_tool(TOOL, srv, ADMIN, PW, 'close', str(v2['id']))
    after = held(srv)
    ids2 = {f['id'] for f in after['files']}
    check(r.rc == 0 and r.ok_line and ids2 == ids - {v2['id']},
          'close %#x through the API: gone on the server' % v2['id'], str(r))
    r = api_tool(TOOL, srv, ADMIN, PW, 'close', str(v2['id']))
    check(r.rc == 1 and r.err_name == 'NERR_FileIdNotFound', 'closing it again: NERR_FileIdNotFound', str(r))
    w.state = held(srv)


def delete_checks(w):
    srv, st = w.srv, w.state
    target = st['sessions'][40]['client']
    gone = [s for s in st['sessions'] if s['client'] == target]
    gone_ids = {s['id'] for s in gone}
    r = smbnet(SMBNET, srv, ADMIN, PW, 'session', '\\\\' + target, '/DELETE', '/Y')
    after = held(srv)
    left = [s for s in after['sessions'] if not s['live']]
    files_left = [f for f in after['files'] if not f['live']]
    check(r.rc == 0 and not [s for s in left if s['client'] == target]
          and len(left) == len([s for s in st['sessions'] if not s['live']]) - len(gone)
          and not [f for f in files_left if f['session'] in gone_ids]
          and len(files_left) == len([f for f in st['files'] if not f['live']]) -
          len([f for f in st['files'] if f['session'] in gone_ids]),
          'smbnet session \\\\%s /DELETE /Y: its %d sessions and their files are gone on the server, '
          'the others stay' % (target, len(gone)), str(r))
    user = 'zoë'
    n = len([s for s in after['sessions'] if s['user'] == user])
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessdel', '-', user)
    after2 = held(srv)
    check(r.rc == 0 and n > 0 and not [s for s in after2['sessions'] if s['user'] == user]
          and len(after2['sessions']) == len(after['sessions']) - n,
          'sessdel - %s through the API: all %d sessions of that user end on the server' % (user, n), str(r))
    r = api_tool(TOOL, srv, ADMIN, PW, 'sessdel', target)
    check(r.rc == 1 and r.err_name == 'NERR_ClientNameNotFound',
          'deleting %s again: NERR_ClientNameNotFound' % target, str(r))


class World:
    pass


def main():
    missing = [p for p in (TOOL, SMBNET, FFI, LIB) if p is None or not os.path.exists(p)]
    if missing:
        print('1..1\nnot ok 1 - usage: windows.py API_TOOL SMBNET FFI_SCRIPT LIBSMBSESS')
        return 1
    plan = 1 + 7 + 3 * 7 + 5 + 1 + 11 + 6 + 1 + 3 + 3 + 1
    print('1..%d' % plan, flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='smbsess-windows-') as tmp:
        os.chmod(tmp, 0o755)
        w = World()
        w.tmp = tmp
        w.initial = make_state()
        try:
            w.srv = WinServer(os.path.join(tmp, 'srv'), users=[(ADMIN, PW, True), (PLAIN, PW, False)],
                              shares=('DATA', 'HOME'), state=w.initial)
        except Exception:
            diag(traceback.format_exc())
            for i in range(plan):
                check(False, 'winserver did not start (%d)' % (i + 1))
            return 1
        with w.srv:
            timings['server start'] = time.monotonic() - t0
            w.state = held(w.srv)
            check(len(w.state['sessions']) == N_SESSIONS and len(w.state['files']) == N_FILES,
                  'the server holds %d sessions and %d open files' % (len(w.state['sessions']), len(w.state['files'])))
            section('server', 7, server_checks, w)
            for mode in ('unpaged', 'paged', 'own limit'):
                section('levels ' + mode, 7, level_checks, w, mode)
            section('smbnet', 5, smbnet_checks, w)
            section('ffi', 1, ffi_checks, w)
            section('filters', 11, filter_checks, w)
            section('errors', 6, error_checks, w)
            section('fileinfo', 1, fileinfo_checks, w)
            section('close', 3, close_checks, w)
            section('delete', 3, delete_checks, w)
            errs = w.srv.stats()['errors']
            check(not errs, 'the server recorded no failure of its own', '\n'.join(errs[:5]))
    timings['total'] = time.monotonic() - t0
    diag('timings: ' + ', '.join('%s %.1f s' % (k, v) for k, v in timings.items()))
    return 0 if all(results) and len(results) == plan else 1


if __name__ == '__main__':
    sys.exit(main())
