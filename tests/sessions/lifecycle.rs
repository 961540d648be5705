//! The sessions API, --max-sessions and --session-ttl.

use super::*;

#[tokio::test]
async fn the_sessions_api() {
    let t = T::start().await;
    let r = t
        .post(
            ADMIN,
            "/_sandbox/sessions",
            &json!({"name": "ci-42", "ttl_s": 600}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let keys: Vec<&String> = r
        .body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "changes",
            "created_at",
            "expires_at",
            "from",
            "last_used_at",
            "name"
        ]
    );
    assert_eq!(
        (&r.body["name"], &r.body["from"], &r.body["changes"]),
        (&json!("ci-42"), &json!("fixtures"), &json!(0))
    );
    for k in ["created_at", "last_used_at", "expires_at"] {
        assert!(
            common::is_timestamp(r.body[k].as_str().unwrap_or_default()),
            "{k}: {}",
            r.text
        );
    }
    assert!(r.body["expires_at"].as_str() > r.body["created_at"].as_str());
    for name in ["ci-42", "default"] {
        let again = t
            .post(ADMIN, "/_sandbox/sessions", &json!({"name": name}))
            .await;
        assert_eq!(again.status, 409, "{name}: {}", again.text);
    }
    for bad in [
        json!({}),
        json!({"name": "a b"}),
        json!({"name": "n", "from": "elsewhere"}),
        json!({"name": "n", "ttl_s": 0}),
        json!({"name": "n", "colour": 1}),
        json!({"name": "n", "from": "session:nobody"}),
        json!({"name": "n", "from": "checkpoint:none"}),
    ] {
        let r = t.post(ADMIN, "/_sandbox/sessions", &bad).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    assert_eq!(
        t.post(PARTNER1, "/_sandbox/sessions", &json!({"name": "p"}))
            .await
            .status,
        403
    );

    // changes: successful API writes; listing is not a use
    t.create_at(
        PARTNER1,
        "/s/ci-42/api/companies",
        &json!({"PlanTypeId": 1, "Name": "One"}),
        "CompanyId",
    )
    .await;
    let refused = t
        .post(PARTNER1, "/s/ci-42/api/companies", &json!({"Name": ""}))
        .await;
    assert_eq!(refused.status, 422);
    t.create_at(
        PARTNER1,
        "/s/ci-42/api/companies",
        &json!({"PlanTypeId": 1, "Name": "Two"}),
        "CompanyId",
    )
    .await;
    let list = t.sessions().await;
    assert_eq!(list[0]["name"], "default");
    assert_eq!(list[0]["expires_at"], Value::Null);
    assert_eq!(list[1]["name"], "ci-42");
    assert_eq!(list[1]["changes"], 2, "{list:?}");
    let again = t.sessions().await;
    assert_eq!(
        again[1]["last_used_at"], list[1]["last_used_at"],
        "listing is not a use"
    );

    // from a session: exactly its state
    let copy = t
        .post(
            ADMIN,
            "/_sandbox/sessions",
            &json!({"name": "copy", "from": "session:ci-42"}),
        )
        .await;
    assert_eq!(copy.status, 201, "{}", copy.text);
    assert_eq!(copy.body["from"], "session:ci-42");
    assert_eq!(t.bundle("/s/copy").await, t.bundle("/s/ci-42").await);

    // from a checkpoint of a session, and of default
    let at_checkpoint = t.bundle("/s/ci-42").await;
    assert_eq!(
        t.post(
            ADMIN,
            "/s/ci-42/_sandbox/checkpoints",
            &json!({"name": "cp"})
        )
        .await
        .status,
        201
    );
    t.write_everything("/s/ci-42", "after").await;
    let r = t
        .post(
            ADMIN,
            "/_sandbox/sessions",
            &json!({"name": "c2", "from": "checkpoint:ci-42/cp"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(t.bundle("/s/c2").await, at_checkpoint);
    t.write_everything("", "dflt").await;
    let default_then = t.bundle("").await;
    assert_eq!(
        t.post(ADMIN, "/_sandbox/checkpoints", &json!({"name": "d"}))
            .await
            .status,
        201
    );
    t.create_at(
        PARTNER1,
        "/api/companies",
        &json!({"PlanTypeId": 1, "Name": "Later"}),
        "CompanyId",
    )
    .await;
    let r = t
        .post(
            ADMIN,
            "/_sandbox/sessions",
            &json!({"name": "c3", "from": "checkpoint:d"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(t.bundle("/s/c3").await, default_then);

    // ending
    assert_eq!(
        t.delete(ADMIN, "/_sandbox/sessions/default").await.status,
        409
    );
    let r = t.delete(ADMIN, "/_sandbox/sessions/copy").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("\"copy\""), "{}", r.text);
    assert_eq!(t.delete(ADMIN, "/_sandbox/sessions/copy").await.status, 404);
    assert_eq!(t.session_names().await, ["default", "c2", "c3", "ci-42"]);
}

#[tokio::test]
async fn beyond_max_sessions_creation_answers_429_with_retry_after() {
    let t = T::settings(Settings {
        max_sessions: 2,
        ..Settings::default()
    })
    .await;
    assert_eq!(t.get(PARTNER1, "/s/a/api/companies").await.status, 200);
    assert_eq!(
        t.post(ADMIN, "/_sandbox/sessions", &json!({"name": "b"}))
            .await
            .status,
        201
    );
    let r = t.get(PARTNER1, "/s/c/api/companies").await;
    assert_eq!(r.status, 429, "{}", r.text);
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry >= 1, "{:?}", r.header("retry-after"));
    let r = t
        .post(ADMIN, "/_sandbox/sessions", &json!({"name": "c"}))
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        t.get(PARTNER1, "/s/a/api/companies").await.status,
        200,
        "existing ones still serve"
    );
    assert_eq!(
        t.get(PARTNER1, "/api/companies").await.status,
        200,
        "default does not count"
    );
    assert_eq!(t.delete(ADMIN, "/_sandbox/sessions/a").await.status, 200);
    assert_eq!(t.get(PARTNER1, "/s/c/api/companies").await.status, 200);
}

#[tokio::test]
async fn idle_sessions_end_after_the_session_ttl() {
    let t = T::settings(Settings {
        session_ttl_ms: 300,
        ..Settings::default()
    })
    .await;
    let id = t
        .create_at(
            PARTNER1,
            "/s/idle/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Brief"}),
            "CompanyId",
        )
        .await;
    let r = t
        .post(
            ADMIN,
            "/_sandbox/sessions",
            &json!({"name": "long", "ttl_s": 3600}),
        )
        .await;
    assert_eq!(r.status, 201);
    eventually("the idle session ends", async || {
        let names = t.session_names().await;
        if names.contains(&"idle".to_string()) {
            Err(format!("{names:?}"))
        } else {
            Ok(())
        }
    })
    .await;
    assert_eq!(
        t.session_names().await,
        ["default", "long"],
        "its own ttl_s keeps 'long'"
    );
    // its next use creates it afresh
    assert_eq!(
        t.get(PARTNER1, &format!("/s/idle/api/companies/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(t.sessions().await[1]["changes"], 0);
}

/// A request its key refuses (401) is no use of the session: it does not
/// start the session's idle time again, so a client with a wrong key cannot
/// keep a session alive. (Each poll sends one: if refusals counted as use,
/// polling more often than the TTL would keep the session forever.)
#[tokio::test]
async fn refused_requests_do_not_keep_a_session_alive() {
    let t = T::settings(Settings {
        session_ttl_ms: 300,
        ..Settings::default()
    })
    .await;
    assert_eq!(t.get(PARTNER1, "/s/kept/api/companies").await.status, 200);
    eventually(
        "the session ends though refused requests keep coming",
        async || {
            let refused = t.get("no-such-key", "/s/kept/api/companies").await;
            assert_eq!(refused.status, 401);
            let names = t.session_names().await;
            if names.contains(&"kept".to_string()) {
                Err(format!("{names:?}"))
            } else {
                Ok(())
            }
        },
    )
    .await;
}
