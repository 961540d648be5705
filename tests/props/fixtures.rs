//! The fixture loader (records of every collection, API keys, problems
//! with line and column), snapshots, and fault rules (sandbox.json and the
//! control API).

use std::time::Duration;

use cleverfox_sandbox::domain::faults::{FaultAction, FaultRule, MAX_LATENCY_MS};
use cleverfox_sandbox::domain::schema::{Attr, Kind, Res, flag};
use cleverfox_sandbox::domain::snapshot::write_bundle;
use cleverfox_sandbox::domain::state::{KeyKind, State};
use cleverfox_sandbox::domain::value::Val;
use cleverfox_sandbox::domain::value::{ArcStr, format_timestamp};
use cleverfox_sandbox::store::faults::{Decision, Faults};
use cleverfox_sandbox::store::fixtures::{Problem, load_bundle_bytes};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::text::{WS_CHOICES, json_value, write_spaced};
use super::{config, heavy};

/// 0001-01-01T00:00:00.000 and 9999-12-31T23:59:59.999.
const FIRST_MS: i64 = -62_135_596_800_000;
const LAST_MS: i64 = 253_402_300_799_999;

/// A string of at most `max` UTF-16 code units: short ones of any
/// characters, and ones of exactly the limit (in characters that take one
/// or two UTF-16 units).
fn text_within(max: u32) -> impl Strategy<Value = String> {
    let max = if max == 0 { 300 } else { max as usize };
    let fit = move |cs: Vec<char>| {
        let mut s = String::new();
        let mut units = 0;
        for c in cs {
            if units + c.len_utf16() > max {
                break;
            }
            units += c.len_utf16();
            s.push(c);
        }
        s
    };
    prop_oneof![
        8 => prop::collection::vec(any::<char>(), 0..8).prop_map(fit),
        1 => prop::sample::select(vec!['x', 'é', '"', '\\', '\n', '\u{1F98A}'])
            .prop_map(move |c| fit(vec![c; max])),
    ]
}

/// One attribute's value as a fixture writes it, and as the store must
/// hold it (`None` for attributes that are not stored).
fn attr_value(a: &'static Attr, history: bool) -> BoxedStrategy<(Value, Option<Val>)> {
    let null = Just((Value::Null, Some(Val::Null)));
    match a.kind {
        // embedded objects and child arrays are ignored, whatever they hold
        Kind::Obj { .. } | Kind::Arr { .. } => prop::sample::select(vec![
            Value::Null,
            json!({"Name": "embedded \"]}", "Id": 3, "Nested": {"Partner": null}}),
            json!([{"JobItemId": 1, "Name": "x"}, [], [[{}]], "s", 1.5, true]),
            json!([]),
        ])
        .prop_map(|v| (v, None))
        .boxed(),
        Kind::Int if a.refs.is_some() && !history => null.boxed(),
        Kind::Int if a.refs.is_some() => prop_oneof![
            null,
            (1..=i64::MAX).prop_map(|i| (json!(i), Some(Val::Int(i))))
        ]
        .boxed(),
        Kind::Int => prop_oneof![
            null,
            any::<i64>().prop_map(|i| (json!(i), Some(Val::Int(i))))
        ]
        .boxed(),
        Kind::Bool => prop_oneof![
            null,
            any::<bool>().prop_map(|b| (json!(b), Some(Val::Bool(b))))
        ]
        .boxed(),
        Kind::Str => prop_oneof![
            null,
            text_within(a.max_len).prop_map(|s| (json!(s), Some(Val::Str(ArcStr::from(s)))))
        ]
        .boxed(),
        Kind::Utc | Kind::Local => {
            let utc = a.kind == Kind::Utc;
            prop_oneof![
                null,
                (FIRST_MS..=LAST_MS, any::<bool>()).prop_map(move |(ms, z)| {
                    let mut s = format_timestamp(ms);
                    if utc && z {
                        s.push('Z');
                    }
                    (json!(s), Some(Val::Time(ms)))
                })
            ]
            .boxed()
        }
    }
}

