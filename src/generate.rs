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
//! * **Table driven.** A record is filled by attribute name and written in the
//!   order of its resource table (`api::resources`): every scalar attribute is
//!   present, `null` where unset, one record per line. Writing checks each value
//!   against the table (type, length, enumeration, range, e-mail and time zone
//!   rules, ids ascending from 1), so a generator bug is an error, never a
//!   fixture that `check` refuses.
//! * **Deterministic.** No clock, no hash-map order, no system time zone data:
//!   values come from splitmix64 streams seeded from (seed, what, id), local
//!   times from jiff's bundled time zone database, and the data set describes
//!   a fixed moment, [`NOW`].
//! * **Safe output.** `out` must not exist or be empty; on any error the files
//!   written so far (and the directory, when it was created here) are removed.

use crate::domain::value::{civil_from_days, days_from_civil, days_in_month};
use std::fmt::{self, Write as _};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::domain::resources::EVENT_TYPES;
use crate::domain::rules;
use crate::domain::schema::{Attr, Kind, Res, Rule, flag};
use crate::domain::validate::check_length;
use crate::domain::value::write_timestamp;

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

// ------------------------------------------------------------------ records

/// One value of a record under construction; strings live in `Rec::text`.
#[derive(Clone, Copy, Debug)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Time(i64),
    Str(usize, usize),
}

/// A record under construction: one value per stored attribute of the
/// resource table, in table order.
struct Rec {
    attrs: Vec<&'static Attr>,
    vals: Vec<V>,
    text: String,
    /// Where the next attribute is looked for first (they come in table order).
    cursor: usize,
    /// A name set that the table does not have (reported when written).
    unknown: Option<&'static str>,
}

impl Rec {
    fn new(res: Res) -> Rec {
        let attrs: Vec<&'static Attr> = res.def().attrs.iter().filter(|a| a.is_stored()).collect();
        Rec {
            vals: vec![V::Null; attrs.len()],
            attrs,
            text: String::new(),
            cursor: 0,
            unknown: None,
        }
    }

    fn clear(&mut self) {
        self.vals.fill(V::Null);
        self.text.clear();
        self.cursor = 0;
        self.unknown = None;
    }

    fn slot(&mut self, name: &'static str) -> Option<usize> {
        let n = self.attrs.len();
        for i in 0..n {
            let j = (self.cursor + i) % n;
            if self.attrs[j].name == name {
                self.cursor = j + 1;
                return Some(j);
            }
        }
        self.unknown.get_or_insert(name);
        None
    }

    fn set(&mut self, name: &'static str, v: V) -> &mut Rec {
        if let Some(i) = self.slot(name) {
            self.vals[i] = v;
        }
        self
    }

    fn int(&mut self, name: &'static str, v: i64) -> &mut Rec {
        self.set(name, V::Int(v))
    }

    fn opt_int(&mut self, name: &'static str, v: Option<i64>) -> &mut Rec {
        self.set(name, v.map_or(V::Null, V::Int))
    }

    fn flag(&mut self, name: &'static str, v: bool) -> &mut Rec {
        self.set(name, V::Bool(v))
    }

    fn opt_flag(&mut self, name: &'static str, v: Option<bool>) -> &mut Rec {
        self.set(name, v.map_or(V::Null, V::Bool))
    }

    fn time(&mut self, name: &'static str, ms: i64) -> &mut Rec {
        self.set(name, V::Time(ms))
    }

    fn opt_time(&mut self, name: &'static str, ms: Option<i64>) -> &mut Rec {
        self.set(name, ms.map_or(V::Null, V::Time))
    }

    fn text(&mut self, name: &'static str, s: &str) -> &mut Rec {
        let start = self.text.len();
        self.text.push_str(s);
        self.set(name, V::Str(start, self.text.len()))
    }

    fn opt_text(&mut self, name: &'static str, s: Option<&str>) -> &mut Rec {
        match s {
            Some(s) => self.text(name, s),
            None => self.set(name, V::Null),
        }
    }

    fn textf(&mut self, name: &'static str, args: fmt::Arguments) -> &mut Rec {
        let start = self.text.len();
        let _ = self.text.write_fmt(args);
        self.set(name, V::Str(start, self.text.len()))
    }

    /// A string attribute that holds a timestamp (`Log.JobStartedOn`).
    fn stamp(&mut self, name: &'static str, ms: i64) -> &mut Rec {
        let start = self.text.len();
        write_timestamp(&mut self.text, ms);
        self.set(name, V::Str(start, self.text.len()))
    }
}

/// One collection file: a JSON array, one record per line.
struct Out {
    res: Res,
    path: PathBuf,
    w: BufWriter<File>,
    count: u64,
    line: String,
    rec: Rec,
}

impl Out {
    fn create(dir: &Path, res: Res) -> Result<Out, GenerateError> {
        let path = dir.join(format!("{}.json", res.name()));
        let mut w = BufWriter::with_capacity(1 << 16, create_new(&path)?);
        w.write_all(b"[").map_err(io_error("write", &path))?;
        Ok(Out {
            res,
            path,
            w,
            count: 0,
            line: String::with_capacity(1024),
            rec: Rec::new(res),
        })
    }

    fn invalid(&self, attr: &str, message: String) -> GenerateError {
        GenerateError::Invalid {
            collection: self.res.name(),
            id: self.count + 1,
            attr: attr.to_string(),
            message,
        }
    }

    /// Checks the record under construction against the table and appends it.
    fn write(&mut self) -> Result<i64, GenerateError> {
        let id = self.count + 1;
        if let Some(name) = self.rec.unknown {
            return Err(self.invalid(name, "not an attribute of the collection".into()));
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str(if self.count == 0 { "\n{" } else { ",\n{" });
        let result = self.format(&mut line, id);
        self.line = line;
        result?;
        self.w
            .write_all(self.line.as_bytes())
            .map_err(io_error("write", &self.path))?;
        self.count = id;
        Ok(id as i64)
    }

    fn format(&self, line: &mut String, id: u64) -> Result<(), GenerateError> {
        let rec = &self.rec;
        for (i, (a, v)) in rec.attrs.iter().zip(&rec.vals).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push('"');
            line.push_str(a.name);
            line.push_str("\":");
            let mismatch = || self.invalid(a.name, format!("a {v:?} where {:?} belongs", a.kind));
            match (a.kind, *v) {
                (_, V::Null) => {
                    if a.has(flag::KEY) {
                        return Err(self.invalid(a.name, "the primary key is missing".into()));
                    }
                    line.push_str("null");
                }
                (Kind::Int, V::Int(n)) => {
                    if a.has(flag::KEY) && u64::try_from(n) != Ok(id) {
                        let msg = format!("id {n} where {id} comes next");
                        return Err(self.invalid(a.name, msg));
                    }
                    if let Some((lo, hi)) = a.range
                        && !(lo..=hi).contains(&n)
                    {
                        return Err(self.invalid(a.name, format!("{n} is outside {lo}..={hi}")));
                    }
                    let _ = write!(line, "{n}");
                }
                (Kind::Bool, V::Bool(b)) => line.push_str(if b { "true" } else { "false" }),
                (Kind::Utc | Kind::Local, V::Time(ms)) => {
                    line.push('"');
                    write_timestamp(line, ms);
                    line.push('"');
                }
                (Kind::Str, V::Str(s, e)) => {
                    let t = rec.text.get(s..e).unwrap_or_default();
                    self.check_text(a, t)?;
                    push_json_str(line, t);
                }
                _ => return Err(mismatch()),
            }
        }
        line.push('}');
        Ok(())
    }

