"""schemathesis check for the sandbox's stored-data rules.

The OpenAPI document states every rule a body can be checked by alone; the
rules that depend on stored data (references to records that do not exist in
the partner's scope, uniqueness, the device limit, the conditional rules of a
merged record on update, the job item rules by backup type) it states in words,
as API.md section 7 says. positive_data_acceptance is told to let 422 through
(.ci/schemathesis.toml), and this check then fails a schema-valid request
refused with 422 unless every sentence of the refusal is one of those rules.
"""

import re

import schemathesis

# Sentences of refusals that depend on stored data, whatever the method.
STORED = (
    " does not exist.",
    " is inactive.",
    " belongs to another ",
    " is already used by ",
    " has reached its device limit",
    " is required for a job item of EngineType ",
    " is required when AuthenticationMode is S",
)
# On PUT the body is merged into the stored record.
MERGED = (" is required while ",)


LENGTH = re.compile(r"^(\w+) is (\d+) characters long; at most (\d+) are allowed\.$")


def utf16_length(error, body):
    """A length refusal the schema states in words: lengths count UTF-16 code
    units (a character outside the Basic Multilingual Plane counts two),
    which maxLength, counting characters, cannot say."""
    m = LENGTH.match(error)
    if not m or not isinstance(body, dict):
        return False
    attrs = body["data"] if len(body) == 1 and isinstance(body.get("data"), dict) else body
    value = attrs.get(m.group(1))
    if not isinstance(value, str):
        return False
    units = len(value.encode("utf-16-le", "surrogatepass")) // 2
    limit = int(m.group(3))
    return units > limit >= len(value)


@schemathesis.check
def stored_data_rules_only(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        errors = response.json().get("errors", [])
    except Exception:  # noqa: BLE001 - a 422 that is not JSON fails below
        errors = ["(not a JSON error body)"]
    allowed = STORED + (MERGED if case.method.upper() == "PUT" else ())
    others = [
        e for e in errors if not any(p in e for p in allowed) and not utf16_length(e, case.body)
    ]
    if others:
        raise AssertionError(
            "A schema-valid request was refused for a rule the schema should state: "
            + " | ".join(others)
        )
    return None


@schemathesis.hook("filter_body")
def keep_the_partner_active(ctx, body):
    """The key under test must stay usable: a partner that sets its own
    IsInactive answers 403 to everything after (API.md section 1), which
    would leave nothing else tested."""
    op = ctx.operation
    if op is not None and op.method.upper() == "PUT" and op.path == "/api/partners/{Id}":
        for b in (body, body.get("data") if isinstance(body, dict) else None):
            if isinstance(b, dict) and b.get("IsInactive") is True:
                return False
    return True