/// A record of `res` without its primary key: its JSON and its stored values.
fn record(res: Res) -> BoxedStrategy<(Map<String, Value>, Vec<Val>)> {
    let info = res.info();
    let attrs: Vec<BoxedStrategy<(Value, Option<Val>)>> = info
        .def
        .attrs
        .iter()
        .map(|a| attr_value(a, info.def.history))
        .collect();
    let present = prop::collection::vec(prop::bool::weighted(0.8), info.def.attrs.len());
    (attrs, present)
        .prop_map(move |(vals, present)| {
            let mut obj = Map::new();
            let mut stored = vec![Val::Null; info.slots.len()];
            for (i, ((json, val), keep)) in vals.into_iter().zip(present).enumerate() {
                let a = &info.def.attrs[i];
                if !keep || a.has(flag::KEY) {
                    continue; // an absent attribute is stored as null
                }
                obj.insert(a.name.to_string(), json);
                if let (Some(slot), Some(v)) = (info.slot_of[i], val) {
                    stored[slot] = v;
                }
            }
            (obj, stored)
        })
        .boxed()
}

/// The records of one collection, with distinct positive ids.
fn records(res: Res) -> impl Strategy<Value = Vec<(i64, Value, Vec<Val>)>> {
    let info = res.info();
    (
        prop::collection::btree_set(1..=i64::MAX, 0..3),
        prop::collection::vec(record(res), 2),
    )
        .prop_map(move |(ids, recs)| {
            ids.into_iter()
                .zip(recs)
                .map(|(id, (mut obj, mut stored))| {
                    obj.insert(info.key_name().to_string(), json!(id));
                    stored[info.key_slot] = Val::Int(id);
                    (id, Value::Object(obj), stored)
                })
                .collect()
        })
}

/// A bundle of every collection and some API keys, as JSON, with what the
/// store must hold.
#[derive(Debug, Clone)]
struct Bundle {
    json: Value,
    records: Vec<Vec<(i64, Vec<Val>)>>,
    keys: Vec<(String, KeyKind)>,
}

fn api_key_text() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9-]{1,40}", r"[^:\pC]{1,12}"]
}

fn bundle() -> impl Strategy<Value = Bundle> {
    let collections: Vec<_> = Res::ALL.iter().map(|&r| records(r)).collect();
    (
        collections,
        prop::collection::btree_set(api_key_text(), 1..4),
        prop::collection::vec(
            (any::<prop::sample::Index>(), any::<bool>(), any::<bool>()),
            3,
        ),
    )
        .prop_map(|(collections, key_texts, key_kinds)| {
            let mut obj = Map::new();
            let mut records: Vec<Vec<(i64, Vec<Val>)>> = Vec::new();
            for (res, recs) in Res::ALL.iter().zip(collections) {
                obj.insert(
                    res.name().to_string(),
                    Value::Array(recs.iter().map(|(_, j, _)| j.clone()).collect()),
                );
                records.push(recs.into_iter().map(|(id, _, v)| (id, v)).collect());
            }
            let partners: Vec<i64> = records[Res::Partners.index()]
                .iter()
                .map(|(id, _)| *id)
                .collect();
            let mut keys = Vec::new();
            let mut entries = Vec::new();
            for (key, (which, admin, plan)) in key_texts.into_iter().zip(key_kinds) {
                let kind = if admin || partners.is_empty() {
                    entries.push(json!({"ApiKey": key, "Admin": true}));
                    KeyKind::Admin
                } else {
                    let partner_id = partners[which.index(partners.len())];
                    entries
                        .push(json!({"ApiKey": key, "PartnerId": partner_id, "PartnerPlan": plan}));
                    KeyKind::Partner {
                        partner_id,
                        partner_plan: plan,
                    }
                };
                keys.push((key, kind));
            }
            obj.insert("apikeys".into(), Value::Array(entries));
            Bundle {
                json: Value::Object(obj),
                records,
                keys,
            }
        })
}

