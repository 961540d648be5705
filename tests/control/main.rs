//! The sandbox control API under `/_sandbox/` over real HTTPS (API.md
//! section 8, with sections 1-5 for context): admin authentication,
//! snapshots (GET, load with `--fixtures`, PUT), reset, the request
//! journal, the clock, simulated job runs, the outbox, fault rules and
//! health.
//!
//! Every await is bounded; nothing sleeps: the few timing checks measure a
//! single request.

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod clock;
mod compat;
mod faults;
mod health;
mod journal;
mod outbox;
mod runs;
mod schedule;
mod snapshots;

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

fn ids(rows: &[Value], key: &str) -> Vec<u64> {
    rows.iter()
        .map(|r| r[key].as_u64().unwrap_or_else(|| panic!("{key}: {r}")))
        .collect()
}
