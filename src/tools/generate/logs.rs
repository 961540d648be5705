//! The runs of a job, each derived from (seed, JobId, run number) alone so
//! that the job's `LastRanOn` and its latest log agree without keeping the
//! runs: one Log per run with the job's schedule and the device's
//! notification settings copied, one Log Item per job item, and the outcome
//! event of the latest run. Outcomes are the simulation's own
//! ([`Outcome`]), as `POST /_sandbox/jobs/{JobId}/run` writes them.

use std::fmt::Write as _;

use super::calendar::{MINUTE, SECOND, compact_stamp};
use super::devices::Device;
use super::jobs::{Job, JobKind};
use super::rng::{Rng, TAG_LOG_ITEM, TAG_RUN};
use super::schedule::Runs;
use super::{Gen, GenerateError};
use crate::domain::schema::Res;
use crate::domain::simulate::Outcome;
use crate::domain::value::Val;
use crate::domain::value::{format_timestamp, write_timestamp};

/// One run of a job, derived from (seed, JobId, run number) alone, so that
/// the job's `LastRanOn` and its latest log agree without keeping the runs.
pub struct Run {
    pub status: Outcome,
    /// Local times.
    pub started: i64,
    pub completed: Option<i64>,
    /// UTC.
    pub added: i64,
    /// The rest of the run's stream (error message choice).
    pub r: Rng,
}

impl Gen {
    pub(super) fn run(
        &self,
        job: i64,
        k: u64,
        sched: i64,
        kind: JobKind,
        late: i64,
        zone: usize,
    ) -> Run {
        let mut r = Rng::derive(self.seed, TAG_RUN, job as u64, k);
        let status = match r.below(100) {
            0..70 => Outcome::Completed,
            70..90 => Outcome::Failed,
            _ => Outcome::Missed,
        };
        if status == Outcome::Missed {
            let noticed = self.zones.utc(zone, sched + late * MINUTE);
            return Run {
                status,
                started: sched,
                completed: None,
                added: noticed + r.between(5 * SECOND, 60 * SECOND) + r.ms(),
                r,
            };
        }
        let started = sched + r.between(1, 25) * SECOND + r.ms();
        let mut seconds = match kind {
            JobKind::Files => r.between(120, 7200),
            JobKind::Sql => r.between(30, 3600),
            JobKind::SqlLog => r.between(5, 90),
        };
        if status == Outcome::Failed {
            seconds = r.between(3, seconds);
        }
        let completed = started + seconds * SECOND;
        Run {
            status,
            started,
            completed: Some(completed),
            added: self.zones.utc(zone, completed) + r.between(100, 999),
            r,
        }
    }

    /// The job's logs, one log item per job item each, and an outcome event
    /// for the latest.
    pub(super) fn logs_of(&mut self, dev: &Device, job: &Job) -> Result<(), GenerateError> {
        let (mut t, spacing) = match job.runs {
            Runs::Scheduled { first, .. } => (first, None),
            Runs::Packed { first, spacing } => (first, Some(spacing)),
        };
        let sched = &job.sched;
        for k in 0..self.logs {
            let next = spacing.map_or_else(|| sched.step(t, true), |s| t + s);
            let mut run = self.run(job.id, k, t, job.kind, sched.late, dev.zone);
            let log_id = self.out.next_id(Res::Logs);
            self.log_record(dev, job, log_id, t, next, &mut run)?;
            self.log_items(dev, job, log_id, &run)?;
            if k + 1 == self.logs {
                self.out.event(
                    run.status.event(),
                    run.added,
                    &[
                        ("LogId", log_id),
                        ("JobId", job.id),
                        ("DeviceId", dev.id),
                        ("CompanyId", dev.company),
                    ],
                )?;
            }
            t = next;
        }
        Ok(())
    }

    /// The Log of one run.
    fn log_record(
        &mut self,
        dev: &Device,
        job: &Job,
        log_id: i64,
        t: i64,
        next: i64,
        run: &mut Run,
    ) -> Result<(), GenerateError> {
        let sched = &job.sched;
        let notify = match run.status {
            Outcome::Completed => dev.on_completed,
            Outcome::Failed => dev.on_failed,
            Outcome::Missed => dev.on_missed,
        };
        let processed = notify.then(|| run.added + run.r.between(20 * SECOND, 150 * SECOND));
        let errors = self.error_message(job, run, t);
        let when = |s: Outcome| processed.filter(|_| run.status == s);
        let o = &mut self.out;
        let r = o.rec(Res::Logs);
        r.int("LogId", log_id)
            .int("CompanyId", dev.company)
            .int("DeviceId", dev.id)
            .str("TimeZoneId", self.zones.name(dev.zone))
            .int("SubscriptionId", dev.subscription)
            .int("PlanId", dev.plan)
            .int("JobId", job.id)
            .str("Name", &job.name)
            .fmt(
                "ArchiveFolder",
                format_args!("C:\\ProgramData\\CleverFox Backup\\Archive\\{}", job.id),
            )
            .fmt(
                "UploadFolder",
                format_args!("{}/{}/{}", dev.company, dev.id, job.id),
            )
            .str("Frequency", sched.label)
            .time("NextRunOn", next)
            .int("LateAfter", sched.late)
            .opt_time("ExpireOn", job.expire)
            .int("LocalKeepLast", job.local_keep)
            .str("JobStartedOn", &format_timestamp(run.started))
            .opt_time("JobCompletedOn", run.completed)
            .str("JobStatus", run.status.name())
            .opt_str("ErrorMessages", errors.as_deref());
        dev.notifications(r)
            .opt_time(
                "NotificationJobCompletedProcessedOn",
                when(Outcome::Completed),
            )
            .opt_time("NotificationJobFailedProcessedOn", when(Outcome::Failed))
            .opt_time("NotificationJobMissedProcessedOn", when(Outcome::Missed))
            .time("AddedOn", run.added);
        o.emit(Res::Logs).map(|_| ())
    }

