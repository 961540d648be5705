//! The request pipeline: request id -> authentication -> route -> engine ->
//! response, with one access-log line per request. Every failure becomes a
//! 4xx/5xx response: returning `Err` to hyper would abort the connection.

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
use crate::sandbox::faults::{Decision, Faults};
use crate::sandbox::journal::{self, Journal};
use crate::store::Store;
use crate::store::value::format_timestamp;

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
    /// The last `--journal` requests to /api/.
    pub journal: Journal,
    /// The active fault rules.
    pub faults: Faults,
    /// /openapi.json and /postman.json.
    documents: std::sync::OnceLock<Documents>,
    /// The id of the next request (`X-Request-Id`).
    next_request_id: AtomicU64,
}

impl App {
    pub fn new(store: Store, settings: Settings) -> Arc<App> {
        Arc::new(App {
            store,
            journal: Journal::new(settings.journal),
            faults: Faults::default(),
            documents: std::sync::OnceLock::new(),
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

/// Handles one request: faults (for /api/), then the pipeline, then the
/// journal (for /api/) and the access log. Every problem is an error
/// response; only a `close` fault ends the connection instead.
pub async fn handle<B>(app: Arc<App>, req: Request<B>) -> Result<Response<Body>, CloseConnection>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let request_id = app.next_request_id.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let area = route::area(&path);
    let mut principal = None;
    let mut request_body = None;

    let mut credentials = http::HeaderMap::new();
    if let Some(v) = req
        .headers()
        .get(header::AUTHORIZATION)
        .filter(|_| area == Area::Api)
    {
        credentials.insert(header::AUTHORIZATION, v.clone());
    }
    let (fault, key_partner) = if area == Area::Api {
        app.fault_for(&req).await
    } else {
        (None, None)
    };
    let result = match fault {
        Some(Fault::Close) => {
            app.journal_entry(
                request_id,
                &method,
                &path,
                query,
                key_partner,
                0,
                started,
                None,
                None,
            );
            tracing::info!(target: "cleverfox_sandbox::access", request_id, method = %method, path = %path,
                status = 0, "request: connection closed by a fault rule");
            return Err(CloseConnection);
        }
        Some(Fault::Respond(e)) => Err(e),
        None => dispatch(&app, req, &mut principal, &mut request_body).await,
    };
    let (status, body, mut headers) = match result {
        Ok(reply) => {
            let mut headers = reply.headers;
            headers.extend(
                reply
                    .warnings
                    .iter()
                    .map(|w| (HeaderName::from_static(X_SANDBOX_WARNING), header_value(w))),
            );
            (reply.status, reply.body, headers)
        }
        Err(e) => {
            let body = e.body();
            (e.status, body, e.headers)
        }
    };
    headers.push((
        HeaderName::from_static(X_REQUEST_ID),
        HeaderValue::from(request_id),
    ));
    if let Some(summary) = app.store.fixture_error_summary() {
        headers.push((
            HeaderName::from_static(X_SANDBOX_FIXTURE_ERROR),
            header_value(&summary),
        ));
    }
    let partner = principal
        .and_then(Principal::partner_id)
        .or(key_partner)
        .or_else(|| {
            // refused by authentication: the journal still names a known key's partner
            (area == Area::Api && principal.is_none())
                .then(|| app.store.read(|s| auth::partner_of(s, &credentials)))
                .flatten()
        });
    if area == Area::Api && app.journal.enabled() {
        let response_body = Some(journal::cut_text(&body));
        let request_body = request_body.as_deref().and_then(journal::keep_body);
        app.journal_entry(
            request_id,
            &method,
            &path,
            query,
            partner,
            status.as_u16(),
            started,
            request_body,
            response_body,
        );
    }
    let mut response = json_response(status, body);
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
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

/// What a fault rule does to a request instead of serving it.
enum Fault {
    Respond(ApiError),
    Close,
}

/// The generated descriptions, built on first use.
pub struct Documents {
    pub openapi: Vec<u8>,
    pub postman: Vec<u8>,
}

impl App {
    pub fn documents(&self) -> &Documents {
        self.documents.get_or_init(|| Documents {
            openapi: serde_json::to_vec_pretty(&crate::openapi::document()).unwrap_or_default(),
            postman: serde_json::to_vec_pretty(&crate::postman::collection()).unwrap_or_default(),
        })
    }

    /// Applies the fault rules to an /api/ request (after their delay);
    /// also returns the partner of the request's key, if any.
    async fn fault_for<B>(&self, req: &Request<B>) -> (Option<Fault>, Option<i64>) {
        let generation = self.store.generation();
        if self.faults.file_generation() != generation {
            let rules = self.store.read(|s| s.faults.clone());
            self.faults.replace_file_rules(generation, rules);
        }
        if self.faults.is_empty() {
            return (None, None); // the common case: no rule, nothing to look up
        }
        let partner = self.store.read(|s| auth::partner_of(s, req.headers()));
        let decision = self
            .faults
            .decide(req.method().as_str(), req.uri().path(), partner);
        let (delay, fault) = match decision {
            Decision::Serve { delay } => (delay, None),
            Decision::Close { delay } => (delay, Some(Fault::Close)),
            Decision::Respond {
                delay,
                status,
                body,
                retry_after,
            } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
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

    #[allow(clippy::too_many_arguments)]
    fn journal_entry(
        &self,
        id: u64,
        method: &http::Method,
        path: &str,
        query: Option<String>,
        partner_id: Option<i64>,
        status: u16,
        started: Instant,
        request_body: Option<String>,
        response_body: Option<String>,
    ) {
        self.journal.push(journal::Entry {
            id,
            time: format_timestamp(self.store.clock().now_ms()),
            method: method.to_string(),
            path: path.to_string(),
            query,
            partner_id,
            status,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            request_body,
            response_body,
        });
    }
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
    request_body: &mut Option<Bytes>,
) -> Result<Reply, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().to_owned();
    let area = route::area(&path);
    // The published descriptions need no key.
    if area == Area::Other && req.method() == http::Method::GET {
        match path.as_str() {
            "/openapi.json" => return Ok(Reply::ok(app.documents().openapi.clone())),
            "/postman.json" => return Ok(Reply::ok(app.documents().postman.clone())),
            _ => {}
        }
    }
    let who = app.store.read(|state| match area {
        Area::Api => auth::partner(state, req.headers()),
        Area::Sandbox => auth::admin(state, req.headers()),
        Area::Other => auth::any(state, req.headers()),
    })?;
    *principal = Some(who);
    match (area, who) {
        (Area::Api, Principal::Partner(partner)) => api(app, req, partner, request_body).await,
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

async fn api<B>(
    app: &App,
    req: Request<B>,
    partner: i64,
    request_body: &mut Option<Bytes>,
) -> Result<Reply, ApiError>
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
            *request_body = Some(bytes.clone());
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
        EngineError::Invalid(errors) => ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors),
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
pub fn paging(
    params: &[(String, String)],
    warnings: &mut Vec<String>,
) -> Result<(u64, u64), ApiError> {
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
        return Err(ApiError::many(StatusCode::BAD_REQUEST, errors));
    }
    if page_size > MAX_PAGE_SIZE {
        warnings.push(format!("PageSize {page_size} was served as {MAX_PAGE_SIZE}, the largest page the sandbox serves."));
        page_size = MAX_PAGE_SIZE;
    }
    Ok((page_no, page_size))
}

/// A whole number in decimal digits; values too large for u64 saturate.
pub fn whole_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u64>().unwrap_or(u64::MAX))
}
