//! Reference data of the generated set, taken from the default fixtures
//! (`fixtures/plantypes.json`, `plans.json`, `backuptypes.json`, compiled
//! in and parsed at start with the validator's conversions), so that the
//! plans and backup types are stated in one place only.
//!
//! The set carries every plan type and backup type, and the plans on offer
//! to the small businesses it describes: the active plans of at most
//! [`SMALL_BUSINESS_DEVICES`] devices. A company with more devices than the
//! largest of them buys additional devices on top.

use serde_json::{Map, Value};

use super::GenerateError;
use super::rng::Rng;
use crate::domain::build::{RecordBuilder, slot};
use crate::domain::schema::Res;
use crate::domain::validate::json_value;
use crate::domain::value::ArcStr;
use crate::domain::value::Val;

/// The default fixture file of each reference collection.
const FILES: [(Res, &str); 3] = [
    (
        Res::PlanTypes,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/plantypes.json"
        )),
    ),
    (
        Res::Plans,
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plans.json")),
    ),
    (
        Res::BackupTypes,
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/backuptypes.json"
        )),
    ),
];

/// The largest plan (in devices) the generated companies subscribe to.
pub const SMALL_BUSINESS_DEVICES: i64 = 25;

/// A backup type as job items and log items name it.
pub struct BackupType {
    pub id: i64,
    /// `EngineId`, which log items repeat.
    pub engine: ArcStr,
}

/// The reference records to write, and what the rest of the set needs of them.
pub struct Reference {
    /// (collection, record values) in the order they are written.
    pub records: Vec<(Res, Box<[Val]>)>,
    /// The plan type partners and companies have (the first one).
    pub plan_type: i64,
    /// (PlanId, DeviceLimit) of the plans on offer, in id order.
    pub plans: Vec<(i64, i64)>,
    pub file: BackupType,
    pub sql: BackupType,
}

fn bad(res: Res, id: i64, attr: &str, message: impl Into<String>) -> GenerateError {
    GenerateError::Invalid {
        collection: res.name(),
        id: u64::try_from(id).unwrap_or_default(),
        attr: attr.to_string(),
        message: format!("in the default fixtures: {}", message.into()),
    }
}

/// The records of one default fixture file.
fn parse(res: Res, text: &str) -> Result<Vec<Box<[Val]>>, GenerateError> {
    let info = res.info();
    let records: Vec<Map<String, Value>> =
        serde_json::from_str(text).map_err(|e| bad(res, 0, "", e.to_string()))?;
    let mut out = Vec::with_capacity(records.len());
    for (n, rec) in records.iter().enumerate() {
        let mut b = RecordBuilder::new(res);
        for (name, v) in rec {
            let Some(a) = info.attr(name).filter(|a| a.is_stored()) else {
                return Err(bad(res, n as i64 + 1, name, "not a stored attribute"));
            };
            let val = json_value(a, v, &mut |s| ArcStr::from(s))
                .map_err(|m| bad(res, n as i64 + 1, name, m))?;
            b.set(name, val);
        }
        out.push(b.build());
    }
    Ok(out)
}

fn int(res: Res, vals: &[Val], name: &str) -> i64 {
    vals[slot(res.info(), name)].as_int().unwrap_or_default()
}

/// A plan the generated companies may subscribe to.
fn offered(plan: &[Val]) -> bool {
    let inactive = plan[slot(Res::Plans.info(), "IsInactive")].is_true();
    !inactive && int(Res::Plans, plan, "DeviceLimit") <= SMALL_BUSINESS_DEVICES
}

impl Reference {
    /// Parses the default fixtures' reference collections.
    pub fn load() -> Result<Reference, GenerateError> {
        let mut records = Vec::new();
        for (res, text) in FILES {
            let vals = parse(res, text)?.into_iter();
            records.extend(
                vals.filter(|v| res != Res::Plans || offered(v))
                    .map(|v| (res, v)),
            );
        }
        let of = |res: Res| {
            records
                .iter()
                .filter(move |(r, _)| *r == res)
                .map(|(_, v)| v)
        };
        let plans: Vec<(i64, i64)> = of(Res::Plans)
            .map(|p| {
                (
                    int(Res::Plans, p, "PlanId"),
                    int(Res::Plans, p, "DeviceLimit"),
                )
            })
            .collect();
        if plans.is_empty() {
            return Err(bad(Res::Plans, 0, "DeviceLimit", "no plan on offer"));
        }
        let plan_type = of(Res::PlanTypes)
            .next()
            .map(|t| int(Res::PlanTypes, t, "PlanTypeId"))
            .ok_or_else(|| bad(Res::PlanTypes, 0, "PlanTypeId", "no plan type"))?;
        let backup_type = |engine: &str| {
            let info = Res::BackupTypes.info();
            of(Res::BackupTypes)
                .find(|t| matches!(&t[slot(info, "EngineId")], Val::Str(e) if e == engine))
                .map(|t| BackupType {
                    id: int(Res::BackupTypes, t, "BackupTypeId"),
                    engine: ArcStr::from(engine),
                })
                .ok_or_else(|| {
                    let message = format!("no backup type {engine}");
                    bad(Res::BackupTypes, 0, "EngineId", message)
                })
        };
        let (file, sql) = (backup_type("FILE")?, backup_type("MSSQL")?);
        Ok(Reference {
            records,
            plan_type,
            plans,
            file,
            sql,
        })
    }

    /// The plan a company with `devices` devices subscribes to, and the
    /// extra devices bought on top: the active devices never exceed the limit.
    pub fn plan_for(&self, r: &mut Rng, devices: i64) -> (i64, i64) {
        let fitting: Vec<(i64, i64)> = self
            .plans
            .iter()
            .copied()
            .filter(|p| p.1 >= devices)
            .collect();
        let largest = self.plans.iter().copied().max_by_key(|p| p.1);
        let (plan, limit) = match fitting.as_slice() {
            [] => largest.unwrap_or_default(),
            [only] => *only,
            [smallest, next, ..] => {
                if r.percent(75) {
                    *smallest
                } else {
                    *next
                }
            }
        };
        let mut extra = (devices - limit).max(0);
        if r.percent(10) {
            extra += r.between(1, 3);
        }
        (plan, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_fixtures_give_the_reference_data() {
        let r = Reference::load().expect("the default reference fixtures parse");
        assert_eq!(r.plan_type, 1);
        assert_eq!(r.plans, vec![(1, 1), (2, 5), (3, 25)]);
        assert_eq!((r.file.id, &*r.file.engine), (1, "FILE"));
        assert_eq!((r.sql.id, &*r.sql.engine), (2, "MSSQL"));
        let count = |res| r.records.iter().filter(|(x, _)| *x == res).count();
        assert_eq!(count(Res::PlanTypes), 1);
        assert_eq!(count(Res::Plans), 3);
        assert_eq!(count(Res::BackupTypes), 2);
    }
}
