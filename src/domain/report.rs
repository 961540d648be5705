//! The conformance report (API.md section 13): how a client used the API,
//! counted over every `/api/` request of a session. Pure: the store keeps
//! one [`Counters`] per session and feeds it one [`Observed`] per request;
//! this module classifies the request, counts it, raises findings, and
//! renders the report as JSON, Markdown or JUnit XML.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::input::Input;
use super::schema::{Res, op};

/// The window in which two equal POSTs count as a retry with a new Token.
pub const DUPLICATE_WINDOW_MS: i64 = 60_000;

/// The statuses each of which is one `refused` finding.
pub const REFUSED: [u16; 8] = [400, 401, 403, 404, 405, 409, 413, 422];

/// An operation of the operations table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    List,
    Read,
    Create,
    Update,
    Delete,
}

impl Op {
    pub const ALL: [Op; 5] = [Op::List, Op::Read, Op::Create, Op::Update, Op::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Read => "read",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Op::List => op::LIST,
            Op::Read => op::READ,
            Op::Create => op::CREATE,
            Op::Update => op::UPDATE,
            Op::Delete => op::DELETE,
        }
    }
}

/// The operation a method and `/api/` path name, when the collection
/// offers it (a method it does not offer is no operation: 405).
pub fn classify(method: &str, path: &str) -> Option<(Res, Op)> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/');
    let res = Res::from_name(parts.next()?)?;
    let element = parts.next().is_some();
    if parts.next().is_some() {
        return None;
    }
    let op = match (method, element) {
        ("GET", false) => Op::List,
        ("GET", true) => Op::Read,
        ("POST", false) => Op::Create,
        ("PUT", true) => Op::Update,
        ("DELETE", true) => Op::Delete,
        _ => return None,
    };
    (res.def().ops & op.bit() != 0).then_some((res, op))
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    IgnoredQueryParameter,
    IgnoredAttribute,
    NotJsonContentType,
    PageSizeOverLimit,
    WriteWithoutToken,
    EmptyToken,
    DuplicateWriteNewToken,
    RetryBeforeRetryAfter,
    Refused(u16),
}

impl Code {
    pub fn name(self) -> &'static str {
        match self {
            Code::IgnoredQueryParameter => "ignored_query_parameter",
            Code::IgnoredAttribute => "ignored_attribute",
            Code::NotJsonContentType => "not_json_content_type",
            Code::PageSizeOverLimit => "page_size_over_limit",
            Code::WriteWithoutToken => "write_without_token",
            Code::EmptyToken => "empty_token",
            Code::DuplicateWriteNewToken => "duplicate_write_new_token",
            Code::RetryBeforeRetryAfter => "retry_before_retry_after",
            Code::Refused(_) => "refused",
        }
    }

    /// What happened and what to do.
    pub fn message(self) -> String {
        match self {
            Code::IgnoredQueryParameter => "A query parameter the CleverFox API ignores was sent (it has no filters: \
                only PageNo and PageSize on a List). Filter the records in the client instead."
                .into(),
            Code::IgnoredAttribute => "A body named an attribute the resource does not have, or a read-only one; \
                the API ignored it. Check the attribute names (they are case-sensitive) and send only writable ones."
                .into(),
            Code::NotJsonContentType => "A POST or PUT was refused by forgery protection: send \
                Content-Type: application/json."
                .into(),
            Code::PageSizeOverLimit => "PageSize above 500 was served as 500. Page with at most 500 and read \
                until a page is shorter than page_size."
                .into(),
            Code::WriteWithoutToken => "A POST or PUT succeeded without a Token, so a retry after a lost answer \
                would write twice. Send a new Token (a GUID) with each write and the same Token when retrying it."
                .into(),
            Code::EmptyToken => "A POST or PUT sent an empty Token, which gives no duplicate prevention. Send a \
                GUID, or leave Token out."
                .into(),
            Code::DuplicateWriteNewToken => "Two POSTs to one collection within 60 s had equal bodies but for \
                their Token: a retry with a new Token, which the real API accepts twice. Reuse the Token when \
                retrying a write."
                .into(),
            Code::RetryBeforeRetryAfter => "A request followed a 429 to the same method and path sooner than its \
                Retry-After allowed. Wait at least Retry-After seconds."
                .into(),
            Code::Refused(status) => format!(
                "Requests were answered {status}: the API refused them. Their error sentences are in the \
                 request journal (GET /_sandbox/requests?status={status})."
            ),
        }
    }
}

