//! The request pipeline: request id -> session (`/s/{name}` or
//! `X-Sandbox-Session`, created by its first authenticated request) -> fault
//! rules (for /api/) -> the key -> the /api/ or /_sandbox/ handler ->
//! response, then the session's journal (for /api/) and one access-log line. Every failure becomes a 4xx/5xx response:
//! returning `Err` to hyper would abort the connection, which only a `close`
//! fault rule does.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;

use super::access;
use super::api::{self, Served};
use super::app::{
    App, JSON, X_REQUEST_ID, X_SANDBOX_FIXTURE_ERROR, X_SANDBOX_WARNING, header_value,
};
use super::auth::{self, KeyMemo, Principal};
use super::body::Body;
use super::control;
use super::error::ApiError;
use super::route::{self, Area};
use super::sessions;
use crate::store::Store;
use crate::store::faults::Decision;
use crate::store::journal;

/// The error that makes hyper close the connection without an answer: the
/// only way a request "fails" (a `close` fault rule).
#[derive(Debug)]
pub struct CloseConnection;

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by a sandbox fault rule")
    }
}

impl std::error::Error for CloseConnection {}

/// What the journal and the access log say of a request, taken as it arrives.
struct Seen {
    id: u64,
    method: Method,
    path: Arc<str>,
    query: Option<Arc<str>>,
    area: Area,
    started: Instant,
}

impl Seen {
    /// Counts this /api/ request, answered with `status` (0: none), in its
    /// session's conformance report.
    fn report(
        &self,
        store: &Store,
        partner: Option<i64>,
        status: u16,
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
        shape: Option<&crate::domain::report::BodyShape>,
    ) {
        store.report().observe(&crate::store::report::Answered {
            id: self.id,
            now_ms: store.clock().now_ms(),
            method: self.method.as_str(),
            path: &self.path,
            query: self.query.as_deref(),
            partner,
            status,
            headers,
            body,
            shape,
        });
    }

    /// A journal entry for this request, without bodies.
    fn entry(&self, store: &Store, partner_id: Option<i64>, status: u16) -> journal::Entry {
        journal::Entry {
            id: self.id,
            time_ms: store.clock().now_ms(),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            partner_id,
            status,
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            request_body: None,
            response_body: None,
        }
    }
}

/// Handles one request: its session, faults (for /api/), then the
/// pipeline, then the journal (for /api/) and the access log. Every problem
/// is an error response; only a `close` fault ends the connection instead.
pub async fn handle<B>(
    app: Arc<App>,
    keys: Arc<KeyMemo>,
    mut req: Request<B>,
) -> Result<Response<Body>, CloseConnection>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let id = app.next_request_id();
    let started = Instant::now();
    let selected = sessions::select(req.headers(), req.uri());
    let selected = selected.map(|(name, uri)| {
        if let Some(uri) = uri {
            *req.uri_mut() = uri; // the /api/... or /_sandbox/... part
        }
        name
    });
    let path: Arc<str> = req.uri().path().into();
    let seen = Seen {
        id,
        method: req.method().clone(),
        area: route::area(&path),
        path,
        query: req.uri().query().map(Arc::from),
        started,
    };
    let store = match selected {
        Ok(None) => app.store.clone(),
        Ok(Some(name)) => match open(&app, &keys, &seen, &req, &name) {
            Ok(store) => store,
            Err(e) => return Ok(log(&app, &seen, None, None, refused(&app, &seen, e))),
        },
        Err(e) => return Ok(log(&app, &seen, None, None, refused(&app, &seen, e))),
    };
    // kept (a shared value, no copy) for naming the partner of a refused request
    let credentials = req
        .headers()
        .get(header::AUTHORIZATION)
        .filter(|_| seen.area == Area::Api)
        .cloned();
    let (fault, key_partner) = if seen.area == Area::Api {
        fault_for(&store, &keys, &req).await
    } else {
        (None, None)
    };
    let dispatched = match fault {
        Some(Fault::Close) => {
            if key_partner.is_some() {
                store.mark_used();
            }
            // counted like every /api/ request; 0: no answer, as in the journal
            seen.report(&store, key_partner, 0, &[], &[], None);
            store.journal().push(seen.entry(&store, key_partner, 0));
            let message = "request: connection closed by a fault rule";
            access_line(&app, &seen, Some(store.name()), key_partner, 0, message);
            return Err(CloseConnection);
        }
        Some(Fault::Respond(e)) => Dispatched::refused(e),
        None => dispatch(&app, &store, &keys, req).await,
    };
    if dispatched.principal.is_some() || key_partner.is_some() {
        store.mark_used();
    }
    let partner = dispatched
        .principal
        .and_then(Principal::partner_id)
        .or(key_partner)
        .or_else(|| {
            // refused by authentication: the journal still names a known key's partner
            let value = credentials.filter(|_| dispatched.principal.is_none())?;
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value);
            store.read(|s| auth::partner_of(s, &headers, &keys))
        });
    let response = respond(&app, Some(&store), &seen, partner, dispatched.served);
    Ok(log(&app, &seen, Some(store.name()), partner, response))
}

