//! The command line (API.md section 6): `serve` (the default), `check`,
//! `record`, `generate`, `openapi`, `postman` and `fixtures`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::edge::logging;
use crate::edge::server::{self, Limits};
use crate::edge::tls::TlsSettings;
use crate::start::{self, Options};
use crate::store::{Clock, fixtures};

/// A local stand-in for the CleverFox Backup partner API: HTTPS, fixtures,
/// and controls a tester needs.
#[derive(Parser, Debug)]
#[command(
    name = "cleverfox-sandbox",
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    after_help = "fixtures/ and certs/ are relative to the working directory; where there is no \
                  ./fixtures (and no --fixtures), it serves the default fixtures built into it. \
                  The API it serves is described in docs/api.md, the control API under /_sandbox/ \
                  in docs/control-api.md; a running sandbox answers GET / with an index."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, the default command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Validate a fixtures directory or bundle; exits non-zero on any problem.
    Check(CheckArgs),
    /// Print the OpenAPI 3.1 description of the API.
    Openapi,
    /// Record a live CleverFox account into a fixtures directory.
    Record(RecordArgs),
    /// Write a large, valid, deterministic data set for load tests.
    Generate(GenerateArgs),
    /// Write the Postman collection and environment.
    Postman(PostmanArgs),
    /// Write the default fixtures built into the binary into a directory, to edit.
    Fixtures(FixturesArgs),
}

#[derive(Args, Debug, Clone)]
pub struct FixturesArgs {
    /// The directory to write (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// The API's base URL.
    #[arg(long, default_value = "https://cleverfoxbackup.com/api")]
    pub upstream: String,
    /// The partner's API key for the upstream (never written anywhere).
    #[arg(long, env = "CLEVERFOX_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// The fixtures directory to write (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Extra CA certificates (PEM) to trust besides the system's.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Replace names, e-mail addresses, phone numbers, street addresses, folder
    /// paths and file names with consistent fake values.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Partners, each with a Partner Plan key gen-partner-N.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub partners: u32,
    /// Companies of each partner.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub companies: u32,
    /// Devices of each company (on the company's one subscription).
    #[arg(long, default_value_t = 10)]
    pub devices_per_company: u32,
    /// Jobs of each device, each with one to three job items.
    #[arg(long, default_value_t = 3)]
    pub jobs_per_device: u32,
    /// Logs of each job (past runs, each with its log items and event).
    #[arg(long, default_value_t = 5)]
    pub logs_per_job: u32,
    /// The same seed and options give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The directory to write (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct PostmanArgs {
    /// Directory to write cleverfox-sandbox.postman_collection.json and
    /// cleverfox-sandbox.postman_environment.json into.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Fixtures directory, or a bundle file (.json).
    #[arg(long, default_value = "fixtures")]
    pub fixtures: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum MinTls {
    #[value(name = "1.2")]
    V12,
    #[value(name = "1.3")]
    V13,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub bind: SocketAddr,
    /// Fixtures directory, or a bundle file (.json) [default: ./fixtures when
    /// it exists, else the defaults built into the binary].
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Directory of the generated CA and server certificate.
    #[arg(long, default_value = "certs")]
    pub certs: PathBuf,
    /// Extra name for the server certificate (repeatable).
    #[arg(long = "hostname", value_name = "NAME")]
    pub hostnames: Vec<String>,
    /// Lowest TLS version accepted.
    #[arg(long, value_enum, default_value = "1.2")]
    pub min_tls: MinTls,
    /// Serve this certificate chain (PEM) instead of a generated one.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Do not reload fixtures when they change.
    #[arg(long)]
    pub no_watch: bool,
    /// Refuse unknown and read-only attributes (422) instead of ignoring them.
    #[arg(long)]
    pub strict: bool,
    /// Largest request body: bytes, or with KiB / MiB.
    #[arg(long, default_value = "1MiB", value_parser = parse_size)]
    pub max_body: usize,
    /// Delay before a new device's own installer URL appears: 500ms, 5s, 2m.
    #[arg(long, default_value = "60s", value_parser = parse_duration_ms)]
    pub agent_delay: i64,
    /// Request journal entries kept (per session).
    #[arg(long, default_value_t = 1000)]
    pub journal: usize,
    /// Sessions besides `default`, at most; beyond, creation answers 429.
    #[arg(long, default_value_t = 1000)]
    pub max_sessions: usize,
    /// Real time a session may stay unused before it is ended: 30s, 10m, 1h.
    #[arg(long, default_value = "1h", value_parser = parse_positive_duration_ms)]
    pub session_ttl: i64,
    /// Runs one move of the sandbox clock may write; a move past it answers 422.
    #[arg(long, default_value_t = 100_000)]
    pub max_runs_per_advance: u64,
    /// Compat mode of every session at its start: all, or some of
    /// shuffle_attributes,extra_attributes,null_booleans.
    #[arg(long, value_parser = crate::domain::compat::Compat::from_arg)]
    pub compat: Option<crate::domain::compat::Compat>,
    /// Open connections at most.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Log line format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// Parses `65536`, `64KiB`, `1MiB` (also `KB`/`MB`, read as KiB/MiB).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 65536, 64KiB or 1MiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        _ => return Err(format!("'{s}' has an unknown unit; use bytes, KiB or MiB")),
    };
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

/// Parses `500ms`, `5s`, `2m`, `1h` (a bare number is seconds) into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration such as 500ms, 5s or 2m"))?;
    let mult = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("'{s}' has an unknown unit; use ms, s, m or h")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

/// A duration of at least 1 ms (`--session-ttl`).
fn parse_positive_duration_ms(s: &str) -> Result<i64, String> {
    parse_duration_ms(s).and_then(|ms| {
        if ms > 0 {
            Ok(ms)
        } else {
            Err(format!("'{s}' must be longer than 0"))
        }
    })
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Check(args)) => check(&args),
        Some(Command::Openapi) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::tools::openapi::document(
                    crate::tools::openapi::DEFAULT_SERVER
                ))
                .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Some(Command::Postman(args)) => postman(&args),
        Some(Command::Record(args)) => record(&args),
        Some(Command::Generate(args)) => generate(&args),
        Some(Command::Fixtures(args)) => write_fixtures(&args),
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    if !args.fixtures.exists() {
        eprintln!("error: {}", start::missing_fixtures(&args.fixtures));
        return ExitCode::FAILURE;
    }
    match fixtures::load(&args.fixtures, Clock::new().now_ms()) {
        Ok(loaded) => {
            println!(
                "{}: OK ({}, {})",
                args.fixtures.display(),
                start::count(loaded.files, "file"),
                start::count(loaded.records, "record")
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{}: {} problem(s)", args.fixtures.display(), problems.len());
            ExitCode::FAILURE
        }
    }
}

