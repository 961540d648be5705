//! The edge's parsers: paging parameters, routes and ids, and the
//! Authorization header.

use base64::Engine as _;
use cleverfox_sandbox::domain::schema::{Res, op};
use cleverfox_sandbox::edge::api::{paging, whole_number};
use cleverfox_sandbox::edge::auth::api_key;
use cleverfox_sandbox::edge::route::{Route, route};
use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;

use super::config;

/// API.md section 3: `PageSize` above this is served as this.
const MAX_PAGE_SIZE: u64 = 500;
/// API.md section 3: the default `PageSize`.
const DEFAULT_PAGE_SIZE: u64 = 25;

/// The same text with each ASCII letter's case chosen by `flips`.
fn recase(s: &str, flips: &[bool]) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if flips.get(i % flips.len().max(1)).copied().unwrap_or(false) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A decimal number as a client may write it: optional leading zeros.
fn decimal() -> impl Strategy<Value = (u64, String)> {
    (
        prop_oneof![any::<u64>(), 0..1000u64, Just(u64::MAX)],
        0usize..3,
    )
        .prop_map(|(n, zeros)| (n, format!("{}{n}", "0".repeat(zeros))))
}

/// A query parameter value: a number, a number beyond u64, or not a whole
/// number at all (signs, fractions such as `1.0`, spaces, letters, empty).
fn page_value() -> impl Strategy<Value = String> {
    prop_oneof![
        decimal().prop_map(|(_, s)| s),
        "[0-9]{21,30}",
        r"[-+]?[0-9]{0,3}(\.[0-9]{0,2})?[ a-z]?",
        any::<String>(),
    ]
}

/// What `whole_number` must answer: digits only, saturating at u64::MAX.
fn whole_oracle(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 20 {
        return Some(u64::MAX);
    }
    Some(
        digits
            .parse::<u128>()
            .map_or(0, |n| n.min(u128::from(u64::MAX)) as u64),
    )
}

proptest! {
    #![proptest_config(config())]

    /// Any u64 written in decimal (leading zeros allowed) is that number.
    #[test]
    fn whole_numbers_are_decimal((n, text) in decimal()) {
        prop_assert_eq!(whole_number(&text), Some(n));
    }

    /// Any text: digits only are a number (saturating past u64::MAX),
    /// anything else (`1.0`, `-1`, ` 1`, `1e3`, empty) is not.
    #[test]
    fn whole_number_of_any_text(s in page_value()) {
        prop_assert_eq!(whole_number(&s), whole_oracle(&s), "{:?}", s);
    }

    /// `PageNo` and `PageSize` in any case, repeated or not, among other
    /// parameters: every bad value is named in one 400; otherwise the last
    /// value of each wins (defaults 1 and 25), a PageSize over 500 is
    /// served as 500 with a warning, and every other parameter is named in
    /// a warning.
    #[test]
    fn paging_follows_the_rules(
        params in prop::collection::vec(
            (prop_oneof![Just("pageno".to_string()), Just("pagesize".to_string()), "[a-zA-Z]{1,10}"], prop::collection::vec(any::<bool>(), 1..9), page_value()),
            0..6,
        ),
    ) {
        let params: Vec<(String, String)> = params
            .into_iter()
            .map(|(k, flips, v)| (recase(&k, &flips), v))
            .collect();
        let (mut page_no, mut page_size, mut bad, mut ignored) = (1, DEFAULT_PAGE_SIZE, 0, 0);
        for (k, v) in &params {
            let target = match k.to_ascii_lowercase().as_str() {
                "pageno" => &mut page_no,
                "pagesize" => &mut page_size,
                _ => {
                    ignored += 1;
                    continue;
                }
            };
            match whole_oracle(v) {
                Some(n) if n >= 1 => *target = n,
                _ => bad += 1,
            }
        }
        let mut warnings = Vec::new();
        match paging(&params, &mut warnings) {
            Ok((no, size)) => {
                prop_assert_eq!(bad, 0);
                prop_assert_eq!(no, page_no);
                prop_assert_eq!(size, page_size.min(MAX_PAGE_SIZE));
                prop_assert_eq!(warnings.len(), ignored + usize::from(page_size > MAX_PAGE_SIZE));
            }
            Err(e) => {
                prop_assert!(bad > 0);
                prop_assert_eq!(e.status.as_u16(), 400);
                prop_assert_eq!(e.errors.len(), bad);
                for m in &e.errors {
                    prop_assert!(m.starts_with("PageNo ") || m.starts_with("PageSize "), "{}", m);
                }
            }
        }
    }
}

