//! Compat mode (API.md section 12): the shape changes the CleverFox API
//! promises it may make without notice, with the values unchanged.

use super::*;
use cleverfox_sandbox::domain::compat::{Compat, EXTRA_NAMES};
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The member names of each object in `data` (a record, or a list's
/// records), in the order the body has them, and the envelope's.
#[derive(Debug, PartialEq)]
struct Order {
    envelope: Vec<String>,
    records: Vec<Vec<String>>,
}

struct Keys;
impl<'de> Visitor<'de> for Keys {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = m.next_key::<String>()? {
            m.next_value::<IgnoredAny>()?;
            out.push(k);
        }
        Ok(out)
    }
}

fn order(text: &str) -> Order {
    let v: Value = serde_json::from_str(text).unwrap();
    let mut de = serde_json::Deserializer::from_str(text);
    let envelope = (&mut de).deserialize_map(Keys).unwrap();
    let records = match &v["data"] {
        Value::Array(_) => data_orders(text, true),
        Value::Object(_) => data_orders(text, false),
        _ => Vec::new(),
    };
    Order { envelope, records }
}

/// Member orders of the records under `data`.
fn data_orders(text: &str, list: bool) -> Vec<Vec<String>> {
    struct Env(bool);
    impl<'de> Visitor<'de> for Env {
        type Value = Vec<Vec<String>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an envelope")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                if k == "data" {
                    if self.0 {
                        out = m.next_value::<Recs>()?.0;
                    } else {
                        out = vec![m.next_value::<Rec>()?.0];
                    }
                } else {
                    m.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }
    struct Rec(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Rec {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rec, D::Error> {
            d.deserialize_map(Keys).map(Rec)
        }
    }
    struct Recs(Vec<Vec<String>>);
    impl<'de> serde::Deserialize<'de> for Recs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Recs, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Vec<Vec<String>>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("records")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                    let mut out = Vec::new();
                    while let Some(r) = s.next_element::<Rec>()? {
                        out.push(r.0);
                    }
                    Ok(out)
                }
            }
            d.deserialize_seq(V).map(Recs)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    (&mut de).deserialize_map(Env(list)).unwrap()
}

async fn set(t: &Client, path: &str, settings: Value) -> Value {
    let r = t.put(ADMIN, path, &settings).await;
    assert_eq!(r.status, 200, "PUT {path} {settings}: {}", r.text);
    r.body
}

/// The names of every boolean attribute of the fourteen tables.
fn booleans() -> BTreeSet<&'static str> {
    use cleverfox_sandbox::domain::schema::{Kind, schema};
    schema()
        .iter()
        .flat_map(|i| i.def.attrs)
        .filter(|a| matches!(a.kind, Kind::Bool))
        .map(|a| a.name)
        .collect()
}

/// `v` with every extra attribute and the envelope's extra member removed
/// and every `null` boolean of a record read as `false` (the vendor's
/// promise): what a correct client reads, with compat mode or without.
fn normalised(v: &Value) -> Value {
    fn walk(v: &Value, in_record: bool) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !EXTRA_NAMES.contains(&k.as_str()) && *k != "meta")
                    .map(|(k, v)| {
                        let boolean = in_record && booleans().contains(k.as_str());
                        let v = if boolean && v.is_null() {
                            json!(false)
                        } else {
                            walk(v, true)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(xs) => Value::Array(xs.iter().map(|x| walk(x, in_record)).collect()),
            x => x.clone(),
        }
    }
    walk(v, false)
}