    fn error_message(&self, job: &Job, run: &mut Run, sched: i64) -> Option<String> {
        let first = self.items.first()?;
        match run.status {
            Outcome::Completed => None,
            Outcome::Missed => {
                let mut when = String::new();
                write_timestamp(&mut when, sched);
                let when = when.get(..16).unwrap_or_default().replacen('T', " ", 1);
                Some(format!(
                    "The job did not start within {} minutes of its scheduled time ({when}).",
                    job.sched.late
                ))
            }
            Outcome::Failed => {
                let r = &mut run.r;
                let folder = format!("C:\\ProgramData\\CleverFox Backup\\Backups\\{}", job.id);
                let mut msg = if first.sql {
                    let db = &first.name;
                    match r.below(if job.kind == JobKind::SqlLog { 6 } else { 5 }) {
                        0 => "Login failed for user 'NT AUTHORITY\\SYSTEM'. (Microsoft SQL Server, Error: 18456)".to_string(),
                        1 => format!(
                            "{db}: BACKUP DATABASE is terminating abnormally. Write on \"{folder}\\{db}.bak\" failed: 112 (There is not enough space on the disk.)"
                        ),
                        2 => format!(
                            "{db}: Cannot open database \"{db}\" requested by the login. The login failed. (Microsoft SQL Server, Error: 4060)"
                        ),
                        3 => "A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible. (provider: SQL Network Interfaces, error: 26)".to_string(),
                        4 => format!(
                            "{db}: Upload to cloud storage failed after 3 retries: The remote server returned an error: (503) Server Unavailable."
                        ),
                        _ => format!(
                            "{db}: BACKUP LOG cannot be performed because there is no current database backup. (Microsoft SQL Server, Error: 4214)"
                        ),
                    }
                } else {
                    let base = first.base.as_deref().unwrap_or("C:\\");
                    match r.below(6) {
                        0 => format!(
                            "{base}\\{}: The process cannot access the file because it is being used by another process.",
                            r.pick(&["Outlook.pst", "Database.accdb", "~$Budget.xlsx", "Company.qbw"])
                        ),
                        1 => format!("Access to the path '{base}' is denied."),
                        2 => format!("There is not enough space on the disk. ({folder})"),
                        3 => "Upload to cloud storage failed after 3 retries: The remote server returned an error: (503) Server Unavailable.".to_string(),
                        4 => format!("The network path was not found. ({base})"),
                        _ => format!("Could not find a part of the path '{base}'."),
                    }
                };
                for other in self.items.iter().skip(1) {
                    let _ = write!(
                        msg,
                        "\r\n{}: skipped because a previous item failed.",
                        other.name
                    );
                }
                Some(msg)
            }
        }
    }

    fn log_items(
        &mut self,
        dev: &Device,
        job: &Job,
        log_id: i64,
        run: &Run,
    ) -> Result<(), GenerateError> {
        let mut stamp = String::new();
        compact_stamp(run.started, &mut stamp);
        for (n, item) in self.items.iter().enumerate() {
            let li = self.out.next_id(Res::LogItems);
            let mut r = Rng::derive(self.seed, TAG_LOG_ITEM, li as u64, 0);
            let ran = run.status != Outcome::Missed;
            let done = run.status == Outcome::Completed;
            let (version, edition) = if item.sql && ran {
                (Some(dev.sql_version.0), Some(dev.sql_version.1))
            } else {
                (None, None)
            };
            let engine = if item.sql {
                &self.reference.sql.engine
            } else {
                &self.reference.file.engine
            };
            let rec = self.out.rec(Res::LogItems);
            rec.int("LogItemId", li)
                .int("LogId", log_id)
                .int("JobItemId", item.id)
                .set("EngineId", Val::Str(engine.clone()));
            item.fill(rec);
            rec.opt_str("ServerVersion", version)
                .opt_str("ServerEdition", edition);
            if ran {
                rec.fmt(
                    "BackupFolder",
                    format_args!("C:\\ProgramData\\CleverFox Backup\\Backups\\{}", job.id),
                );
            }
            if done && item.sql {
                let log = job.kind == JobKind::SqlLog;
                rec.fmt(
                    "BackupFileName",
                    format_args!("{}_{stamp}.{}", item.name, if log { "trn" } else { "bak" }),
                )
                .int(
                    "BackupFileSize",
                    if log {
                        r.between(100_000, 250_000_000)
                    } else {
                        r.between(20_000_000, 8_000_000_000)
                    },
                );
            } else if done {
                let scale = [1, 10, 100, 1000][r.below(4) as usize];
                rec.fmt("BackupFileName", format_args!("{}_{stamp}.zip", item.id))
                    .int("BackupFileSize", r.between(1_000_000, 15_000_000) * scale)
                    .fmt("BackupListName", format_args!("{}_{stamp}.lst", item.id))
                    .int("BackupListSize", r.between(10_000, 20_000_000))
                    .int("BackupListCount", r.between(20, 400_000));
            }
            rec.time("AddedOn", run.added + n as i64);
            self.out.emit(Res::LogItems)?;
        }
        Ok(())
    }
}
