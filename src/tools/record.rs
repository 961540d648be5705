//! `record`: crawl a live CleverFox API into a fixtures directory the sandbox
//! loads as is (API.md section 9). Every collection is read page by page
//! (`PageSize` [`MAX_PAGE_SIZE`], until a short page) and written in ascending id order,
//! embedded objects and child arrays dropped, with a newly generated sandbox
//! key in apikeys.json (never the upstream key). Pages are spooled to disk,
//! so memory stays bounded by a page whatever the account's size. The result
//! is checked like `check` does, in a temporary directory renamed into place
//! only when it is complete: a failure never leaves a half-written directory.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::domain::build::RecordBuilder;
use crate::domain::engine::MAX_PAGE_SIZE;
use crate::domain::render::write_stored;
use crate::domain::rules::new_api_key;
use crate::domain::schema::{Redact, Res, ResourceInfo};
use crate::domain::validate::json_value;
use crate::domain::value::ArcStr;
use crate::store::fixtures;

/// What to record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The API's base URL, such as `https://cleverfoxbackup.com/api`.
    pub upstream: String,
    pub api_key: String,
    pub out: PathBuf,
    /// Extra CA certificates (PEM) to trust besides the system's.
    pub ca: Option<PathBuf>,
    pub redact: bool,
    /// Report progress (stderr): a line that redraws itself on a terminal,
    /// one line per collection otherwise.
    pub progress: Progress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Terminal,
    Lines,
    Quiet,
}

/// Records per collection, in the order recorded.
pub type Counts = Vec<(&'static str, u64)>;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot reach the upstream {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("TLS with the upstream {url} failed: {detail} (use --ca FILE to trust a private CA)")]
    Tls { url: String, detail: String },
    #[error("the upstream refused the API key ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the upstream does not answer like the CleverFox API: {0}")]
    NotTheApi(String),
    #[error("the upstream kept failing on {url}: {detail}")]
    GaveUp { url: String, detail: String },
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("{0}")]
    Setup(String),
    #[error("the recording does not pass the fixture checks ({} problems):\n{}", .0.len(),
        .0.iter().take(20).map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<fixtures::Problem>),
}

