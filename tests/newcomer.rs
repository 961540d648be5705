//! What a newcomer meets first, following the README on a fresh clone:
//! `--version` and `--help` on every command, the error when the fixtures
//! are not where the sandbox looks, the index at `/` and `/api/`, the
//! banner's counts, the clock's shape and its way back to real time
//! (API.md section 8), and what loading back a snapshot just taken discards.

mod common;

use std::process::{Command, Output};

use clap::CommandFactory;
use cleverfox_sandbox::cli::Cli;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ------------------------------------------------------------ command line

#[test]
fn version_works_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let commands: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in ["serve", "check", "record", "generate", "openapi", "postman"] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
    let mut all = vec![None];
    all.extend(commands.iter().map(Some));
    for sub in all {
        let mut args: Vec<&str> = sub.map(String::as_str).into_iter().collect();
        args.push("--version");
        let out = run(dir.path(), &args);
        assert!(
            out.status.success(),
            "{args:?}: {:?} {}",
            out.status,
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(stdout.contains(VERSION), "{args:?}: {stdout}");
        assert!(
            stdout.starts_with("cleverfox-sandbox"),
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn help_describes_every_option_of_every_command() {
    let top = Cli::command();
    let mut commands = vec![&top];
    commands.extend(top.get_subcommands());
    for cmd in commands {
        assert!(
            cmd.get_about().is_some(),
            "{} has no description",
            cmd.get_name()
        );
        for arg in cmd.get_arguments() {
            let described = arg.get_help().or(arg.get_long_help());
            assert!(
                described.is_some_and(|h| !h.to_string().trim().is_empty()),
                "{} --{}: no description in --help",
                cmd.get_name(),
                arg.get_long().unwrap_or(arg.get_id().as_str())
            );
        }
    }
    // the top help says where the reference is, inside the repository
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success());
    for needle in ["docs/api.md", "docs/control-api.md", "--fixtures"] {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
    // as printed: each of generate's sizing options is followed by words
    let out = run(dir.path(), &["generate", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    let lines: Vec<&str> = help.lines().collect();
    for opt in [
        "--devices-per-company",
        "--jobs-per-device",
        "--logs-per-job",
    ] {
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(opt))
            .unwrap_or_else(|| panic!("{opt} not in: {help}"));
        let same_line = lines[at]
            .split_once('>')
            .map_or("", |(_, rest)| rest.trim());
        let next = lines.get(at + 1).map_or("", |l| l.trim());
        let described = if same_line.is_empty() {
            next
        } else {
            same_line
        };
        assert!(
            described.chars().next().is_some_and(char::is_alphabetic),
            "{opt} undescribed: {help}"
        );
    }
}

#[test]
fn missing_fixtures_name_the_path_and_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let looked = dir.path().canonicalize().unwrap().join("fixtures");
    for args in [
        &[
            "--bind",
            "127.0.0.1:0",
            "--certs",
            "c",
            "--fixtures",
            "fixtures",
        ][..],
        &["check"][..],
        &["check", "--fixtures", "elsewhere.json"][..],
    ] {
        let out = run(dir.path(), args);
        assert!(!out.status.success(), "{args:?} exits non-zero");
        let err = text(&out.stderr);
        let path = if args.contains(&"elsewhere.json") {
            dir.path().canonicalize().unwrap().join("elsewhere.json")
        } else {
            looked.clone()
        };
        assert!(
            err.contains(&path.display().to_string()),
            "{args:?}: names {}: {err}",
            path.display()
        );
        assert!(err.contains("--fixtures"), "{args:?}: {err}");
        assert!(!err.contains(":1:1:"), "no line and column: {err}");
    }
    assert!(
        !dir.path().join("c").exists(),
        "nothing written before the fixtures were found"
    );
}

#[test]
fn the_banner_and_check_count_one_file_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let mut bundle = serde_json::Map::new();
    for entry in std::fs::read_dir(default_fixtures()).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        bundle.insert(name, v);
    }
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, Value::Object(bundle).to_string()).unwrap();

    let out = run(dir.path(), &["check", "--fixtures", "bundle.json"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(stdout.contains("OK (1 file, "), "{stdout}");

    let mut child = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--no-watch", "--fixtures"])
        .arg(&file)
        .arg("--certs")
        .arg(dir.path().join("certs"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + STEP;
    let mut line = None;
    while line.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.trim_start().starts_with("Fixtures:") => line = Some(l),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the banner has a Fixtures line");
    assert!(line.contains("(1 file, "), "{line}");
    assert!(line.ends_with(" records)"), "{line}");
}

// ------------------------------------------------------------ the index

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_answers_an_index_without_a_key() {
    let sb = Sandbox::start().await;
    for client in [sb.client(), sb.client_h2()] {
        let r = sb
            .request(&client, None, Method::GET, "/", None, None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json; charset=utf-8")
        );
        let port = sb.addr.port();
        assert_eq!(
            r.body["api"],
            format!("https://localhost:{port}/api/{{collection}}"),
            "{}",
            r.text
        );
        assert_eq!(
            r.body["openapi"],
            format!("https://localhost:{port}/openapi.json")
        );
        assert_eq!(
            r.body["collections"].as_array().map(Vec::len),
            Some(14),
            "{}",
            r.text
        );
        let docs = r.body["docs"].as_str().unwrap_or_default();
        assert!(docs.contains("docs/api.md") && docs.contains("docs/control-api.md"));
        assert!(
            r.body["control_api"]
                .as_str()
                .is_some_and(|c| c.contains("/_sandbox/health")),
            "{}",
            r.text
        );
        assert_eq!(r.body["version"], VERSION);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_root_is_a_404_that_says_where_the_resources_are() {
    let sb = Sandbox::start().await;
    let client = sb.client();
    for path in ["/api/", "/api"] {
        let r = sb
            .request(&client, Some(PARTNER1), Method::GET, path, None, None)
            .await;
        let errors = refused(&r, 404, &["/api/{collection}", "companies", "docs/api.md"]);
        assert_eq!(errors.len(), 1, "{}", r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json; charset=utf-8")
        );
        // authentication still comes first (order of checks)
        let r = sb
            .request(&client, None, Method::GET, path, None, None)
            .await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
    }
}

// ------------------------------------------------------------ the clock

/// GET /_sandbox/clock, or POST `body` to it.
async fn clock(t: &Client, body: Option<Value>) -> Resp {
    let method = if body.is_some() {
        Method::POST
    } else {
        Method::GET
    };
    t.send(Some(ADMIN), method, "/_sandbox/clock", body.as_ref())
        .await
}

fn real_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_seconds_is_an_integer() {
    let t = Client::start().await;
    let r = clock(&t, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["offset_seconds"].is_i64(), "{}", r.text);
    assert_eq!(r.body["offset_seconds"], 0, "{}", r.text);
    let r = clock(&t, Some(json!({"advance": 90.4}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["offset_seconds"], 90, "{}", r.text);
    let r = clock(&t, Some(json!({"set": "2030-01-01T00:00:00.250"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["offset_seconds"].is_i64(), "{}", r.text);
    assert!(!r.text.contains("offset_seconds\":0.") && !r.text.contains(".0}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_now_returns_the_clock_to_real_time() {
    let t = Client::start().await;
    let r = clock(&t, Some(json!({"set": "2031-05-01T08:00:00.000"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["offset_seconds"].as_i64().unwrap() > 100_000_000);
    let r = clock(&t, Some(json!({"set": "now"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["offset_seconds"], 0, "{}", r.text);
    let now = ms(r.body["now"].as_str().unwrap());
    assert!((now - real_now_ms()).abs() < 5_000, "{}", r.text);
    // a write after it is stamped with the real time
    let w = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("application/json"),
            Some(json!({"PlanTypeId": 1, "Name": "Back in real time"}).to_string()),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let added = ms(w.data()["AddedOn"].as_str().unwrap());
    assert!((added - real_now_ms()).abs() < 5_000, "{}", w.text);
    // other strings are still refused, and say how to go back
    let r = clock(&t, Some(json!({"set": "yesterday"}))).await;
    refused(&r, 422, &["\"now\""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_returns_the_clock_to_real_time() {
    let t = Client::start().await;
    let r = clock(&t, Some(json!({"advance": 86_400}))).await;
    assert_eq!(r.body["offset_seconds"], 86_400, "{}", r.text);
    let r = t
        .request(Some(ADMIN), Method::POST, "/_sandbox/reset", None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = clock(&t, None).await;
    assert_eq!(r.body["offset_seconds"], 0, "{}", r.text);
    let now = ms(r.body["now"].as_str().unwrap());
    assert!((now - real_now_ms()).abs() < 5_000, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reset_leaves_the_clock_alone() {
    let dir = fixtures_with(&[]);
    let t = Client::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let r = clock(&t, Some(json!({"advance": 3600}))).await;
    assert_eq!(r.body["offset_seconds"], 3600, "{}", r.text);
    std::fs::write(dir.path().join("companies.json"), "[{\"CompanyId\": ").unwrap();
    let r = t
        .request(Some(ADMIN), Method::POST, "/_sandbox/reset", None, None)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = clock(&t, None).await;
    assert_eq!(r.body["offset_seconds"], 3600, "{}", r.text);
}

// ------------------------------------------------------------ snapshots

async fn discarded(t: &Client, method: Method, path: &str, body: Option<String>) -> u64 {
    let r = t
        .request(Some(ADMIN), method, path, Some("application/json"), body)
        .await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.body["discarded_api_changes"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", r.text))
}

async fn create_company(t: &Client, name: &str) {
    t.create(
        PARTNER1,
        "companies",
        &json!({"PlanTypeId": 1, "Name": name}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_the_snapshot_just_taken_discards_nothing() {
    let t = Client::start().await;
    create_company(&t, "Before the snapshot A").await;
    create_company(&t, "Before the snapshot B").await;
    let snap = t
        .request(Some(ADMIN), Method::GET, "/_sandbox/snapshot", None, None)
        .await;
    assert_eq!(snap.status, 200);
    let put = |body: String| discarded(&t, Method::PUT, "/_sandbox/snapshot", Some(body));
    assert_eq!(put(snap.text.clone()).await, 0, "the snapshot just taken");
    assert_eq!(put(snap.text.clone()).await, 0, "and again");

    // one change after it: sending it back discards that one
    create_company(&t, "After the snapshot").await;
    assert_eq!(put(snap.text.clone()).await, 1);

    // a bundle the sandbox did not serve: every change since the load counts
    create_company(&t, "Then another").await;
    let edited = snap
        .text
        .replacen("Before the snapshot A", "Edited by hand", 1);
    assert_ne!(edited, snap.text);
    assert_eq!(
        put(edited).await,
        3,
        "the two of the snapshot and one after"
    );

    // reset discards what the loaded state holds beyond the fixtures
    assert_eq!(
        discarded(&t, Method::POST, "/_sandbox/reset", None).await,
        0,
        "a hand-made bundle is a new start"
    );
    create_company(&t, "C").await;
    let snap = t
        .request(Some(ADMIN), Method::GET, "/_sandbox/snapshot", None, None)
        .await;
    assert_eq!(put(snap.text.clone()).await, 0);
    assert_eq!(
        discarded(&t, Method::POST, "/_sandbox/reset", None).await,
        1,
        "the snapshot's change, discarded by the reset"
    );
}
