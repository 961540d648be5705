//! Duplicate prevention with `Token` (API.md section 3).

use super::*;

// ------------------------------------------------------------------ duplicate prevention

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_a_token_is_refused_as_a_duplicate() {
    let t = start().await;
    let body = with(
        &company_body("Once Only LLC"),
        json!({ "Token": "1114652B-3AC4-4A99-8E82-459810299373" }),
    );
    let first = t.create(PARTNER1, "companies", &body).await;
    assert_eq!(first["Token"], "1114652B-3AC4-4A99-8E82-459810299373");
    let before = t.snapshot().await;
    let r = t.post(PARTNER1, "/api/companies", &body).await;
    let errors = refused(&r, 409, &[]);
    assert!(
        errors
            .iter()
            .any(|e| e.to_lowercase().contains("duplicate")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("Token")),
        "the error names Token: {errors:?}"
    );
    // a different body with the same Token too
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Something else"),
                json!({ "Token": body["Token"] }),
            ),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "duplicate POST").await;
    assert_eq!(
        t.list_one_page(PARTNER1, "companies")
            .await
            .iter()
            .filter(|c| c["Name"] == "Once Only LLC")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_used_up_across_collections_and_methods() {
    let t = start().await;
    let token = "c5f2e9a0-token-scope";
    t.create(
        PARTNER1,
        "companies",
        &with(&company_body("Scope"), json!({ "Token": token })),
    )
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("scope@forwardthinking.example.com"),
                json!({ "Token": token }),
            ),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Phone": "555-0199", "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "ApplicationId": "X", "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "token reused elsewhere").await;

    // a PUT uses up its Token for POSTs too, and stores it
    let put_token = "put-first-token";
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "LateAfter": 90, "Token": put_token }),
        )
        .await;
    assert_eq!(upd["Token"], put_token);
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/jobs",
            &with(&job_body(1, "After PUT"), json!({ "Token": put_token })),
        )
        .await;
    refused(&r, 409, &["Token"]);
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "LateAfter": 90, "Token": put_token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    t.unchanged(&before, "PUT token reused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_does_not_use_its_token() {
    let t = start().await;
    let token = "fix-and-resend";
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 1, "Token": token }),
        )
        .await;
    invalid_exactly(&r, &["Name"]);
    // refused for other reasons: 404, 405, 400, 422 forgery
    let r = t
        .put(
            PARTNER1,
            "/api/companies/4",
            &json!({ "Phone": "1", "Token": token }),
        )
        .await;
    refused(&r, 404, &[]);
    let r = t
        .post(
            PARTNER1,
            "/api/partners",
            &json!({ "Name": "x", "Token": token }),
        )
        .await;
    refused(&r, 405, &[]);
    let r = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("text/plain"),
            Some(company_body("Plain").to_string()),
        )
        .await;
    refused(&r, 422, &["application/json"]);
    t.unchanged(&before, "refused requests").await;
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Fixed"), json!({ "Token": token })),
        )
        .await;
    assert_eq!(rec["Token"], token);
    // now the Token is used
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Again"), json!({ "Token": token })),
        )
        .await;
    refused(&r, 409, &["Token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_partner_may_use_the_same_token() {
    let t = start().await;
    let token = "shared-token-0001";
    let body = with(&company_body("Shared"), json!({ "Token": token }));
    let a = t.create(PARTNER1, "companies", &body).await;
    let b = t.create(PARTNER2, "companies", &body).await;
    assert_eq!(a["PartnerId"], 1);
    assert_eq!(b["PartnerId"], 2);
    let before = t.snapshot().await;
    refused(
        &t.post(PARTNER2, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "repeats per partner").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_accepted_again_after_sixty_minutes_on_the_sandbox_clock() {
    let t = start().await;
    let token = "window-token";
    let body = with(&company_body("Window"), json!({ "Token": token }));
    t.create(PARTNER1, "companies", &body).await;
    t.advance(59.0 * 60.0).await;
    let before = t.snapshot().await;
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "within the window").await;
    t.advance(61.0).await;
    let again = t.create(PARTNER1, "companies", &body).await;
    assert_eq!(again["Token"], token);
    // and that use opens a new window
    refused(
        &t.post(PARTNER1, "/api/companies", &body).await,
        409,
        &["Token"],
    );
    // a PUT's Token too
    let put = json!({ "Phone": "555-0101", "Token": "window-put" });
    t.update(PARTNER1, "companies", 1, &put).await;
    refused(
        &t.put(PARTNER1, "/api/companies/1", &put).await,
        409,
        &["Token"],
    );
    t.advance(3601.0).await;
    t.update(PARTNER1, "companies", 1, &put).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_checked_before_validation() {
    let t = start().await;
    let token = "order-of-checks";
    let body = with(
        &company_body("Order Of Checks"),
        json!({ "ExternalId": "FTS-9000", "Token": token }),
    );
    t.create(PARTNER1, "companies", &body).await;
    let before = t.snapshot().await;
    // its second run would break the ExternalId rule its first run made true
    let r = t.post(PARTNER1, "/api/companies", &body).await;
    let errors = refused(&r, 409, &["Token"]);
    assert!(
        !errors.iter().any(|e| e.contains("ExternalId")),
        "validation ran before the Token: {errors:?}"
    );
    // an otherwise invalid body with a used Token: still 409
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "Name": 5, "Token": token }),
        )
        .await;
    refused(&r, 409, &["Token"]);
    // but the content type, the path and the body come first
    let r = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("text/plain"),
            Some(body.to_string()),
        )
        .await;
    refused(&r, 422, &["application/json"]);
    let r = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("application/json"),
            Some(format!("{{\"Token\": \"{token}\",")),
        )
        .await;
    refused(&r, 400, &[]);
    let r = t.put(PARTNER1, "/api/companies/99999", &body).await;
    refused(&r, 404, &[]);
    let r = t.post(PARTNER1, "/api/logs", &body).await;
    refused(&r, 405, &[]);
    t.unchanged(&before, "order of checks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_token_is_treated_as_absent() {
    let t = start().await;
    for token in ["", "   "] {
        let body = with(&company_body("Empty Token"), json!({ "Token": token }));
        let first = t.post(PARTNER1, "/api/companies", &body).await;
        assert_eq!(first.status, 201, "{}", first.show());
        assert!(
            first.warnings().iter().any(|w| w.contains("Token")),
            "the warning names Token: {:?}",
            first.warnings()
        );
        assert_eq!(first.data()["Token"], Value::Null, "nothing is stored");
        // no duplicate prevention: the same body again is a second company
        let again = t
            .post(
                PARTNER1,
                "/api/companies",
                &with(&company_body("Empty Token 2"), json!({ "Token": token })),
            )
            .await;
        assert_eq!(again.status, 201, "{}", again.show());
        let put = t
            .put(
                PARTNER1,
                "/api/companies/1",
                &json!({ "Phone": "555-0100", "Token": token }),
            )
            .await;
        assert_eq!(put.status, 200, "{}", put.show());
        assert!(put.warnings().iter().any(|w| w.contains("Token")));
    }
}