/// One `/api/` request as the edge saw it answered.
#[derive(Clone, Debug, Default)]
pub struct Observed<'a> {
    /// `X-Request-Id`.
    pub id: u64,
    /// The session clock, UTC milliseconds.
    pub now_ms: i64,
    pub method: &'a str,
    /// The `/api/...` path, without any session prefix.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub partner: Option<i64>,
    pub status: u16,
    /// The `X-Sandbox-Warning`s of the answer.
    pub warnings: Vec<&'a str>,
    /// The refusal was forgery protection (content type).
    pub forgery: bool,
    /// `Retry-After` seconds of a 429.
    pub retry_after_s: Option<u64>,
    /// The shape of a POST's or PUT's body, as the engine took it.
    pub shape: Option<&'a BodyShape>,
}

/// The counts of one operation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpCount {
    pub requests: u64,
    pub statuses: BTreeMap<u16, u64>,
}

/// The counts of one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingCount {
    pub count: u64,
    pub example_request_id: u64,
}

/// A session's report so far.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub operations: BTreeMap<(Res, Op), OpCount>,
    pub findings: BTreeMap<Code, FindingCount>,
    /// Successful POSTs of the last minute: (collection, digest of the body
    /// without Token) -> (session time, its Token).
    recent_creates: HashMap<(Res, u64), (i64, Option<String>)>,
    /// The same POSTs in the order they came, to forget them after the
    /// window without looking at the others.
    creates_in_order: VecDeque<(i64, (Res, u64))>,
    /// After a 429: (partner, method, path) -> session time before which
    /// the next request is too early.
    retry_not_before: HashMap<(Option<i64>, String, String), i64>,
}

/// What a write's body says about its Token, and a digest of the rest of
/// it: two bodies equal but for their Token have the same digest, whatever
/// their key order and spacing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyShape {
    pub token: Option<String>,
    rest: u64,
}

impl BodyShape {
    /// The shape of a parsed body (unwrapped from `{"data": …}`).
    pub fn of(input: &Input) -> BodyShape {
        use std::hash::{Hash, Hasher};
        // a collision could only raise a false duplicate finding
        let mut h = super::value::WordHasher::default();
        let mut token = None;
        // an input is ordered by name
        for (k, v) in input.iter() {
            if k == "Token" {
                token = v.as_str().map(str::to_owned);
                continue;
            }
            (k, v).hash(&mut h);
        }
        BodyShape {
            token,
            rest: h.finish(),
        }
    }

    /// The shape of a JSON body, bare or wrapped; `None` unless it is an
    /// object.
    pub fn parse(body: &[u8]) -> Option<BodyShape> {
        Input::parse(body).ok().map(|input| BodyShape::of(&input))
    }
}

impl Counters {
    fn raise(&mut self, code: Code, id: u64) {
        self.findings
            .entry(code)
            .and_modify(|f| f.count += 1)
            .or_insert(FindingCount {
                count: 1,
                example_request_id: id,
            });
    }

    /// Counts one request and raises its findings.
    pub fn observe(&mut self, o: &Observed) {
        let operation = classify(o.method, o.path);
        if let Some(key) = operation {
            let c = self.operations.entry(key).or_default();
            c.requests += 1;
            *c.statuses.entry(o.status).or_default() += 1;
        }
        self.retry_timing(o);
        if REFUSED.contains(&o.status) {
            self.raise(Code::Refused(o.status), o.id);
        }
        if o.forgery {
            self.raise(Code::NotJsonContentType, o.id);
        }
        self.warnings(o);
        let success = (200..300).contains(&o.status);
        let write = matches!(operation, Some((_, Op::Create | Op::Update)));
        if success
            && write
            && let Some(shape) = o.shape
        {
            if shape.token.is_none() {
                self.raise(Code::WriteWithoutToken, o.id);
            }
            if let Some((res, Op::Create)) = operation {
                self.duplicate_create(res, shape, o);
            }
        }
    }

    fn warnings(&mut self, o: &Observed) {
        let mut seen = Vec::new();
        for w in &o.warnings {
            let code = if w.starts_with("Query parameter '") {
                Code::IgnoredQueryParameter
            } else if w.starts_with("PageSize ") && w.contains(" was served as ") {
                Code::PageSizeOverLimit
            } else if w.starts_with("Token is empty") {
                Code::EmptyToken
            } else if w.ends_with("; it was ignored.") {
                Code::IgnoredAttribute
            } else {
                continue;
            };
            if !seen.contains(&code) {
                seen.push(code);
                self.raise(code, o.id);
            }
        }
    }

