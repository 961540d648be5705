//! Sessions at the edge: which session a request addresses (`/s/{name}/…`
//! or the `X-Sandbox-Session` header; the path wins), decided once in the
//! pipeline, and the control endpoints of sessions and checkpoints.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use serde_json::{Map, Value, json};

use super::app::Reply;
use super::control::{invalid, json_reply};
use super::error::ApiError;
use super::route::{self, Area};
use crate::domain::value::format_timestamp;
use crate::store::Store;
use crate::store::session::{CheckpointInfo, DEFAULT, SessionInfo, valid_name};
use crate::store::sessions::{EndError, OpenError, Origin};

/// The header that selects a session on `/api/` and `/_sandbox/` paths.
pub const X_SANDBOX_SESSION: &str = "x-sandbox-session";

/// The session a request addresses, and its URI without the `/s/{name}`
/// prefix; None for paths outside `/api/` and `/_sandbox/` that name none.
/// A bad name, or `/s/{name}` before anything but `/api/` or `/_sandbox/`,
/// is a 404.
pub fn select(
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(Option<Cow<'static, str>>, Option<Uri>), ApiError> {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/s/") {
        let (name, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if !valid_name(name) || route::area(tail) == Area::Other {
            return Err(ApiError::not_found(format!(
                "No such resource: {path}. Sessions are addressed as /s/{{name}}/api/… and \
                 /s/{{name}}/_sandbox/…, with names of 1 to 64 letters, digits, '_', '.' or '-'."
            )));
        }
        return Ok((Some(Cow::Owned(name.to_string())), Some(strip(uri, tail))));
    }
    if route::area(path) == Area::Other {
        return Ok((None, None));
    }
    const SESSION_HEADER: HeaderName = HeaderName::from_static(X_SANDBOX_SESSION);
    match headers.get(&SESSION_HEADER) {
        None => Ok((Some(Cow::Borrowed(DEFAULT)), None)),
        Some(v) => match v.to_str().ok().filter(|n| valid_name(n)) {
            Some(name) => Ok((Some(Cow::Owned(name.to_string())), None)),
            None => Err(ApiError::not_found(
                "X-Sandbox-Session must name a session: 1 to 64 letters, digits, '_', '.' or '-'.",
            )),
        },
    }
}

/// `uri` with the path `tail` (its query, scheme and authority kept).
fn strip(uri: &Uri, tail: &str) -> Uri {
    let path_and_query = match uri.query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// The answer when a session cannot be created.
pub fn open_error(e: OpenError) -> ApiError {
    match e {
        OpenError::Exists => ApiError::new(StatusCode::CONFLICT, "A session of that name exists."),
        OpenError::Full { retry_after_s } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "The sandbox holds --max-sessions sessions already: end one \
             (DELETE /_sandbox/sessions/{name}) or wait for one to expire.",
        )
        .with_header(header::RETRY_AFTER, &retry_after_s.to_string()),
        OpenError::NoOrigin(msg) => invalid(format!("from: {msg}")),
    }
}

fn timestamp(ms: i64) -> String {
    format_timestamp(ms)
}

fn session_json(s: &SessionInfo) -> Value {
    json!({
        "name": s.name,
        "created_at": timestamp(s.created_at_ms),
        "last_used_at": timestamp(s.last_used_at_ms),
        "expires_at": s.expires_at_ms.map(timestamp),
        "from": s.from,
        "changes": s.changes,
    })
}

fn checkpoint_json(c: &CheckpointInfo) -> Value {
    json!({
        "name": c.name,
        "created_at": timestamp(c.created_at_ms),
        "clock_offset_seconds": c.offset_ms.div_euclid(1000),
    })
}

fn created(v: Value) -> Reply {
    let mut reply = json_reply(v);
    reply.status = StatusCode::CREATED;
    reply
}

/// `GET /_sandbox/sessions`.
pub fn list(store: &Store) -> Reply {
    let data: Vec<Value> = store.sessions().iter().map(session_json).collect();
    json_reply(json!({ "data": data }))
}

/// `POST /_sandbox/sessions` with `{"name", "from", "ttl_s"}`.
pub fn create(store: &Store, input: &Map<String, Value>) -> Result<Reply, ApiError> {
    let mut errors: Vec<String> = input
        .keys()
        .filter(|k| !["name", "from", "ttl_s"].contains(&k.as_str()))
        .map(|k| format!("{k} is not an attribute of a session (name, from, ttl_s)."))
        .collect();
    let name = match input.get("name") {
        Some(Value::String(n)) if valid_name(n) => Some(n.clone()),
        _ => {
            errors.push("name must be 1 to 64 letters, digits, '_', '.' or '-'.".into());
            None
        }
    };
    let origin = match input.get("from") {
        None | Some(Value::Null) => Some(Origin::Fixtures),
        Some(Value::String(f)) => Origin::parse(f),
        Some(_) => None,
    };
    if origin.is_none() {
        errors.push(
            "from must be \"fixtures\", \"session:NAME\", \"checkpoint:NAME\" or \"checkpoint:SESSION/NAME\"."
                .into(),
        );
    }
    let ttl_ms = match input.get("ttl_s") {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.001 && *s < 1e9)
        {
            Some(secs) => Some((secs * 1000.0).round() as i64),
            None => {
                errors.push(format!(
                    "ttl_s must be a positive number of seconds, not {v}."
                ));
                None
            }
        },
    };
    let (Some(name), Some(origin)) = (name, origin) else {
        return Err(ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors));
    }
    let info = store
        .create_session(&name, &origin, ttl_ms)
        .map_err(open_error)?;
    let mut reply = created(session_json(&info));
    reply.headers.push((
        header::LOCATION,
        super::app::header_value(&format!("/s/{name}/_sandbox/health")),
    ));
    Ok(reply)
}

