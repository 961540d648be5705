//! Test harness: a real sandbox on 127.0.0.1:0 with its own certificates,
//! and real HTTPS clients that trust the generated CA.

#![allow(dead_code)] // each test binary uses a different part of the harness

mod client;
mod run;
mod time;

#[allow(unused_imports)] // not every test binary uses the client
pub use client::*;
#[allow(unused_imports)] // nor runs of the binary
pub use run::*;
#[allow(unused_imports)] // nor the clock and polling helpers
pub use time::*;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cleverfox_sandbox::config::Settings;
use cleverfox_sandbox::edge::server::{self, Limits};
use cleverfox_sandbox::edge::tls::TlsSettings;
use cleverfox_sandbox::start::{self, Options};
use reqwest::Method;
use reqwest::header::HeaderMap;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PARTNER1: &str = "demo-partner-1";
pub const PARTNER2: &str = "demo-partner-2";
pub const NO_PLAN: &str = "demo-no-plan";
pub const INACTIVE: &str = "demo-inactive";
pub const ADMIN: &str = "demo-admin";

/// Every await in a test is bounded by this.
pub const STEP: Duration = Duration::from_secs(20);

/// The fourteen collections, as health's `counts` names them.
pub const COLLECTIONS: [&str; 14] = [
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
    "plans",
    "plantypes",
    "backuptypes",
];

/// The fourteen collections and their primary keys.
pub const COLLECTION_KEYS: [(&str, &str); 14] = [
    ("partners", "PartnerId"),
    ("partnerusers", "PartnerUserId"),
    ("companies", "CompanyId"),
    ("companyusers", "CompanyUserId"),
    ("subscriptions", "SubscriptionId"),
    ("devices", "DeviceId"),
    ("jobs", "JobId"),
    ("jobitems", "JobItemId"),
    ("logs", "LogId"),
    ("logitems", "LogItemId"),
    ("events", "EventId"),
    ("plans", "PlanId"),
    ("plantypes", "PlanTypeId"),
    ("backuptypes", "BackupTypeId"),
];

/// The primary key of a collection.
pub fn key_of(coll: &str) -> &'static str {
    COLLECTION_KEYS
        .iter()
        .find(|(c, _)| *c == coll)
        .map(|(_, k)| *k)
        .unwrap_or_else(|| panic!("no collection {coll}"))
}

/// The header that flags responses served while the last fixtures reload
/// failed.
pub const X_FIXTURE_ERROR: &str = "x-sandbox-fixture-error";

/// Bounds one await.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(STEP, f)
        .await
        .expect("step did not finish in time")
}

/// Starts a sandbox (bounded).
pub async fn start_sandbox(cfg: Config) -> Sandbox {
    tokio::time::timeout(STEP, Sandbox::with(cfg))
        .await
        .expect("sandbox starts")
}

/// One answer, read whole.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    /// The parsed JSON answer, or `Value::Null` when it is not JSON.
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The sentences of an error body (asserting its shape).
    pub fn errors(&self) -> Vec<String> {
        let errs = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("not an error body ({}): {}", self.status, self.text));
        assert!(!errs.is_empty(), "empty errors: {}", self.text);
        errs.iter()
            .map(|e| {
                e.as_str()
                    .unwrap_or_else(|| panic!("errors are sentences: {}", self.text))
                    .to_string()
            })
            .collect()
    }

    /// Every `X-Sandbox-Warning` value.
    pub fn warnings(&self) -> Vec<String> {
        self.headers
            .get_all("x-sandbox-warning")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    /// The response's `X-Request-Id`.
    pub fn request_id(&self) -> u64 {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id ({}): {}", self.status, self.text))
            .parse()
            .expect("X-Request-Id is a number")
    }

    /// The `X-Sandbox-Fixture-Error` header, if any.
    pub fn fixture_error(&self) -> Option<String> {
        self.headers
            .get(X_FIXTURE_ERROR)
            .map(|v| v.to_str().expect("visible ASCII").to_string())
    }

    /// `data.Name`, or "" when there is none.
    pub fn name(&self) -> &str {
        self.body["data"]["Name"].as_str().unwrap_or("")
    }

    /// Status, fixture error and the start of the body, for messages.
    pub fn show(&self) -> String {
        format!(
            "{} (fixture error: {:?}): {}",
            self.status,
            self.fixture_error(),
            self.text.chars().take(300).collect::<String>()
        )
    }
}

/// Asserts the status and that each needle appears in some error sentence.
pub fn refused(r: &Resp, status: u16, needles: &[&str]) -> Vec<String> {
    assert_eq!(r.status, status, "expected {status}: {}", r.text);
    let errors = r.errors();
    for n in needles {
        assert!(
            errors.iter().any(|e| e.contains(n)),
            "no error names {n:?}: {errors:?}"
        );
    }
    errors
}

/// Reads a whole answer (bounded); `body` is the parsed JSON or
/// `Value::Null`. Asserts nothing about it.
pub async fn read_response(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = bounded(r.text()).await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// Whether `s` is a sandbox timestamp `YYYY-MM-DDTHH:MM:SS.mmm`.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn default_fixtures() -> PathBuf {
    repo().join("fixtures")
}

/// A running sandbox; stopped (gracefully) when dropped.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub certs: PathBuf,
    pub ca_pem: Vec<u8>,
    /// Keeps the certificates directory alive when the harness made it.
    _tmp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The fixtures watcher, when `Config::watch` asked for one.
    watcher: Option<JoinHandle<()>>,
}

