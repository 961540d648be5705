//! The write side of /api/ over real HTTPS: create, update and delete for
//! every writable collection, forgery protection, bodies, validation,
//! duplicate prevention, generated values, blocked deletes, events,
//! concurrent writes and the sandbox clock (API.md sections 2, 3, 4 and 8).
//!
//! Every refused request is shown to change nothing: the collections and
//! the events both partners see are read before and after.

#[path = "../common/mod.rs"]
mod common;

mod bodies;
mod clock;
mod concurrency;
mod crud;
mod deletes;
mod events;
mod rules;
mod tokens;
mod validation;

use std::collections::BTreeSet;
use std::time::Duration;

use cleverfox_sandbox::config::Settings;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------ harness

/// A sandbox on the default fixtures whose every answer but a 204 must be
/// a JSON object (as every write test asks).
async fn start() -> Client {
    Client::start().await.json_only()
}

async fn start_with_settings(settings: Settings) -> Client {
    Client::settings(settings).await.json_only()
}

async fn start_with(cfg: Config) -> Client {
    Client::with(cfg).await.json_only()
}

/// The events appended since `before` (both newest first), asserting none
/// was lost.
fn new_events(before: &[Value], after: &[Value]) -> Vec<Value> {
    let top = before
        .iter()
        .filter_map(|e| e["EventId"].as_i64())
        .max()
        .unwrap_or(0);
    let new: Vec<Value> = after
        .iter()
        .filter(|e| e["EventId"].as_i64().unwrap() > top)
        .cloned()
        .collect();
    assert_eq!(
        after.len(),
        before.len() + new.len(),
        "an event disappeared or an old id was reused"
    );
    for e in before {
        assert!(after.contains(e), "event changed or disappeared: {e}");
    }
    new
}

/// An event's type id, type name and the ids it names.
type ExpectedEvent = (i64, &'static str, Vec<(&'static str, i64)>);

/// Asserts one event: its type, the ids it names, and that its AddedOn is
/// within `[t0, t1]` of the sandbox clock.
fn assert_event(ev: &Value, type_id: i64, name: &str, names: &[(&str, i64)], t0: &str, t1: &str) {
    assert_eq!(ev["EventTypeId"], type_id, "{ev}");
    assert_eq!(ev["EventType"], name, "{ev}");
    for (attr, id) in names {
        assert_eq!(ev[*attr], *id, "{name} event should name {attr} {id}: {ev}");
    }
    let at = ev["AddedOn"].as_str().expect("event AddedOn");
    assert!(
        t0 <= at && at <= t1,
        "event AddedOn {at} not from the sandbox clock [{t0}, {t1}]"
    );
}

/// A 422 with exactly one sentence per needle, each needle named.
fn invalid_exactly(r: &Resp, needles: &[&str]) -> Vec<String> {
    let errors = refused(r, 422, needles);
    assert_eq!(
        errors.len(),
        needles.len(),
        "expected one sentence per problem {needles:?}: {errors:?}"
    );
    errors
}

/// Replaces every run of digits with `#`, to compare two sentences that
/// differ only in an id.
fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

fn max_fixture_id(coll: &str, key: &str) -> i64 {
    default_fixture(coll)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[key].as_i64())
        .max()
        .unwrap()
}

fn id(rec: &Value, key: &str) -> i64 {
    rec[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no {key}: {rec}"))
}

fn with(body: &Value, extra: Value) -> Value {
    let mut b = body.clone();
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn without(body: &Value, attr: &str) -> Value {
    let mut b = body.clone();
    b.as_object_mut().unwrap().remove(attr);
    b
}

// ------------------------------------------------------------------ bodies

fn company_body(name: &str) -> Value {
    json!({ "PlanTypeId": 1, "Name": name })
}

fn partner_user_body(email: &str) -> Value {
    json!({ "FirstName": "Nora", "LastName": "Quist", "Email": email })
}

fn company_user_body(company: i64, email: &str) -> Value {
    json!({ "CompanyId": company, "FirstName": "Ann", "LastName": "Lee", "Email": email })
}

fn subscription_body(company: i64, plan: i64) -> Value {
    json!({ "CompanyId": company, "PlanId": plan })
}

fn device_body(company: i64, subscription: i64, name: &str) -> Value {
    json!({
        "CompanyId": company,
        "SubscriptionId": subscription,
        "Name": name,
        "TimeZoneId": "Eastern Standard Time"
    })
}

fn job_body(device: i64, name: &str) -> Value {
    json!({
        "DeviceId": device,
        "Name": name,
        "Frequency": "Daily",
        "NextRunOn": "2031-01-01T22:00:00.000",
        "LateAfter": 120,
        "Every": 1,
        "CloudKeepLast": 30,
        "LocalKeepLast": 7
    })
}

fn file_item_body(job: i64) -> Value {
    json!({
        "JobId": job,
        "Name": "Documents",
        "BackupTypeId": 1,
        "BaseFolder": "C:\\Data",
        "SearchPatterns": "*.*",
        "IncludeSubFolders": true
    })
}

fn sql_item_body(job: i64) -> Value {
    json!({
        "JobId": job,
        "Name": "Accounting",
        "BackupTypeId": 2,
        "ServerName": "(local)\\SQLEXPRESS",
        "DatabaseName": "Accounting",
        "AuthenticationMode": "W"
    })
}
