#!/usr/bin/python3
"""sambatest: private Samba smbd instances on loopback, and independent clients.

Used by the integration tests, the CLI tests and examples/demo.sh of libsmbsess.
Runs with Debian's /usr/bin/python3 (the one that has impacket), as root.

    from sambatest import SmbServer, ImpacketClient, SmbclientHolder
    with SmbServer('/tmp/x') as srv:
        srv.add_user('adm', 'pw', admin=True)
        srv.add_user('bob', 'pw')
        with ImpacketClient(srv, 'bob', 'pw', source='127.0.0.2') as c:
            h = c.open('share', 'dir/a.txt')
            print(netfileenum(srv, 'adm', 'pw'))

Everything a server writes stays under its own directory (plus a short socket
directory under /tmp, see SmbServer). Every wait is bounded; every process
started here is stopped by stop()/close(), at interpreter exit, and on
SIGTERM/SIGHUP (turned into SystemExit so that finally blocks run).

See README.md in this folder for the API in short.
"""

import atexit
import errno
import fcntl
import grp
import os
import pwd
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import weakref

__all__ = [
    'HarnessError', 'SmbServer', 'ImpacketClient', 'SmbclientHolder', 'Handle',
    'RpcResult', 'rpcclient', 'netsessenum', 'netfileenum', 'netsessdel',
    'parse_ndr_out', 'ensure_unix_user', 'ensure_unix_group',
    'ensure_loopback_address', 'free_port', 'winbindd_socket_present',
    'isolation_available', 'processes_matching',
]

SMBD = shutil.which('smbd') or '/usr/sbin/smbd'
SMBCLIENT = shutil.which('smbclient') or '/usr/bin/smbclient'
RPCCLIENT = shutil.which('rpcclient') or '/usr/bin/rpcclient'
NET = shutil.which('net') or '/usr/bin/net'
SMBPASSWD = shutil.which('smbpasswd') or '/usr/bin/smbpasswd'
TESTPARM = shutil.which('testparm') or '/usr/bin/testparm'
UNSHARE = shutil.which('unshare') or '/usr/bin/unshare'
STDBUF = shutil.which('stdbuf') or '/usr/bin/stdbuf'

# The compiled-in directory where winbind clients (and smbd!) look for a
# winbindd socket, whatever smb.conf says.
RUN_SAMBA = '/run/samba'
WINBINDD_PIPE = RUN_SAMBA + '/winbindd/pipe'

# The unix group mapped to BUILTIN\Administrators (S-1-5-32-544) on servers
# where add_user(admin=True) was used. Users are NOT made unix members of it:
# on Samba 4.17 the alias membership from `net sam addmem` is enough, and it
# keeps "admin" a per-server property.
ADMIN_UNIX_GROUP = 'sambatest-admins'

# Serialises useradd/groupadd between concurrently running test processes
# (useradd fails instead of waiting when /etc/passwd is locked).
_USERS_LOCK = '/run/lock/sambatest-users.lock' if os.path.isdir('/run/lock') \
    else os.path.join(tempfile.gettempdir(), 'sambatest-users.lock')


class HarnessError(Exception):
    """Setting up or driving a test peer failed (message has the details)."""


# --------------------------------------------------------------------------
# small helpers

def _run(args, input=None, timeout=60, check=True, env=None):
    """Run a short command with a bounded wait; returns CompletedProcess (text)."""
    try:
        r = subprocess.run(args, input=input, capture_output=True, text=True,
                           timeout=timeout, env=env, errors='replace')
    except subprocess.TimeoutExpired as e:
        raise HarnessError('%s: no answer within %ss' % (' '.join(args), timeout)) from e
    if check and r.returncode != 0:
        raise HarnessError('%s: exit %d\n%s%s' % (' '.join(args), r.returncode, r.stdout, r.stderr))
    return r


def _fmt_value(v):
    if isinstance(v, bool):
        return 'yes' if v else 'no'
    if isinstance(v, (list, tuple)):
        return ' '.join(str(x) for x in v)
    return str(v)


def _norm_key(k):
    return ' '.join(k.lower().split())


def _deadline(seconds):
    return time.monotonic() + seconds


def free_port(address='127.0.0.1', exclude=()):
    """A TCP port that is free on `address` now: bind port 0 and let the kernel choose.

    There is a window between closing this socket and smbd binding the port;
    SmbServer therefore retries with another port when smbd reports
    'Address already in use'."""
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port
    raise HarnessError('no free port found on %s' % address)


def ensure_loopback_address(address):
    """Put `address` (127/8 other than 127.0.0.1) on `lo` if it is not there yet.

    smbd with `bind interfaces only` only listens on addresses of an
    interface. The address is left in place afterwards (other tests running
    at the same time may use it too); it is harmless on lo."""
    if address in ('127.0.0.1', '::1', 'localhost'):
        return
    r = _run(['ip', '-o', 'addr', 'show', 'dev', 'lo'], timeout=10)
    if re.search(r'\binet6? %s/' % re.escape(address), r.stdout):
        return
    prefix = '128' if ':' in address else '8'
    r = _run(['ip', 'addr', 'add', '%s/%s' % (address, prefix), 'dev', 'lo'], timeout=10, check=False)
    if r.returncode != 0 and 'File exists' not in r.stderr:
        raise HarnessError('cannot add %s to lo: %s' % (address, r.stderr.strip()))


class _FileLock:
    def __init__(self, path, timeout=60):
        self.path, self.timeout, self.fd = path, timeout, None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        end = _deadline(self.timeout)
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > end:
                    os.close(self.fd)
                    raise HarnessError('cannot lock %s' % self.path) from e
                time.sleep(0.05)

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _retry_locked(args, exists, what):
    """Run useradd/groupadd until `exists()` holds; /etc/passwd may be locked
    by a concurrent process for a moment."""
    end = _deadline(30)
    while True:
        if exists():
            return
        r = _run(args, timeout=30, check=False)
        if r.returncode == 0 or exists():
            return
        if time.monotonic() > end:
            raise HarnessError('%s failed: %s' % (what, (r.stdout + r.stderr).strip()))
        time.sleep(0.2)


