//! The JSON scanner and its line/column index, timestamps (UTC and local),
//! and the command line's sizes and durations.

use cleverfox_sandbox::cli::{parse_duration_ms, parse_size};
use cleverfox_sandbox::domain::value::{
    TimestampError, format_timestamp, parse_timestamp, parse_utc_timestamp,
};
use cleverfox_sandbox::store::json_scan::{
    LineIndex, array_items, object_members, skip_ws, value_end,
};
use proptest::prelude::*;
use serde_json::Value;

use super::config;

// ------------------------------------------------------------------ JSON

/// Any JSON value, with strings full of the characters the scanner must
/// step over (quotes, backslashes, brackets, commas) and any Unicode.
pub fn json_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![any::<String>(), r#"[\\"\[\]{}:, a-z\n]{0,8}"#];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text.clone(), inner), 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// How many kinds of white space [`write_spaced`] picks from.
pub const WS_CHOICES: usize = WS.len();

/// White space the scanner must skip, between any two tokens.
const WS: [&str; 7] = ["", " ", "\n", "\t", "\r\n", "  \n\t ", "\n\n"];

/// Writes `v` as JSON with the white space `ws` picks between tokens.
pub fn write_spaced(v: &Value, ws: &[usize], k: &mut usize, out: &mut String) {
    fn space(out: &mut String, ws: &[usize], k: &mut usize) {
        out.push_str(WS[ws.get(*k % ws.len().max(1)).copied().unwrap_or(0) % WS.len()]);
        *k += 1;
    }
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                space(out, ws, k);
                if i > 0 {
                    out.push(',');
                    space(out, ws, k);
                }
                write_spaced(item, ws, k, out);
            }
            space(out, ws, k);
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (key, item)) in m.iter().enumerate() {
                space(out, ws, k);
                if i > 0 {
                    out.push(',');
                    space(out, ws, k);
                }
                out.push_str(&serde_json::to_string(key).unwrap());
                space(out, ws, k);
                out.push(':');
                space(out, ws, k);
                write_spaced(item, ws, k, out);
            }
            space(out, ws, k);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn spaced_text() -> impl Strategy<Value = (Value, String, usize)> {
    (
        json_value(),
        prop::collection::vec(0..WS.len(), 1..16),
        any::<bool>(),
    )
        .prop_map(|(v, ws, bom)| {
            let mut out = String::new();
            if bom {
                out.push('\u{feff}');
            }
            let mut k = 0;
            out.push_str(WS[ws[0]]);
            write_spaced(&v, &ws, &mut k, &mut out);
            let end = out.len();
            out.push_str(WS[ws[ws.len() - 1]]);
            (v, out, end)
        })
}

