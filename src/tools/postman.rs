//! The Postman collection (v2.1) and environment, generated from the resource
//! tables: a request for every operation of every collection, Basic auth
//! from the `apiKey` variable, and `pm.test` assertions on status and
//! envelope. Run in order against the default fixtures, every request passes:
//! the reads use ids the lists before them found, and the writes create a
//! company with a user, subscription, device, job and job item, change each,
//! and delete them again, every write with a new Token.

use serde_json::{Value, json};

use crate::domain::schema::{Res, op};

/// Example bodies that pass validation against the default fixtures, in the
/// order their records are created. `{{…Id}}` names a record created before.
const CREATES: &[(Res, &str)] = &[
    (
        Res::PartnerUsers,
        r#"{"FirstName": "Pat", "LastName": "Postman", "Email": "pat.postman-{{$guid}}@example.com"}"#,
    ),
    (
        Res::Companies,
        r#"{"PartnerId": null, "PlanTypeId": 1, "Name": "Postman Test Company", "Country": "US"}"#,
    ),
    (
        Res::CompanyUsers,
        r#"{"CompanyId": {{CompanyId}}, "FirstName": "Olga", "LastName": "Owner", "Email": "olga.owner@postman.example.com"}"#,
    ),
    // the second user is not the account owner, so it can be deleted
    (
        Res::CompanyUsers,
        r#"{"CompanyId": {{CompanyId}}, "FirstName": "Sam", "LastName": "Second", "Email": "sam.second@postman.example.com"}"#,
    ),
    (
        Res::Subscriptions,
        r#"{"CompanyId": {{CompanyId}}, "PlanId": 2}"#,
    ),
    (
        Res::Devices,
        r#"{"CompanyId": {{CompanyId}}, "SubscriptionId": {{SubscriptionId}}, "Name": "POSTMAN-PC", "TimeZoneId": "Eastern Standard Time"}"#,
    ),
    (
        Res::Jobs,
        r#"{"DeviceId": {{DeviceId}}, "Name": "Postman files", "Frequency": "Daily", "NextRunOn": "2030-01-01T02:00:00", "LateAfter": 60, "Every": 1, "CloudKeepLast": 30, "LocalKeepLast": 7}"#,
    ),
    (
        Res::JobItems,
        r#"{"JobId": {{JobId}}, "BackupTypeId": 1, "Name": "Documents", "BaseFolder": "C:\\Users\\Public\\Documents", "SearchPatterns": "*.*", "IncludeSubFolders": true}"#,
    ),
];

