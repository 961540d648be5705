//! The sandbox control API under `/_sandbox/` (API.md section 8), for admin
//! keys only: what a tester needs and the real API cannot give.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::http::body;
use crate::http::error::ApiError;
use crate::http::service::{App, Reply};
use crate::store::value::{format_timestamp, parse_utc_timestamp};

/// Routes a control API request (already authenticated as admin).
pub async fn handle<B>(app: &App, req: Request<B>) -> Result<Reply, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let rest = path.strip_prefix("/_sandbox").unwrap_or("");
    let method = req.method().clone();
    match (rest, &method) {
        ("/health", &Method::GET) => Ok(Reply::ok(health(app))),
        ("/health", _) => Err(ApiError::method_not_allowed(&method, &["GET"])),
        ("/clock", &Method::GET) => Ok(Reply::ok(clock_body(app))),
        ("/clock", &Method::POST) => {
            let (parts, incoming) = req.into_parts();
            let bytes = body::read_limited(
                &parts.headers,
                incoming,
                app.settings.max_body,
                app.settings.body_read_timeout,
            )
            .await?;
            let input = body::parse_object(&bytes)?;
            move_clock(app, &input)?;
            Ok(Reply::ok(clock_body(app)))
        }
        ("/clock", _) => Err(ApiError::method_not_allowed(&method, &["GET", "POST"])),
        _ => Err(ApiError::not_found(format!(
            "No such control endpoint: {path}."
        ))),
    }
}

/// `GET /_sandbox/health`: what is loaded, whether the fixtures are
/// watched, and the problem of the last reload while it failed.
fn health(app: &App) -> Vec<u8> {
    let status = app.store.status();
    let (loaded_at, counts) = app.store.read(|s| {
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
        "fixtures": app.store.source().display().to_string(),
        "loaded_at": format_timestamp(loaded_at),
        "counts": counts,
        "watching": status.watching,
        "watch_error": status.watch_error,
        "error": error,
        "problems": status.problems.iter().flatten().map(ToString::to_string).collect::<Vec<_>>(),
    }))
    .unwrap_or_default()
}

fn clock_body(app: &App) -> Vec<u8> {
    let clock = app.store.clock();
    serde_json::to_vec(&json!({
        "now": format_timestamp(clock.now_ms()),
        "offset_seconds": clock.offset_ms() as f64 / 1000.0,
    }))
    .unwrap_or_default()
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg)
}

/// `{"advance": SECONDS}` or `{"set": "YYYY-MM-DDTHH:MM:SS.mmm"}` (UTC).
fn move_clock(app: &App, input: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    let clock = app.store.clock();
    let unknown: Vec<&String> = input
        .keys()
        .filter(|k| *k != "advance" && *k != "set")
        .collect();
    if !unknown.is_empty() || input.len() != 1 {
        return Err(invalid(
            "Send exactly one of {\"advance\": SECONDS} or {\"set\": \"YYYY-MM-DDTHH:MM:SS.mmm\"} (UTC).",
        ));
    }
    match (input.get("advance"), input.get("set")) {
        (Some(v), None) => {
            let secs = v
                .as_f64()
                .filter(|s| s.is_finite() && s.abs() < 1e11)
                .ok_or_else(|| invalid(format!("advance must be a number of seconds, not {v}.")))?;
            clock.advance_ms((secs * 1000.0).round() as i64);
        }
        (None, Some(Value::String(s))) => {
            let ms = parse_utc_timestamp(s).map_err(|_| {
                invalid(format!(
                    "set must be a UTC time written YYYY-MM-DDTHH:MM:SS.mmm, not \"{s}\"."
                ))
            })?;
            clock.set_ms(ms);
        }
        (None, Some(v)) => return Err(invalid(format!("set must be a string, not {v}."))),
        _ => return Err(invalid("Send exactly one of advance or set.")),
    }
    Ok(())
}
