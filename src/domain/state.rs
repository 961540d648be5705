//! The data the API serves: [`State`] holds every collection as a [`Table`]
//! of [`Record`]s with its indexes, the API keys and the used Tokens. Plain
//! data changed by synchronous calls; the store shares it, the engine reads
//! and writes it.
//!
//! Every part is persistent data with structural sharing (`imbl`'s B-tree
//! maps and RRB vectors, values and keys behind an `Arc`): cloning a `State`
//! costs O(1) time and memory whatever its size, and a write to either copy
//! copies the O(log n) nodes on its path, never a table.

use std::collections::HashMap;
use std::sync::Arc;

use imbl::{OrdMap, Vector};

use super::compat::Compat;
use super::faults::FaultRule;
use super::schedule::Schedule;
use super::schema::{Res, ResourceInfo, Scope};
use super::value::Val;

/// How long a Token stays used (API.md section 2, "Duplicate prevention").
pub const TOKEN_WINDOW_MS: i64 = 60 * 60 * 1000;

/// `Record::owner` of reference data, which every partner sees.
pub const OWNER_GLOBAL: i64 = 0;
/// `Record::owner` of a history record whose owner no longer exists.
pub const OWNER_NOBODY: i64 = -1;

/// Ids in ascending order, persistent: a clone shares it, an insertion or
/// removal copies O(log n), and the i-th id costs O(log n), so a page of it
/// costs O(page size + log n).
pub type Ids = Vector<i64>;

/// One stored record.
#[derive(Clone, Debug)]
pub struct Record {
    /// One value per stored attribute, in the resource table's slot order;
    /// shared, so copying a tree node of records never copies values.
    pub vals: Arc<[Val]>,
    /// The PartnerId whose scope the record is in, computed once when the
    /// record is stored (owners never change: the attributes that decide it
    /// are set on POST only), or [`OWNER_GLOBAL`] / [`OWNER_NOBODY`].
    pub owner: i64,
}

/// One collection with its indexes. Cloning it is O(1) (shared structure).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Records by primary key; ascending order is the list order reversed.
    pub rows: OrdMap<i64, Record>,
    /// Ids of each partner's records, ascending, so a scoped page costs
    /// O(page size + log n) whatever the size of the store.
    pub by_owner: OrdMap<i64, Ids>,
    /// For collections that fill a child array (job items, log items): ids
    /// of each parent's children, ascending.
    pub by_parent: OrdMap<i64, Ids>,
    /// The id the next created record gets: above every id ever loaded or
    /// handed out, so ids are never reused.
    pub next_id: i64,
}

/// Records per leaf of the persistent map (imbl's node size).
const LEAF: usize = 16;

/// The same map with its leaves full. Inserting ids in ascending order (as
/// a fixture file lists them) splits each full leaf in the middle and never
/// fills the left half again, so every leaf ends half empty: 32 bytes lost
/// per record. Inserting the first half of every run of 16 ids, then the
/// second half, leaves each leaf holding one run whole.
fn packed(rows: &OrdMap<i64, Record>) -> OrdMap<i64, Record> {
    if rows.len() <= LEAF {
        return rows.clone();
    }
    packed_from(rows.iter().map(|(id, rec)| (*id, rec.clone())).collect())
}

/// The map of `sorted` (ids ascending, each once) with its leaves full,
/// as [`packed`] makes it, in one pass of inserts.
pub fn packed_from(sorted: Vec<(i64, Record)>) -> OrdMap<i64, Record> {
    let mut out = OrdMap::new();
    let mid = LEAF / 2;
    for run in sorted.chunks(LEAF) {
        for (id, rec) in &run[..run.len().min(mid)] {
            out.insert(*id, rec.clone());
        }
    }
    for run in sorted.chunks(LEAF) {
        for (id, rec) in run.get(mid..).unwrap_or_default() {
            out.insert(*id, rec.clone());
        }
    }
    out
}

impl Table {
    /// Rebuilds the indexes from `rows` (after loading), and packs `rows`.
    pub fn build_indexes(&mut self, info: &ResourceInfo) {
        self.rows = packed(&self.rows);
        self.index(info);
    }

    /// Rebuilds the indexes from `rows`, which are packed already.
    pub fn index(&mut self, info: &ResourceInfo) {
        // collected in plain maps first: one persistent structure built per
        // list, rather than one copy-on-write step per id
        let mut by_owner: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut by_parent: HashMap<i64, Vec<i64>> = HashMap::new();
        for (&id, rec) in &self.rows {
            if !matches!(info.def.scope, Scope::Global) {
                by_owner.entry(rec.owner).or_default().push(id);
            }
            if let Some(p) = info.parent_slot.and_then(|s| rec.vals[s].as_int()) {
                by_parent.entry(p).or_default().push(id);
            }
        }
        let persist = |m: HashMap<i64, Vec<i64>>| -> OrdMap<i64, Ids> {
            m.into_iter().map(|(k, v)| (k, Ids::from(v))).collect()
        };
        self.by_owner = persist(by_owner);
        self.by_parent = persist(by_parent);
        let max = self.rows.get_max().map_or(0, |(k, _)| *k);
        self.next_id = self.next_id.max(max + 1);
    }

