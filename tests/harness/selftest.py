#!/usr/bin/python3
"""Self-test of the sambatest harness (TAP output, one line per check).

Starts a private smbd, adds an admin and a normal user, holds files open from
two impacket sessions with two different source addresses and from smbclient
(a name outside the BMP), compares with rpcclient netsessenum / netfileenum 3,
then stops everything and checks that nothing of it is left running.
Needs root, smbd, smbclient, rpcclient and impacket for /usr/bin/python3.
"""

import contextlib
import os
import socket
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sambatest as st  # noqa: E402

ADMIN, ADMIN_PW = 'sbtadmin', 'Adm1n-pw!x'
USER, USER_PW = 'sbtuser', 'Us3r-pw%y'     # a '%' inside the password on purpose
EMOJI = 'dir/\U0001F600.txt'               # outside the BMP: smbclient, not impacket


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if detail is not None:
                self.diag(detail)
        return cond

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            print('# ' + line, flush=True)

    def skip(self, name, why):
        self.n += 1
        print('ok %d - %s # SKIP %s' % (self.n, name, why), flush=True)

    def done(self):
        print('1..%d' % self.n, flush=True)
        return 1 if self.failed else 0


def port_listening(address, port):
    return bool(st._listening_inodes(address, port))


def main():
    tap = Tap()
    if os.geteuid() != 0:
        print('1..0 # SKIP needs root (useradd, smbd as root)')
        return 0
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix='sambatest-selftest-'))
        os.chmod(tmp, 0o755)  # the main server keeps its shares below it
        try:
            run_checks(tap, stack, tmp)
        except Exception:
            tap.ok(False, 'no unexpected exception', traceback.format_exc())
        finally:
            stack.close()  # stops whatever is still running before the last checks
            leftovers = st.processes_matching(tmp)
            tap.ok(not leftovers, 'nothing started under the test directory is left running',
                   leftovers)
    return tap.done()


