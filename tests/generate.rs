//! `generate` (API.md section 9): a generated data set loads with no problem,
//! its counts add up, it is deterministic, the sandbox serves it, and an
//! existing directory is never overwritten.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cleverfox_sandbox::domain::schema::{Kind, Res};
use cleverfox_sandbox::store::fixtures;
use cleverfox_sandbox::tools::generate::{GenerateError, GenerateOptions, generate};
use common::{Config, Sandbox};
use serde_json::{Map, Value};

type Record = Map<String, Value>;

/// The small set of the tests: 3 partners, 4 companies each, 3 devices per
/// company, 2 jobs per device, 5 logs per job.
fn small(out: PathBuf, seed: u64) -> GenerateOptions {
    GenerateOptions {
        partners: 3,
        companies_per_partner: 4,
        devices_per_company: 3,
        jobs_per_device: 2,
        logs_per_job: 5,
        seed,
        out,
    }
}

fn generated(opts: &GenerateOptions) -> BTreeMap<&'static str, u64> {
    match generate(opts) {
        Ok(counts) => counts.into_iter().collect(),
        Err(e) => panic!("generate {}: {e}", opts.out.display()),
    }
}

/// The records of a generated collection file, asserting one record per line
/// between a `[` line and a `]` line.
fn records(dir: &Path, name: &str) -> Vec<Record> {
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{name}: {text}");
    assert_eq!(lines[0], "[", "{name} opens the array on its own line");
    assert_eq!(
        lines[lines.len() - 1],
        "]",
        "{name} closes it on its own line"
    );
    let body = &lines[1..lines.len() - 1];
    body.iter()
        .enumerate()
        .map(|(i, line)| {
            let last = i + 1 == body.len();
            let json = if last {
                line
            } else {
                line.strip_suffix(',').unwrap_or_else(|| {
                    panic!("{name} line {}: a record per line, then a comma", i + 2)
                })
            };
            serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("{name} line {}: {e}: {line}", i + 2))
        })
        .collect()
}

fn int(r: &Record, name: &str) -> i64 {
    r.get(name)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("{name} is not an integer in {r:?}"))
}

fn text<'a>(r: &'a Record, name: &str) -> Option<&'a str> {
    r.get(name).and_then(Value::as_str)
}

fn truthy(r: &Record, name: &str) -> bool {
    r.get(name) == Some(&Value::Bool(true))
}

/// Records by their primary key.
fn by_id(recs: &[Record], key: &str) -> HashMap<i64, Record> {
    recs.iter().map(|r| (int(r, key), r.clone())).collect()
}

