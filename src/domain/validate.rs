//! Validation against a resource table: JSON values to stored values (for
//! fixtures and request bodies alike), and the rules of a POST or PUT body
//! (API.md sections 2 and 4). All the problems of a request are reported
//! together; nothing here changes the store.

use std::collections::BTreeSet;

use serde_json::Value;

use super::build;
use super::engine::scoped_get;
use super::input::Input;
use super::rules::{self, CheckCtx};
use super::schema::{Attr, Kind, Res, ResourceInfo, Rule, flag};
use super::state::State;
use super::value::Val;
use crate::domain::value::{ArcStr, TimestampError, parse_timestamp, parse_utc_timestamp};

/// One problem of a body or record: the attribute it is about (none for a
/// name the table lacks) and the sentence that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub attribute: Option<&'static str>,
    pub message: String,
}

impl Problem {
    /// A problem of `attribute`.
    pub fn of(attribute: &'static str, message: String) -> Problem {
        Problem {
            attribute: Some(attribute),
            message,
        }
    }
}

/// Describes a JSON value in an error message (shortened).
pub fn describe(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Refuses a string longer than the attribute's stated length (counted in
/// UTF-16 code units, as the vendor's platform counts).
pub fn check_length(a: &Attr, s: &str) -> Result<(), String> {
    let max = a.max_len as usize;
    if max > 0 && s.len() > max {
        let n = s.encode_utf16().count();
        if n > max {
            return Err(format!("is {n} characters long; at most {max} are allowed"));
        }
    }
    Ok(())
}

/// One JSON value as the conversion sees it, borrowed from the parser.
#[derive(Debug)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    /// Anything else (a fraction, an array, an object), described for the
    /// error message.
    Other(String),
}

/// A JSON number that is a whole number within `i64`: written `7`, or
/// `7.0` / `7e0` (JSON Schema counts those as integers too, API.md section 7).
pub fn whole(n: &serde_json::Number) -> Option<i64> {
    n.as_i64()
        .or_else(|| n.as_f64().and_then(super::input::whole))
}

