#!/usr/bin/env bash
# Tests what scripts/build-dist.sh builds, as a user installs it: the wheel in a
# fresh virtual environment (the pytest plugin's fixture against the installed
# binary, tests in parallel with pytest-xdist, each in its own session), the npm
# tarball in a fresh folder (npx, and startSandbox() under `node --test`), and the
# binary from an empty directory (the banner names the embedded fixtures and its
# curl line works). Prints the time from `pip install` to the first answered request.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/build-dist.sh
wheel=$(ls "$root"/dist/cleverfox_sandbox-*.whl)
tarball=$(ls "$root"/dist/cleverfox-sandbox-*.tgz)
binary=$(ls "$root"/dist/cleverfox-sandbox-*-linux-x86_64)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts "$@" in directory $1 (the rest: the command) and waits for its banner's
# curl line; sets $port and $ca.
serve_in() {
  local dir=$1
  shift
  (cd "$dir" && exec "$@" --bind 127.0.0.1:0 >out 2>err) &
  pids+=($!)
  local pid=$!
  for _ in $(seq 1 3000); do
    grep -q '^    curl ' "$dir/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; exit 1; }
    sleep 0.01
  done
  port=$(sed -n 's|.*https://localhost:\([0-9]*\)/api/.*|\1|p' "$dir/out" | head -1)
  ca="$dir/certs/ca.pem"
}

# The first code block of language $2 under the README heading $1.
readme_example() {
  python3 - "$root/README.md" "$1" "$2" <<'PY'
import sys
text, heading, lang = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
start = text.index("```" + lang + "\n", text.index("\n" + heading + "\n")) + len(lang) + 4
print(text[start:text.index("```", start)], end="")
PY
}

echo "== pip: the wheel into a fresh virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "pytest>=7" "pytest-xdist>=3" "requests>=2.31"
mkdir "$work/pip-first"
started=$(date +%s%N)
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel"
serve_in "$work/pip-first" "$work/venv/bin/cleverfox-sandbox"
curl --silent --show-error --fail --cacert "$ca" -u demo-partner-1: -o /dev/null \
  "https://localhost:$port/api/companies"
answered=$(date +%s%N)
echo "pip install to the first answered request: $(( (answered - started) / 1000000 )) ms"
kill "${pids[-1]}"

echo "== pytest: the plugin's fixture, two workers (each starts its sandbox)"
mkdir "$work/pytest"
cp packaging/python/tests/test_plugin.py "$work/pytest/"
"$work/venv/bin/cleverfox-sandbox" fixtures --out "$work/pytest/marker-fixtures" >/dev/null
echo '[{"ApiKey": "marker-partner", "PartnerId": 2, "PartnerPlan": true}, {"ApiKey": "marker-admin", "Admin": true}]' \
  >"$work/pytest/marker-fixtures/apikeys.json"
readme_example "### pytest" python >"$work/pytest/test_readme_example.py"
(cd "$work/pytest" && "$work/venv/bin/python" -m pytest -n 2 -p no:cacheprovider test_plugin.py test_readme_example.py)

echo "== pytest: two workers writing in parallel into one shared sandbox, each test in its own session"
mkdir "$work/shared"
serve_in "$work/shared" "$work/venv/bin/cleverfox-sandbox"
(cd "$work/pytest" && CLEVERFOX_SANDBOX_URL="https://localhost:$port" CLEVERFOX_SANDBOX_CA="$ca" \
  "$work/venv/bin/python" -m pytest -n 2 -p no:cacheprovider -k "not marker" test_plugin.py)
# the shared sandbox holds one session per test, and its default session neither write
curl --silent --fail --cacert "$ca" -u demo-admin: "https://localhost:$port/_sandbox/sessions" >"$work/sessions.json"
curl --silent --fail --cacert "$ca" -u demo-partner-1: "https://localhost:$port/api/companies?page_size=100" >"$work/default.json"
"$work/venv/bin/python" - "$work/sessions.json" "$work/default.json" <<'PY'
import json, sys
names = [s["name"] for s in json.load(open(sys.argv[1]))["data"]]
for who in ("first", "second"):
    assert any(f"into_its_own_session-{who}-" in n for n in names), names
default = [c["Name"] for c in json.load(open(sys.argv[2]))["data"]]
assert not any(n.startswith("Written by the") for n in default), default
print(f"shared sandbox: {len(names)} sessions, the default one unchanged")
PY
kill "${pids[-1]}"

echo "== npm: the tarball into a fresh folder"
mkdir "$work/npm"
(cd "$work/npm" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$tarball")
(cd "$work/npm" && npx --no-install cleverfox-sandbox --version) | grep -q '^cleverfox-sandbox '
# npx straight from the tarball, without installing it first
mkdir "$work/npx"
(cd "$work/npx" && npx --yes --package "$tarball" cleverfox-sandbox --version) | grep -q '^cleverfox-sandbox '
cp packaging/npm/test/sandbox.test.mjs "$work/npm/"
readme_example "### Node" js >"$work/npm/readme.test.mjs"
(cd "$work/npm" && node --test sandbox.test.mjs readme.test.mjs)

echo "== the binary from an empty directory"
mkdir "$work/empty"
serve_in "$work/empty" "$binary"
grep -q '^  Fixtures:  embedded defaults (15 files' "$work/empty/out" || {
  cat "$work/empty/out" >&2
  exit 1
}
line=$(grep -m1 '^    curl ' "$work/empty/out")
(cd "$work/empty" && sh -c "$line --silent --show-error --fail") | grep -q '"CompanyId"'
echo "the banner names the embedded fixtures and its curl line answers"
kill "${pids[-1]}"
echo "packaging: 5 passed, 0 failed"
