//! Fault rules as `sandbox.json` and `POST /_sandbox/faults` state them
//! (API.md section 8): one flat object with optional match fields (`method`,
//! `path` prefix, `partner`), exactly one action (`latency_ms`, `status` with
//! an optional `body`, `rate_limit` with `window_s`, or `close`), and an
//! optional `times`; `latency_ms` may be a distribution, and any rule may
//! apply with a `probability`, both drawn from a generator seeded by the
//! rule's `seed` (API.md section 12).

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
    /// As stated: a number or a distribution object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Value>,
    /// `latency_ms`, read.
    #[serde(skip)]
    pub latency: Option<Latency>,
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
    /// The chance that a matching request gets the rule (else it is as if
    /// the rule did not match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Seeds the rule's generator (1 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A rule's delay, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    Fixed(u64),
    Uniform {
        min: u64,
        max: u64,
    },
    /// Median and 99th percentile of a log-normal distribution, capped at `max`.
    Lognormal {
        median: f64,
        p99: f64,
        max: u64,
    },
}

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874_040_841;

impl Latency {
    /// One delay, from `rng`.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        match *self {
            Latency::Fixed(ms) => ms,
            Latency::Uniform { min, max } => min + rng.draw() % (max - min + 1),
            Latency::Lognormal { median, p99, max } => {
                let sigma = (p99 / median).ln() / Z99;
                let v = median * (sigma * rng.normal()).exp();
                (v.round() as u64).min(max)
            }
        }
    }

    fn parse(v: &Value, errors: &mut Vec<String>) -> Option<Latency> {
        if let Some(n) = v.as_u64().filter(|n| *n <= MAX_LATENCY_MS) {
            return Some(Latency::Fixed(n));
        }
        let Some(m) = v.as_object() else {
            errors.push(format!(
                "latency_ms must be a whole number from 0 to {MAX_LATENCY_MS}, or a distribution such as \
                 {{\"distribution\": \"uniform\", \"min\": 10, \"max\": 200}} or \
                 {{\"distribution\": \"lognormal\", \"median\": 80, \"p99\": 900, \"max\": 3000}}, not {v}."
            ));
            return None;
        };
        let n = errors.len();
        let kind = m.get("distribution").and_then(Value::as_str);
        let allowed: &[&str] = match kind {
            Some("uniform") => &["distribution", "min", "max"],
            Some("lognormal") => &["distribution", "median", "p99", "max"],
            _ => {
                errors.push(format!(
                    "latency_ms.distribution must be \"uniform\" or \"lognormal\", not {}.",
                    m.get("distribution").unwrap_or(&Value::Null)
                ));
                return None;
            }
        };
        for k in m.keys().filter(|k| !allowed.contains(&k.as_str())) {
            errors.push(format!(
                "latency_ms.{k} is not a member of a {} distribution (members: {}).",
                kind.unwrap_or(""),
                allowed[1..].join(", ")
            ));
        }
        let mut num = |k: &str, lo: u64, required: bool| -> Option<u64> {
            match m.get(k) {
                None if !required => None,
                Some(v)
                    if v.as_u64()
                        .is_some_and(|x| (lo..=MAX_LATENCY_MS).contains(&x)) =>
                {
                    v.as_u64()
                }
                v => {
                    errors.push(format!(
                        "latency_ms.{k} must be a whole number from {lo} to {MAX_LATENCY_MS}, not {}.",
                        v.map_or("nothing".to_string(), ToString::to_string)
                    ));
                    None
                }
            }
        };
        let latency = if kind == Some("uniform") {
            let (min, max) = (num("min", 0, true), num("max", 0, true));
            match (min, max) {
                (Some(min), Some(max)) if min <= max => Some(Latency::Uniform { min, max }),
                (Some(min), Some(max)) => {
                    errors.push(format!(
                        "latency_ms.min ({min}) must not exceed max ({max})."
                    ));
                    None
                }
                _ => None,
            }
        } else {
            let median = num("median", 1, true);
            let p99 = num("p99", 1, true);
            let max = num("max", 1, false).or(Some(MAX_LATENCY_MS));
            match (median, p99, max) {
                (Some(md), Some(p), Some(mx)) if md <= p && md <= mx => Some(Latency::Lognormal {
                    median: md as f64,
                    p99: p as f64,
                    max: mx,
                }),
                (Some(md), Some(p), Some(mx)) => {
                    errors.push(format!(
                        "latency_ms.median ({md}) must not exceed p99 ({p}) or max ({mx})."
                    ));
                    None
                }
                _ => None,
            }
        };
        if errors.len() > n { None } else { latency }
    }
}