def ensure_unix_group(name):
    def exists():
        try:
            grp.getgrnam(name)
            return True
        except KeyError:
            return False
    with _FileLock(_USERS_LOCK):
        _retry_locked(['groupadd', name], exists, 'groupadd %s' % name)


def ensure_unix_user(name):
    """Create the unix account `name` (no home, no login shell) if missing."""
    def exists():
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False
    if exists():
        return
    with _FileLock(_USERS_LOCK):
        _retry_locked(['useradd', '-M', '-s', '/usr/sbin/nologin', name], exists,
                      'useradd %s' % name)


# --------------------------------------------------------------------------
# processes

def _proc_table():
    """{pid: (state, ppid, pgrp, session, [argv bytes])} for all processes."""
    table = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open('/proc/%d/stat' % pid, 'rb') as f:
                stat = f.read()
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b')') + 2:].split()
        table[pid] = (rest[0].decode(), int(rest[1]), int(rest[2]), int(rest[3]),
                      cmd.rstrip(b'\0').split(b'\0') if cmd else [])
    return table


def processes_matching(text):
    """Live (non-zombie) pids whose command line contains `text`."""
    t = os.fsencode(text)
    return sorted(pid for pid, (st, _, _, _, argv) in _proc_table().items()
                  if st != 'Z' and pid != os.getpid() and any(t in a for a in argv))


def _signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


_isolation_ok = None



def _wait_then_kill(pids, proc, end):
    """Waits until `end` (monotonic) for the processes `pids()` lists to go,
    SIGKILLs what is left, reaps `proc`; returns the pids that survived."""
    left = pids()
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = pids()
    if left:
        _signal_pids(left, signal.SIGKILL)
        end = _deadline(5)
        while left and time.monotonic() < end:
            time.sleep(0.05)
            left = pids()
    if proc:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    return left

def isolation_available():
    """True if smbd can be started in a private mount namespace where
    /run/samba is an empty directory of its own (needs CAP_SYS_ADMIN)."""
    global _isolation_ok
    if _isolation_ok is None:
        try:
            os.makedirs(RUN_SAMBA, exist_ok=True)
            d = tempfile.mkdtemp(prefix='sambatest-ns')
            try:
                r = subprocess.run([UNSHARE, '--mount', '--propagation', 'private', 'sh', '-c',
                                    'mount --bind "$0" %s && test ! -e %s' % (RUN_SAMBA, WINBINDD_PIPE), d],
                                   capture_output=True, timeout=10)
                _isolation_ok = r.returncode == 0
            finally:
                os.rmdir(d)
        except (OSError, subprocess.TimeoutExpired):
            _isolation_ok = False
    return _isolation_ok


def winbindd_socket_present():
    """True if some winbindd (e.g. an AD DC's or winbind.service) listens on
    the compiled-in socket that smbd would ask."""
    if not os.path.exists(WINBINDD_PIPE):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(WINBINDD_PIPE)
            return True
        except OSError:
            return False  # a stale socket file