    fn check_text(&self, a: &Attr, t: &str) -> Result<(), GenerateError> {
        check_length(a, t).map_err(|m| self.invalid(a.name, m))?;
        if !a.one_of.is_empty() && !a.one_of.contains(&t) {
            return Err(self.invalid(a.name, format!("\"{t}\" is not one of {:?}", a.one_of)));
        }
        let fails = match a.rule {
            Some(Rule::Email) => !rules::is_email(t),
            Some(Rule::EmailList) => rules::email_list(t).is_err(),
            Some(Rule::TimeZone) => !rules::is_time_zone(t),
            _ => false,
        };
        if fails {
            return Err(self.invalid(a.name, format!("\"{t}\" breaks {:?}", a.rule)));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<u64, GenerateError> {
        self.w
            .write_all(b"\n]\n")
            .map_err(io_error("write", &self.path))?;
        self.w.flush().map_err(io_error("write", &self.path))?;
        Ok(self.count)
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The fourteen collection files, in [`Res`] order.
struct Outs {
    files: Vec<Out>,
}

impl Outs {
    fn create(dir: &Path) -> Result<Outs, GenerateError> {
        let files = Res::ALL
            .iter()
            .map(|&r| Out::create(dir, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Outs { files })
    }

    fn get(&mut self, res: Res) -> &mut Out {
        &mut self.files[res.index()]
    }

    /// The id the next record of `res` gets.
    fn next_id(&self, res: Res) -> i64 {
        self.files
            .get(res.index())
            .map_or(1, |o| o.count as i64 + 1)
    }

    /// A cleared record of `res` to fill, then [`Outs::emit`].
    fn rec(&mut self, res: Res) -> &mut Rec {
        let rec = &mut self.get(res).rec;
        rec.clear();
        rec
    }

    fn emit(&mut self, res: Res) -> Result<i64, GenerateError> {
        self.get(res).write()
    }

    /// Appends an event of `type_id` naming `names`.
    fn event(
        &mut self,
        type_id: i64,
        at: i64,
        names: &[(&'static str, i64)],
    ) -> Result<(), GenerateError> {
        let Some(&(_, type_name)) = EVENT_TYPES.iter().find(|(t, _)| *t == type_id) else {
            let out = self.get(Res::Events);
            return Err(out.invalid("EventTypeId", format!("no event type {type_id}")));
        };
        let id = self.next_id(Res::Events);
        let r = self.rec(Res::Events);
        r.int("EventId", id)
            .int("EventTypeId", type_id)
            .text("EventType", type_name);
        for &(name, v) in names {
            r.int(name, v);
        }
        r.time("AddedOn", at);
        self.emit(Res::Events).map(|_| ())
    }

    fn finish(self) -> Result<Vec<(&'static str, u64)>, GenerateError> {
        self.files
            .into_iter()
            .map(|o| {
                let name = o.res.name();
                o.finish().map(|n| (name, n))
            })
            .collect()
    }
}

// ------------------------------------------------------------------ randomness

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64: small, fast, and the same on every platform.
struct Rng(u64);

// What a stream is for (with the ids it is derived from).
const TAG_PARTNER: u64 = 1;
const TAG_COMPANY: u64 = 2;
const TAG_DEVICE: u64 = 3;
const TAG_JOB: u64 = 4;
const TAG_RUN: u64 = 5;
const TAG_LOG_ITEM: u64 = 6;

impl Rng {
    /// The stream for one thing (`tag`, `a`, `b`) of a data set (`seed`).
    fn derive(seed: u64, tag: u64, a: u64, b: u64) -> Rng {
        let mut s = mix(seed ^ GOLDEN);
        for x in [tag, a, b] {
            s = mix(s.wrapping_add(x.wrapping_mul(GOLDEN)) ^ 0xD6E8_FEB8_6659_FD93);
        }
        Rng(s)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in 0..n (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi (lo when hi <= lo).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.wrapping_sub(lo) as u64;
        lo.wrapping_add(self.below(span.saturating_add(1)) as i64)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy + Default>(&mut self, xs: &[T]) -> T {
        let i = self.below(xs.len() as u64) as usize;
        xs.get(i).copied().unwrap_or_default()
    }

    /// A millisecond fraction.
    fn ms(&mut self) -> i64 {
        self.below(1000) as i64
    }
}

// ------------------------------------------------------------------ time

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The moment the data set describes (UTC): the latest runs finished shortly
/// before it. Fixed, so that the same options always give the same files.
const NOW: i64 = days_from_civil(2026, 11, 27) * DAY + 6 * HOUR;
/// Partners joined between these (UTC).
const PARTNERS_FROM: i64 = days_from_civil(2013, 1, 7) * DAY;
const PARTNERS_UNTIL: i64 = days_from_civil(2016, 1, 1) * DAY;
/// Companies were added between these, in id order.
const COMPANIES_FROM: i64 = days_from_civil(2016, 3, 1) * DAY;
const COMPANIES_UNTIL: i64 = NOW - 75 * DAY;

/// `ms` moved by `n` months, the day clamped to the month's length.
fn add_months(ms: i64, n: i64) -> i64 {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let total = y * 12 + (m - 1) + n;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm))) * DAY + ms.rem_euclid(DAY)
}

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// `YYYYMMDDHHMMSS`, as backup file names carry their start time.
fn compact_stamp(ms: i64, out: &mut String) {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let t = ms.rem_euclid(DAY);
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        t / HOUR,
        t / MINUTE % 60,
        t / SECOND % 60
    );
}

/// The one time in `i` of `n` slots evenly spread over from..until.
fn slot_time(r: &mut Rng, from: i64, until: i64, i: u64, n: u64) -> i64 {
    let span = i128::from(until - from);
    let n = i128::from(n.max(1));
    let start = from + (i128::from(i.saturating_sub(1)) * span / n) as i64;
    let width = (span / n) as i64;
    start + r.between(0, width - 1)
}

/// The Windows time zones of `timezones.txt`, with their rules from jiff's
/// bundled database (never the system's, so output does not depend on the
/// machine).
struct Zones {
    list: Vec<(&'static str, Option<jiff::tz::TimeZone>)>,
}

impl Zones {
    fn load() -> Zones {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        Zones {
            list: rules::time_zones()
                .map(|(w, iana)| (w, db.get(iana).ok()))
                .collect(),
        }
    }

    fn find(&self, name: &str) -> usize {
        self.list.iter().position(|(w, _)| *w == name).unwrap_or(0)
    }

    fn name(&self, i: usize) -> &'static str {
        self.list.get(i).map_or("UTC", |z| z.0)
    }

    fn offset(&self, i: usize, utc: i64) -> i64 {
        let Some((_, Some(tz))) = self.list.get(i) else {
            return 0;
        };
        jiff::Timestamp::from_millisecond(utc)
            .map_or(0, |ts| i64::from(tz.to_offset(ts).seconds()) * SECOND)
    }

    /// The device's wall clock at UTC `utc`.
    fn local(&self, i: usize, utc: i64) -> i64 {
        utc + self.offset(i, utc)
    }

    /// The UTC time of the device's wall-clock time `local`.
    fn utc(&self, i: usize, local: i64) -> i64 {
        let guess = local - self.offset(i, local);
        local - self.offset(i, guess)
    }
}

// ------------------------------------------------------------------ schedules

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freq {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    OneTime,
}

/// A job's schedule, on the device's wall clock.
#[derive(Clone, Copy, Debug)]
struct Schedule {
    freq: Freq,
    /// `Frequency` as written (the vendor's list spells `Monthy` too).
    label: &'static str,
    every: i64,
    /// Weekly: bit 0 Monday … bit 6 Sunday.
    days: u8,
    /// Monthly: the day of the month (1..=28).
    dom: i64,
    /// Time of day (Hourly: minutes past the hour), in ms.
    tod: i64,
    /// One Time: when.
    at: i64,
    /// LateAfter, minutes.
    late: i64,
}

impl Schedule {
    fn hourly(every: i64, minute: i64, late: i64) -> Schedule {
        Schedule {
            freq: Freq::Hourly,
            label: "Hourly",
            every,
            days: 0,
            dom: 1,
            tod: minute * MINUTE,
            at: 0,
            late,
        }
    }

    fn daily(every: i64, tod: i64, late: i64) -> Schedule {
        Schedule {
            freq: Freq::Daily,
            label: "Daily",
            tod,
            ..Schedule::hourly(every, 0, late)
        }
    }

    /// (anchor, period) for schedules that repeat at a fixed interval.
    fn periodic(&self) -> Option<(i64, i64)> {
        let every = self.every.max(1);
        match self.freq {
            Freq::Hourly => Some((self.tod, every * HOUR)),
            Freq::Daily => Some((self.tod, every * DAY)),
            Freq::Weekly if self.days.count_ones() == 1 => Some((
                // 1970-01-05, day 4, was a Monday
                (4 + i64::from(self.days.trailing_zeros())) * DAY + self.tod,
                every * 7 * DAY,
            )),
            _ => None,
        }
    }

    fn on(&self, day: i64) -> bool {
        (self.days >> weekday(day)) & 1 == 1
    }

    /// The latest scheduled time at or before `t`.
    fn latest(&self, t: i64) -> i64 {
        if let Some((anchor, period)) = self.periodic() {
            return t - (t - anchor).rem_euclid(period);
        }
        match self.freq {
            Freq::Weekly => {
                let mut day = t.div_euclid(DAY);
                for _ in 0..8 {
                    let at = day * DAY + self.tod;
                    if at <= t && self.on(day) {
                        return at;
                    }
                    day -= 1;
                }
                t
            }
            Freq::Monthly => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY));
                let at = days_from_civil(y, m, self.dom) * DAY + self.tod;
                if at <= t { at } else { add_months(at, -1) }
            }
            Freq::OneTime => self.at,
            Freq::Hourly | Freq::Daily => t,
        }
    }

    fn step(&self, s: i64, forward: bool) -> i64 {
        let sign = if forward { 1 } else { -1 };
        if let Some((_, period)) = self.periodic() {
            return s + sign * period;
        }
        match self.freq {
            Freq::Weekly => {
                let mut day = s.div_euclid(DAY);
                for _ in 0..7 {
                    day += sign;
                    if self.on(day) {
                        return day * DAY + self.tod;
                    }
                }
                s + sign * 7 * DAY
            }
            Freq::Monthly => add_months(s, sign * self.every.max(1)),
            Freq::OneTime if forward => s,
            _ => s + sign * DAY,
        }
    }

    /// The first of `n` runs ending at the latest scheduled time <= `hi`,
    /// if they all fall in lo..=hi.
    fn fit(&self, n: u64, lo: i64, hi: i64) -> Option<(i64, i64)> {
        let last = self.latest(hi);
        if last < lo || last > hi {
            return None;
        }
        let mut first = last;
        for _ in 1..n {
            first = self.step(first, false);
            if first < lo {
                return None;
            }
        }
        Some((first, last))
    }
}

/// When a job's runs happened.
#[derive(Clone, Copy, Debug)]
enum Runs {
    /// As scheduled, from `first` to `last`.
    Scheduled { first: i64, last: i64 },
    /// More runs than the schedule fits since the job was added: packed
    /// `spacing` apart from `first`.
    Packed { first: i64, spacing: i64 },
}

// ------------------------------------------------------------------ vocabulary

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    En,
    De,
    Fr,
    Nl,
}

#[derive(Clone, Copy, Debug)]
enum Postal {
    /// The city's prefix, then digits up to this length.
    Digits(usize),
    /// `M5V 2T6`
    Ca,
    /// `EC1A 4BD`
    Gb,
    /// `1012 AB`
    Nl,
}

/// Telephone numbers, in each country's range reserved for fiction.
#[derive(Clone, Copy, Debug)]
enum Phones {
    Nanp,
    Gb,
    De,
    Fr,
    Nl,
    Au,
}

#[derive(Clone, Copy, Debug)]
enum Street {
    /// `2150 Breton Rd SE`, numbers up to this.
    NumberFirst(i64),
    /// `Mönckebergstraße 17`
    NumberLast(i64),
}

struct City {
    name: &'static str,
    state: Option<&'static str>,
    zone: &'static str,
    postal: &'static str,
    /// The telephone area code (GB: area code and exchange).
    area: &'static str,
}

const fn city(
    name: &'static str,
    state: &'static str,
    zone: &'static str,
    postal: &'static str,
    area: &'static str,
) -> City {
    City {
        name,
        state: if state.is_empty() { None } else { Some(state) },
        zone,
        postal,
        area,
    }
}

struct Locale {
    country: &'static str,
    lang: Lang,
    /// How often partners are from here (percent).
    weight: u64,
    cities: &'static [City],
    first: &'static [&'static str],
    last: &'static [&'static str],
    streets: &'static [&'static str],
    street: Street,
    /// AddressLine2 templates.
    line2: &'static [&'static str],
    postal: Postal,
    phones: Phones,
    /// Company name templates and their words ({L} {M} surnames, {W} word,
    /// {C} city, {I} industry, {S} suffix).
    companies: &'static [&'static str],
    words: &'static [&'static str],
    industries: &'static [&'static str],
    suffixes: &'static [&'static str],
    /// Partner (managed service provider) name templates and words.
    partners: &'static [&'static str],
    partner_words: &'static [&'static str],
}

const EN_FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Megan",
    "Mark",
    "Ashley",
    "Carlos",
    "Maria",
    "Tuan",
    "Priya",
    "Rebecca",
    "Diane",
    "Kevin",
    "Angela",
    "Darren",
    "Alice",
    "Frank",
    "Tyler",
];
const US_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Nguyen",
    "O'Brien",
    "Kowalski",
    "Lindqvist",
    "Brennan",
    "Walsh",
    "Patel",
    "Kim",
    "Mendez",
    "O'Rourke",
    "Schultz",
    "Reyes",
    "Murphy",
];
const CA_LAST: &[&str] = &[
    "Smith",
    "Brown",
    "Tremblay",
    "Martin",
    "Roy",
    "Gagnon",
    "Wilson",
    "MacDonald",
    "Taylor",
    "Campbell",
    "Anderson",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Kowalchuk",
    "Singh",
    "Chen",
    "Leblanc",
];
const GB_FIRST: &[&str] = &[
    "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlie", "Sophie",
    "Thomas", "Grace", "James", "Lucy", "William", "Chloe", "Rhys", "Niamh", "Callum", "Fiona",
];
const GB_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hughes", "Edwards",
    "MacLeod", "Campbell",
];
const DE_FIRST: &[&str] = &[
    "Klaus",
    "Petra",
    "Jürgen",
    "Sabine",
    "Thomas",
    "Andrea",
    "Stefan",
    "Claudia",
    "Michael",
    "Birgit",
    "Markus",
    "Katrin",
    "Jörg",
    "Anja",
    "Uwe",
    "Susanne",
    "Lukas",
    "Lena",
    "Felix",
    "Sören",
    "Günther",
    "Maximilian",
];
const DE_LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Weiß",
    "Kessler",
    "Vogt",
    "Groß",
    "Lehmann",
];
const FR_FIRST: &[&str] = &[
    "Jean",
    "Marie",
    "Pierre",
    "Nathalie",
    "Philippe",
    "Isabelle",
    "Nicolas",
    "Sylvie",
    "François",
    "Céline",
    "Julien",
    "Camille",
    "Stéphane",
    "Élodie",
    "Thierry",
    "Hélène",
    "Amélie",
    "Loïc",
];
const FR_LAST: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier", "Girard", "Bonnet",
    "Rousseau", "Faure",
];
const NL_FIRST: &[&str] = &[
    "Jan", "Anna", "Pieter", "Sanne", "Thijs", "Lotte", "Daan", "Femke", "Bram", "Eva", "Jeroen",
    "Marieke", "Sven", "Inge", "Ruud", "Noor",
];
const NL_LAST: &[&str] = &[
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
];
const AU_FIRST: &[&str] = &[
    "Jack",
    "Charlotte",
    "Oliver",
    "Olivia",
    "William",
    "Mia",
    "Noah",
    "Ava",
    "Lachlan",
    "Chloe",
    "Cooper",
    "Ruby",
    "Mitchell",
    "Kylie",
    "Bree",
    "Hamish",
];
const AU_LAST: &[&str] = &[
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Johnson", "Martin",
    "White", "Anderson", "Walker", "Thompson", "Kelly", "Ryan", "O'Connor",
];

const EN_WORDS: &[&str] = &[
    "Great Lakes",
    "Maple Street",
    "Riverside",
    "Summit",
    "Lakeview",
    "Pinecrest",
    "Oak Hill",
    "Harbor",
    "Northside",
    "Cedar Creek",
    "Blue Ridge",
    "Prairie",
    "Silver Lake",
    "Evergreen",
    "Granite",
    "Bayside",
    "Willow Creek",
    "Hillcrest",
    "Main Street",
    "Heritage",
];
const EN_INDUSTRIES: &[&str] = &[
    "Dental Group",
    "Family Dentistry",
    "Veterinary Clinic",
    "Law Group",
    "Accounting",
    "CPA Group",
    "Insurance Agency",
    "Realty",
    "Engineering",
    "Construction",
    "Landscaping",
    "Auto Body",
    "Printing",
    "Architects",
    "Pharmacy",
    "Medical Associates",
    "Logistics",
    "Plumbing & Heating",
    "Bakery",
    "Physical Therapy",
    "Chiropractic",
    "Title Company",
    "Dermatology",
    "Orthodontics",
];
const EN_COMPANIES: &[&str] = &[
    "{L} {I}, {S}",
    "{C} {I} {S}",
    "{W} {I} {S}",
    "{L} & {M} {I}",
    "{W} {I}",
    "{L} {I}",
];
const EN_PARTNER_WORDS: &[&str] = &[
    "Forward Thinking",
    "Northstar",
    "Keystone",
    "Bluewave",
    "Clearpath",
    "Brightline",
    "Ironclad",
    "Pinnacle",
    "Lighthouse",
    "Silverline",
    "Cornerstone",
    "Trailhead",
    "Bridgeway",
    "Harbor Point",
    "Prairie Tech",
    "Redwood",
    "Copperleaf",
    "Tidewater",
];
const EN_PARTNERS: &[&str] = &[
    "{W} Software, {S}",
    "{W} Technology Partners {S}",
    "{L} IT Solutions {S}",
    "{C} Computer Services {S}",
    "{W} Managed Services {S}",
    "{W} Computing {S}",
    "{W} Networks {S}",
    "{L} & {M} Technology Group",
];

