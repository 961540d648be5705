//! The OpenAPI 3.1 description of the sandbox's control API
//! (`/_sandbox/openapi.json`), generated from the endpoint table
//! `domain::control::CONTROL_ENDPOINTS`: every endpoint and method there is
//! described, with the request and response schemas of [`exchange`], keyed
//! by the endpoint. An endpoint [`exchange`] does not know yet is described
//! with a generic JSON object, so a new endpoint needs one table entry and,
//! for exact schemas, one arm there.

use serde_json::{Map, Value, json};

use crate::domain::control::{CONTROL_ENDPOINTS, Control, ControlEndpoint};

/// What one method of one endpoint takes and answers.
struct Exchange {
    /// The success status.
    status: &'static str,
    /// The request body's schema, for methods that take one.
    request: Option<Value>,
    /// The success body's schema.
    response: Value,
    /// Other media types of the success body, besides JSON.
    alternatives: &'static [(&'static str, &'static str)],
}

fn object() -> Value {
    json!({ "type": "object" })
}

fn list_of(item: Value) -> Value {
    json!({ "type": "object", "properties": { "data": { "type": "array", "items": item } }, "required": ["data"] })
}

const TIMESTAMP: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$";

fn timestamp() -> Value {
    json!({ "type": "string", "pattern": TIMESTAMP })
}

fn clock() -> Value {
    json!({ "type": "object", "properties": {
        "now": timestamp(), "offset_seconds": { "type": "integer" }, "runs": { "type": "integer" },
    }, "required": ["now", "offset_seconds"] })
}

fn session() -> Value {
    json!({ "type": "object", "properties": {
        "name": { "type": "string" }, "created_at": timestamp(), "last_used_at": timestamp(),
        "expires_at": { "type": ["string", "null"] }, "from": { "type": "string" },
        "changes": { "type": "integer" },
    }, "required": ["name"] })
}

/// One entry of the request journal (API.md section 8).
fn journal_entry() -> Value {
    let text =
        json!({ "type": ["string", "null"], "description": "As sent or answered, cut at 16 KiB" });
    json!({ "type": "object", "properties": {
        "id": { "type": "integer", "minimum": 1, "description": "The answer's X-Request-Id" },
        "time": timestamp(), "method": { "type": "string" }, "path": { "type": "string" },
        "query": { "type": ["string", "null"] },
        "partner_id": { "type": ["integer", "null"], "description": "null when the key was unknown" },
        "status": { "type": "integer", "description": "0 when a fault rule closed the connection" },
        "duration_ms": { "type": "number", "minimum": 0 },
        "request_body": text, "response_body": text,
    }, "required": ["id", "time", "method", "path", "query", "partner_id", "status", "duration_ms",
                    "request_body", "response_body"] })
}

/// One e-mail of the outbox (API.md section 8).
fn mail() -> Value {
    json!({ "type": "object", "properties": {
        "id": { "type": "integer", "minimum": 1 }, "time": timestamp(), "to": { "type": "string" },
        "cc": { "type": ["string", "null"] }, "bcc": { "type": ["string", "null"] },
        "subject": { "type": "string" }, "body": { "type": "string" },
    }, "required": ["id", "time", "to", "cc", "bcc", "subject", "body"] })
}

fn checkpoint() -> Value {
    json!({ "type": "object", "properties": {
        "name": { "type": "string" }, "created_at": timestamp(),
        "clock_offset_seconds": { "type": "integer" },
    }, "required": ["name", "created_at", "clock_offset_seconds"], "additionalProperties": false })
}

const OUTCOMES: [&str; 3] = ["Completed", "Failed", "Missed"];

