//! Admin authentication of the control API (API.md section 8).

use super::*;

// ------------------------------------------------- 1. admin authentication

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints_need_an_admin_key_and_admin_keys_do_not_open_the_api() {
    let t = Client::start().await;
    // something for the refused DELETEs to (not) remove
    let user = t
        .create(
            PARTNER1,
            "partnerusers",
            &json!({"FirstName": "Ada", "LastName": "Auth", "Email": "ada.auth@example.com"}),
        )
        .await;
    let rule = t
        .add_fault(json!({"path": "/api/nothing-here", "status": 503}))
        .await;
    let journal_before = t.journal("").await;
    let outbox_before = t.outbox().await;
    assert!(!journal_before.is_empty() && !outbox_before.is_empty());
    let before = t.state().await;

    let endpoints: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/_sandbox/health", None),
        (Method::POST, "/_sandbox/reset", Some(json!({}))),
        (Method::GET, "/_sandbox/snapshot", None),
        // a bundle that would empty the companies, if it were accepted
        (
            Method::PUT,
            "/_sandbox/snapshot",
            Some(json!({"companies": [], "apikeys": []})),
        ),
        (Method::GET, "/_sandbox/requests", None),
        (Method::DELETE, "/_sandbox/requests", None),
        (Method::GET, "/_sandbox/clock", None),
        (
            Method::POST,
            "/_sandbox/clock",
            Some(json!({"advance": 3600})),
        ),
        (
            Method::POST,
            "/_sandbox/jobs/6/run",
            Some(json!({"JobStatus": "Completed"})),
        ),
        (Method::GET, "/_sandbox/outbox", None),
        (Method::DELETE, "/_sandbox/outbox", None),
        (Method::GET, "/_sandbox/faults", None),
        (
            Method::POST,
            "/_sandbox/faults",
            Some(json!({"status": 500})),
        ),
        (Method::DELETE, "/_sandbox/faults", None),
        (Method::DELETE, "/_sandbox/faults/1", None),
    ];
    for (method, path, body) in &endpoints {
        for key in [PARTNER1, PARTNER2, NO_PLAN, INACTIVE] {
            let r = t.send(Some(key), method.clone(), path, body.as_ref()).await;
            refused(&r, 403, &[]);
        }
        for key in [None, Some("not-a-known-key")] {
            let r = t.send(key, method.clone(), path, body.as_ref()).await;
            refused(&r, 401, &[]);
            assert_eq!(
                r.header("www-authenticate").as_deref(),
                Some("Basic realm=\"CleverFox Backup API\""),
                "{method} {path} without a valid key"
            );
        }
    }

    // the admin key gets 403 on /api/
    for (method, path, body) in [
        (Method::GET, "/api/companies", None),
        (Method::GET, "/api/plans", None),
        (Method::GET, "/api/devices/1", None),
        (
            Method::POST,
            "/api/companies",
            Some(json!({"Name": "Admin Co", "PlanTypeId": 1})),
        ),
        (Method::PUT, "/api/devices/1", Some(json!({"Name": "x"}))),
        (Method::DELETE, "/api/jobitems/3", None),
    ] {
        let r = t
            .send(Some(ADMIN), method.clone(), path, body.as_ref())
            .await;
        refused(&r, 403, &[]);
    }

    // nothing the refused requests asked for happened
    same_state(&before, &t.state().await, "after refused requests");
    let clock = t.admin("/_sandbox/clock").await;
    assert_eq!(clock["offset_seconds"].as_f64(), Some(0.0), "{clock}");
    let faults = t.faults().await;
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["id"], rule["id"]);
    let outbox = t.outbox().await;
    assert_eq!(outbox, outbox_before);
    assert_eq!(outbox[0]["to"], user["Email"]);
    let journal = t.journal("").await;
    for e in &journal_before {
        assert!(journal.contains(e), "journal entry lost: {e}");
    }
}
