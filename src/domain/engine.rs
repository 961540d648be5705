//! The generic engine: list, read, create, update and delete over a
//! [`State`] for one partner, driven by the resource tables. Partner scope is
//! enforced here and only here: every record a partner can reach goes
//! through [`visible`]. A write changes nothing unless every check passes
//! (the store runs each under its write lock, one at a time).

use super::build::{self, RecordBuilder};
use super::input::{Field, Input};
use super::mail::Mail;
use super::render::{self, Level};
use super::resources::event_type;
use super::rules::{CreateCtx, ViewCtx};
use super::schema::{Res, ResourceInfo, Scope, flag};
use super::state::{Record, State};
use super::validate::{self, Mode, Problem, Validated};
use super::value::Val;

/// What the engine refuses; the HTTP edge turns it into a status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Absent, or outside the partner's scope (indistinguishable on purpose).
    #[error("{0} does not exist.")]
    NotFound(String),
    /// Validation: every problem, each with its attribute and sentence.
    #[error("{}", sentences(.0).join(" "))]
    Invalid(Vec<Problem>),
    /// A Token already used within the window.
    #[error("{0}")]
    Duplicate(String),
    /// A delete the data does not allow.
    #[error("{0}")]
    Conflict(String),
}

/// The sentences of `problems`, in order.
pub fn sentences(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|p| p.message.clone()).collect()
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

/// The record a partner names in a path: 404 when absent or out of scope.
pub fn find(state: &State, res: Res, id: i64, partner: i64) -> Result<&Record, EngineError> {
    scoped_get(state, res, id, partner).ok_or_else(|| not_found(res, id))
}

fn not_found(res: Res, id: i64) -> EngineError {
    EngineError::NotFound(format!("{} {id}", res.info().key_name()))
}

/// Largest `PageSize` served; larger values are served as this (API.md section 1).
pub const MAX_PAGE_SIZE: u64 = 500;
/// `PageSize` when the request names none.
pub const DEFAULT_PAGE_SIZE: u64 = 25;

/// One page of the partner's records, in descending primary-key order:
/// `{"data": [...], "page_no": N, "page_size": M}`. Costs O(page size) for
/// scoped collections, whatever the size of the store.
pub fn list(
    state: &State,
    view: &ViewCtx,
    res: Res,
    partner: i64,
    page_no: u64,
    page_size: u64,
) -> Vec<u8> {
    let info = res.info();
    let table = state.table(res);
    let skip = page_no.saturating_sub(1).saturating_mul(page_size);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(usize::MAX);
    match table.visible_ids(info, partner) {
        Some(ids) => {
            let end = ids.len().saturating_sub(skip);
            let start = end.saturating_sub(take);
            let recs = (start..end)
                .rev()
                .filter_map(|i| ids.get(i))
                .filter_map(|id| table.rows.get(id));
            render::list_envelope(state, view, info, recs, page_no, page_size)
        }
        None => {
            let recs = table.rows.values().rev().skip(skip).take(take);
            render::list_envelope(state, view, info, recs, page_no, page_size)
        }
    }
}

/// `{"data": {record}}` for a record the partner may see.
pub fn read(
    state: &State,
    view: &ViewCtx,
    res: Res,
    id: i64,
    partner: i64,
) -> Result<Vec<u8>, EngineError> {
    let rec = find(state, res, id, partner)?;
    Ok(render::element_envelope(
        state,
        view,
        res.info(),
        rec,
        Level::Top,
    ))
}

/// What a write needs besides the body.
#[derive(Clone, Copy, Debug)]
pub struct WriteCtx {
    /// The sandbox clock, UTC milliseconds.
    pub now_ms: i64,
    pub strict: bool,
    pub view: ViewCtx,
}

/// A successful write.
#[derive(Debug)]
pub struct Written {
    pub id: i64,
    /// `{"data": {record}}`: the record as stored (as it was, for a delete).
    pub body: Vec<u8>,
    /// Why attributes sent were ignored.
    pub warnings: Vec<String>,
    /// E-mails the write sends.
    pub mails: Vec<Mail>,
}

/// What the body's `Token` asks for: duplicate prevention with this Token,
/// none (no Token, or not a string: validation refuses that), or none
/// because the Token is empty or only white space (API.md section 2).
enum TokenUse {
    Use(String),
    Absent,
    Empty,
}

/// The warning an empty Token gets.
pub const EMPTY_TOKEN_WARNING: &str =
    "Token is empty: it was treated as absent, so no duplicate prevention applies.";

