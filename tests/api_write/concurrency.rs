//! Concurrent writes over HTTP/1.1 and HTTP/2.

use super::*;

// ------------------------------------------------------------------ concurrency

async fn concurrent_posts(
    clients: Vec<reqwest::Client>,
    url: String,
    bodies: Vec<Value>,
) -> Vec<(u16, Value)> {
    let mut handles = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let c = clients[i % clients.len()].clone();
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let r = c
                .post(&url)
                .basic_auth(PARTNER1, Some("x"))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("JSON answer");
            (status, body)
        }));
    }
    tokio::time::timeout(Duration::from_secs(120), async {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("task"));
        }
        out
    })
    .await
    .expect("200 concurrent creates finish")
}

fn check_concurrent(results: &[(u16, Value)], key: &str) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for (status, body) in results {
        assert_eq!(*status, 201, "{body}");
        assert!(ids.insert(id(&body["data"], key)), "duplicate id: {body}");
    }
    assert_eq!(ids.len(), results.len());
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_company_creates_over_http2_all_succeed() {
    let t = start().await;
    let e0 = t.events(PARTNER1).await;
    let bodies: Vec<Value> = (0..200)
        .map(|i| {
            with(
                &company_body(&format!("Concurrent {i}")),
                json!({ "Token": format!("cc-{i}") }),
            )
        })
        .collect();
    let results =
        concurrent_posts(vec![t.sb.client_h2()], t.sb.url("/api/companies"), bodies).await;
    let ids = check_concurrent(&results, "CompanyId");
    assert!(*ids.first().unwrap() > max_fixture_id("companies", "CompanyId"));
    for (_, body) in &results {
        let rec = &body["data"];
        let read = t
            .read(PARTNER1, &format!("/api/companies/{}", rec["CompanyId"]))
            .await;
        assert_eq!(read, *rec);
    }
    let listed: BTreeSet<i64> = t
        .list_one_page(PARTNER1, "companies")
        .await
        .iter()
        .map(|c| id(c, "CompanyId"))
        .collect();
    assert!(ids.is_subset(&listed));
    let names: BTreeSet<String> = results
        .iter()
        .map(|(_, b)| b["data"]["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 200);
    let new = new_events(&e0, &t.events(PARTNER1).await);
    assert_eq!(new.len(), 200);
    let named: BTreeSet<i64> = new.iter().map(|e| id(e, "CompanyId")).collect();
    assert_eq!(named, ids);
    assert!(new.iter().all(|e| e["EventTypeId"] == 21));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_job_creates_over_several_connections_all_succeed() {
    let t = start().await;
    let clients: Vec<reqwest::Client> = (0..4)
        .map(|i| {
            if i % 2 == 0 {
                t.sb.client()
            } else {
                t.sb.client_h2()
            }
        })
        .collect();
    let bodies: Vec<Value> = (0..200)
        .map(|i| job_body(1 + i % 3, &format!("Job {i}")))
        .collect();
    let results = concurrent_posts(clients, t.sb.url("/api/jobs"), bodies).await;
    let ids = check_concurrent(&results, "JobId");
    let listed: BTreeSet<i64> = t
        .list_one_page(PARTNER1, "jobs")
        .await
        .iter()
        .map(|j| id(j, "JobId"))
        .collect();
    assert!(ids.is_subset(&listed));
    for (_, body) in results.iter().step_by(7) {
        let rec = &body["data"];
        assert_eq!(
            t.read(PARTNER1, &format!("/api/jobs/{}", rec["JobId"]))
                .await,
            *rec
        );
    }
    // each device lists its new jobs
    for dev in 1..=3 {
        let want = results
            .iter()
            .filter(|(_, b)| b["data"]["DeviceId"] == dev)
            .count();
        let have = t
            .list_one_page(PARTNER1, "jobs")
            .await
            .iter()
            .filter(|j| j["DeviceId"] == dev && ids.contains(&id(j, "JobId")))
            .count();
        assert_eq!(have, want, "device {dev}");
    }
}
