//! `cleverfox-sandbox generate` (API.md section 9): a large, valid,
//! deterministic fixtures directory for load tests: all fourteen collections
//! with consistent references, plus `apikeys.json`.
//!
//! How it works:
//!
//! * **Streaming.** Partners come first, then companies one at a time, depth
//!   first: the company, its users, its subscription, its devices, their jobs,
//!   job items, logs and log items, and the events naming them. Every record is
//!   formatted and written to its collection's `BufWriter` as it is made; the
//!   only working state is the current job's few job items, so memory does not
//!   grow with the size of the set. Ids ascend from 1 because every collection
//!   is only ever appended to.
//! * **The domain's own tools.** Records are filled with the checked record
//!   builder (`domain::build`), checked with the validator's rules and written
//!   with the renderer's JSON (`writer`); run outcomes are
//!   `domain::simulate::Outcome`, event types those of the resource tables, and
//!   the reference data (plan types, plans, backup types) that of the default
//!   fixtures (`reference`). So a generator bug is an error, never a fixture
//!   that `check` refuses.
//! * **Deterministic.** No clock, no hash-map order, no system time zone data:
//!   values come from splitmix64 streams seeded from (seed, what, id) (`rng`),
//!   local times from jiff's bundled time zone database, and the data set
//!   describes a fixed moment, `calendar::NOW`.
//! * **Safe output.** `out` must not exist or be empty; on any error the files
//!   written so far (and the directory, when it was created here) are removed.
//!
//! The parts: `vocabulary`, `names` and `locales` (the words and places
//! records are made of), `naming` (names, addresses and people made from
//! them), `rng`, `calendar` and `schedule` (chance and time), `reference`,
//! `partners`, `companies`, `devices`, `jobs`, `items` and `logs` (one step
//! of the walk each), and `writer` (the collection files).

mod calendar;
mod companies;
mod devices;
mod items;
mod jobs;
mod locales;
mod logs;
mod names;
mod naming;
mod partners;
mod reference;
mod rng;
mod schedule;
mod vocabulary;
mod writer;

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::domain::schema::Res;
use calendar::Zones;
use items::Item;
use reference::Reference;
use writer::Outs;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Partners with a Partner Plan key (>= 1).
    pub partners: u32,
    /// Companies of each partner (>= 1).
    pub companies_per_partner: u32,
    pub devices_per_company: u32,
    pub jobs_per_device: u32,
    pub logs_per_job: u32,
    pub seed: u64,
    /// The directory to create; it must not exist or be empty.
    pub out: PathBuf,
}

