//! `cleverfox-sandbox record` end to end (API.md sections 5 and 9, with
//! section 8's fault rules on the upstream): the built binary records an
//! upstream sandbox served by the harness over HTTPS (`localhost`, its
//! private CA given with `--ca`), and the recording is checked, served by a
//! second sandbox and compared with the upstream.
//!
//! Every await is bounded (the binary runs under a deadline and is killed
//! past it); nothing sleeps on a guess: waiting for the binary polls it.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Map, Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cleverfox-sandbox");

/// A run of the binary must end within this (it is killed past it).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Object-typed (embedded records) and Array-typed (child records)
/// attributes of API.md section 4: rendered by the API, never stored.
const EMBEDDED: [&str; 10] = [
    "Partner",
    "PlanType",
    "Company",
    "Subscription",
    "Plan",
    "Device",
    "Job",
    "BackupType",
    "JobItems",
    "LogItems",
];

/// The attributes classified for redaction in src/api/resources.rs
/// (besides the device key and its URL, checked on their own, and the
/// dropped ones below): names, e-mail addresses, phones, street addresses,
/// references, folder paths, file names, server and database names.
const REDACTED: [(&str, &[&str]); 9] = [
    ("partners", &["Name"]),
    (
        "partnerusers",
        &[
            "FirstName",
            "LastName",
            "Email",
            "HomePhone",
            "MobilePhone",
            "WorkPhone",
        ],
    ),
    (
        "companies",
        &[
            "Name",
            "AddressLine1",
            "AddressLine2",
            "CityMunicipality",
            "PostalCode",
            "Phone",
            "ExternalId",
        ],
    ),
    (
        "companyusers",
        &[
            "FirstName",
            "LastName",
            "Email",
            "HomePhone",
            "MobilePhone",
            "WorkPhone",
        ],
    ),
    (
        "subscriptions",
        &[
            "ExternalId",
            "SendNotificationTo",
            "SendNotificationBcc",
            "SendNotificationCc",
        ],
    ),
    (
        "devices",
        &[
            "Name",
            "ExternalId",
            "SendNotificationTo",
            "SendNotificationBcc",
            "SendNotificationCc",
        ],
    ),
    (
        "jobitems",
        &[
            "Name",
            "BaseFolder",
            "ExcludeFolders",
            "ServerName",
            "DatabaseName",
        ],
    ),
    (
        "logs",
        &[
            "ArchiveFolder",
            "SendNotificationTo",
            "SendNotificationBcc",
            "SendNotificationCc",
        ],
    ),
    (
        "logitems",
        &[
            "Name",
            "BaseFolder",
            "ExcludeFolders",
            "ServerName",
            "DatabaseName",
            "BackupFolder",
            "BackupFileName",
            "BackupListName",
        ],
    ),
];

/// Credentials and duplicate-prevention tokens: null in a redacted recording.
const DROPPED: [&str; 3] = ["Token", "Username", "Password"];

/// Address lists (one or more e-mail addresses).
const EMAIL_LISTS: [&str; 3] = [
    "SendNotificationTo",
    "SendNotificationBcc",
    "SendNotificationCc",
];

/// Status-like strings a redaction must keep.
const KEPT_STRINGS: [&str; 8] = [
    "Status",
    "JobStatus",
    "EventType",
    "Frequency",
    "TimeZoneId",
    "EngineId",
    "EngineType",
    "AuthenticationMode",
];

// ------------------------------------------------------------------ harness

/// What a run of the binary did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// Runs the binary with stdin null and `CLEVERFOX_API_KEY` unset unless
/// `env` sets it; polls it until it exits, killing it past `RUN_LIMIT`.
fn run_blocking(args: Vec<String>, env: Vec<(String, String)>) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(BIN);
    cmd.args(&args)
        .env_remove("CLEVERFOX_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{BIN} {args:?} did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        took: started.elapsed(),
    }
}

/// Runs the binary off the runtime (the upstream keeps serving meanwhile).
async fn run_env(args: Vec<String>, env: Vec<(String, String)>) -> Run {
    tokio::time::timeout(
        RUN_LIMIT + Duration::from_secs(15),
        tokio::task::spawn_blocking(move || run_blocking(args, env)),
    )
    .await
    .expect("the binary run is bounded")
    .expect("the runner thread")
}

async fn run(args: Vec<String>) -> Run {
    run_env(args, Vec::new()).await
}

/// `record` against `sb` with its CA trusted.
fn record_args(sb: &Sandbox, key: &str, out: &Path) -> Vec<String> {
    vec![
        "record".into(),
        "--upstream".into(),
        sb.url("/api"),
        "--api-key".into(),
        key.into(),
        "--out".into(),
        path_str(out),
        "--ca".into(),
        path_str(&sb.certs.join("ca.pem")),
    ]
}

