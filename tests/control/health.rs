//! Health.

use super::*;

// ---------------------------------------------------------------- 9. health

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_counts_of_the_current_state() {
    let t = Client::start().await;
    let h = t.admin("/_sandbox/health").await;
    assert_eq!(h["status"], "ok", "{h}");
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
    assert!(
        h["fixtures"]
            .as_str()
            .is_some_and(|f| f.contains("fixtures")),
        "{h}"
    );
    assert!(is_timestamp(h["loaded_at"].as_str().unwrap_or("")), "{h}");
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    // the log's drop counter (a server in-process has no log: nothing dropped)
    assert_eq!(h["log_lines_dropped"], 0, "{h}");
    let counts = h["counts"].as_object().expect("counts");
    assert_eq!(counts.len(), 14, "{h}");
    for coll in COLLECTIONS {
        let n = default_fixture(coll).as_array().unwrap().len();
        assert_eq!(counts[coll], n, "{coll}: {h}");
    }

    let before = t.counts().await;
    t.create(
        PARTNER1,
        "companies",
        &json!({"Name": "Counted Co", "PlanTypeId": 1}),
    )
    .await;
    let r = t.delete(PARTNER1, "/api/jobitems/3").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = t.counts().await;
    for coll in COLLECTIONS {
        let delta = match coll {
            "companies" => 1,
            "jobitems" => -1,
            "events" => 2,
            _ => 0,
        };
        assert_eq!(
            after[coll].as_i64().unwrap(),
            before[coll].as_i64().unwrap() + delta,
            "{coll}: {before} -> {after}"
        );
    }
}

/// A request refused by authentication still names the known key's partner
/// in the journal (null only for an unknown key, or an admin key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_names_the_partner_of_a_refused_known_key() {
    let t = Client::start().await;
    let no_plan = t.get(NO_PLAN, "/api/companies").await;
    assert_eq!(no_plan.status, 403, "{}", no_plan.text);
    let inactive = t.get(INACTIVE, "/api/companies").await;
    assert_eq!(inactive.status, 403, "{}", inactive.text);
    let admin = t.get(ADMIN, "/api/companies").await;
    assert_eq!(admin.status, 403, "{}", admin.text);
    let journal = t.journal("").await;
    let partner_of = |r: &Resp| {
        journal
            .iter()
            .find(|e| e["id"] == r.request_id())
            .unwrap_or_else(|| panic!("no entry for {}", r.request_id()))["partner_id"]
            .clone()
    };
    assert_eq!(partner_of(&no_plan), json!(3));
    assert_eq!(partner_of(&inactive), json!(4));
    assert_eq!(partner_of(&admin), Value::Null);
}