impl<'a> Scalar<'a> {
    pub fn of(v: &'a Value) -> Scalar<'a> {
        match v {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match whole(n) {
                Some(i) => Scalar::Int(i),
                None => Scalar::Other(describe(v)),
            },
            Value::String(s) => Scalar::Str(s),
            other => Scalar::Other(describe(other)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Str(s) => describe(&Value::String(s.to_string())),
            Scalar::Other(d) => d.clone(),
        }
    }
}

/// Converts one JSON value by the attribute's type and length. The message
/// of a refusal does not name the attribute (callers add it).
pub fn json_value(
    a: &Attr,
    v: &Value,
    intern: &mut dyn FnMut(&str) -> ArcStr,
) -> Result<Val, String> {
    scalar_value(a, Scalar::of(v), intern)
}

/// [`json_value`] for a value the fixture parser hands over without
/// building a JSON tree.
pub fn scalar_value(
    a: &Attr,
    v: Scalar,
    intern: &mut dyn FnMut(&str) -> ArcStr,
) -> Result<Val, String> {
    match (a.kind, v) {
        (Kind::Obj { .. } | Kind::Arr { .. }, _) | (_, Scalar::Null) => Ok(Val::Null),
        (Kind::Int, Scalar::Int(i)) => Ok(Val::Int(i)),
        (Kind::Int, v) => Err(format!("must be an integer, not {}", v.describe())),
        (Kind::Bool, Scalar::Bool(b)) => Ok(Val::Bool(b)),
        (Kind::Bool, v) => Err(format!("must be true, false or null, not {}", v.describe())),
        (Kind::Str, Scalar::Str(s)) => {
            check_length(a, s)?;
            Ok(Val::Str(intern(s)))
        }
        (Kind::Str, v) => Err(format!("must be a string, not {}", v.describe())),
        (Kind::Utc, Scalar::Str(s)) => parse_utc_timestamp(s).map(Val::Time).map_err(|_| {
            format!("must be a UTC timestamp written YYYY-MM-DDTHH:MM:SS.mmm, not \"{s}\"")
        }),
        (Kind::Local, Scalar::Str(s)) => parse_timestamp(s).map(Val::Time).map_err(|e| match e {
            TimestampError::HasZone => {
                "is a local time of the device and must not carry a zone designator \
                 (Z, +02:00): send it as YYYY-MM-DDTHH:MM:SS"
                    .to_string()
            }
            TimestampError::Malformed => {
                format!("must be a local time written YYYY-MM-DDTHH:MM[:SS[.mmm]], not \"{s}\"")
            }
        }),
        (Kind::Utc | Kind::Local, v) => {
            Err(format!("must be a timestamp string, not {}", v.describe()))
        }
    }
}

/// Create or update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// A body that passed validation: the record as it will be stored, and why
/// anything sent was ignored.
#[derive(Debug)]
pub struct Validated {
    pub vals: Vec<Val>,
    pub warnings: Vec<String>,
}

/// What the caller asks of [`validate`].
pub struct Request<'a> {
    pub info: &'static ResourceInfo,
    pub mode: Mode,
    pub partner: i64,
    /// The record's id (the id it will get, on create).
    pub id: i64,
    /// The stored record, on update.
    pub base: Option<&'a [Val]>,
    pub body: &'a Input<'a>,
    /// Refuse unknown and read-only attributes instead of ignoring them.
    pub strict: bool,
}

/// Whether the attribute takes input in this mode.
fn writable(a: &Attr, mode: Mode) -> bool {
    a.is_stored() && !a.has(flag::RO) && !(mode == Mode::Update && a.has(flag::POST))
}

/// What validation found so far.
#[derive(Default)]
struct Findings {
    /// (attribute index, problem): sorted so problems come in table order.
    problems: Vec<(usize, Problem)>,
    /// Attributes ignored (unknown or not writable, when not strict).
    warnings: Vec<String>,
    /// Attributes whose value was refused, so their rules are not checked.
    failed: BTreeSet<usize>,
}

impl Findings {
    /// A problem of the attribute with index `i`.
    fn refuse(&mut self, i: usize, a: &'static Attr, message: String) {
        self.problems.push((i, Problem::of(a.name, message)));
    }
}

/// Validates a body against the resource's rules. On update the body is
/// merged into the stored record, and the merged record must satisfy every
/// rule.
pub fn validate(state: &State, req: &Request) -> Result<Validated, Vec<Problem>> {
    let info = req.info;
    let mut vals = req
        .base
        .map_or_else(|| vec![Val::Null; info.slots.len()], <[Val]>::to_vec);
    let mut found = read_body(req, &mut vals);
    check_attrs(state, req, &mut vals, &mut found);
    let refused: Vec<&'static str> = found
        .failed
        .iter()
        .map(|&i| info.def.attrs[i].name)
        .collect();
    let ctx = CheckCtx {
        state,
        info,
        vals: &vals,
        old: req.base,
        id: req.id,
        refused: &refused,
    };
    let mut checks: Vec<Problem> = info.def.write.checks.iter().flat_map(|c| c(&ctx)).collect();
    found.problems.sort_by_key(|(i, _)| *i);
    let mut all: Vec<Problem> = found.problems.into_iter().map(|(_, p)| p).collect();
    all.append(&mut checks);
    if all.is_empty() {
        Ok(Validated {
            vals,
            warnings: found.warnings,
        })
    } else {
        Err(all)
    }
}

/// The body's attributes into `vals`: unknown and read-only names ignored
/// (or refused when strict), each value converted by its attribute.
fn read_body(req: &Request, vals: &mut [Val]) -> Findings {
    let info = req.info;
    let mut found = Findings::default();
    for (name, v) in req.body.iter() {
        let Some(&i) = info.by_name.get(name) else {
            let hint = info
                .def
                .attrs
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .map(|a| format!(" (names are case-sensitive: {} is)", a.name))
                .unwrap_or_default();
            let msg = format!("{name} is not an attribute of {}{hint}", info.def.name);
            if req.strict {
                let problem = Problem {
                    attribute: None,
                    message: format!("{msg}."),
                };
                found.problems.push((usize::MAX, problem));
            } else {
                found.warnings.push(format!("{msg}; it was ignored."));
            }
            continue;
        };
        let a = &info.def.attrs[i];
        if !writable(a, req.mode) {
            let why = if a.has(flag::POST) {
                "set on create only"
            } else {
                "read-only"
            };
            if req.strict {
                found.refuse(i, a, format!("{} is {why}.", a.name));
            } else {
                found
                    .warnings
                    .push(format!("{} is {why}; it was ignored.", a.name));
            }
            continue;
        }
        match scalar_value(a, v.scalar(), &mut |s| ArcStr::from(s)) {
            Ok(val) => vals[info.slot_of[i].unwrap_or_default()] = val,
            Err(m) => {
                found.refuse(i, a, format!("{} {m}.", a.name));
                found.failed.insert(i);
            }
        }
    }
    found
}

/// Every writable attribute of the merged record: the caller's PartnerId
/// filled in on create, required ones present, the rules of each value.
fn check_attrs(state: &State, req: &Request, vals: &mut [Val], found: &mut Findings) {
    let info = req.info;
    for (i, a) in info.def.attrs.iter().enumerate() {
        if found.failed.contains(&i) || !writable(a, req.mode) {
            continue;
        }
        let Some(slot) = info.slot_of[i] else {
            continue;
        };
        if req.mode == Mode::Create && a.has(flag::CALLER) && vals[slot] == Val::Null {
            vals[slot] = Val::Int(req.partner);
        }
        let v = &vals[slot];
        let required = a.has(flag::REQ) || (req.mode == Mode::Create && a.has(flag::POST));
        let blank = matches!(v, Val::Str(s) if s.trim().is_empty());
        if *v == Val::Null || (required && blank) {
            if required {
                found.refuse(i, a, format!("{} is required.", a.name));
            }
            continue;
        }
        let merged = Merged { state, req, vals };
        if let Err(m) = check_value(&merged, a, v) {
            found.refuse(i, a, m);
        }
    }
}

/// The rules of one value that need no other record: length, enumeration,
/// value rule (e-mail, time zone) and range. Null passes. The message names
/// the attribute. Validation and every record writer (`build`) share it.
pub fn check_scalar(a: &Attr, v: &Val) -> Result<(), String> {
    if let Val::Str(s) = v {
        check_length(a, s).map_err(|m| format!("{} {m}.", a.name))?;
        check_text(a, s)?;
    }
    if let (Val::Int(n), Some((lo, hi))) = (v, a.range)
        && !(lo..=hi).contains(n)
    {
        return Err(format!(
            "{} must be between {lo} and {hi}, not {n}.",
            a.name
        ));
    }
    Ok(())
}

/// What the rules of a value that look at other records see: the store,
/// the request, and the merged record.
struct Merged<'a> {
    state: &'a State,
    req: &'a Request<'a>,
    vals: &'a [Val],
}

