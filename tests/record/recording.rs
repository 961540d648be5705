//! A recording loads and serves what the upstream serves, every page is
//! recorded, and the key may come from the environment.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_loads_and_serves_what_the_upstream_serves() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Client::on(upstream);
    let (parent, out) = workspace();
    let r = record_ok(&up.sb, PARTNER1, &out, &[]).await;
    assert!(!r.stderr.trim().is_empty(), "no progress shown");

    // one file per collection plus apikeys.json, nothing else, nothing left
    // beside it
    let mut expected: BTreeSet<String> = COLLECTION_KEYS
        .iter()
        .map(|(c, _)| format!("{c}.json"))
        .collect();
    expected.insert("apikeys.json".into());
    assert_eq!(listing(&out), expected);
    assert_eq!(
        listing(parent.path()),
        BTreeSet::from(["recording".to_string(), "unrelated.txt".to_string()])
    );
    check_ok(&out).await;

    // the upstream key is written nowhere
    for name in listing(&out) {
        let bytes = std::fs::read(out.join(&name)).unwrap();
        assert!(
            !bytes
                .windows(PARTNER1.len())
                .any(|w| w == PARTNER1.as_bytes()),
            "{name} holds the upstream key"
        );
    }
    let key = recorded_key(&out, 1);
    assert_ne!(key, PARTNER1);

    // files: ascending ids, no embedded objects, no child arrays
    for (coll, pk) in COLLECTION_KEYS {
        let recs = read_file(&out, coll);
        assert!(!recs.is_empty(), "{coll}: nothing recorded");
        let ids: Vec<i64> = recs.iter().map(|r| id_of(r, pk)).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{coll}: ids not ascending: {ids:?}"
        );
        for r in &recs {
            for (k, v) in r {
                assert!(
                    !EMBEDDED.contains(&k.as_str()),
                    "{coll}: {k} recorded: {r:?}"
                );
                assert!(
                    !v.is_object() && !v.is_array(),
                    "{coll}: {k} holds {v} in the recording"
                );
            }
        }
    }
    assert!(
        read_file(&out, "companies")
            .iter()
            .all(|r| !r.contains_key("Partner") && !r.contains_key("PlanType"))
    );
    assert!(
        read_file(&out, "jobs")
            .iter()
            .all(|r| !r.contains_key("JobItems"))
    );
    assert!(
        read_file(&out, "logs")
            .iter()
            .all(|r| !r.contains_key("LogItems"))
    );
    assert_recording_complete(&out, &up, PARTNER1).await;

    // a second sandbox on the recording serves the same pages, embedding
    // included
    let replay = bounded(Sandbox::with(Config {
        fixtures: out.clone(),
        ..Config::default()
    }))
    .await;
    let rp = Client::on(replay);
    for (coll, _) in COLLECTION_KEYS {
        for size in [500, 7] {
            let a = up.pages(PARTNER1, coll, size).await;
            let b = rp.pages(&key, coll, size).await;
            assert!(
                a == b,
                "{coll} (PageSize {size}) differs:\nupstream {}\nreplay   {}",
                Value::from(a.concat()),
                Value::from(b.concat())
            );
        }
    }
    // embedding is really there to compare
    let companies = rp.list(&key, "companies").await;
    assert!(
        companies.iter().all(|c| c["Partner"]["PartnerId"] == 1),
        "{companies:?}"
    );
    let jobs = rp.list(&key, "jobs").await;
    assert!(
        jobs.iter()
            .any(|j| j["JobItems"].as_array().is_some_and(|a| !a.is_empty())),
        "{jobs:?}"
    );
    // the recording holds no other partner
    let partners = rp.list(&key, "partners").await;
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0]["PartnerId"], 1);
    rp.stop().await;
    up.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_recorded_past_500_records() {
    const EVENTS: i64 = 1200;
    let events: Vec<Value> = (1..=EVENTS)
        .map(|id| {
            json!({
                "EventId": id,
                "EventTypeId": 2,
                "EventType": "Partner Modified",
                "BackupTypeId": null, "CompanyId": null, "CompanyUserId": null,
                "DeviceId": null, "JobId": null, "JobItemId": null, "LogId": null,
                "LogItemId": null,
                "PartnerId": 1,
                "PartnerPlanId": null, "PartnerUserId": null, "PlanId": null,
                "PlanTypeId": null, "SubscriptionId": null,
                "AddedOn": format!("2025-01-01T{:02}:{:02}:{:02}.{:03}", id / 3600, id / 60 % 60, id % 60, id % 1000),
            })
        })
        .collect();
    let fx = fixtures_with(&[("events", &Value::from(events).to_string())]);
    let upstream = bounded(Sandbox::with(Config {
        fixtures: fx.path().to_path_buf(),
        ..Config::default()
    }))
    .await;
    let up = Client::on(upstream);
    let served: Vec<i64> = up
        .list(PARTNER1, "events")
        .await
        .iter()
        .map(|e| e["EventId"].as_i64().unwrap())
        .collect();
    assert_eq!(served.len() as i64, EVENTS, "the upstream serves them all");
    bounded(up.clear_journal()).await;

    let (_parent, out) = workspace();
    record_ok(&up.sb, PARTNER1, &out, &[]).await;
    check_ok(&out).await;
    let recorded: Vec<i64> = read_file(&out, "events")
        .iter()
        .map(|r| id_of(r, "EventId"))
        .collect();
    assert_eq!(recorded.len() as i64, EVENTS);
    assert_eq!(recorded, (1..=EVENTS).collect::<Vec<_>>());

    // read page by page at PageSize 500, until the short third page
    let pages: Vec<(u64, u64)> = up
        .journal_of("/api/events")
        .await
        .iter()
        .filter(|r| r["partner_id"] == 1 && r["status"] == 200)
        .map(|r| {
            let q = r["query"].as_str().unwrap_or_default().to_string();
            let param = |name: &str| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("{name} in {q:?}"))
            };
            (param("PageNo"), param("PageSize"))
        })
        .collect();
    assert_eq!(pages, vec![(1, 500), (2, 500), (3, 500)]);
    assert_recording_complete(&out, &up, PARTNER1).await;
    up.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_may_come_from_the_environment() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Client::on(upstream);
    let (_parent, out) = workspace();
    let mut args = record_args(&up.sb, PARTNER1, &out);
    let at = args.iter().position(|a| a == "--api-key").unwrap();
    args.drain(at..at + 2);
    assert!(!args.iter().any(|a| a == PARTNER1));
    let r = run_env(
        args,
        vec![("CLEVERFOX_API_KEY".to_string(), PARTNER1.to_string())],
    )
    .await;
    assert!(r.ok(), "{}", r.describe());
    assert!(!r.stdout.contains(PARTNER1) && !r.stderr.contains(PARTNER1));
    check_ok(&out).await;
    assert_ne!(recorded_key(&out, 1), PARTNER1);
    assert_recording_complete(&out, &up, PARTNER1).await;

    // and with neither, the recorder says what is missing
    let (_parent2, out2) = workspace();
    let mut args = record_args(&up.sb, PARTNER1, &out2);
    args.drain(at..at + 2);
    let r = run(args).await;
    assert!(!r.ok(), "{}", r.describe());
    assert!(r.stderr.contains("--api-key"), "{}", r.describe());
    assert!(!out2.exists());
    up.stop().await;
}
