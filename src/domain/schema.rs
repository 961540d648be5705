//! The types that describe a resource: the vocabulary of `resources.rs`.
//!
//! A [`Resource`] is a static table: its collection name, primary key,
//! operations, partner scope and attributes. [`ResourceInfo`] is the same
//! table indexed once at start-up (stored slots, attribute lookup, references)
//! so the engine, the fixture loader and the renderer never search by name
//! on the hot path.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::value::WordHasher;
use std::sync::OnceLock;

use super::resources::RESOURCES;
use super::rules;

/// The fourteen collections, in load order: every resource comes after the
/// resources its references point to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Res {
    PlanTypes,
    Plans,
    BackupTypes,
    Partners,
    PartnerUsers,
    Companies,
    CompanyUsers,
    Subscriptions,
    Devices,
    Jobs,
    JobItems,
    Logs,
    LogItems,
    Events,
}

impl Res {
    pub const ALL: [Res; 14] = [
        Res::PlanTypes,
        Res::Plans,
        Res::BackupTypes,
        Res::Partners,
        Res::PartnerUsers,
        Res::Companies,
        Res::CompanyUsers,
        Res::Subscriptions,
        Res::Devices,
        Res::Jobs,
        Res::JobItems,
        Res::Logs,
        Res::LogItems,
        Res::Events,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn info(self) -> &'static ResourceInfo {
        &schema()[self.index()]
    }

    pub fn def(self) -> &'static Resource {
        self.info().def
    }

    /// The collection name as it appears in URLs and fixture file names.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The collection a URL segment names, matched case-insensitively.
    pub fn from_name(name: &str) -> Option<Res> {
        schema()
            .iter()
            .map(|info| (info.def.name, info.res()))
            .find(|(n, _)| n.len() == name.len() && n.eq_ignore_ascii_case(name))
            .map(|(_, res)| res)
    }
}

/// What an attribute holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Str,
    Bool,
    /// `DateTime UTC`.
    Utc,
    /// `DateTime Local`: the device's wall-clock time.
    Local,
    /// The record named by the attribute `via` of this record, embedded one
    /// level down. Not stored.
    Obj {
        res: Res,
        via: &'static str,
    },
    /// The records of `res` whose attribute `fk` names this record, ascending
    /// by id. Not stored.
    Arr {
        res: Res,
        fk: &'static str,
    },
}

/// Attribute flags.
pub mod flag {
    /// The primary key.
    pub const KEY: u16 = 1;
    /// Read only: ignored on input.
    pub const RO: u16 = 1 << 1;
    /// Required on POST, read only afterwards.
    pub const POST: u16 = 1 << 2;
    /// Required on POST; validated when sent on PUT.
    pub const REQ: u16 = 1 << 3;
    /// Write only: accepted on input, always rendered as null.
    pub const WO: u16 = 1 << 4;
    /// Always rendered as null (stored, but never shown in lists or reads).
    pub const NULLED: u16 = 1 << 5;
    /// With `refs`: the referenced record must not be inactive.
    pub const ACTIVE: u16 = 1 << 6;
    /// Absent or null on create means the caller's own PartnerId.
    pub const CALLER: u16 = 1 << 7;
    /// A record whose value here is true cannot be deleted (account owners).
    pub const PROTECTS: u16 = 1 << 8;
}

/// One attribute of a resource table.
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    /// Maximum length of a string in UTF-16 code units; 0 when unstated.
    pub max_len: u32,
    pub flags: u16,
    /// The values a string may take; empty when any.
    pub one_of: &'static [&'static str],
    /// Inclusive range of an integer.
    pub range: Option<(i64, i64)>,
    /// The collection this id attribute references.
    pub refs: Option<Res>,
    /// With `refs`: the referenced record must have the same value as this
    /// record in the named attribute (a device's subscription belongs to the
    /// device's company).
    pub same: Option<&'static str>,
    /// A value rule no type expresses.
    pub rule: Option<Rule>,
    /// Where the value must be unique (ignoring case) when not null.
    pub unique: Option<Unique>,
    /// What `record --redact` makes of the value.
    pub redact: Option<Redact>,
}

