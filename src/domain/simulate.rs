//! Simulated job runs (API.md section 8, `POST /_sandbox/jobs/{JobId}/run`):
//! what the agent on a device would report after running a backup job. A run
//! appends a Log (the job's schedule and the device's notification settings
//! copied), one Log Item per Job Item, the Job Completed/Failed/Missed event,
//! sets the job's LastRanOn, and sends the notification the device asks for.

use std::sync::Arc;

use super::build::RecordBuilder;
use super::engine::{EngineError, WriteCtx, append_event};
use super::mail::Mail;
use super::render;
use super::resources::event_type_id;
use super::rules::{get, iana_zone};
use super::schema::Res;
use super::state::State;
use super::value::Val;
use crate::domain::value::format_timestamp;

/// The outcome of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    Missed,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "Completed" => Some(Outcome::Completed),
            "Failed" => Some(Outcome::Failed),
            "Missed" => Some(Outcome::Missed),
            _ => None,
        }
    }

    /// As `Log.JobStatus` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "Completed",
            Outcome::Failed => "Failed",
            Outcome::Missed => "Missed",
        }
    }

    /// The event type id of a run with this outcome: that of the event
    /// type table's "Job Completed", "Job Failed" or "Job Missed".
    pub fn event(self) -> i64 {
        event_type_id(match self {
            Outcome::Completed => "Job Completed",
            Outcome::Failed => "Job Failed",
            Outcome::Missed => "Job Missed",
        })
    }
}

/// The device's wall-clock time at `utc_ms`, by its Windows time zone id
/// (daylight saving included); UTC for a zone the table does not know.
pub fn local_time(utc_ms: i64, windows_zone: &str) -> i64 {
    let offset_s = iana_zone(windows_zone)
        .and_then(|iana| jiff::tz::TimeZone::get(iana).ok())
        .zip(jiff::Timestamp::from_millisecond(utc_ms).ok())
        .map_or(0, |(tz, ts)| tz.to_offset(ts).seconds());
    utc_ms + i64::from(offset_s) * 1000
}