const US_CITIES: &[City] = &[
    city("New York", "NY", "Eastern Standard Time", "100", "212"),
    city("Boston", "MA", "Eastern Standard Time", "021", "617"),
    city("Atlanta", "GA", "Eastern Standard Time", "303", "404"),
    city("Detroit", "MI", "Eastern Standard Time", "482", "313"),
    city("Grand Rapids", "MI", "Eastern Standard Time", "495", "616"),
    city("Anytown", "MI", "Eastern Standard Time", "123", "734"),
    city("Columbus", "OH", "Eastern Standard Time", "432", "614"),
    city("Toledo", "OH", "Eastern Standard Time", "436", "419"),
    city("Charlotte", "NC", "Eastern Standard Time", "282", "704"),
    city(
        "Indianapolis",
        "IN",
        "US Eastern Standard Time",
        "462",
        "317",
    ),
    city("Chicago", "IL", "Central Standard Time", "606", "312"),
    city("Dallas", "TX", "Central Standard Time", "752", "214"),
    city("Austin", "TX", "Central Standard Time", "787", "512"),
    city("Minneapolis", "MN", "Central Standard Time", "554", "612"),
    city("Kansas City", "MO", "Central Standard Time", "641", "816"),
    city("Denver", "CO", "Mountain Standard Time", "802", "303"),
    city(
        "Salt Lake City",
        "UT",
        "Mountain Standard Time",
        "841",
        "801",
    ),
    city("Phoenix", "AZ", "US Mountain Standard Time", "850", "602"),
    city("Seattle", "WA", "Pacific Standard Time", "981", "206"),
    city("Portland", "OR", "Pacific Standard Time", "972", "503"),
    city("San Diego", "CA", "Pacific Standard Time", "921", "619"),
    city("Sacramento", "CA", "Pacific Standard Time", "958", "916"),
    city("Anchorage", "AK", "Alaskan Standard Time", "995", "907"),
    city("Honolulu", "HI", "Hawaiian Standard Time", "968", "808"),
];
const CA_CITIES: &[City] = &[
    city("Toronto", "ON", "Eastern Standard Time", "M5V", "416"),
    city("Ottawa", "ON", "Eastern Standard Time", "K1P", "613"),
    city("Montréal", "QC", "Eastern Standard Time", "H3B", "514"),
    city("Vancouver", "BC", "Pacific Standard Time", "V6B", "604"),
    city("Calgary", "AB", "Mountain Standard Time", "T2P", "403"),
    city("Winnipeg", "MB", "Central Standard Time", "R3C", "204"),
    city("Regina", "SK", "Canada Central Standard Time", "S4P", "306"),
    city(
        "Saskatoon",
        "SK",
        "Canada Central Standard Time",
        "S7K",
        "306",
    ),
    city("Halifax", "NS", "Atlantic Standard Time", "B3J", "902"),
    city(
        "St. John's",
        "NL",
        "Newfoundland Standard Time",
        "A1C",
        "709",
    ),
];
const GB_CITIES: &[City] = &[
    city(
        "London",
        "Greater London",
        "GMT Standard Time",
        "EC1A",
        "20 7946",
    ),
    city(
        "Manchester",
        "Greater Manchester",
        "GMT Standard Time",
        "M1",
        "161 496",
    ),
    city(
        "Leeds",
        "West Yorkshire",
        "GMT Standard Time",
        "LS1",
        "113 496",
    ),
    city("Bristol", "", "GMT Standard Time", "BS1", "117 496"),
    city(
        "Birmingham",
        "West Midlands",
        "GMT Standard Time",
        "B1",
        "121 496",
    ),
    city("Edinburgh", "", "GMT Standard Time", "EH1", "131 496"),
    city("Glasgow", "", "GMT Standard Time", "G1", "141 496"),
    city("Cardiff", "", "GMT Standard Time", "CF10", "29 2018"),
];
const DE_CITIES: &[City] = &[
    city("Hamburg", "Hamburg", "W. Europe Standard Time", "20", "40"),
    city("München", "Bayern", "W. Europe Standard Time", "80", "89"),
    city("Berlin", "Berlin", "W. Europe Standard Time", "10", "30"),
    city(
        "Köln",
        "Nordrhein-Westfalen",
        "W. Europe Standard Time",
        "50",
        "221",
    ),
    city(
        "Frankfurt am Main",
        "Hessen",
        "W. Europe Standard Time",
        "60",
        "69",
    ),
    city(
        "Stuttgart",
        "Baden-Württemberg",
        "W. Europe Standard Time",
        "70",
        "711",
    ),
    city("Leipzig", "Sachsen", "W. Europe Standard Time", "04", "341"),
    city(
        "Hannover",
        "Niedersachsen",
        "W. Europe Standard Time",
        "30",
        "511",
    ),
    city("Nürnberg", "Bayern", "W. Europe Standard Time", "90", "911"),
];
const FR_CITIES: &[City] = &[
    city(
        "Paris",
        "Île-de-France",
        "Romance Standard Time",
        "7500",
        "1",
    ),
    city(
        "Lyon",
        "Auvergne-Rhône-Alpes",
        "Romance Standard Time",
        "6900",
        "4",
    ),
    city(
        "Marseille",
        "Provence-Alpes-Côte d'Azur",
        "Romance Standard Time",
        "1300",
        "4",
    ),
    city(
        "Toulouse",
        "Occitanie",
        "Romance Standard Time",
        "3100",
        "5",
    ),
    city(
        "Nantes",
        "Pays de la Loire",
        "Romance Standard Time",
        "4400",
        "2",
    ),
    city(
        "Lille",
        "Hauts-de-France",
        "Romance Standard Time",
        "5900",
        "3",
    ),
    city(
        "Bordeaux",
        "Nouvelle-Aquitaine",
        "Romance Standard Time",
        "3300",
        "5",
    ),
];
const NL_CITIES: &[City] = &[
    city(
        "Amsterdam",
        "Noord-Holland",
        "W. Europe Standard Time",
        "1012",
        "20",
    ),
    city(
        "Rotterdam",
        "Zuid-Holland",
        "W. Europe Standard Time",
        "3011",
        "10",
    ),
    city(
        "Utrecht",
        "Utrecht",
        "W. Europe Standard Time",
        "3511",
        "30",
    ),
    city(
        "Eindhoven",
        "Noord-Brabant",
        "W. Europe Standard Time",
        "5611",
        "40",
    ),
    city(
        "Groningen",
        "Groningen",
        "W. Europe Standard Time",
        "9711",
        "50",
    ),
];
const AU_CITIES: &[City] = &[
    city("Sydney", "NSW", "AUS Eastern Standard Time", "200", "2"),
    city("Melbourne", "VIC", "AUS Eastern Standard Time", "300", "3"),
    city("Brisbane", "QLD", "E. Australia Standard Time", "400", "7"),
    city("Perth", "WA", "W. Australia Standard Time", "600", "8"),
    city("Adelaide", "SA", "Cen. Australia Standard Time", "500", "8"),
    city("Hobart", "TAS", "Tasmania Standard Time", "700", "3"),
    city("Darwin", "NT", "AUS Central Standard Time", "080", "8"),
];

static LOCALES: [Locale; 7] = [
    Locale {
        country: "US",
        lang: Lang::En,
        weight: 38,
        cities: US_CITIES,
        first: EN_FIRST,
        last: US_LAST,
        streets: &[
            "Main St",
            "Oak Ave",
            "Maple St",
            "Washington Blvd",
            "Lake Shore Dr",
            "Park Ave",
            "Elm St",
            "Cedar Ln",
            "Commerce Dr",
            "Industrial Pkwy",
            "Market St",
            "2nd Ave",
            "Breton Rd SE",
            "Jefferson Ave",
            "Mill Rd",
            "River Rd",
            "Highland Ave",
            "Center St",
        ],
        street: Street::NumberFirst(9999),
        line2: &["Suite {h}", "Suite {h}", "Unit {n}", "Floor {n}"],
        postal: Postal::Digits(5),
        phones: Phones::Nanp,
        companies: EN_COMPANIES,
        words: EN_WORDS,
        industries: EN_INDUSTRIES,
        suffixes: &["LLC", "Inc.", "PC", "Corp.", "Co.", "LLC"],
        partners: EN_PARTNERS,
        partner_words: EN_PARTNER_WORDS,
    },
    Locale {
        country: "CA",
        lang: Lang::En,
        weight: 9,
        cities: CA_CITIES,
        first: EN_FIRST,
        last: CA_LAST,
        streets: &[
            "King St W",
            "Queen St E",
            "Bay St",
            "Yonge St",
            "Rue Sainte-Catherine",
            "Granville St",
            "Portage Ave",
            "Barrington St",
            "Albert St",
            "Jasper Ave",
        ],
        street: Street::NumberFirst(2999),
        line2: &["Suite {h}", "Unit {n}"],
        postal: Postal::Ca,
        phones: Phones::Nanp,
        companies: EN_COMPANIES,
        words: EN_WORDS,
        industries: EN_INDUSTRIES,
        suffixes: &["Inc.", "Ltd.", "Corp."],
        partners: EN_PARTNERS,
        partner_words: EN_PARTNER_WORDS,
    },
    Locale {
        country: "GB",
        lang: Lang::En,
        weight: 12,
        cities: GB_CITIES,
        first: GB_FIRST,
        last: GB_LAST,
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "King Street",
            "Park Road",
            "Mill Lane",
            "The Green",
            "London Road",
            "Queen Street",
        ],
        street: Street::NumberFirst(250),
        line2: &["Unit {n}", "Floor {n}", "Suite {n}"],
        postal: Postal::Gb,
        phones: Phones::Gb,
        companies: &[
            "{L} & {M} {I} {S}",
            "{W} {I} {S}",
            "{C} {I} {S}",
            "{L} {I} {S}",
        ],
        words: EN_WORDS,
        industries: EN_INDUSTRIES,
        suffixes: &["Ltd", "LLP", "Ltd"],
        partners: EN_PARTNERS,
        partner_words: EN_PARTNER_WORDS,
    },
    Locale {
        country: "DE",
        lang: Lang::De,
        weight: 18,
        cities: DE_CITIES,
        first: DE_FIRST,
        last: DE_LAST,
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Schulstraße",
            "Gartenstraße",
            "Mönckebergstraße",
            "Maximilianstraße",
            "Industriestraße",
            "Lindenallee",
            "Am Markt",
            "Kirchweg",
            "Friedrichstraße",
            "Goethestraße",
            "Maria-Theresien-Straße",
        ],
        street: Street::NumberLast(150),
        line2: &["{n}. OG", "Hinterhaus", "Gebäude {A}"],
        postal: Postal::Digits(5),
        phones: Phones::De,
        companies: &[
            "Bäckerei {L}",
            "Steuerberatung {L} & Partner mbB",
            "Autohaus {L} GmbH",
            "Zahnarztpraxis Dr. {L}",
            "{L} Logistik GmbH",
            "Ingenieurbüro {L}",
            "Hotel {W} GmbH",
            "{L} Haustechnik GmbH & Co. KG",
            "Rechtsanwälte {L} & {M}",
            "Apotheke am {W}",
            "{L} Metallbau GmbH",
            "Physiotherapie {L}",
        ],
        words: &[
            "Markt",
            "Rathaus",
            "Stadtpark",
            "Alpenblick",
            "Seeblick",
            "Sonnenhof",
            "Lindenhof",
            "Elbufer",
        ],
        industries: &["Logistik"],
        suffixes: &["GmbH"],
        partners: &[
            "{L} & {M} IT-Service GmbH",
            "{L} EDV-Beratung GmbH",
            "Systemhaus {C} GmbH",
            "{W} IT-Systeme GmbH",
            "{L} Netzwerktechnik e.K.",
        ],
        partner_words: &[
            "Nordlicht",
            "Weitblick",
            "Datenwerk",
            "Elbwerk",
            "Rheintal",
            "Alpenland",
        ],
    },
    Locale {
        country: "FR",
        lang: Lang::Fr,
        weight: 8,
        cities: FR_CITIES,
        first: FR_FIRST,
        last: FR_LAST,
        streets: &[
            "rue de la République",
            "avenue Jean Jaurès",
            "boulevard Victor Hugo",
            "rue du Commerce",
            "place de la Mairie",
            "rue Pasteur",
            "avenue de la Gare",
            "rue Nationale",
        ],
        street: Street::NumberFirst(200),
        line2: &["Bâtiment {A}", "{n}e étage"],
        postal: Postal::Digits(5),
        phones: Phones::Fr,
        companies: &[
            "Boulangerie {L}",
            "Cabinet {L} & Associés",
            "Transports {L} SARL",
            "Pharmacie du {W}",
            "{L} Immobilier SAS",
            "Garage {L} SARL",
            "Clinique vétérinaire du {W}",
            "Étude {L} & {M}, notaires",
            "{L} Bâtiment SAS",
        ],
        words: &["Centre", "Marché", "Parc", "Port", "Château", "Pont", "Lac"],
        industries: &["Immobilier"],
        suffixes: &["SARL", "SAS"],
        partners: &[
            "{L} Informatique SARL",
            "{C} Infogérance SAS",
            "{W} Systèmes SAS",
            "{L} & {M} Conseil",
        ],
        partner_words: &["Azur", "Horizon", "Atlantique", "Alpes", "Cèdre"],
    },
    Locale {
        country: "NL",
        lang: Lang::Nl,
        weight: 6,
        cities: NL_CITIES,
        first: NL_FIRST,
        last: NL_LAST,
        streets: &[
            "Oudegracht",
            "Kerkstraat",
            "Stationsweg",
            "Dorpsstraat",
            "Industrieweg",
            "Marktplein",
            "Prinsengracht",
            "Molenweg",
        ],
        street: Street::NumberLast(300),
        line2: &["{n}e verdieping", "Unit {n}"],
        postal: Postal::Nl,
        phones: Phones::Nl,
        companies: &[
            "Bakkerij {L}",
            "{L} Advocaten B.V.",
            "{L} Installatietechniek B.V.",
            "Tandartspraktijk {W}",
            "Accountantskantoor {L}",
            "{L} Transport B.V.",
            "Huisartsenpraktijk {W}",
        ],
        words: &[
            "Centrum", "De Haven", "Het Park", "De Linde", "Oost", "Zuid",
        ],
        industries: &["Transport"],
        suffixes: &["B.V."],
        partners: &[
            "{L} ICT B.V.",
            "{C} IT Beheer B.V.",
            "{W} Automatisering B.V.",
        ],
        partner_words: &["Polder", "Noorderlicht", "Delta", "Duin"],
    },
    Locale {
        country: "AU",
        lang: Lang::En,
        weight: 9,
        cities: AU_CITIES,
        first: AU_FIRST,
        last: AU_LAST,
        streets: &[
            "George St",
            "Collins St",
            "Queen St",
            "Hay St",
            "King William St",
            "Pitt St",
            "Elizabeth St",
            "Murray St",
        ],
        street: Street::NumberFirst(600),
        line2: &["Level {n}", "Suite {n}"],
        postal: Postal::Digits(4),
        phones: Phones::Au,
        companies: &[
            "{W} {I} Pty Ltd",
            "{L} {I} Pty Ltd",
            "{C} {I}",
            "{L} & {M} {I}",
        ],
        words: EN_WORDS,
        industries: EN_INDUSTRIES,
        suffixes: &["Pty Ltd"],
        partners: &[
            "{W} IT Pty Ltd",
            "{L} Computer Solutions",
            "{C} Managed IT Pty Ltd",
        ],
        partner_words: EN_PARTNER_WORDS,
    },
];

