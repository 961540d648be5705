//! Basic credentials to a [`Principal`] (a partner or an admin): the API key
//! is the username, the password is ignored. Keys are looked up by SHA-256
//! digest, confirmed in constant time, and never logged or echoed; which
//! keys open /api/ is the domain's rule (`State::api_partner`).

use base64::Engine as _;
use http::HeaderMap;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::domain::state::{ApiRefusal, KeyKind, State, key_digest};

/// Who a request acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    Partner(i64),
    Admin,
}

impl Principal {
    pub fn partner_id(self) -> Option<i64> {
        match self {
            Principal::Partner(p) => Some(p),
            Principal::Admin => None,
        }
    }
}

/// The API key of a Basic `Authorization` header, or why there is none.
pub fn api_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Authentication required: send HTTP Basic credentials with your API key as the username \
             and any password (curl -u KEY:).",
        ));
    };
    let malformed = || {
        ApiError::unauthorized(
            "The Authorization header is not valid HTTP Basic credentials: expected \
             'Basic ' followed by base64 of 'APIKEY:password'.",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let key = decoded
        .split_once(':')
        .map_or(decoded.as_str(), |(user, _password)| user);
    if key.is_empty() {
        return Err(ApiError::unauthorized(
            "The Basic credentials have an empty username: the username must be your API key.",
        ));
    }
    Ok(key.to_string())
}

/// Looks a key up by its SHA-256 digest (so the lookup's timing says nothing
/// about how much of a real key a guess matches), then confirms it with a
/// constant-time comparison.
pub fn find_key<'a>(state: &'a State, key: &str) -> Option<&'a KeyKind> {
    let k = &state.keys[*state.key_index.get(&key_digest(key))?];
    bool::from(k.key.as_bytes().ct_eq(key.as_bytes())).then_some(&k.kind)
}

fn unknown_key() -> ApiError {
    ApiError::unauthorized("The API key is not valid.")
}

/// Authenticates a request to `/api/`: a partner key whose partner has a
/// Partner Plan and is active.
pub fn partner(state: &State, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let key = api_key(headers)?;
    let kind = find_key(state, &key).ok_or_else(unknown_key)?;
    match state.api_partner(kind) {
        Ok(partner_id) => Ok(Principal::Partner(partner_id)),
        Err(ApiRefusal::AdminKey) => Err(ApiError::forbidden(
            "This is an admin key: it opens the sandbox control API under /_sandbox/ only. \
             Use a partner's API key for /api/.",
        )),
        Err(ApiRefusal::NoPartnerPlan) => Err(ApiError::forbidden(
            "The CleverFox Backup API requires a Partner Plan, and the partner of this API key has none.",
        )),
        Err(ApiRefusal::InactivePartner) => Err(ApiError::forbidden(
            "The partner account of this API key is inactive.",
        )),
    }
}

/// Authenticates a request to `/_sandbox/`: an admin key.
pub fn admin(state: &State, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let key = api_key(headers)?;
    match find_key(state, &key).ok_or_else(unknown_key)? {
        KeyKind::Admin => Ok(Principal::Admin),
        KeyKind::Partner { .. } => Err(ApiError::forbidden(
            "The sandbox control API under /_sandbox/ requires an admin key (\"Admin\": true in apikeys.json); \
             partner keys open /api/ only.",
        )),
    }
}

/// The partner of the request's key, if it carries a known partner key (for
/// matching fault rules before authentication answers).
pub fn partner_of(state: &State, headers: &HeaderMap) -> Option<i64> {
    let key = api_key(headers).ok()?;
    match find_key(state, &key)? {
        KeyKind::Partner { partner_id, .. } => Some(*partner_id),
        KeyKind::Admin => None,
    }
}

/// Authenticates any known key (for paths that are neither /api/ nor /_sandbox/).
pub fn any(state: &State, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let key = api_key(headers)?;
    match find_key(state, &key).ok_or_else(unknown_key)? {
        KeyKind::Admin => Ok(Principal::Admin),
        KeyKind::Partner { partner_id, .. } => Ok(Principal::Partner(*partner_id)),
    }
}
