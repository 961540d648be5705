//! Loading and checking fixtures (API.md section 5): a directory with one
//! file per collection plus `apikeys.json`, or a single bundle file.
//!
//! Every problem is collected, with file, line, column, record and attribute,
//! rather than stopping at the first. A collection file is scanned for its
//! records (`json_scan`) and each record is parsed on its own straight into
//! stored values, so a large file never becomes one big JSON tree.

use std::collections::HashSet;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::faults::FaultRule;
use super::json_scan::{self, LineIndex, ScanError};
use super::value::{ArcStr, Val};
use super::{ApiKey, KeyKind, Record, State};
use crate::api::schema::Attr;
use crate::api::schema::{Res, ResourceInfo};
use crate::api::validate::{Scalar, describe, scalar_value};

/// Slots of the string cache of a load (a power of two).
const INTERN_SLOTS: usize = 1 << 16;

/// The name of the API key file in a fixtures directory (and its member in a bundle).
pub const APIKEYS: &str = "apikeys";
/// The sandbox settings file (faults), loaded by the control API.
pub const SANDBOX: &str = "sandbox";

/// One problem in the fixtures, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The record's primary key, as `DeviceId 3`, when known.
    pub record: Option<String>,
    pub attr: Option<String>,
    pub message: String,
}

impl Problem {
    /// A problem with a whole file (or directory): placed at its start.
    pub fn whole(path: impl fmt::Display, message: impl Into<String>) -> Problem {
        Problem {
            file: path.to_string(),
            line: 1,
            column: 1,
            record: None,
            attr: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(r) = &self.record {
            write!(f, "{r}: ")?;
        }
        if let Some(a) = &self.attr {
            write!(f, "{a}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A successful load.
pub struct Loaded {
    pub state: State,
    /// Files read.
    pub files: usize,
    /// Records loaded, over all collections.
    pub records: usize,
}

/// Loads and checks the fixtures at `path` (a directory or a bundle file).
/// `now_ms` stamps the state's `loaded_at`.
pub fn load(path: &Path, now_ms: i64) -> Result<Loaded, Vec<Problem>> {
    let mut loader = Loader::new();
    if path.is_dir() {
        loader.load_dir(path);
    } else if path.exists() {
        loader.load_bundle(path);
    } else {
        loader.problems.push(Problem::whole(
            path.display(),
            "no such fixtures directory or bundle file",
        ));
    }
    loader.finish(now_ms)
}

/// Loads and checks a bundle received as bytes (`PUT /_sandbox/snapshot`);
/// `label` names it in problems.
pub fn load_bundle_bytes(label: &str, bytes: Vec<u8>, now_ms: i64) -> Result<Loaded, Vec<Problem>> {
    let mut loader = Loader::new();
    loader.load_bundle_text(Text {
        label: label.to_string(),
        bytes,
    });
    loader.finish(now_ms)
}

impl Loader {
    fn new() -> Loader {
        Loader {
            state: State::empty(),
            problems: Vec::new(),
            interner: vec![None; INTERN_SLOTS],
            files: 0,
            incomplete: HashSet::new(),
        }
    }

    fn finish(self, now_ms: i64) -> Result<Loaded, Vec<Problem>> {
        let loader = self;
        if !loader.problems.is_empty() {
            return Err(loader.problems);
        }
        let mut state = loader.state;
        state.loaded_at = now_ms;
        seed_tokens(&mut state);
        let records = state.tables.iter().map(|t| t.rows.len()).sum();
        Ok(Loaded {
            state,
            files: loader.files,
            records,
        })
    }
}

/// Tokens stored in loaded records stay used for the window after the
/// record's last write, so a snapshot loaded again keeps refusing repeats.
fn seed_tokens(state: &mut State) {
    let mut used = Vec::new();
    for res in Res::ALL {
        let info = res.info();
        let (Some(token), Some(added)) = (info.slot("Token"), info.slot("AddedOn")) else {
            continue;
        };
        let updated = info.slot("UpdatedOn");
        for rec in state.table(res).rows.values() {
            if let Val::Str(t) = &rec.vals[token] {
                let at = |s: usize| match rec.vals[s] {
                    Val::Time(ms) => ms,
                    _ => i64::MIN,
                };
                let when = at(added).max(updated.map_or(i64::MIN, at));
                if when > i64::MIN {
                    used.push(((rec.owner, t.to_string()), when));
                }
            }
        }
    }
    state.tokens.extend(used);
}

/// One JSON text being loaded.
struct Text {
    label: String,
    bytes: Vec<u8>,
}

impl Text {
    fn read(path: &Path) -> Result<Text, Problem> {
        let label = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => Ok(Text { label, bytes }),
            Err(e) => Err(Problem::whole(label, format!("cannot read the file: {e}"))),
        }
    }
}

/// Where things are in one text, for problem reports.
struct Locator<'a> {
    text: &'a Text,
    /// Built on the first problem only: most loads have none.
    lines: std::cell::OnceCell<LineIndex<'a>>,
}

impl<'a> Locator<'a> {
    fn lines(&self) -> &LineIndex<'a> {
        self.lines.get_or_init(|| LineIndex::new(&self.text.bytes))
    }

    fn problem(
        &self,
        offset: usize,
        record: Option<String>,
        attr: Option<&str>,
        message: String,
    ) -> Problem {
        let (line, column) = self.lines().line_col(offset);
        Problem {
            file: self.text.label.clone(),
            line,
            column,
            record,
            attr: attr.map(str::to_string),
            message,
        }
    }

    fn scan_problem(&self, e: ScanError) -> Problem {
        self.problem(e.offset, None, None, format!("invalid JSON: {}", e.message))
    }

    /// A serde_json error raised while parsing the slice starting at `base`.
    fn json_problem(&self, base: usize, e: &serde_json::Error, record: Option<String>) -> Problem {
        let offset = self.lines().offset_of(base, e.line(), e.column());
        let mut msg = e.to_string();
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        if e.is_syntax() || e.is_eof() {
            msg = format!("invalid JSON: {msg}");
        }
        self.problem(offset, record, None, msg)
    }

    /// Where attribute `name` of the record at `start` is written.
    fn attr_offset(&self, start: usize, name: &str) -> usize {
        json_scan::object_members(&self.text.bytes, start)
            .ok()
            .and_then(|ms| ms.into_iter().find(|m| m.key == name))
            .map_or(start, |m| m.key_offset)
    }
}

struct Loader {
    state: State,
    problems: Vec<Problem>,
    /// Equal strings share one allocation (time zones, statuses, folders…).
    interner: Vec<Option<ArcStr>>,
    files: usize,
    /// Collections that could not be read whole: references into them are
    /// not reported as missing (the problem is already reported).
    incomplete: HashSet<Res>,
}

impl Loader {
    fn load_dir(&mut self, dir: &Path) {
        let known: Vec<String> = Res::ALL
            .iter()
            .map(|r| r.name())
            .chain([APIKEYS, SANDBOX])
            .map(|n| format!("{n}.json"))
            .collect();
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut unknown: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.ends_with(".json")
                        && !name.starts_with('.')
                        && !known.iter().any(|k| k == name)
                })
                .collect();
            unknown.sort();
            for p in unknown {
                self.problems.push(Problem::whole(p.display(), format!(
                        "not a collection of the API; fixture files are named after their collection: {}",
                        known.join(", ")
                    )));
            }
        } else {
            self.problems.push(Problem::whole(
                dir.display(),
                "cannot read the fixtures directory",
            ));
            return;
        }
        for res in Res::ALL {
            let path = dir.join(format!("{}.json", res.name()));
            if !path.exists() {
                continue; // a missing collection file is an empty collection
            }
            match Text::read(&path) {
                Ok(text) => {
                    self.files += 1;
                    let loc = Locator {
                        lines: std::cell::OnceCell::new(),
                        text: &text,
                    };
                    match self.top_level_array(&loc) {
                        Some(start) => {
                            // a bare array is the whole file; a List response's is not
                            let whole = start == json_scan::skip_ws(&loc.text.bytes, 0);
                            self.load_collection(res, &loc, start, whole);
                        }
                        None => {
                            self.incomplete.insert(res);
                        }
                    }
                }
                Err(p) => {
                    self.problems.push(p);
                    self.incomplete.insert(res);
                }
            }
        }
        let sandbox = dir.join(format!("{SANDBOX}.json"));
        if sandbox.exists() {
            match Text::read(&sandbox) {
                Ok(text) => {
                    self.files += 1;
                    let loc = Locator {
                        lines: std::cell::OnceCell::new(),
                        text: &text,
                    };
                    let start = json_scan::skip_ws(&text.bytes, 0);
                    self.check_trailing(&loc, start);
                    self.load_sandbox(&loc, start);
                }
                Err(p) => self.problems.push(p),
            }
        }
        let path = dir.join(format!("{APIKEYS}.json"));
        if !path.exists() {
            self.problems.push(Problem::whole(
                path.display(),
                "missing: without API keys no request can authenticate \
                          (see API.md section 5 for the format)",
            ));
            return;
        }
        match Text::read(&path) {
            Ok(text) => {
                self.files += 1;
                let loc = Locator {
                    lines: std::cell::OnceCell::new(),
                    text: &text,
                };
                if let Some(start) = self.top_level_array(&loc) {
                    self.load_keys(&loc, start);
                }
            }
            Err(p) => self.problems.push(p),
        }
    }

    fn load_bundle(&mut self, path: &Path) {
        match Text::read(path) {
            Ok(t) => self.load_bundle_text(t),
            Err(p) => self.problems.push(p),
        }
    }

    fn load_bundle_text(&mut self, text: Text) {
        self.files = 1;
        let loc = Locator {
            lines: std::cell::OnceCell::new(),
            text: &text,
        };
        let b = &text.bytes;
        let start = json_scan::skip_ws(b, 0);
        let members = match json_scan::object_members(b, start) {
            Ok(m) => m,
            Err(e) => {
                let msg = if b.get(start) == Some(&b'{') {
                    return self.problems.push(loc.scan_problem(e));
                } else {
                    "a bundle file is one JSON object: {\"companies\": [...], …, \"apikeys\": [...]}"
                };
                return self
                    .problems
                    .push(loc.problem(start, None, None, msg.into()));
            }
        };
        self.check_trailing(&loc, start);
        let mut keys = None;
        let mut sandbox = None;
        let mut parts: Vec<(Res, usize)> = Vec::new();
        for m in &members {
            if let Some(res) = Res::ALL.into_iter().find(|r| r.name() == m.key) {
                parts.push((res, m.value.0));
            } else if m.key == APIKEYS {
                keys = Some(m.value.0);
            } else if m.key == SANDBOX {
                sandbox = Some(m.value.0);
            } else {
                let msg = format!("\"{}\" is not a collection of the API", m.key);
                self.problems
                    .push(loc.problem(m.key_offset, None, None, msg));
            }
        }
        parts.sort_by_key(|(r, _)| *r);
        for (res, start) in parts {
            match self.records_array(&loc, start) {
                Some(start) => self.load_collection(res, &loc, start, false),
                None => {
                    self.incomplete.insert(res);
                }
            }
        }
        if let Some(start) = sandbox {
            self.load_sandbox(&loc, start);
        }
        match keys.and_then(|s| self.records_array(&loc, s)) {
            Some(s) => self.load_keys(&loc, s),
            None if keys.is_none() => self.problems.push(
                loc.problem(
                    start,
                    None,
                    None,
                    "the bundle has no \"apikeys\": without API keys no request can authenticate"
                        .into(),
                ),
            ),
            None => {}
        }
    }

    /// The start of the records array of a whole file; reports problems.
    fn top_level_array(&mut self, loc: &Locator) -> Option<usize> {
        let start = json_scan::skip_ws(&loc.text.bytes, 0);
        if start >= loc.text.bytes.len() {
            let p = loc.problem(
                start,
                None,
                None,
                "the file is empty: expected a JSON array of records".into(),
            );
            self.problems.push(p);
            return None;
        }
        if loc.text.bytes[start] != b'[' {
            // A pasted List response: its trailing text is checked here; a
            // bare array's by the parser (see `load_collection`).
            self.check_trailing(loc, start);
        }
        self.records_array(loc, start)
    }

    /// Reports anything after the top-level value starting at `start`.
    fn check_trailing(&mut self, loc: &Locator, start: usize) {
        let b = &loc.text.bytes;
        if let Ok(end) = json_scan::value_end(b, start) {
            let rest = json_scan::skip_ws(b, end);
            if rest < b.len() {
                let p = loc.problem(
                    rest,
                    None,
                    None,
                    "unexpected text after the end of the JSON value".into(),
                );
                self.problems.push(p);
            }
        }
    }

    /// The array of records at `start`: either the array itself or the
    /// `data` of a List response pasted as is.
    fn records_array(&mut self, loc: &Locator, start: usize) -> Option<usize> {
        let b = &loc.text.bytes;
        match b.get(start) {
            Some(b'[') => Some(start),
            Some(b'{') => match json_scan::object_members(b, start) {
                Ok(ms) => match ms.iter().find(|m| m.key == "data") {
                    Some(m) if b.get(m.value.0) == Some(&b'[') => Some(m.value.0),
                    _ => {
                        let msg = "expected an array of records, or a List response whose \"data\" is one".into();
                        self.problems.push(loc.problem(start, None, None, msg));
                        None
                    }
                },
                Err(e) => {
                    self.problems.push(loc.scan_problem(e));
                    None
                }
            },
            _ => {
                let p = loc.problem(start, None, None, "expected a JSON array of records".into());
                self.problems.push(p);
                None
            }
        }
    }

    /// Shares equal strings through a fixed-size, direct-mapped cache: values
    /// that repeat (time zones, statuses, folders) are stored once, unique
    /// ones (keys, names) pass through without growing a table.
    fn intern(&mut self, s: &str) -> ArcStr {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let hash = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(s);
        let slot = &mut self.interner[(hash as usize) & (INTERN_SLOTS - 1)];
        match slot {
            Some(a) if a.as_str() == s => a.clone(),
            _ => {
                let a = ArcStr::from(s);
                *slot = Some(a.clone());
                a
            }
        }
    }

    /// Loads the records array at `start`; `whole_file` when nothing but
    /// white space may follow it.
    fn load_collection(&mut self, res: Res, loc: &Locator, start: usize, whole_file: bool) {
        let info = res.info();
        let b = &loc.text.bytes;
        // Fast path: the whole array in one pass of the parser. Where anything
        // is wrong, the located path below finds every problem's position.
        let fast = {
            let mut de = serde_json::Deserializer::from_slice(&b[start..]);
            RecordsSeed { info, loader: self }
                .deserialize(&mut de)
                .ok()
                .filter(|recs| recs.iter().all(|(_, problems)| problems.is_empty()))
                .filter(|_| !whole_file || de.end().is_ok())
        };
        let records: Vec<(Option<usize>, Parsed)> = match fast {
            Some(recs) => recs.into_iter().map(|p| (None, p)).collect(),
            None => {
                if whole_file {
                    self.check_trailing(loc, start);
                }
                match self.parse_located(res, loc, start) {
                    Some(recs) => recs,
                    None => return,
                }
            }
        };
        // Record positions in the fast path, computed on the first problem.
        let mut items: Option<Vec<(usize, usize)>> = None;
        let mut position = |n: usize, known: Option<usize>| {
            known.unwrap_or_else(|| {
                let items = items
                    .get_or_insert_with(|| json_scan::array_items(b, start).unwrap_or_default());
                items.get(n).map_or(start, |(s, _)| *s)
            })
        };
        let key_name = info.key_name();
        for (n, (known, (vals, attr_problems))) in records.into_iter().enumerate() {
            let key = vals[info.key_slot].as_int();
            let record = key.map(|k| format!("{key_name} {k}"));
            let key_reported = attr_problems.iter().any(|(a, _)| a == key_name);
            for (attr, msg) in attr_problems {
                let s = position(n, known);
                let p = loc.problem(loc.attr_offset(s, &attr), record.clone(), Some(&attr), msg);
                self.problems.push(p);
            }
            let Some(key) = key.filter(|k| *k > 0) else {
                if !key_reported {
                    let s = position(n, known);
                    let msg = format!(
                        "every record needs its primary key {key_name}, a positive integer"
                    );
                    self.problems.push(loc.problem(
                        loc.attr_offset(s, key_name),
                        None,
                        Some(key_name),
                        msg,
                    ));
                }
                continue;
            };
            if self.state.table(res).rows.contains_key(&key) {
                let msg = format!("{key_name} {key} appears more than once in {}", res.name());
                self.problems
                    .push(loc.problem(position(n, known), record, None, msg));
                continue;
            }
            if !info.def.history {
                for (attr, msg) in self.check_references(info, &vals) {
                    let s = position(n, known);
                    let p = loc.problem(loc.attr_offset(s, attr), record.clone(), Some(attr), msg);
                    self.problems.push(p);
                }
            }
            let owner = self.state.owner_of(info, key, &vals);
            self.state.tables[res.index()]
                .rows
                .insert(key, Record { vals, owner });
        }
        self.state.tables[res.index()].build_indexes(info);
    }

    /// Parses the records one by one from their scanned positions, so every
    /// problem, syntax errors included, can be located and the rest still
    /// parsed. `None` when the array itself cannot be scanned.
    fn parse_located(
        &mut self,
        res: Res,
        loc: &Locator,
        start: usize,
    ) -> Option<Vec<(Option<usize>, Parsed)>> {
        let info = res.info();
        let b = &loc.text.bytes;
        let items = match json_scan::array_items(b, start) {
            Ok(items) => items,
            Err(e) => {
                self.incomplete.insert(res);
                self.problems.push(loc.scan_problem(e));
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (s, e) in items {
            if b[s] != b'{' {
                let msg = format!("a record of {} must be a JSON object", res.name());
                self.problems.push(loc.problem(s, None, None, msg));
                continue;
            }
            let mut de = serde_json::Deserializer::from_slice(&b[s..e]);
            match (RecordSeed { info, loader: self }).deserialize(&mut de) {
                Ok(parsed) => out.push((Some(s), parsed)),
                Err(err) => {
                    self.problems.push(loc.json_problem(s, &err, None));
                    self.incomplete.insert(res);
                }
            }
        }
        Some(out)
    }

    /// References of a non-history record that name no loaded record.
    fn check_references(&self, info: &ResourceInfo, vals: &[Val]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (slot, a) in info.stored() {
            let (Some(target), Some(id)) = (a.refs, vals[slot].as_int()) else {
                continue;
            };
            let Some(rec) = self.state.get(target, id) else {
                if self.incomplete.contains(&target) {
                    continue; // its file's problem is reported already
                }
                out.push((
                    a.name,
                    format!(
                        "names {} {id}, which does not exist in {}",
                        a.name,
                        target.name()
                    ),
                ));
                continue;
            };
            // (no point comparing with an attribute already reported as missing)
            if let Some(same) = a.same.filter(|same| !out.iter().any(|(n, _)| n == same)) {
                let (mine, theirs) = (info.slot(same), target.info().slot(same));
                if let (Some(m), Some(t)) = (mine, theirs)
                    && vals[m] != rec.vals[t]
                {
                    let msg = format!("names {} {id}, which belongs to another {same}", a.name);
                    out.push((a.name, msg));
                }
            }
        }
        out
    }

    /// `sandbox.json` (or a bundle's `sandbox`): `{"faults": [rules]}`.
    fn load_sandbox(&mut self, loc: &Locator, start: usize) {
        let b = &loc.text.bytes;
        let members = match json_scan::object_members(b, start) {
            Ok(m) => m,
            Err(e) => {
                let msg = format!("expected {{\"faults\": [rules]}}: {}", e.message);
                return self.problems.push(loc.problem(e.offset, None, None, msg));
            }
        };
        for m in members {
            if m.key != "faults" {
                let msg = format!(
                    "\"{}\" is not a sandbox setting (expected \"faults\")",
                    m.key
                );
                self.problems
                    .push(loc.problem(m.key_offset, None, None, msg));
                continue;
            }
            let items = match json_scan::array_items(b, m.value.0) {
                Ok(items) => items,
                Err(e) => {
                    self.problems.push(loc.scan_problem(e));
                    continue;
                }
            };
            for (s, e) in items {
                let value: serde_json::Value = match serde_json::from_slice(&b[s..e]) {
                    Ok(v) => v,
                    Err(err) => {
                        self.problems.push(loc.json_problem(s, &err, None));
                        continue;
                    }
                };
                match FaultRule::parse(&value) {
                    Ok(rule) => self.state.faults.push(rule),
                    Err(errors) => {
                        for msg in errors {
                            self.problems.push(loc.problem(
                                s,
                                Some("fault rule".into()),
                                None,
                                msg,
                            ));
                        }
                    }
                }
            }
        }
    }

    fn load_keys(&mut self, loc: &Locator, start: usize) {
        use serde_json::Value as J;
        const ATTRS: [&str; 4] = ["ApiKey", "PartnerId", "PartnerPlan", "Admin"];
        let b = &loc.text.bytes;
        let items = match json_scan::array_items(b, start) {
            Ok(items) => items,
            Err(e) => return self.problems.push(loc.scan_problem(e)),
        };
        for (s, e) in items {
            let entry: serde_json::Map<String, J> = match serde_json::from_slice(&b[s..e]) {
                Ok(v) => v,
                Err(err) => {
                    self.problems.push(loc.json_problem(s, &err, None));
                    continue;
                }
            };
            let problems_before = self.problems.len();
            let mut fail = |attr: &str, msg: String| {
                self.problems
                    .push(loc.problem(loc.attr_offset(s, attr), None, Some(attr), msg));
            };
            for name in entry.keys().filter(|k| !ATTRS.contains(&k.as_str())) {
                fail(
                    name,
                    format!(
                        "unknown attribute of an API key entry (expected {})",
                        ATTRS.join(", ")
                    ),
                );
            }
            let mut flag = |name: &str| match entry.get(name) {
                None | Some(J::Null) => None,
                Some(J::Bool(v)) => Some(*v),
                Some(v) => {
                    fail(name, format!("must be true or false, not {}", describe(v)));
                    None
                }
            };
            let (partner_plan, admin) = (flag("PartnerPlan"), flag("Admin"));
            let partner_id = match entry.get("PartnerId") {
                None | Some(J::Null) => None,
                Some(J::Number(n)) if n.is_i64() => n.as_i64(),
                Some(v) => {
                    fail(
                        "PartnerId",
                        format!("must be an integer, not {}", describe(v)),
                    );
                    None
                }
            };
            let key = match entry.get("ApiKey") {
                Some(J::String(k)) => k.clone(),
                Some(v) => {
                    fail("ApiKey", format!("must be a string, not {}", describe(v)));
                    continue;
                }
                None => {
                    fail("ApiKey", "every entry needs its ApiKey".into());
                    continue;
                }
            };
            if self.problems.len() > problems_before {
                continue;
            }
            let mut fail = |attr: &str, msg: String| {
                self.problems
                    .push(loc.problem(loc.attr_offset(s, attr), None, Some(attr), msg));
            };
            if key.is_empty() || key.contains(':') || key.chars().any(char::is_control) {
                fail(
                    "ApiKey",
                    "must be a non-empty string without ':' or control characters".into(),
                );
                continue;
            }
            if self.state.key_index.contains_key(&super::key_digest(&key)) {
                fail("ApiKey", "the same key appears more than once".into());
                continue;
            }
            let kind = if admin == Some(true) {
                if partner_id.is_some() {
                    fail(
                        "PartnerId",
                        "an Admin key opens the sandbox control API and names no partner".into(),
                    );
                    continue;
                }
                KeyKind::Admin
            } else {
                match partner_id {
                    Some(pid) if self.state.get(Res::Partners, pid).is_some() => KeyKind::Partner {
                        partner_id: pid,
                        partner_plan: partner_plan.unwrap_or(false),
                    },
                    Some(pid) => {
                        fail(
                            "PartnerId",
                            format!("names PartnerId {pid}, which does not exist in partners"),
                        );
                        continue;
                    }
                    None => {
                        fail(
                            "PartnerId",
                            "a partner key needs PartnerId (or \"Admin\": true for an admin key)"
                                .into(),
                        );
                        continue;
                    }
                }
            };
            self.state.add_key(ApiKey { key, kind });
        }
    }
}

/// Parses a whole array of records in one pass.
struct RecordsSeed<'a> {
    info: &'static ResourceInfo,
    loader: &'a mut Loader,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = Vec<Parsed>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Parsed>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = Vec<Parsed>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of records of {}", self.info.def.name)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Parsed>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(p) = seq.next_element_seed(RecordSeed {
            info: self.info,
            loader: &mut *self.loader,
        })? {
            out.push(p);
        }
        Ok(out)
    }
}

