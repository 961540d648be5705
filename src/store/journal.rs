//! The request journal: the last `--journal` requests to `/api/`, newest
//! first, with their bodies cut at 16 KiB. It never holds an API key or a
//! Basic credential (headers are not recorded), and a `Password` in a body is
//! stored as `"***"`.
//!
//! Bodies are kept as the bytes the client sent and the server answered:
//! shared, reference-counted slices of the buffers the request was read
//! into and the response is written from, so keeping them copies nothing.
//! Only a body that names a password is copied, to mask it.

use bytes::Bytes;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;
use std::sync::Arc;

use crate::domain::value::format_timestamp;

use crate::store::recent::Recent;

/// Bodies are kept up to this many bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// One journal entry; `id` is the response's `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    /// On the session's clock, UTC milliseconds.
    pub time_ms: i64,
    /// Shared with the request's own record of it, not copied.
    pub method: http::Method,
    pub path: Arc<str>,
    pub query: Option<Arc<str>>,
    pub partner_id: Option<i64>,
    /// 0 when the connection was closed without an answer (a close fault).
    pub status: u16,
    pub duration_ms: f64,
    /// As the client sent it (passwords masked), cut at [`BODY_LIMIT`].
    pub request_body: Option<Bytes>,
    /// As the server answered it, cut at [`BODY_LIMIT`].
    pub response_body: Option<Bytes>,
}

/// The shape of `GET /_sandbox/requests`: bodies as text (a byte that is not
/// UTF-8 shows as U+FFFD), the time in the API's timestamp format.
impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn text(b: &Option<Bytes>) -> Option<std::borrow::Cow<'_, str>> {
            b.as_deref().map(String::from_utf8_lossy)
        }
        let mut e = s.serialize_struct("Entry", 10)?;
        e.serialize_field("id", &self.id)?;
        e.serialize_field("time", &format_timestamp(self.time_ms))?;
        e.serialize_field("method", self.method.as_str())?;
        e.serialize_field("path", &*self.path)?;
        e.serialize_field("query", &self.query.as_deref())?;
        e.serialize_field("partner_id", &self.partner_id)?;
        e.serialize_field("status", &self.status)?;
        e.serialize_field("duration_ms", &self.duration_ms)?;
        e.serialize_field("request_body", &text(&self.request_body))?;
        e.serialize_field("response_body", &text(&self.response_body))?;
        e.end()
    }
}

/// The journal: a bounded newest-first queue of entries.
#[derive(Debug)]
pub struct Journal {
    entries: Recent<Entry>,
}

/// What `GET /_sandbox/requests` may filter on.
#[derive(Debug, Default)]
pub struct Filter {
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
    /// Only entries with a greater id (what a poller has not seen yet).
    pub after: Option<u64>,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            entries: Recent::new(capacity),
        }
    }

    /// False with `--journal 0`: then nothing is copied for it at all.
    pub fn enabled(&self) -> bool {
        self.entries.enabled()
    }

    pub fn push(&self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Newest first.
    pub fn list(&self, f: &Filter) -> Vec<Entry> {
        self.entries.list(|x| {
            f.method
                .as_ref()
                .is_none_or(|m| x.method.as_str().eq_ignore_ascii_case(m))
                && f.path
                    .as_ref()
                    .is_none_or(|p| x.path.starts_with(p.as_str()))
                && f.status.is_none_or(|s| x.status == s)
                && f.after.is_none_or(|a| x.id > a)
        })
    }

    pub fn clear(&self) {
        self.entries.clear();
    }
}

/// A request body as the journal keeps it: the bytes the client sent, cut
/// at 16 KiB, shared with the request's buffer; only a body that may name a
/// password is copied, with the password's value replaced by `***`.
pub fn keep_body(bytes: &Bytes) -> Option<Bytes> {
    if bytes.is_empty() {
        return None;
    }
    if !may_hold_password(bytes) {
        return Some(cut(bytes));
    }
    let text = String::from_utf8_lossy(bytes);
    let masked = mask_text(&text);
    // The text scan keeps the bytes as sent; it misses only a key written
    // with escapes (`"Pass\u0077ord"`) or a value that is not a string.
    // Then the body is kept as its parsed, masked JSON instead.
    let kept = match serde_json::from_str::<Value>(&masked) {
        Ok(v) if !holds_password(&v) => masked,
        Ok(mut v) => {
            mask(&mut v);
            serde_json::to_string(&v).unwrap_or_default()
        }
        Err(_) => masked,
    };
    Some(cut(&Bytes::from(kept)))
}

/// A response body as the journal keeps it: cut at 16 KiB, shared with the
/// response (responses never hold a credential).
pub fn keep_response(bytes: &Bytes) -> Bytes {
    cut(bytes)
}