/// One change per writable collection (PUT is a merge).
const UPDATES: &[(Res, &str)] = &[
    (Res::Partners, r#"{"ApplicationId": "postman"}"#),
    (Res::PartnerUsers, r#"{"MobilePhone": "+1 555 0100"}"#),
    (
        Res::Companies,
        r#"{"Name": "Postman Test Company (renamed)"}"#,
    ),
    (Res::CompanyUsers, r#"{"WorkPhone": "+1 555 0101"}"#),
    (Res::Subscriptions, r#"{"ApplicationId": "postman"}"#),
    (Res::Devices, r#"{"Name": "POSTMAN-PC-2"}"#),
    (Res::Jobs, r#"{"LateAfter": 120}"#),
    (Res::JobItems, r#"{"ExcludePatterns": "*.tmp"}"#),
];

/// Deletes, children first. The company's owner goes with the company.
const DELETES: &[Res] = &[
    Res::JobItems,
    Res::Jobs,
    Res::Devices,
    Res::Subscriptions,
    Res::CompanyUsers,
    Res::Companies,
    Res::PartnerUsers,
];

fn key(res: Res) -> &'static str {
    res.info().key_name()
}

/// A Postman URL: the path as segments and any query string as
/// `url.query` (one `key`/`value` per parameter).
fn url(path: &str) -> Value {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let mut u = json!({ "raw": format!("{{{{baseUrl}}}}{path}"), "host": ["{{baseUrl}}"], "path": segments });
    let params: Vec<Value> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            json!({ "key": k, "value": v })
        })
        .collect();
    if !params.is_empty() {
        u["query"] = Value::Array(params);
    }
    u
}

fn tests(lines: &[String]) -> Value {
    json!([{ "listen": "test", "script": { "type": "text/javascript", "exec": lines } }])
}

fn status_test(status: u16) -> String {
    format!(
        "pm.test('status is {status}', function () {{ pm.response.to.have.status({status}); }});"
    )
}

fn request(name: &str, method: &str, path: &str, body: Option<&str>, checks: Vec<String>) -> Value {
    let mut r = json!({
        "name": name,
        "request": { "method": method, "header": [], "url": url(path) },
        "event": tests(&checks),
    });
    if let Some(b) = body {
        r["request"]["header"] = json!([{ "key": "Content-Type", "value": "application/json" }]);
        r["request"]["body"] =
            json!({ "mode": "raw", "raw": b, "options": { "raw": { "language": "json" } } });
    }
    r
}

fn element_checks(status: u16, res: Res, save: bool) -> Vec<String> {
    let k = key(res);
    let mut v = vec![
        status_test(status),
        format!(
            "pm.test('{{\"data\": {{…}}}} with {k}', function () {{ var j = pm.response.json(); \
             pm.expect(j).to.have.property('data'); pm.expect(j.data).to.have.property('{k}'); }});"
        ),
    ];
    if save {
        v.push(format!(
            "pm.collectionVariables.set('{k}', pm.response.json().data.{k});"
        ));
    }
    v
}

/// The collection.
pub fn collection() -> Value {
    json!({
        "info": {
            "name": "CleverFox Backup API (sandbox)",
            "description": "Every operation of the CleverFox Backup partner API, generated from the sandbox's resource \
                tables. Run it in order against cleverfox-sandbox on its default fixtures: every test passes. \
                Set baseUrl and apiKey in the environment.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": { "type": "basic", "basic": [
            { "key": "username", "value": "{{apiKey}}", "type": "string" },
            { "key": "password", "value": "", "type": "string" },
        ] },
        "variable": [
            { "key": "baseUrl", "value": "https://localhost:8443" },
            { "key": "apiKey", "value": "demo-partner-1" },
        ],
        "item": [
            { "name": "List and read", "item": reads() },
            { "name": "Create, update and delete", "item": writes() },
            { "name": "Errors", "item": errors() },
        ],
    })
}

/// A List and a Read of every collection that offers them.
fn reads() -> Vec<Value> {
    let mut reads = Vec::new();
    for res in Res::ALL {
        let (name, k, ops) = (res.name(), key(res), res.def().ops);
        if ops & op::LIST != 0 {
            reads.push(request(
                &format!("List {name}"),
                "GET",
                &format!("/api/{name}?PageNo=1&PageSize=25"),
                None,
                vec![
                    status_test(200),
                    "pm.test('list envelope', function () { var j = pm.response.json(); \
                     pm.expect(j.data).to.be.an('array'); pm.expect(j.page_no).to.eql(1); pm.expect(j.page_size).to.eql(25); });"
                        .into(),
                    format!(
                        "pm.test('descending {k}', function () {{ var d = pm.response.json().data; \
                         for (var i = 1; i < d.length; i++) {{ pm.expect(d[i - 1].{k}).to.be.above(d[i].{k}); }} }});"
                    ),
                    format!(
                        "if (pm.response.json().data.length) {{ pm.collectionVariables.set('read_{name}', pm.response.json().data[0].{k}); }}"
                    ),
                ],
            ));
        }
        if ops & op::READ != 0 {
            reads.push(request(
                &format!("Read one of {name}"),
                "GET",
                &format!("/api/{name}/{{{{read_{name}}}}}"),
                None,
                element_checks(200, res, false),
            ));
        }
    }
    reads
}

/// A body with a new `Token` (Postman's `{{$guid}}`) as its last
/// attribute: every write of the collection carries one (API.md section 2).
fn with_token(body: &str) -> String {
    let open = body.trim_end().strip_suffix('}').unwrap_or(body);
    format!("{open}, \"Token\": \"{{{{$guid}}}}\"}}")
}

/// Creates, updates and deletes, in an order that works on the default
/// fixtures, each write with its own Token.
fn writes() -> Vec<Value> {
    let mut writes = Vec::new();
    for (res, body) in CREATES {
        writes.push(request(
            &format!("Create one of {}", res.name()),
            "POST",
            &format!("/api/{}", res.name()),
            Some(&with_token(body)),
            element_checks(201, *res, true),
        ));
    }
    for (res, body) in UPDATES {
        let id = if *res == Res::Partners {
            "1".to_string()
        } else {
            format!("{{{{{}}}}}", key(*res))
        };
        writes.push(request(
            &format!("Update one of {}", res.name()),
            "PUT",
            &format!("/api/{}/{id}", res.name()),
            Some(&with_token(body)),
            element_checks(200, *res, false),
        ));
    }
    for res in DELETES {
        writes.push(request(
            &format!("Delete one of {}", res.name()),
            "DELETE",
            &format!("/api/{}/{{{{{}}}}}", res.name(), key(*res)),
            None,
            element_checks(200, *res, false),
        ));
    }
    writes
}

/// The operations the tables leave out of the run above, still documented.
fn errors() -> Vec<Value> {
    let mut errors = vec![request(
        "A missing key answers 401",
        "GET",
        "/api/companies",
        None,
        vec![status_test(401)],
    )];
    errors[0]["request"]["auth"] = json!({ "type": "noauth" });
    errors.push(request(
        "Not offered: POST to a read-only collection answers 405",
        "POST",
        "/api/logs",
        Some("{}"),
        vec![status_test(405)],
    ));
    errors
}

/// The environment: where the sandbox is and which key to use, with the
/// default bind address.
pub fn environment() -> Value {
    environment_for("https://localhost:8443")
}

/// The environment naming `base_url` (such as `https://localhost:8443`).
pub fn environment_for(base_url: &str) -> Value {
    json!({
        "name": "CleverFox sandbox",
        "values": [
            { "key": "baseUrl", "value": base_url, "enabled": true },
            { "key": "apiKey", "value": "demo-partner-1", "enabled": true, "type": "secret" },
        ],
        "_postman_variable_scope": "environment",
    })
}