/// Parses one record straight into stored values, collecting attribute
/// problems instead of stopping at the first.
struct RecordSeed<'a> {
    info: &'static ResourceInfo,
    loader: &'a mut Loader,
}

type Parsed = (Box<[Val]>, Vec<(String, String)>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Parsed;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a record of {}", self.info.def.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let info = self.info;
        let mut vals = vec![Val::Null; info.slots.len()].into_boxed_slice();
        let mut seen = vec![false; info.def.attrs.len()];
        let mut problems = Vec::new();
        let mut guess = 0; // attributes usually come in table order
        while let Some(found) = map.next_key_seed(KeySeed { info, guess })? {
            let i = match found {
                Ok(i) => i,
                Err(name) => {
                    map.next_value::<IgnoredAny>()?;
                    let msg = format!(
                        "unknown attribute of {} (attribute names are case-sensitive)",
                        info.def.name
                    );
                    problems.push((name, msg));
                    continue;
                }
            };
            guess = i + 1;
            let a = &info.def.attrs[i];
            if std::mem::replace(&mut seen[i], true) {
                map.next_value::<IgnoredAny>()?;
                problems.push((
                    a.name.to_string(),
                    "given more than once in the same record".into(),
                ));
                continue;
            }
            let Some(slot) = info.slot_of[i] else {
                map.next_value::<IgnoredAny>()?; // embedded objects and child arrays are ignored
                continue;
            };
            let loader = &mut *self.loader;
            match map.next_value_seed(ScalarSeed { attr: a, loader })? {
                Ok(v) => vals[slot] = v,
                Err(msg) => problems.push((a.name.to_string(), msg)),
            }
        }
        Ok((vals, problems))
    }
}

