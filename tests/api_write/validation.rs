//! Validation of attribute values: types, lengths, required attributes,
//! lists, ranges, time zones, local times and e-mail addresses.

use super::*;

// ------------------------------------------------------------------ validation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_of_the_wrong_type_are_refused_naming_the_attribute() {
    let t = start().await;
    let before = t.snapshot().await;
    let job = job_body(1, "Typed");
    let cases = [
        (
            "jobs",
            with(&job, json!({ "LateAfter": "120" })),
            "LateAfter",
        ),
        ("jobs", with(&job, json!({ "Every": 1.5 })), "Every"),
        ("jobs", with(&job, json!({ "DeviceId": "1" })), "DeviceId"),
        ("jobs", with(&job, json!({ "Name": 42 })), "Name"),
        (
            "jobs",
            with(&job, json!({ "IsInactive": "true" })),
            "IsInactive",
        ),
        ("jobs", with(&job, json!({ "OnMonday": 1 })), "OnMonday"),
        (
            "jobs",
            with(&job, json!({ "NextRunOn": 20310101 })),
            "NextRunOn",
        ),
        (
            "jobs",
            with(&job, json!({ "Frequency": ["Daily"] })),
            "Frequency",
        ),
        (
            "companies",
            with(&company_body("T"), json!({ "Phone": { "n": 1 } })),
            "Phone",
        ),
        (
            "companies",
            with(&company_body("T"), json!({ "Token": 12345 })),
            "Token",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "T"),
                json!({ "SendNotificationOnJobMissed": "no" }),
            ),
            "SendNotificationOnJobMissed",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "Port": "1433" })),
            "Port",
        ),
    ];
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        invalid_exactly(&r, &[attr]);
    }
    let r = t
        .put(PARTNER1, "/api/jobs/1", &json!({ "CloudKeepLast": "30" }))
        .await;
    invalid_exactly(&r, &["CloudKeepLast"]);
    let r = t
        .put(PARTNER1, "/api/devices/1", &json!({ "Name": false }))
        .await;
    invalid_exactly(&r, &["Name"]);
    t.unchanged(&before, "wrong types").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_problems_of_a_request_are_reported_together() {
    let t = start().await;
    let before = t.snapshot().await;
    let body = with(
        &job_body(1, "Three problems"),
        json!({ "LateAfter": "soon", "Frequency": "Yearly", "Every": 0 }),
    );
    let r = t.post(PARTNER1, "/api/jobs", &body).await;
    invalid_exactly(&r, &["LateAfter", "Frequency", "Every"]);
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "LateAfter": 1440, "Name": null, "NextRunOn": "2031-01-01T10:00:00Z" }),
        )
        .await;
    invalid_exactly(&r, &["LateAfter", "Name", "NextRunOn"]);
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({ "FirstName": "x".repeat(26), "LastName": 7, "Email": "nobody" }),
        )
        .await;
    invalid_exactly(&r, &["FirstName", "LastName", "Email"]);
    t.unchanged(&before, "several problems").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_booleans_are_accepted_and_mean_false() {
    let t = start().await;
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Null Flags"), json!({ "IsInactive": null })),
        )
        .await;
    assert_eq!(rec["IsInactive"], Value::Null, "the record holds null");
    // a device whose flags are null needs no SendNotificationTo
    let dev = t
        .create(
            PARTNER1,
            "devices",
            &with(
                &device_body(1, 1, "Null-Flags"),
                json!({
                    "IsInactive": null,
                    "SendNotificationOnJobCompleted": null,
                    "SendNotificationOnJobFailed": null,
                    "SendNotificationOnJobMissed": null
                }),
            ),
        )
        .await;
    assert_eq!(dev["SendNotificationOnJobFailed"], Value::Null);
    // device 1 has Failed and Missed on: switching both to null frees the address
    let upd = t
        .update(
            PARTNER1,
            "devices",
            1,
            &json!({
                "SendNotificationOnJobFailed": null,
                "SendNotificationOnJobMissed": null,
                "SendNotificationTo": null
            }),
        )
        .await;
    assert_eq!(upd["SendNotificationTo"], Value::Null);
    assert_eq!(upd["SendNotificationOnJobFailed"], Value::Null);
    // a job item's option flags may be null
    let item = t
        .create(
            PARTNER1,
            "jobitems",
            &with(
                &file_item_body(1),
                json!({ "OptionCompress": null, "IncludeSubFolders": null }),
            ),
        )
        .await;
    assert_eq!(item["OptionCompress"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_longer_than_their_length_are_refused() {
    let t = start().await;
    let before = t.snapshot().await;
    let cases = [
        (
            "companies",
            with(&company_body("x"), json!({ "Name": "n".repeat(101) })),
            "Name",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "PostalCode": "1".repeat(51) })),
            "PostalCode",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "ExternalId": "e".repeat(101) })),
            "ExternalId",
        ),
        (
            "companies",
            with(&company_body("x"), json!({ "Token": "t".repeat(51) })),
            "Token",
        ),
        (
            "partnerusers",
            with(
                &partner_user_body("a@b.example.com"),
                json!({ "LastName": "l".repeat(26) }),
            ),
            "LastName",
        ),
        (
            "partnerusers",
            with(
                &partner_user_body("a@b.example.com"),
                json!({ "WorkPhone": "5".repeat(21) }),
            ),
            "WorkPhone",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "d"),
                json!({ "ApplicationId": "a".repeat(26) }),
            ),
            "ApplicationId",
        ),
        (
            "jobitems",
            with(
                &sql_item_body(1),
                json!({ "BaseFolder": format!("C:\\{}", "f".repeat(247)) }),
            ),
            "BaseFolder",
        ),
        (
            "jobitems",
            with(&file_item_body(1), json!({ "ServerName": "s".repeat(51) })),
            "ServerName",
        ),
        (
            "jobitems",
            with(
                &file_item_body(1),
                json!({ "DatabaseName": "d".repeat(129) }),
            ),
            "DatabaseName",
        ),
    ];
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        invalid_exactly(&r, &[attr]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "Country": "c".repeat(51) }),
        )
        .await;
    invalid_exactly(&r, &["Country"]);
    t.unchanged(&before, "too long").await;
    // exactly the stated length is fine, and length counts characters, not bytes
    let rec = t
        .create(
            PARTNER1,
            "companies",
            &with(
                &company_body(&"n".repeat(100)),
                json!({ "CityMunicipality": "ä".repeat(50), "Token": "t".repeat(50) }),
            ),
        )
        .await;
    assert_eq!(rec["Name"].as_str().unwrap().len(), 100);
    assert_eq!(rec["CityMunicipality"], "ä".repeat(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_refused_for_its_type_or_length_is_not_also_called_missing() {
    let t = start().await;
    let before = t.snapshot().await;
    // one problem each: the value was sent, so it is not "required"
    let cases = [
        (
            "jobitems",
            with(
                &file_item_body(1),
                json!({ "BaseFolder": format!("C:\\{}", "f".repeat(247)) }),
            ),
            "BaseFolder",
        ),
        (
            "jobitems",
            with(&file_item_body(1), json!({ "SearchPatterns": 42 })),
            "SearchPatterns",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "ServerName": "s".repeat(51) })),
            "ServerName",
        ),
        (
            "jobitems",
            with(
                &sql_item_body(1),
                json!({ "DatabaseName": "d".repeat(129) }),
            ),
            "DatabaseName",
        ),
        (
            "jobitems",
            with(&sql_item_body(1), json!({ "AuthenticationMode": 1 })),
            "AuthenticationMode",
        ),
        (
            "devices",
            with(
                &device_body(1, 1, "Typed address"),
                json!({ "SendNotificationOnJobFailed": true, "SendNotificationTo": 42 }),
            ),
            "SendNotificationTo",
        ),
    ];
    let mut doubled = Vec::new();
    for (coll, body, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), body).await;
        let errors = refused(&r, 422, &[attr]);
        if errors.len() != 1 {
            doubled.push(format!("POST /api/{coll} with one bad {attr}: {errors:?}"));
        }
    }
    t.unchanged(&before, "one bad value").await;
    assert!(
        doubled.is_empty(),
        "one problem, one sentence:\n{}",
        doubled.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_attributes_on_post_are_each_named() {
    let t = start().await;
    let before = t.snapshot().await;
    let cases: [(&str, &[&str]); 7] = [
        ("partnerusers", &["FirstName", "LastName", "Email"]),
        ("companies", &["PlanTypeId", "Name"]),
        (
            "companyusers",
            &["CompanyId", "FirstName", "LastName", "Email"],
        ),
        ("subscriptions", &["CompanyId", "PlanId"]),
        (
            "devices",
            &["CompanyId", "SubscriptionId", "Name", "TimeZoneId"],
        ),
        (
            "jobs",
            &[
                "DeviceId",
                "Name",
                "Frequency",
                "NextRunOn",
                "LateAfter",
                "Every",
                "CloudKeepLast",
                "LocalKeepLast",
            ],
        ),
        ("jobitems", &["JobId", "BackupTypeId"]),
    ];
    for (coll, attrs) in cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), &json!({})).await;
        invalid_exactly(&r, attrs);
    }
    // one missing attribute at a time, and null counts as missing
    let job = job_body(1, "Req");
    for attr in [
        "Frequency",
        "NextRunOn",
        "LateAfter",
        "Every",
        "CloudKeepLast",
        "LocalKeepLast",
    ] {
        let r = t.post(PARTNER1, "/api/jobs", &without(&job, attr)).await;
        invalid_exactly(&r, &[attr]);
        let r = t
            .post(PARTNER1, "/api/jobs", &with(&job, json!({ attr: null })))
            .await;
        invalid_exactly(&r, &[attr]);
    }
    t.unchanged(&before, "missing attributes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_attribute_set_to_null_on_put_is_refused() {
    let t = start().await;
    let before = t.snapshot().await;
    let cases = [
        ("/api/partnerusers/2", "FirstName"),
        ("/api/partnerusers/2", "Email"),
        ("/api/companies/1", "Name"),
        ("/api/companyusers/1", "LastName"),
        ("/api/devices/1", "TimeZoneId"),
        ("/api/devices/1", "Name"),
        ("/api/jobs/1", "Frequency"),
        ("/api/jobs/1", "NextRunOn"),
        ("/api/jobs/1", "Every"),
        ("/api/jobs/1", "LocalKeepLast"),
        ("/api/jobitems/1", "BackupTypeId"),
    ];
    for (path, attr) in cases {
        let r = t.put(PARTNER1, path, &json!({ attr: null })).await;
        invalid_exactly(&r, &[attr]);
    }
    t.unchanged(&before, "required set to null").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frequency_is_one_of_the_list_and_both_monthly_spellings_are_stored_as_sent() {
    let t = start().await;
    for f in ["Hourly", "Daily", "Weekly", "Monthy", "Monthly", "One Time"] {
        let rec = t
            .create(
                PARTNER1,
                "jobs",
                &with(&job_body(1, f), json!({ "Frequency": f })),
            )
            .await;
        assert_eq!(rec["Frequency"], f);
        assert_eq!(
            t.read(PARTNER1, &format!("/api/jobs/{}", id(&rec, "JobId")))
                .await["Frequency"],
            f
        );
    }
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "Frequency": "Monthy", "DayOfMonth": 31 }),
        )
        .await;
    assert_eq!(upd["Frequency"], "Monthy");
    let before = t.snapshot().await;
    for f in ["Yearly", "", "Every day"] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "F"), json!({ "Frequency": f })),
            )
            .await;
        invalid_exactly(&r, &["Frequency"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/jobs/1",
            &json!({ "Frequency": "Fortnightly" }),
        )
        .await;
    invalid_exactly(&r, &["Frequency"]);
    t.unchanged(&before, "bad Frequency").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_attributes_are_kept_within_their_ranges() {
    let t = start().await;
    let job = job_body(1, "Ranges");
    let item = sql_item_body(1);
    // the bounds themselves are accepted
    for (attr, v) in [
        ("LateAfter", 0),
        ("LateAfter", 1439),
        ("Every", 1),
        ("Every", 999),
        ("CloudKeepLast", 0),
        ("CloudKeepLast", 999),
        ("LocalKeepLast", 0),
        ("LocalKeepLast", 999),
        ("DayOfMonth", 1),
        ("DayOfMonth", 31),
    ] {
        let rec = t
            .create(PARTNER1, "jobs", &with(&job, json!({ attr: v })))
            .await;
        assert_eq!(rec[attr], v);
    }
    for v in [1, 65535] {
        let rec = t
            .create(PARTNER1, "jobitems", &with(&item, json!({ "Port": v })))
            .await;
        assert_eq!(rec["Port"], v);
    }
    let before = t.snapshot().await;
    for (attr, v) in [
        ("LateAfter", -1),
        ("LateAfter", 1440),
        ("Every", 0),
        ("Every", 1000),
        ("CloudKeepLast", -1),
        ("CloudKeepLast", 1000),
        ("LocalKeepLast", -1),
        ("LocalKeepLast", 1000),
        ("DayOfMonth", 0),
        ("DayOfMonth", 32),
    ] {
        let r = t
            .post(PARTNER1, "/api/jobs", &with(&job, json!({ attr: v })))
            .await;
        invalid_exactly(&r, &[attr]);
        let r = t.put(PARTNER1, "/api/jobs/1", &json!({ attr: v })).await;
        invalid_exactly(&r, &[attr]);
    }
    for v in [0, 65536, -1433] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobitems",
                &with(&item, json!({ "Port": v })),
            )
            .await;
        invalid_exactly(&r, &["Port"]);
    }
    let r = t
        .put(PARTNER1, "/api/jobitems/1", &json!({ "Port": 70000 }))
        .await;
    invalid_exactly(&r, &["Port"]);
    t.unchanged(&before, "out of range").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_zone_ids_must_be_windows_ids_from_the_list() {
    let t = start().await;
    for tz in ["W. Europe Standard Time", "Pacific Standard Time", "UTC"] {
        let rec = t
            .create(
                PARTNER1,
                "devices",
                &with(&device_body(1, 1, tz), json!({ "TimeZoneId": tz })),
            )
            .await;
        assert_eq!(rec["TimeZoneId"], tz);
        let _ = t
            .delete(PARTNER1, &format!("/api/devices/{}", id(&rec, "DeviceId")))
            .await;
    }
    let before = t.snapshot().await;
    for tz in [
        "Europe/Berlin",
        "eastern standard time",
        "EST",
        "Mars Standard Time",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(&device_body(1, 1, "TZ"), json!({ "TimeZoneId": tz })),
            )
            .await;
        invalid_exactly(&r, &["TimeZoneId"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/devices/1",
            &json!({ "TimeZoneId": "America/New_York" }),
        )
        .await;
    invalid_exactly(&r, &["TimeZoneId"]);
    t.unchanged(&before, "bad time zones").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_times_are_accepted_without_seconds_or_fraction_but_not_with_a_zone() {
    let t = start().await;
    for (sent, stored) in [
        ("2031-03-01T08:30", "2031-03-01T08:30:00.000"),
        ("2031-03-01T08:30:15", "2031-03-01T08:30:15.000"),
        ("2031-03-01T08:30:15.250", "2031-03-01T08:30:15.250"),
        ("2031-03-01T08:30:15.5", "2031-03-01T08:30:15.500"),
    ] {
        let rec = t
            .create(
                PARTNER1,
                "jobs",
                &with(
                    &job_body(1, sent),
                    json!({ "NextRunOn": sent, "ExpireOn": sent }),
                ),
            )
            .await;
        assert_eq!(rec["NextRunOn"], stored, "{sent}");
        assert_eq!(rec["ExpireOn"], stored, "{sent}");
    }
    let upd = t
        .update(
            PARTNER1,
            "jobs",
            1,
            &json!({ "NextRunOn": "2031-05-05T23:00" }),
        )
        .await;
    assert_eq!(upd["NextRunOn"], "2031-05-05T23:00:00.000");

    let before = t.snapshot().await;
    for zoned in [
        "2031-03-01T08:30:00Z",
        "2031-03-01T08:30:00.000Z",
        "2031-03-01T08:30:00+02:00",
        "2031-03-01T08:30:00.000-05:00",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "Z"), json!({ "NextRunOn": zoned })),
            )
            .await;
        let errors = invalid_exactly(&r, &["NextRunOn"]);
        assert!(
            errors[0].contains("local time"),
            "{zoned}: the error should explain a local time: {errors:?}"
        );
        let r = t
            .put(PARTNER1, "/api/jobs/1", &json!({ "ExpireOn": zoned }))
            .await;
        let errors = invalid_exactly(&r, &["ExpireOn"]);
        assert!(errors[0].contains("local time"), "{errors:?}");
    }
    for bad in [
        "tomorrow",
        "2031-02-30T08:30:00",
        "2031-03-01 08:30:00",
        "2031-03-01",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/jobs",
                &with(&job_body(1, "B"), json!({ "NextRunOn": bad })),
            )
            .await;
        invalid_exactly(&r, &["NextRunOn"]);
    }
    t.unchanged(&before, "zoned local times").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_attributes_must_look_like_addresses() {
    let t = start().await;
    let before = t.snapshot().await;
    for bad in [
        "not-an-email",
        "user@",
        "@example.com",
        "user example@example.com",
        "user@exa mple.com",
        "a@b.com;c@d.com",
    ] {
        let r = t
            .post(PARTNER1, "/api/partnerusers", &partner_user_body(bad))
            .await;
        invalid_exactly(&r, &["Email"]);
        let r = t
            .post(PARTNER1, "/api/companyusers", &company_user_body(1, bad))
            .await;
        invalid_exactly(&r, &["Email"]);
    }
    let r = t
        .put(
            PARTNER1,
            "/api/partnerusers/2",
            &json!({ "Email": "diane.walsh" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    t.unchanged(&before, "bad e-mail addresses").await;
    let rec = t
        .create(
            PARTNER1,
            "partnerusers",
            &partner_user_body("first.last+tag@sub.example.co.uk"),
        )
        .await;
    assert_eq!(rec["Email"], "first.last+tag@sub.example.co.uk");

    // two at signs: "user@" is not the local part of an address
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &partner_user_body("user@@example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &company_user_body(1, "user@@example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    t.unchanged(&before, "two at signs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_lists_accept_each_separator_and_refuse_a_bad_item() {
    let t = start().await;
    let lists = [
        "a@abccompany.example.com",
        "a@abccompany.example.com,b@abccompany.example.com",
        "a@abccompany.example.com;b@abccompany.example.com",
        "a@abccompany.example.com:b@abccompany.example.com",
        "a@abccompany.example.com\r\nb@abccompany.example.com",
        "a@abccompany.example.com; b@abccompany.example.com, c@abccompany.example.com",
    ];
    for (i, list) in lists.iter().enumerate() {
        let dev = t
            .create(
                PARTNER1,
                "devices",
                &with(
                    &device_body(1, 1, &format!("List-{i}")),
                    json!({ "SendNotificationTo": list, "SendNotificationCc": list,
                            "SendNotificationBcc": list, "SendNotificationOnJobCompleted": true }),
                ),
            )
            .await;
        assert_eq!(dev["SendNotificationTo"], *list);
        assert_eq!(dev["SendNotificationCc"], *list);
        assert_eq!(dev["SendNotificationBcc"], *list);
        let _ = t
            .delete(PARTNER1, &format!("/api/devices/{}", id(&dev, "DeviceId")))
            .await;
        let sub = t
            .update(
                PARTNER1,
                "subscriptions",
                1,
                &json!({ "SendNotificationTo": list, "SendNotificationCc": list,
                         "SendNotificationBcc": list }),
            )
            .await;
        assert_eq!(sub["SendNotificationTo"], *list);
        assert_eq!(sub["SendNotificationBcc"], *list);
    }
    let before = t.snapshot().await;
    for bad in [
        "a@abccompany.example.com;nope",
        "nope",
        "a@abccompany.example.com, b@",
        "a@abccompany.example.com\r\nnot an address",
    ] {
        for attr in [
            "SendNotificationTo",
            "SendNotificationCc",
            "SendNotificationBcc",
        ] {
            let r = t
                .post(
                    PARTNER1,
                    "/api/devices",
                    &with(&device_body(1, 1, "Bad list"), json!({ attr: bad })),
                )
                .await;
            invalid_exactly(&r, &[attr]);
            let r = t
                .put(PARTNER1, "/api/subscriptions/1", &json!({ attr: bad }))
                .await;
            invalid_exactly(&r, &[attr]);
            let r = t
                .post(
                    PARTNER1,
                    "/api/subscriptions",
                    &with(&subscription_body(1, 2), json!({ attr: bad })),
                )
                .await;
            invalid_exactly(&r, &[attr]);
        }
    }
    t.unchanged(&before, "bad address lists").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let t = start().await;
    let job = t
        .create(
            PARTNER1,
            "jobs",
            &with(
                &job_body(1, "Whole"),
                json!({ "Every": 2.0, "LateAfter": 0.0 }),
            ),
        )
        .await;
    assert_eq!(job["Every"], 2);
    assert_eq!(job["LateAfter"], 0);
    let r = t
        .request(
            Some(PARTNER1),
            Method::PUT,
            &format!("/api/jobs/{}", id(&job, "JobId")),
            Some("application/json"),
            Some(r#"{"Every": 3e0}"#.into()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.data()["Every"], 3);
    // a fraction stays refused
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobs/{}", id(&job, "JobId")),
            &json!({ "Every": 2.5 }),
        )
        .await;
    invalid_exactly(&r, &["Every"]);
}
