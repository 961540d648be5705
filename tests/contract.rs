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
    assert!(doc["paths"]["/_sandbox/faults"]["post"]["tags"][0] == "sandbox");
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
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, served);

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
