#!/usr/bin/env bash
# The CleverFox API from curl: list, read, create and delete a company.
# The write carries a Token (a GUID), so a retry after a lost answer cannot write twice.
# usage: examples/curl.sh [BASE_URL] [CA_FILE] [API_KEY]
set -euo pipefail
base=${1:-https://localhost:8443}
ca=${2:-certs/ca.pem}
key=${3:-demo-partner-1}
api() { curl --silent --show-error --fail-with-body --cacert "$ca" -u "$key:" "$@"; }

echo "companies of partner 1:"
api "$base/api/companies?PageSize=5" | python3 -c 'import json,sys; [print(" ", c["CompanyId"], c["Name"]) for c in json.load(sys.stdin)["data"]]'

token=$(python3 -c 'import uuid; print(uuid.uuid4())')
created=$(api -H 'Content-Type: application/json' \
  -d '{"PlanTypeId": 1, "Name": "Example Company (curl)", "Token": "'"$token"'"}' "$base/api/companies")
id=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["CompanyId"])')
echo "created company $id"
api "$base/api/companies/$id" >/dev/null
api -X DELETE "$base/api/companies/$id" >/dev/null
echo "deleted company $id"