/// Refuses a Token the partner already used successfully within the window.
fn check_token(
    state: &State,
    partner: i64,
    body: &Input,
    now_ms: i64,
) -> Result<TokenUse, EngineError> {
    match body.get("Token") {
        Some(Field::Str(t)) if t.trim().is_empty() => Ok(TokenUse::Empty),
        Some(Field::Str(t)) if state.token_used(partner, t, now_ms) => {
            Err(EngineError::Duplicate(format!(
                "This request is a duplicate: Token \"{t}\" was already used by a successful request in the last 60 minutes, \
             so nothing was changed."
            )))
        }
        Some(Field::Str(t)) => Ok(TokenUse::Use(t.to_string())),
        _ => Ok(TokenUse::Absent),
    }
}

/// A write that passed its checks: what [`finish`] needs once it is stored.
struct Change {
    res: Res,
    id: i64,
    partner: i64,
    /// The request's Token, remembered once the write succeeded.
    token: Option<String>,
}

/// The common start of a create or update: the Token, then validation of
/// the body (merged into `base` on update).
fn begin(
    state: &State,
    ctx: &WriteCtx,
    change: (Res, i64, i64),
    mode: Mode,
    base: Option<&[Val]>,
    body: &Input,
) -> Result<(Change, Validated), EngineError> {
    let (res, id, partner) = change;
    let token = check_token(state, partner, body, ctx.now_ms)?;
    let request = validate::Request {
        info: res.info(),
        mode,
        partner,
        id,
        base,
        body,
        strict: ctx.strict,
    };
    let mut validated = validate::validate(state, &request).map_err(EngineError::Invalid)?;
    let token = match token {
        TokenUse::Use(t) => Some(t),
        TokenUse::Absent => None,
        TokenUse::Empty => {
            if let Some(slot) = res.info().slot("Token") {
                validated.vals[slot] = Val::Null; // absent: nothing is stored
            }
            validated.warnings.push(EMPTY_TOKEN_WARNING.into());
            None
        }
    };
    let change = Change {
        res,
        id,
        partner,
        token,
    };
    Ok((change, validated))
}

/// POST: validates, generates the sandbox's values, stores, and records the
/// event; `Written::body` is the new record.
pub fn create(
    state: &mut State,
    ctx: &WriteCtx,
    res: Res,
    partner: i64,
    body: &Input,
) -> Result<Written, EngineError> {
    let info = res.info();
    let id = state.table(res).next_id.max(1);
    let (change, Validated { vals, warnings }) =
        begin(state, ctx, (res, id, partner), Mode::Create, None, body)?;
    let mut rec = RecordBuilder::from_vec(res, vals);
    rec.int(info.key_name(), id)
        .time("AddedOn", ctx.now_ms)
        .set("UpdatedOn", Val::Null);
    let mut mails = Vec::new();
    if let Some(hook) = info.def.write.on_create {
        hook(&mut CreateCtx {
            state,
            rec: &mut rec,
            now_ms: ctx.now_ms,
            mails: &mut mails,
        });
    }
    state.insert(res, id, rec.build());
    finish(
        state,
        ctx,
        change,
        info.def.write.events.added,
        (warnings, mails),
    )
}

/// The common end of a create or update, once the record is stored: its
/// event of type `event`, its Token, the change count, and the record as
/// stored.
fn finish(
    state: &mut State,
    ctx: &WriteCtx,
    change: Change,
    event: i64,
    (warnings, mails): (Vec<String>, Vec<Mail>),
) -> Result<Written, EngineError> {
    let Change {
        res,
        id,
        partner,
        token,
    } = change;
    let vals = state
        .get(res, id)
        .ok_or_else(|| not_found(res, id))?
        .vals
        .clone();
    let names = event_names(state, res, &vals);
    append_event(state, event, &names, ctx.now_ms);
    if let Some(t) = token {
        state.use_token(partner, &t, ctx.now_ms);
    }
    state.changes += 1;
    let rec = state.get(res, id).ok_or_else(|| not_found(res, id))?;
    Ok(Written {
        id,
        body: render::element_envelope(state, &ctx.view, res.info(), rec, Level::Written),
        warnings,
        mails,
    })
}

/// PUT: merges the body into the stored record; the merged record must
/// satisfy every rule.
pub fn update(
    state: &mut State,
    ctx: &WriteCtx,
    res: Res,
    id: i64,
    partner: i64,
    body: &Input,
) -> Result<Written, EngineError> {
    let base = scoped_get(state, res, id, partner)
        .ok_or_else(|| not_found(res, id))?
        .vals
        .clone();
    let (change, Validated { vals, warnings }) = begin(
        state,
        ctx,
        (res, id, partner),
        Mode::Update,
        Some(&base),
        body,
    )?;
    let mut rec = RecordBuilder::from_vec(res, vals);
    rec.time("UpdatedOn", ctx.now_ms);
    state.replace_vals(res, id, rec.build());
    let event = res.def().write.events.modified;
    finish(state, ctx, change, event, (warnings, Vec::new()))
}