/// Personal or secret values `record --redact` replaces with consistent fakes
/// (the same input gives the same output throughout a recording).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Redact {
    /// A company or partner name.
    Organisation,
    FirstName,
    LastName,
    Email,
    /// Addresses separated by `,` `;` `:` or CR LF.
    EmailList,
    Phone,
    Street,
    City,
    PostalCode,
    /// A customer's own reference (ExternalId).
    Reference,
    /// A machine or server name.
    Host,
    /// A database name, or a job item named after one.
    Label,
    /// A backup job's name (and the logs' copy of it).
    JobName,
    /// Free text that may quote any of the above (error messages).
    Message,
    /// A folder path; several, one per line, in multi-value attributes.
    Folder,
    FileName,
    /// A device's ApiKey: regenerated (and replaced where a URL holds it).
    DeviceKey,
    /// A URL that holds a device's ApiKey.
    KeyUrl,
    /// Tokens and credentials: dropped (null).
    Drop,
}

/// Value rules beyond type, length, enumeration and range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// One e-mail address.
    Email,
    /// One or more e-mail addresses separated by `,` `;` `:` or CR LF.
    EmailList,
    /// A Windows time zone id of `reference/timezones.txt`.
    TimeZone,
}

/// The records among which a value must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unique {
    /// None: among the partner's records of this collection; Some(attr):
    /// among those with the same value in `attr` (the same company).
    pub within: Option<&'static str>,
    /// Compare strings ignoring case (e-mail addresses).
    pub ignore_case: bool,
}

impl Unique {
    /// Unique among the partner's records, exactly.
    pub const PARTNER: Unique = Unique {
        within: None,
        ignore_case: false,
    };
    /// Unique among the partner's records, ignoring case.
    pub const PARTNER_IGNORING_CASE: Unique = Unique {
        within: None,
        ignore_case: true,
    };
    /// Unique among the records with the same `attr`, ignoring case.
    pub const fn within_ignoring_case(attr: &'static str) -> Unique {
        Unique {
            within: Some(attr),
            ignore_case: true,
        }
    }
}

const fn attr(name: &'static str, kind: Kind) -> Attr {
    Attr {
        name,
        kind,
        max_len: 0,
        flags: 0,
        one_of: &[],
        range: None,
        refs: None,
        same: None,
        rule: None,
        unique: None,
        redact: None,
    }
}

pub const fn int(name: &'static str) -> Attr {
    attr(name, Kind::Int)
}
pub const fn string(name: &'static str, max_len: u32) -> Attr {
    Attr {
        max_len,
        ..attr(name, Kind::Str)
    }
}
pub const fn boolean(name: &'static str) -> Attr {
    attr(name, Kind::Bool)
}
pub const fn utc(name: &'static str) -> Attr {
    attr(name, Kind::Utc)
}
pub const fn local(name: &'static str) -> Attr {
    attr(name, Kind::Local)
}
pub const fn obj(name: &'static str, res: Res, via: &'static str) -> Attr {
    attr(name, Kind::Obj { res, via })
}
pub const fn arr(name: &'static str, res: Res, fk: &'static str) -> Attr {
    attr(name, Kind::Arr { res, fk })
}

