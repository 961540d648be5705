//! Retries of the upstream's 5xx and 429, and every way a recording
//! fails cleanly, leaving nothing behind.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_with_backoff_and_honours_retry_after() {
    // more than 500 jobs for partner 1: two pages of /api/jobs, so the rate
    // limit answers the second one 429
    let mut jobs = default_fixture("jobs").as_array().unwrap().clone();
    let template = jobs[0].clone();
    assert_eq!(template["DeviceId"], 1);
    for i in 0..520 {
        let mut j = template.clone();
        j["JobId"] = json!(1001 + i);
        j["Name"] = json!(format!("Bulk job {i}"));
        j["LastRanOn"] = Value::Null;
        jobs.push(j);
    }
    let fx = fixtures_with(&[("jobs", &Value::from(jobs).to_string())]);
    let upstream = bounded(Sandbox::with(Config {
        fixtures: fx.path().to_path_buf(),
        ..Config::default()
    }))
    .await;
    let up = Client::on(upstream);
    up.add_fault(json!({"path": "/api/devices", "status": 503, "times": 2}))
        .await;
    up.add_fault(json!({"path": "/api/jobs", "rate_limit": 1, "window_s": 1}))
        .await;

    let (_parent, out) = workspace();
    let r = record_ok(&up.sb, PARTNER1, &out, &[]).await;
    assert!(r.took < Duration::from_secs(60), "took {:?}", r.took);
    up.clear_faults().await;

    let devices = up.journal_of("/api/devices").await;
    let statuses: Vec<u64> = devices
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503, 503, 200], "{devices:?}");
    for w in devices.windows(2) {
        let gap = ms(w[1]["time"].as_str().unwrap()) - ms(w[0]["time"].as_str().unwrap());
        assert!(gap >= 100, "retried a 503 after {gap} ms: no backoff");
    }
    let jobs = up.journal_of("/api/jobs").await;
    let statuses: Vec<u64> = jobs.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert!(
        statuses.contains(&429),
        "the rate limit never answered: {jobs:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "{jobs:?}");
    for w in jobs.windows(2) {
        if w[0]["status"] == 429 {
            let gap = ms(w[1]["time"].as_str().unwrap()) - ms(w[0]["time"].as_str().unwrap());
            assert!(gap >= 950, "retried a 429 (Retry-After: 1) after {gap} ms");
        }
    }
    check_ok(&out).await;
    assert_recording_complete(&out, &up, PARTNER1).await;
    assert_eq!(read_file(&out, "jobs").len(), 530);
    up.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_fails_cleanly() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let certs = tempfile::tempdir().unwrap();
    // a real CA file, so only the connection can fail
    let upstream = bounded(Sandbox::with(Config {
        certs: Some(certs.path().join("certs")),
        ..Config::default()
    }))
    .await;
    upstream.stop().await;
    let (_parent, out) = workspace();
    let args = vec![
        "record".into(),
        "--upstream".into(),
        format!("https://localhost:{port}/api"),
        "--api-key".into(),
        PARTNER1.into(),
        "--out".into(),
        path_str(&out),
        "--ca".into(),
        path_str(&certs.path().join("certs/ca.pem")),
    ];
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["reach", "connect", "refused"],
        "unreachable",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_keys_fail_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let (_parent, out) = workspace();
    let unknown = "no-such-key-7c1e";
    assert_fails_cleanly(
        record_args(&upstream, unknown, &out),
        &out,
        unknown,
        &["401"],
        "unknown key",
    )
    .await;
    assert_fails_cleanly(
        record_args(&upstream, NO_PLAN, &out),
        &out,
        NO_PLAN,
        &["403"],
        "no Partner Plan",
    )
    .await;
    assert_fails_cleanly(
        record_args(&upstream, INACTIVE, &out),
        &out,
        INACTIVE,
        &["403"],
        "inactive partner",
    )
    .await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let (_parent, out) = workspace();
    let mut args = record_args(&upstream, PARTNER1, &out);
    args.truncate(args.len() - 2); // no --ca
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["tls", "certificate"],
        "untrusted CA",
    )
    .await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_not_the_api_fails_cleanly() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Client::on(upstream);
    let (_parent, out) = workspace();

    // a path where there is no API: 404
    let mut args = record_args(&up.sb, PARTNER1, &out);
    args[2] = up.sb.url("/nope");
    assert_fails_cleanly(
        args,
        &out,
        PARTNER1,
        &["404", "not found", "cleverfox api"],
        "/nope",
    )
    .await;

    // answers that are not List envelopes, late in the recording (after
    // other files were written)
    for (path, body) in [
        ("/api/events", json!({"data": {"EventId": 1}})),
        ("/api/logs", json!({"hello": "world"})),
        ("/api/logitems", json!([{"LogItemId": 1}])),
    ] {
        up.add_fault(json!({"path": path, "status": 200, "body": body}))
            .await;
        assert_fails_cleanly(
            record_args(&up.sb, PARTNER1, &out),
            &out,
            PARTNER1,
            &["cleverfox api", "list", "data"],
            &format!("{path} answering {body}"),
        )
        .await;
        up.clear_faults().await;
    }
    up.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_leaves_nothing_behind() {
    let upstream = bounded(Sandbox::start()).await;
    let up = Client::on(upstream);
    let (_parent, out) = workspace();
    // the key refused on a late collection
    up.add_fault(json!({"path": "/api/logs", "status": 401, "body": {"errors": ["The API key is not valid."]}}))
        .await;
    assert_fails_cleanly(
        record_args(&up.sb, PARTNER1, &out),
        &out,
        PARTNER1,
        &["401"],
        "401 on /api/logs",
    )
    .await;
    up.clear_faults().await;
    // the connection closed on a late collection, every time
    up.add_fault(json!({"path": "/api/logitems", "close": true}))
        .await;
    assert_fails_cleanly(
        record_args(&up.sb, PARTNER1, &out),
        &out,
        PARTNER1,
        &["reach", "connect", "closed"],
        "connection closed on /api/logitems",
    )
    .await;
    up.clear_faults().await;
    up.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_directory_that_is_not_empty_is_refused_and_left_alone() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, out) = workspace();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("companies.json"), "[]\n").unwrap();
    std::fs::write(out.join("notes.txt"), "my notes\n").unwrap();
    let before_parent = listing(parent.path());
    let r = run(record_args(&upstream, PARTNER1, &out)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    let err = r.stderr.to_lowercase();
    assert!(
        err.contains("empty") || err.contains("exists"),
        "{}",
        r.describe()
    );
    assert_eq!(listing(parent.path()), before_parent);
    assert_eq!(
        listing(&out),
        BTreeSet::from(["companies.json".to_string(), "notes.txt".to_string()])
    );
    assert_eq!(
        std::fs::read_to_string(out.join("companies.json")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "my notes\n"
    );

    // an empty one is fine
    let empty = parent.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    record_ok(&upstream, PARTNER1, &empty, &[]).await;
    check_ok(&empty).await;
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_path_that_is_a_file_is_refused_and_nothing_is_left_behind() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, out) = workspace();
    std::fs::write(&out, "not a directory\n").unwrap();
    let before = listing(parent.path());
    let r = run(record_args(&upstream, PARTNER1, &out)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    assert!(!r.stderr.trim().is_empty(), "{}", r.describe());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "not a directory\n",
        "the file was changed"
    );
    assert_eq!(
        listing(parent.path()),
        before,
        "entries were left beside the file: {}",
        r.describe()
    );
    upstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_parent_directories_are_made_and_not_left_behind_on_failure() {
    let upstream = bounded(Sandbox::start()).await;
    let (parent, _) = workspace();
    let before = listing(parent.path());
    let nested = parent.path().join("new").join("sub").join("recording");
    let unknown = "no-such-key-9d2a";
    let r = run(record_args(&upstream, unknown, &nested)).await;
    assert!(!r.ok() && r.code.is_some(), "{}", r.describe());
    assert!(r.stderr.contains("401"), "{}", r.describe());
    assert_eq!(
        listing(parent.path()),
        before,
        "a failed recording left directories behind: {}",
        r.describe()
    );
    // and a successful one makes them
    record_ok(&upstream, PARTNER1, &nested, &[]).await;
    check_ok(&nested).await;
    upstream.stop().await;
}
