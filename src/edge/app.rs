//! What every connection shares ([`App`]: the store with its sessions, the
//! settings) and what every handler answers with ([`Reply`]), with the
//! contexts the engine is called with in a session.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderName, HeaderValue, StatusCode};

use super::logging::Sink;
use crate::config::Settings;
use crate::domain::engine::WriteCtx;
use crate::domain::rules::ViewCtx;
use crate::store::Store;

pub const JSON: &str = "application/json; charset=utf-8";
pub const X_REQUEST_ID: &str = "x-request-id";
pub const X_SANDBOX_WARNING: &str = "x-sandbox-warning";
pub const X_SANDBOX_FIXTURE_ERROR: &str = "x-sandbox-fixture-error";
pub const X_SANDBOX_COMPAT: &str = "x-sandbox-compat";

/// The published descriptions (`/openapi.json`, `/_sandbox/openapi.json`,
/// `/postman.json`, `/postman_environment.json`). The OpenAPI documents and
/// the environment name [`SERVER_MARKER`] as their
/// server, which [`for_request`] replaces with the URL a request used.
pub struct Documents {
    pub openapi: Vec<u8>,
    pub control_openapi: Vec<u8>,
    pub postman: Vec<u8>,
    /// `/postman_environment.json`, naming [`SERVER_MARKER`] as `baseUrl`.
    pub postman_environment: Vec<u8>,
}

/// The server URL the documents are built with, replaced when served.
pub const SERVER_MARKER: &str = "https://sandbox-server.invalid";

/// `doc` naming the sandbox as the request reached it (`https://` and its
/// `Host`, port included) where the marker stands.
pub fn for_request(doc: &[u8], headers: &http::HeaderMap, uri: &http::Uri) -> Vec<u8> {
    let base = super::route::host(headers, uri)
        .filter(|h| !h.is_empty() && !h.contains(['"', '\\', '/']))
        .map_or_else(
            || "https://localhost".to_string(),
            |h| format!("https://{h}"),
        );
    let marker = SERVER_MARKER.as_bytes();
    match doc.windows(marker.len()).position(|w| w == marker) {
        Some(at) => [&doc[..at], base.as_bytes(), &doc[at + marker.len()..]].concat(),
        None => doc.to_vec(),
    }
}

/// Builds the [`Documents`]: given by whoever starts the server (the offline
/// tools write them; the edge only serves them).
pub type Describe = fn() -> Documents;

/// What every connection shares.
pub struct App {
    /// The `default` session, and through it every session.
    pub store: Store,
    pub settings: Settings,
    /// Builds the documents on first use.
    describe: Describe,
    /// /openapi.json and /postman.json, once built.
    documents: OnceLock<Documents>,
    /// The id of the next request (`X-Request-Id`).
    next_request_id: AtomicU64,
    /// Where the access log goes (set once by `serve`; none in-process).
    log: OnceLock<Sink>,
}

impl App {
    pub fn new(store: Store, settings: Settings, describe: Describe) -> Arc<App> {
        Arc::new(App {
            store,
            describe,
            documents: OnceLock::new(),
            settings,
            next_request_id: AtomicU64::new(1),
            log: OnceLock::new(),
        })
    }

    /// Sends the access log to `sink` (once; later calls change nothing).
    pub fn set_log(&self, sink: Sink) {
        let _ = self.log.set(sink);
    }

    /// Where the access log goes.
    pub fn log(&self) -> &Sink {
        static NONE: OnceLock<Sink> = OnceLock::new();
        self.log
            .get()
            .unwrap_or_else(|| NONE.get_or_init(Sink::none))
    }

    /// The published descriptions, built on first use.
    pub fn documents(&self) -> &Documents {
        self.documents.get_or_init(self.describe)
    }

    /// A new request's `X-Request-Id`.
    pub fn next_request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The view every rendering in `session` uses: its sandbox clock and
    /// the agent delay.
    /// The compat mode in force in `session`: its own setting, else `--compat`.
    pub fn compat(&self, session: &Store) -> crate::domain::compat::Compat {
        session.read(|s| s.compat).unwrap_or(self.settings.compat)
    }

    pub fn view(&self, session: &Store) -> ViewCtx {
        ViewCtx {
            now_ms: session.clock().now_ms(),
            agent_delay_ms: self.settings.agent_delay_ms,
            fragments: Some(&*crate::store::fragments::MEMO),
        }
    }

    /// The context of a write in `session`: now, and whether `--strict`
    /// refuses unknown attributes (`strict`: false for the control API's
    /// simulations).
    pub fn write_ctx(&self, session: &Store, strict: bool) -> WriteCtx {
        let view = self.view(session);
        WriteCtx {
            now_ms: view.now_ms,
            strict: strict && self.settings.strict,
            view,
        }
    }
}

/// A successful answer before it becomes a response.
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// Why an attribute or parameter was ignored or adjusted.
    pub warnings: Vec<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            warnings: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 201 with the created record and its `Location`.
    pub fn created(body: Vec<u8>, location: &str) -> Reply {
        let mut reply = Reply::ok(body);
        reply.status = StatusCode::CREATED;
        reply
            .headers
            .push((http::header::LOCATION, header_value(location)));
        reply
    }
}

/// Where a session's URLs start: `/s/{name}`, or nothing for `default`.
pub fn session_base(session: &Store) -> String {
    if session.is_default() {
        String::new()
    } else {
        format!("/s/{}", session.name())
    }
}

/// A header value from free text: anything but visible ASCII becomes '?'.
pub fn header_value(text: &str) -> HeaderValue {
    if text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && let Ok(v) = HeaderValue::from_str(text)
    {
        return v;
    }
    let clean: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("?"))
}
