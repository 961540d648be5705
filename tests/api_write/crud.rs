//! Create, read, update and delete of every writable collection, and the
//! values the sandbox generates (API.md sections 3 and 4).

use super::*;

// ------------------------------------------------------------------ create, read, update, delete

/// One round of create, read, update and delete, checking every promise of
/// API.md sections 3 and 4 along the way.
struct Crud<'a> {
    coll: &'a str,
    key: &'a str,
    body: Value,
    update: Value,
    /// The owners the record's events name.
    owners: Vec<(&'a str, i64)>,
    /// Added, Modified, Deleted.
    events: [(i64, &'a str); 3],
}

const WRITE_ONLY: [&str; 2] = ["Username", "Password"];

async fn crud(t: &Client, c: Crud<'_>) -> i64 {
    let coll = c.coll;
    let p2_events = t.events(PARTNER2).await;
    let max_loaded = max_fixture_id(coll, c.key);

    // create
    let events0 = t.events(PARTNER1).await;
    let token = format!("create-{coll}-7b1c");
    let body = with(&c.body, json!({ "Token": token }));
    let t0 = t.now().await;
    let r = t.post(PARTNER1, &format!("/api/{coll}"), &body).await;
    let t1 = t.now().await;
    assert_eq!(r.status, 201, "POST /api/{coll}: {}", r.text);
    let rec = r.data().clone();
    let new_id = id(&rec, c.key);
    assert!(
        new_id > max_loaded,
        "{coll}: id {new_id} not above {max_loaded}"
    );
    let location = r.header("location").expect("Location header");
    assert!(
        location.ends_with(&format!("/api/{coll}/{new_id}")),
        "Location {location}"
    );
    for (k, v) in body.as_object().unwrap() {
        if WRITE_ONLY.contains(&k.as_str()) {
            assert_eq!(rec[k], Value::Null, "{coll}.{k} is write-only");
        } else {
            assert_eq!(rec[k], *v, "{coll}.{k} as stored");
        }
    }
    let added = rec["AddedOn"].as_str().expect("AddedOn").to_string();
    assert!(
        t0 <= added && added <= t1,
        "AddedOn {added} not in [{t0}, {t1}]"
    );
    assert_eq!(rec["UpdatedOn"], Value::Null, "UpdatedOn before any update");
    assert_eq!(rec["Token"], token.as_str(), "Token stored");

    // read it back, through the path and through the Location
    assert_eq!(
        t.read(PARTNER1, &format!("/api/{coll}/{new_id}")).await,
        rec
    );
    let via_location = if location.starts_with("https://") {
        let r = bounded(t.c.get(&location).basic_auth(PARTNER1, Some("x")).send())
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {location}");
        let v: Value = bounded(r.json()).await.unwrap();
        v["data"].clone()
    } else {
        t.read(PARTNER1, &location).await
    };
    assert_eq!(via_location, rec);
    let listed = t.list_one_page(PARTNER1, coll).await;
    assert_eq!(listed[0], rec, "the newest record comes first");

    let events1 = t.events(PARTNER1).await;
    let new = new_events(&events0, &events1);
    assert_eq!(new.len(), 1, "one event per create: {new:?}");
    let mut names = c.owners.clone();
    names.push((c.key, new_id));
    assert_event(&new[0], c.events[0].0, c.events[0].1, &names, &t0, &t1);

    // update: a merge
    let utoken = format!("update-{coll}-7b1c");
    let update = with(&c.update, json!({ "Token": utoken }));
    let t2 = t.now().await;
    let r = t
        .put(PARTNER1, &format!("/api/{coll}/{new_id}"), &update)
        .await;
    let t3 = t.now().await;
    assert_eq!(r.status, 200, "PUT /api/{coll}/{new_id}: {}", r.text);
    let upd = r.data().clone();
    for (k, v) in update.as_object().unwrap() {
        if WRITE_ONLY.contains(&k.as_str()) {
            assert_eq!(upd[k], Value::Null, "{coll}.{k} is write-only");
        } else {
            assert_eq!(upd[k], *v, "{coll}.{k} after PUT");
        }
    }
    for (k, v) in rec.as_object().unwrap() {
        if k != "UpdatedOn" && !update.as_object().unwrap().contains_key(k) {
            assert_eq!(upd[k], *v, "PUT changed {coll}.{k}, which it did not name");
        }
    }
    let updated = upd["UpdatedOn"]
        .as_str()
        .expect("UpdatedOn set")
        .to_string();
    assert!(
        t2 <= updated && updated <= t3,
        "UpdatedOn {updated} not in [{t2}, {t3}]"
    );
    assert_eq!(upd["AddedOn"], added.as_str());
    assert_eq!(
        t.read(PARTNER1, &format!("/api/{coll}/{new_id}")).await,
        upd
    );
    let events2 = t.events(PARTNER1).await;
    let new = new_events(&events1, &events2);
    assert_eq!(new.len(), 1, "one event per update: {new:?}");
    assert_event(&new[0], c.events[1].0, c.events[1].1, &names, &t2, &t3);

    // delete: 200 with the record as it was, then 404
    let t4 = t.now().await;
    let r = t.delete(PARTNER1, &format!("/api/{coll}/{new_id}")).await;
    let t5 = t.now().await;
    assert_eq!(r.status, 200, "DELETE /api/{coll}/{new_id}: {}", r.text);
    assert_eq!(*r.data(), upd, "DELETE answers the record as it was");
    let path = format!("/api/{coll}/{new_id}");
    refused(&t.get(PARTNER1, &path).await, 404, &[]);
    refused(&t.delete(PARTNER1, &path).await, 404, &[]);
    refused(&t.put(PARTNER1, &path, &c.update).await, 404, &[]);
    assert!(
        t.list_one_page(PARTNER1, coll)
            .await
            .iter()
            .all(|r| r[c.key] != new_id),
        "deleted record still listed"
    );
    let events3 = t.events(PARTNER1).await;
    let new = new_events(&events2, &events3);
    assert_eq!(new.len(), 1, "one event per delete: {new:?}");
    assert_event(&new[0], c.events[2].0, c.events[2].1, &names, &t4, &t5);

    // the other partner saw none of it
    assert_eq!(t.events(PARTNER2).await, p2_events);
    new_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_users_are_created_read_updated_and_deleted() {
    let t = start().await;
    let body = partner_user_body("nora.quist@forwardthinking.example.com");
    let id = crud(
        &t,
        Crud {
            coll: "partnerusers",
            key: "PartnerUserId",
            body: body.clone(),
            update: json!({ "MobilePhone": "+1 555-0199", "IsInactive": true }),
            owners: vec![("PartnerId", 1)],
            events: [
                (11, "Partner User Added"),
                (12, "Partner User Modified"),
                (13, "Partner User Deleted"),
            ],
        },
    )
    .await;
    assert!(id > 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_are_created_read_updated_and_deleted() {
    let t = start().await;
    let body = json!({
        "PlanTypeId": 1,
        "Name": "Lakeshore Veterinary Clinic",
        "AddressLine1": "12 Shore Dr",
        "CityMunicipality": "Holland",
        "StateProvidence": "MI",
        "PostalCode": "49423",
        "Country": "US",
        "ExternalId": "FTS-2001",
        "IsInactive": false
    });
    crud(
        &t,
        Crud {
            coll: "companies",
            key: "CompanyId",
            body,
            update: json!({ "Phone": "+1 616-555-0100", "AddressLine2": "Unit 4" }),
            owners: vec![("PartnerId", 1)],
            events: [
                (21, "Company Added"),
                (22, "Company Modified"),
                (23, "Company Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_users_are_created_read_updated_and_deleted() {
    let t = start().await;
    crud(
        &t,
        Crud {
            coll: "companyusers",
            key: "CompanyUserId",
            body: company_user_body(1, "ann.lee@abccompany.example.com"),
            update: json!({ "LastName": "Lee-Park", "WorkPhone": "+1 555-555-0111" }),
            owners: vec![("CompanyId", 1)],
            events: [
                (61, "Company User Added"),
                (62, "Company User Modified"),
                (63, "Company User Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_created_read_updated_and_deleted() {
    let t = start().await;
    let body = with(
        &subscription_body(1, 2),
        json!({ "ApplicationId": "APP-77", "ExternalId": "SUB-77" }),
    );
    crud(
        &t,
        Crud {
            coll: "subscriptions",
            key: "SubscriptionId",
            body,
            update: json!({
                "SendNotificationTo": "it@abccompany.example.com",
                "SendNotificationOnStorageLimit": true
            }),
            owners: vec![("CompanyId", 1)],
            events: [
                (71, "Subscription Added"),
                (72, "Subscription Modified"),
                (73, "Subscription Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_created_read_updated_and_deleted() {
    let t = start().await;
    let body = with(
        &device_body(1, 1, "ABC-WS09"),
        json!({ "ExternalId": "ABC-A0009", "SendNotificationTo": "it@abccompany.example.com",
                "SendNotificationOnJobFailed": true }),
    );
    crud(
        &t,
        Crud {
            coll: "devices",
            key: "DeviceId",
            body,
            update: json!({ "Name": "ABC-WS10", "TimeZoneId": "Central Standard Time" }),
            owners: vec![("CompanyId", 1)],
            events: [
                (31, "Device Added"),
                (32, "Device Modified"),
                (33, "Device Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_created_read_updated_and_deleted() {
    let t = start().await;
    crud(
        &t,
        Crud {
            coll: "jobs",
            key: "JobId",
            body: job_body(1, "Weekly archive"),
            update: json!({
                "Frequency": "Weekly",
                "OnSaturday": true,
                "NextRunOn": "2031-01-04T03:00:00.000"
            }),
            owners: vec![("DeviceId", 1), ("CompanyId", 1)],
            events: [(41, "Job Added"), (42, "Job Modified"), (43, "Job Deleted")],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_items_are_created_read_updated_and_deleted() {
    let t = start().await;
    crud(
        &t,
        Crud {
            coll: "jobitems",
            key: "JobItemId",
            body: sql_item_body(1),
            update: json!({ "Port": 1433, "OptionCopyOnly": true }),
            owners: vec![("JobId", 1), ("DeviceId", 1), ("CompanyId", 1)],
            events: [
                (51, "Job Item Added"),
                (52, "Job Item Modified"),
                (53, "Job Item Deleted"),
            ],
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_updates_its_own_partner_record_only() {
    let t = start().await;
    let before_rec = t.read(PARTNER1, "/api/partners/1").await;
    assert_eq!(before_rec["UpdatedOn"], Value::Null);
    let p2 = t.events(PARTNER2).await;
    let e0 = t.events(PARTNER1).await;
    let t0 = t.now().await;
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "ApplicationId": "FTS-INT-2", "Token": "partner-put-1" }),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = r.data().clone();
    assert_eq!(rec["ApplicationId"], "FTS-INT-2");
    assert_eq!(rec["Name"], before_rec["Name"], "merge keeps Name");
    assert_eq!(rec["PlanTypeId"], before_rec["PlanTypeId"]);
    assert_eq!(rec["AddedOn"], before_rec["AddedOn"]);
    assert_eq!(rec["Token"], "partner-put-1");
    let upd = rec["UpdatedOn"].as_str().unwrap();
    assert!(t0.as_str() <= upd && upd <= t1.as_str());
    assert_eq!(t.read(PARTNER1, "/api/partners/1").await, rec);
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 1);
    assert_event(
        &new[0],
        2,
        "Partner Modified",
        &[("PartnerId", 1)],
        &t0,
        &t1,
    );
    assert_eq!(t.events(PARTNER2).await, p2, "partner 2 does not see it");

    // Name is required: null is refused; too long is refused
    let before = t.snapshot().await;
    let r = t
        .put(PARTNER1, "/api/partners/1", &json!({ "Name": null }))
        .await;
    invalid_exactly(&r, &["Name"]);
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "Name": "x".repeat(101) }),
        )
        .await;
    invalid_exactly(&r, &["Name"]);
    t.unchanged(&before, "refused partner PUTs").await;
    // another partner's record does not exist for partner 1
    let r = t
        .put(
            PARTNER1,
            "/api/partners/2",
            &json!({ "Name": "Taken over" }),
        )
        .await;
    refused(&r, 404, &[]);
    t.unchanged(&before, "PUT of another partner").await;
    // PlanTypeId is read-only: ignored, with a warning
    let r = t
        .put(
            PARTNER1,
            "/api/partners/1",
            &json!({ "PlanTypeId": 2, "Name": "Forward Thinking Software, LLC" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["PlanTypeId"], 1);
    assert!(
        r.warnings().iter().any(|w| w.contains("PlanTypeId")),
        "{:?}",
        r.warnings()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_never_reused_after_a_delete() {
    let t = start().await;
    let a = t
        .create(PARTNER1, "companies", &company_body("First"))
        .await;
    let a_id = id(&a, "CompanyId");
    assert_eq!(a_id, max_fixture_id("companies", "CompanyId") + 1);
    let r = t.delete(PARTNER1, &format!("/api/companies/{a_id}")).await;
    assert_eq!(r.status, 200);
    let b = t
        .create(PARTNER2, "companies", &company_body("Second"))
        .await;
    assert_eq!(id(&b, "CompanyId"), a_id + 1);
    let job = t.create(PARTNER1, "jobs", &job_body(1, "J")).await;
    let j = id(&job, "JobId");
    assert!(j > max_fixture_id("jobs", "JobId"));
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/jobs/{j}")).await.status,
        200
    );
    let job2 = t.create(PARTNER1, "jobs", &job_body(1, "J")).await;
    assert_eq!(id(&job2, "JobId"), j + 1);
    // deleting the highest loaded id does not free it
    let top = max_fixture_id("jobitems", "JobItemId");
    let r = t.delete(PARTNER2, &format!("/api/jobitems/{top}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let item = t.create(PARTNER2, "jobitems", &file_item_body(24)).await;
    assert_eq!(id(&item, "JobItemId"), top + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_is_a_merge_and_null_clears_an_optional_attribute() {
    let t = start().await;
    let before = t.read(PARTNER1, "/api/companies/2").await;
    let after = t
        .update(PARTNER1, "companies", 2, &json!({ "Phone": null }))
        .await;
    assert_eq!(after["Phone"], Value::Null);
    for (k, v) in before.as_object().unwrap() {
        if !["Phone", "UpdatedOn"].contains(&k.as_str()) {
            assert_eq!(after[k], *v, "{k}");
        }
    }
    // an empty body changes nothing but UpdatedOn, and still counts as an update
    let e0 = t.events(PARTNER1).await;
    let again = t.update(PARTNER1, "companies", 2, &json!({})).await;
    for (k, v) in after.as_object().unwrap() {
        if k != "UpdatedOn" {
            assert_eq!(again[k], *v, "{k}");
        }
    }
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["EventTypeId"], 22);
    assert_eq!(new[0]["CompanyId"], 2);
}

// ------------------------------------------------------------------ generated values

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_get_an_api_key_and_their_own_installer_after_the_agent_delay() {
    let t = start().await;
    let a = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Agent-A"))
        .await;
    let b = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Agent-B"))
        .await;
    for d in [&a, &b] {
        let key = d["ApiKey"].as_str().expect("ApiKey");
        assert_eq!(key.len(), 32, "{key}");
        assert!(
            key.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{key}"
        );
        let url = d["AgentDownloadUrl"].as_str().expect("AgentDownloadUrl");
        assert!(url.starts_with("https://"), "{url}");
        assert!(
            !url.contains(key),
            "the generic installer names no device: {url}"
        );
        assert_eq!(d["LastAgentDownloadCreated"], Value::Null);
    }
    assert_ne!(a["ApiKey"], b["ApiKey"]);
    assert_eq!(
        a["AgentDownloadUrl"], b["AgentDownloadUrl"],
        "both start with the generic installer"
    );
    let generic = a["AgentDownloadUrl"].clone();
    let a_path = format!("/api/devices/{}", id(&a, "DeviceId"));

    // before the delay: still generic
    t.advance(30.0).await;
    let read = t.read(PARTNER1, &a_path).await;
    assert_eq!(read["AgentDownloadUrl"], generic);
    assert_eq!(read["LastAgentDownloadCreated"], Value::Null);

    // after the delay (60 s by default)
    t.advance(31.0).await;
    let read = t.read(PARTNER1, &a_path).await;
    let key = a["ApiKey"].as_str().unwrap();
    let own = read["AgentDownloadUrl"].as_str().unwrap();
    assert!(own.starts_with("https://") && own.contains(key), "{own}");
    assert_ne!(read["AgentDownloadUrl"], generic);
    let added = a["AddedOn"].as_str().unwrap();
    assert_eq!(
        read["LastAgentDownloadCreated"],
        ts(ms(added) + 60_000),
        "LastAgentDownloadCreated = AddedOn + delay"
    );
    assert_eq!(read["ApiKey"], a["ApiKey"]);
    // lists and embedded records agree with the read
    let listed = t.list_one_page(PARTNER1, "devices").await;
    let in_list = listed
        .iter()
        .find(|d| d["DeviceId"] == a["DeviceId"])
        .unwrap();
    assert_eq!(*in_list, read);
    let job = t
        .create(PARTNER1, "jobs", &job_body(id(&a, "DeviceId"), "J"))
        .await;
    assert_eq!(job["Device"]["AgentDownloadUrl"], read["AgentDownloadUrl"]);
    // an update later keeps the device's own installer
    let upd = t
        .update(
            PARTNER1,
            "devices",
            id(&a, "DeviceId"),
            &json!({ "Name": "Agent-A2" }),
        )
        .await;
    assert_eq!(upd["AgentDownloadUrl"], read["AgentDownloadUrl"]);
    assert_eq!(
        upd["LastAgentDownloadCreated"],
        read["LastAgentDownloadCreated"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_delay_follows_the_setting() {
    let t = start_with_settings(Settings {
        agent_delay_ms: 5_000,
        ..Settings::default()
    })
    .await;
    let d = t
        .create(PARTNER1, "devices", &device_body(1, 1, "Quick"))
        .await;
    let path = format!("/api/devices/{}", id(&d, "DeviceId"));
    t.advance(3.0).await;
    assert_eq!(
        t.read(PARTNER1, &path).await["AgentDownloadUrl"],
        d["AgentDownloadUrl"]
    );
    t.advance(3.0).await;
    let read = t.read(PARTNER1, &path).await;
    assert!(
        read["AgentDownloadUrl"]
            .as_str()
            .unwrap()
            .contains(d["ApiKey"].as_str().unwrap())
    );
    assert_eq!(
        read["LastAgentDownloadCreated"],
        ts(ms(d["AddedOn"].as_str().unwrap()) + 5_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_start_active_for_one_month() {
    let t = start().await;
    t.move_clock(json!({ "set": "2030-03-15T10:00:00.000" }))
        .await;
    let r = t
        .post(
            PARTNER1,
            "/api/subscriptions",
            &with(
                &subscription_body(1, 2),
                json!({ "Status": "Cancelled", "AdditionalDevice": 9,
                        "PeriodStart": "2001-01-01T00:00:00.000", "BillingId": 5 }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let s = r.data();
    let w = r.warnings().join(" | ");
    for name in ["Status", "AdditionalDevice", "PeriodStart", "BillingId"] {
        assert!(w.contains(name), "no warning names {name}: {w}");
    }
    assert_eq!(s["Status"], "Active");
    assert_eq!(s["AdditionalDevice"], 0);
    let added = s["AddedOn"].as_str().unwrap();
    assert!(added.starts_with("2030-03-15T10:00:"), "{added}");
    assert_eq!(s["PeriodStart"], added);
    assert_eq!(s["PeriodEnd"], format!("2030-04-15{}", &added[10..]));
    assert_eq!(s["UpdatedOn"], Value::Null);
    assert_eq!(
        t.read(
            PARTNER1,
            &format!("/api/subscriptions/{}", id(s, "SubscriptionId"))
        )
        .await,
        *s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_companys_first_user_is_its_account_owner_and_partner_users_never_are() {
    let t = start().await;
    let company = t
        .create(PARTNER1, "companies", &company_body("Owners Inc."))
        .await;
    let c = id(&company, "CompanyId");
    let first = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "first@owners.example.com"),
        )
        .await;
    assert_eq!(first["IsAccountOwner"], true);
    let r = t
        .post(
            PARTNER1,
            "/api/companyusers",
            &with(
                &company_user_body(c, "second@owners.example.com"),
                json!({ "IsAccountOwner": true }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], false);
    assert!(r.warnings().iter().any(|w| w.contains("IsAccountOwner")));
    // a company that already has users
    let more = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(1, "more@abccompany.example.com"),
        )
        .await;
    assert_eq!(more["IsAccountOwner"], false);
    // an owner cannot be demoted by PUT either
    let r = t
        .put(
            PARTNER1,
            &format!("/api/companyusers/{}", id(&first, "CompanyUserId")),
            &json!({ "IsAccountOwner": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], true);
    // partner users created through the API are not account owners
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &with(
                &partner_user_body("owner.wannabe@forwardthinking.example.com"),
                json!({ "IsAccountOwner": true }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.data()["IsAccountOwner"], false);
    assert!(r.warnings().iter().any(|w| w.contains("IsAccountOwner")));
}
