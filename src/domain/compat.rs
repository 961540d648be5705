//! Compat mode (API.md section 12): the changes the CleverFox API promises
//! it may make without notice, made on every `/api/` response so a client
//! meets them in the sandbox first. [`reshape`] takes a rendered body and
//! gives the same values in another shape: members in a seeded order per
//! record, undocumented attributes added, `false` booleans as `null`.
//! Statuses, values, ids and paging never change.
//!
//! The body is parsed into a small tree that keeps member order (scalars
//! stay as their rendered bytes) and written back; the normal rendering
//! path is untouched, and a session with compat mode off never comes here.

use serde_json::{Value, json};

use super::render::write_str;
use super::schema::{Kind, Res};

/// The compat settings of a session (`GET/PUT /_sandbox/compat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compat {
    pub shuffle_attributes: bool,
    pub extra_attributes: bool,
    pub null_booleans: bool,
    pub seed: u64,
}

impl Default for Compat {
    fn default() -> Compat {
        Compat {
            shuffle_attributes: false,
            extra_attributes: false,
            null_booleans: false,
            seed: 1,
        }
    }
}

/// The setting names, in header order.
pub const MODES: [&str; 3] = ["shuffle_attributes", "extra_attributes", "null_booleans"];

impl Compat {
    /// Every mode on (`--compat all`).
    pub fn all() -> Compat {
        Compat {
            shuffle_attributes: true,
            extra_attributes: true,
            null_booleans: true,
            seed: 1,
        }
    }

    /// Whether any mode is on (else responses are served as rendered).
    pub fn is_on(&self) -> bool {
        self.shuffle_attributes || self.extra_attributes || self.null_booleans
    }

    fn flags(&self) -> [bool; 3] {
        [
            self.shuffle_attributes,
            self.extra_attributes,
            self.null_booleans,
        ]
    }

    fn flag_mut(&mut self, name: &str) -> Option<&mut bool> {
        match name {
            "shuffle_attributes" => Some(&mut self.shuffle_attributes),
            "extra_attributes" => Some(&mut self.extra_attributes),
            "null_booleans" => Some(&mut self.null_booleans),
            _ => None,
        }
    }

    /// The `X-Sandbox-Compat` value: the modes on, comma-separated.
    pub fn header(&self) -> String {
        MODES
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|(m, _)| *m)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn to_json(&self) -> Value {
        json!({
            "shuffle_attributes": self.shuffle_attributes,
            "extra_attributes": self.extra_attributes,
            "null_booleans": self.null_booleans,
            "seed": self.seed,
        })
    }

