"""The cleverfox_sandbox fixture against the installed binary: each test
writes into its own session and sees only its own data, also when run in
parallel (pytest-xdist) against one shared sandbox."""

import base64
import json
import ssl
import subprocess
import sys
import urllib.request

import pytest

from cleverfox_sandbox.server import find_binary, session_name


def call(sb, key, method, url, body=None):
    ctx = ssl.create_default_context(cafile=sb.ca)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        return r.status, json.loads(r.read() or b"null")


def company_names(sb, base):
    names, page = [], 1
    while True:
        url = f"{base}/api/companies?page_no={page}&page_size=100"
        _, body = call(sb, sb.partner_key, "GET", url)
        names += [c["Name"] for c in body["data"]]
        if len(body["data"]) < 100:
            return names
        page += 1


@pytest.mark.parametrize("who", ["first", "second"])
def test_each_test_writes_into_its_own_session(cleverfox_sandbox, who):
    sb = cleverfox_sandbox
    assert sb.session_url == f"{sb.base_url}/s/{sb.name}"
    mine = f"Written by the {who} test"
    status, created = call(sb, sb.partner_key, "POST", sb.session_url + "/api/companies",
                           {"PlanTypeId": 1, "Name": mine})
    assert status == 201, created
    names = company_names(sb, sb.session_url)
    assert mine in names
    other = "second" if who == "first" else "first"
    assert f"Written by the {other} test" not in names
    # the plain URLs (the session `default`) do not see it either
    assert mine not in company_names(sb, sb.base_url)


def test_the_fixture_names_the_keys_and_the_ca(cleverfox_sandbox):
    sb = cleverfox_sandbox
    assert sb.base_url.startswith("https://localhost:")
    assert sb.partner_key == "demo-partner-1"
    assert sb.admin_key == "demo-admin"
    _, health = call(sb, sb.admin_key, "GET", sb.base_url + "/_sandbox/health")
    assert health["status"] == "ok"


def test_session_names_are_valid_and_distinct():
    a = session_name("tests/test_x.py::test_a[one two]")
    b = session_name("tests/test_x.py::test_a[one-two]")
    assert a != b
    for name in (a, b, session_name("x" * 200), session_name("::")):
        assert 1 <= len(name) <= 64
        assert all(c.isascii() and (c.isalnum() or c in "_.-") for c in name), name
    assert session_name("plain-name_1.0") == "plain-name_1.0"


def test_python_dash_m_runs_the_installed_binary():
    out = subprocess.run([sys.executable, "-m", "cleverfox_sandbox", "--version"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("cleverfox-sandbox ")
    assert find_binary().endswith("cleverfox-sandbox")


@pytest.mark.cleverfox_sandbox(fixtures="marker-fixtures")
def test_a_marker_serves_its_own_fixtures(cleverfox_sandbox):
    # scripts/test-dist.sh writes marker-fixtures/ beside this file: the default
    # fixtures with two keys of their own
    sb = cleverfox_sandbox
    assert sb.keys.keys() == {"marker-partner", "marker-admin"}
    assert sb.partner_key == "marker-partner"
    _, health = call(sb, sb.admin_key, "GET", sb.base_url + "/_sandbox/health")
    assert health["fixtures"].endswith("marker-fixtures"), health
