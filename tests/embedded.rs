//! The default fixtures built into the binary: served from a directory with
//! no `fixtures/` (the banner and health say so, nothing is watched, a reset
//! returns to them), written out by `fixtures --out`, and the same files as
//! the repository's `fixtures/`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use cleverfox_sandbox::store::fixtures;
use common::*;
use serde_json::Value;

/// The binary started in `cwd` with `args`, until its banner's curl line.
struct Running {
    child: Child,
    banner: String,
    port: u16,
    ca: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_in(cwd: &Path, args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .current_dir(cwd)
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let banner = banner(&stdout, STEP).join("\n");
    let rest = &banner[banner.find("https://localhost:").unwrap() + 18..];
    let port = rest[..rest.find('/').unwrap()].parse().unwrap();
    let ca = cwd.join("certs/ca.pem").display().to_string();
    Running {
        child,
        banner,
        port,
        ca,
    }
}

impl Running {
    fn curl_line(&self) -> String {
        self.banner
            .lines()
            .find(|l| l.trim_start().starts_with("curl "))
            .unwrap()
            .trim()
            .to_string()
    }

    /// curl as `key` on `path`, with extra arguments; the JSON answered.
    fn curl(&self, key: &str, path: &str, extra: &[&str]) -> Value {
        let url = format!("https://localhost:{}{path}", self.port);
        let out = Command::new("timeout")
            .args(["20", "curl", "--silent", "--show-error", "--fail"])
            .args(["--cacert", &self.ca, "-u", &format!("{key}:")])
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null())
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{url}: {e}"))
    }
}

#[test]
fn the_embedded_fixtures_are_the_files_of_the_repositorys_fixtures_directory() {
    let dir = default_fixtures();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = fixtures::embedded::FILES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(embedded, on_disk, "every file of fixtures/ is embedded");
    for (name, text) in fixtures::embedded::FILES {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            *text,
            "{name}"
        );
    }
}

#[test]
fn the_embedded_fixtures_load_as_the_directory_does() {
    let from_dir = fixtures::load(&default_fixtures(), 0).expect("fixtures/ loads");
    let embedded = fixtures::load_embedded(0).expect("the embedded fixtures load");
    assert_eq!(embedded.files, from_dir.files);
    assert_eq!(embedded.records, from_dir.records);
    assert_eq!(embedded.state.counts(), from_dir.state.counts());
    assert_eq!(embedded.state.keys.len(), from_dir.state.keys.len());
}

#[test]
fn from_an_empty_directory_the_binary_serves_the_embedded_fixtures() {
    let cwd = tempfile::tempdir().unwrap();
    let run = start_in(cwd.path(), &[]);
    assert!(
        run.banner
            .contains("Fixtures:  embedded defaults (15 files"),
        "{}",
        run.banner
    );
    assert!(run.banner.contains("not watched"), "{}", run.banner);
    assert!(run.banner.contains("fixtures --out DIR"), "{}", run.banner);
    // the banner's curl line, pasted into a shell, answers the companies
    let line = run.curl_line();
    let body = paste_curl_line(&line, cwd.path());
    let example = vendor_example("companies-list.json")["data"][0].clone();
    assert!(
        body["data"].as_array().unwrap().contains(&example),
        "{body}"
    );

    let health = run.curl(ADMIN, "/_sandbox/health", &[]);
    assert_eq!(health["fixtures"], "embedded defaults", "{health}");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["watching"], false, "{health}");
    let before = health["counts"]["companies"].as_u64().unwrap();

    // a reset returns to the embedded fixtures
    run.curl(
        PARTNER1,
        "/api/companies",
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"PlanTypeId": 1, "Name": "Made before the reset"}"#,
        ],
    );
    let counts = run.curl(ADMIN, "/_sandbox/health", &[])["counts"].clone();
    assert_eq!(counts["companies"].as_u64(), Some(before + 1));
    run.curl(ADMIN, "/_sandbox/reset", &["-X", "POST"]);
    let health = run.curl(ADMIN, "/_sandbox/health", &[]);
    assert_eq!(health["counts"]["companies"].as_u64(), Some(before));
    assert_eq!(health["fixtures"], "embedded defaults");
    // nothing but the certificates was written into the directory
    let written: Vec<String> = std::fs::read_dir(cwd.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["certs"]);
}

#[test]
fn a_fixtures_directory_in_the_working_directory_is_served_and_named() {
    let cwd = tempfile::tempdir().unwrap();
    let wrote = Command::new(BIN)
        .current_dir(cwd.path())
        .args(["fixtures", "--out", "fixtures"])
        .output()
        .unwrap();
    assert!(wrote.status.success());
    let run = start_in(cwd.path(), &["--no-watch"]);
    let path = std::fs::canonicalize(cwd.path().join("fixtures")).unwrap();
    assert!(
        run.banner
            .contains(&format!("Fixtures:  {} (15 files", path.display())),
        "{}",
        run.banner
    );
    let health = run.curl(ADMIN, "/_sandbox/health", &[]);
    assert_eq!(health["fixtures"], "fixtures", "{health}");
}

#[test]
fn fixtures_out_writes_the_defaults_that_check_accepts_and_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("my-fixtures");
    let out_s = out.display().to_string();
    let wrote = run_blocking(
        vec!["fixtures".into(), "--out".into(), out_s.clone()],
        vec![],
        STEP,
    );
    assert!(wrote.ok(), "{}", wrote.describe());
    assert!(wrote.stdout.contains("15 files"), "{}", wrote.describe());
    for (name, text) in fixtures::embedded::FILES {
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), *text);
    }
    let check = run_blocking(
        vec!["check".into(), "--fixtures".into(), out_s.clone()],
        vec![],
        STEP,
    );
    assert!(check.ok(), "{}", check.describe());

    // again into the same (now non-empty) directory: refused, nothing changed
    std::fs::write(out.join("companies.json"), "[]").unwrap();
    let again = run_blocking(
        vec!["fixtures".into(), "--out".into(), out_s.clone()],
        vec![],
        STEP,
    );
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again.stderr.contains("exists and is not empty"),
        "{}",
        again.describe()
    );
    assert!(again.stderr.contains(&out_s), "{}", again.describe());
    assert_eq!(
        std::fs::read_to_string(out.join("companies.json")).unwrap(),
        "[]"
    );

    // an empty directory is fine
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let wrote = run_blocking(
        vec![
            "fixtures".into(),
            "--out".into(),
            empty.display().to_string(),
        ],
        vec![],
        STEP,
    );
    assert!(wrote.ok(), "{}", wrote.describe());
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 15);
}
