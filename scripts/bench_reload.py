#!/usr/bin/env python3
"""Hot reload benchmark: time from saving a fixture file to the first response
that shows the change (median and maximum over N edits), the reload time the
sandbox logs, and its peak resident memory. Loopback only, bounded in time.

usage: scripts/bench_reload.py [FIXTURES] [--edits N] [--key KEY]

Each edit rewrites companies.json in a copy of FIXTURES (write a temporary
file, rename it over: what most editors do) with company 1 renamed, then polls
GET /api/companies/1 every 5 ms until the new name is served.
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


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures", nargs="?", default=os.path.join(ROOT, "fixtures"))
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--key", default=None)
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per edit")
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="cf-reload-")
    fx = os.path.join(work, "fixtures")
    shutil.copytree(a.fixtures, fx)
    keys = json.load(open(os.path.join(fx, "apikeys.json")))
    key = a.key or next(k["ApiKey"] for k in keys if k.get("PartnerPlan") and k.get("PartnerId") == 1)
    companies_path = os.path.join(fx, "companies.json")
    with open(companies_path) as f:
        companies = json.load(f)
    records = companies["data"] if isinstance(companies, dict) else companies

    log = open(os.path.join(work, "log"), "w+")
    out = open(os.path.join(work, "out"), "w+")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target/release/cleverfox-sandbox"), "--bind", "127.0.0.1:0",
         "--fixtures", fx, "--certs", os.path.join(work, "certs")],
        stdout=out, stderr=log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 600
        port = None
        while port is None:
            if proc.poll() is not None or time.time() > deadline:
                sys.exit("the sandbox did not start: " + open(log.name).read()[-2000:])
            m = re.search(r"https://localhost:(\d+)/", open(out.name).read())
            if m and "curl " in open(out.name).read():
                port = int(m.group(1))
            else:
                time.sleep(0.1)
        ctx = ssl.create_default_context(cafile=os.path.join(work, "certs", "ca.pem"))
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()

        def name_of_company_1():
            conn.request("GET", "/api/companies/1", headers={"Authorization": auth})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                sys.exit(f"GET /api/companies/1 answered {r.status}: {body[:300]}")
            return json.loads(body)["data"]["Name"]

        print(f"fixtures: {a.fixtures}; start-up RSS {rss_kib(proc.pid, 'VmRSS') // 1024} MiB, "
              f"peak {rss_kib(proc.pid, 'VmHWM') // 1024} MiB")
        times = []
        for i in range(1, a.edits + 1):
            marker = f"Reload bench {i} {time.time():.3f}"
            for r in records:
                if r.get("CompanyId") == 1:
                    r["Name"] = marker
            tmp = companies_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(companies, f)
            t0 = time.perf_counter()
            os.replace(tmp, companies_path)
            limit = time.time() + a.timeout
            while name_of_company_1() != marker:
                if time.time() > limit:
                    sys.exit(f"edit {i} not served after {a.timeout} s")
                time.sleep(0.005)
            dt = (time.perf_counter() - t0) * 1000
            times.append(dt)
            print(f"  edit {i:2}: served after {dt:8.1f} ms", flush=True)
        reloads = [int(m) for m in re.findall(r"reloaded fixtures.*?ms=(\d+)", open(log.name).read())]
        print(f"save -> first response showing it: median {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms over {len(times)} edits")
        if reloads:
            print(f"reload time (logged): median {statistics.median(reloads)} ms, max {max(reloads)} ms "
                  f"over {len(reloads)} reloads")
        print(f"peak resident memory (VmHWM, start-up and reloads): {rss_kib(proc.pid, 'VmHWM') // 1024} MiB; "
              f"now {rss_kib(proc.pid, 'VmRSS') // 1024} MiB")
    except BaseException:
        print("sandbox log (last lines):\n" + "".join(open(log.name).readlines()[-15:]), file=sys.stderr)
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
