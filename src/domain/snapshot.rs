//! The whole current state as a bundle (API.md section 5): what
//! `GET /_sandbox/snapshot` answers and `--fixtures FILE.json` loads. Every
//! stored attribute is written, write-only ones included, so a snapshot loads
//! back into the same state.

use std::io::Write as _;

use super::state::{KeyKind, State};
use crate::domain::render::{write_str, write_val};
use crate::domain::schema::Res;

/// Writes the bundle: one member per collection (records in ascending id
/// order, one per line), `apikeys`, and `sandbox` when `sandbox_json` (the
/// settings as a JSON object) is given.
pub fn write_bundle(state: &State, sandbox_json: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    out.extend_from_slice(b"{");
    for (n, res) in Res::ALL.into_iter().enumerate() {
        if n > 0 {
            out.extend_from_slice(b",");
        }
        let info = res.info();
        let _ = write!(out, "\n\"{}\": [", res.name());
        for (i, rec) in state.table(res).rows.values().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
            out.push(b'{');
            for (k, (slot, a)) in info.stored().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_str(&mut out, a.name);
                out.push(b':');
                write_val(&mut out, &rec.vals[slot]);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"\n]");
    }
    out.extend_from_slice(b",\n\"apikeys\": [");
    for (i, k) in state.keys.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        let entry = match &k.kind {
            KeyKind::Admin => serde_json::json!({"ApiKey": k.key, "Admin": true}),
            KeyKind::Partner {
                partner_id,
                partner_plan,
            } => {
                serde_json::json!({"ApiKey": k.key, "PartnerId": partner_id, "PartnerPlan": partner_plan})
            }
        };
        let _ = serde_json::to_writer(&mut out, &entry);
    }
    out.extend_from_slice(b"\n]");
    if let Some(settings) = sandbox_json {
        out.extend_from_slice(b",\n\"sandbox\": ");
        out.extend_from_slice(settings);
    }
    out.extend_from_slice(b"\n}\n");
    out
}
