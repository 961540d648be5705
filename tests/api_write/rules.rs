//! Rules across attributes and records: notifications, job item engines,
//! credentials, the partner's scope, inactive references, uniqueness and
//! the device limit.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_notification_to_is_required_while_a_notification_flag_is_true() {
    let t = start().await;
    let before = t.snapshot().await;
    for flag in [
        "SendNotificationOnJobCompleted",
        "SendNotificationOnJobFailed",
        "SendNotificationOnJobMissed",
    ] {
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(&device_body(1, 1, "Notify"), json!({ flag: true })),
            )
            .await;
        invalid_exactly(&r, &["SendNotificationTo"]);
        let r = t
            .post(
                PARTNER1,
                "/api/devices",
                &with(
                    &device_body(1, 1, "Notify"),
                    json!({ flag: true, "SendNotificationTo": null, "SendNotificationCc": "cc@abccompany.example.com" }),
                ),
            )
            .await;
        invalid_exactly(&r, &["SendNotificationTo"]);
    }
    // device 1 has SendNotificationOnJobFailed on: its address cannot be removed
    let r = t
        .put(
            PARTNER1,
            "/api/devices/1",
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    // a subscription's storage-limit flag needs one too
    let r = t
        .post(
            PARTNER1,
            "/api/subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "SendNotificationOnStorageLimit": true }),
            ),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    // subscription 1 has the storage flag on and an address
    let r = t
        .put(
            PARTNER1,
            "/api/subscriptions/1",
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    t.unchanged(&before, "missing SendNotificationTo").await;

    // with an address, or with the flag off, it is served
    let dev = t
        .create(
            PARTNER1,
            "devices",
            &with(
                &device_body(1, 1, "Notify"),
                json!({ "SendNotificationOnJobMissed": true,
                        "SendNotificationTo": "ops@abccompany.example.com" }),
            ),
        )
        .await;
    let dev_id = id(&dev, "DeviceId");
    let r = t
        .put(
            PARTNER1,
            &format!("/api/devices/{dev_id}"),
            &json!({ "SendNotificationTo": null }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    let upd = t
        .update(
            PARTNER1,
            "devices",
            dev_id,
            &json!({ "SendNotificationOnJobMissed": false, "SendNotificationTo": null }),
        )
        .await;
    assert_eq!(upd["SendNotificationTo"], Value::Null);
    let r = t
        .put(
            PARTNER1,
            &format!("/api/devices/{dev_id}"),
            &json!({ "SendNotificationOnJobCompleted": true }),
        )
        .await;
    invalid_exactly(&r, &["SendNotificationTo"]);
    let sub = t
        .create(
            PARTNER1,
            "subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "SendNotificationOnStorageLimit": true,
                        "SendNotificationTo": "billing@abccompany.example.com" }),
            ),
        )
        .await;
    assert_eq!(sub["SendNotificationOnStorageLimit"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_items_follow_the_rules_of_their_engine_type() {
    let t = start().await;
    let before = t.snapshot().await;
    // File needs BaseFolder and SearchPatterns
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &json!({ "JobId": 1, "BackupTypeId": 1, "Name": "No folder" }),
        )
        .await;
    invalid_exactly(&r, &["BaseFolder", "SearchPatterns"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &without(&file_item_body(1), "SearchPatterns"),
        )
        .await;
    invalid_exactly(&r, &["SearchPatterns"]);
    // SQL Server needs ServerName, DatabaseName and AuthenticationMode
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &json!({ "JobId": 1, "BackupTypeId": 2, "Name": "No server" }),
        )
        .await;
    invalid_exactly(&r, &["ServerName", "DatabaseName", "AuthenticationMode"]);
    // mode S needs Username and Password
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&sql_item_body(1), json!({ "AuthenticationMode": "S" })),
        )
        .await;
    invalid_exactly(&r, &["Username", "Password"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(
                &sql_item_body(1),
                json!({ "AuthenticationMode": "S", "Username": "sa" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["Password"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&sql_item_body(1), json!({ "AuthenticationMode": "X" })),
        )
        .await;
    invalid_exactly(&r, &["AuthenticationMode"]);
    // the merged record must satisfy the rules: job item 3 is a File item
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BackupTypeId": 2 }))
        .await;
    invalid_exactly(&r, &["ServerName", "DatabaseName", "AuthenticationMode"]);
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BaseFolder": null }))
        .await;
    invalid_exactly(&r, &["BaseFolder"]);
    // job item 1 is SQL Server with mode W
    let r = t
        .put(
            PARTNER1,
            "/api/jobitems/1",
            &json!({ "AuthenticationMode": "S" }),
        )
        .await;
    invalid_exactly(&r, &["Username", "Password"]);
    t.unchanged(&before, "job item rules").await;

    let file = t.create(PARTNER1, "jobitems", &file_item_body(1)).await;
    assert_eq!(file["BackupTypeId"], 1);
    assert_eq!(file["BackupType"]["BackupTypeId"], 1);
    let sql = t.create(PARTNER1, "jobitems", &sql_item_body(1)).await;
    assert_eq!(sql["AuthenticationMode"], "W");
    let upd = t
        .update(
            PARTNER1,
            "jobitems",
            1,
            &json!({ "AuthenticationMode": "S", "Username": "backup", "Password": "pw-1" }),
        )
        .await;
    assert_eq!(upd["AuthenticationMode"], "S");
    // a File item turned SQL Server with what SQL needs
    let upd = t
        .update(
            PARTNER1,
            "jobitems",
            3,
            &json!({ "BackupTypeId": 2, "ServerName": "SQL01", "DatabaseName": "Db",
                     "AuthenticationMode": "W" }),
        )
        .await;
    assert_eq!(upd["BackupType"]["BackupTypeId"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_and_passwords_are_accepted_but_always_rendered_null() {
    let t = start().await;
    let secret = "Sup3r-S3cret-Pa55";
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(
                &sql_item_body(1),
                json!({ "AuthenticationMode": "S", "Username": "backup_operator", "Password": secret }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["Username"], Value::Null);
    assert_eq!(r.data()["Password"], Value::Null);
    assert!(!r.text.contains(secret) && !r.text.contains("backup_operator"));
    let item = id(r.data(), "JobItemId");
    let read = t.get(PARTNER1, &format!("/api/jobitems/{item}")).await;
    assert_eq!(read.data()["Username"], Value::Null);
    assert_eq!(read.data()["Password"], Value::Null);
    assert!(!read.text.contains(secret));
    let list = t.get(PARTNER1, "/api/jobitems?PageSize=500").await;
    assert!(!list.text.contains(secret) && !list.text.contains("backup_operator"));
    let job = t.get(PARTNER1, "/api/jobs/1").await;
    assert!(!job.text.contains(secret));
    // they are stored: a PUT naming neither still satisfies mode S
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Name": "Renamed" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["Username"], Value::Null);
    assert_eq!(r.data()["Password"], Value::Null);
    // a refusal does not echo them either
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Password": "y".repeat(251), "Port": 0 }),
        )
        .await;
    invalid_exactly(&r, &["Password", "Port"]);
    assert!(!r.text.contains(&"y".repeat(40)), "{}", r.text);
    // and clearing one breaks mode S
    let r = t
        .put(
            PARTNER1,
            &format!("/api/jobitems/{item}"),
            &json!({ "Password": null }),
        )
        .await;
    invalid_exactly(&r, &["Password"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_id_defaults_to_the_callers_partner_and_another_partner_does_not_exist() {
    let t = start().await;
    let absent = t
        .create(PARTNER1, "companies", &company_body("No PartnerId"))
        .await;
    assert_eq!(absent["PartnerId"], 1);
    assert_eq!(absent["Partner"]["PartnerId"], 1);
    // the vendor's own example posts "PartnerId": null
    let example = vendor_example("duplicate-prevention-create-request.json");
    assert_eq!(example["PartnerId"], Value::Null);
    let rec = t.create(PARTNER1, "companies", &example).await;
    assert_eq!(rec["PartnerId"], 1);
    assert_eq!(rec["Name"], example["Name"]);
    assert_eq!(rec["Token"], example["Token"]);
    let explicit = t
        .create(
            PARTNER1,
            "companies",
            &with(&company_body("Explicit"), json!({ "PartnerId": 1 })),
        )
        .await;
    assert_eq!(explicit["PartnerId"], 1);
    let p2 = t
        .create(
            PARTNER2,
            "companies",
            &with(&company_body("Partner two's"), json!({ "PartnerId": null })),
        )
        .await;
    assert_eq!(p2["PartnerId"], 2);
    let user = t
        .create(
            PARTNER1,
            "partnerusers",
            &with(
                &partner_user_body("pid.null@forwardthinking.example.com"),
                json!({ "PartnerId": null }),
            ),
        )
        .await;
    assert_eq!(user["PartnerId"], 1);
    let user = t
        .create(
            PARTNER2,
            "partnerusers",
            &partner_user_body("pid.absent@kv.example.com"),
        )
        .await;
    assert_eq!(user["PartnerId"], 2);

    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Elsewhere"), json!({ "PartnerId": 2 })),
        )
        .await;
    let other = invalid_exactly(&r, &["PartnerId"]);
    assert!(other[0].contains("does not exist"), "{other:?}");
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Elsewhere"), json!({ "PartnerId": 9999 })),
        )
        .await;
    let nowhere = invalid_exactly(&r, &["PartnerId"]);
    assert_eq!(shape(&other[0]), shape(&nowhere[0]));
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("x@forwardthinking.example.com"),
                json!({ "PartnerId": 2 }),
            ),
        )
        .await;
    let errors = invalid_exactly(&r, &["PartnerId"]);
    assert!(errors[0].contains("does not exist"), "{errors:?}");
    t.unchanged(&before, "another partner's PartnerId").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_outside_the_partners_scope_do_not_exist() {
    let t = start().await;
    let before = t.snapshot().await;
    // (collection, body naming partner 2's parent, body naming a parent that exists nowhere, attr)
    let cases = [
        (
            "companyusers",
            company_user_body(4, "x@kv.example.com"),
            company_user_body(9999, "x@kv.example.com"),
            "CompanyId",
        ),
        (
            "subscriptions",
            subscription_body(4, 2),
            subscription_body(9999, 2),
            "CompanyId",
        ),
        ("jobs", job_body(8, "J"), job_body(9999, "J"), "DeviceId"),
        (
            "jobitems",
            file_item_body(10),
            file_item_body(9999),
            "JobId",
        ),
    ];
    for (coll, theirs, nowhere, attr) in &cases {
        let r = t.post(PARTNER1, &format!("/api/{coll}"), theirs).await;
        let a = invalid_exactly(&r, &[attr]);
        assert!(a[0].contains("does not exist"), "{coll}: {a:?}");
        let r = t.post(PARTNER1, &format!("/api/{coll}"), nowhere).await;
        let b = invalid_exactly(&r, &[attr]);
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
    }
    // a device naming partner 2's company and subscription
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(4, 4, "D"))
        .await;
    let errors = refused(&r, 422, &["CompanyId", "SubscriptionId"]);
    assert!(
        errors.iter().all(|e| e.contains("does not exist")),
        "{errors:?}"
    );
    // a device naming its own company and partner 2's subscription
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(1, 4, "D"))
        .await;
    let errors = invalid_exactly(&r, &["SubscriptionId"]);
    assert!(errors[0].contains("does not exist"), "{errors:?}");
    // another partner's records cannot be updated or deleted: 404, as for none at all
    for (coll, theirs) in [
        ("partnerusers", 3),
        ("companies", 4),
        ("companyusers", 5),
        ("subscriptions", 4),
        ("devices", 8),
        ("jobs", 10),
        ("jobitems", 13),
    ] {
        let a = refused(
            &t.put(
                PARTNER1,
                &format!("/api/{coll}/{theirs}"),
                &json!({ "Name": "Mine" }),
            )
            .await,
            404,
            &[],
        );
        let b = refused(
            &t.put(
                PARTNER1,
                &format!("/api/{coll}/99999"),
                &json!({ "Name": "Mine" }),
            )
            .await,
            404,
            &[],
        );
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
        let a = refused(
            &t.delete(PARTNER1, &format!("/api/{coll}/{theirs}")).await,
            404,
            &[],
        );
        let b = refused(
            &t.delete(PARTNER1, &format!("/api/{coll}/99999")).await,
            404,
            &[],
        );
        assert_eq!(shape(&a[0]), shape(&b[0]), "{coll}");
    }
    t.unchanged(&before, "out-of-scope parents").await;
}

/// The default fixtures with an inactive plan type (2), an inactive backup
/// type (3) and subscription 3 inactive.
fn fixtures_with_inactive_references() -> tempfile::TempDir {
    let mut plantypes = default_fixture("plantypes");
    plantypes
        .as_array_mut()
        .unwrap()
        .push(json!({ "PlanTypeId": 2, "Name": "Retired Plan Type", "IsInactive": true }));
    let mut backuptypes = default_fixture("backuptypes");
    backuptypes.as_array_mut().unwrap().push(json!({
        "BackupTypeId": 3, "EngineId": "LEGACY", "Name": "Legacy Files",
        "EngineType": "File", "Port": null, "IsInactive": true
    }));
    let mut subs = default_fixture("subscriptions");
    for s in subs.as_array_mut().unwrap() {
        if s["SubscriptionId"] == 3 {
            s["IsInactive"] = json!(true);
        }
    }
    fixtures_with(&[
        ("plantypes", &plantypes.to_string()),
        ("backuptypes", &backuptypes.to_string()),
        ("subscriptions", &subs.to_string()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_plan_types_plans_backup_types_and_subscriptions_are_refused() {
    let dir = fixtures_with_inactive_references();
    let t = start_with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let before = t.snapshot().await;
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 2, "Name": "Retired" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 5))
        .await;
    invalid_exactly(&r, &["PlanId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&file_item_body(1), json!({ "BackupTypeId": 3 })),
        )
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    let r = t
        .put(PARTNER1, "/api/jobitems/3", &json!({ "BackupTypeId": 3 }))
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &device_body(3, 3, "On an inactive subscription"),
        )
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    // ids that exist nowhere
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({ "PlanTypeId": 99, "Name": "Nowhere" }),
        )
        .await;
    invalid_exactly(&r, &["PlanTypeId"]);
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 99))
        .await;
    invalid_exactly(&r, &["PlanId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/jobitems",
            &with(&file_item_body(1), json!({ "BackupTypeId": 99 })),
        )
        .await;
    invalid_exactly(&r, &["BackupTypeId"]);
    t.unchanged(&before, "inactive references").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_5_is_inactive_in_the_default_fixtures() {
    let t = start().await;
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/subscriptions", &subscription_body(1, 5))
        .await;
    let errors = invalid_exactly(&r, &["PlanId"]);
    assert!(errors[0].contains("inactive"), "{errors:?}");
    t.unchanged(&before, "inactive plan").await;
    let sub = t
        .create(PARTNER1, "subscriptions", &subscription_body(1, 4))
        .await;
    assert_eq!(sub["Plan"]["PlanId"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devices_subscription_must_belong_to_its_company() {
    let t = start().await;
    let before = t.snapshot().await;
    // subscription 2 belongs to company 2, of the same partner
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(1, 2, "Crossed"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 1, "Crossed"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "subscription of another company")
        .await;
    let dev = t
        .create(PARTNER1, "devices", &device_body(2, 2, "Matched"))
        .await;
    assert_eq!(dev["Subscription"]["SubscriptionId"], 2);
    assert_eq!(dev["Company"]["CompanyId"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mails_and_external_ids_are_unique_within_their_scope() {
    let t = start().await;
    let before = t.snapshot().await;
    // partner users: Email unique within the partner, ignoring case
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &partner_user_body("SUPPORT@CleverFoxBackup.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partnerusers/2",
            &json!({ "Email": "Support@cleverfoxbackup.com" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    // company users: Email unique within the company, ignoring case
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &company_user_body(1, "ALICE.BRENNAN@abccompany.example.com"),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companyusers/10",
            &json!({ "Email": "Alice.Brennan@ABCcompany.example.com" }),
        )
        .await;
    invalid_exactly(&r, &["Email"]);
    // ExternalId of companies, subscriptions and devices: unique within the partner
    let r = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Dup"), json!({ "ExternalId": "FTS-1042" })),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .put(
            PARTNER1,
            "/api/companies/1",
            &json!({ "ExternalId": "FTS-1077" }),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .post(
            PARTNER2,
            "/api/subscriptions",
            &with(
                &subscription_body(6, 2),
                json!({ "ExternalId": "VTR-2019-004" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(1, 1, "Dup"),
                json!({ "ExternalId": "GLDG-A0001" }),
            ),
        )
        .await;
    invalid_exactly(&r, &["ExternalId"]);
    t.unchanged(&before, "uniqueness").await;

    // the same values are free in another scope
    let u = t
        .create(
            PARTNER2,
            "partnerusers",
            &partner_user_body("support@cleverfoxbackup.com"),
        )
        .await;
    assert_eq!(u["PartnerId"], 2);
    let cu = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(2, "alice.brennan@abccompany.example.com"),
        )
        .await;
    assert_eq!(cu["CompanyId"], 2);
    let c = t
        .create(
            PARTNER2,
            "companies",
            &with(
                &company_body("Same external id"),
                json!({ "ExternalId": "FTS-1042" }),
            ),
        )
        .await;
    assert_eq!(c["ExternalId"], "FTS-1042");
    let s = t
        .create(
            PARTNER1,
            "subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "ExternalId": "VTR-2019-004" }),
            ),
        )
        .await;
    assert_eq!(s["ExternalId"], "VTR-2019-004");
    let d = t
        .create(
            PARTNER2,
            "devices",
            &with(
                &device_body(4, 4, "Same external id"),
                json!({ "ExternalId": "GLDG-A0001" }),
            ),
        )
        .await;
    assert_eq!(d["ExternalId"], "GLDG-A0001");
    // a record does not clash with itself, and null ExternalIds never clash
    let own = t
        .update(
            PARTNER1,
            "partnerusers",
            2,
            &json!({ "Email": "DIANE.WALSH@forwardthinking.example.com" }),
        )
        .await;
    assert_eq!(own["Email"], "DIANE.WALSH@forwardthinking.example.com");
    let own = t
        .update(
            PARTNER1,
            "companies",
            2,
            &json!({ "ExternalId": "FTS-1042" }),
        )
        .await;
    assert_eq!(own["ExternalId"], "FTS-1042");
    for name in ["Null A", "Null B"] {
        let c = t
            .create(
                PARTNER1,
                "companies",
                &with(&company_body(name), json!({ "ExternalId": null })),
            )
            .await;
        assert_eq!(c["ExternalId"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_limit_holds_on_create_and_on_reactivation() {
    let t = start().await;
    // subscription 8 (company 2, plan 1: DeviceLimit 1) has device 17 active
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 8, "One too many"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t
        .post(
            PARTNER1,
            "/api/devices",
            &with(
                &device_body(2, 8, "Null is active"),
                json!({ "IsInactive": null }),
            ),
        )
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device limit on create").await;

    // an inactive device does not count
    let spare = t
        .create(
            PARTNER1,
            "devices",
            &with(&device_body(2, 8, "Spare"), json!({ "IsInactive": true })),
        )
        .await;
    let spare_id = id(&spare, "DeviceId");
    let before = t.snapshot().await;
    let path = format!("/api/devices/{spare_id}");
    let r = t
        .put(PARTNER1, &path, &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    let r = t.put(PARTNER1, &path, &json!({ "IsInactive": null })).await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device limit on re-activation").await;

    // swap: retire device 17, then the spare fits; then device 17 does not
    t.update(PARTNER1, "devices", 17, &json!({ "IsInactive": true }))
        .await;
    let on = t
        .update(
            PARTNER1,
            "devices",
            spare_id,
            &json!({ "IsInactive": false }),
        )
        .await;
    assert_eq!(on["IsInactive"], false);
    let before = t.snapshot().await;
    let r = t
        .put(PARTNER1, "/api/devices/17", &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "device 17 re-activation").await;
    // editing an active device on a full subscription is not a re-activation
    let renamed = t
        .update(PARTNER1, "devices", spare_id, &json!({ "Name": "Primary" }))
        .await;
    assert_eq!(renamed["Name"], "Primary");

    // subscription 2: plan 2 (DeviceLimit 5) plus AdditionalDevice 1, devices 4 and 5 active
    for i in 0..4 {
        t.create(
            PARTNER1,
            "devices",
            &device_body(2, 2, &format!("GLDG-N{i}")),
        )
        .await;
    }
    let before = t.snapshot().await;
    let r = t
        .post(PARTNER1, "/api/devices", &device_body(2, 2, "Seventh"))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    // device 6 is inactive on subscription 2
    let r = t
        .put(PARTNER1, "/api/devices/6", &json!({ "IsInactive": false }))
        .await;
    invalid_exactly(&r, &["SubscriptionId"]);
    t.unchanged(&before, "plan limit plus AdditionalDevice")
        .await;
    // device 7 is inactive on subscription 3 (plan 1), which has no active device
    let back = t
        .update(PARTNER1, "devices", 7, &json!({ "IsInactive": false }))
        .await;
    assert_eq!(back["IsInactive"], false);
}

/// API.md asks for case-insensitive uniqueness of e-mail addresses only:
/// an ExternalId differing from another only in case is a different one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_ids_differing_only_in_case_are_distinct() {
    let t = start().await;
    let exact = t
        .post(
            PARTNER1,
            "/api/companies",
            &with(&company_body("Exact"), json!({ "ExternalId": "FTS-1042" })),
        )
        .await;
    invalid_exactly(&exact, &["ExternalId"]);
    let created = t
        .create(
            PARTNER1,
            "companies",
            &with(
                &company_body("Other case"),
                json!({ "ExternalId": "fts-1042" }),
            ),
        )
        .await;
    assert_eq!(created["ExternalId"], "fts-1042");
}