/// A method and whether the resource's operations allow it on a collection
/// URL (`id` false) or an element URL.
fn allowed(ops: u8, method: &Method, id: bool) -> Option<u8> {
    let op = match (method.as_str(), id) {
        ("GET", false) => op::LIST,
        ("POST", false) => op::CREATE,
        ("GET", true) => op::READ,
        ("PUT", true) => op::UPDATE,
        ("DELETE", true) => op::DELETE,
        _ => return None,
    };
    (ops & op != 0).then_some(op)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::PATCH),
        Just(Method::HEAD),
        Just(Method::OPTIONS),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// `/api/{collection}` and `/api/{collection}/{id}`, the collection in
    /// any case, with or without one trailing slash, any positive id
    /// (leading zeros allowed): that collection and id, or 405 naming
    /// exactly the methods the resource offers on that URL.
    #[test]
    fn routes_name_the_collection_and_id(
        res in prop::sample::select(Res::ALL.to_vec()),
        flips in prop::collection::vec(any::<bool>(), 1..14),
        id in prop::option::of((1..=i64::MAX, 0usize..3)),
        slash in any::<bool>(),
        method in method(),
    ) {
        let mut path = format!("/api/{}", recase(res.name(), &flips));
        if let Some((id, zeros)) = id {
            path.push_str(&format!("/{}{id}", "0".repeat(zeros)));
        }
        if slash {
            path.push('/');
        }
        let ops = res.def().ops;
        let got = route(&method, &path);
        match (allowed(ops, &method, id.is_some()), id) {
            (Some(o), None) => {
                let want = if o == op::LIST { Route::List(res) } else { Route::Create(res) };
                prop_assert_eq!(got.ok(), Some(want));
            }
            (Some(o), Some((id, _))) => {
                let want = match o {
                    op::READ => Route::Read(res, id),
                    op::UPDATE => Route::Update(res, id),
                    _ => Route::Delete(res, id),
                };
                prop_assert_eq!(got.ok(), Some(want));
            }
            (None, id) => {
                let e = got.unwrap_err();
                prop_assert_eq!(e.status.as_u16(), 405);
                let allow: Vec<&str> = [Method::GET, Method::POST, Method::PUT, Method::DELETE]
                    .iter()
                    .filter(|m| allowed(ops, m, id.is_some()).is_some())
                    .map(Method::as_str)
                    .collect();
                let header = e.headers.iter().find(|(n, _)| n == http::header::ALLOW);
                prop_assert_eq!(header.map(|(_, v)| v.to_str().unwrap().to_string()), Some(allow.join(", ")));
            }
        }
    }

    /// An id that is not a positive integer (0, signed, beyond i64, not
    /// ASCII digits, empty), a second slash, an extra segment or an
    /// unknown collection: 404 whatever the method.
    #[test]
    fn bad_ids_and_paths_are_not_found(
        res in prop::sample::select(Res::ALL.to_vec()),
        bad in prop_oneof![
            Just("0".to_string()),
            "0{1,3}",
            "[-+][0-9]{1,5}",
            "[0-9]{0,3}[a-z. _٣][0-9]{0,3}",
            "9223372036854775808|[1-9][0-9]{19,25}",
            Just("/".to_string()),
        ],
        extra in prop::option::of("[0-9a-z]{1,4}"),
        method in method(),
    ) {
        let mut path = format!("/api/{}/{bad}", res.name());
        if let Some(extra) = &extra {
            path = format!("/api/{}/1/{extra}", res.name());
        }
        let e = route(&method, &path).unwrap_err();
        prop_assert_eq!(e.status.as_u16(), 404, "{}", path);
    }

    /// Any path and method: a route or a 404/405, never a panic; a route
    /// only for a path that names a collection.
    #[test]
    fn any_path_routes_without_panic(
        path in prop_oneof![any::<String>(), r"/api/[a-zA-Z/0-9%.]{0,20}", r"/api/\PC{0,12}"],
        method in method(),
    ) {
        match route(&method, &path) {
            Ok(r) => {
                let res = match r {
                    Route::List(res) | Route::Create(res) => res,
                    Route::Read(res, id) | Route::Update(res, id) | Route::Delete(res, id) => {
                        prop_assert!(id > 0);
                        res
                    }
                };
                let segment = path["/api/".len()..].split('/').next().unwrap_or("");
                prop_assert!(segment.eq_ignore_ascii_case(res.name()), "{}", path);
            }
            Err(e) => prop_assert!(matches!(e.status.as_u16(), 404 | 405), "{}", path),
        }
    }
}

fn headers(value: &[u8]) -> Option<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_bytes(value).ok()?,
    );
    Some(h)
}

proptest! {
    #![proptest_config(config())]

    /// Basic credentials with any username (no ':') and any password, the
    /// scheme in any case, white space around: the key is the username;
    /// an empty username is refused with 401.
    #[test]
    fn basic_credentials_give_the_username(
        user in prop_oneof!["[A-Za-z0-9_-]{0,40}", r"[^:\x00]{0,20}"],
        password in prop::option::of(any::<String>()),
        flips in prop::collection::vec(any::<bool>(), 1..6),
        (pad, gap) in ("[ \t]{0,2}", "[ ]{1,3}"),
    ) {
        let plain = match &password {
            Some(p) => format!("{user}:{p}"),
            None => user.clone(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(plain.as_bytes());
        let value = format!("{pad}{}{gap}{encoded}{pad}", recase("basic", &flips));
        let h = headers(value.as_bytes()).unwrap();
        match api_key(&h) {
            Ok(key) => prop_assert_eq!(key, user),
            Err(e) => {
                prop_assert!(user.is_empty());
                prop_assert_eq!(e.status.as_u16(), 401);
            }
        }
    }

    /// Any header value: a key or a 401, never a panic; the error names
    /// neither the header nor the credential in it.
    #[test]
    fn any_authorization_header_is_safe(
        value in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "(?i:basic|bearer|digest)[ ]?[A-Za-z0-9+/=]{0,30}".prop_map(String::into_bytes),
            "[A-Za-z0-9_:]{8,30}".prop_map(|s| {
                let e = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
                format!("Bearer {e}").into_bytes()
            }),
        ],
    ) {
        let Some(h) = headers(&value) else { return Ok(()) };
        match api_key(&h) {
            Ok(key) => prop_assert!(!key.is_empty()),
            Err(e) => {
                prop_assert_eq!(e.status.as_u16(), 401);
                let text = String::from_utf8_lossy(&value);
                let secret = text.split_whitespace().last().unwrap_or("");
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(secret)
                    .map(|d| String::from_utf8_lossy(&d).into_owned())
                    .unwrap_or_default();
                for m in &e.errors {
                    if secret.len() >= 8 {
                        prop_assert!(!m.contains(secret), "{}", m);
                    }
                    if decoded.len() >= 8 {
                        prop_assert!(!m.contains(&decoded), "{}", m);
                    }
                }
            }
        }
    }
}
