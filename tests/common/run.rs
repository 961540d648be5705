//! Runs of the built binary: those that end (`check`, `record`, `generate`),
//! and the lines of a server's output as it starts.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The built sandbox binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_cleverfox-sandbox");

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }

    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The first output line that contains `needle`.
    pub fn line_with(&self, needle: &str) -> String {
        self.all()
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line contains {needle:?} in:\n{}", self.all()))
            .to_string()
    }
}

/// Runs the binary with stdin null and `CLEVERFOX_API_KEY` unset unless
/// `env` sets it; polls it until it exits, killing it past `limit`.
pub fn run_blocking(args: Vec<String>, env: Vec<(String, String)>, limit: Duration) -> Run {
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
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{BIN} {args:?} did not finish within {limit:?}");
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

/// [`run_blocking`] off the runtime (a sandbox in the test keeps serving
/// meanwhile), bounded by `limit` and 15 s more.
pub async fn run_binary(args: Vec<String>, env: Vec<(String, String)>, limit: Duration) -> Run {
    tokio::time::timeout(
        limit + Duration::from_secs(15),
        tokio::task::spawn_blocking(move || run_blocking(args, env, limit)),
    )
    .await
    .expect("the binary run is bounded")
    .expect("the runner thread")
}

/// The lines `r` gives, sent on as they come (a thread reads them).
pub fn lines_of(r: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// A starting server's banner: its lines up to the first `curl` line, which
/// must come within `limit`.
pub fn banner(lines: &std::sync::mpsc::Receiver<String>, limit: Duration) -> Vec<String> {
    let mut banner: Vec<String> = Vec::new();
    let deadline = Instant::now() + limit;
    while !banner.iter().any(|l| l.trim_start().starts_with("curl ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => banner.push(line),
            Err(_) => panic!("no curl line in the banner: {banner:?}"),
        }
    }
    banner
}

/// The JSON a banner's `curl` line answers when pasted into a shell in
/// `cwd` (bounded to 20 s); panics, naming the line, when curl fails.
pub fn paste_curl_line(line: &str, cwd: &std::path::Path) -> serde_json::Value {
    let out = Command::new("sh")
        .current_dir(cwd)
        .args(["-c", &format!("timeout 20 {line} --silent --show-error")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