/// The ids of `child` records whose attribute `fk` names `id`, ascending.
fn children(state: &State, child: Res, fk: &str, id: i64, owner: i64) -> Vec<i64> {
    let info = child.info();
    let table = state.table(child);
    let slot = build::slot(info, fk);
    if info.parent_slot == Some(slot) {
        return table.children_of(id).collect();
    }
    table
        .by_owner
        .get(&owner)
        .into_iter()
        .flatten()
        .copied()
        .filter(|cid| {
            table
                .rows
                .get(cid)
                .is_some_and(|r| r.vals[slot] == Val::Int(id))
        })
        .collect()
}

/// DELETE: refused while children block it or for an account owner;
/// `Written::body` is the record as it was.
pub fn delete(
    state: &mut State,
    ctx: &WriteCtx,
    res: Res,
    id: i64,
    partner: i64,
) -> Result<Written, EngineError> {
    let info = res.info();
    let key = info.key_name();
    let rec = find(state, res, id, partner)?;
    if let Some(a) = info
        .stored()
        .find(|(s, a)| a.has(flag::PROTECTS) && rec.vals[*s].is_true())
        .map(|(_, a)| a)
    {
        return Err(EngineError::Conflict(format!(
            "{key} {id} is the account owner ({} is true) and cannot be deleted.",
            a.name
        )));
    }
    let blockers: Vec<String> = info
        .def
        .write
        .blocked_by
        .iter()
        .filter_map(|&(child, fk)| {
            let ids = children(state, child, fk, id, rec.owner);
            (!ids.is_empty()).then(|| {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(
                    "{} ({} {})",
                    child.name(),
                    child.info().key_name(),
                    list.join(", ")
                )
            })
        })
        .collect();
    if !blockers.is_empty() {
        return Err(EngineError::Conflict(format!(
            "{key} {id} cannot be deleted while it has {}: delete those first.",
            blockers.join(" and ")
        )));
    }
    let body = render::element_envelope(state, &ctx.view, info, rec, Level::Written);
    let owner = rec.owner;
    for &(child, fk) in info.def.write.cascade {
        for cid in children(state, child, fk, id, owner) {
            remove_with_event(state, child, cid, ctx.now_ms);
        }
    }
    remove_with_event(state, res, id, ctx.now_ms);
    state.changes += 1;
    Ok(Written {
        id,
        body,
        warnings: Vec::new(),
        mails: Vec::new(),
    })
}

fn remove_with_event(state: &mut State, res: Res, id: i64, now_ms: i64) {
    let Some(vals) = state.get(res, id).map(|r| r.vals.clone()) else {
        return;
    };
    let names = event_names(state, res, &vals);
    append_event(state, res.def().write.events.deleted, &names, now_ms);
    state.remove(res, id);
}

/// The ids an event about this record names: the record itself and its
/// owners up the scope chain (job, device, company). The PartnerId is named
/// only for records directly under a partner (partner users, companies).
pub fn event_names(state: &State, res: Res, vals: &[Val]) -> Vec<(&'static str, i64)> {
    let mut info = res.info();
    let mut names = Vec::new();
    if let Some(id) = vals[info.key_slot].as_int() {
        names.push((info.key_name(), id));
    }
    let mut current = vals;
    let mut hops = 0;
    while let Some((slot, target, id)) = info
        .scope_via
        .iter()
        .find_map(|&(slot, target)| current[slot].as_int().map(|id| (slot, target, id)))
    {
        let name = info.def.attrs[info.slots[slot]].name;
        if !(target == Res::Partners && hops > 0) {
            names.push((name, id));
        }
        let Some(parent) = state.get(target, id) else {
            break;
        };
        current = &parent.vals;
        info = target.info();
        hops += 1;
    }
    names
}

/// Appends an event of `type_id` naming `names` (no event when 0).
pub fn append_event(state: &mut State, type_id: i64, names: &[(&str, i64)], now_ms: i64) {
    let Some(type_name) = event_type(type_id) else {
        return;
    };
    let id = state.table(Res::Events).next_id.max(1);
    let mut event = RecordBuilder::new(Res::Events);
    event
        .int("EventId", id)
        .int("EventTypeId", type_id)
        .str("EventType", type_name);
    for &(name, v) in names {
        event.int(name, v);
    }
    event.time("AddedOn", now_ms);
    state.insert(Res::Events, id, event.build());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::{op, schema};

    /// A create stamps AddedOn and UpdatedOn, an update UpdatedOn: every
    /// table that takes writes must have them (the builder panics if not).
    #[test]
    fn every_writable_table_has_the_write_stamps() {
        for info in schema() {
            if info.def.ops & (op::CREATE | op::UPDATE) == 0 {
                continue;
            }
            let mut b = RecordBuilder::new(info.res());
            b.int(info.key_name(), 1)
                .time("AddedOn", 0)
                .time("UpdatedOn", 0);
            for &(child, fk) in info
                .def
                .write
                .blocked_by
                .iter()
                .chain(info.def.write.cascade)
            {
                build::slot(child.info(), fk);
            }
        }
    }
}
