//! The OpenAPI 3.1 description of `/api/` (and, in its own tag, the control
//! API), generated from the resource tables the server runs on, so it cannot
//! drift from them: every collection, operation, attribute (type, length,
//! read-only and write-only flags, enumeration, range, nullability),
//! envelope, paging parameter and status code.

use serde_json::{Map, Value, json};

use crate::domain::control::{CONTROL_ENDPOINTS, Control};
use crate::domain::engine::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::schema::{Attr, Kind, Res, ResourceInfo, flag, op};

/// The schema name of a resource's record: `companies` -> `Company`.
pub fn schema_name(res: Res) -> &'static str {
    match res {
        Res::Partners => "Partner",
        Res::PartnerUsers => "PartnerUser",
        Res::Companies => "Company",
        Res::CompanyUsers => "CompanyUser",
        Res::Subscriptions => "Subscription",
        Res::Devices => "Device",
        Res::Jobs => "Job",
        Res::JobItems => "JobItem",
        Res::Logs => "Log",
        Res::LogItems => "LogItem",
        Res::Events => "Event",
        Res::Plans => "Plan",
        Res::PlanTypes => "PlanType",
        Res::BackupTypes => "BackupType",
    }
}

/// Timestamps as the API writes them.
const TIMESTAMP: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$";
/// Local times as the API accepts them on input.
const LOCAL_INPUT: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$";

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON schema of one attribute, as rendered (`input`: as accepted).
fn attr_schema(a: &Attr, input: bool) -> Value {
    if !input && a.has(flag::NULLED) {
        let why = if a.has(flag::WO) {
            "Write-only"
        } else {
            "Not shown in lists and reads"
        };
        return json!({ "type": "null", "description": format!("{why}: always rendered as null.") });
    }
    let mut s = Map::new();
    let nullable = |t: &str| json!([t, "null"]);
    match a.kind {
        Kind::Int => {
            s.insert("type".into(), nullable("integer"));
            s.insert("format".into(), json!("int64"));
            if let Some((lo, hi)) = a.range {
                s.insert("minimum".into(), json!(lo));
                s.insert("maximum".into(), json!(hi));
            }
        }
        Kind::Str => {
            s.insert("type".into(), nullable("string"));
            if a.max_len > 0 {
                s.insert("maxLength".into(), json!(a.max_len));
            }
            if !a.one_of.is_empty() {
                let mut values: Vec<Value> = a.one_of.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                s.insert("enum".into(), Value::Array(values));
            }
        }
        Kind::Bool => {
            s.insert("type".into(), nullable("boolean"));
            s.insert("description".into(), json!("null means false"));
        }
        Kind::Utc | Kind::Local => {
            s.insert("type".into(), nullable("string"));
            let pattern = if input && a.kind == Kind::Local {
                LOCAL_INPUT
            } else {
                TIMESTAMP
            };
            s.insert("pattern".into(), json!(pattern));
            let zone = if a.kind == Kind::Utc {
                "UTC, without a zone designator"
            } else {
                "the device's local wall-clock time, without a zone designator"
            };
            s.insert("description".into(), json!(zone));
        }
        Kind::Obj { res, .. } => {
            return json!({ "oneOf": [reference(schema_name(res)), { "type": "null" }], "readOnly": true });
        }
        Kind::Arr { res, .. } => {
            return json!({
                "oneOf": [{ "type": "array", "items": reference(schema_name(res)) }, { "type": "null" }],
                "readOnly": true,
            });
        }
    }
    if a.has(flag::RO) || a.has(flag::POST) && !input {
        s.insert("readOnly".into(), json!(true));
    }
    if a.has(flag::WO) {
        s.insert("writeOnly".into(), json!(true));
    }
    Value::Object(s)
}

