//! Reload, reset and checkpoints: what a session gives back.

use super::*;

#[tokio::test]
async fn a_reload_of_the_fixtures_keeps_existing_sessions() {
    let dir = fixtures_with(&[]);
    let t = T::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let name = |r: Resp| r.data()["Name"].as_str().unwrap_or_default().to_string();
    let old_name = name(t.get(PARTNER1, "/api/companies/1").await);
    let id = t
        .create_at(
            PARTNER1,
            "/s/old/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Kept"}),
            "CompanyId",
        )
        .await;
    let file = dir.path().join("companies.json");
    let mut companies: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_default())
            .unwrap_or_default();
    companies[0]["Name"] = json!("Renamed By Reload");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&companies).unwrap_or_default(),
    )
    .unwrap_or_default();
    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        name(t.get(PARTNER1, "/api/companies/1").await),
        "Renamed By Reload"
    );
    assert_eq!(
        name(t.get(PARTNER1, "/s/new/api/companies/1").await),
        "Renamed By Reload",
        "new sessions start from the reload"
    );
    assert_eq!(
        name(t.get(PARTNER1, "/s/old/api/companies/1").await),
        old_name,
        "old keeps its data"
    );
    assert_eq!(
        name(t.get(PARTNER1, &format!("/s/old/api/companies/{id}")).await),
        "Kept"
    );
    // a session's reset returns it to what it was made from, not to the reload
    let r = t.post(ADMIN, "/s/old/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["discarded_api_changes"], 1, "{}", r.text);
    assert_eq!(
        name(t.get(PARTNER1, "/s/old/api/companies/1").await),
        old_name
    );
    assert_eq!(
        t.get(PARTNER1, &format!("/s/old/api/companies/{id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn reset_and_checkpoint_restore_give_back_exactly_the_snapshot_taken_before() {
    let t = T::start().await;
    let made = t.bundle("/s/r").await;
    t.write_everything("/s/r", "one").await;
    assert_eq!(
        t.post(ADMIN, "/s/r/_sandbox/clock", &json!({"advance": 7200}))
            .await
            .status,
        200
    );
    let r = t.post(ADMIN, "/s/r/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.bundle("/s/r").await, made, "reset: back to its creation");
    assert_eq!(
        t.offset("/s/r").await,
        0,
        "reset: the clock back to real time"
    );

    for base in ["/s/r", ""] {
        t.write_everything(base, "two").await;
        assert_eq!(
            t.post(
                ADMIN,
                &format!("{base}/_sandbox/clock"),
                &json!({"advance": 3600})
            )
            .await
            .status,
            200
        );
        let before = t.bundle(base).await;
        let outbox = t.get(ADMIN, &format!("{base}/_sandbox/outbox")).await.text;
        let cp = t
            .post(
                ADMIN,
                &format!("{base}/_sandbox/checkpoints"),
                &json!({"name": "before-test"}),
            )
            .await;
        assert_eq!(cp.status, 201, "{}", cp.text);
        assert_eq!(cp.body["name"], "before-test");
        assert_eq!(cp.body["clock_offset_seconds"], 3600);
        let dup = t
            .post(
                ADMIN,
                &format!("{base}/_sandbox/checkpoints"),
                &json!({"name": "before-test"}),
            )
            .await;
        assert_eq!(dup.status, 409);
        for round in 0..2 {
            t.write_everything(base, &format!("three-{round}")).await;
            assert_eq!(
                t.post(
                    ADMIN,
                    &format!("{base}/_sandbox/clock"),
                    &json!({"advance": 99})
                )
                .await
                .status,
                200
            );
            assert_ne!(t.bundle(base).await, before);
            let r = t
                .post(
                    ADMIN,
                    &format!("{base}/_sandbox/checkpoints/before-test/restore"),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(t.bundle(base).await, before, "{base}: restore {round}");
            assert_eq!(t.offset(base).await, 3600);
            assert_eq!(
                t.get(ADMIN, &format!("{base}/_sandbox/outbox")).await.text,
                outbox
            );
        }
        let list = t.get(ADMIN, &format!("{base}/_sandbox/checkpoints")).await;
        assert_eq!(
            list.data().as_array().map(Vec::len),
            Some(1),
            "{}",
            list.text
        );
        assert_eq!(
            t.delete(ADMIN, &format!("{base}/_sandbox/checkpoints/before-test"))
                .await
                .status,
            200
        );
        assert_eq!(
            t.delete(ADMIN, &format!("{base}/_sandbox/checkpoints/before-test"))
                .await
                .status,
            404
        );
        let r = t
            .post(
                ADMIN,
                &format!("{base}/_sandbox/checkpoints/before-test/restore"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 404);
    }
    // checkpoints are per session
    assert_eq!(
        t.post(ADMIN, "/s/r/_sandbox/checkpoints", &json!({"name": "mine"}))
            .await
            .status,
        201
    );
    assert_eq!(
        t.post(ADMIN, "/_sandbox/checkpoints/mine/restore", &json!({}))
            .await
            .status,
        404
    );
    assert_eq!(
        t.post(ADMIN, "/s/q/_sandbox/checkpoints/mine/restore", &json!({}))
            .await
            .status,
        404
    );
}
