//! The write side of /api/ over real HTTPS: create, update and delete for
//! every writable collection, forgery protection, bodies, validation,
//! duplicate prevention, generated values, blocked deletes, events,
//! concurrent writes and the sandbox clock (API.md sections 2, 3, 4 and 8).
//!
//! Every refused request is shown to change nothing: the collections and
//! the events both partners see are read before and after.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cleverfox_sandbox::config::Settings;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------ harness

/// A running sandbox and one HTTP/1.1 client for it.
struct T {
    sb: Sandbox,
    c: reqwest::Client,
}

const SNAPSHOT: [&str; 11] = [
    "partners",
    "partnerusers",
    "companies",
    "companyusers",
    "subscriptions",
    "devices",
    "jobs",
    "jobitems",
    "logs",
    "logitems",
    "events",
];

impl T {
    async fn start() -> T {
        T::with(Config::default()).await
    }

    async fn settings(settings: Settings) -> T {
        T::with(Config {
            settings,
            ..Config::default()
        })
        .await
    }

    async fn with(cfg: Config) -> T {
        let sb = bounded(Sandbox::with(cfg)).await;
        let c = sb.client();
        T { sb, c }
    }

    async fn send(
        &self,
        key: &str,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Resp {
        let r = self
            .sb
            .request(&self.c, Some(key), method.clone(), path, content_type, body)
            .await;
        if r.status != 204 {
            assert_eq!(
                r.header("content-type"),
                Some("application/json; charset=utf-8".to_string()),
                "{method} {path}: {}",
                r.text
            );
            assert!(
                r.body.is_object(),
                "{method} {path}: not a JSON object: {}",
                r.text
            );
        }
        r
    }

    async fn post(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(
            key,
            Method::POST,
            path,
            Some("application/json"),
            Some(body.to_string()),
        )
        .await
    }

    async fn put(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(
            key,
            Method::PUT,
            path,
            Some("application/json"),
            Some(body.to_string()),
        )
        .await
    }

    async fn get(&self, key: &str, path: &str) -> Resp {
        self.send(key, Method::GET, path, None, None).await
    }

    async fn delete(&self, key: &str, path: &str) -> Resp {
        self.send(key, Method::DELETE, path, None, None).await
    }

    /// GET, asserting 200; the `data` of the answer.
    async fn read(&self, key: &str, path: &str) -> Value {
        let r = self.get(key, path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.data().clone()
    }

    /// The whole collection as `key` sees it (PageSize=500).
    async fn list(&self, key: &str, coll: &str) -> Vec<Value> {
        let page = self.read(key, &format!("/api/{coll}?PageSize=500")).await;
        let rows = page.as_array().expect("list data is an array").clone();
        assert!(rows.len() < 500, "{coll}: more than one page");
        rows
    }

    /// POST, asserting 201; the new record.
    async fn create(&self, key: &str, coll: &str, body: &Value) -> Value {
        let r = self.post(key, &format!("/api/{coll}"), body).await;
        assert_eq!(r.status, 201, "POST /api/{coll} {body}: {}", r.text);
        r.data().clone()
    }

    /// PUT, asserting 200; the updated record.
    async fn update(&self, key: &str, coll: &str, id: i64, body: &Value) -> Value {
        let r = self.put(key, &format!("/api/{coll}/{id}"), body).await;
        assert_eq!(r.status, 200, "PUT /api/{coll}/{id} {body}: {}", r.text);
        r.data().clone()
    }

    /// Everything both partners can list, events included.
    async fn snapshot(&self) -> Value {
        let mut out = serde_json::Map::new();
        for key in [PARTNER1, PARTNER2] {
            for coll in SNAPSHOT {
                let rows = self.list(key, coll).await;
                out.insert(format!("{key} {coll}"), Value::Array(rows));
            }
        }
        Value::Object(out)
    }

    /// Asserts that nothing either partner can see changed since `before`.
    async fn unchanged(&self, before: &Value, what: &str) {
        let after = self.snapshot().await;
        for (k, v) in before.as_object().unwrap() {
            assert!(after[k] == *v, "{what}: {k} changed");
        }
    }

    /// The events `key` sees, newest first.
    async fn events(&self, key: &str) -> Vec<Value> {
        self.list(key, "events").await
    }

    async fn clock(&self) -> Value {
        let r = self.get(ADMIN, "/_sandbox/clock").await;
        assert_eq!(r.status, 200, "GET /_sandbox/clock: {}", r.text);
        r.body
    }

    /// The sandbox clock's `now`.
    async fn now(&self) -> String {
        self.clock().await["now"].as_str().unwrap().to_string()
    }

    async fn move_clock(&self, body: Value) -> Value {
        let r = self.post(ADMIN, "/_sandbox/clock", &body).await;
        assert_eq!(r.status, 200, "POST /_sandbox/clock {body}: {}", r.text);
        r.body
    }

    async fn advance(&self, seconds: f64) {
        self.move_clock(json!({ "advance": seconds })).await;
    }
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

// timestamps (YYYY-MM-DDTHH:MM:SS.mmm) to milliseconds and back

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn ts_ms(s: &str) -> i64 {
    assert_eq!(s.len(), 23, "timestamp form: {s}");
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let days = days_from_civil(n(0..4), n(5..7), n(8..10));
    (((days * 24 + n(11..13)) * 60 + n(14..16)) * 60 + n(17..19)) * 1000 + n(20..23)
}

fn ms_ts(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
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

// ------------------------------------------------------------------ create, read, update, delete

/// One round of create, read, update and delete, checking every promise of
/// API.md sections 3 and 4 along the way.
struct Crud<'a> {
    coll: &'a str,
    key: &'a str,
    body: Value,
    update: Value,
    /// The owners the record's events name.
    owners: Vec<(&'a str, i64)>,
    /// Added, Modified, Deleted.
    events: [(i64, &'a str); 3],
}

const WRITE_ONLY: [&str; 2] = ["Username", "Password"];

async fn crud(t: &T, c: Crud<'_>) -> i64 {
    let coll = c.coll;
    let p2_events = t.events(PARTNER2).await;
    let max_loaded = max_fixture_id(coll, c.key);

    // create
    let events0 = t.events(PARTNER1).await;
    let token = format!("create-{coll}-7b1c");
    let body = with(&c.body, json!({ "Token": token }));
    let t0 = t.now().await;
    let r = t.post(PARTNER1, &format!("/api/{coll}"), &body).await;
    let t1 = t.now().await;
    assert_eq!(r.status, 201, "POST /api/{coll}: {}", r.text);
    let rec = r.data().clone();
    let new_id = id(&rec, c.key);
    assert!(
        new_id > max_loaded,
        "{coll}: id {new_id} not above {max_loaded}"
    );
    let location = r.header("location").expect("Location header");
    assert!(
        location.ends_with(&format!("/api/{coll}/{new_id}")),
        "Location {location}"
    );
    for (k, v) in body.as_object().unwrap() {
        if WRITE_ONLY.contains(&k.as_str()) {
            assert_eq!(rec[k], Value::Null, "{coll}.{k} is write-only");
        } else {
            assert_eq!(rec[k], *v, "{coll}.{k} as stored");
        }
    }
    let added = rec["AddedOn"].as_str().expect("AddedOn").to_string();
    assert!(
        t0 <= added && added <= t1,
        "AddedOn {added} not in [{t0}, {t1}]"
    );
    assert_eq!(rec["UpdatedOn"], Value::Null, "UpdatedOn before any update");
    assert_eq!(rec["Token"], token.as_str(), "Token stored");

    // read it back, through the path and through the Location
    assert_eq!(
        t.read(PARTNER1, &format!("/api/{coll}/{new_id}")).await,
        rec
    );
    let via_location = if location.starts_with("https://") {
        let r = bounded(t.c.get(&location).basic_auth(PARTNER1, Some("x")).send())
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {location}");
        let v: Value = bounded(r.json()).await.unwrap();
        v["data"].clone()
    } else {
        t.read(PARTNER1, &location).await
    };
    assert_eq!(via_location, rec);
    let listed = t.list(PARTNER1, coll).await;
    assert_eq!(listed[0], rec, "the newest record comes first");

    let events1 = t.events(PARTNER1).await;
    let new = new_events(&events0, &events1);
    assert_eq!(new.len(), 1, "one event per create: {new:?}");
    let mut names = c.owners.clone();
    names.push((c.key, new_id));
    assert_event(&new[0], c.events[0].0, c.events[0].1, &names, &t0, &t1);

    // update: a merge
    let utoken = format!("update-{coll}-7b1c");
    let update = with(&c.update, json!({ "Token": utoken }));
    let t2 = t.now().await;
    let r = t
        .put(PARTNER1, &format!("/api/{coll}/{new_id}"), &update)
        .await;
    let t3 = t.now().await;
    assert_eq!(r.status, 200, "PUT /api/{coll}/{new_id}: {}", r.text);
    let upd = r.data().clone();
    for (k, v) in update.as_object().unwrap() {
        if WRITE_ONLY.contains(&k.as_str()) {
            assert_eq!(upd[k], Value::Null, "{coll}.{k} is write-only");
        } else {
            assert_eq!(upd[k], *v, "{coll}.{k} after PUT");
        }
    }
    for (k, v) in rec.as_object().unwrap() {
        if k != "UpdatedOn" && !update.as_object().unwrap().contains_key(k) {
            assert_eq!(upd[k], *v, "PUT changed {coll}.{k}, which it did not name");
        }
    }
    let updated = upd["UpdatedOn"]
        .as_str()
        .expect("UpdatedOn set")
        .to_string();
    assert!(
        t2 <= updated && updated <= t3,
        "UpdatedOn {updated} not in [{t2}, {t3}]"
    );
    assert_eq!(upd["AddedOn"], added.as_str());
    assert_eq!(
        t.read(PARTNER1, &format!("/api/{coll}/{new_id}")).await,
        upd
    );
    let events2 = t.events(PARTNER1).await;
    let new = new_events(&events1, &events2);
    assert_eq!(new.len(), 1, "one event per update: {new:?}");
    assert_event(&new[0], c.events[1].0, c.events[1].1, &names, &t2, &t3);

    // delete: 200 with the record as it was, then 404
    let t4 = t.now().await;
    let r = t.delete(PARTNER1, &format!("/api/{coll}/{new_id}")).await;
    let t5 = t.now().await;
    assert_eq!(r.status, 200, "DELETE /api/{coll}/{new_id}: {}", r.text);
    assert_eq!(*r.data(), upd, "DELETE answers the record as it was");
    let path = format!("/api/{coll}/{new_id}");
    refused(&t.get(PARTNER1, &path).await, 404, &[]);
    refused(&t.delete(PARTNER1, &path).await, 404, &[]);
    refused(&t.put(PARTNER1, &path, &c.update).await, 404, &[]);
    assert!(
        t.list(PARTNER1, coll)
            .await
            .iter()
            .all(|r| r[c.key] != new_id),
        "deleted record still listed"
    );
    let events3 = t.events(PARTNER1).await;
    let new = new_events(&events2, &events3);
    assert_eq!(new.len(), 1, "one event per delete: {new:?}");
    assert_event(&new[0], c.events[2].0, c.events[2].1, &names, &t4, &t5);

    // the other partner saw none of it
    assert_eq!(t.events(PARTNER2).await, p2_events);
    new_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_users_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    let body = partner_user_body("nora.quist@forwardthinking.example.com");
    let id = crud(
        &t,
        Crud {
            coll: "partnerusers",
            key: "PartnerUserId",
            body: body.clone(),
            update: json!({ "MobilePhone": "+1 555-0199", "IsInactive": true }),
            owners: vec![("PartnerId", 1)],
            events: [
                (11, "Partner User Added"),
                (12, "Partner User Modified"),
                (13, "Partner User Deleted"),
            ],
        },
    )
    .await;
    assert!(id > 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    let body = json!({
        "PlanTypeId": 1,
        "Name": "Lakeshore Veterinary Clinic",
        "AddressLine1": "12 Shore Dr",
        "CityMunicipality": "Holland",
        "StateProvidence": "MI",
        "PostalCode": "49423",
        "Country": "US",
        "ExternalId": "FTS-2001",
        "IsInactive": false
    });
    crud(
        &t,
        Crud {
            coll: "companies",
            key: "CompanyId",
            body,
            update: json!({ "Phone": "+1 616-555-0100", "AddressLine2": "Unit 4" }),
            owners: vec![("PartnerId", 1)],
            events: [
                (21, "Company Added"),
                (22, "Company Modified"),
                (23, "Company Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_users_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    crud(
        &t,
        Crud {
            coll: "companyusers",
            key: "CompanyUserId",
            body: company_user_body(1, "ann.lee@abccompany.example.com"),
            update: json!({ "LastName": "Lee-Park", "WorkPhone": "+1 555-555-0111" }),
            owners: vec![("CompanyId", 1)],
            events: [
                (61, "Company User Added"),
                (62, "Company User Modified"),
                (63, "Company User Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    let body = with(
        &subscription_body(1, 2),
        json!({ "ApplicationId": "APP-77", "ExternalId": "SUB-77" }),
    );
    crud(
        &t,
        Crud {
            coll: "subscriptions",
            key: "SubscriptionId",
            body,
            update: json!({
                "SendNotificationTo": "it@abccompany.example.com",
                "SendNotificationOnStorageLimit": true
            }),
            owners: vec![("CompanyId", 1)],
            events: [
                (71, "Subscription Added"),
                (72, "Subscription Modified"),
                (73, "Subscription Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    let body = with(
        &device_body(1, 1, "ABC-WS09"),
        json!({ "ExternalId": "ABC-A0009", "SendNotificationTo": "it@abccompany.example.com",
                "SendNotificationOnJobFailed": true }),
    );
    crud(
        &t,
        Crud {
            coll: "devices",
            key: "DeviceId",
            body,
            update: json!({ "Name": "ABC-WS10", "TimeZoneId": "Central Standard Time" }),
            owners: vec![("CompanyId", 1)],
            events: [
                (31, "Device Added"),
                (32, "Device Modified"),
                (33, "Device Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    crud(
        &t,
        Crud {
            coll: "jobs",
            key: "JobId",
            body: job_body(1, "Weekly archive"),
            update: json!({
                "Frequency": "Weekly",
                "OnSaturday": true,
                "NextRunOn": "2031-01-04T03:00:00.000"
            }),
            owners: vec![("DeviceId", 1), ("CompanyId", 1)],
            events: [(41, "Job Added"), (42, "Job Modified"), (43, "Job Deleted")],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_items_are_created_read_updated_and_deleted() {
    let t = T::start().await;
    crud(
        &t,
        Crud {
            coll: "jobitems",
            key: "JobItemId",
            body: sql_item_body(1),
            update: json!({ "Port": 1433, "OptionCopyOnly": true }),
            owners: vec![("JobId", 1), ("DeviceId", 1), ("CompanyId", 1)],
            events: [
                (51, "Job Item Added"),
                (52, "Job Item Modified"),
                (53, "Job Item Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_updates_its_own_partner_record_only() {
    let t = T::start().await;
    let before_rec = t.read(PARTNER1, "/api/partners/1").await;
    assert_eq!(before_rec["UpdatedOn"], Value::Null);
    let p2 = t.events(PARTNER2).await;
    let e0 = t.events(PARTNER1).await;
    let t0 = t.now().await;
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "ApplicationId": "FTS-INT-2", "Token": "partner-put-1" }),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = r.data().clone();
    assert_eq!(rec["ApplicationId"], "FTS-INT-2");
    assert_eq!(rec["Name"], before_rec["Name"], "merge keeps Name");
    assert_eq!(rec["PlanTypeId"], before_rec["PlanTypeId"]);
    assert_eq!(rec["AddedOn"], before_rec["AddedOn"]);
    assert_eq!(rec["Token"], "partner-put-1");
    let upd = rec["UpdatedOn"].as_str().unwrap();
    assert!(t0.as_str() <= upd && upd <= t1.as_str());
    assert_eq!(t.read(PARTNER1, "/api/partners/1").await, rec);
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 1);
    assert_event(
        &new[0],
        2,
        "Partner Modified",
        &[("PartnerId", 1)],
        &t0,
        &t1,
    );
    assert_eq!(t.events(PARTNER2).await, p2, "partner 2 does not see it");

    // Name is required: null is refused; too long is refused
    let before = t.snapshot().await;
    let r = t
        .put(PARTNER1, "/api/partners/1", &json!({ "Name": null }))
        .await;
    invalid_exactly(&r, &["Name"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "Name": "x".repeat(101) }),
        )
        .await;
    invalid_exactly(&r, &["Name"]);
    t.unchanged(&before, "refused partner PUTs").await;
    // another partner's record does not exist for partner 1
    let r = t
        .put(
            PARTNER1,
            "/api/partners/2",
            &json!({ "Name": "Taken over" }),
        )
        .await;
    refused(&r, 404, &[]);
    t.unchanged(&before, "PUT of another partner").await;
    // PlanTypeId is read-only: ignored, with a warning
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "PlanTypeId": 2, "Name": "Forward Thinking Software, LLC" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["PlanTypeId"], 1);
    assert!(
        r.warnings().iter().any(|w| w.contains("PlanTypeId")),
        "{:?}",
        r.warnings()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_never_reused_after_a_delete() {
    let t = T::start().await;
    let a = t
        .create(PARTNER1, "companies", &company_body("First"))
        .await;
    let a_id = id(&a, "CompanyId");
    assert_eq!(a_id, max_fixture_id("companies", "CompanyId") + 1);
    let r = t.delete(PARTNER1, &format!("/api/companies/{a_id}")).await;
    assert_eq!(r.status, 200);
    let b = t
        .create(PARTNER2, "companies", &company_body("Second"))
        .await;
    assert_eq!(id(&b, "CompanyId"), a_id + 1);
    let job = t.create(PARTNER1, "jobs", &job_body(1, "J")).await;
    let j = id(&job, "JobId");
    assert!(j > max_fixture_id("jobs", "JobId"));
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/jobs/{j}")).await.status,
        200
    );
    let job2 = t.create(PARTNER1, "jobs", &job_body(1, "J")).await;
    assert_eq!(id(&job2, "JobId"), j + 1);
    // deleting the highest loaded id does not free it
    let top = max_fixture_id("jobitems", "JobItemId");
    let r = t.delete(PARTNER2, &format!("/api/jobitems/{top}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let item = t.create(PARTNER2, "jobitems", &file_item_body(24)).await;
    assert_eq!(id(&item, "JobItemId"), top + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_is_a_merge_and_null_clears_an_optional_attribute() {
    let t = T::start().await;
    let before = t.read(PARTNER1, "/api/companies/2").await;
    let after = t
        .update(PARTNER1, "companies", 2, &json!({ "Phone": null }))
        .await;
    assert_eq!(after["Phone"], Value::Null);
    for (k, v) in before.as_object().unwrap() {
        if !["Phone", "UpdatedOn"].contains(&k.as_str()) {
            assert_eq!(after[k], *v, "{k}");
        }
    }
    // an empty body changes nothing but UpdatedOn, and still counts as an update
    let e0 = t.events(PARTNER1).await;
    let again = t.update(PARTNER1, "companies", 2, &json!({})).await;
    for (k, v) in after.as_object().unwrap() {
        if k != "UpdatedOn" {
            assert_eq!(again[k], *v, "{k}");
        }
    }
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["EventTypeId"], 22);
    assert_eq!(new[0]["CompanyId"], 2);
}

// ------------------------------------------------------------------ 405

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_a_resource_does_not_offer_get_405_with_allow() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let cases: [(Method, &str, &[&str]); 12] = [
        (Method::POST, "/api/partners", &["GET"]),
        (Method::DELETE, "/api/partners/1", &["GET", "PUT"]),
        (Method::POST, "/api/logs", &["GET"]),
        (Method::PUT, "/api/logs/1", &["GET"]),
        (Method::DELETE, "/api/logitems/1", &["GET"]),
        (Method::PUT, "/api/plans/1", &["GET"]),
        (Method::POST, "/api/plantypes", &["GET"]),
        (Method::DELETE, "/api/backuptypes/1", &["GET"]),
        (Method::DELETE, "/api/events/1", &["GET"]),
        (Method::PUT, "/api/companies", &["GET", "POST"]),
        (Method::POST, "/api/companies/1", &["GET", "PUT", "DELETE"]),
        (Method::PATCH, "/api/devices/1", &["GET", "PUT", "DELETE"]),
    ];
    for (method, path, allow) in cases {
        let r = t
            .send(
                PARTNER1,
                method.clone(),
                path,
                Some("application/json"),
                Some(r#"{"Name": "x"}"#.into()),
            )
            .await;
        refused(&r, 405, &[]);
        let got: BTreeSet<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow"))
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        let want: BTreeSet<String> = allow.iter().map(|m| m.to_string()).collect();
        assert_eq!(got, want, "{method} {path}");
    }
    // the method is checked before the content type
    let r = t
        .send(
            PARTNER1,
            Method::POST,
            "/api/logs",
            Some("text/plain"),
            Some("x".into()),
        )
        .await;
    refused(&r, 405, &[]);
    t.unchanged(&before, "405s").await;
}

// ------------------------------------------------------------------ forgery protection

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_put_without_a_json_content_type_are_refused_as_forgery() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let json_body = r#"{"PlanTypeId": 1, "Name": "Forged"}"#.to_string();
    let cases: [(Option<&str>, String); 6] = [
        (Some("text/plain"), json_body.clone()),
        (Some("text/plain; charset=utf-8"), json_body.clone()),
        (
            Some("application/x-www-form-urlencoded"),
            "PlanTypeId=1&Name=Forged".into(),
        ),
        (
            Some("multipart/form-data; boundary=XyZ"),
            "--XyZ\r\nContent-Disposition: form-data; name=\"Name\"\r\n\r\nForged\r\n--XyZ--\r\n"
                .into(),
        ),
        (None, json_body.clone()),
        (Some("text/json"), json_body.clone()),
    ];
    for (ct, body) in &cases {
        for (method, path) in [
            (Method::POST, "/api/companies"),
            (Method::PUT, "/api/companies/1"),
        ] {
            let r = t
                .send(PARTNER1, method.clone(), path, *ct, Some(body.clone()))
                .await;
            let errors = refused(&r, 422, &["application/json"]);
            assert!(
                errors.iter().any(|e| e.to_lowercase().contains("forgery")),
                "{method} {path} {ct:?}: {errors:?}"
            );
        }
    }
    t.unchanged(&before, "forged requests").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_content_types_with_parameters_or_other_case_are_accepted() {
    let t = T::start().await;
    for (i, ct) in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON;charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let r = t
            .send(
                PARTNER1,
                Method::POST,
                "/api/companies",
                Some(ct),
                Some(company_body(&format!("Accepted {i}")).to_string()),
            )
            .await;
        assert_eq!(r.status, 201, "{ct}: {}", r.text);
        let r = t
            .send(
                PARTNER1,
                Method::PUT,
                "/api/companies/1",
                Some(ct),
                Some(json!({ "Phone": format!("555-010{i}") }).to_string()),
            )
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
        assert_eq!(r.data()["Phone"], format!("555-010{i}"));
    }
}

// ------------------------------------------------------------------ bodies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_and_wrapped_bodies_are_both_accepted() {
    let t = T::start().await;
    let bare = t
        .create(PARTNER1, "companies", &company_body("Bare Body Ltd"))
        .await;
    assert_eq!(bare["Name"], "Bare Body Ltd");
    let wrapped = t
        .create(
            PARTNER1,
            "companies",
            &json!({ "data": company_body("Wrapped Body Ltd") }),
        )
        .await;
    assert_eq!(wrapped["Name"], "Wrapped Body Ltd");
    assert_eq!(wrapped["PlanTypeId"], 1);
    let id = id(&wrapped, "CompanyId");
    let upd = t
        .update(
            PARTNER1,
            "companies",
            id,
            &json!({ "data": { "Phone": "555-0142" } }),
        )
        .await;
    assert_eq!(upd["Phone"], "555-0142");
    assert_eq!(upd["Name"], "Wrapped Body Ltd");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_gets_400_naming_line_and_column() {
    let t = T::start().await;
    let before = t.snapshot().await;
    for (method, path) in [
        (Method::POST, "/api/companies"),
        (Method::PUT, "/api/companies/1"),
    ] {
        let r = t
            .send(
                PARTNER1,
                method.clone(),
                path,
                Some("application/json"),
                Some("{\n  \"PlanTypeId\": 1,\n  \"Name\": \"Broken\",\n}".into()),
            )
            .await;
        let errors = refused(&r, 400, &["line 4"]);
        assert!(
            errors.iter().any(|e| e.contains("column")),
            "{method}: {errors:?}"
        );
        let r = t
            .send(
                PARTNER1,
                method.clone(),
                path,
                Some("application/json"),
                Some("{\"Name\": \"x\" \"PlanTypeId\": 1}".into()),
            )
            .await;
        let errors = refused(&r, 400, &["line 1"]);
        assert!(
            errors.iter().any(|e| e.contains("column 14")),
            "{method}: {errors:?}"
        );
    }
    t.unchanged(&before, "invalid JSON").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_one_object_get_400() {
    let t = T::start().await;
    let before = t.snapshot().await;
    for body in [
        r#"[{"PlanTypeId": 1, "Name": "In an array"}]"#,
        r#""PlanTypeId=1""#,
        "42",
        "true",
        "null",
        "",
    ] {
        for (method, path) in [
            (Method::POST, "/api/companies"),
            (Method::PUT, "/api/companies/1"),
        ] {
            let r = t
                .send(
                    PARTNER1,
                    method.clone(),
                    path,
                    Some("application/json"),
                    Some(body.into()),
                )
                .await;
            assert_eq!(r.status, 400, "{method} {body:?}: {}", r.text);
            r.errors();
        }
    }
    t.unchanged(&before, "bodies not objects").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_max_body_get_413() {
    let t = T::settings(Settings {
        max_body: 1024,
        ..Settings::default()
    })
    .await;
    let before = t.snapshot().await;
    let big = json!({ "PlanTypeId": 1, "Name": "Too big", "Note": "x".repeat(2000) });
    let r = t.post(PARTNER1, "/api/companies", &big).await;
    refused(&r, 413, &[]);
    let r = t.put(PARTNER1, "/api/companies/1", &big).await;
    refused(&r, 413, &[]);
    // a 413 comes before the JSON is even looked at
    let r = t
        .send(
            PARTNER1,
            Method::POST,
            "/api/companies",
            Some("application/json"),
            Some(format!("{{ not json {}", " ".repeat(1100))),
        )
        .await;
    refused(&r, 413, &[]);
    t.unchanged(&before, "413s").await;
    // just under the limit is served
    let fits = json!({ "PlanTypeId": 1, "Name": "Fits", "Note": "x".repeat(900), "Token": "fits" });
    assert!(fits.to_string().len() < 1024);
    let r = t.post(PARTNER1, "/api/companies", &fits).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // the size is checked before the Token
    let before = t.snapshot().await;
    let big = with(&big, json!({ "Token": "fits" }));
    refused(&t.post(PARTNER1, "/api/companies", &big).await, 413, &[]);
    refused(
        &t.post(PARTNER1, "/api/companies", &fits).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "413 and 409").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_on_post_and_put_are_not_attributes() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // attributes only in the query are missing
    let r = t
        .post(
            PARTNER1,
            "/api/companies?Name=FromQuery&PlanTypeId=1",
            &json!({}),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId", "Name"]);
    t.unchanged(&before, "query-only attributes").await;

    let r = t
        .post(
            PARTNER1,
            "/api/companies?Name=FromQuery&ExternalId=Q-1",
            &company_body("From Body"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["Name"], "From Body");
    assert_eq!(r.data()["ExternalId"], Value::Null);
    let w = r.warnings().join(" | ");
    assert!(w.contains("Name") && w.contains("ExternalId"), "{w}");

    let r = t
        .put(
            PARTNER1,
            "/api/companies/1?IsInactive=true&Phone=1",
            &json!({ "AddressLine2": "Floor 2" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["IsInactive"], false);
    assert_eq!(r.data()["Phone"], Value::Null);
    assert_eq!(r.data()["AddressLine2"], "Floor 2");
    let w = r.warnings().join(" | ");
    assert!(w.contains("IsInactive") && w.contains("Phone"), "{w}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_read_only_attributes_are_ignored_with_a_warning() {
    let t = T::start().await;
    let t0 = t.now().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({
                "PlanTypeId": 1,
                "Name": "Extra Attributes Inc.",
                "FavouriteColour": "teal",
                "CompanyId": 999,
                "AddedOn": "2001-01-01T00:00:00.000",
                "UpdatedOn": "2001-01-02T00:00:00.000",
                "PlanType": { "PlanTypeId": 1 }
            }),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 201, "{}", r.text);
    let rec = r.data();
    assert_ne!(rec["CompanyId"], 999);
    let added = rec["AddedOn"].as_str().unwrap();
    assert!(t0.as_str() <= added && added <= t1.as_str());
    assert_eq!(rec["UpdatedOn"], Value::Null);
    let w = r.warnings().join(" | ");
    for name in ["FavouriteColour", "CompanyId", "AddedOn", "UpdatedOn"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    let new_id = id(rec, "CompanyId");
    assert_eq!(
        refused(&t.get(PARTNER1, "/api/companies/999").await, 404, &[]).len(),
        1
    );

    // on PUT, POST-only attributes are read-only
    let r = t
        .put(
            PARTNER1,
            &format!("/api/companies/{new_id}"),
            &json!({ "PartnerId": 2, "PlanTypeId": 7, "Phone": "555-0123", "Bogus": 1 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["PartnerId"], 1);
    assert_eq!(r.data()["PlanTypeId"], 1);
    assert_eq!(r.data()["Phone"], "555-0123");
    let w = r.warnings().join(" | ");
    for name in ["PartnerId", "PlanTypeId", "Bogus"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    // a device's generated values are read-only too
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(1, 1, "RO-Test"),
                json!({ "ApiKey": "0123456789abcdef0123456789abcdef",
                        "AgentDownloadUrl": "https://example.com/x.exe" }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.data()["ApiKey"], "0123456789abcdef0123456789abcdef");
    assert_ne!(r.data()["AgentDownloadUrl"], "https://example.com/x.exe");
    let w = r.warnings().join(" | ");
    assert!(
        w.contains("ApiKey") && w.contains("AgentDownloadUrl"),
        "{w}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_refuses_unknown_and_read_only_attributes() {
    let t = T::settings(Settings {
        strict: true,
        ..Settings::default()
    })
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Strict"),
                json!({ "FavouriteColour": "teal" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["FavouriteColour"]);
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Strict"),
                json!({ "CompanyId": 50, "AddedOn": "2001-01-01T00:00:00.000" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["CompanyId", "AddedOn"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "PlanTypeId": 1, "Phone": "555-0100" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .put(
            PARTNER1,
            "/api/subscriptions/1",
            &json!({ "Status": "Cancelled" }),
        )
        .await;
    invalid_exactly(&r, &["Status"]);
    t.unchanged(&before, "strict refusals").await;
    // clean bodies are served as usual
    let rec = t
        .create(PARTNER1, "companies", &company_body("Strict"))
        .await;
    assert_eq!(rec["Name"], "Strict");
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Phone": "555-0100" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

// ------------------------------------------------------------------ validation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_of_the_wrong_type_are_refused_naming_the_attribute() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let job = job_body(1, "Typed");
    let cases = [
        (
            "jobs",
            with(&job, json!({ "LateAfter": "120" })),
            "LateAfter",
        ),
        ("jobs", with(&job, json!({ "Every": 1.5 })), "Every"),
        ("jobs", with(&job, json!({ "DeviceId": "1" })), "DeviceId"),
        ("jobs", with(&job, json!({ "Name": 42 })), "Name"),
        (
            "jobs",
            with(&job, json!({ "IsInactive": "true" })),
            "IsInactive",
        ),
        ("jobs", with(&job, json!({ "OnMonday": 1 })), "OnMonday"),
        (
            "jobs",
            with(&job, json!({ "NextRunOn": 20310101 })),
            "NextRunOn",
        ),
        (
            "jobs",
            with(&job, json!({ "Frequency": ["Daily"] })),
            "Frequency",
        ),
        (
            "companies",
            with(&company_body("T"), json!({ "Phone": { "n": 1 } })),
            "Phone",
        ),
        (
            "companies",
            with(&company_body("T"), json!({ "Token": 12345 })),
            "Token",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "T"),
                json!({ "SendNotificationOnJobMissed": "no" }),
            ),
            "SendNotificationOnJobMissed",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "Port": "1433" })),
            "Port",
        ),
    ];
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        invalid_exactly(&r, &[attr]);
    }
    let r = t
        .put(PARTNER1, "/api/jobs/1", &json!({ "CloudKeepLast": "30" }))
        .await;
    invalid_exactly(&r, &["CloudKeepLast"]);
    let r = t
        .put(PARTNER1, "/api/devices/1", &json!({ "Name": false }))
        .await;
    invalid_exactly(&r, &["Name"]);
    t.unchanged(&before, "wrong types").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_problems_of_a_request_are_reported_together() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let body = with(
        &job_body(1, "Three problems"),
        json!({ "LateAfter": "soon", "Frequency": "Yearly", "Every": 0 }),
    );
    let r = t.post(PARTNER1, "/api/jobs", &body).await;
    invalid_exactly(&r, &["LateAfter", "Frequency", "Every"]);
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "LateAfter": 1440, "Name": null, "NextRunOn": "2031-01-01T10:00:00Z" }),
        )
        .await;
    invalid_exactly(&r, &["LateAfter", "Name", "NextRunOn"]);
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({ "FirstName": "x".repeat(26), "LastName": 7, "Email": "nobody" }),
        )
        .await;
    invalid_exactly(&r, &["FirstName", "LastName", "Email"]);
    t.unchanged(&before, "several problems").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_booleans_are_accepted_and_mean_false() {
    let t = T::start().await;
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Null Flags"), json!({ "IsInactive": null })),
        )
        .await;
    assert_eq!(rec["IsInactive"], Value::Null, "the record holds null");
    // a device whose flags are null needs no SendNotificationTo
    let dev = t
        .create(
            PARTNER1,
            "devices",
            &with(
                &device_body(1, 1, "Null-Flags"),
                json!({
                    "IsInactive": null,
                    "SendNotificationOnJobCompleted": null,
                    "SendNotificationOnJobFailed": null,
                    "SendNotificationOnJobMissed": null
                }),
            ),
        )
        .await;
    assert_eq!(dev["SendNotificationOnJobFailed"], Value::Null);
    // device 1 has Failed and Missed on: switching both to null frees the address
    let upd = t
        .update(
            PARTNER1,
            "devices",
            1,
            &json!({
                "SendNotificationOnJobFailed": null,
                "SendNotificationOnJobMissed": null,
                "SendNotificationTo": null
            }),
        )
        .await;
    assert_eq!(upd["SendNotificationTo"], Value::Null);
    assert_eq!(upd["SendNotificationOnJobFailed"], Value::Null);
    // a job item's option flags may be null
    let item = t
        .create(
            PARTNER1,
            "jobitems",
            &with(
                &file_item_body(1),
                json!({ "OptionCompress": null, "IncludeSubFolders": null }),
            ),
        )
        .await;
    assert_eq!(item["OptionCompress"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_longer_than_their_length_are_refused() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let cases = [
        (
            "companies",
            with(&company_body("x"), json!({ "Name": "n".repeat(101) })),
            "Name",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "PostalCode": "1".repeat(51) })),
            "PostalCode",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "ExternalId": "e".repeat(101) })),
            "ExternalId",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "Token": "t".repeat(51) })),
            "Token",
        ),
        (
            "partnerusers",
            with(
                &partner_user_body("a@b.example.com"),
                json!({ "LastName": "l".repeat(26) }),
            ),
            "LastName",
        ),
        (
            "partnerusers",
            with(
                &partner_user_body("a@b.example.com"),
                json!({ "WorkPhone": "5".repeat(21) }),
            ),
            "WorkPhone",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "d"),
                json!({ "ApplicationId": "a".repeat(26) }),
            ),
            "ApplicationId",
        ),
        (
            "jobitems",
            with(
                &sql_item_body(1),
                json!({ "BaseFolder": format!("C:\\{}", "f".repeat(247)) }),
            ),
            "BaseFolder",
        ),
        (
            "jobitems",
            with(&file_item_body(1), json!({ "ServerName": "s".repeat(51) })),
            "ServerName",
        ),
        (
            "jobitems",
            with(
                &file_item_body(1),
                json!({ "DatabaseName": "d".repeat(129) }),
            ),
            "DatabaseName",
        ),
    ];
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        invalid_exactly(&r, &[attr]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Country": "c".repeat(51) }),
        )
        .await;
    invalid_exactly(&r, &["Country"]);
    t.unchanged(&before, "too long").await;
    // exactly the stated length is fine, and length counts characters, not bytes
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(
                &company_body(&"n".repeat(100)),
                json!({ "CityMunicipality": "ä".repeat(50), "Token": "t".repeat(50) }),
            ),
        )
        .await;
    assert_eq!(rec["Name"].as_str().unwrap().len(), 100);
    assert_eq!(rec["CityMunicipality"], "ä".repeat(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_refused_for_its_type_or_length_is_not_also_called_missing() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // one problem each: the value was sent, so it is not "required"
    let cases = [
        (
            "jobitems",
            with(
                &file_item_body(1),
                json!({ "BaseFolder": format!("C:\\{}", "f".repeat(247)) }),
            ),
            "BaseFolder",
        ),
        (
            "jobitems",
            with(&file_item_body(1), json!({ "SearchPatterns": 42 })),
            "SearchPatterns",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "ServerName": "s".repeat(51) })),
            "ServerName",
        ),
        (
            "jobitems",
            with(
                &sql_item_body(1),
                json!({ "DatabaseName": "d".repeat(129) }),
            ),
            "DatabaseName",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "AuthenticationMode": 1 })),
            "AuthenticationMode",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "Typed address"),
                json!({ "SendNotificationOnJobFailed": true, "SendNotificationTo": 42 }),
            ),
            "SendNotificationTo",
        ),
    ];
    let mut doubled = Vec::new();
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        let errors = refused(&r, 422, &[attr]);
        if errors.len() != 1 {
            doubled.push(format!("POST /api/{coll} with one bad {attr}: {errors:?}"));
        }
    }
    t.unchanged(&before, "one bad value").await;
    assert!(
        doubled.is_empty(),
        "one problem, one sentence:\n{}",
        doubled.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_attributes_on_post_are_each_named() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let cases: [(&str, &[&str]); 7] = [
        ("partnerusers", &["FirstName", "LastName", "Email"]),
        ("companies", &["PlanTypeId", "Name"]),
        (
            "companyusers",
            &["CompanyId", "FirstName", "LastName", "Email"],
        ),
        ("subscriptions", &["CompanyId", "PlanId"]),
        (
            "devices",
            &["CompanyId", "SubscriptionId", "Name", "TimeZoneId"],
        ),
        (
            "jobs",
            &[
                "DeviceId",
                "Name",
                "Frequency",
                "NextRunOn",
                "LateAfter",
                "Every",
                "CloudKeepLast",
                "LocalKeepLast",
            ],
        ),
        ("jobitems", &["JobId", "BackupTypeId"]),
    ];
    for (coll, attrs) in cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), &json!({})).await;
        invalid_exactly(&r, attrs);
    }
    // one missing attribute at a time, and null counts as missing
    let job = job_body(1, "Req");
    for attr in [
        "Frequency",
        "NextRunOn",
        "LateAfter",
        "Every",
        "CloudKeepLast",
        "LocalKeepLast",
    ] {
        let r = t.post(PARTNER1, "/api/jobs", &without(&job, attr)).await;
        invalid_exactly(&r, &[attr]);
        let r = t
            .post(PARTNER1, "/api/jobs", &with(&job, json!({ attr: null })))
            .await;
        invalid_exactly(&r, &[attr]);
    }
    t.unchanged(&before, "missing attributes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_attribute_set_to_null_on_put_is_refused() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let cases = [
        ("/api/partnerusers/2", "FirstName"),
        ("/api/partnerusers/2", "Email"),
        ("/api/companies/1", "Name"),
        ("/api/companyusers/1", "LastName"),
        ("/api/devices/1", "TimeZoneId"),
        ("/api/devices/1", "Name"),
        ("/api/jobs/1", "Frequency"),
        ("/api/jobs/1", "NextRunOn"),
        ("/api/jobs/1", "Every"),
        ("/api/jobs/1", "LocalKeepLast"),
        ("/api/jobitems/1", "BackupTypeId"),
    ];
    for (path, attr) in cases {
        let r = t.put(PARTNER1, path, &json!({ attr: null })).await;
        invalid_exactly(&r, &[attr]);
    }
    t.unchanged(&before, "required set to null").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frequency_is_one_of_the_list_and_both_monthly_spellings_are_stored_as_sent() {
    let t = T::start().await;
    for f in ["Hourly", "Daily", "Weekly", "Monthy", "Monthly", "One Time"] {
        let rec = t
            .create(
                PARTNER1,
                "jobs",
                &with(&job_body(1, f), json!({ "Frequency": f })),
            )
            .await;
        assert_eq!(rec["Frequency"], f);
        assert_eq!(
            t.read(PARTNER1, &format!("/api/jobs/{}", id(&rec, "JobId")))
                .await["Frequency"],
            f
        );
    }
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "Frequency": "Monthy", "DayOfMonth": 31 }),
        )
        .await;
    assert_eq!(upd["Frequency"], "Monthy");
    let before = t.snapshot().await;
    for f in ["Yearly", "", "Every day"] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "F"), json!({ "Frequency": f })),
            )
            .await;
        invalid_exactly(&r, &["Frequency"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "Frequency": "Fortnightly" }),
        )
        .await;
    invalid_exactly(&r, &["Frequency"]);
    t.unchanged(&before, "bad Frequency").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_attributes_are_kept_within_their_ranges() {
    let t = T::start().await;
    let job = job_body(1, "Ranges");
    let item = sql_item_body(1);
    // the bounds themselves are accepted
    for (attr, v) in [
        ("LateAfter", 0),
        ("LateAfter", 1439),
        ("Every", 1),
        ("Every", 999),
        ("CloudKeepLast", 0),
        ("CloudKeepLast", 999),
        ("LocalKeepLast", 0),
        ("LocalKeepLast", 999),
        ("DayOfMonth", 1),
        ("DayOfMonth", 31),
    ] {
        let rec = t
            .create(PARTNER1, "jobs", &with(&job, json!({ attr: v })))
            .await;
        assert_eq!(rec[attr], v);
    }
    for v in [1, 65535] {
        let rec = t
            .create(PARTNER1, "jobitems", &with(&item, json!({ "Port": v })))
            .await;
        assert_eq!(rec["Port"], v);
    }
    let before = t.snapshot().await;
    for (attr, v) in [
        ("LateAfter", -1),
        ("LateAfter", 1440),
        ("Every", 0),
        ("Every", 1000),
        ("CloudKeepLast", -1),
        ("CloudKeepLast", 1000),
        ("LocalKeepLast", -1),
        ("LocalKeepLast", 1000),
        ("DayOfMonth", 0),
        ("DayOfMonth", 32),
    ] {
        let r = t
            .post(PARTNER1, "/api/jobs", &with(&job, json!({ attr: v })))
            .await;
        invalid_exactly(&r, &[attr]);
        let r = t.put(PARTNER1, "/api/jobs/1", &json!({ attr: v })).await;
        invalid_exactly(&r, &[attr]);
    }
    for v in [0, 65536, -1433] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobitems",
                &with(&item, json!({ "Port": v })),
            )
            .await;
        invalid_exactly(&r, &["Port"]);
    }
    let r = t
        .put(PARTNER1, "/api/jobitems/1", &json!({ "Port": 70000 }))
        .await;
    invalid_exactly(&r, &["Port"]);
    t.unchanged(&before, "out of range").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_zone_ids_must_be_windows_ids_from_the_list() {
    let t = T::start().await;
    for tz in ["W. Europe Standard Time", "Pacific Standard Time", "UTC"] {
        let rec = t
            .create(
                PARTNER1,
                "devices",
                &with(&device_body(1, 1, tz), json!({ "TimeZoneId": tz })),
            )
            .await;
        assert_eq!(rec["TimeZoneId"], tz);
        let _ = t
            .delete(PARTNER1, &format!("/api/devices/{}", id(&rec, "DeviceId")))
            .await;
    }
    let before = t.snapshot().await;
    for tz in [
        "Europe/Berlin",
        "eastern standard time",
        "EST",
        "Mars Standard Time",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(&device_body(1, 1, "TZ"), json!({ "TimeZoneId": tz })),
            )
            .await;
        invalid_exactly(&r, &["TimeZoneId"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/devices/1",
            &json!({ "TimeZoneId": "America/New_York" }),
        )
        .await;
    invalid_exactly(&r, &["TimeZoneId"]);
    t.unchanged(&before, "bad time zones").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_times_are_accepted_without_seconds_or_fraction_but_not_with_a_zone() {
    let t = T::start().await;
    for (sent, stored) in [
        ("2031-03-01T08:30", "2031-03-01T08:30:00.000"),
        ("2031-03-01T08:30:15", "2031-03-01T08:30:15.000"),
        ("2031-03-01T08:30:15.250", "2031-03-01T08:30:15.250"),
        ("2031-03-01T08:30:15.5", "2031-03-01T08:30:15.500"),
    ] {
        let rec = t
            .create(
                PARTNER1,
                "jobs",
                &with(
                    &job_body(1, sent),
                    json!({ "NextRunOn": sent, "ExpireOn": sent }),
                ),
            )
            .await;
        assert_eq!(rec["NextRunOn"], stored, "{sent}");
        assert_eq!(rec["ExpireOn"], stored, "{sent}");
    }
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "NextRunOn": "2031-05-05T23:00" }),
        )
        .await;
    assert_eq!(upd["NextRunOn"], "2031-05-05T23:00:00.000");

    let before = t.snapshot().await;
    for zoned in [
        "2031-03-01T08:30:00Z",
        "2031-03-01T08:30:00.000Z",
        "2031-03-01T08:30:00+02:00",
        "2031-03-01T08:30:00.000-05:00",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "Z"), json!({ "NextRunOn": zoned })),
            )
            .await;
        let errors = invalid_exactly(&r, &["NextRunOn"]);
        assert!(
            errors[0].contains("local time"),
            "{zoned}: the error should explain a local time: {errors:?}"
        );
        let r = t
            .put(PARTNER1, "/api/jobs/1", &json!({ "ExpireOn": zoned }))
            .await;
        let errors = invalid_exactly(&r, &["ExpireOn"]);
        assert!(errors[0].contains("local time"), "{errors:?}");
    }
    for bad in [
        "tomorrow",
        "2031-02-30T08:30:00",
        "2031-03-01 08:30:00",
        "2031-03-01",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "B"), json!({ "NextRunOn": bad })),
            )
            .await;
        invalid_exactly(&r, &["NextRunOn"]);
    }
    t.unchanged(&before, "zoned local times").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_attributes_must_look_like_addresses() {
    let t = T::start().await;
    let before = t.snapshot().await;
    for bad in [
        "not-an-email",
        "user@",
        "@example.com",
        "user example@example.com",
        "user@exa mple.com",
        "a@b.com;c@d.com",
    ] {
        let r = t
            .post(PARTNER1, "/api/partnerusers", &partner_user_body(bad))
            .await;
        invalid_exactly(&r, &["Email"]);
        let r = t
            .post(PARTNER1, "/api/companyusers", &company_user_body(1, bad))
            .await;
        invalid_exactly(&r, &["Email"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/partnerusers/2",
            &json!({ "Email": "diane.walsh" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    t.unchanged(&before, "bad e-mail addresses").await;
    let rec = t
        .create(
            PARTNER1,
            "partnerusers",
            &partner_user_body("first.last+tag@sub.example.co.uk"),
        )
        .await;
    assert_eq!(rec["Email"], "first.last+tag@sub.example.co.uk");

    // two at signs: "user@" is not the local part of an address
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &partner_user_body("user@@example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &company_user_body(1, "user@@example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    t.unchanged(&before, "two at signs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_lists_accept_each_separator_and_refuse_a_bad_item() {
    let t = T::start().await;
    let lists = [
        "a@abccompany.example.com",
        "a@abccompany.example.com,b@abccompany.example.com",
        "a@abccompany.example.com;b@abccompany.example.com",
        "a@abccompany.example.com:b@abccompany.example.com",
        "a@abccompany.example.com\r\nb@abccompany.example.com",
        "a@abccompany.example.com; b@abccompany.example.com, c@abccompany.example.com",
    ];
    for (i, list) in lists.iter().enumerate() {
        let dev = t
            .create(
                PARTNER1,
                "devices",
                &with(
                    &device_body(1, 1, &format!("List-{i}")),
                    json!({ "SendNotificationTo": list, "SendNotificationCc": list,
                            "SendNotificationBcc": list, "SendNotificationOnJobCompleted": true }),
                ),
            )
            .await;
        assert_eq!(dev["SendNotificationTo"], *list);
        assert_eq!(dev["SendNotificationCc"], *list);
        assert_eq!(dev["SendNotificationBcc"], *list);
        let _ = t
            .delete(PARTNER1, &format!("/api/devices/{}", id(&dev, "DeviceId")))
            .await;
        let sub = t
            .update(
                PARTNER1,
                "subscriptions",
                1,
                &json!({ "SendNotificationTo": list, "SendNotificationCc": list,
                         "SendNotificationBcc": list }),
            )
            .await;
        assert_eq!(sub["SendNotificationTo"], *list);
        assert_eq!(sub["SendNotificationBcc"], *list);
    }
    let before = t.snapshot().await;
    for bad in [
        "a@abccompany.example.com;nope",
        "nope",
        "a@abccompany.example.com, b@",
        "a@abccompany.example.com\r\nnot an address",
    ] {
        for attr in [
            "SendNotificationTo",
            "SendNotificationCc",
            "SendNotificationBcc",
        ] {
            let r = t
                .post(
                    PARTNER1,
                    "/api/devices",
                    &with(&device_body(1, 1, "Bad list"), json!({ attr: bad })),
                )
                .await;
            invalid_exactly(&r, &[attr]);
            let r = t
                .put(PARTNER1, "/api/subscriptions/1", &json!({ attr: bad }))
                .await;
            invalid_exactly(&r, &[attr]);
            let r = t
                .post(
                    PARTNER1,
                    "/api/subscriptions",
                    &with(&subscription_body(1, 2), json!({ attr: bad })),
                )
                .await;
            invalid_exactly(&r, &[attr]);
        }
    }
    t.unchanged(&before, "bad address lists").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_notification_to_is_required_while_a_notification_flag_is_true() {
    let t = T::start().await;
    let before = t.snapshot().await;
    for flag in [
        "SendNotificationOnJobCompleted",
        "SendNotificationOnJobFailed",
        "SendNotificationOnJobMissed",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(&device_body(1, 1, "Notify"), json!({ flag: true })),
            )
            .await;
        invalid_exactly(&r, &["SendNotificationTo"]);
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(
                    &device_body(1, 1, "Notify"),
                    json!({ flag: true, "SendNotificationTo": null, "SendNotificationCc": "cc@abccompany.example.com" }),
                ),
            )
            .await;
        invalid_exactly(&r, &["SendNotificationTo"]);
    }
    // device 1 has SendNotificationOnJobFailed on: its address cannot be removed
    let r = t
        .put(
            PARTNER1,
            "/api/devices/1",
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    // a subscription's storage-limit flag needs one too
    let r = t
        .post(
            PARTNER1,
            "/api/subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "SendNotificationOnStorageLimit": true }),
            ),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    // subscription 1 has the storage flag on and an address
    let r = t
        .put(
            PARTNER1,
            "/api/subscriptions/1",
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    t.unchanged(&before, "missing SendNotificationTo").await;

    // with an address, or with the flag off, it is served
    let dev = t
        .create(
            PARTNER1,
            "devices",
            &with(
                &device_body(1, 1, "Notify"),
                json!({ "SendNotificationOnJobMissed": true,
                        "SendNotificationTo": "ops@abccompany.example.com" }),
            ),
        )
        .await;
    let dev_id = id(&dev, "DeviceId");
    let r = t
        .put(
            PARTNER1,
            &format!("/api/devices/{dev_id}"),
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    let upd = t
        .update(
            PARTNER1,
            "devices",
            dev_id,
            &json!({ "SendNotificationOnJobMissed": false, "SendNotificationTo": null }),
        )
        .await;
    assert_eq!(upd["SendNotificationTo"], Value::Null);
    let r = t
        .put(
            PARTNER1,
            &format!("/api/devices/{dev_id}"),
            &json!({ "SendNotificationOnJobCompleted": true }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    let sub = t
        .create(
            PARTNER1,
            "subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "SendNotificationOnStorageLimit": true,
                        "SendNotificationTo": "billing@abccompany.example.com" }),
            ),
        )
        .await;
    assert_eq!(sub["SendNotificationOnStorageLimit"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_items_follow_the_rules_of_their_engine_type() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // File needs BaseFolder and SearchPatterns
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &json!({ "JobId": 1, "BackupTypeId": 1, "Name": "No folder" }),
        )
        .await;
    invalid_exactly(&r, &["BaseFolder", "SearchPatterns"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &without(&file_item_body(1), "SearchPatterns"),
        )
        .await;
    invalid_exactly(&r, &["SearchPatterns"]);
    // SQL Server needs ServerName, DatabaseName and AuthenticationMode
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &json!({ "JobId": 1, "BackupTypeId": 2, "Name": "No server" }),
        )
        .await;
    invalid_exactly(&r, &["ServerName", "DatabaseName", "AuthenticationMode"]);
    // mode S needs Username and Password
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&sql_item_body(1), json!({ "AuthenticationMode": "S" })),
        )
        .await;
    invalid_exactly(&r, &["Username", "Password"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(
                &sql_item_body(1),
                json!({ "AuthenticationMode": "S", "Username": "sa" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["Password"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&sql_item_body(1), json!({ "AuthenticationMode": "X" })),
        )
        .await;
    invalid_exactly(&r, &["AuthenticationMode"]);
    // the merged record must satisfy the rules: job item 3 is a File item
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BackupTypeId": 2 }))
        .await;
    invalid_exactly(&r, &["ServerName", "DatabaseName", "AuthenticationMode"]);
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BaseFolder": null }))
        .await;
    invalid_exactly(&r, &["BaseFolder"]);
    // job item 1 is SQL Server with mode W
    let r = t
        .put(
            PARTNER1,
            "/api/jobitems/1",
            &json!({ "AuthenticationMode": "S" }),
        )
        .await;
    invalid_exactly(&r, &["Username", "Password"]);
    t.unchanged(&before, "job item rules").await;

    let file = t.create(PARTNER1, "jobitems", &file_item_body(1)).await;
    assert_eq!(file["BackupTypeId"], 1);
    assert_eq!(file["BackupType"]["BackupTypeId"], 1);
    let sql = t.create(PARTNER1, "jobitems", &sql_item_body(1)).await;
    assert_eq!(sql["AuthenticationMode"], "W");
    let upd = t
        .update(
            PARTNER1,
            "jobitems",
            1,
            &json!({ "AuthenticationMode": "S", "Username": "backup", "Password": "pw-1" }),
        )
        .await;
    assert_eq!(upd["AuthenticationMode"], "S");
    // a File item turned SQL Server with what SQL needs
    let upd = t
        .update(
            PARTNER1,
            "jobitems",
            3,
            &json!({ "BackupTypeId": 2, "ServerName": "SQL01", "DatabaseName": "Db",
                     "AuthenticationMode": "W" }),
        )
        .await;
    assert_eq!(upd["BackupType"]["BackupTypeId"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_and_passwords_are_accepted_but_always_rendered_null() {
    let t = T::start().await;
    let secret = "Sup3r-S3cret-Pa55";
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(
                &sql_item_body(1),
                json!({ "AuthenticationMode": "S", "Username": "backup_operator", "Password": secret }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["Username"], Value::Null);
    assert_eq!(r.data()["Password"], Value::Null);
    assert!(!r.text.contains(secret) && !r.text.contains("backup_operator"));
    let item = id(r.data(), "JobItemId");
    let read = t.get(PARTNER1, &format!("/api/jobitems/{item}")).await;
    assert_eq!(read.data()["Username"], Value::Null);
    assert_eq!(read.data()["Password"], Value::Null);
    assert!(!read.text.contains(secret));
    let list = t.get(PARTNER1, "/api/jobitems?PageSize=500").await;
    assert!(!list.text.contains(secret) && !list.text.contains("backup_operator"));
    let job = t.get(PARTNER1, "/api/jobs/1").await;
    assert!(!job.text.contains(secret));
    // they are stored: a PUT naming neither still satisfies mode S
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Name": "Renamed" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["Username"], Value::Null);
    assert_eq!(r.data()["Password"], Value::Null);
    // a refusal does not echo them either
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Password": "y".repeat(251), "Port": 0 }),
        )
        .await;
    invalid_exactly(&r, &["Password", "Port"]);
    assert!(!r.text.contains(&"y".repeat(40)), "{}", r.text);
    // and clearing one breaks mode S
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Password": null }),
        )
        .await;
    invalid_exactly(&r, &["Password"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_id_defaults_to_the_callers_partner_and_another_partner_does_not_exist() {
    let t = T::start().await;
    let absent = t
        .create(PARTNER1, "companies", &company_body("No PartnerId"))
        .await;
    assert_eq!(absent["PartnerId"], 1);
    assert_eq!(absent["Partner"]["PartnerId"], 1);
    // the vendor's own example posts "PartnerId": null
    let example = vendor_example("duplicate-prevention-create-request.json");
    assert_eq!(example["PartnerId"], Value::Null);
    let rec = t.create(PARTNER1, "companies", &example).await;
    assert_eq!(rec["PartnerId"], 1);
    assert_eq!(rec["Name"], example["Name"]);
    assert_eq!(rec["Token"], example["Token"]);
    let explicit = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Explicit"), json!({ "PartnerId": 1 })),
        )
        .await;
    assert_eq!(explicit["PartnerId"], 1);
    let p2 = t
        .create(
            PARTNER2,
            "companies",
            &with(&company_body("Partner two's"), json!({ "PartnerId": null })),
        )
        .await;
    assert_eq!(p2["PartnerId"], 2);
    let user = t
        .create(
            PARTNER1,
            "partnerusers",
            &with(
                &partner_user_body("pid.null@forwardthinking.example.com"),
                json!({ "PartnerId": null }),
            ),
        )
        .await;
    assert_eq!(user["PartnerId"], 1);
    let user = t
        .create(
            PARTNER2,
            "partnerusers",
            &partner_user_body("pid.absent@kv.example.com"),
        )
        .await;
    assert_eq!(user["PartnerId"], 2);

    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Elsewhere"), json!({ "PartnerId": 2 })),
        )
        .await;
    let other = invalid_exactly(&r, &["PartnerId"]);
    assert!(other[0].contains("does not exist"), "{other:?}");
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Elsewhere"), json!({ "PartnerId": 9999 })),
        )
        .await;
    let nowhere = invalid_exactly(&r, &["PartnerId"]);
    assert_eq!(shape(&other[0]), shape(&nowhere[0]));
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("x@forwardthinking.example.com"),
                json!({ "PartnerId": 2 }),
            ),
        )
        .await;
    let errors = invalid_exactly(&r, &["PartnerId"]);
    assert!(errors[0].contains("does not exist"), "{errors:?}");
    t.unchanged(&before, "another partner's PartnerId").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_outside_the_partners_scope_do_not_exist() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // (collection, body naming partner 2's parent, body naming a parent that exists nowhere, attr)
    let cases = [
        (
            "companyusers",
            company_user_body(4, "x@kv.example.com"),
            company_user_body(9999, "x@kv.example.com"),
            "CompanyId",
        ),
        (
            "subscriptions",
            subscription_body(4, 2),
            subscription_body(9999, 2),
            "CompanyId",
        ),
        ("jobs", job_body(8, "J"), job_body(9999, "J"), "DeviceId"),
        (
            "jobitems",
            file_item_body(10),
            file_item_body(9999),
            "JobId",
        ),
    ];
    for (coll, theirs, nowhere, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), theirs).await;
        let a = invalid_exactly(&r, &[attr]);
        assert!(a[0].contains("does not exist"), "{coll}: {a:?}");
        let r = t.post(PARTNER1, &format!("/api/{coll}"), nowhere).await;
        let b = invalid_exactly(&r, &[attr]);
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
    }
    // a device naming partner 2's company and subscription
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(4, 4, "D"))
        .await;
    let errors = refused(&r, 422, &["CompanyId", "SubscriptionId"]);
    assert!(
        errors.iter().all(|e| e.contains("does not exist")),
        "{errors:?}"
    );
    // a device naming its own company and partner 2's subscription
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(1, 4, "D"))
        .await;
    let errors = invalid_exactly(&r, &["SubscriptionId"]);
    assert!(errors[0].contains("does not exist"), "{errors:?}");
    // another partner's records cannot be updated or deleted: 404, as for none at all
    for (coll, theirs) in [
        ("partnerusers", 3),
        ("companies", 4),
        ("companyusers", 5),
        ("subscriptions", 4),
        ("devices", 8),
        ("jobs", 10),
        ("jobitems", 13),
    ] {
        let a = refused(
            &t.put(
                PARTNER1,
                &format!("/api/{coll}/{theirs}"),
                &json!({ "Name": "Mine" }),
            )
            .await,
            404,
            &[],
        );
        let b = refused(
            &t.put(
                PARTNER1,
                &format!("/api/{coll}/99999"),
                &json!({ "Name": "Mine" }),
            )
            .await,
            404,
            &[],
        );
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
        let a = refused(
            &t.delete(PARTNER1, &format!("/api/{coll}/{theirs}")).await,
            404,
            &[],
        );
        let b = refused(
            &t.delete(PARTNER1, &format!("/api/{coll}/99999")).await,
            404,
            &[],
        );
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
    }
    t.unchanged(&before, "out-of-scope parents").await;
}

/// The default fixtures with an inactive plan type (2), an inactive backup
/// type (3) and subscription 3 inactive.
fn fixtures_with_inactive_references() -> tempfile::TempDir {
    let mut plantypes = default_fixture("plantypes");
    plantypes
        .as_array_mut()
        .unwrap()
        .push(json!({ "PlanTypeId": 2, "Name": "Retired Plan Type", "IsInactive": true }));
    let mut backuptypes = default_fixture("backuptypes");
    backuptypes.as_array_mut().unwrap().push(json!({
        "BackupTypeId": 3, "EngineId": "LEGACY", "Name": "Legacy Files",
        "EngineType": "File", "Port": null, "IsInactive": true
    }));
    let mut subs = default_fixture("subscriptions");
    for s in subs.as_array_mut().unwrap() {
        if s["SubscriptionId"] == 3 {
            s["IsInactive"] = json!(true);
        }
    }
    fixtures_with(&[
        ("plantypes", &plantypes.to_string()),
        ("backuptypes", &backuptypes.to_string()),
        ("subscriptions", &subs.to_string()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_plan_types_plans_backup_types_and_subscriptions_are_refused() {
    let dir = fixtures_with_inactive_references();
    let t = T::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 2, "Name": "Retired" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 5))
        .await;
    invalid_exactly(&r, &["PlanId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&file_item_body(1), json!({ "BackupTypeId": 3 })),
        )
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BackupTypeId": 3 }))
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &device_body(3, 3, "On an inactive subscription"),
        )
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    // ids that exist nowhere
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 99, "Name": "Nowhere" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 99))
        .await;
    invalid_exactly(&r, &["PlanId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&file_item_body(1), json!({ "BackupTypeId": 99 })),
        )
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    t.unchanged(&before, "inactive references").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_5_is_inactive_in_the_default_fixtures() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 5))
        .await;
    let errors = invalid_exactly(&r, &["PlanId"]);
    assert!(errors[0].contains("inactive"), "{errors:?}");
    t.unchanged(&before, "inactive plan").await;
    let sub = t
        .create(PARTNER1, "subscriptions", &subscription_body(1, 4))
        .await;
    assert_eq!(sub["Plan"]["PlanId"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devices_subscription_must_belong_to_its_company() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // subscription 2 belongs to company 2, of the same partner
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(1, 2, "Crossed"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 1, "Crossed"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "subscription of another company")
        .await;
    let dev = t
        .create(PARTNER1, "devices", &device_body(2, 2, "Matched"))
        .await;
    assert_eq!(dev["Subscription"]["SubscriptionId"], 2);
    assert_eq!(dev["Company"]["CompanyId"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mails_and_external_ids_are_unique_within_their_scope() {
    let t = T::start().await;
    let before = t.snapshot().await;
    // partner users: Email unique within the partner, ignoring case
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &partner_user_body("SUPPORT@CleverFoxBackup.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partnerusers/2",
            &json!({ "Email": "Support@cleverfoxbackup.com" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    // company users: Email unique within the company, ignoring case
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &company_user_body(1, "ALICE.BRENNAN@abccompany.example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companyusers/10",
            &json!({ "Email": "Alice.Brennan@ABCcompany.example.com" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    // ExternalId of companies, subscriptions and devices: unique within the partner
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Dup"), json!({ "ExternalId": "FTS-1042" })),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "ExternalId": "FTS-1077" }),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .post(
            PARTNER2,
            "/api/subscriptions",
            &with(
                &subscription_body(6, 2),
                json!({ "ExternalId": "VTR-2019-004" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(1, 1, "Dup"),
                json!({ "ExternalId": "GLDG-A0001" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    t.unchanged(&before, "uniqueness").await;

    // the same values are free in another scope
    let u = t
        .create(
            PARTNER2,
            "partnerusers",
            &partner_user_body("support@cleverfoxbackup.com"),
        )
        .await;
    assert_eq!(u["PartnerId"], 2);
    let cu = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(2, "alice.brennan@abccompany.example.com"),
        )
        .await;
    assert_eq!(cu["CompanyId"], 2);
    let c = t
        .create(
            PARTNER2,
            "companies",
            &with(
                &company_body("Same external id"),
                json!({ "ExternalId": "FTS-1042" }),
            ),
        )
        .await;
    assert_eq!(c["ExternalId"], "FTS-1042");
    let s = t
        .create(
            PARTNER1,
            "subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "ExternalId": "VTR-2019-004" }),
            ),
        )
        .await;
    assert_eq!(s["ExternalId"], "VTR-2019-004");
    let d = t
        .create(
            PARTNER2,
            "devices",
            &with(
                &device_body(4, 4, "Same external id"),
                json!({ "ExternalId": "GLDG-A0001" }),
            ),
        )
        .await;
    assert_eq!(d["ExternalId"], "GLDG-A0001");
    // a record does not clash with itself, and null ExternalIds never clash
    let own = t
        .update(
            PARTNER1,
            "partnerusers",
            2,
            &json!({ "Email": "DIANE.WALSH@forwardthinking.example.com" }),
        )
        .await;
    assert_eq!(own["Email"], "DIANE.WALSH@forwardthinking.example.com");
    let own = t
        .update(
            PARTNER1,
            "companies",
            2,
            &json!({ "ExternalId": "FTS-1042" }),
        )
        .await;
    assert_eq!(own["ExternalId"], "FTS-1042");
    for name in ["Null A", "Null B"] {
        let c = t
            .create(
                PARTNER1,
                "companies",
                &with(&company_body(name), json!({ "ExternalId": null })),
            )
            .await;
        assert_eq!(c["ExternalId"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_limit_holds_on_create_and_on_reactivation() {
    let t = T::start().await;
    // subscription 8 (company 2, plan 1: DeviceLimit 1) has device 17 active
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 8, "One too many"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(2, 8, "Null is active"),
                json!({ "IsInactive": null }),
            ),
        )
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device limit on create").await;

    // an inactive device does not count
    let spare = t
        .create(
            PARTNER1,
            "devices",
            &with(&device_body(2, 8, "Spare"), json!({ "IsInactive": true })),
        )
        .await;
    let spare_id = id(&spare, "DeviceId");
    let before = t.snapshot().await;
    let path = format!("/api/devices/{spare_id}");
    let r = t
        .put(PARTNER1, &path, &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t.put(PARTNER1, &path, &json!({ "IsInactive": null })).await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device limit on re-activation").await;

    // swap: retire device 17, then the spare fits; then device 17 does not
    t.update(PARTNER1, "devices", 17, &json!({ "IsInactive": true }))
        .await;
    let on = t
        .update(
            PARTNER1,
            "devices",
            spare_id,
            &json!({ "IsInactive": false }),
        )
        .await;
    assert_eq!(on["IsInactive"], false);
    let before = t.snapshot().await;
    let r = t
        .put(PARTNER1, "/api/devices/17", &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device 17 re-activation").await;
    // editing an active device on a full subscription is not a re-activation
    let renamed = t
        .update(PARTNER1, "devices", spare_id, &json!({ "Name": "Primary" }))
        .await;
    assert_eq!(renamed["Name"], "Primary");

    // subscription 2: plan 2 (DeviceLimit 5) plus AdditionalDevice 1, devices 4 and 5 active
    for i in 0..4 {
        t.create(
            PARTNER1,
            "devices",
            &device_body(2, 2, &format!("GLDG-N{i}")),
        )
        .await;
    }
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 2, "Seventh"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    // device 6 is inactive on subscription 2
    let r = t
        .put(PARTNER1, "/api/devices/6", &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "plan limit plus AdditionalDevice")
        .await;
    // device 7 is inactive on subscription 3 (plan 1), which has no active device
    let back = t
        .update(PARTNER1, "devices", 7, &json!({ "IsInactive": false }))
        .await;
    assert_eq!(back["IsInactive"], false);
}

// ------------------------------------------------------------------ duplicate prevention

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_a_token_is_refused_as_a_duplicate() {
    let t = T::start().await;
    let body = with(
        &company_body("Once Only LLC"),
        json!({ "Token": "1114652B-3AC4-4A99-8E82-459810299373" }),
    );
    let first = t.create(PARTNER1, "companies", &body).await;
    assert_eq!(first["Token"], "1114652B-3AC4-4A99-8E82-459810299373");
    let before = t.snapshot().await;
    let r = t.post(PARTNER1, "/api/companies", &body).await;
    let errors = refused(&r, 409, &[]);
    assert!(
        errors
            .iter()
            .any(|e| e.to_lowercase().contains("duplicate")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("Token")),
        "the error names Token: {errors:?}"
    );
    // a different body with the same Token too
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Something else"),
                json!({ "Token": body["Token"] }),
            ),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "duplicate POST").await;
    assert_eq!(
        t.list(PARTNER1, "companies")
            .await
            .iter()
            .filter(|c| c["Name"] == "Once Only LLC")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_used_up_across_collections_and_methods() {
    let t = T::start().await;
    let token = "c5f2e9a0-token-scope";
    t.create(
        PARTNER1,
        "companies",
        &with(&company_body("Scope"), json!({ "Token": token })),
    )
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("scope@forwardthinking.example.com"),
                json!({ "Token": token }),
            ),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Phone": "555-0199", "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "ApplicationId": "X", "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "token reused elsewhere").await;

    // a PUT uses up its Token for POSTs too, and stores it
    let put_token = "put-first-token";
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "LateAfter": 90, "Token": put_token }),
        )
        .await;
    assert_eq!(upd["Token"], put_token);
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/jobs",
            &with(&job_body(1, "After PUT"), json!({ "Token": put_token })),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "LateAfter": 90, "Token": put_token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "PUT token reused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_does_not_use_its_token() {
    let t = T::start().await;
    let token = "fix-and-resend";
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 1, "Token": token }),
        )
        .await;
    invalid_exactly(&r, &["Name"]);
    // refused for other reasons: 404, 405, 400, 422 forgery
    let r = t
        .put(
            PARTNER1,
            "/api/companies/4",
            &json!({ "Phone": "1", "Token": token }),
        )
        .await;
    refused(&r, 404, &[]);
    let r = t
        .post(
            PARTNER1,
            "/api/partners",
            &json!({ "Name": "x", "Token": token }),
        )
        .await;
    refused(&r, 405, &[]);
    let r = t
        .send(
            PARTNER1,
            Method::POST,
            "/api/companies",
            Some("text/plain"),
            Some(company_body("Plain").to_string()),
        )
        .await;
    refused(&r, 422, &["application/json"]);
    t.unchanged(&before, "refused requests").await;
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Fixed"), json!({ "Token": token })),
        )
        .await;
    assert_eq!(rec["Token"], token);
    // now the Token is used
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Again"), json!({ "Token": token })),
        )
        .await;
    refused(&r, 409, &["Token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_partner_may_use_the_same_token() {
    let t = T::start().await;
    let token = "shared-token-0001";
    let body = with(&company_body("Shared"), json!({ "Token": token }));
    let a = t.create(PARTNER1, "companies", &body).await;
    let b = t.create(PARTNER2, "companies", &body).await;
    assert_eq!(a["PartnerId"], 1);
    assert_eq!(b["PartnerId"], 2);
    let before = t.snapshot().await;
    refused(
        &t.post(PARTNER2, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "repeats per partner").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_accepted_again_after_sixty_minutes_on_the_sandbox_clock() {
    let t = T::start().await;
    let token = "window-token";
    let body = with(&company_body("Window"), json!({ "Token": token }));
    t.create(PARTNER1, "companies", &body).await;
    t.advance(59.0 * 60.0).await;
    let before = t.snapshot().await;
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "within the window").await;
    t.advance(61.0).await;
    let again = t.create(PARTNER1, "companies", &body).await;
    assert_eq!(again["Token"], token);
    // and that use opens a new window
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    // a PUT's Token too
    let put = json!({ "Phone": "555-0101", "Token": "window-put" });
    t.update(PARTNER1, "companies", 1, &put).await;
    refused(
        &t.put(PARTNER1, "/api/companies/1", &put).await,
        409,
        &["Token"],
    );
    t.advance(3601.0).await;
    t.update(PARTNER1, "companies", 1, &put).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_checked_before_validation() {
    let t = T::start().await;
    let token = "order-of-checks";
    let body = with(
        &company_body("Order Of Checks"),
        json!({ "ExternalId": "FTS-9000", "Token": token }),
    );
    t.create(PARTNER1, "companies", &body).await;
    let before = t.snapshot().await;
    // its second run would break the ExternalId rule its first run made true
    let r = t.post(PARTNER1, "/api/companies", &body).await;
    let errors = refused(&r, 409, &["Token"]);
    assert!(
        !errors.iter().any(|e| e.contains("ExternalId")),
        "validation ran before the Token: {errors:?}"
    );
    // an otherwise invalid body with a used Token: still 409
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "Name": 5, "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    // but the content type, the path and the body come first
    let r = t
        .send(
            PARTNER1,
            Method::POST,
            "/api/companies",
            Some("text/plain"),
            Some(body.to_string()),
        )
        .await;
    refused(&r, 422, &["application/json"]);
    let r = t
        .send(
            PARTNER1,
            Method::POST,
            "/api/companies",
            Some("application/json"),
            Some(format!("{{\"Token\": \"{token}\",")),
        )
        .await;
    refused(&r, 400, &[]);
    let r = t.put(PARTNER1, "/api/companies/99999", &body).await;
    refused(&r, 404, &[]);
    let r = t.post(PARTNER1, "/api/logs", &body).await;
    refused(&r, 405, &[]);
    t.unchanged(&before, "order of checks").await;
}

// ------------------------------------------------------------------ generated values

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_get_an_api_key_and_their_own_installer_after_the_agent_delay() {
    let t = T::start().await;
    let a = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Agent-A"))
        .await;
    let b = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Agent-B"))
        .await;
    for d in [&a, &b] {
        let key = d["ApiKey"].as_str().expect("ApiKey");
        assert_eq!(key.len(), 32, "{key}");
        assert!(
            key.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{key}"
        );
        let url = d["AgentDownloadUrl"].as_str().expect("AgentDownloadUrl");
        assert!(url.starts_with("https://"), "{url}");
        assert!(
            !url.contains(key),
            "the generic installer names no device: {url}"
        );
        assert_eq!(d["LastAgentDownloadCreated"], Value::Null);
    }
    assert_ne!(a["ApiKey"], b["ApiKey"]);
    assert_eq!(
        a["AgentDownloadUrl"], b["AgentDownloadUrl"],
        "both start with the generic installer"
    );
    let generic = a["AgentDownloadUrl"].clone();
    let a_path = format!("/api/devices/{}", id(&a, "DeviceId"));

    // before the delay: still generic
    t.advance(30.0).await;
    let read = t.read(PARTNER1, &a_path).await;
    assert_eq!(read["AgentDownloadUrl"], generic);
    assert_eq!(read["LastAgentDownloadCreated"], Value::Null);

    // after the delay (60 s by default)
    t.advance(31.0).await;
    let read = t.read(PARTNER1, &a_path).await;
    let key = a["ApiKey"].as_str().unwrap();
    let own = read["AgentDownloadUrl"].as_str().unwrap();
    assert!(own.starts_with("https://") && own.contains(key), "{own}");
    assert_ne!(read["AgentDownloadUrl"], generic);
    let added = a["AddedOn"].as_str().unwrap();
    assert_eq!(
        read["LastAgentDownloadCreated"],
        ms_ts(ts_ms(added) + 60_000),
        "LastAgentDownloadCreated = AddedOn + delay"
    );
    assert_eq!(read["ApiKey"], a["ApiKey"]);
    // lists and embedded records agree with the read
    let listed = t.list(PARTNER1, "devices").await;
    let in_list = listed
        .iter()
        .find(|d| d["DeviceId"] == a["DeviceId"])
        .unwrap();
    assert_eq!(*in_list, read);
    let job = t
        .create(PARTNER1, "jobs", &job_body(id(&a, "DeviceId"), "J"))
        .await;
    assert_eq!(job["Device"]["AgentDownloadUrl"], read["AgentDownloadUrl"]);
    // an update later keeps the device's own installer
    let upd = t
        .update(
            PARTNER1,
            "devices",
            id(&a, "DeviceId"),
            &json!({ "Name": "Agent-A2" }),
        )
        .await;
    assert_eq!(upd["AgentDownloadUrl"], read["AgentDownloadUrl"]);
    assert_eq!(
        upd["LastAgentDownloadCreated"],
        read["LastAgentDownloadCreated"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_delay_follows_the_setting() {
    let t = T::settings(Settings {
        agent_delay_ms: 5_000,
        ..Settings::default()
    })
    .await;
    let d = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Quick"))
        .await;
    let path = format!("/api/devices/{}", id(&d, "DeviceId"));
    t.advance(3.0).await;
    assert_eq!(
        t.read(PARTNER1, &path).await["AgentDownloadUrl"],
        d["AgentDownloadUrl"]
    );
    t.advance(3.0).await;
    let read = t.read(PARTNER1, &path).await;
    assert!(
        read["AgentDownloadUrl"]
            .as_str()
            .unwrap()
            .contains(d["ApiKey"].as_str().unwrap())
    );
    assert_eq!(
        read["LastAgentDownloadCreated"],
        ms_ts(ts_ms(d["AddedOn"].as_str().unwrap()) + 5_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_start_active_for_one_month() {
    let t = T::start().await;
    t.move_clock(json!({ "set": "2030-03-15T10:00:00.000" }))
        .await;
    let r = t
        .post(
            PARTNER1,
            "/api/subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "Status": "Cancelled", "AdditionalDevice": 9,
                        "PeriodStart": "2001-01-01T00:00:00.000", "BillingId": 5 }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let s = r.data();
    let w = r.warnings().join(" | ");
    for name in ["Status", "AdditionalDevice", "PeriodStart", "BillingId"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    assert_eq!(s["Status"], "Active");
    assert_eq!(s["AdditionalDevice"], 0);
    let added = s["AddedOn"].as_str().unwrap();
    assert!(added.starts_with("2030-03-15T10:00:"), "{added}");
    assert_eq!(s["PeriodStart"], added);
    assert_eq!(s["PeriodEnd"], format!("2030-04-15{}", &added[10..]));
    assert_eq!(s["UpdatedOn"], Value::Null);
    assert_eq!(
        t.read(
            PARTNER1,
            &format!("/api/subscriptions/{}", id(s, "SubscriptionId"))
        )
        .await,
        *s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_companys_first_user_is_its_account_owner_and_partner_users_never_are() {
    let t = T::start().await;
    let company = t
        .create(PARTNER1, "companies", &company_body("Owners Inc."))
        .await;
    let c = id(&company, "CompanyId");
    let first = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "first@owners.example.com"),
        )
        .await;
    assert_eq!(first["IsAccountOwner"], true);
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &with(
                &company_user_body(c, "second@owners.example.com"),
                json!({ "IsAccountOwner": true }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], false);
    assert!(r.warnings().iter().any(|w| w.contains("IsAccountOwner")));
    // a company that already has users
    let more = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(1, "more@abccompany.example.com"),
        )
        .await;
    assert_eq!(more["IsAccountOwner"], false);
    // an owner cannot be demoted by PUT either
    let r = t
        .put(
            PARTNER1,
            &format!("/api/companyusers/{}", id(&first, "CompanyUserId")),
            &json!({ "IsAccountOwner": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], true);
    // partner users created through the API are not account owners
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("owner.wannabe@forwardthinking.example.com"),
                json!({ "IsAccountOwner": true }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], false);
    assert!(r.warnings().iter().any(|w| w.contains("IsAccountOwner")));
}

// ------------------------------------------------------------------ deletes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_blocked_by_children_get_409_naming_them() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let flat = |errors: &[String]| errors.join(" ").to_lowercase().replace(' ', "");
    // company 1: subscription 1 and devices 1, 2, 3
    let e = refused(&t.delete(PARTNER1, "/api/companies/1").await, 409, &[]);
    assert!(
        flat(&e).contains("subscription") && flat(&e).contains("device"),
        "{e:?}"
    );
    // subscription 1 is used by devices 1, 2, 3
    let e = refused(&t.delete(PARTNER1, "/api/subscriptions/1").await, 409, &[]);
    assert!(flat(&e).contains("device"), "{e:?}");
    // device 1 has jobs 1 and 2
    let e = refused(&t.delete(PARTNER1, "/api/devices/1").await, 409, &[]);
    assert!(flat(&e).contains("job"), "{e:?}");
    // job 1 has job items 1 and 2
    let e = refused(&t.delete(PARTNER1, "/api/jobs/1").await, 409, &[]);
    assert!(flat(&e).contains("jobitem"), "{e:?}");
    // company 3 is inactive but still has subscription 3 and device 7
    refused(&t.delete(PARTNER1, "/api/companies/3").await, 409, &[]);
    // a company with only a subscription
    t.unchanged(&before, "blocked deletes").await;
    let c = id(
        &t.create(PARTNER1, "companies", &company_body("Subscribed"))
            .await,
        "CompanyId",
    );
    let s = id(
        &t.create(PARTNER1, "subscriptions", &subscription_body(c, 2))
            .await,
        "SubscriptionId",
    );
    let before = t.snapshot().await;
    let e = refused(
        &t.delete(PARTNER1, &format!("/api/companies/{c}")).await,
        409,
        &[],
    );
    assert!(flat(&e).contains("subscription"), "{e:?}");
    t.unchanged(&before, "company with a subscription").await;
    // in order, the chain goes
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/subscriptions/{s}"))
            .await
            .status,
        200
    );
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/companies/{c}"))
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_owners_cannot_be_deleted() {
    let t = T::start().await;
    let before = t.snapshot().await;
    let e = refused(&t.delete(PARTNER1, "/api/partnerusers/1").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    let e = refused(&t.delete(PARTNER1, "/api/companyusers/1").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    let e = refused(&t.delete(PARTNER2, "/api/companyusers/6").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    t.unchanged(&before, "account owners").await;
    // the others can
    assert_eq!(t.delete(PARTNER1, "/api/partnerusers/2").await.status, 200);
    assert_eq!(t.delete(PARTNER1, "/api/companyusers/10").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_company_deletes_its_users_each_with_its_own_event() {
    let t = T::start().await;
    let company = t
        .create(PARTNER1, "companies", &company_body("Short Lived LLC"))
        .await;
    let c = id(&company, "CompanyId");
    let owner = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "owner@shortlived.example.com"),
        )
        .await;
    let other = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "other@shortlived.example.com"),
        )
        .await;
    let (u1, u2) = (id(&owner, "CompanyUserId"), id(&other, "CompanyUserId"));
    assert_eq!(owner["IsAccountOwner"], true);
    let e0 = t.events(PARTNER1).await;
    let p2 = t.events(PARTNER2).await;
    let as_was = t.read(PARTNER1, &format!("/api/companies/{c}")).await;
    let t0 = t.now().await;
    let r = t
        .send(
            PARTNER1,
            Method::DELETE,
            &format!("/api/companies/{c}"),
            Some("text/plain"),
            Some("DELETE ignores any body".into()),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(*r.data(), as_was);
    for u in [u1, u2] {
        refused(
            &t.get(PARTNER1, &format!("/api/companyusers/{u}")).await,
            404,
            &[],
        );
    }
    refused(
        &t.get(PARTNER1, &format!("/api/companies/{c}")).await,
        404,
        &[],
    );
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 3, "{new:?}");
    let users: Vec<&Value> = new.iter().filter(|e| e["EventTypeId"] == 63).collect();
    assert_eq!(users.len(), 2, "{new:?}");
    let mut named: Vec<i64> = users
        .iter()
        .map(|e| e["CompanyUserId"].as_i64().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, vec![u1, u2]);
    for e in &users {
        assert_event(e, 63, "Company User Deleted", &[("CompanyId", c)], &t0, &t1);
    }
    let deleted = new
        .iter()
        .find(|e| e["EventTypeId"] == 23)
        .expect("Company Deleted");
    assert_event(
        deleted,
        23,
        "Company Deleted",
        &[("CompanyId", c), ("PartnerId", 1)],
        &t0,
        &t1,
    );
    assert_eq!(t.events(PARTNER2).await, p2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_log_items_and_events_survive_the_deletes_of_what_they_name() {
    let t = T::start().await;
    // log 4: company 1, device 2, job 4 (job item 6; log item 4)
    let log4 = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log4["Job"]["JobId"], 4);
    let item4 = t.read(PARTNER1, "/api/logitems/4").await;
    assert_eq!(item4["JobItemId"], 6);
    let e0 = t.events(PARTNER1).await;
    assert_eq!(t.delete(PARTNER1, "/api/jobitems/6").await.status, 200);
    assert_eq!(
        t.read(PARTNER1, "/api/logitems/4").await,
        item4,
        "log item unchanged"
    );
    let log = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log["LogItems"], log4["LogItems"]);
    assert_eq!(t.delete(PARTNER1, "/api/jobs/4").await.status, 200);
    let log = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log["JobId"], 4);
    assert_eq!(log["Job"], Value::Null, "the deleted job renders null");
    assert_eq!(log["Device"], log4["Device"]);
    assert_eq!(log["LogItems"], log4["LogItems"]);
    for (k, v) in log4.as_object().unwrap() {
        if k != "Job" {
            assert_eq!(log[k], *v, "log 4: {k}");
        }
    }

    // log 41: device 3, job 5 (job items 7 and 8; log items 57 and 58)
    let log41 = t.read(PARTNER1, "/api/logs/41").await;
    let items = ["/api/logitems/57", "/api/logitems/58"];
    let mut item_recs = Vec::new();
    for p in items {
        item_recs.push(t.read(PARTNER1, p).await);
    }
    for path in [
        "/api/jobitems/7",
        "/api/jobitems/8",
        "/api/jobs/5",
        "/api/devices/3",
    ] {
        let r = t.delete(PARTNER1, path).await;
        assert_eq!(r.status, 200, "DELETE {path}: {}", r.text);
    }
    let log = t.read(PARTNER1, "/api/logs/41").await;
    assert_eq!(log["Device"], Value::Null);
    assert_eq!(log["Job"], Value::Null);
    assert_eq!(log["DeviceId"], 3);
    assert_eq!(log["JobId"], 5);
    assert_eq!(log["Company"], log41["Company"]);
    assert_eq!(log["Subscription"], log41["Subscription"]);
    assert_eq!(log["LogItems"], log41["LogItems"]);
    for (p, rec) in items.iter().zip(&item_recs) {
        assert_eq!(t.read(PARTNER1, p).await, *rec);
    }
    let logs = t.list(PARTNER1, "logs").await;
    assert!(
        logs.iter()
            .any(|l| l["LogId"] == 41 && l["Device"].is_null())
    );
    // the events that name them stay, and each delete added one
    let e1 = t.events(PARTNER1).await;
    let new = new_events(&e0, &e1);
    let types: Vec<i64> = new
        .iter()
        .rev()
        .map(|e| e["EventTypeId"].as_i64().unwrap())
        .collect();
    assert_eq!(types, vec![53, 43, 53, 53, 43, 33]);
    assert!(e1.iter().any(|e| e["EventTypeId"] == 41 && e["JobId"] == 5));
    assert!(
        e1.iter()
            .any(|e| e["EventTypeId"] == 33 && e["DeviceId"] == 3 && e["CompanyId"] == 1)
    );
}

// ------------------------------------------------------------------ events

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_name_their_records_and_are_seen_by_their_partner_only() {
    let t = T::start().await;
    t.move_clock(json!({ "set": "2031-05-05T05:05:05.000" }))
        .await;
    let p1_before = t.events(PARTNER1).await;
    let p2_before = t.events(PARTNER2).await;
    let t0 = t.now().await;
    // a chain from company to job item, as partner 1
    let c = id(
        &t.create(PARTNER1, "companies", &company_body("Eventful"))
            .await,
        "CompanyId",
    );
    let cu = id(
        &t.create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "ev@eventful.example.com"),
        )
        .await,
        "CompanyUserId",
    );
    let s = id(
        &t.create(PARTNER1, "subscriptions", &subscription_body(c, 3))
            .await,
        "SubscriptionId",
    );
    let d = id(
        &t.create(PARTNER1, "devices", &device_body(c, s, "EV-1"))
            .await,
        "DeviceId",
    );
    let j = id(
        &t.create(PARTNER1, "jobs", &job_body(d, "EV job")).await,
        "JobId",
    );
    let ji = id(
        &t.create(PARTNER1, "jobitems", &file_item_body(j)).await,
        "JobItemId",
    );
    let pu = id(
        &t.create(
            PARTNER1,
            "partnerusers",
            &partner_user_body("ev@forwardthinking.example.com"),
        )
        .await,
        "PartnerUserId",
    );
    let t1 = t.now().await;
    assert!(t0.starts_with("2031-05-05T05:05:"), "{t0}");
    let new = new_events(&p1_before, &t.events(PARTNER1).await);
    let mut new: Vec<Value> = new.into_iter().rev().collect();
    assert_eq!(new.len(), 7, "{new:?}");
    let expect: [ExpectedEvent; 7] = [
        (
            21,
            "Company Added",
            vec![("CompanyId", c), ("PartnerId", 1)],
        ),
        (
            61,
            "Company User Added",
            vec![("CompanyUserId", cu), ("CompanyId", c)],
        ),
        (
            71,
            "Subscription Added",
            vec![("SubscriptionId", s), ("CompanyId", c)],
        ),
        (31, "Device Added", vec![("DeviceId", d), ("CompanyId", c)]),
        (
            41,
            "Job Added",
            vec![("JobId", j), ("DeviceId", d), ("CompanyId", c)],
        ),
        (
            51,
            "Job Item Added",
            vec![
                ("JobItemId", ji),
                ("JobId", j),
                ("DeviceId", d),
                ("CompanyId", c),
            ],
        ),
        (
            11,
            "Partner User Added",
            vec![("PartnerUserId", pu), ("PartnerId", 1)],
        ),
    ];
    for (ev, (type_id, name, names)) in new.iter().zip(expect.iter()) {
        assert_event(ev, *type_id, name, names, &t0, &t1);
        // readable one by one by partner 1, and not by partner 2
        let path = format!("/api/events/{}", ev["EventId"]);
        assert_eq!(t.read(PARTNER1, &path).await, *ev);
        refused(&t.get(PARTNER2, &path).await, 404, &[]);
    }
    // ids ascend in the order of the writes
    let ids: Vec<i64> = new.iter().map(|e| e["EventId"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(
        t.events(PARTNER2).await,
        p2_before,
        "partner 2 sees none of them"
    );
    new.clear();
    // and partner 2's own writes are seen by partner 2 only
    let p1_now = t.events(PARTNER1).await;
    t.update(PARTNER2, "devices", 8, &json!({ "Name": "KV renamed" }))
        .await;
    let p2_new = new_events(&p2_before, &t.events(PARTNER2).await);
    assert_eq!(p2_new.len(), 1);
    assert_eq!(p2_new[0]["EventTypeId"], 32);
    assert_eq!(p2_new[0]["DeviceId"], 8);
    assert_eq!(p2_new[0]["CompanyId"], 4);
    assert_eq!(t.events(PARTNER1).await, p1_now);
}

// ------------------------------------------------------------------ concurrency

async fn concurrent_posts(
    clients: Vec<reqwest::Client>,
    url: String,
    bodies: Vec<Value>,
) -> Vec<(u16, Value)> {
    let mut handles = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let c = clients[i % clients.len()].clone();
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let r = c
                .post(&url)
                .basic_auth(PARTNER1, Some("x"))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("JSON answer");
            (status, body)
        }));
    }
    tokio::time::timeout(Duration::from_secs(120), async {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("task"));
        }
        out
    })
    .await
    .expect("200 concurrent creates finish")
}

fn check_concurrent(results: &[(u16, Value)], key: &str) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for (status, body) in results {
        assert_eq!(*status, 201, "{body}");
        assert!(ids.insert(id(&body["data"], key)), "duplicate id: {body}");
    }
    assert_eq!(ids.len(), results.len());
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_company_creates_over_http2_all_succeed() {
    let t = T::start().await;
    let e0 = t.events(PARTNER1).await;
    let bodies: Vec<Value> = (0..200)
        .map(|i| {
            with(
                &company_body(&format!("Concurrent {i}")),
                json!({ "Token": format!("cc-{i}") }),
            )
        })
        .collect();
    let results =
        concurrent_posts(vec![t.sb.client_h2()], t.sb.url("/api/companies"), bodies).await;
    let ids = check_concurrent(&results, "CompanyId");
    assert!(*ids.first().unwrap() > max_fixture_id("companies", "CompanyId"));
    for (_, body) in &results {
        let rec = &body["data"];
        let read = t
            .read(PARTNER1, &format!("/api/companies/{}", rec["CompanyId"]))
            .await;
        assert_eq!(read, *rec);
    }
    let listed: BTreeSet<i64> = t
        .list(PARTNER1, "companies")
        .await
        .iter()
        .map(|c| id(c, "CompanyId"))
        .collect();
    assert!(ids.is_subset(&listed));
    let names: BTreeSet<String> = results
        .iter()
        .map(|(_, b)| b["data"]["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 200);
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 200);
    let named: BTreeSet<i64> = new.iter().map(|e| id(e, "CompanyId")).collect();
    assert_eq!(named, ids);
    assert!(new.iter().all(|e| e["EventTypeId"] == 21));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_job_creates_over_several_connections_all_succeed() {
    let t = T::start().await;
    let clients: Vec<reqwest::Client> = (0..4)
        .map(|i| {
            if i % 2 == 0 {
                t.sb.client()
            } else {
                t.sb.client_h2()
            }
        })
        .collect();
    let bodies: Vec<Value> = (0..200)
        .map(|i| job_body(1 + i % 3, &format!("Job {i}")))
        .collect();
    let results = concurrent_posts(clients, t.sb.url("/api/jobs"), bodies).await;
    let ids = check_concurrent(&results, "JobId");
    let listed: BTreeSet<i64> = t
        .list(PARTNER1, "jobs")
        .await
        .iter()
        .map(|j| id(j, "JobId"))
        .collect();
    assert!(ids.is_subset(&listed));
    for (_, body) in results.iter().step_by(7) {
        let rec = &body["data"];
        assert_eq!(
            t.read(PARTNER1, &format!("/api/jobs/{}", rec["JobId"]))
                .await,
            *rec
        );
    }
    // each device lists its new jobs
    for dev in 1..=3 {
        let want = results
            .iter()
            .filter(|(_, b)| b["data"]["DeviceId"] == dev)
            .count();
        let have = t
            .list(PARTNER1, "jobs")
            .await
            .iter()
            .filter(|j| j["DeviceId"] == dev && ids.contains(&id(j, "JobId")))
            .count();
        assert_eq!(have, want, "device {dev}");
    }
}

// ------------------------------------------------------------------ the sandbox clock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_can_be_read_advanced_and_set() {
    let t = T::start().await;
    let c = t.clock().await;
    let now = c["now"].as_str().expect("now");
    assert_eq!(now.len(), 23, "{now}");
    ts_ms(now);
    let offset = c["offset_seconds"].as_f64().expect("offset_seconds");
    assert!(offset.abs() < 5.0, "starts at the real time: {offset}");

    let moved = t.move_clock(json!({ "advance": 3600 })).await;
    let off = moved["offset_seconds"].as_f64().unwrap();
    assert!((off - offset - 3600.0).abs() < 1.0, "{moved}");
    let moved_now = ts_ms(moved["now"].as_str().unwrap());
    let diff = moved_now - ts_ms(now);
    assert!(
        (3_600_000..3_610_000).contains(&diff),
        "advanced by {diff} ms"
    );
    assert_eq!(t.clock().await["offset_seconds"], moved["offset_seconds"]);

    let set = t
        .move_clock(json!({ "set": "2030-01-01T00:00:00.000" }))
        .await;
    let set_now = set["now"].as_str().unwrap();
    assert!(set_now.starts_with("2030-01-01T00:00:0"), "{set}");
    let later = t.now().await;
    assert!(later.as_str() >= set_now, "the clock runs on: {later}");
    // writes are stamped from it
    let rec = t
        .create(PARTNER1, "companies", &company_body("Stamped"))
        .await;
    assert!(
        rec["AddedOn"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T00:00:"),
        "{rec}"
    );
    // fractional advances and the clock going back in time
    let moved = t.move_clock(json!({ "advance": 1.5 })).await;
    assert!(
        moved["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T00:00:"),
        "{moved}"
    );
    let past = t
        .move_clock(json!({ "set": "2020-06-01T12:00:00.000" }))
        .await;
    assert!(
        past["now"]
            .as_str()
            .unwrap()
            .starts_with("2020-06-01T12:00:0"),
        "{past}"
    );
    assert!(past["offset_seconds"].as_f64().unwrap() < 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_refuses_partner_keys_and_bad_bodies() {
    let t = T::start().await;
    t.move_clock(json!({ "set": "2030-01-01T00:00:00.000" }))
        .await;
    let offset = t.clock().await["offset_seconds"].as_f64().unwrap();
    for key in [PARTNER1, PARTNER2] {
        let r = t.get(key, "/_sandbox/clock").await;
        refused(&r, 403, &[]);
        let r = t
            .post(key, "/_sandbox/clock", &json!({ "advance": 3601 }))
            .await;
        refused(&r, 403, &[]);
    }
    let r = bounded(t.c.get(t.sb.url("/_sandbox/clock")).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for body in [
        json!({ "advance": "soon" }),
        json!({ "advance": null }),
        json!({ "set": "yesterday" }),
        json!({ "set": 1_900_000_000 }),
        json!({ "set": "2030-13-01T00:00:00.000" }),
        json!({}),
        json!({ "advance": 1, "set": "2030-01-01T00:00:00.000" }),
        json!({ "speed": 2 }),
    ] {
        let r = t.post(ADMIN, "/_sandbox/clock", &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        r.errors();
    }
    for raw in ["{\"advance\": ", "[1]", "\"advance\""] {
        let r = t
            .send(
                ADMIN,
                Method::POST,
                "/_sandbox/clock",
                Some("application/json"),
                Some(raw.into()),
            )
            .await;
        assert_eq!(r.status, 400, "{raw}: {}", r.text);
        r.errors();
    }
    let r = t
        .send(ADMIN, Method::DELETE, "/_sandbox/clock", None, None)
        .await;
    refused(&r, 405, &[]);
    let allow = r.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let after = t.clock().await["offset_seconds"].as_f64().unwrap();
    assert!(
        (after - offset).abs() < 0.5,
        "a refused request moved the clock: {offset} -> {after}"
    );
}

/// The order of checks puts the path (404) before the content type (422):
/// a PUT to a record that does not exist, or is another partner's, answers
/// 404 even without a JSON content type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_to_a_missing_record_answers_404_before_the_forgery_check() {
    let t = T::start().await;
    let before = t.snapshot().await;
    for path in ["/api/companies/9999", "/api/companies/4"] {
        let r = t
            .send(
                PARTNER1,
                Method::PUT,
                path,
                Some("text/plain"),
                Some("Name=x".into()),
            )
            .await;
        refused(&r, 404, &["CompanyId"]);
    }
    let r = t
        .send(
            PARTNER1,
            Method::PUT,
            "/api/companies/1",
            Some("text/plain"),
            Some("Name=x".into()),
        )
        .await;
    refused(&r, 422, &["Forgery"]);
    t.unchanged(&before, "refused PUTs").await;
}

/// API.md asks for case-insensitive uniqueness of e-mail addresses only:
/// an ExternalId differing from another only in case is a different one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_ids_differing_only_in_case_are_distinct() {
    let t = T::start().await;
    let exact = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Exact"), json!({ "ExternalId": "FTS-1042" })),
        )
        .await;
    invalid_exactly(&exact, &["ExternalId"]);
    let created = t
        .create(
            PARTNER1,
            "companies",
            &with(
                &company_body("Other case"),
                json!({ "ExternalId": "fts-1042" }),
            ),
        )
        .await;
    assert_eq!(created["ExternalId"], "fts-1042");
}
