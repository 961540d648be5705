//! Records to JSON: one-level embedding, child arrays, the timestamp format,
//! and the List / Read envelopes (API.md section 3). Writes straight into a
//! byte buffer; no intermediate JSON tree.

use std::io::Write as _;
use std::sync::Arc;

use super::rules::ViewCtx;
use super::schema::{Attr, Kind, ResourceInfo, flag};
use super::state::{Record, State};
use super::value::Val;
use crate::domain::value::push_timestamp;

/// Writes one value as JSON.
pub fn write_val(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Val::Time(ms) => {
            out.push(b'"');
            push_timestamp(out, *ms);
            out.push(b'"');
        }
        Val::Str(s) => write_str(out, s),
    }
}

/// Writes a JSON string literal, escaped as serde_json escapes it: `"`,
/// `\\` and the control characters (the short forms where JSON has them,
/// else `\u00xx`); everything else as it is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if !ESCAPED[usize::from(c)] {
            continue;
        }
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Writes `"name":` for an attribute name of the tables, which holds
/// nothing a JSON string escapes (a test checks every one).
fn write_name(out: &mut Vec<u8>, name: &str) {
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// The bytes a JSON string literal escapes: `"`, `\\` and the controls.
static ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Writes a record as a fixture file holds it: every stored attribute, in
/// table order, `null` where unset; nothing embedded and nothing hidden
/// (write-only values included). `generate` and `record` write with it.
pub fn write_stored(out: &mut Vec<u8>, info: &ResourceInfo, vals: &[Val]) {
    out.push(b'{');
    for ((s, a), v) in info.stored().zip(vals) {
        if s > 0 {
            out.push(b',');
        }
        write_name(out, a.name);
        write_val(out, v);
    }
    out.push(b'}');
}

/// One record version rendered as it shows one level down (embedded, or in
/// a child array): its attributes in table order, escaping done, each
/// Object- and Array-typed attribute `null`. `holes` are the offsets of
/// those `null`s, so the top-level form is the same bytes with the
/// embedded record and the children written in their place. It depends on
/// the stored values alone (a read-time view that changes them is rendered
/// without it), so one fragment serves every read of that version, in
/// every session that shares it.
#[derive(Debug)]
pub struct Fragment {
    pub bytes: Box<[u8]>,
    pub holes: Box<[u32]>,
}

/// A memo of fragments by record version (the identity of its `vals`),
/// which the store keeps. A version's fragment never changes, so a memo
/// never serves a stale byte: a write, reload, reset or restore brings other
/// versions, or versions whose fragments are still theirs.
pub trait Fragments: Send + Sync + std::fmt::Debug {
    fn get(&self, vals: &Arc<[Val]>) -> Option<Arc<Fragment>>;
    fn put(&self, vals: &Arc<[Val]>, fragment: Arc<Fragment>);
}

/// Writes a record's attributes in table order, escaping done, each
/// Object- and Array-typed attribute written by `hole` (at the offset it
/// gets in `out`).
fn write_attrs(
    out: &mut Vec<u8>,
    info: &ResourceInfo,
    vals: &[Val],
    mut hole: impl FnMut(&mut Vec<u8>, &Attr),
) {
    out.push(b'{');
    for (i, a) in info.def.attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_name(out, a.name);
        match info.slot_of[i] {
            Some(_) if a.has(flag::NULLED) => out.extend_from_slice(b"null"),
            Some(slot) => write_val(out, &vals[slot]),
            None => hole(out, a),
        }
    }
    out.push(b'}');
}

/// Renders the fragment of `vals` (stored values, or a view's).
pub fn fragment(info: &ResourceInfo, vals: &[Val]) -> Fragment {
    let mut out = Vec::with_capacity(64 * info.def.attrs.len());
    let mut holes = Vec::new();
    write_attrs(&mut out, info, vals, |out, _| {
        holes.push(out.len() as u32);
        out.extend_from_slice(b"null");
    });
    Fragment {
        bytes: out.into_boxed_slice(),
        holes: holes.into_boxed_slice(),
    }
}

/// Where a record is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// At top level (an element, a page's record), from its fragment,
    /// which is remembered.
    Top,
    /// At top level as the answer to a write: the version it brings is
    /// read again by a later request, if ever, which remembers it then.
    Written,
    /// One level down (embedded, or in a child array).
    Embedded,
}

