//! The one checked way to fill a record by attribute name.
//!
//! A [`RecordBuilder`] holds one value per stored attribute of a resource, in
//! the table's slot order (the layout of `state::Record::vals`), and fills
//! them by attribute name. Every writer that makes records (the engine, its
//! rules, the simulated runs, `generate`, `record`) goes through it, so the
//! resource table stays the one place that says which attributes exist.
//!
//! A name the table lacks, an attribute that is not stored (an embedded
//! object, a child array), or a value of the wrong kind (a timestamp for a
//! string) is a bug in the writer, never a consequence of input: the names
//! are literals in the code. The builder panics on it with the resource and
//! the name, instead of skipping the value silently; the tests run every
//! writer, so such a bug fails a test rather than leaving a value missing.
//! (A `Result` here would make every writer carry an error no input can
//! cause.) The values themselves (length, enumeration, range, e-mail and
//! time zone rules) are checked by [`RecordBuilder::problems`], which uses
//! the validator's own rules.

use std::fmt::{self, Write as _};

use super::schema::{Attr, Kind, Res, ResourceInfo};
use super::validate::{Problem, check_scalar};
use crate::domain::value::ArcStr;
use crate::domain::value::Val;

/// The stored slot of `name` in `info`'s table.
///
/// # Panics
///
/// When the table has no stored attribute of that name (a writer's bug).
pub fn slot(info: &ResourceInfo, name: &str) -> usize {
    match info.slot(name) {
        Some(s) => s,
        None if info.attr(name).is_some() => panic!(
            "record builder: {}.{name} is not stored (an embedded object or child array)",
            info.def.name
        ),
        None => panic!(
            "record builder: the {} table has no attribute {name:?}",
            info.def.name
        ),
    }
}

/// Whether a value may be stored in an attribute of this kind.
fn fits(kind: Kind, v: &Val) -> bool {
    matches!(
        (kind, v),
        (_, Val::Null)
            | (Kind::Int, Val::Int(_))
            | (Kind::Bool, Val::Bool(_))
            | (Kind::Str, Val::Str(_))
            | (Kind::Utc | Kind::Local, Val::Time(_))
    )
}

/// A record under construction: one value per stored attribute, in slot
/// order, all null to begin with.
#[derive(Clone, Debug)]
pub struct RecordBuilder {
    info: &'static ResourceInfo,
    vals: Vec<Val>,
    /// The slot after the one set last: writers mostly set attributes in
    /// table order, so the next name is looked for here first.
    cursor: usize,
    /// Reused by [`RecordBuilder::fmt`] to format a string value.
    scratch: String,
}

impl RecordBuilder {
    /// An empty record of `res`.
    pub fn new(res: Res) -> RecordBuilder {
        let info = res.info();
        RecordBuilder {
            info,
            vals: vec![Val::Null; info.slots.len()],
            cursor: 0,
            scratch: String::new(),
        }
    }

    /// A record of `res` that starts as a copy of `vals` (a stored record).
    ///
    /// # Panics
    ///
    /// When `vals` does not have one value per stored attribute of `res`.
    pub fn from_vals(res: Res, vals: &[Val]) -> RecordBuilder {
        RecordBuilder::from_vec(res, vals.to_vec())
    }

    /// [`RecordBuilder::from_vals`], taking the values instead of copying
    /// them (validation's answer, say).
    ///
    /// # Panics
    ///
    /// When `vals` does not have one value per stored attribute of `res`.
    pub fn from_vec(res: Res, vals: Vec<Val>) -> RecordBuilder {
        let info = res.info();
        assert_eq!(
            vals.len(),
            info.slots.len(),
            "record builder: a {} record has {} stored attributes",
            res.name(),
            info.slots.len()
        );
        RecordBuilder {
            info,
            vals,
            cursor: 0,
            scratch: String::new(),
        }
    }

    pub fn res(&self) -> Res {
        self.info.res()
    }

