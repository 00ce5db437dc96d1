#!/usr/bin/python3
"""lifetime.py: the lifetime torture test against real Samba (TAP).

    lifetime.py LIFETIME_TOOL

Starts a private smbd (tests/harness/sambatest.py) where an independent
client (impacket, from 127.0.0.2) holds a session and an open file, so
that there is something to list; then runs tests/lifetime/lifetime (the
public API only) once per operation: connect, session_enum, file_enum,
connection_enum, file_get_info, session_delete and file_close. For every
k until the operation completes by itself, the tool frees the request
after k turns of the loop and then the connection (A), or the connection
first and then the request (B); once it frees a finished, unreceived
request after its connection (C); and once it uses it normally (R).

Checked per operation: the tool exits 0 (no trial leaked talloc memory and
the operation completed by itself within the bound), no AddressSanitizer,
LeakSanitizer or UBSan report, and the normal run gave the answer Samba
gives (sessions and files listed, access denied where Samba denies).
Meant for the ASan/UBSan build (suite 'lifetime', run by tests/run.sh's
sanitizer pass); it runs in the gcc build too. Needs root (smbd).
"""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from tap import check, diag, results, section, timings  # noqa: E402
from sambatest import ImpacketClient, SmbServer  # noqa: E402

PW = 'Life!pw-3'
ADMIN = 'slife_admin'   # BUILTIN\Administrators: the enumerations; not root, so deletes are denied
BOB = 'slife_bob'       # holds a session and a file from 127.0.0.2
SANITIZER = re.compile(r'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehavior')
CAP_SECONDS = 40        # per operation, inside the tool
TOTAL_SECONDS = 100     # for all of them: later operations get a smaller cap

# operation -> what its normal run must give: (statuses allowed, least count)
OPS = [
    ('connect', ({'OK'}, 1)),
    ('session_enum', ({'OK'}, 2)),
    ('file_enum', ({'OK'}, 1)),
    ('connection_enum', ({'OK'}, 1)),
    # Samba 4.17 faults NetrFileGetInfo; the library then finds the file by enumerating.
    ('file_get_info', ({'OK'}, 1)),
    ('session_delete', ({'ERROR_ACCESS_DENIED', 'NERR_ClientNameNotFound', 'NERR_UserNotFound'}, 0)),
    ('file_close', ({'ERROR_ACCESS_DENIED', 'ERROR_FILE_NOT_FOUND', 'NERR_FileIdNotFound'}, 0)),
]


def run_op(tool, srv, op, cap):
    t0 = time.monotonic()
    argv = [tool, srv.address, str(srv.port), 'SAMBATEST', ADMIN, PW, op, '200', '%.0f' % cap]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=cap + 60)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = 'timeout', (e.stdout or b'').decode(errors='replace'), (e.stderr or b'').decode(errors='replace')
    return rc, out, err, time.monotonic() - t0


def summary(out):
    for line in out.splitlines():
        if line.startswith('summary '):
            return dict(kv.split('=', 1) for kv in line.split()[1:])
    return {}


def torture(tool):
    with tempfile.TemporaryDirectory(prefix='lifetime-') as tmp:
        with SmbServer(os.path.join(tmp, 'srv')) as srv:
            srv.add_user(ADMIN, PW, admin=True)
            srv.add_user(BOB, PW)
            with ImpacketClient(srv, BOB, PW, source='127.0.0.2') as bob:
                bob.open('share', 'held.txt')
                t_start = time.monotonic()
                for op, (statuses, least) in OPS:
                    left = TOTAL_SECONDS - (time.monotonic() - t_start)
                    cap = max(5.0, min(CAP_SECONDS, left))
                    rc, out, err, secs = run_op(tool, srv, op, cap)
                    s = summary(out)
                    trials = [line for line in out.splitlines() if line.startswith('trial ')]
                    diag('%s: %s trials in %.1f s, completed by itself at k=%s, normal run %s (%s entries)' %
                         (op, s.get('trials', '?'), secs, s.get('completed_at', '?'), s.get('reference', '?'),
                          s.get('count', '?')))
                    detail = ['\n'.join((out.splitlines()[-15:])) + '\n--- stderr\n' +
                              '\n'.join(err.splitlines()[-60:]) + '\n(exit %s)' % rc]

                    def once():
                        # the output goes with the first failing check of the operation only
                        d, detail[0] = detail[0], '(output above)'
                        return d
                    san = SANITIZER.search(err)
                    check(not san, '%s: no AddressSanitizer/LeakSanitizer/UBSan report' % op,
                          once() if san else '')
                    good = rc == 0 and s.get('leaks') == '0' and s.get('failed_setups') == '0'
                    check(good, '%s: every trial (free the request, free the connection first, free a finished '
                          'request after its connection) left no talloc memory' % op, '' if good else once())
                    good = s.get('completed_at', '-1') != '-1' and s.get('capped') == '0'
                    check(good, '%s: freed at every turn of the loop until it completed by itself' % op,
                          '' if good else once())
                    ref = s.get('reference')
                    cnt = int(s.get('count', '0') or 0)
                    good = (ref is not None and ref != '-' and
                            (ref in statuses if statuses else ref != 'OK') and cnt >= least)
                    check(good, '%s: the normal run gives %s%s' %
                          (op, '/'.join(sorted(statuses)) if statuses else 'a clean failure',
                           ' with at least %d entries' % least if least else ''), '' if good else once())
                    if len(trials) < 4:
                        diag('\n'.join(trials))
                check(bob.echo(), "the independent client's session survived all of it")


def main():
    if len(sys.argv) != 2:
        print('usage: lifetime.py LIFETIME_TOOL', file=sys.stderr)
        return 2
    tool = os.path.abspath(sys.argv[1])
    section('lifetime torture', 4 * len(OPS) + 1, torture, tool)
    for name, secs in timings.items():
        diag('%s: %.1f s' % (name, secs))
    print('1..%d' % len(results))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
