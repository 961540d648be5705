//! Devices: each device's role (server, SQL server, file server, laptop …),
//! name, time zone, notification settings and SQL Server instance, its
//! record and events, and what its jobs and logs need of it.

use super::calendar::{DAY, HOUR, MINUTE, NOW, SECOND};
use super::naming::person;
use super::partners::PartnerProfile;
use super::rng::{Rng, TAG_DEVICE};
use super::vocabulary::{Locale, SQL_VERSIONS, TRAVEL_ZONES};
use super::{Gen, GenerateError};
use crate::domain::build::RecordBuilder;
use crate::domain::rules;
use crate::domain::schema::Res;

/// What a device is made from.
pub struct DeviceCtx<'a> {
    pub company: i64,
    /// The device's index within its company.
    pub k: u64,
    pub subscription: i64,
    pub plan: i64,
    pub added: i64,
    pub company_until: Option<i64>,
    /// The company's own time zone.
    pub zone: usize,
    pub code: &'a str,
    pub domain: &'a str,
    pub owner_email: &'a str,
    pub partner: &'a PartnerProfile,
    pub locale: &'static Locale,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Server,
    DomainController,
    Sql,
    FileServer,
    App,
    Workstation,
    Laptop,
}

impl Role {
    /// The first device of a company is a server of some kind.
    fn pick(r: &mut Rng, first: bool) -> Role {
        if first {
            return match r.below(100) {
                0..40 => Role::Server,
                40..75 => Role::Sql,
                _ => Role::FileServer,
            };
        }
        match r.below(100) {
            0..40 => Role::Workstation,
            40..65 => Role::Laptop,
            65..75 => Role::Server,
            75..85 => Role::Sql,
            85..92 => Role::FileServer,
            92..96 => Role::DomainController,
            _ => Role::App,
        }
    }

    /// In device names: `GLD-SQL02`.
    fn code(self) -> &'static str {
        match self {
            Role::Server => "SRV",
            Role::DomainController => "DC",
            Role::Sql => "SQL",
            Role::FileServer => "FS",
            Role::App => "APP",
            Role::Workstation => "WS",
            Role::Laptop => "LT",
        }
    }
}

/// What a device's jobs and logs need of it.
pub struct Device {
    pub id: i64,
    pub company: i64,
    pub subscription: i64,
    pub plan: i64,
    pub zone: usize,
    pub role: Role,
    pub login: String,
    pub to: Option<String>,
    pub bcc: Option<String>,
    pub cc: Option<String>,
    pub on_completed: bool,
    pub on_failed: bool,
    pub on_missed: bool,
    pub added: i64,
    /// When it was made inactive (UTC), if it was.
    pub until: Option<i64>,
    pub sql_server: String,
    pub sql_port: Option<i64>,
    pub sql_version: (&'static str, &'static str),
}

impl Device {
    /// Sets the device's notification settings, which its record and the
    /// logs of its runs both hold.
    pub fn notifications<'b>(&self, b: &'b mut RecordBuilder) -> &'b mut RecordBuilder {
        b.opt_str("SendNotificationTo", self.to.as_deref())
            .opt_str("SendNotificationBcc", self.bcc.as_deref())
            .opt_str("SendNotificationCc", self.cc.as_deref())
            .flag("SendNotificationOnJobCompleted", self.on_completed)
            .flag("SendNotificationOnJobFailed", self.on_failed)
            .flag("SendNotificationOnJobMissed", self.on_missed)
    }
}

/// What only the device record holds.
struct Extra {
    name: String,
    inactive: bool,
    updated: Option<i64>,
    key: String,
    /// UTC.
    last_check: i64,
}

