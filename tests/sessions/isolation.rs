//! Isolation: every writable collection, each session's own Token window, clock, journal, outbox and faults, concurrent writers, partner scope.

use super::*;

#[tokio::test]
async fn every_writable_collection_is_isolated_between_sessions_both_ways() {
    let t = T::start().await;
    let pristine = t.bundle("").await;
    let written = t.write_everything("/s/a", "alpha").await;
    let a = t.bundle("/s/a").await;
    assert_ne!(a, pristine);
    assert_eq!(
        t.bundle("").await,
        pristine,
        "default saw nothing of session a"
    );
    assert_eq!(
        t.bundle("/s/b").await,
        pristine,
        "a new session starts from the fixtures"
    );
    for path in &written {
        let r = t.get(PARTNER1, &format!("/s/a/api/{path}")).await;
        assert_eq!(r.status, 200, "{path} in a: {}", r.text);
        for other in ["", "/s/b"] {
            let r = t.get(PARTNER1, &format!("{other}/api/{path}")).await;
            assert_eq!(r.status, 404, "{path} seen from '{other}': {}", r.text);
        }
    }
    let r = t.get(PARTNER1, "/s/a/api/partners/1").await;
    assert_eq!(r.data()["ApplicationId"], "alpha");
    assert_ne!(
        t.get(PARTNER1, "/api/partners/1").await.data()["ApplicationId"],
        "alpha"
    );

    // the other way: default's writes reach neither a nor b
    t.write_everything("", "dflt").await;
    assert_eq!(
        t.bundle("/s/a").await,
        a,
        "session a saw nothing of default"
    );
    assert_eq!(
        t.bundle("/s/b").await,
        pristine,
        "session b saw nothing of default"
    );
    let names = |bundle: &str| -> Vec<String> {
        records(bundle, "companies")
            .iter()
            .map(|c| c["Name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let d = t.bundle("").await;
    assert!(
        names(&d).contains(&"dflt Ltd".to_string())
            && !names(&d).contains(&"alpha Ltd".to_string())
    );
    assert!(
        names(&a).contains(&"alpha Ltd".to_string())
            && !names(&a).contains(&"dflt Ltd".to_string())
    );
    // and b's writes reach neither
    t.write_everything("/s/b", "beta").await;
    assert_eq!(t.bundle("/s/a").await, a);
    assert_eq!(t.bundle("").await, d);
}

#[tokio::test]
async fn each_session_has_its_own_token_window_clock_journal_outbox_and_faults() {
    let t = T::start().await;
    // Token window
    let body = json!({"PlanTypeId": 1, "Name": "Tokened", "Token": "tok-1"});
    let first = t.post(PARTNER1, "/s/a/api/companies", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(
        t.post(PARTNER1, "/s/a/api/companies", &body).await.status,
        409,
        "reused in a"
    );
    assert_eq!(
        t.post(PARTNER1, "/s/b/api/companies", &body).await.status,
        201,
        "fresh in b"
    );
    assert_eq!(
        t.post(PARTNER1, "/api/companies", &body).await.status,
        201,
        "fresh in default"
    );

    // Location points into the session
    let id = first.data()["CompanyId"].as_i64().unwrap_or(0);
    let location = first.header("location").unwrap_or_default();
    assert!(
        location.ends_with(&format!("/s/a/api/companies/{id}")),
        "{location}"
    );

    // clock
    let r = t
        .post(ADMIN, "/s/a/_sandbox/clock", &json!({"advance": 86400}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.offset("/s/a").await, 86400);
    assert_eq!(t.offset("").await, 0);
    assert_eq!(t.offset("/s/b").await, 0);
    let added = |r: &Resp| r.data()["AddedOn"].as_str().unwrap_or_default().to_string();
    let in_a = t
        .post(
            PARTNER1,
            "/s/a/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Later"}),
        )
        .await;
    let in_d = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Now"}),
        )
        .await;
    assert!(
        added(&in_a) > added(&in_d),
        "a's clock is a day ahead: {} vs {}",
        added(&in_a),
        added(&in_d)
    );

    // journal: each session's own requests, paths without /s/{name}
    let journal = |base: &'static str| {
        let t = &t;
        async move {
            let r = t.get(ADMIN, &format!("{base}/_sandbox/requests")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.data().as_array().cloned().unwrap_or_default()
        }
    };
    let ja = journal("/s/a").await;
    let jd = journal("").await;
    let ids = |j: &[Value]| -> Vec<u64> { j.iter().filter_map(|e| e["id"].as_u64()).collect() };
    assert!(ids(&ja).contains(&first.request_id()));
    assert!(!ids(&jd).contains(&first.request_id()));
    assert!(ids(&jd).contains(&in_d.request_id()) && !ids(&ja).contains(&in_d.request_id()));
    assert_eq!(ja.len(), 3, "{ja:?}");
    assert!(ja.iter().all(|e| e["path"] == "/api/companies"), "{ja:?}");

    // outbox: an invitation stays in its session
    let u = json!({"FirstName": "Ivy", "LastName": "Mail", "Email": "ivy@example.com"});
    assert_eq!(
        t.post(PARTNER1, "/s/a/api/partnerusers", &u).await.status,
        201
    );
    let outbox = |base: &'static str| {
        let t = &t;
        async move { t.get(ADMIN, &format!("{base}/_sandbox/outbox")).await.text }
    };
    assert!(outbox("/s/a").await.contains("ivy@example.com"));
    assert!(!outbox("").await.contains("ivy@example.com"));
    assert!(!outbox("/s/b").await.contains("ivy@example.com"));

    // fault rules: the path they match is the /api/ part
    let rule = json!({"path": "/api/companies", "status": 503});
    assert_eq!(
        t.post(ADMIN, "/s/a/_sandbox/faults", &rule).await.status,
        201
    );
    assert_eq!(t.get(PARTNER1, "/s/a/api/companies").await.status, 503);
    assert_eq!(t.get(PARTNER1, "/api/companies").await.status, 200);
    assert_eq!(t.get(PARTNER1, "/s/b/api/companies").await.status, 200);
    assert_eq!(t.get(ADMIN, "/_sandbox/faults").await.data(), &json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_sessions_written_concurrently_each_keep_exactly_their_own() {
    let t = std::sync::Arc::new(T::start().await);
    let base_events = records(&t.bundle("").await, "events").len();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let c = t.sb.client();
            let mut ids = Vec::new();
            for k in 0..5 {
                let r = c
                    .post(t.sb.url(&format!("/s/w{i}/api/companies")))
                    .basic_auth(PARTNER1, Some(""))
                    .json(&json!({"PlanTypeId": 1, "Name": format!("w{i}-{k}")}))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("w{i}: {e}"));
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap_or_default();
                ids.push(v["data"]["CompanyId"].as_i64().unwrap_or(0));
            }
            ids
        }));
    }
    let mut all_ids = Vec::new();
    for task in tasks {
        all_ids.push(common::bounded(task).await.unwrap_or_default());
    }
    for (i, ids) in all_ids.iter().enumerate() {
        let bundle = t.bundle(&format!("/s/w{i}")).await;
        let mine: Vec<String> = records(&bundle, "companies")
            .iter()
            .filter_map(|c| c["Name"].as_str())
            .filter(|n| n.starts_with('w'))
            .map(str::to_string)
            .collect();
        let want: Vec<String> = (0..5).map(|k| format!("w{i}-{k}")).collect();
        assert_eq!(mine, want, "session w{i}");
        let events = records(&bundle, "events");
        assert_eq!(events.len(), base_events + 5, "w{i}: its own five events");
        let new: Vec<i64> = events[base_events..]
            .iter()
            .filter_map(|e| e["CompanyId"].as_i64())
            .collect();
        assert_eq!(&new, ids, "w{i}: events of its own companies");
        let journal = t
            .get(ADMIN, &format!("/s/w{i}/_sandbox/requests?method=POST"))
            .await;
        assert_eq!(journal.data().as_array().map(Vec::len), Some(5), "w{i}");
    }
    assert_eq!(t.get(ADMIN, "/_sandbox/health").await.body["sessions"], 17);
}

#[tokio::test]
async fn partner_scope_holds_inside_a_session() {
    let t = T::start().await;
    assert_eq!(t.get(PARTNER1, "/s/ps/api/companies/1").await.status, 200);
    assert_eq!(
        t.get(PARTNER2, "/s/ps/api/companies/1").await.status,
        404,
        "partner 1's company"
    );
    let id = t
        .create_at(
            PARTNER1,
            "/s/ps/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Scoped"}),
            "CompanyId",
        )
        .await;
    assert_eq!(
        t.get(PARTNER2, &format!("/s/ps/api/companies/{id}"))
            .await
            .status,
        404
    );
    let r = t
        .put(
            PARTNER2,
            &format!("/s/ps/api/companies/{id}"),
            &json!({"Name": "Taken"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let list = t.get(PARTNER2, "/s/ps/api/companies").await;
    assert!(!list.text.contains("Scoped"), "{}", list.text);
    let r = t.post(PARTNER2, "/s/ps/api/devices",
        &json!({"CompanyId": id, "SubscriptionId": 1, "Name": "x", "TimeZoneId": "Eastern Standard Time"})).await;
    assert_eq!(r.status, 422, "{}", r.text);
}
