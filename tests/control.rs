//! The sandbox control API under `/_sandbox/` over real HTTPS (API.md
//! section 8, with sections 1-5 for context): admin authentication,
//! snapshots (GET, load with `--fixtures`, PUT), reset, the request
//! journal, the clock, simulated job runs, the outbox, fault rules and
//! health.
//!
//! Every await is bounded; nothing sleeps: the few timing checks measure a
//! single request.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cleverfox_sandbox::config::Settings;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------ harness

/// The fields of a request journal entry (API.md section 8).
const JOURNAL_FIELDS: [&str; 10] = [
    "id",
    "time",
    "method",
    "path",
    "query",
    "partner_id",
    "status",
    "duration_ms",
    "request_body",
    "response_body",
];

/// The journal keeps bodies up to 16 KiB.
const BODY_CUT: usize = 16 * 1024;

/// Five hours, the offset of "Eastern Standard Time" in January.
const EST_WINTER_MS: i64 = 5 * 3600 * 1000;

/// A running sandbox and one HTTP/1.1 client for it.
struct T {
    sb: Sandbox,
    c: reqwest::Client,
}

impl T {
    async fn start() -> T {
        T::with(Config::default()).await
    }

    async fn with(cfg: Config) -> T {
        let sb = bounded(Sandbox::with(cfg)).await;
        let c = sb.client();
        T { sb, c }
    }

