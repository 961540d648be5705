//! The data: one [`State`] (every collection, its indexes and the API keys)
//! behind one swap point, shared through the cheap-to-clone [`Store`] handle.
//!
//! Readers hold the read lock for one synchronous step (authenticate, look
//! up, render) and never across an `.await`; a reload builds a new `State`
//! off to the side and swaps it in with one assignment, so a request sees the
//! old data or the new, never a mix.

pub mod clock;
pub mod faults;
pub mod fixtures;
pub mod json_scan;
pub mod outbox;
pub mod snapshot;
pub mod value;
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::api::schema::{Res, ResourceInfo, Scope};
pub use clock::Clock;
pub use outbox::{Mail, Outbox};
pub use value::Val;

/// How long a Token stays used (API.md section 2, "Duplicate prevention").
pub const TOKEN_WINDOW_MS: i64 = 60 * 60 * 1000;

/// `Record::owner` of reference data, which every partner sees.
pub const OWNER_GLOBAL: i64 = 0;
/// `Record::owner` of a history record whose owner no longer exists.
pub const OWNER_NOBODY: i64 = -1;

/// One stored record.
#[derive(Clone, Debug)]
pub struct Record {
    /// One value per stored attribute, in the resource table's slot order.
    pub vals: Box<[Val]>,
    /// The PartnerId whose scope the record is in, computed once when the
    /// record is stored (owners never change: the attributes that decide it
    /// are set on POST only), or [`OWNER_GLOBAL`] / [`OWNER_NOBODY`].
    pub owner: i64,
}

/// One collection with its indexes.
#[derive(Debug, Default)]
pub struct Table {
    /// Records by primary key; ascending order is the list order reversed.
    pub rows: BTreeMap<i64, Record>,
    /// Ids of each partner's records, ascending, so a scoped page costs
    /// O(page size) whatever the size of the store.
    pub by_owner: HashMap<i64, Vec<i64>>,
    /// For collections that fill a child array (job items, log items): ids
    /// of each parent's children, ascending.
    pub by_parent: HashMap<i64, Vec<i64>>,
    /// The id the next created record gets: above every id ever loaded or
    /// handed out, so ids are never reused.
    pub next_id: i64,
}

impl Table {
    /// Rebuilds the indexes from `rows` (after loading).
    pub fn build_indexes(&mut self, info: &ResourceInfo) {
        self.by_owner.clear();
        self.by_parent.clear();
        for (&id, rec) in &self.rows {
            if !matches!(info.def.scope, Scope::Global) {
                self.by_owner.entry(rec.owner).or_default().push(id);
            }
            if let Some(p) = info.parent_slot.and_then(|s| rec.vals[s].as_int()) {
                self.by_parent.entry(p).or_default().push(id);
            }
        }
        let max = self.rows.keys().next_back().copied().unwrap_or(0);
        self.next_id = self.next_id.max(max + 1);
    }

    /// The ids a partner sees in this collection, ascending, or `None` for
    /// reference data (every record visible).
    pub fn visible_ids(&self, info: &ResourceInfo, partner: i64) -> Option<&[i64]> {
        match info.def.scope {
            Scope::Global => None,
            _ => Some(self.by_owner.get(&partner).map_or(&[][..], Vec::as_slice)),
        }
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

/// One entry of `apikeys.json`.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub key: String,
    pub kind: KeyKind,
}

/// Everything the API serves, as loaded from fixtures and changed since.
#[derive(Debug)]
pub struct State {
    /// One table per collection, in [`Res`] order.
    pub tables: Vec<Table>,
    pub keys: Vec<ApiKey>,
    /// SHA-256 of each key -> its index in `keys`: a lookup whose timing
    /// depends on the digest only, never on how much of a key matches.
    pub key_index: HashMap<[u8; 32], usize>,
    /// Sandbox-clock time of the load, in milliseconds.
    pub loaded_at: i64,
    /// Tokens partners used in successful writes: (PartnerId, Token) -> when.
    pub tokens: HashMap<(i64, String), i64>,
    /// Successful writes through the API since this state was loaded (a
    /// reload reports how many it discarded).
    pub changes: u64,
    /// The fault rules of `sandbox.json` (or the bundle's `sandbox`).
    pub faults: Vec<faults::FaultRule>,
}

impl State {
    pub fn empty() -> State {
        State {
            tables: Res::ALL.iter().map(|_| Table::default()).collect(),
            keys: Vec::new(),
            key_index: HashMap::new(),
            loaded_at: 0,
            tokens: HashMap::new(),
            changes: 0,
            faults: Vec::new(),
        }
    }

