#!/usr/bin/env bash
# Instructions per request, counted by callgrind: a figure that other load on
# the machine does not move, so two builds can be compared on a shared machine.
# The sandbox runs under valgrind; one curl sends WARMUP requests on one
# keep-alive HTTPS connection, the counters are zeroed, another curl sends N
# requests, and the counters are dumped. The TLS handshake of the second curl
# is included, spread over N. Loopback only, bounded in requests.
#
# usage: scripts/instructions.sh [-b BIN] [-f FIXTURES] [-n N] METHOD PATH [BODY]
#   BIN       sandbox binary (default: target/release/cleverfox-sandbox; built if missing)
#   FIXTURES  fixtures directory (default: fixtures/)
#   N         requests counted (default 200)
# env: KEY (partner key, default demo-partner-1), WARMUP (default 20),
#      KEEP=DIR to keep the callgrind output there (for callgrind_annotate)
# example:
#   scripts/instructions.sh GET /api/devices/1
#   scripts/instructions.sh POST /api/jobs '{"DeviceId": 1, "Name": "J", "Frequency": "Daily",
#     "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1, "CloudKeepLast": 30,
#     "LocalKeepLast": 7}'
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/cleverfox-sandbox fixtures=fixtures n=200
while getopts b:f:n: opt; do
  case $opt in
    b) bin=$OPTARG ;; f) fixtures=$OPTARG ;; n) n=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
method=$1 path=$2 body=${3:-}
key=${KEY:-demo-partner-1} warmup=${WARMUP:-20}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
[ -x "$bin" ] || cargo build --release --quiet

work=$(mktemp -d)
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" "$bin" --bind 127.0.0.1:0 \
  --fixtures "$fixtures" --certs "$work/certs" --no-watch >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 1200); do
  grep -q 'curl ' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's|.*https://localhost:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
[ -n "$port" ] || { echo "the sandbox did not start in time" >&2; exit 1; }

# $1 requests from one curl, over one connection.
requests() {
  local args=() i
  for ((i = 1; i <= $1; i++)); do
    [ "$i" -gt 1 ] && args+=(--next)
    args+=(-s -o /dev/null --http1.1 --cacert "$work/certs/ca.pem" -u "$key:" -X "$method")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    args+=("https://localhost:$port$path")
  done
  curl "${args[@]}"
}
requests "$warmup"
callgrind_control -z "$pid" >/dev/null 2>&1
requests "$n"
callgrind_control -d "$pid" >/dev/null 2>&1
out=$(ls -t "$work"/callgrind.out.* | head -1)
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
echo "$method $path: $((total / n)) instructions per request ($n requests)"
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$out" "$KEEP/" && echo "kept $KEEP/$(basename "$out")"; fi
