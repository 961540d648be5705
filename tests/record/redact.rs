//! `--redact`: personal values replaced consistently, the rest kept.

use super::*;

type Record = Map<String, Value>;

/// Per-record checks of a redacted recording against a plain one.
#[derive(Default)]
struct Redaction {
    /// (collection group, attribute, original) -> redacted.
    values: HashMap<(String, String, String), Value>,
    /// original address (lower case) -> redacted address.
    addresses: HashMap<String, String>,
    /// (collection, attribute) -> non-null values seen.
    seen: BTreeMap<(String, String), usize>,
    tokens: usize,
}

fn is_email_separator(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '\r' | '\n')
}

/// The items of an address list, and the separators between them.
fn email_items(s: &str) -> (Vec<String>, String) {
    (
        s.split(is_email_separator)
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect(),
        s.chars().filter(|c| is_email_separator(*c)).collect(),
    )
}

impl Redaction {
    fn address(&mut self, original: &str, redacted: &str, at: &str) {
        assert_ne!(
            original.to_lowercase(),
            redacted.to_lowercase(),
            "{at}: {original} kept"
        );
        assert!(redacted.contains('@'), "{at}: {redacted} is not an address");
        let prev = self
            .addresses
            .entry(original.to_string())
            .or_insert_with(|| redacted.to_string());
        assert_eq!(prev, redacted, "{at}: {original} redacted two ways");
    }

    fn compare(&mut self, coll: &str, plain: &Map<String, Value>, red: &Map<String, Value>) {
        let pk = key_of(coll);
        let at = format!("{coll} {}", id_of(plain, pk));
        assert_eq!(
            plain.keys().collect::<BTreeSet<_>>(),
            red.keys().collect::<BTreeSet<_>>(),
            "{at}: attributes differ"
        );
        let redacted: &[&str] = REDACTED
            .iter()
            .find(|(c, _)| *c == coll)
            .map_or(&[], |(_, a)| *a);
        let group = if coll == "logitems" { "jobitems" } else { coll };
        for (attr, p) in plain {
            let r = &red[attr];
            let at = format!("{at} {attr}");
            if DROPPED.contains(&attr.as_str()) {
                if !p.is_null() {
                    self.tokens += 1;
                }
                assert!(r.is_null(), "{at}: {r} kept (was {p})");
            } else if coll == "devices" && attr == "ApiKey" {
                let (old, new) = (p.as_str().unwrap(), r.as_str().unwrap());
                assert!(
                    new.len() == 32
                        && new
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                    "{at}: {new} is not 32 lowercase hex digits"
                );
                assert_ne!(old, new, "{at}: the device key is kept");
                let url_plain = plain["AgentDownloadUrl"].as_str().unwrap();
                let url_red = red["AgentDownloadUrl"].as_str().unwrap();
                assert_eq!(
                    url_red,
                    url_plain.replace(old, new),
                    "{at}: AgentDownloadUrl does not hold the new key where it held the old one"
                );
                assert!(!url_red.contains(old), "{at}: the old key is in {url_red}");
            } else if coll == "devices" && attr == "AgentDownloadUrl" {
                // checked with ApiKey
            } else if redacted.contains(&attr.as_str()) {
                if p.is_null() {
                    assert!(r.is_null(), "{at}: null became {r}");
                    continue;
                }
                *self.seen.entry((coll.into(), attr.clone())).or_default() += 1;
                let (ps, rs) = (
                    p.as_str().unwrap_or_else(|| panic!("{at}: {p}")),
                    r.as_str()
                        .unwrap_or_else(|| panic!("{at}: {r} is not a string")),
                );
                assert_ne!(ps, rs, "{at}: not redacted");
                if attr == "Email" {
                    self.address(ps, rs, &at);
                } else if EMAIL_LISTS.contains(&attr.as_str()) {
                    let ((pi, psep), (ri, rsep)) = (email_items(ps), email_items(rs));
                    assert_eq!(pi.len(), ri.len(), "{at}: {ps:?} became {rs:?}");
                    assert_eq!(psep, rsep, "{at}: {ps:?} became {rs:?}");
                    for (a, b) in pi.iter().zip(&ri) {
                        self.address(a, b, &at);
                    }
                }
                let prev = self
                    .values
                    .entry((group.into(), attr.clone(), ps.into()))
                    .or_insert_with(|| r.clone());
                assert_eq!(prev, r, "{at}: {ps:?} redacted two ways");
            } else if !p.is_string()
                || KEPT_STRINGS.contains(&attr.as_str())
                || p.as_str().is_some_and(is_timestamp)
            {
                // ids, references, sizes, flags, statuses, timestamps
                assert_eq!(p, r, "{at}: changed");
            }
        }
    }
}

