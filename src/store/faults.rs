//! The active fault rules: those of sandbox.json (replaced whenever a new
//! state is loaded) and those added through the control API (kept until
//! deleted), each with its remaining uses and, for rate limits, the times
//! of the requests it counted, and its generator (seeded by its `seed`) for
//! `probability` and latency distributions.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::domain::faults::{FaultAction, FaultRule, Rng};

/// What a request gets from the rules that match it.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Served normally, after `delay`.
    Serve { delay: Duration },
    /// Answered with this instead (and after `delay`).
    Respond {
        delay: Duration,
        status: u16,
        body: Value,
        retry_after: Option<u64>,
    },
    /// The connection is closed without an answer.
    Close { delay: Duration },
}

#[derive(Debug)]
struct Active {
    id: u64,
    rule: FaultRule,
    from_file: bool,
    /// Matching requests it still applies to (`times`).
    remaining: Option<u64>,
    /// Rate limits: when the requests in the window arrived.
    hits: VecDeque<Instant>,
    /// Draws whether it applies and how long it delays.
    rng: Rng,
}

fn rng_of(rule: &FaultRule) -> Rng {
    Rng::new(rule.seed.unwrap_or(1))
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    rules: Vec<Active>,
    /// The store generation whose sandbox.json rules are loaded.
    file_generation: u64,
}

#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