#[test]
fn a_small_set_loads_with_no_problem_and_the_counts_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    // an existing, empty directory is fine
    let dir = tmp.path().join("set");
    std::fs::create_dir(&dir).unwrap();
    let opts = small(dir.clone(), 42);
    let counts = match generate(&opts) {
        Ok(c) => c,
        Err(e) => panic!("generate: {e}"),
    };

    // the counts come in load order, then the API keys
    let names: Vec<&str> = counts.iter().map(|(n, _)| *n).collect();
    let mut expected: Vec<&str> = Res::ALL.iter().map(|r| r.name()).collect();
    expected.push("apikeys");
    assert_eq!(names, expected);
    let counts: BTreeMap<&str, u64> = counts.into_iter().collect();

    // `check` finds no problem, and the records loaded are the records written
    let loaded = match fixtures::load(&dir, 0) {
        Ok(l) => l,
        Err(problems) => {
            let all: Vec<String> = problems.iter().take(20).map(|p| p.to_string()).collect();
            panic!("{} problem(s):\n{}", problems.len(), all.join("\n"));
        }
    };
    for (res, n) in loaded.state.counts() {
        assert_eq!(counts[res.name()], n as u64, "{}", res.name());
    }
    assert_eq!(counts["apikeys"], loaded.state.keys.len() as u64);
    assert_eq!(counts["apikeys"], 4, "gen-partner-1..3 and gen-admin");

    // the arithmetic of the options
    let (p, c, d, j, l) = (3, 3 * 4, 3 * 4 * 3, 3 * 4 * 3 * 2, 3 * 4 * 3 * 2 * 5);
    assert_eq!(counts["plantypes"], 1);
    assert_eq!(counts["plans"], 3);
    assert_eq!(counts["backuptypes"], 2);
    assert_eq!(counts["partners"], p);
    assert_eq!(counts["companies"], c);
    assert_eq!(counts["subscriptions"], c, "one subscription per company");
    assert_eq!(counts["devices"], d);
    assert_eq!(counts["jobs"], j);
    assert_eq!(counts["logs"], l);
    assert!((p..=3 * p).contains(&counts["partnerusers"]));
    assert!((c..=3 * c).contains(&counts["companyusers"]));
    assert!((j..=3 * j).contains(&counts["jobitems"]));
    assert_eq!(
        counts["logitems"],
        counts["jobitems"] * 5,
        "one log item per job item per log"
    );

    // events: one Added event per record added, one outcome per job's latest log
    let events = records(&dir, "events");
    assert_eq!(events.len() as u64, counts["events"]);
    let mut by_type: BTreeMap<i64, u64> = BTreeMap::new();
    for e in &events {
        *by_type.entry(int(e, "EventTypeId")).or_default() += 1;
    }
    let of = |t: i64| by_type.get(&t).copied().unwrap_or(0);
    assert_eq!(of(11), counts["partnerusers"]);
    assert_eq!(of(21), c);
    assert_eq!(of(61), counts["companyusers"]);
    assert_eq!(of(71), c);
    assert_eq!(of(31), d);
    assert_eq!(of(41), j);
    assert_eq!(of(51), counts["jobitems"]);
    assert_eq!(of(81) + of(82) + of(83), j);
    let known = [2, 11, 21, 22, 31, 32, 41, 42, 51, 61, 71, 81, 82, 83];
    assert!(by_type.keys().all(|t| known.contains(t)), "{by_type:?}");

    // every file: ids ascending from 1, every scalar attribute of the table
    // written, no embedded objects or child arrays, timestamps in the API format
    for res in Res::ALL {
        let recs = records(&dir, res.name());
        assert_eq!(recs.len() as u64, counts[res.name()], "{}", res.name());
        let attrs: Vec<_> = res.def().attrs.iter().filter(|a| a.is_stored()).collect();
        let key = attrs[0].name;
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(
                int(r, key),
                i as i64 + 1,
                "{} ids ascend from 1",
                res.name()
            );
            let names: Vec<&str> = r.keys().map(String::as_str).collect();
            let want: Vec<&str> = attrs.iter().map(|a| a.name).collect();
            assert_eq!(
                names.iter().collect::<BTreeSet<_>>(),
                want.iter().collect::<BTreeSet<_>>(),
                "{} record {}",
                res.name(),
                i + 1
            );
            for a in &attrs {
                if let (Kind::Utc | Kind::Local, Some(t)) = (a.kind, text(r, a.name)) {
                    let b = t.as_bytes();
                    assert!(
                        b.len() == 23 && b[10] == b'T' && b[19] == b'.',
                        "{}.{} = {t}",
                        res.name(),
                        a.name
                    );
                }
            }
        }
    }
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("apikeys.json")).unwrap()).unwrap();
    assert_eq!(
        keys,
        serde_json::json!([
            {"ApiKey": "gen-partner-1", "PartnerId": 1, "PartnerPlan": true},
            {"ApiKey": "gen-partner-2", "PartnerId": 2, "PartnerPlan": true},
            {"ApiKey": "gen-partner-3", "PartnerId": 3, "PartnerPlan": true},
            {"ApiKey": "gen-admin", "Admin": true},
        ])
    );
}