    pub fn info(&self) -> &'static ResourceInfo {
        self.info
    }

    /// The values, in slot order.
    pub fn vals(&self) -> &[Val] {
        &self.vals
    }

    /// The stored slot of `name`, looked for at the cursor first.
    fn slot(&mut self, name: &str) -> usize {
        let n = self.vals.len();
        let at = if self.cursor < n { self.cursor } else { 0 };
        let s = if self.info.def.attrs[self.info.slots[at]].name == name {
            at
        } else {
            slot(self.info, name)
        };
        self.cursor = s + 1;
        s
    }

    /// Sets one attribute.
    ///
    /// # Panics
    ///
    /// When the table has no stored attribute `name`, or `v` is of another
    /// kind than the attribute (a writer's bug; see the module header).
    pub fn set(&mut self, name: &str, v: Val) -> &mut RecordBuilder {
        let s = self.slot(name);
        let a = self.attr(s);
        assert!(
            fits(a.kind, &v),
            "record builder: {}.{name} is {:?}; a writer gave it {v:?}",
            self.info.def.name,
            a.kind
        );
        self.vals[s] = v;
        self
    }

    fn attr(&self, slot: usize) -> &'static Attr {
        &self.info.def.attrs[self.info.slots[slot]]
    }

    pub fn int(&mut self, name: &str, v: i64) -> &mut RecordBuilder {
        self.set(name, Val::Int(v))
    }

    pub fn opt_int(&mut self, name: &str, v: Option<i64>) -> &mut RecordBuilder {
        self.set(name, v.map_or(Val::Null, Val::Int))
    }

    pub fn flag(&mut self, name: &str, v: bool) -> &mut RecordBuilder {
        self.set(name, Val::Bool(v))
    }

    pub fn opt_flag(&mut self, name: &str, v: Option<bool>) -> &mut RecordBuilder {
        self.set(name, v.map_or(Val::Null, Val::Bool))
    }

    /// A `DateTime UTC` or `DateTime Local` attribute, in milliseconds.
    pub fn time(&mut self, name: &str, ms: i64) -> &mut RecordBuilder {
        self.set(name, Val::Time(ms))
    }

    pub fn opt_time(&mut self, name: &str, ms: Option<i64>) -> &mut RecordBuilder {
        self.set(name, ms.map_or(Val::Null, Val::Time))
    }

    pub fn str(&mut self, name: &str, s: &str) -> &mut RecordBuilder {
        self.set(name, Val::Str(ArcStr::from(s)))
    }

    pub fn opt_str(&mut self, name: &str, s: Option<&str>) -> &mut RecordBuilder {
        self.set(name, s.map_or(Val::Null, |s| Val::Str(ArcStr::from(s))))
    }

    /// A string attribute formatted in place: `b.fmt("Name", format_args!(…))`.
    pub fn fmt(&mut self, name: &str, args: fmt::Arguments) -> &mut RecordBuilder {
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        let _ = s.write_fmt(args);
        self.str(name, &s);
        self.scratch = s;
        self
    }

    /// Copies the attributes `names` from a record of another (or the same)
    /// resource, whose table must have them too.
    pub fn copy(
        &mut self,
        names: &[&str],
        from: &ResourceInfo,
        vals: &[Val],
    ) -> &mut RecordBuilder {
        for &name in names {
            let v = vals[slot(from, name)].clone();
            self.set(name, v);
        }
        self
    }

    /// The value of one attribute.
    pub fn get(&self, name: &str) -> &Val {
        &self.vals[slot(self.info, name)]
    }

    /// The values that break their attribute's rules (length, enumeration,
    /// range, e-mail and time zone rules, as validation checks them), with
    /// the attribute's name; empty when every value is fine. References and
    /// uniqueness need the store and are not checked here.
    pub fn problems(&self) -> Vec<Problem> {
        self.info
            .stored()
            .zip(&self.vals)
            .filter_map(|((_, a), v)| check_scalar(a, v).err().map(|m| Problem::of(a.name, m)))
            .collect()
    }

    /// Sets every value back to null, to build the next record.
    pub fn clear(&mut self) {
        self.vals.fill(Val::Null);
        self.cursor = 0;
    }

    /// The record's values; the builder is left cleared for the next record.
    pub fn take(&mut self) -> Box<[Val]> {
        let empty = vec![Val::Null; self.vals.len()];
        self.cursor = 0;
        std::mem::replace(&mut self.vals, empty).into_boxed_slice()
    }

    /// The record's values, in slot order (`state::Record::vals`).
    pub fn build(self) -> Box<[Val]> {
        self.vals.into_boxed_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::schema;

    #[test]
    fn fills_slots_by_name_in_any_order() {
        let mut b = RecordBuilder::new(Res::BackupTypes);
        b.str("Name", "File")
            .int("BackupTypeId", 1)
            .str("EngineId", "FILE");
        let info = Res::BackupTypes.info();
        let vals = b.build();
        assert_eq!(vals.len(), info.slots.len());
        assert_eq!(vals[info.slot("BackupTypeId").unwrap()], Val::Int(1));
        assert_eq!(vals[info.slot("Name").unwrap()], Val::Str("File".into()));
        assert_eq!(
            vals[info.slot("EngineId").unwrap()],
            Val::Str("FILE".into())
        );
    }

    #[test]
    fn every_stored_attribute_of_every_table_can_be_set() {
        for info in schema() {
            let mut b = RecordBuilder::new(info.res());
            for (s, a) in info.stored() {
                b.set(a.name, Val::Null);
                assert_eq!(b.cursor, s + 1, "{}.{}", info.def.name, a.name);
            }
            // and out of order
            for (_, a) in info.stored().collect::<Vec<_>>().into_iter().rev() {
                b.set(a.name, Val::Null);
            }
        }
    }

    #[test]
    #[should_panic(expected = "the devices table has no attribute \"DeviceNmae\"")]
    fn a_name_the_table_lacks_is_caught() {
        RecordBuilder::new(Res::Devices).str("DeviceNmae", "x");
    }

    #[test]
    #[should_panic(expected = "jobs.JobItems is not stored")]
    fn an_embedded_attribute_is_caught() {
        RecordBuilder::new(Res::Jobs).set("JobItems", Val::Null);
    }

    #[test]
    #[should_panic(expected = "logs.JobStartedOn is Str")]
    fn a_value_of_the_wrong_kind_is_caught() {
        RecordBuilder::new(Res::Logs).time("JobStartedOn", 0);
    }

    #[test]
    fn copies_take_and_problems() {
        let mut job = RecordBuilder::new(Res::Jobs);
        job.int("JobId", 7).str("Name", "Nightly");
        let job = job.build();
        let mut log = RecordBuilder::new(Res::Logs);
        log.copy(&["JobId", "Name"], Res::Jobs.info(), &job);
        assert_eq!(log.get("JobId"), &Val::Int(7));
        assert_eq!(log.get("Name"), &Val::Str("Nightly".into()));
        log.fmt("JobStatus", format_args!("{}", "Sometimes"));
        let problems = log.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].attribute, Some("JobStatus"));
        let taken = log.take();
        assert_eq!(taken.len(), Res::Logs.info().slots.len());
        assert!(log.vals().iter().all(|v| *v == Val::Null));
        assert!(log.problems().is_empty());
    }
}
