//! Sessions (isolated sandboxes in one server) and checkpoints, end to end:
//! a real server on 127.0.0.1:0 over real TLS, with real HTTPS clients.

mod common;

use std::ops::Deref;

use cleverfox_sandbox::config::Settings;
use common::{ADMIN, Client, Config, NO_PLAN, PARTNER1, PARTNER2, Resp, eventually, fixtures_with};
use reqwest::Method;
use serde_json::{Value, json};

/// The one client of the tests, with what these tests ask of sessions.
struct T(Client);

impl Deref for T {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0
    }
}

impl T {
    async fn start() -> T {
        T(Client::start().await)
    }

    async fn with(cfg: Config) -> T {
        T(Client::with(cfg).await)
    }

    async fn settings(settings: Settings) -> T {
        T(Client::settings(settings).await)
    }

    /// One request with `X-Sandbox-Session: session`.
    async fn send_in(
        &self,
        session: &str,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.c.request(method.clone(), self.sb.url(path));
        if let Some(k) = key {
            rb = rb.basic_auth(k, Some("ignored"));
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = common::bounded(rb.header("x-sandbox-session", session).send())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        common::read_response(r).await
    }

    /// POST that must answer 201; the new record's id.
    async fn create_at(&self, key: &str, path: &str, body: &Value, id_key: &str) -> i64 {
        let r = self.post(key, path, body).await;
        assert_eq!(r.status, 201, "POST {path}: {}", r.text);
        r.data()[id_key]
            .as_i64()
            .unwrap_or_else(|| panic!("no {id_key}: {}", r.text))
    }

    /// `GET {base}/_sandbox/snapshot` as text.
    async fn bundle(&self, base: &str) -> String {
        let r = self.get(ADMIN, &format!("{base}/_sandbox/snapshot")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
    }

    async fn sessions(&self) -> Vec<Value> {
        let r = self.get(ADMIN, "/_sandbox/sessions").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.data().as_array().cloned().unwrap_or_default()
    }

    async fn session_names(&self) -> Vec<String> {
        self.sessions()
            .await
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn offset(&self, base: &str) -> i64 {
        let r = self.get(ADMIN, &format!("{base}/_sandbox/clock")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["offset_seconds"].as_i64().unwrap_or(i64::MIN)
    }

    /// One record of every writable collection, and a change to partner 1,
    /// made under `base` by partner 1, tagged with `tag`; the (path, id) of
    /// each new record.
    async fn write_everything(&self, base: &str, tag: &str) -> Vec<String> {
        let p = |c: &str| format!("{base}/api/{c}");
        let company = self
            .create_at(
                PARTNER1,
                &p("companies"),
                &json!({"PlanTypeId": 1, "Name": format!("{tag} Ltd")}),
                "CompanyId",
            )
            .await;
        let email = format!("{tag}@example.com");
        let partner_user = self
            .create_at(
                PARTNER1,
                &p("partnerusers"),
                &json!({"FirstName": "Nora", "LastName": tag, "Email": email}),
                "PartnerUserId",
            )
            .await;
        let company_user = self
            .create_at(PARTNER1, &p("companyusers"),
                &json!({"CompanyId": company, "FirstName": "Ann", "LastName": tag, "Email": format!("cu-{email}")}),
                "CompanyUserId")
            .await;
        let subscription = self
            .create_at(
                PARTNER1,
                &p("subscriptions"),
                &json!({"CompanyId": company, "PlanId": 2}),
                "SubscriptionId",
            )
            .await;
        let device = self
            .create_at(PARTNER1, &p("devices"),
                &json!({"CompanyId": company, "SubscriptionId": subscription, "Name": format!("{tag}-pc"),
                        "TimeZoneId": "Eastern Standard Time"}), "DeviceId")
            .await;
        let job = self
            .create_at(
                PARTNER1,
                &p("jobs"),
                &json!({"DeviceId": device, "Name": format!("{tag} job"), "Frequency": "Daily",
                        "NextRunOn": "2031-01-01T22:00:00.000", "LateAfter": 120, "Every": 1,
                        "CloudKeepLast": 30, "LocalKeepLast": 7}),
                "JobId",
            )
            .await;
        let item = self
            .create_at(PARTNER1, &p("jobitems"),
                &json!({"JobId": job, "Name": format!("{tag} docs"), "BackupTypeId": 1, "BaseFolder": "C:\\Data",
                        "SearchPatterns": "*.*", "IncludeSubFolders": true}), "JobItemId")
            .await;
        let r = self
            .put(PARTNER1, &p("partners/1"), &json!({"ApplicationId": tag}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let gone = self
            .create_at(
                PARTNER1,
                &p("companies"),
                &json!({"PlanTypeId": 1, "Name": format!("{tag} gone")}),
                "CompanyId",
            )
            .await;
        let r = self
            .delete(PARTNER1, &p(&format!("companies/{gone}")))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        vec![
            format!("companies/{company}"),
            format!("partnerusers/{partner_user}"),
            format!("companyusers/{company_user}"),
            format!("subscriptions/{subscription}"),
            format!("devices/{device}"),
            format!("jobs/{job}"),
            format!("jobitems/{item}"),
        ]
    }
}

/// The records a bundle holds of `collection`.
fn records(bundle: &str, collection: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(bundle).unwrap_or(Value::Null);
    v[collection].as_array().cloned().unwrap_or_default()
}

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
