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

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

// ------------------------------------------------------------------ harness

/// How long a change may take to show up (debounce ~100 ms, the retry of a
/// lost watch 1 s, plus a loaded machine).
const DEADLINE: Duration = Duration::from_secs(8);
/// Interval between two polls.
const POLL: Duration = Duration::from_millis(25);
/// Comfortably longer than the 100 ms debounce plus a reload of the default
/// fixtures. Used ONLY to let the debounce window pass before asserting that
/// something did NOT change.
const QUIET: Duration = Duration::from_millis(600);

/// Company 1's name in the default fixtures.
const ABC: &str = "ABC Company, Inc.";

/// Runs `probe` every [`POLL`] until it answers `Ok`, for at most
/// [`DEADLINE`]; `Err` carries what was seen, for the failure message.
async fn eventually<R>(what: &str, mut probe: impl AsyncFnMut() -> Result<R, String>) -> R {
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(r) => return r,
            Err(seen) => {
                assert!(
                    started.elapsed() < DEADLINE,
                    "{what}: not seen within {DEADLINE:?}; last seen: {seen}"
                );
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// A running sandbox and one HTTP/1.1 client for it.
struct T {
    sb: Sandbox,
    c: reqwest::Client,
}

impl T {
    /// A sandbox watching `fixtures`, once its watcher is in place (the
    /// harness starts the watcher in its own task).
    async fn watching(fixtures: &Path) -> T {
        let t = T::start(fixtures, true).await;
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

    async fn start(fixtures: &Path, watch: bool) -> T {
        let sb = bounded(Sandbox::with(Config {
            fixtures: fixtures.to_path_buf(),
            watch,
            ..Config::default()
        }))
        .await;
        let c = sb.client();
        T { sb, c }
    }

    /// GET with a key (or none).
    async fn get(&self, key: Option<&str>, path: &str) -> Resp {
        self.sb
            .request(&self.c, key, Method::GET, path, None, None)
            .await
    }

    async fn post(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.sb
            .request(
                &self.c,
                Some(key),
                Method::POST,
                path,
                Some("application/json"),
                Some(body.to_string()),
            )
            .await
    }

    async fn health(&self) -> Value {
        let r = self.get(Some(ADMIN), "/_sandbox/health").await;
        assert_eq!(r.status, 200, "health: {}", r.show());
        r.body
    }

    async fn loaded_at(&self) -> String {
        let h = self.health().await;
        h["loaded_at"]
            .as_str()
            .unwrap_or_else(|| panic!("loaded_at is a timestamp: {h}"))
            .to_string()
    }

    async fn company1(&self) -> Resp {
        self.get(Some(PARTNER1), "/api/companies/1").await
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
            let r = self.get(Some(PARTNER1), "/api/companies").await;
            r.fixture_error().ok_or_else(|| r.show())
        })
        .await
    }

    /// Polls until no response carries the fixture error any more.
    async fn wait_no_fixture_error(&self) {
        eventually("no X-Sandbox-Fixture-Error", async || {
            let r = self.get(Some(PARTNER1), "/api/companies").await;
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
            let r = self.get(key, path).await;
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

fn default_text(name: &str) -> String {
    std::fs::read_to_string(default_fixtures().join(format!("{name}.json"))).unwrap()
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
async fn assert_flagged(t: &T, file: &str, company1_name: &str) -> Value {
    let ok = t.company1().await;
    assert_eq!(ok.status, 200, "{}", ok.show());
    assert_eq!(ok.name(), company1_name, "the last good data is served");
    let not_found = t.get(Some(PARTNER1), "/api/companies/999").await;
    assert_eq!(not_found.status, 404, "{}", not_found.show());
    let unauthorized = t.get(None, "/api/companies").await;
    assert_eq!(unauthorized.status, 401, "{}", unauthorized.show());
    let bad_key = t.get(Some("no-such-key"), "/api/companies/1").await;
    assert_eq!(bad_key.status, 401, "{}", bad_key.show());
    let not_allowed =
        t.sb.request(
            &t.c,
            Some(PARTNER1),
            Method::DELETE,
            "/api/partners/1",
            None,
            None,
        )
        .await;
    assert_eq!(not_allowed.status, 405, "{}", not_allowed.show());
    let health = t.get(Some(ADMIN), "/_sandbox/health").await;
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

// ------------------------------------------------------------------ ways of saving

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_in_place_is_served() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    assert_eq!(t.company1().await.name(), ABC);
    let before = t.loaded_at().await;

    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("Written in place"),
    )
    .unwrap();
    t.wait_company1("Written in place").await;

    assert_ne!(t.loaded_at().await, before, "loaded_at moves on a reload");
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_file_renamed_over_is_served_and_is_ignored_until_the_rename() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");
    let mut expected = ABC.to_string();
    for (tmp, name) in [
        (".companies.json.swp", "Saved through .companies.json.swp"),
        ("companies.json.tmp", "Saved through companies.json.tmp"),
    ] {
        let before = t.loaded_at().await;
        let tmp = file_in(dir.path(), tmp);
        std::fs::write(&tmp, companies_with_name(name)).unwrap();
        // Fixed sleep: let the debounce window pass, so that a reload the
        // temporary file wrongly triggered would have happened by now.
        tokio::time::sleep(QUIET).await;
        assert_eq!(t.loaded_at().await, before, "{tmp:?} alone reloads nothing");
        assert_eq!(t.company1().await.name(), expected);

        std::fs::rename(&tmp, &target).unwrap();
        t.wait_company1(name).await;
        assert!(!tmp.exists());
        expected = name.to_string();
    }
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncating_then_writing_is_served_and_a_half_written_file_is_never_swapped_in() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");

    // As an editor does it: truncate, two chunks, flush between, close.
    let text = companies_with_name("Truncated then written");
    let (a, b) = text.split_at(text.len() / 2);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&target)
            .unwrap();
        f.write_all(a.as_bytes()).unwrap();
        f.flush().unwrap();
        f.write_all(b.as_bytes()).unwrap();
        f.flush().unwrap();
    }
    t.wait_company1("Truncated then written").await;
    t.wait_no_fixture_error().await;

    // Slowly: the half-written file sits on disk past the debounce window,
    // is loaded, refused, and the last good data stays.
    let text = companies_with_name("Written slowly");
    let (a, b) = text.split_at(text.len() / 2);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&target)
        .unwrap();
    f.write_all(a.as_bytes()).unwrap();
    f.flush().unwrap();
    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("companies.json"), "{flag}");
    assert_eq!(t.company1().await.name(), "Truncated then written");
    f.write_all(b.as_bytes()).unwrap();
    f.flush().unwrap();
    drop(f);
    t.wait_company1("Written slowly").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_then_recreating_a_file_is_served() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");

    std::fs::remove_file(&target).unwrap();
    std::fs::write(&target, companies_with_name("Deleted and re-created")).unwrap();
    t.wait_company1("Deleted and re-created").await;
    t.wait_no_fixture_error().await;

    // Slowly: without companies.json the set is invalid (devices, users and
    // subscriptions name companies), so nothing is swapped in meanwhile.
    std::fs::remove_file(&target).unwrap();
    t.wait_fixture_error().await;
    assert_eq!(t.company1().await.name(), "Deleted and re-created");
    assert_eq!(t.health().await["status"], "degraded");
    std::fs::write(&target, companies_with_name("Re-created slowly")).unwrap();
    t.wait_company1("Re-created slowly").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_file_that_appears_fills_its_collection() {
    let dir = fixtures_with(&[]);
    std::fs::remove_file(file_in(dir.path(), "logitems.json")).unwrap();
    let t = T::watching(dir.path()).await;
    assert_eq!(counts_of(&t.health().await)["logitems"], 0);
    let r = t.get(Some(PARTNER1), "/api/logitems").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(
        r.body["data"],
        json!([]),
        "a missing file is an empty collection"
    );

    std::fs::write(
        file_in(dir.path(), "logitems.json"),
        default_text("logitems"),
    )
    .unwrap();
    let list = eventually("log items listed", async || {
        let r = t.get(Some(PARTNER1), "/api/logitems?PageSize=500").await;
        match r.body["data"].as_array() {
            Some(a) if r.status == 200 && !a.is_empty() => Ok(a.clone()),
            _ => Err(r.show()),
        }
    })
    .await;
    let h = t.health().await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    let id = &list[0]["LogItemId"];
    let one = t.get(Some(PARTNER1), &format!("/api/logitems/{id}")).await;
    assert_eq!(one.status, 200, "{}", one.show());
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_file_that_is_removed_empties_its_collection() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let r = t.get(Some(PARTNER1), "/api/logitems").await;
    let first = r.body["data"][0]["LogItemId"].clone();
    assert!(first.is_i64(), "partner 1 has log items: {}", r.show());

    std::fs::remove_file(file_in(dir.path(), "logitems.json")).unwrap();
    eventually("log item gone", async || {
        let r = t
            .get(Some(PARTNER1), &format!("/api/logitems/{first}"))
            .await;
        if r.status == 404 {
            Ok(())
        } else {
            Err(r.show())
        }
    })
    .await;
    let r = t.get(Some(PARTNER1), "/api/logitems").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.body["data"], json!([]));
    let mut expected = fixture_counts();
    expected.insert("logitems".into(), 0);
    assert_eq!(counts_of(&t.health().await), expected);
    assert_eq!(t.company1().await.name(), ABC, "the rest is unchanged");
    t.assert_clean(true).await;
}

// ------------------------------------------------------------------ broken edits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_file_is_not_swapped_in_and_is_flagged_until_a_clean_edit() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let loaded = t.loaded_at().await;
    let target = file_in(dir.path(), "companies.json");

    let full = companies_with_name("Never served");
    let mut cut = full.len() / 2;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    let truncated = &full[..cut];
    std::fs::write(&target, truncated).unwrap();

    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("companies.json"), "{flag}");
    let h = assert_flagged(&t, "companies.json", ABC).await;
    let lines = truncated.lines().count() as u64;
    let line = h["error"]["line"].as_u64().unwrap();
    assert!(
        line <= lines,
        "line {line} is inside the {lines}-line file: {h}"
    );
    assert_eq!(h["loaded_at"], json!(loaded), "nothing was swapped in: {h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");

    // Still flagged and still the old data a while later.
    let again = t.company1().await;
    assert_eq!(again.name(), ABC);
    assert!(again.fixture_error().is_some());

    std::fs::write(&target, companies_with_name("Fixed")).unwrap();
    t.wait_company1("Fixed").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dangling_reference_is_not_swapped_in_and_is_reported_with_its_location() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let device = t.get(Some(PARTNER1), "/api/devices/1").await;
    assert_eq!(device.status, 200, "{}", device.show());
    assert_eq!(device.body["data"]["CompanyId"], 1);

    let mut devices = default_fixture("devices");
    let d = devices
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["DeviceId"] == 1)
        .unwrap();
    d["CompanyId"] = json!(999);
    d["Name"] = json!("Never served");
    let text = serde_json::to_string_pretty(&devices).unwrap();
    // Where the dangling reference is written (1-based line and columns).
    let (line_no, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"CompanyId\": 999"))
        .unwrap();
    let (line_no, key_col) = (line_no as u64 + 1, line.find('"').unwrap() as u64 + 1);
    let value_col = line.find("999").unwrap() as u64 + 1;
    std::fs::write(file_in(dir.path(), "devices.json"), &text).unwrap();

    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("devices.json"), "{flag}");
    let h = assert_flagged(&t, "devices.json", ABC).await;
    let e = &h["error"];
    assert_eq!(e["line"], line_no, "{h}");
    let col = e["column"].as_u64().unwrap();
    assert!(
        (key_col..=value_col).contains(&col),
        "column {col} points at CompanyId (columns {key_col}..={value_col}): {h}"
    );
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("CompanyId") && msg.contains("999"), "{h}");

    let device = t.get(Some(PARTNER1), "/api/devices/1").await;
    assert_eq!(device.status, 200, "{}", device.show());
    assert_eq!(device.body["data"]["CompanyId"], 1, "old data served");
    assert_ne!(device.body["data"]["Name"], "Never served");

    std::fs::write(file_in(dir.path(), "devices.json"), default_text("devices")).unwrap();
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
    let device = t.get(Some(PARTNER1), "/api/devices/1").await;
    assert_eq!(device.body["data"]["CompanyId"], 1);
}

