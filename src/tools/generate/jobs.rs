//! Jobs: each job's kind (files, SQL, SQL transaction logs), when it was
//! added and stopped, its schedule fitted to the runs it has on record, its
//! record, its items and events, then its logs.

use super::calendar::{DAY, HOUR, MINUTE, NOW};
use super::devices::{Device, Role};
use super::rng::{Rng, TAG_JOB};
use super::schedule::{Freq, Runs, Schedule, choose_schedule, fit_runs};
use super::vocabulary::{Lang, job_name};
use super::{Gen, GenerateError};
use crate::domain::schema::Res;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Files,
    Sql,
    /// SQL Server transaction log backups (OptionLogOnly).
    SqlLog,
}

/// A job, as its record and its logs need it.
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub name: String,
    pub sched: Schedule,
    pub runs: Runs,
    pub local_keep: i64,
    pub expire: Option<i64>,
}

/// When a job was added, stopped and changed (UTC).
struct Dates {
    added: i64,
    /// A roll of 0..100: below 8 the job was made inactive, below 13 its
    /// IsInactive is null.
    inactive: u64,
    until: Option<i64>,
    updated: Option<i64>,
}

fn kind_of(role: Role, j: u64, r: &mut Rng) -> JobKind {
    match role {
        Role::Sql => match j % 3 {
            0 => JobKind::Sql,
            1 => JobKind::SqlLog,
            _ => JobKind::Files,
        },
        Role::Server | Role::App if r.percent(40) => JobKind::Sql,
        _ => JobKind::Files,
    }
}

/// After the device, before it (or the job) was made inactive.
fn dates(dev: &Device, j: u64, r: &mut Rng) -> Dates {
    let dev_end = dev.until.unwrap_or(NOW);
    let added = (dev.added + r.between(5 * MINUTE, DAY) + j as i64 * r.between(MINUTE, 7 * DAY))
        .min(dev_end - 3 * DAY);
    let inactive = r.below(100);
    let until = if inactive < 8 {
        Some(r.between(added + 2 * DAY, dev_end - DAY))
    } else {
        dev.until
    };
    let updated = if inactive < 8 {
        until
    } else {
        r.percent(10)
            .then(|| r.between(added + HOUR, dev_end - HOUR))
    };
    Dates {
        added,
        inactive,
        until,
        updated,
    }
}

/// (CloudKeepLast, LocalKeepLast) for a schedule.
fn keep_last(freq: Freq, r: &mut Rng) -> (i64, i64) {
    match freq {
        Freq::Hourly => (r.between(48, 168), r.between(12, 48)),
        Freq::Daily => (r.pick(&[7, 14, 30, 30, 60, 90]), r.between(2, 14)),
        Freq::Weekly => (r.pick(&[4, 8, 12, 52]), r.between(1, 4)),
        Freq::Monthly => (r.pick(&[12, 24, 36]), r.between(1, 3)),
        Freq::OneTime => (1, r.between(0, 1)),
    }
}

impl Gen {
    /// Job `j` of a device, its items, its logs and their items.
    pub(super) fn job(
        &mut self,
        dev: &Device,
        lang: Lang,
        code: &str,
        j: u64,
    ) -> Result<(), GenerateError> {
        let id = self.out.next_id(Res::Jobs);
        let mut r = Rng::derive(self.seed, TAG_JOB, id as u64, 0);
        let kind = kind_of(dev.role, j, &mut r);
        let when = dates(dev, j, &mut r);
        self.make_items(dev, lang, code, kind, &mut r);
        let base_sched = choose_schedule(&mut r, kind, self.logs);

        // the runs: the latest shortly before the job stopped (or now)
        let zone = dev.zone;
        let margin = base_sched.late * MINUTE + 3 * HOUR + 5 * MINUTE;
        let lo = self.zones.local(zone, when.added) + 10 * MINUTE;
        let hi = (self.zones.local(zone, when.until.unwrap_or(NOW)) - margin).max(lo);
        let (sched, runs) = fit_runs(&mut r, base_sched, self.logs, lo, hi);
        let label = self.items.first().map_or("files", |i| i.name.as_str());
        let name = job_name(&mut r, lang, kind, sched.freq, label);
        let expire = (sched.freq == Freq::OneTime).then_some(sched.at + DAY);
        let (cloud_keep, local_keep) = keep_last(sched.freq, &mut r);
        let job = Job {
            id,
            kind,
            name,
            sched,
            runs,
            local_keep,
            expire,
        };
        self.job_record(dev, &job, &when, cloud_keep)?;
        let owners = [
            ("JobId", id),
            ("DeviceId", dev.id),
            ("CompanyId", dev.company),
        ];
        self.out.added(Res::Jobs, when.added, &owners)?;
        self.item_records(dev, id, when.added, &mut r)?;
        if let Some(at) = when.updated {
            self.out.modified(Res::Jobs, at, &owners)?;
        }
        self.logs_of(dev, &job)
    }

    /// The started time of the job's latest run, if it ran.
    fn last_ran(&self, job: &Job, zone: usize) -> Option<i64> {
        let (sched, kind) = (&job.sched, job.kind);
        match (self.logs, job.runs) {
            (0, _) => None,
            (n, Runs::Scheduled { last, .. }) => Some(
                self.run(job.id, n - 1, last, kind, sched.late, zone)
                    .started,
            ),
            (n, Runs::Packed { first, spacing }) => {
                let t = first + (n as i64 - 1) * spacing;
                Some(self.run(job.id, n - 1, t, kind, sched.late, zone).started)
            }
        }
    }

    fn job_record(
        &mut self,
        dev: &Device,
        job: &Job,
        when: &Dates,
        cloud_keep: i64,
    ) -> Result<(), GenerateError> {
        let sched = &job.sched;
        let now_local = self.zones.local(dev.zone, NOW);
        let next_run = match sched.freq {
            Freq::OneTime => sched.at,
            _ => sched.step(sched.latest(now_local), true),
        };
        let last_ran = self.last_ran(job, dev.zone);
        let weekly = sched.freq == Freq::Weekly;
        let day = |bit: u32| weekly.then_some((sched.days >> bit) & 1 == 1);
        self.out
            .rec(Res::Jobs)
            .int("JobId", job.id)
            .int("DeviceId", dev.id)
            .str("Name", &job.name)
            .opt_flag(
                "IsInactive",
                match when.inactive {
                    0..8 => Some(true),
                    8..13 => None,
                    _ => Some(false),
                },
            )
            .opt_time("LastRanOn", last_ran)
            .str("Frequency", sched.label)
            .time("NextRunOn", next_run)
            .int("LateAfter", sched.late)
            .int("Every", sched.every)
            .opt_flag("OnMonday", day(0))
            .opt_flag("OnTuesday", day(1))
            .opt_flag("OnWednesday", day(2))
            .opt_flag("OnThursday", day(3))
            .opt_flag("OnFriday", day(4))
            .opt_flag("OnSaturday", day(5))
            .opt_flag("OnSunday", day(6))
            .opt_int(
                "DayOfMonth",
                (sched.freq == Freq::Monthly).then_some(sched.dom),
            )
            .opt_time("ExpireOn", job.expire)
            .int("CloudKeepLast", cloud_keep)
            .int("LocalKeepLast", job.local_keep)
            .time("AddedOn", when.added)
            .opt_time("UpdatedOn", when.updated);
        self.out.emit(Res::Jobs).map(|_| ())
    }
}
