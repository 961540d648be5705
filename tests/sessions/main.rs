//! Sessions (isolated sandboxes in one server) and checkpoints, end to end:
//! a real server on 127.0.0.1:0 over real TLS, with real HTTPS clients.

#[path = "../common/mod.rs"]
mod common;

mod addressing;
mod isolation;
mod lifecycle;
mod rendering;
mod restore;

use std::ops::Deref;

use cleverfox_sandbox::config::Settings;
use common::{ADMIN, Client, Config, NO_PLAN, PARTNER1, PARTNER2, Resp, eventually, fixtures_with};
use reqwest::Method;
use serde_json::{Value, json};

/// The one client of the tests, with what these tests ask of sessions.
struct T(Client);

impl Deref for T {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0
    }
}

impl T {
    async fn start() -> T {
        T(Client::start().await)
    }

    async fn with(cfg: Config) -> T {
        T(Client::with(cfg).await)
    }

    async fn settings(settings: Settings) -> T {
        T(Client::settings(settings).await)
    }

    /// One request with `X-Sandbox-Session: session`.
    async fn send_in(
        &self,
        session: &str,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.c.request(method.clone(), self.sb.url(path));
        if let Some(k) = key {
            rb = rb.basic_auth(k, Some("ignored"));
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = common::bounded(rb.header("x-sandbox-session", session).send())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        common::read_response(r).await
    }

    /// POST that must answer 201; the new record's id.
    async fn create_at(&self, key: &str, path: &str, body: &Value, id_key: &str) -> i64 {
        let r = self.post(key, path, body).await;
        assert_eq!(r.status, 201, "POST {path}: {}", r.text);
        r.data()[id_key]
            .as_i64()
            .unwrap_or_else(|| panic!("no {id_key}: {}", r.text))
    }

    /// `GET {base}/_sandbox/snapshot` as text.
    async fn bundle(&self, base: &str) -> String {
        let r = self.get(ADMIN, &format!("{base}/_sandbox/snapshot")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
    }

    async fn sessions(&self) -> Vec<Value> {
        let r = self.get(ADMIN, "/_sandbox/sessions").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.data().as_array().cloned().unwrap_or_default()
    }

    async fn session_names(&self) -> Vec<String> {
        self.sessions()
            .await
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn offset(&self, base: &str) -> i64 {
        let r = self.get(ADMIN, &format!("{base}/_sandbox/clock")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["offset_seconds"].as_i64().unwrap_or(i64::MIN)
    }

    /// One record of every writable collection, and a change to partner 1,
    /// made under `base` by partner 1, tagged with `tag`; the (path, id) of
    /// each new record.
    async fn write_everything(&self, base: &str, tag: &str) -> Vec<String> {
        let p = |c: &str| format!("{base}/api/{c}");
        let company = self
            .create_at(
                PARTNER1,
                &p("companies"),
                &json!({"PlanTypeId": 1, "Name": format!("{tag} Ltd")}),
                "CompanyId",
            )
            .await;
        let email = format!("{tag}@example.com");
        let partner_user = self
            .create_at(
                PARTNER1,
                &p("partnerusers"),
                &json!({"FirstName": "Nora", "LastName": tag, "Email": email}),
                "PartnerUserId",
            )
            .await;
        let company_user = self
            .create_at(PARTNER1, &p("companyusers"),
                &json!({"CompanyId": company, "FirstName": "Ann", "LastName": tag, "Email": format!("cu-{email}")}),
                "CompanyUserId")
            .await;
        let subscription = self
            .create_at(
                PARTNER1,
                &p("subscriptions"),
                &json!({"CompanyId": company, "PlanId": 2}),
                "SubscriptionId",
            )
            .await;
        let device = self
            .create_at(PARTNER1, &p("devices"),
                &json!({"CompanyId": company, "SubscriptionId": subscription, "Name": format!("{tag}-pc"),
                        "TimeZoneId": "Eastern Standard Time"}), "DeviceId")
            .await;
        let job = self
            .create_at(
                PARTNER1,
                &p("jobs"),
                &json!({"DeviceId": device, "Name": format!("{tag} job"), "Frequency": "Daily",
                        "NextRunOn": "2031-01-01T22:00:00.000", "LateAfter": 120, "Every": 1,
                        "CloudKeepLast": 30, "LocalKeepLast": 7}),
                "JobId",
            )
            .await;
        let item = self
            .create_at(PARTNER1, &p("jobitems"),
                &json!({"JobId": job, "Name": format!("{tag} docs"), "BackupTypeId": 1, "BaseFolder": "C:\\Data",
                        "SearchPatterns": "*.*", "IncludeSubFolders": true}), "JobItemId")
            .await;
        let r = self
            .put(PARTNER1, &p("partners/1"), &json!({"ApplicationId": tag}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let gone = self
            .create_at(
                PARTNER1,
                &p("companies"),
                &json!({"PlanTypeId": 1, "Name": format!("{tag} gone")}),
                "CompanyId",
            )
            .await;
        let r = self
            .delete(PARTNER1, &p(&format!("companies/{gone}")))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        vec![
            format!("companies/{company}"),
            format!("partnerusers/{partner_user}"),
            format!("companyusers/{company_user}"),
            format!("subscriptions/{subscription}"),
            format!("devices/{device}"),
            format!("jobs/{job}"),
            format!("jobitems/{item}"),
        ]
    }
}

/// The records a bundle holds of `collection`.
fn records(bundle: &str, collection: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(bundle).unwrap_or(Value::Null);
    v[collection].as_array().cloned().unwrap_or_default()
}
