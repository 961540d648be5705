//! The conformance report (API.md section 13): counts over every `/api/`
//! request of a session, findings with their codes, never_called, the
//! JSON, Markdown and JUnit formats, per-session scope and clearing.

mod common;

use cleverfox_sandbox::config::Settings;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn report(t: &Client, base: &str) -> Value {
    let r = t.get(ADMIN, &format!("{base}/_sandbox/report")).await;
    assert_eq!(r.status, 200, "{}", r.show());
    r.body
}

/// The finding `code` (and `status`, for refused) of a report, if any.
fn finding<'a>(report: &'a Value, code: &str, status: Option<u16>) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code && status.is_none_or(|s| f["status"] == s))
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn company(name: &str, token: Option<&str>) -> Value {
    let mut b = json!({ "Name": name, "PlanTypeId": 1 });
    if let Some(t) = token {
        b["Token"] = json!(t);
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_client_leaves_no_finding_and_counts_every_operation() {
    let t = Client::start().await;
    t.get(PARTNER1, "/api/companies").await;
    t.get(PARTNER1, "/api/companies?PageNo=1&PageSize=10").await;
    t.get(PARTNER1, "/api/companies/1").await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &company("Correct Co", Some("guid-1")),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.data()["CompanyId"].as_i64().unwrap();
    let r = t
        .put(
            PARTNER1,
            &format!("/api/companies/{id}"),
            &json!({ "Phone": "555", "Token": "guid-2" }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/companies/{id}"))
            .await
            .status,
        200
    );
    let rep = report(&t, "").await;
    assert_eq!(rep["findings"], json!([]), "{rep}");
    let ops = rep["operations"].as_array().unwrap();
    let list = ops
        .iter()
        .find(|o| o["collection"] == "companies" && o["operation"] == "list")
        .unwrap();
    assert_eq!(list["requests"], 2);
    assert_eq!(list["statuses"]["200"], 2);
    assert_eq!(ops.len(), 5, "{ops:?}");
    let never = rep["never_called"].as_array().unwrap();
    assert!(never.contains(&json!({ "collection": "jobitems", "operation": "delete" })));
    assert!(!never.contains(&json!({ "collection": "companies", "operation": "read" })));
    assert!(!never.contains(&json!({ "collection": "logs", "operation": "delete" })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_finding_code_is_raised_by_the_request_that_does_it() {
    let t = Client::start().await;
    // ignored_query_parameter
    let q = t.get(PARTNER1, "/api/devices?CompanyId=1").await;
    // page_size_over_limit
    let p = t.get(PARTNER1, "/api/devices?PageSize=1000").await;
    // ignored_attribute
    let a = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Nmae": "x", "Token": "t-a" }),
        )
        .await;
    // not_json_content_type
    let f = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("application/x-www-form-urlencoded"),
            Some("Name=x".into()),
        )
        .await;
    // write_without_token
    let w = t
        .put(PARTNER1, "/api/companies/1", &json!({ "Phone": "1" }))
        .await;
    // empty_token
    let e = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Phone": "2", "Token": "" }),
        )
        .await;
    // duplicate_write_new_token: the same body twice, with two Tokens
    t.post(PARTNER1, "/api/companies", &company("Twice", Some("one")))
        .await;
    let d = t
        .post(PARTNER1, "/api/companies", &company("Twice", Some("two")))
        .await;
    // retry_before_retry_after
    t.add_fault(json!({ "path": "/api/plans", "status": 429, "times": 1 }))
        .await;
    let limited = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(limited.status, 429);
    let retry = t.get(PARTNER1, "/api/plans").await;
    // refused: 404 and 405
    let nf = t.get(PARTNER1, "/api/companies/99999").await;
    let na = t.post(PARTNER1, "/api/logs", &json!({})).await;
    for (r, s) in [
        (&q, 200),
        (&p, 200),
        (&a, 200),
        (&f, 422),
        (&w, 200),
        (&e, 200),
        (&d, 201),
    ] {
        assert_eq!(r.status, s, "{}", r.show());
    }
    let rep = report(&t, "").await;
    for (code, r) in [
        ("ignored_query_parameter", &q),
        ("page_size_over_limit", &p),
        ("ignored_attribute", &a),
        ("not_json_content_type", &f),
        ("write_without_token", &w),
        ("empty_token", &e),
        ("duplicate_write_new_token", &d),
    ] {
        let found = finding(&rep, code, None).unwrap_or_else(|| panic!("{code}: {rep}"));
        assert_eq!(found["example_request_id"], r.request_id(), "{code}");
        assert_eq!(found["count"], 1, "{code}");
        assert!(found["message"].as_str().unwrap().len() > 20);
    }
    let early = finding(&rep, "retry_before_retry_after", None);
    // a fault's 429 names a Retry-After only for rate limits; then no finding
    if limited.header("retry-after").is_some() {
        assert_eq!(early.unwrap()["example_request_id"], retry.request_id());
    }
    let r404 = finding(&rep, "refused", Some(404)).unwrap();
    assert_eq!(r404["example_request_id"], nf.request_id());
    let r405 = finding(&rep, "refused", Some(405)).unwrap();
    assert_eq!(r405["example_request_id"], na.request_id());
    assert_eq!(finding(&rep, "refused", Some(422)).unwrap()["count"], 1);
    for code in codes(&rep) {
        assert!(
            [
                "ignored_query_parameter",
                "ignored_attribute",
                "not_json_content_type",
                "page_size_over_limit",
                "write_without_token",
                "empty_token",
                "duplicate_write_new_token",
                "retry_before_retry_after",
                "refused"
            ]
            .contains(&code.as_str()),
            "{code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sooner_than_retry_after_is_a_finding() {
    let t = Client::start().await;
    t.add_fault(json!({ "path": "/api/plans", "rate_limit": 1, "window_s": 60 }))
        .await;
    assert_eq!(t.get(PARTNER1, "/api/plans").await.status, 200);
    let limited = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    let early = t.get(PARTNER1, "/api/plans").await;
    let rep = report(&t, "").await;
    let f = finding(&rep, "retry_before_retry_after", None).expect("found");
    assert_eq!(f["example_request_id"], early.request_id());
    // another path is not a retry
    t.get(PARTNER1, "/api/plantypes").await;
    let rep = report(&t, "").await;
    assert_eq!(
        finding(&rep, "retry_before_retry_after", None).unwrap()["count"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_go_beyond_the_journal_and_reports_are_per_session() {
    let t = Client::settings(Settings {
        journal: 2,
        ..Settings::default()
    })
    .await;
    for _ in 0..7 {
        t.get(PARTNER1, "/api/plans").await;
    }
    assert_eq!(t.journal("").await.len(), 2);
    let rep = report(&t, "").await;
    assert_eq!(rep["operations"][0]["requests"], 7, "{rep}");
    // session ci-1 sees only its own requests
    t.get(PARTNER1, "/s/ci-1/api/companies/99999").await;
    let one = report(&t, "/s/ci-1").await;
    assert_eq!(one["operations"].as_array().unwrap().len(), 1);
    assert_eq!(one["operations"][0]["collection"], "companies");
    assert!(finding(&report(&t, "").await, "refused", Some(404)).is_none());
    // DELETE clears it; so does a reset of the session
    let r = t.delete(ADMIN, "/_sandbox/report").await;
    assert_eq!(r.status, 200);
    assert_eq!(report(&t, "").await["operations"], json!([]));
    let r = t.post(ADMIN, "/s/ci-1/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(report(&t, "/s/ci-1").await["operations"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_and_junit_formats() {
    let t = Client::start().await;
    t.get(PARTNER1, "/api/companies").await;
    t.get(PARTNER1, "/api/companies/99999").await;
    t.get(PARTNER1, "/api/devices?CompanyId=1").await;
    let md = t.get(ADMIN, "/_sandbox/report?format=markdown").await;
    assert_eq!(md.status, 200);
    assert!(
        md.header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(
        md.text
            .contains("| collection | operation | requests | statuses |")
    );
    assert!(
        md.text.contains("| companies | list | 1 | 200: 1 |"),
        "{}",
        md.text
    );
    assert!(md.text.contains("| refused (404) | 1 |"), "{}", md.text);
    let x = t.get(ADMIN, "/_sandbox/report?format=junit").await;
    assert_eq!(x.status, 200);
    assert!(
        x.header("content-type")
            .unwrap()
            .starts_with("application/xml")
    );
    let cases = junit_cases(&x.text);
    // three operations called (companies list and read, devices list), two findings
    assert_eq!(cases.len(), 5, "{}", x.text);
    let failing: Vec<&(String, bool)> = cases.iter().filter(|c| c.1).collect();
    assert_eq!(failing.len(), 2, "{cases:?}");
    assert!(cases.iter().any(|c| c.0 == "refused 404" && c.1));
    assert!(
        cases
            .iter()
            .any(|c| c.0 == "ignored_query_parameter" && c.1)
    );
    assert!(
        cases
            .iter()
            .any(|c| c.0.starts_with("companies read") && !c.1)
    );
    let bad = t.get(ADMIN, "/_sandbox/report?format=yaml").await;
    refused(&bad, 400, &["format"]);
    // partner keys get 403 there, as everywhere under /_sandbox/
    assert_eq!(t.get(PARTNER1, "/_sandbox/report").await.status, 403);
}

/// The test cases of a JUnit document: (name, failing), read by a small
/// XML reader that checks the nesting.
fn junit_cases(xml: &str) -> Vec<(String, bool)> {
    let body = xml.trim_start_matches(|c| c != '>').trim_start_matches('>');
    let mut stack: Vec<String> = Vec::new();
    let mut cases = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag ends") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "nesting");
            continue;
        }
        let name = tag.split_whitespace().next().unwrap().to_string();
        if name == "testcase" {
            let n = tag
                .split(" name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            cases.push((n.to_string(), false));
        }
        if name == "failure" {
            assert_eq!(stack.last().map(String::as_str), Some("testcase"));
            cases.last_mut().unwrap().1 = true;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "every element closed: {stack:?}");
    assert!(xml.starts_with("<?xml"));
    cases
}