def _world_traversable(path):
    """True if every directory from / down to `path` can be entered by anyone."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _listening_inodes(address, port):
    """Inodes of TCP sockets in LISTEN state on address:port."""
    inodes = set()
    v6 = ':' in address
    if v6:
        packed = socket.inet_pton(socket.AF_INET6, address)
        # /proc/net/tcp6 prints the address as four host-order 32-bit words
        want = ''.join('%08X' % int.from_bytes(packed[i:i + 4], sys.byteorder)
                       for i in range(0, 16, 4))
        files = ['/proc/net/tcp6']
    else:
        want = '%08X' % int.from_bytes(socket.inet_aton(address), sys.byteorder)
        files = ['/proc/net/tcp']
    for fn in files:
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    a, p = local.split(':')
                    if state == '0A' and int(p, 16) == port and a.upper() == want:
                        inodes.add(inode)
        except OSError:
            pass
    return inodes


def _pid_owns_socket(pid, inodes):
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except OSError:
                continue
            if link.startswith('socket:[') and link[8:-1] in inodes:
                return True
    except OSError:
        pass
    return False


# Everything alive that this module started, for atexit and signal cleanup.
_live = weakref.WeakSet()
_signals_installed = False


def _cleanup_all():
    for obj in list(_live):
        try:
            obj.stop()
        except Exception as e:  # keep going: stop the others
            print('sambatest: cleanup of %r failed: %s' % (obj, e), file=sys.stderr)


def _on_signal(signum, frame):
    # First signal every process right away (meson sends SIGKILL 0.5 s after
    # SIGTERM), then unwind so that finally blocks and context managers run.
    for obj in list(_live):
        try:
            obj._kill_now()
        except Exception:
            pass
    raise SystemExit(128 + signum)


def _register(obj):
    global _signals_installed
    _live.add(obj)
    if not _signals_installed and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        _signals_installed = True


atexit.register(_cleanup_all)


# --------------------------------------------------------------------------
# the server

class SmbServer:
    """A standalone Samba smbd on loopback with its own configuration and state.

    SmbServer(tmpdir, port=None, address='127.0.0.1', options={}, shares={...})

    tmpdir    directory for smb.conf, state, logs and shares (created; None:
              a fresh temporary directory, removed by stop()).
    port      None: a free one is picked (and re-picked if it gets taken).
    address   where smbd listens (127.0.0.1, another 127/8 address that is
              then put on lo, or ::1).
    options   [global] parameters, passed through, override the defaults:
              {'server min protocol': 'SMB3', 'server signing': 'mandatory',
               'server smb encrypt': 'required',
               'server smb3 encryption algorithms': 'AES-128-GCM', ...}
              Unknown parameter names are an error (checked with testparm).
    shares    {name: {parameter: value}}; default {'share': {}}. Each share
              gets `path` = tmpdir/shares/<name> (mode 0777) and
              `read only = no` unless given.
    client_options  parameters for the clients' own configuration
              (client.conf: smbclient, rpcclient), e.g. {'client max protocol': 'SMB2'}.
    isolate   run smbd in a private mount namespace whose /run/samba is empty,
              so that no winbindd on the host (an AD DC's) is consulted;
              skipped when not permitted. smbd also always gets
              _NO_WINBINDD=1 (enough on its own, checked against a DC).
    start     start at once (default) or leave it to start().

    Attributes: address, port, conf, client_conf, log_path, sockdir,
    start_seconds (timings: 'testparm', 'smbd'), isolated, pid.
    Use as a context manager, or call stop().
    """

    DEFAULT_START_TIMEOUT = 20

    def __init__(self, tmpdir=None, port=None, address='127.0.0.1', options=None, shares=None,
                 client_options=None, isolate=True, start=True, log_level=1,
                 start_timeout=DEFAULT_START_TIMEOUT, check_options=True):
        self._own_tmpdir = tmpdir is None
        self.tmpdir = os.path.abspath(tmpdir or tempfile.mkdtemp(prefix='sambatest-'))
        os.makedirs(self.tmpdir, exist_ok=True)
        # mkdtemp/TemporaryDirectory make 0700 directories; smbd serves a
        # session with the user's uid, which must be able to enter it
        mode = os.stat(self.tmpdir).st_mode
        if mode & 0o055 != 0o055:
            os.chmod(self.tmpdir, (mode & 0o7777) | 0o055)
        self.address = address
        self._fixed_port = port
        self.port = port
        self.options = dict(options or {})
        self.shares = {name: dict(v or {}) for name, v in (shares if shares is not None
                                                            else {'share': {}}).items()}
        self.client_options = dict(client_options or {})
        self.isolate = isolate
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.check_options = check_options
        self.conf = os.path.join(self.tmpdir, 'smb.conf')
        self.client_conf = os.path.join(self.tmpdir, 'client.conf')
        self.log_path = os.path.join(self.tmpdir, 'log', 'smbd.log')
        self.stdout_path = os.path.join(self.tmpdir, 'log', 'smbd.stdout')
        self.sockdir = None
        self.start_seconds = None
        self.timings = {}
        self.isolated = False
        self._proc = None
        self._reaper = None
        self._stdout = None
        self._admin_mapped = False
        self._stopped = True
        self._used_ports = set()
        if start:
            self.start()

    def __repr__(self):
        return 'SmbServer(%s:%s, %s)' % (self.address, self.port, self.tmpdir)

    def __enter__(self):
        if self._stopped:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    def share_path(self, share='share'):
        return self.shares[share]['path']

    # ---- configuration

    def _shares_base(self):
        """Where share directories go: tmpdir/shares when users can reach it
        (smbd serves a session with the user's uid), else the socket dir."""
        base = os.path.join(self.tmpdir, 'shares')
        return base if _world_traversable(self.tmpdir) else os.path.join(self.sockdir, 'shares')

    def _dirs(self):
        t, s = self.tmpdir, self.sockdir
        return {
            'private dir': os.path.join(t, 'private'),
            'state directory': os.path.join(t, 'state'),
            'cache directory': os.path.join(t, 'cache'),
            'pid directory': os.path.join(t, 'pid'),
            # these two hold unix sockets (msg.sock/<pid>, np/<pipe>): their
            # paths must stay below 108 bytes, so they live in a short dir
            'lock directory': os.path.join(s, 'lock'),
            'ncalrpc dir': os.path.join(s, 'ncalrpc'),
        }

    def _write_conf(self):
        dirs = self._dirs()
        for d in list(dirs.values()) + [os.path.join(self.tmpdir, 'log'),
                                        os.path.join(self.tmpdir, 'usershares')]:
            os.makedirs(d, exist_ok=True)
        os.chmod(dirs['private dir'], 0o700)
        g = {
            'server role': 'standalone server',
            'workgroup': 'SAMBATEST',
            'interfaces': self.address,
            'bind interfaces only': 'yes',
            'smb ports': str(self.port),
            'disable netbios': 'yes',
            'load printers': 'no',
            'printing': 'bsd',
            'printcap name': '/dev/null',
            'disable spoolss': 'yes',
            'passdb backend': 'tdbsam:%s' % os.path.join(dirs['private dir'], 'passdb.tdb'),
            'log file': self.log_path,
            'max log size': '0',
            'log level': str(self.log_level),
            'debug pid': 'yes',
            'panic action': '',
            'usershare path': os.path.join(self.tmpdir, 'usershares'),
            'usershare max shares': '0',
            'map to guest': 'never',
            'dns proxy': 'no',
        }
        g.update(dirs)
        merged = {}
        for k, v in g.items():
            merged[_norm_key(k)] = (k, v)
        for k, v in self.options.items():
            merged[_norm_key(k)] = (k, _fmt_value(v))
        lines = ['# written by tests/harness/sambatest.py', '[global]']
        lines += ['\t%s = %s' % kv for kv in merged.values()]
        for name, opts in self.shares.items():
            norm = {_norm_key(k): (k, _fmt_value(v)) for k, v in opts.items()}
            if 'path' not in norm:
                norm['path'] = ('path', os.path.join(self._shares_base(), name))
            if 'read only' not in norm and 'writeable' not in norm and 'writable' not in norm:
                norm['read only'] = ('read only', 'no')
            # every test user may open every file, whoever created it
            for k, v in (('create mask', '0777'), ('force create mode', '0666'),
                         ('directory mask', '0777'), ('force directory mode', '0777')):
                norm.setdefault(k, (k, v))
            path = norm['path'][1]
            opts['path'] = path
            if not os.path.isdir(path):
                os.makedirs(path)
                os.chmod(path, 0o777)
            elif not _world_traversable(path):
                print('sambatest: WARNING: share %s: users cannot reach %s' % (name, path),
                      file=sys.stderr)
            lines.append('[%s]' % name)
            lines += ['\t%s = %s' % kv for kv in norm.values()]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

        c = {
            'workgroup': 'SAMBATEST',
            'lock directory': os.path.join(self.sockdir, 'client-lock'),
            'state directory': os.path.join(self.tmpdir, 'client', 'state'),
            'cache directory': os.path.join(self.tmpdir, 'client', 'cache'),
            'private dir': os.path.join(self.tmpdir, 'client', 'private'),
            'ncalrpc dir': os.path.join(self.sockdir, 'client-ncalrpc'),
            'pid directory': os.path.join(self.tmpdir, 'client', 'pid'),
            'log file': os.path.join(self.tmpdir, 'log', 'client.log'),
            'disable netbios': 'yes',
            'load printers': 'no',
        }
        for k in ('lock directory', 'state directory', 'cache directory', 'private dir',
                  'ncalrpc dir', 'pid directory'):
            os.makedirs(c[k], exist_ok=True)
        cm = {_norm_key(k): (k, v) for k, v in c.items()}
        for k, v in self.client_options.items():
            cm[_norm_key(k)] = (k, _fmt_value(v))
        with open(self.client_conf, 'w') as f:
            f.write('# written by tests/harness/sambatest.py (clients)\n[global]\n')
            f.write(''.join('\t%s = %s\n' % kv for kv in cm.values()))

    def _check_conf(self):
        for conf in (self.conf, self.client_conf):
            r = _run([TESTPARM, '-s', '--suppress-prompt', conf], timeout=30, check=False)
            bad = re.findall(r'(?:Unknown parameter encountered|Ignoring unknown parameter|'
                             r'Ignoring invalid value|Invalid value)[^\n]*', r.stderr + r.stdout)
            if r.returncode != 0 or bad:
                raise HarnessError('bad configuration %s:\n%s\n%s' % (conf, '\n'.join(bad), r.stderr))

    # ---- start / stop

    def start(self):
        if not self._stopped:
            return self
        _register(self)
        if self.sockdir is None:
            self.sockdir = tempfile.mkdtemp(prefix='smbt', dir='/tmp')
            # 0755, not mkdtemp's 0700: smbd and rpcd_* look into
            # msg.lock/<pid> while impersonating a user (process_exists());
            # if they cannot, NetFileEnum silently drops every file
            os.chmod(self.sockdir, 0o755)
        self._stopped = False
        try:
            ensure_loopback_address(self.address)
            t0 = time.monotonic()
            self.timings = {}
            attempts = 1 if self._fixed_port else 5
            for attempt in range(attempts):
                if not self._fixed_port:
                    self.port = free_port(self.address, exclude=self._used_ports)
                    self._used_ports.add(self.port)
                self._write_conf()
                if self.check_options and attempt == 0:
                    t1 = time.monotonic()
                    self._check_conf()
                    self.timings['testparm'] = time.monotonic() - t1
                t1 = time.monotonic()
                if self._spawn_and_wait():
                    self.timings['smbd'] = time.monotonic() - t1
                    break
            else:
                raise HarnessError('smbd could not get a port after %d attempts\n%s'
                                   % (attempts, self.log_tail()))
            self.start_seconds = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def _command(self):
        cmd = [SMBD, '--foreground', '--no-process-group', '-s', self.conf]
        self.isolated = False
        if self.isolate:
            if isolation_available():
                run_dir = os.path.join(self.tmpdir, 'run-samba')
                os.makedirs(run_dir, exist_ok=True)
                self.isolated = True
                return [UNSHARE, '--mount', '--propagation', 'private', 'sh', '-c',
                        'mount --bind "$0" %s && exec "$@"' % RUN_SAMBA, run_dir] + cmd
            if winbindd_socket_present():
                print('sambatest: note: no private mount namespace for smbd; relying on '
                      '_NO_WINBINDD=1 against the winbindd on %s' % WINBINDD_PIPE, file=sys.stderr)
        return cmd

    def _spawn_and_wait(self):
        """Start smbd; True when it listens, False when the port was taken."""
        env = dict(os.environ)
        # Tell the winbind client library in smbd not to talk to any
        # winbindd. Checked: this alone also avoids the LOGON_FAILURE caused
        # by an AD DC's winbindd; the private /run/samba (isolate) is the
        # second line of defence.
        env['_NO_WINBINDD'] = '1'
        try:
            os.unlink(self.log_path)
        except FileNotFoundError:
            pass
        if self._stdout:
            self._stdout.close()
        self._stdout = open(self.stdout_path, 'ab')
        # smbd gets a session (and process group) of its own: when it stops
        # it signals its whole process group (kill(0, SIGTERM)), which must
        # not include us. --no-process-group keeps it from calling setsid()
        # again (it would fail and log an error).
        self._proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL,
                                      stdout=self._stdout, stderr=subprocess.STDOUT,
                                      env=env, close_fds=True, start_new_session=True)
        self._start_reaper()
        end = _deadline(self.start_timeout)
        while True:
            rc = self._proc.poll()
            if rc is not None:
                log = self.log_tail(200)
                self._reap_after_failed_start()
                if 'Address already in use' in log and not self._fixed_port:
                    return False
                raise HarnessError('smbd exited with %s during start\n%s' % (rc, self.log_tail()))
            inodes = _listening_inodes(self.address, self.port)
            if inodes and _pid_owns_socket(self._proc.pid, inodes):
                break
            if time.monotonic() > end:
                raise HarnessError('smbd did not listen on %s:%s within %ss\n%s'
                                   % (self.address, self.port, self.start_timeout, self.log_tail()))
            time.sleep(0.02)
        # it listens; make sure it accepts (and its event loop runs)
        while True:
            try:
                with socket.create_connection((self.address, self.port), timeout=2):
                    pass
                return True
            except OSError as e:
                if time.monotonic() > end:
                    raise HarnessError('smbd does not accept on %s:%s: %s\n%s'
                                       % (self.address, self.port, e, self.log_tail()))
                time.sleep(0.05)

    def _reap_after_failed_start(self):
        self._kill_pids(self.pids(), timeout=5)
        self._stop_reaper(keep_dirs=True)  # the next attempt uses them

    def _start_reaper(self):
        """A dead man's switch: a small process in a session of its own that
        waits for EOF on a pipe from us. If this Python process dies without
        stop() (SIGKILL, e.g. from meson 0.5 s after its SIGTERM on timeout),
        the reaper stops the server's processes."""
        self._stop_reaper(keep_dirs=True)
        self._reaper = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '_reap', self.conf, str(self._proc.pid),
             self.sockdir] + ([self.tmpdir] if self._own_tmpdir else []),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True)

    def _stop_reaper(self, keep_dirs=False):
        r, self._reaper = getattr(self, '_reaper', None), None
        if r is None:
            return
        try:
            if keep_dirs:
                r.stdin.write(b'keep')
            r.stdin.close()
        except OSError:
            pass
        try:
            r.wait(timeout=10)
        except subprocess.TimeoutExpired:
            r.kill()
            r.wait(timeout=5)

    def log_tail(self, lines=40):
        out = []
        for path in (self.log_path, self.stdout_path):
            try:
                with open(path, 'rb') as f:
                    f.seek(0, os.SEEK_END)
                    f.seek(max(0, f.tell() - 64 * 1024))
                    text = f.read().decode('utf-8', 'replace')
            except OSError:
                continue
            tail = text.splitlines()[-lines:]
            if tail:
                out.append('--- %s (last %d lines) ---' % (path, len(tail)))
                out += tail
        return '\n'.join(out)

    def pids(self):
        """Live pids of this server: smbd, its per-client children and the
        samba-dcerpcd/rpcd_* it started (those leave its process group and
        session, so they are found by their -s/--configfile argument)."""
        conf = os.fsencode(self.conf)
        table = _proc_table()
        me = os.getpid()
        reaper = self._reaper.pid if self._reaper else None
        found = set()
        for pid, (st, ppid, pgrp, sid, argv) in table.items():
            if st == 'Z' or pid == me or pid == reaper:
                continue
            if any(a == conf or a.endswith(b'=' + conf) for a in argv):
                found.add(pid)
        if self._proc and self._proc.poll() is None:
            found.add(self._proc.pid)
        piddir = os.path.join(self.tmpdir, 'pid')
        if os.path.isdir(piddir):
            for fn in os.listdir(piddir):
                try:
                    with open(os.path.join(piddir, fn)) as f:
                        pid = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
                ent = table.get(pid)
                if ent and ent[0] != 'Z' and any(conf in a for a in ent[4]):
                    found.add(pid)
        grew = True
        while grew:  # and whatever they forked
            grew = False
            for pid, (st, ppid, _, _, _) in table.items():
                if st != 'Z' and ppid in found and pid not in found and pid not in (me, reaper):
                    found.add(pid)
                    grew = True
        return sorted(found)

    def _kill_now(self):
        _signal_pids(self.pids(), signal.SIGTERM)

    def _kill_pids(self, pids, timeout=10):
        _signal_pids(pids, signal.SIGTERM)
        end = _deadline(timeout)
        if self._proc:
            try:
                self._proc.wait(timeout=max(0.1, timeout))
            except subprocess.TimeoutExpired:
                pass
        return _wait_then_kill(self.pids, self._proc, end)

    def stop(self, timeout=10):
        """Stop smbd and everything it started (SIGTERM, then SIGKILL after
        `timeout` s). Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        left = []
        try:
            left = self._kill_pids(self.pids(), timeout)
        finally:
            self._stop_reaper()
            if self._stdout:
                self._stdout.close()
                self._stdout = None
            _live.discard(self)
            if self.sockdir:
                shutil.rmtree(self.sockdir, ignore_errors=True)
                self.sockdir = None
            if self._own_tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
        if left:
            raise HarnessError('processes of %r survived SIGKILL: %s' % (self, left))

    # ---- users and rights

    def _net(self, *args, check=True):
        return _run([NET, '-s', self.conf] + list(args), timeout=60, check=check)

    def add_user(self, name, password, admin=False):
        """Create (or update) a user: unix account if missing, smbpasswd entry
        with this password; admin=True also puts it in BUILTIN\\Administrators
        (needed for NetSessEnum). Idempotent."""
        ensure_unix_user(name)
        _run([SMBPASSWD, '-c', self.conf, '-s', '-a', name],
             input='%s\n%s\n' % (password, password), timeout=60)
        if admin:
            self._ensure_admin_map()
            r = self._net('sam', 'addmem', 'BUILTIN\\Administrators', name, check=False)
            if r.returncode != 0 and 'MEMBER_IN_ALIAS' not in r.stdout + r.stderr:
                raise HarnessError('net sam addmem %s failed: %s%s' % (name, r.stdout, r.stderr))
        return name

    def _ensure_admin_map(self):
        if self._admin_mapped:
            return
        ensure_unix_group(ADMIN_UNIX_GROUP)
        r = self._net('groupmap', 'list', check=False)
        if 'S-1-5-32-544' not in r.stdout:
            r = self._net('groupmap', 'add', 'sid=S-1-5-32-544', 'unixgroup=' + ADMIN_UNIX_GROUP,
                          'type=builtin', check=False)
            if r.returncode != 0 and 'already mapped' not in r.stdout + r.stderr:
                raise HarnessError('net groupmap add failed: %s%s' % (r.stdout, r.stderr))
        self._admin_mapped = True

    def is_admin(self, name):
        r = self._net('sam', 'listmem', 'BUILTIN\\Administrators', check=False)
        return any(line.strip().split('\\')[-1] == name for line in r.stdout.splitlines()[1:])

    def grant(self, name, *privileges):
        """Grant privileges, e.g. grant('bob', 'SeDiskOperatorPrivilege')
        (NetFileClose needs root or that one)."""
        self._net('sam', 'rights', 'grant', name, *privileges)

    def remove_user(self, name):
        """Remove the user from this server's passdb (the unix account stays)."""
        self._net('sam', 'delmem', 'BUILTIN\\Administrators', name, check=False)
        _run([SMBPASSWD, '-c', self.conf, '-s', '-x', name], timeout=60, check=False)

    def smbstatus(self, *args):
        """Output of `smbstatus -s conf args...` (e.g. '-L', '-S', '-b')."""
        return _run(['smbstatus', '-s', self.conf] + list(args), timeout=30).stdout


