//! The whole current state as a bundle (API.md section 5): what
//! `GET /_sandbox/snapshot` answers and `--fixtures FILE.json` loads. Every
//! stored attribute is written, write-only ones included, so a snapshot loads
//! back into the same state.
//!
//! The store remembers the last snapshots it served ([`Served`]), so that a
//! snapshot sent back unchanged is known to hold the API changes made before
//! it was taken: loading it discards only those made since.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Mutex;

use super::{KeyKind, State};
use crate::api::render::{write_str, write_val};
use crate::api::schema::Res;

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

/// How many served snapshots are remembered.
const SERVED_KEPT: usize = 16;

/// The SHA-256 digest a served snapshot is recognised by.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The snapshots served lately: each one's digest, and the state it was
/// taken of (its store generation and its API changes at that moment).
#[derive(Debug, Default)]
pub struct Served {
    entries: Mutex<VecDeque<([u8; 32], u64, u64)>>,
}

impl Served {
    /// Remembers a snapshot of the state of `generation` holding `changes`.
    pub fn remember(&self, digest: [u8; 32], generation: u64, changes: u64) {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if e.len() == SERVED_KEPT {
            e.pop_front();
        }
        e.push_back((digest, generation, changes));
    }

    /// The API changes a bundle holds when it is a snapshot served of the
    /// state of `generation`.
    pub fn changes_held(&self, digest: &[u8; 32], generation: u64) -> Option<u64> {
        let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.iter()
            .rev()
            .find(|(d, g, _)| d == digest && *g == generation)
            .map(|&(_, _, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_snapshots_are_recognised_by_digest_and_generation() {
        let served = Served::default();
        let a = digest(b"{}");
        served.remember(a, 3, 2);
        assert_eq!(served.changes_held(&a, 3), Some(2));
        assert_eq!(served.changes_held(&a, 4), None, "another state");
        assert_eq!(served.changes_held(&digest(b"{ }"), 3), None);
        for g in 0..SERVED_KEPT as u64 {
            served.remember(digest(&g.to_le_bytes()), 3, g);
        }
        assert_eq!(served.changes_held(&a, 3), None, "forgotten");
    }
}