    /// Sends a request; `key` None sends no credentials; a body is sent as
    /// `application/json`.
    async fn send_text(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Resp {
        let content_type = body.as_ref().map(|_| "application/json");
        self.sb
            .request(&self.c, key, method, path, content_type, body)
            .await
    }

    async fn send(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        self.send_text(key, method, path, body.map(Value::to_string))
            .await
    }

    async fn get(&self, key: &str, path: &str) -> Resp {
        self.send(Some(key), Method::GET, path, None).await
    }

    async fn post(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(Some(key), Method::POST, path, Some(body)).await
    }

    async fn put(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(Some(key), Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, key: &str, path: &str) -> Resp {
        self.send(Some(key), Method::DELETE, path, None).await
    }

    /// GET, asserting 200; the JSON answer.
    async fn ok(&self, key: &str, path: &str) -> Value {
        let r = self.get(key, path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.body
    }

    /// GET /api/…, asserting 200; the `data` of the answer.
    async fn read(&self, key: &str, path: &str) -> Value {
        self.ok(key, path).await["data"].clone()
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

    /// The whole collection as `key` sees it: every page of PageSize 500.
    async fn list(&self, key: &str, coll: &str) -> Vec<Value> {
        let mut rows = Vec::new();
        for page in 1.. {
            let body = self
                .ok(key, &format!("/api/{coll}?PageSize=500&PageNo={page}"))
                .await;
            assert_eq!(body["page_no"], page, "{coll}: {body}");
            assert_eq!(body["page_size"], 500, "{coll}: {body}");
            let data = body["data"].as_array().expect("list data").clone();
            let n = data.len();
            rows.extend(data);
            if n < 500 {
                break;
            }
        }
        rows
    }

    /// Every collection both partners can list (records as rendered, with
    /// their embedded objects, and the events).
    async fn state(&self) -> Vec<(String, Vec<Value>)> {
        let mut out = Vec::new();
        for key in [PARTNER1, PARTNER2] {
            for coll in COLLECTIONS {
                out.push((format!("{key} {coll}"), self.list(key, coll).await));
            }
        }
        out
    }

    /// The control API's answer to GET `path` (200 asserted).
    async fn admin(&self, path: &str) -> Value {
        self.ok(ADMIN, path).await
    }

    /// The sandbox clock's `now`, in UTC milliseconds.
    async fn now(&self) -> i64 {
        let c = self.admin("/_sandbox/clock").await;
        ms(c["now"].as_str().expect("clock now"))
    }

    async fn set_clock(&self, at: &str) {
        let r = self
            .post(ADMIN, "/_sandbox/clock", &json!({ "set": at }))
            .await;
        assert_eq!(r.status, 200, "POST /_sandbox/clock set {at}: {}", r.text);
    }

    /// The request journal, newest first.
    async fn journal(&self, query: &str) -> Vec<Value> {
        self.admin(&format!("/_sandbox/requests{query}")).await["data"]
            .as_array()
            .expect("journal data")
            .clone()
    }

    async fn outbox(&self) -> Vec<Value> {
        self.admin("/_sandbox/outbox").await["data"]
            .as_array()
            .expect("outbox data")
            .clone()
    }

    async fn faults(&self) -> Vec<Value> {
        self.admin("/_sandbox/faults").await["data"]
            .as_array()
            .expect("faults data")
            .clone()
    }

    /// POST /_sandbox/faults, asserting 201; the rule as answered.
    async fn add_fault(&self, rule: Value) -> Value {
        let r = self.post(ADMIN, "/_sandbox/faults", &rule).await;
        assert_eq!(r.status, 201, "POST /_sandbox/faults {rule}: {}", r.text);
        r.body
    }

    /// POST /_sandbox/jobs/{job}/run, asserting 201.
    async fn run(&self, job: i64, body: Value) -> Value {
        let r = self
            .post(ADMIN, &format!("/_sandbox/jobs/{job}/run"), &body)
            .await;
        assert_eq!(r.status, 201, "run job {job} {body}: {}", r.text);
        r.body
    }

    async fn counts(&self) -> Value {
        self.admin("/_sandbox/health").await["counts"].clone()
    }
}

/// A journal entry as expected: method, path, query, partner_id, status
/// and the JSON request body.
type Expected<'a> = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<i64>,
    u16,
    Option<&'a Value>,
);

/// Asserts two listings are the same, collection by collection.
fn same_state(a: &[(String, Vec<Value>)], b: &[(String, Vec<Value>)], what: &str) {
    assert_eq!(a.len(), b.len());
    for ((ka, va), (kb, vb)) in a.iter().zip(b) {
        assert_eq!(ka, kb);
        assert_eq!(va.len(), vb.len(), "{what}: {ka}: record counts differ");
        for (x, y) in va.iter().zip(vb) {
            assert!(x == y, "{what}: {ka} differs:\n{x}\n{y}");
        }
    }
}

/// A sandbox timestamp `YYYY-MM-DDTHH:MM:SS.mmm` (no zone) as milliseconds
/// since the epoch, reading it as UTC.
fn ms(ts: &str) -> i64 {
    assert!(is_timestamp(ts), "not a sandbox timestamp: {ts:?}");
    let dt: jiff::civil::DateTime = ts.parse().unwrap();
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// Milliseconds since the epoch as a sandbox timestamp (UTC).
fn ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

fn ids(rows: &[Value], key: &str) -> Vec<u64> {
    rows.iter()
        .map(|r| r[key].as_u64().unwrap_or_else(|| panic!("{key}: {r}")))
        .collect()
}

// ------------------------------------------------- 1. admin authentication

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints_need_an_admin_key_and_admin_keys_do_not_open_the_api() {
    let t = T::start().await;
    // something for the refused DELETEs to (not) remove
    let user = t
        .create(
            PARTNER1,
            "partnerusers",
            &json!({"FirstName": "Ada", "LastName": "Auth", "Email": "ada.auth@example.com"}),
        )
        .await;
    let rule = t
        .add_fault(json!({"path": "/api/nothing-here", "status": 503}))
        .await;
    let journal_before = t.journal("").await;
    let outbox_before = t.outbox().await;
    assert!(!journal_before.is_empty() && !outbox_before.is_empty());
    let before = t.state().await;

    let endpoints: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/_sandbox/health", None),
        (Method::POST, "/_sandbox/reset", Some(json!({}))),
        (Method::GET, "/_sandbox/snapshot", None),
        // a bundle that would empty the companies, if it were accepted
        (
            Method::PUT,
            "/_sandbox/snapshot",
            Some(json!({"companies": [], "apikeys": []})),
        ),
        (Method::GET, "/_sandbox/requests", None),
        (Method::DELETE, "/_sandbox/requests", None),
        (Method::GET, "/_sandbox/clock", None),
        (
            Method::POST,
            "/_sandbox/clock",
            Some(json!({"advance": 3600})),
        ),
        (
            Method::POST,
            "/_sandbox/jobs/6/run",
            Some(json!({"JobStatus": "Completed"})),
        ),
        (Method::GET, "/_sandbox/outbox", None),
        (Method::DELETE, "/_sandbox/outbox", None),
        (Method::GET, "/_sandbox/faults", None),
        (
            Method::POST,
            "/_sandbox/faults",
            Some(json!({"status": 500})),
        ),
        (Method::DELETE, "/_sandbox/faults", None),
        (Method::DELETE, "/_sandbox/faults/1", None),
    ];
    for (method, path, body) in &endpoints {
        for key in [PARTNER1, PARTNER2, NO_PLAN, INACTIVE] {
            let r = t.send(Some(key), method.clone(), path, body.as_ref()).await;
            refused(&r, 403, &[]);
        }
        for key in [None, Some("not-a-known-key")] {
            let r = t.send(key, method.clone(), path, body.as_ref()).await;
            refused(&r, 401, &[]);
            assert_eq!(
                r.header("www-authenticate").as_deref(),
                Some("Basic realm=\"CleverFox Backup API\""),
                "{method} {path} without a valid key"
            );
        }
    }

    // the admin key gets 403 on /api/
    for (method, path, body) in [
        (Method::GET, "/api/companies", None),
        (Method::GET, "/api/plans", None),
        (Method::GET, "/api/devices/1", None),
        (
            Method::POST,
            "/api/companies",
            Some(json!({"Name": "Admin Co", "PlanTypeId": 1})),
        ),
        (Method::PUT, "/api/devices/1", Some(json!({"Name": "x"}))),
        (Method::DELETE, "/api/jobitems/3", None),
    ] {
        let r = t
            .send(Some(ADMIN), method.clone(), path, body.as_ref())
            .await;
        refused(&r, 403, &[]);
    }

    // nothing the refused requests asked for happened
    same_state(&before, &t.state().await, "after refused requests");
    let clock = t.admin("/_sandbox/clock").await;
    assert_eq!(clock["offset_seconds"].as_f64(), Some(0.0), "{clock}");
    let faults = t.faults().await;
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["id"], rule["id"]);
    let outbox = t.outbox().await;
    assert_eq!(outbox, outbox_before);
    assert_eq!(outbox[0]["to"], user["Email"]);
    let journal = t.journal("").await;
    for e in &journal_before {
        assert!(journal.contains(e), "journal entry lost: {e}");
    }
}

// ------------------------------------------------------------ 2. snapshots

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_loads_into_a_second_sandbox_and_put_swaps_it_in() {
    let t1 = T::start().await;
    let company = t1
        .create(
            PARTNER1,
            "companies",
            &json!({"Name": "Snapshot Test Co", "PlanTypeId": 1, "ExternalId": "SNAP-1"}),
        )
        .await;
    let company_id = company["CompanyId"].as_i64().unwrap();
    t1.update(
        PARTNER1,
        "devices",
        1,
        &json!({"Name": "ABC-SRV01-renamed"}),
    )
    .await;
    let r = t1.delete(PARTNER1, "/api/jobitems/3").await;
    assert_eq!(r.status, 200, "DELETE /api/jobitems/3: {}", r.text);
    let item = t1
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": 1, "Name": "Payroll", "BackupTypeId": 2, "ServerName": "ABC-SRV01",
                    "DatabaseName": "Payroll", "AuthenticationMode": "S",
                    "Username": "snap_user", "Password": "snap-P@ss-9"}),
        )
        .await;
    let item_id = item["JobItemId"].as_i64().unwrap();
    assert_eq!(item["Username"], Value::Null);
    assert_eq!(item["Password"], Value::Null);

    // the bundle
    let r = t1.get(ADMIN, "/_sandbox/snapshot").await;
    assert_eq!(r.status, 200, "GET /_sandbox/snapshot: {}", r.text);
    let bundle = r.body.clone();
    let bundle_text = r.text.clone();
    for coll in COLLECTIONS.iter().chain(&["apikeys"]) {
        assert!(bundle[*coll].is_array(), "bundle lacks {coll}");
    }
    let find = |coll: &str, key: &str, id: i64| {
        bundle[coll]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[key] == id)
            .cloned()
    };
    assert_eq!(
        find("companies", "CompanyId", company_id).expect("created company")["Name"],
        "Snapshot Test Co"
    );
    assert_eq!(
        find("devices", "DeviceId", 1).unwrap()["Name"],
        "ABC-SRV01-renamed"
    );
    assert!(find("jobitems", "JobItemId", 3).is_none(), "deleted item");
    let stored = find("jobitems", "JobItemId", item_id).expect("created item");
    assert_eq!(stored["Username"], "snap_user");
    assert_eq!(stored["Password"], "snap-P@ss-9");

    // a second sandbox started on the bundle file
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, &bundle_text).unwrap();
    let t2 = T::with(Config {
        fixtures: file.clone(),
        ..Config::default()
    })
    .await;
    let state1 = t1.state().await;
    same_state(
        &state1,
        &t2.state().await,
        "sandbox started on the snapshot",
    );
    // the bundle of the second is the same bundle
    let again = t2.admin("/_sandbox/snapshot").await;
    assert!(again == bundle, "snapshot of the reloaded state differs");
    // credentials survived, and are still rendered null
    let read = t2.read(PARTNER1, &format!("/api/jobitems/{item_id}")).await;
    assert_eq!(read["Username"], Value::Null);
    assert_eq!(read["Password"], Value::Null);
    // AuthenticationMode S needs Username and Password: a merge that names
    // neither is accepted only because the stored ones survived
    let renamed = t2
        .update(
            PARTNER1,
            "jobitems",
            item_id,
            &json!({"Name": "Payroll DB"}),
        )
        .await;
    assert_eq!(renamed["Name"], "Payroll DB");
    assert_eq!(renamed["AuthenticationMode"], "S");

    // PUT on a third, fresh sandbox: a broken bundle first
    let t3 = T::start().await;
    let fresh = t3.state().await;
    let mut broken = bundle.clone();
    broken["devices"][0]["CompanyId"] = json!(9999);
    let broken_device = broken["devices"][0]["DeviceId"].clone();
    let r = t3
        .send_text(
            Some(ADMIN),
            Method::PUT,
            "/_sandbox/snapshot",
            Some(broken.to_string()),
        )
        .await;
    let errors = refused(&r, 422, &["CompanyId", "9999"]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("CompanyId") && e.contains("9999")),
        "{errors:?} (device {broken_device})"
    );
    same_state(&fresh, &t3.state().await, "after a refused PUT snapshot");

    let r = t3
        .send_text(
            Some(ADMIN),
            Method::PUT,
            "/_sandbox/snapshot",
            Some(bundle_text),
        )
        .await;
    assert_eq!(r.status, 200, "PUT /_sandbox/snapshot: {}", r.text);
    same_state(&state1, &t3.state().await, "after PUT snapshot");
}