/// Writes a record. At top level, each Object-typed attribute carries the
/// record it references rendered one level down, and each Array-typed
/// attribute its children; one level down both are null.
pub fn write_record(
    out: &mut Vec<u8>,
    state: &State,
    view: &ViewCtx,
    info: &ResourceInfo,
    rec: &Record,
    level: Level,
) {
    let derived = info.def.write.view.and_then(|f| f(info, &rec.vals, view));
    let vals: &[Val] = derived.as_deref().unwrap_or(&rec.vals);
    let top = level != Level::Embedded;
    if top && (derived.is_some() || level == Level::Written) {
        // rendered in place: no fragment to keep
        write_attrs(out, info, vals, |out, a| {
            write_embedded(out, state, view, info, vals, a);
        });
        return;
    }
    let frag = match &derived {
        Some(vals) => Arc::new(fragment(info, vals)),
        None => memo_fragment(view, info, &rec.vals),
    };
    if !top {
        out.extend_from_slice(&frag.bytes);
        return;
    }
    let mut at = 0;
    let mut holes = frag.holes.iter();
    for (i, a) in info.def.attrs.iter().enumerate() {
        if info.slot_of[i].is_some() {
            continue;
        }
        let Some(&hole) = holes.next() else { break };
        let hole = hole as usize;
        out.extend_from_slice(&frag.bytes[at..hole]);
        at = hole + b"null".len();
        write_embedded(out, state, view, info, vals, a);
    }
    out.extend_from_slice(&frag.bytes[at..]);
}

/// An Object-typed attribute's record one level down, or an Array-typed
/// attribute's children (`null` for any other attribute).
fn write_embedded(
    out: &mut Vec<u8>,
    state: &State,
    view: &ViewCtx,
    info: &ResourceInfo,
    vals: &[Val],
    a: &Attr,
) {
    match a.kind {
        Kind::Obj { res, via } => {
            let target = info
                .slot(via)
                .and_then(|s| vals[s].as_int())
                .and_then(|id| state.get(res, id));
            match target {
                Some(t) => write_record(out, state, view, res.info(), t, Level::Embedded),
                None => out.extend_from_slice(b"null"),
            }
        }
        Kind::Arr { res, .. } => {
            out.push(b'[');
            let key = vals[info.key_slot].as_int().unwrap_or_default();
            let table = state.table(res);
            for (n, rec) in table
                .children_of(key)
                .filter_map(|id| table.rows.get(&id))
                .enumerate()
            {
                if n > 0 {
                    out.push(b',');
                }
                write_record(out, state, view, res.info(), rec, Level::Embedded);
            }
            out.push(b']');
        }
        _ => out.extend_from_slice(b"null"),
    }
}

/// The fragment of a stored version: from the view's memo, or rendered now
/// (and remembered).
fn memo_fragment(view: &ViewCtx, info: &ResourceInfo, vals: &Arc<[Val]>) -> Arc<Fragment> {
    let Some(memo) = view.fragments else {
        return Arc::new(fragment(info, vals));
    };
    if let Some(f) = memo.get(vals) {
        return f;
    }
    let f = Arc::new(fragment(info, vals));
    memo.put(vals, f.clone());
    f
}

/// `{"data": {record}}`, the record at `level` ([`Level::Top`] for a read,
/// [`Level::Written`] for the answer to a write: the same bytes, but the
/// version the write brings is not remembered).
pub fn element_envelope(
    state: &State,
    view: &ViewCtx,
    info: &ResourceInfo,
    rec: &Record,
    level: Level,
) -> Vec<u8> {
    // most records with what they embed fit: no growing copy
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":");
    write_record(&mut out, state, view, info, rec, level);
    out.push(b'}');
    out
}

/// `{"data": [records], "page_no": N, "page_size": M}`
pub fn list_envelope<'a>(
    state: &State,
    view: &ViewCtx,
    info: &ResourceInfo,
    records: impl Iterator<Item = &'a Record>,
    page_no: u64,
    page_size: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":[");
    for (n, rec) in records.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_record(&mut out, state, view, info, rec, Level::Top);
        if n == 0 {
            // room for a page of records like the first: one allocation
            let each = out.len() + 1;
            let rest = usize::try_from(page_size.saturating_sub(1)).unwrap_or(0);
            out.reserve(each.saturating_mul(rest.min(1024)) + 64);
        }
    }
    let _ = write!(out, "],\"page_no\":{page_no},\"page_size\":{page_size}}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_need_no_escaping() {
        for res in crate::domain::schema::Res::ALL {
            for a in res.def().attrs {
                assert!(
                    !a.name.bytes().any(|b| ESCAPED[usize::from(b)]),
                    "{}",
                    a.name
                );
                let mut out = Vec::new();
                write_name(&mut out, a.name);
                assert_eq!(
                    out,
                    format!("{}:", serde_json::to_string(a.name).unwrap()).into_bytes()
                );
            }
        }
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut every: String = (0u8..=0x7f).map(char::from).collect();
        every.push_str("é€😀 \u{2028}\u{2029}");
        for s in [
            every.as_str(),
            "",
            "plain",
            "a\"b\\c",
            "\u{1}\u{1f}",
            "end\n",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }
}
