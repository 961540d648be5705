//! Fault rules.

use super::*;

// ---------------------------------------------------------------- 8. faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_are_added_listed_and_removed() {
    let t = Client::start().await;
    assert!(t.faults().await.is_empty());
    let a = t
        .add_fault(json!({"method": "GET", "path": "/api/devices", "status": 503}))
        .await;
    assert_eq!(a["method"], "GET");
    assert_eq!(a["path"], "/api/devices");
    assert_eq!(a["status"], 503);
    assert!(a["id"].is_u64(), "{a}");
    let b = t
        .add_fault(json!({"partner": 2, "latency_ms": 50, "times": 3}))
        .await;
    assert_eq!(b["partner"], 2);
    assert_eq!(b["latency_ms"], 50);
    assert_eq!(b["times"], 3);
    let c = t
        .add_fault(json!({"path": "/api/jobs", "rate_limit": 5, "window_s": 10}))
        .await;
    assert_eq!(c["rate_limit"], 5);
    assert_eq!(c["window_s"], 10);
    let ids_of = |rules: &[Value]| ids(rules, "id");
    let all = [&a, &b, &c].map(|r| r["id"].as_u64().unwrap()).to_vec();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 3, "distinct ids");
    let listed = t.faults().await;
    assert_eq!(ids_of(&listed), all);
    assert_eq!(listed[0]["path"], "/api/devices");

    // invalid rules: 422, nothing added
    for (rule, needle) in [
        (json!({"status": 503, "close": true}), "action"),
        (json!({"path": "/api/devices"}), "action"),
        (json!({"rate_limit": 5}), "window_s"),
        (json!({"status": 503, "colour": "red"}), "colour"),
    ] {
        let r = t.post(ADMIN, "/_sandbox/faults", &rule).await;
        refused(&r, 422, &[needle]);
    }
    assert_eq!(ids_of(&t.faults().await), all);

    // one by id; an unknown id is 404
    let r = t
        .delete(ADMIN, &format!("/_sandbox/faults/{}", all[1]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids_of(&t.faults().await), vec![all[0], all[2]]);
    let r = t
        .delete(ADMIN, &format!("/_sandbox/faults/{}", all[1]))
        .await;
    refused(&r, 404, &[]);
    let r = t.delete(ADMIN, "/_sandbox/faults/987654").await;
    refused(&r, 404, &[]);
    // all
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(t.faults().await.is_empty());
    let r = t.get(PARTNER1, "/api/devices").await;
    assert_eq!(r.status, 200, "rules removed: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_rule_delays_matching_requests_only() {
    let t = Client::start().await;
    let normal = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(normal.status, 200);
    t.add_fault(json!({"path": "/api/plans", "latency_ms": 1500}))
        .await;
    let started = Instant::now();
    let r = t.get(PARTNER1, "/api/plans").await;
    let slow = started.elapsed();
    assert_eq!(r.status, 200, "served normally: {}", r.text);
    assert_eq!(r.body, normal.body);
    assert!(slow >= Duration::from_millis(1500), "took {slow:?}");

    let started = Instant::now();
    let r = t.get(PARTNER1, "/api/backuptypes").await;
    let fast = started.elapsed();
    assert_eq!(r.status, 200);
    assert!(fast < Duration::from_millis(1500), "took {fast:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_rule_answers_its_status_and_body_for_its_method() {
    let t = Client::start().await;
    let body = json!({"errors": ["Service down for maintenance."], "retry": true});
    t.add_fault(json!({"method": "POST", "path": "/api/companies", "status": 503, "body": body}))
        .await;
    let before = t.list(PARTNER1, "companies").await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"Name": "Faulty Co", "PlanTypeId": 1}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body, body, "{}", r.text);
    assert_eq!(
        t.list(PARTNER1, "companies").await,
        before,
        "nothing created"
    );
    // GET is another method
    let r = t.get(PARTNER1, "/api/companies").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // another path
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({"FirstName": "Not", "LastName": "Faulted", "Email": "nf@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_rule_answers_429_with_retry_after() {
    let t = Client::start().await;
    t.add_fault(json!({"path": "/api/plans", "rate_limit": 2, "window_s": 60}))
        .await;
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/plans").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/plans").await;
        refused(&r, 429, &[]);
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    let r = t.get(PARTNER1, "/api/plantypes").await;
    assert_eq!(r.status, 200, "other paths are not limited: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_rule_drops_the_connection_without_an_answer() {
    let t = Client::start().await;
    t.add_fault(json!({"path": "/api/devices", "close": true}))
        .await;
    let clients = [t.sb.client(), t.sb.client_h2()];
    let fetch = |c: &reqwest::Client, path: &str| {
        c.get(t.sb.url(path)).basic_auth(PARTNER1, Some("x")).send()
    };
    for c in &clients {
        let res = bounded(fetch(c, "/api/devices/1")).await;
        assert!(res.is_err(), "expected no response, got {res:?}");
    }
    // other paths answer, on the same clients
    for c in &clients {
        let r = bounded(fetch(c, "/api/jobs/1")).await.expect("a response");
        assert_eq!(r.status(), 200);
    }
    // the conformance report counts them, with status 0 (no answer), as the journal does
    let report = t.get(ADMIN, "/_sandbox/report").await.body;
    let reads = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["collection"] == "devices" && o["operation"] == "read")
        .cloned()
        .unwrap_or_else(|| panic!("no device reads in {report}"));
    assert_eq!(reads["requests"], 2, "{report}");
    assert_eq!(reads["statuses"], json!({"0": 2}), "{report}");
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200);
    for c in &clients {
        let r = bounded(fetch(c, "/api/devices/1"))
            .await
            .expect("a response");
        assert_eq!(r.status(), 200, "rule removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_match_on_partner_and_path_prefix() {
    let t = Client::start().await;
    t.add_fault(json!({"partner": 1, "path": "/api/devices", "status": 500}))
        .await;
    for path in ["/api/devices", "/api/devices/1", "/api/devices?PageSize=3"] {
        let r = t.get(PARTNER1, path).await;
        assert_eq!(r.status, 500, "{path}: {}", r.text);
    }
    let r = t.get(PARTNER1, "/api/jobs").await;
    assert_eq!(r.status, 200, "another path: {}", r.text);
    for path in ["/api/devices", "/api/devices/8"] {
        let r = t.get(PARTNER2, path).await;
        assert_eq!(r.status, 200, "partner 2 {path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_with_times_stops_after_its_uses_and_disappears() {
    let t = Client::start().await;
    let keep = t
        .add_fault(json!({"path": "/api/nothing-matches", "status": 500}))
        .await;
    let rule = t
        .add_fault(json!({"path": "/api/companies", "status": 502, "times": 2}))
        .await;
    assert_eq!(t.faults().await.len(), 2);
    for _ in 0..2 {
        let r = t.get(PARTNER1, "/api/companies/1").await;
        assert_eq!(r.status, 502, "{}", r.text);
    }
    let r = t.get(PARTNER1, "/api/companies/1").await;
    assert_eq!(r.status, 200, "third request is normal: {}", r.text);
    let listed = t.faults().await;
    assert_eq!(ids(&listed, "id"), vec![keep["id"].as_u64().unwrap()]);
    assert!(!listed.iter().any(|r| r["id"] == rule["id"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_apply_to_the_api_only() {
    let t = Client::start().await;
    t.add_fault(json!({"status": 503})).await;
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let r = t.get(PARTNER2, "/api/companies").await;
    assert_eq!(r.status, 503, "{}", r.text);
    for path in [
        "/_sandbox/health",
        "/_sandbox/faults",
        "/_sandbox/clock",
        "/_sandbox/requests",
        "/_sandbox/outbox",
        "/_sandbox/snapshot",
    ] {
        let r = t.get(ADMIN, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    t.run(1, json!({"JobStatus": "Completed"})).await;
    let r = t.delete(ADMIN, "/_sandbox/faults").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_of_sandbox_json_apply_and_are_listed() {
    let dir = fixtures_with(&[(
        "sandbox",
        r#"{"faults": [{"path": "/api/plans", "status": 503}]}"#,
    )]);
    let t = Client::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let r = t.get(PARTNER1, "/api/plantypes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = t.faults().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["path"], "/api/plans");
    assert_eq!(listed[0]["status"], 503);
    assert!(listed[0]["id"].is_u64());
}

#[tokio::test]
async fn a_listed_rule_posted_back_applies_to_the_uses_it_had_left() {
    let t = Client::start().await;
    t.add_fault(json!({"path": "/api/devices", "status": 503, "times": 3}))
        .await;
    assert_eq!(t.get(PARTNER1, "/api/devices").await.status, 503);
    let listed = t.faults().await.remove(0);
    assert_eq!(listed["remaining"], 2, "{listed}");
    t.clear_faults().await;
    // into another session, as listed: 201, and it answers twice more
    let r = t.post(ADMIN, "/s/copy/_sandbox/faults", &listed).await;
    assert_eq!(r.status, 201, "{}", r.text);
    for _ in 0..2 {
        assert_eq!(t.get(PARTNER1, "/s/copy/api/devices").await.status, 503);
    }
    assert_eq!(t.get(PARTNER1, "/s/copy/api/devices").await.status, 200);
    let bad = t
        .post(
            ADMIN,
            "/_sandbox/faults",
            &json!({"status": 503, "source": "elsewhere"}),
        )
        .await;
    refused(&bad, 422, &["source"]);
}

/// The statuses of `n` reads of /api/plans on a fresh sandbox with `rule`,
/// and the journal's duration of each.
async fn replay(rule: Value, n: usize) -> (Vec<u16>, Vec<f64>) {
    let t = Client::start().await;
    t.add_fault(rule).await;
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(t.get(PARTNER1, "/api/plans").await.status);
    }
    let durations = t
        .journal_of("/api/plans")
        .await
        .iter()
        .map(|e| e["duration_ms"].as_f64().unwrap())
        .collect();
    t.stop().await;
    (statuses, durations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_with_probability_replays_exactly_from_its_seed() {
    let rule = json!({"path": "/api/plans", "status": 503, "probability": 0.4, "seed": 11});
    let (a, _) = replay(rule.clone(), 30).await;
    let (b, _) = replay(rule, 30).await;
    assert_eq!(a, b, "same seed, same sequence on two fresh servers");
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
    let (c, _) = replay(
        json!({"path": "/api/plans", "status": 503, "probability": 0.4, "seed": 12}),
        30,
    )
    .await;
    assert_ne!(a, c, "another seed, another sequence");
    // times counts only the requests the rule was applied to
    let (d, _) = replay(
        json!({"path": "/api/plans", "status": 503, "probability": 0.4, "seed": 11, "times": 2}),
        30,
    )
    .await;
    assert_eq!(d.iter().filter(|s| **s == 503).count(), 2, "{d:?}");
    let first_two: Vec<usize> = a
        .iter()
        .enumerate()
        .filter(|x| *x.1 == 503)
        .map(|x| x.0)
        .take(2)
        .collect();
    let d_at: Vec<usize> = d
        .iter()
        .enumerate()
        .filter(|x| *x.1 == 503)
        .map(|x| x.0)
        .collect();
    assert_eq!(first_two, d_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_distributions_delay_by_their_draw_and_malformed_ones_are_refused() {
    // a uniform draw from 150 to 160 ms: every journal duration at least 150
    let (s, d) = replay(
        json!({"path": "/api/plans", "latency_ms": {"distribution": "uniform", "min": 150, "max": 160}}),
        3,
    )
    .await;
    assert_eq!(s, vec![200; 3]);
    assert!(d.iter().all(|ms| *ms >= 150.0), "{d:?}");
    let t = Client::start().await;
    let r = t
        .add_fault(json!({"latency_ms": {"distribution": "lognormal", "median": 80, "p99": 900, "max": 3000}, "probability": 0.05}))
        .await;
    assert_eq!(r["latency_ms"]["distribution"], "lognormal");
    assert_eq!(r["probability"], 0.05);
    for (rule, needle) in [
        (
            json!({"latency_ms": {"distribution": "gamma"}}),
            "distribution",
        ),
        (
            json!({"latency_ms": {"distribution": "uniform", "min": 9, "max": 2}}),
            "must not exceed",
        ),
        (
            json!({"latency_ms": {"distribution": "lognormal", "median": 80}}),
            "p99",
        ),
        (json!({"status": 503, "probability": 2}), "probability"),
        (json!({"status": 503, "seed": "x"}), "seed"),
    ] {
        let before = t.faults().await;
        let r = t.post(ADMIN, "/_sandbox/faults", &rule).await;
        refused(&r, 422, &[needle]);
        assert_eq!(t.faults().await, before, "{rule}: nothing added");
    }
}