    /// The ids a partner sees in this collection, ascending, or `None` for
    /// reference data (every record visible).
    pub fn visible_ids(&self, info: &ResourceInfo, partner: i64) -> Option<&Ids> {
        static NONE: std::sync::LazyLock<Ids> = std::sync::LazyLock::new(Ids::new);
        match info.def.scope {
            Scope::Global => None,
            _ => Some(self.by_owner.get(&partner).unwrap_or(&NONE)),
        }
    }

    /// The ids of `parent`'s children (collections with a child array).
    pub fn children_of(&self, parent: i64) -> impl DoubleEndedIterator<Item = i64> + '_ {
        self.by_parent.get(&parent).into_iter().flatten().copied()
    }
}

/// What an API key opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Partner {
        partner_id: i64,
        partner_plan: bool,
    },
    /// Opens the sandbox control API and nothing else.
    Admin,
}

/// Why a key does not open `/api/` (API.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiRefusal {
    /// Admin keys open the sandbox control API only.
    AdminKey,
    NoPartnerPlan,
    /// The partner is inactive (or no longer exists).
    InactivePartner,
}

/// One entry of `apikeys.json`.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub key: String,
    pub kind: KeyKind,
}

/// Everything the API serves, as loaded from fixtures and changed since.
///
/// `Clone` is a fork: O(1) in time and memory whatever the size of the data
/// (every table, index and token map is shared, the keys sit behind an
/// `Arc`), and afterwards writes to either side never show in the other; a
/// write copies the O(log n) tree nodes on its path. Sessions fork with it,
/// checkpoints and the reset base are clones.
#[derive(Clone, Debug)]
pub struct State {
    /// One table per collection, in [`Res`] order.
    pub tables: Vec<Table>,
    /// Set at load time only; shared by every clone.
    pub keys: Arc<Vec<ApiKey>>,
    /// SHA-256 of each key -> its index in `keys`: a lookup whose timing
    /// depends on the digest only, never on how much of a key matches.
    pub key_index: Arc<HashMap<[u8; 32], usize>>,
    /// Sandbox-clock time of the load, in milliseconds.
    pub loaded_at: i64,
    /// Tokens partners used in successful writes: (PartnerId, Token) -> when.
    pub tokens: imbl::HashMap<(i64, String), i64>,
    /// Successful writes through the API since this state was loaded (a
    /// reload reports how many it discarded).
    pub changes: u64,
    /// The fault rules of `sandbox.json` (or the bundle's `sandbox`): a
    /// handful, bounded by that file, not by the data.
    pub faults: Vec<FaultRule>,
    /// The schedule (API.md section 11): its settings, generator and rules
    /// belong to the data, so checkpoints, resets and sessions carry them.
    pub schedule: Schedule,
    /// Compat mode (API.md section 12) as `sandbox.json` or a PUT set it;
    /// None leaves the command line's `--compat`.
    pub compat: Option<Compat>,
}

impl State {
    pub fn empty() -> State {
        State {
            tables: Res::ALL.iter().map(|_| Table::default()).collect(),
            keys: Arc::default(),
            key_index: Arc::default(),
            loaded_at: 0,
            tokens: imbl::HashMap::new(),
            changes: 0,
            faults: Vec::new(),
            schedule: Schedule::default(),
            compat: None,
        }
    }

    /// Stores a new record and indexes it; returns its owner.
    pub fn insert(&mut self, res: Res, id: i64, vals: impl Into<Arc<[Val]>>) -> i64 {
        let vals = vals.into();
        let info = res.info();
        let owner = self.owner_of(info, id, &vals);
        let parent = info.parent_slot.and_then(|s| vals[s].as_int());
        let table = &mut self.tables[res.index()];
        if !matches!(info.def.scope, Scope::Global) {
            insert_sorted(table.by_owner.entry(owner).or_default(), id);
        }
        if let Some(p) = parent {
            insert_sorted(table.by_parent.entry(p).or_default(), id);
        }
        table.rows.insert(id, Record { vals, owner });
        table.next_id = table.next_id.max(id + 1);
        owner
    }

    /// Replaces a record's values (its owner and parent never change).
    pub fn replace_vals(&mut self, res: Res, id: i64, vals: impl Into<Arc<[Val]>>) {
        if let Some(r) = self.tables[res.index()].rows.get_mut(&id) {
            r.vals = vals.into();
        }
    }

