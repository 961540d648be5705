//! The sandbox control API under `/_sandbox/` (API.md section 8), for admin
//! keys only: what a tester needs and the real API cannot give.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::app::{App, Reply, session_base};
use super::body;
use super::console;
use super::error::ApiError;
use super::route::{self, ControlRoute};
use super::sessions;
use crate::domain::browse::{self, Browse};
use crate::domain::compat::Compat;
use crate::domain::control::Control;
use crate::domain::faults::FaultRule;
use crate::domain::schedule::Schedule;
use crate::domain::schema::Res;
use crate::domain::simulate::{self, Outcome};
use crate::domain::snapshot;
use crate::domain::state::sha256;
use crate::domain::value::{format_timestamp, parse_utc_timestamp, whole_number};
use crate::store::journal;
use crate::store::{Store, fixtures, watch};

/// Largest bundle `PUT /_sandbox/snapshot` accepts.
pub const MAX_SNAPSHOT: usize = 1 << 30;

pub(super) fn json_reply(v: Value) -> Reply {
    Reply::ok(serde_json::to_vec(&v).unwrap_or_default())
}

/// Routes a control API request (already authenticated as admin).
pub async fn handle<B>(app: &App, store: &Store, req: Request<B>) -> Result<Reply, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let route = route::control(req.method(), req.uri().path())?;
    let query = req.uri().query().map(str::to_owned);
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let bytes = read_body(app, &route, req).await?;
    let object = || -> Result<serde_json::Map<String, Value>, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(serde_json::Map::new())
        } else {
            body::parse_object(&bytes)
        }
    };
    match (route.endpoint, route.method) {
        (Control::Health, _) => Ok(Reply::ok(health(store, app.log().dropped_lines()))),
        (Control::Clock, Method::GET) => Ok(Reply::ok(clock_body(store))),
        (Control::Clock, _) => {
            let runs = move_clock(app, store, &object()?)?;
            let mut body: Value = serde_json::from_slice(&clock_body(store)).unwrap_or_default();
            body["runs"] = json!(runs);
            Ok(json_reply(body))
        }
        (Control::Reset, _) if !store.is_default() => Ok(reset_session(store)),
        (Control::Reset, _) => {
            // back to the real time, unless the fixtures refuse to load
            // (then nothing changes, the clock included)
            let clock = store.clock();
            let offset = clock.offset_ms();
            clock.to_real_time();
            let reloading = store.clone();
            let loaded = tokio::task::spawn_blocking(move || watch::reload(&reloading))
                .await
                .map_err(ApiError::internal)?;
            if loaded.is_err() {
                clock.advance_ms(offset);
            } else {
                store.report().clear();
            }
            loaded_reply(store, loaded)
        }
        (Control::Snapshot, Method::GET) => Ok(Reply::ok(snapshot(app, store))),
        (Control::Snapshot, _) => load_snapshot(store, bytes).await,
        (Control::Requests, Method::GET) => {
            let filter = requests_filter(query.as_deref())?;
            Ok(json_reply(json!({ "data": store.journal().list(&filter) })))
        }
        (Control::Requests, _) => {
            store.journal().clear();
            Ok(json_reply(json!({ "data": [] })))
        }
        (Control::Outbox, Method::GET) => Ok(outbox(store)),
        (Control::Outbox, _) => {
            store.outbox().clear();
            Ok(json_reply(json!({ "data": [] })))
        }
        (Control::Faults, Method::GET) => Ok(json_reply(json!({ "data": store.faults().list() }))),
        (Control::Faults, Method::POST) => {
            let rule = FaultRule::parse(&Value::Object(object()?))
                .map_err(|errors| ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors))?;
            let mut reply = json_reply(store.faults().add(rule));
            reply.status = StatusCode::CREATED;
            Ok(reply)
        }
        (Control::Faults, _) => {
            store.faults().clear();
            Ok(json_reply(json!({ "data": [] })))
        }
        (Control::Fault, _) => {
            let id = route.id;
            if store.faults().remove(id) {
                Ok(json_reply(json!({ "data": store.faults().list() })))
            } else {
                Err(ApiError::not_found(format!("There is no fault rule {id}.")))
            }
        }
        // the router admits only positive ids within i64 for {JobId}
        (Control::JobRun, _) => run_job(app, store, route.id as i64, &object()?),
        (Control::Sessions, Method::GET) => Ok(sessions::list(store)),
        (Control::Sessions, _) => sessions::create(store, &object()?),
        (Control::Session, _) => sessions::end(store, &route.name),
        (Control::Checkpoints, Method::GET) => Ok(sessions::checkpoints(store)),
        (Control::Checkpoints, _) => sessions::take_checkpoint(store, &object()?),
        (Control::Checkpoint, _) => sessions::drop_checkpoint(store, &route.name),
        (Control::CheckpointRestore, _) => sessions::restore(store, &route.name),
        (Control::Report, Method::GET) => report(store, query.as_deref()),
        (Control::Report, _) => {
            store.report().clear();
            Ok(report_reply(store, "json"))
        }
        (Control::OpenApi, _) => Ok(Reply::ok(super::app::for_request(
            &app.documents().control_openapi,
            &headers,
            &uri,
        ))),
        (Control::Schedule, Method::GET) => Ok(json_reply(store.schedule().to_json())),
        (Control::Schedule, _) => {
            let schedule = Schedule::parse(&Value::Object(object()?))
                .map_err(|errors| ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors))?;
            store.set_schedule(schedule);
            Ok(json_reply(store.schedule().to_json()))
        }
        (Control::Compat, Method::GET) => Ok(json_reply(app.compat(store).to_json())),
        (Control::Compat, _) => {
            let compat = Compat::parse(&Value::Object(object()?))
                .map_err(|errors| ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors))?;
            store.write(|s| s.compat = Some(compat));
            Ok(json_reply(compat.to_json()))
        }
        (Control::Console, _) => Ok(console::reply()),
        (Control::Data, _) => data(app, store, &route.name, query.as_deref()),
    }
}