/// The record schema (as rendered).
fn record_schema(info: &ResourceInfo) -> Value {
    let props: Map<String, Value> = info
        .def
        .attrs
        .iter()
        .map(|a| (a.name.to_string(), attr_schema(a, false)))
        .collect();
    let required: Vec<&str> = info.def.attrs.iter().map(|a| a.name).collect();
    json!({ "type": "object", "properties": props, "required": required })
}

/// The body of a POST (`create`) or PUT: the writable attributes; POST
/// requires the required ones. Other attributes are ignored, so allowed.
fn input_schema(info: &ResourceInfo, create: bool) -> Value {
    let writable = |a: &&Attr| a.is_stored() && !a.has(flag::RO) && (create || !a.has(flag::POST));
    let props: Map<String, Value> = info
        .def
        .attrs
        .iter()
        .filter(writable)
        .map(|a| (a.name.to_string(), attr_schema(a, true)))
        .collect();
    let required: Vec<&str> = info
        .def
        .attrs
        .iter()
        .filter(writable)
        .filter(|a| create && (a.has(flag::REQ) || a.has(flag::POST)) && !a.has(flag::CALLER))
        .map(|a| a.name)
        .collect();
    let mut s = json!({ "type": "object", "properties": props });
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

fn response(description: &str, schema: Option<Value>) -> Value {
    let mut r = json!({
        "description": description,
        "headers": { "X-Request-Id": { "$ref": "#/components/headers/X-Request-Id" } },
    });
    if let Some(schema) = schema {
        r["content"] = json!({ "application/json": { "schema": schema } });
    }
    r
}

fn error(description: &str) -> Value {
    response(description, Some(reference("Errors")))
}

/// The status codes every /api/ operation can answer besides its own.
fn common_errors(responses: &mut Map<String, Value>) {
    responses.insert("401".into(), {
        let mut r = error("Missing, malformed or unknown API key");
        r["headers"]["WWW-Authenticate"] = json!({ "schema": { "type": "string" } });
        r
    });
    responses.insert(
        "403".into(),
        error("The partner has no Partner Plan or is inactive, or an admin key was used on /api/"),
    );
    responses.insert(
        "429".into(),
        error("Only when a sandbox rate limit or fault rule says so (with Retry-After)"),
    );
}

fn operation(info: &ResourceInfo, kind: u8) -> Value {
    let name = schema_name(info.res());
    let coll = info.def.name;
    let mut responses = Map::new();
    let (summary, op_id) = match kind {
        op::CREATE | op::UPDATE => {
            write_responses((name, coll), kind == op::CREATE, &mut responses)
        }
        _ => read_responses(info, kind, &mut responses),
    };
    common_errors(&mut responses);
    let mut o = json!({
        "tags": [coll],
        "summary": summary,
        "operationId": op_id,
        "responses": responses,
    });
    if kind == op::LIST {
        o["parameters"] = json!([
            { "$ref": "#/components/parameters/PageNo" },
            { "$ref": "#/components/parameters/PageSize" },
        ]);
    }
    if kind == op::CREATE || kind == op::UPDATE {
        o["requestBody"] = request_body(name, kind);
    }
    o
}

/// The body of a POST or PUT: the Create or Update schema, bare or as `data`.
fn request_body(name: &str, kind: u8) -> Value {
    let which = if kind == op::CREATE {
        "Create"
    } else {
        "Update"
    };
    json!({
        "required": true,
        "content": { "application/json": { "schema": {
            "oneOf": [reference(&format!("{name}{which}")), {
                "type": "object",
                "properties": { "data": reference(&format!("{name}{which}")) },
                "required": ["data"],
                "additionalProperties": false,
            }]
        } } },
    })
}

/// The 200 of a Read or Delete (one `{name}Element`, described as `what`)
/// and its 404.
fn one_record(responses: &mut Map<String, Value>, name: &str, what: &str) {
    responses.insert(
        "200".into(),
        response(what, Some(reference(&format!("{name}Element")))),
    );
    responses.insert("404".into(), error("No such record in the partner's scope"));
}

/// The responses of a List, Read or Delete; its summary and operation id.
fn read_responses(
    info: &ResourceInfo,
    kind: u8,
    responses: &mut Map<String, Value>,
) -> (String, String) {
    let name = schema_name(info.res());
    let coll = info.def.name;
    let key = info.key_name();
    match kind {
        op::LIST => {
            responses.insert(
                "200".into(),
                response(
                    &format!("A page of {coll}, descending by {key}"),
                    Some(reference(&format!("{name}List"))),
                ),
            );
            responses.insert(
                "400".into(),
                error("PageNo or PageSize is not a whole number of at least 1"),
            );
            (format!("List {coll}"), format!("list_{coll}"))
        }
        op::READ => {
            one_record(responses, name, &format!("One {name}"));
            (format!("Read one of {coll}"), format!("read_{coll}"))
        }
        _ => {
            one_record(responses, name, &format!("The {name} as it was"));
            responses.insert(
                "409".into(),
                error("Children still block the delete, or the record is an account owner"),
            );
            (format!("Delete one of {coll}"), format!("delete_{coll}"))
        }
    }
}

/// The responses of a Create (`create`) or Update of `name` in `coll`; its
/// summary and operation id.
fn write_responses(
    (name, coll): (&str, &str),
    create: bool,
    responses: &mut Map<String, Value>,
) -> (String, String) {
    if create {
        let mut created = response(
            &format!("The new {name}"),
            Some(reference(&format!("{name}Element"))),
        );
        created["headers"]["Location"] =
            json!({ "description": "The new element's URI", "schema": { "type": "string" } });
        responses.insert("201".into(), created);
    } else {
        one_record(responses, name, &format!("The {name} as updated"));
    }
    responses.insert(
        "400".into(),
        error("The body is not valid JSON, or not one object"),
    );
    responses.insert(
        "409".into(),
        error("The Token was already used in the last 60 minutes"),
    );
    responses.insert("413".into(), error("The body is over the size limit"));
    let validation = if create {
        "Forgery protection (Content-Type), or validation: every problem, one sentence each"
    } else {
        "Forgery protection (Content-Type), or validation of the merged record"
    };
    responses.insert("422".into(), error(validation));
    if create {
        (format!("Create one of {coll}"), format!("create_{coll}"))
    } else {
        (
            format!("Update one of {coll} (a merge)"),
            format!("update_{coll}"),
        )
    }
}

/// The whole document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    let mut paths = Map::new();
    schemas.insert(
        "Errors".into(),
        json!({
            "type": "object",
            "properties": { "errors": { "type": "array", "items": { "type": "string" }, "minItems": 1 } },
            "required": ["errors"],
        }),
    );
    for res in Res::ALL {
        describe_resource(res, &mut schemas, &mut paths);
    }
    sandbox_paths(&mut paths);
    let tags: Vec<Value> = Res::ALL
        .iter()
        .map(|r| json!({ "name": r.name() }))
        .chain([json!({
            "name": "sandbox",
            "description": "The sandbox's own control API (admin keys only): not part of the CleverFox API.",
        })])
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CleverFox Backup partner API (sandbox)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The CleverFox Backup partner API as cleverfox-sandbox serves it. \
                Authentication: HTTP Basic with the partner's API key as the username; the password is ignored. \
                Every error body is {\"errors\": [sentences]}.",
        },
        "servers": [{ "url": "https://localhost:8443" }],
        "security": [{ "basicAuth": [] }],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": { "basicAuth": {
                "type": "http", "scheme": "basic",
                "description": "The API key is the username; the password is ignored.",
            } },
            "headers": { "X-Request-Id": {
                "description": "The id of this request in the sandbox's request journal",
                "schema": { "type": "string" },
            } },
            "parameters": {
                "PageNo": { "name": "PageNo", "in": "query", "required": false,
                    "description": "Page number, from 1 (matched case-insensitively)",
                    "schema": { "type": "integer", "minimum": 1, "default": 1 } },
                "PageSize": { "name": "PageSize", "in": "query", "required": false,
                    "description": format!("Records per page; above {MAX_PAGE_SIZE} is served as {MAX_PAGE_SIZE}"),
                    "schema": { "type": "integer", "minimum": 1, "default": DEFAULT_PAGE_SIZE } },
            },
            "schemas": schemas,
        },
    })
}

