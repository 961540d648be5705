//! The request journal: the last `--journal` requests to `/api/`, newest
//! first, with their bodies cut at 16 KiB. It never holds an API key or a
//! Basic credential (headers are not recorded), and a `Password` in a body is
//! stored as `"***"`.

use serde::Serialize;
use serde_json::Value;

use crate::store::recent::Recent;

/// Bodies are kept up to this many bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// One journal entry; `id` is the response's `X-Request-Id`.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub id: u64,
    pub time: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub partner_id: Option<i64>,
    /// 0 when the connection was closed without an answer (a close fault).
    pub status: u16,
    pub duration_ms: f64,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
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
                .is_none_or(|m| x.method.eq_ignore_ascii_case(m))
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

/// A body as the journal keeps it: text, passwords masked, cut at 16 KiB.
pub fn keep_body(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let masked = match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            mask(&mut v);
            serde_json::to_string(&v).unwrap_or_default()
        }
        Err(_) => mask_text(&String::from_utf8_lossy(bytes)),
    };
    Some(cut(masked))
}

/// A response body as the journal keeps it: text cut at 16 KiB (responses
/// never hold a credential).
pub fn cut_text(bytes: &[u8]) -> String {
    cut(String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_LIMIT)]).into_owned())
}

fn cut(mut s: String) -> String {
    if s.len() > BODY_LIMIT {
        let mut end = BODY_LIMIT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
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

/// Masks `"Password": "…"` in text that is not valid JSON.
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

    #[test]
    fn passwords_are_masked_in_json_and_in_broken_json() {
        let b =
            keep_body(br#"{"Username":"sa","Password":"s3cret","x":[{"password":"p"}]}"#).unwrap();
        assert!(!b.contains("s3cret") && !b.contains("\"p\""), "{b}");
        assert!(b.contains("***"));
        let b = keep_body(br#"{"Password": "s3cr\"et", "Name": }"#).unwrap();
        assert!(!b.contains("s3cr"), "{b}");
        assert!(b.contains("\"Name\""), "{b}");
    }

    #[test]
    fn bodies_are_cut_and_the_ring_is_bounded() {
        let big = "é".repeat(20_000);
        assert!(keep_body(big.as_bytes()).unwrap().len() <= BODY_LIMIT);
        let j = Journal::new(3);
        for id in 0..10 {
            j.push(Entry {
                id,
                time: String::new(),
                method: "GET".into(),
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