    /// Stores a new record and indexes it; returns its owner.
    pub fn insert(&mut self, res: Res, id: i64, vals: Box<[Val]>) -> i64 {
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
    pub fn replace_vals(&mut self, res: Res, id: i64, vals: Box<[Val]>) {
        if let Some(r) = self.tables[res.index()].rows.get_mut(&id) {
            r.vals = vals;
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

    /// Adds an API key to `keys` and its digest to `key_index`.
    pub fn add_key(&mut self, key: ApiKey) {
        self.key_index.insert(key_digest(&key.key), self.keys.len());
        self.keys.push(key);
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
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn insert_sorted(ids: &mut Vec<i64>, id: i64) {
    match ids.last() {
        Some(&last) if last >= id => {
            if let Err(at) = ids.binary_search(&id) {
                ids.insert(at, id);
            }
        }
        _ => ids.push(id),
    }
}

fn remove_sorted(ids: &mut Vec<i64>, id: i64) {
    if let Ok(at) = ids.binary_search(&id) {
        ids.remove(at);
    }
}

/// Where the fixtures come from, and the state loaded from them.
struct Shared {
    state: RwLock<State>,
    clock: Clock,
    /// The fixtures directory or bundle file.
    source: PathBuf,
    outbox: Outbox,
    /// Whether the fixtures are watched, and the last reload's problems.
    status: Mutex<ReloadStatus>,
    /// Counts the states swapped in, so what derives from a state (the fault
    /// rules of sandbox.json) can tell it changed.
    generation: AtomicU64,
    /// The snapshots served lately, so loading one back discards only the
    /// API changes made since it was taken.
    served: snapshot::Served,
}

/// What health reports about reloading.
#[derive(Debug, Clone, Default)]
pub struct ReloadStatus {
    /// Watching was asked for (not `--no-watch`).
    pub watch_requested: bool,
    pub watching: bool,
    /// Why watching stopped, while it is stopped.
    pub watch_error: Option<String>,
    /// The problems of the last reload, while it failed.
    pub problems: Option<Vec<fixtures::Problem>>,
}

/// Cheap-to-clone handle on the shared state.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    pub fn new(state: State, source: PathBuf, clock: Clock) -> Store {
        Store {
            shared: Arc::new(Shared {
                state: RwLock::new(state),
                clock,
                source,
                outbox: Outbox::default(),
                status: Mutex::new(ReloadStatus::default()),
                generation: AtomicU64::new(1),
                served: snapshot::Served::default(),
            }),
        }
    }

    /// Runs `f` on the current state under the read lock. `f` must not block.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let guard = self.shared.state.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Runs `f` on the current state under the write lock: one write at a
    /// time, atomic for readers. `f` must not block.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub fn outbox(&self) -> &Outbox {
        &self.shared.outbox
    }

    pub fn status(&self) -> ReloadStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_watching(&self, watching: bool, error: Option<String>) {
        let mut s = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        s.watch_requested = true;
        s.watching = watching;
        s.watch_error = error;
    }

    pub fn set_fixture_error(&self, problems: Option<Vec<fixtures::Problem>>) {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .problems = problems;
    }

    /// The `X-Sandbox-Fixture-Error` summary while the last reload failed.
    pub fn fixture_error_summary(&self) -> Option<String> {
        let s = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        let problems = s.problems.as_ref()?;
        let first = problems.first()?;
        Some(match problems.len() {
            1 => format!("{first} (the last good data is served; see /_sandbox/health)"),
            n => format!(
                "{first} (and {} more; the last good data is served; see /_sandbox/health)",
                n - 1
            ),
        })
    }

    /// Swaps in a new state; returns the old one (drop it outside any lock).
    pub fn replace(&self, new: State) -> State {
        let mut guard = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
        std::mem::replace(&mut *guard, new)
    }

    /// Swaps in a state that loaded cleanly, clears the last reload's
    /// problems, and drops the old state outside the lock; returns how many
    /// API changes the old state held (now discarded).
    pub fn swap_in(&self, state: State) -> u64 {
        let old = self.replace(state);
        self.set_fixture_error(None);
        old.changes
    }

    /// The whole current state as a bundle (`GET /_sandbox/snapshot`), with
    /// `sandbox_json` as its `sandbox` member; remembered (by digest) so that
    /// [`Store::swap_in_bundle`] recognises it.
    pub fn snapshot(&self, sandbox_json: Option<&[u8]>) -> Vec<u8> {
        let (bytes, generation, changes) = self.read(|s| {
            // read under the lock that `replace` bumps the generation under
            let generation = self.generation();
            (
                snapshot::write_bundle(s, sandbox_json),
                generation,
                s.changes,
            )
        });
        self.shared
            .served
            .remember(snapshot::digest(&bytes), generation, changes);
        bytes
    }

    /// Swaps in a bundle sent back (`PUT /_sandbox/snapshot`) whose bytes
    /// have `digest`; returns how many API changes it discarded: when the
    /// bundle is a snapshot this state served, only those made since it was
    /// taken (the new state holds the others); otherwise all of them. The
    /// new state is what the bundle holds, so sending the same bundle again
    /// later discards only what was changed after this.
    pub fn swap_in_bundle(&self, mut state: State, digest: &[u8; 32]) -> u64 {
        let mut guard = self.shared.state.write().unwrap_or_else(|e| e.into_inner());
        let served = &self.shared.served;
        let held = served
            .changes_held(digest, self.generation())
            .filter(|&held| held <= guard.changes)
            .unwrap_or(0);
        state.changes = held;
        let discarded = guard.changes - held;
        let generation = self.shared.generation.fetch_add(1, Ordering::Relaxed) + 1;
        served.remember(*digest, generation, held);
        let old = std::mem::replace(&mut *guard, state);
        drop(guard);
        self.set_fixture_error(None);
        drop(old);
        discarded
    }

    /// Changes whenever a new state is swapped in.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Relaxed)
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub fn source(&self) -> &std::path::Path {
        &self.shared.source
    }
}
