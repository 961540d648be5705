//! The schedule (API.md section 11): the backup service running every
//! active job at its scheduled times on the sandbox clock. The settings as
//! `PUT /_sandbox/schedule` and `sandbox.json` state them, the seeded
//! generator of outcomes, and the runs that fall due between two instants,
//! written in time order across all jobs through the one code path of a
//! simulated run ([`simulate::write_run`]). Pure: the instants are given.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde_json::{Map, Value, json};

use super::build::RecordBuilder;
use super::mail::Mail;
use super::recurrence::{Freq, Recurrence, to_utc, zone};
use super::rules::get;
use super::schema::Res;
use super::simulate::{self, Outcome, When};
use super::state::State;
use super::value::Val;

/// A rule that fixes the outcome of the runs it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeRule {
    pub device: Option<i64>,
    pub job: Option<i64>,
    pub company: Option<i64>,
    pub outcome: Outcome,
    pub messages: Option<String>,
    /// Runs it still applies to; None: all.
    pub times: Option<u64>,
}

/// The schedule's settings and where its generator stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub enabled: bool,
    pub seed: u64,
    /// Relative weights of Completed, Failed, Missed.
    pub weights: [u64; 3],
    pub rules: Vec<OutcomeRule>,
    /// The generator's state: starts at the seed.
    pub rng: u64,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            enabled: false,
            seed: 1,
            weights: [1, 0, 0],
            rules: Vec::new(),
            rng: 1,
        }
    }
}

const OUTCOMES: [Outcome; 3] = [Outcome::Completed, Outcome::Failed, Outcome::Missed];

/// A whole number 0 ≤ n < 2^53 (or written n.0), for a JSON setting.
fn count(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
            .map(|f| f as u64)
    })
}

fn id_of(v: &Value) -> Option<i64> {
    count(v).filter(|n| *n >= 1).map(|n| n as i64)
}

impl Schedule {
    /// The settings of a PUT or of `sandbox.json`; every problem found.
    pub fn parse(v: &Value) -> Result<Schedule, Vec<String>> {
        let Some(obj) = v.as_object() else {
            return Err(vec![
                "The schedule is an object: {\"enabled\": true, \"seed\": 1, \"outcomes\": {…}, \"rules\": […]}.".into(),
            ]);
        };
        let mut errors = Vec::new();
        let mut s = Schedule::default();
        for (k, v) in obj {
            match k.as_str() {
                "enabled" => match v.as_bool() {
                    Some(b) => s.enabled = b,
                    None => errors.push(format!("enabled must be true or false, not {v}.")),
                },
                "seed" => match count(v) {
                    Some(n) => s.seed = n,
                    None => errors.push(format!("seed must be a whole number, not {v}.")),
                },
                "outcomes" => match parse_weights(v) {
                    Ok(w) => s.weights = w,
                    Err(e) => errors.extend(e),
                },
                "rules" => match v.as_array() {
                    Some(rules) => {
                        for (i, r) in rules.iter().enumerate() {
                            match parse_rule(r) {
                                Ok(rule) => s.rules.push(rule),
                                Err(e) => {
                                    errors.extend(e.into_iter().map(|e| format!("rules[{i}]: {e}")))
                                }
                            }
                        }
                    }
                    None => errors.push(format!("rules must be an array of rules, not {v}.")),
                },
                other => errors.push(format!(
                    "{other} is not a schedule setting (enabled, seed, outcomes, rules)."
                )),
            }
        }
        s.rng = s.seed;
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(errors)
        }
    }

    /// As `GET /_sandbox/schedule` shows it (a rule's `times` is what is
    /// left of it): a PUT of it states the same schedule.
    pub fn to_json(&self) -> Value {
        let outcomes: Map<String, Value> = OUTCOMES
            .iter()
            .zip(self.weights)
            .filter(|(_, w)| *w > 0)
            .map(|(o, w)| (o.name().to_string(), json!(w)))
            .collect();
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (k, v) in [("device", r.device), ("job", r.job), ("company", r.company)] {
                    if let Some(v) = v {
                        m.insert(k.into(), json!(v));
                    }
                }
                m.insert("JobStatus".into(), json!(r.outcome.name()));
                if let Some(msg) = &r.messages {
                    m.insert("ErrorMessages".into(), json!(msg));
                }
                if let Some(t) = r.times {
                    m.insert("times".into(), json!(t));
                }
                Value::Object(m)
            })
            .collect();
        json!({"enabled": self.enabled, "seed": self.seed, "outcomes": outcomes, "rules": rules})
    }

    /// Whether it differs from the default (so a snapshot need not state it).
    pub fn is_default(&self) -> bool {
        *self == Schedule::default()
    }

    /// The next number of the seeded generator (SplitMix64).
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The outcome of a run of `job` on `device` of `company`: the first
    /// matching rule's (used up after its `times`), else a weighted draw.
    pub fn outcome(
        &mut self,
        job: i64,
        device: i64,
        company: Option<i64>,
    ) -> (Outcome, Option<String>) {
        let hit = self.rules.iter().position(|r| {
            r.job.is_none_or(|j| j == job)
                && r.device.is_none_or(|d| d == device)
                && r.company.is_none_or(|c| Some(c) == company)
        });
        if let Some(i) = hit {
            let r = &mut self.rules[i];
            let got = (r.outcome, r.messages.clone());
            if let Some(t) = r.times.as_mut() {
                *t = t.saturating_sub(1);
                if *t == 0 {
                    self.rules.remove(i);
                }
            }
            return got;
        }
        let total: u64 = self.weights.iter().sum();
        let mut pick = self.next() % total.max(1);
        for (o, w) in OUTCOMES.iter().zip(self.weights) {
            if pick < w {
                return (*o, None);
            }
            pick -= w;
        }
        (Outcome::Completed, None)
    }
}

