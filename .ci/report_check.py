#!/usr/bin/env python3
"""Fails when a client's run left a finding in the sandbox's conformance report.

usage: report_check.py NAME BASE_URL CA_FILE ADMIN_KEY [EXPECTED ...]

Reads GET /_sandbox/report (API.md section 13) and exits non-zero when it holds
a finding other than the EXPECTED ones, or an EXPECTED one with another count.
EXPECTED is CODE=COUNT, with CODE a finding code or refused:STATUS (for
instance refused:401=1 for a run that sends one request without a key on
purpose). never_called is not checked: it says which operations the client
did not try, which is no fault of the client.
"""
import base64
import json
import ssl
import sys
import urllib.request

name, base, ca, admin, *expected_args = sys.argv[1:]
expected = {}
for e in expected_args:
    code, count = e.rsplit("=", 1)
    expected[code] = int(count)

req = urllib.request.Request(f"{base}/_sandbox/report")
req.add_header("Authorization", "Basic " + base64.b64encode(f"{admin}:".encode()).decode())
with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca), timeout=30) as r:
    report = json.load(r)

found = {}
for f in report["findings"]:
    code = f["code"] if f["code"] != "refused" else f"refused:{f['status']}"
    found[code] = f
calls = sum(o["requests"] for o in report["operations"])
unexpected = [f for c, f in found.items() if c not in expected]
wrong = [(c, n) for c, n in expected.items() if c not in found or found[c]["count"] != n]
if unexpected or wrong:
    for f in unexpected:
        print(f"  unexpected finding: {json.dumps(f)}", file=sys.stderr)
    for c, n in wrong:
        got = found[c]["count"] if c in found else 0
        print(f"  expected {c} {n} time(s), found {got}", file=sys.stderr)
    print(f"report after {name}: FAILED ({calls} API requests)", file=sys.stderr)
    sys.exit(1)
extra = ", ".join(f"{c} x{n}" for c, n in expected.items())
print(f"report after {name}: {calls} API requests, " + (f"only the expected findings ({extra})" if extra else "no finding"))
