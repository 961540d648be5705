//! The server side of the console (API.md section 14) over real HTTPS: the
//! page at `/_sandbox/console` (admin key only, HTML, a strict
//! Content-Security-Policy, nothing from elsewhere), in sessions too; the
//! data view it reads (`/_sandbox/data/{collection}`); and the journal's
//! `after` filter it polls with. tests/console/ drives the page itself in
//! Chromium.

#[path = "common/mod.rs"]
mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The directives of a Content-Security-Policy, by name.
fn directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_string();
            Some((name, words.map(str::to_string).collect()))
        })
        .collect()
}

fn directive(csp: &str, name: &str) -> Vec<String> {
    directives(csp)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
}

/// The SHA-256 (base64) of each inline `<tag>…</tag>` of the page.
fn inline_digests(html: &str, tag: &str) -> Vec<String> {
    use base64::Engine as _;
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    html.match_indices(&open)
        .map(|(at, _)| {
            let start = at + open.len();
            let end = start + html[start..].find(&close).expect("closed");
            let digest = cleverfox_sandbox::domain::state::sha256(&html.as_bytes()[start..end]);
            base64::engine::general_purpose::STANDARD.encode(digest)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_an_admin_page_with_a_strict_policy() {
    let t = Client::start().await;
    let r = t.get(ADMIN, "/_sandbox/console").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(r.text.starts_with("<!doctype html>"), "{}", &r.text[..80]);
    assert!(r.text.contains("<title>Sandbox console</title>"));
    // nothing fetched from elsewhere: no absolute URL, no src= or href= but data:
    assert!(!r.text.contains("http://") && !r.text.contains("https://"));
    assert!(!r.text.contains(" src="), "no external script or image");
    for (at, _) in r.text.match_indices("href=") {
        assert!(
            r.text[at..].starts_with("href=\"data:"),
            "{}",
            &r.text[at..at + 40]
        );
    }

    let csp = r.header("content-security-policy").expect("a CSP");
    assert_eq!(directive(&csp, "default-src"), ["'self'"]);
    assert_eq!(directive(&csp, "frame-ancestors"), ["'none'"]);
    assert_eq!(directive(&csp, "object-src"), ["'none'"]);
    assert_eq!(directive(&csp, "base-uri"), ["'none'"]);
    assert_eq!(directive(&csp, "connect-src"), ["'self'"]);
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    // the one inline script and the one style are allowed by their digests
    let scripts = inline_digests(&r.text, "script");
    let styles = inline_digests(&r.text, "style");
    assert_eq!((scripts.len(), styles.len()), (1, 1));
    assert_eq!(
        directive(&csp, "script-src"),
        [format!("'sha256-{}'", scripts[0])]
    );
    assert_eq!(
        directive(&csp, "style-src"),
        [format!("'sha256-{}'", styles[0])]
    );
    // the page calls the control API of its own origin
    for endpoint in [
        "requests", "health", "clock", "faults", "outbox", "sessions", "data/",
    ] {
        assert!(
            r.text.contains(&format!("\"{endpoint}")),
            "the page does not call {endpoint}"
        );
    }

    // the page is not a journal entry: the journal is of /api/ requests
    assert!(t.journal("").await.is_empty());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_asks_for_an_admin_key_and_refuses_partners() {
    let t = Client::start().await;
    let r = t.send(None, Method::GET, "/_sandbox/console", None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"CleverFox Backup API\"")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert!(!r.text.contains("Sandbox console"));
    for key in [PARTNER1, NO_PLAN] {
        let r = t.get(key, "/_sandbox/console").await;
        assert_eq!(r.status, 403, "{key}: {}", r.text);
        assert!(!r.text.contains("<html"), "{key}: {}", r.text);
    }
    let r = t.get("not-a-key", "/_sandbox/console").await;
    assert_eq!(r.status, 401);
    // only GET
    let r = t.post(ADMIN, "/_sandbox/console", &json!({})).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_has_its_console() {
    let t = Client::start().await;
    let r = t.get(ADMIN, "/s/case-7/_sandbox/console").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let r = t.get(PARTNER1, "/s/case-8/_sandbox/console").await;
    assert_eq!(r.status, 403);
    let names: Vec<Value> = t.admin("/_sandbox/sessions").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert!(names.contains(&json!("case-7")), "{names:?}");
    assert!(
        !names.contains(&json!("case-8")),
        "a refused request creates no session"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_view_shows_every_partners_records_as_the_api_renders_them() {
    let t = Client::start().await;
    let created = t
        .create(
            PARTNER2,
            "companies",
            &json!({"Name": "Findable Fox Ltd", "PlanTypeId": 1}),
        )
        .await;
    let id = created["CompanyId"].as_i64().unwrap();

    // every collection, with its key and its references
    for (coll, key) in COLLECTION_KEYS {
        let page = t.admin(&format!("/_sandbox/data/{coll}")).await;
        assert_eq!(page["collection"], coll);
        assert_eq!(page["key"], key);
        let total = t.counts().await[coll].as_u64().unwrap();
        assert_eq!(page["total"].as_u64(), Some(total), "{coll}");
        let rows = page["data"].as_array().unwrap();
        assert_eq!(rows.len() as u64, total.min(25), "{coll}");
        let ids = rows
            .iter()
            .map(|r| r[key].as_i64().unwrap())
            .collect::<Vec<_>>();
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "{coll}: newest first: {ids:?}"
        );
    }
    let page = t.admin("/_sandbox/data/Companies?q=findable%20FOX").await;
    assert_eq!(page["total"], 1, "{page}");
    let record = &page["data"][0];
    // as /api/ renders it to its partner, embedded objects included
    assert_eq!(
        record,
        &t.read(PARTNER2, &format!("/api/companies/{id}")).await
    );
    assert_eq!(record["Partner"]["PartnerId"], 2);
    assert!(
        page["links"]
            .as_array()
            .unwrap()
            .contains(&json!({"attribute": "PartnerId", "collection": "partners"})),
        "{}",
        page["links"]
    );
    let page = t.admin(&format!("/_sandbox/data/companies?id={id}")).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["CompanyId"], id);
    let page = t.admin("/_sandbox/data/companies?page_size=2&page=2").await;
    assert_eq!(
        (page["page_no"].as_u64(), page["page_size"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let page = t.admin("/_sandbox/data/companies?q=no%20such%20text").await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["data"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    for (path, status, needle) in [
        ("/_sandbox/data/nope", 404, "nope"),
        ("/_sandbox/data/companies?page=0", 400, "page"),
        ("/_sandbox/data/companies?page_size=501", 400, "page_size"),
        ("/_sandbox/data/companies?id=x", 400, "id"),
        ("/_sandbox/data/companies?CompanyId=1", 400, "CompanyId"),
    ] {
        let r = t.get(ADMIN, path).await;
        refused(&r, status, &[needle]);
    }
    let r = t.get(PARTNER1, "/_sandbox/data/companies").await;
    assert_eq!(r.status, 403);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_gives_what_came_after_an_id() {
    let t = Client::start().await;
    let first = t.get(PARTNER1, "/api/plans").await.request_id();
    let second = t.get(PARTNER1, "/api/companies").await.request_id();
    let after: Vec<u64> = t
        .journal(&format!("?after={first}"))
        .await
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(after, [second]);
    assert!(t.journal(&format!("?after={second}")).await.is_empty());
    let r = t.get(ADMIN, "/_sandbox/requests?after=latest").await;
    refused(&r, 400, &["after"]);
    t.stop().await;
}
