//! Methods a resource does not offer, forgery protection and request
//! bodies (API.md sections 2 and 3).

use super::*;

// ------------------------------------------------------------------ 405

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_a_resource_does_not_offer_get_405_with_allow() {
    let t = start().await;
    let before = t.snapshot().await;
    let cases: [(Method, &str, &[&str]); 12] = [
        (Method::POST, "/api/partners", &["GET"]),
        (Method::DELETE, "/api/partners/1", &["GET", "PUT"]),
        (Method::POST, "/api/logs", &["GET"]),
        (Method::PUT, "/api/logs/1", &["GET"]),
        (Method::DELETE, "/api/logitems/1", &["GET"]),
        (Method::PUT, "/api/plans/1", &["GET"]),
        (Method::POST, "/api/plantypes", &["GET"]),
        (Method::DELETE, "/api/backuptypes/1", &["GET"]),
        (Method::DELETE, "/api/events/1", &["GET"]),
        (Method::PUT, "/api/companies", &["GET", "POST"]),
        (Method::POST, "/api/companies/1", &["GET", "PUT", "DELETE"]),
        (Method::PATCH, "/api/devices/1", &["GET", "PUT", "DELETE"]),
    ];
    for (method, path, allow) in cases {
        let r = t
            .request(
                Some(PARTNER1),
                method.clone(),
                path,
                Some("application/json"),
                Some(r#"{"Name": "x"}"#.into()),
            )
            .await;
        refused(&r, 405, &[]);
        let got: BTreeSet<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow"))
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        let want: BTreeSet<String> = allow.iter().map(|m| m.to_string()).collect();
        assert_eq!(got, want, "{method} {path}");
    }
    // the method is checked before the content type
    let r = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/logs",
            Some("text/plain"),
            Some("x".into()),
        )
        .await;
    refused(&r, 405, &[]);
    t.unchanged(&before, "405s").await;
}

// ------------------------------------------------------------------ forgery protection

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_put_without_a_json_content_type_are_refused_as_forgery() {
    let t = start().await;
    let before = t.snapshot().await;
    let json_body = r#"{"PlanTypeId": 1, "Name": "Forged"}"#.to_string();
    let cases: [(Option<&str>, String); 6] = [
        (Some("text/plain"), json_body.clone()),
        (Some("text/plain; charset=utf-8"), json_body.clone()),
        (
            Some("application/x-www-form-urlencoded"),
            "PlanTypeId=1&Name=Forged".into(),
        ),
        (
            Some("multipart/form-data; boundary=XyZ"),
            "--XyZ\r\nContent-Disposition: form-data; name=\"Name\"\r\n\r\nForged\r\n--XyZ--\r\n"
                .into(),
        ),
        (None, json_body.clone()),
        (Some("text/json"), json_body.clone()),
    ];
    for (ct, body) in &cases {
        for (method, path) in [
            (Method::POST, "/api/companies"),
            (Method::PUT, "/api/companies/1"),
        ] {
            let r = t
                .request(
                    Some(PARTNER1),
                    method.clone(),
                    path,
                    *ct,
                    Some(body.clone()),
                )
                .await;
            let errors = refused(&r, 422, &["application/json"]);
            assert!(
                errors.iter().any(|e| e.to_lowercase().contains("forgery")),
                "{method} {path} {ct:?}: {errors:?}"
            );
        }
    }
    t.unchanged(&before, "forged requests").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_content_types_with_parameters_or_other_case_are_accepted() {
    let t = start().await;
    for (i, ct) in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON;charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let r = t
            .request(
                Some(PARTNER1),
                Method::POST,
                "/api/companies",
                Some(ct),
                Some(company_body(&format!("Accepted {i}")).to_string()),
            )
            .await;
        assert_eq!(r.status, 201, "{ct}: {}", r.text);
        let r = t
            .request(
                Some(PARTNER1),
                Method::PUT,
                "/api/companies/1",
                Some(ct),
                Some(json!({ "Phone": format!("555-010{i}") }).to_string()),
            )
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
        assert_eq!(r.data()["Phone"], format!("555-010{i}"));
    }
}