proptest! {
    #![proptest_config(config())]

    /// A valid JSON value, however spaced, scans to its exact extent, and
    /// the elements and members found parse (with serde_json) to the
    /// elements and members serde_json finds in the whole text.
    #[test]
    fn scan_agrees_with_serde_json((v, text, end) in spaced_text()) {
        let b = text.as_bytes();
        let start = skip_ws(b, 0);
        prop_assert_eq!(value_end(b, start), Ok(end));
        let whole: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
        let parse = |(s, e): (usize, usize)| serde_json::from_slice::<Value>(&b[s..e]).unwrap();
        match &whole {
            Value::Array(items) => {
                let spans = array_items(b, start).unwrap();
                let found: Vec<Value> = spans.into_iter().map(parse).collect();
                prop_assert_eq!(&found, items);
            }
            Value::Object(m) => {
                let members = object_members(b, start).unwrap();
                let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
                let want: Vec<&str> = m.keys().map(String::as_str).collect();
                prop_assert_eq!(keys, want);
                for member in &members {
                    prop_assert_eq!(&b[member.key_offset], &b'"');
                    prop_assert_eq!(&parse(member.value), &m[&member.key]);
                }
            }
            _ => {
                prop_assert!(array_items(b, start).is_err());
                prop_assert!(object_members(b, start).is_err());
            }
        }
        // the generated value itself, when it has no floats to round
        if !text.contains(['.', 'e', 'E']) {
            prop_assert_eq!(&whole, &v);
        }
    }

    /// Every proper prefix of a valid array is refused, at an offset
    /// inside the prefix.
    #[test]
    fn prefixes_of_an_array_are_refused(
        (items, ws) in (prop::collection::vec(json_value(), 0..5), prop::collection::vec(0..WS.len(), 1..8)),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut text = String::new();
        write_spaced(&Value::Array(items), &ws, &mut 0, &mut text);
        let cut = cut.index(text.len());
        let b = &text.as_bytes()[..cut];
        match array_items(b, 0) {
            Ok(spans) => prop_assert!(false, "{:?} accepted as {:?}", String::from_utf8_lossy(b), spans),
            Err(e) => prop_assert!(e.offset <= cut),
        }
        prop_assert!(value_end(b, 0).is_err());
    }

    /// Any bytes at any offset: no panic, and whatever is found lies
    /// inside the text, in order.
    #[test]
    fn any_bytes_scan_without_panic(b in prop::collection::vec(any::<u8>(), 0..64), i in 0usize..70) {
        let j = skip_ws(&b, i);
        prop_assert!(j >= i.min(b.len()) || i > b.len());
        match value_end(&b, i) {
            Ok(end) => prop_assert!(i < end && end <= b.len()),
            Err(e) => prop_assert!(e.offset <= b.len().max(i)),
        }
        if let Ok(spans) = array_items(&b, i) {
            let mut last = i;
            for (s, e) in spans {
                prop_assert!(last < s && s < e && e <= b.len());
                last = e;
            }
        }
        if let Ok(members) = object_members(&b, i) {
            let mut last = i;
            for m in members {
                prop_assert!(last < m.key_offset && m.key_offset < m.value.0);
                prop_assert!(m.value.0 < m.value.1 && m.value.1 <= b.len());
                last = m.value.1;
            }
        }
    }

    /// Same bytes with a JSON-looking alphabet, so the scanner gets deeper.
    #[test]
    fn json_like_bytes_scan_without_panic(s in r#"[\[\]{}",:\\ \na0-9tfnul.-]{0,40}"#) {
        let b = s.as_bytes();
        let _ = value_end(b, 0);
        let _ = array_items(b, 0);
        let _ = object_members(b, 0);
        let _ = (array_items(b, 1), object_members(b, 1));
    }

    /// Line and column of any offset at a character boundary: one more
    /// than the newlines before it, and one more than the characters
    /// since the last of them.
    #[test]
    fn line_col_counts_newlines_and_characters(
        text in r"(\PC{0,6}\n?(\r\n)?){0,10}",
        at in any::<prop::sample::Index>(),
    ) {
        let idx = LineIndex::new(text.as_bytes());
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let offset = boundaries[at.index(boundaries.len())];
        let before = &text[..offset];
        let line = 1 + before.matches('\n').count();
        let col = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
        prop_assert_eq!(idx.line_col(offset), (line, col));
    }

    /// Any bytes, any offset (past the end too): no panic, and the line is
    /// still the count of newlines before the offset.
    #[test]
    fn line_col_of_any_bytes(b in prop::collection::vec(any::<u8>(), 0..64), offset in 0usize..80) {
        let idx = LineIndex::new(&b);
        let (line, col) = idx.line_col(offset);
        let end = offset.min(b.len());
        prop_assert_eq!(line, 1 + b[..end].iter().filter(|c| **c == b'\n').count());
        prop_assert!(col >= 1 && col <= end + 1);
    }

    /// `offset_of` turns serde_json's position (1-based line, byte column,
    /// counted within the slice at `base`) back into the offset in the text.
    #[test]
    fn offset_of_inverts_a_position_in_a_slice(
        text in r"([a-z{}\[\], ]{0,6}\n){0,8}[a-z ]{0,6}",
        base in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
    ) {
        let b = text.as_bytes();
        let base = base.index(b.len() + 1);
        let p = base + at.index(b.len() - base + 1);
        let slice = &b[base..p];
        let line = 1 + slice.iter().filter(|c| **c == b'\n').count();
        let line_start = slice.iter().rposition(|c| *c == b'\n').map_or(0, |i| i + 1);
        let column = slice.len() - line_start + 1;
        prop_assert_eq!(LineIndex::new(b).offset_of(base, line, column), p);
    }
}