fn text(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

/// A deterministic pseudo-random number from a seed (sizes that look real
/// without a random source).
fn spread(seed: i64, lo: i64, hi: i64) -> i64 {
    let mut x = seed as u64 ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    lo + (x % (hi - lo + 1) as u64) as i64
}

/// What a run produced: the Log (as `/api/logs/{id}` renders it) and the
/// notification e-mail, if the device asks for one.
pub struct Run {
    pub log_id: i64,
    pub body: Vec<u8>,
    pub mails: Vec<Mail>,
}

/// What a run works from: the job and the device it runs on, and when.
struct Facts {
    job_id: i64,
    job: Arc<[Val]>,
    device_id: i64,
    device: Arc<[Val]>,
    /// The device's CompanyId.
    company: Val,
    /// The device's SubscriptionId and that subscription's PlanId.
    subscription: Val,
    plan: Val,
    outcome: Outcome,
    /// The given ErrorMessages, or the outcome's usual ones.
    messages: Option<String>,
    /// Sandbox-clock time the run ended, UTC (its Log's AddedOn).
    now: i64,
    /// The device's local time when the run started.
    started: i64,
    /// The device's local time when it ended.
    completed: i64,
    /// Whether the device asks for a notification of this outcome.
    notified: bool,
    /// The id the new Log gets.
    log_id: i64,
}

impl Facts {
    fn job(&self, name: &str) -> &Val {
        get(Res::Jobs.info(), &self.job, name)
    }

    fn device(&self, name: &str) -> Val {
        get(Res::Devices.info(), &self.device, name).clone()
    }
}

/// When a run happened: it started at `started_utc` and ended
/// `duration_ms` later (a manual run: now, taking no time).
#[derive(Clone, Copy, Debug)]
pub struct When {
    pub started_utc: i64,
    pub duration_ms: i64,
}

/// Simulates one run of a job, now; a NextRunOn it leaves in the past
/// moves to the job's next occurrence.
pub fn run_job(
    state: &mut State,
    ctx: &WriteCtx,
    job_id: i64,
    outcome: Outcome,
    error_messages: Option<String>,
) -> Result<Run, EngineError> {
    let when = When {
        started_utc: ctx.now_ms,
        duration_ms: 0,
    };
    let (log_id, mails) = write_run(state, job_id, outcome, error_messages, when)?;
    // a NextRunOn now past moves to the next occurrence after the run
    super::schedule::after_manual_run(state, job_id, ctx.now_ms);
    let rec = state
        .get(Res::Logs, log_id)
        .ok_or_else(|| EngineError::NotFound(format!("LogId {log_id}")))?;
    Ok(Run {
        log_id,
        body: render::element_envelope(
            state,
            &ctx.view,
            Res::Logs.info(),
            rec,
            render::Level::Written,
        ),
        mails,
    })
}

/// Writes one run of a job (the one code path of manual and scheduled
/// runs): the Log, its Log Items, the event and LastRanOn; returns the
/// Log's id and the notification e-mail, if any.
pub fn write_run(
    state: &mut State,
    job_id: i64,
    outcome: Outcome,
    error_messages: Option<String>,
    when: When,
) -> Result<(i64, Vec<Mail>), EngineError> {
    let f = facts(state, when, job_id, outcome, error_messages)?;
    write_log(state, &f);
    write_log_items(state, &f);
    record_run(state, &f);
    let mails = notification(&f).into_iter().collect();
    Ok((f.log_id, mails))
}

/// A plausible duration of a scheduled run, from its Log's id: 2 to 40
/// minutes, whole seconds.
pub fn duration_ms(log_id: i64) -> i64 {
    spread(log_id.wrapping_mul(31), 120, 2_400) * 1000
}

/// Looks up the job and its device; 404 without the job, 409 without the device.
fn facts(
    state: &State,
    when: When,
    job_id: i64,
    outcome: Outcome,
    error_messages: Option<String>,
) -> Result<Facts, EngineError> {
    let (jobs, devices, subs) = (
        Res::Jobs.info(),
        Res::Devices.info(),
        Res::Subscriptions.info(),
    );
    let job = state
        .get(Res::Jobs, job_id)
        .ok_or_else(|| EngineError::NotFound(format!("JobId {job_id}")))?
        .vals
        .clone();
    let device_id = get(jobs, &job, "DeviceId").as_int().unwrap_or_default();
    let device = state
        .get(Res::Devices, device_id)
        .ok_or_else(|| {
            EngineError::Conflict(format!(
                "JobId {job_id} names DeviceId {device_id}, which no longer exists."
            ))
        })?
        .vals
        .clone();
    let dget = |n: &str| get(devices, &device, n).clone();
    let subscription = dget("SubscriptionId");
    let plan = subscription
        .as_int()
        .and_then(|s| state.get(Res::Subscriptions, s))
        .map_or(Val::Null, |s| get(subs, &s.vals, "PlanId").clone());
    let zone = text(&dget("TimeZoneId")).unwrap_or_default();
    // every local time it writes is the sandbox clock in the device's zone
    // (API.md section 3); what it stamps in UTC is its end
    let started = local_time(when.started_utc, &zone);
    let completed = local_time(when.started_utc + when.duration_ms, &zone);
    let now = when.started_utc + when.duration_ms;
    let messages = error_messages.or(match outcome {
        Outcome::Completed => None,
        Outcome::Failed => {
            Some("The backup failed: the upload to cloud storage was interrupted.".into())
        }
        Outcome::Missed => Some("The job did not start within its LateAfter window.".into()),
    });
    let notify_flag = format!("SendNotificationOnJob{}", outcome.name());
    let notified = dget(&notify_flag).is_true() && text(&dget("SendNotificationTo")).is_some();
    Ok(Facts {
        company: dget("CompanyId"),
        job_id,
        job,
        device_id,
        device,
        subscription,
        plan,
        outcome,
        messages,
        now,
        started,
        completed,
        notified,
        log_id: state.table(Res::Logs).next_id.max(1),
    })
}

/// The Log of the run: the job's schedule and the device's notification
/// settings copied.
fn write_log(state: &mut State, f: &Facts) {
    let (job_id, device_id) = (f.job_id, f.device_id);
    let completed = (f.outcome != Outcome::Missed).then_some(f.completed);
    let (jobs, devices) = (Res::Jobs.info(), Res::Devices.info());
    let mut log = RecordBuilder::new(Res::Logs);
    log.int("LogId", f.log_id)
        .set("CompanyId", f.company.clone())
        .int("DeviceId", device_id)
        .copy(&["TimeZoneId"], devices, &f.device)
        .set("SubscriptionId", f.subscription.clone())
        .set("PlanId", f.plan.clone())
        .int("JobId", job_id)
        .copy(
            &[
                "Name",
                "Frequency",
                "NextRunOn",
                "LateAfter",
                "ExpireOn",
                "LocalKeepLast",
            ],
            jobs,
            &f.job,
        )
        .fmt(
            "ArchiveFolder",
            format_args!("C:\\ProgramData\\CleverFox Backup\\Archive\\{job_id}"),
        )
        .fmt(
            "UploadFolder",
            format_args!(
                "{}/{device_id}/{job_id}",
                f.company.as_int().unwrap_or_default()
            ),
        )
        .str("JobStartedOn", &format_timestamp(f.started))
        .opt_time("JobCompletedOn", completed)
        .str("JobStatus", f.outcome.name())
        .opt_str("ErrorMessages", f.messages.as_deref())
        .copy(
            &[
                "SendNotificationTo",
                "SendNotificationBcc",
                "SendNotificationCc",
                "SendNotificationOnJobCompleted",
                "SendNotificationOnJobFailed",
                "SendNotificationOnJobMissed",
            ],
            devices,
            &f.device,
        );
    if f.notified {
        log.time(
            &format!("NotificationJob{}ProcessedOn", f.outcome.name()),
            f.now,
        );
    }
    log.time("AddedOn", f.now);
    state.insert(Res::Logs, f.log_id, log.build());
}

/// One Log Item per Job Item of the job.
fn write_log_items(state: &mut State, f: &Facts) {
    let item_ids = state
        .table(Res::JobItems)
        .by_parent
        .get(&f.job_id)
        .cloned()
        .unwrap_or_default();
    let stamp: String = format_timestamp(f.started)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    for item_id in item_ids {
        let Some(item) = state.get(Res::JobItems, item_id).map(|r| r.vals.clone()) else {
            continue;
        };
        let li_id = state.table(Res::LogItems).next_id.max(1);
        let vals = log_item(state, f, &stamp, (item_id, &item), li_id);
        state.insert(Res::LogItems, li_id, vals);
    }
}

/// The Log Item `li_id` of the job item `item_id` (its values `item`);
/// `stamp` is the start time in digits, for the backup file names.
fn log_item(
    state: &State,
    f: &Facts,
    stamp: &str,
    (item_id, item): (i64, &[Val]),
    li_id: i64,
) -> Box<[Val]> {
    let (job_id, outcome) = (f.job_id, f.outcome);
    let items = Res::JobItems.info();
    let engine = get(items, item, "BackupTypeId")
        .as_int()
        .and_then(|b| state.get(Res::BackupTypes, b))
        .map_or(Val::Null, |b| {
            get(Res::BackupTypes.info(), &b.vals, "EngineId").clone()
        });
    let sql = matches!(&engine, Val::Str(e) if e.eq_ignore_ascii_case("MSSQL"));
    let mut li = RecordBuilder::new(Res::LogItems);
    li.int("LogItemId", li_id)
        .int("LogId", f.log_id)
        .int("JobItemId", item_id)
        .set("EngineId", engine)
        .copy(
            &[
                "Name",
                "BaseFolder",
                "IncludeSubFolders",
                "SearchPatterns",
                "ExcludeFolders",
                "ExcludePatterns",
                "NoCompressExtensions",
                "ServerName",
                "DatabaseName",
                "Port",
                "AuthenticationMode",
                "OptionCompress",
                "OptionCopyOnly",
                "OptionLogOnly",
            ],
            items,
            item,
        );
    if outcome != Outcome::Missed {
        li.fmt(
            "BackupFolder",
            format_args!("C:\\ProgramData\\CleverFox Backup\\Backups\\{job_id}"),
        );
        if sql {
            li.str("ServerVersion", "16.0.4125.3")
                .str("ServerEdition", "Standard Edition (64-bit)");
        }
    }
    if outcome == Outcome::Completed {
        let ext = if sql { "bak" } else { "zip" };
        li.fmt(
            "BackupFileName",
            format_args!("{job_id}_{stamp}_{item_id}.{ext}"),
        )
        .int("BackupFileSize", spread(li_id, 100_000, 2_000_000_000));
        if !sql {
            li.fmt(
                "BackupListName",
                format_args!("{job_id}_{stamp}_{item_id}.lst"),
            )
            .int("BackupListSize", spread(li_id + 1, 1_000, 10_000_000))
            .int("BackupListCount", spread(li_id + 2, 1, 200_000));
        }
    }
    li.time("AddedOn", f.now);
    li.build()
}

/// The run's event, the job's LastRanOn, and the change count.
fn record_run(state: &mut State, f: &Facts) {
    let mut names = vec![
        ("JobId", f.job_id),
        ("DeviceId", f.device_id),
        ("LogId", f.log_id),
    ];
    if let Some(c) = f.company.as_int() {
        names.push(("CompanyId", c));
    }
    append_event(state, f.outcome.event(), &names, f.now);
    if let Some(rec) = state.tables[Res::Jobs.index()].rows.get_mut(&f.job_id) {
        let mut job = RecordBuilder::from_vals(Res::Jobs, &rec.vals);
        job.time("LastRanOn", f.started);
        rec.vals = job.build().into();
    }
    state.changes += 1;
}

/// The notification e-mail, if the device asks for one.
fn notification(f: &Facts) -> Option<Mail> {
    if !f.notified {
        return None;
    }
    let job_name = text(f.job("Name")).unwrap_or_default();
    let device_name = text(&f.device("Name")).unwrap_or_default();
    let verb = f.outcome.name().to_lowercase();
    Some(Mail {
        id: 0,
        time_ms: f.now,
        to: text(&f.device("SendNotificationTo")).unwrap_or_default(),
        cc: text(&f.device("SendNotificationCc")),
        bcc: text(&f.device("SendNotificationBcc")),
        subject: format!("CleverFox Backup: job \"{job_name}\" on {device_name} {verb}"),
        body: format!(
            "The backup job \"{job_name}\" on {device_name} {verb}.\r\n\r\nStarted: {}\r\nStatus: {}\r\n{}",
            format_timestamp(f.started),
            f.outcome.name(),
            f.messages
                .as_ref()
                .map(|m| format!("Messages: {m}\r\n"))
                .unwrap_or_default()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::parse_timestamp;

    #[test]
    fn run_events_come_from_the_event_type_table() {
        use crate::domain::resources::event_type;
        for (o, name) in [
            (Outcome::Completed, "Job Completed"),
            (Outcome::Failed, "Job Failed"),
            (Outcome::Missed, "Job Missed"),
        ] {
            assert_eq!(event_type(o.event()), Some(name));
        }
        assert_eq!(Outcome::Completed.event(), 81);
    }

    #[test]
    fn local_time_follows_the_zone_and_daylight_saving() {
        let t = |s| parse_timestamp(s).unwrap();
        // New York: UTC-5 in winter, UTC-4 in summer
        assert_eq!(
            format_timestamp(local_time(
                t("2026-01-15T12:00:00"),
                "Eastern Standard Time"
            )),
            "2026-01-15T07:00:00.000"
        );
        assert_eq!(
            format_timestamp(local_time(
                t("2026-07-15T12:00:00"),
                "Eastern Standard Time"
            )),
            "2026-07-15T08:00:00.000"
        );
        assert_eq!(
            format_timestamp(local_time(
                t("2026-07-15T12:00:00"),
                "W. Europe Standard Time"
            )),
            "2026-07-15T14:00:00.000"
        );
        assert_eq!(local_time(5, "No Such Zone"), 5);
    }
}