/// The schedule (API.md section 11), as GET answers it and PUT takes it.
fn schedule(answer: bool) -> Value {
    let weights: Map<String, Value> = OUTCOMES
        .iter()
        .map(|o| (o.to_string(), json!({ "type": "integer", "minimum": 0 })))
        .collect();
    let mut s = json!({ "type": "object", "properties": {
        "enabled": { "type": "boolean" }, "seed": { "type": "integer", "minimum": 0 },
        "outcomes": { "type": "object", "properties": weights, "additionalProperties": false,
            "description": "Relative weights; an outcome left out weighs 0" },
        "rules": { "type": "array", "items": { "type": "object", "properties": {
            "device": { "type": "integer", "minimum": 1 }, "job": { "type": "integer", "minimum": 1 },
            "company": { "type": "integer", "minimum": 1 }, "JobStatus": { "enum": OUTCOMES },
            "ErrorMessages": { "type": "string" }, "times": { "type": "integer", "minimum": 1 },
        }, "required": ["JobStatus"], "additionalProperties": false } },
    }, "additionalProperties": false });
    if answer {
        s["required"] = json!(["enabled", "seed", "outcomes", "rules"]);
    }
    s
}

/// Compatibility chaos (API.md section 12), as GET answers it and PUT takes it.
fn compat(answer: bool) -> Value {
    let mut s = json!({ "type": "object", "properties": {
        "shuffle_attributes": { "type": "boolean" }, "extra_attributes": { "type": "boolean" },
        "null_booleans": { "type": "boolean" }, "seed": { "type": "integer", "minimum": 0 },
    }, "additionalProperties": false });
    if answer {
        s["required"] = json!([
            "shuffle_attributes",
            "extra_attributes",
            "null_booleans",
            "seed"
        ]);
    }
    s
}

/// The conformance report's JSON (API.md section 13).
fn report() -> Value {
    let operation = json!({ "enum": ["list", "read", "create", "update", "delete"] });
    json!({ "type": "object", "properties": {
        "operations": { "type": "array", "items": { "type": "object", "properties": {
            "collection": { "type": "string" }, "operation": operation,
            "requests": { "type": "integer", "minimum": 1 },
            "statuses": { "type": "object", "additionalProperties": { "type": "integer", "minimum": 1 } },
        }, "required": ["collection", "operation", "requests", "statuses"] } },
        "findings": { "type": "array", "items": { "type": "object", "properties": {
            "code": { "enum": [
                "ignored_query_parameter", "ignored_attribute", "not_json_content_type",
                "page_size_over_limit", "write_without_token", "empty_token",
                "duplicate_write_new_token", "retry_before_retry_after", "refused",
            ] },
            "count": { "type": "integer", "minimum": 1 },
            "example_request_id": { "type": "integer", "minimum": 1 },
            "message": { "type": "string" },
            "status": { "enum": [400, 401, 403, 404, 405, 409, 413, 422],
                "description": "The status of a refused finding" },
        }, "required": ["code", "count", "example_request_id", "message"] } },
        "never_called": { "type": "array", "items": { "type": "object", "properties": {
            "collection": { "type": "string" }, "operation": operation,
        }, "required": ["collection", "operation"] } },
    }, "required": ["operations", "findings", "never_called"] })
}

/// The report's other formats: `?format=markdown` and `?format=junit`.
const REPORT_FORMATS: &[(&str, &str)] = &[
    (
        "text/markdown",
        "?format=markdown: tables of operations and findings",
    ),
    (
        "application/xml",
        "?format=junit: JUnit XML, one test case per operation called and per finding (failing)",
    ),
];