    fn duplicate_create(&mut self, res: Res, shape: &BodyShape, o: &Observed) {
        // forget the creates that have left the window (a clock moved back
        // leaves some for longer: the lookup checks the window itself)
        while let Some(&(t, key)) = self.creates_in_order.front() {
            if o.now_ms - t < DUPLICATE_WINDOW_MS {
                break;
            }
            self.creates_in_order.pop_front();
            if self
                .recent_creates
                .get(&key)
                .is_some_and(|(at, _)| *at == t)
            {
                self.recent_creates.remove(&key);
            }
        }
        let key = (res, shape.rest);
        if let Some((t, earlier)) = self.recent_creates.get(&key)
            && o.now_ms - *t < DUPLICATE_WINDOW_MS
            && *earlier != shape.token
        {
            self.raise(Code::DuplicateWriteNewToken, o.id);
        }
        self.recent_creates
            .insert(key, (o.now_ms, shape.token.clone()));
        self.creates_in_order.push_back((o.now_ms, key));
    }

    fn retry_timing(&mut self, o: &Observed) {
        if self.retry_not_before.is_empty() && o.status != 429 {
            return; // the common case: nothing to look up or remember
        }
        let key = (o.partner, o.method.to_string(), o.path.to_string());
        if let Some(&until) = self.retry_not_before.get(&key) {
            if o.now_ms < until {
                self.raise(Code::RetryBeforeRetryAfter, o.id);
            } else {
                self.retry_not_before.remove(&key);
            }
        }
        if o.status == 429
            && let Some(s) = o.retry_after_s
        {
            let wait = i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
            self.retry_not_before
                .insert(key, o.now_ms.saturating_add(wait));
        }
    }

    /// The operations of the table no request called.
    pub fn never_called(&self) -> Vec<(Res, Op)> {
        Res::ALL
            .iter()
            .flat_map(|&res| Op::ALL.iter().map(move |&op| (res, op)))
            .filter(|&(res, op)| res.def().ops & op.bit() != 0)
            .filter(|k| !self.operations.contains_key(k))
            .collect()
    }

