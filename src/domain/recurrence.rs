//! When a job runs next (API.md section 11): a job's schedule as a series of
//! local times, turned into instants through the device's time zone, and the
//! first occurrence after a given instant. Pure: no clock, no state.
//!
//! Local times are the API's naive timestamps (milliseconds since
//! 1970-01-01T00:00 on the device's wall clock); instants are UTC
//! milliseconds. A local time that a daylight-saving change skips happens
//! at the first instant after the gap; one that happens twice, at the first.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use super::rules::iana_zone;
use super::value::{civil_from_days, days_from_civil, days_in_month};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// How often a job runs (`Frequency`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freq {
    Hourly,
    Daily,
    Weekly,
    /// `Monthly`, or the vendor's `Monthy`.
    Monthly,
    OneTime,
}

impl Freq {
    pub fn parse(s: &str) -> Option<Freq> {
        match s {
            "Hourly" => Some(Freq::Hourly),
            "Daily" => Some(Freq::Daily),
            "Weekly" => Some(Freq::Weekly),
            "Monthy" | "Monthly" => Some(Freq::Monthly),
            "One Time" => Some(Freq::OneTime),
            _ => None,
        }
    }
}

/// A job's schedule, from its `Frequency`, `Every`, `On…`, `DayOfMonth`
/// and `ExpireOn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recurrence {
    pub freq: Freq,
    /// Periods between runs, at least 1.
    pub every: i64,
    /// The weekdays of a weekly job, Monday first; none set means every day.
    pub days: [bool; 7],
    /// The day of a monthly job (the month's last day when it is shorter);
    /// None: the day of the series' first run.
    pub day_of_month: Option<i64>,
    /// A one-time job never runs after this local time.
    pub expire_on: Option<i64>,
}

/// The time zone of a Windows time zone id; UTC for one the table does
/// not know.
pub fn zone(windows_zone: &str) -> TimeZone {
    iana_zone(windows_zone)
        .and_then(|iana| TimeZone::get(iana).ok())
        .unwrap_or(TimeZone::UTC)
}

fn civil(local: i64) -> Option<DateTime> {
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    let t = local.rem_euclid(DAY);
    DateTime::new(
        i16::try_from(y).ok()?,
        m as i8,
        d as i8,
        (t / HOUR) as i8,
        (t / 60_000 % 60) as i8,
        (t / 1000 % 60) as i8,
        (t % 1000) as i32 * 1_000_000,
    )
    .ok()
}

/// The wall-clock time in `tz` at the instant `utc`.
pub fn to_local(utc: i64, tz: &TimeZone) -> i64 {
    Timestamp::from_millisecond(utc)
        .map_or(utc, |ts| utc + i64::from(tz.to_offset(ts).seconds()) * 1000)
}

/// The instant the local time `local` happens in `tz`: in a gap, the first
/// instant after it; in a fold, the first of the two.
pub fn to_utc(local: i64, tz: &TimeZone) -> i64 {
    let Some(dt) = civil(local) else {
        return local;
    };
    let secs = |o: jiff::tz::Offset| i64::from(o.seconds()) * 1000;
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => local - secs(offset),
        AmbiguousOffset::Fold { before, .. } => local - secs(before),
        AmbiguousOffset::Gap { before, .. } => {
            // read with the offset before the gap, the time lies past the
            // change; the change itself is the first instant after the gap
            let past = local - secs(before);
            Timestamp::from_millisecond(past + 1)
                .ok()
                .and_then(|ts| tz.preceding(ts).next())
                .map_or(past, |t| t.timestamp().as_millisecond())
        }
    }
}

/// Monday = 0 … Sunday = 6, of a day count from 1970-01-01 (a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// How many steps a candidate loop may take after the jump near the target.
const MAX_STEPS: usize = 5_000;

impl Recurrence {
    /// Whether the series may run at the local time `local`: a one-time
    /// job never runs after its ExpireOn.
    pub fn allows(&self, local: i64) -> bool {
        self.freq != Freq::OneTime || self.expire_on.is_none_or(|e| local <= e)
    }