// ----------------------------------------------------------------- 3. reset

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_discards_api_changes_and_restores_the_fixtures() {
    let t = T::start().await;
    let reference = T::start().await;
    let company = t
        .create(
            PARTNER1,
            "companies",
            &json!({"Name": "Reset Me Co", "PlanTypeId": 1}),
        )
        .await;
    let id = company["CompanyId"].as_i64().unwrap();
    t.update(
        PARTNER2,
        "devices",
        8,
        &json!({"Name": "Renamed before reset"}),
    )
    .await;

    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "POST /_sandbox/reset: {}", r.text);
    assert_eq!(r.body["discarded_api_changes"], 2, "{}", r.text);

    let r = t.get(PARTNER1, &format!("/api/companies/{id}")).await;
    assert_eq!(r.status, 404, "created company after reset: {}", r.text);
    same_state(&reference.state().await, &t.state().await, "after reset");

    // nothing to discard the second time
    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "POST /_sandbox/reset: {}", r.text);
    assert_eq!(r.body["discarded_api_changes"], 0, "{}", r.text);
}

// ------------------------------------------------------- 4. request journal

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_lists_api_requests_newest_first_with_their_details() {
    let t = T::start().await;
    let t0 = t.now().await;
    let bad = json!({"PlanTypeId": 1});
    let good = json!({"Name": "Journal Co", "PlanTypeId": 1});
    let rs = [
        t.get(PARTNER1, "/api/companies?PageSize=2").await,
        t.get(PARTNER1, "/api/devices/1").await,
        t.post(PARTNER1, "/api/companies", &bad).await,
        t.post(PARTNER1, "/api/companies", &good).await,
        t.get("no-such-key", "/api/plans").await,
        t.get(PARTNER2, "/api/partners").await,
    ];
    let t1 = t.now().await;
    let expect: [Expected; 6] = [
        (
            "GET",
            "/api/companies",
            Some("PageSize=2"),
            Some(1),
            200,
            None,
        ),
        ("GET", "/api/devices/1", None, Some(1), 200, None),
        ("POST", "/api/companies", None, Some(1), 422, Some(&bad)),
        ("POST", "/api/companies", None, Some(1), 201, Some(&good)),
        ("GET", "/api/plans", None, None, 401, None),
        ("GET", "/api/partners", None, Some(2), 200, None),
    ];
    let rids: Vec<u64> = rs.iter().map(Resp::request_id).collect();

    let journal = t.journal("").await;
    // only the /api/ requests (the control API calls are not journaled),
    // newest first
    let want: Vec<u64> = rids.iter().rev().copied().collect();
    assert_eq!(ids(&journal, "id"), want, "{journal:?}");
    for (e, (r, (method, path, query, partner, status, body))) in
        journal.iter().rev().zip(rs.iter().zip(expect.iter()))
    {
        for f in JOURNAL_FIELDS {
            assert!(e.get(f).is_some(), "entry lacks {f}: {e}");
        }
        assert_eq!(r.status, *status, "{}", r.text);
        assert_eq!(e["id"], r.request_id());
        assert_eq!(e["method"], *method, "{e}");
        assert_eq!(e["path"], *path, "{e}");
        assert_eq!(e["query"], json!(query), "{e}");
        assert_eq!(e["partner_id"], json!(partner), "{e}");
        assert_eq!(e["status"], *status, "{e}");
        let d = e["duration_ms"].as_f64().expect("duration_ms");
        assert!((0.0..20_000.0).contains(&d), "{e}");
        let time = ms(e["time"].as_str().expect("time"));
        assert!(t0 <= time && time <= t1, "time outside [{t0}, {t1}]: {e}");
        match body {
            Some(b) => {
                let got: Value =
                    serde_json::from_str(e["request_body"].as_str().expect("request_body"))
                        .expect("request_body is the JSON sent");
                assert_eq!(got, **b, "{e}");
            }
            None => assert_eq!(e["request_body"], Value::Null, "{e}"),
        }
        assert_eq!(e["response_body"], r.text.as_str(), "{e}");
    }

    // filters
    let by = |q: &'static str| {
        let t = &t;
        async move { ids(&t.journal(q).await, "id") }
    };
    assert_eq!(by("?method=POST").await, vec![rids[3], rids[2]]);
    assert_eq!(
        by("?method=GET").await,
        vec![rids[5], rids[4], rids[1], rids[0]]
    );
    assert_eq!(
        by("?path=/api/companies").await,
        vec![rids[3], rids[2], rids[0]]
    );
    assert_eq!(
        by("?path=/api/comp").await,
        vec![rids[3], rids[2], rids[0]],
        "path is a prefix"
    );
    assert_eq!(by("?path=/api/devices").await, vec![rids[1]]);
    assert_eq!(by("?status=422").await, vec![rids[2]]);
    assert_eq!(by("?status=401").await, vec![rids[4]]);
    assert_eq!(by("?status=200").await, vec![rids[5], rids[1], rids[0]]);
    assert_eq!(by("?method=GET&path=/api/companies").await, vec![rids[0]]);
    assert_eq!(by("?status=404").await, Vec::<u64>::new());

    // still only the six /api/ requests after all these control calls
    assert_eq!(t.journal("").await.len(), 6);
    assert!(
        t.journal("?path=/_sandbox").await.is_empty(),
        "control API requests are not journaled"
    );

    // DELETE clears it
    let r = t.delete(ADMIN, "/_sandbox/requests").await;
    assert_eq!(r.status, 200, "DELETE /_sandbox/requests: {}", r.text);
    assert!(t.journal("").await.is_empty());
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(ids(&t.journal("").await, "id"), vec![r.request_id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_keeps_only_its_bound_of_newest_entries() {
    let t = T::with(Config {
        settings: Settings {
            journal: 5,
            ..Settings::default()
        },
        ..Config::default()
    })
    .await;
    let mut rids = Vec::new();
    for i in 0..20 {
        let path = if i % 2 == 0 {
            "/api/plans"
        } else {
            "/api/companies/1"
        };
        let r = t.get(PARTNER1, path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        rids.push(r.request_id());
    }
    let journal = t.journal("").await;
    let want: Vec<u64> = rids[15..].iter().rev().copied().collect();
    assert_eq!(ids(&journal, "id"), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_cuts_bodies_at_16_kib() {
    let t = T::start().await;
    let long = "x".repeat(40 * 1024);
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"Name": long, "PlanTypeId": 1}),
        )
        .await;
    refused(&r, 422, &["Name"]);
    let big = t.get(PARTNER1, "/api/logs?PageSize=500").await;
    assert_eq!(big.status, 200);
    assert!(big.text.len() > 2 * BODY_CUT, "precondition: a big answer");

    let journal = t.journal("").await;
    assert_eq!(ids(&journal, "id"), vec![big.request_id(), r.request_id()]);
    let req = journal[1]["request_body"].as_str().expect("request body");
    assert!(
        (BODY_CUT - 64..=BODY_CUT).contains(&req.len()),
        "request body kept: {} bytes",
        req.len()
    );
    assert!(req.contains(&"x".repeat(1000)), "the kept part is the body");
    let resp = journal[1]["response_body"].as_str().expect("response body");
    assert!(resp.len() <= BODY_CUT, "{} bytes", resp.len());
    let resp = journal[0]["response_body"].as_str().expect("response body");
    assert!(
        (BODY_CUT - 64..=BODY_CUT).contains(&resp.len()),
        "response body kept: {} bytes",
        resp.len()
    );
    let head: String = resp.chars().take(8000).collect();
    assert!(
        big.text.starts_with(&head),
        "the kept part is the answer's start"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_never_holds_a_key_a_basic_credential_or_a_password() {
    let t = T::start().await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let unknown = "sk-unknown-7f3a9c";
    let mut needles = vec![
        PARTNER1.to_string(),
        PARTNER2.to_string(),
        ADMIN.to_string(),
        unknown.to_string(),
    ];
    for k in [PARTNER1, PARTNER2, ADMIN, unknown] {
        needles.push(b64(&format!("{k}:")));
        needles.push(b64(&format!("{k}:ignored")));
        needles.push(b64(&format!("{k}:")).trim_end_matches('=').to_string());
    }
    // keys as `curl -u KEY:` sends them, and with a password
    for k in [PARTNER1, PARTNER2, ADMIN, unknown] {
        for pw in [None, Some("ignored")] {
            let r = bounded(t.c.get(t.sb.url("/api/companies")).basic_auth(k, pw).send())
                .await
                .unwrap();
            assert!(r.status().as_u16() >= 200);
        }
    }
    let passwords = ["Pw-Secret!2718", "Pw-Other#3141", "Pw-Broken%1618"];
    let item = t
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": 1, "Name": "Secret DB", "BackupTypeId": 2, "ServerName": "ABC-SRV01",
                    "DatabaseName": "Secret", "AuthenticationMode": "S",
                    "Username": "sa_backup", "Password": passwords[0]}),
        )
        .await;
    let id = item["JobItemId"].as_i64().unwrap();
    t.update(PARTNER1, "jobitems", id, &json!({"Password": passwords[1]}))
        .await;
    let r = t
        .send_text(
            Some(PARTNER1),
            Method::POST,
            "/api/jobitems",
            Some(format!(
                r#"{{"JobId": 1, "Password": "{}", "Name": }}"#,
                passwords[2]
            )),
        )
        .await;
    assert_eq!(r.status, 400, "broken JSON: {}", r.text);

    let text = bounded(
        t.c.get(t.sb.url("/_sandbox/requests"))
            .basic_auth(ADMIN, Some("ignored"))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(text.status(), 200);
    let text = bounded(text.text()).await.unwrap();
    for n in needles.iter().map(String::as_str).chain(passwords) {
        assert!(!text.contains(n), "the journal holds {n:?}");
    }
    let journal: Value = serde_json::from_str(&text).unwrap();
    let writes: Vec<&Value> = journal["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/api/jobitems"))
        .collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    for e in &writes[1..] {
        let body: Value = serde_json::from_str(e["request_body"].as_str().unwrap()).unwrap();
        assert_eq!(body["Password"], "***", "{e}");
    }
    let broken = writes[0]["request_body"].as_str().unwrap();
    assert!(broken.contains("***"), "{broken}");
}

// ----------------------------------------------------------------- 5. clock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_moves_now_and_the_offset() {
    let t = T::start().await;
    let c = t.admin("/_sandbox/clock").await;
    assert_eq!(c["offset_seconds"].as_f64(), Some(0.0), "{c}");
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let before = ms(c["now"].as_str().unwrap());
    assert!(
        (before - real).abs() < 5_000,
        "starts at the real time: {c}"
    );

    let r = t
        .post(ADMIN, "/_sandbox/clock", &json!({"advance": 7200}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["offset_seconds"].as_f64(),
        Some(7200.0),
        "{}",
        r.text
    );
    let moved = ms(r.body["now"].as_str().unwrap()) - before;
    assert!(
        (7_200_000..7_200_000 + 20_000).contains(&moved),
        "now moved by {moved} ms"
    );
    let c = t.admin("/_sandbox/clock").await;
    assert_eq!(c["offset_seconds"].as_f64(), Some(7200.0), "{c}");
    assert!(ms(c["now"].as_str().unwrap()) - before >= 7_200_000);
}

// ------------------------------------------------------ 6. simulated runs

/// The job with a SQL item (9) on device 4 (company 2 of partner 1, every
/// notification flag on); the test adds a file item to it.
const JOB: i64 = 6;
const DEVICE: i64 = 4;
const COMPANY: i64 = 2;

async fn simulated_run(outcome: &str, event_type: i64, event_name: &str) {
    let t = T::start().await;
    t.set_clock("2027-01-15T12:00:00.000").await;
    // a file item next to the SQL one, and an ExpireOn to copy
    let file_item = t
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": JOB, "Name": "Exports", "BackupTypeId": 1,
                    "BaseFolder": "D:\\Exports", "SearchPatterns": "*.*"}),
        )
        .await;
    t.update(
        PARTNER1,
        "jobs",
        JOB,
        &json!({"ExpireOn": "2027-03-01T18:00:00.000"}),
    )
    .await;
    let job = t.read(PARTNER1, &format!("/api/jobs/{JOB}")).await;
    let device = t.read(PARTNER1, &format!("/api/devices/{DEVICE}")).await;
    let items = job["JobItems"].as_array().expect("JobItems").clone();
    let item_ids = ids(&items, "JobItemId");
    assert_eq!(item_ids.len(), 2, "{job}");
    assert!(item_ids.contains(&file_item["JobItemId"].as_u64().unwrap()));
    let logs_before = t.list(PARTNER1, "logs").await.len();
    let r = t.delete(ADMIN, "/_sandbox/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);

    let t0 = t.now().await;
    let answer = t.run(JOB, json!({ "JobStatus": outcome })).await;
    let t1 = t.now().await;
    let log = &answer["data"];
    let log_id = log["LogId"].as_i64().expect("LogId");

    // exactly as /api/logs/{LogId} renders it
    let read = t.ok(PARTNER1, &format!("/api/logs/{log_id}")).await;
    assert_eq!(answer, read, "the run's answer is the Log as read");
    assert_eq!(t.list(PARTNER1, "logs").await.len(), logs_before + 1);

    assert_eq!(log["JobId"], JOB);
    assert_eq!(log["DeviceId"], DEVICE);
    assert_eq!(log["CompanyId"], COMPANY);
    assert_eq!(log["SubscriptionId"], device["SubscriptionId"]);
    for a in [
        "Name",
        "Frequency",
        "NextRunOn",
        "LateAfter",
        "ExpireOn",
        "LocalKeepLast",
    ] {
        assert_eq!(log[a], job[a], "Log {a} copies the job's");
    }
    assert_eq!(log["ExpireOn"], "2027-03-01T18:00:00.000");
    for a in [
        "TimeZoneId",
        "SendNotificationTo",
        "SendNotificationBcc",
        "SendNotificationCc",
        "SendNotificationOnJobCompleted",
        "SendNotificationOnJobFailed",
        "SendNotificationOnJobMissed",
    ] {
        assert_eq!(log[a], device[a], "Log {a} copies the device's");
    }
    assert_eq!(log["JobStatus"], outcome);
    // local times of an "Eastern Standard Time" device in January: UTC-5
    let (lo, hi) = (t0 - EST_WINTER_MS, t1 - EST_WINTER_MS);
    if outcome == "Missed" {
        assert_eq!(log["JobCompletedOn"], Value::Null, "{log}");
    } else {
        let done = ms(log["JobCompletedOn"].as_str().expect("JobCompletedOn"));
        assert!(lo <= done && done <= hi, "JobCompletedOn local: {log}");
    }
    let started = ms(log["JobStartedOn"].as_str().expect("JobStartedOn"));
    assert!(started <= hi, "JobStartedOn after the run: {log}");

    // one Log Item per Job Item
    let log_items = log["LogItems"].as_array().expect("LogItems");
    assert_eq!(ids(log_items, "JobItemId"), item_ids, "{log}");
    for (li, item) in log_items.iter().zip(&items) {
        assert_eq!(li["LogId"], log_id);
        assert_eq!(li["Name"], item["Name"]);
        let li_id = li["LogItemId"].as_i64().unwrap();
        assert_eq!(
            &t.read(PARTNER1, &format!("/api/logitems/{li_id}")).await["JobItemId"],
            &item["JobItemId"]
        );
        if outcome == "Completed" {
            assert!(li["BackupFileName"].is_string(), "{li}");
            assert!(li["BackupFileSize"].as_i64().is_some_and(|s| s > 0), "{li}");
        } else {
            assert_eq!(li["BackupFileName"], Value::Null, "{li}");
            assert_eq!(li["BackupFileSize"], Value::Null, "{li}");
        }
    }

    // the event
    let events = t.read(PARTNER1, "/api/events?PageSize=1").await;
    let ev = &events[0];
    assert_eq!(ev["EventTypeId"], event_type, "{ev}");
    assert_eq!(ev["EventType"], event_name, "{ev}");
    assert_eq!(ev["JobId"], JOB, "{ev}");
    assert_eq!(ev["DeviceId"], DEVICE, "{ev}");
    assert_eq!(ev["CompanyId"], COMPANY, "{ev}");
    assert_eq!(ev["LogId"], log_id, "{ev}");
    let at = ms(ev["AddedOn"].as_str().unwrap());
    assert!(t0 <= at && at <= t1, "event AddedOn (UTC): {ev}");

    // the job: only LastRanOn changes
    let after = t.read(PARTNER1, &format!("/api/jobs/{JOB}")).await;
    let mut rest = after.as_object().unwrap().clone();
    let mut was = job.as_object().unwrap().clone();
    rest.remove("LastRanOn");
    was.remove("LastRanOn");
    assert_eq!(rest, was, "only LastRanOn changes");

    // the device asks for a notification of every outcome
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["to"], device["SendNotificationTo"]);
    assert_eq!(outbox[0]["cc"], device["SendNotificationCc"]);
    assert_eq!(outbox[0]["bcc"], device["SendNotificationBcc"]);
    let sent = ms(outbox[0]["time"].as_str().unwrap());
    assert!(t0 <= sent && sent <= t1, "{outbox:?}");

    // LastRanOn: the sandbox clock in the device's zone
    let ran = ms(after["LastRanOn"].as_str().expect("LastRanOn"));
    assert!(
        lo <= ran && ran <= hi,
        "LastRanOn {} is not the sandbox clock at UTC-5 (between {} and {}); the run's Log: \
         JobStartedOn {}, JobCompletedOn {}",
        after["LastRanOn"],
        ts(lo),
        ts(hi),
        log["JobStartedOn"],
        log["JobCompletedOn"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Completed", 81, "Job Completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Failed", 82, "Job Failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Missed", 83, "Job Missed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_notify_only_when_the_device_asks_and_bad_runs_change_nothing() {
    let t = T::start().await;
    let mail_to = |m: &Value| m["to"].as_str().unwrap().to_string();
    // device 1 (job 1): Completed off, Failed and Missed on
    t.run(1, json!({"JobStatus": "Completed"})).await;
    assert!(t.outbox().await.is_empty(), "Completed is off for device 1");
    let answer = t
        .run(
            1,
            json!({"JobStatus": "Failed", "ErrorMessages": "VSS snapshot failed on C:"}),
        )
        .await;
    assert_eq!(answer["data"]["ErrorMessages"], "VSS snapshot failed on C:");
    let id = answer["data"]["LogId"].as_i64().unwrap();
    let read = t.read(PARTNER1, &format!("/api/logs/{id}")).await;
    assert_eq!(read["ErrorMessages"], "VSS snapshot failed on C:");
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(mail_to(&outbox[0]), "it@abccompany.example.com");
    t.run(1, json!({"JobStatus": "Missed"})).await;
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(
        outbox[0]["id"].as_u64() > outbox[1]["id"].as_u64(),
        "newest first: {outbox:?}"
    );

    // device 3 (job 5): every flag off
    for outcome in ["Completed", "Failed", "Missed"] {
        t.run(5, json!({ "JobStatus": outcome })).await;
    }
    assert_eq!(t.outbox().await.len(), 2, "device 3 asks for nothing");
    // switched on, it gets one
    t.update(
        PARTNER1,
        "devices",
        3,
        &json!({"SendNotificationOnJobCompleted": true,
                "SendNotificationTo": "tnguyen@abccompany.example.com"}),
    )
    .await;
    t.run(5, json!({"JobStatus": "Completed"})).await;
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    assert_eq!(mail_to(&outbox[0]), "tnguyen@abccompany.example.com");

    // refused runs change nothing
    let before = t.state().await;
    for body in [
        json!({"JobStatus": "Exploded"}),
        json!({}),
        json!({"JobStatus": null}),
        json!({"JobStatus": 1}),
    ] {
        let r = t.post(ADMIN, "/_sandbox/jobs/1/run", &body).await;
        refused(&r, 422, &["JobStatus"]);
    }
    let r = t
        .post(
            ADMIN,
            "/_sandbox/jobs/9999/run",
            &json!({"JobStatus": "Completed"}),
        )
        .await;
    refused(&r, 404, &[]);
    same_state(&before, &t.state().await, "after refused runs");
    assert_eq!(t.outbox().await.len(), 3);
}

// ---------------------------------------------------------------- 7. outbox

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_users_records_invitations_in_the_outbox() {
    let t = T::start().await;
    assert!(t.outbox().await.is_empty());
    let t0 = t.now().await;
    t.create(
        PARTNER1,
        "partnerusers",
        &json!({"FirstName": "Paula", "LastName": "Partner", "Email": "paula.partner@example.com"}),
    )
    .await;
    t.create(
        PARTNER1,
        "companyusers",
        &json!({"CompanyId": 1, "FirstName": "Carl", "LastName": "Company",
                "Email": "carl.company@example.com"}),
    )
    .await;
    // a refused create sends nothing
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({"FirstName": "No", "LastName": "Mail", "Email": "not an address"}),
        )
        .await;
    refused(&r, 422, &["Email"]);
    let t1 = t.now().await;

    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert_eq!(outbox[0]["to"], "carl.company@example.com");
    assert_eq!(outbox[1]["to"], "paula.partner@example.com");
    for m in &outbox {
        for f in ["id", "time", "to", "cc", "bcc", "subject", "body"] {
            assert!(m.get(f).is_some(), "mail lacks {f}: {m}");
        }
        assert!(m["subject"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
        assert!(m["body"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
        let at = ms(m["time"].as_str().unwrap());
        assert!(t0 <= at && at <= t1, "{m}");
    }
    assert!(outbox[0]["id"].as_u64() > outbox[1]["id"].as_u64());

    let r = t.delete(ADMIN, "/_sandbox/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(t.outbox().await.is_empty());
}

// ---------------------------------------------------------------- 8. faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_are_added_listed_and_removed() {
    let t = T::start().await;
    assert!(t.faults().await.is_empty());
    let a = t
        .add_fault(json!({"method": "GET", "path": "/api/devices", "status": 503}))
        .await;
    assert_eq!(a["method"], "GET");
    assert_eq!(a["path"], "/api/devices");
    assert_eq!(a["status"], 503);
    assert!(a["id"].is_u64(), "{a}");
    let b = t
        .add_fault(json!({"partner": 2, "latency_ms": 50, "times": 3}))
        .await;
    assert_eq!(b["partner"], 2);
    assert_eq!(b["latency_ms"], 50);
    assert_eq!(b["times"], 3);
    let c = t
        .add_fault(json!({"path": "/api/jobs", "rate_limit": 5, "window_s": 10}))
        .await;
    assert_eq!(c["rate_limit"], 5);
    assert_eq!(c["window_s"], 10);
    let ids_of = |rules: &[Value]| ids(rules, "id");
    let all = [&a, &b, &c].map(|r| r["id"].as_u64().unwrap()).to_vec();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 3, "distinct ids");
    let listed = t.faults().await;
    assert_eq!(ids_of(&listed), all);
    assert_eq!(listed[0]["path"], "/api/devices");

    // invalid rules: 422, nothing added
    for (rule, needle) in [
        (json!({"status": 503, "close": true}), "action"),
        (json!({"path": "/api/devices"}), "action"),
        (json!({"rate_limit": 5}), "window_s"),
        (json!({"status": 503, "colour": "red"}), "colour"),
    ] {
        let r = t.post(ADMIN, "/_sandbox/faults", &rule).await;
        refused(&r, 422, &[needle]);
    }
    assert_eq!(ids_of(&t.faults().await), all);

    // one by id; an unknown id is 404
    let r = t
        .delete(ADMIN, &format!("/_sandbox/faults/{}", all[1]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids_of(&t.faults().await), vec![all[0], all[2]]);
    let r = t
        .delete(ADMIN, &format!("/_sandbox/faults/{}", all[1]))
        .await;
    refused(&r, 404, &[]);
    let r = t.delete(ADMIN, "/_sandbox/faults/987654").await;
    refused(&r, 404, &[]);
    // all
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(t.faults().await.is_empty());
    let r = t.get(PARTNER1, "/api/devices").await;
    assert_eq!(r.status, 200, "rules removed: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_rule_delays_matching_requests_only() {
    let t = T::start().await;
    let normal = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(normal.status, 200);
    t.add_fault(json!({"path": "/api/plans", "latency_ms": 1500}))
        .await;
    let started = Instant::now();
    let r = t.get(PARTNER1, "/api/plans").await;
    let slow = started.elapsed();
    assert_eq!(r.status, 200, "served normally: {}", r.text);
    assert_eq!(r.body, normal.body);
    assert!(slow >= Duration::from_millis(1500), "took {slow:?}");

    let started = Instant::now();
    let r = t.get(PARTNER1, "/api/backuptypes").await;
    let fast = started.elapsed();
    assert_eq!(r.status, 200);
    assert!(fast < Duration::from_millis(1500), "took {fast:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_rule_answers_its_status_and_body_for_its_method() {
    let t = T::start().await;
    let body = json!({"errors": ["Service down for maintenance."], "retry": true});
    t.add_fault(json!({"method": "POST", "path": "/api/companies", "status": 503, "body": body}))
        .await;
    let before = t.list(PARTNER1, "companies").await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"Name": "Faulty Co", "PlanTypeId": 1}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, body, "{}", r.text);
    assert_eq!(
        t.list(PARTNER1, "companies").await,
        before,
        "nothing created"
    );
    // GET is another method
    let r = t.get(PARTNER1, "/api/companies").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // another path
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({"FirstName": "Not", "LastName": "Faulted", "Email": "nf@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_rule_answers_429_with_retry_after() {
    let t = T::start().await;
    t.add_fault(json!({"path": "/api/plans", "rate_limit": 2, "window_s": 60}))
        .await;
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/plans").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/plans").await;
        refused(&r, 429, &[]);
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    let r = t.get(PARTNER1, "/api/plantypes").await;
    assert_eq!(r.status, 200, "other paths are not limited: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_rule_drops_the_connection_without_an_answer() {
    let t = T::start().await;
    t.add_fault(json!({"path": "/api/devices", "close": true}))
        .await;
    let clients = [t.sb.client(), t.sb.client_h2()];
    let fetch = |c: &reqwest::Client, path: &str| {
        c.get(t.sb.url(path)).basic_auth(PARTNER1, Some("x")).send()
    };
    for c in &clients {
        let res = bounded(fetch(c, "/api/devices/1")).await;
        assert!(res.is_err(), "expected no response, got {res:?}");
    }
    // other paths answer, on the same clients
    for c in &clients {
        let r = bounded(fetch(c, "/api/jobs/1")).await.expect("a response");
        assert_eq!(r.status(), 200);
    }
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200);
    for c in &clients {
        let r = bounded(fetch(c, "/api/devices/1"))
            .await
            .expect("a response");
        assert_eq!(r.status(), 200, "rule removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_match_on_partner_and_path_prefix() {
    let t = T::start().await;
    t.add_fault(json!({"partner": 1, "path": "/api/devices", "status": 500}))
        .await;
    for path in ["/api/devices", "/api/devices/1", "/api/devices?PageSize=3"] {
        let r = t.get(PARTNER1, path).await;
        assert_eq!(r.status, 500, "{path}: {}", r.text);
    }
    let r = t.get(PARTNER1, "/api/jobs").await;
    assert_eq!(r.status, 200, "another path: {}", r.text);
    for path in ["/api/devices", "/api/devices/8"] {
        let r = t.get(PARTNER2, path).await;
        assert_eq!(r.status, 200, "partner 2 {path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_with_times_stops_after_its_uses_and_disappears() {
    let t = T::start().await;
    let keep = t
        .add_fault(json!({"path": "/api/nothing-matches", "status": 500}))
        .await;
    let rule = t
        .add_fault(json!({"path": "/api/companies", "status": 502, "times": 2}))
        .await;
    assert_eq!(t.faults().await.len(), 2);
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/companies/1").await;
        assert_eq!(r.status, 502, "{}", r.text);
    }
    let r = t.get(PARTNER1, "/api/companies/1").await;
    assert_eq!(r.status, 200, "third request is normal: {}", r.text);
    let listed = t.faults().await;
    assert_eq!(ids(&listed, "id"), vec![keep["id"].as_u64().unwrap()]);
    assert!(!listed.iter().any(|r| r["id"] == rule["id"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_to_the_api_only() {
    let t = T::start().await;
    t.add_fault(json!({"status": 503})).await;
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let r = t.get(PARTNER2, "/api/companies").await;
    assert_eq!(r.status, 503, "{}", r.text);
    for path in [
        "/_sandbox/health",
        "/_sandbox/faults",
        "/_sandbox/clock",
        "/_sandbox/requests",
        "/_sandbox/outbox",
        "/_sandbox/snapshot",
    ] {
        let r = t.get(ADMIN, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    t.run(1, json!({"JobStatus": "Completed"})).await;
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_of_sandbox_json_apply_and_are_listed() {
    let dir = fixtures_with(&[(
        "sandbox",
        r#"{"faults": [{"path": "/api/plans", "status": 503}]}"#,
    )]);
    let t = T::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let r = t.get(PARTNER1, "/api/plantypes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = t.faults().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["path"], "/api/plans");
    assert_eq!(listed[0]["status"], 503);
    assert!(listed[0]["id"].is_u64());
}

// ---------------------------------------------------------------- 9. health

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_counts_of_the_current_state() {
    let t = T::start().await;
    let h = t.admin("/_sandbox/health").await;
    assert_eq!(h["status"], "ok", "{h}");
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
    assert!(
        h["fixtures"]
            .as_str()
            .is_some_and(|f| f.contains("fixtures")),
        "{h}"
    );
    assert!(is_timestamp(h["loaded_at"].as_str().unwrap_or("")), "{h}");
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    let counts = h["counts"].as_object().expect("counts");
    assert_eq!(counts.len(), 14, "{h}");
    for coll in COLLECTIONS {
        let n = default_fixture(coll).as_array().unwrap().len();
        assert_eq!(counts[coll], n, "{coll}: {h}");
    }

    let before = t.counts().await;
    t.create(
        PARTNER1,
        "companies",
        &json!({"Name": "Counted Co", "PlanTypeId": 1}),
    )
    .await;
    let r = t.delete(PARTNER1, "/api/jobitems/3").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = t.counts().await;
    for coll in COLLECTIONS {
        let delta = match coll {
            "companies" => 1,
            "jobitems" => -1,
            "events" => 2,
            _ => 0,
        };
        assert_eq!(
            after[coll].as_i64().unwrap(),
            before[coll].as_i64().unwrap() + delta,
            "{coll}: {before} -> {after}"
        );
    }
}

/// A request refused by authentication still names the known key's partner
/// in the journal (null only for an unknown key, or an admin key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_names_the_partner_of_a_refused_known_key() {
    let t = T::start().await;
    let no_plan = t.get(NO_PLAN, "/api/companies").await;
    assert_eq!(no_plan.status, 403, "{}", no_plan.text);
    let inactive = t.get(INACTIVE, "/api/companies").await;
    assert_eq!(inactive.status, 403, "{}", inactive.text);
    let admin = t.get(ADMIN, "/api/companies").await;
    assert_eq!(admin.status, 403, "{}", admin.text);
    let journal = t.journal("").await;
    let partner_of = |r: &Resp| {
        journal
            .iter()
            .find(|e| e["id"] == r.request_id())
            .unwrap_or_else(|| panic!("no entry for {}", r.request_id()))["partner_id"]
            .clone()
    };
    assert_eq!(partner_of(&no_plan), json!(3));
    assert_eq!(partner_of(&inactive), json!(4));
    assert_eq!(partner_of(&admin), Value::Null);
}