/// `GET /_sandbox/report?format=json|markdown|junit`.
fn report(store: &Store, query: Option<&str>) -> Result<Reply, ApiError> {
    let mut format = "json".to_string();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == "format" {
            format = v.into_owned();
        }
    }
    if !matches!(format.as_str(), "json" | "markdown" | "junit") {
        return Err(ApiError::bad_request(format!(
            "format must be json, markdown or junit, not '{format}'."
        )));
    }
    Ok(report_reply(store, &format))
}

fn report_reply(store: &Store, format: &str) -> Reply {
    let counters = store.report().snapshot();
    let (body, content_type) = match format {
        "markdown" => (
            counters.to_markdown().into_bytes(),
            "text/markdown; charset=utf-8",
        ),
        "junit" => (
            counters.to_junit().into_bytes(),
            "application/xml; charset=utf-8",
        ),
        _ => return json_reply(counters.to_json()),
    };
    let mut reply = Reply::ok(body);
    reply.headers.push((
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    ));
    reply
}

/// `POST /s/{name}/_sandbox/reset`: the session back to the state it was
/// created from, and its clock to the real time.
fn reset_session(store: &Store) -> Reply {
    let started = std::time::Instant::now();
    let discarded = store.reset_session().unwrap_or(0);
    let counts = store.read(|s| s.counts());
    let records: usize = counts.iter().map(|(_, n)| *n).sum();
    let counts: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|(res, n)| (res.name().to_string(), json!(n)))
        .collect();
    tracing::info!(
        session = store.name(),
        ms = started.elapsed().as_millis() as u64,
        discarded_api_changes = discarded,
        "session reset"
    );
    json_reply(json!({
        "files": 0,
        "records": records,
        "discarded_api_changes": discarded,
        "counts": counts,
    }))
}

/// The body of a POST or PUT (a snapshot may be as large as a bundle);
/// empty for other methods.
async fn read_body<B>(app: &App, route: &ControlRoute, req: Request<B>) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if !matches!(route.method, Method::POST | Method::PUT) {
        return Ok(Bytes::new());
    }
    let limit = match route.endpoint {
        Control::Snapshot => MAX_SNAPSHOT.max(app.settings.max_body),
        _ => app.settings.max_body,
    };
    let (parts, incoming) = req.into_parts();
    body::read_limited(
        &parts.headers,
        incoming,
        limit,
        app.settings.body_read_timeout,
    )
    .await
}

