//! A broken edit is never swapped in and is flagged until fixed.

use super::*;

// ------------------------------------------------------------------ broken edits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_file_is_not_swapped_in_and_is_flagged_until_a_clean_edit() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let loaded = t.loaded_at().await;
    let target = file_in(dir.path(), "companies.json");

    let full = companies_with_name("Never served");
    let mut cut = full.len() / 2;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    let truncated = &full[..cut];
    std::fs::write(&target, truncated).unwrap();

    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("companies.json"), "{flag}");
    let h = assert_flagged(&t, "companies.json", ABC).await;
    let lines = truncated.lines().count() as u64;
    let line = h["error"]["line"].as_u64().unwrap();
    assert!(
        line <= lines,
        "line {line} is inside the {lines}-line file: {h}"
    );
    assert_eq!(h["loaded_at"], json!(loaded), "nothing was swapped in: {h}");
    assert_eq!(counts_of(&h), fixture_counts(), "{h}");

    // Still flagged and still the old data a while later.
    let again = t.company1().await;
    assert_eq!(again.name(), ABC);
    assert!(again.fixture_error().is_some());

    std::fs::write(&target, companies_with_name("Fixed")).unwrap();
    t.wait_company1("Fixed").await;
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dangling_reference_is_not_swapped_in_and_is_reported_with_its_location() {
    let dir = fixtures_with(&[]);
    let t = Client::watching(dir.path()).await;
    let device = t.get(PARTNER1, "/api/devices/1").await;
    assert_eq!(device.status, 200, "{}", device.show());
    assert_eq!(device.body["data"]["CompanyId"], 1);

    let mut devices = default_fixture("devices");
    let d = devices
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["DeviceId"] == 1)
        .unwrap();
    d["CompanyId"] = json!(999);
    d["Name"] = json!("Never served");
    let text = serde_json::to_string_pretty(&devices).unwrap();
    // Where the dangling reference is written (1-based line and columns).
    let (line_no, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"CompanyId\": 999"))
        .unwrap();
    let (line_no, key_col) = (line_no as u64 + 1, line.find('"').unwrap() as u64 + 1);
    let value_col = line.find("999").unwrap() as u64 + 1;
    std::fs::write(file_in(dir.path(), "devices.json"), &text).unwrap();

    let flag = t.wait_fixture_error().await;
    assert!(flag.contains("devices.json"), "{flag}");
    let h = assert_flagged(&t, "devices.json", ABC).await;
    let e = &h["error"];
    assert_eq!(e["line"], line_no, "{h}");
    let col = e["column"].as_u64().unwrap();
    assert!(
        (key_col..=value_col).contains(&col),
        "column {col} points at CompanyId (columns {key_col}..={value_col}): {h}"
    );
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("CompanyId") && msg.contains("999"), "{h}");

    let device = t.get(PARTNER1, "/api/devices/1").await;
    assert_eq!(device.status, 200, "{}", device.show());
    assert_eq!(device.body["data"]["CompanyId"], 1, "old data served");
    assert_ne!(device.body["data"]["Name"], "Never served");

    std::fs::write(file_in(dir.path(), "devices.json"), default_text("devices")).unwrap();
    t.wait_no_fixture_error().await;
    t.assert_clean(true).await;
    let device = t.get(PARTNER1, "/api/devices/1").await;
    assert_eq!(device.body["data"]["CompanyId"], 1);
}
