#!/usr/bin/python3
"""addc: a private Samba AD DC (KDC, LDAP, SMB) on a loopback address, for
Kerberos tests. Debian's /usr/bin/python3, as root.

    from addc import AdDc
    with AdDc() as dc:                       # provisions (~4 s) and starts (~2 s)
        dc.add_user('bob', 'Bob!pw-1234')
        env = dc.kinit('Administrator', dc.admin_password)   # FILE: cache
        subprocess.run([... 'dc1.krbtest.example', '--address', dc.address ...], env=env)

What it does (see TESTENV.md):
  - `samba-tool domain provision` into its own directory (realm KRBTEST.EXAMPLE,
    domain KRBTEST, host dc1, no DNS server), with `interfaces` and
    `bind interfaces only` on the DC's address and every path of its own;
  - runs `samba -i -M single -s smb.conf` in a private mount namespace with
    its own /run/samba (bind mount), so that neither its winbindd nor the
    host's get mixed up with other Samba instances on the machine;
  - gives the DC a name service of its own, independent of the host's
    /etc/nsswitch.conf: its processes run under nss_wrapper (libnss-wrapper)
    with passwd/group files copied from the host and the DC's own winbindd
    asked first through libnss_winbind.so.2 (NSS_WRAPPER_MODULE_SO_PATH,
    prefix `winbind`), as Samba's selftest does. Samba's smbd names the
    owner of an open file with getpwuid(); without this, a host whose NSS
    does not ask winbind gets numeric ids. start() checks that the DC's
    name service maps the domain Administrator before it returns;
  - waits (bounded) until the KDC (88) and SMB (445) listen on the address;
  - writes a krb5.conf (used through KRB5_CONFIG) that names only this KDC
    and turns off every DNS lookup;
  - kinit into FILE: caches, users and keytabs with samba-tool;
  - stops everything it started (SIGTERM, then SIGKILL) at stop(), at exit,
    on SIGTERM/SIGHUP, and through a reaper process if this one is killed.

The address: the first of 127.0.0.10 .. 127.0.0.29 that no other instance
holds (a lock file per address, kept while the DC runs); it is put on `lo`.
The SPN of its file server is cifs/<host>.<realm in lower case>: connect to
`dc.fqdn` and pass the address separately.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import fcntl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sambatest  # noqa: E402
from sambatest import HarnessError, _run, _deadline, _proc_table, _signal_pids, _wait_then_kill, \
    ensure_loopback_address, _register, _live  # noqa: E402

__all__ = ['AdDc', 'HarnessError', 'write_krb5_conf', 'SilentKdc']

SAMBA = shutil.which('samba') or '/usr/sbin/samba'
SAMBA_TOOL = shutil.which('samba-tool') or '/usr/bin/samba-tool'
KINIT = shutil.which('kinit') or '/usr/bin/kinit'
UNSHARE = sambatest.UNSHARE
RUN_SAMBA = sambatest.RUN_SAMBA

LOCK_DIR = '/run/lock' if os.path.isdir('/run/lock') else tempfile.gettempdir()

# libnss_winbind.so.2 comes from Debian's libnss-winbind, whose install script
# adds `winbind` to the host's /etc/nsswitch.conf. tests/run.sh therefore does
# not install that package: it unpacks the library of the installed winbind's
# version into NSS_WINBIND_CACHE (apt-get download + dpkg-deb -x). Looked up
# in this order: $SMBSESS_NSS_WINBIND, that directory, the system's library.
NSS_WINBIND_CACHE = '/var/cache/libsmbsess-tests/libnss-winbind'
_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib']


def _multiarch_dirs():
    ma = getattr(sys.implementation, '_multiarch', None)
    dirs = ['/usr/lib/%s' % ma, '/lib/%s' % ma] if ma else []
    return dirs + [d for d in _LIB_DIRS if d not in dirs]


def nss_wrapper_library():
    """Path of libnss_wrapper.so (package libnss-wrapper)."""
    for d in _multiarch_dirs():
        p = os.path.join(d, 'libnss_wrapper.so')
        if os.path.isfile(p):
            return p
    raise HarnessError('libnss_wrapper.so not found: install libnss-wrapper (tests/run.sh does)')


def nss_winbind_module():
    """Path of libnss_winbind.so.2 for nss_wrapper; see NSS_WINBIND_CACHE."""
    env = os.environ.get('SMBSESS_NSS_WINBIND')
    if env:
        if not os.path.isfile(env):
            raise HarnessError('SMBSESS_NSS_WINBIND=%s: no such file' % env)
        return env
    for d in [NSS_WINBIND_CACHE] + _multiarch_dirs():
        p = os.path.join(d, 'libnss_winbind.so.2')
        if os.path.isfile(p):
            return p
    raise HarnessError('libnss_winbind.so.2 not found in %s or the system: tests/run.sh unpacks it '
                       'there (from libnss-winbind, without installing that package); or set '
                       'SMBSESS_NSS_WINBIND' % NSS_WINBIND_CACHE)


def write_krb5_conf(path, realm, kdcs, extra_libdefaults=None):
    """A krb5.conf that knows one realm and its KDCs ('addr' or 'addr:port'),
    with no DNS lookups at all (no SRV, no canonicalisation, no reverse)."""
    lib = {
        'default_realm': realm,
        'dns_lookup_kdc': 'false',
        'dns_lookup_realm': 'false',
        'dns_canonicalize_hostname': 'false',
        'rdns': 'false',
        'ignore_acceptor_hostname': 'false',
        'forwardable': 'false',
    }
    lib.update(extra_libdefaults or {})
    if isinstance(kdcs, str):
        kdcs = [kdcs]
    lines = ['[libdefaults]'] + ['\t%s = %s' % kv for kv in lib.items()]
    lines += ['[realms]', '\t%s = {' % realm] + ['\t\tkdc = %s' % k for k in kdcs] + ['\t}']
    lines += ['[domain_realm]', '\t.%s = %s' % (realm.lower(), realm), '\t%s = %s' % (realm.lower(), realm)]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def _listening(address, port):
    return bool(sambatest._listening_inodes(address, port))


class AdDc:
    """A Samba AD DC on a loopback address; see the module's docstring.

    AdDc(tmpdir=None, address=None, realm='KRBTEST.EXAMPLE', domain='KRBTEST',
         host='dc1', admin_password=..., options={}, shares={'share': {}},
         start=True, start_timeout=60, log_level=1)

    options   smb.conf [global] parameters for the DC, e.g.
              {'server smb3 encryption algorithms': 'AES-256-GCM'}.
    shares    extra file shares (path tmpdir/shares/<name>, 0777, writable).
    Attributes: address, port (445), realm, domain, host, fqdn, conf,
    krb5_conf, tmpdir, admin ('Administrator'), admin_password,
    start_seconds, timings ('provision', 'start').
    """

    def __init__(self, tmpdir=None, address=None, realm='KRBTEST.EXAMPLE', domain='KRBTEST', host='dc1',
                 admin_password='Adm1n!pw-K5', options=None, shares=None, start=True, start_timeout=60,
                 log_level=1):
        self._own_tmpdir = tmpdir is None
        self.tmpdir = os.path.abspath(tmpdir or tempfile.mkdtemp(prefix='addc-'))
        os.makedirs(self.tmpdir, exist_ok=True)
        os.chmod(self.tmpdir, 0o755)
        self.realm = realm.upper()
        self.domain = domain.upper()
        self.host = host.lower()
        self.fqdn = '%s.%s' % (self.host, self.realm.lower())
        self.admin = 'Administrator'
        self.admin_password = admin_password
        self.options = dict(options or {})
        self.shares = {n: dict(v or {}) for n, v in (shares if shares is not None else {'share': {}}).items()}
        self.start_timeout = start_timeout
        self.log_level = log_level
        self.port = 445
        self.want_address = address
        self.address = None
        self.conf = os.path.join(self.tmpdir, 'etc', 'smb.conf')
        self.krb5_conf = os.path.join(self.tmpdir, 'krb5.conf')
        self.log_dir = os.path.join(self.tmpdir, 'log')
        self.stdout_path = os.path.join(self.log_dir, 'samba.stdout')
        self.timings = {}
        self.start_seconds = None
        self._lock_fd = None
        self._proc = None
        self._reaper = None
        self._stdout = None
        self._provisioned = False
        self._stopped = True
        if start:
            self.start()

    def __repr__(self):
        return 'AdDc(%s at %s, %s)' % (self.fqdn, self.address, self.tmpdir)

    def __enter__(self):
        if self._stopped:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- address

    def _claim_address(self):
        """Lock an address no other instance uses; put it on lo."""
        candidates = [self.want_address] if self.want_address else ['127.0.0.%d' % i for i in range(10, 30)]
        for addr in candidates:
            fd = os.open(os.path.join(LOCK_DIR, 'addc-%s.lock' % addr), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if any(_listening(addr, p) for p in (88, 445, 389)):
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                continue
            self._lock_fd = fd
            self.address = addr
            ensure_loopback_address(addr)
            return
        raise HarnessError('no free loopback address for an AD DC among %s' % candidates)

    def _release_address(self):
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---- provisioning

    def _provision(self):
        t0 = time.monotonic()
        target = self.tmpdir
        for d in ('etc', 'private', 'state', 'cache', 'run', 'log', 'bind-dns'):
            shutil.rmtree(os.path.join(target, d), ignore_errors=True)
        opts = {
            'interfaces': self.address,
            'bind interfaces only': 'yes',
            'log file': os.path.join(self.log_dir, 'log.%m'),
            'max log size': '0',
            'log level': str(self.log_level),
            'pid directory': os.path.join(target, 'run'),
            'disable netbios': 'yes',
            'load printers': 'no',
            'printing': 'bsd',
            'printcap name': '/dev/null',
            'disable spoolss': 'yes',
            'panic action': '',
            'dns proxy': 'no',
        }
        args = [SAMBA_TOOL, 'domain', 'provision', '--realm=' + self.realm, '--domain=' + self.domain,
                '--adminpass=' + self.admin_password, '--server-role=dc', '--dns-backend=NONE',
                '--use-rfc2307', '--host-name=' + self.host, '--host-ip=' + self.address,
                '--targetdir=' + target]
        args += ['--option=%s=%s' % kv for kv in opts.items()]
        os.makedirs(self.log_dir, exist_ok=True)
        r = _run(args, timeout=120, check=False)
        if r.returncode != 0:
            raise HarnessError('samba-tool domain provision failed (exit %d):\n%s%s'
                               % (r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
        self._rewrite_conf()
        for d in ('cache', 'run', 'log'):
            os.makedirs(os.path.join(target, d), exist_ok=True)
        self.timings['provision'] = time.monotonic() - t0
        self._provisioned = True

    def _rewrite_conf(self):
        """The provisioned smb.conf, with fewer services (no NetBIOS, no
        replication) and the caller's options and shares."""
        pristine = self.conf + '.provisioned'
        if not os.path.exists(pristine):
            shutil.copyfile(self.conf, pristine)
        with open(pristine) as f:
            lines = f.read().splitlines()
        out, section = [], None
        extra = {'server services': 's3fs, rpc, ldap, cldap, kdc, winbindd'}
        extra.update(self.options)
        keys = {sambatest._norm_key(k) for k in extra}
        for line in lines:
            s = line.strip()
            if s.startswith('['):
                section = s.strip('[]').lower()
            # no [homes], [printers], [print$] from the template
            if section in ('homes', 'printers', 'print$'):
                continue
            if section == 'global' and '=' in s and sambatest._norm_key(s.split('=', 1)[0]) in keys:
                continue
            out.append(line)
        at = next(i for i, line in enumerate(out) if line.strip().lower() == '[global]') + 1
        out[at:at] = ['\t%s = %s' % (k, sambatest._fmt_value(v)) for k, v in extra.items()]
        for name, opts in self.shares.items():
            path = opts.get('path') or os.path.join(self.tmpdir, 'shares', name)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)
            opts['path'] = path
            norm = {'path': path, 'read only': 'no', 'create mask': '0777', 'directory mask': '0777'}
            norm.update({k: sambatest._fmt_value(v) for k, v in opts.items()})
            out.append('[%s]' % name)
            out += ['\t%s = %s' % kv for kv in norm.items()]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(out) + '\n')

    def share_path(self, share='share'):
        return self.shares[share]['path']

    # ---- start / stop

    def start(self):
        if not self._stopped:
            return self
        _register(self)
        self._stopped = False
        t0 = time.monotonic()
        try:
            self._claim_address()
            if not self._provisioned:
                self._provision()
            write_krb5_conf(self.krb5_conf, self.realm, [self.address])
            t1 = time.monotonic()
            self._spawn_and_wait()
            self.timings['start'] = time.monotonic() - t1
            self.start_seconds = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, options=None):
        """Stop the DC's processes, replace its [global] options (when given)
        and start it again: no new provisioning, same address, users and keys."""
        if options is not None:
            self.options = dict(options)
        self._kill_all()
        self._stop_reaper(keep_dirs=True)
        if self._stdout:
            self._stdout.close()
            self._stdout = None
        self._rewrite_conf()
        t0 = time.monotonic()
        self._spawn_and_wait()
        self.timings['restart'] = time.monotonic() - t0
        return self

    def _kill_all(self, timeout=10):
        """SIGTERM, then SIGKILL; returns what survived."""
        _signal_pids(self.pids(), signal.SIGTERM)
        end = _deadline(timeout)
        return _wait_then_kill(self.pids, self._proc, end)

    def _stop_reaper(self, keep_dirs=False):
        r, self._reaper = self._reaper, None
        if r is None:
            return
        try:
            if keep_dirs:
                r.stdin.write(b'keep')
            r.stdin.close()
        except OSError:
            pass
        try:
            r.wait(timeout=15)
        except subprocess.TimeoutExpired:
            r.kill()
            r.wait(timeout=5)

    def _command(self):
        run_dir = os.path.join(self.tmpdir, 'run')
        os.makedirs(run_dir, exist_ok=True)
        return [UNSHARE, '--mount', '--propagation', 'private', 'sh', '-c',
                'mount --bind "$0" %s && exec "$@"' % RUN_SAMBA, run_dir,
                SAMBA, '-i', '-M', 'single', '-s', self.conf]

    def _spawn_and_wait(self):
        os.makedirs(RUN_SAMBA, exist_ok=True)
        for d in ('cache', 'run', 'log'):
            os.makedirs(os.path.join(self.tmpdir, d), exist_ok=True)
        self._stdout = open(self.stdout_path, 'ab')
        # a session of its own: samba signals its process group when it stops
        self._proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=self._stdout,
                                      stderr=subprocess.STDOUT, close_fds=True, start_new_session=True,
                                      env=self.nss_env(os.environ))
        self._reaper = subprocess.Popen(
            [sys.executable, os.path.abspath(sambatest.__file__), '_reap', self.conf, str(self._proc.pid)]
            + ([self.tmpdir] if self._own_tmpdir else []),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True)
        end = _deadline(self.start_timeout)
        ports = (88, 445)
        while True:
            rc = self._proc.poll()
            if rc is not None:
                raise HarnessError('samba exited with %s during start\n%s' % (rc, self.log_tail()))
            if all(_listening(self.address, p) for p in ports):
                break
            if time.monotonic() > end:
                raise HarnessError('samba did not listen on %s:%s within %ss\n%s'
                                   % (self.address, ports, self.start_timeout, self.log_tail()))
            time.sleep(0.05)
        for port in ports:  # and accepts
            while True:
                try:
                    with socket.create_connection((self.address, port), timeout=2):
                        break
                except OSError as e:
                    if time.monotonic() > end:
                        raise HarnessError('samba does not accept on %s:%s: %s' % (self.address, port, e))
                    time.sleep(0.05)
        # smbd needs its winbindd for logons (STATUS_INTERNAL_ERROR until then);
        # it listens on /run/samba/winbindd/pipe, which is our run dir here
        pipe = os.path.join(self.tmpdir, 'run', 'winbindd', 'pipe')
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as u:
                    u.settimeout(2)
                    u.connect(pipe)
                break
            except OSError as e:
                if time.monotonic() > end:
                    raise HarnessError('winbindd of the DC does not answer on %s: %s\n%s'
                                       % (pipe, e, self.log_tail()))
                time.sleep(0.05)
        self._wait_for_nss(end)

    # ---- the DC's name service

    def _write_nss_files(self):
        """passwd and group for nss_wrapper: the host's local accounts (root,
        nobody, ...), read once; domain accounts come from the DC's winbindd."""
        d = os.path.join(self.tmpdir, 'nss')
        os.makedirs(d, exist_ok=True)
        for name in ('passwd', 'group'):
            dst = os.path.join(d, name)
            if not os.path.exists(dst):
                shutil.copyfile('/etc/' + name, dst)
        return os.path.join(d, 'passwd'), os.path.join(d, 'group')

    def nss_env(self, base=None):
        """`base` (default os.environ) plus the variables that make a process
        use this DC's name service: nss_wrapper preloaded, the DC's winbindd
        asked first (SELFTEST_WINBINDD_SOCKET_DIR: where libnss_winbind looks
        under nss_wrapper), the copied local accounts second."""
        e = dict(os.environ if base is None else base)
        passwd, group = self._write_nss_files()
        wrapper = nss_wrapper_library()
        preload = [p for p in e.get('LD_PRELOAD', '').split() if p and 'nss_wrapper' not in p]
        e.update({
            'LD_PRELOAD': ' '.join([wrapper] + preload),
            'NSS_WRAPPER_PASSWD': passwd,
            'NSS_WRAPPER_GROUP': group,
            'NSS_WRAPPER_MODULE_SO_PATH': nss_winbind_module(),
            'NSS_WRAPPER_MODULE_FN_PREFIX': 'winbind',
            'SELFTEST_WINBINDD_SOCKET_DIR': os.path.join(self.tmpdir, 'run', 'winbindd'),
        })
        for k in ('NSS_WRAPPER_HOSTS', 'NSS_WRAPPER_HOSTNAME', '_NO_WINBINDD'):
            e.pop(k, None)
        return e

    def getent(self, database, key, timeout=10):
        """`getent DATABASE KEY` through this DC's name service (the same
        environment its processes have); stdout, or None when not found."""
        r = _run(['getent', database, str(key)], timeout=timeout, check=False, env=self.nss_env())
        return r.stdout.strip() if r.returncode == 0 else None

    def _wait_for_nss(self, end):
        """The DC's name service maps a domain account to a uid and back:
        what smbd does when it names the owner of an open file."""
        name = '%s\\krbtgt' % self.domain  # (Administrator maps to root)
        last = None
        while True:
            last = self.getent('passwd', name)
            if last:
                uid = last.split(':')[2]
                back = self.getent('passwd', uid)
                if back and back.split(':')[0].lower() == name.lower():
                    return
                last = 'uid %s -> %r' % (uid, back)
            if time.monotonic() > end:
                raise HarnessError('the DC\'s name service (nss_wrapper + libnss_winbind) does not map %s: %r\n%s'
                                   % (name, last, self.log_tail()))
            time.sleep(0.1)

    def pids(self):
        """Live pids of this DC: the samba root process (and its process
        group), smbd, winbindd, samba-dcerpcd, rpcd_* (found by their
        --configfile), and whatever they forked."""
        conf = os.fsencode(self.conf)
        table = _proc_table()
        me = os.getpid()
        reaper = self._reaper.pid if self._reaper else None
        root = self._proc.pid if self._proc else None
        found = set()
        for pid, (st, ppid, pgrp, sid, argv) in table.items():
            if st == 'Z' or pid in (me, reaper):
                continue
            if (root is not None and pgrp == root) or any(a == conf or a.endswith(b'=' + conf) for a in argv):
                found.add(pid)
        if self._proc and self._proc.poll() is None:
            found.add(self._proc.pid)
        grew = True
        while grew:
            grew = False
            for pid, (st, ppid, _, _, _) in table.items():
                if st != 'Z' and ppid in found and pid not in found and pid not in (me, reaper):
                    found.add(pid)
                    grew = True
        return sorted(found)

    def _kill_now(self):
        _signal_pids(self.pids(), signal.SIGTERM)

    def stop(self, timeout=10):
        """Stop the DC and everything it started. Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        left = []
        try:
            left = self._kill_all(timeout)
        finally:
            self._stop_reaper()
            if self._stdout:
                self._stdout.close()
                self._stdout = None
            _live.discard(self)
            self._release_address()
            if self._own_tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
        if left:
            raise HarnessError('processes of %r survived SIGKILL: %s' % (self, left))

    def log_tail(self, lines=40):
        out = []
        paths = [self.stdout_path]
        if os.path.isdir(self.log_dir):
            paths += sorted(os.path.join(self.log_dir, f) for f in os.listdir(self.log_dir)
                            if f.startswith('log.'))
        for path in paths:
            try:
                with open(path, 'rb') as f:
                    f.seek(0, os.SEEK_END)
                    f.seek(max(0, f.tell() - 32 * 1024))
                    tail = f.read().decode('utf-8', 'replace').splitlines()[-lines:]
            except OSError:
                continue
            if tail:
                out.append('--- %s ---' % path)
                out += tail
        return '\n'.join(out)

    # ---- Kerberos and users

    def env(self, ccache=None, krb5_conf=None, **more):
        """os.environ with KRB5_CONFIG (this DC's krb5.conf unless given) and
        KRB5CCNAME (when given; otherwise removed)."""
        e = dict(os.environ)
        e['KRB5_CONFIG'] = krb5_conf or self.krb5_conf
        e.pop('KRB5CCNAME', None)
        e.pop('KRB5_CLIENT_KTNAME', None)
        if ccache:
            e['KRB5CCNAME'] = ccache
        e.update(more)
        return e

    def ccache_path(self, name):
        d = os.path.join(self.tmpdir, 'ccaches')
        os.makedirs(d, exist_ok=True)
        return 'FILE:' + os.path.join(d, name)

    def kinit(self, principal, password, ccache=None, lifetime=None, timeout=30):
        """kinit into a FILE: cache (a fresh one under tmpdir unless given);
        returns env() for it. `lifetime` is kinit's -l (e.g. '5s')."""
        if '@' not in principal:
            principal = '%s@%s' % (principal, self.realm)
        ccache = ccache or self.ccache_path(principal.split('@')[0].lower())
        args = [KINIT] + (['-l', lifetime] if lifetime else []) + ['-c', ccache, principal]
        r = _run(args, input=password + '\n', timeout=timeout, check=False, env=self.env())
        if r.returncode != 0:
            raise HarnessError('kinit %s failed: %s%s' % (principal, r.stdout, r.stderr))
        return self.env(ccache)

    def samba_tool(self, *args, timeout=60, check=True):
        return _run([SAMBA_TOOL] + list(args) + ['--configfile=' + self.conf], timeout=timeout, check=check)

    def add_user(self, name, password, groups=()):
        """A domain user (password never expires), optionally in `groups`
        (e.g. 'Domain Admins')."""
        self.samba_tool('user', 'create', name, password)
        self.samba_tool('user', 'setexpiry', name, '--noexpiry')
        for g in groups:
            self.samba_tool('group', 'addmembers', g, name)

    def export_keytab(self, principal, path=None):
        """A keytab with the keys of `principal` (user@REALM or user)."""
        if '@' not in principal:
            principal = '%s@%s' % (principal, self.realm)
        path = path or os.path.join(self.tmpdir, principal.split('@')[0].lower() + '.keytab')
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.samba_tool('domain', 'exportkeytab', path, '--principal=' + principal)
        return path


class SilentKdc:
    """A KDC that never answers: a TCP listener that accepts and reads but
    never writes, and a UDP socket that swallows datagrams. For tests of
    KDC timeouts. After `hold` seconds it closes the first connection it
    took and then both sockets, so that a client still trying gets refused
    at once and gives up (MIT otherwise keeps trying for about half a
    minute)."""

    def __init__(self, address='127.0.0.1', hold=5.0):
        import threading
        self.address = address
        self.hold = hold
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((address, 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, self.port))
        self.tcp.listen(16)
        self.tcp.settimeout(0.1)
        self.udp.settimeout(0.1)
        self.accepted = 0
        self.datagrams = 0
        self._stop = False
        self._conns = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                c, _ = self.tcp.accept()
                self.accepted += 1
                self._conns.append((c, time.monotonic() + self.hold))
            except (socket.timeout, OSError):
                pass
            try:
                self.udp.recvfrom(65536)
                self.datagrams += 1
            except (socket.timeout, OSError):
                pass
            now = time.monotonic()
            for c, end in list(self._conns):
                if now >= end:
                    c.close()
                    self._conns.remove((c, end))
                    self._close_listeners()
                    return

    def _close_listeners(self):
        for sock in (self.tcp, self.udp):
            try:
                sock.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self._thread.join(timeout=5)
        for c, _ in self._conns:
            c.close()
        self._close_listeners()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _main():
    import argparse
    p = argparse.ArgumentParser(description='Run a private Samba AD DC until SIGTERM/SIGINT.')
    p.add_argument('--dir', help='directory (default: a temporary one, removed at the end)')
    p.add_argument('--address')
    p.add_argument('--user', action='append', default=[], help='name:password')
    p.add_argument('-o', '--option', action='append', default=[], help="'name=value' for [global]")
    p.add_argument('--max-seconds', type=float, default=3600)
    a = p.parse_args()
    opts = dict(o.split('=', 1) for o in a.option)
    with AdDc(a.dir, address=a.address, options=opts) as dc:
        for u in a.user:
            name, pw = u.split(':', 1)
            dc.add_user(name, pw)
        print('ADDRESS=%s\nFQDN=%s\nREALM=%s\nDOMAIN=%s\nKRB5_CONFIG=%s\nCONF=%s\nADMIN_PASSWORD=%s\nREADY'
              % (dc.address, dc.fqdn, dc.realm, dc.domain, dc.krb5_conf, dc.conf, dc.admin_password), flush=True)
        end = _deadline(a.max_seconds)
        try:
            while time.monotonic() < end:
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(_main())