static FALLBACK_CITY: City = city("Anytown", "MI", "Eastern Standard Time", "123", "734");

fn pick_locale(r: &mut Rng) -> &'static Locale {
    let total: u64 = LOCALES.iter().map(|l| l.weight).sum();
    let mut x = r.below(total);
    for l in &LOCALES {
        if x < l.weight {
            return l;
        }
        x -= l.weight;
    }
    &LOCALES[0]
}

fn pick_city(r: &mut Rng, l: &'static Locale) -> &'static City {
    let i = r.below(l.cities.len() as u64) as usize;
    l.cities.get(i).unwrap_or(&FALLBACK_CITY)
}

/// Zones of machines away from their company's site.
const TRAVEL_ZONES: &[&str] = &[
    "Eastern Standard Time",
    "Central Standard Time",
    "Pacific Standard Time",
    "GMT Standard Time",
    "W. Europe Standard Time",
    "Romance Standard Time",
    "Central Europe Standard Time",
    "E. Europe Standard Time",
    "AUS Eastern Standard Time",
    "India Standard Time",
    "Singapore Standard Time",
    "Tokyo Standard Time",
    "UTC",
];

/// Integrations that set `ApplicationId`.
const APPLICATION_IDS: &[&str] = &[
    "ConnectWise-Sync",
    "Autotask-Bridge",
    "HaloPSA",
    "PSA-Connector",
    "Provisioning",
    "RMM-Deploy",
];

/// Expands a name template (see [`Locale::companies`]).
fn expand(r: &mut Rng, l: &Locale, city: &City, tpl: &str, words: &[&'static str]) -> String {
    let mut out = String::new();
    let mut surname = "";
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        match &after[..j] {
            "L" => {
                surname = r.pick(l.last);
                out.push_str(surname);
            }
            "M" => {
                let mut other = r.pick(l.last);
                for _ in 0..4 {
                    if other != surname {
                        break;
                    }
                    other = r.pick(l.last);
                }
                out.push_str(other);
            }
            "W" => out.push_str(r.pick(words)),
            "C" => out.push_str(city.name),
            "I" => out.push_str(r.pick(l.industries)),
            "S" => out.push_str(r.pick(l.suffixes)),
            "n" => {
                let _ = write!(out, "{}", r.between(1, 9));
            }
            "h" => {
                let _ = write!(out, "{}", r.between(1, 9) * 100);
            }
            "A" => out.push(char::from(b'A' + r.below(6) as u8)),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// Appends `s` folded to lowercase ASCII letters and digits.
fn fold_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        let rep = match ch {
            'ä' | 'Ä' | 'æ' => "ae",
            'ö' | 'Ö' | 'ø' | 'œ' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'å' | 'À' | 'Â' => "a",
            'ç' | 'Ç' => "c",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => "e",
            'î' | 'ï' | 'í' | 'Î' => "i",
            'ô' | 'ó' | 'Ô' => "o",
            'ù' | 'û' | 'ú' => "u",
            'ñ' => "n",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(rep);
    }
}

fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// Legal forms and small words left out of domains and device prefixes.
const STOP_WORDS: &[&str] = &[
    "llc", "inc", "pc", "corp", "co", "ltd", "llp", "gmbh", "mbb", "kg", "sarl", "sas", "bv",
    "pty", "ek", "dr", "the", "du", "de", "la", "le", "am", "und", "and", "partner", "associes",
];

fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split([' ', ',', '&', '-', '.'])
        .map(fold)
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
}

/// `great-lakes.example.com` for "Great Lakes Dental Group, PC".
fn domain_of(name: &str) -> String {
    let words: Vec<String> = name_words(name).take(2).collect();
    let label = if words.is_empty() {
        "company".to_string()
    } else {
        words.join("-")
    };
    format!("{label}.example.com")
}

/// `GLD` for "Great Lakes Dental Group, PC": device names start with it.
fn initials(name: &str) -> String {
    let mut out: String = name_words(name)
        .take(3)
        .filter_map(|w| w.chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if out.len() < 2 {
        out = name_words(name)
            .next()
            .unwrap_or_default()
            .chars()
            .take(3)
            .map(|c| c.to_ascii_uppercase())
            .collect();
    }
    if out.len() < 2 {
        out = "CO".into();
    }
    out
}

fn postal_code(r: &mut Rng, l: &Locale, c: &City) -> String {
    let mut s = c.postal.to_string();
    const LETTERS: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
    let letter = |r: &mut Rng| char::from(LETTERS[r.below(LETTERS.len() as u64) as usize]);
    match l.postal {
        Postal::Digits(n) => {
            while s.len() < n {
                s.push(char::from(b'0' + r.below(10) as u8));
            }
        }
        Postal::Ca => {
            s.push(' ');
            s.push(char::from(b'0' + r.below(10) as u8));
            s.push(letter(r));
            s.push(char::from(b'0' + r.below(10) as u8));
        }
        Postal::Gb => {
            s.push(' ');
            s.push(char::from(b'1' + r.below(9) as u8));
            s.push(letter(r));
            s.push(letter(r));
        }
        Postal::Nl => {
            s.push(' ');
            s.push(letter(r));
            s.push(letter(r));
        }
    }
    s
}

/// A landline number in the city's area (or a mobile number), in the range
/// each country keeps for fiction.
fn phone(r: &mut Rng, l: &Locale, c: &City, mobile: bool) -> String {
    let a = c.area;
    match (l.phones, mobile) {
        (Phones::Nanp, _) => format!("+1 {a}-555-01{:02}", r.below(100)),
        (Phones::Gb, false) => format!("+44 {a} 0{:03}", r.below(1000)),
        (Phones::Gb, true) => format!("+44 7700 900{:03}", r.below(1000)),
        (Phones::De, false) => format!("+49 {a} 5550 {:04}", r.below(10_000)),
        (Phones::De, true) => format!(
            "+49 1{} 5550{:03}",
            r.pick(&[51, 60, 70, 71, 76]),
            r.below(1000)
        ),
        (Phones::Fr, false) => format!("+33 {a} 99 00 {:02} {:02}", r.below(100), r.below(100)),
        (Phones::Fr, true) => format!("+33 6 39 98 {:02} {:02}", r.below(100), r.below(100)),
        (Phones::Nl, false) => format!("+31 {a} 555 {:04}", r.below(10_000)),
        (Phones::Nl, true) => format!("+31 6 5555 {:04}", r.below(10_000)),
        (Phones::Au, false) => format!("+61 {a} 5550 {:04}", r.below(10_000)),
        (Phones::Au, true) => format!("+61 491 570 {:03}", r.below(1000)),
    }
}

fn street_address(r: &mut Rng, l: &Locale) -> String {
    let street = r.pick(l.streets);
    match l.street {
        Street::NumberFirst(max) => format!("{} {street}", r.between(1, max)),
        Street::NumberLast(max) => format!("{street} {}", r.between(1, max)),
    }
}

/// A person: names and an e-mail address unique among `taken` (ignoring case).
struct Person {
    first: &'static str,
    last: &'static str,
    email: String,
    login: String,
}

fn person(r: &mut Rng, l: &Locale, domain: &str, taken: &mut Vec<String>) -> Person {
    let (first, last) = (r.pick(l.first), r.pick(l.last));
    let (f, la) = (fold(first), fold(last));
    let initial = f.get(..1).unwrap_or("x");
    let mut local = match r.below(4) {
        0 => format!("{f}.{la}"),
        1 => format!("{initial}{la}"),
        2 => f.clone(),
        _ => format!("{initial}.{la}"),
    };
    if local.is_empty() {
        local = "office".into();
    }
    let base = local.clone();
    let mut n = 2;
    while taken.contains(&local) {
        local = format!("{base}{n}");
        n += 1;
    }
    taken.push(local.clone());
    Person {
        first,
        last,
        email: format!("{local}@{domain}"),
        login: format!("{initial}{la}"),
    }
}

// ------------------------------------------------------------------ reference data

/// Plans 1..=3 as the default fixtures hold them (plan 1 is the vendor's List
/// example): id, name, details, device limit, storage limit (GB).
const PLANS: [(i64, &str, &str, i64, i64); 3] = [
    (
        1,
        "Small Plan",
        "1 Device\r\n25 GB Storage\r\nEmail Support\r\nFree Updates",
        1,
        25,
    ),
    (
        2,
        "Office Plan",
        "5 Devices\r\n100 GB Storage\r\nEmail Support\r\nFree Updates",
        5,
        100,
    ),
    (
        3,
        "Business Plan",
        "25 Devices\r\n500 GB Storage\r\nEmail Support\r\nFree Updates",
        25,
        500,
    ),
];

/// Backup types as the vendor lists them: id, EngineId, Name, EngineType.
const BACKUP_TYPES: [(i64, &str, &str, &str); 2] = [
    (1, "FILE", "File", "File"),
    (2, "MSSQL", "SQL Server", "SQLServer"),
];
const FILE_TYPE: i64 = 1;
const SQL_TYPE: i64 = 2;

/// The plan a company with `devices` devices subscribes to, and the extra
/// devices bought on top: the active devices never exceed the limit.
fn plan_for(r: &mut Rng, devices: i64) -> (i64, i64) {
    let fitting: Vec<(i64, i64)> = PLANS
        .iter()
        .filter(|p| p.3 >= devices)
        .map(|p| (p.0, p.3))
        .collect();
    let (plan, limit) = match fitting.as_slice() {
        [] => (3, 25),
        [only] => *only,
        [smallest, next, ..] => {
            if r.percent(75) {
                *smallest
            } else {
                *next
            }
        }
    };
    let mut extra = (devices - limit).max(0);
    if r.percent(10) {
        extra += r.between(1, 3);
    }
    (plan, extra)
}

// ------------------------------------------------------------------ the generator

/// A partner's profile, derived from (seed, PartnerId) alone so that every
/// company can recompute its partner's without keeping a table of them.
struct PartnerProfile {
    locale: &'static Locale,
    city: &'static City,
    name: String,
    domain: String,
    code: String,
    added: i64,
    app: Option<&'static str>,
}

impl PartnerProfile {
    fn new(seed: u64, p: u64, partners: u64) -> PartnerProfile {
        let mut r = Rng::derive(seed, TAG_PARTNER, p, 0);
        let locale = pick_locale(&mut r);
        let city = pick_city(&mut r, locale);
        let tpl = r.pick(locale.partners);
        let name = expand(&mut r, locale, city, tpl, locale.partner_words);
        let added = slot_time(&mut r, PARTNERS_FROM, PARTNERS_UNTIL, p, partners);
        let app = r.percent(30).then(|| r.pick(APPLICATION_IDS));
        PartnerProfile {
            locale,
            city,
            domain: domain_of(&name),
            code: initials(&name),
            name,
            added,
            app,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Server,
    DomainController,
    Sql,
    FileServer,
    App,
    Workstation,
    Laptop,
}

impl Role {
    fn code(self) -> &'static str {
        match self {
            Role::Server => "SRV",
            Role::DomainController => "DC",
            Role::Sql => "SQL",
            Role::FileServer => "FS",
            Role::App => "APP",
            Role::Workstation => "WS",
            Role::Laptop => "LT",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobKind {
    Files,
    Sql,
    /// SQL Server transaction log backups (OptionLogOnly).
    SqlLog,
}

/// What a device's jobs and logs need of it.
struct Device {
    id: i64,
    company: i64,
    subscription: i64,
    plan: i64,
    zone: usize,
    role: Role,
    login: String,
    to: Option<String>,
    bcc: Option<String>,
    cc: Option<String>,
    on_completed: bool,
    on_failed: bool,
    on_missed: bool,
    added: i64,
    /// When it was made inactive (UTC), if it was.
    until: Option<i64>,
    sql_server: String,
    sql_port: Option<i64>,
    sql_version: (&'static str, &'static str),
}

/// A job item, as its job item record and log items repeat it.
struct Item {
    id: i64,
    name: String,
    sql: bool,
    base: Option<String>,
    include_sub: Option<bool>,
    search: Option<&'static str>,
    exclude_folders: Option<String>,
    exclude_patterns: Option<&'static str>,
    no_compress: Option<&'static str>,
    server: Option<String>,
    database: Option<String>,
    port: Option<i64>,
    copy_only: Option<bool>,
    log_only: Option<bool>,
}

impl Item {
    /// The attributes a job item and its log items share.
    fn fill(&self, r: &mut Rec) {
        r.text("Name", &self.name)
            .opt_text("BaseFolder", self.base.as_deref())
            .opt_flag("IncludeSubFolders", self.include_sub)
            .opt_text("SearchPatterns", self.search)
            .opt_text("ExcludeFolders", self.exclude_folders.as_deref())
            .opt_text("ExcludePatterns", self.exclude_patterns)
            .opt_text("NoCompressExtensions", self.no_compress)
            .opt_text("ServerName", self.server.as_deref())
            .opt_text("DatabaseName", self.database.as_deref())
            .opt_int("Port", self.port)
            .opt_text("AuthenticationMode", self.sql.then_some("W"))
            .flag("OptionCompress", true)
            .opt_flag("OptionCopyOnly", self.copy_only)
            .opt_flag("OptionLogOnly", self.log_only);
    }
}

/// A job, as its logs repeat it.
struct Job {
    id: i64,
    kind: JobKind,
    name: String,
    sched: Schedule,
    runs: Runs,
    local_keep: i64,
    expire: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Completed,
    Failed,
    Missed,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Completed => "Completed",
            Status::Failed => "Failed",
            Status::Missed => "Missed",
        }
    }

    fn event(self) -> i64 {
        match self {
            Status::Completed => 81,
            Status::Failed => 82,
            Status::Missed => 83,
        }
    }
}

/// One run of a job, derived from (seed, JobId, run number) alone, so that
/// the job's `LastRanOn` and its latest log agree without keeping the runs.
struct Run {
    status: Status,
    /// Local times.
    started: i64,
    completed: Option<i64>,
    /// UTC.
    added: i64,
    /// The rest of the run's stream (error message choice).
    r: Rng,
}

const SQL_VERSIONS: &[(&str, &str)] = &[
    ("13.0.6445.1", "Express Edition (64-bit)"),
    ("14.0.3480.1", "Express Edition (64-bit)"),
    ("15.0.4375.4", "Standard Edition (64-bit)"),
    ("16.0.4145.4", "Standard Edition (64-bit)"),
    ("16.0.4135.4", "Enterprise Edition (64-bit)"),
];

struct Gen {
    seed: u64,
    partners: u64,
    companies: u64,
    devices: u64,
    jobs: u64,
    logs: u64,
    zones: Zones,
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
            out: Outs::create(&opts.out)?,
            items: Vec::new(),
        })
    }

    /// Plan type 1, plans 1..=3 and backup types 1..=2.
    fn reference(&mut self) -> Result<(), GenerateError> {
        let o = &mut self.out;
        o.rec(Res::PlanTypes)
            .int("PlanTypeId", 1)
            .text("Name", "CleverFox Backup")
            .flag("IsInactive", false);
        o.emit(Res::PlanTypes)?;
        for (id, name, details, devices, storage) in PLANS {
            o.rec(Res::Plans)
                .int("PlanId", id)
                .int("PlanTypeId", 1)
                .text("Name", name)
                .text("Details", details)
                .flag("IsInactive", false)
                .int("DeviceLimit", devices)
                .int("StorageLimit", storage)
                .flag("DownloadLimit", false);
            o.emit(Res::Plans)?;
        }
        for (id, engine, name, kind) in BACKUP_TYPES {
            o.rec(Res::BackupTypes)
                .int("BackupTypeId", id)
                .text("EngineId", engine)
                .text("Name", name)
                .text("EngineType", kind)
                .flag("IsInactive", false);
            o.emit(Res::BackupTypes)?;
        }
        Ok(())
    }

    /// Partner `p` and its users.
    fn partner(&mut self, p: u64) -> Result<(), GenerateError> {
        let pid = p as i64;
        let prof = PartnerProfile::new(self.seed, p, self.partners);
        let mut r = Rng::derive(self.seed, TAG_PARTNER, p, 1);
        let updated = r
            .percent(10)
            .then(|| r.between(prof.added + 30 * DAY, NOW - DAY));
        let o = &mut self.out;
        o.rec(Res::Partners)
            .int("PartnerId", pid)
            .int("PlanTypeId", 1)
            .text("Name", &prof.name)
            .opt_text("ApplicationId", prof.app)
            .flag("IsInactive", false)
            .time("AddedOn", prof.added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Partners)?;
        if let Some(at) = updated {
            o.event(2, at, &[("PartnerId", pid)])?;
        }
        let mut taken = Vec::new();
        let mut at = prof.added + 2 * SECOND + r.ms();
        for u in 0..1 + r.below(3) {
            if u > 0 {
                at = r.between(at + 30 * DAY, (at + 900 * DAY).min(NOW - DAY));
            }
            let who = person(&mut r, prof.locale, &prof.domain, &mut taken);
            let id = o.next_id(Res::PartnerUsers);
            let mobile = r
                .percent(60)
                .then(|| phone(&mut r, prof.locale, prof.city, true));
            let work = r
                .percent(80)
                .then(|| phone(&mut r, prof.locale, prof.city, false));
            o.rec(Res::PartnerUsers)
                .int("PartnerUserId", id)
                .int("PartnerId", pid)
                .text("FirstName", who.first)
                .text("LastName", who.last)
                .text("Email", &who.email)
                .opt_text("MobilePhone", mobile.as_deref())
                .opt_text("WorkPhone", work.as_deref())
                .flag("IsAccountOwner", u == 0)
                .flag("IsInactive", u > 0 && r.percent(10))
                .time("AddedOn", at);
            o.emit(Res::PartnerUsers)?;
            o.event(11, at, &[("PartnerUserId", id), ("PartnerId", pid)])?;
        }
        Ok(())
    }

    /// Company `c` with everything under it.
    fn company(&mut self, c: u64) -> Result<(), GenerateError> {
        let cid = c as i64;
        let p = (c - 1) % self.partners + 1;
        let pid = p as i64;
        let partner = PartnerProfile::new(self.seed, p, self.partners);
        let mut r = Rng::derive(self.seed, TAG_COMPANY, c, 0);
        let locale = if r.percent(85) {
            partner.locale
        } else {
            pick_locale(&mut r)
        };
        let city = pick_city(&mut r, locale);
        let tpl = r.pick(locale.companies);
        let name = expand(&mut r, locale, city, tpl, locale.words);
        let domain = domain_of(&name);
        let code = initials(&name);
        let added = slot_time(&mut r, COMPANIES_FROM, COMPANIES_UNTIL, c, self.companies);
        // Everything of the company is added within `span` of the company.
        let span = (NOW - 45 * DAY - added).clamp(30 * DAY, 400 * DAY);
        let inactive = r.percent(3);
        let until = inactive.then(|| r.between(added + span + 41 * DAY, NOW - 2 * DAY));
        let updated = until.or_else(|| r.percent(15).then(|| r.between(added + DAY, NOW - HOUR)));
        let line1 = street_address(&mut r, locale);
        let line2_tpl = r.pick(locale.line2);
        let line2 = r
            .percent(30)
            .then(|| expand(&mut r, locale, city, line2_tpl, &[]));
        let postal = postal_code(&mut r, locale, city);
        let country = r.percent(95).then_some(locale.country);
        let company_phone = r.percent(85).then(|| phone(&mut r, locale, city, false));
        let external = r
            .percent(50)
            .then(|| format!("{}-{}", partner.code, 10_000 + c));

        let o = &mut self.out;
        o.rec(Res::Companies)
            .int("CompanyId", cid)
            .int("PartnerId", pid)
            .int("PlanTypeId", 1)
            .text("Name", &name)
            .text("AddressLine1", &line1)
            .opt_text("AddressLine2", line2.as_deref())
            .text("CityMunicipality", city.name)
            .opt_text("StateProvidence", city.state)
            .text("PostalCode", &postal)
            .opt_text("Country", country)
            .opt_text("Phone", company_phone.as_deref())
            .opt_text("ExternalId", external.as_deref())
            .opt_flag(
                "IsInactive",
                if inactive {
                    Some(true)
                } else {
                    (!r.percent(3)).then_some(false)
                },
            )
            .time("AddedOn", added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Companies)?;
        o.event(21, added, &[("CompanyId", cid), ("PartnerId", pid)])?;
        if let Some(at) = updated {
            o.event(22, at, &[("CompanyId", cid), ("PartnerId", pid)])?;
        }

        // company users: the first is the account owner
        let mut taken = Vec::new();
        let mut owner_email = String::new();
        let mut at = added + 45 * SECOND + r.ms();
        for u in 0..1 + r.below(3) {
            if u > 0 {
                at = r.between(at + HOUR, added + span);
            }
            let who = person(&mut r, locale, &domain, &mut taken);
            if u == 0 {
                owner_email.clone_from(&who.email);
            }
            let home = r.percent(5).then(|| phone(&mut r, locale, city, false));
            let mobile = r.percent(50).then(|| phone(&mut r, locale, city, true));
            let work = r.percent(85).then(|| phone(&mut r, locale, city, false));
            let id = o.next_id(Res::CompanyUsers);
            o.rec(Res::CompanyUsers)
                .int("CompanyUserId", id)
                .int("CompanyId", cid)
                .text("FirstName", who.first)
                .text("LastName", who.last)
                .text("Email", &who.email)
                .opt_text("HomePhone", home.as_deref())
                .opt_text("MobilePhone", mobile.as_deref())
                .opt_text("WorkPhone", work.as_deref())
                .flag("IsAccountOwner", u == 0)
                .flag("IsInactive", u > 0 && r.percent(8))
                .time("AddedOn", at);
            o.emit(Res::CompanyUsers)?;
            o.event(61, at, &[("CompanyUserId", id), ("CompanyId", cid)])?;
        }

        // one subscription, its plan large enough for every device
        let sid = o.next_id(Res::Subscriptions);
        let (plan, extra) = plan_for(&mut r, self.devices as i64);
        let sub_added = added + 95 * SECOND + r.between(0, 60 * SECOND) + r.ms();
        let months = {
            let (y, m, _) = civil_from_days(sub_added.div_euclid(DAY));
            let (ny, nm, _) = civil_from_days(NOW.div_euclid(DAY));
            (ny * 12 + nm) - (y * 12 + m)
        };
        let mut period = add_months(sub_added, months);
        if period > NOW {
            period = add_months(sub_added, months - 1);
        }
        let period_end = add_months(period, 1);
        let storage_alert = r.percent(45);
        let sub_to = storage_alert.then(|| {
            if r.percent(50) {
                format!("billing@{domain}")
            } else {
                owner_email.clone()
            }
        });
        let sub_cc =
            (storage_alert && r.percent(30)).then(|| format!("billing@{}", partner.domain));
        o.rec(Res::Subscriptions)
            .int("SubscriptionId", sid)
            .int("CompanyId", cid)
            .int("PlanId", plan)
            .opt_text("ApplicationId", partner.app.filter(|_| r.percent(50)))
            .opt_text(
                "ExternalId",
                r.percent(50)
                    .then(|| format!("SUB-{}-{sid:06}", civil_from_days(sub_added / DAY).0))
                    .as_deref(),
            )
            .flag("IsInactive", false)
            .int("BillingId", 100_000 + sid)
            .text("Status", "Active")
            .time("PeriodStart", period)
            .time("PeriodEnd", period_end)
            .int("AdditionalDevice", extra)
            .opt_text("SendNotificationTo", sub_to.as_deref())
            .opt_text("SendNotificationCc", sub_cc.as_deref())
            .flag("SendNotificationOnStorageLimit", storage_alert)
            .time("AddedOn", sub_added);
        o.emit(Res::Subscriptions)?;
        o.event(
            71,
            sub_added,
            &[
                ("SubscriptionId", sid),
                ("CompanyId", cid),
                ("PlanId", plan),
            ],
        )?;

        // devices, added one after the other within the company's span
        let site_zone = self.zones.find(city.zone);
        let step_max = (2 * span / self.devices.max(1) as i64).max(10 * MINUTE);
        let mut dev_at = added + r.between(HOUR, 2 * DAY);
        for k in 0..self.devices {
            if k > 0 {
                dev_at = (dev_at + r.between(MINUTE, step_max)).min(added + span);
            }
            let ctx = DeviceCtx {
                company: cid,
                k,
                subscription: sid,
                plan,
                added: dev_at,
                company_until: until,
                zone: site_zone,
                code: &code,
                domain: &domain,
                owner_email: &owner_email,
                partner: &partner,
                locale,
            };
            let dev = self.device(&ctx)?;
            for j in 0..self.jobs {
                self.job(&dev, locale.lang, &code, j)?;
            }
        }
        Ok(())
    }

    fn device(&mut self, ctx: &DeviceCtx) -> Result<Device, GenerateError> {
        let id = self.out.next_id(Res::Devices);
        let mut r = Rng::derive(self.seed, TAG_DEVICE, id as u64, 0);
        let role = if ctx.k == 0 {
            match r.below(100) {
                0..40 => Role::Server,
                40..75 => Role::Sql,
                _ => Role::FileServer,
            }
        } else {
            match r.below(100) {
                0..40 => Role::Workstation,
                40..65 => Role::Laptop,
                65..75 => Role::Server,
                75..85 => Role::Sql,
                85..92 => Role::FileServer,
                92..96 => Role::DomainController,
                _ => Role::App,
            }
        };
        let mut taken = Vec::new();
        let user = person(&mut r, ctx.locale, ctx.domain, &mut taken);
        let name = if role == Role::Laptop {
            format!("{}-LT-{}", ctx.code, user.login.to_ascii_uppercase())
        } else {
            format!("{}-{}{:02}", ctx.code, role.code(), ctx.k + 1)
        };
        // mostly the site's zone; some machines run elsewhere (or are set
        // wrong), now and then in any zone of the list
        let zone = match r.below(100) {
            0..88 => ctx.zone,
            88..98 => self.zones.find(r.pick(TRAVEL_ZONES)),
            _ => r.below(self.zones.list.len() as u64) as usize,
        };
        let inactive = ctx.company_until.is_some() || r.percent(3);
        let until = ctx
            .company_until
            .or_else(|| inactive.then(|| r.between(ctx.added + 40 * DAY, NOW - 2 * DAY)));
        let updated = until.or_else(|| {
            r.percent(15)
                .then(|| r.between(ctx.added + DAY, NOW - HOUR))
        });
        let (on_completed, on_failed, on_missed) = (r.percent(15), r.percent(75), r.percent(55));
        let to = (on_completed || on_failed || on_missed).then(|| match r.below(4) {
            0 => format!("it@{}", ctx.domain),
            1 => ctx.owner_email.to_string(),
            2 => format!("backup-alerts@{}", ctx.partner.domain),
            _ => format!("it@{};alerts@{}", ctx.domain, ctx.partner.domain),
        });
        let bcc =
            (to.is_some() && r.percent(25)).then(|| format!("monitoring@{}", ctx.partner.domain));
        let cc = (to.is_some() && r.percent(15)).then(|| ctx.owner_email.to_string());
        let key = format!("{:016x}{:016x}", r.next(), r.next());
        let last_check = match until {
            Some(u) => u - r.between(MINUTE, 2 * HOUR),
            None => NOW - r.between(5 * SECOND, 20 * MINUTE),
        };
        let sql_server = match r.below(4) {
            0 => "(local)\\SQLEXPRESS".to_string(),
            1 => "(local)".to_string(),
            2 => format!("{name}\\SQLEXPRESS"),
            _ => name.clone(),
        };
        let express = sql_server.ends_with("SQLEXPRESS");
        let versions = if express {
            &SQL_VERSIONS[..2]
        } else {
            &SQL_VERSIONS[2..]
        };
        let sql_version = r.pick(versions);
        let sql_port = match r.below(10) {
            0..7 => None,
            7..9 => Some(1433),
            _ => Some(14330),
        };
        let o = &mut self.out;
        o.rec(Res::Devices)
            .int("DeviceId", id)
            .int("CompanyId", ctx.company)
            .int("SubscriptionId", ctx.subscription)
            .text("Name", &name)
            .text("TimeZoneId", self.zones.name(zone))
            .opt_text("ApplicationId", ctx.partner.app.filter(|_| r.percent(50)))
            .opt_text(
                "ExternalId",
                r.percent(40).then(|| format!("ASSET-{id:07}")).as_deref(),
            )
            .opt_flag(
                "IsInactive",
                if inactive {
                    Some(true)
                } else {
                    (!r.percent(3)).then_some(false)
                },
            )
            .text("ApiKey", &key)
            .time("LastApiCheckAt", self.zones.local(zone, last_check))
            .opt_text("SendNotificationTo", to.as_deref())
            .opt_text("SendNotificationBcc", bcc.as_deref())
            .opt_text("SendNotificationCc", cc.as_deref())
            .flag("SendNotificationOnJobCompleted", on_completed)
            .flag("SendNotificationOnJobFailed", on_failed)
            .flag("SendNotificationOnJobMissed", on_missed)
            .text("AgentDownloadUrl", &rules::own_agent_url(&key))
            .time("LastAgentDownloadCreated", ctx.added + 60 * SECOND + r.ms())
            .time("AddedOn", ctx.added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Devices)?;
        o.event(
            31,
            ctx.added,
            &[("DeviceId", id), ("CompanyId", ctx.company)],
        )?;
        if let Some(at) = updated {
            o.event(32, at, &[("DeviceId", id), ("CompanyId", ctx.company)])?;
        }
        Ok(Device {
            id,
            company: ctx.company,
            subscription: ctx.subscription,
            plan: ctx.plan,
            zone,
            role,
            login: user.login,
            to,
            bcc,
            cc,
            on_completed,
            on_failed,
            on_missed,
            added: ctx.added,
            until,
            sql_server,
            sql_port,
            sql_version,
        })
    }

    /// Job `j` of a device, its items, its logs and their items.
    fn job(&mut self, dev: &Device, lang: Lang, code: &str, j: u64) -> Result<(), GenerateError> {
        let id = self.out.next_id(Res::Jobs);
        let mut r = Rng::derive(self.seed, TAG_JOB, id as u64, 0);
        let kind = match dev.role {
            Role::Sql => match j % 3 {
                0 => JobKind::Sql,
                1 => JobKind::SqlLog,
                _ => JobKind::Files,
            },
            Role::Server | Role::App if r.percent(40) => JobKind::Sql,
            _ => JobKind::Files,
        };
        // when: after the device, before it (or the job) was made inactive
        let dev_end = dev.until.unwrap_or(NOW);
        let added =
            (dev.added + r.between(5 * MINUTE, DAY) + j as i64 * r.between(MINUTE, 7 * DAY))
                .min(dev_end - 3 * DAY);
        let inactive = r.below(100);
        let until = if inactive < 8 {
            Some(r.between(added + 2 * DAY, dev_end - DAY))
        } else {
            dev.until
        };
        let updated = if inactive < 8 {
            until
        } else {
            r.percent(10)
                .then(|| r.between(added + HOUR, dev_end - HOUR))
        };

        self.make_items(dev, lang, code, kind, &mut r);
        let base_sched = choose_schedule(&mut r, kind, self.logs);

        // the runs: the latest shortly before the job stopped (or now)
        let zone = dev.zone;
        let margin = base_sched.late * MINUTE + 3 * HOUR + 5 * MINUTE;
        let lo = self.zones.local(zone, added) + 10 * MINUTE;
        let hi = (self.zones.local(zone, until.unwrap_or(NOW)) - margin).max(lo);
        let (sched, runs) = fit_runs(&mut r, base_sched, self.logs, lo, hi);
        let label = self.items.first().map_or("files", |i| i.name.as_str());
        let name = job_name(&mut r, lang, kind, sched.freq, label);
        let now_local = self.zones.local(zone, NOW);
        let next_run = match sched.freq {
            Freq::OneTime => sched.at,
            _ => sched.step(sched.latest(now_local), true),
        };
        let last_ran = match (self.logs, runs) {
            (0, _) => None,
            (n, Runs::Scheduled { last, .. }) => {
                Some(self.run(id, n - 1, last, kind, sched.late, zone).started)
            }
            (n, Runs::Packed { first, spacing }) => {
                let t = first + (n as i64 - 1) * spacing;
                Some(self.run(id, n - 1, t, kind, sched.late, zone).started)
            }
        };
        let expire = (sched.freq == Freq::OneTime).then_some(sched.at + DAY);
        let (cloud_keep, local_keep) = match sched.freq {
            Freq::Hourly => (r.between(48, 168), r.between(12, 48)),
            Freq::Daily => (r.pick(&[7, 14, 30, 30, 60, 90]), r.between(2, 14)),
            Freq::Weekly => (r.pick(&[4, 8, 12, 52]), r.between(1, 4)),
            Freq::Monthly => (r.pick(&[12, 24, 36]), r.between(1, 3)),
            Freq::OneTime => (1, r.between(0, 1)),
        };
        let weekly = sched.freq == Freq::Weekly;
        let day = |bit: u32| weekly.then_some((sched.days >> bit) & 1 == 1);

        let o = &mut self.out;
        o.rec(Res::Jobs)
            .int("JobId", id)
            .int("DeviceId", dev.id)
            .text("Name", &name)
            .opt_flag(
                "IsInactive",
                match inactive {
                    0..8 => Some(true),
                    8..13 => None,
                    _ => Some(false),
                },
            )
            .opt_time("LastRanOn", last_ran)
            .text("Frequency", sched.label)
            .time("NextRunOn", next_run)
            .int("LateAfter", sched.late)
            .int("Every", sched.every)
            .opt_flag("OnMonday", day(0))
            .opt_flag("OnTuesday", day(1))
            .opt_flag("OnWednesday", day(2))
            .opt_flag("OnThursday", day(3))
            .opt_flag("OnFriday", day(4))
            .opt_flag("OnSaturday", day(5))
            .opt_flag("OnSunday", day(6))
            .opt_int(
                "DayOfMonth",
                (sched.freq == Freq::Monthly).then_some(sched.dom),
            )
            .opt_time("ExpireOn", expire)
            .int("CloudKeepLast", cloud_keep)
            .int("LocalKeepLast", local_keep)
            .time("AddedOn", added)
            .opt_time("UpdatedOn", updated);
        o.emit(Res::Jobs)?;
        let owners = [
            ("JobId", id),
            ("DeviceId", dev.id),
            ("CompanyId", dev.company),
        ];
        o.event(41, added, &owners)?;
        for (n, item) in self.items.iter().enumerate() {
            let at = added + (n as i64 + 1) * r.between(2 * SECOND, 9 * SECOND) + r.ms();
            let item_id = o.next_id(Res::JobItems);
            let r2 = o.rec(Res::JobItems);
            r2.int("JobItemId", item_id)
                .int("JobId", id)
                .int("BackupTypeId", if item.sql { SQL_TYPE } else { FILE_TYPE });
            item.fill(r2);
            r2.time("AddedOn", at);
            o.emit(Res::JobItems)?;
            o.event(
                51,
                at,
                &[
                    ("JobItemId", item_id),
                    ("JobId", id),
                    ("DeviceId", dev.id),
                    ("CompanyId", dev.company),
                    ("BackupTypeId", if item.sql { SQL_TYPE } else { FILE_TYPE }),
                ],
            )?;
        }
        if let Some(at) = updated {
            o.event(42, at, &owners)?;
        }
        let job = Job {
            id,
            kind,
            name,
            sched,
            runs,
            local_keep,
            expire,
        };
        self.logs_of(dev, &job)
    }

    /// The job's items into `self.items` (their ids are the next job item ids).
    fn make_items(&mut self, dev: &Device, lang: Lang, code: &str, kind: JobKind, r: &mut Rng) {
        self.items.clear();
        let first_id = self.out.next_id(Res::JobItems);
        match kind {
            JobKind::Sql | JobKind::SqlLog => {
                let dbs = databases(lang);
                let n = 1 + r.below(3) as usize;
                let start = r.below(dbs.len() as u64) as usize;
                let prefixed = r.percent(40);
                let copy_only = r.percent(15);
                for k in 0..n.min(dbs.len()) {
                    let db = dbs
                        .get((start + k) % dbs.len())
                        .copied()
                        .unwrap_or("master");
                    let db = if prefixed {
                        format!("{code}_{db}")
                    } else {
                        db.to_string()
                    };
                    self.items.push(Item {
                        id: first_id + k as i64,
                        name: db.clone(),
                        sql: true,
                        base: None,
                        include_sub: None,
                        search: None,
                        exclude_folders: None,
                        exclude_patterns: None,
                        no_compress: None,
                        server: Some(dev.sql_server.clone()),
                        database: Some(db),
                        port: dev.sql_port,
                        copy_only: Some(copy_only && kind == JobKind::Sql),
                        log_only: Some(kind == JobKind::SqlLog),
                    });
                }
            }
            JobKind::Files => {
                let folders = self.file_folders(dev, lang, r);
                for (k, (name, base)) in folders.into_iter().enumerate() {
                    let search = match r.below(10) {
                        0..7 => "*.*",
                        7..9 => "*.docx\r\n*.xlsx\r\n*.pdf",
                        _ => "*.pdf\r\n*.xlsx\r\n*.zip",
                    };
                    let exclude_folders = r
                        .percent(25)
                        .then(|| format!("{base}\\{}", r.pick(&["Temp", "Archive", "Cache"])));
                    let exclude_patterns = r.percent(55).then(|| {
                        r.pick(&[
                            "*.tmp\r\n~$*",
                            "*.tmp\r\n~$*\r\nThumbs.db",
                            "*.bak",
                            "*.log",
                        ])
                    });
                    let no_compress = r.percent(40).then(|| {
                        r.pick(&[
                            ".zip\r\n.7z\r\n.jpg\r\n.png\r\n.mp4\r\n.pdf",
                            ".zip\r\n.7z\r\n.jpg\r\n.mp4",
                            ".zip\r\n.pdf",
                        ])
                    });
                    self.items.push(Item {
                        id: first_id + k as i64,
                        name,
                        sql: false,
                        base: Some(base),
                        include_sub: Some(!r.percent(8)),
                        search: Some(search),
                        exclude_folders,
                        exclude_patterns,
                        no_compress,
                        server: None,
                        database: None,
                        port: None,
                        copy_only: None,
                        log_only: None,
                    });
                }
            }
        }
    }

    /// (Name, BaseFolder) of a file job's items: 1 or 2, distinct.
    fn file_folders(&self, dev: &Device, lang: Lang, r: &mut Rng) -> Vec<(String, String)> {
        let n = if r.percent(65) { 1 } else { 2 };
        match dev.role {
            Role::Workstation | Role::Laptop => {
                let mut out = vec![(
                    documents(lang).to_string(),
                    format!("C:\\Users\\{}\\Documents", dev.login),
                )];
                if n > 1 {
                    out.push((
                        "Desktop".into(),
                        format!("C:\\Users\\{}\\Desktop", dev.login),
                    ));
                }
                out
            }
            role => {
                let (root, shares) = shares(lang);
                let start = r.below(shares.len() as u64) as usize;
                let mut out: Vec<(String, String)> = (0..n)
                    .filter_map(|k| shares.get((start + k) % shares.len()))
                    .map(|s| (s.to_string(), format!("{root}\\{s}")))
                    .collect();
                let special = match role {
                    Role::App => Some(("Web root", "C:\\inetpub\\wwwroot")),
                    Role::DomainController => Some(("SYSVOL", "C:\\Windows\\SYSVOL\\domain")),
                    Role::Server if r.percent(20) => Some(("POS data", "C:\\POS\\Data")),
                    _ => None,
                };
                if let (Some((name, base)), Some(first)) = (special, out.first_mut()) {
                    *first = (name.to_string(), base.to_string());
                }
                out
            }
        }
    }

    /// One run of a job: the `k`th, scheduled at `sched` (device local time).
    fn run(&self, job: i64, k: u64, sched: i64, kind: JobKind, late: i64, zone: usize) -> Run {
        let mut r = Rng::derive(self.seed, TAG_RUN, job as u64, k);
        let status = match r.below(100) {
            0..70 => Status::Completed,
            70..90 => Status::Failed,
            _ => Status::Missed,
        };
        if status == Status::Missed {
            let noticed = self.zones.utc(zone, sched + late * MINUTE);
            return Run {
                status,
                started: sched,
                completed: None,
                added: noticed + r.between(5 * SECOND, 60 * SECOND) + r.ms(),
                r,
            };
        }
        let started = sched + r.between(1, 25) * SECOND + r.ms();
        let mut seconds = match kind {
            JobKind::Files => r.between(120, 7200),
            JobKind::Sql => r.between(30, 3600),
            JobKind::SqlLog => r.between(5, 90),
        };
        if status == Status::Failed {
            seconds = r.between(3, seconds);
        }
        let completed = started + seconds * SECOND;
        Run {
            status,
            started,
            completed: Some(completed),
            added: self.zones.utc(zone, completed) + r.between(100, 999),
            r,
        }
    }

    /// The job's logs, one log item per job item each, and an outcome event
    /// for the latest.
    fn logs_of(&mut self, dev: &Device, job: &Job) -> Result<(), GenerateError> {
        let (mut t, spacing) = match job.runs {
            Runs::Scheduled { first, .. } => (first, None),
            Runs::Packed { first, spacing } => (first, Some(spacing)),
        };
        let sched = &job.sched;
        for k in 0..self.logs {
            let next = spacing.map_or_else(|| sched.step(t, true), |s| t + s);
            let mut run = self.run(job.id, k, t, job.kind, sched.late, dev.zone);
            let log_id = self.out.next_id(Res::Logs);
            let notify = match run.status {
                Status::Completed => dev.on_completed,
                Status::Failed => dev.on_failed,
                Status::Missed => dev.on_missed,
            };
            let processed = notify.then(|| run.added + run.r.between(20 * SECOND, 150 * SECOND));
            let errors = self.error_message(job, &mut run, t);
            let when = |s: Status| processed.filter(|_| run.status == s);
            let o = &mut self.out;
            let r = o.rec(Res::Logs);
            r.int("LogId", log_id)
                .int("CompanyId", dev.company)
                .int("DeviceId", dev.id)
                .text("TimeZoneId", self.zones.name(dev.zone))
                .int("SubscriptionId", dev.subscription)
                .int("PlanId", dev.plan)
                .int("JobId", job.id)
                .text("Name", &job.name)
                .textf(
                    "ArchiveFolder",
                    format_args!("C:\\ProgramData\\CleverFox Backup\\Archive\\{}", job.id),
                )
                .textf(
                    "UploadFolder",
                    format_args!("{}/{}/{}", dev.company, dev.id, job.id),
                )
                .text("Frequency", sched.label)
                .time("NextRunOn", next)
                .int("LateAfter", sched.late)
                .opt_time("ExpireOn", job.expire)
                .int("LocalKeepLast", job.local_keep)
                .stamp("JobStartedOn", run.started)
                .opt_time("JobCompletedOn", run.completed)
                .text("JobStatus", run.status.name())
                .opt_text("ErrorMessages", errors.as_deref())
                .opt_text("SendNotificationTo", dev.to.as_deref())
                .opt_text("SendNotificationBcc", dev.bcc.as_deref())
                .opt_text("SendNotificationCc", dev.cc.as_deref())
                .flag("SendNotificationOnJobCompleted", dev.on_completed)
                .flag("SendNotificationOnJobFailed", dev.on_failed)
                .flag("SendNotificationOnJobMissed", dev.on_missed)
                .opt_time(
                    "NotificationJobCompletedProcessedOn",
                    when(Status::Completed),
                )
                .opt_time("NotificationJobFailedProcessedOn", when(Status::Failed))
                .opt_time("NotificationJobMissedProcessedOn", when(Status::Missed))
                .time("AddedOn", run.added);
            o.emit(Res::Logs)?;
            self.log_items(dev, job, log_id, &run)?;
            if k + 1 == self.logs {
                self.out.event(
                    run.status.event(),
                    run.added,
                    &[
                        ("LogId", log_id),
                        ("JobId", job.id),
                        ("DeviceId", dev.id),
                        ("CompanyId", dev.company),
                    ],
                )?;
            }
            t = next;
        }
        Ok(())
    }

    fn error_message(&self, job: &Job, run: &mut Run, sched: i64) -> Option<String> {
        let first = self.items.first()?;
        match run.status {
            Status::Completed => None,
            Status::Missed => {
                let mut when = String::new();
                write_timestamp(&mut when, sched);
                let when = when.get(..16).unwrap_or_default().replacen('T', " ", 1);
                Some(format!(
                    "The job did not start within {} minutes of its scheduled time ({when}).",
                    job.sched.late
                ))
            }
            Status::Failed => {
                let r = &mut run.r;
                let folder = format!("C:\\ProgramData\\CleverFox Backup\\Backups\\{}", job.id);
                let mut msg = if first.sql {
                    let db = &first.name;
                    match r.below(if job.kind == JobKind::SqlLog { 6 } else { 5 }) {
                        0 => "Login failed for user 'NT AUTHORITY\\SYSTEM'. (Microsoft SQL Server, Error: 18456)".to_string(),
                        1 => format!(
                            "{db}: BACKUP DATABASE is terminating abnormally. Write on \"{folder}\\{db}.bak\" failed: 112 (There is not enough space on the disk.)"
                        ),
                        2 => format!(
                            "{db}: Cannot open database \"{db}\" requested by the login. The login failed. (Microsoft SQL Server, Error: 4060)"
                        ),
                        3 => "A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible. (provider: SQL Network Interfaces, error: 26)".to_string(),
                        4 => format!(
                            "{db}: Upload to cloud storage failed after 3 retries: The remote server returned an error: (503) Server Unavailable."
                        ),
                        _ => format!(
                            "{db}: BACKUP LOG cannot be performed because there is no current database backup. (Microsoft SQL Server, Error: 4214)"
                        ),
                    }
                } else {
                    let base = first.base.as_deref().unwrap_or("C:\\");
                    match r.below(6) {
                        0 => format!(
                            "{base}\\{}: The process cannot access the file because it is being used by another process.",
                            r.pick(&["Outlook.pst", "Database.accdb", "~$Budget.xlsx", "Company.qbw"])
                        ),
                        1 => format!("Access to the path '{base}' is denied."),
                        2 => format!("There is not enough space on the disk. ({folder})"),
                        3 => "Upload to cloud storage failed after 3 retries: The remote server returned an error: (503) Server Unavailable.".to_string(),
                        4 => format!("The network path was not found. ({base})"),
                        _ => format!("Could not find a part of the path '{base}'."),
                    }
                };
                for other in self.items.iter().skip(1) {
                    let _ = write!(
                        msg,
                        "\r\n{}: skipped because a previous item failed.",
                        other.name
                    );
                }
                Some(msg)
            }
        }
    }

    fn log_items(
        &mut self,
        dev: &Device,
        job: &Job,
        log_id: i64,
        run: &Run,
    ) -> Result<(), GenerateError> {
        let mut stamp = String::new();
        compact_stamp(run.started, &mut stamp);
        for (n, item) in self.items.iter().enumerate() {
            let li = self.out.next_id(Res::LogItems);
            let mut r = Rng::derive(self.seed, TAG_LOG_ITEM, li as u64, 0);
            let ran = run.status != Status::Missed;
            let done = run.status == Status::Completed;
            let (version, edition) = if item.sql && ran {
                (Some(dev.sql_version.0), Some(dev.sql_version.1))
            } else {
                (None, None)
            };
            let rec = self.out.rec(Res::LogItems);
            rec.int("LogItemId", li)
                .int("LogId", log_id)
                .int("JobItemId", item.id)
                .text("EngineId", if item.sql { "MSSQL" } else { "FILE" });
            item.fill(rec);
            rec.opt_text("ServerVersion", version)
                .opt_text("ServerEdition", edition);
            if ran {
                rec.textf(
                    "BackupFolder",
                    format_args!("C:\\ProgramData\\CleverFox Backup\\Backups\\{}", job.id),
                );
            }
            if done && item.sql {
                let log = job.kind == JobKind::SqlLog;
                rec.textf(
                    "BackupFileName",
                    format_args!("{}_{stamp}.{}", item.name, if log { "trn" } else { "bak" }),
                )
                .int(
                    "BackupFileSize",
                    if log {
                        r.between(100_000, 250_000_000)
                    } else {
                        r.between(20_000_000, 8_000_000_000)
                    },
                );
            } else if done {
                let scale = [1, 10, 100, 1000][r.below(4) as usize];
                rec.textf("BackupFileName", format_args!("{}_{stamp}.zip", item.id))
                    .int("BackupFileSize", r.between(1_000_000, 15_000_000) * scale)
                    .textf("BackupListName", format_args!("{}_{stamp}.lst", item.id))
                    .int("BackupListSize", r.between(10_000, 20_000_000))
                    .int("BackupListCount", r.between(20, 400_000));
            }
            rec.time("AddedOn", run.added + n as i64);
            self.out.emit(Res::LogItems)?;
        }
        Ok(())
    }
}

/// What a device is made from.
struct DeviceCtx<'a> {
    company: i64,
    /// The device's index within its company.
    k: u64,
    subscription: i64,
    plan: i64,
    added: i64,
    company_until: Option<i64>,
    /// The company's own time zone.
    zone: usize,
    code: &'a str,
    domain: &'a str,
    owner_email: &'a str,
    partner: &'a PartnerProfile,
    locale: &'static Locale,
}

fn databases(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Accounting",
            "CRM",
            "Sales",
            "Inventory",
            "Payroll",
            "WebShop",
            "EMR",
            "Timesheets",
            "Dynamics_NAV",
            "Sage100",
            "Projects",
            "Reporting",
        ],
        Lang::De => &[
            "WaWi",
            "FiBu",
            "Lohn",
            "CRM",
            "Shop",
            "Kasse",
            "Zeiterfassung",
            "DATEV_Kanzlei",
        ],
        Lang::Fr => &[
            "Compta", "Gestion", "Paie", "CRM", "Boutique", "Stocks", "Devis",
        ],
        Lang::Nl => &[
            "Boekhouding",
            "Voorraad",
            "Salaris",
            "CRM",
            "Webshop",
            "Planning",
            "Facturatie",
        ],
    }
}