fn spaced(v: &Value, ws: &[usize]) -> Vec<u8> {
    let mut out = String::new();
    write_spaced(v, ws, &mut 0, &mut out);
    out.into_bytes()
}

fn load(bytes: Vec<u8>) -> Result<State, Vec<Problem>> {
    load_bundle_bytes("bundle.json", bytes, 0).map(|l| l.state)
}

/// Every collection's records as (id, values), in id order.
fn rows(state: &State) -> Vec<Vec<(i64, Vec<Val>)>> {
    Res::ALL
        .iter()
        .map(|&r| {
            state
                .table(r)
                .rows
                .iter()
                .map(|(id, rec)| (*id, rec.vals.to_vec()))
                .collect()
        })
        .collect()
}

fn keys(state: &State) -> Vec<(String, KeyKind)> {
    let mut k: Vec<_> = state
        .keys
        .iter()
        .map(|k| (k.key.clone(), k.kind.clone()))
        .collect();
    k.sort_by(|a, b| a.0.cmp(&b.0));
    k
}

/// The line and column of a byte offset, counted plainly.
fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = String::from_utf8_lossy(&text[..offset]).into_owned();
    let line = 1 + before.matches('\n').count();
    let col = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
    (line, col)
}

fn ws() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..WS_CHOICES, 1..12)
}

proptest! {
    #![proptest_config(heavy())]

    /// Records of every collection with any values of their types (any
    /// Unicode strings up to the stated length, timestamps from 0001 to
    /// 9999, with `Z` on UTC ones, embedded objects holding anything),
    /// however spaced: the loader stores exactly those values, and the
    /// snapshot of the loaded state loads back into the same state.
    #[test]
    fn fixtures_load_and_snapshots_round_trip(b in bundle(), ws in ws()) {
        let state = load(spaced(&b.json, &ws)).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let mut want_keys = b.keys.clone();
        want_keys.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(&rows(&state), &b.records);
        prop_assert_eq!(&keys(&state), &want_keys);
        let again = load(write_bundle(&state, None)).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        prop_assert_eq!(&rows(&again), &b.records);
        prop_assert_eq!(&keys(&again), &want_keys);
    }

    /// A record with an unknown attribute, a value of the wrong type, or a
    /// value that is not JSON at all: the problem names the record, the
    /// attribute, and the line and column where the attribute (or the bad
    /// character) is, as a plain count of the text shows it.
    #[test]
    fn problems_name_line_and_column(
        names in prop::collection::vec(r#"[^"\\@]{0,20}"#, 1..5),
        at in any::<prop::sample::Index>(),
        kind in 0..3u8,
        ws in ws(),
    ) {
        let k = at.index(names.len());
        let recs: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut r = json!({"PlanTypeId": i + 1, "Name": n, "IsInactive": false});
                if i == k {
                    match kind {
                        0 => r["Colour"] = json!("red"),
                        1 => r["Name"] = json!(5),
                        _ => r["Name"] = json!("@@"),
                    }
                }
                r
            })
            .collect();
        let doc = json!({"plantypes": recs, "apikeys": [{"ApiKey": "admin", "Admin": true}]});
        let mut text = String::from_utf8(spaced(&doc, &ws)).unwrap();
        let (needle, attr) = match kind {
            0 => ("\"Colour\"".to_string(), Some("Colour")),
            1 => {
                // the k-th "Name" key
                (String::new(), Some("Name"))
            }
            _ => {
                text = text.replace("\"@@\"", "@");
                ("@".to_string(), None)
            }
        };
        let offset = if needle.is_empty() {
            text.match_indices("\"Name\"").nth(k).unwrap().0
        } else {
            text.find(&needle).unwrap()
        };
        let problems = load(text.clone().into_bytes()).err().unwrap_or_default();
        prop_assert_eq!(problems.len(), 1, "{:?}", problems);
        let p = &problems[0];
        prop_assert_eq!((p.line, p.column), line_col(text.as_bytes(), offset), "{}\n{}", p, text);
        prop_assert_eq!(p.attr.as_deref(), attr);
        if attr.is_some() {
            let record = format!("PlanTypeId {}", k + 1);
            prop_assert_eq!(p.record.as_deref(), Some(record.as_str()));
        }
    }

    /// Any bytes, and valid bundles with one byte changed, dropped or
    /// added: a state or problems, never a panic, and every problem is
    /// placed inside the text.
    #[test]
    fn any_bundle_bytes_load_without_panic(
        b in bundle(),
        ws in ws(),
        junk in prop::collection::vec(any::<u8>(), 0..48),
        (at, byte, edit) in (any::<prop::sample::Index>(), any::<u8>(), 0..4u8),
    ) {
        let mut bytes = spaced(&b.json, &ws);
        let i = at.index(bytes.len());
        match edit {
            0 => bytes[i] = byte,
            1 => { bytes.remove(i); }
            2 => bytes.insert(i, byte),
            _ => bytes = junk,
        }
        let lines = 1 + bytes.iter().filter(|c| **c == b'\n').count();
        if let Err(problems) = load(bytes.clone()) {
            prop_assert!(!problems.is_empty());
            for p in problems {
                prop_assert!(p.line >= 1 && p.line <= lines, "{}", p);
                prop_assert!(p.column >= 1 && p.column <= bytes.len() + 1, "{}", p);
            }
        }
    }
}

