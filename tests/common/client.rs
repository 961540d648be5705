//! The one client of the tests: a running sandbox and an HTTP/1.1 client
//! that trusts its CA, with the requests the tests send most.

use std::path::Path;

use cleverfox_sandbox::config::Settings;
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    ADMIN, COLLECTIONS, Config, PARTNER1, PARTNER2, Resp, Sandbox, bounded, eventually, ms,
};

/// The collections a snapshot (see [`Client::snapshot`]) compares: every
/// collection a partner writes to or sees change, events included.
pub const SNAPSHOT: [&str; 11] = [
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

/// A running sandbox and one HTTP/1.1 client for it.
pub struct Client {
    pub sb: Sandbox,
    pub c: reqwest::Client,
    /// Every answer but a 204 must be a JSON object served as
    /// `application/json; charset=utf-8` (see [`Client::json_only`]).
    json_only: bool,
}

impl Client {
    /// A sandbox on the default fixtures.
    pub async fn start() -> Client {
        Client::with(Config::default()).await
    }

    /// A sandbox on the default fixtures with `settings`.
    pub async fn settings(settings: Settings) -> Client {
        Client::with(Config {
            settings,
            ..Config::default()
        })
        .await
    }

    pub async fn with(cfg: Config) -> Client {
        Client::on(bounded(Sandbox::with(cfg)).await)
    }

    /// A sandbox on `fixtures`, watching them when `watch`.
    pub async fn serving(fixtures: &Path, watch: bool) -> Client {
        Client::with(Config {
            fixtures: fixtures.to_path_buf(),
            watch,
            ..Config::default()
        })
        .await
    }

    /// A sandbox watching `fixtures`, once its watcher is in place (the
    /// harness starts the watcher in its own task).
    pub async fn watching(fixtures: &Path) -> Client {
        let t = Client::serving(fixtures, true).await;
        eventually("health says watching", async || {
            let h = t.health().await;
            if h["watching"] == true {
                Ok(())
            } else {
                Err(h.to_string())
            }
        })
        .await;
        t
    }

    /// A client for a sandbox already running.
    pub fn on(sb: Sandbox) -> Client {
        let c = sb.client();
        Client {
            sb,
            c,
            json_only: false,
        }
    }

    /// From now on, asserts of every answer but a 204 that it is a JSON
    /// object served as `application/json; charset=utf-8`.
    pub fn json_only(mut self) -> Client {
        self.json_only = true;
        self
    }

    /// Stops the sandbox and waits for it to finish.
    pub async fn stop(self) {
        self.sb.stop().await
    }

    // ------------------------------------------------------------ requests

    /// Sends one request and reads the whole answer: `key` None sends no
    /// credentials; `content_type` and `body` are sent when given.
    pub async fn request(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Resp {
        let r = self
            .sb
            .request(&self.c, key, method.clone(), path, content_type, body)
            .await;
        if self.json_only && r.status != 204 {
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

    /// Sends a request; `key` None sends no credentials; a body is sent as
    /// `application/json`.
    pub async fn send_text(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Resp {
        let content_type = body.as_ref().map(|_| "application/json");
        self.request(key, method, path, content_type, body).await
    }

    /// [`Client::send_text`] with a JSON value.
    pub async fn send(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        self.send_text(key, method, path, body.map(Value::to_string))
            .await
    }

    pub async fn get(&self, key: &str, path: &str) -> Resp {
        self.send(Some(key), Method::GET, path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(Some(key), Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(Some(key), Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Resp {
        self.send(Some(key), Method::DELETE, path, None).await
    }

    /// GET, asserting 200; the JSON answer.
    pub async fn ok(&self, key: &str, path: &str) -> Value {
        let r = self.get(key, path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.body
    }

    /// GET, asserting 200; the `data` of the answer.
    pub async fn read(&self, key: &str, path: &str) -> Value {
        self.ok(key, path).await["data"].clone()
    }

    /// POST, asserting 201; the new record.
    pub async fn create(&self, key: &str, coll: &str, body: &Value) -> Value {
        let r = self.post(key, &format!("/api/{coll}"), body).await;
        assert_eq!(r.status, 201, "POST /api/{coll} {body}: {}", r.text);
        r.data().clone()
    }

    /// PUT, asserting 200; the updated record.
    pub async fn update(&self, key: &str, coll: &str, id: i64, body: &Value) -> Value {
        let r = self.put(key, &format!("/api/{coll}/{id}"), body).await;
        assert_eq!(r.status, 200, "PUT /api/{coll}/{id} {body}: {}", r.text);
        r.data().clone()
    }

    // ------------------------------------------------------------ listing

    /// Every page of a collection at `size`, as served (the last one
    /// short), asserting each answer's `page_no` and `page_size`.
    pub async fn pages(&self, key: &str, coll: &str, size: u64) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        for page_no in 1..=10_000u64 {
            let body = self
                .ok(
                    key,
                    &format!("/api/{coll}?PageNo={page_no}&PageSize={size}"),
                )
                .await;
            assert_eq!(body["page_no"], page_no, "{coll}: {body}");
            assert_eq!(body["page_size"], size, "{coll}: {body}");
            let data = body["data"]
                .as_array()
                .unwrap_or_else(|| panic!("{coll}: no data array"))
                .clone();
            let short = (data.len() as u64) < size;
            pages.push(data);
            if short {
                return pages;
            }
        }
        panic!("{coll}: paging does not end");
    }

    /// The whole collection as `key` sees it: every page of PageSize 500,
    /// in the order served.
    pub async fn list(&self, key: &str, coll: &str) -> Vec<Value> {
        self.pages(key, coll, 500).await.concat()
    }

    /// The whole collection as `key` sees it, in one request
    /// (`?PageSize=500`), asserting that it fits on that one page.
    pub async fn list_one_page(&self, key: &str, coll: &str) -> Vec<Value> {
        let page = self.read(key, &format!("/api/{coll}?PageSize=500")).await;
        let rows = page.as_array().expect("list data is an array").clone();
        assert!(rows.len() < 500, "{coll}: more than one page");
        rows
    }

    /// The events `key` sees, newest first (one page).
    pub async fn events(&self, key: &str) -> Vec<Value> {
        self.list_one_page(key, "events").await
    }

    /// Every collection both partners can list (records as rendered, with
    /// their embedded objects, and the events), every page.
    pub async fn state(&self) -> Vec<(String, Vec<Value>)> {
        let mut out = Vec::new();
        for key in [PARTNER1, PARTNER2] {
            for coll in COLLECTIONS {
                out.push((format!("{key} {coll}"), self.list(key, coll).await));
            }
        }
        out
    }

    /// The [`SNAPSHOT`] collections both partners can list, each on one
    /// page.
    pub async fn snapshot(&self) -> Value {
        let mut out = serde_json::Map::new();
        for key in [PARTNER1, PARTNER2] {
            for coll in SNAPSHOT {
                let rows = self.list_one_page(key, coll).await;
                out.insert(format!("{key} {coll}"), Value::Array(rows));
            }
        }
        Value::Object(out)
    }

    /// Asserts that nothing either partner can see changed since `before`
    /// (a [`Client::snapshot`]).
    pub async fn unchanged(&self, before: &Value, what: &str) {
        let after = self.snapshot().await;
        for (k, v) in before.as_object().unwrap() {
            assert!(after[k] == *v, "{what}: {k} changed");
        }
    }

    // ------------------------------------------------------- control API

    /// The control API's answer to GET `path` (200 asserted).
    pub async fn admin(&self, path: &str) -> Value {
        self.ok(ADMIN, path).await
    }

    /// GET /_sandbox/health, asserting 200.
    pub async fn health(&self) -> Value {
        let r = self.get(ADMIN, "/_sandbox/health").await;
        assert_eq!(r.status, 200, "health: {}", r.show());
        r.body
    }

    /// Health's record counts.
    pub async fn counts(&self) -> Value {
        self.admin("/_sandbox/health").await["counts"].clone()
    }

    /// GET /_sandbox/clock, asserting 200.
    pub async fn clock(&self) -> Value {
        self.admin("/_sandbox/clock").await
    }

    /// The sandbox clock's `now`.
    pub async fn now(&self) -> String {
        self.clock().await["now"].as_str().unwrap().to_string()
    }

    /// The sandbox clock's `now`, in UTC milliseconds.
    pub async fn now_ms(&self) -> i64 {
        let c = self.clock().await;
        ms(c["now"].as_str().expect("clock now"))
    }

    /// POST /_sandbox/clock, asserting 200; the clock as answered.
    pub async fn move_clock(&self, body: Value) -> Value {
        let r = self.post(ADMIN, "/_sandbox/clock", &body).await;
        assert_eq!(r.status, 200, "POST /_sandbox/clock {body}: {}", r.text);
        r.body
    }

    pub async fn advance(&self, seconds: f64) {
        self.move_clock(json!({ "advance": seconds })).await;
    }

    pub async fn set_clock(&self, at: &str) {
        let r = self
            .post(ADMIN, "/_sandbox/clock", &json!({ "set": at }))
            .await;
        assert_eq!(r.status, 200, "POST /_sandbox/clock set {at}: {}", r.text);
    }

    /// The request journal, newest first.
    pub async fn journal(&self, query: &str) -> Vec<Value> {
        self.admin(&format!("/_sandbox/requests{query}")).await["data"]
            .as_array()
            .expect("journal data")
            .clone()
    }

    /// The request journal for a path prefix, oldest first.
    pub async fn journal_of(&self, path: &str) -> Vec<Value> {
        let mut rows = self.journal(&format!("?path={path}")).await;
        rows.sort_by_key(|r| r["id"].as_u64().unwrap());
        rows
    }

    /// DELETE /_sandbox/requests, asserting a 2xx.
    pub async fn clear_journal(&self) {
        let r = self.delete(ADMIN, "/_sandbox/requests").await;
        assert!(
            (200..300).contains(&r.status),
            "DELETE requests: {}",
            r.show()
        );
    }

    pub async fn outbox(&self) -> Vec<Value> {
        self.admin("/_sandbox/outbox").await["data"]
            .as_array()
            .expect("outbox data")
            .clone()
    }

    pub async fn faults(&self) -> Vec<Value> {
        self.admin("/_sandbox/faults").await["data"]
            .as_array()
            .expect("faults data")
            .clone()
    }

    /// POST /_sandbox/faults, asserting 201; the rule as answered.
    pub async fn add_fault(&self, rule: Value) -> Value {
        let r = self.post(ADMIN, "/_sandbox/faults", &rule).await;
        assert_eq!(r.status, 201, "POST /_sandbox/faults {rule}: {}", r.text);
        r.body
    }

    /// DELETE /_sandbox/faults, asserting a 2xx.
    pub async fn clear_faults(&self) {
        let r = self.delete(ADMIN, "/_sandbox/faults").await;
        assert!(
            (200..300).contains(&r.status),
            "DELETE faults: {}",
            r.show()
        );
    }

    /// POST /_sandbox/jobs/{job}/run, asserting 201.
    pub async fn run(&self, job: i64, body: Value) -> Value {
        let r = self
            .post(ADMIN, &format!("/_sandbox/jobs/{job}/run"), &body)
            .await;
        assert_eq!(r.status, 201, "run job {job} {body}: {}", r.text);
        r.body
    }
}
