//! Start-up: load the fixtures, set up certificates, bind, and describe the
//! result in the banner. Shared by `serve` and the end-to-end tests.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::domain::schema::Res;
use crate::domain::state::{ApiRefusal, KeyKind, State};
use crate::domain::value::Val;
use crate::edge::app::{App, Documents, SERVER_MARKER};
use crate::edge::tls::{self, TlsSettings};
use crate::store::fixtures::{self, Problem, Source};
use crate::store::{Clock, Limits, Store};

/// Everything `serve` needs, from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    pub bind: SocketAddr,
    pub fixtures: Source,
    pub tls: TlsSettings,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", missing_fixtures(.0))]
    NoFixtures(PathBuf),
    #[error("the fixtures have {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Fixtures(Vec<Problem>),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A sandbox ready to serve: its state, TLS configuration and listener.
pub struct Ready {
    pub app: Arc<App>,
    pub tls: Arc<rustls::ServerConfig>,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub ca_path: Option<PathBuf>,
    pub tls_note: String,
    pub files: usize,
    pub records: usize,
}

/// Loads the fixtures, prepares TLS and binds the listener.
pub async fn prepare(opts: &Options) -> Result<Ready, StartError> {
    let clock = Clock::new();
    if let Some(path) = opts.fixtures.path().filter(|p| !p.exists()) {
        return Err(StartError::NoFixtures(path.to_path_buf()));
    }
    let (source, now) = (opts.fixtures.clone(), clock.now_ms());
    let loaded = crate::store::loader::run(move || fixtures::load_source(&source, now))
        .map_err(StartError::Fixtures)?;
    let tls = tls::setup(&opts.tls)?;
    let listener = TcpListener::bind(opts.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: opts.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: opts.bind,
        source,
    })?;
    let limits = Limits {
        journal: opts.settings.journal,
        max_sessions: opts.settings.max_sessions,
        ttl_ms: opts.settings.session_ttl_ms,
    };
    let (files, records) = (loaded.files, loaded.records);
    let store = Store::from_loaded(loaded, opts.fixtures.clone(), clock, limits);
    let app = App::new(store, opts.settings.clone(), documents);
    crate::edge::schedule::spawn(&app);
    Ok(Ready {
        app,
        tls: tls.config,
        listener,
        addr,
        ca_path: tls.ca_path,
        tls_note: tls.note,
        files,
        records,
    })
}

/// The fixtures to serve: those given with `--fixtures`; else `./fixtures`
/// when it exists; else the defaults built into the binary.
pub fn fixtures_source(given: Option<PathBuf>) -> Source {
    match given {
        Some(path) => Source::Path(path),
        None if Path::new("fixtures").exists() => Source::Path("fixtures".into()),
        None => Source::Embedded,
    }
}

/// The host name a client should use: the first `--hostname`, else localhost
/// (which every generated certificate covers).
pub fn url_host(opts: &Options) -> String {
    match opts.tls.hostnames.first() {
        Some(h) if h.contains(':') => format!("[{h}]"),
        Some(h) => h.clone(),
        None => "localhost".into(),
    }
}

/// What to say when the fixtures path names nothing: the path looked for
/// (made absolute, since a relative default depends on where the sandbox was
/// started) and how to choose another.
pub fn missing_fixtures(path: &Path) -> String {
    let looked = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |d| d.join(path))
    };
    format!(
        "no fixtures at {}: there is no such directory or bundle file. \
         Choose the fixtures with --fixtures DIR or --fixtures FILE.json \
         (`cleverfox-sandbox fixtures --out DIR` writes out the default ones).",
        looked.display()
    )
}

