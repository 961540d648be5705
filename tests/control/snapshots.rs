//! Snapshots (GET, load with `--fixtures`, PUT) and reset.

use super::*;

// ------------------------------------------------------------ 2. snapshots

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_loads_into_a_second_sandbox_and_put_swaps_it_in() {
    let t1 = Client::start().await;
    let company = t1
        .create(
            PARTNER1,
            "companies",
            &json!({"Name": "Snapshot Test Co", "PlanTypeId": 1, "ExternalId": "SNAP-1"}),
        )
        .await;
    let company_id = company["CompanyId"].as_i64().unwrap();
    t1.update(
        PARTNER1,
        "devices",
        1,
        &json!({"Name": "ABC-SRV01-renamed"}),
    )
    .await;
    let r = t1.delete(PARTNER1, "/api/jobitems/3").await;
    assert_eq!(r.status, 200, "DELETE /api/jobitems/3: {}", r.text);
    let item = t1
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": 1, "Name": "Payroll", "BackupTypeId": 2, "ServerName": "ABC-SRV01",
                    "DatabaseName": "Payroll", "AuthenticationMode": "S",
                    "Username": "snap_user", "Password": "snap-P@ss-9"}),
        )
        .await;
    let item_id = item["JobItemId"].as_i64().unwrap();
    assert_eq!(item["Username"], Value::Null);
    assert_eq!(item["Password"], Value::Null);

    // the bundle
    let r = t1.get(ADMIN, "/_sandbox/snapshot").await;
    assert_eq!(r.status, 200, "GET /_sandbox/snapshot: {}", r.text);
    let bundle = r.body.clone();
    let bundle_text = r.text.clone();
    for coll in COLLECTIONS.iter().chain(&["apikeys"]) {
        assert!(bundle[*coll].is_array(), "bundle lacks {coll}");
    }
    let find = |coll: &str, key: &str, id: i64| {
        bundle[coll]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[key] == id)
            .cloned()
    };
    assert_eq!(
        find("companies", "CompanyId", company_id).expect("created company")["Name"],
        "Snapshot Test Co"
    );
    assert_eq!(
        find("devices", "DeviceId", 1).unwrap()["Name"],
        "ABC-SRV01-renamed"
    );
    assert!(find("jobitems", "JobItemId", 3).is_none(), "deleted item");
    let stored = find("jobitems", "JobItemId", item_id).expect("created item");
    assert_eq!(stored["Username"], "snap_user");
    assert_eq!(stored["Password"], "snap-P@ss-9");

    // a second sandbox started on the bundle file
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, &bundle_text).unwrap();
    let t2 = Client::with(Config {
        fixtures: file.clone(),
        ..Config::default()
    })
    .await;
    let state1 = t1.state().await;
    same_state(
        &state1,
        &t2.state().await,
        "sandbox started on the snapshot",
    );
    // the bundle of the second is the same bundle
    let again = t2.admin("/_sandbox/snapshot").await;
    assert!(again == bundle, "snapshot of the reloaded state differs");
    // credentials survived, and are still rendered null
    let read = t2.read(PARTNER1, &format!("/api/jobitems/{item_id}")).await;
    assert_eq!(read["Username"], Value::Null);
    assert_eq!(read["Password"], Value::Null);
    // AuthenticationMode S needs Username and Password: a merge that names
    // neither is accepted only because the stored ones survived
    let renamed = t2
        .update(
            PARTNER1,
            "jobitems",
            item_id,
            &json!({"Name": "Payroll DB"}),
        )
        .await;
    assert_eq!(renamed["Name"], "Payroll DB");
    assert_eq!(renamed["AuthenticationMode"], "S");

    // PUT on a third, fresh sandbox: a broken bundle first
    let t3 = Client::start().await;
    let fresh = t3.state().await;
    let mut broken = bundle.clone();
    broken["devices"][0]["CompanyId"] = json!(9999);
    let broken_device = broken["devices"][0]["DeviceId"].clone();
    let r = t3
        .send_text(
            Some(ADMIN),
            Method::PUT,
            "/_sandbox/snapshot",
            Some(broken.to_string()),
        )
        .await;
    let errors = refused(&r, 422, &["CompanyId", "9999"]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("CompanyId") && e.contains("9999")),
        "{errors:?} (device {broken_device})"
    );
    same_state(&fresh, &t3.state().await, "after a refused PUT snapshot");

    let r = t3
        .send_text(
            Some(ADMIN),
            Method::PUT,
            "/_sandbox/snapshot",
            Some(bundle_text),
        )
        .await;
    assert_eq!(r.status, 200, "PUT /_sandbox/snapshot: {}", r.text);
    same_state(&state1, &t3.state().await, "after PUT snapshot");
}

// ----------------------------------------------------------------- 3. reset

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_discards_api_changes_and_restores_the_fixtures() {
    let t = Client::start().await;
    let reference = Client::start().await;
    let company = t
        .create(
            PARTNER1,
            "companies",
            &json!({"Name": "Reset Me Co", "PlanTypeId": 1}),
        )
        .await;
    let id = company["CompanyId"].as_i64().unwrap();
    t.update(
        PARTNER2,
        "devices",
        8,
        &json!({"Name": "Renamed before reset"}),
    )
    .await;

    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "POST /_sandbox/reset: {}", r.text);
    assert_eq!(r.body["discarded_api_changes"], 2, "{}", r.text);

    let r = t.get(PARTNER1, &format!("/api/companies/{id}")).await;
    assert_eq!(r.status, 404, "created company after reset: {}", r.text);
    same_state(&reference.state().await, &t.state().await, "after reset");

    // nothing to discard the second time
    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "POST /_sandbox/reset: {}", r.text);
    assert_eq!(r.body["discarded_api_changes"], 0, "{}", r.text);
}
