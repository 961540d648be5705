//! The OpenAPI 3.1 description of `/api/` (the control API has its own,
//! in `openapi_control`), generated from the resource tables the server runs on, so it cannot
//! drift from them: every collection, operation, attribute (type, length,
//! read-only and write-only flags, enumeration, range, nullability),
//! envelope, paging parameter and status code.

use serde_json::{Map, Value, json};

use crate::domain::engine::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, visible};
use crate::domain::render;
use crate::domain::rules::{self, ViewCtx};
use crate::domain::schema::{Attr, Kind, Res, ResourceInfo, Rule, flag, op};
use crate::domain::state::{Record, State};

pub use super::openapi_control::control_document;

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
const TIMESTAMP: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$";

/// A calendar date `YYYY-MM-DD` that exists (leap years included), as the
/// server's parser accepts it.
const DATE: &str = concat!(
    r"([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
    r"|[0-9]{4}-(0[13-9]|1[0-2])-(29|30)",
    r"|[0-9]{4}-(0[13578]|1[02])-31",
    r"|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)"
);
/// A time of day `HH:MM`, optionally with `:SS` and 1 to 9 fraction digits.
const TIME: &str = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?";

/// Local times as the API accepts them on input: every valid calendar date
/// and time, and only those.
fn local_input_pattern() -> String {
    format!("^{DATE}T{TIME}$")
}

/// The characters Rust's `char::is_whitespace` counts (the server trims
/// those), spelt out so that every regex dialect agrees.
const SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A string that is not empty or only white space.
fn not_blank_pattern() -> String {
    format!("[^{SPACE}]")
}

