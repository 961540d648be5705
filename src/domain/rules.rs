//! The named rules the resource tables point to, for what no attribute flag
//! can state: conditional requirements, the device limit, the job item rules
//! by engine type, values generated on create, and values computed when a
//! record is read. Each is a small function over one record.

use std::collections::HashMap;

use super::build::{self, RecordBuilder};
use super::mail::Mail;
use super::schema::{Res, ResourceInfo};
use super::state::State;
use super::validate::Problem;
use super::value::Val;

/// What a cross-attribute check sees: the record as it would be stored.
pub struct CheckCtx<'a> {
    pub state: &'a State,
    pub info: &'static ResourceInfo,
    /// The record after the change (the merged record on update).
    pub vals: &'a [Val],
    /// The record before the change, on update.
    pub old: Option<&'a [Val]>,
    /// The record's id (the id it will get, on create).
    pub id: i64,
    /// Attributes whose sent value was already refused (type, length): a
    /// rule must not call them missing as well.
    pub refused: &'a [&'static str],
}

impl CheckCtx<'_> {
    pub fn get(&self, name: &str) -> &Val {
        get(self.info, self.vals, name)
    }

    /// The attribute has no usable value and none was refused: it is missing.
    fn missing(&self, name: &str) -> bool {
        text(self.get(name)).is_none() && !self.refused.contains(&name)
    }
}

/// A rule across attributes or records; returns every problem it finds.
pub type Check = fn(&CheckCtx) -> Vec<Problem>;

/// What a create hook may fill in.
pub struct CreateCtx<'a> {
    pub state: &'a State,
    /// The record as validated, with its id and AddedOn.
    pub rec: &'a mut RecordBuilder,
    pub now_ms: i64,
    /// E-mails the create sends (user invitations).
    pub mails: &'a mut Vec<Mail>,
}

impl CreateCtx<'_> {
    fn get(&self, name: &str) -> &Val {
        self.rec.get(name)
    }
}

pub type OnCreate = fn(&mut CreateCtx);

/// What a read-time view needs.
#[derive(Clone, Copy, Debug)]
pub struct ViewCtx {
    pub now_ms: i64,
    pub agent_delay_ms: i64,
    /// Where rendered record fragments are remembered (none: render each).
    pub fragments: Option<&'static dyn crate::domain::render::Fragments>,
}

/// Computes values at read time; `None` when the stored values stand.
pub type View = fn(&ResourceInfo, &[Val], &ViewCtx) -> Option<Box<[Val]>>;

/// The value of attribute `name` of a stored record.
///
/// # Panics
///
/// When the table has no stored attribute `name` (a bug in the caller, whose
/// names are literals or table data; see `build`).
pub fn get<'a>(info: &ResourceInfo, vals: &'a [Val], name: &str) -> &'a Val {
    &vals[build::slot(info, name)]
}

fn text(v: &Val) -> Option<&str> {
    match v {
        Val::Str(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    }
}

// ------------------------------------------------------------------ value rules

/// Whether `s` looks like one e-mail address.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c))
        && !domain.contains('@')
}

/// The addresses of an address list (separated by `,` `;` `:` or CR LF),
/// or the first item that is not an address.
pub fn email_list(s: &str) -> Result<Vec<&str>, String> {
    let items: Vec<&str> = s
        .split([',', ';', ':', '\n'])
        .map(|i| i.trim_matches(|c: char| c == '\r' || c == ' ' || c == '\t'))
        .filter(|i| !i.is_empty())
        .collect();
    if items.is_empty() {
        return Err("holds no e-mail address".into());
    }
    match items.iter().find(|i| !is_email(i)) {
        Some(bad) => Err(format!("holds '{bad}', which is not an e-mail address")),
        None => Ok(items),
    }
}

/// The Windows time zone ids `TimeZoneId` accepts, with their IANA zones.
pub fn time_zones() -> impl Iterator<Item = (&'static str, &'static str)> {
    include_str!("timezones.txt").lines().filter_map(|l| {
        let (win, iana) = l.split_once('\t').unwrap_or((l, ""));
        (!win.trim().is_empty()).then_some((win, iana))
    })
}

/// The IANA zone of a Windows time zone id `TimeZoneId` accepts (a lookup:
/// validation and every scheduled run ask it).
pub fn iana_zone(windows: &str) -> Option<&'static str> {
    static BY_WINDOWS: std::sync::LazyLock<HashMap<&str, &str>> =
        std::sync::LazyLock::new(|| time_zones().collect());
    BY_WINDOWS.get(windows).copied()
}

