"""Wireshark as a test oracle: capture the traffic of one loopback port with
tshark while a block runs, then read fields of the decoded frames.

    with Capture(port, "/tmp/x.pcapng") as cap:
        ...                      # the exchange
    rows = cap.fields("tcp.dstport == 445 && smb2", "frame.number", "_ws.malformed")
"""
import os
import signal
import subprocess
import time

# Wireshark's expert severity of an error (_ws.expert.severity).
ERROR_SEVERITY = 0x00800000


class Capture:
    """tshark on lo for one port, started before and stopped after a block."""

    def __init__(self, port, path):
        self.port, self.path = port, path

    def __enter__(self):
        self.proc = subprocess.Popen(["tshark", "-q", "-i", "lo", "-f", f"tcp port {self.port}", "-w", self.path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while time.time() < deadline:  # until dumpcap has written its file header
            if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def fields(self, display_filter, *fields):
        """One list per frame: each field's values (a list; tshark joins repeats with ',')."""
        args = ["tshark", "-r", self.path, "-d", f"tcp.port=={self.port},nbss", "-o", "dcerpc.reassemble_dcerpc:TRUE",
                "-Y", display_filter, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                "-E", "aggregator=,"]
        for f in fields:
            args += ["-e", f]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            print(f"# tshark failed: {r.stderr.strip()[-500:]}", flush=True)
        rows = []
        for line in r.stdout.splitlines():
            parts = line.split("|")
            if len(parts) == len(fields):
                rows.append([p.split(",") if p else [] for p in parts])
        return rows

    def bad_client_frames(self, protocols="smb2 || nbss || dcerpc"):
        """(all, bad): the frames our client sent, and those Wireshark marks malformed or error-level."""
        frames = self.fields(f"tcp.dstport == {self.port} && ({protocols} || _ws.malformed)",
                             "frame.number", "_ws.malformed", "_ws.expert.severity", "_ws.col.Info",
                             "smb2.protocol_id")
        bad = [f for f in frames if f[1] or any(int(s, 0) >= ERROR_SEVERITY for s in f[2])]
        return frames, bad
