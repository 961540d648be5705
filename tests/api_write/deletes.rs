//! Deletes: blocked by children, account owners, cascades, and what
//! survives them.

use super::*;

// ------------------------------------------------------------------ deletes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_blocked_by_children_get_409_naming_them() {
    let t = start().await;
    let before = t.snapshot().await;
    let flat = |errors: &[String]| errors.join(" ").to_lowercase().replace(' ', "");
    // company 1: subscription 1 and devices 1, 2, 3
    let e = refused(&t.delete(PARTNER1, "/api/companies/1").await, 409, &[]);
    assert!(
        flat(&e).contains("subscription") && flat(&e).contains("device"),
        "{e:?}"
    );
    // subscription 1 is used by devices 1, 2, 3
    let e = refused(&t.delete(PARTNER1, "/api/subscriptions/1").await, 409, &[]);
    assert!(flat(&e).contains("device"), "{e:?}");
    // device 1 has jobs 1 and 2
    let e = refused(&t.delete(PARTNER1, "/api/devices/1").await, 409, &[]);
    assert!(flat(&e).contains("job"), "{e:?}");
    // job 1 has job items 1 and 2
    let e = refused(&t.delete(PARTNER1, "/api/jobs/1").await, 409, &[]);
    assert!(flat(&e).contains("jobitem"), "{e:?}");
    // company 3 is inactive but still has subscription 3 and device 7
    refused(&t.delete(PARTNER1, "/api/companies/3").await, 409, &[]);
    // a company with only a subscription
    t.unchanged(&before, "blocked deletes").await;
    let c = id(
        &t.create(PARTNER1, "companies", &company_body("Subscribed"))
            .await,
        "CompanyId",
    );
    let s = id(
        &t.create(PARTNER1, "subscriptions", &subscription_body(c, 2))
            .await,
        "SubscriptionId",
    );
    let before = t.snapshot().await;
    let e = refused(
        &t.delete(PARTNER1, &format!("/api/companies/{c}")).await,
        409,
        &[],
    );
    assert!(flat(&e).contains("subscription"), "{e:?}");
    t.unchanged(&before, "company with a subscription").await;
    // in order, the chain goes
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/subscriptions/{s}"))
            .await
            .status,
        200
    );
    assert_eq!(
        t.delete(PARTNER1, &format!("/api/companies/{c}"))
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_owners_cannot_be_deleted() {
    let t = start().await;
    let before = t.snapshot().await;
    let e = refused(&t.delete(PARTNER1, "/api/partnerusers/1").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    let e = refused(&t.delete(PARTNER1, "/api/companyusers/1").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    let e = refused(&t.delete(PARTNER2, "/api/companyusers/6").await, 409, &[]);
    assert!(
        e.join(" ").to_lowercase().contains("account owner"),
        "{e:?}"
    );
    t.unchanged(&before, "account owners").await;
    // the others can
    assert_eq!(t.delete(PARTNER1, "/api/partnerusers/2").await.status, 200);
    assert_eq!(t.delete(PARTNER1, "/api/companyusers/10").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_company_deletes_its_users_each_with_its_own_event() {
    let t = start().await;
    let company = t
        .create(PARTNER1, "companies", &company_body("Short Lived LLC"))
        .await;
    let c = id(&company, "CompanyId");
    let owner = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "owner@shortlived.example.com"),
        )
        .await;
    let other = t
        .create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "other@shortlived.example.com"),
        )
        .await;
    let (u1, u2) = (id(&owner, "CompanyUserId"), id(&other, "CompanyUserId"));
    assert_eq!(owner["IsAccountOwner"], true);
    let e0 = t.events(PARTNER1).await;
    let p2 = t.events(PARTNER2).await;
    let as_was = t.read(PARTNER1, &format!("/api/companies/{c}")).await;
    let t0 = t.now().await;
    let r = t
        .request(
            Some(PARTNER1),
            Method::DELETE,
            &format!("/api/companies/{c}"),
            Some("text/plain"),
            Some("DELETE ignores any body".into()),
        )
        .await;
    let t1 = t.now().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(*r.data(), as_was);
    for u in [u1, u2] {
        refused(
            &t.get(PARTNER1, &format!("/api/companyusers/{u}")).await,
            404,
            &[],
        );
    }
    refused(
        &t.get(PARTNER1, &format!("/api/companies/{c}")).await,
        404,
        &[],
    );
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 3, "{new:?}");
    let users: Vec<&Value> = new.iter().filter(|e| e["EventTypeId"] == 63).collect();
    assert_eq!(users.len(), 2, "{new:?}");
    let mut named: Vec<i64> = users
        .iter()
        .map(|e| e["CompanyUserId"].as_i64().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, vec![u1, u2]);
    for e in &users {
        assert_event(e, 63, "Company User Deleted", &[("CompanyId", c)], &t0, &t1);
    }
    let deleted = new
        .iter()
        .find(|e| e["EventTypeId"] == 23)
        .expect("Company Deleted");
    assert_event(
        deleted,
        23,
        "Company Deleted",
        &[("CompanyId", c), ("PartnerId", 1)],
        &t0,
        &t1,
    );
    assert_eq!(t.events(PARTNER2).await, p2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_log_items_and_events_survive_the_deletes_of_what_they_name() {
    let t = start().await;
    // log 4: company 1, device 2, job 4 (job item 6; log item 4)
    let log4 = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log4["Job"]["JobId"], 4);
    let item4 = t.read(PARTNER1, "/api/logitems/4").await;
    assert_eq!(item4["JobItemId"], 6);
    let e0 = t.events(PARTNER1).await;
    assert_eq!(t.delete(PARTNER1, "/api/jobitems/6").await.status, 200);
    assert_eq!(
        t.read(PARTNER1, "/api/logitems/4").await,
        item4,
        "log item unchanged"
    );
    let log = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log["LogItems"], log4["LogItems"]);
    assert_eq!(t.delete(PARTNER1, "/api/jobs/4").await.status, 200);
    let log = t.read(PARTNER1, "/api/logs/4").await;
    assert_eq!(log["JobId"], 4);
    assert_eq!(log["Job"], Value::Null, "the deleted job renders null");
    assert_eq!(log["Device"], log4["Device"]);
    assert_eq!(log["LogItems"], log4["LogItems"]);
    for (k, v) in log4.as_object().unwrap() {
        if k != "Job" {
            assert_eq!(log[k], *v, "log 4: {k}");
        }
    }

    // log 41: device 3, job 5 (job items 7 and 8; log items 57 and 58)
    let log41 = t.read(PARTNER1, "/api/logs/41").await;
    let items = ["/api/logitems/57", "/api/logitems/58"];
    let mut item_recs = Vec::new();
    for p in items {
        item_recs.push(t.read(PARTNER1, p).await);
    }
    for path in [
        "/api/jobitems/7",
        "/api/jobitems/8",
        "/api/jobs/5",
        "/api/devices/3",
    ] {
        let r = t.delete(PARTNER1, path).await;
        assert_eq!(r.status, 200, "DELETE {path}: {}", r.text);
    }
    let log = t.read(PARTNER1, "/api/logs/41").await;
    assert_eq!(log["Device"], Value::Null);
    assert_eq!(log["Job"], Value::Null);
    assert_eq!(log["DeviceId"], 3);
    assert_eq!(log["JobId"], 5);
    assert_eq!(log["Company"], log41["Company"]);
    assert_eq!(log["Subscription"], log41["Subscription"]);
    assert_eq!(log["LogItems"], log41["LogItems"]);
    for (p, rec) in items.iter().zip(&item_recs) {
        assert_eq!(t.read(PARTNER1, p).await, *rec);
    }
    let logs = t.list_one_page(PARTNER1, "logs").await;
    assert!(
        logs.iter()
            .any(|l| l["LogId"] == 41 && l["Device"].is_null())
    );
    // the events that name them stay, and each delete added one
    let e1 = t.events(PARTNER1).await;
    let new = new_events(&e0, &e1);
    let types: Vec<i64> = new
        .iter()
        .rev()
        .map(|e| e["EventTypeId"].as_i64().unwrap())
        .collect();
    assert_eq!(types, vec![53, 43, 53, 53, 43, 33]);
    assert!(e1.iter().any(|e| e["EventTypeId"] == 41 && e["JobId"] == 5));
    assert!(
        e1.iter()
            .any(|e| e["EventTypeId"] == 33 && e["DeviceId"] == 3 && e["CompanyId"] == 1)
    );
}