fn render(a: &Active) -> Value {
    let mut v = serde_json::to_value(&a.rule).unwrap_or_else(|_| json!({}));
    if let Some(m) = v.as_object_mut() {
        m.insert("id".into(), json!(a.id));
        m.insert(
            "source".into(),
            json!(if a.from_file { "sandbox.json" } else { "api" }),
        );
        if let Some(r) = a.remaining {
            m.insert("remaining".into(), json!(r));
        }
    }
    v
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the rules of sandbox.json are those of `generation`.
    pub fn file_generation(&self) -> u64 {
        self.lock().file_generation
    }

    /// Replaces the rules of sandbox.json with those of a newly loaded state.
    pub fn replace_file_rules(&self, generation: u64, rules: Vec<FaultRule>) {
        let mut inner = self.lock();
        inner.rules.retain(|a| !a.from_file);
        for rule in rules {
            inner.next_id += 1;
            let id = inner.next_id;
            let remaining = rule.times;
            inner.rules.push(Active {
                id,
                rng: rng_of(&rule),
                rule,
                from_file: true,
                remaining,
                hits: VecDeque::new(),
            });
        }
        inner.rules.sort_by_key(|a| a.id);
        inner.file_generation = generation;
    }

    /// Adds a rule from the control API; returns it as listed.
    pub fn add(&self, rule: FaultRule) -> Value {
        let mut inner = self.lock();
        inner.next_id += 1;
        let active = Active {
            id: inner.next_id,
            remaining: rule.times,
            rng: rng_of(&rule),
            rule,
            from_file: false,
            hits: VecDeque::new(),
        };
        let v = render(&active);
        inner.rules.push(active);
        v
    }

    pub fn is_empty(&self) -> bool {
        self.lock().rules.is_empty()
    }

    pub fn list(&self) -> Vec<Value> {
        self.lock().rules.iter().map(render).collect()
    }

    /// The rules as sandbox.json would state them (for snapshots).
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.iter().map(|a| a.rule.clone()).collect()
    }

    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|a| a.id != id);
        inner.rules.len() != before
    }

    /// Applies the rules to one request: every matching latency rule adds
    /// its delay; the first matching rule that answers decides. A rule with
    /// a `probability` that its generator does not draw is passed over, and
    /// its `times` is not used.
    pub fn decide(&self, method: &str, path: &str, partner: Option<i64>) -> Decision {
        let mut inner = self.lock();
        let now = Instant::now();
        let mut delay = Duration::ZERO;
        let mut decision = None;
        for a in inner
            .rules
            .iter_mut()
            .filter(|a| a.rule.matches(method, path, partner))
        {
            if decision.is_some() {
                break;
            }
            if let Some(p) = a.rule.probability
                && a.rng.unit() >= p
            {
                continue;
            }
            if let Some(r) = a.remaining.as_mut() {
                *r = r.saturating_sub(1);
            }
            match a.rule.action() {
                FaultAction::Latency(l) => delay += Duration::from_millis(l.sample(&mut a.rng)),
                FaultAction::Status(status, body) => {
                    let body = body.unwrap_or_else(|| {
                        json!({"errors": [format!("Fault injected by the sandbox (rule {}).", a.id)]})
                    });
                    // a 429 always names when to retry (API.md section 3):
                    // a status rule's 429 says one second
                    decision = Some((status, body, (status == 429).then_some(1)));
                }
                FaultAction::RateLimit { limit, window_s } => {
                    let window = Duration::from_secs(window_s);
                    while a
                        .hits
                        .front()
                        .is_some_and(|t| now.duration_since(*t) >= window)
                    {
                        a.hits.pop_front();
                    }
                    a.hits.push_back(now);
                    if a.hits.len() as u64 > limit {
                        let oldest = a.hits.front().copied().unwrap_or(now);
                        let wait = window.saturating_sub(now.duration_since(oldest));
                        let retry = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                        let body = json!({"errors": [format!(
                            "Too many requests: more than {limit} in {window_s} seconds (sandbox rate limit, rule {}). \
                             Retry after {} seconds.", a.id, retry.max(1)
                        )]});
                        decision = Some((429, body, Some(retry.max(1))));
                    }
                }
                FaultAction::Close => decision = Some((0, Value::Null, None)),
            }
        }
        inner.rules.retain(|a| a.remaining != Some(0));
        match decision {
            None => Decision::Serve { delay },
            Some((0, _, _)) => Decision::Close { delay },
            Some((status, body, retry_after)) => Decision::Respond {
                delay,
                status,
                body,
                retry_after,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> FaultRule {
        FaultRule::parse(&v).unwrap()
    }

    #[test]
    fn a_listed_rule_can_be_posted_back_with_the_uses_it_had_left() {
        let f = Faults::default();
        f.add(rule(
            json!({"path": "/api/devices", "status": 503, "times": 3}),
        ));
        assert!(matches!(
            f.decide("GET", "/api/devices", None),
            Decision::Respond { status: 503, .. }
        ));
        let listed = f.list().remove(0);
        assert_eq!(
            (&listed["source"], &listed["remaining"]),
            (&json!("api"), &json!(2))
        );
        let again = FaultRule::parse(&listed).unwrap();
        assert_eq!(again.times, Some(2));
        assert_eq!(again.status, Some(503));
        assert!(FaultRule::parse(&json!({"status": 503, "source": "elsewhere"})).is_err());
    }

    /// Which of `n` requests a rule answered, and the delays served.
    fn run(rule_json: Value, n: usize) -> Vec<(bool, Duration)> {
        let f = Faults::default();
        f.add(rule(rule_json));
        (0..n)
            .map(|_| match f.decide("GET", "/api/jobs", None) {
                Decision::Serve { delay } => (false, delay),
                Decision::Respond { delay, .. } => (true, delay),
                Decision::Close { delay } => (true, delay),
            })
            .collect()
    }

    #[test]
    fn probability_and_delays_replay_from_the_seed_and_times_counts_applied_requests() {
        let r = json!({"status": 503, "probability": 0.3, "seed": 4});
        let a = run(r.clone(), 200);
        assert_eq!(a, run(r, 200));
        let hits = a.iter().filter(|x| x.0).count();
        assert!((35..=85).contains(&hits), "{hits}");
        assert_ne!(
            a,
            run(json!({"status": 503, "probability": 0.3, "seed": 5}), 200)
        );
        let l = json!({"latency_ms": {"distribution": "uniform", "min": 10, "max": 200}, "probability": 0.5});
        let d = run(l.clone(), 50);
        assert_eq!(d, run(l, 50));
        assert!(d.iter().any(|x| x.1.is_zero()) && d.iter().any(|x| !x.1.is_zero()));
        // times: only the applied requests count
        let t = run(json!({"status": 503, "probability": 0.5, "times": 3}), 100);
        assert_eq!(t.iter().filter(|x| x.0).count(), 3);
        assert!(t.iter().take_while(|x| !x.0).count() < 100);
    }

    #[test]
    fn times_limits_a_rule_and_rate_limits_count_a_window() {
        let f = Faults::default();
        f.add(rule(
            json!({"path": "/api/devices", "status": 503, "times": 2}),
        ));
        for _ in 0..2 {
            assert!(matches!(
                f.decide("GET", "/api/devices", Some(1)),
                Decision::Respond { status: 503, .. }
            ));
        }
        assert_eq!(
            f.decide("GET", "/api/devices", Some(1)),
            Decision::Serve {
                delay: Duration::ZERO
            }
        );
        assert!(f.list().is_empty());
        f.add(rule(json!({"rate_limit": 2, "window_s": 60})));
        assert!(matches!(
            f.decide("GET", "/api/jobs", None),
            Decision::Serve { .. }
        ));
        assert!(matches!(
            f.decide("GET", "/api/jobs", None),
            Decision::Serve { .. }
        ));
        match f.decide("GET", "/api/jobs", None) {
            Decision::Respond {
                status: 429,
                retry_after: Some(s),
                ..
            } => assert!((1..=60).contains(&s)),
            other => panic!("{other:?}"),
        }
    }
}