    /// The report as JSON (API.md section 13).
    pub fn to_json(&self) -> Value {
        let operations: Vec<Value> = self
            .operations
            .iter()
            .map(|((res, op), c)| {
                let statuses: serde_json::Map<String, Value> = c
                    .statuses
                    .iter()
                    .map(|(s, n)| (s.to_string(), json!(n)))
                    .collect();
                json!({ "collection": res.name(), "operation": op.name(),
                        "requests": c.requests, "statuses": statuses })
            })
            .collect();
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|(code, f)| {
                let mut v = json!({ "code": code.name(), "count": f.count,
                    "example_request_id": f.example_request_id, "message": code.message() });
                if let Code::Refused(status) = code {
                    v["status"] = json!(status);
                }
                v
            })
            .collect();
        let never: Vec<Value> = self
            .never_called()
            .iter()
            .map(|(res, op)| json!({ "collection": res.name(), "operation": op.name() }))
            .collect();
        json!({ "operations": operations, "findings": findings, "never_called": never })
    }

    /// The report as Markdown: a table of operations, one of findings, and
    /// the operations never called.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# Conformance report\n\n## Operations called\n\n");
        out.push_str("| collection | operation | requests | statuses |\n|---|---|---|---|\n");
        for ((res, op), c) in &self.operations {
            let statuses: Vec<String> = c
                .statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                res.name(),
                op.name(),
                c.requests,
                statuses.join(", ")
            );
        }
        out.push_str("\n## Findings\n\n");
        if self.findings.is_empty() {
            out.push_str("None.\n");
        } else {
            out.push_str("| code | count | example request | what to do |\n|---|---|---|---|\n");
            for (code, f) in &self.findings {
                let name = match code {
                    Code::Refused(s) => format!("refused ({s})"),
                    _ => code.name().to_string(),
                };
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} |",
                    f.count,
                    f.example_request_id,
                    code.message().replace('|', "\\|")
                );
            }
        }
        out.push_str("\n## Never called\n\n");
        let never = self.never_called();
        if never.is_empty() {
            out.push_str("None.\n");
        }
        for (res, op) in never {
            let _ = writeln!(out, "- {} {}", res.name(), op.name());
        }
        out
    }

    /// The report as JUnit XML: one test case per operation called (passing)
    /// and one per finding (failing).
    pub fn to_junit(&self) -> String {
        let tests = self.operations.len() + self.findings.len();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"cleverfox-sandbox conformance\" tests=\"{tests}\" failures=\"{}\">",
            self.findings.len()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"conformance\" tests=\"{tests}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            self.findings.len()
        );
        for ((res, op), c) in &self.operations {
            let _ = writeln!(
                out,
                "    <testcase classname=\"operations.{}\" name=\"{} {} ({} requests)\"/>",
                res.name(),
                res.name(),
                op.name(),
                c.requests
            );
        }
        for (code, f) in &self.findings {
            let name = match code {
                Code::Refused(s) => format!("refused {s}"),
                _ => code.name().to_string(),
            };
            let message = format!(
                "{} time(s), for example request {}: {}",
                f.count,
                f.example_request_id,
                code.message()
            );
            let _ = writeln!(
                out,
                "    <testcase classname=\"findings\" name=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                xml(&name),
                xml(&message),
                code.name(),
                xml(&message)
            );
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// Text escaped for XML attributes and content.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(id: u64, method: &'a str, path: &'a str, status: u16) -> Observed<'a> {
        Observed {
            id,
            method,
            path,
            status,
            partner: Some(1),
            ..Observed::default()
        }
    }

    #[test]
    fn requests_are_classified_by_the_operations_table() {
        assert_eq!(
            classify("GET", "/api/companies"),
            Some((Res::Companies, Op::List))
        );
        assert_eq!(
            classify("GET", "/api/Companies/7/"),
            Some((Res::Companies, Op::Read))
        );
        assert_eq!(classify("POST", "/api/logs"), None, "not offered: 405");
        assert_eq!(classify("PUT", "/api/companies"), None);
        assert_eq!(classify("GET", "/api/nope"), None);
        assert_eq!(classify("GET", "/api/companies/1/2"), None);
    }

    #[test]
    fn counts_findings_and_never_called() {
        let mut c = Counters::default();
        c.observe(&seen(1, "GET", "/api/companies", 200));
        let mut o = seen(2, "GET", "/api/companies", 400);
        o.warnings = vec!["Query parameter 'CompanyId' was ignored: …"];
        c.observe(&o);
        let shape = BodyShape::parse(br#"{"Name": "A", "PlanTypeId": 1}"#).unwrap();
        let mut w = seen(3, "POST", "/api/companies", 201);
        w.shape = Some(&shape);
        c.observe(&w);
        let op = &c.operations[&(Res::Companies, Op::List)];
        assert_eq!(op.requests, 2);
        assert_eq!(op.statuses[&400], 1);
        assert_eq!(c.findings[&Code::Refused(400)].example_request_id, 2);
        assert_eq!(c.findings[&Code::IgnoredQueryParameter].count, 1);
        assert_eq!(c.findings[&Code::WriteWithoutToken].example_request_id, 3);
        assert!(!c.never_called().contains(&(Res::Companies, Op::Create)));
        assert!(c.never_called().contains(&(Res::JobItems, Op::Delete)));
        assert!(!c.never_called().contains(&(Res::Logs, Op::Delete)));
    }

    #[test]
    fn a_retry_with_a_new_token_within_a_minute_is_found() {
        let mut c = Counters::default();
        for (id, token, at) in [(1, "a", 0), (2, "b", 30_000), (3, "c", 200_000)] {
            let body =
                format!(r#"{{"data": {{"Name": "A", "PlanTypeId": 1, "Token": "{token}"}}}}"#);
            let mut w = seen(id, "POST", "/api/companies", 201);
            w.now_ms = at;
            let shape = BodyShape::parse(body.as_bytes()).unwrap();
            w.shape = Some(&shape);
            c.observe(&w);
        }
        let f = &c.findings[&Code::DuplicateWriteNewToken];
        assert_eq!((f.count, f.example_request_id), (1, 2));
        assert!(!c.findings.contains_key(&Code::WriteWithoutToken));
    }

    #[test]
    fn a_request_sooner_than_retry_after_is_found() {
        let mut c = Counters::default();
        let mut limited = seen(1, "GET", "/api/jobs", 429);
        limited.retry_after_s = Some(10);
        c.observe(&limited);
        let mut early = seen(2, "GET", "/api/jobs", 200);
        early.now_ms = 5_000;
        c.observe(&early);
        let mut late = seen(3, "GET", "/api/jobs", 200);
        late.now_ms = 20_000;
        c.observe(&late);
        let f = &c.findings[&Code::RetryBeforeRetryAfter];
        assert_eq!((f.count, f.example_request_id), (1, 2));
    }

    #[test]
    fn junit_escapes_and_counts() {
        let mut c = Counters::default();
        c.observe(&seen(1, "GET", "/api/companies/9", 404));
        let x = c.to_junit();
        assert!(x.contains("tests=\"2\" failures=\"1\""), "{x}");
        assert!(x.contains("<failure"));
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert!(
            c.to_markdown()
                .contains("| companies | read | 1 | 404: 1 |")
        );
    }
}
