//! The schedule (API.md section 11): jobs run as the sandbox clock moves,
//! in each device's time zone, with the outcomes asked for.

use super::*;

/// Every fixture job made inactive (through a snapshot sent back), so only
/// the jobs a test creates run.
async fn quiet(t: &Client) {
    let r = t.get(ADMIN, "/_sandbox/snapshot").await;
    assert_eq!(r.status, 200);
    let mut bundle = r.body;
    for job in bundle["jobs"].as_array_mut().expect("jobs") {
        job["IsInactive"] = json!(true);
    }
    let r = t.put(ADMIN, "/_sandbox/snapshot", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn schedule(t: &Client, settings: Value) -> Value {
    let r = t.put(ADMIN, "/_sandbox/schedule", &settings).await;
    assert_eq!(
        r.status, 200,
        "PUT /_sandbox/schedule {settings}: {}",
        r.text
    );
    r.body
}

/// A job on `device` (of `key`'s partner) with the given schedule.
async fn job(t: &Client, key: &str, device: i64, schedule: Value) -> i64 {
    let mut body = json!({"DeviceId": device, "Name": "Scheduled", "LateAfter": 60, "Every": 1,
                          "CloudKeepLast": 5, "LocalKeepLast": 5});
    for (k, v) in schedule.as_object().unwrap() {
        body[k] = v.clone();
    }
    t.create(key, "jobs", &body).await["JobId"]
        .as_i64()
        .unwrap()
}

/// The logs of `job`, oldest first.
async fn logs_of(t: &Client, key: &str, job: i64) -> Vec<Value> {
    let mut logs: Vec<Value> = t
        .list(key, "logs")
        .await
        .into_iter()
        .filter(|l| l["JobId"] == job)
        .collect();
    logs.sort_by_key(|l| l["LogId"].as_i64());
    logs
}

fn started(logs: &[Value]) -> Vec<&str> {
    logs.iter()
        .map(|l| l["JobStartedOn"].as_str().unwrap())
        .collect()
}

/// A local time `behind_h` hours behind UTC (New York: 5 in winter, 4 in
/// summer; Berlin in winter: -1), in UTC.
fn utc_of(local: &str, behind_h: i64) -> String {
    let t = ms(local) + behind_h * 3_600_000;
    format_ms(t)
}

fn format_ms(t: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(t).unwrap();
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

#[tokio::test]
async fn a_week_of_runs_in_two_time_zones_across_the_daylight_saving_change() {
    let t = Client::start().await;
    quiet(&t).await;
    // New York moves to daylight saving time on Sunday 2027-03-14 at 02:00
    t.set_clock("2027-03-10T12:00:00.000").await;
    let daily = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "Daily", "NextRunOn": "2027-03-10T23:00:00"}),
    )
    .await;
    let weekly = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "Weekly", "NextRunOn": "2027-03-11T02:30:00", "OnSunday": true, "OnThursday": true}),
    )
    .await;
    let hourly = job(
        &t,
        PARTNER2,
        8,
        json!({"Frequency": "Hourly", "Every": 6, "NextRunOn": "2027-03-10T14:00:00"}),
    )
    .await;
    let monthly = job(
        &t,
        PARTNER2,
        8,
        json!({"Frequency": "Monthy", "DayOfMonth": 15, "NextRunOn": "2027-03-15T04:00:00"}),
    )
    .await;
    let on = schedule(&t, json!({"enabled": true})).await;
    assert_eq!(
        on,
        json!({"enabled": true, "seed": 1, "outcomes": {"Completed": 1}, "rules": []})
    );
    assert_eq!(t.admin("/_sandbox/schedule").await, on);

    let answer = t.move_clock(json!({"advance": 7 * 24 * 3600})).await;
    assert!(
        answer["now"]
            .as_str()
            .unwrap()
            .starts_with("2027-03-17T12:00:0"),
        "{answer}"
    );

    // Daily 23:00 in New York: 04:00 UTC before the change, 03:00 after
    let logs = logs_of(&t, PARTNER1, daily).await;
    assert_eq!(
        started(&logs),
        [
            "2027-03-10T23:00:00.000",
            "2027-03-11T23:00:00.000",
            "2027-03-12T23:00:00.000",
            "2027-03-13T23:00:00.000",
            "2027-03-14T23:00:00.000",
            "2027-03-15T23:00:00.000",
            "2027-03-16T23:00:00.000"
        ]
    );
    let utc: Vec<String> = logs
        .iter()
        .map(|l| {
            let started = l["JobStartedOn"].as_str().unwrap();
            utc_of(started, if started < "2027-03-14T02" { 5 } else { 4 })
        })
        .collect();
    assert_eq!(utc[3], "2027-03-14T04:00:00.000");
    assert_eq!(utc[4], "2027-03-15T03:00:00.000");
    for l in &logs {
        assert_eq!(l["JobStatus"], "Completed");
        assert_eq!(
            l["NextRunOn"], l["JobStartedOn"],
            "the log copies the NextRunOn it ran for"
        );
        assert!(l["JobCompletedOn"].as_str().unwrap() > l["JobStartedOn"].as_str().unwrap());
    }
    // Weekly on Thursday and Sunday at 02:30: on the Sunday of the change
    // 02:30 does not exist, and the run starts when the gap ends
    assert_eq!(
        started(&logs_of(&t, PARTNER1, weekly).await),
        ["2027-03-11T02:30:00.000", "2027-03-14T03:00:00.000"]
    );
    // every 6 hours of elapsed time in Berlin (no change there until the 28th)
    let h = logs_of(&t, PARTNER2, hourly).await;
    assert_eq!(h.len(), 28);
    assert_eq!(
        started(&h)[..2],
        ["2027-03-10T14:00:00.000", "2027-03-10T20:00:00.000"]
    );
    assert_eq!(
        started(&logs_of(&t, PARTNER2, monthly).await),
        ["2027-03-15T04:00:00.000"]
    );

    // the jobs moved on: NextRunOn is the next occurrence, LastRanOn the last start
    let d = t.read(PARTNER1, &format!("/api/jobs/{daily}")).await;
    assert_eq!(d["NextRunOn"], "2027-03-17T23:00:00.000");
    assert_eq!(d["LastRanOn"], "2027-03-16T23:00:00.000");
    let m = t.read(PARTNER2, &format!("/api/jobs/{monthly}")).await;
    assert_eq!(m["NextRunOn"], "2027-04-15T04:00:00.000");
    let w = t.read(PARTNER1, &format!("/api/jobs/{weekly}")).await;
    assert_eq!(w["NextRunOn"], "2027-03-18T02:30:00.000");

    // written in time order across all jobs: LogIds follow the start instants
    let mut all: Vec<(i64, String)> = Vec::new();
    for (key, zone_of) in [(PARTNER1, "ny"), (PARTNER2, "berlin")] {
        for l in t.list(key, "logs").await {
            if [daily, weekly, hourly, monthly].contains(&l["JobId"].as_i64().unwrap()) {
                let s = l["JobStartedOn"].as_str().unwrap().to_string();
                let utc = match zone_of {
                    "ny" => utc_of(&s, if s.as_str() < "2027-03-14T02" { 5 } else { 4 }),
                    _ => utc_of(&s, -1),
                };
                all.push((l["LogId"].as_i64().unwrap(), utc));
            }
        }
    }
    all.sort();
    assert_eq!(all.len(), 7 + 2 + 28 + 1);
    assert!(all.windows(2).all(|w| w[0].1 <= w[1].1), "{all:?}");
    assert_eq!(answer["runs"], 38);
    // the device's LastApiCheckAt is the last run's start
    let dev = t.read(PARTNER1, "/api/devices/1").await;
    assert_eq!(dev["LastApiCheckAt"], "2027-03-16T23:00:00.000");
}