pub fn is_time_zone(s: &str) -> bool {
    iana_zone(s).is_some()
}

// ------------------------------------------------------------------ checks

/// SendNotificationTo is required while any of `flags` is true.
fn notification_target(ctx: &CheckCtx, flags: &[&str]) -> Vec<Problem> {
    let on: Vec<&str> = flags
        .iter()
        .copied()
        .filter(|f| ctx.get(f).is_true())
        .collect();
    if !on.is_empty() && ctx.missing("SendNotificationTo") {
        return vec![Problem::of(
            "SendNotificationTo",
            format!(
                "SendNotificationTo is required while {} is true.",
                on.join(" and ")
            ),
        )];
    }
    Vec::new()
}

/// The flags that make a device's SendNotificationTo required.
pub const DEVICE_NOTIFICATION_FLAGS: &[&str] = &[
    "SendNotificationOnJobCompleted",
    "SendNotificationOnJobFailed",
    "SendNotificationOnJobMissed",
];

/// The flag that makes a subscription's SendNotificationTo required.
pub const SUBSCRIPTION_NOTIFICATION_FLAGS: &[&str] = &["SendNotificationOnStorageLimit"];

/// The flags any of which, when true, make `SendNotificationTo` required
/// in a record of `res` (none for other collections): what the published
/// schema states of [`device_notifications`] and [`subscription_notifications`].
pub fn notification_flags(res: Res) -> &'static [&'static str] {
    match res {
        Res::Devices => DEVICE_NOTIFICATION_FLAGS,
        Res::Subscriptions => SUBSCRIPTION_NOTIFICATION_FLAGS,
        _ => &[],
    }
}

pub fn device_notifications(ctx: &CheckCtx) -> Vec<Problem> {
    notification_target(ctx, DEVICE_NOTIFICATION_FLAGS)
}

pub fn subscription_notifications(ctx: &CheckCtx) -> Vec<Problem> {
    notification_target(ctx, SUBSCRIPTION_NOTIFICATION_FLAGS)
}

/// The active devices of a subscription may number at most the plan's
/// DeviceLimit plus the subscription's AdditionalDevice. Checked when a
/// device becomes active: on create, or when a PUT re-activates it.
pub fn device_limit(ctx: &CheckCtx) -> Vec<Problem> {
    let active = |v: &Val| !v.is_true();
    if !active(ctx.get("IsInactive")) {
        return Vec::new();
    }
    if let Some(old) = ctx.old
        && active(get(ctx.info, old, "IsInactive"))
    {
        return Vec::new(); // already active: the limit counted it
    }
    let Some(sub_id) = ctx.get("SubscriptionId").as_int() else {
        return Vec::new();
    };
    let Some(sub) = ctx.state.get(Res::Subscriptions, sub_id) else {
        return Vec::new(); // reported as a reference problem
    };
    let subs = Res::Subscriptions.info();
    let Some(plan) = get(subs, &sub.vals, "PlanId")
        .as_int()
        .and_then(|p| ctx.state.get(Res::Plans, p))
    else {
        return Vec::new();
    };
    let Some(limit) = get(Res::Plans.info(), &plan.vals, "DeviceLimit").as_int() else {
        return Vec::new(); // no stated limit
    };
    let extra = get(subs, &sub.vals, "AdditionalDevice")
        .as_int()
        .unwrap_or(0);
    let devices = ctx.state.table(Res::Devices);
    let (sub_slot, inactive_slot) = (
        build::slot(ctx.info, "SubscriptionId"),
        build::slot(ctx.info, "IsInactive"),
    );
    let count = devices
        .by_owner
        .get(&sub.owner)
        .into_iter()
        .flatten()
        .filter(|&&id| id != ctx.id)
        .filter_map(|id| devices.rows.get(id))
        .filter(|d| d.vals[sub_slot] == Val::Int(sub_id))
        .filter(|d| !d.vals[inactive_slot].is_true())
        .count() as i64;
    if count + 1 > limit + extra {
        return vec![Problem::of(
            "SubscriptionId",
            format!(
                "SubscriptionId {sub_id} has reached its device limit: {count} active device(s) of {} allowed \
                 (the plan's DeviceLimit {limit} plus AdditionalDevice {extra}).",
                limit + extra
            ),
        )];
    }
    Vec::new()
}