/// Records `key`'s account from `sb` into `out`; asserts success.
async fn record_ok(sb: &Sandbox, key: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = record_args(sb, key, out);
    args.extend(extra.iter().map(|s| s.to_string()));
    let r = run(args).await;
    assert!(r.ok(), "record failed: {}", r.describe());
    assert!(
        !r.stdout.contains(key) && !r.stderr.contains(key),
        "the upstream key appears in the recorder's output: {}",
        r.describe()
    );
    r
}

/// `cleverfox-sandbox check --fixtures DIR` passes.
async fn check_ok(dir: &Path) {
    let r = run(vec!["check".into(), "--fixtures".into(), path_str(dir)]).await;
    assert!(r.ok(), "check {} failed: {}", dir.display(), r.describe());
}

/// The names in a directory (hidden ones included).
fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A collection file of a recording.
fn read_file(dir: &Path, coll: &str) -> Vec<Map<String, Value>> {
    let p = dir.join(format!("{coll}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()));
    v.as_array()
        .unwrap_or_else(|| panic!("{}: not an array of records", p.display()))
        .iter()
        .map(|r| {
            r.as_object()
                .unwrap_or_else(|| panic!("{}: a record is not an object: {r}", p.display()))
                .clone()
        })
        .collect()
}

fn key_of(coll: &str) -> &'static str {
    COLLECTION_KEYS
        .iter()
        .find(|(c, _)| *c == coll)
        .map(|(_, k)| *k)
        .unwrap()
}

fn id_of(rec: &Map<String, Value>, key: &str) -> i64 {
    rec.get(key)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("a record without {key}: {rec:?}"))
}

/// The partner key written into a recording's apikeys.json.
fn recorded_key(dir: &Path, partner: i64) -> String {
    let p = dir.join("apikeys.json");
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let partners: Vec<&Value> = keys
        .as_array()
        .expect("apikeys.json is an array")
        .iter()
        .filter(|k| !k["PartnerId"].is_null())
        .collect();
    assert_eq!(partners.len(), 1, "one partner key: {keys}");
    let k = partners[0];
    assert_eq!(k["PartnerId"], partner, "{keys}");
    assert_eq!(k["PartnerPlan"], true, "{keys}");
    let key = k["ApiKey"]
        .as_str()
        .expect("ApiKey is a string")
        .to_string();
    assert!(!key.is_empty());
    for known in [PARTNER1, PARTNER2, NO_PLAN, INACTIVE, ADMIN] {
        assert!(
            keys.as_array()
                .unwrap()
                .iter()
                .all(|k| k["ApiKey"].as_str() != Some(known)),
            "the recording reuses the upstream key {known}: {keys}"
        );
    }
    key
}