#[tokio::test]
async fn month_ends_one_time_jobs_and_inactive_ones() {
    let t = Client::start().await;
    quiet(&t).await;
    t.set_clock("2027-01-30T00:00:00.000").await;
    let monthly = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "Monthly", "DayOfMonth": 31, "NextRunOn": "2027-01-31T03:00:00"}),
    )
    .await;
    let once = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "One Time", "NextRunOn": "2027-02-10T10:00:00", "ExpireOn": "2027-03-01T00:00:00"}),
    )
    .await;
    let expired = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "One Time", "NextRunOn": "2027-02-12T10:00:00", "ExpireOn": "2027-02-11T00:00:00"}),
    )
    .await;
    let inactive = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "Daily", "NextRunOn": "2027-02-01T10:00:00", "IsInactive": true}),
    )
    .await;
    // a job on a device, and one on a company, that are then made inactive
    let on_device = job(
        &t,
        PARTNER1,
        3,
        json!({"Frequency": "Daily", "NextRunOn": "2027-02-01T10:00:00"}),
    )
    .await;
    let on_company = job(
        &t,
        PARTNER2,
        8,
        json!({"Frequency": "Daily", "NextRunOn": "2027-02-01T10:00:00"}),
    )
    .await;
    t.update(PARTNER1, "devices", 3, &json!({"IsInactive": true}))
        .await;
    t.update(PARTNER2, "companies", 4, &json!({"IsInactive": true}))
        .await;

    schedule(&t, json!({"enabled": true})).await;
    let answer = t
        .move_clock(json!({"set": "2027-05-01T00:00:00.000"}))
        .await;
    assert_eq!(
        started(&logs_of(&t, PARTNER1, monthly).await),
        [
            "2027-01-31T03:00:00.000",
            "2027-02-28T03:00:00.000",
            "2027-03-31T03:00:00.000",
            "2027-04-30T03:00:00.000"
        ]
    );
    assert_eq!(
        started(&logs_of(&t, PARTNER1, once).await),
        ["2027-02-10T10:00:00.000"]
    );
    for (key, j) in [
        (PARTNER1, expired),
        (PARTNER1, inactive),
        (PARTNER1, on_device),
        (PARTNER2, on_company),
    ] {
        assert!(logs_of(&t, key, j).await.is_empty(), "job {j} ran");
    }
    assert_eq!(answer["runs"], 5);
}