/// The job item rules by the backup type's EngineType (compared ignoring
/// case): File and Folder need BaseFolder and SearchPatterns; SQLServer needs
/// ServerName, DatabaseName and AuthenticationMode; mode S needs Username
/// and Password.
pub fn job_item_engine(ctx: &CheckCtx) -> Vec<Problem> {
    let Some(bt) = ctx
        .get("BackupTypeId")
        .as_int()
        .and_then(|id| ctx.state.get(Res::BackupTypes, id))
    else {
        return Vec::new();
    };
    let engine = match get(Res::BackupTypes.info(), &bt.vals, "EngineType") {
        Val::Str(s) => s.to_ascii_lowercase(),
        _ => String::new(),
    };
    let needs: &[&str] = match engine.as_str() {
        "file" | "folder" => &["BaseFolder", "SearchPatterns"],
        "sqlserver" => &["ServerName", "DatabaseName", "AuthenticationMode"],
        _ => &[],
    };
    let mut out: Vec<Problem> = needs
        .iter()
        .filter(|a| ctx.missing(a))
        .map(|&a| {
            Problem::of(
                a,
                format!(
                    "{a} is required for a job item of EngineType {engine_name}.",
                    engine_name = display(&bt.vals)
                ),
            )
        })
        .collect();
    if engine == "sqlserver" && matches!(ctx.get("AuthenticationMode"), Val::Str(m) if &**m == "S")
    {
        for a in ["Username", "Password"] {
            if ctx.missing(a) {
                out.push(Problem::of(
                    a,
                    format!(
                        "{a} is required when AuthenticationMode is S (SQL Server authentication)."
                    ),
                ));
            }
        }
    }
    out
}

fn display(backup_type: &[Val]) -> String {
    match get(Res::BackupTypes.info(), backup_type, "EngineType") {
        Val::Str(s) => s.to_string(),
        _ => "?".into(),
    }
}

// ------------------------------------------------------------------ generated values