/// The file server's share root and share names.
fn shares(lang: Lang) -> (&'static str, &'static [&'static str]) {
    match lang {
        Lang::En => (
            "D:\\Shares",
            &[
                "Company",
                "Finance",
                "HR",
                "Projects",
                "Scans",
                "Marketing",
                "Accounting",
                "Clients",
                "Public",
                "Management",
            ],
        ),
        Lang::De => (
            "D:\\Freigaben",
            &[
                "Buchhaltung",
                "Personal",
                "Projekte",
                "Scans",
                "Verwaltung",
                "Mandanten",
                "Vertrieb",
                "Abschlüsse",
                "Allgemein",
            ],
        ),
        Lang::Fr => (
            "D:\\Partages",
            &[
                "Comptabilité",
                "Projets",
                "RH",
                "Commun",
                "Scans",
                "Clients",
                "Direction",
            ],
        ),
        Lang::Nl => (
            "D:\\Shares",
            &[
                "Administratie",
                "Projecten",
                "Personeel",
                "Algemeen",
                "Scans",
                "Klanten",
                "Directie",
            ],
        ),
    }
}

fn documents(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Documents",
        Lang::De => "Dokumente",
        Lang::Fr => "Documents",
        Lang::Nl => "Documenten",
    }
}

fn job_name(r: &mut Rng, lang: Lang, kind: JobKind, freq: Freq, label: &str) -> String {
    use Freq::*;
    match (lang, kind) {
        (Lang::En, JobKind::Sql) => match r.below(3) {
            0 => "Nightly SQL backup".into(),
            1 => format!("SQL Server {label} backup"),
            _ => format!("{label} database backup"),
        },
        (Lang::En, JobKind::SqlLog) => format!("{label} transaction log backup"),
        (Lang::En, JobKind::Files) => match freq {
            Hourly => format!("Hourly {label} backup"),
            Daily if r.percent(40) => "Daily file share backup".into(),
            Daily => format!("Nightly {label} backup"),
            Weekly => "Weekly server files".into(),
            Monthly => "Monthly archive".into(),
            OneTime => format!("One-time copy of {label}"),
        },
        (Lang::De, JobKind::Sql) => format!("SQL-Sicherung {label}"),
        (Lang::De, JobKind::SqlLog) => format!("Transaktionsprotokolle {label}"),
        (Lang::De, JobKind::Files) => match freq {
            Hourly => format!("Stündliche Sicherung {label}"),
            Daily => format!("Tägliche Sicherung {label}"),
            Weekly => "Wöchentliche Dateisicherung".into(),
            Monthly => "Monatsabschluss Archiv".into(),
            OneTime => format!("Einmalige Sicherung {label}"),
        },
        (Lang::Fr, JobKind::Sql) => format!("Sauvegarde SQL {label}"),
        (Lang::Fr, JobKind::SqlLog) => format!("Journaux de transactions {label}"),
        (Lang::Fr, JobKind::Files) => match freq {
            Hourly => format!("Sauvegarde horaire {label}"),
            Daily => format!("Sauvegarde quotidienne {label}"),
            Weekly => "Sauvegarde hebdomadaire des fichiers".into(),
            Monthly => "Archive mensuelle".into(),
            OneTime => format!("Copie unique {label}"),
        },
        (Lang::Nl, JobKind::Sql) => format!("SQL back-up {label}"),
        (Lang::Nl, JobKind::SqlLog) => format!("Transactielogboek {label}"),
        (Lang::Nl, JobKind::Files) => match freq {
            Hourly => format!("Back-up per uur {label}"),
            Daily => format!("Dagelijkse back-up {label}"),
            Weekly => "Wekelijkse back-up bestanden".into(),
            Monthly => "Maandarchief".into(),
            OneTime => format!("Eenmalige back-up {label}"),
        },
    }
}

