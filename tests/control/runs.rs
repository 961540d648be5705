//! Simulated job runs.

use super::*;

// ------------------------------------------------------ 6. simulated runs

/// The job with a SQL item (9) on device 4 (company 2 of partner 1, every
/// notification flag on); the test adds a file item to it.
const JOB: i64 = 6;
const DEVICE: i64 = 4;
const COMPANY: i64 = 2;

async fn simulated_run(outcome: &str, event_type: i64, event_name: &str) {
    let t = Client::start().await;
    t.set_clock("2027-01-15T12:00:00.000").await;
    // a file item next to the SQL one, and an ExpireOn to copy
    let file_item = t
        .create(
            PARTNER1,
            "jobitems",
            &json!({"JobId": JOB, "Name": "Exports", "BackupTypeId": 1,
                    "BaseFolder": "D:\\Exports", "SearchPatterns": "*.*"}),
        )
        .await;
    t.update(
        PARTNER1,
        "jobs",
        JOB,
        &json!({"ExpireOn": "2027-03-01T18:00:00.000"}),
    )
    .await;
    let job = t.read(PARTNER1, &format!("/api/jobs/{JOB}")).await;
    let device = t.read(PARTNER1, &format!("/api/devices/{DEVICE}")).await;
    let items = job["JobItems"].as_array().expect("JobItems").clone();
    let item_ids = ids(&items, "JobItemId");
    assert_eq!(item_ids.len(), 2, "{job}");
    assert!(item_ids.contains(&file_item["JobItemId"].as_u64().unwrap()));
    let logs_before = t.list(PARTNER1, "logs").await.len();
    let r = t.delete(ADMIN, "/_sandbox/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);

    let t0 = t.now_ms().await;
    let answer = t.run(JOB, json!({ "JobStatus": outcome })).await;
    let t1 = t.now_ms().await;
    let log = &answer["data"];
    let log_id = log["LogId"].as_i64().expect("LogId");

    // exactly as /api/logs/{LogId} renders it
    let read = t.ok(PARTNER1, &format!("/api/logs/{log_id}")).await;
    assert_eq!(answer, read, "the run's answer is the Log as read");
    assert_eq!(t.list(PARTNER1, "logs").await.len(), logs_before + 1);

    assert_eq!(log["JobId"], JOB);
    assert_eq!(log["DeviceId"], DEVICE);
    assert_eq!(log["CompanyId"], COMPANY);
    assert_eq!(log["SubscriptionId"], device["SubscriptionId"]);
    for a in [
        "Name",
        "Frequency",
        "NextRunOn",
        "LateAfter",
        "ExpireOn",
        "LocalKeepLast",
    ] {
        assert_eq!(log[a], job[a], "Log {a} copies the job's");
    }
    assert_eq!(log["ExpireOn"], "2027-03-01T18:00:00.000");
    for a in [
        "TimeZoneId",
        "SendNotificationTo",
        "SendNotificationBcc",
        "SendNotificationCc",
        "SendNotificationOnJobCompleted",
        "SendNotificationOnJobFailed",
        "SendNotificationOnJobMissed",
    ] {
        assert_eq!(log[a], device[a], "Log {a} copies the device's");
    }
    assert_eq!(log["JobStatus"], outcome);
    // local times of an "Eastern Standard Time" device in January: UTC-5
    let (lo, hi) = (t0 - EST_WINTER_MS, t1 - EST_WINTER_MS);
    if outcome == "Missed" {
        assert_eq!(log["JobCompletedOn"], Value::Null, "{log}");
    } else {
        let done = ms(log["JobCompletedOn"].as_str().expect("JobCompletedOn"));
        assert!(lo <= done && done <= hi, "JobCompletedOn local: {log}");
    }
    let started = ms(log["JobStartedOn"].as_str().expect("JobStartedOn"));
    assert!(started <= hi, "JobStartedOn after the run: {log}");

    // one Log Item per Job Item
    let log_items = log["LogItems"].as_array().expect("LogItems");
    assert_eq!(ids(log_items, "JobItemId"), item_ids, "{log}");
    for (li, item) in log_items.iter().zip(&items) {
        assert_eq!(li["LogId"], log_id);
        assert_eq!(li["Name"], item["Name"]);
        let li_id = li["LogItemId"].as_i64().unwrap();
        assert_eq!(
            &t.read(PARTNER1, &format!("/api/logitems/{li_id}")).await["JobItemId"],
            &item["JobItemId"]
        );
        if outcome == "Completed" {
            assert!(li["BackupFileName"].is_string(), "{li}");
            assert!(li["BackupFileSize"].as_i64().is_some_and(|s| s > 0), "{li}");
        } else {
            assert_eq!(li["BackupFileName"], Value::Null, "{li}");
            assert_eq!(li["BackupFileSize"], Value::Null, "{li}");
        }
    }

    // the event
    let events = t.read(PARTNER1, "/api/events?PageSize=1").await;
    let ev = &events[0];
    assert_eq!(ev["EventTypeId"], event_type, "{ev}");
    assert_eq!(ev["EventType"], event_name, "{ev}");
    assert_eq!(ev["JobId"], JOB, "{ev}");
    assert_eq!(ev["DeviceId"], DEVICE, "{ev}");
    assert_eq!(ev["CompanyId"], COMPANY, "{ev}");
    assert_eq!(ev["LogId"], log_id, "{ev}");
    let at = ms(ev["AddedOn"].as_str().unwrap());
    assert!(t0 <= at && at <= t1, "event AddedOn (UTC): {ev}");

    // the job: LastRanOn changes, and its past NextRunOn (Daily at 20:00)
    // moves to the next occurrence after the run (API.md section 11)
    let after = t.read(PARTNER1, &format!("/api/jobs/{JOB}")).await;
    assert_eq!(after["NextRunOn"], "2027-01-15T20:00:00.000", "{after}");
    let mut rest = after.as_object().unwrap().clone();
    let mut was = job.as_object().unwrap().clone();
    for moved in ["LastRanOn", "NextRunOn"] {
        rest.remove(moved);
        was.remove(moved);
    }
    assert_eq!(rest, was, "only LastRanOn and NextRunOn change");

    // the device asks for a notification of every outcome
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["to"], device["SendNotificationTo"]);
    assert_eq!(outbox[0]["cc"], device["SendNotificationCc"]);
    assert_eq!(outbox[0]["bcc"], device["SendNotificationBcc"]);
    let sent = ms(outbox[0]["time"].as_str().unwrap());
    assert!(t0 <= sent && sent <= t1, "{outbox:?}");

    // LastRanOn: the sandbox clock in the device's zone
    let ran = ms(after["LastRanOn"].as_str().expect("LastRanOn"));
    assert!(
        lo <= ran && ran <= hi,
        "LastRanOn {} is not the sandbox clock at UTC-5 (between {} and {}); the run's Log: \
         JobStartedOn {}, JobCompletedOn {}",
        after["LastRanOn"],
        ts(lo),
        ts(hi),
        log["JobStartedOn"],
        log["JobCompletedOn"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Completed", 81, "Job Completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Failed", 82, "Job Failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_run_appends_a_log_items_an_event_and_a_notification() {
    simulated_run("Missed", 83, "Job Missed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_notify_only_when_the_device_asks_and_bad_runs_change_nothing() {
    let t = Client::start().await;
    let mail_to = |m: &Value| m["to"].as_str().unwrap().to_string();
    // device 1 (job 1): Completed off, Failed and Missed on
    t.run(1, json!({"JobStatus": "Completed"})).await;
    assert!(t.outbox().await.is_empty(), "Completed is off for device 1");
    let answer = t
        .run(
            1,
            json!({"JobStatus": "Failed", "ErrorMessages": "VSS snapshot failed on C:"}),
        )
        .await;
    assert_eq!(answer["data"]["ErrorMessages"], "VSS snapshot failed on C:");
    let id = answer["data"]["LogId"].as_i64().unwrap();
    let read = t.read(PARTNER1, &format!("/api/logs/{id}")).await;
    assert_eq!(read["ErrorMessages"], "VSS snapshot failed on C:");
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(mail_to(&outbox[0]), "it@abccompany.example.com");
    t.run(1, json!({"JobStatus": "Missed"})).await;
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(
        outbox[0]["id"].as_u64() > outbox[1]["id"].as_u64(),
        "newest first: {outbox:?}"
    );

    // device 3 (job 5): every flag off
    for outcome in ["Completed", "Failed", "Missed"] {
        t.run(5, json!({ "JobStatus": outcome })).await;
    }
    assert_eq!(t.outbox().await.len(), 2, "device 3 asks for nothing");
    // switched on, it gets one
    t.update(
        PARTNER1,
        "devices",
        3,
        &json!({"SendNotificationOnJobCompleted": true,
                "SendNotificationTo": "tnguyen@abccompany.example.com"}),
    )
    .await;
    t.run(5, json!({"JobStatus": "Completed"})).await;
    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    assert_eq!(mail_to(&outbox[0]), "tnguyen@abccompany.example.com");

    // refused runs change nothing
    let before = t.state().await;
    for body in [
        json!({"JobStatus": "Exploded"}),
        json!({}),
        json!({"JobStatus": null}),
        json!({"JobStatus": 1}),
    ] {
        let r = t.post(ADMIN, "/_sandbox/jobs/1/run", &body).await;
        refused(&r, 422, &["JobStatus"]);
    }
    let r = t
        .post(
            ADMIN,
            "/_sandbox/jobs/9999/run",
            &json!({"JobStatus": "Completed"}),
        )
        .await;
    refused(&r, 404, &[]);
    same_state(&before, &t.state().await, "after refused runs");
    assert_eq!(t.outbox().await.len(), 3);
}
