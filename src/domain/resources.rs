//! The fourteen resource tables of API.md section 4: the single source of
//! truth for validation, rendering, the engine, fixtures and the generated
//! documents. Attribute order is the vendor's.

use super::rules;
use super::schema::{Attr, Events, Redact, Res, Resource, Rule, Scope, Unique, Write};
use super::schema::{arr, boolean, int, local, obj, op, string, utc};

/// `Frequency` values; the vendor's list spells `Monthy`, and both spellings
/// are accepted and stored as sent.
pub const FREQUENCIES: &[&str] = &["Hourly", "Daily", "Weekly", "Monthy", "Monthly", "One Time"];
pub const JOB_STATUSES: &[&str] = &["Completed", "Failed", "Missed"];
pub const AUTHENTICATION_MODES: &[&str] = &["W", "S"];

const ADDED_ON: Attr = utc("AddedOn").ro();
const UPDATED_ON: Attr = utc("UpdatedOn").ro();
const TOKEN: Attr = string("Token", 50).redact(Redact::Drop);

const PHONE: u32 = 20;

/// Event types (API.md section 4, events): id and name.
pub const EVENT_TYPES: &[(i64, &str)] = &[
    (2, "Partner Modified"),
    (11, "Partner User Added"),
    (12, "Partner User Modified"),
    (13, "Partner User Deleted"),
    (21, "Company Added"),
    (22, "Company Modified"),
    (23, "Company Deleted"),
    (31, "Device Added"),
    (32, "Device Modified"),
    (33, "Device Deleted"),
    (41, "Job Added"),
    (42, "Job Modified"),
    (43, "Job Deleted"),
    (51, "Job Item Added"),
    (52, "Job Item Modified"),
    (53, "Job Item Deleted"),
    (61, "Company User Added"),
    (62, "Company User Modified"),
    (63, "Company User Deleted"),
    (71, "Subscription Added"),
    (72, "Subscription Modified"),
    (73, "Subscription Deleted"),
    (81, "Job Completed"),
    (82, "Job Failed"),
    (83, "Job Missed"),
];

/// The name of event type `id`, if the table has one.
pub fn event_type(id: i64) -> Option<&'static str> {
    EVENT_TYPES.iter().find(|(t, _)| *t == id).map(|&(_, n)| n)
}

/// The id of the event type called `name`; 0 (no event) when none is.
pub fn event_type_id(name: &str) -> i64 {
    EVENT_TYPES
        .iter()
        .find(|(_, n)| *n == name)
        .map_or(0, |&(t, _)| t)
}

const fn events(added: i64, modified: i64, deleted: i64) -> Events {
    Events {
        added,
        modified,
        deleted,
    }
}

