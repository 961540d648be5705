#!/usr/bin/env bash
# Benchmark: requests per second and p99 latency at 32 keep-alive connections
# (wrk) of
#   GET /api/devices/{id}, GET /api/devices?PageNo=3,
#   POST /api/jobs, PUT /api/devices/{id}, and GET /api/devices/{id} again,
# plus the sandbox's resident memory after loading the fixtures and after the
# runs. Loopback only; every run is bounded in time.
#
# usage: scripts/bench.sh [FIXTURES] [KEY] [DEVICE_ID]
#   FIXTURES   fixtures directory (default: fixtures/)
#   KEY        partner API key (default: demo-partner-1, or bench-partner-1 when
#              FIXTURES has no demo keys)
#   DEVICE_ID  a device of that partner (default: 1)
# env: DURATION (default 10s), CONNECTIONS (default 32), THREADS (default 2)
#
# A large data set (100,000 devices across 100 partners, about 4.4 M records,
# 2.6 GB of JSON), written by the sandbox's own generator; its keys are
# gen-partner-1 … (device 1 belongs to partner 1):
#   cargo run --release -- generate --partners 100 --companies 100 \
#     --devices-per-company 10 --logs-per-job 3 --out /tmp/cf-100k
#   scripts/bench.sh /tmp/cf-100k gen-partner-1
set -euo pipefail
cd "$(dirname "$0")/.."

fixtures=${1:-fixtures}
key=${2:-}
device=${3:-1}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
if [ -z "$key" ]; then
  if grep -q '"demo-partner-1"' "$fixtures/apikeys.json"; then key=demo-partner-1; else key=bench-partner-1; fi
fi
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
bin=target/release/cleverfox-sandbox
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

start=$(date +%s.%N)
"$bin" --bind 127.0.0.1:0 --fixtures "$fixtures" --certs "$work/certs" --no-watch \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 3000); do  # up to 300 s for a large set
  grep -q 'curl ' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.1
done
grep -q 'curl ' "$work/out" || { echo "the sandbox did not start in time" >&2; exit 1; }
ready=$(date +%s.%N)
port=$(sed -n 's|.*https://localhost:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
auth="Authorization: Basic $(printf '%s:' "$key" | base64 -w0)"
base="https://127.0.0.1:$port"

echo "fixtures: $fixtures ($(sed -n 's/.*(\([0-9]* files, [0-9]* records\)).*/\1/p' "$work/out"))"
printf 'start-up (load + TLS + bind): %.2f s\n' "$(echo "$ready - $start" | bc)"
echo "resident memory after load: $((rss_kib / 1024)) MiB (peak during load: $((hwm_kib / 1024)) MiB)"

run() {
  local label=$1 method=$2 path=$3 body=${4:-}
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/certs/ca.pem" -H "$auth" \
    -X "$method" -H 'Content-Type: application/json' ${body:+--data "$body"} "https://localhost:$port$path")
  case "$status" in 200|201) ;; *) echo "$method $path answered $status" >&2; exit 1 ;; esac
  local script=()
  if [ -n "$body" ]; then
    cat >"$work/req.lua" <<LUA
wrk.method = "$method"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
LUA
    script=(-s "$work/req.lua")
  fi
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "${script[@]}" -H "$auth" "$base$path" >"$work/wrk" 2>&1
  local rps p99 p50 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk")
  printf '%-32s %10s req/s   p50 %8s   p99 %8s   errors %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
}
job='{"DeviceId": '"$device"', "Name": "Bench job", "Frequency": "Daily", "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1, "CloudKeepLast": 30, "LocalKeepLast": 7}'
echo "wrk: $connections connections, $threads threads, $duration per endpoint"
run "GET /api/devices/$device" GET "/api/devices/$device"
run "GET /api/devices?PageNo=3" GET "/api/devices?PageNo=3"
run "POST /api/jobs" POST "/api/jobs" "$job"
run "PUT /api/devices/$device" PUT "/api/devices/$device" '{"Name": "BENCH-DEVICE-01"}'
run "GET /api/devices/$device (after)" GET "/api/devices/$device"
echo "resident memory after the runs: $(( $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