/// The session `name` for a request under /api/ or /_sandbox/: a live one,
/// or one created now from the fixtures, but only for a request that its
/// key does not refuse (so a 401 or 403 creates nothing).
fn open<B>(
    app: &App,
    keys: &KeyMemo,
    seen: &Seen,
    req: &Request<B>,
    name: &str,
) -> Result<Store, ApiError> {
    if app.store.session(name).is_none() {
        let who = app.store.read_base(|base| match seen.area {
            Area::Api => auth::partner(base, req.headers(), keys).map(drop),
            _ => auth::admin(base, req.headers(), keys).map(drop),
        });
        who?;
    }
    app.store.open_session(name).map_err(sessions::open_error)
}

/// A request refused before it reached a session: no journal entry.
fn refused(app: &App, seen: &Seen, e: ApiError) -> Response<Body> {
    respond(app, None, seen, None, Err(e).into())
}

/// The access-log line of a request.
/// The access-log line of a request answered in `session` (none when it
/// was refused before a session was chosen).
fn log(
    app: &App,
    seen: &Seen,
    session: Option<&str>,
    partner: Option<i64>,
    response: Response<Body>,
) -> Response<Body> {
    access_line(
        app,
        seen,
        session,
        partner,
        response.status().as_u16(),
        "request",
    );
    response
}

fn access_line(
    app: &App,
    seen: &Seen,
    session: Option<&str>,
    partner: Option<i64>,
    status: u16,
    message: &str,
) {
    access::write(
        app.log(),
        &access::Line {
            request_id: seen.id,
            method: seen.method.as_str(),
            path: &seen.path,
            session: session.unwrap_or("-"),
            status,
            duration_ms: seen.started.elapsed().as_secs_f64() * 1000.0,
            partner,
            message,
        },
    );
}

