//! The built binary as a user runs it: the banner and its curl line, the
//! access log (text and JSON) that never holds a key, and graceful shutdown
//! on SIGTERM (API.md sections 1 and 6).

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// The binary serving the default fixtures on a free port.
struct Running {
    child: Child,
    banner: Vec<String>,
    stderr: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

fn start(extra: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let mut child = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--fixtures"])
        .arg(default_fixtures())
        .arg("--certs")
        .arg(&certs)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let erx = lines_of(child.stderr.take().unwrap());
    let banner = banner(&stdout, STEP);
    Running {
        child,
        banner,
        stderr: erx,
        _dir: dir,
    }
}

impl Running {
    fn curl_line(&self) -> String {
        self.banner
            .iter()
            .find(|l| l.trim_start().starts_with("curl "))
            .unwrap()
            .trim()
            .to_string()
    }

    fn port(&self) -> u16 {
        let line = self
            .banner
            .iter()
            .find(|l| l.contains("https://localhost:"))
            .unwrap();
        let rest = &line[line.find("https://localhost:").unwrap() + 18..];
        rest[..rest.find('/').unwrap()].parse().unwrap()
    }

    fn ca(&self) -> String {
        self.curl_line()
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_string()
    }

    /// Sends SIGTERM and returns the exit status and every log line.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut lines = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            lines.push(l);
        }
        (status, lines)
    }
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("timeout")
        .arg("20")
        .arg("curl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("curl runs");
    let mut body = String::new();
    out.stdout.as_slice().read_to_string(&mut body).unwrap();
    (body, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_banners_curl_line_shows_company_1_as_the_vendor_example() {
    let run = start(&[]);
    let text = run.banner.join("\n");
    for key in [PARTNER1, PARTNER2, NO_PLAN, INACTIVE, ADMIN] {
        assert!(text.contains(key), "banner lists {key}: {text}");
    }
    assert!(text.contains("ca.pem"), "{text}");
    let line = run.curl_line();
    let body = paste_curl_line(&line, &std::env::current_dir().unwrap());
    let example = vendor_example("companies-list.json")["data"][0].clone();
    assert!(
        body["data"].as_array().unwrap().contains(&example),
        "{body}"
    );
    let (status, _) = run.terminate();
    assert!(status.success(), "graceful stop exits 0: {status:?}");
}

#[test]
fn access_log_has_one_line_per_request_and_never_a_key() {
    let run = start(&[]);
    let port = run.port();
    let ca = run.ca();
    let base = format!("https://localhost:{port}");
    let secret_password = "hunter2-password";
    for (user, path) in [
        (format!("{PARTNER1}:{secret_password}"), "/api/companies"),
        (format!("{PARTNER2}:"), "/api/devices/1"),
        ("wrong-key-abcdef:".to_string(), "/api/companies"),
        (format!("{ADMIN}:"), "/api/companies?ApiKey=query-secret"),
    ] {
        let (body, err) = curl(&[
            "--silent",
            "--show-error",
            "--cacert",
            &ca,
            "-u",
            &user,
            &format!("{base}{path}"),
        ]);
        assert!(!body.is_empty(), "{err}");
        assert!(!body.contains("wrong-key-abcdef") && !body.contains(secret_password));
    }
    let (status, lines) = run.terminate();
    assert!(status.success());
    let access: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("cleverfox_sandbox::access"))
        .collect();
    assert_eq!(access.len(), 4, "{lines:#?}");
    assert!(
        access.iter().any(|l| l.contains("status=401")),
        "{access:?}"
    );
    assert!(
        access
            .iter()
            .any(|l| l.contains("status=200") && l.contains("partner=1")),
        "{access:?}"
    );
    for l in &lines {
        for secret in [
            PARTNER1,
            PARTNER2,
            ADMIN,
            "wrong-key-abcdef",
            secret_password,
            "query-secret",
        ] {
            assert!(!l.contains(secret), "log line holds a credential: {l}");
        }
    }
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let run = start(&["--log-format", "json"]);
    let (body, err) = curl(&[
        "--silent",
        "--show-error",
        "--cacert",
        &run.ca(),
        "-u",
        &format!("{PARTNER1}:"),
        &format!("https://localhost:{}/api/companies/1", run.port()),
    ]);
    assert!(body.contains("ABC Company"), "{err}");
    let (_, lines) = run.terminate();
    let mut requests = 0;
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        if v["target"] == "cleverfox_sandbox::access" {
            requests += 1;
            assert_eq!(v["fields"]["status"], 200);
            assert_eq!(v["fields"]["method"], "GET");
            assert_eq!(v["fields"]["path"], "/api/companies/1");
            assert_eq!(v["fields"]["partner"], 1);
            assert!(v["fields"]["duration_ms"].is_number());
        }
    }
    assert_eq!(requests, 1);
}

#[test]
fn a_start_on_broken_fixtures_exits_non_zero_naming_the_problem() {
    let dir = fixtures_with(&[("companies", "[\n  {\"CompanyId\": \"one\"}\n]\n")]);
    let out = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--fixtures"])
        .arg(dir.path())
        .arg("--certs")
        .arg(dir.path().join("certs"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("companies.json:2:4"), "{err}");
    assert!(err.contains("CompanyId"), "{err}");
}

#[test]
fn generate_writes_a_set_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = out.to_str().unwrap();
    let gen_args = [
        "generate",
        "--partners",
        "2",
        "--companies",
        "3",
        "--devices-per-company",
        "2",
        "--jobs-per-device",
        "2",
        "--logs-per-job",
        "3",
        "--seed",
        "5",
        "--out",
        o,
    ];
    let done = run(&gen_args);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("devices=12"));
    let check = run(&["check", "--fixtures", o]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // an existing, non-empty directory is refused
    let again = run(&gen_args);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("error:"));
}
