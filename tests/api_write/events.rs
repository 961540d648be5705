//! The events writes append, and who sees them.

use super::*;

// ------------------------------------------------------------------ events

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_name_their_records_and_are_seen_by_their_partner_only() {
    let t = start().await;
    t.move_clock(json!({ "set": "2031-05-05T05:05:05.000" }))
        .await;
    let p1_before = t.events(PARTNER1).await;
    let p2_before = t.events(PARTNER2).await;
    let t0 = t.now().await;
    // a chain from company to job item, as partner 1
    let c = id(
        &t.create(PARTNER1, "companies", &company_body("Eventful"))
            .await,
        "CompanyId",
    );
    let cu = id(
        &t.create(
            PARTNER1,
            "companyusers",
            &company_user_body(c, "ev@eventful.example.com"),
        )
        .await,
        "CompanyUserId",
    );
    let s = id(
        &t.create(PARTNER1, "subscriptions", &subscription_body(c, 3))
            .await,
        "SubscriptionId",
    );
    let d = id(
        &t.create(PARTNER1, "devices", &device_body(c, s, "EV-1"))
            .await,
        "DeviceId",
    );
    let j = id(
        &t.create(PARTNER1, "jobs", &job_body(d, "EV job")).await,
        "JobId",
    );
    let ji = id(
        &t.create(PARTNER1, "jobitems", &file_item_body(j)).await,
        "JobItemId",
    );
    let pu = id(
        &t.create(
            PARTNER1,
            "partnerusers",
            &partner_user_body("ev@forwardthinking.example.com"),
        )
        .await,
        "PartnerUserId",
    );
    let t1 = t.now().await;
    assert!(t0.starts_with("2031-05-05T05:05:"), "{t0}");
    let new = new_events(&p1_before, &t.events(PARTNER1).await);
    let mut new: Vec<Value> = new.into_iter().rev().collect();
    assert_eq!(new.len(), 7, "{new:?}");
    let expect: [ExpectedEvent; 7] = [
        (
            21,
            "Company Added",
            vec![("CompanyId", c), ("PartnerId", 1)],
        ),
        (
            61,
            "Company User Added",
            vec![("CompanyUserId", cu), ("CompanyId", c)],
        ),
        (
            71,
            "Subscription Added",
            vec![("SubscriptionId", s), ("CompanyId", c)],
        ),
        (31, "Device Added", vec![("DeviceId", d), ("CompanyId", c)]),
        (
            41,
            "Job Added",
            vec![("JobId", j), ("DeviceId", d), ("CompanyId", c)],
        ),
        (
            51,
            "Job Item Added",
            vec![
                ("JobItemId", ji),
                ("JobId", j),
                ("DeviceId", d),
                ("CompanyId", c),
            ],
        ),
        (
            11,
            "Partner User Added",
            vec![("PartnerUserId", pu), ("PartnerId", 1)],
        ),
    ];
    for (ev, (type_id, name, names)) in new.iter().zip(expect.iter()) {
        assert_event(ev, *type_id, name, names, &t0, &t1);
        // readable one by one by partner 1, and not by partner 2
        let path = format!("/api/events/{}", ev["EventId"]);
        assert_eq!(t.read(PARTNER1, &path).await, *ev);
        refused(&t.get(PARTNER2, &path).await, 404, &[]);
    }
    // ids ascend in the order of the writes
    let ids: Vec<i64> = new.iter().map(|e| e["EventId"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(
        t.events(PARTNER2).await,
        p2_before,
        "partner 2 sees none of them"
    );
    new.clear();
    // and partner 2's own writes are seen by partner 2 only
    let p1_now = t.events(PARTNER1).await;
    t.update(PARTNER2, "devices", 8, &json!({ "Name": "KV renamed" }))
        .await;
    let p2_new = new_events(&p2_before, &t.events(PARTNER2).await);
    assert_eq!(p2_new.len(), 1);
    assert_eq!(p2_new[0]["EventTypeId"], 32);
    assert_eq!(p2_new[0]["DeviceId"], 8);
    assert_eq!(p2_new[0]["CompanyId"], 4);
    assert_eq!(t.events(PARTNER1).await, p1_now);
}