# --------------------------------------------------------------------------
# impacket client (each instance = one TCP connection = one session)

_tls = threading.local()
_impacket_patched = False


def _patch_impacket_source_address():
    """Let ImpacketClient choose the client's source address.

    impacket 0.10 has no source-address parameter: every negotiation path
    (SMBConnection's multi-protocol negotiate, SMB3 with a preferred dialect,
    reconnect) creates its TCP socket in nmb.NetBIOSTCPSession._setup_connection.
    We wrap that method once: when the calling thread has set _tls.source,
    the socket is bound to (source, 0) before connect(); otherwise the
    original method runs unchanged. Linux lets a socket bind any 127/8
    address without it being configured on lo, so 127.0.0.2 and 127.0.0.3
    look like two client machines to the server."""
    global _impacket_patched
    if _impacket_patched:
        return
    from impacket import nmb
    original = nmb.NetBIOSTCPSession._setup_connection

    def _setup_connection(self, peer, timeout=None):
        src = getattr(_tls, 'source', None)
        if src is None:
            return original(self, peer, timeout)
        af, socktype, proto, _, sa = socket.getaddrinfo(peer[0], peer[1], 0, socket.SOCK_STREAM)[0]
        sock = socket.socket(af, socktype, proto)
        try:
            sock.bind((src, 0))
            sock.settimeout(timeout)
            sock.connect(sa)
            sock.settimeout(None)
        except OSError as e:
            sock.close()
            raise socket.error('Connection error (%s:%s) from %s' % (peer[0], peer[1], src), e)
        return sock

    nmb.NetBIOSTCPSession._setup_connection = _setup_connection
    _impacket_patched = True