impl Attr {
    const fn with(self, f: u16) -> Attr {
        Attr {
            flags: self.flags | f,
            ..self
        }
    }
    pub const fn key(self) -> Attr {
        self.with(flag::KEY | flag::RO)
    }
    pub const fn ro(self) -> Attr {
        self.with(flag::RO)
    }
    pub const fn post(self) -> Attr {
        self.with(flag::POST)
    }
    pub const fn req(self) -> Attr {
        self.with(flag::REQ)
    }
    pub const fn wo(self) -> Attr {
        self.with(flag::WO | flag::NULLED)
    }
    pub const fn nulled(self) -> Attr {
        self.with(flag::NULLED)
    }
    pub const fn refs(self, res: Res) -> Attr {
        Attr {
            refs: Some(res),
            ..self
        }
    }
    pub const fn same(self, attr: &'static str) -> Attr {
        Attr {
            same: Some(attr),
            ..self
        }
    }
    pub const fn one_of(self, values: &'static [&'static str]) -> Attr {
        Attr {
            one_of: values,
            ..self
        }
    }
    pub const fn active(self) -> Attr {
        self.with(flag::ACTIVE)
    }
    pub const fn caller(self) -> Attr {
        self.with(flag::CALLER)
    }
    pub const fn protects(self) -> Attr {
        self.with(flag::PROTECTS)
    }
    pub const fn rule(self, rule: Rule) -> Attr {
        Attr {
            rule: Some(rule),
            ..self
        }
    }
    pub const fn unique(self, unique: Unique) -> Attr {
        Attr {
            unique: Some(unique),
            ..self
        }
    }
    pub const fn redact(self, redact: Redact) -> Attr {
        Attr {
            redact: Some(redact),
            ..self
        }
    }
    pub const fn range(self, lo: i64, hi: i64) -> Attr {
        Attr {
            range: Some((lo, hi)),
            ..self
        }
    }

    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// Stored in the record (everything but embedded objects and child arrays).
    pub fn is_stored(&self) -> bool {
        !matches!(self.kind, Kind::Obj { .. } | Kind::Arr { .. })
    }
}

/// Operations a collection offers.
pub mod op {
    pub const LIST: u8 = 1;
    pub const READ: u8 = 1 << 1;
    pub const CREATE: u8 = 1 << 2;
    pub const UPDATE: u8 = 1 << 3;
    pub const DELETE: u8 = 1 << 4;
    pub const READ_ONLY: u8 = LIST | READ;
    pub const ALL: u8 = LIST | READ | CREATE | UPDATE | DELETE;
}

/// How a record finds the partner it belongs to (API.md section 1, "Scope").
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Reference data every partner sees.
    Global,
    /// The record is a partner: it belongs to itself.
    Own,
    /// The record belongs to the owner of the record named by the first of
    /// these reference attributes that names an existing record.
    Via(&'static [&'static str]),
}

/// A resource table (API.md section 4).
#[derive(Debug)]
pub struct Resource {
    pub res: Res,
    /// Collection name: URL segment and fixture file name.
    pub name: &'static str,
    /// Operations offered; anything else answers 405.
    pub ops: u8,
    pub scope: Scope,
    /// Logs, log items and events: history, whose references may name
    /// records since deleted.
    pub history: bool,
    pub attrs: &'static [Attr],
    /// What writes do beyond the attribute rules.
    pub write: Write,
}

/// Event type ids of a resource's writes; 0 where none is written.
#[derive(Clone, Copy, Debug)]
pub struct Events {
    pub added: i64,
    pub modified: i64,
    pub deleted: i64,
}

/// The write behaviour of a resource that its attributes cannot state.
#[derive(Clone, Copy, Debug)]
pub struct Write {
    pub events: Events,
    /// Children that block a delete: (collection, its attribute naming this record).
    pub blocked_by: &'static [(Res, &'static str)],
    /// Children deleted with the record, each with its own event.
    pub cascade: &'static [(Res, &'static str)],
    /// Rules across attributes and records (named functions in `rules`).
    pub checks: &'static [rules::Check],
    /// Values the sandbox generates on create (named function in `rules`).
    pub on_create: Option<rules::OnCreate>,
    /// Values computed when a record is read (named function in `rules`).
    pub view: Option<rules::View>,
}

impl Write {
    pub const NONE: Write = Write {
        events: Events {
            added: 0,
            modified: 0,
            deleted: 0,
        },
        blocked_by: &[],
        cascade: &[],
        checks: &[],
        on_create: None,
        view: None,
    };
}