/// The first [`BODY_LIMIT`] bytes, not splitting a UTF-8 sequence.
fn cut(bytes: &Bytes) -> Bytes {
    if bytes.len() <= BODY_LIMIT {
        return bytes.clone();
    }
    let mut end = BODY_LIMIT;
    // step back over continuation bytes (10xxxxxx) to a character's start
    while end > BODY_LIMIT.saturating_sub(3) && bytes[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    bytes.slice(..end)
}

/// Whether a body names `password` in any case, or holds a `\u` escape that
/// could spell it.
fn may_hold_password(bytes: &[u8]) -> bool {
    // only where one of the two patterns can start
    memchr::memchr3_iter(b'\\', b'p', b'P', bytes).any(|i| match bytes[i] {
        b'\\' => bytes.get(i + 1) == Some(&b'u'),
        _ => bytes
            .get(i..i + 8)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"password")),
    })
}

/// Whether a `Password` attribute (any case, any depth) holds anything but
/// the mask.
fn holds_password(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| {
            (k.eq_ignore_ascii_case("password") && x.as_str() != Some("***")) || holds_password(x)
        }),
        Value::Array(a) => a.iter().any(holds_password),
        _ => false,
    }
}

/// Replaces the value of every `Password` attribute (any case, any depth).
fn mask(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k.eq_ignore_ascii_case("password") {
                    *x = Value::String("***".into());
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask),
        _ => {}
    }
}

/// Masks the string value of every `"Password": "…"` key (any case) in
/// text, JSON or not, keeping every other byte as it was.
fn mask_text(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("\"password\"") {
        let key_end = i + found + "\"password\"".len();
        out.push_str(&s[i..key_end]);
        let rest = &s[key_end..];
        let after_colon = rest.trim_start().strip_prefix(':').map(str::trim_start);
        match after_colon.and_then(|r| r.strip_prefix('"')) {
            Some(value) => {
                let start = s.len() - value.len();
                let mut j = 0;
                let vb = value.as_bytes();
                while j < vb.len() && vb[j] != b'"' {
                    j += if vb[j] == b'\\' { 2 } else { 1 };
                }
                out.push_str(&s[key_end..start]);
                out.push_str("***");
                i = (start + j).min(s.len());
            }
            None => i = key_end,
        }
    }
    out.push_str(&s[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(body: &[u8]) -> String {
        let b = keep_body(&Bytes::copy_from_slice(body)).unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn passwords_are_masked_in_json_and_in_broken_json() {
        let b = kept(br#"{"Username":"sa","Password":"s3cret","x":[{"password":"p"}]}"#);
        assert_eq!(
            b,
            r#"{"Username":"sa","Password":"***","x":[{"password":"***"}]}"#
        );
        let b = kept(br#"{"Password": "s3cr\"et", "Name": }"#);
        assert_eq!(b, r#"{"Password": "***", "Name": }"#);
        // a key spelled with an escape, or a value that is not a string
        let b = kept(br#"{"Pass\u0077ord": "s3cret", "n": 1}"#);
        assert!(!b.contains("s3cret") && b.contains("***"), "{b}");
        let b = kept(br#"{"PASSWORD": 12345}"#);
        assert!(!b.contains("12345") && b.contains("***"), "{b}");
    }

    #[test]
    fn bodies_are_kept_as_sent_and_shared() {
        let sent = Bytes::from_static(b"{ \"Name\": \"b\",\n  \"AddedOn\" : 1 }");
        let k = keep_body(&sent).unwrap();
        assert_eq!(k, sent);
        assert_eq!(k.as_ptr(), sent.as_ptr(), "shared, not copied");
        let form = Bytes::from_static(b"Name=x&PlanTypeId=1");
        assert_eq!(keep_body(&form).unwrap(), form);
        assert_eq!(keep_body(&Bytes::new()), None);
    }

    #[test]
    fn bodies_are_cut_and_the_ring_is_bounded() {
        let big = Bytes::from("é".repeat(20_000));
        let k = keep_body(&big).unwrap();
        assert_eq!(
            k.len(),
            BODY_LIMIT,
            "16384 is a character boundary of 2-byte characters"
        );
        let odd = Bytes::from(format!("x{}", "é".repeat(20_000)));
        let k = keep_response(&odd);
        assert_eq!(k.len(), BODY_LIMIT - 1);
        assert!(std::str::from_utf8(&k).is_ok());
        let j = Journal::new(3);
        for id in 0..10 {
            j.push(Entry {
                id,
                time_ms: 0,
                method: http::Method::GET,
                path: "/api/x".into(),
                query: None,
                partner_id: None,
                status: 200,
                duration_ms: 0.0,
                request_body: None,
                response_body: None,
            });
        }
        let ids: Vec<u64> = j.list(&Filter::default()).iter().map(|e| e.id).collect();
        assert_eq!(ids, [9, 8, 7]);
    }
}