fn parse_weights(v: &Value) -> Result<[u64; 3], Vec<String>> {
    let Some(obj) = v.as_object() else {
        return Err(vec![format!(
            "outcomes must be an object of weights such as {{\"Completed\": 90, \"Failed\": 8, \"Missed\": 2}}, not {v}."
        )]);
    };
    let mut w = [0u64; 3];
    let mut errors = Vec::new();
    for (k, v) in obj {
        match (Outcome::parse(k), count(v).filter(|n| *n <= 1_000_000_000)) {
            (Some(o), Some(n)) => w[OUTCOMES.iter().position(|x| *x == o).unwrap_or(0)] = n,
            (None, _) => errors.push(format!(
                "{k} is not an outcome (Completed, Failed, Missed)."
            )),
            (_, None) => errors.push(format!(
                "The weight of {k} must be a whole number from 0 to 1000000000, not {v}."
            )),
        }
    }
    if errors.is_empty() && w.iter().sum::<u64>() == 0 {
        errors.push("outcomes must give at least one outcome a weight above 0.".into());
    }
    if errors.is_empty() {
        Ok(w)
    } else {
        Err(errors)
    }
}

fn parse_rule(v: &Value) -> Result<OutcomeRule, Vec<String>> {
    let Some(obj) = v.as_object() else {
        return Err(vec![format!("a rule is an object, not {v}.")]);
    };
    let mut errors = Vec::new();
    let mut rule = OutcomeRule {
        device: None,
        job: None,
        company: None,
        outcome: Outcome::Completed,
        messages: None,
        times: None,
    };
    let mut status = false;
    for (k, v) in obj {
        let id = || id_of(v).ok_or_else(|| format!("{k} must be a positive id, not {v}."));
        match k.as_str() {
            "device" => id().map(|i| rule.device = Some(i)),
            "job" => id().map(|i| rule.job = Some(i)),
            "company" => id().map(|i| rule.company = Some(i)),
            "times" => count(v)
                .filter(|n| *n >= 1)
                .map(|n| rule.times = Some(n))
                .ok_or_else(|| format!("times must be a whole number of runs from 1, not {v}.")),
            "JobStatus" => v
                .as_str()
                .and_then(Outcome::parse)
                .map(|o| {
                    rule.outcome = o;
                    status = true;
                })
                .ok_or_else(|| format!("JobStatus must be one of Completed, Failed, Missed, not {v}.")),
            "ErrorMessages" => match v {
                Value::Null => Ok(()),
                Value::String(s) => {
                    rule.messages = Some(s.clone());
                    Ok(())
                }
                _ => Err(format!("ErrorMessages must be a string, not {v}.")),
            },
            other => Err(format!(
                "{other} is not part of a schedule rule (device, job, company, JobStatus, ErrorMessages, times)."
            )),
        }
        .unwrap_or_else(|e| errors.push(e));
    }
    if !status && errors.is_empty() {
        errors.push("A rule needs its JobStatus (Completed, Failed or Missed).".into());
    }
    if errors.is_empty() {
        Ok(rule)
    } else {
        Err(errors)
    }
}