/// One client per sandbox, trusting its CA.
struct Api<'a> {
    sb: &'a Sandbox,
    client: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(sb: &'a Sandbox) -> Api<'a> {
        Api {
            sb,
            client: sb.client(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.clone(), self.sb.url(path))
            .basic_auth(key, Some(""));
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let r = bounded(req.send())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let text = bounded(r.text()).await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    async fn get(&self, key: &str, path: &str) -> Value {
        let (status, v) = self.send(reqwest::Method::GET, key, path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    async fn put(&self, key: &str, path: &str, body: Value) -> Value {
        let (status, v) = self
            .send(reqwest::Method::PUT, key, path, Some(&body))
            .await;
        assert_eq!(status, 200, "PUT {path} {body}: {v}");
        v
    }

    async fn post(&self, key: &str, path: &str, body: Value, expect: u16) -> Value {
        let (status, v) = self
            .send(reqwest::Method::POST, key, path, Some(&body))
            .await;
        assert_eq!(status, expect, "POST {path} {body}: {v}");
        v
    }

    async fn add_fault(&self, rule: Value) {
        self.post(ADMIN, "/_sandbox/faults", rule, 201).await;
    }

    async fn clear_faults(&self) {
        let (status, v) = self
            .send(reqwest::Method::DELETE, ADMIN, "/_sandbox/faults", None)
            .await;
        assert!((200..300).contains(&status), "DELETE faults: {status} {v}");
    }

    /// Every page of a collection at `size`, as served (the last one short).
    async fn pages(&self, key: &str, coll: &str, size: u64) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        for page_no in 1..=10_000u64 {
            let body = self
                .get(
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

    /// Every record of a collection (PageSize 500), in the order served.
    async fn all(&self, key: &str, coll: &str) -> Vec<Value> {
        self.pages(key, coll, 500).await.concat()
    }

    /// The request journal for a path prefix, oldest first.
    async fn journal(&self, path: &str) -> Vec<Value> {
        let mut rows = self
            .get(ADMIN, &format!("/_sandbox/requests?path={path}"))
            .await["data"]
            .as_array()
            .expect("journal data")
            .clone();
        rows.sort_by_key(|r| r["id"].as_u64().unwrap());
        rows
    }
}

/// A served record without its embedded objects and child arrays: what a
/// fixture file holds.
fn stored(rec: &Value) -> Map<String, Value> {
    let mut m = rec.as_object().expect("a record is an object").clone();
    for a in EMBEDDED {
        m.remove(a);
    }
    m
}

/// The recording in `dir` holds exactly what `key` lists on `upstream`:
/// every collection, every record, ascending, embedded objects dropped.
async fn assert_recording_complete(dir: &Path, upstream: &Api<'_>, key: &str) {
    for (coll, pk) in COLLECTION_KEYS {
        let mut served: Vec<Map<String, Value>> =
            upstream.all(key, coll).await.iter().map(stored).collect();
        served.sort_by_key(|r| id_of(r, pk));
        let file = read_file(dir, coll);
        assert_eq!(
            file.len(),
            served.len(),
            "{coll}: {} records recorded, {} served",
            file.len(),
            served.len()
        );
        for (f, s) in file.iter().zip(&served) {
            assert!(f == s, "{coll}: recorded\n{f:?}\nserved\n{s:?}");
        }
    }
}

/// A sandbox timestamp as milliseconds (read as UTC).
fn ms(ts: &str) -> i64 {
    let dt: jiff::civil::DateTime = ts
        .parse()
        .unwrap_or_else(|e| panic!("not a timestamp {ts:?}: {e}"));
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// A fresh parent directory with something in it, and `out` inside it.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(parent.path().join("unrelated.txt"), "keep me\n").unwrap();
    let out = parent.path().join("recording");
    (parent, out)
}

/// The recording fails: non-zero exit, a message on stderr containing one
/// of `any` (case-insensitive), no `--out` directory, and the parent as it
/// was (no temporary entries left behind).
async fn assert_fails_cleanly(args: Vec<String>, out: &Path, key: &str, any: &[&str], what: &str) {
    let parent = out.parent().unwrap().to_path_buf();
    let before = listing(&parent);
    let r = run(args).await;
    assert!(
        !r.ok() && r.code.is_some(),
        "{what}: expected a failure: {}",
        r.describe()
    );
    let err = r.stderr.to_lowercase();
    assert!(
        any.iter().any(|n| err.contains(&n.to_lowercase())),
        "{what}: stderr says none of {any:?}: {}",
        r.describe()
    );
    assert!(
        !err.contains("panicked"),
        "{what}: the recorder panicked: {}",
        r.describe()
    );
    assert!(
        !r.stdout.contains(key) && !r.stderr.contains(key),
        "{what}: the key appears in the output: {}",
        r.describe()
    );
    assert!(
        !out.exists(),
        "{what}: {} was left behind: {:?}",
        out.display(),
        out.is_dir().then(|| listing(out))
    );
    assert_eq!(
        listing(&parent),
        before,
        "{what}: the parent directory changed: {}",
        r.describe()
    );
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_loads_and_serves_what_the_upstream_serves() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Api::new(&upstream);
    let (parent, out) = workspace();
    let r = record_ok(&upstream, PARTNER1, &out, &[]).await;
    assert!(!r.stderr.trim().is_empty(), "no progress shown");

    // one file per collection plus apikeys.json, nothing else, nothing left
    // beside it
    let mut expected: BTreeSet<String> = COLLECTION_KEYS
        .iter()
        .map(|(c, _)| format!("{c}.json"))
        .collect();
    expected.insert("apikeys.json".into());
    assert_eq!(listing(&out), expected);
    assert_eq!(
        listing(parent.path()),
        BTreeSet::from(["recording".to_string(), "unrelated.txt".to_string()])
    );
    check_ok(&out).await;

    // the upstream key is written nowhere
    for name in listing(&out) {
        let bytes = std::fs::read(out.join(&name)).unwrap();
        assert!(
            !bytes
                .windows(PARTNER1.len())
                .any(|w| w == PARTNER1.as_bytes()),
            "{name} holds the upstream key"
        );
    }
    let key = recorded_key(&out, 1);
    assert_ne!(key, PARTNER1);

    // files: ascending ids, no embedded objects, no child arrays
    for (coll, pk) in COLLECTION_KEYS {
        let recs = read_file(&out, coll);
        assert!(!recs.is_empty(), "{coll}: nothing recorded");
        let ids: Vec<i64> = recs.iter().map(|r| id_of(r, pk)).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{coll}: ids not ascending: {ids:?}"
        );
        for r in &recs {
            for (k, v) in r {
                assert!(
                    !EMBEDDED.contains(&k.as_str()),
                    "{coll}: {k} recorded: {r:?}"
                );
                assert!(
                    !v.is_object() && !v.is_array(),
                    "{coll}: {k} holds {v} in the recording"
                );
            }
        }
    }
    assert!(
        read_file(&out, "companies")
            .iter()
            .all(|r| !r.contains_key("Partner") && !r.contains_key("PlanType"))
    );
    assert!(
        read_file(&out, "jobs")
            .iter()
            .all(|r| !r.contains_key("JobItems"))
    );
    assert!(
        read_file(&out, "logs")
            .iter()
            .all(|r| !r.contains_key("LogItems"))
    );
    assert_recording_complete(&out, &up, PARTNER1).await;

    // a second sandbox on the recording serves the same pages, embedding
    // included
    let replay = bounded(Sandbox::with(Config {
        fixtures: out.clone(),
        ..Config::default()
    }))
    .await;
    let rp = Api::new(&replay);
    for (coll, _) in COLLECTION_KEYS {
        for size in [500, 7] {
            let a = up.pages(PARTNER1, coll, size).await;
            let b = rp.pages(&key, coll, size).await;
            assert!(
                a == b,
                "{coll} (PageSize {size}) differs:\nupstream {}\nreplay   {}",
                Value::from(a.concat()),
                Value::from(b.concat())
            );
        }
    }
    // embedding is really there to compare
    let companies = rp.all(&key, "companies").await;
    assert!(
        companies.iter().all(|c| c["Partner"]["PartnerId"] == 1),
        "{companies:?}"
    );
    let jobs = rp.all(&key, "jobs").await;
    assert!(
        jobs.iter()
            .any(|j| j["JobItems"].as_array().is_some_and(|a| !a.is_empty())),
        "{jobs:?}"
    );
    // the recording holds no other partner
    let partners = rp.all(&key, "partners").await;
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0]["PartnerId"], 1);
    replay.stop().await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_recorded_past_500_records() {
    const EVENTS: i64 = 1200;
    let events: Vec<Value> = (1..=EVENTS)
        .map(|id| {
            json!({
                "EventId": id,
                "EventTypeId": 2,
                "EventType": "Partner Modified",
                "BackupTypeId": null, "CompanyId": null, "CompanyUserId": null,
                "DeviceId": null, "JobId": null, "JobItemId": null, "LogId": null,
                "LogItemId": null,
                "PartnerId": 1,
                "PartnerPlanId": null, "PartnerUserId": null, "PlanId": null,
                "PlanTypeId": null, "SubscriptionId": null,
                "AddedOn": format!("2025-01-01T{:02}:{:02}:{:02}.{:03}", id / 3600, id / 60 % 60, id % 60, id % 1000),
            })
        })
        .collect();
    let fx = fixtures_with(&[("events", &Value::from(events).to_string())]);
    let upstream = bounded(Sandbox::with(Config {
        fixtures: fx.path().to_path_buf(),
        ..Config::default()
    }))
    .await;
    let up = Api::new(&upstream);
    let served: Vec<i64> = up
        .all(PARTNER1, "events")
        .await
        .iter()
        .map(|e| e["EventId"].as_i64().unwrap())
        .collect();
    assert_eq!(served.len() as i64, EVENTS, "the upstream serves them all");
    bounded(async {
        let (status, _) = up
            .send(reqwest::Method::DELETE, ADMIN, "/_sandbox/requests", None)
            .await;
        assert!((200..300).contains(&status));
    })
    .await;

    let (_parent, out) = workspace();
    record_ok(&upstream, PARTNER1, &out, &[]).await;
    check_ok(&out).await;
    let recorded: Vec<i64> = read_file(&out, "events")
        .iter()
        .map(|r| id_of(r, "EventId"))
        .collect();
    assert_eq!(recorded.len() as i64, EVENTS);
    assert_eq!(recorded, (1..=EVENTS).collect::<Vec<_>>());

    // read page by page at PageSize 500, until the short third page
    let pages: Vec<(u64, u64)> = up
        .journal("/api/events")
        .await
        .iter()
        .filter(|r| r["partner_id"] == 1 && r["status"] == 200)
        .map(|r| {
            let q = r["query"].as_str().unwrap_or_default().to_string();
            let param = |name: &str| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("{name} in {q:?}"))
            };
            (param("PageNo"), param("PageSize"))
        })
        .collect();
    assert_eq!(pages, vec![(1, 500), (2, 500), (3, 500)]);
    assert_recording_complete(&out, &up, PARTNER1).await;
    upstream.stop().await;
}

type Record = Map<String, Value>;

/// Per-record checks of a redacted recording against a plain one.
#[derive(Default)]
struct Redaction {
    /// (collection group, attribute, original) -> redacted.
    values: HashMap<(String, String, String), Value>,
    /// original address (lower case) -> redacted address.
    addresses: HashMap<String, String>,
    /// (collection, attribute) -> non-null values seen.
    seen: BTreeMap<(String, String), usize>,
    tokens: usize,
}

fn is_email_separator(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '\r' | '\n')
}

/// The items of an address list, and the separators between them.
fn email_items(s: &str) -> (Vec<String>, String) {
    (
        s.split(is_email_separator)
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect(),
        s.chars().filter(|c| is_email_separator(*c)).collect(),
    )
}

impl Redaction {
    fn address(&mut self, original: &str, redacted: &str, at: &str) {
        assert_ne!(
            original.to_lowercase(),
            redacted.to_lowercase(),
            "{at}: {original} kept"
        );
        assert!(redacted.contains('@'), "{at}: {redacted} is not an address");
        let prev = self
            .addresses
            .entry(original.to_string())
            .or_insert_with(|| redacted.to_string());
        assert_eq!(prev, redacted, "{at}: {original} redacted two ways");
    }

    fn compare(&mut self, coll: &str, plain: &Map<String, Value>, red: &Map<String, Value>) {
        let pk = key_of(coll);
        let at = format!("{coll} {}", id_of(plain, pk));
        assert_eq!(
            plain.keys().collect::<BTreeSet<_>>(),
            red.keys().collect::<BTreeSet<_>>(),
            "{at}: attributes differ"
        );
        let redacted: &[&str] = REDACTED
            .iter()
            .find(|(c, _)| *c == coll)
            .map_or(&[], |(_, a)| *a);
        let group = if coll == "logitems" { "jobitems" } else { coll };
        for (attr, p) in plain {
            let r = &red[attr];
            let at = format!("{at} {attr}");
            if DROPPED.contains(&attr.as_str()) {
                if !p.is_null() {
                    self.tokens += 1;
                }
                assert!(r.is_null(), "{at}: {r} kept (was {p})");
            } else if coll == "devices" && attr == "ApiKey" {
                let (old, new) = (p.as_str().unwrap(), r.as_str().unwrap());
                assert!(
                    new.len() == 32
                        && new
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                    "{at}: {new} is not 32 lowercase hex digits"
                );
                assert_ne!(old, new, "{at}: the device key is kept");
                let url_plain = plain["AgentDownloadUrl"].as_str().unwrap();
                let url_red = red["AgentDownloadUrl"].as_str().unwrap();
                assert_eq!(
                    url_red,
                    url_plain.replace(old, new),
                    "{at}: AgentDownloadUrl does not hold the new key where it held the old one"
                );
                assert!(!url_red.contains(old), "{at}: the old key is in {url_red}");
            } else if coll == "devices" && attr == "AgentDownloadUrl" {
                // checked with ApiKey
            } else if redacted.contains(&attr.as_str()) {
                if p.is_null() {
                    assert!(r.is_null(), "{at}: null became {r}");
                    continue;
                }
                *self.seen.entry((coll.into(), attr.clone())).or_default() += 1;
                let (ps, rs) = (
                    p.as_str().unwrap_or_else(|| panic!("{at}: {p}")),
                    r.as_str()
                        .unwrap_or_else(|| panic!("{at}: {r} is not a string")),
                );
                assert_ne!(ps, rs, "{at}: not redacted");
                if attr == "Email" {
                    self.address(ps, rs, &at);
                } else if EMAIL_LISTS.contains(&attr.as_str()) {
                    let ((pi, psep), (ri, rsep)) = (email_items(ps), email_items(rs));
                    assert_eq!(pi.len(), ri.len(), "{at}: {ps:?} became {rs:?}");
                    assert_eq!(psep, rsep, "{at}: {ps:?} became {rs:?}");
                    for (a, b) in pi.iter().zip(&ri) {
                        self.address(a, b, &at);
                    }
                }
                let prev = self
                    .values
                    .entry((group.into(), attr.clone(), ps.into()))
                    .or_insert_with(|| r.clone());
                assert_eq!(prev, r, "{at}: {ps:?} redacted two ways");
            } else if !p.is_string()
                || KEPT_STRINGS.contains(&attr.as_str())
                || p.as_str().is_some_and(is_timestamp)
            {
                // ids, references, sizes, flags, statuses, timestamps
                assert_eq!(p, r, "{at}: changed");
            }
        }
    }
}

/// Every string in a directory's JSON files.
fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings_in(x, out)),
        _ => {}
    }
}