def run_checks(tap, stack, tmp):
    # ---- a bad option is refused before smbd starts
    t0 = time.monotonic()
    try:
        st.SmbServer(os.path.join(tmp, 'bad'), options={'server min protocl': 'SMB2'})
        tap.ok(False, 'misspelt smb.conf option is refused')
    except st.HarnessError as e:
        tap.ok('server min protocl' in str(e), 'misspelt smb.conf option is refused', e)
    tap.ok(not st.processes_matching(os.path.join(tmp, 'bad')), 'no process left after refusal')

    # ---- a port that is taken: start fails with the log tail, nothing left
    blocker = stack.enter_context(socket.socket())
    blocker.bind(('127.0.0.1', 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:
        st.SmbServer(os.path.join(tmp, 'taken'), port=taken, start_timeout=10)
        tap.ok(False, 'start on a taken port fails')
    except st.HarnessError as e:
        tap.ok('Address already in use' in str(e), 'start on a taken port fails with the log tail',
               str(e)[-3000:])
    tap.ok(not st.processes_matching(os.path.join(tmp, 'taken')),
           'no process left after failed start')
    blocker.close()
    tap.diag('failure paths took %.2f s' % (time.monotonic() - t0))

    # ---- the server
    t0 = time.monotonic()
    srv = stack.enter_context(st.SmbServer(os.path.join(tmp, 'srv')))
    t_start = time.monotonic() - t0
    tap.ok(srv.port and port_listening(srv.address, srv.port),
           'smbd listens on %s:%s' % (srv.address, srv.port), srv.log_tail())
    tap.diag('server start: %.3f s (testparm check %.3f s, smbd until it accepts %.3f s)'
             % (t_start, srv.timings.get('testparm', 0), srv.timings['smbd']))
    tap.diag('isolated from host winbindd (private /run/samba): %s; host winbindd socket present: %s'
             % (srv.isolated, st.winbindd_socket_present()))
    tap.ok(os.path.exists(srv.conf) and open(srv.conf).read().count('bind interfaces only') == 1,
           'smb.conf written')

    tap.ok(srv.share_path().startswith(srv.tmpdir), 'shares below the server directory')

    # a second server at the same time gets its own port; its directory is
    # below a 0700 one that users cannot enter, so its shares move to /tmp
    private = os.path.join(tmp, 'private')
    os.mkdir(private, 0o700)
    t0 = time.monotonic()
    with st.SmbServer(os.path.join(private, 'srv2')) as srv2:
        tap.diag('second server start: %.3f s' % (time.monotonic() - t0))
        tap.ok(srv2.port != srv.port and port_listening('127.0.0.1', srv2.port),
               'a second server runs at the same time on port %s' % srv2.port)
        tap.ok(srv2.share_path().startswith(srv2.sockdir) and st._world_traversable(srv2.share_path()),
               'shares of a server in a private directory go where users can reach them')
        pids2 = srv2.pids()
    tap.ok(pids2 and not st.processes_matching(srv2.conf) and not port_listening('127.0.0.1', srv2.port),
           'second server stopped (%d processes)' % len(pids2))

    # ---- users
    t0 = time.monotonic()
    srv.add_user(ADMIN, ADMIN_PW, admin=True)
    srv.add_user(USER, USER_PW)
    tap.diag('two users added: %.3f s' % (time.monotonic() - t0))
    srv.add_user(ADMIN, ADMIN_PW, admin=True)   # idempotent
    srv.add_user(USER, USER_PW)
    tap.ok(srv.is_admin(ADMIN) and not srv.is_admin(USER),
           'admin user in BUILTIN\\Administrators, normal user not (after adding twice)')

    # ---- sessions and open files
    t0 = time.monotonic()
    c1 = stack.enter_context(st.ImpacketClient(srv, USER, USER_PW, source='127.0.0.2'))
    c2 = stack.enter_context(st.ImpacketClient(srv, ADMIN, ADMIN_PW, source='127.0.0.3'))
    tap.diag('two impacket sessions: %.3f s' % (time.monotonic() - t0))
    tap.ok(c1.local_address[0] == '127.0.0.2' and c2.local_address[0] == '127.0.0.3',
           'impacket clients bound to 127.0.0.2 and 127.0.0.3',
           (c1.local_address, c2.local_address))
    h1 = c1.open('share', 'one.txt')
    c1.write(h1, b'first file')
    c1.mkdir('share', 'sub dir')
    h2 = c1.open('share', 'sub dir/two.txt')
    h3 = c2.open('share', 'three.txt')
    tap.ok(c1.read(h1) == b'first file' and c2.read(h3) == b'', 'impacket write and read back')
    t0 = time.monotonic()
    holder = stack.enter_context(st.SmbclientHolder(srv, 'share', USER, USER_PW, [EMOJI]))
    tap.diag('smbclient holder with one file: %.3f s' % (time.monotonic() - t0))
    tap.ok(EMOJI in holder.fnums and holder.alive(), 'smbclient holds %s open' % EMOJI, holder.output)

    # ---- the oracle
    t0 = time.monotonic()
    sessions = st.netsessenum(srv, ADMIN, ADMIN_PW)
    tap.diag('first netsessenum (srvsvc started on demand): %.3f s' % (time.monotonic() - t0))
    t0 = time.monotonic()
    st.netsessenum(srv, ADMIN, ADMIN_PW)
    tap.diag('second netsessenum: %.3f s' % (time.monotonic() - t0))
    got = sorted((s['client'], s['user'], s['num_open']) for s in sessions)
    tap.diag('sessions: %s' % got)
    tap.ok(('127.0.0.2', USER, 2) in got, 'netsessenum lists the user session from 127.0.0.2 with 2 files')
    tap.ok(('127.0.0.3', ADMIN, 1) in got, 'netsessenum lists the admin session from 127.0.0.3 with 1 file')
    tap.ok(('127.0.0.1', USER, 1) in got, 'netsessenum lists the smbclient session from 127.0.0.1 with 1 file')
    tap.ok(len(got) == 4 and ('127.0.0.1', ADMIN, 0) in got,
           'netsessenum lists the caller\'s own session too, and nothing else')
    try:
        st.netsessenum(srv, USER, USER_PW)
        tap.ok(False, 'netsessenum as a normal user is refused')
    except st.HarnessError as e:
        tap.ok('WERR_ACCESS_DENIED' in str(e), 'netsessenum as a normal user is refused', e)

    files = st.netfileenum(srv, ADMIN, ADMIN_PW)
    root = 'C:' + srv.share_path().replace('/', '\\')
    got = sorted((f['path'], f['user']) for f in files)
    tap.diag('files: %s' % got)
    want = sorted([(root + '\\one.txt', USER), (root + '\\sub dir\\two.txt', USER),
                   (root + '\\three.txt', ADMIN), (root + '\\' + EMOJI.replace('/', '\\'), USER)])
    tap.ok(got == want, 'netfileenum 3 lists the 4 open files with their users', (got, want))
    tap.ok(all(f['fid'] >> 16 > 0 for f in files) and len({f['fid'] for f in files}) == 4,
           'file ids are distinct, with an smbd pid in the upper half')
    status = srv.smbstatus('-L')
    tap.ok(status.count(srv.share_path()) == 4, 'smbstatus -L agrees (4 files)', status)

    # closing is seen by the server
    c1.close_file(h2)
    files = st.netfileenum(srv, ADMIN, ADMIN_PW)
    tap.ok(len(files) == 3 and not any(f['path'].endswith('two.txt') for f in files),
           'a closed file is no longer listed')

    holder.close_file(EMOJI)
    files = st.netfileenum(srv, ADMIN, ADMIN_PW)
    tap.ok(len(files) == 2 and not any('\U0001F600' in f['path'] for f in files),
           'a file closed by smbclient is no longer listed')

    # ---- stop everything
    pids = srv.pids()
    holder.stop()
    tap.ok(not holder.alive(), 'smbclient holder stopped')
    c1.close()
    c2.close()
    t0 = time.monotonic()
    srv.stop()
    tap.diag('server stop: %.3f s (%d processes: smbd, its children, samba-dcerpcd, rpcd_*)'
             % (time.monotonic() - t0, len(pids)))
    table = st._proc_table()
    alive = [p for p in pids if p in table and table[p][0] != 'Z']
    tap.ok(not alive, 'every process of the server has ended', alive)
    tap.ok(not st.processes_matching(srv.conf), 'no process refers to its smb.conf any more')
    tap.ok(not port_listening(srv.address, srv.port), 'port %d is closed' % srv.port)
    tap.ok(srv.sockdir is None, 'socket directory removed')


if __name__ == '__main__':
    sys.exit(main())
