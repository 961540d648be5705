//! One session: a complete sandbox of its own inside the server (its data
//! and Token window, clock, request journal, outbox, fault rules and
//! checkpoints), with what it was made from, so a reset can return to it,
//! and when it was last used, so an idle one can be ended.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::clock::Clock;
use super::faults::Faults;
use super::journal::Journal;
use super::outbox::Outbox;
use super::report::Report;
use super::schedule::Progress;
use super::served::Served;
use crate::domain::mail::Mail;
use crate::domain::state::State;

/// The session served at the plain URLs.
pub const DEFAULT: &str = "default";

pub use crate::domain::control::valid_name;

/// A saved moment of a session: its data (with the Token window), clock
/// offset and outbox. Cheap to take and to restore: a clone of the state.
pub struct Checkpoint {
    pub name: String,
    /// Real time of the save, UTC milliseconds.
    pub created_at_ms: i64,
    pub(super) state: State,
    pub(super) offset_ms: i64,
    pub(super) outbox: Vec<Mail>,
}

/// What a checkpoint list shows of one checkpoint.
#[derive(Clone, Debug)]
pub struct CheckpointInfo {
    pub name: String,
    pub created_at_ms: i64,
    /// The sandbox clock's offset it saved.
    pub offset_ms: i64,
}

impl Checkpoint {
    pub fn info(&self) -> CheckpointInfo {
        CheckpointInfo {
            name: self.name.clone(),
            created_at_ms: self.created_at_ms,
            offset_ms: self.offset_ms,
        }
    }

    /// A new session's seed from this checkpoint.
    pub(super) fn to_seed(&self, from: String) -> Seed {
        Seed {
            state: self.state.clone(),
            offset_ms: self.offset_ms,
            outbox: self.outbox.clone(),
            from,
        }
    }
}

/// What the session list shows of one session.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub name: String,
    /// Real time, UTC milliseconds.
    pub created_at_ms: i64,
    pub last_used_at_ms: i64,
    /// None for `default`, which never expires.
    pub expires_at_ms: Option<i64>,
    /// What it was made from: `fixtures`, `session:NAME`, `checkpoint:S/NAME`.
    pub from: String,
    /// Successful API writes since creation.
    pub changes: u64,
}

/// One session's run-time state. Every lock is held for one synchronous
/// step only.
pub struct Session {
    pub name: String,
    pub(super) state: RwLock<State>,
    pub(super) clock: Clock,
    pub(super) outbox: Outbox,
    pub(super) journal: Journal,
    pub(super) faults: Faults,
    /// The snapshots this session served lately.
    pub(super) served: Served,
    /// Counts the states swapped in, so the live fault set can tell that
    /// the rules of sandbox.json changed.
    pub(super) generation: AtomicU64,
    /// The state it was made from, for `reset`; None for `default`, whose
    /// reset reloads the fixtures.
    pub(super) origin: Option<State>,
    pub(super) from: String,
    pub(super) created_at_ms: i64,
    /// Real time of the last request that used it.
    pub(super) last_used_ms: AtomicI64,
    /// Real time it may stay unused; None: for ever (`default`).
    pub(super) ttl_ms: Option<i64>,
    pub(super) checkpoints: Mutex<BTreeMap<String, Checkpoint>>,
    /// Successful API writes since creation.
    pub(super) changes: AtomicU64,
    /// The conformance report of its /api/ requests.
    pub(super) report: Report,
    /// How far its schedule has run.
    pub(super) schedule: Progress,
}

/// How a session starts.
pub struct Seed {
    pub state: State,
    pub offset_ms: i64,
    pub outbox: Vec<Mail>,
    pub from: String,
}

impl Session {
    /// A session named `name` from `seed`; `origin` keeps a copy for reset
    /// unless it is `default`.
    pub fn new(name: &str, seed: Seed, journal: usize, ttl_ms: Option<i64>) -> Session {
        let now = Clock::real_now_ms();
        let origin = (name != DEFAULT).then(|| seed.state.clone());
        let outbox = Outbox::default();
        outbox.replace(seed.outbox);
        Session {
            name: name.to_string(),
            state: RwLock::new(seed.state),
            clock: Clock::with_offset_ms(seed.offset_ms),
            outbox,
            journal: Journal::new(journal),
            faults: Faults::default(),
            served: Served::default(),
            generation: AtomicU64::new(1),
            origin,
            from: seed.from,
            created_at_ms: now,
            last_used_ms: AtomicI64::new(now),
            ttl_ms,
            checkpoints: Mutex::new(BTreeMap::new()),
            changes: AtomicU64::new(0),
            report: Report::default(),
            schedule: Progress::default(),
        }
    }

    pub(super) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    pub(super) fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Swaps in a new state; returns the old one (drop it outside any lock).
    pub(super) fn replace(&self, new: State) -> State {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::Relaxed);
        super::schedule::wake();
        std::mem::replace(&mut *guard, new)
    }

    pub(super) fn touch(&self, now_ms: i64) {
        self.last_used_ms.store(now_ms, Ordering::Relaxed);
    }

    pub(super) fn expires_at_ms(&self) -> Option<i64> {
        self.ttl_ms.map(|ttl| {
            self.last_used_ms
                .load(Ordering::Relaxed)
                .saturating_add(ttl)
        })
    }

    /// Unused for longer than its TTL at real time `now_ms`.
    pub(super) fn expired(&self, now_ms: i64) -> bool {
        self.expires_at_ms().is_some_and(|at| now_ms >= at)
    }

    pub(super) fn checkpoints(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Checkpoint>> {
        self.checkpoints.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Its whole state now, as a checkpoint (or the seed of a new session).
    pub(super) fn save(&self, name: &str) -> Checkpoint {
        Checkpoint {
            name: name.to_string(),
            created_at_ms: Clock::real_now_ms(),
            state: self.read(State::clone),
            offset_ms: self.clock.offset_ms(),
            outbox: self.outbox.list(),
        }
    }

    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            name: self.name.clone(),
            created_at_ms: self.created_at_ms,
            last_used_at_ms: self.last_used_ms.load(Ordering::Relaxed),
            expires_at_ms: self.expires_at_ms(),
            from: self.from.clone(),
            changes: self.changes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        for ok in ["a", "ci-42", "A.b_c-9", &"x".repeat(64)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", "a%20", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_session_expires_after_its_ttl_of_disuse() {
        let seed = Seed {
            state: State::empty(),
            offset_ms: 5_000,
            outbox: Vec::new(),
            from: "fixtures".into(),
        };
        let s = Session::new("ci", seed, 10, Some(1_000));
        assert_eq!(s.clock.offset_ms(), 5_000);
        s.touch(100);
        assert!(!s.expired(1_099));
        assert!(s.expired(1_100));
        let d = Session::new(DEFAULT, s.save("x").to_seed("fixtures".into()), 10, None);
        assert!(!d.expired(i64::MAX) && d.origin.is_none());
    }
}