// ------------------------------------------------------------ timestamps

/// Days from 1970-01-01 by the `time` crate's calendar (the oracle).
fn days_of(y: i32, m: u8, d: u8) -> Option<i64> {
    let month = time::Month::try_from(m).ok()?;
    let date = time::Date::from_calendar_date(y, month, d).ok()?;
    Some(i64::from(date.to_julian_day()) - 2_440_588)
}

const DAY_MS: i64 = 86_400_000;
/// 0001-01-01T00:00:00.000 and 9999-12-31T23:59:59.999.
const FIRST_MS: i64 = -62_135_596_800_000;
const LAST_MS: i64 = 253_402_300_799_999;

/// Every calendar date from 0001-01-01 to 9999-12-31 (each at a different
/// time of day) parses to its day and formats back to the same text; the
/// day after the last of every month (Feb 29 of common years, Feb 30, Apr
/// 31, ...) is refused. All 3,652,059 dates in release builds and with
/// `PROPS_EVERY_DATE` set (scripts/props.sh); in a debug `cargo test`, the
/// years where calendars go wrong (1, 4, 100, 400, 1900, 2000, 2100, ...)
/// and every 97th.
#[test]
fn every_date_parses_and_round_trips() {
    let every = !cfg!(debug_assertions) || std::env::var_os("PROPS_EVERY_DATE").is_some();
    let special = [
        1, 2, 3, 4, 99, 100, 101, 399, 400, 401, 1582, 1600, 1700, 1800, 1899, 1900, 1969, 1970,
        1971, 1999, 2000, 2001, 2023, 2024, 2100, 2400, 9996, 9999,
    ];
    let mut checked = 0i64;
    for y in 1..=9999 {
        if !(every || special.contains(&y) || y % 97 == 0) {
            continue;
        }
        let mut date = time::Date::from_calendar_date(y, time::Month::January, 1).unwrap();
        let mut days = days_of(y, 1, 1).unwrap();
        while date.year() == y {
            let n = days.rem_euclid(1_000_003);
            let (h, mi, s, ms) = (n % 24, n % 60, (n * 7) % 60, n % 1000);
            let text = format!(
                "{y:04}-{:02}-{:02}T{h:02}:{mi:02}:{s:02}.{ms:03}",
                u8::from(date.month()),
                date.day()
            );
            let want = days * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms;
            assert_eq!(parse_timestamp(&text), Ok(want), "{text}");
            assert_eq!(format_timestamp(want), text);
            if date.day() == date.month().length(y) {
                let next = format!("{}{:02}{}", &text[..8], date.day() + 1, &text[10..]);
                assert_eq!(
                    parse_timestamp(&next),
                    Err(TimestampError::Malformed),
                    "{next}"
                );
            }
            checked += 1;
            days += 1;
            match date.next_day() {
                Some(d) => date = d,
                None => break,
            }
        }
    }
    if every {
        assert_eq!(
            checked,
            days_of(9999, 12, 31).unwrap() - days_of(1, 1, 1).unwrap() + 1
        );
    }
    assert_eq!(
        parse_timestamp("2024-02-29T00:00").map(|v| v / DAY_MS),
        Ok(19_782)
    );
    for y in [1900, 2100, 2023, 1] {
        let s = format!("{y:04}-02-29T00:00");
        assert_eq!(parse_timestamp(&s), Err(TimestampError::Malformed), "{s}");
    }
}

/// A zone suffix as a client might send one: the oracle says whether it is
/// a zone designator (`Z`, `±HH:MM`, `±HHMM`).
fn suffix() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        Just((String::new(), false)),
        prop_oneof![Just("Z"), Just("z")].prop_map(|s| (s.to_string(), true)),
        (r"[+-][0-9]{2}:?[0-9]{2}").prop_map(|s| (s, true)),
        // (never starting with what would continue the time: a digit, ':', '.')
        (r"[+-][0-9:]{1,6}|[ a-zZ+-][ .a-zZ0-9:+-]{0,3}|[^0-9:.]\PC{0,2}").prop_map(|s| {
            let zone = suffix_is_zone(&s);
            (s, zone)
        }),
    ]
}

