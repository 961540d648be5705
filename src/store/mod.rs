//! The run-time store: the sessions (each a complete sandbox: one domain
//! [`State`] behind one swap point, with its clock, outbox, journal, fault
//! rules and checkpoints), shared through the cheap-to-clone [`Store`]
//! handle on one of them, with the reload status; loading fixtures and
//! watching them.
//!
//! Readers hold the read lock for one synchronous step (authenticate, look
//! up, render) and never across an `.await`; a reload builds a new `State`
//! off to the side and swaps it in with one assignment, so a request sees the
//! old data or the new, never a mix.

pub mod clock; // the sandbox clock
pub mod faults; // the live fault set
pub mod fixtures; // loading and checking fixtures with file:line:column problems
pub mod fragments; // the memo of rendered record fragments
pub mod journal; // the request journal
pub mod json_scan; // where JSON values start and end, for locating problems
pub mod loader; // the one thread every fixture load runs on
pub mod outbox; // the e-mails the sandbox would have sent
pub mod recent; // the bounded newest-first queue of the outbox and the journal
pub mod report; // the live conformance report of a session
pub mod schedule; // the schedule of a session on its clock
pub mod served; // the snapshots served lately
pub mod session; // one session: a sandbox of its own, and its checkpoints
pub mod sessions; // the registry of sessions, bounded and expiring
pub mod watch; // hot reload of the fixtures

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use crate::domain::state::{State, sha256};
pub use clock::Clock;
use fixtures::{Base, Loaded, Stamps};
pub use outbox::Outbox;
use session::{Seed, Session};
pub use sessions::Limits;
use sessions::Registry;

/// Where the fixtures come from, the sessions, and the reload status.
struct Shared {
    /// The fixtures as last loaded, with the stamps of their files: a
    /// reset of unchanged files clones it (O(1)), a reload re-reads only
    /// the files changed since it.
    base: RwLock<Arc<Base>>,
    /// The fixtures directory or bundle file, or the embedded defaults.
    source: fixtures::Source,
    /// Whether the fixtures are watched, and the last reload's problems.
    status: Mutex<ReloadStatus>,
    /// Every session, `default` included, and the fixtures as last loaded
    /// (what new sessions are made from).
    sessions: Registry,
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

/// Cheap-to-clone handle on one session (and, through it, on the others).
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    session: Arc<Session>,
}

impl Store {
    /// A store serving `state` as the `default` session, whose clock is `clock`.
    pub fn new(state: State, source: fixtures::Source, clock: Clock, limits: Limits) -> Store {
        let base = state.clone();
        let seed = Seed {
            state,
            offset_ms: clock.offset_ms(),
            outbox: Vec::new(),
            from: "fixtures".into(),
        };
        let (sessions, default) = Registry::new(seed, limits);
        Store {
            shared: Arc::new(Shared {
                base: RwLock::new(Arc::new(Base {
                    state: base,
                    stamps: Stamps::default(),
                })),
                source,
                status: Mutex::new(ReloadStatus::default()),
                sessions,
            }),
            session: default,
        }
    }

    /// A handle on `session` sharing this one's registry.
    fn on(&self, session: Arc<Session>) -> Store {
        Store {
            shared: self.shared.clone(),
            session,
        }
    }

    /// Runs `f` on the current state under the read lock. `f` must not block.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        self.session.read(f)
    }

    /// Runs `f` on the current state under the write lock: one write at a
    /// time, atomic for readers. `f` must not block.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.session.write(f)
    }

    pub fn outbox(&self) -> &Outbox {
        &self.session.outbox
    }

    /// The request journal of this session.
    pub fn journal(&self) -> &journal::Journal {
        &self.session.journal
    }

    /// The conformance report of this session.
    pub fn report(&self) -> &report::Report {
        &self.session.report
    }

    /// The live fault rules of this session.
    pub fn faults(&self) -> &faults::Faults {
        &self.session.faults
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

    /// Swaps a freshly loaded set of fixtures in: the data of `default` and
    /// the base of sessions created from now on (existing sessions keep
    /// theirs); clears the last reload's problems and drops the old state
    /// outside the lock; returns how many API changes the old state held
    /// (now discarded).
    pub fn swap_in(&self, state: State) -> u64 {
        self.shared.sessions.set_base(state.clone());
        let old = self.shared.sessions.default().replace(state);
        self.set_fixture_error(None);
        old.changes
    }

    /// A store as [`Store::new`], serving what was just loaded, whose file
    /// stamps let the first reset or reload skip unchanged files.
    pub fn from_loaded(
        loaded: Loaded,
        source: fixtures::Source,
        clock: Clock,
        limits: Limits,
    ) -> Store {
        let base = Arc::new(Base::new(&loaded));
        let store = Store::new(loaded.state, source, clock, limits);
        *store.shared.base.write().unwrap_or_else(|e| e.into_inner()) = base;
        store
    }

    /// The fixtures as last loaded (O(1): shared).
    pub fn base(&self) -> Arc<Base> {
        self.shared
            .base
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in what was just loaded from the fixtures, which becomes the
    /// base too; as [`Store::swap_in`].
    pub fn swap_in_loaded(&self, loaded: Loaded) -> u64 {
        let base = Arc::new(Base::new(&loaded));
        let old_base = std::mem::replace(
            &mut *self.shared.base.write().unwrap_or_else(|e| e.into_inner()),
            base,
        );
        let discarded = self.swap_in(loaded.state);
        drop(old_base);
        discarded
    }

    /// The whole current state as a bundle (`GET /_sandbox/snapshot`), as
    /// `write` writes it under the read lock; remembered (by digest) so that
    /// [`Store::swap_in_bundle`] recognises it.
    pub fn snapshot(&self, write: impl FnOnce(&State) -> Vec<u8>) -> Vec<u8> {
        let (bytes, generation, changes) = self.session.read(|s| {
            // read under the lock that `replace` bumps the generation under
            let generation = self.generation();
            (write(s), generation, s.changes)
        });
        self.session
            .served
            .remember(sha256(&bytes), generation, changes);
        bytes
    }

    /// Swaps in a bundle sent back (`PUT /_sandbox/snapshot`) whose bytes
    /// have `digest`; returns how many API changes it discarded: when the
    /// bundle is a snapshot this state served, only those made since it was
    /// taken (the new state holds the others); otherwise all of them. The
    /// new state is what the bundle holds, so sending the same bundle again
    /// later discards only what was changed after this.
    pub fn swap_in_bundle(&self, mut state: State, digest: &[u8; 32]) -> u64 {
        let session = &self.session;
        let mut guard = session.state.write().unwrap_or_else(|e| e.into_inner());
        let served = &session.served;
        let held = served
            .changes_held(digest, self.generation())
            .filter(|&held| held <= guard.changes)
            .unwrap_or(0);
        state.changes = held;
        let discarded = guard.changes - held;
        let generation = session.generation.fetch_add(1, Ordering::Relaxed) + 1;
        served.remember(*digest, generation, held);
        let old = std::mem::replace(&mut *guard, state);
        drop(guard);
        schedule::wake();
        if self.is_default() {
            self.set_fixture_error(None);
        }
        drop(old);
        discarded
    }

    /// Changes whenever a new state is swapped in.
    pub fn generation(&self) -> u64 {
        self.session.generation.load(Ordering::Relaxed)
    }

    pub fn clock(&self) -> &Clock {
        &self.session.clock
    }

    pub fn source(&self) -> &fixtures::Source {
        &self.shared.source
    }
}
