//! The `/api/` handlers: a routed, authenticated request to the engine and
//! back, with the query-parameter rules of API.md section 1 (paging, and a
//! warning for every parameter the CleverFox API does not read).

use bytes::Bytes;
use http::{HeaderName, Request, StatusCode};

use super::app::{App, Reply, X_SANDBOX_COMPAT, header_value, session_base};
use super::body;
use super::error::ApiError;
use super::route::{self, Route};
use crate::domain::compat;
use crate::domain::engine::{self, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::report::BodyShape;
use crate::domain::schema::Res;
pub use crate::domain::value::whole_number;
use crate::store::Store;

/// What serving an /api/ request gave: the answer, and the body it read
/// (for the journal), whether the answer is a success or a refusal.
pub struct Served {
    pub result: Result<Reply, ApiError>,
    pub request_body: Option<Bytes>,
    /// What the conformance report needs of a body the engine took.
    pub shape: Option<BodyShape>,
}

impl From<Result<Reply, ApiError>> for Served {
    fn from(result: Result<Reply, ApiError>) -> Served {
        Served {
            result,
            request_body: None,
            shape: None,
        }
    }
}

/// Serves a request under `/api/` of `store`'s session for an
/// authenticated partner; with compat mode on in the session (API.md
/// section 12), a successful answer's body is reshaped here and nowhere
/// else, and says so in `X-Sandbox-Compat`.
pub async fn handle<B>(app: &App, store: &Store, req: Request<B>, partner: i64) -> Served
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let compat = app.compat(store);
    if !compat.is_on() {
        return serve(app, store, req, partner).await;
    }
    let res = match route::route(req.method(), req.uri().path()) {
        Ok(Route::List(r) | Route::Read(r, _) | Route::Delete(r, _)) => Some(r),
        Ok(Route::Create(r) | Route::Update(r, _)) => Some(r),
        Err(_) => None,
    };
    let mut served = serve(app, store, req, partner).await;
    if let (Some(res), Ok(reply)) = (res, &mut served.result)
        && reply.status.is_success()
        && let Some(body) = compat::reshape(&compat, res, &reply.body)
    {
        reply.body = body;
        reply.headers.push((
            HeaderName::from_static(X_SANDBOX_COMPAT),
            header_value(&compat.header()),
        ));
    }
    served
}

async fn serve<B>(app: &App, store: &Store, req: Request<B>, partner: i64) -> Served
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let route = match route::route(req.method(), req.uri().path()) {
        Ok(route) => route,
        Err(e) => return Err(e).into(),
    };
    let params = query_params(req.uri().query());
    let mut warnings = Vec::new();
    let result = match route {
        Route::List(res) => list(app, store, res, partner, &params, &mut warnings),
        Route::Read(res, id) => {
            ignore_params(&params, &mut warnings);
            let view = app.view(store);
            store
                .read(|s| engine::read(s, &view, res, id, partner))
                .map_err(ApiError::from)
                .map(Reply::ok)
        }
        Route::Delete(res, id) => {
            ignore_params(&params, &mut warnings);
            let ctx = app.write_ctx(store, true);
            store
                .write(|s| engine::delete(s, &ctx, res, id, partner))
                .map_err(ApiError::from)
                .map(|w| Reply::ok(w.body))
        }
        Route::Create(res) | Route::Update(res, _) => {
            return write(app, store, req, route, res, partner, params).await;
        }
    };
    result.map(|reply| Reply { warnings, ..reply }).into()
}

fn list(
    app: &App,
    store: &Store,
    res: Res,
    partner: i64,
    params: &[(String, String)],
    warnings: &mut Vec<String>,
) -> Result<Reply, ApiError> {
    let (page_no, page_size) = paging(params, warnings)?;
    let view = app.view(store);
    let body = store.read(|s| engine::list(s, &view, res, partner, page_no, page_size));
    Ok(Reply::ok(body))
}

/// POST and PUT: the path's record (for PUT), the content type, the body,
/// then the engine; the outbox gets the mails the write sent.
async fn write<B>(
    app: &App,
    store: &Store,
    req: Request<B>,
    route: Route,
    res: Res,
    partner: i64,
    params: Vec<(String, String)>,
) -> Served
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut warnings = Vec::new();
    if let Route::Update(_, id) = route {
        // the path's record before the content type (order of checks)
        let found = store.read(|s| engine::find(s, res, id, partner).map(|_| ()));
        if let Err(e) = found {
            // read the body all the same (within the limits), so the
            // connection stays usable for the client's next request
            let (parts, incoming) = req.into_parts();
            let limits = (app.settings.max_body, app.settings.body_read_timeout);
            let _ = body::read_limited(&parts.headers, incoming, limits.0, limits.1).await;
            return Err(ApiError::from(e)).into();
        }
    }
    let refused = body::check_content_type(req.headers()).err();
    body_params(&params, &mut warnings);
    let (parts, incoming) = req.into_parts();
    let read = body::read_limited(
        &parts.headers,
        incoming,
        app.settings.max_body,
        app.settings.body_read_timeout,
    )
    .await;
    if let Some(e) = refused {
        // refused by its content type, but the journal still shows what was sent
        return Served {
            result: Err(e),
            request_body: read.ok(),
            shape: None,
        };
    }
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e) => return Err(e).into(),
    };
    let mut shape = None;
    let result = store_body(app, store, route, res, partner, &bytes).map(|(w, s)| {
        shape = Some(s);
        warnings.extend(w.warnings);
        let reply = match route {
            Route::Create(_) => Reply::created(w.body, &location(&parts, store, res, w.id)),
            _ => Reply::ok(w.body),
        };
        Reply { warnings, ..reply }
    });
    Served {
        result,
        request_body: Some(bytes),
        shape,
    }
}

/// Parses the body and hands it to the engine; the outbox gets the mails.
/// A write it took gives the body's shape too, for the report.
fn store_body(
    app: &App,
    store: &Store,
    route: Route,
    res: Res,
    partner: i64,
    bytes: &[u8],
) -> Result<(engine::Written, BodyShape), ApiError> {
    let input = body::parse_input(bytes)?;
    let ctx = app.write_ctx(store, true);
    let mut w = store.write(|s| match route {
        Route::Update(_, id) => engine::update(s, &ctx, res, id, partner, &input),
        _ => engine::create(s, &ctx, res, partner, &input),
    })?;
    store.outbox().push(std::mem::take(&mut w.mails));
    Ok((w, BodyShape::of(&input)))
}

/// The new record's URL, in the request's session: on the host the request
/// named, else its path.
fn location(parts: &http::request::Parts, store: &Store, res: Res, id: i64) -> String {
    let mut url = String::with_capacity(96);
    if let Some(host) = route::host(&parts.headers, &parts.uri) {
        url.push_str("https://");
        url.push_str(&host);
    }
    url.push_str(&session_base(store));
    url.push_str("/api/");
    url.push_str(res.name());
    url.push('/');
    url.push_str(itoa::Buffer::new().format(id));
    url
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
