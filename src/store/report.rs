//! A session's live conformance report (API.md section 13): the counters
//! of `domain::report`, fed once per answered `/api/` request, cleared by a
//! reset of the session and by `DELETE /_sandbox/report`.

use std::sync::Mutex;

use http::{HeaderName, HeaderValue};

use crate::domain::report::{BodyShape, Counters, Observed};

/// What the edge knows of an answered `/api/` request.
pub struct Answered<'a> {
    pub id: u64,
    pub now_ms: i64,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub partner: Option<i64>,
    pub status: u16,
    /// The response headers (its warnings, a 429's `Retry-After`).
    pub headers: &'a [(HeaderName, HeaderValue)],
    /// The response body; looked at only for a 422 (forgery protection).
    pub body: &'a [u8],
    /// The shape of the body of a POST or PUT that the engine took.
    pub shape: Option<&'a BodyShape>,
}

/// The counters of one session.
#[derive(Default)]
pub struct Report {
    counters: Mutex<Counters>,
}

const WARNING: &str = "x-sandbox-warning";

impl Report {
    /// Counts one answered request.
    pub fn observe(&self, a: &Answered) {
        let mut warnings = Vec::new();
        let mut retry_after_s = None;
        for (name, value) in a.headers {
            if name.as_str() == WARNING {
                warnings.extend(value.to_str().ok());
            } else if a.status == 429 && *name == http::header::RETRY_AFTER {
                retry_after_s = value.to_str().ok().and_then(|v| v.trim().parse().ok());
            }
        }
        let forgery = a.status == 422 && a.body.starts_with(FORGERY);
        let observed = Observed {
            id: a.id,
            now_ms: a.now_ms,
            method: a.method,
            path: a.path,
            query: a.query,
            partner: a.partner,
            status: a.status,
            warnings,
            forgery,
            retry_after_s,
            shape: a.shape,
        };
        self.lock().observe(&observed);
    }

    /// The counters so far.
    pub fn snapshot(&self) -> Counters {
        self.lock().clone()
    }

    /// Starts counting afresh.
    pub fn clear(&self) {
        *self.lock() = Counters::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How the forgery protection's refusal starts (`edge::body`).
const FORGERY: &[u8] = b"{\"errors\":[\"Forgery protection rejected";