class Handle:
    """An open file of an ImpacketClient."""
    __slots__ = ('tid', 'fid', 'share', 'path')

    def __init__(self, tid, fid, share, path):
        self.tid, self.fid, self.share, self.path = tid, fid, share, path

    def __repr__(self):
        return 'Handle(%s:%s)' % (self.share, self.path)


_DIALECTS = {'SMB1': 'NT LM 0.12', 'SMB2_02': 0x0202, 'SMB2_10': 0x0210,
             'SMB3_00': 0x0300, 'SMB3_11': 0x0311}


class ImpacketClient:
    """One SMB session on its own TCP connection, made by impacket.

    ImpacketClient(server, user, password, source=None, dialect=None, domain='')
      source   client source address (any 127/8 address), None: kernel's choice
      dialect  None (impacket's best: SMB 3.0; against an SMB3-only server it
               retries with 3.0, then 3.1.1), or 'SMB1', 'SMB2_02',
               'SMB2_10', 'SMB3_00', 'SMB3_11', or an impacket dialect value
    Files opened with open() stay open (shareMode=7) until close_file()/close().
    impacket 0.10 miscounts names with characters outside the BMP: use
    SmbclientHolder for those.
    """

    def __init__(self, server, user, password, source=None, dialect=None, domain='',
                 timeout=15, host=None, port=None):
        from impacket.smbconnection import SMBConnection
        self.server = server
        self.user = user
        self.source = source
        host = host or (server.address if server else '127.0.0.1')
        port = port or server.port
        if isinstance(dialect, str):
            dialect = _DIALECTS[dialect]
        self.handles = []
        self._trees = {}
        self.conn = None
        if source is not None:
            _patch_impacket_source_address()
        _tls.source = source
        try:
            try:
                self.conn = SMBConnection(host, host, sess_port=port, timeout=timeout,
                                          preferredDialect=dialect)
            except Exception as e:
                # impacket's default negotiation starts with an SMB1 negotiate
                # offering "SMB 2.???"; a server with `server min protocol`
                # SMB3* answers STATUS_NOT_SUPPORTED. Ask for 3.0, then 3.1.1.
                if dialect is not None or 'STATUS_NOT_SUPPORTED' not in str(e):
                    raise
                for d in (0x0300, 0x0311):
                    try:
                        self.conn = SMBConnection(host, host, sess_port=port, timeout=timeout,
                                                  preferredDialect=d)
                        break
                    except Exception:
                        if d == 0x0311:
                            raise
        finally:
            _tls.source = None
        _register(self)
        try:
            self.conn.login(user, password, domain)
        except BaseException:
            self.close()
            raise
        sock = self.conn.getNMBServer().get_socket() if self.conn.getNMBServer() else None
        if sock is None:
            sock = self.conn.getSMBServer().get_socket()
        self.local_address = sock.getsockname()[:2]

    def __repr__(self):
        return 'ImpacketClient(%s from %s)' % (self.user, getattr(self, 'local_address', '?'))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def dialect(self):
        return self.conn.getDialect()

    def tree(self, share):
        if share not in self._trees:
            self._trees[share] = self.conn.connectTree(share)
        return self._trees[share]

    def open(self, share, path, create=True, write=True, share_mode=7):
        """Open (and by default create) share:path; the handle stays open."""
        from impacket.smb3structs import (FILE_READ_DATA, FILE_WRITE_DATA, FILE_OPEN,
                                          FILE_OPEN_IF, FILE_NON_DIRECTORY_FILE)
        tid = self.tree(share)
        access = FILE_READ_DATA | (FILE_WRITE_DATA if write else 0)
        fid = self.conn.openFile(tid, path.replace('/', '\\'), desiredAccess=access,
                                 shareMode=share_mode, creationOption=FILE_NON_DIRECTORY_FILE,
                                 creationDisposition=FILE_OPEN_IF if create else FILE_OPEN)
        h = Handle(tid, fid, share, path)
        self.handles.append(h)
        return h

    def mkdir(self, share, path):
        self.conn.createDirectory(share, path.replace('/', '\\'))

    def read(self, handle, offset=0, size=None):
        return self.conn.readFile(handle.tid, handle.fid, offset, size)

    def write(self, handle, data, offset=0):
        if isinstance(data, str):
            data = data.encode()
        return self.conn.writeFile(handle.tid, handle.fid, data, offset)

    def close_file(self, handle):
        self.conn.closeFile(handle.tid, handle.fid)
        self.handles.remove(handle)

    def echo(self):
        """True if the session still answers (False after e.g. NetSessDel)."""
        try:
            self.conn.getSMBServer().echo()
            return True
        except Exception:
            return False

    def close(self):
        """Log off and close the TCP connection (server closes the handles)."""
        _live.discard(self)
        conn, self.conn = self.conn, None
        self.handles = []
        if conn is None:
            return
        try:
            sock = None
            try:
                sock = conn.getSMBServer().get_socket()
                sock.settimeout(5)  # bound the logoff exchange
            except Exception:
                pass
            conn.close()
        except Exception:
            try:
                if sock is not None:
                    sock.close()
            except Exception:
                pass

    stop = close

    def _kill_now(self):
        try:
            self.conn.getSMBServer().get_socket().close()
        except Exception:
            pass