/// Every string in a directory's JSON files.
fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings_in(x, out)),
        _ => {}
    }
}

/// The e-mail addresses found anywhere in a fixtures directory.
fn addresses_in(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for name in listing(dir) {
        if !name.ends_with(".json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut strings = Vec::new();
        strings_in(&v, &mut strings);
        for s in strings {
            for word in s.split(|c: char| is_email_separator(c) || c.is_whitespace()) {
                let w = word.trim_matches(|c: char| "<>\"'()[]".contains(c));
                if w.contains('@') && w.contains('.') {
                    found.insert(w.to_lowercase());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_replaces_personal_values_consistently_and_keeps_the_rest() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Client::on(upstream);
    // give every classified attribute a value, and some records a Token
    up.update(
        PARTNER1,
        "partnerusers",
        2,
        &json!({"HomePhone": "+1 734 555 0150", "Token": "record-redact-token-1"}),
    )
    .await;
    up.update(
        PARTNER1,
        "subscriptions",
        1,
        &json!({
            "ExternalId": "ABC-SUB-0001",
            "SendNotificationBcc": "billing@forwardthinking.example.com",
            "SendNotificationCc": "owner@abccompany.example.com; it@abccompany.example.com",
            "Token": "record-redact-token-2",
        }),
    )
    .await;
    up.update(
        PARTNER1,
        "devices",
        1,
        &json!({
            "SendNotificationBcc": "audit@abccompany.example.com",
            "SendNotificationCc": "owner@abccompany.example.com",
            "Token": "record-redact-token-3",
        }),
    )
    .await;
    // a run copies device 1's addresses into a new log, its job items into
    // log items
    up.run(
        1,
        json!({"JobStatus": "Failed", "ErrorMessages": "disk full"}),
    )
    .await;

    let (parent, plain_dir) = workspace();
    let red_dir = parent.path().join("redacted");
    record_ok(&up.sb, PARTNER1, &plain_dir, &[]).await;
    record_ok(&up.sb, PARTNER1, &red_dir, &["--redact"]).await;
    check_ok(&red_dir).await;

    let mut red = Redaction::default();
    // collection -> (plain records, redacted records)
    let mut files: BTreeMap<&str, (Vec<Record>, Vec<Record>)> = BTreeMap::new();
    for (coll, pk) in COLLECTION_KEYS {
        let (p, r) = (read_file(&plain_dir, coll), read_file(&red_dir, coll));
        let ids = |v: &[Map<String, Value>]| v.iter().map(|x| id_of(x, pk)).collect::<Vec<_>>();
        assert_eq!(ids(&p), ids(&r), "{coll}: other records");
        for (a, b) in p.iter().zip(&r) {
            red.compare(coll, a, b);
        }
        files.insert(coll, (p, r));
    }
    // every classified attribute had something to redact
    for (coll, attrs) in REDACTED {
        for attr in attrs {
            assert!(
                red.seen.contains_key(&(coll.to_string(), attr.to_string())),
                "{coll} {attr}: no value in the data, the check proves nothing"
            );
        }
    }
    assert!(red.tokens >= 3, "Tokens were recorded: {}", red.tokens);

    // the same input gives the same output across collections: a device's
    // addresses and the logs that copied them, a job item and its log items
    let by_id = |coll: &str, which: usize| -> HashMap<i64, Map<String, Value>> {
        let (p, r) = &files[coll];
        let v = if which == 0 { p } else { r };
        v.iter()
            .map(|x| (id_of(x, key_of(coll)), x.clone()))
            .collect()
    };
    let (devices_p, devices_r) = (by_id("devices", 0), by_id("devices", 1));
    let (logs_p, logs_r) = (&files["logs"].0, &files["logs"].1);
    let mut copied = 0;
    for (lp, lr) in logs_p.iter().zip(logs_r) {
        let Some(device) = lp["DeviceId"].as_i64().and_then(|d| devices_p.get(&d)) else {
            continue;
        };
        for attr in EMAIL_LISTS {
            if !lp[attr].is_null() && lp[attr] == device[attr] {
                copied += 1;
                let dr = &devices_r[&id_of(device, "DeviceId")];
                assert_eq!(lr[attr], dr[attr], "log {} {attr}", id_of(lp, "LogId"));
            }
        }
    }
    assert!(copied > 0, "no log copied its device's addresses");
    let (items_p, items_r) = (by_id("jobitems", 0), by_id("jobitems", 1));
    let (litems_p, litems_r) = (&files["logitems"].0, &files["logitems"].1);
    let mut same_db = 0;
    for (lp, lr) in litems_p.iter().zip(litems_r) {
        let Some(item) = lp["JobItemId"].as_i64().and_then(|i| items_p.get(&i)) else {
            continue;
        };
        let ir = &items_r[&id_of(item, "JobItemId")];
        for attr in ["DatabaseName", "ServerName", "BaseFolder", "Name"] {
            if !lp[attr].is_null() && lp[attr] == item[attr] {
                if attr == "DatabaseName" {
                    same_db += 1;
                }
                assert_eq!(
                    lr[attr],
                    ir[attr],
                    "log item {} {attr}",
                    id_of(lp, "LogItemId")
                );
            }
        }
    }
    assert!(
        same_db > 0,
        "no log item copied its job item's DatabaseName"
    );

    // device keys are new and distinct
    let keys: BTreeSet<&str> = files["devices"]
        .1
        .iter()
        .map(|d| d["ApiKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), files["devices"].1.len(), "device keys collide");

    // no original address anywhere in the redacted files
    let mut originals = addresses_in(&default_fixtures());
    originals.extend(addresses_in(&plain_dir));
    assert!(originals.len() > 10, "{originals:?}");
    for name in listing(&red_dir) {
        let text = std::fs::read_to_string(red_dir.join(&name))
            .unwrap()
            .to_lowercase();
        for a in &originals {
            assert!(!text.contains(a.as_str()), "{name} holds {a}");
        }
        assert!(
            !text.contains(&PARTNER1.to_lowercase()),
            "{name} holds the key"
        );
    }

    // the redacted recording loads and serves
    let key = recorded_key(&red_dir, 1);
    let replay = bounded(Sandbox::with(Config {
        fixtures: red_dir.clone(),
        ..Config::default()
    }))
    .await;
    let rp = Client::on(replay);
    let served = rp.list(&key, "devices").await;
    let mut served_keys: Vec<&str> = served
        .iter()
        .map(|d| d["ApiKey"].as_str().unwrap())
        .collect();
    served_keys.sort_unstable();
    assert_eq!(served_keys, keys.iter().copied().collect::<Vec<_>>());
    for (coll, _) in COLLECTION_KEYS {
        assert_eq!(
            rp.list(&key, coll).await.len(),
            files[coll].1.len(),
            "{coll}: the redacted recording serves another count"
        );
    }
    rp.stop().await;
    up.stop().await;
}