pub struct Config {
    pub fixtures: PathBuf,
    pub certs: Option<PathBuf>,
    pub hostnames: Vec<String>,
    pub tls13_only: bool,
    pub own_cert: Option<(PathBuf, PathBuf)>,
    pub settings: Settings,
    /// Connection limits and timeouts; None: the defaults with a 2 s
    /// shutdown grace.
    pub limits: Option<Limits>,
    /// Watch the fixtures and reload on change (hot reload).
    pub watch: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fixtures: default_fixtures(),
            certs: None,
            hostnames: Vec::new(),
            tls13_only: false,
            own_cert: None,
            settings: Settings::default(),
            limits: None,
            watch: false,
        }
    }
}

impl Sandbox {
    pub async fn start() -> Sandbox {
        Sandbox::with(Config::default()).await
    }

    pub async fn with(cfg: Config) -> Sandbox {
        let (tmp, certs) = match cfg.certs {
            Some(c) => (None, c),
            None => {
                let t = tempfile::tempdir().expect("temp dir");
                let p = t.path().join("certs");
                (Some(t), p)
            }
        };
        let opts = Options {
            bind: "127.0.0.1:0".parse().unwrap(),
            fixtures: cfg.fixtures.into(),
            tls: TlsSettings {
                certs_dir: certs.clone(),
                hostnames: cfg.hostnames,
                tls13_only: cfg.tls13_only,
                own_cert: cfg.own_cert.clone(),
            },
            settings: cfg.settings,
        };
        let ready = start::prepare(&opts)
            .await
            .unwrap_or_else(|e| panic!("sandbox start: {e}"));
        let addr = ready.addr;
        let ca_pem = match &cfg.own_cert {
            Some((cert, _)) => std::fs::read(cert).unwrap(),
            None => std::fs::read(certs.join("ca.pem")).expect("ca.pem written"),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let limits = cfg.limits.unwrap_or_else(|| Limits {
            shutdown_grace: Duration::from_secs(2),
            ..Limits::default()
        });
        let watcher = cfg.watch.then(|| {
            tokio::spawn(cleverfox_sandbox::store::watch::run(
                ready.app.store.clone(),
            ))
        });
        let task = tokio::spawn(server::run(
            ready.listener,
            ready.app,
            ready.tls,
            limits,
            async {
                let _ = rx.await;
            },
        ));
        Sandbox {
            addr,
            certs,
            ca_pem,
            _tmp: tmp,
            stop: Some(tx),
            task: Some(task),
            watcher,
        }
    }

    /// A rustls client configuration that trusts only the sandbox's CA and
    /// offers `alpn` (none when empty), for raw TLS connections.
    pub fn tls_config(&self, alpn: &[&[u8]]) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.ca_pem) {
            roots.add(cert.expect("CA PEM parses")).expect("CA added");
        }
        let mut config =
            rustls::ClientConfig::builder_with_provider(cleverfox_sandbox::edge::tls::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }

    /// `https://localhost:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    fn builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem).expect("CA parses"))
            .resolve("localhost", self.addr)
            .timeout(STEP)
    }

    /// An HTTP/1.1 client that trusts the sandbox's CA.
    pub fn client(&self) -> reqwest::Client {
        self.builder().http1_only().build().unwrap()
    }

    /// An HTTP/2 client (ALPN h2) that trusts the sandbox's CA.
    pub fn client_h2(&self) -> reqwest::Client {
        self.builder().http2_prior_knowledge().build().unwrap()
    }

    /// GET with a key; returns the response.
    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client()
            .get(self.url(path))
            .basic_auth(key, Some("ignored"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Sends one request with `client` and reads the whole answer (every
    /// await bounded). `key` None sends no credentials, else Basic auth with
    /// the key as username and "ignored" as password; `content_type` and
    /// `body` are sent when given.
    pub async fn request(
        &self,
        client: &reqwest::Client,
        key: Option<&str>,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Resp {
        let mut rb = client.request(method.clone(), self.url(path));
        if let Some(k) = key {
            rb = rb.basic_auth(k, Some("ignored"));
        }
        if let Some(ct) = content_type {
            rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let r = bounded(rb.send())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        read_response(r).await
    }

    /// GET with a key; asserts 200 and returns the JSON body.
    pub async fn get_json(&self, key: &str, path: &str) -> serde_json::Value {
        let r = self.get(key, path).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(STEP, task)
                .await
                .expect("server stops")
                .expect("server task");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Writes a fixtures directory: the default fixtures with `files` replaced
/// (name without `.json` -> contents).
pub fn fixtures_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(default_fixtures()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    for (name, contents) in files {
        std::fs::write(dir.path().join(format!("{name}.json")), contents).unwrap();
    }
    dir
}

/// The records of a vendor example file (`tests/data/vendor-examples/NAME`).
pub fn vendor_example(name: &str) -> serde_json::Value {
    let p = repo().join("tests/data/vendor-examples").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The text of a default fixtures file (`NAME.json`).
pub fn default_text(name: &str) -> String {
    std::fs::read_to_string(default_fixtures().join(format!("{name}.json"))).unwrap()
}

/// Reads a fixture collection of the default set as JSON.
pub fn default_fixture(name: &str) -> serde_json::Value {
    let p = default_fixtures().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// Every operation of a document: (path, method, operation).
pub fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "parameters" {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    out
}