// ------------------------------------------------------------------ API changes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_discards_the_changes_made_through_the_api() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let list = "/api/companies?PageSize=500";
    let before = t.get(Some(PARTNER1), list).await;
    assert_eq!(before.status, 200, "{}", before.show());
    let loaded = t.loaded_at().await;

    let created = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Made through the API"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.show());
    let id = created.body["data"]["CompanyId"].as_i64().unwrap();
    let path = format!("/api/companies/{id}");
    let r = t.get(Some(PARTNER1), &path).await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.name(), "Made through the API");
    let h = t.health().await;
    assert_eq!(
        counts_of(&h)["companies"],
        fixture_counts()["companies"] + 1
    );
    assert_eq!(counts_of(&h)["events"], fixture_counts()["events"] + 1);

    // Save companies.json unchanged, as an editor's plain save does.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        default_text("companies"),
    )
    .unwrap();
    eventually("the API-created company gone", async || {
        let r = t.get(Some(PARTNER1), &path).await;
        if r.status == 404 {
            Ok(())
        } else {
            Err(r.show())
        }
    })
    .await;

    let after = t.get(Some(PARTNER1), list).await;
    assert_eq!(after.status, 200, "{}", after.show());
    assert_eq!(
        after.body, before.body,
        "the data equals the fixtures again"
    );
    let h = t.health().await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    assert_ne!(h["loaded_at"], json!(loaded), "{h}");
    t.assert_clean(true).await;
}