# --------------------------------------------------------------------------
# smbclient holding files open

class SmbclientHolder:
    """Keeps files open with smbclient (needed for names outside the BMP).

    SmbclientHolder(server, share, user, password, paths, create=True)
    Starts `smbclient //addr/share -p PORT -U user%pw` with stdin kept open,
    sends `open "<path>"` for each path one at a time and waits for its
    `fnum` answer. create=True first creates missing files (mode 0666) in the
    share's directory on the server side (smbclient's open does not create).
    .fnums maps path -> smbclient fnum; .close_file(path); .send(text);
    .command(text, expect_regex);
    .stop() (EOF on stdin; bounded, then kill).
    """

    def __init__(self, server, share, user, password, paths=(), create=True, timeout=20,
                 extra_args=(), options=None):
        self.server = server
        self.share = share
        self.timeout = timeout
        self.fnums = {}
        self.output = []
        self._q = queue.Queue()
        self._proc = None
        args = [STDBUF, '-oL', '-eL', SMBCLIENT, '-s', server.client_conf,
                '//%s/%s' % (server.address if ':' not in server.address else 'localhost', share),
                '-I', server.address, '-p', str(server.port), '-U', '%s%%%s' % (user, password)]
        for k, v in (options or {}).items():
            args.append('--option=%s=%s' % (k, _fmt_value(v)))
        args += list(extra_args)
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        _register(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            # smbclient prints nothing after a successful logon when stdin is
            # not a tty except this hint; wait for it or an error
            self._expect(r'Try "help"', 'logon')
            for p in paths:
                self.open(p, create=create)
        except BaseException:
            self.stop()
            raise

    def __repr__(self):
        return 'SmbclientHolder(%s, pid %s)' % (self.share, self._proc.pid if self._proc else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    def _read(self):
        for raw in iter(self._proc.stdout.readline, b''):
            self._q.put(raw.decode('utf-8', 'replace').rstrip('\n'))
        self._q.put(None)

    def _expect(self, pattern, what, fail=r'NT_STATUS_\w+|Failed|failed|ERRSRV|Unknown command'):
        end = _deadline(self.timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise HarnessError('smbclient: no answer for %s within %ss; output:\n%s'
                                   % (what, self.timeout, '\n'.join(self.output[-20:])))
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise HarnessError('smbclient exited during %s; output:\n%s'
                                   % (what, '\n'.join(self.output[-20:])))
            self.output.append(line)
            m = re.search(pattern, line)
            if m:
                return m
            if re.search(fail, line):
                raise HarnessError('smbclient %s: %s' % (what, line))

    def _unread(self):
        """Bytes written to smbclient's stdin that it has not read yet."""
        buf = fcntl.ioctl(self._proc.stdin.fileno(), termios.FIONREAD, b'\0\0\0\0')
        return struct.unpack('i', buf)[0]

    def send(self, text):
        """Write one command line to smbclient and wait until it has read it.

        smbclient (stdin not a tty) polls fd 0 and then reads through stdio:
        if one read() returns two lines, the second stays in the stdio buffer
        until more input or EOF arrives. So lines go one at a time."""
        end = _deadline(self.timeout)
        while self._unread() and time.monotonic() < end:
            time.sleep(0.005)
        self._proc.stdin.write((text + '\n').encode())
        self._proc.stdin.flush()
        while self._unread():
            if time.monotonic() > end or self._proc.poll() is not None:
                raise HarnessError('smbclient does not read its input (%s)' % text)
            time.sleep(0.005)

    def command(self, text, expect, what=None):
        """Send one smbclient command line, wait for a line matching `expect`."""
        self.send(text)
        return self._expect(expect, what or text)

    def open(self, path, create=True):
        if '"' in path:
            raise HarnessError('smbclient cannot open a name with a double quote')
        if create:
            local = os.path.join(self.server.share_path(self.share), path)
            root = self.server.share_path(self.share)
            d = root
            for part in os.path.dirname(path).split('/'):
                if part:
                    d = os.path.join(d, part)
                    if not os.path.isdir(d):
                        os.mkdir(d)
                        os.chmod(d, 0o777)
            if not os.path.exists(local):
                with open(local, 'wb'):
                    pass
                os.chmod(local, 0o666)
        m = self.command('open "%s"' % path, r'open file .*fnum (\d+)', 'open %s' % path)
        self.fnums[path] = int(m.group(1))
        return self.fnums[path]

    def close_file(self, path):
        fnum = self.fnums.pop(path)
        self.send('close %d' % fnum)
        # `close` prints nothing when it works: wait for the next command's answer
        self.command('pwd', r'Current directory is', 'close %s' % path)

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def _kill_now(self):
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()

    def stop(self, timeout=5):
        _live.discard(self)
        p = self._proc
        if p is None:
            return
        try:
            if p.poll() is None:
                try:
                    p.stdin.close()  # EOF: smbclient closes its files and exits
                except OSError:
                    pass
                try:
                    p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    p.terminate()
                    try:
                        p.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(timeout=3)
        finally:
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except Exception:
                    pass
            self._reader.join(timeout=2)
            self._proc = None

    close = stop


# --------------------------------------------------------------------------
# rpcclient as an oracle

class RpcResult:
    def __init__(self, returncode, output):
        self.returncode, self.output = returncode, output

    @property
    def ok(self):
        return self.returncode == 0

    def __repr__(self):
        return 'RpcResult(%d, %r)' % (self.returncode, self.output[-200:])


def rpcclient(server, user, password, command, debug_ndr=False, timeout=30):
    """Run `rpcclient -c command` against the server; RpcResult(returncode, output).

    debug_ndr=True adds `-d 10 --debug-stdout`, which prints every request and
    response structure (see parse_ndr_out)."""
    args = [RPCCLIENT, '-s', server.client_conf, '-p', str(server.port),
            '-U', '%s%%%s' % (user, password), '-c', command]
    if debug_ndr:
        args += ['-d', '10', '--debug-stdout']
    args.append(server.address)
    r = _run(args, timeout=timeout, check=False)
    return RpcResult(r.returncode, r.stdout + r.stderr)


def _ndr_value(text):
    text = text.strip()
    if text == 'NULL':
        return None
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1]
    m = re.match(r'0x[0-9a-fA-F]+ \((-?\d+)\)$', text)
    if m:
        return int(m.group(1))
    return text


def parse_ndr_out(output, function):
    """Parse Samba's NDR print of `out: struct <function>` (rpcclient -d 10).

    Returns (records, result): records is a list of dicts, one per
    `array: struct ...Info..` element, with its leaf fields (pointers
    followed); result is e.g. 'WERR_OK' (None if no response was printed)."""
    lines = output.splitlines()
    start = None
    for i, line in enumerate(lines):
        if line.strip() == 'out: struct %s' % function:
            start = i
    if start is None:
        return [], None
    records, cur, result, cur_indent = [], None, None, 0
    for line in lines[start + 1:]:
        if not line.startswith('    '):
            break
        indent = len(line) - len(line.lstrip())
        if re.match(r'\s+array: struct \w+$', line):
            cur, cur_indent = {}, indent
            records.append(cur)
            continue
        if cur is not None and indent <= cur_indent:
            cur = None  # left the element
        m = re.match(r'\s+(\w+)\s*: (.*)$', line)
        if not m:
            continue
        name, value = m.group(1), m.group(2).strip()
        if name == 'result':
            result = value
            break
        if value == '*' or re.match(r'(struct|union) |ARRAY\(', value):
            continue
        if cur is not None:
            cur[name] = _ndr_value(value)
    return records, result


def netsessenum(server, user, password, *args):
    """Sessions as listed by `rpcclient netsessenum [args]` (default level 1):
    list of dicts (client, user, num_open, time, idle_time, user_flags)."""
    r = rpcclient(server, user, password, ' '.join(['netsessenum'] + [_quote(a) for a in args]),
                  debug_ndr=True)
    recs, result = parse_ndr_out(r.output, 'srvsvc_NetSessEnum')
    if result != 'WERR_OK':
        raise HarnessError('netsessenum: %s\n%s' % (result, r.output[-2000:]))
    return recs


def netfileenum(server, user, password):
    """Open files as listed by `rpcclient netfileenum 3`: list of dicts
    (fid, permissions, num_locks, path, user)."""
    r = rpcclient(server, user, password, 'netfileenum 3', debug_ndr=True)
    recs, result = parse_ndr_out(r.output, 'srvsvc_NetFileEnum')
    if result != 'WERR_OK':
        raise HarnessError('netfileenum: %s\n%s' % (result, r.output[-2000:]))
    return recs


def netsessdel(server, user, password, client, username):
    """`rpcclient netsessdel client username`; returns the WERROR string."""
    r = rpcclient(server, user, password, 'netsessdel %s %s' % (_quote(client), _quote(username)),
                  debug_ndr=True)
    _, result = parse_ndr_out(r.output, 'srvsvc_NetSessDel')
    return result


def _quote(s):
    return '"%s"' % str(s).replace('"', '')


# --------------------------------------------------------------------------
# command line: a server for shell scripts (examples/demo.sh, CLI tests)

def _main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        description='Run a private smbd on loopback until stdin closes or SIGTERM/SIGINT. '
                    'Prints PORT=, CONF=, ADDRESS=, SHARE_<NAME>= lines, then READY.')
    ap.add_argument('tmpdir')
    ap.add_argument('--address', default='127.0.0.1')
    ap.add_argument('--port', type=int)
    ap.add_argument('--option', '-o', action='append', default=[], metavar='NAME=VALUE')
    ap.add_argument('--share', action='append', default=[], metavar='NAME')
    ap.add_argument('--user', action='append', default=[], metavar='NAME:PASSWORD[:admin]')
    ap.add_argument('--env-file', help='also write the NAME=value lines to this file')
    ap.add_argument('--stdin', action='store_true',
                    help='stop at end of stdin (default: stop on SIGTERM/SIGINT)')
    ap.add_argument('--max-seconds', type=float, default=3600,
                    help='stop after this long in any case (default 3600)')
    a = ap.parse_args(argv)
    opts = dict(o.split('=', 1) for o in a.option)
    opts = {k.strip(): v.strip() for k, v in opts.items()}
    shares = {s: {} for s in (a.share or ['share'])}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with SmbServer(a.tmpdir, port=a.port, address=a.address, options=opts, shares=shares) as srv:
        for u in a.user:
            parts = u.split(':')
            srv.add_user(parts[0], parts[1], admin=len(parts) > 2 and parts[2] == 'admin')
        info = ['ADDRESS=%s' % srv.address, 'PORT=%d' % srv.port, 'CONF=%s' % srv.conf,
                'CLIENT_CONF=%s' % srv.client_conf, 'LOG=%s' % srv.log_path]
        info += ['SHARE_%s=%s' % (re.sub(r'\W', '_', n).upper(), srv.share_path(n)) for n in shares]
        if a.env_file:
            with open(a.env_file + '.tmp', 'w') as f:
                f.write('\n'.join(info) + '\n')
            os.rename(a.env_file + '.tmp', a.env_file)
        print('\n'.join(info + ['READY']), flush=True)
        end = _deadline(a.max_seconds)
        try:
            if a.stdin:
                threading.Thread(target=lambda: (sys.stdin.read(), os.kill(os.getpid(), signal.SIGINT)),
                                 daemon=True).start()
            while time.monotonic() < end:
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        except KeyboardInterrupt:
            pass
    return 0


def _reap(conf, pid, *dirs):
    """Body of the reaper process (see SmbServer._start_reaper): on EOF,
    stop what is left of the server and remove its temporary directories."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    got = b''
    try:
        while True:
            chunk = sys.stdin.buffer.read(4096)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    if b'keep' in got:
        dirs = ()
    conf_b = os.fsencode(conf)

    def ours():
        found = set()
        for p, (st, ppid, pgrp, sid, argv) in _proc_table().items():
            if st == 'Z' or p == os.getpid():
                continue
            if pgrp == pid or any(a == conf_b or a.endswith(b'=' + conf_b) for a in argv):
                found.add(p)
        return found

    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        left = ours()
        if not left:
            break
        _signal_pids(left, sig)
        end = _deadline(wait)
        while ours() and time.monotonic() < end:
            time.sleep(0.1)
    if not ours():
        for d in dirs:  # gone already after a normal stop()
            shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 4 and sys.argv[1] == '_reap':
        sys.exit(_reap(sys.argv[2], int(sys.argv[3]), *sys.argv[4:]))
    sys.exit(_main())