/// A schedule for a job of `kind` with `logs` runs on record.
fn choose_schedule(r: &mut Rng, kind: JobKind, logs: u64) -> Schedule {
    let minute = r.pick(&[0, 0, 15, 30, 45]);
    if kind == JobKind::SqlLog {
        return Schedule::hourly(r.pick(&[1, 1, 2, 4]), minute, r.pick(&[15, 30, 60]));
    }
    let evening = [
        (19, 0),
        (20, 0),
        (20, 30),
        (21, 0),
        (21, 30),
        (22, 0),
        (22, 15),
        (23, 0),
        (23, 30),
        (0, 30),
        (1, 30),
        (2, 0),
        (3, 0),
        (12, 30),
    ];
    let (h, m) = r.pick(&evening);
    let tod = h * HOUR + m * MINUTE;
    let roll = r.below(100);
    let freq = match (kind, roll) {
        (JobKind::Sql, 0..85) => Freq::Daily,
        (JobKind::Sql, 85..95) => Freq::Weekly,
        (JobKind::Sql, _) => Freq::Hourly,
        (_, 0..10) => Freq::Hourly,
        (_, 10..65) => Freq::Daily,
        (_, 65..83) => Freq::Weekly,
        (_, 83..95) => Freq::Monthly,
        _ if logs <= 1 => Freq::OneTime,
        _ => Freq::Daily,
    };
    let late_daily = r.pick(&[60, 90, 120, 180, 240]);
    match freq {
        Freq::Hourly => {
            Schedule::hourly(r.pick(&[1, 2, 4, 6, 12]), minute, r.pick(&[15, 30, 45, 60]))
        }
        Freq::Daily => Schedule::daily(if r.percent(85) { 1 } else { 2 }, tod, late_daily),
        Freq::Weekly => {
            let (days, every) = if r.percent(25) {
                (0b001_1111, 1) // Monday to Friday
            } else {
                (
                    1u8 << r.pick(&[4u32, 5, 5, 6, 6, 0]),
                    if r.percent(85) { 1 } else { 2 },
                )
            };
            Schedule {
                freq: Freq::Weekly,
                label: "Weekly",
                days,
                ..Schedule::daily(every, tod, r.pick(&[240, 480, 1439]))
            }
        }
        Freq::Monthly => Schedule {
            freq: Freq::Monthly,
            // the vendor's list spells it both ways
            label: if r.percent(25) { "Monthy" } else { "Monthly" },
            dom: if r.percent(50) { 1 } else { r.between(1, 28) },
            ..Schedule::daily(if r.percent(80) { 1 } else { 3 }, tod, 1439)
        },
        Freq::OneTime => Schedule {
            freq: Freq::OneTime,
            label: "One Time",
            ..Schedule::daily(1, tod, r.pick(&[60, 120]))
        },
    }
}