/// `DELETE /_sandbox/sessions/{name}`: the sessions left.
pub fn end(store: &Store, name: &str) -> Result<Reply, ApiError> {
    match store.end_session(name) {
        Ok(()) => Ok(list(store)),
        Err(EndError::Default) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "The default session cannot be ended; POST /_sandbox/reset reloads its fixtures.",
        )),
        Err(EndError::NotFound) => Err(ApiError::not_found(format!(
            "There is no session '{name}'."
        ))),
    }
}

/// `GET /_sandbox/checkpoints`.
pub fn checkpoints(store: &Store) -> Reply {
    let data: Vec<Value> = store.checkpoints().iter().map(checkpoint_json).collect();
    json_reply(json!({ "data": data }))
}

/// `POST /_sandbox/checkpoints` with `{"name"}`.
pub fn take_checkpoint(store: &Store, input: &Map<String, Value>) -> Result<Reply, ApiError> {
    let name = match input.get("name") {
        Some(Value::String(n)) if valid_name(n) && input.len() == 1 => n,
        _ => {
            return Err(invalid(
                "Send {\"name\": NAME}, NAME being 1 to 64 letters, digits, '_', '.' or '-'.",
            ));
        }
    };
    let info = store.take_checkpoint(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("There is a checkpoint '{name}' already."),
        )
    })?;
    Ok(created(checkpoint_json(&info)))
}

fn no_checkpoint(name: &str) -> ApiError {
    ApiError::not_found(format!("There is no checkpoint '{name}' in this session."))
}

/// `DELETE /_sandbox/checkpoints/{name}`: the checkpoints left.
pub fn drop_checkpoint(store: &Store, name: &str) -> Result<Reply, ApiError> {
    if store.drop_checkpoint(name) {
        Ok(checkpoints(store))
    } else {
        Err(no_checkpoint(name))
    }
}

/// `POST /_sandbox/checkpoints/{name}/restore`.
pub fn restore(store: &Store, name: &str) -> Result<Reply, ApiError> {
    let info = store
        .restore_checkpoint(name)
        .ok_or_else(|| no_checkpoint(name))?;
    Ok(json_reply(checkpoint_json(&info)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(path: &str, header: Option<&str>) -> Result<(Option<String>, String), u16> {
        let mut h = HeaderMap::new();
        if let Some(v) = header {
            h.insert(
                X_SANDBOX_SESSION,
                http::HeaderValue::from_str(v).unwrap_or_else(|_| unreachable!()),
            );
        }
        let uri: Uri = path.parse().unwrap_or_else(|_| unreachable!());
        select(&h, &uri)
            .map(|(n, u)| {
                let u = u.as_ref().unwrap_or(&uri).to_string();
                (n.map(Cow::into_owned), u)
            })
            .map_err(|e| e.status.as_u16())
    }

    #[test]
    fn the_path_wins_over_the_header() {
        let some = |n: &str, p: &str| Ok((Some(n.to_string()), p.to_string()));
        assert_eq!(
            sel("/s/a/api/companies?x=1", Some("b")),
            some("a", "/api/companies?x=1")
        );
        assert_eq!(
            sel("/api/companies", Some("b")),
            some("b", "/api/companies")
        );
        assert_eq!(sel("/api/companies", None), some(DEFAULT, "/api/companies"));
        assert_eq!(
            sel("/s/a/_sandbox/health", None),
            some("a", "/_sandbox/health")
        );
        assert_eq!(
            sel("/openapi.json", Some("b")),
            Ok((None, "/openapi.json".into()))
        );
        for bad in [
            "/s/a%20b/api/companies",
            "/s//api/x",
            "/s/a/openapi.json",
            "/s/a",
            "/s/a/",
        ] {
            assert_eq!(sel(bad, None), Err(404), "{bad}");
        }
        assert_eq!(sel("/api/companies", Some("a b")), Err(404));
    }
}