/// The request and response of `method` on `endpoint`: the one place that
/// knows them. Unknown endpoints take and answer a JSON object.
fn exchange(endpoint: Control, method: &str) -> Exchange {
    let ok = |response: Value| Exchange {
        status: "200",
        request: None,
        response,
        alternatives: &[],
    };
    let takes = |status: &'static str, request: Value, response: Value| Exchange {
        status,
        request: Some(request),
        response,
        alternatives: &[],
    };
    match (endpoint, method) {
        (Control::Health, _) => ok(json!({ "type": "object", "properties": {
            "status": { "enum": ["ok", "degraded"] }, "version": { "type": "string" },
            "fixtures": { "type": "string" }, "loaded_at": timestamp(),
            "counts": { "type": "object", "additionalProperties": { "type": "integer" } },
            "watching": { "type": "boolean" }, "sessions": { "type": "integer" },
            "error": { "type": ["object", "null"] },
        }, "required": ["status", "version", "counts", "watching"] })),
        (Control::Clock, "GET") => ok(clock()),
        (Control::Clock, _) => takes(
            "200",
            json!({ "type": "object", "properties": {
                "advance": { "type": "number" },
                "set": { "type": "string", "description": "YYYY-MM-DDTHH:MM:SS.mmm (UTC), or \"now\"" },
            } }),
            clock(),
        ),
        (Control::Snapshot, "PUT") => takes("200", object(), object()),
        (Control::Requests, _) => ok(list_of(journal_entry())),
        (Control::Outbox, _) => ok(list_of(mail())),
        (Control::Faults, "GET") => ok(list_of(object())),
        (Control::Faults, "POST") => takes(
            "201",
            json!({ "type": "object", "description": "One fault rule: match fields and exactly one action (see docs/control-api.md)" }),
            object(),
        ),
        (Control::JobRun, _) => takes(
            "201",
            json!({ "type": "object", "properties": {
                "JobStatus": { "enum": ["Completed", "Failed", "Missed"] },
                "ErrorMessages": { "type": ["string", "null"] },
            } }),
            json!({ "type": "object", "properties": { "data": object() }, "required": ["data"] }),
        ),
        (Control::Sessions, "GET") => ok(list_of(session())),
        (Control::Sessions, _) => takes(
            "201",
            json!({ "type": "object", "properties": {
                "name": { "type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$" },
                "from": { "type": "string" }, "ttl_s": { "type": "integer", "minimum": 1 },
            }, "required": ["name"] }),
            session(),
        ),
        (Control::Session, _) => ok(list_of(session())),
        (Control::Checkpoints, "GET") | (Control::Checkpoint, _) => ok(list_of(checkpoint())),
        (Control::Checkpoints, _) => takes(
            "201",
            json!({ "type": "object", "properties": {
                "name": { "type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$" },
            }, "required": ["name"] }),
            checkpoint(),
        ),
        (Control::CheckpointRestore, _) => ok(checkpoint()),
        (Control::Reset, _) => ok(object()),
        (Control::Schedule, "GET") => ok(schedule(true)),
        (Control::Schedule, _) => takes("200", schedule(false), schedule(true)),
        (Control::Compat, "GET") => ok(compat(true)),
        (Control::Compat, _) => takes("200", compat(false), compat(true)),
        (Control::Report, "GET") => Exchange {
            alternatives: REPORT_FORMATS,
            ..ok(report())
        },
        (Control::Report, _) => ok(report()),
        (_, "POST" | "PUT") => takes("200", object(), object()),
        _ => ok(object()),
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "headers": { "X-Sandbox-Fixture-Error": { "$ref": "#/components/headers/X-Sandbox-Fixture-Error" } },
        "content": { "application/json": { "schema": schema } },
    })
}

