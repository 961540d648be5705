//! The one router: `(method, path)` to a typed [`Route`] under `/api/` (from
//! the resource tables) or [`ControlRoute`] under `/_sandbox/` (from the
//! control endpoint table), or 404 / 405 with `Allow`.

use http::{HeaderMap, Method, Uri, header};
use serde_json::json;

use super::error::ApiError;
use crate::domain::control::{self, Control};
use crate::domain::schema::{Res, op};
use crate::domain::value::parse_id;

/// What a request under `/api/` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    List(Res),
    Read(Res, i64),
    Create(Res),
    Update(Res, i64),
    Delete(Res, i64),
}

/// Which part of the server a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Api,
    Sandbox,
    Other,
}

pub fn area(path: &str) -> Area {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/api") {
        Area::Api
    } else if under("/_sandbox") {
        Area::Sandbox
    } else {
        Area::Other
    }
}

fn unknown_path(path: &str) -> ApiError {
    ApiError::not_found(format!(
        "No such resource: {path}. The API serves /api/{{collection}} and /api/{{collection}}/{{Id}}."
    ))
}

/// The host a request names: its `Host` header, else its URI's authority
/// (HTTP/2).
pub fn host(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(ToString::to_string))
}

/// Where the descriptions of the sandbox live, for the index and `/api/`.
const DOCS: &str = "docs/api.md (the partner API) and docs/control-api.md (the control API) in the sandbox's repository";

/// `GET /` (no key needed): a short index naming the API's base, the
/// published descriptions, the control API and the docs. `/` is not part of
/// the partner API, so the sandbox may answer there (API.md, fidelity rule).
pub fn index(headers: &HeaderMap, uri: &Uri) -> Vec<u8> {
    let base = host(headers, uri).map_or_else(String::new, |h| format!("https://{h}"));
    let collections: Vec<&str> = Res::ALL.iter().map(|r| r.name()).collect();
    let body = json!({
        "name": "CleverFox Backup API sandbox",
        "version": env!("CARGO_PKG_VERSION"),
        "api": format!("{base}/api/{{collection}}"),
        "collections": collections,
        "authentication": "HTTP Basic: the API key is the username, the password is ignored",
        "openapi": format!("{base}/openapi.json"),
        "postman": format!("{base}/postman.json"),
        "control_api": format!("{base}/_sandbox/health (and the other /_sandbox/ endpoints; admin key)"),
        "docs": DOCS,
    });
    let mut out = serde_json::to_vec_pretty(&body).unwrap_or_default();
    out.push(b'\n');
    out
}

/// `/api/` itself: 404, as the real API answers any path that is not a
/// resource, with a body that says where the resources are.
fn api_root() -> ApiError {
    let collections: Vec<&str> = Res::ALL.iter().map(|r| r.name()).collect();
    ApiError::not_found(format!(
        "/api/ is not a resource: the API serves /api/{{collection}} and /api/{{collection}}/{{Id}}, \
         the collections being {}. GET / describes the sandbox; the API is described in {DOCS}.",
        collections.join(", ")
    ))
}

