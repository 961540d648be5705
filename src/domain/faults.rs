//! Fault rules as `sandbox.json` and `POST /_sandbox/faults` state them
//! (API.md section 8): one flat object with optional match fields (`method`,
//! `path` prefix, `partner`), exactly one action (`latency_ms`, `status` with
//! an optional `body`, `rate_limit` with `window_s`, or `close`), and an
//! optional `times`.

use serde::Serialize;
use serde_json::{Map, Value};

/// One fault rule, as stated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

/// What a matching request gets.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// Served normally after the delay.
    Latency(u64),
    /// Answered with this status and body instead.
    Status(u16, Option<Value>),
    /// 429 with Retry-After once more than `limit` requests came within `window_s`.
    RateLimit { limit: u64, window_s: u64 },
    /// The connection is closed without an answer.
    Close,
}

/// The longest delay a rule may ask for.
pub const MAX_LATENCY_MS: u64 = 120_000;

const FIELDS: [&str; 10] = [
    "method",
    "path",
    "partner",
    "latency_ms",
    "status",
    "body",
    "rate_limit",
    "window_s",
    "close",
    "times",
];

impl FaultRule {
    pub fn action(&self) -> FaultAction {
        if let Some(ms) = self.latency_ms {
            FaultAction::Latency(ms)
        } else if let Some(status) = self.status {
            FaultAction::Status(status, self.body.clone())
        } else if let Some(limit) = self.rate_limit {
            FaultAction::RateLimit {
                limit,
                window_s: self.window_s.unwrap_or(1),
            }
        } else {
            FaultAction::Close
        }
    }

    /// Whether a request matches the rule's match fields.
    pub fn matches(&self, method: &str, path: &str, partner: Option<i64>) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path
                .as_ref()
                .is_none_or(|p| path.starts_with(p.as_str()))
            && self.partner.is_none_or(|p| partner == Some(p))
    }

    /// Checks and reads one rule; every problem is reported.
    pub fn parse(v: &Value) -> Result<FaultRule, Vec<String>> {
        let Some(m) = v.as_object() else {
            return Err(vec!["A fault rule is one JSON object.".into()]);
        };
        let mut errors = Vec::new();
        // what a listing adds (`id`, `source`, `remaining`) may come back:
        // a listed rule posted again applies to the uses it had left
        let listed = ["id", "source", "remaining"];
        for k in m
            .keys()
            .filter(|k| !FIELDS.contains(&k.as_str()) && !listed.contains(&k.as_str()))
        {
            errors.push(format!(
                "{k} is not a field of a fault rule (fields: {}).",
                FIELDS.join(", ")
            ));
        }
        let rule = FaultRule {
            method: text(m, "method", &mut errors).map(|s| s.to_ascii_uppercase()),
            path: text(m, "path", &mut errors),
            partner: whole(m, "partner", 1, i64::MAX as u64, &mut errors).map(|p| p as i64),
            latency_ms: whole(m, "latency_ms", 0, MAX_LATENCY_MS, &mut errors),
            status: whole(m, "status", 100, 599, &mut errors).map(|s| s as u16),
            body: m.get("body").filter(|b| !b.is_null()).cloned(),
            rate_limit: whole(m, "rate_limit", 0, u64::MAX, &mut errors),
            window_s: whole(m, "window_s", 1, 86_400, &mut errors),
            close: match m.get("close") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(true)) => Some(true),
                Some(v) => {
                    errors.push(format!("close must be true, not {v}."));
                    None
                }
            },
            times: whole(m, "remaining", 1, u64::MAX, &mut errors).or(whole(
                m,
                "times",
                1,
                u64::MAX,
                &mut errors,
            )),
        };
        if let Some(v) = m.get("source")
            && !matches!(v.as_str(), Some("api" | "sandbox.json"))
        {
            errors.push(format!(
                "source, as a listing names it, is \"api\" or \"sandbox.json\", not {v}."
            ));
        }
        if let Some(p) = &rule.path
            && !p.starts_with('/')
        {
            errors.push(format!(
                "path must be a path prefix starting with '/', such as /api/devices, not \"{p}\"."
            ));
        }
        let actions = [
            rule.latency_ms.is_some(),
            rule.status.is_some(),
            rule.rate_limit.is_some(),
            rule.close.is_some(),
        ]
        .iter()
        .filter(|a| **a)
        .count();
        if actions != 1 {
            errors.push(
                "A fault rule needs exactly one action: latency_ms, status (with an optional body), \
                 rate_limit (with window_s) or close."
                    .into(),
            );
        }
        if rule.rate_limit.is_some() != rule.window_s.is_some() {
            errors.push("rate_limit and window_s go together.".into());
        }
        if rule.body.is_some() && rule.status.is_none() {
            errors.push("body goes with status.".into());
        }
        if errors.is_empty() {
            Ok(rule)
        } else {
            Err(errors)
        }
    }
}

fn text(m: &Map<String, Value>, k: &str, errors: &mut Vec<String>) -> Option<String> {
    match m.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            errors.push(format!("{k} must be a string, not {v}."));
            None
        }
    }
}

fn whole(
    m: &Map<String, Value>,
    k: &str,
    lo: u64,
    hi: u64,
    errors: &mut Vec<String>,
) -> Option<u64> {
    match m.get(k) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().filter(|n| (lo..=hi).contains(n)) {
            Some(n) => Some(n),
            None => {
                errors.push(format!(
                    "{k} must be a whole number from {lo} to {hi}, not {v}."
                ));
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_need_exactly_one_action() {
        let r =
            FaultRule::parse(&json!({"path": "/api/devices", "status": 503, "times": 2})).unwrap();
        assert_eq!(r.action(), FaultAction::Status(503, None));
        assert!(r.matches("GET", "/api/devices/3", Some(1)));
        assert!(!r.matches("GET", "/api/jobs", Some(1)));
        assert!(FaultRule::parse(&json!({"status": 503, "close": true})).is_err());
        assert!(FaultRule::parse(&json!({"path": "/api"})).is_err());
        assert!(FaultRule::parse(&json!({"rate_limit": 5})).is_err());
        let e = FaultRule::parse(&json!({"latency_ms": -1, "colour": 1})).unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
    }
}
