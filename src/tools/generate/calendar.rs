//! Time for the generated set: the fixed moment it describes ([`NOW`]), the
//! periods partners and companies were added in, calendar steps, and the
//! Windows time zones with their rules from jiff's bundled database (never
//! the system's, so the output does not depend on the machine).

use std::fmt::Write as _;

use super::rng::Rng;
use crate::domain::rules;
use crate::domain::value::{civil_from_days, days_from_civil, days_in_month};

pub const SECOND: i64 = 1000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// The moment the data set describes (UTC): the latest runs finished shortly
/// before it. Fixed, so that the same options always give the same files.
pub const NOW: i64 = days_from_civil(2026, 11, 27) * DAY + 6 * HOUR;
/// Partners joined between these (UTC).
pub const PARTNERS_FROM: i64 = days_from_civil(2013, 1, 7) * DAY;
pub const PARTNERS_UNTIL: i64 = days_from_civil(2016, 1, 1) * DAY;
/// Companies were added between these, in id order.
pub const COMPANIES_FROM: i64 = days_from_civil(2016, 3, 1) * DAY;
pub const COMPANIES_UNTIL: i64 = NOW - 75 * DAY;

/// `ms` moved by `n` months, the day clamped to the month's length.
pub fn add_months(ms: i64, n: i64) -> i64 {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let total = y * 12 + (m - 1) + n;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm))) * DAY + ms.rem_euclid(DAY)
}

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// `YYYYMMDDHHMMSS`, as backup file names carry their start time.
pub fn compact_stamp(ms: i64, out: &mut String) {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let t = ms.rem_euclid(DAY);
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        t / HOUR,
        t / MINUTE % 60,
        t / SECOND % 60
    );
}

/// The one time in `i` of `n` slots evenly spread over from..until.
pub fn slot_time(r: &mut Rng, from: i64, until: i64, i: u64, n: u64) -> i64 {
    let span = i128::from(until - from);
    let n = i128::from(n.max(1));
    let start = from + (i128::from(i.saturating_sub(1)) * span / n) as i64;
    let width = (span / n) as i64;
    start + r.between(0, width - 1)
}

/// The Windows time zones of `timezones.txt`, with their rules from jiff's
/// bundled database (never the system's, so output does not depend on the
/// machine).
pub struct Zones {
    pub list: Vec<(&'static str, Option<jiff::tz::TimeZone>)>,
}

impl Zones {
    pub fn load() -> Zones {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        Zones {
            list: rules::time_zones()
                .map(|(w, iana)| (w, db.get(iana).ok()))
                .collect(),
        }
    }

    pub fn find(&self, name: &str) -> usize {
        self.list.iter().position(|(w, _)| *w == name).unwrap_or(0)
    }

    pub fn name(&self, i: usize) -> &'static str {
        self.list.get(i).map_or("UTC", |z| z.0)
    }

    pub fn offset(&self, i: usize, utc: i64) -> i64 {
        let Some((_, Some(tz))) = self.list.get(i) else {
            return 0;
        };
        jiff::Timestamp::from_millisecond(utc)
            .map_or(0, |ts| i64::from(tz.to_offset(ts).seconds()) * SECOND)
    }

    /// The device's wall clock at UTC `utc`.
    pub fn local(&self, i: usize, utc: i64) -> i64 {
        utc + self.offset(i, utc)
    }

    /// The UTC time of the device's wall-clock time `local`.
    pub fn utc(&self, i: usize, local: i64) -> i64 {
        let guess = local - self.offset(i, local);
        local - self.offset(i, guess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for day in [-1000, 0, 59, 10_000, 20_784] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        let jan31 = days_from_civil(2024, 1, 31) * DAY + HOUR;
        assert_eq!(
            add_months(jan31, 1),
            days_from_civil(2024, 2, 29) * DAY + HOUR
        );
        assert_eq!(weekday(days_from_civil(2026, 11, 27)), 4); // a Friday
    }

    #[test]
    fn every_zone_has_rules() {
        let z = Zones::load();
        assert!(z.list.len() > 100);
        let missing: Vec<_> = z.list.iter().filter(|(_, tz)| tz.is_none()).collect();
        assert!(missing.is_empty(), "{missing:?}");
        let ny = z.find("Eastern Standard Time");
        assert_eq!(z.offset(ny, NOW), -5 * HOUR);
        assert_eq!(z.utc(ny, z.local(ny, NOW)), NOW);
    }
}
