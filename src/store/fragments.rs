//! The memo of rendered record fragments (see `domain::render::Fragment`),
//! one per process, shared by every session: sessions share record
//! versions, so they share their fragments too.
//!
//! Keyed by the identity of a version's values (the address of its
//! `Arc<[Val]>`), and each entry holds that `Arc`, so the address cannot be
//! reused by another version while the entry lives: a hit is always the
//! fragment of exactly that version. Bounded in bytes: each of 16 shards
//! keeps a young and an old generation; a hit in the old one moves the entry
//! to the young one, and when the young one is full the old one is dropped
//! and the young one becomes old (least recently used, nearly, at the cost
//! of two map lookups at most).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rustc_hash::FxBuildHasher;

use crate::domain::render::{Fragment, Fragments};
use crate::domain::value::Val;

/// Bytes of fragments kept, at most, over all shards (both generations).
pub const BUDGET: usize = 64 * 1024 * 1024;
const SHARDS: usize = 16;
/// What an entry costs besides its bytes (map slot, `Arc`s, holes).
const ENTRY_OVERHEAD: usize = 96;

/// The process's memo.
pub static MEMO: LazyLock<Memo> = LazyLock::new(|| Memo::new(BUDGET));

struct Entry {
    /// Keeps the version alive, so its address names it alone.
    _vals: Arc<[Val]>,
    fragment: Arc<Fragment>,
}

#[derive(Default)]
struct Generation {
    map: HashMap<usize, Entry, FxBuildHasher>,
    bytes: usize,
}

#[derive(Default)]
struct Shard {
    young: Generation,
    old: Generation,
}

/// A bounded memo of fragments.
pub struct Memo {
    shards: Vec<Mutex<Shard>>,
    /// Bytes per generation of one shard.
    limit: usize,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").field("limit", &self.limit).finish()
    }
}

fn key(vals: &Arc<[Val]>) -> usize {
    Arc::as_ptr(vals) as *const Val as usize
}

fn cost(f: &Fragment) -> usize {
    f.bytes.len() + 4 * f.holes.len() + ENTRY_OVERHEAD
}

impl Memo {
    /// A memo of at most `budget` bytes.
    pub fn new(budget: usize) -> Memo {
        Memo {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            limit: (budget / SHARDS / 2).max(1),
        }
    }

    fn shard(&self, key: usize) -> &Mutex<Shard> {
        // the low bits of an address are alignment; mix the rest
        let mixed = (key >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.shards[(mixed >> 60) % SHARDS]
    }

    /// Bytes held now (for tests and benchmarks).
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.young.bytes + s.old.bytes
            })
            .sum()
    }
}

impl Shard {
    fn insert_young(&mut self, key: usize, entry: Entry, limit: usize) {
        let c = cost(&entry.fragment);
        if self.young.bytes + c > limit {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.bytes += c;
        if let Some(was) = self.young.map.insert(key, entry) {
            self.young.bytes -= cost(&was.fragment);
        }
    }
}

impl Fragments for Memo {
    fn get(&self, vals: &Arc<[Val]>) -> Option<Arc<Fragment>> {
        let k = key(vals);
        let mut s = self.shard(k).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = s.young.map.get(&k) {
            return Some(e.fragment.clone());
        }
        let e = s.old.map.remove(&k)?;
        s.old.bytes -= cost(&e.fragment);
        let f = e.fragment.clone();
        s.insert_young(k, e, self.limit);
        Some(f)
    }

    fn put(&self, vals: &Arc<[Val]>, fragment: Arc<Fragment>) {
        if cost(&fragment) > self.limit {
            return; // larger than a generation: not worth keeping
        }
        let k = key(vals);
        let entry = Entry {
            _vals: vals.clone(),
            fragment,
        };
        let mut s = self.shard(k).lock().unwrap_or_else(|e| e.into_inner());
        s.insert_young(k, entry, self.limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(n: usize) -> Arc<Fragment> {
        Arc::new(Fragment {
            bytes: vec![b'x'; n].into_boxed_slice(),
            holes: Box::new([]),
        })
    }

    fn vals(i: i64) -> Arc<[Val]> {
        Arc::from(vec![Val::Int(i)])
    }

    #[test]
    fn a_version_finds_its_own_fragment_only() {
        let m = Memo::new(1 << 20);
        let (a, b) = (vals(1), vals(1));
        m.put(&a, frag(10));
        assert_eq!(m.get(&a).unwrap().bytes.len(), 10);
        assert!(m.get(&b).is_none(), "equal values, other version");
        // a dropped version's address may be reused, but not while the memo
        // holds it: the entry keeps it alive
        let addr = key(&a);
        drop(a);
        let c = vals(2);
        assert_ne!(key(&c), addr);
    }

    #[test]
    fn the_memo_stays_within_its_budget() {
        let budget = 64 * 1024;
        let m = Memo::new(budget);
        let keep: Vec<_> = (0..10_000).map(vals).collect();
        for v in &keep {
            m.put(v, frag(100));
            assert!(m.bytes() <= budget, "{} > {budget}", m.bytes());
        }
        // the most recent ones are there
        assert!(m.get(keep.last().unwrap()).is_some());
        let hits = keep.iter().filter(|v| m.get(v).is_some()).count();
        assert!(hits > 100 && hits < 10_000, "{hits}");
    }
}
