//! Bodies: the one response [`Body`] type; for requests, the forgery check
//! on the content type, size-limited reading (413), and JSON parsing with
//! line and column (400).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain::input::{Input, InputError};

/// The body type of every response.
pub type Body = http_body_util::Full<Bytes>;

/// POST and PUT must send `Content-Type: application/json` (parameters such
/// as `; charset=utf-8` are fine; the media type ignores case).
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if media.as_deref() == Some("application/json") {
        return Ok(());
    }
    let sent = match &media {
        Some(m) if !m.is_empty() => format!("'{m}'"),
        _ => "no Content-Type".into(),
    };
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "Forgery protection rejected this request: POST and PUT must send Content-Type: application/json \
             (this request sent {sent}). Nothing was changed."
        ),
    ))
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is over the limit of {max} bytes."),
    )
}

/// Reads the whole body, refusing more than `max` bytes or a body that takes
/// longer than `wait` to arrive.
pub async fn read_limited<B>(
    headers: &HeaderMap,
    body: B,
    max: usize,
    wait: Duration,
) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let collected = tokio::time::timeout(wait, Limited::new(body, max).collect())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "The request body did not arrive within {} seconds.",
                    wait.as_secs_f64()
                ),
            )
        })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large(max))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "The request body could not be read: {e}."
        ))),
    }
}

/// Parses a POST or PUT body of /api/ as one JSON object, bare or wrapped
/// as `{"data": {...}}`, for the engine.
pub fn parse_input(bytes: &[u8]) -> Result<Input<'_>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    Input::parse(bytes).map_err(|e| match e {
        InputError::Syntax(e) => not_json(&e),
        InputError::NotObject(kind) => not_an_object(kind),
    })
}

fn empty() -> ApiError {
    ApiError::bad_request("The request body is empty: POST and PUT take one JSON object.")
}

fn not_json(e: &serde_json::Error) -> ApiError {
    let mut msg = e.to_string();
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    ApiError::bad_request(format!(
        "The request body is not valid JSON: {msg} at line {}, column {}.",
        e.line(),
        e.column()
    ))
}

fn not_an_object(kind: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The request body must be one JSON object (bare, or wrapped as {{\"data\": {{...}}}}), not {kind}."
    ))
}

/// Parses a body as one JSON object, bare or wrapped as `{"data": {...}}`.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| not_json(&e))?;
    match value {
        Value::Object(mut map) => {
            if map.len() == 1
                && matches!(map.get("data"), Some(Value::Object(_)))
                && let Some(Value::Object(inner)) = map.remove("data")
            {
                return Ok(inner);
            }
            Ok(map)
        }
        other => Err(not_an_object(match other {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(check_content_type(&h).is_err());
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/json;charset=UTF-8",
        ] {
            h.insert(header::CONTENT_TYPE, ok.parse().unwrap());
            assert!(check_content_type(&h).is_ok(), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
        ] {
            h.insert(header::CONTENT_TYPE, bad.parse().unwrap());
            assert_eq!(check_content_type(&h).unwrap_err().status, 422, "{bad}");
        }
    }

    #[test]
    fn bodies() {
        assert_eq!(parse_object(br#"{"Name": "x"}"#).unwrap()["Name"], "x");
        assert_eq!(
            parse_object(br#"{"data": {"Name": "x"}}"#).unwrap()["Name"],
            "x"
        );
        let e = parse_object(b"{\n  \"Name\": \"x\",\n}").unwrap_err();
        assert!(e.errors[0].contains("line 3"), "{:?}", e.errors);
        assert_eq!(parse_object(b"[1]").unwrap_err().status, 400);
        assert_eq!(parse_object(b"").unwrap_err().status, 400);
    }
}