// ------------------------------------------------------------------ atomic swaps

/// The default fixtures as one bundle, with company 1 and partner 1 both
/// named `v{version}`: one GET /api/companies/1 shows both (the company
/// embeds its Partner), so a mix of two versions is visible.
fn bundle(base: &serde_json::Map<String, Value>, version: u64) -> String {
    let mut b = base.clone();
    let marker = json!(format!("v{version}"));
    for (coll, key) in [("companies", "CompanyId"), ("partners", "PartnerId")] {
        let rec = b[coll]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r[key] == 1)
            .unwrap();
        rec["Name"] = marker.clone();
    }
    serde_json::to_string_pretty(&Value::Object(b)).unwrap()
}

fn version_of(name: &str) -> Option<u64> {
    name.strip_prefix('v')?.parse().ok()
}

/// What one reader saw.
struct Seen {
    responses: u64,
    versions: BTreeSet<u64>,
}

/// GETs company 1 in a loop until `stop`; every response must be 200 and
/// wholly one version, versions never going back.
async fn reader(
    c: reqwest::Client,
    url: String,
    stop: Arc<AtomicBool>,
    last: Arc<AtomicU64>,
) -> Result<Seen, String> {
    let mut seen = Seen {
        responses: 0,
        versions: BTreeSet::new(),
    };
    let mut previous = 0;
    while !stop.load(Ordering::SeqCst) {
        let r = bounded(c.get(&url).basic_auth(PARTNER1, Some("x")).send())
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let r = read_response(r).await;
        if r.status != 200 {
            return Err(format!("a read failed: {}", r.show()));
        }
        if let Some(flag) = r.fixture_error() {
            return Err(format!("an atomic rename was flagged as an error: {flag}"));
        }
        let company = r.body["data"]["Name"].as_str().unwrap_or("");
        let partner = r.body["data"]["Partner"]["Name"].as_str().unwrap_or("");
        if company != partner {
            return Err(format!(
                "a mix of versions: company {company:?}, its partner {partner:?}"
            ));
        }
        let v = version_of(company).ok_or_else(|| format!("not a version: {}", r.show()))?;
        if v < previous {
            return Err(format!("went back from v{previous} to v{v}"));
        }
        previous = v;
        last.store(v, Ordering::SeqCst);
        seen.versions.insert(v);
        seen.responses += 1;
    }
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_edited_rapidly_is_swapped_whole_under_concurrent_reads() {
    const EDITS: u64 = 50;
    const READERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let mut base = serde_json::Map::new();
    for name in COLLECTIONS.iter().chain(&["apikeys"]) {
        base.insert(name.to_string(), default_fixture(name));
    }
    let path = dir.path().join("state.json");
    let tmp = dir.path().join("state.json.tmp");
    std::fs::write(&path, bundle(&base, 0)).unwrap();

    let t = T::watching(&path).await;
    let h = t.health().await;
    let named = PathBuf::from(h["fixtures"].as_str().unwrap());
    assert_eq!(
        named.canonicalize().unwrap(),
        path.canonicalize().unwrap(),
        "{h}"
    );
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    let first = t.wait_company1("v0").await;
    assert_eq!(first.body["data"]["Partner"]["Name"], "v0");

    let stop = Arc::new(AtomicBool::new(false));
    let lasts: Vec<Arc<AtomicU64>> = (0..READERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let readers: Vec<_> = lasts
        .iter()
        .map(|last| {
            tokio::spawn(reader(
                t.sb.client(),
                t.sb.url("/api/companies/1"),
                stop.clone(),
                last.clone(),
            ))
        })
        .collect();

    // A new version every 10-20 ms, each written to a temporary file and
    // renamed over the bundle. After every tenth, wait (polling) until it
    // is served, so that swaps happen while the readers read, not only
    // once at the end.
    for v in 1..=EDITS {
        std::fs::write(&tmp, bundle(&base, v)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        if v % 10 == 0 {
            t.wait_company1(&format!("v{v}")).await;
        } else {
            // Pacing of the edits (not waiting for anything).
            tokio::time::sleep(Duration::from_millis(10 + v % 11)).await;
        }
    }
    let last = t.wait_company1(&format!("v{EDITS}")).await;
    assert_eq!(last.body["data"]["Partner"]["Name"], format!("v{EDITS}"));
    eventually("every reader reaches the last version", async || {
        let at: Vec<u64> = lasts.iter().map(|l| l.load(Ordering::SeqCst)).collect();
        if at.iter().all(|&v| v == EDITS) || readers.iter().any(|r| r.is_finished()) {
            Ok(())
        } else {
            Err(format!("{at:?}"))
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);

    let mut all = BTreeSet::new();
    for (i, r) in readers.into_iter().enumerate() {
        let seen = bounded(r)
            .await
            .expect("reader task")
            .unwrap_or_else(|e| panic!("reader {i}: {e}"));
        assert!(seen.responses > 0, "reader {i} read");
        assert_eq!(seen.versions.last(), Some(&EDITS), "reader {i}");
        all.extend(seen.versions);
    }
    assert!(
        all.len() >= 3,
        "the readers saw swaps while reading: {all:?}"
    );
    let h = t.health().await;
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    t.assert_clean(true).await;
}

// ------------------------------------------------------------------ what is watched

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_files_in_the_fixtures_directory_trigger_no_reload() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let before = t.loaded_at().await;

    let junk = companies_with_name("Never served");
    for name in [
        "notes.txt",
        "companies.json~",
        ".companies.json.swp",
        "companies.json.tmp",
        "4913",
    ] {
        std::fs::write(file_in(dir.path(), name), &junk).unwrap();
    }
    std::fs::write(file_in(dir.path(), "notes.txt"), "more notes\n").unwrap();
    // Fixed sleep: let the debounce window pass, so that a reload these
    // files wrongly triggered would have happened by now.
    tokio::time::sleep(QUIET).await;
    let h = t.health().await;
    assert_eq!(h["loaded_at"], json!(before), "no reload happened: {h}");
    assert_eq!(t.company1().await.name(), ABC);
    t.assert_clean(true).await;

    // The watcher is alive: a real edit is picked up, and the unrelated
    // files do not break the reload.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("A real edit"),
    )
    .unwrap();
    t.wait_company1("A real edit").await;
    let reloaded = t.loaded_at().await;
    assert_ne!(reloaded, before);
    // Fixed sleep: let the debounce window pass, so that a reload the
    // sandbox's own reading of the files wrongly triggered would have
    // happened by now.
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        t.loaded_at().await,
        reloaded,
        "a reload does not trigger another"
    );
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_watching_an_edit_changes_nothing() {
    let dir = fixtures_with(&[]);
    let t = T::start(dir.path(), false).await;
    let h = t.health().await;
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    let before = h["loaded_at"].clone();

    let target = file_in(dir.path(), "companies.json");
    std::fs::write(&target, companies_with_name("Not watched")).unwrap();
    let tmp = file_in(dir.path(), "companies.json.tmp");
    std::fs::write(&tmp, companies_with_name("Not watched either")).unwrap();
    std::fs::rename(&tmp, &target).unwrap();
    // Fixed sleep: let the debounce window pass, so that a reload (which
    // must not happen without watching) would have happened by now.
    tokio::time::sleep(QUIET).await;

    assert_eq!(t.company1().await.name(), ABC);
    let h = t.health().await;
    assert_eq!(h["loaded_at"], before, "{h}");
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    t.assert_clean(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_while_watching_reports_the_path_all_counts_and_a_new_loaded_at() {
    let dir = fixtures_with(&[]);
    let t = T::watching(dir.path()).await;
    let h = t.health().await;
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["watching"], true, "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
    let named = PathBuf::from(h["fixtures"].as_str().expect("fixtures is a path"));
    assert_eq!(
        named.canonicalize().unwrap(),
        dir.path().canonicalize().unwrap(),
        "{h}"
    );
    let counts = counts_of(&h);
    assert_eq!(
        counts.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        COLLECTIONS.into_iter().collect::<BTreeSet<_>>(),
        "all fourteen collections: {h}"
    );
    assert_eq!(counts, fixture_counts(), "{h}");
    let before = h["loaded_at"].as_str().unwrap().to_string();
    assert_eq!(before.len(), "2026-01-01T00:00:00.000".len(), "{h}");

    // Add a company of partner 1.
    let mut companies = default_fixture("companies");
    companies.as_array_mut().unwrap().push(json!({
        "CompanyId": 100, "PartnerId": 1, "PlanTypeId": 1, "Name": "Added to the fixture"
    }));
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        serde_json::to_string_pretty(&companies).unwrap(),
    )
    .unwrap();
    let h = eventually("a new loaded_at", async || {
        let h = t.health().await;
        if h["loaded_at"] != json!(before) {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    let after = h["loaded_at"].as_str().unwrap();
    assert!(after > before.as_str(), "{before} -> {after}");
    let mut expected = fixture_counts();
    *expected.get_mut("companies").unwrap() += 1;
    assert_eq!(counts_of(&h), expected, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["watching"], true, "{h}");
    let r = t.get(Some(PARTNER1), "/api/companies/100").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.name(), "Added to the fixture");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_fixtures_directory_keeps_the_last_data_and_watching_resumes_when_it_returns() {
    let dir = fixtures_with(&[("companies", &companies_with_name("Before the removal"))]);
    let t = T::watching(dir.path()).await;
    t.wait_company1("Before the removal").await;

    std::fs::remove_dir_all(dir.path()).unwrap();
    let h = eventually("health says watching stopped", async || {
        let h = t.health().await;
        if h["watching"] == false && h["status"] == "degraded" {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    assert_eq!(counts_of(&h), fixture_counts(), "the last good data: {h}");
    let r = t.company1().await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(
        r.name(),
        "Before the removal",
        "the last good data is served"
    );
    let r = t.get(Some(PARTNER1), "/api/devices/1").await;
    assert_eq!(r.status, 200, "{}", r.show());

    // Re-create it as `cp -r` would, company 1 renamed, companies.json last.
    fill_with_defaults(dir.path(), "After the return");
    t.wait_company1("After the return").await;
    let h = eventually("health says watching again", async || {
        let h = t.health().await;
        if h["watching"] == true && h["status"] == "ok" {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;

    // And it watches again: a later edit is served.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("Edited after the return"),
    )
    .unwrap();
    t.wait_company1("Edited after the return").await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixtures_directory_replaced_by_a_rename_keeps_being_watched() {
    let parent = tempfile::tempdir().unwrap();
    let fixtures = parent.path().join("fixtures");
    fill_with_defaults(&fixtures, ABC);
    let t = T::watching(&fixtures).await;

    // Replace the whole directory at once, as a tool that never leaves a
    // half-written directory behind does: prepare a sibling, then rename.
    let new = parent.path().join("fixtures.new");
    fill_with_defaults(&new, "Swapped in");
    std::fs::rename(&fixtures, parent.path().join("fixtures.old")).unwrap();
    std::fs::rename(&new, &fixtures).unwrap();
    t.wait_company1("Swapped in").await;

    // The directory now at the fixtures path is the one watched: a later
    // edit in it is served.
    std::fs::write(
        file_in(&fixtures, "companies.json"),
        companies_with_name("Edited after the swap"),
    )
    .unwrap();
    t.wait_company1("Edited after the swap").await;
    t.assert_clean(true).await;
}
