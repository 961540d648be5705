//! The request pipeline: request id -> authentication -> route -> engine ->
//! response, with one access-log line per request. Every failure becomes a
//! 4xx/5xx response: returning `Err` to hyper would abort the connection.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

use super::auth::{self, Principal};
use super::body;
use super::error::ApiError;
use super::route::{self, Area, Route};
use crate::api::engine::{self, EngineError, WriteCtx};
use crate::api::rules::ViewCtx;
use crate::config::Settings;
use crate::store::Store;

/// The response body type of every answer.
pub type Body = Full<Bytes>;

pub const JSON: &str = "application/json; charset=utf-8";
pub const X_REQUEST_ID: &str = "x-request-id";
pub const X_SANDBOX_WARNING: &str = "x-sandbox-warning";
pub const X_SANDBOX_FIXTURE_ERROR: &str = "x-sandbox-fixture-error";

/// Largest `PageSize` served; larger values are served as this.
pub const MAX_PAGE_SIZE: u64 = 500;
pub const DEFAULT_PAGE_SIZE: u64 = 25;

/// What every connection shares.
pub struct App {
    pub store: Store,
    pub settings: Settings,
    /// The id of the next request (`X-Request-Id`).
    next_request_id: AtomicU64,
}

impl App {
    pub fn new(store: Store, settings: Settings) -> Arc<App> {
        Arc::new(App {
            store,
            settings,
            next_request_id: AtomicU64::new(1),
        })
    }
}

/// A successful answer before it becomes a response.
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// Why an attribute or parameter was ignored or adjusted.
    pub warnings: Vec<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            warnings: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// Handles one request. Never fails: every problem is an error response.
pub async fn handle<B>(app: Arc<App>, req: Request<B>) -> Result<Response<Body>, Infallible>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let request_id = app.next_request_id.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut principal = None;
    let result = dispatch(&app, req, &mut principal).await;
    let mut response = match result {
        Ok(reply) => {
            let mut r = json_response(reply.status, reply.body);
            for w in &reply.warnings {
                r.headers_mut().append(X_SANDBOX_WARNING, header_value(w));
            }
            for (name, value) in reply.headers {
                r.headers_mut().append(name, value);
            }
            r
        }
        Err(e) => {
            let mut r = json_response(e.status, e.body());
            for (name, value) in e.headers {
                r.headers_mut().append(name, value);
            }
            r
        }
    };
    response.headers_mut().insert(
        HeaderName::from_static(X_REQUEST_ID),
        HeaderValue::from(request_id),
    );
    if let Some(summary) = app.store.fixture_error_summary() {
        response.headers_mut().insert(
            HeaderName::from_static(X_SANDBOX_FIXTURE_ERROR),
            header_value(&summary),
        );
    }
    let partner = principal.and_then(Principal::partner_id);
    tracing::info!(
        target: "cleverfox_sandbox::access",
        request_id,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        partner,
        "request"
    );
    Ok(response)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// A header value from free text: anything but visible ASCII becomes '?'.
pub fn header_value(text: &str) -> HeaderValue {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

async fn dispatch<B>(
    app: &App,
    req: Request<B>,
    principal: &mut Option<Principal>,
) -> Result<Reply, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_owned();
    let area = route::area(&path);
    let who = app.store.read(|state| match area {
        Area::Api => auth::partner(state, req.headers()),
        Area::Sandbox => auth::admin(state, req.headers()),
        Area::Other => auth::any(state, req.headers()),
    })?;
    *principal = Some(who);
    match (area, who) {
        (Area::Api, Principal::Partner(partner)) => api(app, req, partner).await,
        (Area::Sandbox, Principal::Admin) => crate::sandbox::handle(app, req).await,
        _ => Err(ApiError::not_found(format!("No such resource: {path}."))),
    }
}

/// The view every rendering uses: the sandbox clock and the agent delay.
pub fn view(app: &App) -> ViewCtx {
    ViewCtx {
        now_ms: app.store.clock().now_ms(),
        agent_delay_ms: app.settings.agent_delay_ms,
    }
}