/// Converts one attribute value as the parser reads it, without building a
/// JSON value: strings are interned straight from the input.
struct ScalarSeed<'a> {
    attr: &'static Attr,
    loader: &'a mut Loader,
}

impl<'de> DeserializeSeed<'de> for ScalarSeed<'_> {
    type Value = Result<Val, String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl ScalarSeed<'_> {
    fn convert(self, v: Scalar) -> Result<Val, String> {
        let loader = self.loader;
        scalar_value(self.attr, v, &mut |t| loader.intern(t))
    }
}

impl<'de> Visitor<'de> for ScalarSeed<'_> {
    type Value = Result<Val, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Null))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(self.convert(match i64::try_from(u) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Other(u.to_string()),
        }))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Other(f.to_string())))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(self.convert(Scalar::Str(s)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.convert(Scalar::Other("an array".into())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.convert(Scalar::Other("an object".into())))
    }
}

/// Looks an attribute name up without allocating: the attribute's index, or
/// the unknown name. `guess` is the attribute expected next.
struct KeySeed {
    info: &'static ResourceInfo,
    guess: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Result<usize, String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Result<usize, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute name")
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
        if self
            .info
            .def
            .attrs
            .get(self.guess)
            .is_some_and(|a| a.name == name)
        {
            return Ok(Ok(self.guess));
        }
        Ok(self
            .info
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| name.to_string()))
    }
}
