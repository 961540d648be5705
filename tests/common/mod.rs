//! Test harness: a real sandbox on 127.0.0.1:0 with its own certificates,
//! and real HTTPS clients that trust the generated CA.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cleverfox_sandbox::config::Settings;
use cleverfox_sandbox::server::{self, Limits};
use cleverfox_sandbox::start::{self, Options};
use cleverfox_sandbox::tls::TlsSettings;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PARTNER1: &str = "demo-partner-1";
pub const PARTNER2: &str = "demo-partner-2";
pub const NO_PLAN: &str = "demo-no-plan";
pub const INACTIVE: &str = "demo-inactive";
pub const ADMIN: &str = "demo-admin";

/// Every await in a test is bounded by this.
pub const STEP: Duration = Duration::from_secs(20);

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
            fixtures: cfg.fixtures,
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

/// Reads a fixture collection of the default set as JSON.
pub fn default_fixture(name: &str) -> serde_json::Value {
    let p = default_fixtures().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
