#!/usr/bin/env bash
# The property tests of the parsers of untrusted input (tests/props/), run in
# release for a correctness run far longer than `cargo test` makes:
#   * 1,000,000 cases for each cheap property (the JSON scanner and its
#     line/column index, timestamps, sizes and durations, PageNo/PageSize,
#     routes and ids, the Authorization header, fault rules);
#   * a five-hundredth of that, 2,000 cases, for each property that loads a whole
#     fixture set per case (records of all fourteen collections, snapshots,
#     problems with line and column, sandbox.json), see `heavy()` in
#     tests/props/main.rs;
#   * every calendar date from 0001-01-01 to 9999-12-31 (3,652,059 dates).
# `cargo test` runs the same properties with proptest's default 256 cases
# (25 for the fixture-loading ones) and a sample of the years.
#
# usage: scripts/props.sh [CASES] [TEST FILTER...]
#   CASES  cases per cheap property (default 1000000); the fixture-loading
#          properties run CASES/500
# A failure prints the minimal failing input and is saved (with its seed)
# under tests/proptest-regressions/, which later runs replay first.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
shift || true
export PROPTEST_CASES="$cases" PROPS_HEAVY_DIVISOR=500 PROPS_EVERY_DATE=1
start=$(date +%s)
nice -n 10 cargo test --release --locked --test props -- "$@"
echo "props: $cases cases per property ($((cases / 500)) per fixture-loading one) in $(($(date +%s) - start)) s"