fn name_of(state: &State, res: Res, id: Option<i64>) -> String {
    id.and_then(|id| state.get(res, id))
        .and_then(|r| match get(res.info(), &r.vals, "Name") {
            Val::Str(s) => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

fn invitation(ctx: &CreateCtx, inviter: String) -> Option<Mail> {
    let Val::Str(to) = ctx.get("Email") else {
        return None;
    };
    let first = match ctx.get("FirstName") {
        Val::Str(s) => s.to_string(),
        _ => String::new(),
    };
    Some(Mail {
        id: 0,
        time_ms: ctx.now_ms,
        to: to.to_string(),
        cc: None,
        bcc: None,
        subject: "You are invited to CleverFox Backup".into(),
        body: format!(
            "Hello {first},\r\n\r\n{inviter} has invited you to CleverFox Backup. \
             Follow the link in this e-mail to set your password and sign in.\r\n\r\nThe CleverFox Backup team"
        ),
    })
}

pub fn new_partner_user(ctx: &mut CreateCtx) {
    ctx.rec.flag("IsAccountOwner", false);
    let partner = name_of(ctx.state, Res::Partners, ctx.get("PartnerId").as_int());
    if let Some(m) = invitation(ctx, partner) {
        ctx.mails.push(m);
    }
}

/// A company's first user is its account owner.
pub fn new_company_user(ctx: &mut CreateCtx) {
    let company = ctx.get("CompanyId").as_int();
    let users = ctx.state.table(Res::CompanyUsers);
    let slot = build::slot(ctx.rec.info(), "CompanyId");
    let first = company
        .and_then(|c| ctx.state.get(Res::Companies, c))
        .is_some_and(|c| {
            !users
                .by_owner
                .get(&c.owner)
                .into_iter()
                .flatten()
                .filter_map(|id| users.rows.get(id))
                .any(|u| u.vals[slot] == Val::Int(company.unwrap_or_default()))
        });
    ctx.rec.flag("IsAccountOwner", first);
    let name = name_of(ctx.state, Res::Companies, company);
    if let Some(m) = invitation(ctx, name) {
        ctx.mails.push(m);
    }
}

/// One calendar month after `ms` (the day clamped to the month's length).
pub fn add_month(ms: i64) -> i64 {
    use crate::domain::value::{format_timestamp, parse_timestamp};
    let s = format_timestamp(ms);
    let (y, m, d): (i64, i64, i64) = (
        s[0..4].parse().unwrap_or(1970),
        s[5..7].parse().unwrap_or(1),
        s[8..10].parse().unwrap_or(1),
    );
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let mut day = d;
    loop {
        if let Ok(v) = parse_timestamp(&format!("{ny:04}-{nm:02}-{day:02}{}", &s[10..])) {
            return v;
        }
        if day <= 28 {
            break;
        }
        day -= 1;
    }
    ms + 30 * 86_400_000
}

pub fn new_subscription(ctx: &mut CreateCtx) {
    ctx.rec
        .flag("IsInactive", false)
        .str("Status", "Active")
        .time("PeriodStart", ctx.now_ms)
        .time("PeriodEnd", add_month(ctx.now_ms))
        .int("AdditionalDevice", 0);
}

/// The installer every new device starts with.
pub const GENERIC_AGENT_URL: &str = "https://cleverfoxbackup.com/download/CleverFoxBackupSetup.exe";

/// The device's own installer, once the agent delay has passed.
pub fn own_agent_url(api_key: &str) -> String {
    format!("https://cleverfoxbackup.com/download/{api_key}/CleverFoxBackupSetup.exe")
}

/// 32 lowercase hex digits from the system's random source.
pub fn new_api_key() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // Never expected; a time-derived key keeps the sandbox serving.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn new_device(ctx: &mut CreateCtx) {
    ctx.rec
        .str("ApiKey", &new_api_key())
        .str("AgentDownloadUrl", GENERIC_AGENT_URL)
        .set("LastAgentDownloadCreated", Val::Null);
}

/// A device's installer URL switches from the generic one to its own once
/// the agent delay has passed since it was added (on the sandbox clock);
/// LastAgentDownloadCreated is set at that moment. Computed when read.
pub fn device_agent_url(info: &ResourceInfo, vals: &[Val], ctx: &ViewCtx) -> Option<Box<[Val]>> {
    // looked up once: this runs on every read of a device
    static SLOTS: std::sync::LazyLock<[usize; 4]> = std::sync::LazyLock::new(|| {
        let info = Res::Devices.info();
        [
            "AgentDownloadUrl",
            "LastAgentDownloadCreated",
            "AddedOn",
            "ApiKey",
        ]
        .map(|name| build::slot(info, name))
    });
    debug_assert_eq!(info.res(), Res::Devices);
    let [url, created, added, key] = *SLOTS;
    let generic = matches!(&vals[url], Val::Str(u) if &**u == GENERIC_AGENT_URL);
    if !generic || vals[created] != Val::Null {
        return None;
    }
    let (Val::Time(added), Val::Str(key)) = (&vals[added], &vals[key]) else {
        return None;
    };
    let ready = added + ctx.agent_delay_ms;
    if ctx.now_ms < ready {
        return None;
    }
    let mut out = RecordBuilder::from_vals(info.res(), vals);
    out.str("AgentDownloadUrl", &own_agent_url(key))
        .time("LastAgentDownloadCreated", ready);
    Some(out.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::{format_timestamp, parse_timestamp};

    #[test]
    fn email_addresses_and_lists() {
        assert!(is_email("a.b@example.com"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a b@c.com",
            "a@b.com;c@d.com",
            "a@.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert_eq!(
            email_list("a@b.com, c@d.org;e@f.net:g@h.io\r\ni@j.com")
                .unwrap()
                .len(),
            5
        );
        assert!(email_list("a@b.com;nope").unwrap_err().contains("nope"));
        assert!(email_list(" ; ").is_err());
    }

    #[test]
    fn time_zone_list_is_the_reference_list() {
        assert!(is_time_zone("Eastern Standard Time"));
        assert!(is_time_zone("W. Europe Standard Time"));
        assert!(!is_time_zone("Europe/Berlin"));
        assert!(time_zones().count() > 100);
    }

    #[test]
    fn a_month_later_clamps_the_day() {
        let t = |s| parse_timestamp(s).unwrap();
        assert_eq!(
            format_timestamp(add_month(t("2026-01-31T10:00:00.123"))),
            "2026-02-28T10:00:00.123"
        );
        assert_eq!(
            format_timestamp(add_month(t("2024-01-31T00:00:00.000"))),
            "2024-02-29T00:00:00.000"
        );
        assert_eq!(
            format_timestamp(add_month(t("2026-12-15T08:00:00.000"))),
            "2027-01-15T08:00:00.000"
        );
    }
}