async fn api<B>(app: &App, req: Request<B>, partner: i64) -> Result<Reply, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let route = route::route(req.method(), req.uri().path())?;
    let params = query_params(req.uri().query());
    let mut warnings = Vec::new();
    let view = view(app);
    match route {
        Route::List(res) => {
            let (page_no, page_size) = paging(&params, &mut warnings)?;
            let body = app
                .store
                .read(|s| engine::list(s, &view, res, partner, page_no, page_size));
            Ok(Reply {
                warnings,
                ..Reply::ok(body)
            })
        }
        Route::Read(res, id) => {
            ignore_params(&params, &mut warnings);
            let body = app
                .store
                .read(|s| engine::read(s, &view, res, id, partner))
                .map_err(engine_error)?;
            Ok(Reply {
                warnings,
                ..Reply::ok(body)
            })
        }
        Route::Delete(res, id) => {
            ignore_params(&params, &mut warnings);
            let ctx = write_ctx(app, view);
            let w = app
                .store
                .write(|s| engine::delete(s, &ctx, res, id, partner))
                .map_err(engine_error)?;
            Ok(Reply {
                warnings,
                ..Reply::ok(w.body)
            })
        }
        Route::Create(res) | Route::Update(res, _) => {
            if let Route::Update(_, id) = route {
                // the path's record before the content type (order of checks)
                app.store
                    .read(|s| engine::find(s, res, id, partner).map(|_| ()))
                    .map_err(engine_error)?;
            }
            body::check_content_type(req.headers())?;
            body_params(&params, &mut warnings);
            let (parts, incoming) = req.into_parts();
            let bytes = body::read_limited(
                &parts.headers,
                incoming,
                app.settings.max_body,
                app.settings.body_read_timeout,
            )
            .await?;
            let input = body::parse_object(&bytes)?;
            let ctx = write_ctx(app, view);
            let w = app
                .store
                .write(|s| match route {
                    Route::Update(_, id) => engine::update(s, &ctx, res, id, partner, &input),
                    _ => engine::create(s, &ctx, res, partner, &input),
                })
                .map_err(engine_error)?;
            warnings.extend(w.warnings);
            app.store.outbox().push(w.mails);
            let mut reply = Reply {
                warnings,
                ..Reply::ok(w.body)
            };
            if let Route::Create(_) = route {
                reply.status = StatusCode::CREATED;
                let path = format!("/api/{}/{}", res.name(), w.id);
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_owned);
                let location = host
                    .or_else(|| parts.uri.authority().map(|a| a.to_string()))
                    .map_or(path.clone(), |h| format!("https://{h}{path}"));
                reply
                    .headers
                    .push((header::LOCATION, header_value(&location)));
            }
            Ok(reply)
        }
    }
}

fn write_ctx(app: &App, view: ViewCtx) -> WriteCtx {
    WriteCtx {
        now_ms: view.now_ms,
        strict: app.settings.strict,
        view,
    }
}

fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::NotFound(_) => ApiError::not_found(e.to_string()),
        EngineError::Invalid(errors) => ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            headers: Vec::new(),
        },
        EngineError::Duplicate(m) => ApiError::new(StatusCode::CONFLICT, m),
        EngineError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
    }
}

/// Query parameters are never read as attributes on POST and PUT.
fn body_params(params: &[(String, String)], warnings: &mut Vec<String>) {
    for (k, _) in params {
        warnings.push(format!(
            "Query parameter '{k}' was ignored: POST and PUT read attributes from the JSON body only."
        ));
    }
}

/// Query parameters, percent-decoded, in order.
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn ignore_params(params: &[(String, String)], warnings: &mut Vec<String>) {
    for (k, _) in params {
        warnings.push(format!(
            "Query parameter '{k}' was ignored: the CleverFox API has no filters or options here."
        ));
    }
}

/// `PageNo` and `PageSize`, matched case-insensitively; other parameters
/// are ignored with a warning.
fn paging(params: &[(String, String)], warnings: &mut Vec<String>) -> Result<(u64, u64), ApiError> {
    let (mut page_no, mut page_size) = (1, DEFAULT_PAGE_SIZE);
    let mut errors = Vec::new();
    for (k, v) in params {
        let target = if k.eq_ignore_ascii_case("PageNo") {
            &mut page_no
        } else if k.eq_ignore_ascii_case("PageSize") {
            &mut page_size
        } else {
            warnings.push(format!(
                "Query parameter '{k}' was ignored: the CleverFox API has no filters; a List returns every record in scope, page by page."
            ));
            continue;
        };
        match whole_number(v) {
            Some(n) if n >= 1 => *target = n,
            _ => errors.push(format!(
                "{} must be a whole number of at least 1, not '{v}'.",
                if k.eq_ignore_ascii_case("PageNo") {
                    "PageNo"
                } else {
                    "PageSize"
                }
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            errors,
            headers: Vec::new(),
        });
    }
    if page_size > MAX_PAGE_SIZE {
        warnings.push(format!("PageSize {page_size} was served as {MAX_PAGE_SIZE}, the largest page the sandbox serves."));
        page_size = MAX_PAGE_SIZE;
    }
    Ok((page_no, page_size))
}

/// A whole number in decimal digits; values too large for u64 saturate.
fn whole_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u64>().unwrap_or(u64::MAX))
}
