//! The published descriptions: `GET /openapi.json` and `GET /postman.json`
//! (no key needed), generated from the resource tables, and the `openapi`
//! and `postman` commands (API.md section 7). schemathesis and newman run
//! them against a live sandbox in `.ci/run`.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cleverfox-sandbox");

async fn published(sb: &Sandbox, path: &str) -> Value {
    let r = sb.client().get(sb.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path} without a key");
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_collection_operation_and_attribute() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["basicAuth"]["scheme"],
        "basic"
    );
    let ops: &[(&str, &[&str], &[&str])] = &[
        ("partners", &["get"], &["get", "put"]),
        ("partnerusers", &["get", "post"], &["get", "put", "delete"]),
        ("companies", &["get", "post"], &["get", "put", "delete"]),
        ("companyusers", &["get", "post"], &["get", "put", "delete"]),
        ("subscriptions", &["get", "post"], &["get", "put", "delete"]),
        ("devices", &["get", "post"], &["get", "put", "delete"]),
        ("jobs", &["get", "post"], &["get", "put", "delete"]),
        ("jobitems", &["get", "post"], &["get", "put", "delete"]),
        ("logs", &["get"], &["get"]),
        ("logitems", &["get"], &["get"]),
        ("events", &["get"], &["get"]),
        ("plans", &["get"], &["get"]),
        ("plantypes", &["get"], &["get"]),
        ("backuptypes", &["get"], &["get"]),
    ];
    let methods = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
            .cloned()
            .collect()
    };
    for (coll, on_coll, on_elem) in ops {
        let c = &doc["paths"][format!("/api/{coll}")];
        let e = &doc["paths"][format!("/api/{coll}/{{Id}}")];
        assert_eq!(
            methods(c),
            on_coll.iter().map(|s| s.to_string()).collect(),
            "{coll}"
        );
        assert_eq!(
            methods(e),
            on_elem.iter().map(|s| s.to_string()).collect(),
            "{coll}/{{Id}}"
        );
        for (_, op) in c.as_object().unwrap().iter().chain(e.as_object().unwrap()) {
            if let Some(responses) = op.get("responses") {
                for code in ["401", "403", "429"] {
                    assert!(responses.get(code).is_some(), "{coll}: {code} documented");
                }
            }
        }
    }
    let list = &doc["paths"]["/api/devices"]["get"];
    let params: Vec<&Value> = list["parameters"].as_array().unwrap().iter().collect();
    assert_eq!(params.len(), 2);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Errors"]["required"][0], "errors");
    assert_eq!(
        schemas["DeviceList"]["required"],
        serde_json::json!(["data", "page_no", "page_size"])
    );
    // attributes with their type, length, flags, enumeration and range
    let device = &schemas["Device"]["properties"];
    assert_eq!(device["Name"]["maxLength"], 100);
    assert_eq!(device["DeviceId"]["readOnly"], true);
    assert_eq!(device["ApiKey"]["readOnly"], true);
    let job = &schemas["Job"]["properties"];
    assert_eq!(job["LateAfter"]["minimum"], 0);
    assert_eq!(job["LateAfter"]["maximum"], 1439);
    assert!(
        job["Frequency"]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("Monthy"))
    );
    assert_eq!(
        schemas["JobItemCreate"]["properties"]["Password"]["writeOnly"],
        true
    );
    assert_eq!(schemas["JobItem"]["properties"]["Password"]["type"], "null");
    let create = schemas["CompanyCreate"]["required"].as_array().unwrap();
    assert!(create.contains(&Value::from("Name")) && create.contains(&Value::from("PlanTypeId")));
    assert!(
        !create.contains(&Value::from("PartnerId")),
        "PartnerId defaults to the caller's"
    );
    // every attribute of every record, from the same tables as the server
    let company = vendor_example("companies-list.json")["data"][0].clone();
    for k in company.as_object().unwrap().keys() {
        assert!(
            schemas["Company"]["properties"].get(k).is_some(),
            "Company.{k}"
        );
    }
    assert!(
        doc["paths"].get("/_sandbox/faults").is_none(),
        "the control API has its own document"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postman_collection_has_a_request_for_every_operation() {
    let sb = Sandbox::start().await;
    let c = published(&sb, "/postman.json").await;
    assert_eq!(
        c["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    assert_eq!(c["auth"]["type"], "basic");
    assert_eq!(c["auth"]["basic"][0]["value"], "{{apiKey}}");
    let mut seen = BTreeSet::new();
    for folder in c["item"].as_array().unwrap() {
        for item in folder["item"].as_array().unwrap() {
            let method = item["request"]["method"].as_str().unwrap();
            let path = item["request"]["url"]["path"].as_array().unwrap();
            let coll = path[1]
                .as_str()
                .unwrap()
                .split('?')
                .next()
                .unwrap()
                .to_string();
            seen.insert((method.to_string(), coll, path.len() > 2));
            let exec = item["event"][0]["script"]["exec"].as_array().unwrap();
            assert!(
                exec.iter().any(|l| l.as_str().unwrap().contains("pm.test")),
                "{}",
                item["name"]
            );
        }
    }
    for coll in [
        "partnerusers",
        "companies",
        "companyusers",
        "subscriptions",
        "devices",
        "jobs",
        "jobitems",
    ] {
        for (m, elem) in [
            ("GET", false),
            ("GET", true),
            ("POST", false),
            ("PUT", true),
            ("DELETE", true),
        ] {
            assert!(
                seen.contains(&(m.to_string(), coll.to_string(), elem)),
                "{m} {coll} (element: {elem})"
            );
        }
    }
    for coll in [
        "logs",
        "logitems",
        "events",
        "plans",
        "plantypes",
        "backuptypes",
    ] {
        assert!(seen.contains(&("GET".into(), coll.to_string(), false)));
        assert!(seen.contains(&("GET".into(), coll.to_string(), true)));
    }
    assert!(seen.contains(&("PUT".into(), "partners".into(), true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_print_and_write_the_same_documents() {
    let sb = Sandbox::start().await;
    let served = published(&sb, "/openapi.json").await;
    let out = Command::new(BIN)
        .arg("openapi")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["servers"][0]["url"], "https://localhost:8443");
    let mut served = served;
    served["servers"] = Value::Null;
    printed["servers"] = Value::Null;
    assert_eq!(printed, served, "the same document, but for the server");

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["postman", "--out"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    assert_eq!(
        read("cleverfox-sandbox.postman_collection.json"),
        published(&sb, "/postman.json").await
    );
    let env = read("cleverfox-sandbox.postman_environment.json");
    let keys: Vec<&str> = env["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["baseUrl", "apiKey"]);
}

// ------------------------------------------------------------------ exact in both directions

/// A `$ref` resolved in `doc`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => v,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_required_input_is_not_nullable_and_strings_carry_min_length() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut checked = 0;
    for (name, s) in schemas {
        let create = name.ends_with("Create");
        if !create && !name.ends_with("Update") {
            continue;
        }
        let required: Vec<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        for r in &required {
            let p = &s["properties"][r];
            assert!(p["type"].is_string(), "{name}.{r} is not nullable: {p}");
            let timestamp = p["description"]
                .as_str()
                .is_some_and(|d| d.contains("wall-clock"));
            if p["type"] == "string" && p.get("enum").is_none() && !timestamp {
                assert_eq!(p["minLength"], 1, "{name}.{r}");
                checked += 1;
            }
        }
        for (attr, p) in s["properties"].as_object().unwrap() {
            if attr.ends_with("Id") && p.get("minimum").is_some() && p.get("maximum").is_some() {
                let ids_of_parents = ["CompanyId", "DeviceId", "JobId", "SubscriptionId", "PlanId"];
                if ids_of_parents.contains(&attr.as_str()) {
                    assert_eq!(p["minimum"], 1, "{name}.{attr}");
                }
            }
        }
    }
    assert!(checked >= 9, "{checked} required strings");
    // an update names a required attribute only to change it: not null, not blank
    let partner = &schemas["PartnerUpdate"]["properties"]["Name"];
    assert_eq!(partner["type"], "string");
    assert_eq!(partner["minLength"], 1);
    // the time zones are the server's list
    let tz = schemas["DeviceCreate"]["properties"]["TimeZoneId"]["enum"]
        .as_array()
        .unwrap();
    assert!(tz.contains(&Value::from("W. Europe Standard Time")));
    assert!(!tz.contains(&Value::Null), "required on create");
    // primary keys are never null
    for res in ["Company", "Device", "Job", "Log", "Event", "Plan"] {
        let key = format!("{res}Id");
        assert_eq!(schemas[res]["properties"][&key]["type"], "integer", "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patterns_accept_what_the_server_accepts_and_only_that() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    let props = &doc["components"]["schemas"]["JobCreate"]["properties"];
    let local = regex_lite(props["NextRunOn"]["pattern"].as_str().unwrap());
    for ok in [
        "2026-02-28T00:00",
        "2024-02-29T23:59:59",
        "2000-02-29T12:00:00.123456789",
        "2026-12-31T08:00:00.5",
    ] {
        assert!(local(ok), "{ok}");
    }
    for bad in [
        "2026-02-29T00:00",
        "1900-02-29T00:00",
        "2026-02-30T00:00",
        "2026-04-31T00:00",
        "2026-13-01T00:00",
        "2026-00-10T00:00",
        "2026-01-01T24:00",
        "2026-01-01T00:00Z",
        "2026-01-01T00:00:00.",
        "0000-00-00T00:00",
    ] {
        assert!(!local(bad), "{bad}");
    }
    let dprops = &doc["components"]["schemas"]["DeviceUpdate"]["properties"];
    let list = regex_lite(dprops["SendNotificationTo"]["pattern"].as_str().unwrap());
    for ok in ["a@b.com", "a@b.com; c@d.org", " a@b.co ,\r\ne@f.net:"] {
        assert!(list(ok), "{ok:?}");
    }
    for bad in ["", " ; ", "a@b", "a b@c.com", "a@b.com c@d.com", "a@.com"] {
        assert!(!list(bad), "{bad:?}");
    }
    // and the server agrees on each
    let t = Client::on(sb);
    let company = t
        .post("demo-partner-1", "/api/devices/1", &serde_json::json!({}))
        .await;
    assert_eq!(company.status, 405);
    for (value, status) in [
        ("a@b.com; c@d.org", 200),
        ("a@b.com c@d.com", 422),
        ("", 422),
    ] {
        let r = t
            .put(
                "demo-partner-1",
                "/api/devices/1",
                &serde_json::json!({ "SendNotificationCc": value }),
            )
            .await;
        assert_eq!(r.status, status, "{value:?}: {}", r.show());
    }
    for (value, status) in [("2024-02-29T10:00", 200), ("2026-02-29T10:00", 422)] {
        let r = t
            .put(
                "demo-partner-1",
                "/api/jobs/1",
                &serde_json::json!({ "NextRunOn": value }),
            )
            .await;
        assert_eq!(r.status, status, "{value:?}: {}", r.show());
    }
}

/// A matcher for the patterns the document uses, by a real regex engine.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    let re = regex_automata::meta::Regex::new(pattern).unwrap();
    move |s| re.is_match(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_have_unique_ids_words_and_every_status_with_its_headers() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    let control = {
        let r = sb
            .client()
            .get(sb.url("/_sandbox/openapi.json"))
            .basic_auth("demo-admin", Some(""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    let mut ids = BTreeSet::new();
    for d in [&doc, &control] {
        for (path, method, op) in operations(d) {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}"));
            assert!(ids.insert(id.to_string()), "{id} is unique");
            for w in ["summary", "description"] {
                assert!(op[w].as_str().is_some_and(|s| !s.is_empty()), "{id}: {w}");
            }
            let responses = &op["responses"];
            let allow = resolve(d, &responses["405"]["headers"]["Allow"]);
            assert_eq!(allow["required"], true, "{id}: 405 with Allow");
            for (_, r) in responses.as_object().unwrap() {
                assert!(
                    r["headers"].get("X-Sandbox-Fixture-Error").is_some(),
                    "{id}"
                );
            }
        }
    }
    assert!(ids.len() > 60, "{} operations", ids.len());
    assert!(control["paths"].get("/_sandbox/faults").is_some());
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| p.starts_with("/api/"))
    );
    for (path, method, op) in operations(&doc) {
        let r = &op["responses"];
        let retry = resolve(&doc, &r["429"]["headers"]["Retry-After"]);
        assert_eq!(retry["required"], true, "{method} {path}");
        for h in ["X-Request-Id", "X-Sandbox-Warning"] {
            assert!(r["401"]["headers"].get(h).is_some());
        }
    }
    // the control document needs an admin key, as all of /_sandbox/
    let r = sb
        .client()
        .get(sb.url("/_sandbox/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_names_the_host_and_port_the_document_was_fetched_from() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    assert_eq!(
        doc["servers"][0]["url"],
        format!("https://localhost:{}", sb.addr.port())
    );
    let r = sb
        .client()
        .get(sb.url("/openapi.json"))
        .header("Host", "sandbox.test:9443")
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["servers"][0]["url"], "https://sandbox.test:9443");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_are_records_of_the_default_fixtures_and_one_body_form_matches() {
    let sb = Sandbox::start().await;
    let doc = published(&sb, "/openapi.json").await;
    let t = Client::on(sb);
    let read = &doc["paths"]["/api/companies/{Id}"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"];
    let served = t.read("demo-partner-1", "/api/companies/1").await;
    assert_eq!(read["data"]["CompanyId"], 1);
    assert_eq!(read["data"]["Name"], served["Name"]);
    let body =
        &doc["paths"]["/api/companies"]["post"]["requestBody"]["content"]["application/json"];
    let bare = &body["examples"]["bare"]["value"];
    assert_eq!(bare["Name"], served["Name"]);
    assert_eq!(body["examples"]["wrapped"]["value"]["data"], *bare);
    // the bare form excludes a body that is exactly one data object
    let one_of = body["schema"]["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), 2);
    let exclusion = &one_of[0]["allOf"][1]["anyOf"];
    assert_eq!(exclusion[1]["minProperties"], 2);
    assert!(
        !exclusion[0]["properties"]["data"]["type"]
            .as_array()
            .unwrap()
            .contains(&Value::from("object"))
    );
    // every create links to the read, update and delete of what it made
    let links = &doc["paths"]["/api/devices"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["read_created"]["operationId"], "read_devices");
    assert_eq!(
        links["delete_created"]["parameters"]["Id"],
        "$response.body#/data/DeviceId"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postman_puts_query_strings_in_url_query_and_serves_its_environment() {
    let sb = Sandbox::start().await;
    let c = published(&sb, "/postman.json").await;
    let mut requests = Vec::new();
    let mut stack = vec![&c["item"]];
    while let Some(items) = stack.pop() {
        for it in items.as_array().unwrap() {
            if it.get("item").is_some() {
                stack.push(&it["item"]);
            } else {
                requests.push(it);
            }
        }
    }
    let mut with_query = 0;
    for r in &requests {
        let url = &r["request"]["url"];
        for seg in url["path"].as_array().unwrap() {
            assert!(!seg.as_str().unwrap().contains('?'), "{}: {seg}", r["name"]);
        }
        if let Some(q) = url.get("query") {
            with_query += 1;
            assert!(url["raw"].as_str().unwrap().contains('?'));
            for p in q.as_array().unwrap() {
                assert!(p["key"].is_string() && p["value"].is_string(), "{p}");
            }
        }
    }
    assert!(with_query >= 14, "{with_query} requests with a query");
    let env = published(&sb, "/postman_environment.json").await;
    let values = env["values"].as_array().unwrap();
    let base = values.iter().find(|v| v["key"] == "baseUrl").unwrap();
    assert_eq!(
        base["value"],
        format!("https://localhost:{}", sb.addr.port())
    );
    assert!(values.iter().any(|v| v["key"] == "apiKey"));
}