    /// The whole settings object of a PUT or of `sandbox.json`: absent
    /// modes are off, an absent seed is 1; every problem is named.
    pub fn parse(value: &Value) -> Result<Compat, Vec<String>> {
        let Some(obj) = value.as_object() else {
            return Err(vec![
                "compat must be an object such as {\"shuffle_attributes\": true, \"seed\": 7}."
                    .into(),
            ]);
        };
        let mut c = Compat::default();
        let mut errors = Vec::new();
        for (k, v) in obj {
            if k == "seed" {
                match v.as_u64() {
                    Some(s) => c.seed = s,
                    None => errors.push(format!(
                        "seed must be a whole number of at least 0, not {v}."
                    )),
                }
                continue;
            }
            match c.flag_mut(k) {
                Some(flag) => match v.as_bool() {
                    Some(b) => *flag = b,
                    None => errors.push(format!("{k} must be true or false, not {v}.")),
                },
                None => errors.push(format!(
                    "\"{k}\" is not a compat setting (expected shuffle_attributes, extra_attributes, null_booleans or seed)."
                )),
            }
        }
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// `--compat all` or `--compat shuffle_attributes,null_booleans`.
    pub fn from_arg(s: &str) -> Result<Compat, String> {
        if s.trim() == "all" {
            return Ok(Compat::all());
        }
        let mut c = Compat::default();
        for name in s.split(',').map(str::trim) {
            match c.flag_mut(name) {
                Some(flag) => *flag = true,
                None => {
                    return Err(format!(
                        "'{name}' is not a compat mode (expected all, or a comma-separated list of shuffle_attributes, extra_attributes, null_booleans)"
                    ));
                }
            }
        }
        Ok(c)
    }
}

/// Attribute names the API does not document and no resource has (a test
/// checks all fourteen tables), with values covering every JSON type.
pub const EXTRA_NAMES: [&str; 12] = [
    "SyncState",
    "AgentChannel",
    "TenantRegion",
    "RevisionNo",
    "QuotaRatio",
    "IsPreviewFeature",
    "ArchivedReason",
    "ReplicaOf",
    "Capabilities",
    "RegionTags",
    "Telemetry",
    "Annotations",
];

/// The extra attribute `i` of [`EXTRA_NAMES`] with a value drawn from `h`:
/// names 0-2 strings, 3-4 numbers, 5 a boolean, 6-7 null, 8-9 arrays,
/// 10-11 objects.
fn extra_value(i: usize, h: u64) -> Vec<u8> {
    let pick = |xs: &[&str]| xs[(h % xs.len() as u64) as usize].to_owned();
    let v = match i {
        0 => Value::from(pick(&["idle", "pending", "synced", "stale"])),
        1 => Value::from(pick(&["stable", "preview", "lts"])),
        2 => Value::from(pick(&["us-east", "eu-west", "ap-south", "ca-central"])),
        3 => Value::from(h % 1000),
        4 => json!((h % 100) as f64 / 100.0 + 0.005),
        5 => Value::from(h.is_multiple_of(2)),
        6 | 7 => Value::Null,
        8 => json!(["vss", "dedupe", "encryption"][..(h % 3 + 1) as usize]),
        9 => json!([pick(&["primary", "edge"]), h % 7]),
        10 => json!({"Version": pick(&["2.1", "2.2", "3.0"]), "Sampled": h % 2 == 1}),
        _ => json!({"Source": pick(&["console", "api", "agent"]), "Tags": []}),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The list envelope's extra member, beside `data`, `page_no` and `page_size`.
pub const ENVELOPE_EXTRA: &str = "meta";

/// A parsed body: objects keep their member order, scalars their bytes.
#[derive(Debug)]
enum Node<'a> {
    Obj(Vec<(String, Node<'a>)>),
    Arr(Vec<Node<'a>>),
    Raw(&'a [u8]),
    Owned(Vec<u8>),
}

/// The body of a successful `/api/` response on `res`, reshaped by `c`;
/// `None` when it is not JSON this walk understands (served unchanged).
pub fn reshape(c: &Compat, res: Res, body: &[u8]) -> Option<Vec<u8>> {
    let mut p = Parser { b: body, i: 0 };
    let mut root = p.value()?;
    p.ws();
    if p.i != body.len() {
        return None;
    }
    let Node::Obj(members) = &mut root else {
        return None;
    };
    let list = members.iter().any(|(k, _)| k == "page_no");
    for (k, v) in members.iter_mut() {
        if k != "data" {
            continue;
        }
        match v {
            Node::Obj(_) => record(c, res, v),
            Node::Arr(items) => items.iter_mut().for_each(|r| record(c, res, r)),
            _ => {}
        }
    }
    let h = mix(
        c.seed,
        0xE0 + res.index() as u64,
        if list { b"list" } else { b"one" },
    );
    if list && c.extra_attributes {
        let v = json!({"Revision": "2.1", "Deprecations": [], "Served": "sandbox"});
        members.push((
            ENVELOPE_EXTRA.into(),
            Node::Owned(serde_json::to_vec(&v).unwrap_or_default()),
        ));
    }
    if c.shuffle_attributes {
        shuffle(members, h);
    }
    let mut out = Vec::with_capacity(body.len() + body.len() / 4);
    write(&mut out, &root);
    Some(out)
}

/// One record of `res`: its embedded records and children first, then
/// booleans, extras and order.
fn record(c: &Compat, res: Res, node: &mut Node) {
    let Node::Obj(members) = node else { return };
    let info = res.info();
    let key = info.key_name();
    let pk: Vec<u8> = members
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| match v {
            Node::Raw(b) => Some(b.to_vec()),
            _ => None,
        })
        .unwrap_or_default();
    for (k, v) in members.iter_mut() {
        let Some(attr) = info.attr(k) else { continue };
        match (attr.kind, &mut *v) {
            (Kind::Obj { res: r, .. }, Node::Obj(_)) => record(c, r, v),
            (Kind::Arr { res: r, .. }, Node::Arr(items)) => {
                items.iter_mut().for_each(|x| record(c, r, x))
            }
            (Kind::Bool, Node::Raw(b)) if c.null_booleans && *b == b"false" => {
                *v = Node::Raw(b"null")
            }
            _ => {}
        }
    }
    let h = mix(c.seed, res.index() as u64, &pk);
    if c.extra_attributes {
        // two or three names, from types far apart so a page shows all six
        let n = 2 + (h % 2) as usize;
        let first = (h >> 8) as usize % EXTRA_NAMES.len();
        for j in 0..n {
            let i = (first + j * 5) % EXTRA_NAMES.len();
            members.push((EXTRA_NAMES[i].into(), Node::Owned(extra_value(i, h >> 16))));
        }
    }
    if c.shuffle_attributes {
        shuffle(members, h);
    }
}

/// A seeded Fisher-Yates shuffle.
fn shuffle<T>(xs: &mut [T], seed: u64) {
    let mut s = seed;
    for i in (1..xs.len()).rev() {
        s = splitmix(s);
        xs.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A record's identity under the seed: (seed, collection, primary key).
fn mix(seed: u64, res: u64, key: &[u8]) -> u64 {
    let mut h = splitmix(seed ^ splitmix(res));
    for &b in key {
        h = splitmix(h ^ u64::from(b));
    }
    h
}

fn write(out: &mut Vec<u8>, n: &Node) {
    match n {
        Node::Raw(b) => out.extend_from_slice(b),
        Node::Owned(b) => out.extend_from_slice(b),
        Node::Arr(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, x);
            }
            out.push(b']');
        }
        Node::Obj(members) => {
            out.push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write(out, v);
            }
            out.push(b'}');
        }
    }
}

/// A JSON parser for rendered bodies; any surprise gives `None`.
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Node<'a>> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Node::Obj(members));
                }
                loop {
                    self.ws();
                    let raw = self.string()?;
                    let key: String = serde_json::from_slice(raw).ok()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    members.push((key, self.value()?));
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Node::Obj(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Node::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Node::Arr(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(Node::Raw),
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']')
                    && !self.b[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                let raw = &self.b[start..self.i];
                (!raw.is_empty()).then_some(Node::Raw(raw))
            }
        }
    }

    /// A string with its quotes, as written.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i;
        self.i += 1;
        loop {
            match *self.b.get(self.i)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(&self.b[start..self.i]);
                }
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::schema;

    #[test]
    fn extra_names_collide_with_no_attribute_of_any_table() {
        for info in schema() {
            for a in info.def.attrs {
                for n in EXTRA_NAMES {
                    assert!(
                        !a.name.eq_ignore_ascii_case(n),
                        "{n} is an attribute of {}",
                        info.def.name
                    );
                }
            }
        }
        assert_eq!(schema().len(), 14);
    }

    #[test]
    fn extra_values_cover_every_json_type() {
        let mut kinds = std::collections::BTreeSet::new();
        for i in 0..EXTRA_NAMES.len() {
            let v: Value = serde_json::from_slice(&extra_value(i, 12345)).unwrap();
            kinds.insert(match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::Array(_) => 4,
                Value::Object(_) => 5,
            });
        }
        assert_eq!(kinds.len(), 6);
    }

    #[test]
    fn parse_names_every_problem_and_from_arg() {
        assert_eq!(Compat::parse(&json!({})).unwrap(), Compat::default());
        let errs = Compat::parse(&json!({"seed": -1, "null_booleans": 1, "x": true})).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert_eq!(Compat::from_arg("all").unwrap(), Compat::all());
        let c = Compat::from_arg("shuffle_attributes,null_booleans").unwrap();
        assert_eq!(c.header(), "shuffle_attributes, null_booleans");
        assert!(Compat::from_arg("shuffle").is_err());
    }

    #[test]
    fn reshape_keeps_values_and_escapes() {
        let body = br#"{"data":{"CompanyId":3,"Name":"a \"b\" \u00e9","IsActive":false}}"#;
        let out = reshape(&Compat::all(), Res::Companies, body).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["data"]["Name"], "a \"b\" \u{e9}");
        assert_eq!(v["data"]["CompanyId"], 3);
        let again = reshape(&Compat::all(), Res::Companies, body).unwrap();
        assert_eq!(out, again);
    }
}
