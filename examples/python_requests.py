#!/usr/bin/env python3
"""The CleverFox API from Python (requests): list, read, create and delete a company.

usage: examples/python_requests.py [BASE_URL] [CA_FILE] [API_KEY]
"""
import sys
import uuid

import requests

base = sys.argv[1] if len(sys.argv) > 1 else "https://localhost:8443"
ca = sys.argv[2] if len(sys.argv) > 2 else "certs/ca.pem"
key = sys.argv[3] if len(sys.argv) > 3 else "demo-partner-1"

session = requests.Session()
session.auth = (key, "")  # the API key is the username; the password is ignored
# Trust the sandbox's own CA. Pass verify= on each request: requests lets a
# REQUESTS_CA_BUNDLE environment variable override a session's verify.
tls = {"verify": ca, "timeout": 30}

companies = session.get(f"{base}/api/companies", params={"PageSize": 5}, **tls)
companies.raise_for_status()
for c in companies.json()["data"]:
    print(" ", c["CompanyId"], c["Name"])

# a new Token (a GUID) on every write: a retry with the same Token cannot write twice
body = {"PlanTypeId": 1, "Name": "Example Company (Python)", "Token": str(uuid.uuid4())}
r = session.post(f"{base}/api/companies", json=body, **tls)
assert r.status_code == 201, r.text
company_id = r.json()["data"]["CompanyId"]
print("created company", company_id, "at", r.headers["Location"])
assert session.get(f"{base}/api/companies/{company_id}", **tls).status_code == 200
r = session.delete(f"{base}/api/companies/{company_id}", **tls)
assert r.status_code == 200, r.text
print("deleted company", company_id)
