#!/usr/bin/env python3
"""State benchmark: what persistent state, incremental reload and the loader
thread change, for this checkout's release build and (with --before) an older
binary, in one run, on one fixtures set. Loopback only, bounded in time.

usage: scripts/bench_state.py [FIXTURES] [--before BIN] [--edits N]
         [--resets N] [--before-edits N] [--before-resets N] [--duration 5s]
         [--no-pin] [--no-wrk] [--no-fork]

For each binary, one after the other on the same FIXTURES directory:
  - start-up: time until the server answers, resident memory (VmRSS) then;
  - GET /api/devices/1 and POST /api/jobs: requests per second (wrk, 32
    connections, server on CPU 0 and wrk on CPU 1 when there are two);
  - POST /_sandbox/reset with unchanged files: median time over N;
  - N edits of devices.json (device 1 renamed; a temporary file renamed over
    it, as editors save): time from the rename to the first response that
    shows the new name, resident memory after each reload, and the peak
    during each (VmHWM, reset before each edit) against the resident size
    before it.
Then, for this checkout only, benches/state_fork.rs: State::clone (a fork,
a checkpoint or a restore) and the first write to a fork, median of 100.

--no-pin runs the server on every CPU (start-up and reload parse on several
cores; wrk is then not pinned either), --no-wrk leaves out the req/s figures
and --no-fork the State::clone benchmark.

devices.json is restored to its original bytes at the end. The edits are
made in FIXTURES itself (a copy of a 3.7 GB set would not fit on /tmp).
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


class Server:
    def __init__(self, binary, fixtures, work, timeout, pin=True):
        self.work = work
        self.out = open(os.path.join(work, "out"), "w+")
        self.log = open(os.path.join(work, "log"), "w+")
        pin = ["taskset", "-c", "0"] if pin and os.cpu_count() >= 2 and shutil.which("taskset") else []
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            pin + [binary, "--bind", "127.0.0.1:0", "--fixtures", fixtures,
                   "--certs", os.path.join(work, "certs")],
            stdout=self.out, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        self.port = None
        while self.port is None:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                sys.exit("the sandbox did not start: " + open(self.log.name).read()[-2000:])
            text = open(self.out.name).read()
            m = re.search(r"https://localhost:(\d+)/", text)
            if m and "curl " in text:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        self.startup_s = time.perf_counter() - t0
        self.ctx = ssl.create_default_context(cafile=os.path.join(work, "certs", "ca.pem"))
        self.conn = http.client.HTTPSConnection("localhost", self.port, context=self.ctx, timeout=600)

    def request(self, method, path, key, body=None):
        headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read()

    def rss(self):
        return status_kib(self.proc.pid, "VmRSS")

    def reset_peak(self):
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    def peak(self):
        return status_kib(self.proc.pid, "VmHWM")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wrk(port, path, method, body, ca, duration, key, pin=True):
    script = os.path.join(tempfile.mkdtemp(prefix="cf-wrk-"), "req.lua")
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    with open(script, "w") as f:
        f.write(f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "{auth}"\n')
        if body:
            f.write(f"wrk.body = [[{body}]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
    pin = ["taskset", "-c", "1"] if pin and os.cpu_count() >= 2 and shutil.which("taskset") else []
    out = subprocess.run(pin + ["wrk", "-t1", "-c32", f"-d{duration}", "-s", script,
                                f"https://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, timeout=120).stdout
    shutil.rmtree(os.path.dirname(script), ignore_errors=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return float(m.group(1)) if m else 0.0, int(non2xx.group(1)) if non2xx else 0


def measure(label, binary, a, keys, devices_path, original, resets, edits):
    print(f"\n== {label}: {binary}", flush=True)
    work = tempfile.mkdtemp(prefix="cf-state-")
    srv = Server(binary, a.fixtures, work, a.timeout, pin=not a.no_pin)
    res = {}
    try:
        res["startup_s"], res["startup_rss"] = srv.startup_s, srv.rss()
        print(f"start-up: {srv.startup_s:.2f} s to serve; RSS {mib(srv.rss())}, "
              f"peak {mib(srv.peak())}", flush=True)
        ca = os.path.join(work, "certs", "ca.pem")
        job = json.dumps({"DeviceId": 1, "Name": "Bench job", "Frequency": "Daily",
                          "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1,
                          "CloudKeepLast": 30, "LocalKeepLast": 7})
        status, body = srv.request("GET", "/api/devices/1", keys["partner"])
        if status != 200:
            sys.exit(f"GET /api/devices/1 answered {status}: {body[:300]}")
        scenarios = [("GET /api/devices/1", "GET", "/api/devices/1", None),
                     ("POST /api/jobs", "POST", "/api/jobs", job)]
        for name, method, path, b in [] if a.no_wrk else scenarios:
            rps, bad = wrk(srv.port, path, method, b, ca, a.duration, keys["partner"],
                           pin=not a.no_pin)
            res[name] = rps
            print(f"{name}: {rps:.0f} req/s" + (f" ({bad} not 2xx)" if bad else ""), flush=True)
        times = []
        for _ in range(resets):
            t0 = time.perf_counter()
            status, body = srv.request("POST", "/_sandbox/reset", keys["admin"], b"{}")
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                sys.exit(f"reset answered {status}: {body[:300]}")
        if times:
            res["reset_ms"] = statistics.median(times)
            print(f"reset (unchanged files): median {statistics.median(times):.2f} ms, "
                  f"max {max(times):.2f} ms over {len(times)}; RSS {mib(srv.rss())}", flush=True)
        first_name = re.search(rb'"Name"\s*:\s*"([^"]*)"', original).group(0)
        served, rss_after, ratios = [], [], []
        for i in range(1, edits + 1):
            marker = f"BENCH-{i}-{int(time.time() * 1000) % 100000}"
            text = original.replace(first_name, f'"Name": "{marker}"'.encode(), 1)
            tmp = devices_path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(text)
            before = srv.rss()
            can_peak = srv.reset_peak()
            t0 = time.perf_counter()
            os.replace(tmp, devices_path)
            limit = time.time() + a.timeout
            while True:
                status, body = srv.request("GET", "/api/devices/1", keys["partner"])
                if status == 200 and json.loads(body)["data"]["Name"] == marker:
                    break
                if time.time() > limit:
                    sys.exit(f"edit {i} not served after {a.timeout} s")
                time.sleep(0.005)
            dt = (time.perf_counter() - t0) * 1000
            served.append(dt)
            time.sleep(0.2)  # the old base is freed after the swap
            rss_after.append(srv.rss())
            ratio = srv.peak() / before if can_peak and before else float("nan")
            ratios.append(ratio)
            print(f"  edit {i:2}: served after {dt:8.1f} ms; RSS {mib(rss_after[-1])}; "
                  f"peak during it {ratio:.2f} x the RSS before", flush=True)
        if served:
            res["served_ms"] = statistics.median(served)
            res["rss_growth"] = rss_after[-1] / rss_after[0]
            print(f"save -> served: median {statistics.median(served):.0f} ms, max {max(served):.0f} ms; "
                  f"RSS after reload 1: {mib(rss_after[0])}, after reload {len(rss_after)}: "
                  f"{mib(rss_after[-1])} ({rss_after[-1] / rss_after[0]:.2f} x); "
                  f"largest peak during a reload {max(ratios):.2f} x the RSS before it", flush=True)
    finally:
        srv.stop()
        with open(devices_path + ".tmp", "wb") as f:
            f.write(original)
        os.replace(devices_path + ".tmp", devices_path)
        shutil.rmtree(work, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures", nargs="?", default=os.path.join(ROOT, "fixtures"))
    ap.add_argument("--before", help="an older sandbox binary to measure first")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--resets", type=int, default=100)
    ap.add_argument("--before-edits", type=int, default=None)
    ap.add_argument("--before-resets", type=int, default=None)
    ap.add_argument("--duration", default="5s", help="wrk duration per scenario")
    ap.add_argument("--timeout", type=float, default=600, help="seconds allowed per step")
    ap.add_argument("--no-pin", action="store_true", help="run the server on every CPU")
    ap.add_argument("--no-wrk", action="store_true", help="leave out the req/s figures")
    ap.add_argument("--no-fork", action="store_true", help="leave out benches/state_fork.rs")
    a = ap.parse_args()
    if not a.no_wrk and not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not a.no_fork:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bench", "state_fork"],
                       cwd=ROOT, check=True)
    keys_file = json.load(open(os.path.join(a.fixtures, "apikeys.json")))
    keys = {
        "partner": next(k["ApiKey"] for k in keys_file if k.get("PartnerPlan") and k.get("PartnerId") == 1),
        "admin": next(k["ApiKey"] for k in keys_file if k.get("Admin")),
    }
    devices_path = os.path.join(a.fixtures, "devices.json")
    original = open(devices_path, "rb").read()
    results = {}
    if a.before:
        results["before"] = measure("before", a.before, a, keys, devices_path, original,
                                    a.resets if a.before_resets is None else a.before_resets,
                                    a.edits if a.before_edits is None else a.before_edits)
    results["after"] = measure("after", os.path.join(ROOT, "target/release/cleverfox-sandbox"),
                               a, keys, devices_path, original, a.resets, a.edits)
    if "before" in results:
        print("\n== after / before")
        for k in ["GET /api/devices/1", "POST /api/jobs"]:
            b, x = results["before"].get(k), results["after"].get(k)
            if b and x:
                print(f"{k}: {x / b:.2f} x")
        b, x = results["before"]["startup_rss"], results["after"]["startup_rss"]
        print(f"resident after start-up: {mib(x)} vs {mib(b)} ({x / b:.2f} x)")

    if a.no_fork:
        return
    print("\n== State::clone (benches/state_fork.rs)", flush=True)
    out = subprocess.run(["cargo", "bench", "--quiet", "--bench", "state_fork", "--",
                          a.fixtures, "100"], cwd=ROOT, capture_output=True, text=True,
                         timeout=a.timeout)
    print(out.stdout + out.stderr[-2000:], flush=True)


if __name__ == "__main__":
    main()