/// A job that may run: active, on an active device of an active company.
struct Candidate {
    job_id: i64,
    rec: Recurrence,
    /// Its NextRunOn.
    anchor: i64,
    zone: String,
}

fn flag(v: &Val) -> bool {
    v.is_true()
}

fn text(v: &Val) -> &str {
    match v {
        Val::Str(s) => s,
        _ => "",
    }
}

/// Whether a job may run: not inactive, on an active device of an active
/// company.
fn active(state: &State, j: &[Val]) -> bool {
    let (jobs, devices, companies) = (Res::Jobs.info(), Res::Devices.info(), Res::Companies.info());
    let device = get(jobs, j, "DeviceId")
        .as_int()
        .and_then(|d| state.get(Res::Devices, d));
    !flag(get(jobs, j, "IsInactive"))
        && device.is_some_and(|d| {
            !flag(get(devices, &d.vals, "IsInactive"))
                && get(devices, &d.vals, "CompanyId")
                    .as_int()
                    .and_then(|c| state.get(Res::Companies, c))
                    .is_some_and(|c| !flag(get(companies, &c.vals, "IsInactive")))
        })
}

/// Every job that may run, in id order.
fn candidates(state: &State) -> Vec<Candidate> {
    state
        .table(Res::Jobs)
        .rows
        .iter()
        .filter(|(_, r)| active(state, &r.vals))
        .filter_map(|(&id, _)| schedule_of(state, id))
        .collect()
}

/// Time zones by Windows id, looked up once per pass.
#[derive(Default)]
struct Zones(HashMap<String, jiff::tz::TimeZone>);

impl Zones {
    fn of(&mut self, id: &str) -> &jiff::tz::TimeZone {
        self.0.entry(id.to_string()).or_insert_with(|| zone(id))
    }
}

/// The first occurrence of a candidate's series after `from` that is not
/// after `to`, counting from its NextRunOn, or from the first occurrence
/// after `from` when NextRunOn is at or before `from` (those are skipped,
/// not run).
fn first_due(c: &Candidate, tz: &jiff::tz::TimeZone, from: i64) -> Option<(i64, i64)> {
    let due = to_utc(c.anchor, tz);
    if due > from {
        c.rec.allows(c.anchor).then_some((c.anchor, due))
    } else {
        c.rec.next_after(c.anchor, tz, from)
    }
}

/// How many runs fall due in (`from`, `to`]; counting stops past `cap`.
pub fn count_due(state: &State, from: i64, to: i64, cap: u64) -> u64 {
    let mut zones = Zones::default();
    let mut n = 0u64;
    for c in candidates(state) {
        let tz = zones.of(&c.zone).clone();
        let mut next = first_due(&c, &tz, from);
        while let Some((l, u)) = next {
            if u > to || n > cap {
                break;
            }
            n += 1;
            next = c.rec.next_after(l, &tz, u);
        }
        if n > cap {
            break;
        }
    }
    n
}

