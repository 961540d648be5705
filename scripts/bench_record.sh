#!/usr/bin/env bash
# Recording benchmark: records per second that `record` reads from a local
# upstream sandbox serving FIXTURES, and the recorder's peak memory.
# Loopback only; bounded in time (the recording is killed after 30 minutes).
#
# usage: scripts/bench_record.sh FIXTURES KEY
# e.g. a single partner that sees 100,000 devices (5.8 M records):
#   cargo run --release -- generate --partners 1 --companies 10000 --devices-per-company 10 \
#     --jobs-per-device 3 --logs-per-job 5 --seed 3 --out /tmp/cf-record-up
#   scripts/bench_record.sh /tmp/cf-record-up gen-partner-1
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${1:?usage: scripts/bench_record.sh FIXTURES KEY}
key=${2:?usage: scripts/bench_record.sh FIXTURES KEY}

cargo build --release --quiet
bin=target/release/cleverfox-sandbox
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" --bind 127.0.0.1:0 --fixtures "$fixtures" --certs "$work/certs" --no-watch >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 1 3000); do grep -q 'curl ' "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*https://localhost:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
echo "upstream: $fixtures on port $port"
start=$(date +%s.%N)
CLEVERFOX_API_KEY=$key /usr/bin/time -v timeout 1800 "$bin" record --upstream "https://localhost:$port/api" \
  --ca "$work/certs/ca.pem" --out "$work/recording" >"$work/rec.out" 2>"$work/rec.err"
end=$(date +%s.%N)
records=$(sed -n 's/^recorded \([0-9]*\) records.*/\1/p' "$work/rec.out")
secs=$(echo "$end - $start" | bc)
echo "recorded $records records in $(printf '%.1f' "$secs") s: $(echo "$records / $secs" | bc) records/s"
echo "recorder peak memory: $(awk '/Maximum resident/ {print int($6 / 1024)}' "$work/rec.err") MiB"
echo "recording on disk: $(du -sh "$work/recording" | cut -f1)"