/// The rules of one non-null value: those of [`check_scalar`], then
/// reference and uniqueness.
fn check_value(on: &Merged, a: &Attr, v: &Val) -> Result<(), String> {
    check_scalar(a, v)?;
    if let (Some(target), Val::Int(id)) = (a.refs, v) {
        check_reference(on, a, (target, *id))?;
    }
    if a.unique.is_some() {
        check_unique(on, a, v)?;
    }
    Ok(())
}

/// A string's enumeration and value rule (e-mail, e-mail list, time zone).
fn check_text(a: &Attr, s: &str) -> Result<(), String> {
    if !a.one_of.is_empty() && !a.one_of.contains(&s) {
        return Err(format!(
            "{} must be one of {}, not \"{s}\".",
            a.name,
            a.one_of.join(", ")
        ));
    }
    match a.rule {
        Some(Rule::Email) if !rules::is_email(s) => {
            Err(format!("{} \"{s}\" is not an e-mail address.", a.name))
        }
        Some(Rule::EmailList) => rules::email_list(s)
            .map(|_| ())
            .map_err(|m| format!("{} {m}.", a.name)),
        Some(Rule::TimeZone) if !rules::is_time_zone(s) => Err(format!(
            "{} \"{s}\" is not a Windows time zone id such as \"Eastern Standard Time\" \
             (the accepted ids are those of the CLDR Windows zone table).",
            a.name
        )),
        _ => Ok(()),
    }
}

/// A reference: the record exists in the partner's scope, is active when
/// the attribute asks, and shares the attribute's `same` value.
fn check_reference(on: &Merged, a: &Attr, (target, id): (Res, i64)) -> Result<(), String> {
    let Merged { state, req, vals } = *on;
    let Some(rec) = scoped_get(state, target, id, req.partner) else {
        return Err(format!("{} {id} does not exist.", a.name));
    };
    let tinfo = target.info();
    if a.has(flag::ACTIVE) && rules::get(tinfo, &rec.vals, "IsInactive").is_true() {
        return Err(format!("{} {id} is inactive.", a.name));
    }
    if let Some(same) = a.same
        && rules::get(tinfo, &rec.vals, same) != rules::get(req.info, vals, same)
    {
        return Err(format!(
            "{} {id} belongs to another {same} than this record's.",
            a.name
        ));
    }
    Ok(())
}

/// Uniqueness among the partner's records (within a parent, ignoring case
/// when the attribute says so).
fn check_unique(on: &Merged, a: &Attr, v: &Val) -> Result<(), String> {
    let Merged { state, req, vals } = *on;
    let Some(unique) = a.unique else {
        return Ok(());
    };
    let info = req.info;
    let table = state.table(info.res());
    let slot = build::slot(info, a.name);
    let parent = unique
        .within
        .map(|p| (build::slot(info, p), rules::get(info, vals, p)));
    let same_value = |other: &Val| match (other, v) {
        (Val::Str(x), Val::Str(y)) if unique.ignore_case => x.to_lowercase() == y.to_lowercase(),
        (x, y) => x == y,
    };
    let clash = table
        .by_owner
        .get(&req.partner)
        .into_iter()
        .flatten()
        .filter(|&&id| id != req.id)
        .filter_map(|id| table.rows.get(id).map(|r| (id, r)))
        .find(|(_, r)| {
            same_value(&r.vals[slot]) && parent.as_ref().is_none_or(|(ps, pv)| &r.vals[*ps] == *pv)
        });
    let Some((other, _)) = clash else {
        return Ok(());
    };
    let within = match unique.within {
        None => "among the partner's".to_string(),
        Some(p) => format!("within the same {p} among its"),
    };
    let case = if unique.ignore_case {
        " (ignoring case)"
    } else {
        ""
    };
    Err(format!(
        "{} {} is already used by {} {other}: it must be unique {within} {}{case}.",
        a.name,
        show(v),
        info.key_name(),
        info.def.name
    ))
}

fn show(v: &Val) -> String {
    match v {
        Val::Str(s) => format!("\"{s}\""),
        Val::Int(i) => i.to_string(),
        _ => "the value".into(),
    }
}
