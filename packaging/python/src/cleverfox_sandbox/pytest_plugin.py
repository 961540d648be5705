"""The pytest plugin: the `cleverfox_sandbox` fixture.

One sandbox process per test run (per pytest-xdist worker) and fixtures
set, started on a free port with its own certificates directory and
stopped at the end; each test gets a handle on a session of its own,
``/s/{test id}``, so tests that write see only their own data.
"""

import os
from pathlib import Path
from typing import Dict, Optional

import pytest

from .server import Sandbox, Session, running, session_name, start

ENV_FIXTURES = "CLEVERFOX_SANDBOX_FIXTURES"
ENV_URL = "CLEVERFOX_SANDBOX_URL"
ENV_CA = "CLEVERFOX_SANDBOX_CA"


def pytest_addoption(parser):
    parser.addini(
        "cleverfox_sandbox_fixtures",
        "fixtures directory or bundle file the cleverfox_sandbox fixture serves "
        "(relative to the ini file; default: the fixtures built into the sandbox)",
        default=None,
    )
    parser.addini(
        "cleverfox_sandbox_args",
        "more command line options for the sandbox the cleverfox_sandbox fixture starts",
        type="args",
        default=[],
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "cleverfox_sandbox(fixtures=PATH): serve this fixtures directory or bundle "
        "(relative to the test file) to the test's cleverfox_sandbox fixture",
    )


class _Servers:
    """The sandboxes of this run, one per fixtures set, started on demand."""

    def __init__(self, config):
        self.config = config
        self.started: Dict[Optional[str], Sandbox] = {}

    def get(self, fixtures: Optional[str]) -> Sandbox:
        if os.environ.get(ENV_URL):
            return running(
                os.environ[ENV_URL],
                os.environ.get(ENV_CA),
                os.environ.get("CLEVERFOX_SANDBOX_PARTNER_KEY", "demo-partner-1"),
                os.environ.get("CLEVERFOX_SANDBOX_ADMIN_KEY", "demo-admin"),
            )
        if fixtures not in self.started:
            args = self.config.getini("cleverfox_sandbox_args")
            self.started[fixtures] = start(fixtures, args=args)
        return self.started[fixtures]

    def stop(self):
        for sandbox in self.started.values():
            sandbox.stop()
        self.started.clear()


def _fixtures_for(request) -> Optional[str]:
    """The marker's fixtures, else the environment's, else the ini option's,
    else None (the built-in defaults); made absolute."""
    marker = request.node.get_closest_marker("cleverfox_sandbox")
    if marker is not None and marker.kwargs.get("fixtures"):
        return str(Path(request.node.path).parent / marker.kwargs["fixtures"])
    if os.environ.get(ENV_FIXTURES):
        return os.path.abspath(os.environ[ENV_FIXTURES])
    ini = request.config.getini("cleverfox_sandbox_fixtures")
    if ini:
        base = request.config.inipath.parent if request.config.inipath else request.config.rootpath
        return str(base / ini)
    return None


@pytest.fixture(scope="session")
def cleverfox_sandbox_servers(request):
    """The sandboxes of this test run (stopped at its end)."""
    servers = _Servers(request.config)
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def cleverfox_sandbox_server(cleverfox_sandbox_servers) -> Sandbox:
    """The run's sandbox on the configured fixtures (for session-scoped use)."""
    fixtures = os.environ.get(ENV_FIXTURES)
    return cleverfox_sandbox_servers.get(os.path.abspath(fixtures) if fixtures else None)


@pytest.fixture
def cleverfox_sandbox(request, cleverfox_sandbox_servers) -> Session:
    """This test's session of the run's sandbox: `base_url`, `ca`, `keys`,
    `partner_key`, `admin_key` and `session_url` (``base_url/s/{test id}``)."""
    sandbox = cleverfox_sandbox_servers.get(_fixtures_for(request))
    return sandbox.session(session_name(request.node.nodeid))