#[test]
fn the_records_follow_the_api_rules_and_look_real() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    generated(&small(dir.clone(), 7));
    let companies = records(&dir, "companies");
    let subs = by_id(&records(&dir, "subscriptions"), "SubscriptionId");
    let plans = by_id(&records(&dir, "plans"), "PlanId");
    let devices = by_id(&records(&dir, "devices"), "DeviceId");
    let jobs = by_id(&records(&dir, "jobs"), "JobId");
    let items = records(&dir, "jobitems");
    let logs = records(&dir, "logs");
    let log_items = records(&dir, "logitems");

    // reference data as the vendor's examples and the default fixtures hold it
    for name in ["plantypes", "plans", "backuptypes"] {
        let default: Vec<Record> = serde_json::from_value(common::default_fixture(name)).unwrap();
        for r in records(&dir, name) {
            assert!(
                default.contains(&r),
                "{name}: {r:?} is in the default fixtures"
            );
        }
    }

    // varied and realistic
    let names: BTreeSet<&str> = companies.iter().filter_map(|c| text(c, "Name")).collect();
    assert!(names.len() >= 10, "{names:?}");
    let countries: BTreeSet<&str> = companies
        .iter()
        .filter_map(|c| text(c, "Country"))
        .collect();
    assert!(countries.len() >= 2, "{countries:?}");
    let zones: BTreeSet<&str> = devices
        .values()
        .filter_map(|d| text(d, "TimeZoneId"))
        .collect();
    assert!(zones.len() >= 3, "{zones:?}");
    let frequencies: BTreeSet<&str> = jobs.values().filter_map(|j| text(j, "Frequency")).collect();
    assert!(frequencies.len() >= 2, "{frequencies:?}");
    assert!(
        frequencies
            .iter()
            .all(|f| cleverfox_sandbox::domain::resources::FREQUENCIES.contains(f))
    );

    // one subscription per company; every device on its own company's, within the device limit
    let mut per_company = BTreeMap::new();
    for s in subs.values() {
        *per_company.entry(int(s, "CompanyId")).or_insert(0) += 1;
    }
    assert_eq!(per_company.len(), companies.len());
    assert!(per_company.values().all(|&n| n == 1));
    let mut active: BTreeMap<i64, i64> = BTreeMap::new();
    for d in devices.values() {
        let s = &subs[&int(d, "SubscriptionId")];
        assert_eq!(int(s, "CompanyId"), int(d, "CompanyId"));
        if !truthy(d, "IsInactive") {
            *active.entry(int(s, "SubscriptionId")).or_default() += 1;
        }
        let key = text(d, "ApiKey").unwrap();
        assert!(
            key.len() == 32
                && key
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "ApiKey {key}"
        );
        let notifies = ["Completed", "Failed", "Missed"]
            .iter()
            .any(|o| truthy(d, &format!("SendNotificationOnJob{o}")));
        assert!(
            !notifies || text(d, "SendNotificationTo").is_some(),
            "{d:?}"
        );
    }
    for (sid, n) in active {
        let s = &subs[&sid];
        let limit = int(&plans[&int(s, "PlanId")], "DeviceLimit") + int(s, "AdditionalDevice");
        assert!(
            n <= limit,
            "subscription {sid}: {n} active devices, limit {limit}"
        );
    }
    for s in subs.values() {
        assert!(
            !truthy(s, "SendNotificationOnStorageLimit") || text(s, "SendNotificationTo").is_some()
        );
    }

    // job items by engine: files and SQL Server (Windows authentication) both
    let mut items_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut engines = BTreeSet::new();
    for i in &items {
        items_of
            .entry(int(i, "JobId"))
            .or_default()
            .push(int(i, "JobItemId"));
        match int(i, "BackupTypeId") {
            1 => {
                assert!(text(i, "BaseFolder").is_some() && text(i, "SearchPatterns").is_some());
                engines.insert("File");
            }
            2 => {
                assert!(text(i, "ServerName").is_some() && text(i, "DatabaseName").is_some());
                assert_eq!(text(i, "AuthenticationMode"), Some("W"));
                engines.insert("SQLServer");
            }
            other => panic!("BackupTypeId {other}"),
        }
    }
    assert_eq!(engines.len(), 2, "file and SQL Server jobs");
    assert_eq!(items_of.len(), jobs.len(), "every job has items");

    // logs name their company, device, subscription, plan and job consistently
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for log in &logs {
        let job = &jobs[&int(log, "JobId")];
        let device = &devices[&int(job, "DeviceId")];
        let sub = &subs[&int(device, "SubscriptionId")];
        assert_eq!(int(log, "DeviceId"), int(device, "DeviceId"));
        assert_eq!(int(log, "CompanyId"), int(device, "CompanyId"));
        assert_eq!(int(log, "SubscriptionId"), int(sub, "SubscriptionId"));
        assert_eq!(int(log, "PlanId"), int(sub, "PlanId"));
        assert_eq!(text(log, "TimeZoneId"), text(device, "TimeZoneId"));
        assert_eq!(text(log, "Frequency"), text(job, "Frequency"));
        let status = text(log, "JobStatus").unwrap();
        *outcomes.entry(status).or_default() += 1;
        let completed = log.get("JobCompletedOn").unwrap();
        match status {
            "Completed" => assert!(completed.is_string() && log["ErrorMessages"].is_null()),
            "Failed" => assert!(completed.is_string() && text(log, "ErrorMessages").is_some()),
            "Missed" => assert!(completed.is_null() && text(log, "ErrorMessages").is_some()),
            other => panic!("JobStatus {other}"),
        }
        assert!(text(log, "JobStartedOn").is_some_and(|t| t.len() == 23));
    }
    let share = |s: &str| outcomes.get(s).copied().unwrap_or(0) * 100 / logs.len();
    assert!((55..=85).contains(&share("Completed")), "{outcomes:?}");
    assert!((8..=32).contains(&share("Failed")), "{outcomes:?}");
    assert!((2..=20).contains(&share("Missed")), "{outcomes:?}");

    // one log item per job item per log, naming both
    let logs_by_id = by_id(&logs, "LogId");
    let mut items_of_log: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for li in &log_items {
        items_of_log
            .entry(int(li, "LogId"))
            .or_default()
            .push(int(li, "JobItemId"));
    }
    assert_eq!(items_of_log.len(), logs.len());
    for (log_id, item_ids) in items_of_log {
        let job_id = int(&logs_by_id[&log_id], "JobId");
        assert_eq!(item_ids, items_of[&job_id], "log {log_id}");
    }
}