/// A resource table indexed for fast use.
#[derive(Debug)]
pub struct ResourceInfo {
    pub def: &'static Resource,
    /// Attribute index of each stored slot, in table order.
    pub slots: Vec<usize>,
    /// Stored slot of each attribute (None for embedded objects and arrays).
    pub slot_of: Vec<Option<usize>>,
    /// Attribute index by name. Hashed with [`WordHasher`]: the map is built
    /// once from the tables and never takes a key from input, so a request
    /// can only look names up, and cannot make its buckets collide.
    pub by_name: HashMap<&'static str, usize, BuildHasherDefault<WordHasher>>,
    /// Slot of the primary key.
    pub key_slot: usize,
    /// Scope references: (slot, referenced collection).
    pub scope_via: Vec<(usize, Res)>,
    /// When this collection fills a child array of another: the slot of the
    /// attribute naming the parent.
    pub parent_slot: Option<usize>,
}

impl ResourceInfo {
    fn new(def: &'static Resource) -> ResourceInfo {
        let mut slots = Vec::new();
        let mut slot_of = Vec::new();
        let mut by_name = HashMap::default();
        for (i, a) in def.attrs.iter().enumerate() {
            by_name.insert(a.name, i);
            if a.is_stored() {
                slot_of.push(Some(slots.len()));
                slots.push(i);
            } else {
                slot_of.push(None);
            }
        }
        let slot = |name: &str| -> usize {
            let i = *by_name
                .get(name)
                .unwrap_or_else(|| panic!("resource table {}: no attribute {name}", def.name));
            slot_of[i]
                .unwrap_or_else(|| panic!("resource table {}: {name} is not stored", def.name))
        };
        let key_slot = slots
            .iter()
            .position(|&i| def.attrs[i].has(flag::KEY))
            .unwrap_or_else(|| panic!("resource table {}: no primary key", def.name));
        let scope_via = match def.scope {
            Scope::Via(names) => names
                .iter()
                .map(|n| {
                    let a = &def.attrs[by_name[n]];
                    (slot(n), a.refs.expect("scope attributes are references"))
                })
                .collect(),
            _ => Vec::new(),
        };
        let parent_slot = RESOURCES
            .iter()
            .flat_map(|r| r.attrs)
            .find_map(|a| match a.kind {
                Kind::Arr { res, fk } if res == def.res => Some(slot(fk)),
                _ => None,
            });
        ResourceInfo {
            def,
            slots,
            slot_of,
            by_name,
            key_slot,
            scope_via,
            parent_slot,
        }
    }

    pub fn res(&self) -> Res {
        self.def.res
    }

    /// The primary key's name.
    pub fn key_name(&self) -> &'static str {
        self.def.attrs[self.slots[self.key_slot]].name
    }

    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.by_name.get(name).map(|&i| &self.def.attrs[i])
    }

    pub fn slot(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).and_then(|&i| self.slot_of[i])
    }

    /// The stored attributes, with their slots.
    pub fn stored(&self) -> impl Iterator<Item = (usize, &'static Attr)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .map(|(s, &i)| (s, &self.def.attrs[i]))
    }
}

/// Every resource, indexed, in [`Res`] order.
pub fn schema() -> &'static [ResourceInfo] {
    static SCHEMA: OnceLock<Vec<ResourceInfo>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Res::ALL
            .iter()
            .map(|&r| {
                let def = RESOURCES
                    .iter()
                    .find(|d| d.res == r)
                    .unwrap_or_else(|| panic!("no resource table for {r:?}"));
                ResourceInfo::new(def)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_indexes_and_references_resolve() {
        for info in schema() {
            for a in info.def.attrs {
                if let Kind::Obj { via, res } = a.kind {
                    let v = info.attr(via).expect("Obj via attribute exists");
                    assert_eq!(v.refs, Some(res), "{}.{}", info.def.name, a.name);
                }
            }
        }
        assert_eq!(Res::from_name("Companies"), Some(Res::Companies));
        assert_eq!(
            Res::JobItems.info().parent_slot,
            Res::JobItems.info().slot("JobId")
        );
    }
}