impl Gen {
    /// The next device of a company, its record and its events.
    pub(super) fn device(&mut self, ctx: &DeviceCtx) -> Result<Device, GenerateError> {
        let id = self.out.next_id(Res::Devices);
        let mut r = Rng::derive(self.seed, TAG_DEVICE, id as u64, 0);
        let role = Role::pick(&mut r, ctx.k == 0);
        let mut taken = Vec::new();
        let user = person(&mut r, ctx.locale, ctx.domain, &mut taken);
        let name = if role == Role::Laptop {
            format!("{}-LT-{}", ctx.code, user.login.to_ascii_uppercase())
        } else {
            format!("{}-{}{:02}", ctx.code, role.code(), ctx.k + 1)
        };
        // mostly the site's zone; some machines run elsewhere (or are set
        // wrong), now and then in any zone of the list
        let zone = match r.below(100) {
            0..88 => ctx.zone,
            88..98 => self.zones.find(r.pick(TRAVEL_ZONES)),
            _ => r.below(self.zones.list.len() as u64) as usize,
        };
        let inactive = ctx.company_until.is_some() || r.percent(3);
        let until = ctx
            .company_until
            .or_else(|| inactive.then(|| r.between(ctx.added + 40 * DAY, NOW - 2 * DAY)));
        let updated = until.or_else(|| {
            r.percent(15)
                .then(|| r.between(ctx.added + DAY, NOW - HOUR))
        });
        let (on_completed, on_failed, on_missed) = (r.percent(15), r.percent(75), r.percent(55));
        let to = (on_completed || on_failed || on_missed).then(|| match r.below(4) {
            0 => format!("it@{}", ctx.domain),
            1 => ctx.owner_email.to_string(),
            2 => format!("backup-alerts@{}", ctx.partner.domain),
            _ => format!("it@{};alerts@{}", ctx.domain, ctx.partner.domain),
        });
        let bcc =
            (to.is_some() && r.percent(25)).then(|| format!("monitoring@{}", ctx.partner.domain));
        let cc = (to.is_some() && r.percent(15)).then(|| ctx.owner_email.to_string());
        let key = format!("{:016x}{:016x}", r.next(), r.next());
        let last_check = match until {
            Some(u) => u - r.between(MINUTE, 2 * HOUR),
            None => NOW - r.between(5 * SECOND, 20 * MINUTE),
        };
        let (sql_server, sql_version, sql_port) = sql_instance(&mut r, &name);
        let dev = Device {
            id,
            company: ctx.company,
            subscription: ctx.subscription,
            plan: ctx.plan,
            zone,
            role,
            login: user.login,
            to,
            bcc,
            cc,
            on_completed,
            on_failed,
            on_missed,
            added: ctx.added,
            until,
            sql_server,
            sql_port,
            sql_version,
        };
        let extra = Extra {
            name,
            inactive,
            updated,
            key,
            last_check,
        };
        self.device_record(ctx, &dev, &extra, &mut r)?;
        Ok(dev)
    }

    fn device_record(
        &mut self,
        ctx: &DeviceCtx,
        dev: &Device,
        extra: &Extra,
        r: &mut Rng,
    ) -> Result<(), GenerateError> {
        let (id, zone) = (dev.id, dev.zone);
        let o = &mut self.out;
        let rec = o.rec(Res::Devices);
        rec.int("DeviceId", id)
            .int("CompanyId", ctx.company)
            .int("SubscriptionId", ctx.subscription)
            .str("Name", &extra.name)
            .str("TimeZoneId", self.zones.name(zone))
            .opt_str("ApplicationId", ctx.partner.app.filter(|_| r.percent(50)))
            .opt_str(
                "ExternalId",
                r.percent(40).then(|| format!("ASSET-{id:07}")).as_deref(),
            )
            .opt_flag(
                "IsInactive",
                if extra.inactive {
                    Some(true)
                } else {
                    (!r.percent(3)).then_some(false)
                },
            )
            .str("ApiKey", &extra.key)
            .time("LastApiCheckAt", self.zones.local(zone, extra.last_check));
        dev.notifications(rec)
            .str("AgentDownloadUrl", &rules::own_agent_url(&extra.key))
            .time("LastAgentDownloadCreated", ctx.added + 60 * SECOND + r.ms())
            .time("AddedOn", ctx.added)
            .opt_time("UpdatedOn", extra.updated);
        o.emit(Res::Devices)?;
        let names = [("DeviceId", id), ("CompanyId", ctx.company)];
        o.added(Res::Devices, ctx.added, &names)?;
        if let Some(at) = extra.updated {
            o.modified(Res::Devices, at, &names)?;
        }
        Ok(())
    }
}

/// The SQL Server instance a device's SQL jobs back up: server name, version
/// and edition, port.
fn sql_instance(r: &mut Rng, name: &str) -> (String, (&'static str, &'static str), Option<i64>) {
    let server = match r.below(4) {
        0 => "(local)\\SQLEXPRESS".to_string(),
        1 => "(local)".to_string(),
        2 => format!("{name}\\SQLEXPRESS"),
        _ => name.to_string(),
    };
    let express = server.ends_with("SQLEXPRESS");
    let versions = if express {
        &SQL_VERSIONS[..2]
    } else {
        &SQL_VERSIONS[2..]
    };
    let version = r.pick(versions);
    let port = match r.below(10) {
        0..7 => None,
        7..9 => Some(1433),
        _ => Some(14330),
    };
    (server, version, port)
}
