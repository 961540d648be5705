//! The access log: one line per request, in the shape of the rest of the
//! log (`--log-format text` or `json`), formatted here straight into bytes
//! and queued on the log's non-blocking writer, so a request never waits on
//! stderr. It names the request id, method, path (never the query, which
//! may hold a key), session, status, duration and partner; never a key.
//! `RUST_LOG` filters it like any line of target `cleverfox_sandbox::access`.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use super::logging::{Format, Sink};
use crate::domain::render::write_str;
use crate::domain::value::{civil_from_days, put_digits};

/// The log target of access lines.
pub const TARGET: &str = "cleverfox_sandbox::access";

/// What one access line says.
pub struct Line<'a> {
    pub request_id: u64,
    pub method: &'a str,
    pub path: &'a str,
    pub session: &'a str,
    /// 0 when a fault rule closed the connection.
    pub status: u16,
    pub duration_ms: f64,
    pub partner: Option<i64>,
    pub message: &'a str,
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

/// Whether access lines are written at all (a sink, and `RUST_LOG` lets
/// them through).
pub fn enabled(sink: &Sink) -> bool {
    sink.is_on() && tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// Queues one access line.
pub fn write(sink: &Sink, line: &Line) {
    if !enabled(sink) {
        return;
    }
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        match sink.format {
            Format::Text => text(&mut b, line, sink.ansi),
            Format::Json => json(&mut b, line),
        }
        b.push(b'\n');
        sink.write_line(&b);
    });
}

/// `2026-12-02T01:02:03.456789Z  INFO cleverfox_sandbox::access: request request_id=1 …`
fn text(b: &mut Vec<u8>, l: &Line, ansi: bool) {
    let (dim, green, reset): (&[u8], &[u8], &[u8]) = if ansi {
        (b"\x1b[2m", b"\x1b[32m", b"\x1b[0m")
    } else {
        (b"", b"", b"")
    };
    b.extend_from_slice(dim);
    now(b);
    b.extend_from_slice(reset);
    b.extend_from_slice(b" ");
    b.extend_from_slice(green);
    b.extend_from_slice(b" INFO");
    b.extend_from_slice(reset);
    b.extend_from_slice(b" ");
    b.extend_from_slice(dim);
    b.extend_from_slice(TARGET.as_bytes());
    b.extend_from_slice(b":");
    b.extend_from_slice(reset);
    b.extend_from_slice(b" ");
    b.extend_from_slice(l.message.as_bytes());
    b.extend_from_slice(b" request_id=");
    int(b, l.request_id as i64);
    b.extend_from_slice(b" method=");
    b.extend_from_slice(l.method.as_bytes());
    b.extend_from_slice(b" path=");
    b.extend_from_slice(l.path.as_bytes());
    b.extend_from_slice(b" session=");
    b.extend_from_slice(l.session.as_bytes());
    b.extend_from_slice(b" status=");
    int(b, i64::from(l.status));
    b.extend_from_slice(b" duration_ms=");
    millis(b, l.duration_ms);
    if let Some(p) = l.partner {
        b.extend_from_slice(b" partner=");
        int(b, p);
    }
}

/// `{"timestamp": …, "level": "INFO", "fields": {"message": "request", …}, "target": …}`
fn json(b: &mut Vec<u8>, l: &Line) {
    b.extend_from_slice(b"{\"timestamp\":\"");
    now(b);
    b.extend_from_slice(b"\",\"level\":\"INFO\",\"fields\":{\"message\":");
    write_str(b, l.message);
    b.extend_from_slice(b",\"request_id\":");
    int(b, l.request_id as i64);
    b.extend_from_slice(b",\"method\":");
    write_str(b, l.method);
    b.extend_from_slice(b",\"path\":");
    write_str(b, l.path);
    b.extend_from_slice(b",\"session\":");
    write_str(b, l.session);
    b.extend_from_slice(b",\"status\":");
    int(b, i64::from(l.status));
    b.extend_from_slice(b",\"duration_ms\":");
    millis(b, l.duration_ms);
    if let Some(p) = l.partner {
        b.extend_from_slice(b",\"partner\":");
        int(b, p);
    }
    b.extend_from_slice(b"},\"target\":\"");
    b.extend_from_slice(TARGET.as_bytes());
    b.extend_from_slice(b"\"}");
}