    /// Removes a record and its index entries.
    pub fn remove(&mut self, res: Res, id: i64) -> Option<Record> {
        let info = res.info();
        let table = &mut self.tables[res.index()];
        let rec = table.rows.remove(&id)?;
        if let Some(ids) = table.by_owner.get_mut(&rec.owner) {
            remove_sorted(ids, id);
        }
        if let Some(ids) = info
            .parent_slot
            .and_then(|s| rec.vals[s].as_int())
            .and_then(|p| table.by_parent.get_mut(&p))
        {
            remove_sorted(ids, id);
        }
        Some(rec)
    }

    /// Whether `partner` used `token` in a successful write within the window.
    pub fn token_used(&self, partner: i64, token: &str, now_ms: i64) -> bool {
        self.tokens
            .get(&(partner, token.to_string()))
            .is_some_and(|&t| now_ms - t < TOKEN_WINDOW_MS && now_ms >= t)
    }

    /// Records a successful write's token; forgets tokens past the window.
    pub fn use_token(&mut self, partner: i64, token: &str, now_ms: i64) {
        if self.tokens.len() >= 4096 && self.tokens.len().is_power_of_two() {
            self.tokens.retain(|_, t| now_ms - *t < TOKEN_WINDOW_MS);
        }
        self.tokens.insert((partner, token.to_string()), now_ms);
    }

    pub fn table(&self, res: Res) -> &Table {
        &self.tables[res.index()]
    }

    pub fn get(&self, res: Res, id: i64) -> Option<&Record> {
        self.table(res).rows.get(&id)
    }

    /// The partner whose scope a new record of `info` falls in.
    pub fn owner_of(&self, info: &ResourceInfo, id: i64, vals: &[Val]) -> i64 {
        match info.def.scope {
            Scope::Global => OWNER_GLOBAL,
            Scope::Own => id,
            Scope::Via(_) => info
                .scope_via
                .iter()
                .find_map(|&(slot, res)| {
                    vals[slot]
                        .as_int()
                        .and_then(|pid| self.get(res, pid))
                        .map(|r| r.owner)
                })
                .unwrap_or(OWNER_NOBODY),
        }
    }

    /// The partner a key opens `/api/` for: a partner key whose partner has a
    /// Partner Plan and is active.
    pub fn api_partner(&self, kind: &KeyKind) -> Result<i64, ApiRefusal> {
        match *kind {
            KeyKind::Admin => Err(ApiRefusal::AdminKey),
            KeyKind::Partner {
                partner_plan: false,
                ..
            } => Err(ApiRefusal::NoPartnerPlan),
            KeyKind::Partner { partner_id, .. } => {
                let partners = Res::Partners.info();
                let active = self.get(Res::Partners, partner_id).is_some_and(|p| {
                    !partners
                        .slot("IsInactive")
                        .is_some_and(|s| p.vals[s].is_true())
                });
                if active {
                    Ok(partner_id)
                } else {
                    Err(ApiRefusal::InactivePartner)
                }
            }
        }
    }

    /// Adds an API key to `keys` and its digest to `key_index`.
    pub fn add_key(&mut self, key: ApiKey) {
        let at = self.keys.len();
        Arc::make_mut(&mut self.key_index).insert(key_digest(&key.key), at);
        Arc::make_mut(&mut self.keys).push(key);
    }

    /// Number of records per collection, in [`Res`] order.
    pub fn counts(&self) -> Vec<(Res, usize)> {
        Res::ALL
            .iter()
            .map(|&r| (r, self.table(r).rows.len()))
            .collect()
    }
}

/// The SHA-256 digest API keys are looked up by.
pub fn key_digest(key: &str) -> [u8; 32] {
    sha256(key.as_bytes())
}

/// The SHA-256 digest of `bytes` (API keys, served snapshots).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn insert_sorted(ids: &mut Ids, id: i64) {
    match ids.last() {
        Some(&last) if last >= id => {
            if let Err(at) = ids.binary_search(&id) {
                ids.insert(at, id);
            }
        }
        _ => ids.push_back(id),
    }
}