/// Every JSON object that is a record (has one of the fourteen primary
/// keys), at any depth.
fn records<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match v {
        Value::Object(m) => {
            if COLLECTION_KEYS.iter().any(|(_, k)| m.contains_key(*k))
                && !m.contains_key("page_no")
                && !m.contains_key("data")
            {
                out.push(m);
            }
            for (k, x) in m {
                if !EXTRA_NAMES.contains(&k.as_str()) {
                    records(x, out);
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| records(x, out)),
        _ => {}
    }
}

const PATHS: [&str; 6] = [
    "/api/companies",
    "/api/devices",
    "/api/jobs",
    "/api/logs?PageSize=100",
    "/api/companies/1",
    "/api/partners",
];

#[tokio::test]
async fn compat_is_off_by_default_and_put_replaces_the_whole_setting() {
    let t = Client::start().await;
    let off = json!({"shuffle_attributes": false, "extra_attributes": false,
                     "null_booleans": false, "seed": 1});
    assert_eq!(t.admin("/_sandbox/compat").await, off);
    let r = t.get(PARTNER1, "/api/companies").await;
    assert_eq!(r.header("x-sandbox-compat"), None);
    let on = set(
        &t,
        "/_sandbox/compat",
        json!({"null_booleans": true, "seed": 7}),
    )
    .await;
    assert_eq!(
        on,
        json!({"shuffle_attributes": false, "extra_attributes": false,
               "null_booleans": true, "seed": 7})
    );
    assert_eq!(t.admin("/_sandbox/compat").await, on);
    // bad settings: 422, every problem named, nothing changed
    for (bad, needle) in [
        (
            json!({"null_booleans": "yes"}),
            "null_booleans must be true or false",
        ),
        (json!({"seed": -3}), "seed must be a whole number"),
        (
            json!({"shuffle": true}),
            "\"shuffle\" is not a compat setting",
        ),
    ] {
        let r = t.put(ADMIN, "/_sandbox/compat", &bad).await;
        refused(&r, 422, &[needle]);
        assert_eq!(t.admin("/_sandbox/compat").await, on);
    }
    let r = t.put(ADMIN, "/_sandbox/compat", &json!([true])).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(t.admin("/_sandbox/compat").await, on);
    // a replacing PUT turns off what it does not name
    let r = set(&t, "/_sandbox/compat", json!({"extra_attributes": true})).await;
    assert_eq!(r["null_booleans"], false);
    assert_eq!(r["seed"], 1);
}

#[tokio::test]
async fn each_mode_alone_and_all_together_change_the_shape_only() {
    let t = Client::start().await;
    let mut plain = Vec::new();
    for p in PATHS {
        let r = t.get(PARTNER1, p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        plain.push(r);
    }
    let modes = [
        (json!({"shuffle_attributes": true}), "shuffle_attributes"),
        (json!({"extra_attributes": true}), "extra_attributes"),
        (json!({"null_booleans": true}), "null_booleans"),
        (
            json!({"shuffle_attributes": true, "extra_attributes": true, "null_booleans": true, "seed": 7}),
            "shuffle_attributes, extra_attributes, null_booleans",
        ),
    ];
    for (settings, header) in modes {
        set(&t, "/_sandbox/compat", settings.clone()).await;
        for (p, before) in PATHS.iter().zip(&plain) {
            let r = t.get(PARTNER1, p).await;
            assert_eq!(r.status, before.status, "{p} under {settings}");
            assert_eq!(r.header("x-sandbox-compat").as_deref(), Some(header), "{p}");
            let n = normalised(&r.body);
            if n != normalised(&before.body) {
                let (a, b) = (n.to_string(), normalised(&before.body).to_string());
                let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                panic!(
                    "{p} under {settings}: differs at {at}: {} | {}",
                    &a[at.saturating_sub(200)..(at + 100).min(a.len())],
                    &b[at.saturating_sub(200)..(at + 100).min(b.len())]
                );
            }
            let o = order(&r.text);
            let o0 = order(&before.text);
            let shuffled = settings["shuffle_attributes"] == true;
            let extra = settings["extra_attributes"] == true;
            if !shuffled && !extra {
                assert_eq!(o, o0, "{p}: only values change under {settings}");
            }
            if extra {
                let mut recs = Vec::new();
                records(&r.body, &mut recs);
                assert!(!recs.is_empty());
                for rec in recs {
                    let n = rec
                        .keys()
                        .filter(|k| EXTRA_NAMES.contains(&k.as_str()))
                        .count();
                    assert!((2..=3).contains(&n), "{p}: {n} extras in {rec:?}");
                }
                let list = before.body.get("page_no").is_some();
                assert_eq!(r.body.get("meta").is_some(), list, "{p}: envelope extra");
            }
            if shuffled {
                // same order on a second read
                let again = t.get(PARTNER1, p).await;
                assert_eq!(order(&again.text), o, "{p}: order is stable");
            }
        }
    }
}

#[tokio::test]
async fn orders_differ_record_to_record_and_extras_cover_every_type() {
    let t = Client::start().await;
    set(
        &t,
        "/_sandbox/compat",
        json!({"shuffle_attributes": true, "extra_attributes": true}),
    )
    .await;
    let r = t.get(PARTNER1, "/api/logs?PageSize=100").await;
    let o = order(&r.text);
    let distinct: BTreeSet<_> = o.records.iter().collect();
    assert!(
        o.records.len() >= 5 && distinct.len() > o.records.len() / 2,
        "{o:?}"
    );
    let mut kinds = BTreeSet::new();
    let mut recs = Vec::new();
    records(&r.body, &mut recs);
    for rec in recs {
        for (k, v) in rec {
            if EXTRA_NAMES.contains(&k.as_str()) {
                kinds.insert(match v {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                });
            }
        }
    }
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    // embedded records and child arrays carry extras too
    let r = t.get(PARTNER1, "/api/jobs").await;
    let job = &r.data()[0];
    let embedded: Vec<_> = job
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v.is_object() || v.is_array())
        .flat_map(|v| match v {
            Value::Array(xs) => xs.iter().filter(|x| x.is_object()).collect::<Vec<_>>(),
            x => vec![x],
        })
        .filter(|x| COLLECTION_KEYS.iter().any(|(_, k)| x.get(*k).is_some()))
        .collect();
    assert!(!embedded.is_empty(), "{job}");
    for e in embedded {
        assert!(EXTRA_NAMES.iter().any(|n| e.get(*n).is_some()), "{e}");
    }
}

#[tokio::test]
async fn null_booleans_and_writes_and_errors() {
    let t = Client::start().await;
    set(&t, "/_sandbox/compat", json!({"null_booleans": true})).await;
    let r = t.get(PARTNER1, "/api/companies").await;
    let all = r.data().as_array().unwrap();
    assert!(all.iter().any(|c| c["IsInactive"].is_null()), "{}", r.text);
    assert!(!r.text.contains("false"), "{}", r.text);
    // a write's answer is shaped too; its stored values are not
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"Name": "Compat Co", "PlanTypeId": 1, "IsInactive": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.data()["IsInactive"].is_null());
    assert_eq!(
        r.header("x-sandbox-compat").as_deref(),
        Some("null_booleans")
    );
    // errors are not records: left alone
    let r = t.get(PARTNER1, "/api/companies/999999").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-sandbox-compat"), None);
    set(&t, "/_sandbox/compat", json!({})).await;
    let id = t.list(PARTNER1, "companies").await[0]["CompanyId"].clone();
    let plain = t.get(PARTNER1, &format!("/api/companies/{id}")).await;
    assert_eq!(plain.data()["IsInactive"], false);
}