/// `1 file`, `15 files`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Single-quotes a word for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The start-up banner: URL, the CA to trust, the keys loaded, and a curl
/// line that works when pasted.
pub fn banner(ready: &Ready, opts: &Options) -> String {
    let base = format!("https://{}:{}", url_host(opts), ready.addr.port());
    let mut b = String::new();
    let _ = writeln!(
        b,
        "CleverFox Backup API sandbox {}",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(b, "  API:       {base}/api/{{collection}}");
    match &ready.ca_path {
        Some(ca) => {
            let _ = writeln!(
                b,
                "  Trust:     {}  (the sandbox's own CA)",
                absolute(ca).display()
            );
        }
        None => {
            let _ = writeln!(b, "  TLS:       {}", ready.tls_note);
        }
    }
    let counts = format!(
        "{}, {}",
        count(ready.files, "file"),
        count(ready.records, "record")
    );
    match opts.fixtures.path() {
        Some(path) => {
            let _ = writeln!(b, "  Fixtures:  {} ({counts})", absolute(path).display());
        }
        None => {
            let _ = writeln!(
                b,
                "  Fixtures:  {} ({counts}; not watched: they cannot change; \
                 `cleverfox-sandbox fixtures --out DIR` writes them out to edit)",
                fixtures::embedded::LABEL
            );
        }
    }
    let _ = writeln!(
        b,
        "  API keys (HTTP Basic: the key is the username, the password is ignored):"
    );
    let first_key = ready.app.store.read(|state| {
        for k in state.keys.iter() {
            let _ = writeln!(b, "    {:<24} {}", k.key, describe_key(state, &k.kind));
        }
        state
            .keys
            .iter()
            .find(|k| state.api_partner(&k.kind).is_ok())
            .map(|k| k.key.clone())
    });
    if let Some(key) = first_key {
        let ca = ready
            .ca_path
            .as_ref()
            .map(|p| {
                format!(
                    "--cacert {} ",
                    shell_word(&absolute(p).display().to_string())
                )
            })
            .unwrap_or_default();
        let _ = writeln!(b, "  Try:");
        let _ = writeln!(
            b,
            "    curl {ca}-u {}: {base}/api/companies",
            shell_word(&key)
        );
        let _ = writeln!(
            b,
            "  A session of its own (any name; its first request creates it from the fixtures):"
        );
        let _ = writeln!(
            b,
            "    curl {ca}-u {}: {base}/s/ci-1/api/companies",
            shell_word(&key)
        );
    }
    b
}

fn describe_key(state: &State, kind: &KeyKind) -> String {
    match kind {
        KeyKind::Admin => "admin: the sandbox control API under /_sandbox/".into(),
        KeyKind::Partner { partner_id, .. } => {
            let info = Res::Partners.info();
            let name = state
                .get(Res::Partners, *partner_id)
                .and_then(|p| info.slot("Name").map(|s| &p.vals[s]))
                .and_then(|v| match v {
                    Val::Str(s) => Some(s.to_string()),
                    _ => None,
                })
                .unwrap_or_default();
            let mut d = format!("partner {partner_id} ({name})");
            match state.api_partner(kind) {
                Err(ApiRefusal::NoPartnerPlan) => d.push_str(", no Partner Plan: answers 403"),
                Err(ApiRefusal::InactivePartner) => d.push_str(", inactive partner: answers 403"),
                _ => {}
            }
            d
        }
    }
}

/// The published descriptions the server answers at /openapi.json and
/// /postman.json.
fn documents() -> Documents {
    Documents {
        openapi: serde_json::to_vec_pretty(&crate::tools::openapi::document(SERVER_MARKER))
            .unwrap_or_default(),
        control_openapi: serde_json::to_vec_pretty(&crate::tools::openapi::control_document(
            SERVER_MARKER,
        ))
        .unwrap_or_default(),
        postman: serde_json::to_vec_pretty(&crate::tools::postman::collection())
            .unwrap_or_default(),
        postman_environment: serde_json::to_vec_pretty(&crate::tools::postman::environment_for(
            SERVER_MARKER,
        ))
        .unwrap_or_default(),
    }
}