fn remove_sorted(ids: &mut Ids, id: i64) {
    if let Ok(at) = ids.binary_search(&id) {
        ids.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_every_record_in_order() {
        for n in [0, 1, 15, 16, 17, 100, 1000, 4099] {
            let mut rows = OrdMap::new();
            for id in (1..=n).map(|i| i * 3) {
                let vals: Arc<[Val]> = Arc::from(vec![Val::Int(id)]);
                rows.insert(
                    id,
                    Record {
                        vals,
                        owner: id % 7,
                    },
                );
            }
            let p = packed(&rows);
            assert_eq!(p.len(), rows.len());
            let sorted: Vec<(i64, Record)> = rows.iter().map(|(k, r)| (*k, r.clone())).collect();
            let q = packed_from(sorted);
            assert_eq!(q.len(), p.len());
            assert!(
                q.iter()
                    .zip(&rows)
                    .all(|((a, x), (b, y))| a == b && Arc::ptr_eq(&x.vals, &y.vals))
            );
            assert!(p.iter().zip(&rows).all(|((a, x), (b, y))| a == b
                && x.owner == y.owner
                && Arc::ptr_eq(&x.vals, &y.vals)));
        }
    }

    fn vals(info: &ResourceInfo, key: i64, owner_ref: Option<(&str, i64)>) -> Vec<Val> {
        let mut v = vec![Val::Null; info.slots.len()];
        v[info.key_slot] = Val::Int(key);
        if let Some((name, id)) = owner_ref
            && let Some(s) = info.slot(name)
        {
            v[s] = Val::Int(id);
        }
        v
    }

    /// A state with `n` companies of partner 1 and one of partner 2.
    fn state_with(n: i64) -> State {
        let mut s = State::empty();
        for p in [1, 2] {
            s.insert(Res::Partners, p, vals(Res::Partners.info(), p, None));
        }
        let info = Res::Companies.info();
        for id in 1..=n {
            s.insert(Res::Companies, id, vals(info, id, Some(("PartnerId", 1))));
        }
        s.insert(
            Res::Companies,
            n + 1,
            vals(info, n + 1, Some(("PartnerId", 2))),
        );
        s
    }

    #[test]
    fn a_clone_shares_everything_until_written() {
        let base = state_with(10_000);
        let fork = base.clone();
        for (a, b) in base.tables.iter().zip(&fork.tables) {
            assert!(a.rows.ptr_eq(&b.rows));
            assert!(a.by_owner.ptr_eq(&b.by_owner));
            assert!(a.by_parent.ptr_eq(&b.by_parent));
        }
        assert!(Arc::ptr_eq(&base.keys, &fork.keys));
        assert!(Arc::ptr_eq(&base.key_index, &fork.key_index));
        let (a, b) = (base.get(Res::Companies, 7), fork.get(Res::Companies, 7));
        assert!(Arc::ptr_eq(&a.unwrap().vals, &b.unwrap().vals));
    }

    #[test]
    fn writes_to_a_clone_leave_the_original_unchanged() {
        let base = state_with(1000);
        let mut fork = base.clone();
        let info = Res::Companies.info();
        fork.insert(
            Res::Companies,
            5000,
            vals(info, 5000, Some(("PartnerId", 1))),
        );
        fork.remove(Res::Companies, 3);
        fork.replace_vals(Res::Companies, 4, vals(info, 4, Some(("PartnerId", 2))));
        fork.use_token(1, "t", 10);
        fork.changes += 1;

        assert!(base.get(Res::Companies, 5000).is_none());
        assert!(base.get(Res::Companies, 3).is_some());
        let partner = info.slot("PartnerId").unwrap();
        assert_eq!(
            base.get(Res::Companies, 4).unwrap().vals[partner],
            Val::Int(1)
        );
        assert_eq!(
            fork.get(Res::Companies, 4).unwrap().vals[partner],
            Val::Int(2)
        );
        assert!(!base.token_used(1, "t", 11) && fork.token_used(1, "t", 11));
        let ids = |s: &State| -> Vec<i64> {
            let t = s.table(Res::Companies);
            t.visible_ids(info, 1).unwrap().iter().copied().collect()
        };
        assert_eq!(ids(&base), (1..=1000).collect::<Vec<_>>());
        let mut expected: Vec<i64> = (1..=1000).filter(|&i| i != 3).collect();
        expected.push(5000);
        assert_eq!(ids(&fork), expected);
        // the untouched records are still shared with the original
        let (a, b) = (base.get(Res::Companies, 900), fork.get(Res::Companies, 900));
        assert!(Arc::ptr_eq(&a.unwrap().vals, &b.unwrap().vals));
        assert!(
            base.table(Res::Partners)
                .rows
                .ptr_eq(&fork.table(Res::Partners).rows)
        );
    }

    #[test]
    fn indexes_built_after_loading_match_inserts() {
        let mut s = state_with(300);
        let t = &mut s.tables[Res::Companies.index()];
        let before: Vec<(i64, Vec<i64>)> = t
            .by_owner
            .iter()
            .map(|(k, v)| (*k, v.iter().copied().collect()))
            .collect();
        t.build_indexes(Res::Companies.info());
        let after: Vec<(i64, Vec<i64>)> = t
            .by_owner
            .iter()
            .map(|(k, v)| (*k, v.iter().copied().collect()))
            .collect();
        assert_eq!(before, after);
        assert_eq!(t.next_id, 302);
    }
}