/// The instant (sandbox clock, UTC) the next run falls due after `from`.
pub fn next_due(state: &State, from: i64) -> Option<i64> {
    let mut zones = Zones::default();
    candidates(state)
        .iter()
        .filter_map(|c| {
            let tz = zones.of(&c.zone).clone();
            first_due(c, &tz, from).map(|(_, u)| u)
        })
        .min()
}

/// What a pass of the schedule wrote.
#[derive(Debug, Default)]
pub struct Runs {
    pub count: u64,
    pub mails: Vec<Mail>,
}

fn set_time(state: &mut State, res: Res, id: i64, name: &str, ms: i64) {
    if let Some(rec) = state.tables[res.index()].rows.get_mut(&id) {
        let mut b = RecordBuilder::from_vals(res, &rec.vals);
        b.time(name, ms);
        rec.vals = b.build().into();
    }
}

/// Runs every job whose run falls due in (`from`, `to`], in time order
/// across all jobs (ties by JobId), and moves each run job's NextRunOn to
/// its next occurrence; a NextRunOn at or before `from` moves to its next
/// occurrence after `from` without a run.
pub fn run_due(state: &mut State, from: i64, to: i64) -> Runs {
    let mut zones = Zones::default();
    let mut heap = BinaryHeap::new();
    let mut series = HashMap::new();
    for c in candidates(state) {
        let tz = zones.of(&c.zone).clone();
        match first_due(&c, &tz, from) {
            Some((l, u)) => {
                if l != c.anchor {
                    set_time(state, Res::Jobs, c.job_id, "NextRunOn", l);
                }
                if u <= to {
                    heap.push(Reverse((u, c.job_id, l)));
                }
            }
            None => continue,
        }
        series.insert(c.job_id, (c.rec, tz));
    }
    let mut runs = Runs::default();
    let mut schedule = state.schedule.clone();
    while let Some(Reverse((utc, job_id, local))) = heap.pop() {
        let Some((rec, tz)) = series.get(&job_id) else {
            continue;
        };
        let (device, company) = state
            .get(Res::Jobs, job_id)
            .and_then(|j| get(Res::Jobs.info(), &j.vals, "DeviceId").as_int())
            .map(|d| {
                let company = state
                    .get(Res::Devices, d)
                    .and_then(|r| get(Res::Devices.info(), &r.vals, "CompanyId").as_int());
                (d, company)
            })
            .unwrap_or((0, None));
        let (outcome, messages) = schedule.outcome(job_id, device, company);
        let when = When {
            started_utc: utc,
            duration_ms: simulate::duration_ms(state.table(Res::Logs).next_id.max(1)),
        };
        let Ok((_, mails)) = simulate::write_run(state, job_id, outcome, messages, when) else {
            continue;
        };
        // the log copies the NextRunOn it ran for; then the next occurrence
        set_time(state, Res::Devices, device, "LastApiCheckAt", local);
        runs.count += 1;
        runs.mails.extend(mails);
        if let Some((l, u)) = rec.next_after(local, tz, utc) {
            set_time(state, Res::Jobs, job_id, "NextRunOn", l);
            if u <= to {
                heap.push(Reverse((u, job_id, l)));
            }
        }
    }
    state.schedule = schedule;
    runs
}

/// After a manual run at `now` (UTC): a NextRunOn at or before it moves to
/// the next occurrence after it.
pub fn after_manual_run(state: &mut State, job_id: i64, now: i64) {
    let Some(c) = schedule_of(state, job_id) else {
        return;
    };
    let tz = zone(&c.zone);
    if to_utc(c.anchor, &tz) <= now
        && let Some((l, _)) = c.rec.next_after(c.anchor, &tz, now)
    {
        set_time(state, Res::Jobs, job_id, "NextRunOn", l);
    }
}

