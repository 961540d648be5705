//! One error type for every refusal the API makes, turned into a status and
//! a `{"errors": [...]}` body in one place. Client errors are not logged as
//! errors; internal ones are logged and hidden from the client.

use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::domain::engine::EngineError;

/// A refusal: status, one sentence per problem, and any headers it needs.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A body given as is instead of `{"errors": [...]}` (a fault rule's).
    pub raw_body: Option<Vec<u8>>,
}

/// The realm of the Basic challenge.
pub const REALM: &str = "Basic realm=\"CleverFox Backup API\"";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            errors: vec![message.into()],
            headers: Vec::new(),
            raw_body: None,
        }
    }

    /// One status with several sentences (validation).
    pub fn many(status: StatusCode, errors: Vec<String>) -> ApiError {
        ApiError {
            status,
            errors,
            headers: Vec::new(),
            raw_body: None,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// 401 with the Basic challenge.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
            .with_header(header::WWW_AUTHENTICATE, REALM)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 405 with the methods the path does offer.
    pub fn method_not_allowed(method: &http::Method, allow: &[&str]) -> ApiError {
        let msg = format!(
            "The method {method} is not offered on this resource; it offers {}.",
            allow.join(", ")
        );
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, msg)
            .with_header(header::ALLOW, &allow.join(", "))
    }

    /// 500: the details go to the log, never to the client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The sandbox failed to answer this request; the details are in its log.",
        )
    }

    /// `{"errors": [...]}`
    pub fn body(&self) -> Vec<u8> {
        if let Some(raw) = &self.raw_body {
            return raw.clone();
        }
        serde_json::to_vec(&serde_json::json!({ "errors": self.errors })).unwrap_or_default()
    }
}

/// The one mapping of the engine's refusals to statuses, for /api/ and the
/// control API alike.
impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::NotFound(_) => ApiError::not_found(e.to_string()),
            EngineError::Invalid(problems) => ApiError::many(
                StatusCode::UNPROCESSABLE_ENTITY,
                problems.into_iter().map(|p| p.message).collect(),
            ),
            EngineError::Duplicate(m) => ApiError::new(StatusCode::CONFLICT, m),
            EngineError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
        }
    }
}
