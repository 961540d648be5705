"""Running the sandbox binary from Python: find it, start it on a free port
with its own certificates directory, read its banner (URL, CA, API keys),
and stop it."""

import hashlib
import os
import queue
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from typing import Dict, Iterable, Optional

BINARY = "cleverfox-sandbox"


def find_binary() -> str:
    """The `cleverfox-sandbox` binary this package installed (in the
    environment's scripts directory, the user scheme's, or beside the
    package for `pip install --target`), else the one on the PATH."""
    exe = BINARY + (sysconfig.get_config_var("EXE") or "")
    candidates = [os.path.join(sysconfig.get_path("scripts"), exe)]
    scheme = "nt_user" if sys.platform == "win32" else "posix_user"
    try:
        candidates.append(os.path.join(sysconfig.get_path("scripts", scheme), exe))
    except KeyError:
        pass
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates.append(os.path.join(package_parent, "bin", exe))
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError(
        f"the {BINARY} binary is not installed beside this package ({', '.join(candidates)}) "
        "nor on the PATH"
    )


def session_name(test_id: str) -> str:
    """A session name (1 to 64 of [A-Za-z0-9_.-]) for a test id: the id with
    other characters replaced by '-', its end kept when it is too long (the
    test's name and parameters), and, when anything was replaced or cut,
    eight hex digits of its digest so different ids keep different names."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_id).strip("-") or "test"
    if name != test_id or len(name) > 64:
        digest = hashlib.sha256(test_id.encode()).hexdigest()[:8]
        name = name[-(64 - 9):].lstrip("-") + "-" + digest
    return name


class Session:
    """One session of a sandbox: its own data under `session_url`."""

    def __init__(self, sandbox: "Sandbox", name: str):
        self.sandbox = sandbox
        self.name = name
        self.base_url = sandbox.base_url
        self.ca = sandbox.ca
        self.keys = sandbox.keys
        self.partner_key = sandbox.partner_key
        self.admin_key = sandbox.admin_key
        self.session_url = f"{sandbox.base_url}/s/{name}"

    def __repr__(self) -> str:
        return f"<cleverfox_sandbox.Session {self.session_url}>"


class Sandbox:
    """A running sandbox: `base_url` (https://localhost:PORT), `ca` (the CA
    file to trust), `keys` (each API key of the banner and what it is),
    `partner_key` (the first working partner key), `admin_key`."""

    def __init__(self, base_url: str, ca: Optional[str], keys: Dict[str, str],
                 process: Optional[subprocess.Popen] = None,
                 workdir: Optional[str] = None, banner: str = ""):
        self.base_url = base_url
        self.ca = ca
        self.keys = keys
        self.process = process
        self.banner = banner
        self._workdir = workdir
        self.partner_key = next(
            (k for k, d in keys.items() if d.startswith("partner ") and "answers 403" not in d),
            None,
        )
        self.admin_key = next((k for k, d in keys.items() if d.startswith("admin")), None)

    def session(self, name: str) -> Session:
        """A handle on the session `name` (created on its first request)."""
        return Session(self, name)

    def stop(self) -> None:
        """Stops the process (SIGTERM, then kill after 10 s) and removes its
        certificates directory. Does nothing for a sandbox it did not start."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<cleverfox_sandbox.Sandbox {self.base_url}>"


_KEY_LINE = re.compile(r"^    (\S+)\s{2,}((?:partner|admin).*)$")


def start(fixtures: Optional[str] = None, args: Iterable[str] = (),
          binary: Optional[str] = None, timeout: float = 30.0) -> Sandbox:
    """Starts the sandbox on 127.0.0.1 and a free port, in a temporary
    working directory holding its certificates, serving `fixtures` (a
    directory or bundle file) or the defaults built into the binary."""
    binary = binary or find_binary()
    workdir = tempfile.mkdtemp(prefix="cleverfox-sandbox-")
    cmd = [binary, "--bind", "127.0.0.1:0", "--certs", os.path.join(workdir, "certs"), "--no-watch"]
    if fixtures is not None:
        cmd += ["--fixtures", os.path.abspath(fixtures)]
    cmd += list(args)
    log = open(os.path.join(workdir, "sandbox.log"), "wb")
    try:
        # started in the empty directory: no ./fixtures there but the one asked for
        process = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=log)
    finally:
        log.close()
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    banner, keys, base_url, ca = [], {}, None, None
    deadline = time.monotonic() + timeout
    in_keys = False
    while True:
        # after the key list, a short quiet spell ends a banner without a curl line
        wait = deadline - time.monotonic()
        if in_keys:
            wait = min(wait, 2.0)
        try:
            line = lines.get(timeout=max(wait, 0.01))
        except queue.Empty:
            if in_keys and base_url:
                break
            process.kill()
            shutil.rmtree(workdir, ignore_errors=True)
            raise RuntimeError(f"the sandbox printed no banner within {timeout} s: {banner}")
        if line is None:
            process.wait()
            with open(os.path.join(workdir, "sandbox.log"), encoding="utf-8", errors="replace") as f:
                err = f.read()
            shutil.rmtree(workdir, ignore_errors=True)
            raise RuntimeError(f"the sandbox exited ({process.returncode}): {err.strip()}")
        banner.append(line)
        m = re.search(r"(https://[^/\s]+)/api/", line)
        if m and base_url is None:
            base_url = m.group(1)
        if line.startswith("  Trust:"):
            ca = line.split(None, 1)[1].split("  (")[0].strip()
        if line.startswith("  API keys"):
            in_keys = True
        km = _KEY_LINE.match(line)
        if km:
            keys[km.group(1)] = km.group(2)
        if line.strip().startswith("curl "):
            break
    return Sandbox(base_url, ca, keys, process=process, workdir=workdir, banner="\n".join(banner))


def running(base_url: str, ca: Optional[str], partner_key: str = "demo-partner-1",
            admin_key: str = "demo-admin") -> Sandbox:
    """A sandbox already running at `base_url` (not stopped by `stop`)."""
    keys = {partner_key: "partner (given)", admin_key: "admin (given)"}
    return Sandbox(base_url.rstrip("/"), ca, keys)
