//! Job schedules on the device's wall clock (Hourly, Daily, Weekly, Monthly,
//! One Time, as `Job.Frequency` names them): the latest scheduled time, a
//! step back or forth, a schedule chosen for a kind of job, and the runs of a
//! job fitted between when it was added and when it stopped.

use super::calendar::{DAY, HOUR, MINUTE, NOW, add_months, weekday};
use super::jobs::JobKind;
use super::rng::Rng;
use crate::domain::value::{civil_from_days, days_from_civil};

/// How often a job runs: the schedule's own enum, so what the generator
/// writes is what the sandbox runs.
pub use crate::domain::recurrence::Freq;

/// A job's schedule, on the device's wall clock.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub freq: Freq,
    /// `Frequency` as written (the vendor's list spells `Monthy` too).
    pub label: &'static str,
    pub every: i64,
    /// Weekly: bit 0 Monday … bit 6 Sunday.
    pub days: u8,
    /// Monthly: the day of the month (1..=28).
    pub dom: i64,
    /// Time of day (Hourly: minutes past the hour), in ms.
    pub tod: i64,
    /// One Time: when.
    pub at: i64,
    /// LateAfter, minutes.
    pub late: i64,
}

impl Schedule {
    pub fn hourly(every: i64, minute: i64, late: i64) -> Schedule {
        Schedule {
            freq: Freq::Hourly,
            label: "Hourly",
            every,
            days: 0,
            dom: 1,
            tod: minute * MINUTE,
            at: 0,
            late,
        }
    }

    pub fn daily(every: i64, tod: i64, late: i64) -> Schedule {
        Schedule {
            freq: Freq::Daily,
            label: "Daily",
            tod,
            ..Schedule::hourly(every, 0, late)
        }
    }

    /// (anchor, period) for schedules that repeat at a fixed interval.
    fn periodic(&self) -> Option<(i64, i64)> {
        let every = self.every.max(1);
        match self.freq {
            Freq::Hourly => Some((self.tod, every * HOUR)),
            Freq::Daily => Some((self.tod, every * DAY)),
            Freq::Weekly if self.days.count_ones() == 1 => Some((
                // 1970-01-05, day 4, was a Monday
                (4 + i64::from(self.days.trailing_zeros())) * DAY + self.tod,
                every * 7 * DAY,
            )),
            _ => None,
        }
    }

    fn on(&self, day: i64) -> bool {
        (self.days >> weekday(day)) & 1 == 1
    }

    /// The latest scheduled time at or before `t`.
    pub fn latest(&self, t: i64) -> i64 {
        if let Some((anchor, period)) = self.periodic() {
            return t - (t - anchor).rem_euclid(period);
        }
        match self.freq {
            Freq::Weekly => {
                let mut day = t.div_euclid(DAY);
                for _ in 0..8 {
                    let at = day * DAY + self.tod;
                    if at <= t && self.on(day) {
                        return at;
                    }
                    day -= 1;
                }
                t
            }
            Freq::Monthly => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY));
                let at = days_from_civil(y, m, self.dom) * DAY + self.tod;
                if at <= t { at } else { add_months(at, -1) }
            }
            Freq::OneTime => self.at,
            Freq::Hourly | Freq::Daily => t,
        }
    }

    pub fn step(&self, s: i64, forward: bool) -> i64 {
        let sign = if forward { 1 } else { -1 };
        if let Some((_, period)) = self.periodic() {
            return s + sign * period;
        }
        match self.freq {
            Freq::Weekly => {
                let mut day = s.div_euclid(DAY);
                for _ in 0..7 {
                    day += sign;
                    if self.on(day) {
                        return day * DAY + self.tod;
                    }
                }
                s + sign * 7 * DAY
            }
            Freq::Monthly => add_months(s, sign * self.every.max(1)),
            Freq::OneTime if forward => s,
            _ => s + sign * DAY,
        }
    }

    /// The first of `n` runs ending at the latest scheduled time <= `hi`,
    /// if they all fall in lo..=hi.
    pub fn fit(&self, n: u64, lo: i64, hi: i64) -> Option<(i64, i64)> {
        let last = self.latest(hi);
        if last < lo || last > hi {
            return None;
        }
        let mut first = last;
        for _ in 1..n {
            first = self.step(first, false);
            if first < lo {
                return None;
            }
        }
        Some((first, last))
    }
}

/// When a job's runs happened.
#[derive(Clone, Copy, Debug)]
pub enum Runs {
    /// As scheduled, from `first` to `last`.
    Scheduled { first: i64, last: i64 },
    /// More runs than the schedule fits since the job was added: packed
    /// `spacing` apart from `first`.
    Packed { first: i64, spacing: i64 },
}