/// `PUT /_sandbox/snapshot`: loads the bundle off to the side and swaps it
/// in, or answers every problem (nothing swapped in).
async fn load_snapshot(store: &Store, bytes: Bytes) -> Result<Reply, ApiError> {
    let loading = store.clone();
    let now = loading.clock().now_ms();
    let loaded = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let digest = sha256(&bytes);
        // on the loader thread, as every load of served data is
        let loaded = crate::store::loader::run(move || {
            fixtures::load_bundle_bytes("snapshot", bytes.to_vec(), now)
        })?;
        let (files, records) = (loaded.files, loaded.records);
        let discarded = loading.swap_in_bundle(loaded.state, &digest);
        Ok(watch::Reloaded {
            files,
            records,
            millis: started.elapsed().as_millis(),
            discarded,
        })
    })
    .await
    .map_err(ApiError::internal)?;
    loaded_reply(store, loaded)
}

/// `GET /_sandbox/outbox`: the e-mails, newest first.
fn outbox(store: &Store) -> Reply {
    let mails: Vec<Value> = store
        .outbox()
        .list()
        .into_iter()
        .map(|m| {
            json!({"id": m.id, "time": format_timestamp(m.time_ms), "to": m.to, "cc": m.cc,
                   "bcc": m.bcc, "subject": m.subject, "body": m.body})
        })
        .collect();
    json_reply(json!({ "data": mails }))
}

/// Answers a reset or a snapshot load: what was loaded, or every problem
/// (nothing swapped in).
fn loaded_reply(
    store: &Store,
    loaded: Result<watch::Reloaded, Vec<fixtures::Problem>>,
) -> Result<Reply, ApiError> {
    match loaded {
        Ok(r) => {
            let counts: serde_json::Map<String, Value> = store
                .read(|s| s.counts())
                .into_iter()
                .map(|(res, n)| (res.name().to_string(), json!(n)))
                .collect();
            Ok(json_reply(json!({
                "files": r.files,
                "records": r.records,
                "discarded_api_changes": r.discarded,
                "counts": counts,
            })))
        }
        Err(problems) => Err(ApiError::many(
            StatusCode::UNPROCESSABLE_ENTITY,
            problems.iter().map(ToString::to_string).collect(),
        )),
    }
}

/// The whole state as a bundle, the fault rules as its `sandbox`.
fn snapshot(app: &App, store: &Store) -> Vec<u8> {
    let rules = store.faults().rules();
    let schedule = store.schedule();
    let mut settings = serde_json::Map::new();
    if !rules.is_empty() {
        settings.insert("faults".into(), json!(rules));
    }
    if !schedule.is_default() {
        settings.insert("schedule".into(), schedule.to_json());
    }
    let compat = app.compat(store);
    if compat != Compat::default() {
        settings.insert("compat".into(), compat.to_json());
    }
    let sandbox = (!settings.is_empty()).then(|| serde_json::to_vec(&settings).unwrap_or_default());
    store.snapshot(|s| snapshot::write_bundle(s, sandbox.as_deref()))
}

/// `GET /_sandbox/data/{collection}?q=TEXT&id=N&page=N&page_size=N`: every
/// partner's records of one collection, as the console browses them.
fn data(app: &App, store: &Store, name: &str, query: Option<&str>) -> Result<Reply, ApiError> {
    let res = Res::from_name(name)
        .ok_or_else(|| ApiError::not_found(format!("There is no collection '{name}'.")))?;
    let mut q = Browse {
        search: None,
        id: None,
        page_no: 1,
        page_size: 25,
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let number = |max: u64| {
            whole_number(&v)
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{k} must be a whole number from 1 to {max}, not '{v}'."
                    ))
                })
        };
        match k.as_ref() {
            "q" => q.search = Some(v.to_string()).filter(|s| !s.is_empty()),
            "id" => q.id = Some(number(i64::MAX as u64)? as i64),
            "page" => q.page_no = number(u32::MAX as u64)? as usize,
            "page_size" => q.page_size = number(browse::MAX_PAGE_SIZE as u64)? as usize,
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{other}' is not a parameter of the data view (q, id, page, page_size)."
                )));
            }
        }
    }
    let view = app.view(store);
    Ok(Reply::ok(store.read(|s| browse::page(s, &view, res, &q))))
}