/// The e-mail addresses found anywhere in a fixtures directory.
fn addresses_in(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for name in listing(dir) {
        if !name.ends_with(".json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut strings = Vec::new();
        strings_in(&v, &mut strings);
        for s in strings {
            for word in s.split(|c: char| is_email_separator(c) || c.is_whitespace()) {
                let w = word.trim_matches(|c: char| "<>\"'()[]".contains(c));
                if w.contains('@') && w.contains('.') {
                    found.insert(w.to_lowercase());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_replaces_personal_values_consistently_and_keeps_the_rest() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Api::new(&upstream);
    // give every classified attribute a value, and some records a Token
    up.put(
        PARTNER1,
        "/api/partnerusers/2",
        json!({"HomePhone": "+1 734 555 0150", "Token": "record-redact-token-1"}),
    )
    .await;
    up.put(
        PARTNER1,
        "/api/subscriptions/1",
        json!({
            "ExternalId": "ABC-SUB-0001",
            "SendNotificationBcc": "billing@forwardthinking.example.com",
            "SendNotificationCc": "owner@abccompany.example.com; it@abccompany.example.com",
            "Token": "record-redact-token-2",
        }),
    )
    .await;
    up.put(
        PARTNER1,
        "/api/devices/1",
        json!({
            "SendNotificationBcc": "audit@abccompany.example.com",
            "SendNotificationCc": "owner@abccompany.example.com",
            "Token": "record-redact-token-3",
        }),
    )
    .await;
    // a run copies device 1's addresses into a new log, its job items into
    // log items
    up.post(
        ADMIN,
        "/_sandbox/jobs/1/run",
        json!({"JobStatus": "Failed", "ErrorMessages": "disk full"}),
        201,
    )
    .await;

    let (parent, plain_dir) = workspace();
    let red_dir = parent.path().join("redacted");
    record_ok(&upstream, PARTNER1, &plain_dir, &[]).await;
    record_ok(&upstream, PARTNER1, &red_dir, &["--redact"]).await;
    check_ok(&red_dir).await;

    let mut red = Redaction::default();
    // collection -> (plain records, redacted records)
    let mut files: BTreeMap<&str, (Vec<Record>, Vec<Record>)> = BTreeMap::new();
    for (coll, pk) in COLLECTION_KEYS {
        let (p, r) = (read_file(&plain_dir, coll), read_file(&red_dir, coll));
        let ids = |v: &[Map<String, Value>]| v.iter().map(|x| id_of(x, pk)).collect::<Vec<_>>();
        assert_eq!(ids(&p), ids(&r), "{coll}: other records");
        for (a, b) in p.iter().zip(&r) {
            red.compare(coll, a, b);
        }
        files.insert(coll, (p, r));
    }
    // every classified attribute had something to redact
    for (coll, attrs) in REDACTED {
        for attr in attrs {
            assert!(
                red.seen.contains_key(&(coll.to_string(), attr.to_string())),
                "{coll} {attr}: no value in the data, the check proves nothing"
            );
        }
    }
    assert!(red.tokens >= 3, "Tokens were recorded: {}", red.tokens);

    // the same input gives the same output across collections: a device's
    // addresses and the logs that copied them, a job item and its log items
    let by_id = |coll: &str, which: usize| -> HashMap<i64, Map<String, Value>> {
        let (p, r) = &files[coll];
        let v = if which == 0 { p } else { r };
        v.iter()
            .map(|x| (id_of(x, key_of(coll)), x.clone()))
            .collect()
    };
    let (devices_p, devices_r) = (by_id("devices", 0), by_id("devices", 1));
    let (logs_p, logs_r) = (&files["logs"].0, &files["logs"].1);
    let mut copied = 0;
    for (lp, lr) in logs_p.iter().zip(logs_r) {
        let Some(device) = lp["DeviceId"].as_i64().and_then(|d| devices_p.get(&d)) else {
            continue;
        };
        for attr in EMAIL_LISTS {
            if !lp[attr].is_null() && lp[attr] == device[attr] {
                copied += 1;
                let dr = &devices_r[&id_of(device, "DeviceId")];
                assert_eq!(lr[attr], dr[attr], "log {} {attr}", id_of(lp, "LogId"));
            }
        }
    }
    assert!(copied > 0, "no log copied its device's addresses");
    let (items_p, items_r) = (by_id("jobitems", 0), by_id("jobitems", 1));
    let (litems_p, litems_r) = (&files["logitems"].0, &files["logitems"].1);
    let mut same_db = 0;
    for (lp, lr) in litems_p.iter().zip(litems_r) {
        let Some(item) = lp["JobItemId"].as_i64().and_then(|i| items_p.get(&i)) else {
            continue;
        };
        let ir = &items_r[&id_of(item, "JobItemId")];
        for attr in ["DatabaseName", "ServerName", "BaseFolder", "Name"] {
            if !lp[attr].is_null() && lp[attr] == item[attr] {
                if attr == "DatabaseName" {
                    same_db += 1;
                }
                assert_eq!(
                    lr[attr],
                    ir[attr],
                    "log item {} {attr}",
                    id_of(lp, "LogItemId")
                );
            }
        }
    }
    assert!(
        same_db > 0,
        "no log item copied its job item's DatabaseName"
    );

    // device keys are new and distinct
    let keys: BTreeSet<&str> = files["devices"]
        .1
        .iter()
        .map(|d| d["ApiKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), files["devices"].1.len(), "device keys collide");

    // no original address anywhere in the redacted files
    let mut originals = addresses_in(&default_fixtures());
    originals.extend(addresses_in(&plain_dir));
    assert!(originals.len() > 10, "{originals:?}");
    for name in listing(&red_dir) {
        let text = std::fs::read_to_string(red_dir.join(&name))
            .unwrap()
            .to_lowercase();
        for a in &originals {
            assert!(!text.contains(a.as_str()), "{name} holds {a}");
        }
        assert!(
            !text.contains(&PARTNER1.to_lowercase()),
            "{name} holds the key"
        );
    }

    // the redacted recording loads and serves
    let key = recorded_key(&red_dir, 1);
    let replay = bounded(Sandbox::with(Config {
        fixtures: red_dir.clone(),
        ..Config::default()
    }))
    .await;
    let rp = Api::new(&replay);
    let served = rp.all(&key, "devices").await;
    let mut served_keys: Vec<&str> = served
        .iter()
        .map(|d| d["ApiKey"].as_str().unwrap())
        .collect();
    served_keys.sort_unstable();
    assert_eq!(served_keys, keys.iter().copied().collect::<Vec<_>>());
    for (coll, _) in COLLECTION_KEYS {
        assert_eq!(
            rp.all(&key, coll).await.len(),
            files[coll].1.len(),
            "{coll}: the redacted recording serves another count"
        );
    }
    replay.stop().await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_with_backoff_and_honours_retry_after() {
    // more than 500 jobs for partner 1: two pages of /api/jobs, so the rate
    // limit answers the second one 429
    let mut jobs = default_fixture("jobs").as_array().unwrap().clone();
    let template = jobs[0].clone();
    assert_eq!(template["DeviceId"], 1);
    for i in 0..520 {
        let mut j = template.clone();
        j["JobId"] = json!(1001 + i);
        j["Name"] = json!(format!("Bulk job {i}"));
        j["LastRanOn"] = Value::Null;
        jobs.push(j);
    }
    let fx = fixtures_with(&[("jobs", &Value::from(jobs).to_string())]);
    let upstream = bounded(Sandbox::with(Config {
        fixtures: fx.path().to_path_buf(),
        ..Config::default()
    }))
    .await;
    let up = Api::new(&upstream);
    up.add_fault(json!({"path": "/api/devices", "status": 503, "times": 2}))
        .await;
    up.add_fault(json!({"path": "/api/jobs", "rate_limit": 1, "window_s": 1}))
        .await;

    let (_parent, out) = workspace();
    let r = record_ok(&upstream, PARTNER1, &out, &[]).await;
    assert!(r.took < Duration::from_secs(60), "took {:?}", r.took);
    up.clear_faults().await;

    let devices = up.journal("/api/devices").await;
    let statuses: Vec<u64> = devices
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503, 503, 200], "{devices:?}");
    for w in devices.windows(2) {
        let gap = ms(w[1]["time"].as_str().unwrap()) - ms(w[0]["time"].as_str().unwrap());
        assert!(gap >= 100, "retried a 503 after {gap} ms: no backoff");
    }
    let jobs = up.journal("/api/jobs").await;
    let statuses: Vec<u64> = jobs.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert!(
        statuses.contains(&429),
        "the rate limit never answered: {jobs:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "{jobs:?}");
    for w in jobs.windows(2) {
        if w[0]["status"] == 429 {
            let gap = ms(w[1]["time"].as_str().unwrap()) - ms(w[0]["time"].as_str().unwrap());
            assert!(gap >= 950, "retried a 429 (Retry-After: 1) after {gap} ms");
        }
    }
    check_ok(&out).await;
    assert_recording_complete(&out, &up, PARTNER1).await;
    assert_eq!(read_file(&out, "jobs").len(), 530);
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_fails_cleanly() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let certs = tempfile::tempdir().unwrap();
    // a real CA file, so only the connection can fail
    let upstream = bounded(Sandbox::with(Config {
        certs: Some(certs.path().join("certs")),
        ..Config::default()
    }))
    .await;
    upstream.stop().await;
    let (_parent, out) = workspace();
    let args = vec![
        "record".into(),
        "--upstream".into(),
        format!("https://localhost:{port}/api"),
        "--api-key".into(),
        PARTNER1.into(),
        "--out".into(),
        path_str(&out),
        "--ca".into(),
        path_str(&certs.path().join("certs/ca.pem")),
    ];
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["reach", "connect", "refused"],
        "unreachable",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_keys_fail_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let (_parent, out) = workspace();
    let unknown = "no-such-key-7c1e";
    assert_fails_cleanly(
        record_args(&upstream, unknown, &out),
        &out,
        unknown,
        &["401"],
        "unknown key",
    )
    .await;
    assert_fails_cleanly(
        record_args(&upstream, NO_PLAN, &out),
        &out,
        NO_PLAN,
        &["403"],
        "no Partner Plan",
    )
    .await;
    assert_fails_cleanly(
        record_args(&upstream, INACTIVE, &out),
        &out,
        INACTIVE,
        &["403"],
        "inactive partner",
    )
    .await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let (_parent, out) = workspace();
    let mut args = record_args(&upstream, PARTNER1, &out);
    args.truncate(args.len() - 2); // no --ca
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["tls", "certificate"],
        "untrusted CA",
    )
    .await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_not_the_api_fails_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Api::new(&upstream);
    let (_parent, out) = workspace();

    // a path where there is no API: 404
    let mut args = record_args(&upstream, PARTNER1, &out);
    args[2] = upstream.url("/nope");
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["404", "not found", "cleverfox api"],
        "/nope",
    )
    .await;

    // answers that are not List envelopes, late in the recording (after
    // other files were written)
    for (path, body) in [
        ("/api/events", json!({"data": {"EventId": 1}})),
        ("/api/logs", json!({"hello": "world"})),
        ("/api/logitems", json!([{"LogItemId": 1}])),
    ] {
        up.add_fault(json!({"path": path, "status": 200, "body": body}))
            .await;
        assert_fails_cleanly(
            record_args(&upstream, PARTNER1, &out),
            &out,
            PARTNER1,
            &["cleverfox api", "list", "data"],
            &format!("{path} answering {body}"),
        )
        .await;
        up.clear_faults().await;
    }
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_leaves_nothing_behind() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Api::new(&upstream);
    let (_parent, out) = workspace();
    // the key refused on a late collection
    up.add_fault(json!({"path": "/api/logs", "status": 401, "body": {"errors": ["The API key is not valid."]}}))
        .await;
    assert_fails_cleanly(
        record_args(&upstream, PARTNER1, &out),
        &out,
        PARTNER1,
        &["401"],
        "401 on /api/logs",
    )
    .await;
    up.clear_faults().await;
    // the connection closed on a late collection, every time
    up.add_fault(json!({"path": "/api/logitems", "close": true}))
        .await;
    assert_fails_cleanly(
        record_args(&upstream, PARTNER1, &out),
        &out,
        PARTNER1,
        &["reach", "connect", "closed"],
        "connection closed on /api/logitems",
    )
    .await;
    up.clear_faults().await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_directory_that_is_not_empty_is_refused_and_left_alone() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, out) = workspace();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("companies.json"), "[]\n").unwrap();
    std::fs::write(out.join("notes.txt"), "my notes\n").unwrap();
    let before_parent = listing(parent.path());
    let r = run(record_args(&upstream, PARTNER1, &out)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    let err = r.stderr.to_lowercase();
    assert!(
        err.contains("empty") || err.contains("exists"),
        "{}",
        r.describe()
    );
    assert_eq!(listing(parent.path()), before_parent);
    assert_eq!(
        listing(&out),
        BTreeSet::from(["companies.json".to_string(), "notes.txt".to_string()])
    );
    assert_eq!(
        std::fs::read_to_string(out.join("companies.json")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "my notes\n"
    );

    // an empty one is fine
    let empty = parent.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    record_ok(&upstream, PARTNER1, &empty, &[]).await;
    check_ok(&empty).await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_path_that_is_a_file_is_refused_and_nothing_is_left_behind() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, out) = workspace();
    std::fs::write(&out, "not a directory\n").unwrap();
    let before = listing(parent.path());
    let r = run(record_args(&upstream, PARTNER1, &out)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    assert!(!r.stderr.trim().is_empty(), "{}", r.describe());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "not a directory\n",
        "the file was changed"
    );
    assert_eq!(
        listing(parent.path()),
        before,
        "entries were left beside the file: {}",
        r.describe()
    );
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_parent_directories_are_made_and_not_left_behind_on_failure() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, _) = workspace();
    let before = listing(parent.path());
    let nested = parent.path().join("new").join("sub").join("recording");
    let unknown = "no-such-key-9d2a";
    let r = run(record_args(&upstream, unknown, &nested)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    assert!(r.stderr.contains("401"), "{}", r.describe());
    assert_eq!(
        listing(parent.path()),
        before,
        "a failed recording left directories behind: {}",
        r.describe()
    );
    // and a successful one makes them
    record_ok(&upstream, PARTNER1, &nested, &[]).await;
    check_ok(&nested).await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_may_come_from_the_environment() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Api::new(&upstream);
    let (_parent, out) = workspace();
    let mut args = record_args(&upstream, PARTNER1, &out);
    let at = args.iter().position(|a| a == "--api-key").unwrap();
    args.drain(at..at + 2);
    assert!(!args.iter().any(|a| a == PARTNER1));
    let r = run_env(
        args,
        vec![("CLEVERFOX_API_KEY".to_string(), PARTNER1.to_string())],
    )
    .await;
    assert!(r.ok(), "{}", r.describe());
    assert!(!r.stdout.contains(PARTNER1) && !r.stderr.contains(PARTNER1));
    check_ok(&out).await;
    assert_ne!(recorded_key(&out, 1), PARTNER1);
    assert_recording_complete(&out, &up, PARTNER1).await;

    // and with neither, the recorder says what is missing
    let (_parent2, out2) = workspace();
    let mut args = record_args(&upstream, PARTNER1, &out2);
    args.drain(at..at + 2);
    let r = run(args).await;
    assert!(!r.ok(), "{}", r.describe());
    assert!(r.stderr.contains("--api-key"), "{}", r.describe());
    assert!(!out2.exists());
    upstream.stop().await;
}
