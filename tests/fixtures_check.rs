//! `cleverfox-sandbox check` and fixture loading problems (API.md section 5),
//! run against the built binary on temporary fixture directories.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    Config, PARTNER1, Run, STEP, Sandbox, default_text, path_str, run_binary, start_sandbox,
};
use serde_json::{Value, json};
use tokio::time::timeout;

/// A `check` run must end within this (it is killed past it).
const CHECK_LIMIT: Duration = Duration::from_secs(15);

/// What `check` asks of a run of the binary, besides what tests/common
/// gives.
impl Run {
    fn assert_failed(&self) {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "check must exit non-zero, got {:?}:\n{}",
            self.code,
            self.all()
        );
    }

    fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "check must pass:\n{}", self.all());
        assert!(
            self.stdout.contains("OK"),
            "stdout says OK:\n{}",
            self.all()
        );
    }

    /// The number the count line gives (`…: N problem(s)`).
    fn problem_count(&self) -> usize {
        let line = self.line_with("problem(s)");
        let words: Vec<&str> = line.split_whitespace().collect();
        let i = words
            .iter()
            .position(|w| *w == "problem(s)")
            .expect("count word");
        words[i - 1]
            .parse()
            .unwrap_or_else(|_| panic!("count line: {line}"))
    }
}

/// Runs `cleverfox-sandbox check --fixtures PATH` (stdin closed, bounded).
async fn check(path: &Path) -> Run {
    let args = vec![
        "check".to_string(),
        "--fixtures".to_string(),
        path_str(path),
    ];
    run_binary(args, Vec::new(), CHECK_LIMIT).await
}

fn records(name: &str) -> Vec<Value> {
    match common::default_fixture(name) {
        Value::Array(a) => a,
        other => panic!("{name}.json is not an array: {other}"),
    }
}

/// One record per line: line 1 is `[`, record i (0-based) is on line i + 2.
fn one_per_line(recs: &[Value]) -> String {
    let lines: Vec<String> = recs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..at].chars().count() + 1)
}

/// Line and column of the only occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    assert_eq!(
        text.matches(needle).count(),
        1,
        "{needle:?} must be unique in the text"
    );
    line_col(text, at)
}

/// Line and column of `needle` in the line of record `index` of a
/// [`one_per_line`] text.
fn in_record(text: &str, index: usize, needle: &str) -> (usize, usize) {
    let line = index + 2;
    let content = text.lines().nth(line - 1).unwrap();
    assert_eq!(
        content.matches(needle).count(),
        1,
        "{needle:?} once in {content}"
    );
    let at = content.find(needle).unwrap();
    (line, content[..at].chars().count() + 1)
}

/// Replaces the only occurrence of `from`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must be unique");
    text.replacen(from, to, 1)
}

fn sandbox_config(fixtures: &Path) -> Config {
    Config {
        fixtures: fixtures.to_path_buf(),
        ..Config::default()
    }
}

async fn get_json(sb: &Sandbox, key: &str, path: &str) -> Value {
    timeout(STEP, sb.get_json(key, path))
        .await
        .expect("GET answers")
}

