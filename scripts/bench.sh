#!/usr/bin/env bash
# Benchmark: requests per second and latency of the sandbox against a bare
# hyper + rustls server answering exactly the same response bytes, in one run,
# so the ratio of the two is what the sandbox's own work costs on this machine
# (noise from other load on a shared machine moves both figures alike).
#
# For each scenario the script saves one real response of the sandbox (status,
# headers, body), loads the sandbox with wrk, then serves the saved response
# from the baseline (benches/baseline.rs) and loads it the same way. With two
# or more CPUs the server under test runs on CPU 0 and wrk on CPU 1 (taskset).
# The sandbox runs as a user starts it: access log on (to a file), journal on.
# Loopback only; every run is bounded in time.
#
# Two ratios per scenario: "ratio" is the sandbox's requests per second over
# the baseline's; "cpu" is the baseline's CPU time per request (user + system,
# from /proc) over the sandbox's. When the load generator, not the server, is
# the limit (one wrk thread may not keep the baseline busy), the first ratio
# flatters the sandbox and the second does not.
#
# usage: scripts/bench.sh [FIXTURES] [KEY] [DEVICE_ID] [COMPANY_ID]
#   FIXTURES    fixtures directory (default: fixtures/)
#   KEY         partner API key (default: demo-partner-1, or gen-partner-1 when
#               FIXTURES has no demo keys, as in a generated set)
#   DEVICE_ID   a device of that partner (default: 1)
#   COMPANY_ID  a company of that partner (default: 1)
# env: DURATION (default 10s), CONNECTIONS (default 32), THREADS (default 1),
#      PAGE_NO (default 1: the page of 20 devices to list), SANDBOX_ARGS (extra
#      arguments for the sandbox), SANDBOX_BIN (a sandbox binary to measure
#      instead of this checkout's release build), ONLY (a regular expression:
#      only the scenarios whose label matches, e.g. ONLY=POST)
#
# A large data set (100,000 devices across 100 partners, about 4.4 M records,
# 2.6 GB of JSON), written by the sandbox's own generator; its keys are
# gen-partner-1 … (device 1 and company 1 belong to partner 1):
#   cargo run --release -- generate --partners 100 --companies 100 \
#     --devices-per-company 10 --logs-per-job 3 --out /tmp/cf-100k
#   PAGE_NO=3 scripts/bench.sh /tmp/cf-100k
set -euo pipefail
cd "$(dirname "$0")/.."

fixtures=${1:-fixtures}
key=${2:-}
device=${3:-1}
company=${4:-1}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-1}
page_no=${PAGE_NO:-1}
if [ -z "$key" ]; then
  if grep -q '"demo-partner-1"' "$fixtures/apikeys.json"; then key=demo-partner-1; else key=gen-partner-1; fi
fi
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
baseline=$(cargo bench --bench baseline --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[ -x "$baseline" ] || { echo "could not build the baseline server" >&2; exit 1; }
bin=${SANDBOX_BIN:-target/release/cleverfox-sandbox}

# Pinning: the server under test on CPU 0, the load generator on CPU 1.
server_cpu=() load_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0) load_cpu=(taskset -c 1)
fi

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

start=$(date +%s.%N)
# shellcheck disable=SC2086
"${server_cpu[@]}" "$bin" --bind 127.0.0.1:0 --fixtures "$fixtures" --certs "$work/certs" \
  ${SANDBOX_ARGS:-} >"$work/out" 2>"$work/access.log" &
pid=$!
pids+=("$pid")
for _ in $(seq 1 3000); do  # up to 300 s for a large set
  grep -q 'curl ' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/access.log" >&2; exit 1; }
  sleep 0.1
