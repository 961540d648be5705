#!/usr/bin/env bash
# Journal memory benchmark: sends REQUESTS requests with 16 KiB bodies to
# /api/ (32 connections, wrk) and reports the sandbox's resident memory
# before, during and after: it must stay bounded by the journal's size
# (--journal entries, bodies cut at 16 KiB), not grow with the request count.
# Loopback only; bounded in requests and time.
#
# usage: scripts/bench_journal.sh [REQUESTS] [JOURNAL]   (defaults 100000, 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-100000}
journal=${2:-1000}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/cleverfox-sandbox --bind 127.0.0.1:0 --fixtures fixtures --certs "$work/certs" --no-watch \
  --journal "$journal" >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 1 300); do grep -q 'curl ' "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*https://localhost:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }
echo "journal: $journal entries; requests: $requests with 16 KiB bodies"
echo "resident memory before: $(rss) MiB"

# A 16 KiB Name: refused with 422 (too long), and journaled with both bodies.
name=$(head -c 16384 /dev/zero | tr '\0' 'x')
threads=2
per_thread=$(( (requests + threads - 1) / threads ))
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic $(printf 'demo-partner-1:' | base64 -w0)"
wrk.body = '{"PlanTypeId": 1, "Name": "$name"}'
local answered = 0
function response()
  answered = answered + 1
  if answered >= $per_thread then wrk.thread:stop() end
end
LUA
peak=0
( while kill -0 "$pid" 2>/dev/null; do r=$(rss); echo "$r"; sleep 0.5; done ) >"$work/samples" &
sampler=$!
wrk -t"$threads" -c32 -d300s -s "$work/post.lua" "https://127.0.0.1:$port/api/companies" >"$work/wrk" 2>&1
kill "$sampler" 2>/dev/null || true
peak=$(sort -n "$work/samples" | tail -1)
sent=$(awk '/requests in/ {print $1}' "$work/wrk")
echo "requests answered: $sent (each wrk thread stops after its share; wrk reports its whole -d window)"
entries=$(curl -s --cacert "$work/certs/ca.pem" -u demo-admin: "https://localhost:$port/_sandbox/requests" \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
echo "journal entries kept: $entries"
echo "resident memory: peak while sending $peak MiB, after $(rss) MiB"
