//! The read side of /api/ over real HTTPS: authentication, routing, paging,
//! partner scope, envelopes, embedding and the vendor's example records
//! (API.md sections 1, 3 and 4).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::{Value, json};

type Obj = serde_json::Map<String, Value>;

/// Asserts an error answer: `status`, a JSON error body and an
/// `X-Request-Id`; its headers and sentences.
async fn error_response(
    r: reqwest::Response,
    status: u16,
) -> (reqwest::header::HeaderMap, Vec<String>) {
    assert_eq!(r.status(), status, "{}", r.url());
    let r = read_response(r).await;
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    assert!(r.headers.contains_key("x-request-id"));
    let errors = r.errors();
    (r.headers, errors)
}

// ------------------------------------------------------------------ authentication

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_and_unknown_keys_get_401_with_the_basic_challenge() {
    let sb = Sandbox::start().await;
    let c = sb.client();
    let url = sb.url("/api/companies");
    let cases = [
        c.get(&url),
        c.get(&url).header("Authorization", "Bearer demo-partner-1"),
        c.get(&url).header("Authorization", "Basic !!!not-base64"),
        c.get(&url).header("Authorization", "Basic "),
        c.get(&url).basic_auth("no-such-key", Some("x")),
        c.get(&url).basic_auth("DEMO-PARTNER-1", None::<&str>),
        c.get(&url).basic_auth("demo-partner-1x", None::<&str>),
    ];
    for req in cases {
        let r = req.send().await.unwrap();
        let (h, errors) = error_response(r, 401).await;
        assert_eq!(
            h["www-authenticate"],
            "Basic realm=\"CleverFox Backup API\""
        );
        let text = errors.join(" ");
        assert!(
            !text.contains("no-such-key") && !text.contains("DEMO-PARTNER-1"),
            "key echoed: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_ignored() {
    let sb = Sandbox::start().await;
    for password in [None, Some(""), Some("anything at all")] {
        let r = sb
            .client()
            .get(sb.url("/api/companies"))
            .basic_auth(PARTNER1, password)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "password {password:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_without_plan_inactive_partners_and_admin_keys_get_403_on_api() {
    let sb = Sandbox::start().await;
    let (h, e) = error_response(sb.get(NO_PLAN, "/api/companies").await, 403).await;
    assert!(e[0].contains("Partner Plan"), "{e:?}");
    assert!(!h.contains_key("www-authenticate"));
    let (_, e) = error_response(sb.get(INACTIVE, "/api/companies").await, 403).await;
    assert!(e[0].contains("inactive"), "{e:?}");
    let (_, e) = error_response(sb.get(ADMIN, "/api/companies").await, 403).await;
    assert!(e[0].contains("admin"), "{e:?}");
    // and a partner key on the control API
    let (_, e) = error_response(sb.get(PARTNER1, "/_sandbox/health").await, 403).await;
    assert!(e[0].contains("admin key"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_checked_before_the_path() {
    let sb = Sandbox::start().await;
    let r = sb
        .client()
        .get(sb.url("/api/no-such-collection"))
        .send()
        .await
        .unwrap();
    error_response(r, 401).await;
    let r = sb.client().post(sb.url("/api/logs")).send().await.unwrap();
    error_response(r, 401).await;
    error_response(sb.get(NO_PLAN, "/api/no-such-collection").await, 403).await;
}

// ------------------------------------------------------------------ routing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_names_are_case_insensitive_and_a_trailing_slash_is_ignored() {
    let sb = Sandbox::start().await;
    let plain = sb.get_json(PARTNER1, "/api/companies").await;
    for path in ["/api/Companies", "/api/COMPANIES/", "/api/companies/"] {
        assert_eq!(sb.get_json(PARTNER1, path).await, plain, "{path}");
    }
    let one = sb.get_json(PARTNER1, "/api/companies/1").await;
    assert_eq!(sb.get_json(PARTNER1, "/api/CompanIes/1/").await, one);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_collections_and_bad_ids_get_404() {
    let sb = Sandbox::start().await;
    for path in [
        "/api/nothing",
        "/api/",
        "/api",
        "/api/companies/abc",
        "/api/companies/0",
        "/api/companies/-1",
        "/api/companies/1.5",
        "/api/companies/99999999999999999999",
        "/api/companies/1/devices",
        "/api/v1/companies",
        "/companies",
        "/api/companies/999",
    ] {
        error_response(sb.get(PARTNER1, path).await, 404).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_the_operations_table_does_not_offer_get_405_with_allow() {
    let sb = Sandbox::start().await;
    let c = sb.client();
    let cases: &[(reqwest::Method, &str, &str)] = &[
        (reqwest::Method::POST, "/api/logs", "GET"),
        (reqwest::Method::PUT, "/api/logs/1", "GET"),
        (reqwest::Method::DELETE, "/api/events/1", "GET"),
        (reqwest::Method::POST, "/api/partners", "GET"),
        (reqwest::Method::DELETE, "/api/partners/1", "GET, PUT"),
        (reqwest::Method::PUT, "/api/companies", "GET, POST"),
        (reqwest::Method::DELETE, "/api/devices", "GET, POST"),
        (reqwest::Method::POST, "/api/devices/1", "GET, PUT, DELETE"),
        (reqwest::Method::PATCH, "/api/jobs/1", "GET, PUT, DELETE"),
        (reqwest::Method::POST, "/api/plans", "GET"),
        (reqwest::Method::PUT, "/api/backuptypes/1", "GET"),
    ];
    for (method, path, allow) in cases {
        let r = c
            .request(method.clone(), sb.url(path))
            .basic_auth(PARTNER1, None::<&str>)
            .send()
            .await
            .unwrap();
        let (h, e) = error_response(r, 405).await;
        assert_eq!(h["allow"], *allow, "{method} {path}");
        assert!(e[0].contains(method.as_str()), "{e:?}");
    }
}

// ------------------------------------------------------------------ paging

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_in_descending_key_order_until_a_short_page() {
    let sb = Sandbox::start().await;
    let first = sb.get_json(PARTNER1, "/api/events").await;
    assert_eq!(first["page_no"], 1);
    assert_eq!(first["page_size"], 25);
    let mut all = Vec::new();
    for page in 1.. {
        let p = sb
            .get_json(PARTNER1, &format!("/api/events?PageNo={page}&PageSize=7"))
            .await;
        assert_eq!(
            (p["page_no"].as_i64(), p["page_size"].as_i64()),
            (Some(page), Some(7))
        );
        let got = ids(&p, "EventId");
        assert!(got.len() <= 7);
        all.extend(got.iter().copied());
        if got.len() < 7 {
            break;
        }
    }
    let mut sorted = all.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(all, sorted, "descending, no repeats across pages");
    assert_eq!(
        &all[..25],
        &ids(&first, "EventId")[..],
        "page 1 of the default size is the same order"
    );
    let past = sb
        .get_json(PARTNER1, "/api/events?PageNo=1000&PageSize=7")
        .await;
    assert_eq!(past, json!({"data": [], "page_no": 1000, "page_size": 7}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_parameters_are_case_insensitive() {
    let sb = Sandbox::start().await;
    let a = sb
        .get_json(PARTNER1, "/api/events?PageNo=2&PageSize=3")
        .await;
    let b = sb
        .get_json(PARTNER1, "/api/events?pageno=2&PAGESIZE=3")
        .await;
    assert_eq!(a, b);
    assert_eq!(b["page_no"], 2);
    assert_eq!(ids(&b, "EventId").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paging_values_get_400_naming_the_parameter() {
    let sb = Sandbox::start().await;
    for (q, name) in [
        ("PageNo=0", "PageNo"),
        ("PageNo=-1", "PageNo"),
        ("PageNo=abc", "PageNo"),
        ("PageNo=1.5", "PageNo"),
        ("PageNo=", "PageNo"),
        ("PageSize=0", "PageSize"),
        ("pagesize=ten", "PageSize"),
        ("PageSize=%2B5", "PageSize"),
    ] {
        let (_, e) =
            error_response(sb.get(PARTNER1, &format!("/api/companies?{q}")).await, 400).await;
        assert!(e[0].contains(name), "{q}: {e:?}");
    }
    let (_, e) = error_response(
        sb.get(PARTNER1, "/api/companies?PageNo=0&PageSize=x").await,
        400,
    )
    .await;
    assert_eq!(e.len(), 2, "both problems at once: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_size_over_500_is_served_as_500_with_a_warning() {
    let sb = Sandbox::start().await;
    let r = sb.get(PARTNER1, "/api/events?PageSize=100000").await;
    assert_eq!(r.status(), 200);
    let warning = r.headers()["x-sandbox-warning"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(warning.contains("500"), "{warning}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["page_size"], 500);
    let r = sb.get(PARTNER1, "/api/events?PageSize=500").await;
    assert!(!r.headers().contains_key("x-sandbox-warning"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_query_parameters_are_ignored_with_a_warning() {
    let sb = Sandbox::start().await;
    let plain = sb.get_json(PARTNER1, "/api/devices").await;
    let r = sb.get(PARTNER1, "/api/devices?CompanyId=2&Name=x").await;
    assert_eq!(r.status(), 200);
    let warnings: Vec<String> = r
        .headers()
        .get_all("x-sandbox-warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("CompanyId") && warnings[1].contains("Name"),
        "{warnings:?}"
    );
    assert_eq!(r.json::<Value>().await.unwrap(), plain, "no filtering");
}

// ------------------------------------------------------------------ scope

/// The records of a default fixture file, by primary key.
fn fixture_by_id(name: &str, key: &str) -> BTreeMap<i64, Obj> {
    default_fixture(name)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[key].as_i64().unwrap(), r.as_object().unwrap().clone()))
        .collect()
}

/// The ids a partner should see in each scoped collection, computed from the
/// fixtures by API.md section 1's rules.
fn expected_scope(partner: i64) -> BTreeMap<&'static str, BTreeSet<i64>> {
    let pick = |name: &str, key: &str, keep: &dyn Fn(&Obj) -> bool| -> BTreeSet<i64> {
        fixture_by_id(name, key)
            .into_iter()
            .filter(|(_, r)| keep(r))
            .map(|(id, _)| id)
            .collect()
    };
    let is_in = |set: &BTreeSet<i64>, r: &Obj, attr: &str| {
        r[attr].as_i64().is_some_and(|v| set.contains(&v))
    };
    let mut m = BTreeMap::new();
    m.insert("partners", BTreeSet::from([partner]));
    m.insert(
        "partnerusers",
        pick("partnerusers", "PartnerUserId", &|r| {
            r["PartnerId"] == partner
        }),
    );
    let companies = pick("companies", "CompanyId", &|r| r["PartnerId"] == partner);
    let devices = pick("devices", "DeviceId", &|r| {
        is_in(&companies, r, "CompanyId")
    });
    let jobs = pick("jobs", "JobId", &|r| is_in(&devices, r, "DeviceId"));
    let logs = pick("logs", "LogId", &|r| is_in(&companies, r, "CompanyId"));
    m.insert(
        "companyusers",
        pick("companyusers", "CompanyUserId", &|r| {
            is_in(&companies, r, "CompanyId")
        }),
    );
    m.insert(
        "subscriptions",
        pick("subscriptions", "SubscriptionId", &|r| {
            is_in(&companies, r, "CompanyId")
        }),
    );
    m.insert(
        "jobitems",
        pick("jobitems", "JobItemId", &|r| is_in(&jobs, r, "JobId")),
    );
    m.insert(
        "logitems",
        pick("logitems", "LogItemId", &|r| is_in(&logs, r, "LogId")),
    );
    m.insert(
        "events",
        pick("events", "EventId", &|r| {
            r["PartnerId"] == partner || is_in(&companies, r, "CompanyId")
        }),
    );
    m.insert("companies", companies);
    m.insert("devices", devices);
    m.insert("jobs", jobs);
    m.insert("logs", logs);
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_partner_lists_exactly_its_own_records_and_cannot_read_the_others() {
    let sb = Sandbox::start().await;
    let scope1 = expected_scope(1);
    let scope2 = expected_scope(2);
    for (coll, key) in &COLLECTION_KEYS {
        let l1: BTreeSet<i64> = ids(
            &sb.get_json(PARTNER1, &format!("/api/{coll}?PageSize=500"))
                .await,
            key,
        )
        .into_iter()
        .collect();
        let l2: BTreeSet<i64> = ids(
            &sb.get_json(PARTNER2, &format!("/api/{coll}?PageSize=500"))
                .await,
            key,
        )
        .into_iter()
        .collect();
        match scope1.get(coll) {
            Some(expected) => {
                assert!(
                    !expected.is_empty(),
                    "{coll}: the default fixtures give partner 1 records"
                );
                assert_eq!(&l1, expected, "{coll} for partner 1");
                assert_eq!(&l2, &scope2[coll], "{coll} for partner 2");
                assert!(l1.is_disjoint(&l2), "{coll}: partners share records");
                for id in &l1 {
                    let r = sb.get(PARTNER2, &format!("/api/{coll}/{id}")).await;
                    error_response(r, 404).await;
                    assert_eq!(
                        sb.get(PARTNER1, &format!("/api/{coll}/{id}"))
                            .await
                            .status(),
                        200
                    );
                }
            }
            None => {
                // reference data: every partner sees all of it
                let all: BTreeSet<i64> = fixture_by_id(coll, key).into_keys().collect();
                assert_eq!(l1, all, "{coll}");
                assert_eq!(l2, all, "{coll}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_scope_record_answers_exactly_like_a_missing_one() {
    let sb = Sandbox::start().await;
    let foreign = sb.get(PARTNER2, "/api/companies/1").await;
    let (_, e1) = error_response(foreign, 404).await;
    let missing = sb.get(PARTNER2, "/api/companies/9999").await;
    let (_, e2) = error_response(missing, 404).await;
    assert_eq!(e1[0].replace("1 ", "N "), e2[0].replace("9999 ", "N "));
}

// ------------------------------------------------------------------ envelopes and embedding

/// Object-typed attributes per collection (API.md section 4): name, target, via.
const OBJECTS: &[(&str, &str, &str, &str)] = &[
    ("partners", "PlanType", "plantypes", "PlanTypeId"),
    ("partnerusers", "Partner", "partners", "PartnerId"),
    ("companies", "Partner", "partners", "PartnerId"),
    ("companies", "PlanType", "plantypes", "PlanTypeId"),
    ("companyusers", "Company", "companies", "CompanyId"),
    ("subscriptions", "Company", "companies", "CompanyId"),
    ("subscriptions", "Plan", "plans", "PlanId"),
    ("devices", "Company", "companies", "CompanyId"),
    ("devices", "Subscription", "subscriptions", "SubscriptionId"),
    ("jobs", "Device", "devices", "DeviceId"),
    ("jobitems", "BackupType", "backuptypes", "BackupTypeId"),
    ("logs", "Company", "companies", "CompanyId"),
    ("logs", "Device", "devices", "DeviceId"),
    ("logs", "Subscription", "subscriptions", "SubscriptionId"),
    ("logs", "Plan", "plans", "PlanId"),
    ("logs", "Job", "jobs", "JobId"),
    ("plans", "PlanType", "plantypes", "PlanTypeId"),
];
/// Array-typed attributes: name, child collection, child's reference.
const ARRAYS: &[(&str, &str, &str, &str)] = &[
    ("jobs", "JobItems", "jobitems", "JobId"),
    ("logs", "LogItems", "logitems", "LogId"),
];
/// Attributes that always render null.
const NULLED: &[(&str, &str)] = &[
    ("jobitems", "Username"),
    ("jobitems", "Password"),
    ("logitems", "Url"),
    ("logitems", "Expires"),
];

/// A fixture record as the API renders it: nulled attributes null, and
/// (one level down) every Object- and Array-typed attribute null.
fn rendered(coll: &str, fixture: &Obj, top: bool) -> Obj {
    let mut r = fixture.clone();
    for (c, a) in NULLED {
        if *c == coll {
            r.insert(a.to_string(), Value::Null);
        }
    }
    for (c, name, target, via) in OBJECTS {
        if *c == coll {
            let v = match (top, fixture[*via].as_i64()) {
                (true, Some(id)) => fixture_by_id(target, key_of(target))
                    .get(&id)
                    .map_or(Value::Null, |t| Value::Object(rendered(target, t, false))),
                _ => Value::Null,
            };
            r.insert(name.to_string(), v);
        }
    }
    for (c, name, child, fk) in ARRAYS {
        if *c == coll {
            let v = if top {
                let own = fixture[key_of(coll)].as_i64();
                Value::Array(
                    fixture_by_id(child, key_of(child))
                        .values()
                        .filter(|ch| ch[*fk].as_i64() == own)
                        .map(|ch| Value::Object(rendered(child, ch, false)))
                        .collect(),
                )
            } else {
                Value::Null
            };
            r.insert(name.to_string(), v);
        }
    }
    r
}

fn assert_timestamps(v: &Value, path: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let is_time = k.ends_with("On")
                    || k.ends_with("At")
                    || k == "Expires"
                    || k.starts_with("Period")
                    || k == "LastAgentDownloadCreated";
                if is_time && let Some(s) = x.as_str() {
                    assert!(
                        is_timestamp(s),
                        "{path}.{k} = {s}: not YYYY-MM-DDTHH:MM:SS.mmm"
                    );
                }
                assert_timestamps(x, &format!("{path}.{k}"));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_timestamps(x, path)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_collection_renders_its_records_with_one_level_embedding() {
    let sb = Sandbox::start().await;
    let scope = expected_scope(1);
    for (coll, key) in &COLLECTION_KEYS {
        let list = sb
            .get_json(PARTNER1, &format!("/api/{coll}?PageSize=500"))
            .await;
        assert_eq!(
            list.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["data", "page_no", "page_size"]
        );
        let fixtures = fixture_by_id(coll, key);
        let data = list["data"].as_array().unwrap();
        assert!(!data.is_empty(), "{coll}");
        for rec in data {
            let id = rec[*key].as_i64().unwrap();
            assert!(scope.get(coll).is_none_or(|s| s.contains(&id)));
            let expected = Value::Object(rendered(coll, &fixtures[&id], true));
            assert_eq!(rec, &expected, "{coll} {id}");
            let read = sb.get_json(PARTNER1, &format!("/api/{coll}/{id}")).await;
            assert_eq!(read, json!({ "data": expected }), "read {coll} {id}");
        }
        assert_timestamps(&list, coll);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_credentials_are_never_shown() {
    let sb = Sandbox::start().await;
    let items = fixture_by_id("jobitems", "JobItemId");
    let (id, item) = items
        .iter()
        .find(|(_, r)| r["AuthenticationMode"] == "S")
        .expect("an SQL login item");
    let password = item["Password"].as_str().unwrap().to_string();
    assert!(!password.is_empty());
    let body = sb.get(PARTNER2, &format!("/api/jobitems/{id}")).await;
    let body = if body.status() == 404 {
        sb.get(PARTNER1, &format!("/api/jobitems/{id}")).await
    } else {
        body
    };
    let text = body.text().await.unwrap();
    assert!(!text.contains(&password), "password rendered: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"]["Username"], Value::Null);
    assert_eq!(v["data"]["Password"], Value::Null);
}

// ------------------------------------------------------------------ vendor examples

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_example_records_render_exactly_as_the_vendor_shows_them() {
    let sb = Sandbox::start().await;
    // (example file, path whose "data" holds the record, or the whole list when None)
    let singles = [
        ("companies-list.json", "/api/companies/1"),
        ("partners-list.json", "/api/partners/1"),
        ("partnerusers-list.json", "/api/partnerusers/1"),
        ("plans-list.json", "/api/plans/1"),
        ("plantypes-list.json", "/api/plantypes/1"),
        ("events-list.json", "/api/events/1"),
    ];
    for (file, path) in singles {
        let example = vendor_example(file);
        let record = example["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(sb.get_json(PARTNER1, path).await["data"], record, "{file}");
    }
    for (file, path) in [
        ("backuptypes-read.json", "/api/backuptypes/1"),
        ("plantypes-read.json", "/api/plantypes/1"),
    ] {
        assert_eq!(
            sb.get_json(PARTNER1, path).await,
            vendor_example(file),
            "{file}"
        );
    }
    // whole List responses where the sandbox holds exactly the vendor's records
    for (file, path) in [
        ("backuptypes-list.json", "/api/backuptypes"),
        ("plantypes-list.json", "/api/plantypes"),
    ] {
        assert_eq!(
            sb.get_json(PARTNER1, path).await,
            vendor_example(file),
            "{file}"
        );
    }
    // the partners List returns the caller's own partner only, as the vendor's example shows
    assert_eq!(
        sb.get_json(PARTNER1, "/api/partners").await,
        vendor_example("partners-list.json")
    );
    // The company list contains Company 1 exactly as the List example shows it
    let companies = sb.get_json(PARTNER1, "/api/companies").await;
    let example = vendor_example("companies-list.json")["data"][0].clone();
    assert!(companies["data"].as_array().unwrap().contains(&example));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_distinct_request_id_and_json_content_type() {
    let sb = Sandbox::start().await;
    let mut seen = BTreeSet::new();
    for path in [
        "/api/companies",
        "/api/companies/1",
        "/api/nothing",
        "/api/logs/abc",
    ] {
        let r = sb.get(PARTNER1, path).await;
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(id.parse::<u64>().is_ok(), "{id}");
        assert!(seen.insert(id));
        assert_eq!(
            r.headers()["content-type"],
            "application/json; charset=utf-8"
        );
    }
    let r = sb
        .client()
        .get(sb.url("/api/companies"))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_http1_serve_the_same_bodies() {
    let sb = Sandbox::start().await;
    let h1 = sb
        .client()
        .get(sb.url("/api/jobs/1"))
        .basic_auth(PARTNER1, None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    let h2 = sb
        .client_h2()
        .get(sb.url("/api/jobs/1"))
        .basic_auth(PARTNER1, None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
    assert_eq!(h1.text().await.unwrap(), h2.text().await.unwrap());
}
