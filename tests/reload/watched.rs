//! What is watched: unrelated files, `--no-watch`, health while
//! watching, and a fixtures directory removed or replaced.

use super::*;

// ------------------------------------------------------------------ what is watched

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_files_in_the_fixtures_directory_trigger_no_reload() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let before = t.loaded_at().await;

    let junk = companies_with_name("Never served");
    for name in [
        "notes.txt",
        "companies.json~",
        ".companies.json.swp",
        "companies.json.tmp",
        "4913",
    ] {
        std::fs::write(file_in(dir.path(), name), &junk).unwrap();
    }
    std::fs::write(file_in(dir.path(), "notes.txt"), "more notes\n").unwrap();
    // Fixed sleep: let the debounce window pass, so that a reload these
    // files wrongly triggered would have happened by now.
    tokio::time::sleep(QUIET).await;
    let h = t.health().await;
    assert_eq!(h["loaded_at"], json!(before), "no reload happened: {h}");
    assert_eq!(t.company1().await.name(), ABC);
    t.assert_clean(true).await;

    // The watcher is alive: a real edit is picked up, and the unrelated
    // files do not break the reload.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("A real edit"),
    )
    .unwrap();
    t.wait_company1("A real edit").await;
    let reloaded = t.loaded_at().await;
    assert_ne!(reloaded, before);
    // Fixed sleep: let the debounce window pass, so that a reload the
    // sandbox's own reading of the files wrongly triggered would have
    // happened by now.
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        t.loaded_at().await,
        reloaded,
        "a reload does not trigger another"
    );
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_watching_an_edit_changes_nothing() {
    let dir = fixtures_with(&[]);
    let t = Client::serving(dir.path(), false).await;
    let h = t.health().await;
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    let before = h["loaded_at"].clone();

    let target = file_in(dir.path(), "companies.json");
    std::fs::write(&target, companies_with_name("Not watched")).unwrap();
    let tmp = file_in(dir.path(), "companies.json.tmp");
    std::fs::write(&tmp, companies_with_name("Not watched either")).unwrap();
    std::fs::rename(&tmp, &target).unwrap();
    // Fixed sleep: let the debounce window pass, so that a reload (which
    // must not happen without watching) would have happened by now.
    tokio::time::sleep(QUIET).await;

    assert_eq!(t.company1().await.name(), ABC);
    let h = t.health().await;
    assert_eq!(h["loaded_at"], before, "{h}");
    assert_eq!(h["watching"], false, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    t.assert_clean(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_while_watching_reports_the_path_all_counts_and_a_new_loaded_at() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let h = t.health().await;
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["watching"], true, "{h}");
    assert_eq!(h["error"], Value::Null, "{h}");
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
    let named = PathBuf::from(h["fixtures"].as_str().expect("fixtures is a path"));
    assert_eq!(
        named.canonicalize().unwrap(),
        dir.path().canonicalize().unwrap(),
        "{h}"
    );
    let counts = counts_of(&h);
    assert_eq!(
        counts.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        COLLECTIONS.into_iter().collect::<BTreeSet<_>>(),
        "all fourteen collections: {h}"
    );
    assert_eq!(counts, fixture_counts(), "{h}");
    let before = h["loaded_at"].as_str().unwrap().to_string();
    assert_eq!(before.len(), "2026-01-01T00:00:00.000".len(), "{h}");

    // Add a company of partner 1.
    let mut companies = default_fixture("companies");
    companies.as_array_mut().unwrap().push(json!({
        "CompanyId": 100, "PartnerId": 1, "PlanTypeId": 1, "Name": "Added to the fixture"
    }));
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        serde_json::to_string_pretty(&companies).unwrap(),
    )
    .unwrap();
    let h = eventually("a new loaded_at", async || {
        let h = t.health().await;
        if h["loaded_at"] != json!(before) {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    let after = h["loaded_at"].as_str().unwrap();
    assert!(after > before.as_str(), "{before} -> {after}");
    let mut expected = fixture_counts();
    *expected.get_mut("companies").unwrap() += 1;
    assert_eq!(counts_of(&h), expected, "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["watching"], true, "{h}");
    let r = t.get(PARTNER1, "/api/companies/100").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.name(), "Added to the fixture");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_fixtures_directory_keeps_the_last_data_and_watching_resumes_when_it_returns() {
    let dir = fixtures_with(&[("companies", &companies_with_name("Before the removal"))]);
    let t = Client::watching(dir.path()).await;
    t.wait_company1("Before the removal").await;

    std::fs::remove_dir_all(dir.path()).unwrap();
    let h = eventually("health says watching stopped", async || {
        let h = t.health().await;
        if h["watching"] == false && h["status"] == "degraded" {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    assert_eq!(counts_of(&h), fixture_counts(), "the last good data: {h}");
    let r = t.company1().await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(
        r.name(),
        "Before the removal",
        "the last good data is served"
    );
    let r = t.get(PARTNER1, "/api/devices/1").await;
    assert_eq!(r.status, 200, "{}", r.show());

    // Re-create it as `cp -r` would, company 1 renamed, companies.json last.
    fill_with_defaults(dir.path(), "After the return");
    t.wait_company1("After the return").await;
    let h = eventually("health says watching again", async || {
        let h = t.health().await;
        if h["watching"] == true && h["status"] == "ok" {
            Ok(h)
        } else {
            Err(h.to_string())
        }
    })
    .await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;

    // And it watches again: a later edit is served.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("Edited after the return"),
    )
    .unwrap();
    t.wait_company1("Edited after the return").await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixtures_directory_replaced_by_a_rename_keeps_being_watched() {
    let parent = tempfile::tempdir().unwrap();
    let fixtures = parent.path().join("fixtures");
    fill_with_defaults(&fixtures, ABC);
    let t = Client::watching(&fixtures).await;

    // Replace the whole directory at once, as a tool that never leaves a
    // half-written directory behind does: prepare a sibling, then rename.
    let new = parent.path().join("fixtures.new");
    fill_with_defaults(&new, "Swapped in");
    std::fs::rename(&fixtures, parent.path().join("fixtures.old")).unwrap();
    std::fs::rename(&new, &fixtures).unwrap();
    t.wait_company1("Swapped in").await;

    // The directory now at the fixtures path is the one watched: a later
    // edit in it is served.
    std::fs::write(
        file_in(&fixtures, "companies.json"),
        companies_with_name("Edited after the swap"),
    )
    .unwrap();
    t.wait_company1("Edited after the swap").await;
    t.assert_clean(true).await;
}