/// The answer as a response with its headers; the journal entry of an
/// /api/ request in its session, which counts a successful write.
fn respond(
    app: &App,
    store: Option<&Store>,
    seen: &Seen,
    partner: Option<i64>,
    served: Served,
) -> Response<Body> {
    let wrote = served.result.as_ref().is_ok_and(|r| r.status.is_success())
        && matches!(seen.method, Method::POST | Method::PUT | Method::DELETE);
    let (status, body, mut headers): (_, Bytes, _) = match served.result {
        Ok(reply) => {
            let mut headers = reply.headers;
            headers.extend(
                reply
                    .warnings
                    .iter()
                    .map(|w| (HeaderName::from_static(X_SANDBOX_WARNING), header_value(w))),
            );
            (reply.status, reply.body.into(), headers)
        }
        Err(e) => {
            let body = e.body();
            (e.status, body.into(), e.headers)
        }
    };
    const REQUEST_ID: HeaderName = HeaderName::from_static(X_REQUEST_ID);
    headers.push((REQUEST_ID, HeaderValue::from(seen.id)));
    if let Some(summary) = app.store.fixture_error_summary() {
        headers.push((
            HeaderName::from_static(X_SANDBOX_FIXTURE_ERROR),
            header_value(&summary),
        ));
    }
    if let Some(store) = store.filter(|_| seen.area == Area::Api) {
        if wrote {
            store.note_change();
        }
        seen.report(
            store,
            partner,
            status.as_u16(),
            &headers,
            &body,
            served.shape.as_ref(),
        );
        if store.journal().enabled() {
            let mut entry = seen.entry(store, partner, status.as_u16());
            entry.response_body = Some(journal::keep_response(&body));
            entry.request_body = served.request_body.as_ref().and_then(journal::keep_body);
            store.journal().push(entry);
        }
    }
    let mut response = json_response(status, body);
    for (name, value) in headers {
        if name == header::CONTENT_TYPE {
            response.headers_mut().insert(name, value); // a reply that is not JSON
        } else {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// What a fault rule does to a request instead of serving it.
enum Fault {
    Respond(ApiError),
    Close,
}

/// Applies the session's fault rules to an /api/ request (after their
/// delay); also returns the partner of the request's key, if any.
async fn fault_for<B>(
    store: &Store,
    keys: &KeyMemo,
    req: &Request<B>,
) -> (Option<Fault>, Option<i64>) {
    let generation = store.generation();
    let faults = store.faults();
    if faults.file_generation() != generation {
        let rules = store.read(|s| s.faults.clone());
        faults.replace_file_rules(generation, rules);
    }
    if faults.is_empty() {
        return (None, None); // the common case: no rule, nothing to look up
    }
    let partner = store.read(|s| auth::partner_of(s, req.headers(), keys));
    let decision = faults.decide(req.method().as_str(), req.uri().path(), partner);
    let (delay, fault) = match decision {
        Decision::Serve { delay } => (delay, None),
        Decision::Close { delay } => (delay, Some(Fault::Close)),
        Decision::Respond {
            delay,
            status,
            body,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut e = ApiError::new(status, String::new());
            e.raw_body = Some(serde_json::to_vec(&body).unwrap_or_default());
            if let Some(secs) = retry_after {
                e = e.with_header(header::RETRY_AFTER, &secs.to_string());
            }
            (delay, Some(Fault::Respond(e)))
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    (fault, partner)
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// The answer to a request, and who it was answered for.
struct Dispatched {
    served: Served,
    /// Who the key authenticated, once it did.
    principal: Option<Principal>,
}

impl Dispatched {
    /// A document served without a key.
    fn answered(body: Vec<u8>) -> Dispatched {
        Dispatched {
            served: Ok(super::app::Reply::ok(body)).into(),
            principal: None,
        }
    }

    fn refused(e: ApiError) -> Dispatched {
        Dispatched {
            served: Err(e).into(),
            principal: None,
        }
    }
}

/// The published descriptions and the index at `/` without a key; else the
/// key, then the /api/ or /_sandbox/ handler.
async fn dispatch<B>(app: &App, store: &Store, keys: &KeyMemo, req: Request<B>) -> Dispatched
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_owned();
    let area = route::area(&path);
    if area == Area::Other && req.method() == Method::GET {
        match path.as_str() {
            "/openapi.json" => {
                let doc =
                    super::app::for_request(&app.documents().openapi, req.headers(), req.uri());
                return Dispatched::answered(doc);
            }
            "/postman.json" => return Dispatched::answered(app.documents().postman.clone()),
            "/postman_environment.json" => {
                let env = &app.documents().postman_environment;
                return Dispatched::answered(super::app::for_request(
                    env,
                    req.headers(),
                    req.uri(),
                ));
            }
            "/" => return Dispatched::answered(route::index(req.headers(), req.uri())),
            _ => {}
        }
    }
    let who = store.read(|state| match area {
        Area::Api => auth::partner(state, req.headers(), keys),
        Area::Sandbox => auth::admin(state, req.headers(), keys),
        Area::Other => auth::any(state, req.headers(), keys),
    });
    let who = match who {
        Ok(who) => who,
        Err(e) => return Dispatched::refused(e),
    };
    let served = match (area, who) {
        (Area::Api, Principal::Partner(partner)) => api::handle(app, store, req, partner).await,
        (Area::Sandbox, Principal::Admin) => control::handle(app, store, req).await.into(),
        _ => Err(ApiError::not_found(format!("No such resource: {path}."))).into(),
    };
    Dispatched {
        served,
        principal: Some(who),
    }
}
