//! The request journal.

use super::*;

// ------------------------------------------------------- 4. request journal

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_lists_api_requests_newest_first_with_their_details() {
    let t = Client::start().await;
    let t0 = t.now_ms().await;
    let bad = json!({"PlanTypeId": 1});
    let good = json!({"Name": "Journal Co", "PlanTypeId": 1});
    let rs = [
        t.get(PARTNER1, "/api/companies?PageSize=2").await,
        t.get(PARTNER1, "/api/devices/1").await,
        t.post(PARTNER1, "/api/companies", &bad).await,
        t.post(PARTNER1, "/api/companies", &good).await,
        t.get("no-such-key", "/api/plans").await,
        t.get(PARTNER2, "/api/partners").await,
    ];
    let t1 = t.now_ms().await;
    let expect: [Expected; 6] = [
        (
            "GET",
            "/api/companies",
            Some("PageSize=2"),
            Some(1),
            200,
            None,
        ),
        ("GET", "/api/devices/1", None, Some(1), 200, None),
        ("POST", "/api/companies", None, Some(1), 422, Some(&bad)),
        ("POST", "/api/companies", None, Some(1), 201, Some(&good)),
        ("GET", "/api/plans", None, None, 401, None),
        ("GET", "/api/partners", None, Some(2), 200, None),
    ];
    let rids: Vec<u64> = rs.iter().map(Resp::request_id).collect();

    let journal = t.journal("").await;
    // only the /api/ requests (the control API calls are not journaled),
    // newest first
    let want: Vec<u64> = rids.iter().rev().copied().collect();
    assert_eq!(ids(&journal, "id"), want, "{journal:?}");
    for (e, (r, (method, path, query, partner, status, body))) in
        journal.iter().rev().zip(rs.iter().zip(expect.iter()))
    {
        for f in JOURNAL_FIELDS {
            assert!(e.get(f).is_some(), "entry lacks {f}: {e}");
        }
        assert_eq!(r.status, *status, "{}", r.text);
        assert_eq!(e["id"], r.request_id());
        assert_eq!(e["method"], *method, "{e}");
        assert_eq!(e["path"], *path, "{e}");
        assert_eq!(e["query"], json!(query), "{e}");
        assert_eq!(e["partner_id"], json!(partner), "{e}");
        assert_eq!(e["status"], *status, "{e}");
        let d = e["duration_ms"].as_f64().expect("duration_ms");
        assert!((0.0..20_000.0).contains(&d), "{e}");
        let time = ms(e["time"].as_str().expect("time"));
        assert!(t0 <= time && time <= t1, "time outside [{t0}, {t1}]: {e}");
        match body {
            Some(b) => {
                let got: Value =
                    serde_json::from_str(e["request_body"].as_str().expect("request_body"))
                        .expect("request_body is the JSON sent");
                assert_eq!(got, **b, "{e}");
            }
            None => assert_eq!(e["request_body"], Value::Null, "{e}"),
        }
        assert_eq!(e["response_body"], r.text.as_str(), "{e}");
    }

    // filters
    let by = |q: &'static str| {
        let t = &t;
        async move { ids(&t.journal(q).await, "id") }
    };
    assert_eq!(by("?method=POST").await, vec![rids[3], rids[2]]);
    assert_eq!(
        by("?method=GET").await,
        vec![rids[5], rids[4], rids[1], rids[0]]
    );
    assert_eq!(
        by("?path=/api/companies").await,
        vec![rids[3], rids[2], rids[0]]
    );
    assert_eq!(
        by("?path=/api/comp").await,
        vec![rids[3], rids[2], rids[0]],
        "path is a prefix"
    );
    assert_eq!(by("?path=/api/devices").await, vec![rids[1]]);
    assert_eq!(by("?status=422").await, vec![rids[2]]);
    assert_eq!(by("?status=401").await, vec![rids[4]]);
    assert_eq!(by("?status=200").await, vec![rids[5], rids[1], rids[0]]);
    assert_eq!(by("?method=GET&path=/api/companies").await, vec![rids[0]]);
    assert_eq!(by("?status=404").await, Vec::<u64>::new());

    // still only the six /api/ requests after all these control calls
    assert_eq!(t.journal("").await.len(), 6);
    assert!(
        t.journal("?path=/_sandbox").await.is_empty(),
        "control API requests are not journaled"
    );

    // DELETE clears it
    let r = t.delete(ADMIN, "/_sandbox/requests").await;
    assert_eq!(r.status, 200, "DELETE /_sandbox/requests: {}", r.text);
    assert!(t.journal("").await.is_empty());
    let r = t.get(PARTNER1, "/api/plans").await;
    assert_eq!(ids(&t.journal("").await, "id"), vec![r.request_id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_keeps_only_its_bound_of_newest_entries() {
    let t = Client::with(Config {
        settings: Settings {
            journal: 5,
            ..Settings::default()
        },
        ..Config::default()
    })
    .await;
    let mut rids = Vec::new();
    for i in 0..20 {
        let path = if i % 2 == 0 {
            "/api/plans"
        } else {
            "/api/companies/1"
        };
        let r = t.get(PARTNER1, path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        rids.push(r.request_id());
    }
    let journal = t.journal("").await;
    let want: Vec<u64> = rids[15..].iter().rev().copied().collect();
    assert_eq!(ids(&journal, "id"), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_cuts_bodies_at_16_kib() {
    let t = Client::start().await;
    let long = "x".repeat(40 * 1024);
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"Name": long, "PlanTypeId": 1}),
        )
        .await;
    refused(&r, 422, &["Name"]);
    let big = t.get(PARTNER1, "/api/logs?PageSize=500").await;
    assert_eq!(big.status, 200);
    assert!(big.text.len() > 2 * BODY_CUT, "precondition: a big answer");

    let journal = t.journal("").await;
    assert_eq!(ids(&journal, "id"), vec![big.request_id(), r.request_id()]);
    let req = journal[1]["request_body"].as_str().expect("request body");
    assert!(
        (BODY_CUT - 64..=BODY_CUT).contains(&req.len()),
        "request body kept: {} bytes",
        req.len()
    );
    assert!(req.contains(&"x".repeat(1000)), "the kept part is the body");
    let resp = journal[1]["response_body"].as_str().expect("response body");
    assert!(resp.len() <= BODY_CUT, "{} bytes", resp.len());
    let resp = journal[0]["response_body"].as_str().expect("response body");
    assert!(
        (BODY_CUT - 64..=BODY_CUT).contains(&resp.len()),
        "response body kept: {} bytes",
        resp.len()
    );
    let head: String = resp.chars().take(8000).collect();
    assert!(
        big.text.starts_with(&head),
        "the kept part is the answer's start"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_never_holds_a_key_a_basic_credential_or_a_password() {
    let t = Client::start().await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let unknown = "sk-unknown-7f3a9c";
    let mut needles = vec![
        PARTNER1.to_string(),
        PARTNER2.to_string(),
        ADMIN.to_string(),
        unknown.to_string(),
    ];
    for k in [PARTNER1, PARTNER2, ADMIN, unknown] {
        needles.push(b64(&format!("{k}:")));
        needles.push(b64(&format!("{k}:ignored")));
        needles.push(b64(&format!("{k}:")).trim_end_matches('=').to_string());
    }
    // keys as `curl -u KEY:` sends them, and with a password
    for k in [PARTNER1, PARTNER2, ADMIN, unknown] {
        for pw in [None, Some("ignored")] {
            let r = bounded(t.c.get(t.sb.url("/api/companies")).basic_auth(k, pw).send())
                .await
                .unwrap();
            assert!(r.status().as_u16() >= 200);
        }
    }
    let passwords = ["Pw-Secret!2718", "Pw-Other#3141", "Pw-Broken%1618"];
    let item = t
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": 1, "Name": "Secret DB", "BackupTypeId": 2, "ServerName": "ABC-SRV01",
                    "DatabaseName": "Secret", "AuthenticationMode": "S",
                    "Username": "sa_backup", "Password": passwords[0]}),
        )
        .await;
    let id = item["JobItemId"].as_i64().unwrap();
    t.update(PARTNER1, "jobitems", id, &json!({"Password": passwords[1]}))
        .await;
    let r = t
        .send_text(
            Some(PARTNER1),
            Method::POST,
            "/api/jobitems",
            Some(format!(
                r#"{{"JobId": 1, "Password": "{}", "Name": }}"#,
                passwords[2]
            )),
        )
        .await;
    assert_eq!(r.status, 400, "broken JSON: {}", r.text);

    let text = bounded(
        t.c.get(t.sb.url("/_sandbox/requests"))
            .basic_auth(ADMIN, Some("ignored"))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(text.status(), 200);
    let text = bounded(text.text()).await.unwrap();
    for n in needles.iter().map(String::as_str).chain(passwords) {
        assert!(!text.contains(n), "the journal holds {n:?}");
    }
    let journal: Value = serde_json::from_str(&text).unwrap();
    let writes: Vec<&Value> = journal["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/api/jobitems"))
        .collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    for e in &writes[1..] {
        let body: Value = serde_json::from_str(e["request_body"].as_str().unwrap()).unwrap();
        assert_eq!(body["Password"], "***", "{e}");
    }
    let broken = writes[0]["request_body"].as_str().unwrap();
    assert!(broken.contains("***"), "{broken}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_keeps_the_bytes_the_client_sent() {
    let t = Client::start().await;
    // keys out of order, spacing and a newline: kept exactly, not re-serialized
    let sent = "{ \"PlanTypeId\": 1,\n  \"Name\" : \"Bytes Co\"  }";
    let r = t
        .send_text(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some(sent.into()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // a form post, refused by forgery protection, still shows what was sent
    let form = "Name=Form+Co&PlanTypeId=1";
    let refused = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("application/x-www-form-urlencoded"),
            Some(form.into()),
        )
        .await;
    assert!(refused.status >= 400, "{}", refused.text);
    let rows = t.journal_of("/api/companies").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["id"].as_u64(), Some(r.request_id()));
    assert_eq!(rows[0]["request_body"], sent);
    assert_eq!(rows[0]["response_body"], r.text.as_str());
    assert_eq!(rows[1]["id"].as_u64(), Some(refused.request_id()));
    assert_eq!(rows[1]["status"], refused.status);
    assert_eq!(rows[1]["request_body"], form);
    assert_eq!(rows[1]["response_body"], refused.text.as_str());
}