fn record(args: &RecordArgs) -> ExitCode {
    use std::io::IsTerminal;
    let opts = crate::tools::record::RecordOptions {
        upstream: args.upstream.clone(),
        api_key: args.api_key.clone(),
        out: args.out.clone(),
        ca: args.ca.clone(),
        redact: args.redact,
        progress: if std::io::stderr().is_terminal() {
            crate::tools::record::Progress::Terminal
        } else {
            crate::tools::record::Progress::Lines
        },
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let started = std::time::Instant::now();
    match runtime.block_on(crate::tools::record::record(&opts)) {
        Ok(counts) => {
            let total: u64 = counts.iter().map(|(_, n)| n).sum();
            println!(
                "recorded {total} records into {} in {:.1} s{}; serve it with: cleverfox-sandbox --fixtures {}",
                args.out.display(),
                started.elapsed().as_secs_f64(),
                if args.redact { " (redacted)" } else { "" },
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &GenerateArgs) -> ExitCode {
    let opts = crate::tools::generate::GenerateOptions {
        partners: args.partners,
        companies_per_partner: args.companies,
        devices_per_company: args.devices_per_company,
        jobs_per_device: args.jobs_per_device,
        logs_per_job: args.logs_per_job,
        seed: args.seed,
        out: args.out.clone(),
    };
    let started = std::time::Instant::now();
    match crate::tools::generate::generate(&opts) {
        Ok(counts) => {
            let records: u64 = counts
                .iter()
                .filter(|(n, _)| *n != "apikeys")
                .map(|(_, c)| c)
                .sum();
            let list: Vec<String> = counts.iter().map(|(n, c)| format!("{n}={c}")).collect();
            println!(
                "wrote {records} records into {} in {:.1} s: {}",
                args.out.display(),
                started.elapsed().as_secs_f64(),
                list.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn postman(args: &PostmanArgs) -> ExitCode {
    let files = [
        (
            "cleverfox-sandbox.postman_collection.json",
            crate::tools::postman::collection(),
        ),
        (
            "cleverfox-sandbox.postman_environment.json",
            crate::tools::postman::environment(),
        ),
    ];
    for (name, doc) in files {
        let path = args.out.join(name);
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        if let Err(e) =
            std::fs::create_dir_all(&args.out).and_then(|()| std::fs::write(&path, text))
        {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

fn write_fixtures(args: &FixturesArgs) -> ExitCode {
    match fixtures::embedded::write_out(&args.out) {
        Ok(n) => {
            println!(
                "wrote the default fixtures ({}) into {}; serve them with: cleverfox-sandbox --fixtures {}",
                start::count(n, "file"),
                args.out.display(),
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let (log, _flush_at_exit) = logging::init(match args.log_format {
        LogFormat::Text => logging::Format::Text,
        LogFormat::Json => logging::Format::Json,
    });
    let opts = Options {
        bind: args.bind,
        fixtures: start::fixtures_source(args.fixtures.clone()),
        tls: TlsSettings {
            certs_dir: args.certs.clone(),
            hostnames: args.hostnames.clone(),
            tls13_only: args.min_tls == MinTls::V13,
            own_cert: args.tls_cert.clone().zip(args.tls_key.clone()),
        },
        settings: Settings {
            strict: args.strict,
            max_body: args.max_body,
            agent_delay_ms: args.agent_delay,
            journal: args.journal,
            max_sessions: args.max_sessions,
            session_ttl_ms: args.session_ttl,
            max_runs_per_advance: args.max_runs_per_advance,
            compat: args.compat.unwrap_or_default(),
            ..Settings::default()
        },
    };
    let limits = Limits {
        max_connections: args.max_connections as usize,
        ..Limits::default()
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let ready = match start::prepare(&opts).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        print!("{}", start::banner(&ready, &opts));
        ready.app.set_log(log.clone());
        tokio::spawn(logging::report_drops(log));
        if !args.no_watch {
            tokio::spawn(crate::store::watch::run(ready.app.store.clone()));
        }
        tracing::info!(addr = %ready.addr, tls = %ready.tls_note, "serving");
        server::run(
            ready.listener,
            ready.app,
            ready.tls,
            limits,
            shutdown_signal(),
        )
        .await;
        ExitCode::SUCCESS
    })
}

/// The multi-threaded runtime of `serve` and `record`.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            None
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("1 lb").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("5"), Ok(5000));
        assert!(parse_duration_ms("5 days").is_err());
    }

    #[test]
    fn compat_names_its_modes() {
        use crate::domain::compat::Compat;
        let cli = Cli::try_parse_from(["x", "--compat", "all"]).unwrap();
        assert_eq!(cli.serve.compat, Some(Compat::all()));
        let cli =
            Cli::try_parse_from(["x", "--compat", "null_booleans,shuffle_attributes"]).unwrap();
        let c = cli.serve.compat.unwrap();
        assert_eq!(c.header(), "shuffle_attributes, null_booleans");
        assert!(Cli::try_parse_from(["x", "--compat", "everything"]).is_err());
        assert_eq!(Cli::try_parse_from(["x"]).unwrap().serve.compat, None);
    }

    #[test]
    fn serve_is_the_default_and_check_has_its_own_fixtures() {
        let cli = Cli::try_parse_from(["x", "--bind", "127.0.0.1:0", "--min-tls", "1.3"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.min_tls, MinTls::V13);
        let cli = Cli::try_parse_from(["x", "check", "--fixtures", "d"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Check(a)) if a.fixtures == std::path::Path::new("d"))
        );
    }
}
