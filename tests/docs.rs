//! The project's own documentation kept true: docs/api.md names every
//! resource, attribute and command-line option; docs/control-api.md lists
//! exactly the control endpoints the router knows; README.md and docs/ send
//! no reader outside the repository; and the shell examples of the control
//! API (docs/control-api.md, and the README's "The control API" section)
//! work pasted in order against a freshly started sandbox.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::CommandFactory;
use cleverfox_sandbox::cli::Cli;
use cleverfox_sandbox::domain::schema::{Kind, Res};
use common::*;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text from the heading `heading` (a whole line) to the next heading of
/// the same or a higher level.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = doc
        .lines()
        .scan(0, |at, l| {
            let here = *at;
            *at += l.len() + 1;
            Some((here, l))
        })
        .find(|(_, l)| *l == heading)
        .map(|(at, _)| at)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let body = &doc[start + heading.len()..];
    let end = body
        .lines()
        .scan(0, |at, l| {
            let here = *at;
            *at += l.len() + 1;
            Some((here, l))
        })
        .skip(1)
        .find(|(_, l)| {
            let n = l.chars().take_while(|&c| c == '#').count();
            n > 0 && n <= level && l[n..].starts_with(' ')
        })
        .map_or(body.len(), |(at, _)| at);
    &body[..end]
}

#[test]
fn api_md_names_every_resource_and_attribute() {
    let doc = read("docs/api.md");
    for res in Res::ALL {
        // Markdown wraps lines anywhere: compare with whitespace collapsed
        let text = section(&doc, &format!("### {}", res.name()))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let def = res.def();
        for a in def.attrs {
            assert!(
                text.contains(&format!("`{}`", a.name)),
                "docs/api.md, ### {}: {} is not described",
                res.name(),
                a.name
            );
            if let Kind::Obj { res: target, .. } = a.kind {
                assert!(
                    text.contains(&format!("`{}` → {}", a.name, target.name())),
                    "docs/api.md, ### {}: {} should say it embeds {}",
                    res.name(),
                    a.name,
                    target.name()
                );
            }
        }
        let key = def.attrs[0].name;
        assert!(
            doc.contains(&format!("| {} | {key} |", res.name())),
            "docs/api.md: the collections table lacks {}",
            res.name()
        );
    }
}

#[test]
fn api_md_describes_every_command_line_option() {
    let doc = read("docs/api.md");
    let text = section(&doc, "## Command line");
    let top = Cli::command();
    let mut commands = vec![&top];
    commands.extend(top.get_subcommands());
    for cmd in commands {
        if cmd.get_name() != "cleverfox-sandbox" {
            assert!(
                text.contains(&format!("`cleverfox-sandbox {}", cmd.get_name()))
                    || cmd.get_name() == "serve"
                    || cmd.get_name() == "help",
                "docs/api.md does not describe the {} command",
                cmd.get_name()
            );
        }
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                if long == "help" || long == "version" {
                    continue;
                }
                assert!(
                    text.contains(&format!("--{long}")),
                    "docs/api.md does not describe {} --{long}",
                    cmd.get_name()
                );
            }
        }
    }
}

#[test]
fn control_api_md_lists_exactly_the_routed_endpoints() {
    let doc = read("docs/control-api.md");
    let mut documented = Vec::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 && cells[1].starts_with("`/_sandbox/") {
            let path = cells[1].trim_matches('`').to_string();
            let methods: Vec<String> = cells[2].split(',').map(|m| m.trim().to_string()).collect();
            documented.push((path, methods));
        }
    }
    let routed: Vec<(String, Vec<String>)> = cleverfox_sandbox::domain::control::ENDPOINTS
        .iter()
        .map(|(p, m)| (p.to_string(), m.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(documented, routed, "docs/control-api.md's endpoint table");
    for (path, methods) in &routed {
        for m in methods {
            assert!(
                doc.contains(&format!("`{m} {path}")),
                "docs/control-api.md does not describe {m} {path}"
            );
        }
    }
}

#[test]
fn readme_and_docs_stay_inside_the_repository() {
    for rel in ["README.md", "docs/api.md", "docs/control-api.md"] {
        let doc = read(rel);
        assert!(!doc.contains("shared/"), "{rel} mentions shared/");
        assert!(!doc.contains("API.md"), "{rel} mentions API.md");
        let dir = repo().join(rel).parent().unwrap().to_path_buf();
        for (i, _) in doc.match_indices("](") {
            let target = &doc[i + 2..];
            let target = &target[..target.find(')').unwrap()];
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let path = dir.join(file).canonicalize().unwrap_or_else(|e| {
                panic!("{rel}: link {target} names nothing: {e}");
            });
            assert!(
                path.starts_with(repo().canonicalize().unwrap()),
                "{rel}: link {target} leaves the repository"
            );
        }
    }
    for entry in std::fs::read_dir(repo().join("scripts")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("../shared"),
            "{} mentions ../shared",
            p.display()
        );
    }
}