/// The schedule and runs of a job whose `n` runs fall in lo..=hi (local
/// times): the chosen schedule if they fit, else daily, else hourly, else
/// packed evenly.
fn fit_runs(r: &mut Rng, mut sched: Schedule, n: u64, lo: i64, hi: i64) -> (Schedule, Runs) {
    if sched.freq == Freq::OneTime {
        sched.at = if n == 0 {
            // not run yet: due within the next two weeks
            ((NOW + r.between(DAY, 14 * DAY)).div_euclid(DAY)) * DAY + sched.tod
        } else {
            r.between(lo, hi).div_euclid(DAY) * DAY + sched.tod
        };
    }
    if n == 0 {
        return (
            sched,
            Runs::Scheduled {
                first: hi,
                last: hi,
            },
        );
    }
    let candidates = [
        sched,
        Schedule::daily(1, sched.tod, sched.late.min(240)),
        Schedule::hourly(1, sched.tod / MINUTE % 60, sched.late.min(60)),
    ];
    for s in candidates {
        // a fallback with a shorter LateAfter may end later
        if let Some((first, last)) = s.fit(n, lo, hi) {
            return (s, Runs::Scheduled { first, last });
        }
    }
    let hourly = Schedule::hourly(1, 0, sched.late.min(60));
    let spacing = (hi - lo) / n.max(1) as i64;
    (hourly, Runs::Packed { first: lo, spacing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for day in [-1000, 0, 59, 10_000, 20_784] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        let jan31 = days_from_civil(2024, 1, 31) * DAY + HOUR;
        assert_eq!(
            add_months(jan31, 1),
            days_from_civil(2024, 2, 29) * DAY + HOUR
        );
        assert_eq!(weekday(days_from_civil(2026, 11, 27)), 4); // a Friday
    }

    #[test]
    fn schedules_step_back_and_forth() {
        let weekdays = Schedule {
            freq: Freq::Weekly,
            label: "Weekly",
            days: 0b001_1111,
            ..Schedule::daily(1, 22 * HOUR, 240)
        };
        let monthly = Schedule {
            freq: Freq::Monthly,
            label: "Monthly",
            dom: 15,
            ..Schedule::daily(1, 3 * HOUR, 1439)
        };
        for s in [
            Schedule::hourly(4, 15, 30),
            Schedule::daily(2, 21 * HOUR, 60),
            weekdays,
            monthly,
        ] {
            let last = s.latest(NOW);
            assert!(last <= NOW);
            assert!(s.step(last, true) > NOW, "{s:?}");
            assert_eq!(s.step(s.step(last, false), true), last, "{s:?}");
        }
        let sat = weekdays.latest(days_from_civil(2026, 11, 28) * DAY + 23 * HOUR);
        assert_eq!(sat, days_from_civil(2026, 11, 27) * DAY + 22 * HOUR);
    }

    #[test]
    fn every_zone_has_rules() {
        let z = Zones::load();
        assert!(z.list.len() > 100);
        let missing: Vec<_> = z.list.iter().filter(|(_, tz)| tz.is_none()).collect();
        assert!(missing.is_empty(), "{missing:?}");
        for l in &LOCALES {
            for c in l.cities {
                assert!(rules::is_time_zone(c.zone), "{}", c.zone);
            }
        }
        for zone in TRAVEL_ZONES {
            assert!(rules::is_time_zone(zone), "{zone}");
        }
        let ny = z.find("Eastern Standard Time");
        assert_eq!(z.offset(ny, NOW), -5 * HOUR);
        assert_eq!(z.utc(ny, z.local(ny, NOW)), NOW);
    }

    #[test]
    fn names_fold_into_domains_and_prefixes() {
        assert_eq!(
            domain_of("Bäckerei Hofmann GmbH"),
            "baeckerei-hofmann.example.com"
        );
        assert_eq!(initials("Great Lakes Dental Group, PC"), "GLD");
        assert_eq!(initials("Apotheke am Markt"), "AM");
        assert_eq!(fold("Élodie O'Brien"), "elodieobrien");
    }

    #[test]
    fn the_stream_is_stable() {
        let mut r = Rng::derive(42, 1, 2, 3);
        let a: Vec<u64> = (0..3).map(|_| r.next()).collect();
        let mut r = Rng::derive(42, 1, 2, 3);
        let b: Vec<u64> = (0..3).map(|_| r.next()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::derive(42, 1, 2, 4).next(), a[0]);
        let mut r = Rng::derive(7, 0, 0, 0);
        assert!((0..1000).all(|_| (3..=5).contains(&r.between(3, 5))));
    }
}
