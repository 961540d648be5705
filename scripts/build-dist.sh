#!/usr/bin/env bash
# Builds what is distributed, into dist/:
#   cleverfox-sandbox-VERSION-linux-x86_64   the self-contained binary (profile dist:
#                                            release, rustls with ring, no OpenSSL, the
#                                            default fixtures built in)
#   cleverfox_sandbox-VERSION-py3-none-manylinux_2_NN_x86_64.whl
#                                            the Python package (maturin, bin bindings)
#   cleverfox-sandbox-VERSION.tgz            the npm package (npm pack)
# and prints their sizes and the binary's start-up time (from an empty directory
# to the first answered request).
#
# Needs cargo, python3 (maturin and auditwheel are installed from PyPI into
# target/dist-tools), npm and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
mkdir -p dist

tools=target/dist-tools
if [ ! -x "$tools/bin/maturin" ] || [ ! -x "$tools/bin/auditwheel" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.5,<2" "auditwheel>=6"
fi

echo "== the binary (cargo, profile dist)"
cargo build --profile dist --locked --bin cleverfox-sandbox
bin=target/dist/cleverfox-sandbox
# It links only the C library's own shared libraries (and libgcc_s, the unwinder
# every glibc system has): no OpenSSL, nothing else to install.
libs=$(ldd "$bin" | awk '{print $1}' | sed 's|.*/||' | sort)
echo "$libs" | sed 's/^/  links /'
unexpected=$(echo "$libs" | grep -Ev '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2)$' || true)
if [ -n "$unexpected" ]; then
  echo "error: the binary links other libraries: $unexpected" >&2
  exit 1
fi
cp "$bin" "dist/cleverfox-sandbox-$version-linux-x86_64"

echo "== the wheel (maturin)"
rm -f dist/cleverfox_sandbox-*.whl
(cd packaging/python && "$root/$tools/bin/maturin" build --quiet --out "$root/dist")
wheel=$(ls dist/cleverfox_sandbox-*.whl)
# the glibc it really needs, as auditwheel reads the binary's symbol versions
"$tools/bin/auditwheel" show "$wheel" | tr -s ' \n' ' ' | sed 's/$/\n/' | grep -o 'consistent with the following platform tag: "[^"]*"'

echo "== the npm package (npm pack)"
stage=target/npm-stage
rm -rf "$stage" dist/cleverfox-sandbox-*.tgz
mkdir -p "$stage/bin"
cp packaging/npm/package.json packaging/npm/index.js packaging/npm/index.d.ts packaging/npm/README.md "$stage/"
cp "$bin" "$stage/bin/cleverfox-sandbox"
chmod 755 "$stage/bin/cleverfox-sandbox"
(cd "$stage" && npm pack --silent --pack-destination "$root/dist" >/dev/null)
tarball=$(ls dist/cleverfox-sandbox-*.tgz)

echo "== start-up: an empty directory to the first answered request"
empty=$(mktemp -d)
started=$(date +%s%N)
(cd "$empty" && exec "$root/$bin" --bind 127.0.0.1:0 >out 2>err) &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$empty"' EXIT
answered=""
for _ in $(seq 1 3000); do
  port=$(sed -n 's|.*https://localhost:\([0-9]*\)/api/.*|\1|p' "$empty/out" 2>/dev/null | head -1)
  if [ -n "$port" ] && curl --silent --fail --cacert "$empty/certs/ca.pem" -u demo-partner-1: \
      -o /dev/null "https://localhost:$port/api/companies"; then
    answered=$(date +%s%N)
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat "$empty/err" >&2; exit 1; }
  sleep 0.01
done
[ -n "$answered" ] || { echo "error: no answer within 30 s" >&2; exit 1; }
grep -q 'Fixtures:  embedded defaults' "$empty/out"

size() { echo "$(stat -c %s "$1") bytes ($(numfmt --to=iec-i --suffix=B "$(stat -c %s "$1")"))"; }
echo
echo "binary:   $bin, $(size "$bin")"
echo "wheel:    $wheel, $(size "$wheel")"
echo "tarball:  $tarball, $(size "$tarball")"
echo "start-up: $(( (answered - started) / 1000000 )) ms from an empty directory to the first answered request (certificates generated on the way)"