fn output(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |e| RecordError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Records the account into `opts.out`.
pub async fn record(opts: &RecordOptions) -> Result<Counts, RecordError> {
    let refuse = |message: &str| RecordError::Output {
        path: opts.out.clone(),
        message: message.into(),
    };
    if opts.out.exists() && !opts.out.is_dir() {
        return Err(refuse(
            "exists and is not a directory: choose another --out",
        ));
    }
    if std::fs::read_dir(&opts.out).is_ok_and(|mut d| d.next().is_some()) {
        return Err(refuse(
            "exists and is not empty: choose another --out or remove it",
        ));
    }
    let client = client(opts)?;
    let parent = opts
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    // the directories this run makes, to take away again on failure
    let made: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .map(Path::to_path_buf)
        .collect();
    let name = opts
        .out
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("recording");
    let tmp = parent.join(format!(".{name}.recording-{}", std::process::id()));
    let result = async {
        std::fs::create_dir_all(&parent).map_err(output(&parent))?;
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(output(&tmp))?;
        let counts = record_into(opts, &client, &tmp).await?;
        if opts.out.is_dir() {
            std::fs::remove_dir(&opts.out).map_err(output(&opts.out))?; // empty, checked above
        }
        std::fs::rename(&tmp, &opts.out).map_err(output(&opts.out))?;
        Ok(counts)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        for dir in &made {
            let _ = std::fs::remove_dir(dir); // only when still empty
        }
    }
    result
}

fn client(opts: &RecordOptions) -> Result<reqwest::Client, RecordError> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(120))
        .connect_timeout(Duration::from_secs(20))
        .user_agent(concat!(
            "cleverfox-sandbox-record/",
            env!("CARGO_PKG_VERSION")
        ));
    if let Some(ca) = &opts.ca {
        let pem = std::fs::read(ca)
            .map_err(|e| RecordError::Setup(format!("--ca {}: {e}", ca.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            RecordError::Setup(format!("--ca {}: not PEM certificates: {e}", ca.display()))
        })?;
        if certs.is_empty() {
            return Err(RecordError::Setup(format!(
                "--ca {}: no certificate in the file",
                ca.display()
            )));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build()
        .map_err(|e| RecordError::Setup(format!("cannot build the HTTPS client: {e}")))
}

async fn record_into(
    opts: &RecordOptions,
    client: &reqwest::Client,
    dir: &Path,
) -> Result<Counts, RecordError> {
    let redactor = opts.redact.then(Redactor::new);
    let mut counts = Vec::new();
    let mut partner = None;
    let mut dropped = 0u64;
    for res in Res::ALL {
        let got = record_collection(opts, client, dir, res, redactor.as_ref()).await?;
        dropped += got.dropped;
        if res == Res::Partners {
            partner = got.first_id;
        }
        counts.push((res.name(), got.count));
    }
    if dropped > 0 && opts.progress != Progress::Quiet {
        eprintln!("note: {dropped} attribute values the sandbox does not know were left out");
    }
    let partner = partner
        .ok_or_else(|| RecordError::NotTheApi("partners listed no partner for the key".into()))?;
    write_keys(dir, partner)?;
    let dir_owned = dir.to_path_buf();
    tokio::task::spawn_blocking(move || fixtures::load(&dir_owned, 0).map(|_| ()))
        .await
        .map_err(|e| RecordError::Setup(e.to_string()))?
        .map_err(RecordError::Problems)?;
    Ok(counts)
}

/// What recording one collection gave.
struct Recorded {
    count: u64,
    /// Attribute values left out because the sandbox does not know them.
    dropped: u64,
    /// The id of the first record of the last page (for partners: the key's partner).
    first_id: Option<i64>,
}

/// Reads one collection page by page into a spool, then writes its file in
/// ascending id order.
async fn record_collection(
    opts: &RecordOptions,
    client: &reqwest::Client,
    dir: &Path,
    res: Res,
    redactor: Option<&Redactor>,
) -> Result<Recorded, RecordError> {
    let base = opts.upstream.trim_end_matches('/');
    let info = res.info();
    let path = dir.join(format!("{}.json", res.name()));
    let spool_path = dir.join(format!(".{}.spool", res.name()));
    let mut spool = File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&spool_path)
        .map_err(output(&spool_path))?;
    // (offset, length) of each page's records, in the order received
    let mut pages: Vec<(u64, u64)> = Vec::new();
    let mut got = Recorded {
        count: 0,
        dropped: 0,
        first_id: None,
    };
    let mut last_first_id = None;
    for page_no in 1u64.. {
        let url = format!(
            "{base}/{}?PageNo={page_no}&PageSize={MAX_PAGE_SIZE}",
            res.name()
        );
        let body = fetch(client, &url, &opts.api_key).await?;
        let (records, page_size) = page(&body, &url, info)?;
        let first = records
            .first()
            .and_then(|r| r.get(info.key_name()))
            .and_then(Value::as_i64);
        if first.is_some() && first == last_first_id {
            return Err(RecordError::NotTheApi(format!(
                "{url} answered the same page again: paging is ignored"
            )));
        }
        last_first_id = first;
        let start = spool.stream_position().map_err(output(&spool_path))?;
        // a page comes in descending id order: spool it ascending
        for rec in records.iter().rev() {
            let (line, unknown) = fixture_record(info, rec, redactor, &url)?;
            got.dropped += unknown;
            spool.write_all(&line).map_err(output(&spool_path))?;
            spool.write_all(b"\n").map_err(output(&spool_path))?;
        }
        let end = spool.stream_position().map_err(output(&spool_path))?;
        pages.push((start, end - start));
        got.count += records.len() as u64;
        if first.is_some() {
            got.first_id = first;
        }
        report(opts.progress, res.name(), got.count, page_no, false);
        if (records.len() as u64) < page_size {
            break;
        }
    }
    report(
        opts.progress,
        res.name(),
        got.count,
        pages.len() as u64,
        true,
    );
    write_collection(&mut spool, &pages, &path)?;
    drop(spool);
    std::fs::remove_file(&spool_path).map_err(output(&spool_path))?;
    Ok(got)
}

/// apikeys.json: a new partner key for the recorded partner and an admin
/// key (never the upstream key).
fn write_keys(dir: &Path, partner: i64) -> Result<(), RecordError> {
    let keys = serde_json::json!([
        { "ApiKey": format!("rec-{}", new_api_key()), "PartnerId": partner, "PartnerPlan": true },
        { "ApiKey": format!("rec-admin-{}", new_api_key()), "Admin": true },
    ]);
    let keys_path = dir.join("apikeys.json");
    std::fs::write(
        &keys_path,
        serde_json::to_string_pretty(&keys).unwrap_or_default() + "\n",
    )
    .map_err(output(&keys_path))?;
    Ok(())
}

fn report(progress: Progress, name: &str, count: u64, pages: u64, done: bool) {
    match (progress, done) {
        (Progress::Terminal, false) => eprint!("\r\x1b[2K{name}: {count} records ({pages} pages)"),
        (Progress::Terminal, true) => eprintln!("\r\x1b[2K{name}: {count} records ({pages} pages)"),
        (Progress::Lines, true) => eprintln!("{name}: {count} records ({pages} pages)"),
        _ => {}
    }
}

/// Writes the spooled pages in reverse order: the collection ascending.
fn write_collection(
    spool: &mut File,
    pages: &[(u64, u64)],
    path: &Path,
) -> Result<(), RecordError> {
    let mut out = BufWriter::new(File::create(path).map_err(output(path))?);
    out.write_all(b"[").map_err(output(path))?;
    let mut first = true;
    let mut buf = Vec::new();
    for &(offset, len) in pages.iter().rev() {
        buf.resize(len as usize, 0);
        spool.seek(SeekFrom::Start(offset)).map_err(output(path))?;
        spool.read_exact(&mut buf).map_err(output(path))?;
        for line in buf.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            out.write_all(if first { b"\n" } else { b",\n" })
                .map_err(output(path))?;
            out.write_all(line).map_err(output(path))?;
            first = false;
        }
    }
    out.write_all(b"\n]\n").map_err(output(path))?;
    out.flush().map_err(output(path))
}