fn requests_filter(query: Option<&str>) -> Result<journal::Filter, ApiError> {
    let mut f = journal::Filter::default();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "method" => f.method = Some(v.into_owned()),
            "path" => f.path = Some(v.into_owned()),
            "status" => {
                f.status = Some(v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "status must be a status code such as 422, not '{v}'."
                    ))
                })?)
            }
            "after" => {
                f.after = Some(whole_number(&v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "after must be a request id (a whole number), not '{v}'."
                    ))
                })?)
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{other}' is not a filter of the request journal (method, path, status, after)."
                )));
            }
        }
    }
    Ok(f)
}

/// `POST /_sandbox/jobs/{JobId}/run` with `{"JobStatus": …, "ErrorMessages": …}`.
fn run_job(
    app: &App,
    store: &Store,
    job: i64,
    input: &serde_json::Map<String, Value>,
) -> Result<Reply, ApiError> {
    let mut errors = Vec::new();
    for k in input
        .keys()
        .filter(|k| *k != "JobStatus" && *k != "ErrorMessages")
    {
        errors.push(format!(
            "{k} is not an attribute of a job run (JobStatus, ErrorMessages)."
        ));
    }
    let outcome = match input.get("JobStatus") {
        Some(Value::String(s)) => Outcome::parse(s),
        _ => None,
    };
    if outcome.is_none() {
        errors.push("JobStatus must be one of Completed, Failed, Missed.".into());
    }
    let messages = match input.get("ErrorMessages") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            errors.push(format!("ErrorMessages must be a string, not {v}."));
            None
        }
    };
    let Some(outcome) = outcome.filter(|_| errors.is_empty()) else {
        return Err(ApiError::many(StatusCode::UNPROCESSABLE_ENTITY, errors));
    };
    let ctx = app.write_ctx(store, false);
    let run = store.write(|s| simulate::run_job(s, &ctx, job, outcome, messages))?;
    crate::store::schedule::wake(); // the job's next run may have moved
    store.outbox().push(run.mails);
    Ok(Reply::created(
        run.body,
        &format!("{}/api/logs/{}", session_base(store), run.log_id),
    ))
}

/// `GET /_sandbox/health`: what is loaded, whether the fixtures are
/// watched, and the problem of the last reload while it failed.
fn health(store: &Store, log_lines_dropped: u64) -> Vec<u8> {
    let status = store.status();
    let (loaded_at, counts) = store.read(|s| {
        let counts: serde_json::Map<String, Value> = s
            .counts()
            .into_iter()
            .map(|(r, n)| (r.name().to_string(), json!(n)))
            .collect();
        (s.loaded_at, counts)
    });
    let watch_lost = status.watch_requested && !status.watching;
    let error = status.problems.as_ref().and_then(|p| p.first()).map(|p| {
        json!({
            "file": p.file,
            "line": p.line,
            "column": p.column,
            "message": p.to_string(),
        })
    });
    serde_json::to_vec(&json!({
        "status": if error.is_some() || watch_lost { "degraded" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "fixtures": store.source().to_string(),
        "sessions": store.session_count(),
        "loaded_at": format_timestamp(loaded_at),
        "counts": counts,
        "watching": status.watching,
        "watch_error": status.watch_error,
        "error": error,
        "problems": status.problems.iter().flatten().map(ToString::to_string).collect::<Vec<_>>(),
        "log_lines_dropped": log_lines_dropped,
    }))
    .unwrap_or_default()
}

fn clock_body(store: &Store) -> Vec<u8> {
    let clock = store.clock();
    serde_json::to_vec(&json!({
        "now": format_timestamp(clock.now_ms()),
        "offset_seconds": offset_seconds(clock.offset_ms()),
    }))
    .unwrap_or_default()
}

/// The clock's offset from the real time in whole seconds (API.md section
/// 8: an integer), rounded to the nearest.
fn offset_seconds(offset_ms: i64) -> i64 {
    let secs = offset_ms.div_euclid(1000);
    if offset_ms.rem_euclid(1000) >= 500 {
        secs + 1
    } else {
        secs
    }
}

pub(super) fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg)
}

