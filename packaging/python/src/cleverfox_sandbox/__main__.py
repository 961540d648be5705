"""`python -m cleverfox_sandbox ARGS`: runs the installed binary with ARGS."""

import os
import subprocess
import sys

from .server import find_binary


def main() -> int:
    binary = find_binary()
    args = [binary, *sys.argv[1:]]
    if sys.platform == "win32":
        return subprocess.run(args).returncode
    os.execv(binary, args)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
