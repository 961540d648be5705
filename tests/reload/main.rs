//! Hot reload of the fixtures over real HTTPS (API.md section 5, "Fixtures"
//! and "Hot reload", and `GET /_sandbox/health` of section 8): every common
//! way of saving a file is picked up, a broken edit is never swapped in and
//! is flagged until fixed, a reload discards API changes, swaps are atomic
//! under concurrent reads, unrelated files are ignored, `--no-watch` turns
//! it off, and a removed fixtures directory is survived.
//!
//! Every change is observed by polling (a GET every 25 ms up to a deadline).
//! The only fixed sleeps let the debounce window pass before asserting that
//! something did NOT change; each one says so.

#[path = "../common/mod.rs"]
mod common;

mod broken;
mod saving;
mod swaps;
mod watched;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------ harness

/// Comfortably longer than the 100 ms debounce plus a reload of the default
/// fixtures. Used ONLY to let the debounce window pass before asserting that
/// something did NOT change.
const QUIET: Duration = Duration::from_millis(600);

/// Company 1's name in the default fixtures.
const ABC: &str = "ABC Company, Inc.";

/// What the hot reload tests ask of the one client, besides what
/// tests/common gives.
impl Client {
    async fn loaded_at(&self) -> String {
        let h = self.health().await;
        h["loaded_at"]
            .as_str()
            .unwrap_or_else(|| panic!("loaded_at is a timestamp: {h}"))
            .to_string()
    }

    async fn company1(&self) -> Resp {
        self.get(PARTNER1, "/api/companies/1").await
    }

    /// Polls until company 1 is served with `name`.
    async fn wait_company1(&self, name: &str) -> Resp {
        eventually(&format!("company 1 named {name:?}"), async || {
            let r = self.company1().await;
            if r.status == 200 && r.name() == name {
                Ok(r)
            } else {
                Err(r.show())
            }
        })
        .await
    }

    /// Polls until the last reload is reported failed; returns the header.
    async fn wait_fixture_error(&self) -> String {
        eventually("X-Sandbox-Fixture-Error", async || {
            let r = self.get(PARTNER1, "/api/companies").await;
            r.fixture_error().ok_or_else(|| r.show())
        })
        .await
    }

    /// Polls until no response carries the fixture error any more.
    async fn wait_no_fixture_error(&self) {
        eventually("no X-Sandbox-Fixture-Error", async || {
            let r = self.get(PARTNER1, "/api/companies").await;
            match r.fixture_error() {
                None => Ok(()),
                Some(_) => Err(r.show()),
            }
        })
        .await;
    }

    /// Health is "ok", watching as said, no error, and no response flagged.
    async fn assert_clean(&self, watching: bool) {
        let h = self.health().await;
        assert_eq!(h["status"], "ok", "{h}");
        assert_eq!(h["watching"], watching, "{h}");
        assert_eq!(h["error"], Value::Null, "{h}");
        for (key, path) in [
            (Some(PARTNER1), "/api/companies/1"),
            (Some(PARTNER1), "/api/companies/999"),
            (None, "/api/companies"),
            (Some(ADMIN), "/_sandbox/health"),
        ] {
            let r = self.send(key, Method::GET, path, None).await;
            assert_eq!(r.fixture_error(), None, "GET {path}: {}", r.show());
        }
    }
}

/// The default companies with company 1 renamed, as an editor saves them.
fn companies_with_name(name: &str) -> String {
    let mut v = default_fixture("companies");
    let c = v
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["CompanyId"] == 1)
        .expect("company 1 in the default fixtures");
    c["Name"] = json!(name);
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// Record counts of the default fixtures, per collection.
fn fixture_counts() -> BTreeMap<String, u64> {
    COLLECTIONS
        .iter()
        .map(|c| {
            let n = default_fixture(c).as_array().expect("an array").len();
            (c.to_string(), n as u64)
        })
        .collect()
}

fn counts_of(h: &Value) -> BTreeMap<String, u64> {
    h["counts"]
        .as_object()
        .unwrap_or_else(|| panic!("counts is an object: {h}"))
        .iter()
        .map(|(k, v)| {
            let n = v.as_u64().unwrap_or_else(|| panic!("count of {k}: {v}"));
            (k.clone(), n)
        })
        .collect()
}

fn file_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Creates `dir` and fills it with the default fixtures, company 1 named
/// `company1`, writing companies.json last (as `cp -r` of a set whose
/// companies.json was just saved).
fn fill_with_defaults(dir: &Path, company1: &str) {
    std::fs::create_dir(dir).unwrap();
    for entry in std::fs::read_dir(default_fixtures()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() != "companies.json" {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("companies.json"), companies_with_name(company1)).unwrap();
}

/// Every kind of response carries the fixture error naming `file`, and
/// health reports it with its location; the old company 1 is served.
async fn assert_flagged(t: &Client, file: &str, company1_name: &str) -> Value {
    let ok = t.company1().await;
    assert_eq!(ok.status, 200, "{}", ok.show());
    assert_eq!(ok.name(), company1_name, "the last good data is served");
    let not_found = t.get(PARTNER1, "/api/companies/999").await;
    assert_eq!(not_found.status, 404, "{}", not_found.show());
    let unauthorized = t.send(None, Method::GET, "/api/companies", None).await;
    assert_eq!(unauthorized.status, 401, "{}", unauthorized.show());
    let bad_key = t.get("no-such-key", "/api/companies/1").await;
    assert_eq!(bad_key.status, 401, "{}", bad_key.show());
    let not_allowed = t
        .request(
            Some(PARTNER1),
            Method::DELETE,
            "/api/partners/1",
            None,
            None,
        )
        .await;
    assert_eq!(not_allowed.status, 405, "{}", not_allowed.show());
    let health = t.get(ADMIN, "/_sandbox/health").await;
    assert_eq!(health.status, 200, "{}", health.show());
    for (what, r) in [
        ("200", &ok),
        ("404", &not_found),
        ("401 without a key", &unauthorized),
        ("401 with an unknown key", &bad_key),
        ("405", &not_allowed),
        ("health", &health),
    ] {
        let flag = r
            .fixture_error()
            .unwrap_or_else(|| panic!("the {what} response carries X-Sandbox-Fixture-Error"));
        assert!(flag.contains(file), "the {what} flag names {file}: {flag}");
    }
    let h = health.body;
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["watching"], true, "{h}");
    let e = &h["error"];
    let efile = e["file"]
        .as_str()
        .unwrap_or_else(|| panic!("error.file: {h}"));
    assert!(efile.ends_with(file), "error.file names {file}: {h}");
    assert!(
        e["line"].as_u64().is_some_and(|l| l >= 1),
        "error.line: {h}"
    );
    assert!(
        e["column"].as_u64().is_some_and(|c| c >= 1),
        "error.column: {h}"
    );
    assert!(
        e["message"].as_str().is_some_and(|m| !m.trim().is_empty()),
        "error.message: {h}"
    );
    h
}