/// One collection's schemas (record, List, Element, Create, Update) and its
/// two paths.
fn describe_resource(res: Res, schemas: &mut Map<String, Value>, paths: &mut Map<String, Value>) {
    let info = res.info();
    let name = schema_name(res);
    let ops = info.def.ops;
    schemas.insert(name.into(), record_schema(info));
    schemas.insert(
        format!("{name}List"),
        json!({
            "type": "object",
            "properties": {
                "data": { "type": "array", "items": reference(name) },
                "page_no": { "type": "integer", "minimum": 1 },
                "page_size": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE },
            },
            "required": ["data", "page_no", "page_size"],
        }),
    );
    schemas.insert(
        format!("{name}Element"),
        json!({ "type": "object", "properties": { "data": reference(name) }, "required": ["data"] }),
    );
    if ops & op::CREATE != 0 {
        schemas.insert(format!("{name}Create"), input_schema(info, true));
    }
    if ops & op::UPDATE != 0 {
        schemas.insert(format!("{name}Update"), input_schema(info, false));
    }
    let mut collection = Map::new();
    for (kind, method) in [(op::LIST, "get"), (op::CREATE, "post")] {
        if ops & kind != 0 {
            collection.insert(method.into(), operation(info, kind));
        }
    }
    let mut element = Map::new();
    for (kind, method) in [
        (op::READ, "get"),
        (op::UPDATE, "put"),
        (op::DELETE, "delete"),
    ] {
        if ops & kind != 0 {
            element.insert(method.into(), operation(info, kind));
        }
    }
    element.insert(
        "parameters".into(),
        json!([{
            "name": "Id", "in": "path", "required": true,
            "description": format!("The {}: a positive integer", info.key_name()),
            "schema": { "type": "integer", "format": "int64", "minimum": 1 },
        }]),
    );
    paths.insert(format!("/api/{}", info.def.name), Value::Object(collection));
    paths.insert(
        format!("/api/{}/{{Id}}", info.def.name),
        Value::Object(element),
    );
}

