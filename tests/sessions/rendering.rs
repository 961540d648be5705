//! What is served after every change is the change: records are rendered
//! from fragments remembered per record version, and no write, reload,
//! reset or restore ever serves a stale byte, at top level, embedded, or in
//! a child array.

use super::*;

/// The bodies of reads that cover each way a record shows: an element with
/// an embedded company, a page of devices, a company, a job with its items.
const READS: [&str; 4] = [
    "/api/devices/1",
    "/api/devices?PageSize=20",
    "/api/companies/1",
    "/api/jobs/1",
];

async fn bodies(t: &T, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for path in READS {
        let r = t.get(PARTNER1, &format!("{base}{path}")).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        out.push(r.text);
    }
    out
}

#[tokio::test]
async fn writes_show_at_once_where_the_record_is_embedded_and_listed() {
    let t = T::start().await;
    let before = bodies(&t, "/s/w").await;
    assert_eq!(
        bodies(&t, "/s/w").await,
        before,
        "a second read is the same"
    );
    t.update(PARTNER1, "companies", 1, &json!({"Name": "Renamed Co"}))
        .await;
    // `default` changed, the session did not
    assert_eq!(bodies(&t, "/s/w").await, before);
    let device = t.read(PARTNER1, "/api/devices/1").await;
    assert_eq!(device["Company"]["Name"], "Renamed Co", "{device}");
    assert_eq!(device["Company"]["CompanyId"], 1);
    let company = t.read(PARTNER1, "/api/companies/1").await;
    assert_eq!(company["Name"], "Renamed Co");
    let page = t.ok(PARTNER1, "/api/devices?PageSize=20").await;
    for d in page["data"].as_array().unwrap() {
        if d["CompanyId"] == 1 {
            assert_eq!(d["Company"]["Name"], "Renamed Co", "{d}");
        }
    }
    // a child array follows its children's writes and deletes
    let item = t
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": 1, "Name": "New Item", "BackupTypeId": 2, "ServerName": "(local)",
                    "DatabaseName": "Items", "AuthenticationMode": "W"}),
        )
        .await;
    let id = item["JobItemId"].as_i64().unwrap();
    let names = |job: &Value| -> Vec<String> {
        job["JobItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["Name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert!(names(&t.read(PARTNER1, "/api/jobs/1").await).contains(&"New Item".into()));
    t.update(PARTNER1, "jobitems", id, &json!({"Name": "Renamed Item"}))
        .await;
    let job = t.read(PARTNER1, "/api/jobs/1").await;
    assert!(names(&job).contains(&"Renamed Item".into()), "{job}");
    assert!(!names(&job).contains(&"New Item".into()), "{job}");
    let r = t.delete(PARTNER1, &format!("/api/jobitems/{id}")).await;
    assert!((200..300).contains(&r.status), "{}", r.text);
    let job = t.read(PARTNER1, "/api/jobs/1").await;
    assert!(!names(&job).contains(&"Renamed Item".into()), "{job}");
}

#[tokio::test]
async fn reset_and_restore_serve_exactly_the_bytes_served_before() {
    let t = T::start().await;
    let made = bodies(&t, "/s/r").await;
    let r = t
        .post(
            ADMIN,
            "/s/r/_sandbox/checkpoints",
            &json!({"name": "start"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    t.write_everything("/s/r", "one").await;
    let p = |c: &str| format!("/s/r/api/{c}");
    let r = t
        .put(PARTNER1, &p("companies/1"), &json!({"Name": "Changed"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t
        .put(PARTNER1, &p("devices/1"), &json!({"Name": "Changed PC"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let changed = bodies(&t, "/s/r").await;
    assert_ne!(changed, made);
    assert!(changed[0].contains("Changed PC") && changed[0].contains("\"Changed\""));

    let r = t
        .post(ADMIN, "/s/r/_sandbox/checkpoints/start/restore", &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(bodies(&t, "/s/r").await, made, "restore");

    let r = t
        .put(PARTNER1, &p("companies/1"), &json!({"Name": "Again"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(bodies(&t, "/s/r").await[0].contains("\"Again\""));
    let r = t.post(ADMIN, "/s/r/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(bodies(&t, "/s/r").await, made, "reset");
}

#[tokio::test]
async fn a_reload_serves_the_new_fixtures_embedded_and_listed() {
    let dir = fixtures_with(&[]);
    let t = T::with(Config {
        fixtures: dir.path().to_path_buf(),
        ..Config::default()
    })
    .await;
    let before = bodies(&t, "").await;
    let file = dir.path().join("companies.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut companies: Value = serde_json::from_str(&text).unwrap();
    let at = companies
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["CompanyId"] == 1)
        .unwrap();
    companies[at]["Name"] = json!("Reloaded Co");
    std::fs::write(&file, serde_json::to_string_pretty(&companies).unwrap()).unwrap();
    let r = t.post(ADMIN, "/_sandbox/reset", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = bodies(&t, "").await;
    let (old, new): (Vec<Value>, Vec<Value>) = before
        .iter()
        .zip(&after)
        .map(|(b, a)| {
            (
                serde_json::from_str(b).unwrap(),
                serde_json::from_str(a).unwrap(),
            )
        })
        .unzip();
    // the device: its company renamed, nothing else changed
    assert_eq!(
        new[0]["data"]["Company"]["Name"], "Reloaded Co",
        "{}",
        after[0]
    );
    let mut expect = old[0].clone();
    expect["data"]["Company"]["Name"] = json!("Reloaded Co");
    assert_eq!(new[0], expect);
    // the page: each device of company 1 shows the new name
    let mut expect = old[1].clone();
    for d in expect["data"].as_array_mut().unwrap() {
        if d["CompanyId"] == 1 {
            d["Company"]["Name"] = json!("Reloaded Co");
        }
    }
    assert_eq!(new[1], expect);
    assert_ne!(new[1], old[1], "the page holds a device of company 1");
    // the company itself
    let mut expect = old[2].clone();
    expect["data"]["Name"] = json!("Reloaded Co");
    assert_eq!(new[2], expect);
    assert_eq!(new[3], old[3], "the job does not show the company");
}

/// A write's answer is rendered without remembering the version it brings;
/// its bytes are exactly those every later read serves: a device (its
/// agent URL is derived when read, and it embeds its company), a job with
/// its child array, a company, each created and then updated.
#[tokio::test]
async fn a_writes_answer_is_byte_for_byte_the_read_that_follows() {
    let t = T::start().await;
    let job = json!({"DeviceId": 1, "Name": "Answered", "Frequency": "Daily",
                     "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1,
                     "CloudKeepLast": 30, "LocalKeepLast": 7});
    let device = json!({"CompanyId": 1, "SubscriptionId": 1, "Name": "ANSWERED-01",
                        "TimeZoneId": "Eastern Standard Time"});
    let company = json!({"Name": "Answered Co", "PlanTypeId": 1});
    for (coll, key, body, change) in [
        ("jobs", "JobId", job, json!({"Name": "Answered again"})),
        (
            "devices",
            "DeviceId",
            device,
            json!({"Name": "ANSWERED-02"}),
        ),
        (
            "companies",
            "CompanyId",
            company,
            json!({"Name": "Answered again"}),
        ),
    ] {
        let created = t.post(PARTNER1, &format!("/api/{coll}"), &body).await;
        assert_eq!(created.status, 201, "{coll}: {}", created.text);
        let id = created.body["data"][key].as_i64().unwrap();
        let path = format!("/api/{coll}/{id}");
        for _ in 0..2 {
            let read = t.get(PARTNER1, &path).await;
            assert_eq!(read.text, created.text, "{path} read after its POST");
        }
        let updated = t.put(PARTNER1, &path, &change).await;
        assert_eq!(updated.status, 200, "{path}: {}", updated.text);
        assert_ne!(updated.text, created.text, "{path}: the PUT changed it");
        for _ in 0..2 {
            let read = t.get(PARTNER1, &path).await;
            assert_eq!(read.text, updated.text, "{path} read after its PUT");
        }
    }
    // a job whose child array holds items
    let updated = t
        .put(PARTNER1, "/api/jobs/1", &json!({"Name": "Items kept"}))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert!(
        !updated.body["data"]["JobItems"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        updated.text
    );
    assert_eq!(t.get(PARTNER1, "/api/jobs/1").await.text, updated.text);
}
