//! `cleverfox-sandbox record` end to end (API.md sections 5 and 9, with
//! section 8's fault rules on the upstream): the built binary records an
//! upstream sandbox served by the harness over HTTPS (`localhost`, its
//! private CA given with `--ca`), and the recording is checked, served by a
//! second sandbox and compared with the upstream.
//!
//! Every await is bounded (the binary runs under a deadline and is killed
//! past it); nothing sleeps on a guess: waiting for the binary polls it.

#[path = "../common/mod.rs"]
mod common;

mod failures;
mod recording;
mod redact;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{Map, Value, json};

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

/// Runs the binary off the runtime (the upstream keeps serving meanwhile).
async fn run_env(args: Vec<String>, env: Vec<(String, String)>) -> Run {
    run_binary(args, env, RUN_LIMIT).await
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
async fn assert_recording_complete(dir: &Path, upstream: &Client, key: &str) {
    for (coll, pk) in COLLECTION_KEYS {
        let mut served: Vec<Map<String, Value>> =
            upstream.list(key, coll).await.iter().map(stored).collect();
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
