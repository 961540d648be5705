//! The outbox of e-mails the sandbox would have sent.

use super::*;

// ---------------------------------------------------------------- 7. outbox

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_users_records_invitations_in_the_outbox() {
    let t = Client::start().await;
    assert!(t.outbox().await.is_empty());
    let t0 = t.now_ms().await;
    t.create(
        PARTNER1,
        "partnerusers",
        &json!({"FirstName": "Paula", "LastName": "Partner", "Email": "paula.partner@example.com"}),
    )
    .await;
    t.create(
        PARTNER1,
        "companyusers",
        &json!({"CompanyId": 1, "FirstName": "Carl", "LastName": "Company",
                "Email": "carl.company@example.com"}),
    )
    .await;
    // a refused create sends nothing
    let r = t
        .post(
            PARTNER1,
            "/api/partnerusers",
            &json!({"FirstName": "No", "LastName": "Mail", "Email": "not an address"}),
        )
        .await;
    refused(&r, 422, &["Email"]);
    let t1 = t.now_ms().await;

    let outbox = t.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert_eq!(outbox[0]["to"], "carl.company@example.com");
    assert_eq!(outbox[1]["to"], "paula.partner@example.com");
    for m in &outbox {
        for f in ["id", "time", "to", "cc", "bcc", "subject", "body"] {
            assert!(m.get(f).is_some(), "mail lacks {f}: {m}");
        }
        assert!(m["subject"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
        assert!(m["body"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
        let at = ms(m["time"].as_str().unwrap());
        assert!(t0 <= at && at <= t1, "{m}");
    }
    assert!(outbox[0]["id"].as_u64() > outbox[1]["id"].as_u64());

    let r = t.delete(ADMIN, "/_sandbox/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(t.outbox().await.is_empty());
}