// ------------------------------------------------------------ the examples

/// The `sh` code blocks of `text`, in order.
fn sh_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match current.as_mut() {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.push(current.take().unwrap()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
        }
    }
    blocks
}

/// A running sandbox binary, stopped when dropped (a failing test included).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary in a fresh directory holding a copy of the default
/// fixtures (as a checkout does), on a free port; returns it and the port.
fn start_in(dir: &Path) -> (Server, u16) {
    let fixtures = dir.join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    for entry in std::fs::read_dir(default_fixtures()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, fixtures.join(p.file_name().unwrap())).unwrap();
    }
    let mut server = Server(
        Command::new(BIN)
            .args(["--bind", "127.0.0.1:0", "--no-watch"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = server.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the banner names the API URL");
        if let Some(rest) = line.trim().strip_prefix("API:") {
            let port = rest
                .trim()
                .strip_prefix("https://localhost:")
                .and_then(|r| r.split('/').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("banner: {line}"));
            return (server, port);
        }
    }
}

/// Runs `blocks` as one bash script (`set -euo pipefail`) against a fresh
/// sandbox, the way a reader pastes them: only the port and `cargo run
/// --release --` (the built binary) are substituted. Returns stdout.
fn run_examples(name: &str, blocks: &[String]) -> String {
    assert!(blocks.len() >= 3, "{name}: {blocks:?}");
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = start_in(dir.path());
    let script = format!("set -euo pipefail\n{}", blocks.join("\n"))
        .replace(
            "https://localhost:8443",
            &format!("https://localhost:{port}"),
        )
        .replace("cargo run --release --", BIN);
    let out = Command::new("timeout")
        .args(["120", "bash", "-c", &script])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: the examples failed ({:?}):\n--- script\n{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn check_fault_and_clock_output(name: &str, stdout: &str) {
    assert!(
        stdout.contains("503\n503\n200\n"),
        "{name}: the 503 rule answered twice, then the request was served: {stdout}"
    );
    let ahead = stdout
        .find("\"offset_seconds\":3600,\"runs\":0}")
        .unwrap_or_else(|| panic!("{name}: the clock advanced by an hour: {stdout}"));
    assert!(
        stdout[ahead..].contains("\"offset_seconds\":0,\"runs\":0}"),
        "{name}: the clock came back to real time: {stdout}"
    );
    assert!(
        stdout.contains("\"discarded_api_changes\":0"),
        "{name}: the snapshot just taken discards nothing: {stdout}"
    );
    assert!(
        stdout.contains("state.json: OK (1 file, "),
        "{name}: {stdout}"
    );
}

#[test]
fn control_api_md_examples_work_in_order() {
    let doc = read("docs/control-api.md");
    let stdout = run_examples("docs/control-api.md", &sh_blocks(&doc));
    check_fault_and_clock_output("docs/control-api.md", &stdout);
}

#[test]
fn readme_control_api_examples_work_in_order() {
    let doc = read("README.md");
    let blocks = sh_blocks(section(&doc, "## The control API"));
    let stdout = run_examples("README.md", &blocks);
    check_fault_and_clock_output("README.md", &stdout);
}
