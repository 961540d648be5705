//! The generic engine: list and read over the store for one partner, driven
//! by the resource tables. Partner scope is enforced here and only here:
//! every record a partner can reach goes through [`visible`].

use super::render;
use super::schema::{Res, ResourceInfo, Scope};
use crate::store::{Record, State};

/// What the engine refuses; the HTTP edge turns it into a status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Absent, or outside the partner's scope (indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(String),
}

/// Whether `partner` may see `rec` (API.md section 1, "Scope").
pub fn visible(info: &ResourceInfo, rec: &Record, partner: i64) -> bool {
    matches!(info.def.scope, Scope::Global) || rec.owner == partner
}

/// The record with primary key `id` of `res`, if `partner` may see it.
pub fn scoped_get(state: &State, res: Res, id: i64, partner: i64) -> Option<&Record> {
    state
        .get(res, id)
        .filter(|r| visible(res.info(), r, partner))
}

/// One page of the partner's records, in descending primary-key order:
/// `{"data": [...], "page_no": N, "page_size": M}`. Costs O(page size) for
/// scoped collections, whatever the size of the store.
pub fn list(state: &State, res: Res, partner: i64, page_no: u64, page_size: u64) -> Vec<u8> {
    let info = res.info();
    let table = state.table(res);
    let skip = page_no.saturating_sub(1).saturating_mul(page_size);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(usize::MAX);
    match table.visible_ids(info, partner) {
        Some(ids) => {
            let end = ids.len().saturating_sub(skip);
            let start = end.saturating_sub(take);
            let recs = ids[start..end]
                .iter()
                .rev()
                .filter_map(|id| table.rows.get(id));
            render::list_envelope(state, info, recs, page_no, page_size)
        }
        None => {
            let recs = table.rows.values().rev().skip(skip).take(take);
            render::list_envelope(state, info, recs, page_no, page_size)
        }
    }
}

/// `{"data": {record}}` for a record the partner may see.
pub fn read(state: &State, res: Res, id: i64, partner: i64) -> Result<Vec<u8>, EngineError> {
    let rec = scoped_get(state, res, id, partner).ok_or_else(|| not_found(res, id))?;
    Ok(render::element_envelope(state, res.info(), rec))
}

fn not_found(res: Res, id: i64) -> EngineError {
    EngineError::NotFound(format!("{} {id}", res.info().key_name()))
}