/// A name for `path` in operation ids: `/_sandbox/jobs/{JobId}/run` ->
/// `jobs_jobid_run`.
fn slug(path: &str) -> String {
    path.trim_start_matches("/_sandbox/")
        .split('/')
        .map(|p| p.trim_matches(['{', '}']).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

fn operation(endpoint: &ControlEndpoint, method: &str, summary: &str) -> Value {
    let ex = exchange(endpoint.endpoint, method);
    let mut responses = Map::new();
    let mut success = answer(summary, ex.response);
    if endpoint.endpoint == Control::Console {
        success["content"] = json!({ "text/html": { "schema": { "type": "string" } } });
    }
    for (media, what) in ex.alternatives {
        success["content"][*media] = json!({ "schema": { "type": "string", "description": what } });
    }
    responses.insert(ex.status.into(), success);
    responses.insert(
        "400".into(),
        answer(
            "The body is not valid JSON, or not one object",
            reference("Errors"),
        ),
    );
    responses.insert("401".into(), {
        let mut r = answer("Missing or unknown key", reference("Errors"));
        r["headers"]["WWW-Authenticate"] =
            json!({ "required": true, "schema": { "type": "string" } });
        r
    });
    responses.insert(
        "403".into(),
        answer("Not an admin key", reference("Errors")),
    );
    responses.insert(
        "404".into(),
        answer(
            "No such record, rule, session or checkpoint",
            reference("Errors"),
        ),
    );
    responses.insert("405".into(), {
        let mut r = answer(
            "The method is not offered on this path",
            reference("Errors"),
        );
        r["headers"]["Allow"] = json!({ "required": true, "schema": { "type": "string" } });
        r
    });
    responses.insert(
        "409".into(),
        answer(
            "The name exists already, or the change is not allowed",
            reference("Errors"),
        ),
    );
    responses.insert(
        "422".into(),
        answer("The settings or body are refused", reference("Errors")),
    );
    responses.insert("429".into(), {
        let mut r = answer("Too many sessions", reference("Errors"));
        r["headers"]["Retry-After"] = json!({ "required": true, "schema": { "type": "string" } });
        r
    });
    let mut o = json!({
        "tags": ["sandbox"],
        "summary": summary,
        "description": format!("{summary}. Admin keys only; every session has its own, under /s/{{name}}{}.", endpoint.path),
        "operationId": format!("{}_{}", method.to_ascii_lowercase(), slug(endpoint.path)),
        "responses": responses,
    });
    if (endpoint.endpoint, method) == (Control::Report, "GET") {
        o["parameters"] = json!([{ "name": "format", "in": "query", "required": false,
            "description": "json (the default), markdown or junit",
            "schema": { "enum": ["json", "markdown", "junit"], "default": "json" } }]);
    }
    if let Some(request) = ex.request {
        o["requestBody"] =
            json!({ "required": false, "content": { "application/json": { "schema": request } } });
    }
    o
}

/// The path parameters of `path`.
fn parameters(path: &str) -> Option<Value> {
    let param = |name: &str, schema: Value, what: &str| json!([{ "name": name, "in": "path", "required": true, "description": what, "schema": schema }]);
    if path.contains("{JobId}") {
        Some(param(
            "JobId",
            json!({ "type": "integer", "minimum": 1 }),
            "The job's JobId",
        ))
    } else if path.contains("{id}") {
        Some(param(
            "id",
            json!({ "type": "integer", "minimum": 0 }),
            "The fault rule's id",
        ))
    } else if path.contains("{name}") {
        Some(param(
            "name",
            json!({ "type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$" }),
            "A session or checkpoint name",
        ))
    } else {
        None
    }
}

/// The control API's document, naming `server` as its server.
pub fn control_document(server: &str) -> Value {
    let mut paths = Map::new();
    for endpoint in CONTROL_ENDPOINTS {
        let mut item = Map::new();
        for (method, summary) in endpoint.methods.iter().zip(endpoint.summaries) {
            item.insert(
                method.to_ascii_lowercase(),
                operation(endpoint, method, summary),
            );
        }
        if let Some(p) = parameters(endpoint.path) {
            item.insert("parameters".into(), p);
        }
        paths.insert(endpoint.path.to_string(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cleverfox-sandbox control API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The sandbox's own control API under /_sandbox/ (not part of the CleverFox API): \
                clock, reset, snapshots, the request journal, the outbox, fault rules, sessions and checkpoints. \
                HTTP Basic with an admin key of apikeys.json as the username. The partner API is described in /openapi.json.",
            "license": { "name": "Proprietary", "identifier": "LicenseRef-CleverFox-Sandbox" },
        },
        "servers": [{ "url": server, "description": "This sandbox" }],
        "security": [{ "basicAuth": [] }],
        "tags": [{ "name": "sandbox", "description": "The sandbox control API (admin keys only)" }],
        "paths": paths,
        "components": {
            "securitySchemes": { "basicAuth": {
                "type": "http", "scheme": "basic",
                "description": "An admin key is the username; the password is ignored.",
            } },
            "headers": { "X-Sandbox-Fixture-Error": {
                "description": "Present while the last fixture reload failed: a short summary.",
                "schema": { "type": "string" },
            } },
            "schemas": { "Errors": {
                "type": "object",
                "properties": { "errors": { "type": "array", "items": { "type": "string" }, "minItems": 1 } },
                "required": ["errors"],
            } },
        },
    })
}