/// One job's schedule, whether or not it may run.
fn schedule_of(state: &State, job_id: i64) -> Option<Candidate> {
    let j = &state.get(Res::Jobs, job_id)?.vals;
    let jobs = Res::Jobs.info();
    let freq = Freq::parse(text(get(jobs, j, "Frequency")))?;
    let Val::Time(anchor) = get(jobs, j, "NextRunOn").clone() else {
        return None;
    };
    let device = get(jobs, j, "DeviceId")
        .as_int()
        .and_then(|d| state.get(Res::Devices, d))?;
    let on = |n: &str| flag(get(jobs, j, n));
    Some(Candidate {
        job_id,
        rec: Recurrence {
            freq,
            every: get(jobs, j, "Every").as_int().unwrap_or(1).max(1),
            days: [
                on("OnMonday"),
                on("OnTuesday"),
                on("OnWednesday"),
                on("OnThursday"),
                on("OnFriday"),
                on("OnSaturday"),
                on("OnSunday"),
            ],
            day_of_month: get(jobs, j, "DayOfMonth").as_int(),
            expire_on: match get(jobs, j, "ExpireOn") {
                Val::Time(t) => Some(*t),
                _ => None,
            },
        },
        anchor,
        zone: text(get(Res::Devices.info(), &device.vals, "TimeZoneId")).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_ones_are_all_named() {
        let v = json!({"enabled": true, "seed": 7, "outcomes": {"Completed": 90, "Failed": 8, "Missed": 2},
                       "rules": [{"device": 3, "job": 7, "JobStatus": "Failed", "ErrorMessages": "disk full", "times": 2}]});
        let s = Schedule::parse(&v).unwrap();
        assert_eq!(s.to_json(), v);
        assert_eq!(Schedule::parse(&s.to_json()).unwrap(), s);
        let errors = Schedule::parse(&json!({"enabled": 1, "seed": -1, "outcomes": {"Done": 1},
            "rules": [{"JobStatus": "Late"}, {"job": 0, "JobStatus": "Failed"}], "extra": 1}))
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(Schedule::parse(&json!({"outcomes": {"Completed": 0}})).is_err());
        assert_eq!(Schedule::parse(&json!({})).unwrap(), Schedule::default());
    }

    #[test]
    fn outcomes_follow_the_weights_and_the_seed() {
        let mut s = Schedule::parse(
            &json!({"seed": 3, "outcomes": {"Completed": 90, "Failed": 8, "Missed": 2}}),
        )
        .unwrap();
        let draw = |s: &mut Schedule| {
            (0..10_000)
                .map(|_| s.outcome(1, 1, None).0)
                .collect::<Vec<_>>()
        };
        let a = draw(&mut s.clone());
        assert_eq!(a, draw(&mut s), "same seed, same outcomes");
        let failed = a.iter().filter(|o| **o == Outcome::Failed).count();
        assert!((650..950).contains(&failed), "{failed}");
        let mut only = Schedule::parse(&json!({"outcomes": {"Missed": 1}})).unwrap();
        assert_eq!(only.outcome(1, 1, None).0, Outcome::Missed);
    }

    #[test]
    fn a_rule_fixes_the_outcome_for_its_times() {
        let mut s =
            Schedule::parse(&json!({"rules": [{"job": 7, "JobStatus": "Failed", "times": 2}]}))
                .unwrap();
        assert_eq!(s.outcome(8, 1, None).0, Outcome::Completed);
        assert_eq!(s.outcome(7, 1, None).0, Outcome::Failed);
        assert_eq!(s.outcome(7, 1, None).0, Outcome::Failed);
        assert_eq!(s.outcome(7, 1, None).0, Outcome::Completed);
        assert!(s.rules.is_empty());
    }
}
