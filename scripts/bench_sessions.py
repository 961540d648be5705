#!/usr/bin/env python3
"""Sessions and checkpoints benchmark: wall time per call (median and p90) and
the sandbox's resident memory (VmRSS growth) to create a session, to save a
checkpoint and to restore one; resident memory of many idle sessions and of
sessions after many writes each. Loopback only; every loop is bounded in count
and in time, and resident memory is capped.

usage: scripts/bench_sessions.py [FIXTURES] [--key KEY] [--bin PATH]
                                 [--count 100] [--idle 1000]
                                 [--write-sessions 100] [--writes 100]

Starts the sandbox (--bin, default target/release/cleverfox-sandbox; it does
not build) on 127.0.0.1:0 with its own temporary certificates, reads the port
from its banner, and stops it at the end. Every call is one HTTPS request on a
kept-alive connection; GET /_sandbox/health is timed the same way first, as
the round-trip floor to subtract. A build without sessions is started, its
floor measured, and the rest skipped.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def pct(xs, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


class Stop(Exception):
    """A phase hit its time limit or the memory cap."""


class Bench:
    def __init__(self, a, proc, base, ca, admin, key, plantype):
        self.a, self.proc, self.base = a, proc, base
        self.admin = requests.Session()
        self.admin.auth = (admin, "")
        self.partner = requests.Session()
        self.partner.auth = (key, "")
        self.ca = ca  # per request: REQUESTS_CA_BUNDLE would beat Session.verify
        self.plantype = plantype
        self.cap_kib = a.max_rss_mib * 1024
        self.rows = []
        self.step_kib = 0
        self.last_kib = self.rss()

    def rss(self):
        return status_kib(self.proc.pid, "VmRSS")

    def guard(self, deadline):
        """Before each step: stop when out of time, when the RSS is over the cap
        or the next step (as large as the largest so far) would pass it, or when
        it would leave the machine under 1 GiB available."""
        if self.proc.poll() is not None:
            sys.exit(f"the sandbox exited (status {self.proc.returncode})")
        if time.time() > deadline:
            raise Stop("time limit")
        rss = self.rss()
        self.step_kib = max(self.step_kib, rss - self.last_kib)
        self.last_kib = rss
        if rss + self.step_kib > self.cap_kib:
            raise Stop(f"RSS would pass the cap of {self.a.max_rss_mib} MiB")
        if mem_available_kib() - self.step_kib < 1024 * 1024:
            raise Stop("under 1 GiB of memory would be left available")

    def call(self, s, method, path, expect, body=None):
        t0 = time.perf_counter()
        r = s.request(method, self.base + path, json=body, verify=self.ca,
                      timeout=self.a.request_timeout)
        dt = (time.perf_counter() - t0) * 1000
        if r.status_code != expect:
            sys.exit(f"{method} {path} answered {r.status_code} (expected {expect}): {r.text[:300]}")
        return dt

    def write(self, session, label):
        body = {"PlanTypeId": self.plantype, "Name": f"Bench {label}", "Token": str(uuid.uuid4())}
        return self.call(self.partner, "POST", f"/s/{session}/api/companies", 201, body)

    def row(self, what, times=None, n=None, rss_kib=None, per=None, note=""):
        self.rows.append((what, times, n, rss_kib, per, note))

    def timed(self, what, n, fn, per):
        """Runs fn(i) n times (bounded by the phase timeout and the memory cap):
        the times, and the RSS growth over the runs."""
        deadline = time.time() + self.a.phase_timeout
        times, note = [], ""
        before = self.rss()
        try:
            for i in range(n):
                self.guard(deadline)
                times.append(fn(i))
        except Stop as e:
            note = f"stopped after {len(times)}: {e}"
        growth = self.rss() - before
        self.row(what, times, len(times), growth, per, note)
        return len(times)

    def floor(self):
        self.timed("GET /_sandbox/health (floor)", self.a.count,
                   lambda i: self.call(self.admin, "GET", "/_sandbox/health", 200), None)

    def sessions(self):
        """Sessions are kept to the end: memory freed by ending them would be
        reused by the next measurement and hide its growth."""
        a = self.a
        # (1) create a session
        def create(i):
            return self.call(self.admin, "POST", "/_sandbox/sessions", 201, {"name": f"bench-create-{i}"})
        self.timed("create a session", a.count, create, "session")

        # (2) checkpoint and restore, in a session with some writes
        s = "bench-checkpoints"
        try:
            self.guard(time.time() + a.phase_timeout)
        except Stop as e:
            self.row("checkpoint and restore", None, 0, None, None, f"skipped: {e}")
            s = None
        if s:
            self.call(self.admin, "POST", "/_sandbox/sessions", 201, {"name": s})
            for j in range(a.setup_writes):
                self.write(s, f"{s} setup {j}")

        def checkpoint(i):
            self.write(s, f"{s} before checkpoint {i}")
            return self.call(self.admin, "POST", f"/s/{s}/_sandbox/checkpoints", 201, {"name": f"cp-{i}"})
        saved = s and self.timed("checkpoint (a write before each)", a.count, checkpoint, "checkpoint")
        if saved:
            def restore(i):
                self.write(s, f"{s} before restore {i}")
                return self.call(self.admin, "POST", f"/s/{s}/_sandbox/checkpoints/cp-0/restore", 200)
            self.timed("restore (a write before each)", a.count, restore, "restore")

        # (3) idle sessions: created, then one request each
        def idle_one(i):
            name = f"bench-idle-{i}"
            self.call(self.admin, "POST", "/_sandbox/sessions", 201, {"name": name})
            self.call(self.partner, "GET", f"/s/{name}/api/plantypes", 200)
            return 0.0
        self.timed(f"{a.idle} idle sessions", a.idle, idle_one, "session")
        self.rows[-1] = self.rows[-1][:1] + (None,) + self.rows[-1][2:]

        # (4) sessions after writes each
        wtimes = []

        def written(i):
            name = f"bench-writes-{i}"
            self.call(self.admin, "POST", "/_sandbox/sessions", 201, {"name": name})
            for j in range(a.writes):
                if j % 10 == 0:
                    self.guard(deadline4)
                wtimes.append(self.write(name, f"{name} {j}"))
            return 0.0
        deadline4 = time.time() + self.a.phase_timeout
        self.timed(f"{a.write_sessions} sessions x {a.writes} writes", a.write_sessions, written, "session")
        self.rows[-1] = self.rows[-1][:1] + (None,) + self.rows[-1][2:]
        if wtimes:
            self.row("  POST /api/companies in those", wtimes, len(wtimes), None, None)

    def table(self):
        print(f"{'':36} {'n':>5} {'median ms':>10} {'p90 ms':>9} {'RSS growth':>11} {'per item':>15}")
        for what, times, n, rss_kib, per, note in self.rows:
            med = f"{pct(times, 50):10.2f}" if times else f"{'':10}"
            p90 = f"{pct(times, 90):9.2f}" if times else f"{'':9}"
            grow = f"{rss_kib / 1024:+9.1f} MiB" if rss_kib is not None else ""
            each = f"{rss_kib / n:+8.1f} KiB each" if per and n else ""
            print(f"{what:36} {n:>5} {med} {p90} {grow:>11} {each:>15}{'  ' + note if note else ''}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixtures", nargs="?", default=os.path.join(ROOT, "fixtures"))
    ap.add_argument("--key", help="partner key (default demo-partner-1, or gen-partner-1, "
                    "or the first partner key of apikeys.json)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/cleverfox-sandbox"))
    ap.add_argument("--count", type=int, default=100, help="calls per timed operation")
    ap.add_argument("--idle", type=int, default=1000, help="idle sessions")
    ap.add_argument("--write-sessions", type=int, default=100)
    ap.add_argument("--writes", type=int, default=100, help="writes per session in --write-sessions")
    ap.add_argument("--setup-writes", type=int, default=20, help="writes before the first checkpoint")
    ap.add_argument("--start-timeout", type=float, default=600, help="seconds allowed to start")
    ap.add_argument("--phase-timeout", type=float, default=600, help="seconds allowed per measurement")
    ap.add_argument("--request-timeout", type=float, default=120)
    ap.add_argument("--max-rss-mib", type=int, default=None,
                    help="stop a measurement when the sandbox's RSS passes this (default: 80%% of "
                         "the memory available at start)")
    a = ap.parse_args()
    for v in (a.count, a.idle, a.write_sessions, a.writes):
        if not 1 <= v <= 100_000:
            sys.exit("counts must be between 1 and 100000")
    if a.max_rss_mib is None:
        a.max_rss_mib = mem_available_kib() * 8 // 10 // 1024

    keys = json.load(open(os.path.join(a.fixtures, "apikeys.json")))
    admin = next((k["ApiKey"] for k in keys if k.get("Admin") is True), None)
    if admin is None:
        sys.exit("apikeys.json has no key with \"Admin\": true")
    names = [k["ApiKey"] for k in keys if k.get("PartnerPlan")]
    key = a.key or next((k for k in ("demo-partner-1", "gen-partner-1") if k in names),
                        names[0] if names else None)
    if key is None:
        sys.exit("apikeys.json has no partner key; pass --key")
    plantypes = json.load(open(os.path.join(a.fixtures, "plantypes.json")))
    plantypes = plantypes["data"] if isinstance(plantypes, dict) else plantypes
    plantype = next(p["PlanTypeId"] for p in plantypes if not p.get("IsInactive"))

    help_text = subprocess.run([a.bin, "--help"], capture_output=True, text=True, timeout=30).stdout
    has_sessions = "--max-sessions" in help_text
    work = tempfile.mkdtemp(prefix="cf-bench-sessions-")
    out = open(os.path.join(work, "out"), "w+")
    log = open(os.path.join(work, "log"), "w+")
    cmd = [a.bin, "--bind", "127.0.0.1:0", "--fixtures", a.fixtures,
           "--certs", os.path.join(work, "certs"), "--no-watch"]
    if has_sessions:
        cmd += ["--max-sessions", str(a.count + a.idle + a.write_sessions + 10)]
    proc = subprocess.Popen(cmd, stdout=out, stderr=log, stdin=subprocess.DEVNULL)

    def stop(*_):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit("hung up"))
    try:
        t0 = time.time()
        port = None
        while port is None:
            if proc.poll() is not None:
                sys.exit("the sandbox did not start:\n" + open(log.name).read()[-2000:])
            if time.time() - t0 > a.start_timeout:
                sys.exit(f"the sandbox did not start in {a.start_timeout} s")
            text = open(out.name).read()
            m = re.search(r"https://[^\s:/]+:(\d+)/", text)
            if m and "curl " in text:
                port = int(m.group(1))
            else:
                time.sleep(0.1)
        start_s = time.time() - t0
        base = f"https://localhost:{port}"
        ca = os.path.join(work, "certs", "ca.pem")
        rec = re.search(r"Fixtures:.*\((.*)\)", open(out.name).read())
        print(f"build: {a.bin}")
        print(f"fixtures: {a.fixtures} ({rec.group(1) if rec else '?'}); partner key {key}, admin key {admin}")
        rss0 = status_kib(proc.pid, "VmRSS")
        print(f"started in {start_s:.1f} s; RSS {rss0 / 1024:.1f} MiB (peak {status_kib(proc.pid, 'VmHWM') / 1024:.1f} MiB); "
              f"memory cap {a.max_rss_mib} MiB")
        b = Bench(a, proc, base, ca, admin, key, plantype)
        b.floor()
        if has_sessions:
            b.sessions()
        b.table()
        if not has_sessions:
            print("this build has no sessions (no --max-sessions): session and checkpoint measurements skipped")
        print(f"RSS at the end {status_kib(proc.pid, 'VmRSS') / 1024:.1f} MiB, "
              f"peak {status_kib(proc.pid, 'VmHWM') / 1024:.1f} MiB")
    except BaseException:
        print("sandbox log (last lines):\n" + "".join(open(log.name).readlines()[-15:]), file=sys.stderr)
        raise
    finally:
        stop()


if __name__ == "__main__":
    main()