/// A schedule for a job of `kind` with `logs` runs on record.
pub fn choose_schedule(r: &mut Rng, kind: JobKind, logs: u64) -> Schedule {
    let minute = r.pick(&[0, 0, 15, 30, 45]);
    if kind == JobKind::SqlLog {
        return Schedule::hourly(r.pick(&[1, 1, 2, 4]), minute, r.pick(&[15, 30, 60]));
    }
    let evening = [
        (19, 0),
        (20, 0),
        (20, 30),
        (21, 0),
        (21, 30),
        (22, 0),
        (22, 15),
        (23, 0),
        (23, 30),
        (0, 30),
        (1, 30),
        (2, 0),
        (3, 0),
        (12, 30),
    ];
    let (h, m) = r.pick(&evening);
    let tod = h * HOUR + m * MINUTE;
    let roll = r.below(100);
    let freq = match (kind, roll) {
        (JobKind::Sql, 0..85) => Freq::Daily,
        (JobKind::Sql, 85..95) => Freq::Weekly,
        (JobKind::Sql, _) => Freq::Hourly,
        (_, 0..10) => Freq::Hourly,
        (_, 10..65) => Freq::Daily,
        (_, 65..83) => Freq::Weekly,
        (_, 83..95) => Freq::Monthly,
        _ if logs <= 1 => Freq::OneTime,
        _ => Freq::Daily,
    };
    let late_daily = r.pick(&[60, 90, 120, 180, 240]);
    match freq {
        Freq::Hourly => {
            Schedule::hourly(r.pick(&[1, 2, 4, 6, 12]), minute, r.pick(&[15, 30, 45, 60]))
        }
        Freq::Daily => Schedule::daily(if r.percent(85) { 1 } else { 2 }, tod, late_daily),
        Freq::Weekly => {
            let (days, every) = if r.percent(25) {
                (0b001_1111, 1) // Monday to Friday
            } else {
                (
                    1u8 << r.pick(&[4u32, 5, 5, 6, 6, 0]),
                    if r.percent(85) { 1 } else { 2 },
                )
            };
            Schedule {
                freq: Freq::Weekly,
                label: "Weekly",
                days,
                ..Schedule::daily(every, tod, r.pick(&[240, 480, 1439]))
            }
        }
        Freq::Monthly => Schedule {
            freq: Freq::Monthly,
            // the vendor's list spells it both ways
            label: if r.percent(25) { "Monthy" } else { "Monthly" },
            dom: if r.percent(50) { 1 } else { r.between(1, 28) },
            ..Schedule::daily(if r.percent(80) { 1 } else { 3 }, tod, 1439)
        },
        Freq::OneTime => Schedule {
            freq: Freq::OneTime,
            label: "One Time",
            ..Schedule::daily(1, tod, r.pick(&[60, 120]))
        },
    }
}

/// The schedule and runs of a job whose `n` runs fall in lo..=hi (local
/// times): the chosen schedule if they fit, else daily, else hourly, else
/// packed evenly.
pub fn fit_runs(r: &mut Rng, mut sched: Schedule, n: u64, lo: i64, hi: i64) -> (Schedule, Runs) {
    if sched.freq == Freq::OneTime {
        sched.at = if n == 0 {
            // not run yet: due within the next two weeks
            ((NOW + r.between(DAY, 14 * DAY)).div_euclid(DAY)) * DAY + sched.tod
        } else {
            r.between(lo, hi).div_euclid(DAY) * DAY + sched.tod
        };
    }
    if n == 0 {
        return (
            sched,
            Runs::Scheduled {
                first: hi,
                last: hi,
            },
        );
    }
    let candidates = [
        sched,
        Schedule::daily(1, sched.tod, sched.late.min(240)),
        Schedule::hourly(1, sched.tod / MINUTE % 60, sched.late.min(60)),
    ];
    for s in candidates {
        // a fallback with a shorter LateAfter may end later
        if let Some((first, last)) = s.fit(n, lo, hi) {
            return (s, Runs::Scheduled { first, last });
        }
    }
    let hourly = Schedule::hourly(1, 0, sched.late.min(60));
    let spacing = (hi - lo) / n.max(1) as i64;
    (hourly, Runs::Packed { first: lo, spacing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_step_back_and_forth() {
        let weekdays = Schedule {
            freq: Freq::Weekly,
            label: "Weekly",
            days: 0b001_1111,
            ..Schedule::daily(1, 22 * HOUR, 240)
        };
        let monthly = Schedule {
            freq: Freq::Monthly,
            label: "Monthly",
            dom: 15,
            ..Schedule::daily(1, 3 * HOUR, 1439)
        };
        for s in [
            Schedule::hourly(4, 15, 30),
            Schedule::daily(2, 21 * HOUR, 60),
            weekdays,
            monthly,
        ] {
            let last = s.latest(NOW);
            assert!(last <= NOW);
            assert!(s.step(last, true) > NOW, "{s:?}");
            assert_eq!(s.step(s.step(last, false), true), last, "{s:?}");
        }
        let sat = weekdays.latest(days_from_civil(2026, 11, 28) * DAY + 23 * HOUR);
        assert_eq!(sat, days_from_civil(2026, 11, 27) * DAY + 22 * HOUR);
    }
}