/// The characters an e-mail address may not hold (white space, control
/// characters and `<>(),;:"[]\`), as `rules::is_email` says.
fn email_excluded() -> String {
    format!(r#"{SPACE}\u0000-\u001f\u007f-\u009f<>(),;:"\[\]\\@"#)
}

/// One e-mail address, unanchored: a local part, `@`, and a domain with a
/// dot that neither starts nor ends it.
fn email_body() -> String {
    let x = email_excluded();
    format!(r"[^{x}]+@[^{x}.][^{x}]*\.[^{x}]*[^{x}.]")
}

fn email_pattern() -> String {
    format!("^{}$", email_body())
}

/// One or more addresses separated by `,` `;` `:` or line breaks, with
/// spaces around them (`rules::email_list`).
fn email_list_pattern() -> String {
    let e = email_body();
    format!(r"^[,;:\n\r \t]*{e}([\r \t]*[,;:\n][,;:\n\r \t]*{e})*[,;:\n\r \t]*$")
}

/// Where an attribute's schema is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// As the server renders it.
    Output,
    /// In a POST body.
    Create,
    /// In a PUT body.
    Update,
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON schema of one attribute in `usage`.
fn attr_schema(a: &Attr, usage: Use) -> Value {
    let input = usage != Use::Output;
    if !input && a.has(flag::NULLED) {
        let why = if a.has(flag::WO) {
            "Write-only"
        } else {
            "Not shown in lists and reads"
        };
        return json!({ "type": "null", "description": format!("{why}: always rendered as null.") });
    }
    // required on this input, so null and blank strings are refused
    let required = match usage {
        Use::Output => a.has(flag::KEY),
        Use::Create => (a.has(flag::REQ) || a.has(flag::POST)) && !a.has(flag::CALLER),
        Use::Update => a.has(flag::REQ),
    };
    let mut s = Map::new();
    let typed = |t: &str| {
        if required {
            json!(t)
        } else {
            json!([t, "null"])
        }
    };
    match a.kind {
        Kind::Int => {
            s.insert("type".into(), typed("integer"));
            s.insert("format".into(), json!("int64"));
            let (lo, hi) = match (a.range, a.refs) {
                (Some(range), _) => range,
                (None, Some(_)) if input => (1, i64::MAX),
                _ => (i64::MIN, i64::MAX),
            };
            s.insert("minimum".into(), json!(lo));
            s.insert("maximum".into(), json!(hi));
        }
        Kind::Str => {
            s.insert("type".into(), typed("string"));
            if a.max_len > 0 {
                s.insert("maxLength".into(), json!(a.max_len));
                if input {
                    s.insert("x-length-unit".into(), json!("UTF-16 code units"));
                }
            }
            if input {
                string_rules(a, required, &mut s);
            } else if !a.one_of.is_empty() {
                let mut values: Vec<Value> = a.one_of.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                s.insert("enum".into(), Value::Array(values));
            }
        }
        Kind::Bool => {
            s.insert("type".into(), typed("boolean"));
            s.insert("description".into(), json!("null means false"));
        }
        Kind::Utc | Kind::Local => {
            s.insert("type".into(), typed("string"));
            let pattern = if input && a.kind == Kind::Local {
                local_input_pattern()
            } else {
                TIMESTAMP.to_string()
            };
            s.insert("pattern".into(), json!(pattern));
            let zone = match (a.kind, input) {
                (Kind::Utc, _) => "UTC, written YYYY-MM-DDTHH:MM:SS.mmm without a zone designator",
                (_, true) => {
                    "The device's local wall-clock time: YYYY-MM-DDTHH:MM, optionally with :SS and a \
                     fraction of 1 to 9 digits, a real calendar date, without a zone designator"
                }
                _ => {
                    "The device's local wall-clock time, written YYYY-MM-DDTHH:MM:SS.mmm without a zone designator"
                }
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
    if !input && (a.has(flag::RO) || a.has(flag::POST)) {
        s.insert("readOnly".into(), json!(true));
    }
    if a.has(flag::WO) {
        s.insert("writeOnly".into(), json!(true));
    }
    Value::Object(s)
}

/// What an input string must hold: its enumeration or value rule (e-mail,
/// address list, time zone), and some text when required.
fn string_rules(a: &Attr, required: bool, s: &mut Map<String, Value>) {
    if !a.one_of.is_empty() || a.rule == Some(Rule::TimeZone) {
        let mut values: Vec<Value> = if a.rule == Some(Rule::TimeZone) {
            rules::time_zones().map(|(w, _)| json!(w)).collect()
        } else {
            a.one_of.iter().map(|v| json!(v)).collect()
        };
        if !required {
            values.push(Value::Null);
        }
        s.insert("enum".into(), Value::Array(values));
        return;
    }
    if required {
        s.insert("minLength".into(), json!(1));
    }
    let pattern = match a.rule {
        Some(Rule::Email) => Some((email_pattern(), "One e-mail address.")),
        Some(Rule::EmailList) => Some((
            email_list_pattern(),
            "One or more e-mail addresses separated by `,` `;` `:` or line breaks.",
        )),
        _ => required.then(|| {
            (
                not_blank_pattern(),
                "Required: not empty and not only white space.",
            )
        }),
    };
    if let Some((pattern, words)) = pattern {
        s.insert("pattern".into(), json!(pattern));
        s.insert("description".into(), json!(words));
    }
}

/// The record schema (as rendered).
fn record_schema(info: &ResourceInfo) -> Value {
    let props: Map<String, Value> = info
        .def
        .attrs
        .iter()
        .map(|a| (a.name.to_string(), attr_schema(a, Use::Output)))
        .collect();
    let required: Vec<&str> = info.def.attrs.iter().map(|a| a.name).collect();
    json!({ "type": "object", "properties": props, "required": required })
}

/// The body of a POST (`create`) or PUT: the writable attributes; POST
/// requires the required ones. Other attributes are ignored, so allowed.
/// A create of a record with notification flags requires
/// `SendNotificationTo` while one of them is true.
fn input_schema(info: &ResourceInfo, create: bool) -> Value {
    let usage = if create { Use::Create } else { Use::Update };
    let writable = |a: &&Attr| a.is_stored() && !a.has(flag::RO) && (create || !a.has(flag::POST));
    let props: Map<String, Value> = info
        .def
        .attrs
        .iter()
        .filter(writable)
        .map(|a| (a.name.to_string(), attr_schema(a, usage)))
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
    // one `if`/`then` per flag: while it is true, SendNotificationTo is
    // required and not null (client generators read this form; they refuse
    // an anyOf of partial objects). The `then` says that it leaves the other
    // attributes open, for linters that read a schema without
    // additionalProperties as closed when they check the examples.
    let flags = rules::notification_flags(info.res());
    if create && !flags.is_empty() {
        let conditions: Vec<Value> = flags
            .iter()
            .map(|f| {
                json!({
                    "if": { "properties": { (*f): { "const": true } }, "required": [f] },
                    "then": { "required": ["SendNotificationTo"],
                              "properties": { "SendNotificationTo": { "type": "string" } },
                              "additionalProperties": true },
                })
            })
            .collect();
        s["allOf"] = Value::Array(conditions);
    }
    s
}

/// A response with the headers every answer may carry.
fn response(description: &str, schema: Option<Value>) -> Value {
    let mut r = json!({
        "description": description,
        "headers": {
            "X-Request-Id": { "$ref": "#/components/headers/X-Request-Id" },
            "X-Sandbox-Warning": { "$ref": "#/components/headers/X-Sandbox-Warning" },
            "X-Sandbox-Fixture-Error": { "$ref": "#/components/headers/X-Sandbox-Fixture-Error" },
        },
    });
    if let Some(schema) = schema {
        r["content"] = json!({ "application/json": { "schema": schema } });
    }
    r
}

fn error(description: &str) -> Value {
    response(description, Some(reference("Errors")))
}

/// The components every document shares: the response headers and the
/// error body.
fn shared_headers() -> Value {
    json!({
        "X-Request-Id": {
            "description": "The id of this request in the sandbox's request journal (a positive integer).",
            "schema": { "type": "string", "pattern": "^[1-9][0-9]*$" },
        },
        "X-Sandbox-Warning": {
            "description": "Why an attribute or parameter was ignored or adjusted (one header per warning).",
            "schema": { "type": "string" },
        },
        "X-Sandbox-Fixture-Error": {
            "description": "Present while the last fixture reload failed: a short summary (the full report is at /_sandbox/health).",
            "schema": { "type": "string" },
        },
        "Allow": {
            "description": "The methods this path offers.",
            "required": true,
            "schema": { "type": "string" },
        },
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "required": true,
            "schema": { "type": "string", "pattern": "^[0-9]+$" },
        },
    })
}

fn errors_schema() -> Value {
    json!({
        "type": "object",
        "description": "Every error: one sentence per problem, each naming the attribute or parameter at fault.",
        "properties": { "errors": { "type": "array", "items": { "type": "string" }, "minItems": 1 } },
        "required": ["errors"],
    })
}

/// The status codes every operation can answer besides its own.
fn common_errors(responses: &mut Map<String, Value>, admin: bool) {
    responses.insert("401".into(), {
        let mut r = error("Missing, malformed or unknown API key");
        r["headers"]["WWW-Authenticate"] =
            json!({ "required": true, "schema": { "type": "string" } });
        r
    });
    let forbidden = if admin {
        "A partner key: the control API takes admin keys only"
    } else {
        "The partner has no Partner Plan or is inactive, or an admin key was used on /api/"
    };
    responses.insert("403".into(), error(forbidden));
    responses.insert("405".into(), {
        let mut r = error("The method is not offered on this path; Allow names those that are");
        r["headers"]["Allow"] = json!({ "$ref": "#/components/headers/Allow" });
        r
    });
    if !admin {
        responses.insert("429".into(), {
            let mut r = error("Only when a sandbox rate limit or fault rule says so");
            r["headers"]["Retry-After"] = json!({ "$ref": "#/components/headers/Retry-After" });
            r
        });
    }
}

/// What the document says in words of the rules that depend on stored data.
const STORED_RULES: &str = "Besides what the schema states, the server refuses with 422 what depends on stored \
    data: a referenced record that does not exist in the partner's scope (or is inactive, or belongs to another \
    company), a value that must be unique among the partner's records, the device limit of a subscription, and \
    the conditional rules of the merged record (SendNotificationTo while a notification flag is true; the job item \
    attributes its backup type's EngineType needs). A Token the partner used successfully in the last 60 minutes \
    answers 409; an empty Token is treated as absent. String lengths (maxLength) count UTF-16 code units, \
    as the CleverFox platform does: a character outside the Basic Multilingual Plane counts two. Attributes the resource does not have, and read-only ones, \
    are ignored and named in X-Sandbox-Warning.";

/// The summary, description and operation id of an operation.
fn words(info: &ResourceInfo, kind: u8) -> (String, String, String) {
    let coll = info.def.name;
    let name = schema_name(info.res());
    let key = info.key_name();
    match kind {
        op::LIST => (
            format!("List {coll}"),
            format!(
                "One page of the {coll} the key may see, in descending order of {key}. \
                 PageNo and PageSize are matched case-insensitively; other query parameters are ignored \
                 and named in X-Sandbox-Warning. There is no total count: page until a page is shorter than page_size."
            ),
            format!("list_{coll}"),
        ),
        op::READ => (
            format!("Read one {name}"),
            format!(
                "The {name} with this {key}, with its referenced records embedded one level down."
            ),
            format!("read_{coll}"),
        ),
        op::CREATE => (
            format!("Create a {name}"),
            format!(
                "Creates a {name} from a bare or {{\"data\": …}} body and answers 201 with it and its Location. {STORED_RULES}"
            ),
            format!("create_{coll}"),
        ),
        op::UPDATE => (
            format!("Update a {name} (a merge)"),
            format!(
                "Changes the writable attributes the body names and keeps the rest; the merged record must satisfy \
                 every rule, or nothing changes. {STORED_RULES}"
            ),
            format!("update_{coll}"),
        ),
        _ => (
            format!("Delete a {name}"),
            format!(
                "Deletes the {name} and answers with it as it was. 409 while records that depend on it still \
                 exist, or for an account owner."
            ),
            format!("delete_{coll}"),
        ),
    }
}

fn operation(info: &ResourceInfo, kind: u8, examples: &Examples) -> Value {
    let name = schema_name(info.res());
    let mut responses = Map::new();
    match kind {
        op::CREATE | op::UPDATE => {
            write_responses(info, kind == op::CREATE, examples, &mut responses)
        }
        _ => read_responses(info, kind, examples, &mut responses),
    }
    common_errors(&mut responses, false);
    let (summary, description, op_id) = words(info, kind);
    let mut o = json!({
        "tags": [info.def.name],
        "summary": summary,
        "description": description,
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
        o["requestBody"] = request_body(info, name, kind, examples);
    }
    o
}

/// The body of a POST or PUT: the Create or Update schema, bare or as
/// `data`. The bare form excludes a body that is exactly one `data` object
/// (the server reads that as the wrapped form), so one alternative matches.
fn request_body(info: &ResourceInfo, name: &str, kind: u8, examples: &Examples) -> Value {
    let which = if kind == op::CREATE {
        "Create"
    } else {
        "Update"
    };
    let schema = reference(&format!("{name}{which}"));
    let mut media = json!({ "schema": {
        "oneOf": [
            { "allOf": [schema, { "anyOf": [
                { "properties": { "data": { "type": ["string", "number", "boolean", "array", "null"] } } },
                { "minProperties": 2 },
            ] }] },
            {
                "type": "object",
                "properties": { "data": schema },
                "required": ["data"],
                "additionalProperties": false,
            },
        ]
    } });
    if let Some(example) = examples.body(info.res(), kind == op::CREATE) {
        media["examples"] = json!({
            "bare": { "summary": "A bare body", "value": example },
            "wrapped": { "summary": "The same body wrapped as data", "value": { "data": example } },
        });
    }
    json!({ "required": true, "content": { "application/json": media } })
}

/// A response whose body is `schema`, with an example when there is one.
fn with_example(description: &str, schema: &str, example: Option<Value>) -> Value {
    let mut r = response(description, Some(reference(schema)));
    if let Some(example) = example {
        r["content"]["application/json"]["example"] = example;
    }
    r
}

/// The 200 of a Read, Update or Delete (one `{name}Element`, described as
/// `what`) and its 404.
fn one_record(
    info: &ResourceInfo,
    responses: &mut Map<String, Value>,
    what: &str,
    examples: &Examples,
) {
    let name = schema_name(info.res());
    responses.insert(
        "200".into(),
        with_example(
            what,
            &format!("{name}Element"),
            examples.element(info.res()),
        ),
    );
    responses.insert("404".into(), error("No such record in the partner's scope"));
}

/// The responses of a List, Read or Delete.
fn read_responses(
    info: &ResourceInfo,
    kind: u8,
    examples: &Examples,
    responses: &mut Map<String, Value>,
) {
    let name = schema_name(info.res());
    let coll = info.def.name;
    let key = info.key_name();
    match kind {
        op::LIST => {
            responses.insert(
                "200".into(),
                with_example(
                    &format!("A page of {coll}, descending by {key}"),
                    &format!("{name}List"),
                    examples.list(info.res()),
                ),
            );
            responses.insert(
                "400".into(),
                error("PageNo or PageSize is not a whole number of at least 1"),
            );
        }
        op::READ => one_record(info, responses, &format!("One {name}"), examples),
        _ => {
            one_record(info, responses, &format!("The {name} as it was"), examples);
            responses.insert(
                "409".into(),
                error("Children still block the delete, or the record is an account owner"),
            );
        }
    }
}

/// The links from a create's answer to the read, update and delete of the
/// record it made.
fn links(info: &ResourceInfo) -> Value {
    let coll = info.def.name;
    let id = json!({ "Id": format!("$response.body#/data/{}", info.key_name()) });
    let mut out = Map::new();
    for (kind, verb) in [
        (op::READ, "read"),
        (op::UPDATE, "update"),
        (op::DELETE, "delete"),
    ] {
        if info.def.ops & kind != 0 {
            out.insert(
                format!("{verb}_created"),
                json!({ "operationId": format!("{verb}_{coll}"), "parameters": id,
                        "description": format!("The {} the create made", info.key_name()) }),
            );
        }
    }
    Value::Object(out)
}

/// The responses of a Create (`create`) or Update.
fn write_responses(
    info: &ResourceInfo,
    create: bool,
    examples: &Examples,
    responses: &mut Map<String, Value>,
) {
    let name = schema_name(info.res());
    if create {
        let mut created = with_example(
            &format!("The new {name}"),
            &format!("{name}Element"),
            examples.element(info.res()),
        );
        created["headers"]["Location"] = json!({
            "description": "The new element's URI", "required": true, "schema": { "type": "string" } });
        created["links"] = links(info);
        responses.insert("201".into(), created);
    } else {
        one_record(info, responses, &format!("The {name} as updated"), examples);
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
}

/// The URL the default document names: the default bind address.
pub const DEFAULT_SERVER: &str = "https://localhost:8443";

/// The whole document of the partner API, naming `server` (such as
/// `https://localhost:8443`) as its server.
pub fn document(server: &str) -> Value {
    let examples = Examples::load();
    let mut schemas = Map::new();
    let mut paths = Map::new();
    schemas.insert("Errors".into(), errors_schema());
    for res in Res::ALL {
        describe_resource(res, &examples, &mut schemas, &mut paths);
    }
    let tags: Vec<Value> = Res::ALL
        .iter()
        .map(|r| json!({ "name": r.name(), "description": format!("The {} collection", r.name()) }))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CleverFox Backup partner API (sandbox)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The CleverFox Backup partner API as cleverfox-sandbox serves it. \
                Authentication: HTTP Basic with the partner's API key as the username; the password is ignored. \
                Every error body is {\"errors\": [sentences]}. The sandbox's own control API is described \
                in /_sandbox/openapi.json.",
            "license": { "name": "Proprietary", "identifier": "LicenseRef-CleverFox-Sandbox" },
        },
        "servers": [{ "url": server, "description": "This sandbox" }],
        "security": [{ "basicAuth": [] }],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": { "basicAuth": {
                "type": "http", "scheme": "basic",
                "description": "The API key is the username; the password is ignored.",
            } },
            "headers": shared_headers(),
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
fn describe_resource(
    res: Res,
    examples: &Examples,
    schemas: &mut Map<String, Value>,
    paths: &mut Map<String, Value>,
) {
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
            collection.insert(method.into(), operation(info, kind, examples));
        }
    }
    let mut element = Map::new();
    for (kind, method) in [
        (op::READ, "get"),
        (op::UPDATE, "put"),
        (op::DELETE, "delete"),
    ] {
        if ops & kind != 0 {
            element.insert(method.into(), operation(info, kind, examples));
        }
    }
    element.insert(
        "parameters".into(),
        json!([{
            "name": "Id", "in": "path", "required": true,
            "description": format!("The {}: a positive integer", info.key_name()),
            "schema": { "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX },
        }]),
    );
    paths.insert(format!("/api/{}", info.def.name), Value::Object(collection));
    paths.insert(
        format!("/api/{}/{{Id}}", info.def.name),
        Value::Object(element),
    );
}

/// Examples: records of the default fixtures (those in the repository,
/// built into the binary), rendered as partner 1 reads them.
struct Examples {
    state: Option<State>,
}

/// The default fixtures, one file per collection, as the repository holds them.
const DEFAULT_FIXTURES: &[(&str, &str)] = &[
    ("partners", include_str!("../../fixtures/partners.json")),
    (
        "partnerusers",
        include_str!("../../fixtures/partnerusers.json"),
    ),
    ("companies", include_str!("../../fixtures/companies.json")),
    (
        "companyusers",
        include_str!("../../fixtures/companyusers.json"),
    ),
    (
        "subscriptions",
        include_str!("../../fixtures/subscriptions.json"),
    ),
    ("devices", include_str!("../../fixtures/devices.json")),
    ("jobs", include_str!("../../fixtures/jobs.json")),
    ("jobitems", include_str!("../../fixtures/jobitems.json")),
    ("logs", include_str!("../../fixtures/logs.json")),
    ("logitems", include_str!("../../fixtures/logitems.json")),
    ("events", include_str!("../../fixtures/events.json")),
    ("plans", include_str!("../../fixtures/plans.json")),
    ("plantypes", include_str!("../../fixtures/plantypes.json")),
    (
        "backuptypes",
        include_str!("../../fixtures/backuptypes.json"),
    ),
    ("apikeys", include_str!("../../fixtures/apikeys.json")),
];

/// The partner whose records the examples show.
const EXAMPLE_PARTNER: i64 = 1;

impl Examples {
    fn load() -> Examples {
        let mut bundle = String::from("{");
        for (i, (name, text)) in DEFAULT_FIXTURES.iter().enumerate() {
            if i > 0 {
                bundle.push(',');
            }
            bundle.push_str(&format!("\"{name}\":{text}"));
        }
        bundle.push('}');
        let state = crate::store::fixtures::load_bundle_bytes("fixtures", bundle.into_bytes(), 0)
            .ok()
            .map(|l| l.state);
        Examples { state }
    }

    fn view() -> ViewCtx {
        ViewCtx {
            now_ms: 0,
            agent_delay_ms: 0,
            fragments: None,
        }
    }

    /// The lowest-id record of `res` that the example partner sees.
    fn record(&self, res: Res) -> Option<(&State, &Record)> {
        let state = self.state.as_ref()?;
        let info = res.info();
        state
            .table(res)
            .rows
            .values()
            .find(|r| visible(info, r, EXAMPLE_PARTNER))
            .map(|r| (state, r))
    }

    /// `{"data": {record}}`.
    fn element(&self, res: Res) -> Option<Value> {
        let (state, rec) = self.record(res)?;
        let bytes =
            render::element_envelope(state, &Self::view(), res.info(), rec, render::Level::Top);
        serde_json::from_slice(&bytes).ok()
    }

    /// A list page holding that record.
    fn list(&self, res: Res) -> Option<Value> {
        let mut page = self.element(res)?;
        let record = page["data"].take();
        Some(json!({ "data": [record], "page_no": 1, "page_size": DEFAULT_PAGE_SIZE }))
    }

    /// A body that creates (or updates to) that record: its writable,
    /// non-null attributes (the create's required ones always).
    fn body(&self, res: Res, create: bool) -> Option<Value> {
        let (_, rec) = self.record(res)?;
        let info = res.info();
        let mut out = Map::new();
        for (slot, a) in info.stored() {
            let writable = !a.has(flag::RO) && (create || !a.has(flag::POST));
            if !writable || a.has(flag::WO) || a.name == "Token" {
                continue;
            }
            let mut text = Vec::new();
            render::write_val(&mut text, &rec.vals[slot]);
            let v: Value = serde_json::from_slice(&text).ok()?;
            if !v.is_null() {
                out.insert(a.name.to_string(), v);
            }
        }
        Some(Value::Object(out))
    }
}