#[tokio::test]
async fn sessions_have_their_own_compat_and_the_command_line_starts_every_one() {
    let t = Client::start().await;
    set(
        &t,
        "/s/a/_sandbox/compat",
        json!({"extra_attributes": true}),
    )
    .await;
    let a = t.get(PARTNER1, "/s/a/api/companies").await;
    assert_eq!(
        a.header("x-sandbox-compat").as_deref(),
        Some("extra_attributes")
    );
    let d = t.get(PARTNER1, "/api/companies").await;
    assert_eq!(d.header("x-sandbox-compat"), None);
    assert_eq!(t.admin("/_sandbox/compat").await["extra_attributes"], false);
    t.stop().await;

    let t = Client::settings(Settings {
        compat: Compat::all(),
        ..Settings::default()
    })
    .await;
    for p in ["/api/companies", "/s/fresh/api/companies"] {
        let r = t.get(PARTNER1, p).await;
        assert_eq!(
            r.header("x-sandbox-compat").as_deref(),
            Some("shuffle_attributes, extra_attributes, null_booleans"),
            "{p}"
        );
    }
    // a session's own setting replaces it
    set(&t, "/s/fresh/_sandbox/compat", json!({})).await;
    let r = t.get(PARTNER1, "/s/fresh/api/companies").await;
    assert_eq!(r.header("x-sandbox-compat"), None);
}

#[tokio::test]
async fn compat_sits_in_sandbox_json_and_in_snapshots() {
    let t = Client::start().await;
    let mut bundle = t.get(ADMIN, "/_sandbox/snapshot").await.body;
    assert!(
        bundle
            .get("sandbox")
            .is_none_or(|s| s.get("compat").is_none())
    );
    bundle["sandbox"] = json!({"compat": {"shuffle_attributes": true, "seed": 3}});
    let r = t.put(ADMIN, "/_sandbox/snapshot", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let on = t.admin("/_sandbox/compat").await;
    assert_eq!(on["shuffle_attributes"], true);
    assert_eq!(on["seed"], 3);
    let again = t.get(ADMIN, "/_sandbox/snapshot").await.body;
    assert_eq!(again["sandbox"]["compat"], on);
    bundle["sandbox"] = json!({"compat": {"seed": "x"}});
    let r = t.put(ADMIN, "/_sandbox/snapshot", &bundle).await;
    refused(&r, 422, &["seed must be a whole number"]);
    assert_eq!(t.admin("/_sandbox/compat").await, on);
}