/// The control API, described briefly under the `sandbox` tag.
fn sandbox_paths(paths: &mut Map<String, Value>) {
    let admin = |summary: &str| {
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            response("Done", Some(json!({ "type": "object" }))),
        );
        responses.insert("401".into(), error("Missing or unknown key"));
        responses.insert("403".into(), error("Not an admin key"));
        json!({ "tags": ["sandbox"], "summary": summary, "responses": responses })
    };
    for endpoint in CONTROL_ENDPOINTS {
        let path = endpoint.path;
        let mut item = Map::new();
        for (method, summary) in endpoint.methods.iter().zip(endpoint.summaries) {
            let mut op = admin(summary);
            if endpoint.endpoint == Control::Console {
                op["responses"]["200"]["content"] =
                    json!({ "text/html": { "schema": { "type": "string" } } });
            }
            item.insert(method.to_ascii_lowercase(), op);
        }
        for name in ["JobId", "id"] {
            if path.contains(&format!("{{{name}}}")) {
                item.insert(
                    "parameters".into(),
                    json!([{ "name": name, "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } }]),
                );
            }
        }
        if path.contains("{name}") {
            item.insert(
                "parameters".into(),
                json!([{ "name": "name", "in": "path", "required": true,
                         "schema": { "type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$" } }]),
            );
        }
        paths.insert(path.to_string(), Value::Object(item));
    }
}
