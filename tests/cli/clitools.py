#!/usr/bin/python3
"""Running smbnet in the CLI tests (cli.py, fleet.py): plain, on a
pseudo-terminal, and parsing its tables; a TCP listener that never answers.

    import clitools; clitools.SMBNET = path
"""
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import threading
import time

SMBNET = None
SECRETS = []  # hidden when a run is shown


class Run:
    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None

    def __str__(self):
        how = f"exit {self.rc}"
        if self.rc is not None and self.rc < 0 and self.rc != -999:
            how = f"killed by {signal.Signals(-self.rc).name}"
        shown = " ".join(_hide(a) for a in self.argv)
        return f"$ smbnet {shown}\n{how} after {self.seconds:.2f} s\n--- stdout\n{self.out[-3000:]}" \
               f"--- stderr\n{self.err[-1500:]}"


def raw(*args, env=None, stdin=subprocess.DEVNULL, timeout=90):
    """smbnet with exactly these arguments, stdin not a terminal."""
    e = dict(os.environ)
    e.pop("SMBSESS_PASSWORD", None)
    e.update(env or {})
    t0 = time.monotonic()
    try:
        r = subprocess.run([SMBNET, *args], stdin=stdin, capture_output=True, timeout=timeout, env=e)
        rc, out, err = r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as ex:
        rc, out, err = -999, (ex.stdout or b"").decode("utf-8", "replace"), f"timed out after {timeout} s"
    return Run(list(args), rc, out, err, time.monotonic() - t0)



def _hide(text):
    for s in SECRETS:
        text = text.replace(s, "***")
    return text


def pty_run(argv, answers, env=None, timeout=30):
    """smbnet on a pseudo-terminal: each time `answers[i][0]` (a regex) has
    appeared in the output, `answers[i][1]` is typed (when callable, what it returns). Returns Run with the
    whole terminal output in out."""
    e = dict(os.environ)
    e.pop("SMBSESS_PASSWORD", None)
    e.update(env or {})
    master, slave = pty.openpty()
    t0 = time.monotonic()
    p = subprocess.Popen([SMBNET, *argv], stdin=slave, stdout=slave, stderr=slave, env=e,
                         start_new_session=True, close_fds=True)
    os.close(slave)
    out = b""
    todo = list(answers)
    seen = 0
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal
                data = b""
            if not data:
                break
            out += data
        if todo:
            text = out.decode("utf-8", "replace")
            m = re.compile(todo[0][0]).search(text, seen)
            if m:
                seen = m.end()
                answer = todo.pop(0)[1]
                if callable(answer):  # something to do before answering, which returns the answer
                    answer = answer()
                os.write(master, answer.encode() + b"\n")
        if not r and p.poll() is not None:
            break
    try:
        rc = p.wait(max(1, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    os.close(master)
    return Run(list(argv), rc, out.decode("utf-8", "replace").replace("\r\n", "\n"), "", time.monotonic() - t0)


def table_rows(out):
    """Rows of a NET-style table: the lines after the line of dashes, up to the footer."""
    lines = out.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line and set(line) == {"-"}) + 1
    except StopIteration:
        return []
    return [line for line in lines[start:] if line and not line.startswith("The command")]


def blocks(out):
    """Label/value blocks (list and detail views): list of dicts."""
    res, cur = [], {}
    for line in out.splitlines():
        if not line.strip() or line.startswith("The command"):
            if cur:
                res.append(cur)
            cur = {}
            continue
        m = re.match(r"^(\S+(?: \S+)*?)(?: {2,}(.*))?$", line)
        if m:
            cur[m.group(1)] = m.group(2) or ""
    if cur:
        res.append(cur)
    return res


def fmt_counter(c):
    return "\n".join(f"{v} x {k}" for k, v in sorted(c.items(), key=str))


class Silent:
    """A TCP listener that accepts and never answers (for time limits)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


