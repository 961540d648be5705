#!/usr/bin/env bash
# A Python client generated from the sandbox's own /openapi.json by
# openapi-python-client, then a create-read-update-delete round trip with it
# (examples/generated_client.py). The generator reads the document as the
# sandbox serves it and must not warn about anything in it.
# usage: examples/generated_client.sh [BASE_URL] [CA_FILE] [API_KEY]
# needs: python3 -m pip install "openapi-python-client==0.29.1"
set -euo pipefail
base=${1:-https://localhost:8443}
ca=${2:-certs/ca.pem}
key=${3:-demo-partner-1}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the generator fetches the document itself; SSL_CERT_FILE makes it trust the sandbox's CA
SSL_CERT_FILE="$ca" python3 -m openapi_python_client generate --url "$base/openapi.json" \
  --output-path "$out/cleverfox_client" --meta none --fail-on-warning
PYTHONPATH="$out" python3 "$here/generated_client.py" "$base" "$ca" "$key"