fn int(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Milliseconds with three decimals (microseconds).
fn millis(b: &mut Vec<u8>, ms: f64) {
    let us = (ms * 1000.0).round().max(0.0) as i64;
    int(b, us / 1000);
    let mut frac = *b".000";
    put_digits(&mut frac[1..], us % 1000);
    b.extend_from_slice(&frac);
}

/// The real time, UTC, to the microsecond: `2026-12-02T01:02:03.456789Z`.
fn now(b: &mut Vec<u8>) {
    let us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    b.extend_from_slice(&stamp(us));
}

/// `us` (microseconds since the epoch) as `2026-12-02T01:02:03.456789Z`;
/// the date and time of day to the second are worked out once a second
/// per thread.
fn stamp(us: i64) -> [u8; 27] {
    thread_local! {
        static SECOND: std::cell::Cell<(i64, [u8; 27])> = const { std::cell::Cell::new((i64::MIN, [0; 27])) };
    }
    let second = us.div_euclid(1_000_000);
    let (last, mut t) = SECOND.get();
    if last != second {
        let (days, rem) = (second.div_euclid(86_400), second.rem_euclid(86_400));
        let (y, mo, d) = civil_from_days(days);
        t = *b"0000-00-00T00:00:00.000000Z";
        put_digits(&mut t[0..4], y.clamp(0, 9999));
        put_digits(&mut t[5..7], mo);
        put_digits(&mut t[8..10], d);
        put_digits(&mut t[11..13], rem / 3600);
        put_digits(&mut t[14..16], rem / 60 % 60);
        put_digits(&mut t[17..19], rem % 60);
        SECOND.set((second, t));
    }
    put_digits(&mut t[20..26], us.rem_euclid(1_000_000));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_match_the_calendar_within_and_across_seconds() {
        // 2026-12-02T01:02:03.456789Z, then later in that second, then the next
        let base = 1_796_173_323_456_789_i64;
        assert_eq!(&stamp(base), b"2026-12-02T01:02:03.456789Z");
        assert_eq!(&stamp(base + 500_000), b"2026-12-02T01:02:03.956789Z");
        assert_eq!(&stamp(base + 600_000), b"2026-12-02T01:02:04.056789Z");
        assert_eq!(&stamp(951_782_400_000_000), b"2000-02-29T00:00:00.000000Z");
        assert_eq!(&stamp(base), b"2026-12-02T01:02:03.456789Z");
    }

    fn line() -> Line<'static> {
        Line {
            request_id: 42,
            method: "GET",
            path: "/api/devices/1",
            session: "ci-1",
            status: 200,
            duration_ms: 1.23456,
            partner: Some(7),
            message: "request",
        }
    }

    #[test]
    fn json_lines_parse_with_every_field() {
        let mut b = Vec::new();
        json(&mut b, &line());
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["target"], TARGET);
        assert_eq!(v["level"], "INFO");
        let f = &v["fields"];
        assert_eq!(f["message"], "request");
        assert_eq!(f["request_id"], 42);
        assert_eq!(f["method"], "GET");
        assert_eq!(f["path"], "/api/devices/1");
        assert_eq!(f["session"], "ci-1");
        assert_eq!(f["status"], 200);
        assert_eq!(f["duration_ms"], 1.235);
        assert_eq!(f["partner"], 7);
        let ts = v["timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    }

    #[test]
    fn text_lines_name_each_field_and_no_partner_when_unknown() {
        let mut b = Vec::new();
        let l = Line {
            partner: None,
            status: 401,
            ..line()
        };
        text(&mut b, &l, false);
        let s = String::from_utf8(b).unwrap();
        let tail = s.split_once("  INFO ").unwrap().1;
        assert_eq!(
            tail,
            "cleverfox_sandbox::access: request request_id=42 method=GET path=/api/devices/1 \
             session=ci-1 status=401 duration_ms=1.235"
        );
    }
}