done
grep -q 'curl ' "$work/out" || { echo "the sandbox did not start in time" >&2; exit 1; }
ready=$(date +%s.%N)
port=$(sed -n 's|.*https://localhost:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
auth="Authorization: Basic $(printf '%s:' "$key" | base64 -w0)"
ca="$work/certs/ca.pem"

echo "fixtures: $fixtures ($(sed -n 's/.*(\([0-9]* files\{0,1\}, [0-9]* records\)).*/\1/p' "$work/out"))"
printf 'start-up (load + TLS + bind): %.2f s\n' "$(echo "$ready - $start" | bc)"
echo "resident memory after load: $((rss_kib / 1024)) MiB (peak during load: $((hwm_kib / 1024)) MiB)"
echo "wrk: $connections connections, $threads thread(s), $duration per server and scenario${server_cpu:+; server on CPU 0, wrk on CPU 1}"
printf '%-40s %9s %12s %12s %7s %10s %10s %8s %8s %7s\n' scenario body sandbox baseline ratio \
  "p99 sbx" "p99 base" "µs sbx" "µs base" "cpu"

# CPU time (user + system) process $1 has used so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# Loads URL with wrk (method and body from the request script) and prints
# "REQ_PER_S P99 CPU_US": CPU_US is the server's (process $3) CPU time per
# request in microseconds. Non-2xx answers fail the run.
load() {
  local url=$1 script=$2 server=$3
  local before
  before=$(cpu_ticks "$server")
  "${load_cpu[@]}" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$script" \
    -H "$auth" "$url" >"$work/wrk" 2>&1
  if grep -q 'Non-2xx' "$work/wrk"; then
    echo "non-2xx answers from $url:" >&2
    cat "$work/wrk" >&2
    exit 1
  fi
  local ticks requests
  ticks=$(( $(cpu_ticks "$server") - before ))
  requests=$(awk '/requests in/ {print $1}' "$work/wrk")
  if [ "${requests:-0}" -le 0 ]; then
    echo "wrk served no request from $url:" >&2
    cat "$work/wrk" >&2
    exit 1
  fi
  echo "$(awk '/^Requests\/sec/ {print $2}' "$work/wrk") $(awk '$1 == "99%" {print $2}' "$work/wrk")" \
    "$(echo "$ticks * 1000000 / $hz / $requests" | bc -l)"
}

scenario() {
  local label=$1 method=$2 path=$3 body=${4:-}
  [[ -z ${ONLY:-} || $label =~ $ONLY ]] || return 0
  # The request, for wrk.
  {
    echo "wrk.method = \"$method\""
    if [ -n "$body" ]; then
      echo "wrk.body = [[$body]]"
      echo 'wrk.headers["Content-Type"] = "application/json"'
    fi
  } >"$work/req.lua"
  # One real response of the sandbox, saved for the baseline.
  curl -s --http1.1 --include -o "$work/response" --cacert "$ca" -H "$auth" -X "$method" \
    ${body:+-H 'Content-Type: application/json' --data "$body"} "https://localhost:$port$path"
  local status
  status=$(head -1 "$work/response" | awk '{print $2}')
  case "$status" in 200|201) ;; *) echo "$method $path answered $status" >&2; exit 1 ;; esac
  local size
  size=$(( $(wc -c <"$work/response") - $(sed '/^\r$/q' "$work/response" | wc -c) ))

  local sbx base
  sbx=$(load "https://127.0.0.1:$port$path" "$work/req.lua" "$pid")
  "${server_cpu[@]}" "$baseline" --bind 127.0.0.1:0 --cert "$work/certs/server.pem" \
    --key "$work/certs/server.key" --response "$work/response" >"$work/baseline.out" &
  local bpid=$!
  pids+=("$bpid")
  for _ in $(seq 1 100); do grep -q listening "$work/baseline.out" && break; sleep 0.05; done
  local bport
  bport=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/baseline.out")
  base=$(load "https://127.0.0.1:$bport$path" "$work/req.lua" "$bpid")
  kill "$bpid"; wait "$bpid" 2>/dev/null || true

  read -r sbx_rps sbx_p99 sbx_cpu <<<"$sbx"
  read -r base_rps base_p99 base_cpu <<<"$base"
  printf '%-40s %8.1fK %12s %12s %7.2f %10s %10s %8.1f %8.1f %7.2f\n' "$label" \
    "$(echo "$size / 1024" | bc -l)" "$sbx_rps" "$base_rps" "$(echo "$sbx_rps / $base_rps" | bc -l)" \
    "$sbx_p99" "$base_p99" "$sbx_cpu" "$base_cpu" "$(echo "$base_cpu / $sbx_cpu" | bc -l)"
}

job='{"DeviceId": '"$device"', "Name": "Bench job", "Frequency": "Daily", "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1, "CloudKeepLast": 30, "LocalKeepLast": 7}'
scenario "GET /api/devices/$device" GET "/api/devices/$device"
scenario "GET /api/devices?PageNo=$page_no&PageSize=20" GET "/api/devices?PageNo=$page_no&PageSize=20"
scenario "GET /api/companies/$company" GET "/api/companies/$company"
scenario "POST /api/jobs" POST "/api/jobs" "$job"
scenario "PUT /api/devices/$device" PUT "/api/devices/$device" '{"Name": "BENCH-DEVICE-01"}'
echo "resident memory after the runs: $(( $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
echo "access log: $(wc -l <"$work/access.log") lines"
