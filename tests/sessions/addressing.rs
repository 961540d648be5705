//! Addressing: the header and the path (the path wins), bad names, refused keys.

use super::*;

#[tokio::test]
async fn the_header_selects_a_session_and_the_path_wins() {
    let t = T::start().await;
    let body = json!({"PlanTypeId": 1, "Name": "By Header"});
    let r = t
        .send_in(
            "h",
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.data()["CompanyId"].as_i64().unwrap_or(0);
    assert!(
        r.header("location")
            .unwrap_or_default()
            .ends_with(&format!("/s/h/api/companies/{id}"))
    );
    let path = format!("/api/companies/{id}");
    assert_eq!(
        t.get(PARTNER1, &format!("/s/h{path}")).await.data()["Name"],
        "By Header"
    );
    assert_eq!(
        t.send_in("h", Some(PARTNER1), Method::GET, &path, None)
            .await
            .status,
        200
    );
    assert_eq!(t.get(PARTNER1, &path).await.status, 404, "not in default");
    let r = t
        .send_in(
            "h",
            Some(PARTNER1),
            Method::GET,
            &format!("/s/p{path}"),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "the path wins over the header: {}", r.text);
    // the control API too
    let r = t
        .send_in(
            "h",
            Some(ADMIN),
            Method::POST,
            "/_sandbox/clock",
            Some(&json!({"advance": 60})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!((t.offset("/s/h").await, t.offset("").await), (60, 0));
    assert_eq!(t.session_names().await, ["default", "h", "p"]);
}

#[tokio::test]
async fn bad_session_names_answer_404_and_create_nothing() {
    let t = T::start().await;
    let long = "x".repeat(65);
    for path in [
        "/s/a%20b/api/companies".to_string(),
        "/s/a@b/api/companies".into(),
        format!("/s/{long}/api/companies"),
        "/s//api/companies".into(),
        "/s/ok/openapi.json".into(),
        "/s/ok".into(),
        "/s/ok/_sandboxes/health".into(),
    ] {
        let r = t.get(PARTNER1, &path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
    for name in ["a/b", long.as_str(), "é"] {
        let Ok(_) = reqwest::header::HeaderValue::from_str(name) else {
            continue;
        };
        let r = t
            .send_in(name, Some(PARTNER1), Method::GET, "/api/companies", None)
            .await;
        assert_eq!(r.status, 404, "header {name}: {}", r.text);
    }
    assert_eq!(
        t.get(PARTNER1, &format!("/s/{}/api/companies", "x".repeat(64)))
            .await
            .status,
        200
    );
    assert_eq!(
        t.session_names().await,
        ["default".to_string(), "x".repeat(64)]
    );
}

#[tokio::test]
async fn a_refused_key_creates_no_session() {
    let t = T::start().await;
    assert_eq!(
        t.send(None, Method::GET, "/s/x/api/companies", None)
            .await
            .status,
        401
    );
    assert_eq!(t.get("no-such-key", "/s/x/api/companies").await.status, 401);
    assert_eq!(t.get(NO_PLAN, "/s/x/api/companies").await.status, 403);
    assert_eq!(
        t.get(PARTNER1, "/s/y/_sandbox/health").await.status,
        403,
        "a partner key on the control API"
    );
    assert_eq!(
        t.get(ADMIN, "/s/z/api/companies").await.status,
        403,
        "an admin key on the API"
    );
    let r = t
        .send_in("w", None, Method::GET, "/api/companies", None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(t.session_names().await, ["default"]);
    assert_eq!(t.get(PARTNER1, "/s/x/api/companies").await.status, 200);
    assert_eq!(t.session_names().await, ["default", "x"]);
    let health = t.get(ADMIN, "/_sandbox/health").await;
    assert_eq!(health.body["sessions"], 2, "{}", health.text);
}