#[tokio::test]
async fn past_runs_are_skipped_when_the_schedule_is_turned_on_and_a_manual_run_moves_on() {
    let t = Client::start().await;
    quiet(&t).await;
    t.set_clock("2027-02-01T12:00:00.000").await;
    let daily = job(
        &t,
        PARTNER1,
        1,
        json!({"Frequency": "Daily", "NextRunOn": "2027-01-20T08:00:00"}),
    )
    .await;
    // a manual run moves a past NextRunOn to the next occurrence after it
    t.run(daily, json!({"JobStatus": "Completed"})).await;
    let j = t.read(PARTNER1, &format!("/api/jobs/{daily}")).await;
    assert_eq!(j["NextRunOn"], "2027-02-01T08:00:00.000");
    t.update(
        PARTNER1,
        "jobs",
        daily,
        &json!({"NextRunOn": "2027-01-25T08:00:00"}),
    )
    .await;
    let before = logs_of(&t, PARTNER1, daily).await.len();
    schedule(&t, json!({"enabled": true})).await;
    let j = t.read(PARTNER1, &format!("/api/jobs/{daily}")).await;
    assert_eq!(
        j["NextRunOn"], "2027-02-01T08:00:00.000",
        "moved without a run"
    );
    assert_eq!(logs_of(&t, PARTNER1, daily).await.len(), before);
}