/// GET with retries: 429 (honouring Retry-After) and 5xx with exponential
/// backoff; connection failures twice more; 401/403 end the recording.
async fn fetch(client: &reqwest::Client, url: &str, key: &str) -> Result<Value, RecordError> {
    const ATTEMPTS: u32 = 8;
    let mut backoff = Duration::from_millis(250);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let sent = client.get(url).basic_auth(key, Some("")).send().await;
        let wait = match sent {
            Err(e) => {
                let detail = error_chain(&e);
                let tls = ["certificate", "tls", "handshake", "UnknownIssuer"]
                    .iter()
                    .any(|w| {
                        detail
                            .to_ascii_lowercase()
                            .contains(&w.to_ascii_lowercase())
                    });
                if tls {
                    return Err(RecordError::Tls {
                        url: url.into(),
                        detail,
                    });
                }
                if attempt >= 3 {
                    return Err(RecordError::Unreachable {
                        url: url.into(),
                        detail,
                    });
                }
                last = detail;
                backoff
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let retry_after = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let text = r.text().await.unwrap_or_default();
                match status {
                    200 => {
                        return serde_json::from_str(&text).map_err(|_| {
                            RecordError::NotTheApi(format!(
                                "{url} answered 200 with something that is not JSON"
                            ))
                        });
                    }
                    401 | 403 => {
                        return Err(RecordError::Refused {
                            status,
                            message: error_message(&text),
                        });
                    }
                    429 => {
                        last = format!("429 {}", error_message(&text));
                        retry_after.map_or(backoff, |s| Duration::from_secs(s.min(120)))
                    }
                    500..=599 => {
                        last = format!("{status} {}", error_message(&text));
                        backoff
                    }
                    _ => {
                        return Err(RecordError::NotTheApi(format!(
                            "{url} answered {status}: {}",
                            error_message(&text)
                        )));
                    }
                }
            }
        };
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
    Err(RecordError::GaveUp {
        url: url.into(),
        detail: last,
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// The sentences of an `{"errors": [...]}` body, or the start of the text.
fn error_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        .map(|errs| {
            errs.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

/// The records and page size of a List response.
fn page(
    body: &Value,
    url: &str,
    info: &ResourceInfo,
) -> Result<(Vec<Map<String, Value>>, u64), RecordError> {
    let not_api = |what: &str| RecordError::NotTheApi(format!("{url}: {what}"));
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| not_api("no \"data\" array in the answer"))?;
    let page_size = body
        .get("page_size")
        .and_then(Value::as_u64)
        .filter(|&n| n > 0)
        .ok_or_else(|| not_api("no \"page_size\" in the answer"))?;
    let mut records = Vec::with_capacity(data.len());
    for r in data {
        let m = r
            .as_object()
            .ok_or_else(|| not_api("a record is not an object"))?;
        if m.get(info.key_name()).and_then(Value::as_i64).is_none() {
            return Err(not_api(&format!("a record has no {}", info.key_name())));
        }
        records.push(m.clone());
    }
    Ok((records, page_size))
}

/// One record as a fixture line: the stored attributes in table order
/// (embedded objects, child arrays and unknown attributes left out),
/// redacted when asked, each converted by its attribute's type as the
/// fixture loader converts it. Also returns how many unknown attributes were
/// left out. A value the attribute's type refuses means the upstream does
/// not answer like the API.
fn fixture_record(
    info: &'static ResourceInfo,
    rec: &Map<String, Value>,
    redactor: Option<&Redactor>,
    url: &str,
) -> Result<(Vec<u8>, u64), RecordError> {
    let mut b = RecordBuilder::new(info.res());
    for (_, a) in info.stored() {
        let v = rec.get(a.name).unwrap_or(&Value::Null);
        let redacted = match (redactor, a.redact, v) {
            (Some(r), Some(kind), Value::String(s)) => Some(r.redact(kind, s)),
            _ => None,
        };
        let val = json_value(a, redacted.as_ref().unwrap_or(v), &mut |s| ArcStr::from(s)).map_err(
            |m| {
                let id = rec.get(info.key_name()).unwrap_or(&Value::Null);
                RecordError::NotTheApi(format!("{url}: {} {id}: {} {m}", info.key_name(), a.name))
            },
        )?;
        b.set(a.name, val);
    }
    let mut line = Vec::with_capacity(512);
    write_stored(&mut line, info, b.vals());
    let unknown = rec.keys().filter(|k| info.attr(k).is_none()).count() as u64;
    Ok((line, unknown))
}

/// Consistent fake values: a keyed hash of (kind, value), with a key made
/// for this recording, picks the fake; the same input gives the same output
/// throughout the recording, and nothing links it to the original.
pub struct Redactor {
    keys: RandomState,
}

const WORDS: &[&str] = &[
    "Alder", "Birch", "Cedar", "Dune", "Elm", "Fjord", "Glen", "Heath", "Isle", "Juniper", "Knoll",
    "Larch", "Maple", "North", "Oak", "Pine", "Quarry", "Ridge", "Spruce", "Thorn", "Upland",
    "Vale", "Willow", "Yew",
];
const SUFFIXES: &[&str] = &["Ltd", "LLC", "Inc.", "GmbH", "BV", "AB", "Group", "& Co."];
const FIRST: &[&str] = &[
    "Alex", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Indy", "Jules", "Kai",
    "Lee", "Morgan", "Noel", "Parker", "Quinn", "Reese", "Sage", "Taylor", "Val",
];
const LAST: &[&str] = &[
    "Archer", "Baker", "Carter", "Dale", "Ellis", "Fisher", "Gray", "Hayes", "Irwin", "Jones",
    "Keller", "Lane", "Mason", "Nash", "Owens", "Price", "Reed", "Stone", "Tate", "West",
];

impl Redactor {
    pub fn new() -> Redactor {
        Redactor {
            keys: RandomState::new(),
        }
    }

    fn hash(&self, kind: Redact, s: &str) -> u64 {
        self.keys.hash_one((kind as u8, s))
    }

    /// The fake for one value.
    pub fn redact(&self, kind: Redact, s: &str) -> Value {
        let h = self.hash(kind, s);
        let pick =
            |list: &[&'static str], salt: u64| list[((h >> salt) % list.len() as u64) as usize];
        let text = match kind {
            Redact::Drop => return Value::Null,
            Redact::Organisation => format!(
                "{} {} {}",
                pick(WORDS, 0),
                pick(WORDS, 8),
                pick(SUFFIXES, 16)
            ),
            Redact::FirstName => pick(FIRST, 0).to_string(),
            Redact::LastName => pick(LAST, 0).to_string(),
            Redact::Email => format!("user-{:08x}@example.com", h as u32),
            Redact::EmailList => {
                let mut out = String::new();
                let mut item = String::new();
                for c in s.chars() {
                    if matches!(c, ',' | ';' | ':' | '\r' | '\n') {
                        out.push_str(&self.list_item(&item));
                        item.clear();
                        out.push(c);
                    } else {
                        item.push(c);
                    }
                }
                out.push_str(&self.list_item(&item));
                out
            }
            Redact::Phone => format!("+1 555 {:03} {:04}", h % 900 + 100, (h >> 16) % 10_000),
            Redact::Street => format!("{} {} Street", h % 9000 + 100, pick(WORDS, 16)),
            Redact::City => format!("{}ton", pick(WORDS, 0)),
            Redact::PostalCode => format!("{:05}", h % 100_000),
            Redact::Reference => format!("REF-{:08X}", h as u32),
            Redact::Host => format!("HOST-{:06X}", h & 0xFF_FFFF),
            Redact::Label => format!("item_{:06x}", h & 0xFF_FFFF),
            Redact::JobName => format!("Backup job {:06x}", h & 0xFF_FFFF),
            Redact::Message => format!("(message redacted: {:08x})", h as u32),
            Redact::Folder => s
                .split("\r\n")
                .map(|p| {
                    let drive = p
                        .get(..3)
                        .filter(|d| d.as_bytes()[1] == b':' && d.ends_with('\\'));
                    format!(
                        "{}Redacted\\{:08x}",
                        drive.unwrap_or("C:\\"),
                        self.hash(kind, p) as u32
                    )
                })
                .collect::<Vec<_>>()
                .join("\r\n"),
            Redact::FileName => {
                let ext = s
                    .rsplit_once('.')
                    .map(|(_, e)| e)
                    .filter(|e| e.len() <= 8)
                    .unwrap_or("dat");
                format!("file-{:08x}.{ext}", h as u32)
            }
            Redact::DeviceKey => self.device_key(s),
            Redact::KeyUrl => replace_keys(s, |k| self.device_key(k)),
        };
        Value::String(text)
    }

    fn list_item(&self, item: &str) -> String {
        let trimmed = item.trim();
        if trimmed.is_empty() {
            return item.to_string();
        }
        match self.redact(Redact::Email, trimmed) {
            Value::String(s) => s,
            _ => String::new(),
        }
    }

    /// A device's new ApiKey: 32 lowercase hex digits.
    fn device_key(&self, key: &str) -> String {
        let (a, b) = (
            self.hash(Redact::DeviceKey, key),
            self.hash(Redact::KeyUrl, key),
        );
        format!("{a:016x}{b:016x}")
    }
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::new()
    }
}

/// Replaces every run of exactly 32 hex digits (a device key) in `s`.
fn replace_keys(s: &str, mut f: impl FnMut(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if run == 32 {
            out.push_str(&f(&s[i..i + 32]));
            i += 32;
        } else if run > 0 {
            out.push_str(&s[i..i + run]);
            i += run;
        } else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_is_consistent_and_keeps_shapes() {
        let r = Redactor::new();
        let a = r.redact(Redact::Email, "frank@abc.example.com");
        assert_eq!(a, r.redact(Redact::Email, "frank@abc.example.com"));
        assert_ne!(a, r.redact(Redact::Email, "grace@abc.example.com"));
        let list = r
            .redact(
                Redact::EmailList,
                "frank@abc.example.com; it@abc.example.com",
            )
            .to_string();
        assert!(
            list.contains(a.as_str().unwrap()) && list.contains(';'),
            "{list}"
        );
        let folder = r.redact(Redact::Folder, "D:\\Shares\\Finance\r\nE:\\Data");
        let f = folder.as_str().unwrap();
        assert!(
            f.starts_with("D:\\Redacted\\") && f.contains("\r\nE:\\Redacted\\"),
            "{f}"
        );
        assert_eq!(
            r.redact(Redact::FileName, "12_20260101.bak")
                .as_str()
                .unwrap()
                .rsplit('.')
                .next(),
            Some("bak")
        );
        let key = "eca9bad1449e78e4f15ce760f3e452f2";
        let new_key = r.redact(Redact::DeviceKey, key);
        let url = r.redact(
            Redact::KeyUrl,
            &format!("https://cleverfoxbackup.com/download/{key}/Setup.exe"),
        );
        assert!(url.as_str().unwrap().contains(new_key.as_str().unwrap()));
        assert!(!url.as_str().unwrap().contains(key));
        assert_eq!(r.redact(Redact::Drop, "token"), Value::Null);
    }

    #[test]
    fn a_fixture_line_holds_the_stored_attributes_converted_by_type() {
        let info = Res::BackupTypes.info();
        let rec = serde_json::json!({
            "BackupTypeId": 1, "Name": "File", "EngineId": "FILE", "Extra": 1,
            "IsInactive": false
        });
        let rec = rec.as_object().unwrap();
        let (line, unknown) = fixture_record(info, rec, None, "u").unwrap();
        let line: Map<String, Value> = serde_json::from_slice(&line).unwrap();
        assert!(info.stored().all(|(_, a)| line.contains_key(a.name)));
        assert_eq!(line.len(), info.slots.len(), "{line:?}");
        assert_eq!(line["Name"], "File");
        assert_eq!(unknown, 1);
        let mut bad = rec.clone();
        bad.insert("BackupTypeId".into(), Value::from("one"));
        let err = fixture_record(info, &bad, None, "u")
            .unwrap_err()
            .to_string();
        assert!(err.contains("BackupTypeId must be an integer"), "{err}");
    }
}
