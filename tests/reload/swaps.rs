//! A reload discards the changes made through the API, and swaps are
//! atomic under concurrent reads.

use super::*;

// ------------------------------------------------------------------ API changes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_discards_the_changes_made_through_the_api() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let list = "/api/companies?PageSize=500";
    let before = t.get(PARTNER1, list).await;
    assert_eq!(before.status, 200, "{}", before.show());
    let loaded = t.loaded_at().await;

    let created = t
        .post(
            PARTNER1,
            "/api/companies",
            &json!({"PlanTypeId": 1, "Name": "Made through the API"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.show());
    let id = created.body["data"]["CompanyId"].as_i64().unwrap();
    let path = format!("/api/companies/{id}");
    let r = t.get(PARTNER1, &path).await;
    assert_eq!(r.status, 200, "{}", r.show());
    assert_eq!(r.name(), "Made through the API");
    let h = t.health().await;
    assert_eq!(
        counts_of(&h)["companies"],
        fixture_counts()["companies"] + 1
    );
    assert_eq!(counts_of(&h)["events"], fixture_counts()["events"] + 1);

    // Save companies.json unchanged, as an editor's plain save does.
    std::fs::write(
        file_in(dir.path(), "companies.json"),
        default_text("companies"),
    )
    .unwrap();
    eventually("the API-created company gone", async || {
        let r = t.get(PARTNER1, &path).await;
        if r.status == 404 {
            Ok(())
        } else {
            Err(r.show())
        }
    })
    .await;

    let after = t.get(PARTNER1, list).await;
    assert_eq!(after.status, 200, "{}", after.show());
    assert_eq!(
        after.body, before.body,
        "the data equals the fixtures again"
    );
    let h = t.health().await;
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    assert_ne!(h["loaded_at"], json!(loaded), "{h}");
    t.assert_clean(true).await;
}

// ------------------------------------------------------------------ atomic swaps

/// The default fixtures as one bundle, with company 1 and partner 1 both
/// named `v{version}`: one GET /api/companies/1 shows both (the company
/// embeds its Partner), so a mix of two versions is visible.
fn bundle(base: &serde_json::Map<String, Value>, version: u64) -> String {
    let mut b = base.clone();
    let marker = json!(format!("v{version}"));
    for (coll, key) in [("companies", "CompanyId"), ("partners", "PartnerId")] {
        let rec = b[coll]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r[key] == 1)
            .unwrap();
        rec["Name"] = marker.clone();
    }
    serde_json::to_string_pretty(&Value::Object(b)).unwrap()
}

fn version_of(name: &str) -> Option<u64> {
    name.strip_prefix('v')?.parse().ok()
}

/// What one reader saw.
struct Seen {
    responses: u64,
    versions: BTreeSet<u64>,
}

/// GETs company 1 in a loop until `stop`; every response must be 200 and
/// wholly one version, versions never going back.
async fn reader(
    c: reqwest::Client,
    url: String,
    stop: Arc<AtomicBool>,
    last: Arc<AtomicU64>,
) -> Result<Seen, String> {
    let mut seen = Seen {
        responses: 0,
        versions: BTreeSet::new(),
    };
    let mut previous = 0;
    while !stop.load(Ordering::SeqCst) {
        let r = bounded(c.get(&url).basic_auth(PARTNER1, Some("x")).send())
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let r = read_response(r).await;
        if r.status != 200 {
            return Err(format!("a read failed: {}", r.show()));
        }
        if let Some(flag) = r.fixture_error() {
            return Err(format!("an atomic rename was flagged as an error: {flag}"));
        }
        let company = r.body["data"]["Name"].as_str().unwrap_or("");
        let partner = r.body["data"]["Partner"]["Name"].as_str().unwrap_or("");
        if company != partner {
            return Err(format!(
                "a mix of versions: company {company:?}, its partner {partner:?}"
            ));
        }
        let v = version_of(company).ok_or_else(|| format!("not a version: {}", r.show()))?;
        if v < previous {
            return Err(format!("went back from v{previous} to v{v}"));
        }
        previous = v;
        last.store(v, Ordering::SeqCst);
        seen.versions.insert(v);
        seen.responses += 1;
    }
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_edited_rapidly_is_swapped_whole_under_concurrent_reads() {
    const EDITS: u64 = 50;
    const READERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let mut base = serde_json::Map::new();
    for name in COLLECTIONS.iter().chain(&["apikeys"]) {
        base.insert(name.to_string(), default_fixture(name));
    }
    let path = dir.path().join("state.json");
    let tmp = dir.path().join("state.json.tmp");
    std::fs::write(&path, bundle(&base, 0)).unwrap();

    let t = Client::watching(&path).await;
    let h = t.health().await;
    let named = PathBuf::from(h["fixtures"].as_str().unwrap());
    assert_eq!(
        named.canonicalize().unwrap(),
        path.canonicalize().unwrap(),
        "{h}"
    );
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    let first = t.wait_company1("v0").await;
    assert_eq!(first.body["data"]["Partner"]["Name"], "v0");

    let stop = Arc::new(AtomicBool::new(false));
    let lasts: Vec<Arc<AtomicU64>> = (0..READERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let readers: Vec<_> = lasts
        .iter()
        .map(|last| {
            tokio::spawn(reader(
                t.sb.client(),
                t.sb.url("/api/companies/1"),
                stop.clone(),
                last.clone(),
            ))
        })
        .collect();

    // A new version every 10-20 ms, each written to a temporary file and
    // renamed over the bundle. After every tenth, wait (polling) until it
    // is served, so that swaps happen while the readers read, not only
    // once at the end.
    for v in 1..=EDITS {
        std::fs::write(&tmp, bundle(&base, v)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        if v % 10 == 0 {
            t.wait_company1(&format!("v{v}")).await;
        } else {
            // Pacing of the edits (not waiting for anything).
            tokio::time::sleep(Duration::from_millis(10 + v % 11)).await;
        }
    }
    let last = t.wait_company1(&format!("v{EDITS}")).await;
    assert_eq!(last.body["data"]["Partner"]["Name"], format!("v{EDITS}"));
    eventually("every reader reaches the last version", async || {
        let at: Vec<u64> = lasts.iter().map(|l| l.load(Ordering::SeqCst)).collect();
        if at.iter().all(|&v| v == EDITS) || readers.iter().any(|r| r.is_finished()) {
            Ok(())
        } else {
            Err(format!("{at:?}"))
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);

    let mut all = BTreeSet::new();
    for (i, r) in readers.into_iter().enumerate() {
        let seen = bounded(r)
            .await
            .expect("reader task")
            .unwrap_or_else(|e| panic!("reader {i}: {e}"));
        assert!(seen.responses > 0, "reader {i} read");
        assert_eq!(seen.versions.last(), Some(&EDITS), "reader {i}");
        all.extend(seen.versions);
    }
    assert!(
        all.len() >= 3,
        "the readers saw swaps while reading: {all:?}"
    );
    let h = t.health().await;
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");
    t.assert_clean(true).await;
}