// ------------------------------------------------------------------ bodies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_and_wrapped_bodies_are_both_accepted() {
    let t = start().await;
    let bare = t
        .create(PARTNER1, "companies", &company_body("Bare Body Ltd"))
        .await;
    assert_eq!(bare["Name"], "Bare Body Ltd");
    let wrapped = t
        .create(
            PARTNER1,
            "companies",
            &json!({ "data": company_body("Wrapped Body Ltd") }),
        )
        .await;
    assert_eq!(wrapped["Name"], "Wrapped Body Ltd");
    assert_eq!(wrapped["PlanTypeId"], 1);
    let id = id(&wrapped, "CompanyId");
    let upd = t
        .update(
            PARTNER1,
            "companies",
            id,
            &json!({ "data": { "Phone": "555-0142" } }),
        )
        .await;
    assert_eq!(upd["Phone"], "555-0142");
    assert_eq!(upd["Name"], "Wrapped Body Ltd");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_gets_400_naming_line_and_column() {
    let t = start().await;
    let before = t.snapshot().await;
    for (method, path) in [
        (Method::POST, "/api/companies"),
        (Method::PUT, "/api/companies/1"),
    ] {
        let r = t
            .request(
                Some(PARTNER1),
                method.clone(),
                path,
                Some("application/json"),
                Some("{\n  \"PlanTypeId\": 1,\n  \"Name\": \"Broken\",\n}".into()),
            )
            .await;
        let errors = refused(&r, 400, &["line 4"]);
        assert!(
            errors.iter().any(|e| e.contains("column")),
            "{method}: {errors:?}"
        );
        let r = t
            .request(
                Some(PARTNER1),
                method.clone(),
                path,
                Some("application/json"),
                Some("{\"Name\": \"x\" \"PlanTypeId\": 1}".into()),
            )
            .await;
        let errors = refused(&r, 400, &["line 1"]);
        assert!(
            errors.iter().any(|e| e.contains("column 14")),
            "{method}: {errors:?}"
        );
    }
    t.unchanged(&before, "invalid JSON").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_one_object_get_400() {
    let t = start().await;
    let before = t.snapshot().await;
    for body in [
        r#"[{"PlanTypeId": 1, "Name": "In an array"}]"#,
        r#""PlanTypeId=1""#,
        "42",
        "true",
        "null",
        "",
    ] {
        for (method, path) in [
            (Method::POST, "/api/companies"),
            (Method::PUT, "/api/companies/1"),
        ] {
            let r = t
                .request(
                    Some(PARTNER1),
                    method.clone(),
                    path,
                    Some("application/json"),
                    Some(body.into()),
                )
                .await;
            assert_eq!(r.status, 400, "{method} {body:?}: {}", r.text);
            r.errors();
        }
    }
    t.unchanged(&before, "bodies not objects").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_max_body_get_413() {
    let t = start_with_settings(Settings {
        max_body: 1024,
        ..Settings::default()
    })
    .await;
    let before = t.snapshot().await;
    let big = json!({ "PlanTypeId": 1, "Name": "Too big", "Note": "x".repeat(2000) });
    let r = t.post(PARTNER1, "/api/companies", &big).await;
    refused(&r, 413, &[]);
    let r = t.put(PARTNER1, "/api/companies/1", &big).await;
    refused(&r, 413, &[]);
    // a 413 comes before the JSON is even looked at
    let r = t
        .request(
            Some(PARTNER1),
            Method::POST,
            "/api/companies",
            Some("application/json"),
            Some(format!("{{ not json {}", " ".repeat(1100))),
        )
        .await;
    refused(&r, 413, &[]);
    t.unchanged(&before, "413s").await;
    // just under the limit is served
    let fits = json!({ "PlanTypeId": 1, "Name": "Fits", "Note": "x".repeat(900), "Token": "fits" });
    assert!(fits.to_string().len() < 1024);
    let r = t.post(PARTNER1, "/api/companies", &fits).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // the size is checked before the Token
    let before = t.snapshot().await;
    let big = with(&big, json!({ "Token": "fits" }));
    refused(&t.post(PARTNER1, "/api/companies", &big).await, 413, &[]);
    refused(
        &t.post(PARTNER1, "/api/companies", &fits).await,
        409,
        &["Token"],
    );
    t.unchanged(&before, "413 and 409").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_on_post_and_put_are_not_attributes() {
    let t = start().await;
    let before = t.snapshot().await;
    // attributes only in the query are missing
    let r = t
        .post(
            PARTNER1,
            "/api/companies?Name=FromQuery&PlanTypeId=1",
            &json!({}),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId", "Name"]);
    t.unchanged(&before, "query-only attributes").await;

    let r = t
        .post(
            PARTNER1,
            "/api/companies?Name=FromQuery&ExternalId=Q-1",
            &company_body("From Body"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["Name"], "From Body");
    assert_eq!(r.data()["ExternalId"], Value::Null);
    let w = r.warnings().join(" | ");
    assert!(w.contains("Name") && w.contains("ExternalId"), "{w}");

    let r = t
        .put(
            PARTNER1,
            "/api/companies/1?IsInactive=true&Phone=1",
            &json!({ "AddressLine2": "Floor 2" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["IsInactive"], false);
    assert_eq!(r.data()["Phone"], Value::Null);
    assert_eq!(r.data()["AddressLine2"], "Floor 2");
    let w = r.warnings().join(" | ");
    assert!(w.contains("IsInactive") && w.contains("Phone"), "{w}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_read_only_attributes_are_ignored_with_a_warning() {
    let t = start().await;
    let t0 = t.now().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({
                "PlanTypeId": 1,
                "Name": "Extra Attributes Inc.",
                "FavouriteColour": "teal",
                "CompanyId": 999,
                "AddedOn": "2001-01-01T00:00:00.000",
                "UpdatedOn": "2001-01-02T00:00:00.000",
                "PlanType": { "PlanTypeId": 1 }
            }),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 201, "{}", r.text);
    let rec = r.data();
    assert_ne!(rec["CompanyId"], 999);
    let added = rec["AddedOn"].as_str().unwrap();
    assert!(t0.as_str() <= added && added <= t1.as_str());
    assert_eq!(rec["UpdatedOn"], Value::Null);
    let w = r.warnings().join(" | ");
    for name in ["FavouriteColour", "CompanyId", "AddedOn", "UpdatedOn"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    let new_id = id(rec, "CompanyId");
    assert_eq!(
        refused(&t.get(PARTNER1, "/api/companies/999").await, 404, &[]).len(),
        1
    );

    // on PUT, POST-only attributes are read-only
    let r = t
        .put(
            PARTNER1,
            &format!("/api/companies/{new_id}"),
            &json!({ "PartnerId": 2, "PlanTypeId": 7, "Phone": "555-0123", "Bogus": 1 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["PartnerId"], 1);
    assert_eq!(r.data()["PlanTypeId"], 1);
    assert_eq!(r.data()["Phone"], "555-0123");
    let w = r.warnings().join(" | ");
    for name in ["PartnerId", "PlanTypeId", "Bogus"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    // a device's generated values are read-only too
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(1, 1, "RO-Test"),
                json!({ "ApiKey": "0123456789abcdef0123456789abcdef",
                        "AgentDownloadUrl": "https://example.com/x.exe" }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.data()["ApiKey"], "0123456789abcdef0123456789abcdef");
    assert_ne!(r.data()["AgentDownloadUrl"], "https://example.com/x.exe");
    let w = r.warnings().join(" | ");
    assert!(
        w.contains("ApiKey") && w.contains("AgentDownloadUrl"),
        "{w}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_refuses_unknown_and_read_only_attributes() {
    let t = start_with_settings(Settings {
        strict: true,
        ..Settings::default()
    })
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Strict"),
                json!({ "FavouriteColour": "teal" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["FavouriteColour"]);
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(
                &company_body("Strict"),
                json!({ "CompanyId": 50, "AddedOn": "2001-01-01T00:00:00.000" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["CompanyId", "AddedOn"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "PlanTypeId": 1, "Phone": "555-0100" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .put(
            PARTNER1,
            "/api/subscriptions/1",
            &json!({ "Status": "Cancelled" }),
        )
        .await;
    invalid_exactly(&r, &["Status"]);
    t.unchanged(&before, "strict refusals").await;
    // clean bodies are served as usual
    let rec = t
        .create(PARTNER1, "companies", &company_body("Strict"))
        .await;
    assert_eq!(rec["Name"], "Strict");
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Phone": "555-0100" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

/// The order of checks puts the path (404) before the content type (422):
/// a PUT to a record that does not exist, or is another partner's, answers
/// 404 even without a JSON content type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_to_a_missing_record_answers_404_before_the_forgery_check() {
    let t = start().await;
    let before = t.snapshot().await;
    for path in ["/api/companies/9999", "/api/companies/4"] {
        let r = t
            .request(
                Some(PARTNER1),
                Method::PUT,
                path,
                Some("text/plain"),
                Some("Name=x".into()),
            )
            .await;
        refused(&r, 404, &["CompanyId"]);
    }
    let r = t
        .request(
            Some(PARTNER1),
            Method::PUT,
            "/api/companies/1",
            Some("text/plain"),
            Some("Name=x".into()),
        )
        .await;
    refused(&r, 422, &["Forgery"]);
    t.unchanged(&before, "refused PUTs").await;
}