/// A timestamp-shaped string: fields in and out of range, seconds and
/// fraction present or not, and a suffix.
#[derive(Debug, Clone)]
struct Stamp {
    y: i32,
    mo: u8,
    d: u8,
    h: u8,
    mi: u8,
    sec: Option<u8>,
    frac: Option<String>,
    suffix: (String, bool),
}

impl Stamp {
    fn text(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            self.y, self.mo, self.d, self.h, self.mi
        );
        if let Some(sec) = self.sec {
            s.push_str(&format!(":{sec:02}"));
            if let Some(f) = &self.frac {
                s.push('.');
                s.push_str(f);
            }
        }
        s + &self.suffix.0
    }

    /// What the parser must answer, worked out with the `time` calendar.
    fn expected(&self) -> Result<i64, TimestampError> {
        let bad = Err(TimestampError::Malformed);
        let Some(days) = days_of(self.y, self.mo, self.d) else {
            return bad;
        };
        let sec = self.sec.unwrap_or(0);
        if self.h > 23 || self.mi > 59 || sec > 59 {
            return bad;
        }
        let ms = match (self.sec, &self.frac) {
            (Some(_), Some(f)) if f.is_empty() || f.len() > 9 => return bad,
            (Some(_), Some(f)) => format!("{f:0<3}")[..3].parse::<i64>().unwrap(),
            _ => 0,
        };
        let value = days * DAY_MS
            + ((i64::from(self.h) * 60 + i64::from(self.mi)) * 60 + i64::from(sec)) * 1000
            + ms;
        match &self.suffix {
            (s, _) if s.is_empty() => Ok(value),
            (_, true) => Err(TimestampError::HasZone),
            _ => bad,
        }
    }
}

fn stamp() -> impl Strategy<Value = Stamp> {
    (
        prop_oneof![0..=9999i32, 1995..2030i32],
        prop_oneof![1..=12u8, 0..=99u8],
        prop_oneof![1..=28u8, 28..=31u8, 0..=99u8],
        prop_oneof![0..=23u8, 0..=99u8],
        prop_oneof![0..=59u8, 0..=99u8],
        prop::option::of(prop_oneof![0..=59u8, 0..=99u8]),
        prop::option::of("[0-9]{0,11}"),
        suffix(),
    )
        .prop_map(|(y, mo, d, h, mi, sec, frac, suffix)| Stamp {
            y,
            mo,
            d,
            h,
            mi,
            sec,
            frac,
            suffix,
        })
}

proptest! {
    #![proptest_config(config())]

    /// Local timestamps (`DateTime Local` input): the parser answers what
    /// the calendar says, reports zone designators apart, and what it
    /// accepts formats back to the API's own form of the same instant.
    #[test]
    fn local_timestamps_follow_the_calendar(st in stamp()) {
        let text = st.text();
        let want = st.expected();
        let got = parse_timestamp(&text);
        prop_assert_eq!(got, want, "{}", text);
        if let Ok(v) = got {
            let canonical = format_timestamp(v);
            prop_assert_eq!(&canonical[..16], &text[..16]);
            prop_assert_eq!(parse_timestamp(&canonical), Ok(v));
        }
    }

    /// UTC timestamps (`DateTime UTC` in fixtures and the clock): as local
    /// ones, and a trailing `Z` means UTC; any other zone is refused.
    #[test]
    fn utc_timestamps_take_a_z(st in stamp()) {
        let plain = Stamp { suffix: (String::new(), false), ..st };
        let text = plain.text();
        let local = parse_timestamp(&text);
        prop_assert_eq!(parse_utc_timestamp(&text), local);
        prop_assert_eq!(parse_utc_timestamp(&format!("{text}Z")), local);
        prop_assert_eq!(parse_utc_timestamp(&format!("{text}z")), local);
        if local.is_ok() {
            prop_assert_eq!(parse_utc_timestamp(&format!("{text}+02:00")), Err(TimestampError::HasZone));
            prop_assert_eq!(parse_utc_timestamp(&format!("{text}ZZ")), Err(TimestampError::Malformed));
        }
    }

    /// Any instant from 0001 to 9999 formats as `YYYY-MM-DDTHH:MM:SS.mmm`
    /// and parses back to itself; any i64 at all formats without a panic.
    #[test]
    fn format_round_trips(ms in FIRST_MS..=LAST_MS, any_ms in any::<i64>()) {
        let s = format_timestamp(ms);
        prop_assert_eq!(s.len(), 23);
        prop_assert_eq!(parse_timestamp(&s), Ok(ms));
        prop_assert_eq!(parse_utc_timestamp(&s), Ok(ms));
        let _ = format_timestamp(any_ms);
    }

    /// Any string at all: no panic, and anything accepted re-parses from
    /// its canonical form to the same value.
    #[test]
    fn any_string_parses_without_panic(s in prop_oneof![any::<String>(), r"[0-9]{4}-[0-9]{2}-[0-9]{2}T\PC{0,16}"]) {
        for v in [parse_timestamp(&s), parse_utc_timestamp(&s)].into_iter().flatten() {
            prop_assert_eq!(parse_timestamp(&format_timestamp(v)), Ok(v));
        }
    }
}

