//! The OpenAPI documents are exact in both directions (API.md section 7),
//! checked on the documents as served, against the running server, with a
//! real JSON Schema validator: every example validates against its schema
//! (request and response, exactly one body alternative matching), and every
//! status the server answers, driven operation by operation, is documented
//! for that operation, with its required headers, a documented media type,
//! and a body the documented schema accepts. The same for the control API's
//! document.

mod common;

use std::collections::{BTreeSet, HashMap};

use cleverfox_sandbox::config::Settings;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The body limit of the sandbox these tests drive (413 past it).
const MAX_BODY: usize = 4096;

/// A JSON pointer segment.
fn esc(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Validators of the schemas of one document, by JSON pointer into it:
/// each is the document itself with a root `$ref` to the pointer, so every
/// `$ref` resolves against the document's components.
struct Schemas<'a> {
    doc: &'a Value,
    built: HashMap<String, jsonschema::Validator>,
}

impl<'a> Schemas<'a> {
    fn of(doc: &'a Value) -> Schemas<'a> {
        Schemas {
            doc,
            built: HashMap::new(),
        }
    }

    /// The problems `instance` has against the schema at `pointer`.
    fn problems(&mut self, pointer: &str, instance: &Value) -> Vec<String> {
        assert!(
            self.doc.pointer(pointer).is_some(),
            "no schema at {pointer}"
        );
        let doc = self.doc;
        let v = self.built.entry(pointer.to_string()).or_insert_with(|| {
            let mut root = doc.clone();
            // a URI fragment: the braces of path templates percent-encoded
            let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
            root["$ref"] = json!(format!("#{fragment}"));
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap_or_else(|e| panic!("{pointer}: {e}"))
        });
        v.iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

async fn documents(t: &Client) -> (Value, Value) {
    let partner = t.send(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(partner.status, 200);
    let control = t.get(ADMIN, "/_sandbox/openapi.json").await;
    assert_eq!(control.status, 200);
    (partner.body, control.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_validates_against_its_schema_and_one_body_form_matches() {
    let t = Client::start().await;
    let (partner, control) = documents(&t).await;
    let mut validated = 0;
    let mut request_examples = 0;
    for doc in [&partner, &control] {
        let mut schemas = Schemas::of(doc);
        for (path, method, op) in operations(doc) {
            let at = format!("/paths/{}/{method}", esc(&path));
            let mut media = Vec::new();
            for (status, r) in op["responses"].as_object().unwrap() {
                for (m, content) in r["content"].as_object().into_iter().flatten() {
                    media.push((
                        format!("{at}/responses/{status}/content/{}", esc(m)),
                        content,
                    ));
                }
            }
            for (m, content) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                media.push((format!("{at}/requestBody/content/{}", esc(m)), content));
            }
            for (pointer, content) in media {
                let mut examples: Vec<&Value> = content.get("example").into_iter().collect();
                for (_, e) in content["examples"].as_object().into_iter().flatten() {
                    examples.push(&e["value"]);
                }
                for example in examples {
                    let problems = schemas.problems(&format!("{pointer}/schema"), example);
                    assert!(
                        problems.is_empty(),
                        "{method} {path} {pointer}: {problems:?}"
                    );
                    validated += 1;
                    if pointer.contains("/requestBody/") {
                        request_examples += 1;
                        // exactly one of the bare and wrapped forms matches
                        let alternatives = content["schema"]["oneOf"].as_array().unwrap().len();
                        let matching = (0..alternatives)
                            .filter(|i| {
                                schemas
                                    .problems(&format!("{pointer}/schema/oneOf/{i}"), example)
                                    .is_empty()
                            })
                            .count();
                        assert_eq!(matching, 1, "{method} {path}: {example}");
                    }
                }
            }
        }
    }
    // a list, a read, an update, a delete and a create example for every
    // collection that has them, and a bare and a wrapped request body
    assert!(validated >= 80, "{validated} examples validated");
    assert!(
        request_examples >= 28,
        "{request_examples} request examples"
    );

    // the validator is real: it refuses what the schemas refuse
    let mut schemas = Schemas::of(&partner);
    let read = "/paths/~1api~1companies~1{Id}/get/responses/200/content/application~1json";
    let mut example = partner.pointer(&format!("{read}/example")).unwrap().clone();
    assert!(
        schemas
            .problems(&format!("{read}/schema"), &example)
            .is_empty()
    );
    example["data"]["CompanyId"] = Value::Null;
    example["data"]["Partner"]["Name"] = json!(7);
    let problems = schemas.problems(&format!("{read}/schema"), &example);
    assert_eq!(problems.len(), 2, "{problems:?}");
    let create = "/paths/~1api~1devices/post/requestBody/content/application~1json";
    let mut body = partner
        .pointer(&format!("{create}/examples/bare/value"))
        .unwrap()
        .clone();
    assert_eq!(body["SendNotificationOnJobFailed"], true);
    body["SendNotificationTo"] = Value::Null;
    assert!(
        !schemas
            .problems(&format!("{create}/schema"), &body)
            .is_empty(),
        "a notification flag needs SendNotificationTo"
    );
    body.as_object_mut().unwrap().remove("SendNotificationTo");
    body["SendNotificationOnJobFailed"] = json!(false);
    body["SendNotificationOnJobMissed"] = Value::Null;
    assert!(
        schemas
            .problems(&format!("{create}/schema"), &body)
            .is_empty(),
        "no flag, no address needed: {body}"
    );
}

// ------------------------------------------------------------------ statuses

/// The statuses answered per operation, and the checks on each answer.
struct Conformance<'a> {
    schemas: Schemas<'a>,
    /// (operationId, status) answered.
    seen: BTreeSet<(String, u16)>,
}

impl<'a> Conformance<'a> {
    fn of(doc: &'a Value) -> Conformance<'a> {
        Conformance {
            schemas: Schemas::of(doc),
            seen: BTreeSet::new(),
        }
    }

    /// `r`, the answer to `method` on the path `template` names, is
    /// documented there: its status, the headers that status requires, its
    /// media type, and a body its schema accepts.
    fn check(&mut self, template: &str, method: &str, r: &Resp) {
        let doc = self.schemas.doc;
        let op_at = format!("/paths/{}/{method}", esc(template));
        let op = doc
            .pointer(&op_at)
            .unwrap_or_else(|| panic!("{method} {template} is not documented"));
        let id = op["operationId"].as_str().unwrap().to_string();
        let status = r.status.to_string();
        let Some(documented) = op["responses"].get(&status) else {
            panic!("{id}: {status} answered but not documented: {}", r.show());
        };
        for (name, h) in documented["headers"].as_object().into_iter().flatten() {
            let h = match h.get("$ref").and_then(Value::as_str) {
                Some(p) => doc.pointer(p.trim_start_matches('#')).unwrap(),
                None => h,
            };
            if h["required"] == true {
                assert!(r.header(name).is_some(), "{id} {status}: no {name} header");
            }
        }
        let media = r.header("content-type").unwrap_or_default();
        let media = media.split(';').next().unwrap().trim().to_string();
        let content = documented["content"].as_object();
        if r.text.is_empty() {
            assert!(content.is_none(), "{id} {status}: an empty body");
        } else {
            let key = content
                .and_then(|c| c.keys().find(|k| **k == media))
                .unwrap_or_else(|| panic!("{id} {status}: {media} not documented"));
            let instance = if media == "application/json" {
                r.body.clone()
            } else {
                Value::String(r.text.clone())
            };
            let pointer = format!("{op_at}/responses/{status}/content/{}/schema", esc(key));
            let problems = self.schemas.problems(&pointer, &instance);
            assert!(
                problems.is_empty(),
                "{id} {status}: {problems:?}\n{}",
                r.text
            );
        }
        self.seen.insert((id, r.status));
    }

    /// Asserts that `op_id` was driven to each of `statuses`.
    fn saw(&self, op_id: &str, statuses: &[u16]) {
        for s in statuses {
            assert!(
                self.seen.contains(&(op_id.to_string(), *s)),
                "{op_id} was not driven to {s}"
            );
        }
    }
}

/// A method a path does not offer, for its 405.
fn not_offered(doc: &Value, template: &str) -> Method {
    let item = &doc["paths"][template];
    ["get", "post", "put", "delete"]
        .into_iter()
        .find(|m| item.get(*m).is_none())
        .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap())
        .unwrap_or(Method::PATCH)
}

/// Valid creates on the default fixtures, in dependency order; `{X}` is the
/// id of the record of collection X created before.
const CREATES: &[(&str, &str)] = &[
    (
        "partnerusers",
        r#"{"FirstName": "Doc", "LastName": "Statuses", "Email": "doc.statuses@example.com"}"#,
    ),
    ("companies", r#"{"PlanTypeId": 1, "Name": "Statuses Co"}"#),
    (
        "companyusers",
        r#"{"CompanyId": {companies}, "FirstName": "Olga", "LastName": "Owner", "Email": "olga@statuses.example.com"}"#,
    ),
    (
        "subscriptions",
        r#"{"CompanyId": {companies}, "PlanId": 2}"#,
    ),
    (
        "devices",
        r#"{"CompanyId": {companies}, "SubscriptionId": {subscriptions}, "Name": "STATUS-PC", "TimeZoneId": "Eastern Standard Time"}"#,
    ),
    (
        "jobs",
        r#"{"DeviceId": {devices}, "Name": "Files", "Frequency": "Daily", "NextRunOn": "2030-01-01T02:00", "LateAfter": 60, "Every": 1, "CloudKeepLast": 30, "LocalKeepLast": 7}"#,
    ),
    (
        "jobitems",
        r#"{"JobId": {jobs}, "BackupTypeId": 1, "BaseFolder": "C:\\Data", "SearchPatterns": "*.*"}"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_the_partner_api_answers_is_documented_for_its_operation() {
    let t = Client::settings(Settings {
        max_body: MAX_BODY,
        ..Settings::default()
    })
    .await;
    let (doc, _) = documents(&t).await;
    let mut c = Conformance::of(&doc);
    let used = "statuses-used-token";
    let r = t
        .put(PARTNER1, "/api/partners/1", &json!({ "Token": used }))
        .await;
    assert_eq!(r.status, 200, "{}", r.show());
    c.check("/api/partners/{Id}", "put", &r);
    let big = format!(r#"{{"Name": "{}"}}"#, "x".repeat(MAX_BODY));
    let collections: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| !p.ends_with("{Id}"))
        .map(|p| p.trim_start_matches("/api/").to_string())
        .collect();
    assert_eq!(collections.len(), 14);

    // what every operation answers, on records of the fixtures
    for coll in &collections {
        let list_path = format!("/api/{coll}");
        let elem_path = format!("/api/{coll}/{{Id}}");
        let list = t.get(PARTNER1, &list_path).await;
        c.check(&list_path, "get", &list);
        let id = list.data()[0][key_of(coll)].as_i64().unwrap();
        let elem = format!("/api/{coll}/{id}");
        let missing = format!("/api/{coll}/999999999");
        let r = t.get(PARTNER1, &format!("{list_path}?PageNo=0")).await;
        c.check(&list_path, "get", &r);
        c.check(&elem_path, "get", &t.get(PARTNER1, &elem).await);
        c.check(&elem_path, "get", &t.get(PARTNER1, &missing).await);
        if doc["paths"][&elem_path].get("delete").is_some() {
            c.check(&elem_path, "delete", &t.delete(PARTNER1, &missing).await);
        }
        let methods: Vec<(String, String, String)> = doc["paths"][&list_path]
            .as_object()
            .unwrap()
            .keys()
            .map(|m| (list_path.clone(), list_path.clone(), m.clone()))
            .chain(
                doc["paths"][&elem_path]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|m| *m != "parameters")
                    .map(|m| (elem_path.clone(), elem.clone(), m.clone())),
            )
            .collect();
        for (template, at, method) in &methods {
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let write = method == "post" || method == "put";
            let body = write.then(|| "{}".to_string());
            // 401, 403
            for key in [None, Some(NO_PLAN), Some(INACTIVE)] {
                let r = t.send_text(key, m.clone(), at, body.clone()).await;
                c.check(template, method, &r);
            }
            // 405 on the path, documented with every operation of it
            let wrong = not_offered(&doc, template);
            let r = t.send(Some(PARTNER1), wrong, at, None).await;
            assert_eq!(r.status, 405, "{}", r.show());
            c.check(template, method, &r);
            // 429 from a fault rule
            let rule = json!({ "method": method.to_ascii_uppercase(), "path": at, "status": 429, "times": 1 });
            t.add_fault(rule).await;
            let r = t
                .send_text(Some(PARTNER1), m.clone(), at, body.clone())
                .await;
            assert_eq!(r.status, 429, "{}", r.show());
            assert_eq!(
                r.header("retry-after").as_deref(),
                Some("1"),
                "a status rule's 429"
            );
            c.check(template, method, &r);
            let rule = json!({ "method": method.to_ascii_uppercase(), "path": at,
                               "rate_limit": 0, "window_s": 60, "times": 1 });
            t.add_fault(rule).await;
            let r = t
                .send_text(Some(PARTNER1), m.clone(), at, body.clone())
                .await;
            assert_eq!(r.status, 429, "{}", r.show());
            c.check(template, method, &r);
            if !write {
                continue;
            }
            let sends: [(Option<&str>, String); 6] = [
                (Some("application/json"), "{\"Name\": ".into()),
                (Some("application/json"), "[1, 2]".into()),
                (Some("application/json"), big.clone()),
                (Some("text/plain"), "{}".into()),
                (
                    Some("application/json"),
                    json!({ "Token": used }).to_string(),
                ),
                (Some("application/json"), json!({ "Token": 5 }).to_string()),
            ];
            for (ct, text) in sends {
                let r = t
                    .request(Some(PARTNER1), m.clone(), at, ct, Some(text))
                    .await;
                c.check(template, method, &r);
            }
            if method == "put" {
                let r = t.put(PARTNER1, &missing, &json!({})).await;
                c.check(template, method, &r);
            }
        }
    }

    // creates, updates and deletes that succeed, on records made here
    let mut made: HashMap<&str, i64> = HashMap::new();
    for (coll, body) in CREATES {
        let mut text = body.to_string();
        for (k, v) in &made {
            text = text.replace(&format!("{{{k}}}"), &v.to_string());
        }
        let token = format!("create-{coll}");
        let mut body: Value = serde_json::from_str(&text).unwrap();
        body["Token"] = json!(token);
        let r = t.post(PARTNER1, &format!("/api/{coll}"), &body).await;
        assert_eq!(r.status, 201, "{coll}: {}", r.show());
        c.check(&format!("/api/{coll}"), "post", &r);
        made.insert(coll, r.data()[key_of(coll)].as_i64().unwrap());
    }
    for (coll, id) in &made {
        let r = t
            .put(
                PARTNER1,
                &format!("/api/{coll}/{id}"),
                &json!({ "Token": format!("update-{coll}") }),
            )
            .await;
        assert_eq!(r.status, 200, "{coll}: {}", r.show());
        c.check(&format!("/api/{coll}/{{Id}}"), "put", &r);
    }
    // blocked deletes: records with children, the company's account owner
    for coll in [
        "companies",
        "subscriptions",
        "devices",
        "jobs",
        "companyusers",
    ] {
        let r = t
            .delete(PARTNER1, &format!("/api/{coll}/{}", made[coll]))
            .await;
        assert_eq!(r.status, 409, "{coll}: {}", r.show());
        c.check(&format!("/api/{coll}/{{Id}}"), "delete", &r);
    }
    for coll in [
        "jobitems",
        "jobs",
        "devices",
        "subscriptions",
        "companies",
        "partnerusers",
    ] {
        let r = t
            .delete(PARTNER1, &format!("/api/{coll}/{}", made[coll]))
            .await;
        assert_eq!(r.status, 200, "{coll}: {}", r.show());
        c.check(&format!("/api/{coll}/{{Id}}"), "delete", &r);
        let r = t
            .delete(PARTNER1, &format!("/api/{coll}/{}", made[coll]))
            .await;
        c.check(&format!("/api/{coll}/{{Id}}"), "delete", &r);
    }

    // every operation was driven to the statuses it can answer
    for (_, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        c.saw(id, &[401, 403, 405, 429]);
        let coll = id.split_once('_').unwrap().1;
        match method.as_str() {
            "get" if id.starts_with("list_") => c.saw(id, &[200, 400]),
            "get" => c.saw(id, &[200, 404]),
            "post" => c.saw(id, &[201, 400, 409, 413, 422]),
            "put" => c.saw(id, &[200, 400, 404, 409, 413, 422]),
            _ if coll == "companyusers" => c.saw(id, &[404, 409]),
            _ if coll == "jobitems" || coll == "partnerusers" => c.saw(id, &[200, 404]),
            _ => c.saw(id, &[200, 404, 409]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_the_control_api_answers_is_documented_for_its_operation() {
    let t = Client::start().await;
    let (_, doc) = documents(&t).await;
    let mut c = Conformance::of(&doc);
    let send = async |method: Method, path: &str, body: Option<Value>| {
        t.send(Some(ADMIN), method, path, body.as_ref()).await
    };
    let snapshot = t.get(ADMIN, "/_sandbox/snapshot").await.body;
    let cases: Vec<(Method, &str, &str, Option<Value>, u16)> = vec![
        (
            Method::GET,
            "/_sandbox/health",
            "/_sandbox/health",
            None,
            200,
        ),
        (
            Method::POST,
            "/_sandbox/reset",
            "/_sandbox/reset",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/snapshot",
            "/_sandbox/snapshot",
            None,
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/snapshot",
            "/_sandbox/snapshot",
            Some(snapshot),
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/snapshot",
            "/_sandbox/snapshot",
            Some(json!({ "companies": [{ "CompanyId": "x" }] })),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/requests",
            "/_sandbox/requests",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/requests",
            "/_sandbox/requests",
            None,
            200,
        ),
        (Method::GET, "/_sandbox/clock", "/_sandbox/clock", None, 200),
        (
            Method::POST,
            "/_sandbox/clock",
            "/_sandbox/clock",
            Some(json!({ "advance": 60 })),
            200,
        ),
        (
            Method::POST,
            "/_sandbox/clock",
            "/_sandbox/clock",
            Some(json!({ "advance": "soon" })),
            422,
        ),
        (
            Method::POST,
            "/_sandbox/jobs/{JobId}/run",
            "/_sandbox/jobs/1/run",
            Some(json!({ "JobStatus": "Completed" })),
            201,
        ),
        (
            Method::POST,
            "/_sandbox/jobs/{JobId}/run",
            "/_sandbox/jobs/999999/run",
            Some(json!({ "JobStatus": "Completed" })),
            404,
        ),
        (
            Method::POST,
            "/_sandbox/jobs/{JobId}/run",
            "/_sandbox/jobs/1/run",
            Some(json!({ "JobStatus": "Maybe" })),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/outbox",
            "/_sandbox/outbox",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/outbox",
            "/_sandbox/outbox",
            None,
            200,
        ),
        (
            Method::POST,
            "/_sandbox/faults",
            "/_sandbox/faults",
            Some(json!({ "path": "/api/plans", "latency_ms": 1 })),
            201,
        ),
        (
            Method::POST,
            "/_sandbox/faults",
            "/_sandbox/faults",
            Some(json!({ "status": 503, "close": true })),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/faults",
            "/_sandbox/faults",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/faults/{id}",
            "/_sandbox/faults/999",
            None,
            404,
        ),
        (
            Method::DELETE,
            "/_sandbox/faults",
            "/_sandbox/faults",
            None,
            200,
        ),
        (
            Method::POST,
            "/_sandbox/sessions",
            "/_sandbox/sessions",
            Some(json!({ "name": "doc-statuses" })),
            201,
        ),
        (
            Method::POST,
            "/_sandbox/sessions",
            "/_sandbox/sessions",
            Some(json!({ "name": "doc-statuses" })),
            409,
        ),
        (
            Method::POST,
            "/_sandbox/sessions",
            "/_sandbox/sessions",
            Some(json!({ "name": "no spaces" })),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/sessions",
            "/_sandbox/sessions",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/sessions/{name}",
            "/_sandbox/sessions/doc-statuses",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/sessions/{name}",
            "/_sandbox/sessions/doc-statuses",
            None,
            404,
        ),
        (
            Method::DELETE,
            "/_sandbox/sessions/{name}",
            "/_sandbox/sessions/default",
            None,
            409,
        ),
        (
            Method::POST,
            "/_sandbox/checkpoints",
            "/_sandbox/checkpoints",
            Some(json!({ "name": "before" })),
            201,
        ),
        (
            Method::POST,
            "/_sandbox/checkpoints",
            "/_sandbox/checkpoints",
            Some(json!({ "name": "before" })),
            409,
        ),
        (
            Method::POST,
            "/_sandbox/checkpoints",
            "/_sandbox/checkpoints",
            Some(json!({})),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/checkpoints",
            "/_sandbox/checkpoints",
            None,
            200,
        ),
        (
            Method::POST,
            "/_sandbox/checkpoints/{name}/restore",
            "/_sandbox/checkpoints/before/restore",
            None,
            200,
        ),
        (
            Method::POST,
            "/_sandbox/checkpoints/{name}/restore",
            "/_sandbox/checkpoints/after/restore",
            None,
            404,
        ),
        (
            Method::DELETE,
            "/_sandbox/checkpoints/{name}",
            "/_sandbox/checkpoints/before",
            None,
            200,
        ),
        (
            Method::DELETE,
            "/_sandbox/checkpoints/{name}",
            "/_sandbox/checkpoints/before",
            None,
            404,
        ),
        (
            Method::GET,
            "/_sandbox/openapi.json",
            "/_sandbox/openapi.json",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/report",
            "/_sandbox/report",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/report",
            "/_sandbox/report?format=markdown",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/report",
            "/_sandbox/report?format=junit",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/report",
            "/_sandbox/report?format=pdf",
            None,
            400,
        ),
        (
            Method::DELETE,
            "/_sandbox/report",
            "/_sandbox/report",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/schedule",
            "/_sandbox/schedule",
            None,
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/schedule",
            "/_sandbox/schedule",
            Some(json!({ "enabled": false, "seed": 3,
            "outcomes": { "Completed": 9, "Failed": 1 },
            "rules": [{ "job": 1, "JobStatus": "Failed", "ErrorMessages": "Disk full", "times": 2 }] })),
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/schedule",
            "/_sandbox/schedule",
            Some(json!({ "enabled": "yes" })),
            422,
        ),
        (
            Method::GET,
            "/_sandbox/compat",
            "/_sandbox/compat",
            None,
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/compat",
            "/_sandbox/compat",
            Some(json!({ "null_booleans": true, "seed": 4 })),
            200,
        ),
        (
            Method::PUT,
            "/_sandbox/compat",
            "/_sandbox/compat",
            Some(json!({ "shuffle": true })),
            422,
        ),
        (
            Method::PUT,
            "/_sandbox/compat",
            "/_sandbox/compat",
            Some(json!({})),
            200,
        ),
        (
            Method::GET,
            "/_sandbox/console",
            "/_sandbox/console",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/data/{name}",
            "/_sandbox/data/companies",
            None,
            200,
        ),
        (
            Method::GET,
            "/_sandbox/data/{name}",
            "/_sandbox/data/nothing",
            None,
            404,
        ),
    ];
    for (method, template, path, body, status) in cases {
        let r = send(method.clone(), path, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.show());
        c.check(template, &method.as_str().to_ascii_lowercase(), &r);
    }
    // a journal and an outbox with entries to describe
    t.get(PARTNER1, "/api/companies?PageSize=2").await;
    let user =
        json!({ "FirstName": "Ann", "LastName": "Outbox", "Email": "ann@outbox.example.com" });
    assert_eq!(
        t.post(PARTNER1, "/api/partnerusers", &user).await.status,
        201
    );
    for path in ["/_sandbox/requests", "/_sandbox/outbox"] {
        let r = t.get(ADMIN, path).await;
        assert!(
            !r.data().as_array().unwrap().is_empty(),
            "{path}: {}",
            r.text
        );
        c.check(path, "get", &r);
    }
    // the report's three formats
    for (format, media) in [
        ("json", "application/json"),
        ("markdown", "text/markdown"),
        ("junit", "application/xml"),
    ] {
        let r = t
            .get(ADMIN, &format!("/_sandbox/report?format={format}"))
            .await;
        assert!(
            r.header("content-type").unwrap().starts_with(media),
            "{format}"
        );
    }
    // a fault rule's id, for the DELETE of one
    let rule = t
        .add_fault(json!({ "path": "/api/plans", "latency_ms": 1 }))
        .await;
    let r = send(
        Method::DELETE,
        &format!("/_sandbox/faults/{}", rule["id"]),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.show());
    c.check("/_sandbox/faults/{id}", "delete", &r);
    // malformed bodies, keys and methods, on every operation
    for (template, method, op) in operations(&doc) {
        let path = template
            .replace("{JobId}", "1")
            .replace("{id}", "1")
            .replace("{name}", "companies");
        let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        for key in [None, Some(PARTNER1)] {
            let r = t.send(key, m.clone(), &path, None).await;
            c.check(&template, &method, &r);
        }
        let r = t
            .send(Some(ADMIN), not_offered(&doc, &template), &path, None)
            .await;
        assert_eq!(r.status, 405, "{template}: {}", r.show());
        c.check(&template, &method, &r);
        if op.get("requestBody").is_some() {
            let r = t
                .send_text(Some(ADMIN), m.clone(), &path, Some("{\"name\": ".into()))
                .await;
            assert!(
                [400, 422].contains(&r.status),
                "{method} {template}: {}",
                r.show()
            );
            c.check(&template, &method, &r);
        }
        let id = op["operationId"].as_str().unwrap();
        c.saw(id, &[401, 403, 405]);
    }
}
