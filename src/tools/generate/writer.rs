//! The fourteen collection files as they are written: one JSON array each,
//! one record per line, every stored attribute in table order (the fixture
//! form of `domain::render::write_stored`).
//!
//! A record is filled with the domain's [`RecordBuilder`] and checked as it
//! is written: ids ascending from 1, and every value by the validator's own
//! rules (length, enumeration, range, e-mail and time zone rules). A value
//! that breaks them is a bug in the generator and ends the run with an
//! error naming the collection, the record and the attribute, never a
//! fixture that `check` refuses.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use super::{GenerateError, create_new, io_error};
use crate::domain::build::RecordBuilder;
use crate::domain::render::write_stored;
use crate::domain::resources::event_type;
use crate::domain::schema::Res;
use crate::domain::value::Val;

/// One collection file.
struct Out {
    res: Res,
    path: PathBuf,
    w: BufWriter<File>,
    /// Records written; the next record's id is one more.
    count: u64,
    /// The line being written (reused).
    line: Vec<u8>,
    /// The record being filled (reused).
    rec: RecordBuilder,
}

impl Out {
    fn create(dir: &Path, res: Res) -> Result<Out, GenerateError> {
        let path = dir.join(format!("{}.json", res.name()));
        let mut w = BufWriter::with_capacity(1 << 16, create_new(&path)?);
        w.write_all(b"[").map_err(io_error("write", &path))?;
        Ok(Out {
            res,
            path,
            w,
            count: 0,
            line: Vec::with_capacity(1024),
            rec: RecordBuilder::new(res),
        })
    }

    fn invalid(&self, attr: &str, message: String) -> GenerateError {
        GenerateError::Invalid {
            collection: self.res.name(),
            id: self.count + 1,
            attr: attr.to_string(),
            message,
        }
    }

    /// Checks the record that was filled and appends it; returns its id.
    fn write(&mut self) -> Result<i64, GenerateError> {
        let id = self.count + 1;
        let info = self.rec.info();
        match &self.rec.vals()[info.key_slot] {
            Val::Int(n) if u64::try_from(*n) == Ok(id) => {}
            Val::Int(n) => {
                return Err(self.invalid(info.key_name(), format!("id {n} where {id} comes next")));
            }
            _ => return Err(self.invalid(info.key_name(), "the primary key is missing".into())),
        }
        if let Some(p) = self.rec.problems().into_iter().next() {
            return Err(self.invalid(p.attribute.unwrap_or_default(), p.message));
        }
        self.line.clear();
        self.line
            .extend_from_slice(if self.count == 0 { b"\n" } else { b",\n" });
        write_stored(&mut self.line, info, self.rec.vals());
        self.w
            .write_all(&self.line)
            .map_err(io_error("write", &self.path))?;
        self.count = id;
        Ok(id as i64)
    }

    fn finish(mut self) -> Result<u64, GenerateError> {
        self.w
            .write_all(b"\n]\n")
            .map_err(io_error("write", &self.path))?;
        self.w.flush().map_err(io_error("write", &self.path))?;
        Ok(self.count)
    }
}

/// The fourteen collection files, in [`Res`] order.
pub struct Outs {
    files: Vec<Out>,
}

impl Outs {
    pub fn create(dir: &Path) -> Result<Outs, GenerateError> {
        let files = Res::ALL
            .iter()
            .map(|&r| Out::create(dir, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Outs { files })
    }

    fn get(&mut self, res: Res) -> &mut Out {
        &mut self.files[res.index()]
    }

    /// The id the next record of `res` gets.
    pub fn next_id(&self, res: Res) -> i64 {
        self.files
            .get(res.index())
            .map_or(1, |o| o.count as i64 + 1)
    }

    /// A cleared record of `res` to fill, then [`Outs::emit`].
    pub fn rec(&mut self, res: Res) -> &mut RecordBuilder {
        let rec = &mut self.get(res).rec;
        rec.clear();
        rec
    }

    /// Writes the record of `res` that was filled; returns its id.
    pub fn emit(&mut self, res: Res) -> Result<i64, GenerateError> {
        self.get(res).write()
    }

    /// Writes a record of `res` that is already made (reference data).
    pub fn emit_vals(&mut self, res: Res, vals: &[Val]) -> Result<i64, GenerateError> {
        let out = self.get(res);
        out.rec = RecordBuilder::from_vals(res, vals);
        out.write()
    }

    /// Appends the event a record of `res` being added writes.
    pub fn added(
        &mut self,
        res: Res,
        at: i64,
        names: &[(&'static str, i64)],
    ) -> Result<(), GenerateError> {
        self.event(res.def().write.events.added, at, names)
    }

    /// Appends the event a record of `res` being modified writes.
    pub fn modified(
        &mut self,
        res: Res,
        at: i64,
        names: &[(&'static str, i64)],
    ) -> Result<(), GenerateError> {
        self.event(res.def().write.events.modified, at, names)
    }

    /// Appends an event of `type_id` naming `names`.
    pub fn event(
        &mut self,
        type_id: i64,
        at: i64,
        names: &[(&'static str, i64)],
    ) -> Result<(), GenerateError> {
        let Some(type_name) = event_type(type_id) else {
            let out = self.get(Res::Events);
            return Err(out.invalid("EventTypeId", format!("no event type {type_id}")));
        };
        let id = self.next_id(Res::Events);
        let r = self.rec(Res::Events);
        r.int("EventId", id)
            .int("EventTypeId", type_id)
            .str("EventType", type_name);
        for &(name, v) in names {
            r.int(name, v);
        }
        r.time("AddedOn", at);
        self.emit(Res::Events).map(|_| ())
    }

    /// Closes every file; returns the records written per collection.
    pub fn finish(self) -> Result<Vec<(&'static str, u64)>, GenerateError> {
        self.files
            .into_iter()
            .map(|o| {
                let name = o.res.name();
                o.finish().map(|n| (name, n))
            })
            .collect()
    }
}
