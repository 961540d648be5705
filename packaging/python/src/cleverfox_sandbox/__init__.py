"""The CleverFox Backup API sandbox: the binary this package installs, and
helpers to run it (see :mod:`cleverfox_sandbox.server`)."""

from .server import Sandbox, find_binary, start

__all__ = ["Sandbox", "find_binary", "start"]