/// A rule's generator: splitmix64, so a seed replays exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.draw() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// What a matching request gets.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// Served normally after the delay.
    Latency(Latency),
    /// Answered with this status and body instead.
    Status(u16, Option<Value>),
    /// 429 with Retry-After once more than `limit` requests came within `window_s`.
    RateLimit { limit: u64, window_s: u64 },
    /// The connection is closed without an answer.
    Close,
}

/// The longest delay a rule may ask for.
pub const MAX_LATENCY_MS: u64 = 120_000;

const FIELDS: [&str; 12] = [
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
    "probability",
    "seed",
];

impl FaultRule {
    pub fn action(&self) -> FaultAction {
        if let Some(l) = self.latency {
            FaultAction::Latency(l)
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
            latency_ms: m.get("latency_ms").filter(|v| !v.is_null()).cloned(),
            latency: m
                .get("latency_ms")
                .filter(|v| !v.is_null())
                .and_then(|v| Latency::parse(v, &mut errors)),
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
            probability: match m.get("probability") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_f64().filter(|p| *p > 0.0 && *p <= 1.0) {
                    Some(p) => Some(p),
                    None => {
                        errors.push(format!(
                            "probability must be a number above 0 and at most 1, not {v}."
                        ));
                        None
                    }
                },
            },
            seed: whole(m, "seed", 0, u64::MAX, &mut errors),
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
        assert_eq!(e.len(), 2, "{e:?}");
    }

    fn latency(v: Value) -> Latency {
        FaultRule::parse(&json!({ "latency_ms": v }))
            .unwrap()
            .latency
            .unwrap()
    }

    fn quantile(xs: &mut [u64], q: f64) -> u64 {
        xs.sort_unstable();
        xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)]
    }

    #[test]
    fn the_lognormal_sampler_has_the_stated_median_and_p99_and_respects_max() {
        let l = latency(json!({"distribution": "lognormal", "median": 80, "p99": 900}));
        let mut rng = Rng::new(1);
        let mut xs: Vec<u64> = (0..200_000).map(|_| l.sample(&mut rng)).collect();
        let median = quantile(&mut xs, 0.5);
        let p99 = quantile(&mut xs, 0.99);
        assert!((76..=84).contains(&median), "median {median}");
        assert!((830..=970).contains(&p99), "p99 {p99}");
        let capped =
            latency(json!({"distribution": "lognormal", "median": 80, "p99": 900, "max": 300}));
        let mut rng = Rng::new(5);
        let xs: Vec<u64> = (0..20_000).map(|_| capped.sample(&mut rng)).collect();
        assert_eq!(xs.iter().max(), Some(&300));
        let u = latency(json!({"distribution": "uniform", "min": 10, "max": 200}));
        let mut rng = Rng::new(2);
        let mut xs: Vec<u64> = (0..20_000).map(|_| u.sample(&mut rng)).collect();
        assert_eq!((xs.iter().min(), xs.iter().max()), (Some(&10), Some(&200)));
        let m = quantile(&mut xs, 0.5);
        assert!((95..=115).contains(&m), "uniform median {m}");
        assert_eq!(latency(json!(250)), Latency::Fixed(250));
    }

    #[test]
    fn malformed_distributions_and_probabilities_are_refused() {
        for bad in [
            json!({"latency_ms": {"distribution": "normal", "median": 5}}),
            json!({"latency_ms": {"distribution": "uniform", "min": 300, "max": 200}}),
            json!({"latency_ms": {"distribution": "uniform", "min": 3}}),
            json!({"latency_ms": {"distribution": "lognormal", "median": 900, "p99": 80}}),
            json!({"latency_ms": {"distribution": "lognormal", "median": 80, "p99": 900, "mean": 3}}),
            json!({"latency_ms": {"distribution": "lognormal", "median": 80, "p99": 900, "max": 999999}}),
            json!({"latency_ms": "fast"}),
            json!({"status": 503, "probability": 0}),
            json!({"status": 503, "probability": 1.5}),
            json!({"status": 503, "probability": "often"}),
            json!({"status": 503, "seed": -1}),
        ] {
            assert!(FaultRule::parse(&bad).is_err(), "{bad}");
        }
        let r = FaultRule::parse(&json!({"status": 503, "probability": 0.05, "seed": 9})).unwrap();
        assert_eq!((r.probability, r.seed), (Some(0.05), Some(9)));
        let listed = serde_json::to_value(&r).unwrap();
        assert_eq!(
            listed,
            json!({"status": 503, "probability": 0.05, "seed": 9})
        );
    }
}
