//! Every common way of saving a file is picked up.

use super::*;

// ------------------------------------------------------------------ ways of saving

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_in_place_is_served() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    assert_eq!(t.company1().await.name(), ABC);
    let before = t.loaded_at().await;

    std::fs::write(
        file_in(dir.path(), "companies.json"),
        companies_with_name("Written in place"),
    )
    .unwrap();
    t.wait_company1("Written in place").await;

    assert_ne!(t.loaded_at().await, before, "loaded_at moves on a reload");
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_file_renamed_over_is_served_and_is_ignored_until_the_rename() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");
    let mut expected = ABC.to_string();
    for (tmp, name) in [
        (".companies.json.swp", "Saved through .companies.json.swp"),
        ("companies.json.tmp", "Saved through companies.json.tmp"),
    ] {
        let before = t.loaded_at().await;
        let tmp = file_in(dir.path(), tmp);
        std::fs::write(&tmp, companies_with_name(name)).unwrap();
        // Fixed sleep: let the debounce window pass, so that a reload the
        // temporary file wrongly triggered would have happened by now.
        tokio::time::sleep(QUIET).await;
        assert_eq!(t.loaded_at().await, before, "{tmp:?} alone reloads nothing");
        assert_eq!(t.company1().await.name(), expected);

        std::fs::rename(&tmp, &target).unwrap();
        t.wait_company1(name).await;
        assert!(!tmp.exists());
        expected = name.to_string();
    }
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncating_then_writing_is_served_and_a_half_written_file_is_never_swapped_in() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");

    // As an editor does it: truncate, two chunks, flush between, close.
    let text = companies_with_name("Truncated then written");
    let (a, b) = text.split_at(text.len() / 2);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&target)
            .unwrap();
        f.write_all(a.as_bytes()).unwrap();
        f.flush().unwrap();
        f.write_all(b.as_bytes()).unwrap();
        f.flush().unwrap();
    }
    t.wait_company1("Truncated then written").await;
    t.wait_no_fixture_error().await;

    // Slowly: the half-written file sits on disk past the debounce window,
    // is loaded, refused, and the last good data stays.
    let text = companies_with_name("Written slowly");
    let (a, b) = text.split_at(text.len() / 2);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&target)
        .unwrap();
    f.write_all(a.as_bytes()).unwrap();
    f.flush().unwrap();
    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("companies.json"), "{flag}");
    assert_eq!(t.company1().await.name(), "Truncated then written");
    f.write_all(b.as_bytes()).unwrap();
    f.flush().unwrap();
    drop(f);
    t.wait_company1("Written slowly").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_then_recreating_a_file_is_served() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let target = file_in(dir.path(), "companies.json");

    std::fs::remove_file(&target).unwrap();
    std::fs::write(&target, companies_with_name("Deleted and re-created")).unwrap();
    t.wait_company1("Deleted and re-created").await;
    t.wait_no_fixture_error().await;

    // Slowly: without companies.json the set is invalid (devices, users and
    // subscriptions name companies), so nothing is swapped in meanwhile.
    std::fs::remove_file(&target).unwrap();
    t.wait_fixture_error().await;
    assert_eq!(t.company1().await.name(), "Deleted and re-created");
    assert_eq!(t.health().await["status"], "degraded");
    std::fs::write(&target, companies_with_name("Re-created slowly")).unwrap();
    t.wait_company1("Re-created slowly").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_file_that_appears_fills_its_collection() {
    let dir = fixtures_with(&[]);
    std::fs::remove_file(file_in(dir.path(), "logitems.json")).unwrap();
    let t = Client::watching(dir.path()).await;
    assert_eq!(counts_of(&t.health().await)["logitems"], 0);
    let r = t.get(PARTNER1, "/api/logitems").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(
        r.body["data"],
        json!([]),
        "a missing file is an empty collection"
    );

    std::fs::write(
        file_in(dir.path(), "logitems.json"),
        default_text("logitems"),
    )
    .unwrap();
    let list = eventually("log items listed", async || {
        let r = t.get(PARTNER1, "/api/logitems?PageSize=500").await;
        match r.body["data"].as_array() {
            Some(a) if r.status == 200 && !a.is_empty() => Ok(a.clone()),
            _ => Err(r.show()),
        }
    })
    .await;
    let h = t.health().await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    let id = &list[0]["LogItemId"];
    let one = t.get(PARTNER1, &format!("/api/logitems/{id}")).await;
    assert_eq!(one.status, 200, "{}", one.show());
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_file_that_is_removed_empties_its_collection() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let r = t.get(PARTNER1, "/api/logitems").await;
    let first = r.body["data"][0]["LogItemId"].clone();
    assert!(first.is_i64(), "partner 1 has log items: {}", r.show());

    std::fs::remove_file(file_in(dir.path(), "logitems.json")).unwrap();
    eventually("log item gone", async || {
        let r = t.get(PARTNER1, &format!("/api/logitems/{first}")).await;
        if r.status == 404 {
            Ok(())
        } else {
            Err(r.show())
        }
    })
    .await;
    let r = t.get(PARTNER1, "/api/logitems").await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.body["data"], json!([]));
    let mut expected = fixture_counts();
    expected.insert("logitems".into(), 0);
    assert_eq!(counts_of(&t.health().await), expected);
    assert_eq!(t.company1().await.name(), ABC, "the rest is unchanged");
    t.assert_clean(true).await;
}