// ------------------------------------------------------------ fault rules

/// A valid fault rule as a client states it.
fn rule_json() -> impl Strategy<Value = Value> {
    let action = prop_oneof![
        (0..=MAX_LATENCY_MS).prop_map(|ms| json!({"latency_ms": ms})),
        (100..=599u16, prop::option::of(json_value()))
            .prop_map(|(s, body)| json!({"status": s, "body": body})),
        (any::<u64>(), 1..=86_400u64).prop_map(|(n, w)| json!({"rate_limit": n, "window_s": w})),
        Just(json!({"close": true})),
    ];
    (
        prop::option::of("(?i:get|post|put|delete|patch)"),
        prop::option::of(r"/[a-z/]{0,12}"),
        prop::option::of(1..=i64::MAX),
        prop::option::of(1..=u64::MAX),
        action,
        any::<bool>(),
    )
        .prop_map(|(method, path, partner, times, action, nulls)| {
            let mut m = action.as_object().cloned().unwrap_or_default();
            for (k, v) in [
                ("method", method.map(Value::from)),
                ("path", path.map(Value::from)),
                ("partner", partner.map(Value::from)),
                ("times", times.map(Value::from)),
            ] {
                match v {
                    Some(v) => {
                        m.insert(k.into(), v);
                    }
                    None if nulls => {
                        m.insert(k.into(), Value::Null);
                    }
                    None => {}
                }
            }
            Value::Object(m)
        })
}

/// The fields of a rule and values of every type, valid or not.
fn any_rule_json() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just("method"),
        Just("path"),
        Just("partner"),
        Just("latency_ms"),
        Just("status"),
        Just("body"),
        Just("rate_limit"),
        Just("window_s"),
        Just("close"),
        Just("times"),
        Just("id"),
        Just("colour"),
    ];
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0..700i64).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e3..1e6f64).prop_map(Value::from),
        "/?[a-z]{0,5}".prop_map(Value::from),
        json_value(),
    ];
    prop_oneof![
        prop::collection::vec((field, value), 0..6).prop_map(|kv| Value::Object(
            kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        )),
        json_value(),
    ]
}