    /// The first occurrence of the series that starts at the local time
    /// `anchor` (included) whose instant is after `after`: (local, UTC).
    /// None when there is none (a one-time job that ran or expired).
    pub fn next_after(&self, anchor: i64, tz: &TimeZone, after: i64) -> Option<(i64, i64)> {
        let every = self.every.max(1);
        let first = |cands: &mut dyn Iterator<Item = i64>| {
            cands
                .take(MAX_STEPS)
                .map(|l| (l, to_utc(l, tz)))
                .find(|&(_, u)| u > after)
        };
        let (anchor_day, time) = (anchor.div_euclid(DAY), anchor.rem_euclid(DAY));
        // the target, as a day of the local calendar (a day early, to be safe)
        let target_day = to_local(after, tz).div_euclid(DAY) - 1;
        match self.freq {
            Freq::OneTime => {
                let u = to_utc(anchor, tz);
                (u > after && self.allows(anchor)).then_some((anchor, u))
            }
            Freq::Hourly => {
                // elapsed time: every `every` hours from the anchor's instant
                let period = every.saturating_mul(HOUR);
                let start = to_utc(anchor, tz);
                let k0 = if after < start {
                    0
                } else {
                    (after - start) / period
                };
                first(&mut (k0..).map(|k| to_local(start.saturating_add(k * period), tz)))
            }
            Freq::Daily => {
                let k0 = ((target_day - anchor_day) / every).max(0);
                first(&mut (k0..).map(|k| (anchor_day + k * every) * DAY + time))
            }
            Freq::Weekly => {
                let monday = anchor_day - weekday(anchor_day);
                let any = self.days.iter().any(|d| *d);
                let days: Vec<i64> = (0..7).filter(|&d| !any || self.days[d as usize]).collect();
                let w0 = ((target_day - 7 - monday) / 7 / every).max(0);
                first(
                    &mut (w0..)
                        .flat_map(|w| days.iter().map(move |d| monday + w * every * 7 + d))
                        .filter(|&day| day >= anchor_day)
                        .map(|day| day * DAY + time),
                )
            }
            Freq::Monthly => {
                let (y, m, d) = civil_from_days(anchor_day);
                let dom = self.day_of_month.unwrap_or(d).clamp(1, 31);
                let (ty, tm, _) = civil_from_days(target_day);
                let months = (ty - y) * 12 + (tm - m) - 1;
                let k0 = (months / every).max(0);
                let at = |k: i64| {
                    let n = y * 12 + (m - 1) + k * every;
                    let (cy, cm) = (n.div_euclid(12), n.rem_euclid(12) + 1);
                    days_from_civil(cy, cm, dom.min(days_in_month(cy, cm))) * DAY + time
                };
                first(&mut (k0..).map(at).filter(|&l| l >= anchor))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::{format_timestamp, parse_timestamp};
    use proptest::prelude::*;

    fn t(s: &str) -> i64 {
        parse_timestamp(s).unwrap()
    }

    fn rec(freq: Freq, every: i64) -> Recurrence {
        Recurrence {
            freq,
            every,
            days: [false; 7],
            day_of_month: None,
            expire_on: None,
        }
    }

    fn eastern() -> TimeZone {
        zone("Eastern Standard Time")
    }

    /// The local times of the occurrences in (from, to], UTC bounds.
    fn series(r: &Recurrence, anchor: i64, tz: &TimeZone, from: i64, to: i64) -> Vec<String> {
        let mut out = Vec::new();
        let (mut anchor, mut after) = (anchor, from);
        while let Some((l, u)) = r.next_after(anchor, tz, after) {
            if u > to {
                break;
            }
            out.push(format_timestamp(l));
            (anchor, after) = (l, u);
        }
        out
    }

    #[test]
    fn a_skipped_local_time_runs_at_the_end_of_the_gap_and_a_repeated_one_once() {
        let tz = eastern();
        // 2026-03-08 02:30 does not exist in New York: clocks go 02:00 -> 03:00
        assert_eq!(
            format_timestamp(to_utc(t("2026-03-08T02:30:00"), &tz)),
            "2026-03-08T07:00:00.000"
        );
        // 2026-11-01 01:30 happens twice: first at 05:30 UTC (EDT)
        assert_eq!(
            format_timestamp(to_utc(t("2026-11-01T01:30:00"), &tz)),
            "2026-11-01T05:30:00.000"
        );
        let daily = rec(Freq::Daily, 1);
        let runs = series(
            &daily,
            t("2026-10-31T01:30:00"),
            &tz,
            t("2026-10-31T00:00:00"),
            t("2026-11-03T00:00:00"),
        );
        assert_eq!(
            runs,
            [
                "2026-10-31T01:30:00.000",
                "2026-11-01T01:30:00.000",
                "2026-11-02T01:30:00.000"
            ]
        );
        // hourly across the repeated hour: elapsed hours, the repeated
        // local 01:30 once
        let hourly = rec(Freq::Hourly, 1);
        let runs = series(
            &hourly,
            t("2026-11-01T00:30:00"),
            &tz,
            t("2026-11-01T04:00:00"),
            t("2026-11-01T08:00:00"),
        );
        assert_eq!(
            runs,
            [
                "2026-11-01T00:30:00.000",
                "2026-11-01T01:30:00.000",
                "2026-11-01T02:30:00.000"
            ]
        );
    }

    #[test]
    fn monthly_on_day_31_lands_on_the_last_day_of_shorter_months() {
        let mut r = rec(Freq::Monthly, 1);
        r.day_of_month = Some(31);
        let runs = series(
            &r,
            t("2026-01-31T03:00:00"),
            &TimeZone::UTC,
            t("2026-01-01T00:00:00"),
            t("2026-05-01T00:00:00"),
        );
        assert_eq!(
            runs,
            [
                "2026-01-31T03:00:00.000",
                "2026-02-28T03:00:00.000",
                "2026-03-31T03:00:00.000",
                "2026-04-30T03:00:00.000"
            ]
        );
    }

    #[test]
    fn weekly_on_its_days_every_other_week() {
        let mut r = rec(Freq::Weekly, 2);
        r.days[0] = true; // Monday
        r.days[4] = true; // Friday
        // 2026-11-30 is a Monday
        let runs = series(
            &r,
            t("2026-11-30T18:00:00"),
            &TimeZone::UTC,
            t("2026-11-29T00:00:00"),
            t("2026-12-20T00:00:00"),
        );
        assert_eq!(
            runs,
            [
                "2026-11-30T18:00:00.000",
                "2026-12-04T18:00:00.000",
                "2026-12-14T18:00:00.000",
                "2026-12-18T18:00:00.000"
            ]
        );
        // no day flagged: every day
        let every_day = rec(Freq::Weekly, 1);
        assert_eq!(
            series(
                &every_day,
                t("2026-11-30T18:00:00"),
                &TimeZone::UTC,
                t("2026-11-29T00:00:00"),
                t("2026-12-03T00:00:00")
            )
            .len(),
            3
        );
    }

    #[test]
    fn one_time_runs_once_and_never_after_it_expires() {
        let mut r = rec(Freq::OneTime, 1);
        let at = t("2026-12-01T10:00:00");
        assert_eq!(r.next_after(at, &TimeZone::UTC, at - 1), Some((at, at)));
        assert_eq!(r.next_after(at, &TimeZone::UTC, at), None);
        r.expire_on = Some(at - 1);
        assert_eq!(r.next_after(at, &TimeZone::UTC, at - 1), None);
    }

    #[test]
    fn a_far_away_target_is_reached_in_a_few_steps() {
        let r = rec(Freq::Daily, 3);
        let anchor = t("2016-01-01T12:00:00");
        let (l, u) = r
            .next_after(anchor, &eastern(), t("2026-06-01T00:00:00"))
            .unwrap();
        assert!(u > t("2026-06-01T00:00:00") && u <= t("2026-06-04T17:00:00"));
        assert_eq!((l - anchor).rem_euclid(3 * DAY), 0);
    }

    fn any_rec() -> impl Strategy<Value = Recurrence> {
        (
            0usize..5,
            1i64..40,
            proptest::array::uniform7(any::<bool>()),
            proptest::option::of(1i64..=31),
        )
            .prop_map(|(f, every, days, dom)| Recurrence {
                freq: [
                    Freq::Hourly,
                    Freq::Daily,
                    Freq::Weekly,
                    Freq::Monthly,
                    Freq::OneTime,
                ][f],
                every,
                days,
                day_of_month: dom,
                expire_on: None,
            })
    }

    const ZONES: [&str; 4] = [
        "Eastern Standard Time",
        "W. Europe Standard Time",
        "AUS Eastern Standard Time",
        "UTC",
    ];

    proptest! {
        #[test]
        fn the_next_occurrence_is_after_the_instant(
            r in any_rec(),
            anchor_min in 0i64..(20 * 366 * 24 * 60),
            gap_min in -(400i64 * 24 * 60)..(400 * 24 * 60),
            z in 0usize..4,
        ) {
            let tz = zone(ZONES[z]);
            let anchor = t("2016-01-01T00:00:00") + anchor_min * 60_000;
            let after = to_utc(anchor, &tz) + gap_min * 60_000;
            if let Some((l, u)) = r.next_after(anchor, &tz, after) {
                prop_assert!(u > after);
                prop_assert!(l >= anchor || r.freq == Freq::Hourly);
                prop_assert_eq!(to_utc(l, &tz), u);
            } else {
                prop_assert_eq!(r.freq, Freq::OneTime);
            }
        }

        #[test]
        fn monthly_runs_on_its_day_or_the_months_last(
            dom in 1i64..=31,
            every in 1i64..13,
            months in 0i64..200,
        ) {
            let mut r = rec(Freq::Monthly, every);
            r.day_of_month = Some(dom);
            let anchor = t("2020-01-01T04:00:00");
            let after = anchor + months * 30 * DAY;
            let (l, _) = r.next_after(anchor, &TimeZone::UTC, after).unwrap();
            let (y, m, d) = civil_from_days(l.div_euclid(DAY));
            prop_assert_eq!(d, dom.min(days_in_month(y, m)));
            prop_assert_eq!(((y - 2020) * 12 + m - 1) % every, 0);
        }

        #[test]
        fn a_daily_job_runs_once_a_local_day_across_daylight_saving(
            hour in 0i64..24,
            minute in 0i64..60,
            z in 0usize..3,
        ) {
            let tz = zone(ZONES[z]);
            let r = rec(Freq::Daily, 1);
            let anchor = t("2026-01-01T00:00:00") + hour * HOUR + minute * 60_000;
            let runs = series(&r, anchor, &tz, to_utc(anchor, &tz) - 1, t("2027-01-01T00:00:00") + 2 * DAY);
            prop_assert!(runs.len() >= 365);
            let days: std::collections::BTreeSet<&str> = runs.iter().map(|s| &s[..10]).collect();
            prop_assert_eq!(days.len(), runs.len());
        }
    }
}
