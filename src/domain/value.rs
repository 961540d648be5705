//! Attribute values as the store keeps them, and the API's timestamp format.
//!
//! A record is a boxed slice of [`Val`], one per stored attribute of its
//! resource (see `domain::schema`). Timestamps are kept as milliseconds since
//! 1970-01-01T00:00:00 on a naive clock: `DateTime UTC` attributes hold UTC,
//! `DateTime Local` attributes the device's wall clock; neither carries a zone.

use std::fmt::Write as _;

pub use arcstr::ArcStr;

/// One attribute value of a stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    /// Milliseconds since 1970-01-01T00:00:00.000 (naive: no zone).
    Time(i64),
    /// Shared so that equal strings loaded from fixtures are stored once; a
    /// thin pointer, so a `Val` is 16 bytes.
    Str(ArcStr),
}

impl Val {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Booleans may be stored as null, which means false.
    pub fn is_true(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Writes `ms` as `YYYY-MM-DDTHH:MM:SS.mmm`, the API's timestamp format.
pub fn write_timestamp(out: &mut String, ms: i64) {
    match timestamp_digits(ms) {
        // the digits are ASCII
        Some(b) => out.push_str(std::str::from_utf8(&b).unwrap_or_default()),
        None => {
            let days = ms.div_euclid(86_400_000);
            let rem = ms.rem_euclid(86_400_000);
            let (y, mo, d) = civil_from_days(days);
            let _ = write!(
                out,
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
                rem / 3_600_000,
                rem / 60_000 % 60,
                rem / 1000 % 60,
                rem % 1000
            );
        }
    }
}

/// [`write_timestamp`] into bytes (what rendering writes).
pub fn push_timestamp(out: &mut Vec<u8>, ms: i64) {
    match timestamp_digits(ms) {
        Some(b) => out.extend_from_slice(&b),
        None => {
            let mut s = String::new();
            write_timestamp(&mut s, ms);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmm` for years 0 to 9999, digit by digit (the
/// formatting machinery costs more than the rest of a record's rendering).
fn timestamp_digits(ms: i64) -> Option<[u8; 23]> {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00.000";
    put_digits(&mut b[0..4], y);
    put_digits(&mut b[5..7], mo);
    put_digits(&mut b[8..10], d);
    put_digits(&mut b[11..13], rem / 3_600_000);
    put_digits(&mut b[14..16], rem / 60_000 % 60);
    put_digits(&mut b[17..19], rem / 1000 % 60);
    put_digits(&mut b[20..23], rem % 1000);
    Some(b)
}

/// Writes `v` (non-negative) as exactly `dst.len()` decimal digits.
pub fn put_digits(dst: &mut [u8], mut v: i64) {
    for c in dst.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

pub fn format_timestamp(ms: i64) -> String {
    let mut s = String::with_capacity(23);
    write_timestamp(&mut s, ms);
    s
}

/// Why a timestamp string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampError {
    /// Not of the form `YYYY-MM-DDTHH:MM[:SS[.fff]]`, or not a real date or time.
    Malformed,
    /// Well formed, but with a zone designator (`Z`, `+02:00`).
    HasZone,
}

/// Parses `YYYY-MM-DDTHH:MM`, optionally with `:SS` and a fraction of 1 to 9
/// digits (kept to the millisecond). A trailing zone designator is reported
/// as [`TimestampError::HasZone`] so callers can explain or accept it.
pub fn parse_timestamp(s: &str) -> Result<i64, TimestampError> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0i64, |a, c| a * 10 + i64::from(c - b'0')))
        } else {
            None
        }
    };
    let bad = TimestampError::Malformed;
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return Err(bad);
    }
    let (y, mo, d) = (
        num(0..4).ok_or(bad)?,
        num(5..7).ok_or(bad)?,
        num(8..10).ok_or(bad)?,
    );
    let (h, mi) = (num(11..13).ok_or(bad)?, num(14..16).ok_or(bad)?);
    let mut pos = 16;
    let (mut sec, mut ms) = (0, 0);
    if b.get(pos) == Some(&b':') {
        sec = num(pos + 1..pos + 3).ok_or(bad)?;
        pos += 3;
        if b.get(pos) == Some(&b'.') {
            let start = pos + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start || end - start > 9 {
                return Err(bad);
            }
            let digits = &b[start..end.min(start + 3)];
            ms = digits
                .iter()
                .fold(0i64, |a, c| a * 10 + i64::from(c - b'0'));
            ms *= 10i64.pow(3 - digits.len() as u32);
            pos = end;
        }
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return Err(bad);
    }
    let value = (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
    match &s[pos..] {
        "" => Ok(value),
        rest if is_zone_designator(rest) => Err(TimestampError::HasZone),
        _ => Err(bad),
    }
}

fn is_zone_designator(s: &str) -> bool {
    let b = s.as_bytes();
    s == "Z"
        || s == "z"
        || (matches!(b.first(), Some(b'+' | b'-'))
            && (b.len() == 6 && b[3] == b':' || b.len() == 5)
            && b[1..].iter().filter(|c| c.is_ascii_digit()).count() == 4)
}

/// Parses a UTC timestamp as fixtures may hold it: as the API writes it, or
/// with a `Z` (UTC) suffix.
pub fn parse_utc_timestamp(s: &str) -> Result<i64, TimestampError> {
    match parse_timestamp(s) {
        Err(TimestampError::HasZone) if s.ends_with(['Z', 'z']) => {
            parse_timestamp(&s[..s.len() - 1])
        }
        other => other,
    }
}

/// A whole number in decimal digits only (no sign, no fraction); values too
/// large for u64 saturate at `u64::MAX`.
pub fn whole_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u64>().unwrap_or(u64::MAX))
}

/// A positive integer id as the API accepts it in a path: decimal digits
/// only, at least 1, within `i64`.
pub fn parse_id(s: &str) -> Option<i64> {
    whole_number(s)
        .and_then(|n| i64::try_from(n).ok())
        .filter(|&id| id > 0)
}

/// A fast hash (multiply and rotate over 8-byte words), for maps whose keys
/// never come from input and for digests where a collision costs no more
/// than a false finding. Not for maps a client can fill with chosen keys.
#[derive(Default)]
pub struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_two_words() {
        assert_eq!(std::mem::size_of::<Val>(), 16);
    }

    #[test]
    fn round_trips_the_api_format() {
        for s in [
            "2015-01-01T00:00:00.000",
            "1969-12-31T23:59:59.999",
            "2024-02-29T12:34:56.789",
        ] {
            assert_eq!(format_timestamp(parse_timestamp(s).unwrap()), s);
        }
    }

    #[test]
    fn digit_by_digit_matches_the_formatter() {
        let slow = |ms: i64| {
            let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
            let (y, mo, d) = civil_from_days(days);
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
                rem / 3_600_000,
                rem / 60_000 % 60,
                rem / 1000 % 60,
                rem % 1000
            )
        };
        let year_0 = days_from_civil(0, 1, 1) * 86_400_000;
        let year_10000 = days_from_civil(10_000, 1, 1) * 86_400_000;
        let mut ms = year_0 - 5_000;
        while ms < year_10000 + 5_000 {
            assert_eq!(format_timestamp(ms), slow(ms), "{ms}");
            let mut b = Vec::new();
            push_timestamp(&mut b, ms);
            assert_eq!(b, slow(ms).into_bytes());
            ms += 7_777_777_777; // about 90 days, every field moving
        }
        for ms in [year_0, year_0 - 1, year_10000 - 1, year_10000, 0, -1] {
            assert_eq!(format_timestamp(ms), slow(ms), "{ms}");
        }
    }

    #[test]
    fn accepts_shorter_forms_and_longer_fractions() {
        let full = parse_timestamp("2026-03-01T08:30:00.000").unwrap();
        assert_eq!(parse_timestamp("2026-03-01T08:30"), Ok(full));
        assert_eq!(parse_timestamp("2026-03-01T08:30:00"), Ok(full));
        assert_eq!(parse_timestamp("2026-03-01T08:30:00.0004567"), Ok(full));
        assert_eq!(parse_timestamp("2026-03-01T08:30:00.5"), Ok(full + 500));
    }

    #[test]
    fn refuses_bad_dates_and_reports_zones() {
        for s in [
            "2025-02-29T00:00",
            "2026-13-01T00:00",
            "2026-01-01 00:00",
            "2026-01-01T24:00",
            "x",
        ] {
            assert_eq!(parse_timestamp(s), Err(TimestampError::Malformed), "{s}");
        }
        for s in [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.000+02:00",
            "2026-01-01T00:00-0500",
        ] {
            assert_eq!(parse_timestamp(s), Err(TimestampError::HasZone), "{s}");
        }
        assert!(parse_utc_timestamp("2026-01-01T00:00:00Z").is_ok());
    }
}