fn suffix_is_zone(s: &str) -> bool {
    let b = s.as_bytes();
    s == "Z"
        || s == "z"
        || (matches!(b.first(), Some(b'+' | b'-'))
            && (b.len() == 5 && b[1..].iter().all(u8::is_ascii_digit)
                || b.len() == 6
                    && b[3] == b':'
                    && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())))
}

// ------------------------------------------------- sizes and durations

/// The units `--max-body` takes, by multiplier.
const SIZE_UNITS: [(&str, u64); 12] = [
    ("", 1),
    ("b", 1),
    ("B", 1),
    ("k", 1 << 10),
    ("KB", 1 << 10),
    ("KiB", 1 << 10),
    ("kib", 1 << 10),
    ("m", 1 << 20),
    ("MB", 1 << 20),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("gb", 1 << 30),
];

/// The units `--agent-delay` takes, by multiplier.
const DURATION_UNITS: [(&str, i64); 5] = [
    ("ms", 1),
    ("", 1000),
    ("s", 1000),
    ("m", 60_000),
    ("h", 3_600_000),
];

proptest! {
    #![proptest_config(config())]

    /// `N`, `N KiB`, `NMiB`...: the value is N times the unit, or refused
    /// when it is 0 or does not fit; never a panic or a wrapped value.
    #[test]
    fn sizes_are_n_times_the_unit(
        n in prop_oneof![any::<u64>(), 0..5000u64],
        zeros in 0usize..3,
        unit in 0..SIZE_UNITS.len(),
        (pad, gap) in ("[ \t]{0,2}", "[ ]{0,2}"),
    ) {
        let (name, mult) = SIZE_UNITS[unit];
        let text = format!("{pad}{}{n}{gap}{name}{pad}", "0".repeat(zeros));
        let want = n.checked_mul(mult).filter(|v| *v > 0).and_then(|v| usize::try_from(v).ok());
        prop_assert_eq!(parse_size(&text).ok(), want, "{}", text);
    }

    /// `Nms`, `Ns`, `Nm`, `Nh` and bare seconds: N times the unit in
    /// milliseconds, or refused when it does not fit in an i64.
    #[test]
    fn durations_are_n_times_the_unit(
        n in prop_oneof![any::<u64>(), 0..100_000u64],
        unit in 0..DURATION_UNITS.len(),
        gap in "[ ]{0,2}",
    ) {
        let (name, mult) = DURATION_UNITS[unit];
        let text = format!("{n}{gap}{name}");
        let want = i64::try_from(n).ok().and_then(|n| n.checked_mul(mult));
        prop_assert_eq!(parse_duration_ms(&text).ok(), want, "{}", text);
    }

    /// Huge numbers, signs, fractions, unknown units, any text: an error
    /// message, never a panic; and a negative value is never accepted.
    #[test]
    fn any_size_or_duration_text_is_safe(
        s in prop_oneof![any::<String>(), r"[-+]?[0-9]{0,40}(\.[0-9]*)?[ ]?(ms|s|m|h|KiB|MiB|GiB|kb|x|µs)?"],
    ) {
        if let Ok(v) = parse_duration_ms(&s) {
            prop_assert!(v >= 0, "{} -> {}", s, v);
        }
        if let Ok(v) = parse_size(&s) {
            prop_assert!(v > 0, "{} -> {}", s, v);
        }
    }
}