pub static RESOURCES: [Resource; 14] = [
    Resource {
        res: Res::Partners,
        name: "partners",
        ops: op::LIST | op::READ | op::UPDATE,
        scope: Scope::Own,
        history: false,
        attrs: &[
            int("PartnerId").key(),
            int("PlanTypeId").ro().refs(Res::PlanTypes),
            obj("PlanType", Res::PlanTypes, "PlanTypeId"),
            string("Name", 100).req().redact(Redact::Organisation),
            string("ApplicationId", 25),
            boolean("IsInactive"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(0, 2, 0),
            ..Write::NONE
        },
    },
    Resource {
        res: Res::PartnerUsers,
        name: "partnerusers",
        ops: op::ALL,
        scope: Scope::Via(&["PartnerId"]),
        history: false,
        attrs: &[
            int("PartnerUserId").key(),
            int("PartnerId").post().caller().refs(Res::Partners),
            obj("Partner", Res::Partners, "PartnerId"),
            string("FirstName", 25).req().redact(Redact::FirstName),
            string("LastName", 25).req().redact(Redact::LastName),
            string("Email", 256)
                .req()
                .rule(Rule::Email)
                .unique(Unique::PARTNER_IGNORING_CASE)
                .redact(Redact::Email),
            string("HomePhone", PHONE).redact(Redact::Phone),
            string("MobilePhone", PHONE).redact(Redact::Phone),
            string("WorkPhone", PHONE).redact(Redact::Phone),
            boolean("IsAccountOwner").ro().protects(),
            boolean("IsInactive"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(11, 12, 13),
            on_create: Some(rules::new_partner_user),
            ..Write::NONE
        },
    },
    Resource {
        res: Res::Companies,
        name: "companies",
        ops: op::ALL,
        scope: Scope::Via(&["PartnerId"]),
        history: false,
        attrs: &[
            int("CompanyId").key(),
            int("PartnerId").post().caller().refs(Res::Partners),
            obj("Partner", Res::Partners, "PartnerId"),
            int("PlanTypeId").post().active().refs(Res::PlanTypes),
            obj("PlanType", Res::PlanTypes, "PlanTypeId"),
            string("Name", 100).req().redact(Redact::Organisation),
            string("AddressLine1", 50).redact(Redact::Street),
            string("AddressLine2", 50).redact(Redact::Street),
            string("CityMunicipality", 50).redact(Redact::City),
            string("StateProvidence", 50),
            string("PostalCode", 50).redact(Redact::PostalCode),
            string("Country", 50),
            string("Phone", 50).redact(Redact::Phone),
            string("ExternalId", 100)
                .unique(Unique::PARTNER)
                .redact(Redact::Reference),
            boolean("IsInactive"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(21, 22, 23),
            blocked_by: &[
                (Res::Subscriptions, "CompanyId"),
                (Res::Devices, "CompanyId"),
            ],
            cascade: &[(Res::CompanyUsers, "CompanyId")],
            ..Write::NONE
        },
    },
    Resource {
        res: Res::CompanyUsers,
        name: "companyusers",
        ops: op::ALL,
        scope: Scope::Via(&["CompanyId"]),
        history: false,
        attrs: &[
            int("CompanyUserId").key(),
            int("CompanyId").post().refs(Res::Companies),
            obj("Company", Res::Companies, "CompanyId"),
            string("FirstName", 25).req().redact(Redact::FirstName),
            string("LastName", 25).req().redact(Redact::LastName),
            string("Email", 256)
                .req()
                .rule(Rule::Email)
                .unique(Unique::within_ignoring_case("CompanyId"))
                .redact(Redact::Email),
            string("HomePhone", PHONE).redact(Redact::Phone),
            string("MobilePhone", PHONE).redact(Redact::Phone),
            string("WorkPhone", PHONE).redact(Redact::Phone),
            boolean("IsAccountOwner").ro().protects(),
            boolean("IsInactive"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(61, 62, 63),
            on_create: Some(rules::new_company_user),
            ..Write::NONE
        },
    },
    Resource {
        res: Res::Subscriptions,
        name: "subscriptions",
        ops: op::ALL,
        scope: Scope::Via(&["CompanyId"]),
        history: false,
        attrs: &[
            int("SubscriptionId").key(),
            int("CompanyId").post().refs(Res::Companies),
            obj("Company", Res::Companies, "CompanyId"),
            int("PlanId").post().active().refs(Res::Plans),
            obj("Plan", Res::Plans, "PlanId"),
            string("ApplicationId", 25),
            string("ExternalId", 100)
                .unique(Unique::PARTNER)
                .redact(Redact::Reference),
            boolean("IsInactive").ro(),
            int("BillingId").ro(),
            string("Status", 15).ro(),
            utc("PeriodStart").ro(),
            utc("PeriodEnd").ro(),
            int("AdditionalDevice").ro(),
            utc("DownloadLimitExpireOn").ro(),
            string("SendNotificationTo", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            string("SendNotificationBcc", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            string("SendNotificationCc", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            boolean("SendNotificationOnStorageLimit"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(71, 72, 73),
            blocked_by: &[(Res::Devices, "SubscriptionId")],
            checks: &[rules::subscription_notifications],
            on_create: Some(rules::new_subscription),
            ..Write::NONE
        },
    },
    Resource {
        res: Res::Devices,
        name: "devices",
        ops: op::ALL,
        scope: Scope::Via(&["CompanyId"]),
        history: false,
        attrs: &[
            int("DeviceId").key(),
            int("CompanyId").post().refs(Res::Companies),
            obj("Company", Res::Companies, "CompanyId"),
            int("SubscriptionId")
                .post()
                .active()
                .refs(Res::Subscriptions)
                .same("CompanyId"),
            obj("Subscription", Res::Subscriptions, "SubscriptionId"),
            string("Name", 100).req().redact(Redact::Host),
            string("TimeZoneId", 50).req().rule(Rule::TimeZone),
            string("ApplicationId", 25),
            string("ExternalId", 100)
                .unique(Unique::PARTNER)
                .redact(Redact::Reference),
            boolean("IsInactive"),
            string("ApiKey", 0).ro().redact(Redact::DeviceKey),
            local("LastApiCheckAt").ro(),
            string("SendNotificationTo", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            string("SendNotificationBcc", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            string("SendNotificationCc", 0)
                .rule(Rule::EmailList)
                .redact(Redact::EmailList),
            boolean("SendNotificationOnJobCompleted"),
            boolean("SendNotificationOnJobFailed"),
            boolean("SendNotificationOnJobMissed"),
            string("AgentDownloadUrl", 0).ro().redact(Redact::KeyUrl),
            utc("LastAgentDownloadCreated").ro(),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(31, 32, 33),
            blocked_by: &[(Res::Jobs, "DeviceId")],
            checks: &[rules::device_notifications, rules::device_limit],
            on_create: Some(rules::new_device),
            view: Some(rules::device_agent_url),
            ..Write::NONE
        },
    },
    Resource {
        res: Res::Jobs,
        name: "jobs",
        ops: op::ALL,
        scope: Scope::Via(&["DeviceId"]),
        history: false,
        attrs: &[
            int("JobId").key(),
            int("DeviceId").post().refs(Res::Devices),
            obj("Device", Res::Devices, "DeviceId"),
            string("Name", 100).req().redact(Redact::JobName),
            boolean("IsInactive"),
            local("LastRanOn").ro(),
            string("Frequency", 0).req().one_of(FREQUENCIES),
            local("NextRunOn").req(),
            int("LateAfter").req().range(0, 1439),
            int("Every").req().range(1, 999),
            boolean("OnMonday"),
            boolean("OnTuesday"),
            boolean("OnWednesday"),
            boolean("OnThursday"),
            boolean("OnFriday"),
            boolean("OnSaturday"),
            boolean("OnSunday"),
            int("DayOfMonth").range(1, 31),
            local("ExpireOn"),
            int("CloudKeepLast").req().range(0, 999),
            int("LocalKeepLast").req().range(0, 999),
            arr("JobItems", Res::JobItems, "JobId"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(41, 42, 43),
            blocked_by: &[(Res::JobItems, "JobId")],
            ..Write::NONE
        },
    },
    Resource {
        res: Res::JobItems,
        name: "jobitems",
        ops: op::ALL,
        scope: Scope::Via(&["JobId"]),
        history: false,
        attrs: &[
            int("JobItemId").key(),
            int("JobId").post().refs(Res::Jobs),
            string("Name", 100).redact(Redact::Label),
            int("BackupTypeId").req().active().refs(Res::BackupTypes),
            obj("BackupType", Res::BackupTypes, "BackupTypeId"),
            string("BaseFolder", 248).redact(Redact::Folder),
            boolean("IncludeSubFolders"),
            string("SearchPatterns", 0),
            string("ExcludeFolders", 0).redact(Redact::Folder),
            string("ExcludePatterns", 0),
            string("NoCompressExtensions", 0),
            string("ServerName", 50).redact(Redact::Host),
            string("DatabaseName", 128).redact(Redact::Label),
            int("Port").range(1, 65535),
            string("AuthenticationMode", 10).one_of(AUTHENTICATION_MODES),
            string("Username", 250).wo().redact(Redact::Drop),
            string("Password", 250).wo().redact(Redact::Drop),
            boolean("OptionCompress"),
            boolean("OptionCopyOnly"),
            boolean("OptionLogOnly"),
            ADDED_ON,
            UPDATED_ON,
            TOKEN,
        ],
        write: Write {
            events: events(51, 52, 53),
            checks: &[rules::job_item_engine],
            ..Write::NONE
        },
    },
    Resource {
        res: Res::Logs,
        name: "logs",
        ops: op::READ_ONLY,
        scope: Scope::Via(&["CompanyId"]),
        history: true,
        attrs: &[
            int("LogId").key(),
            int("CompanyId").ro().refs(Res::Companies),
            obj("Company", Res::Companies, "CompanyId"),
            int("DeviceId").ro().refs(Res::Devices),
            obj("Device", Res::Devices, "DeviceId"),
            string("TimeZoneId", 0).ro(),
            int("SubscriptionId").ro().refs(Res::Subscriptions),
            obj("Subscription", Res::Subscriptions, "SubscriptionId"),
            int("PlanId").ro().refs(Res::Plans),
            obj("Plan", Res::Plans, "PlanId"),
            int("JobId").ro().refs(Res::Jobs),
            obj("Job", Res::Jobs, "JobId"),
            string("Name", 0).ro().redact(Redact::JobName),
            string("ArchiveFolder", 0).ro().redact(Redact::Folder),
            string("UploadFolder", 0).ro(),
            string("Frequency", 0).ro(),
            local("NextRunOn").ro(),
            int("LateAfter").ro(),
            local("ExpireOn").ro(),
            int("LocalKeepLast").ro(),
            string("JobStartedOn", 0).ro(),
            local("JobCompletedOn").ro(),
            string("JobStatus", 0).ro().one_of(JOB_STATUSES),
            string("ErrorMessages", 0).ro().redact(Redact::Message),
            string("SendNotificationTo", 0)
                .ro()
                .redact(Redact::EmailList),
            string("SendNotificationBcc", 0)
                .ro()
                .redact(Redact::EmailList),
            string("SendNotificationCc", 0)
                .ro()
                .redact(Redact::EmailList),
            boolean("SendNotificationOnJobCompleted").ro(),
            boolean("SendNotificationOnJobFailed").ro(),
            boolean("SendNotificationOnJobMissed").ro(),
            utc("NotificationJobCompletedProcessedOn").ro(),
            utc("NotificationJobFailedProcessedOn").ro(),
            utc("NotificationJobMissedProcessedOn").ro(),
            arr("LogItems", Res::LogItems, "LogId"),
            ADDED_ON,
            UPDATED_ON,
        ],
        write: Write::NONE,
    },
    Resource {
        res: Res::LogItems,
        name: "logitems",
        ops: op::READ_ONLY,
        scope: Scope::Via(&["LogId"]),
        history: true,
        attrs: &[
            int("LogItemId").key(),
            int("LogId").ro().refs(Res::Logs),
            int("JobItemId").ro().refs(Res::JobItems),
            string("Name", 0).ro().redact(Redact::Label),
            string("EngineId", 0).ro(),
            string("BaseFolder", 0).ro().redact(Redact::Folder),
            boolean("IncludeSubFolders").ro(),
            string("SearchPatterns", 0).ro(),
            string("ExcludeFolders", 0).ro().redact(Redact::Folder),
            string("ExcludePatterns", 0).ro(),
            string("NoCompressExtensions", 0).ro(),
            string("ServerName", 0).ro().redact(Redact::Host),
            string("DatabaseName", 0).ro().redact(Redact::Label),
            int("Port").ro(),
            string("AuthenticationMode", 0).ro(),
            string("ServerVersion", 0).ro(),
            string("ServerEdition", 0).ro(),
            boolean("OptionCompress").ro(),
            boolean("OptionCopyOnly").ro(),
            boolean("OptionLogOnly").ro(),
            string("BackupFolder", 0).ro().redact(Redact::Folder),
            string("BackupFileName", 0).ro().redact(Redact::FileName),
            int("BackupFileSize").ro(),
            string("BackupListName", 0).ro().redact(Redact::FileName),
            int("BackupListSize").ro(),
            int("BackupListCount").ro(),
            string("Url", 0).ro().nulled(),
            utc("Expires").ro().nulled(),
            ADDED_ON,
            UPDATED_ON,
        ],
        write: Write::NONE,
    },
    Resource {
        res: Res::Events,
        name: "events",
        ops: op::READ_ONLY,
        scope: Scope::Via(&["PartnerId", "CompanyId", "DeviceId", "JobId"]),
        history: true,
        attrs: &[
            int("EventId").key(),
            int("EventTypeId").ro(),
            string("EventType", 0).ro(),
            int("BackupTypeId").ro().refs(Res::BackupTypes),
            int("CompanyId").ro().refs(Res::Companies),
            int("CompanyUserId").ro().refs(Res::CompanyUsers),
            int("DeviceId").ro().refs(Res::Devices),
            int("JobId").ro().refs(Res::Jobs),
            int("JobItemId").ro().refs(Res::JobItems),
            int("LogId").ro().refs(Res::Logs),
            int("LogItemId").ro().refs(Res::LogItems),
            int("PartnerId").ro().refs(Res::Partners),
            int("PartnerPlanId").ro(),
            int("PartnerUserId").ro().refs(Res::PartnerUsers),
            int("PlanId").ro().refs(Res::Plans),
            int("PlanTypeId").ro().refs(Res::PlanTypes),
            int("SubscriptionId").ro().refs(Res::Subscriptions),
            ADDED_ON,
        ],
        write: Write::NONE,
    },
    Resource {
        res: Res::Plans,
        name: "plans",
        ops: op::READ_ONLY,
        scope: Scope::Global,
        history: false,
        attrs: &[
            int("PlanId").key(),
            int("PlanTypeId").ro().refs(Res::PlanTypes),
            obj("PlanType", Res::PlanTypes, "PlanTypeId"),
            string("Name", 100).ro(),
            string("Details", 0).ro(),
            boolean("IsInactive").ro(),
            int("DeviceLimit").ro(),
            int("StorageLimit").ro(),
            boolean("DownloadLimit").ro(),
        ],
        write: Write::NONE,
    },
    Resource {
        res: Res::PlanTypes,
        name: "plantypes",
        ops: op::READ_ONLY,
        scope: Scope::Global,
        history: false,
        attrs: &[
            int("PlanTypeId").key(),
            string("Name", 100).ro(),
            boolean("IsInactive").ro(),
        ],
        write: Write::NONE,
    },
    Resource {
        res: Res::BackupTypes,
        name: "backuptypes",
        ops: op::READ_ONLY,
        scope: Scope::Global,
        history: false,
        attrs: &[
            int("BackupTypeId").key(),
            string("EngineId", 25).ro(),
            string("Name", 100).ro(),
            string("EngineType", 10).ro(),
            int("Port").ro(),
            boolean("IsInactive").ro(),
        ],
        write: Write::NONE,
    },
];
