#!/usr/bin/env bash
# The console's browser test: Debian's Chromium driven by Playwright for
# Python, with axe-core injected for the accessibility check. Installs
# Playwright (pip, into a virtual environment) and axe-core (npm) into a
# cache directory the first time; Playwright's own browser download is never
# used. Screenshots go to $CONSOLE_OUT (default target/console).
#
#   tests/console/run.sh            # build the sandbox first: cargo build
#   UPDATE_SCREENSHOT=1 tests/console/run.sh   # also copy the 1280x800 one to docs/console.png
set -euo pipefail
cd "$(dirname "$0")/../.."

cache="${CONSOLE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/cleverfox-sandbox-console}"
mkdir -p "$cache"
if [ ! -x "$cache/venv/bin/python" ] || ! "$cache/venv/bin/python" -c 'import playwright' 2>/dev/null; then
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "playwright>=1.40,<2"
fi
if [ ! -f "$cache/node_modules/axe-core/axe.min.js" ]; then
  (cd "$cache" && npm install --silent --no-audit --no-fund "axe-core@4" >/dev/null)
fi
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "no Chromium at $chromium (apt-get install -y chromium)" >&2; exit 1; }
[ -x target/debug/cleverfox-sandbox ] || cargo build --locked

export CONSOLE_OUT="${CONSOLE_OUT:-$PWD/target/console}"
export AXE_JS="$cache/node_modules/axe-core/axe.min.js"
export CHROMIUM="$chromium"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$cache/venv/bin/python" tests/console/console_test.py
if [ "${UPDATE_SCREENSHOT:-}" = 1 ]; then
  cp "$CONSOLE_OUT/console-1280x800.png" docs/console.png
  echo "docs/console.png updated"
fi