/// Why nothing (usable) was generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    BadOption(String),
    #[error(
        "{}: the output directory exists and is not empty; generate writes a new data set into a directory that does not exist yet or is empty",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("{}: exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A generated value breaks its resource table: a bug in the generator.
    #[error("internal error: {collection} record {id}, {attr}: {message}")]
    Invalid {
        collection: &'static str,
        id: u64,
        attr: String,
        message: String,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> GenerateError {
    let path = path.to_path_buf();
    move |source| GenerateError::Io {
        action,
        path,
        source,
    }
}

/// The name of the API key file.
const APIKEYS: &str = "apikeys";

/// Ids stay below 2^53, the largest integer every JSON client reads exactly.
const MAX_RECORDS: u64 = (1 << 53) - 1;

/// Generates the data set `opts` describes into `opts.out`. Returns the
/// records written per collection, in the order the files were completed
/// (the fourteen collections in load order, then `apikeys`).
pub fn generate(opts: &GenerateOptions) -> Result<Vec<(&'static str, u64)>, GenerateError> {
    check_options(opts)?;
    let created = prepare_dir(&opts.out)?;
    match write_set(opts) {
        Ok(counts) => Ok(counts),
        Err(e) => {
            remove_output(&opts.out, created);
            Err(e)
        }
    }
}

fn check_options(opts: &GenerateOptions) -> Result<(), GenerateError> {
    let bad = |m: &str| Err(GenerateError::BadOption(m.to_string()));
    if opts.out.as_os_str().is_empty() {
        return bad("the output directory must be named");
    }
    if opts.partners == 0 {
        return bad("partners must be at least 1");
    }
    if opts.companies_per_partner == 0 {
        return bad("companies per partner must be at least 1");
    }
    // The largest collection: log items (at most three job items per job,
    // one log item each per log); events stay below it plus a few per company.
    let companies = u64::from(opts.partners) * u64::from(opts.companies_per_partner);
    let largest = companies
        .checked_mul(u64::from(opts.devices_per_company))
        .and_then(|d| d.checked_mul(u64::from(opts.jobs_per_device)))
        .and_then(|j| j.checked_mul(u64::from(opts.logs_per_job).max(1)))
        .and_then(|l| l.checked_mul(4))
        .and_then(|l| l.checked_add(companies.saturating_mul(8)));
    match largest {
        Some(n) if n <= MAX_RECORDS => Ok(()),
        _ => Err(GenerateError::BadOption(format!(
            "the options ask for more records than ids can number (at most {MAX_RECORDS} per collection); \
             lower the counts"
        ))),
    }
}

/// Checks that `out` is absent (then creates it) or an empty directory.
/// Returns whether it was created here.
fn prepare_dir(out: &Path) -> Result<bool, GenerateError> {
    match fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(GenerateError::NotADirectory(out.to_path_buf())),
        Ok(_) => {
            let mut entries = fs::read_dir(out).map_err(io_error("read", out))?;
            match entries.next() {
                None => Ok(false),
                Some(Ok(_)) => Err(GenerateError::NotEmpty(out.to_path_buf())),
                Some(Err(e)) => Err(io_error("read", out)(e)),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(io_error("create", out))?;
            Ok(true)
        }
        Err(e) => Err(io_error("read", out)(e)),
    }
}

/// Removes what a failed run wrote (the directory was absent or empty).
fn remove_output(out: &Path, created: bool) {
    for name in Res::ALL.iter().map(|r| r.name()).chain([APIKEYS]) {
        let _ = fs::remove_file(out.join(format!("{name}.json")));
    }
    if created {
        let _ = fs::remove_dir(out);
    }
}

fn write_set(opts: &GenerateOptions) -> Result<Vec<(&'static str, u64)>, GenerateError> {
    let mut g = Gen::new(opts)?;
    g.reference()?;
    for p in 1..=g.partners {
        g.partner(p)?;
    }
    for c in 1..=g.companies {
        g.company(c)?;
    }
    let mut counts = g.out.finish()?;
    counts.push((APIKEYS, write_apikeys(&opts.out, g.partners)?));
    Ok(counts)
}

fn write_apikeys(dir: &Path, partners: u64) -> Result<u64, GenerateError> {
    let path = dir.join(format!("{APIKEYS}.json"));
    let file = create_new(&path)?;
    let mut w = BufWriter::new(file);
    let mut s = String::from("[\n");
    for p in 1..=partners {
        let _ = writeln!(
            s,
            "  {{\"ApiKey\": \"gen-partner-{p}\", \"PartnerId\": {p}, \"PartnerPlan\": true}},"
        );
        if s.len() > 1 << 16 {
            w.write_all(s.as_bytes())
                .map_err(io_error("write", &path))?;
            s.clear();
        }
    }
    s.push_str("  {\"ApiKey\": \"gen-admin\", \"Admin\": true}\n]\n");
    w.write_all(s.as_bytes())
        .map_err(io_error("write", &path))?;
    w.flush().map_err(io_error("write", &path))?;
    Ok(partners + 1)
}

fn create_new(path: &Path) -> Result<File, GenerateError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_error("create", path))
}

/// The walk over the data set: what every step needs.
struct Gen {
    seed: u64,
    partners: u64,
    /// Companies in all (per partner times partners).
    companies: u64,
    /// Devices per company, jobs per device, logs per job.
    devices: u64,
    jobs: u64,
    logs: u64,
    zones: Zones,
    reference: Reference,
    out: Outs,
    /// Scratch for a job's items.
    items: Vec<Item>,
}

impl Gen {
    fn new(opts: &GenerateOptions) -> Result<Gen, GenerateError> {
        Ok(Gen {
            seed: opts.seed,
            partners: u64::from(opts.partners),
            companies: u64::from(opts.partners) * u64::from(opts.companies_per_partner),
            devices: u64::from(opts.devices_per_company),
            jobs: u64::from(opts.jobs_per_device),
            logs: u64::from(opts.logs_per_job),
            zones: Zones::load(),
            reference: Reference::load()?,
            out: Outs::create(&opts.out)?,
            items: Vec::new(),
        })
    }

    /// The reference records: plan types, plans and backup types.
    fn reference(&mut self) -> Result<(), GenerateError> {
        for (res, vals) in &self.reference.records {
            self.out.emit_vals(*res, vals)?;
        }
        Ok(())
    }
}