#[test]
fn the_same_options_give_the_same_bytes_and_another_seed_other_data() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    generated(&small(a.clone(), 1234));
    generated(&small(b.clone(), 1234));
    generated(&small(c.clone(), 1235));
    let mut files: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 15, "{files:?}");
    let mut differing = Vec::new();
    for f in &files {
        let bytes = std::fs::read(a.join(f)).unwrap();
        assert!(
            bytes == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
        if bytes != std::fs::read(c.join(f)).unwrap() {
            differing.push(f.as_str());
        }
    }
    for f in ["companies.json", "devices.json", "jobs.json", "logs.json"] {
        assert!(differing.contains(&f), "{f} is the same for another seed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_serves_a_generated_set() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    let opts = small(dir.clone(), 42);
    generated(&opts);
    let devices = records(&dir, "devices");
    let companies = by_id(&records(&dir, "companies"), "CompanyId");
    let sb = Sandbox::with(Config {
        fixtures: dir.clone(),
        ..Config::default()
    })
    .await;

    // partner 2 sees exactly its own companies
    let list = sb
        .get_json("gen-partner-2", "/api/companies?PageSize=500")
        .await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), opts.companies_per_partner as usize);
    assert!(data.iter().all(|c| c["PartnerId"] == 2), "{data:?}");

    // a device read embeds its company and its subscription
    let device = devices
        .iter()
        .find(|d| int(&companies[&int(d, "CompanyId")], "PartnerId") == 2)
        .expect("partner 2 has devices");
    let id = int(device, "DeviceId");
    let read = sb
        .get_json("gen-partner-2", &format!("/api/devices/{id}"))
        .await;
    let d = &read["data"];
    assert_eq!(d["DeviceId"], id);
    assert_eq!(d["Company"]["CompanyId"], device["CompanyId"]);
    assert_eq!(d["Company"]["PartnerId"], 2);
    assert_eq!(
        d["Subscription"]["SubscriptionId"],
        device["SubscriptionId"]
    );
    assert_eq!(d["Subscription"]["CompanyId"], device["CompanyId"]);

    // another partner's device does not exist for partner 2
    let other = devices
        .iter()
        .find(|d| int(&companies[&int(d, "CompanyId")], "PartnerId") == 1)
        .expect("partner 1 has devices");
    let r = sb
        .get(
            "gen-partner-2",
            &format!("/api/devices/{}", int(other, "DeviceId")),
        )
        .await;
    assert_eq!(r.status(), 404);

    // logs of all three outcomes
    let logs = sb.get_json("gen-partner-2", "/api/logs?PageSize=500").await;
    let statuses: BTreeSet<&str> = logs["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["JobStatus"].as_str())
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["Completed", "Failed", "Missed"]),
        "partner 2's logs"
    );

    // the admin key opens the control API, and the counts are the set's
    let health = sb.get_json("gen-admin", "/_sandbox/health").await;
    assert_eq!(health["counts"]["devices"], devices.len());
    sb.stop().await;
}

#[test]
fn an_existing_directory_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();

    // a non-empty directory: refused, left as it was
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("companies.json"), "[]\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let err = generate(&small(dir.clone(), 1)).unwrap_err();
    assert!(
        matches!(err, GenerateError::NotEmpty(ref p) if p == &dir),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("not empty") && msg.contains("mine"), "{msg}");
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["companies.json", "notes.txt"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("companies.json")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );

    // a file where the directory should be: refused, untouched
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = generate(&small(file.clone(), 1)).unwrap_err();
    assert!(matches!(err, GenerateError::NotADirectory(_)), "{err:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // bad options: refused before anything is created
    let fresh = tmp.path().join("fresh");
    for opts in [
        GenerateOptions {
            partners: 0,
            ..small(fresh.clone(), 1)
        },
        GenerateOptions {
            companies_per_partner: 0,
            ..small(fresh.clone(), 1)
        },
        GenerateOptions {
            partners: u32::MAX,
            companies_per_partner: u32::MAX,
            devices_per_company: u32::MAX,
            ..small(fresh.clone(), 1)
        },
        GenerateOptions {
            out: PathBuf::new(),
            ..small(fresh.clone(), 1)
        },
    ] {
        let err = generate(&opts).unwrap_err();
        assert!(matches!(err, GenerateError::BadOption(_)), "{err:?}");
        assert!(!err.to_string().is_empty());
        assert!(!fresh.exists(), "nothing is created for {opts:?}");
    }

    // no devices, jobs or logs at all is a valid (if small) set
    let empty = tmp.path().join("empty");
    let counts = generated(&GenerateOptions {
        devices_per_company: 0,
        jobs_per_device: 0,
        logs_per_job: 0,
        ..small(empty.clone(), 1)
    });
    assert_eq!(counts["devices"], 0);
    assert_eq!(counts["logs"], 0);
    assert!(fixtures::load(&empty, 0).is_ok());
}