/// Whether API.md section 8 allows the rule: known fields, each of its
/// type and range, exactly one action, `rate_limit` with `window_s`,
/// `body` with `status`, and a path that starts with '/'.
fn rule_is_valid(v: &Value) -> bool {
    let Some(m) = v.as_object() else { return false };
    let get = |k: &str| m.get(k).filter(|v| !v.is_null());
    let whole = |k: &str, lo: u64, hi: u64| {
        get(k).is_none_or(|v| v.as_u64().is_some_and(|n| lo <= n && n <= hi))
    };
    let fields = [
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
        "id",
    ];
    let actions = ["latency_ms", "status", "rate_limit", "close"]
        .iter()
        .filter(|k| get(k).is_some())
        .count();
    m.keys().all(|k| fields.contains(&k.as_str()))
        && get("method").is_none_or(Value::is_string)
        && get("path").is_none_or(|p| p.as_str().is_some_and(|p| p.starts_with('/')))
        && whole("partner", 1, i64::MAX as u64)
        && whole("latency_ms", 0, MAX_LATENCY_MS)
        && whole("status", 100, 599)
        && whole("rate_limit", 0, u64::MAX)
        && whole("window_s", 1, 86_400)
        && whole("times", 1, u64::MAX)
        && get("close").is_none_or(|c| c == &Value::Bool(true))
        && actions == 1
        && get("rate_limit").is_some() == get("window_s").is_some()
        && (get("body").is_none() || get("status").is_some())
}