/// Routes a request under `/api/`. Collection names are matched
/// case-insensitively and one trailing slash is ignored.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    if path == "/api" || path == "/api/" {
        return Err(api_root());
    }
    let rest = path
        .strip_prefix("/api/")
        .ok_or_else(|| unknown_path(path))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/');
    let collection = parts.next().unwrap_or("");
    let id = parts.next();
    if parts.next().is_some() {
        return Err(unknown_path(path));
    }
    let res = Res::from_name(collection).ok_or_else(|| {
        ApiError::not_found(format!(
            "There is no collection named '{collection}' in the API."
        ))
    })?;
    let ops = res.def().ops;
    match id {
        None => {
            let allowed = [(op::LIST, Method::GET), (op::CREATE, Method::POST)];
            match *method {
                Method::GET if ops & op::LIST != 0 => Ok(Route::List(res)),
                Method::POST if ops & op::CREATE != 0 => Ok(Route::Create(res)),
                _ => Err(not_allowed(method, ops, &allowed)),
            }
        }
        Some(id) => {
            let id = parse_id(id).ok_or_else(|| {
                ApiError::not_found(format!(
                    "'{id}' is not a valid {}: ids are positive integers.",
                    res.info().key_name()
                ))
            })?;
            let allowed = [
                (op::READ, Method::GET),
                (op::UPDATE, Method::PUT),
                (op::DELETE, Method::DELETE),
            ];
            match *method {
                Method::GET if ops & op::READ != 0 => Ok(Route::Read(res, id)),
                Method::PUT if ops & op::UPDATE != 0 => Ok(Route::Update(res, id)),
                Method::DELETE if ops & op::DELETE != 0 => Ok(Route::Delete(res, id)),
                _ => Err(not_allowed(method, ops, &allowed)),
            }
        }
    }
}

fn not_allowed(method: &Method, ops: u8, candidates: &[(u8, Method)]) -> ApiError {
    let allow: Vec<&str> = candidates
        .iter()
        .filter(|(o, _)| ops & o != 0)
        .map(|(_, m)| m.as_str())
        .collect();
    ApiError::method_not_allowed(method, &allow)
}

/// What a request under `/_sandbox/` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlRoute {
    pub endpoint: Control,
    /// The number in the path (`{JobId}`, a fault rule's `{id}`), else 0.
    pub id: u64,
    /// The name in the path (`{name}`), else empty.
    pub name: String,
    /// One of the methods the endpoint offers.
    pub method: Method,
}

/// Routes a request under `/_sandbox/` by the control endpoint table.
pub fn control(method: &Method, path: &str) -> Result<ControlRoute, ApiError> {
    let (endpoint, param) = control::find(path)
        .ok_or_else(|| ApiError::not_found(format!("No such control endpoint: {path}.")))?;
    if !endpoint.methods.contains(&method.as_str()) {
        return Err(ApiError::method_not_allowed(method, endpoint.methods));
    }
    Ok(ControlRoute {
        endpoint: endpoint.endpoint,
        id: param.id,
        name: param.name,
        method: method.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_case_insensitively_with_trailing_slash() {
        assert_eq!(
            route(&Method::GET, "/api/Companies/").ok(),
            Some(Route::List(Res::Companies))
        );
        assert_eq!(
            route(&Method::GET, "/api/devices/7").ok(),
            Some(Route::Read(Res::Devices, 7))
        );
        assert_eq!(
            route(&Method::DELETE, "/api/JOBS/3/").ok(),
            Some(Route::Delete(Res::Jobs, 3))
        );
    }

    #[test]
    fn refuses_bad_ids_paths_and_methods() {
        for p in [
            "/api/devices/0",
            "/api/devices/-1",
            "/api/devices/abc",
            "/api/devices/1/2",
            "/api/nope",
            "/api/",
            "/api/devices//",
        ] {
            assert_eq!(route(&Method::GET, p).unwrap_err().status, 404, "{p}");
        }
        let e = route(&Method::POST, "/api/logs").unwrap_err();
        assert_eq!(e.status, 405);
        assert_eq!(e.headers[0].1, "GET");
        let e = route(&Method::DELETE, "/api/partners/1").unwrap_err();
        assert_eq!(e.headers[0].1, "GET, PUT");
    }

    #[test]
    fn routes_control_endpoints_by_the_table() {
        let r = control(&Method::POST, "/_sandbox/jobs/12/run").ok();
        assert_eq!(r.map(|r| (r.endpoint, r.id)), Some((Control::JobRun, 12)));
        assert_eq!(
            control(&Method::GET, "/_sandbox/nope").unwrap_err().status,
            404
        );
        let e = control(&Method::PUT, "/_sandbox/faults").unwrap_err();
        assert_eq!(e.status, 405);
        assert_eq!(e.headers[0].1, "GET, POST, DELETE");
    }
}
