#!/usr/bin/env python3
"""The CleverFox API through a client generated from /openapi.json.

Creates a company, reads it back, updates one attribute, reads it again,
deletes it, and lists the companies to see it gone (newest first, so it would
lead the first page). Every write carries a new Token, so a retry after a lost
answer could not write twice, and the run leaves the sandbox's conformance
report without a finding.

usage: examples/generated_client.py [BASE_URL] [CA_FILE] [API_KEY]
with the package that examples/generated_client.sh generates (cleverfox_client)
on PYTHONPATH.
"""
import base64
import sys
import uuid

from cleverfox_client import AuthenticatedClient
from cleverfox_client.api.companies import (
    create_companies,
    delete_companies,
    list_companies,
    read_companies,
    update_companies,
)
from cleverfox_client.models import (
    CompanyElement,
    CompanyList,
    CreateCompaniesBodyType0,
    UpdateCompaniesBodyType0,
)

base = sys.argv[1] if len(sys.argv) > 1 else "https://localhost:8443"
ca = sys.argv[2] if len(sys.argv) > 2 else "certs/ca.pem"
key = sys.argv[3] if len(sys.argv) > 3 else "demo-partner-1"

# HTTP Basic: the API key is the username, the password is ignored
basic = base64.b64encode(f"{key}:".encode()).decode()
client = AuthenticatedClient(base_url=base, token=basic, prefix="Basic", verify_ssl=ca, timeout=30)


def element(r, status):
    assert r.status_code == status, (r.status_code, r.content)
    assert isinstance(r.parsed, CompanyElement), r.content
    return r.parsed.data


with client:
    body = CreateCompaniesBodyType0(
        name="Example Company (generated client)", plan_type_id=1, token=str(uuid.uuid4())
    )
    r = create_companies.sync_detailed(client=client, body=body)
    company_id = element(r, 201).company_id
    print("created company", company_id, "at", r.headers["Location"])

    read = element(read_companies.sync_detailed(company_id, client=client), 200)
    assert read.name == "Example Company (generated client)", read.name
    assert read.phone is None

    update = UpdateCompaniesBodyType0(phone="+1 555 0199", token=str(uuid.uuid4()))
    updated = element(update_companies.sync_detailed(company_id, client=client, body=update), 200)
    assert updated.phone == "+1 555 0199", updated.phone
    again = element(read_companies.sync_detailed(company_id, client=client), 200)
    assert again.phone == "+1 555 0199" and again.updated_on is not None
    print("updated company", company_id, "Phone", again.phone)

    deleted = element(delete_companies.sync_detailed(company_id, client=client), 200)
    assert deleted.company_id == company_id
    listed = list_companies.sync_detailed(client=client, page_no=1, page_size=100)
    assert listed.status_code == 200, (listed.status_code, listed.content)
    assert isinstance(listed.parsed, CompanyList), listed.content
    ids = [c.company_id for c in listed.parsed.data]
    assert ids and company_id not in ids and ids[0] < company_id, ids
    print("deleted company", company_id, "(the list no longer holds it)")
