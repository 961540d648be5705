//! The data the API serves: [`State`] holds every collection as a [`Table`]
//! of [`Record`]s with its indexes, the API keys and the used Tokens. Plain
//! data changed by synchronous calls; the store shares it, the engine reads
//! and writes it.

use std::collections::{BTreeMap, HashMap};

use super::faults::FaultRule;
use super::schema::{Res, ResourceInfo, Scope};
use super::value::Val;

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
#[derive(Clone, Debug, Default)]
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
#[derive(Clone, Debug)]
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
    pub faults: Vec<FaultRule>,
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
    sha256(key.as_bytes())
}

/// The SHA-256 digest of `bytes` (API keys, served snapshots).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
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