/// The statuses a week of hourly runs of two jobs gets under `settings`.
async fn outcomes(settings: Value) -> (Vec<(i64, String)>, Client, i64, i64) {
    let t = Client::start().await;
    quiet(&t).await;
    t.set_clock("2027-06-01T00:00:00.000").await;
    let a = job(
        &t,
        PARTNER1,
        4,
        json!({"Frequency": "Hourly", "NextRunOn": "2027-05-31T21:00:00"}),
    )
    .await;
    let b = job(
        &t,
        PARTNER1,
        4,
        json!({"Frequency": "Hourly", "NextRunOn": "2027-05-31T21:30:00"}),
    )
    .await;
    schedule(&t, settings).await;
    let r = t.move_clock(json!({"advance": 2 * 24 * 3600})).await;
    assert_eq!(r["runs"], 95);
    let mut out = Vec::new();
    for j in [a, b] {
        for l in logs_of(&t, PARTNER1, j).await {
            out.push((
                l["LogId"].as_i64().unwrap(),
                l["JobStatus"].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort();
    (out, t, a, b)
}

#[tokio::test]
async fn outcomes_are_drawn_from_the_seed_and_rules_fix_them() {
    let settings = json!({"enabled": true, "seed": 42, "outcomes": {"Completed": 2, "Failed": 1, "Missed": 1},
                          "rules": [{"job": 0, "JobStatus": "Failed"}]});
    // a malformed schedule is refused and changes nothing
    let t = Client::start().await;
    let r = t.put(ADMIN, "/_sandbox/schedule", &settings).await;
    refused(&r, 422, &["rules[0]: job must be a positive id"]);
    assert_eq!(t.admin("/_sandbox/schedule").await["enabled"], false);

    let settings = json!({"enabled": true, "seed": 42, "outcomes": {"Completed": 2, "Failed": 1, "Missed": 1}});
    let (first, t1, _, _) = outcomes(settings.clone()).await;
    let (second, _, _, _) = outcomes(settings).await;
    assert_eq!(
        first, second,
        "same seed, same outcomes on two fresh servers"
    );
    for status in ["Completed", "Failed", "Missed"] {
        assert!(
            first.iter().any(|(_, s)| s == status),
            "no {status}: {first:?}"
        );
    }
    // every run wrote its event, and the device (all flags on) its mail
    let events = t1.list(PARTNER1, "events").await;
    let logs: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
    for (id, status) in &first {
        let ev = events
            .iter()
            .find(|e| e["LogId"] == *id)
            .unwrap_or_else(|| panic!("no event of log {id}"));
        assert_eq!(ev["EventType"], format!("Job {status}"));
    }
    assert_eq!(t1.outbox().await.len(), logs.len());

    // a rule with times: the first two runs of job b fail, then the weights
    let t = Client::start().await;
    quiet(&t).await;
    t.set_clock("2027-06-01T00:00:00.000").await;
    let a = job(
        &t,
        PARTNER1,
        4,
        json!({"Frequency": "Hourly", "NextRunOn": "2027-05-31T21:00:00"}),
    )
    .await;
    let b = job(
        &t,
        PARTNER1,
        4,
        json!({"Frequency": "Hourly", "NextRunOn": "2027-05-31T21:30:00"}),
    )
    .await;
    let set = schedule(
        &t,
        json!({"enabled": true,
        "rules": [{"job": b, "JobStatus": "Failed", "ErrorMessages": "Disk full", "times": 2}]}),
    )
    .await;
    assert_eq!(set["rules"][0]["times"], 2);
    t.advance(6.0 * 3600.0).await;
    let bl = logs_of(&t, PARTNER1, b).await;
    let statuses: Vec<&str> = bl
        .iter()
        .map(|l| l["JobStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["Failed", "Failed", "Completed", "Completed", "Completed"]
    );
    assert_eq!(bl[0]["ErrorMessages"], "Disk full");
    assert!(
        logs_of(&t, PARTNER1, a)
            .await
            .iter()
            .all(|l| l["JobStatus"] == "Completed")
    );
    assert_eq!(
        t.admin("/_sandbox/schedule").await["rules"],
        json!([]),
        "used up"
    );
}

#[tokio::test]
async fn a_move_past_the_limit_is_refused_and_changes_nothing() {
    let t = Client::settings(Settings {
        max_runs_per_advance: 10,
        ..Settings::default()
    })
    .await;
    quiet(&t).await;
    t.set_clock("2027-06-01T00:00:00.000").await;
    job(
        &t,
        PARTNER1,
        4,
        json!({"Frequency": "Hourly", "NextRunOn": "2027-05-31T21:00:00"}),
    )
    .await;
    schedule(&t, json!({"enabled": true})).await;
    let before = t.snapshot().await;
    let clock = t.clock().await;
    let r = t
        .post(ADMIN, "/_sandbox/clock", &json!({"advance": 24 * 3600}))
        .await;
    refused(
        &r,
        422,
        &["24 scheduled runs", "--max-runs-per-advance (10)"],
    );
    t.unchanged(&before, "a refused move").await;
    let after = t.clock().await;
    assert!(
        (ms(after["now"].as_str().unwrap()) - ms(clock["now"].as_str().unwrap())).abs() < 60_000
    );
    let r = t.move_clock(json!({"advance": 10 * 3600})).await;
    assert_eq!(r["runs"], 10);
}

#[tokio::test]
async fn a_run_due_in_two_seconds_happens_as_real_time_passes() {
    let t = Client::start().await;
    quiet(&t).await;
    // device 16 keeps GMT: UTC in winter, UTC+1 in summer
    let now = t.now_ms().await;
    let offset = if (3..=10).contains(
        &jiff::Timestamp::from_millisecond(now)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .month(),
    ) {
        3_600_000
    } else {
        0
    };
    let due = format_ms(now + 2_000 + offset);
    let j = job(
        &t,
        PARTNER2,
        16,
        json!({"Frequency": "Daily", "NextRunOn": due}),
    )
    .await;
    schedule(&t, json!({"enabled": true})).await;
    let log = eventually("the scheduled run", async || {
        let logs = logs_of(&t, PARTNER2, j).await;
        logs.first()
            .cloned()
            .ok_or_else(|| "no log yet".to_string())
    })
    .await;
    assert_eq!(log["JobStartedOn"].as_str().unwrap(), &due[..]);
}

#[tokio::test]
async fn the_schedule_sits_in_sandbox_json_and_in_snapshots_per_session() {
    let t = Client::start().await;
    let r = t.get(ADMIN, "/_sandbox/snapshot").await;
    let mut bundle = r.body;
    assert!(
        bundle
            .get("sandbox")
            .is_none_or(|s| s.get("schedule").is_none())
    );
    bundle["sandbox"] =
        json!({"schedule": {"enabled": true, "seed": 9, "outcomes": {"Failed": 1}}});
    let r = t.put(ADMIN, "/_sandbox/snapshot", &bundle).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let on = t.admin("/_sandbox/schedule").await;
    assert_eq!(
        on,
        json!({"enabled": true, "seed": 9, "outcomes": {"Failed": 1}, "rules": []})
    );
    let again = t.get(ADMIN, "/_sandbox/snapshot").await.body;
    assert_eq!(again["sandbox"]["schedule"], on);
    // another session has its own schedule (off, as the fixtures say)
    assert_eq!(
        t.admin("/s/other/_sandbox/schedule").await["enabled"],
        false
    );
    // a bad one is refused with its place, and nothing changes
    bundle["sandbox"] = json!({"schedule": {"enabled": "yes"}});
    let r = t.put(ADMIN, "/_sandbox/snapshot", &bundle).await;
    refused(&r, 422, &["enabled must be true or false"]);
    assert_eq!(t.admin("/_sandbox/schedule").await, on);
}
