//! Basic credentials to a [`Principal`] (a partner or an admin): the API key
//! is the username, the password is ignored. Keys are looked up by SHA-256
//! digest, confirmed in constant time, and never logged or echoed; which
//! keys open /api/ is the domain's rule (`State::api_partner`).
//!
//! A client sends the same `Authorization` header on every request of a
//! connection, so each connection remembers the last header it found a key
//! for ([`KeyMemo`]): a request with the same header (compared in constant
//! time) against the same set of keys skips the decoding and the digest.
//! What the key may open is decided again on every request.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::domain::state::{ApiKey, ApiRefusal, KeyKind, State, key_digest};

/// The key one connection found last: its header, the key set it was
/// found in (held, so its identity cannot be taken by another set), and
/// where in that set.
#[derive(Debug, Default)]
pub struct KeyMemo(Mutex<Option<Remembered>>);

#[derive(Debug)]
struct Remembered {
    header: HeaderValue,
    keys: Arc<Vec<ApiKey>>,
    at: usize,
}

impl KeyMemo {
    /// The kind of the request's key: the remembered one when the header is
    /// the one it was found for, in the same key set; else looked up (and
    /// remembered when found).
    fn find<'a>(&self, state: &'a State, headers: &HeaderMap) -> Result<&'a KeyKind, ApiError> {
        let header = headers.get(http::header::AUTHORIZATION);
        if let Some(h) = header {
            let memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = memo.as_ref()
                && Arc::ptr_eq(&r.keys, &state.keys)
                && bool::from(r.header.as_bytes().ct_eq(h.as_bytes()))
            {
                return Ok(&state.keys[r.at].kind);
            }
        }
        let key = api_key(headers)?;
        let at = find_index(state, &key).ok_or_else(unknown_key)?;
        if let Some(h) = header {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Remembered {
                header: h.clone(),
                keys: state.keys.clone(),
                at,
            });
        }
        Ok(&state.keys[at].kind)
    }
}

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
    find_index(state, key).map(|at| &state.keys[at].kind)
}

fn find_index(state: &State, key: &str) -> Option<usize> {
    let at = *state.key_index.get(&key_digest(key))?;
    bool::from(state.keys[at].key.as_bytes().ct_eq(key.as_bytes())).then_some(at)
}

fn unknown_key() -> ApiError {
    ApiError::unauthorized("The API key is not valid.")
}

/// Authenticates a request to `/api/`: a partner key whose partner has a
/// Partner Plan and is active.
pub fn partner(state: &State, headers: &HeaderMap, memo: &KeyMemo) -> Result<Principal, ApiError> {
    let kind = memo.find(state, headers)?;
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
pub fn admin(state: &State, headers: &HeaderMap, memo: &KeyMemo) -> Result<Principal, ApiError> {
    match memo.find(state, headers)? {
        KeyKind::Admin => Ok(Principal::Admin),
        KeyKind::Partner { .. } => Err(ApiError::forbidden(
            "The sandbox control API under /_sandbox/ requires an admin key (\"Admin\": true in apikeys.json); \
             partner keys open /api/ only.",
        )),
    }
}

/// The partner of the request's key, if it carries a known partner key (for
/// matching fault rules before authentication answers).
pub fn partner_of(state: &State, headers: &HeaderMap, memo: &KeyMemo) -> Option<i64> {
    match memo.find(state, headers).ok()? {
        KeyKind::Partner { partner_id, .. } => Some(*partner_id),
        KeyKind::Admin => None,
    }
}

/// Authenticates any known key (for paths that are neither /api/ nor /_sandbox/).
pub fn any(state: &State, headers: &HeaderMap, memo: &KeyMemo) -> Result<Principal, ApiError> {
    match memo.find(state, headers)? {
        KeyKind::Admin => Ok(Principal::Admin),
        KeyKind::Partner { partner_id, .. } => Ok(Principal::Partner(*partner_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(keys: &[(&str, KeyKind)]) -> State {
        let mut s = State::empty();
        for (key, kind) in keys {
            s.add_key(ApiKey {
                key: key.to_string(),
                kind: kind.clone(),
            });
        }
        s
    }

    fn basic(user_pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode(user_pass);
        h.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {v}")).unwrap(),
        );
        h
    }

    const P5: KeyKind = KeyKind::Partner {
        partner_id: 5,
        partner_plan: true,
    };
    const P6: KeyKind = KeyKind::Partner {
        partner_id: 6,
        partner_plan: true,
    };

    #[test]
    fn a_connection_memo_answers_as_a_fresh_lookup_would() {
        let one = state(&[("admin-key", KeyKind::Admin), ("partner-key", P5)]);
        let memo = KeyMemo::default();
        let who = |s: &State, h: &str| any(s, &basic(h), &memo).map_err(|e| e.status.as_u16());
        assert_eq!(who(&one, "admin-key:"), Ok(Principal::Admin));
        assert_eq!(who(&one, "admin-key:"), Ok(Principal::Admin), "remembered");
        assert_eq!(who(&one, "partner-key:"), Ok(Principal::Partner(5)));
        assert_eq!(who(&one, "partner-key:pw"), Ok(Principal::Partner(5)));
        assert_eq!(
            who(&one.clone(), "partner-key:pw"),
            Ok(Principal::Partner(5))
        );
        assert_eq!(who(&one, "partner-kez:pw"), Err(401));
        assert_eq!(who(&one, "admin-key:"), Ok(Principal::Admin));
        // another key set (a reload): the remembered key is looked up again
        let two = state(&[("partner-key", P6)]);
        assert_eq!(who(&two, "admin-key:"), Err(401));
        assert_eq!(who(&two, "partner-key:"), Ok(Principal::Partner(6)));
        assert_eq!(who(&one, "partner-key:"), Ok(Principal::Partner(5)));
        // no header, or a malformed one, whatever is remembered
        assert_eq!(
            any(&one, &HeaderMap::new(), &memo).map_err(|e| e.status.as_u16()),
            Err(401)
        );
        let mut bad = HeaderMap::new();
        bad.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer x"),
        );
        assert_eq!(
            any(&one, &bad, &memo).map_err(|e| e.status.as_u16()),
            Err(401)
        );
    }
}