proptest! {
    #![proptest_config(config())]

    /// A valid rule parses; written back out (as `GET /_sandbox/faults`
    /// and snapshots write it) it is the rule as sent, with the method in
    /// capitals and the nulls left out, and parses to the same rule.
    #[test]
    fn fault_rules_round_trip(v in rule_json()) {
        let rule = FaultRule::parse(&v).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let written = serde_json::to_value(&rule).unwrap();
        let mut want = v.as_object().cloned().unwrap();
        want.retain(|_, v| !v.is_null());
        if let Some(Value::String(m)) = want.get_mut("method") {
            *m = m.to_ascii_uppercase();
        }
        prop_assert_eq!(&written, &Value::Object(want));
        prop_assert_eq!(FaultRule::parse(&written), Ok(rule));
    }

    /// Any JSON: parsed exactly when the rules of API.md section 8 allow
    /// it, and then with exactly one action; otherwise every problem is a
    /// sentence.
    #[test]
    fn fault_rules_parse_by_the_rules(v in any_rule_json()) {
        match FaultRule::parse(&v) {
            Ok(rule) => {
                prop_assert!(rule_is_valid(&v), "{} accepted", v);
                let action = rule.action();
                prop_assert_eq!(rule.latency_ms.is_some(), matches!(action, FaultAction::Latency(_)));
                prop_assert_eq!(rule.close.is_some(), action == FaultAction::Close);
            }
            Err(errors) => {
                prop_assert!(!rule_is_valid(&v), "{} refused: {:?}", v, errors);
                prop_assert!(!errors.is_empty());
            }
        }
    }

    /// A rule matches a request exactly when its method (any case), path
    /// prefix and partner, each where given, do; a status rule with
    /// `times` answers that many matching requests, then none.
    #[test]
    fn fault_rules_match_and_count(
        v in rule_json(),
        requests in prop::collection::vec(
            (prop_oneof![Just("GET"), Just("post"), Just("Put"), Just("DELETE")], r"/[a-z/]{0,14}", prop::option::of(1..4i64)),
            0..12,
        ),
        times in 1..5u64,
    ) {
        let rule = FaultRule::parse(&v).unwrap();
        let status = FaultRule { latency_ms: None, latency: None, rate_limit: None, window_s: None, close: None, status: Some(503), body: None, times: Some(times), ..rule.clone() };
        let faults = Faults::default();
        faults.add(status.clone());
        let mut answered = 0;
        for (method, path, partner) in requests {
            let want = rule.method.as_ref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule.path.as_ref().is_none_or(|p| path.starts_with(p.as_str()))
                && rule.partner.is_none_or(|p| partner == Some(p));
            prop_assert_eq!(rule.matches(method, &path, partner), want);
            match faults.decide(method, &path, partner) {
                Decision::Respond { status: 503, retry_after: None, delay, .. } => {
                    prop_assert!(want && answered < times);
                    prop_assert_eq!(delay, Duration::ZERO);
                    answered += 1;
                }
                Decision::Serve { delay } => {
                    prop_assert!(!want || answered == times);
                    prop_assert_eq!(delay, Duration::ZERO);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(faults.list().is_empty(), answered == times);
    }
}

proptest! {
    #![proptest_config(heavy())]

    /// `sandbox` in a bundle (as sandbox.json states it): valid rules load
    /// as they parse; each invalid one is reported on the line where it
    /// starts, and nothing loads.
    #[test]
    fn sandbox_json_loads_its_fault_rules(
        rules in prop::collection::vec(prop_oneof![3 => rule_json(), 1 => any_rule_json()], 0..5),
        ws in ws(),
    ) {
        let doc = json!({"sandbox": {"faults": rules}, "apikeys": [{"ApiKey": "admin", "Admin": true}]});
        let text = spaced(&doc, &ws);
        let loaded = load(text.clone());
        let invalid: Vec<usize> = (0..rules.len()).filter(|&i| FaultRule::parse(&rules[i]).is_err()).collect();
        match loaded {
            Ok(state) => {
                prop_assert!(invalid.is_empty());
                let want: Vec<FaultRule> = rules.iter().map(|r| FaultRule::parse(r).unwrap()).collect();
                prop_assert_eq!(state.faults, want);
            }
            Err(problems) => {
                prop_assert!(!invalid.is_empty(), "{:?}", problems);
                // where each rule starts, found by the scanner the loader uses
                let b = &text;
                let s = cleverfox_sandbox::store::json_scan::skip_ws(b, 0);
                let top = cleverfox_sandbox::store::json_scan::object_members(b, s).unwrap();
                let sandbox = top.iter().find(|m| m.key == "sandbox").unwrap();
                let inner = cleverfox_sandbox::store::json_scan::object_members(b, sandbox.value.0).unwrap();
                let items = cleverfox_sandbox::store::json_scan::array_items(b, inner[0].value.0).unwrap();
                let lines: Vec<(usize, usize)> = invalid.iter().map(|&i| line_col(b, items[i].0)).collect();
                for p in &problems {
                    prop_assert_eq!(p.record.as_deref(), Some("fault rule"));
                    prop_assert!(lines.contains(&(p.line, p.column)), "{} not at {:?}", p, lines);
                }
                let mut placed: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
                placed.dedup();
                prop_assert_eq!(placed, lines);
            }
        }
    }
}

proptest! {
    #![proptest_config(heavy())]

    /// A sandbox.json file in a fixtures directory: its valid rules load;
    /// anything but white space after its object is a problem, placed where
    /// that text starts, as for every other fixture file.
    #[test]
    fn sandbox_json_file_is_one_object(
        rules in prop::collection::vec(rule_json(), 0..3),
        ws in ws(),
        trailing in prop::option::of(r"[ \n]{0,2}[^ \t\r\n]\PC{0,4}"),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("apikeys.json"), r#"[{"ApiKey": "admin", "Admin": true}]"#).unwrap();
        let mut text = spaced(&json!({"faults": rules}), &ws);
        let end = text.len();
        if let Some(t) = &trailing {
            text.extend_from_slice(t.as_bytes());
        }
        std::fs::write(dir.path().join("sandbox.json"), &text).unwrap();
        let loaded = cleverfox_sandbox::store::fixtures::load(dir.path(), 0).map(|l| l.state);
        match trailing {
            None => {
                let want: Vec<FaultRule> = rules.iter().map(|r| FaultRule::parse(r).unwrap()).collect();
                prop_assert_eq!(loaded.map(|s| s.faults).ok(), Some(want));
            }
            Some(t) => {
                let problems = loaded.err().unwrap_or_default();
                prop_assert_eq!(problems.len(), 1, "{:?}", problems);
                let at = end + t.len() - t.trim_start_matches([' ', '\n']).len();
                prop_assert!(problems[0].file.ends_with("sandbox.json"));
                prop_assert_eq!((problems[0].line, problems[0].column), line_col(&text, at));
            }
        }
    }
}
