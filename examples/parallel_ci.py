#!/usr/bin/env python3
"""Parallel CI against one sandbox: 8 clients at once, each in a session of its own.

Each client is what one CI job would be: it gets its own base URL
(BASE_URL/s/NAME), writes companies and a user there, and checks that it sees
exactly its own writes, that its request journal holds only its own requests,
and that nobody else (the other sessions, the plain URLs) saw any of them.
Exits non-zero on any failure.

usage: examples/parallel_ci.py [BASE_URL] [CA_FILE] [API_KEY] [ADMIN_KEY]
"""
import concurrent.futures
import os
import sys
import time

import requests

base = sys.argv[1] if len(sys.argv) > 1 else "https://localhost:8443"
ca = sys.argv[2] if len(sys.argv) > 2 else "certs/ca.pem"
key = sys.argv[3] if len(sys.argv) > 3 else "demo-partner-1"
admin = sys.argv[4] if len(sys.argv) > 4 else "demo-admin"
JOBS = 8
WRITES = 5
run = f"{os.getpid()}-{int(time.time())}"  # session names unique to this run
tls = {"verify": ca, "timeout": 30}


def names(session, url):
    """The names of the companies partner `key` sees at `url`."""
    r = session.get(f"{url}/api/companies", params={"PageSize": 500}, **tls)
    r.raise_for_status()
    return {c["Name"] for c in r.json()["data"]}


def job(i):
    """One CI job: its own session, its own writes; returns what it wrote."""
    url = f"{base}/s/ci-{run}-{i}"  # the only thing a job changes: its base URL
    s = requests.Session()
    s.auth = (key, "")
    mine = set()
    for k in range(WRITES):
        name = f"parallel-ci {run} job {i} company {k}"
        r = s.post(f"{url}/api/companies", json={"PlanTypeId": 1, "Name": name}, **tls)
        assert r.status_code == 201, r.text
        assert f"/s/ci-{run}-{i}/api/companies/" in r.headers["Location"], r.headers["Location"]
        mine.add(name)
    r = s.post(f"{url}/api/partnerusers",
               json={"FirstName": "Job", "LastName": str(i), "Email": f"job{i}-{run}@example.com"}, **tls)
    assert r.status_code == 201, r.text
    seen = {n for n in names(s, url) if n.startswith("parallel-ci")}
    assert seen == mine, f"job {i} saw {sorted(seen - mine)} besides its own, or missed {sorted(mine - seen)}"
    journal = requests.get(f"{url}/_sandbox/requests", params={"method": "POST"}, auth=(admin, ""), **tls)
    journal.raise_for_status()
    assert len(journal.json()["data"]) == WRITES + 1, journal.text
    return mine


with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
    written = list(pool.map(job, range(JOBS)))

every = set().union(*written)
plain = requests.Session()
plain.auth = (key, "")
assert not (names(plain, base) & every), "the plain URLs (session default) saw a job's writes"
for i in range(JOBS):
    others = every - written[i]
    assert not (names(plain, f"{base}/s/ci-{run}-{i}") & others), f"job {i} saw another job's writes"
    r = requests.delete(f"{base}/_sandbox/sessions/ci-{run}-{i}", auth=(admin, ""), **tls)
    assert r.status_code == 200, r.text
print(f"parallel CI: {JOBS} jobs in {JOBS} sessions, each saw exactly its own {WRITES + 1} writes")
