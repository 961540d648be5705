//! The data of one collection as the console browses it
//! (`GET /_sandbox/data/{collection}`): every partner's records, rendered
//! as `/api/` renders them (embedded objects, child arrays), newest first,
//! paged, searchable, with the references each record's attributes make.

use std::io::Write as _;

use super::render;
use super::rules::ViewCtx;
use super::schema::Res;
use super::state::{Record, State};
use super::value::{Val, format_timestamp};

/// Largest page the console asks for.
pub const MAX_PAGE_SIZE: usize = 500;

/// What a browse asks for.
#[derive(Clone, Debug)]
pub struct Browse {
    /// Only records one of whose stored values contains this text
    /// (case-insensitive; numbers and times as written).
    pub search: Option<String>,
    /// Only the record with this primary key.
    pub id: Option<i64>,
    /// From 1.
    pub page_no: usize,
    /// From 1 to [`MAX_PAGE_SIZE`].
    pub page_size: usize,
}

/// `{"collection", "key", "links": [{"attribute", "collection"}], "total",
/// "page_no", "page_size", "data": [records]}`; `total` counts the records
/// that match, on every page.
pub fn page(state: &State, view: &ViewCtx, res: Res, q: &Browse) -> Vec<u8> {
    let info = res.info();
    let table = state.table(res);
    let needle = q.search.as_deref().map(str::to_lowercase);
    let matches = |rec: &Record| {
        needle
            .as_deref()
            .is_none_or(|n| rec.vals.iter().any(|v| contains(v, n)))
    };
    let skip = q.page_no.saturating_sub(1).saturating_mul(q.page_size);
    let mut total = 0usize;
    let mut shown: Vec<&Record> = Vec::new();
    if q.id.is_none() && needle.is_none() {
        total = table.rows.len();
        shown.extend(table.rows.values().rev().skip(skip).take(q.page_size));
    } else {
        let candidates: Box<dyn Iterator<Item = &Record>> = match q.id {
            Some(id) => Box::new(table.rows.get(&id).into_iter()),
            None => Box::new(table.rows.values().rev()),
        };
        for rec in candidates.filter(|r| matches(r)) {
            if total >= skip && shown.len() < q.page_size {
                shown.push(rec);
            }
            total += 1;
        }
    }
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"collection\":");
    render::write_str(&mut out, res.name());
    out.extend_from_slice(b",\"key\":");
    render::write_str(&mut out, info.key_name());
    out.extend_from_slice(b",\"links\":[");
    let links = info
        .stored()
        .filter_map(|(_, a)| a.refs.map(|r| (a.name, r)));
    for (n, (attr, target)) in links.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"attribute\":");
        render::write_str(&mut out, attr);
        out.extend_from_slice(b",\"collection\":");
        render::write_str(&mut out, target.name());
        out.push(b'}');
    }
    let _ = write!(
        out,
        "],\"total\":{total},\"page_no\":{},\"page_size\":{},\"data\":[",
        q.page_no, q.page_size
    );
    for (n, rec) in shown.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        render::write_record(&mut out, state, view, info, rec, render::Level::Top);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Whether a stored value, as written, contains `needle` (lower case).
fn contains(v: &Val, needle: &str) -> bool {
    match v {
        Val::Null | Val::Bool(_) => false,
        Val::Int(i) => i.to_string().contains(needle),
        Val::Time(ms) => format_timestamp(*ms).to_lowercase().contains(needle),
        Val::Str(s) => s.to_lowercase().contains(needle),
    }
}