/// The record count of the OK line: `…: OK (F files, R records)`.
fn records_loaded(run: &Run) -> usize {
    let line = run.line_with("OK (");
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| w.starts_with("records"))
        .unwrap_or_else(|| panic!("OK line: {line}"));
    words[i - 1].parse().unwrap()
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_fixtures_pass() {
    let run = check(&common::default_fixtures()).await;
    run.assert_ok();
    assert!(
        !run.all().contains("problem"),
        "no problem reported:\n{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_type_is_reported_with_file_line_column_record_and_attribute() {
    let mut recs = records("companies");
    assert_eq!(recs[1]["CompanyId"], 2);
    recs[1]["Name"] = json!(42);
    let text = one_per_line(&recs);
    // record 2 is on line 3; the problem is located at its "Name"
    let (line, col) = in_record(&text, 1, r#""Name":42"#);
    assert_eq!(line, 3);
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let expected = format!("companies.json:{line}:{col}: CompanyId 2: Name: must be a string");
    assert!(
        run.all().contains(&expected),
        "{expected:?} in:\n{}",
        run.all()
    );
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_longer_than_its_length_is_refused() {
    let mut recs = records("companies");
    recs[2]["Name"] = json!("x".repeat(101));
    let text = one_per_line(&recs);
    let (line, col) = locate(&text, &format!(r#""Name":"{}""#, "x".repeat(101)));
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let at = format!("companies.json:{line}:{col}: CompanyId 3: Name: ");
    let problem = run.line_with(&at);
    assert!(problem.contains("100"), "names the length: {problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());

    // exactly 100 characters is fine, even when they take 200 bytes
    recs[2]["Name"] = json!("ä".repeat(100));
    let dir = common::fixtures_with(&[("companies", &one_per_line(&recs))]);
    check(dir.path()).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_attribute_is_refused() {
    let mut recs = records("companies");
    recs[0]["Nmae"] = json!("ABC");
    let text = one_per_line(&recs);
    let (line, col) = locate(&text, r#""Nmae""#);
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!("companies.json:{line}:{col}: CompanyId 1: Nmae: "));
    assert!(problem.contains("unknown attribute"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_timestamp_is_refused() {
    let mut recs = records("companies");
    recs[3]["AddedOn"] = json!("2018-02-30T09:18:44.731");
    let text = one_per_line(&recs);
    let (line, col) = locate(&text, r#""AddedOn":"2018-02-30"#);
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!(
        "companies.json:{line}:{col}: CompanyId 4: AddedOn: "
    ));
    assert!(problem.contains("timestamp"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_reference_is_refused() {
    let mut recs = records("devices");
    assert_eq!(recs[0]["DeviceId"], 1);
    recs[0]["CompanyId"] = json!(999);
    let text = one_per_line(&recs);
    let (line, col) = locate(&text, r#""CompanyId":999"#);
    let dir = common::fixtures_with(&[("devices", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!(
        "devices.json:{line}:{col}: DeviceId 1: CompanyId: "
    ));
    assert!(problem.contains("999"), "{problem}");
    assert!(problem.contains("does not exist"), "{problem}");
    // the missing company is the one problem: its subscription is not also
    // reported as belonging to another company
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_of_another_company_is_refused() {
    let mut recs = records("devices");
    assert_eq!(recs[0]["CompanyId"], 1);
    let subs = records("subscriptions");
    let other = subs
        .iter()
        .find(|s| s["CompanyId"] != 1)
        .expect("a subscription of another company");
    let sid = other["SubscriptionId"].as_i64().unwrap();
    recs[0]["SubscriptionId"] = json!(sid);
    let text = one_per_line(&recs);
    let (line, col) = in_record(&text, 0, &format!(r#""SubscriptionId":{sid}"#));
    let dir = common::fixtures_with(&[("devices", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!(
        "devices.json:{line}:{col}: DeviceId 1: SubscriptionId: "
    ));
    assert!(problem.contains("another CompanyId"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_primary_key_is_refused() {
    let mut recs = records("companies");
    let mut dup = recs[0].clone();
    dup["Name"] = json!("A second Company 1");
    recs.push(dup);
    let text = one_per_line(&recs);
    let line = recs.len() + 1; // the last record's line
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!("companies.json:{line}:1: CompanyId 1: "));
    assert!(problem.contains("more than once"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_is_located() {
    // A comma missing inside a record in the middle of the (pretty-printed)
    // default file: the error is where "Country" starts, on the next line.
    let original = default_text("companies");
    let text = replace_once(
        &original,
        "\"PostalCode\": \"43604\",",
        "\"PostalCode\": \"43604\"",
    );
    let after = text.find("\"PostalCode\": \"43604\"").unwrap();
    let at = after + text[after..].find("\"Country\"").unwrap();
    let (line, col) = line_col(&text, at);
    assert!(line > 30, "in the middle of the file");
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let expected = format!("companies.json:{line}:{col}: ");
    assert!(
        run.all().contains(&expected),
        "{expected:?} in:\n{}",
        run.all()
    );

    // A comma missing after non-ASCII text on a record's line: the column
    // counts characters, as editors show them.
    let recs = records("companies");
    let good = one_per_line(&recs);
    let line_no = 5; // record 4, Bäckerei Hofmann GmbH
    let line = good.lines().nth(line_no - 1).unwrap();
    assert_eq!(recs[3]["CompanyId"], 4);
    let first_non_ascii = line.find(|c: char| !c.is_ascii()).unwrap();
    let comma = first_non_ascii + line[first_non_ascii..].find(",\"").unwrap();
    let broken = format!("{}{}", &line[..comma], &line[comma + 1..]);
    let expected_col = line[..comma].chars().count() + 1; // the '"' now there
    assert!(expected_col < comma + 1, "multi-byte characters before it");
    let text = good.replacen(line, &broken, 1);
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let expected = format!("companies.json:{line_no}:{expected_col}: ");
    assert!(
        run.all().contains(&expected),
        "{expected:?} in:\n{}",
        run.all()
    );

    // A comma missing between two records: the error is at the second one.
    let recs = records("companies");
    let good = one_per_line(&recs);
    let text = good.replacen("},\n{", "}\n{", 1);
    assert_ne!(text, good);
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    assert!(
        run.all().contains("companies.json:3:1: "),
        "the second record's line and column:\n{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_file_is_refused() {
    let dir = common::fixtures_with(&[("companyusers", "")]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with("companyusers.json:1:1: ");
    assert!(problem.contains("empty"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_problems_are_reported_at_once() {
    let mut companies = records("companies");
    companies[1]["Name"] = json!(42);
    let companies = one_per_line(&companies);
    let mut devices = records("devices");
    devices[4]["CompanyId"] = json!(999);
    devices[4]["SubscriptionId"] = Value::Null;
    let device_id = devices[4]["DeviceId"].as_i64().unwrap();
    let devices = one_per_line(&devices);
    let (cl, cc) = locate(&companies, r#""Name":42"#);
    let (dl, dc) = locate(&devices, r#""CompanyId":999"#);
    let dir = common::fixtures_with(&[("companies", &companies), ("devices", &devices)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let all = run.all();
    assert!(
        all.contains(&format!("companies.json:{cl}:{cc}: CompanyId 2: Name: ")),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "devices.json:{dl}:{dc}: DeviceId {device_id}: CompanyId: "
        )),
        "{all}"
    );
    assert_eq!(run.problem_count(), 2, "{all}");
    // one located line per problem
    let located = all.lines().filter(|l| l.contains(".json:")).count();
    assert_eq!(located, 2, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_list_response_loads_and_embedded_objects_are_ignored() {
    let default_run = check(&common::default_fixtures()).await;
    default_run.assert_ok();
    let partner1_name = records("partners")
        .into_iter()
        .find(|p| p["PartnerId"] == 1)
        .unwrap()["Name"]
        .clone();

    let mut recs = records("companies");
    for r in &mut recs {
        // an embedded object that disagrees with partners.json, and even
        // carries an attribute no partner has: it is ignored all the same
        r["Partner"] = json!({
            "PartnerId": r["PartnerId"],
            "Name": "Embedded Name Is Ignored",
            "NotAPartnerAttribute": true
        });
        r["PlanType"] = json!({"PlanTypeId": 1, "Name": "ignored", "IsInactive": true});
    }
    let pasted = json!({"data": recs, "page_no": 1, "page_size": 25});
    let text = serde_json::to_string_pretty(&pasted).unwrap();
    let dir = common::fixtures_with(&[("companies", &text)]);
    let run = check(dir.path()).await;
    run.assert_ok();
    assert_eq!(
        records_loaded(&run),
        records_loaded(&default_run),
        "every company of the pasted response is loaded"
    );

    let sb = start_sandbox(sandbox_config(dir.path())).await;
    let body = get_json(&sb, PARTNER1, "/api/companies/1").await;
    assert_eq!(body["data"]["Name"], "ABC Company, Inc.");
    assert_eq!(body["data"]["Partner"]["Name"], partner1_name);
    assert!(
        body["data"]["Partner"]
            .get("NotAPartnerAttribute")
            .is_none()
    );
    assert_eq!(body["data"]["PlanType"]["Name"], "CleverFox Backup");
    timeout(STEP, sb.stop()).await.expect("stops");
}

fn default_bundle() -> serde_json::Map<String, Value> {
    let mut bundle = serde_json::Map::new();
    for entry in std::fs::read_dir(common::default_fixtures()).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        if p.extension().is_some_and(|e| e == "json") && name != "sandbox" {
            bundle.insert(name.clone(), common::default_fixture(&name));
        }
    }
    assert!(bundle.contains_key("apikeys") && bundle.contains_key("companies"));
    bundle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_file_loads() {
    let default_run = check(&common::default_fixtures()).await;
    default_run.assert_ok();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bundle.json");
    let text = serde_json::to_string_pretty(&Value::Object(default_bundle())).unwrap();
    std::fs::write(&file, text).unwrap();
    let run = check(&file).await;
    run.assert_ok();
    assert_eq!(records_loaded(&run), records_loaded(&default_run));

    let sb = start_sandbox(sandbox_config(&file)).await;
    let body = get_json(&sb, PARTNER1, "/api/companies/1").await;
    assert_eq!(body["data"]["Name"], "ABC Company, Inc.");
    timeout(STEP, sb.stop()).await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_with_unknown_member_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bundle.json");
    let mut members: Vec<String> = default_bundle()
        .into_iter()
        .map(|(k, v)| format!("{}: {}", json!(k), v))
        .collect();
    members.push(r#""compnies": []"#.into());
    let text = format!("{{\n{}\n}}\n", members.join(",\n"));
    let (line, col) = locate(&text, r#""compnies""#);
    std::fs::write(&file, &text).unwrap();
    let run = check(&file).await;
    run.assert_failed();
    let problem = run.line_with(&format!("bundle.json:{line}:{col}: "));
    assert!(problem.contains("compnies"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_apikeys_file_is_refused() {
    let dir = common::fixtures_with(&[]);
    std::fs::remove_file(dir.path().join("apikeys.json")).unwrap();
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with("apikeys.json");
    assert!(problem.contains("missing"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

const KEYS_HEAD: &str = r#"[
  {"ApiKey": "demo-partner-1", "PartnerId": 1, "PartnerPlan": true},
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_naming_a_missing_partner_is_refused() {
    let text = format!(
        "{KEYS_HEAD}  {{\"ApiKey\": \"ghost\", \"PartnerId\": 99, \"PartnerPlan\": true}}\n]\n"
    );
    let (line, col) = locate(&text, r#""PartnerId": 99"#);
    let dir = common::fixtures_with(&[("apikeys", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!("apikeys.json:{line}:{col}: PartnerId: "));
    assert!(problem.contains("99"), "{problem}");
    assert!(problem.contains("does not exist"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_apikey_is_refused() {
    let text = format!(
        "{KEYS_HEAD}  {{\"ApiKey\": \"demo-partner-1\", \"PartnerId\": 2, \"PartnerPlan\": true}}\n]\n"
    );
    let at = text.rfind(r#""ApiKey""#).unwrap();
    let (line, col) = line_col(&text, at);
    assert_eq!((line, col), (3, 4));
    let dir = common::fixtures_with(&[("apikeys", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    let problem = run.line_with(&format!("apikeys.json:{line}:{col}: ApiKey: "));
    assert!(problem.contains("more than once"), "{problem}");
    assert_eq!(run.problem_count(), 1, "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_may_name_deleted_records_and_renders_them_null() {
    let companies = records("companies");
    let partner1_companies: Vec<&Value> = companies
        .iter()
        .filter(|c| c["PartnerId"] == 1)
        .map(|c| &c["CompanyId"])
        .collect();
    let mut logs = records("logs");
    let mine: Vec<usize> = (0..logs.len())
        .filter(|&i| {
            partner1_companies.contains(&&logs[i]["CompanyId"]) && logs[i]["JobId"].is_i64()
        })
        .collect();
    assert!(mine.len() >= 2, "partner 1 has logs with jobs");
    let (changed, control) = (mine[0], mine[1]);
    logs[changed]["JobId"] = json!(9999);
    let changed_id = logs[changed]["LogId"].as_i64().unwrap();
    let control_id = logs[control]["LogId"].as_i64().unwrap();
    let control_job = logs[control]["JobId"].clone();
    let text = one_per_line(&logs);

    let dir = common::fixtures_with(&[("logs", &text)]);
    check(dir.path()).await.assert_ok();

    // the same reference in a collection that is not history is refused
    let mut items = records("jobitems");
    items[0]["JobId"] = json!(9999);
    let bad = common::fixtures_with(&[("jobitems", &one_per_line(&items))]);
    let run = check(bad.path()).await;
    run.assert_failed();
    assert!(run.all().contains("does not exist"), "{}", run.all());

    let sb = start_sandbox(sandbox_config(dir.path())).await;
    let body = get_json(&sb, PARTNER1, &format!("/api/logs/{changed_id}")).await;
    assert_eq!(body["data"]["LogId"], changed_id);
    assert_eq!(body["data"]["JobId"], 9999);
    assert!(
        body["data"].get("Job").is_some_and(Value::is_null),
        "Job renders null: {body}"
    );
    let body = get_json(&sb, PARTNER1, &format!("/api/logs/{control_id}")).await;
    assert_eq!(
        body["data"]["Job"]["JobId"], control_job,
        "a log whose job exists embeds it: {body}"
    );
    timeout(STEP, sb.stop()).await.expect("stops");
}

/// A wrongly typed attribute of apikeys.json is named, as in every other
/// fixture file ("every problem is reported with … the attribute").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_with_wrongly_typed_attribute_names_the_attribute() {
    let text = format!(
        "{KEYS_HEAD}  {{\"ApiKey\": \"typed\", \"PartnerId\": \"2\", \"PartnerPlan\": true}}\n]\n"
    );
    let dir = common::fixtures_with(&[("apikeys", &text)]);
    let run = check(dir.path()).await;
    run.assert_failed();
    assert_eq!(run.problem_count(), 1, "{}", run.all());
    let problem = run.line_with("apikeys.json:3:");
    assert!(
        problem.contains("PartnerId"),
        "the problem names the attribute PartnerId: {problem}"
    );
}

/// A collection file may list its records in any order: the map is built
/// from them once, sorted, so a file in reverse (or shuffled) order serves
/// exactly what the ascending file serves, page by page and by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_in_any_order_serve_as_in_ascending_order() {
    let ascending = records("events");
    assert!(ascending.len() > 32, "more than two leaves of the map");
    let mut shuffled = ascending.clone();
    shuffled.reverse();
    shuffled.swap(1, ascending.len() / 2);
    let ordered = common::fixtures_with(&[("events", &one_per_line(&ascending))]);
    let unordered = common::fixtures_with(&[("events", &one_per_line(&shuffled))]);
    let mut served = Vec::new();
    for dir in [&ordered, &unordered] {
        let sb = start_sandbox(sandbox_config(dir.path())).await;
        let mut bodies = Vec::new();
        for path in [
            "/api/events?PageSize=7",
            "/api/events?PageSize=7&PageNo=2",
            "/api/events/1",
        ] {
            bodies.push(get_json(&sb, PARTNER1, path).await);
        }
        timeout(STEP, sb.stop()).await.expect("stops");
        served.push(bodies);
    }
    assert_eq!(served[0], served[1]);
    let ids: Vec<i64> = served[0][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["EventId"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "descending: {ids:?}");
}