/// `{"advance": SECONDS}`, `{"set": "YYYY-MM-DDTHH:MM:SS.mmm"}` (UTC), or
/// `{"set": "now"}` (back to the real time); with the schedule on, writes
/// the runs that fall due on the way (how many), or refuses a move that
/// would write more than `--max-runs-per-advance` with nothing changed.
fn move_clock(
    app: &App,
    store: &Store,
    input: &serde_json::Map<String, Value>,
) -> Result<u64, ApiError> {
    let unknown: Vec<&String> = input
        .keys()
        .filter(|k| *k != "advance" && *k != "set")
        .collect();
    if !unknown.is_empty() || input.len() != 1 {
        return Err(invalid(
            "Send exactly one of {\"advance\": SECONDS}, {\"set\": \"YYYY-MM-DDTHH:MM:SS.mmm\"} (UTC) or {\"set\": \"now\"} (the real time).",
        ));
    }
    /// Where the move goes.
    enum Move {
        By(i64),
        To(i64),
        RealTime,
    }
    let wanted = match (input.get("advance"), input.get("set")) {
        (Some(v), None) => {
            let secs = v
                .as_f64()
                .filter(|s| s.is_finite() && s.abs() < 1e11)
                .ok_or_else(|| invalid(format!("advance must be a number of seconds, not {v}.")))?;
            Move::By((secs * 1000.0).round() as i64)
        }
        (None, Some(Value::String(s))) if s.eq_ignore_ascii_case("now") => Move::RealTime,
        (None, Some(Value::String(s))) => Move::To(parse_utc_timestamp(s).map_err(|_| {
            invalid(format!(
                "set must be a UTC time written YYYY-MM-DDTHH:MM:SS.mmm, or \"now\" for the real time, not \"{s}\"."
            ))
        })?),
        (None, Some(v)) => return Err(invalid(format!("set must be a string, not {v}."))),
        _ => return Err(invalid("Send exactly one of advance or set.")),
    };
    let clock = store.clock();
    let limit = app.settings.max_runs_per_advance;
    let target = |now: i64| match wanted {
        Move::By(ms) => now + ms,
        Move::To(ms) => ms,
        Move::RealTime => now - clock.offset_ms(),
    };
    let apply = || match wanted {
        Move::By(ms) => clock.advance_ms(ms),
        Move::To(ms) => clock.set_ms(ms),
        Move::RealTime => clock.to_real_time(),
    };
    store
        .move_clock_scheduled(limit, target, apply)
        .map_err(|e| {
            invalid(format!(
                "This move of the clock would write {}{} scheduled runs, more than --max-runs-per-advance ({}); nothing was changed. Move it in smaller steps.",
                if e.more { "more than " } else { "" },
                e.runs,
                e.limit
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path of the endpoint table routes to its entry, with its methods.
    #[test]
    fn the_endpoint_list_is_the_router() {
        use crate::domain::control::{CONTROL_ENDPOINTS, ENDPOINTS};
        for (i, (path, methods)) in ENDPOINTS.iter().enumerate() {
            let concrete = path
                .split('/')
                .map(|p| if p.starts_with('{') { "1" } else { p })
                .collect::<Vec<_>>()
                .join("/");
            let r = route::control(
                &Method::from_bytes(methods[0].as_bytes()).unwrap(),
                &concrete,
            )
            .unwrap_or_else(|e| panic!("{path} is not routed: {:?}", e.errors));
            assert_eq!(r.endpoint, CONTROL_ENDPOINTS[i].endpoint, "{path}");
            let e = route::control(&Method::PATCH, &concrete).unwrap_err();
            assert_eq!(e.headers[0].1, methods.join(", "), "{path}");
        }
    }

    #[test]
    fn offset_seconds_are_whole_and_rounded() {
        assert_eq!(offset_seconds(0), 0);
        assert_eq!(offset_seconds(3_600_000), 3600);
        assert_eq!(offset_seconds(1_499), 1);
        assert_eq!(offset_seconds(1_500), 2);
        assert_eq!(offset_seconds(-1_400), -1);
        assert_eq!(offset_seconds(-1_600), -2);
    }
}
