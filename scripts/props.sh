#!/usr/bin/env bash
# The property tests of the parsers of untrusted input (tests/props/), run in
# release for a correctness run far longer than `cargo test` makes:
#   * 1,000,000 cases for each cheap property (the JSON scanner and its
#     line/column index, timestamps, sizes and durations, PageNo/PageSize,
#     routes and ids, the Authorization header, fault rules);
#   * 20,000 cases for each property that loads a whole fixture set per case
#     (records of all fourteen collections and their snapshot, problems with
#     line and column, sandbox.json), run in a second pass;
#   * every calendar date from 0001-01-01 to 9999-12-31 (3,652,059 dates).
# `cargo test` runs the same properties with proptest's default 256 cases
# (25 for the fixture-loading ones) and a sample of the years.
#
# usage: scripts/props.sh [CASES [HEAVY_CASES]]
#   CASES        cases per cheap property (default 1000000)
#   HEAVY_CASES  cases per fixture-loading property (default 20000)
# A failure prints the minimal failing input and is saved (with its seed)
# under tests/proptest-regressions/, which later runs replay first.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
heavy_cases="${2:-20000}"
heavy=(fixtures::fixtures_load fixtures::problems_name fixtures::any_bundle fixtures::sandbox_json)
skips=()
for t in "${heavy[@]}"; do skips+=(--skip "$t"); done
start=$(date +%s)
nice -n 10 cargo test --release --locked --test props --no-run --quiet
PROPTEST_CASES="$cases" PROPS_EVERY_DATE=1 \
  nice -n 10 cargo test --release --locked --test props -- "${skips[@]}"
mid=$(date +%s)
PROPTEST_CASES="$heavy_cases" PROPS_HEAVY_DIVISOR=1 \
  nice -n 10 cargo test --release --locked --test props -- "${heavy[@]}"
end=$(date +%s)
echo "props: $cases cases per cheap property in $((mid - start)) s," \
  "$heavy_cases per fixture-loading property in $((end - mid)) s"
