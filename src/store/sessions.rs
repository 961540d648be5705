//! The registry of sessions ([`Registry`]): `default` and the named ones,
//! bounded by `--max-sessions`, each ended after `--session-ttl` of real time
//! unused (swept lazily whenever the registry is consulted), and the
//! fixtures as last loaded, which new sessions are made from. The session
//! and checkpoint operations of the [`Store`] handle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::Store;
use super::clock::Clock;
use super::session::{CheckpointInfo, DEFAULT, Seed, Session, SessionInfo, valid_name};
use crate::domain::state::State;

/// The bounds of the registry, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Journal entries kept per session.
    pub journal: usize,
    /// Sessions besides `default`, at most.
    pub max_sessions: usize,
    /// Real time a session may stay unused before it is ended.
    pub ttl_ms: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            journal: 1000,
            max_sessions: 1000,
            ttl_ms: 3_600_000,
        }
    }
}

/// What a new session is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The fixtures as last loaded.
    Fixtures,
    /// Another session's state now.
    Session(String),
    /// A checkpoint (session, name).
    Checkpoint(String, String),
}

impl Origin {
    /// `fixtures`, `session:NAME`, `checkpoint:NAME` (of `default`) or
    /// `checkpoint:SESSION/NAME`.
    pub fn parse(s: &str) -> Option<Origin> {
        if s == "fixtures" {
            return Some(Origin::Fixtures);
        }
        if let Some(name) = s.strip_prefix("session:") {
            return valid_name(name).then(|| Origin::Session(name.into()));
        }
        let rest = s.strip_prefix("checkpoint:")?;
        let (session, name) = rest.split_once('/').unwrap_or((DEFAULT, rest));
        (valid_name(session) && valid_name(name))
            .then(|| Origin::Checkpoint(session.into(), name.into()))
    }

    fn describe(&self) -> String {
        match self {
            Origin::Fixtures => "fixtures".into(),
            Origin::Session(s) => format!("session:{s}"),
            Origin::Checkpoint(s, c) => format!("checkpoint:{s}/{c}"),
        }
    }
}

/// Why a session was not created.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
    /// A session of that name exists.
    Exists,
    /// `--max-sessions` are alive; one expires in about this many seconds.
    Full { retry_after_s: u64 },
    /// The origin names no session or checkpoint.
    NoOrigin(String),
}

/// Why a session was not ended.
#[derive(Debug, PartialEq, Eq)]
pub enum EndError {
    Default,
    NotFound,
}

/// Every session and what new ones are made from.
pub struct Registry {
    limits: Limits,
    default: Arc<Session>,
    named: Mutex<HashMap<String, Arc<Session>>>,
    /// The fixtures as last loaded.
    base: RwLock<State>,
    /// Real time of the last sweep, so requests sweep at most once a second.
    swept_ms: AtomicI64,
}

/// How often requests sweep the registry for expired sessions.
const SWEEP_EVERY_MS: i64 = 1000;

impl Registry {
    pub fn new(seed: Seed, limits: Limits) -> (Registry, Arc<Session>) {
        let base = RwLock::new(seed.state.clone());
        let default = Arc::new(Session::new(DEFAULT, seed, limits.journal, None));
        let registry = Registry {
            limits,
            default: default.clone(),
            named: Mutex::new(HashMap::new()),
            base,
            swept_ms: AtomicI64::new(Clock::real_now_ms()),
        };
        (registry, default)
    }

    pub fn default(&self) -> &Arc<Session> {
        &self.default
    }

    /// The base of sessions created from now on.
    pub fn set_base(&self, state: State) {
        let old = std::mem::replace(
            &mut *self.base.write().unwrap_or_else(|e| e.into_inner()),
            state,
        );
        drop(old);
    }

    fn named(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.named.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sweeps when the last sweep is a second old or more, so that the
    /// sessions nobody uses any more are ended (and their memory freed)
    /// while the other sessions are served.
    fn sweep_if_due(&self, now: i64) {
        let last = self.swept_ms.load(Ordering::Relaxed);
        if now - last >= SWEEP_EVERY_MS
            && self
                .swept_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep_at(now);
        }
    }

    /// Ends every session unused past its TTL.
    fn sweep(&self) {
        self.sweep_at(Clock::real_now_ms());
    }

    /// Ends every session unused past its TTL at real time `now`.
    fn sweep_at(&self, now: i64) {
        let mut ended = Vec::new();
        self.named().retain(|_, s| {
            let keep = !s.expired(now);
            if !keep {
                ended.push(s.clone());
            }
            keep
        });
        drop(ended); // outside the lock
    }

    /// The live session `name`, if any (an expired one is ended).
    fn find(&self, name: &str) -> Option<Arc<Session>> {
        if name == DEFAULT {
            return Some(self.default.clone());
        }
        let mut named = self.named();
        let found = named.get(name)?.clone();
        if found.expired(Clock::real_now_ms()) {
            named.remove(name);
            return None;
        }
        Some(found)
    }

    /// Seconds until the soonest named session expires, at least 1.
    fn retry_after(named: &HashMap<String, Arc<Session>>) -> u64 {
        let now = Clock::real_now_ms();
        let soonest = named.values().filter_map(|s| s.expires_at_ms()).min();
        soonest.map_or(1, |at| ((at - now).max(0) as u64).div_ceil(1000).max(1))
    }

    /// The seed `origin` names.
    fn seed(&self, origin: &Origin) -> Result<Seed, OpenError> {
        let from = origin.describe();
        match origin {
            Origin::Fixtures => Ok(Seed {
                state: self.base.read().unwrap_or_else(|e| e.into_inner()).clone(),
                offset_ms: 0,
                outbox: Vec::new(),
                from,
            }),
            Origin::Session(name) => {
                let source = self
                    .find(name)
                    .ok_or_else(|| OpenError::NoOrigin(format!("There is no session '{name}'.")))?;
                let saved = source.save("");
                Ok(saved.to_seed(from))
            }
            Origin::Checkpoint(session, name) => {
                let source = self.find(session).ok_or_else(|| {
                    OpenError::NoOrigin(format!("There is no session '{session}'."))
                })?;
                let checkpoints = source.checkpoints();
                let cp = checkpoints.get(name).ok_or_else(|| {
                    OpenError::NoOrigin(format!("Session '{session}' has no checkpoint '{name}'."))
                })?;
                Ok(cp.to_seed(from))
            }
        }
    }

    /// Refuses a new session `name` when it exists or the registry is full.
    fn room_for(&self, named: &HashMap<String, Arc<Session>>, name: &str) -> Result<(), OpenError> {
        if name == DEFAULT || named.contains_key(name) {
            return Err(OpenError::Exists);
        }
        if named.len() >= self.limits.max_sessions {
            return Err(OpenError::Full {
                retry_after_s: Registry::retry_after(named),
            });
        }
        Ok(())
    }

    /// Creates session `name` from `origin`; the seed is copied outside the
    /// registry's lock.
    fn create(
        &self,
        name: &str,
        origin: &Origin,
        ttl_ms: Option<i64>,
    ) -> Result<Arc<Session>, OpenError> {
        self.sweep();
        self.room_for(&self.named(), name)?;
        let seed = self.seed(origin)?;
        let ttl = Some(ttl_ms.unwrap_or(self.limits.ttl_ms));
        let session = Arc::new(Session::new(name, seed, self.limits.journal, ttl));
        let mut named = self.named();
        self.room_for(&named, name)?;
        named.insert(name.to_string(), session.clone());
        super::schedule::wake();
        Ok(session)
    }
}

impl Store {
    /// This session's name.
    pub fn name(&self) -> &str {
        &self.session.name
    }

    pub fn is_default(&self) -> bool {
        self.session.name == DEFAULT
    }

    /// The live session `name`, if any; looking is not a use.
    pub fn session(&self, name: &str) -> Option<Store> {
        self.shared.sessions.find(name).map(|s| self.on(s))
    }

    /// The live session `name`, created from the fixtures if there is none
    /// (a first request). Its idle time starts again only once the request
    /// is let in ([`Store::mark_used`]), so a refused key keeps no session
    /// alive.
    pub fn open_session(&self, name: &str) -> Result<Store, OpenError> {
        let now = Clock::real_now_ms();
        self.shared.sessions.sweep_if_due(now);
        let session = match self.shared.sessions.find(name) {
            Some(s) => s,
            None => match self.shared.sessions.create(name, &Origin::Fixtures, None) {
                Err(OpenError::Exists) => {
                    self.shared.sessions.find(name).ok_or(OpenError::Exists)?
                } // created meanwhile by another request
                other => other?,
            },
        };
        Ok(self.on(session))
    }

    /// The session was used now by a request its key let in: its idle time
    /// (`--session-ttl`) starts again.
    pub fn mark_used(&self) {
        self.session.touch(Clock::real_now_ms());
    }

    /// Creates session `name` from `origin` (`POST /_sandbox/sessions`).
    pub fn create_session(
        &self,
        name: &str,
        origin: &Origin,
        ttl_ms: Option<i64>,
    ) -> Result<SessionInfo, OpenError> {
        Ok(self.shared.sessions.create(name, origin, ttl_ms)?.info())
    }

    /// Runs `f` on the fixtures as last loaded (what a new session starts
    /// from), so a request can be authenticated before its session exists.
    pub fn read_base<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let base = self
            .shared
            .sessions
            .base
            .read()
            .unwrap_or_else(|e| e.into_inner());
        f(&base)
    }

    /// Every live session, `default` first, then by name.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let registry = &self.shared.sessions;
        registry.sweep();
        let mut named: Vec<SessionInfo> = registry.named().values().map(|s| s.info()).collect();
        named.sort_by(|a, b| a.name.cmp(&b.name));
        let mut all = vec![registry.default.info()];
        all.extend(named);
        all
    }

    /// Every live session, `default` first (for the schedule's timer).
    pub fn all_sessions(&self) -> Vec<Store> {
        let registry = &self.shared.sessions;
        let mut all = vec![self.on(registry.default.clone())];
        all.extend(registry.named().values().map(|s| self.on(s.clone())));
        all
    }

    /// Live sessions, `default` included.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.sweep();
        1 + self.shared.sessions.named().len()
    }

    /// Ends session `name` (`DELETE /_sandbox/sessions/{name}`).
    pub fn end_session(&self, name: &str) -> Result<(), EndError> {
        if name == DEFAULT {
            return Err(EndError::Default);
        }
        let ended = self.shared.sessions.named().remove(name);
        ended.map(drop).ok_or(EndError::NotFound)
    }

    /// Counts a successful API write.
    pub fn note_change(&self) {
        self.session.changes.fetch_add(1, Ordering::Relaxed);
        // a write can only bring runs due where the schedule is on
        if self.schedule_enabled() {
            super::schedule::wake();
        }
    }

    /// This session's own information.
    pub fn info(&self) -> SessionInfo {
        self.session.info()
    }

    /// Returns a named session to the state it was created from, and its
    /// clock to the real time; the API changes discarded. None for
    /// `default` (whose reset reloads the fixtures).
    pub fn reset_session(&self) -> Option<u64> {
        let origin = self.session.origin.as_ref()?.clone();
        let origin_changes = origin.changes;
        let old = self.session.replace(origin);
        self.session.clock.to_real_time();
        self.session.report.clear();
        Some(old.changes.saturating_sub(origin_changes))
    }

    /// Saves this session's whole state as checkpoint `name`; None when one
    /// of that name exists.
    pub fn take_checkpoint(&self, name: &str) -> Option<CheckpointInfo> {
        if self.session.checkpoints().contains_key(name) {
            return None;
        }
        let saved = self.session.save(name);
        let info = saved.info();
        let mut checkpoints = self.session.checkpoints();
        if checkpoints.contains_key(name) {
            return None;
        }
        checkpoints.insert(name.to_string(), saved);
        Some(info)
    }

    /// This session's checkpoints, by name.
    pub fn checkpoints(&self) -> Vec<CheckpointInfo> {
        self.session
            .checkpoints()
            .values()
            .map(|c| c.info())
            .collect()
    }

    /// Drops checkpoint `name`; false when there is none.
    pub fn drop_checkpoint(&self, name: &str) -> bool {
        let dropped = self.session.checkpoints().remove(name);
        dropped.is_some()
    }

    /// Returns this session to checkpoint `name` (data, Token window, clock
    /// offset, outbox); None when there is none.
    pub fn restore_checkpoint(&self, name: &str) -> Option<CheckpointInfo> {
        let (state, offset_ms, outbox, info) = {
            let checkpoints = self.session.checkpoints();
            let cp = checkpoints.get(name)?;
            (cp.state.clone(), cp.offset_ms, cp.outbox.clone(), cp.info())
        };
        let old = self.session.replace(state);
        let clock = &self.session.clock;
        clock.to_real_time();
        clock.advance_ms(offset_ms);
        self.session.outbox.replace(outbox);
        drop(old);
        Some(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::Source;

    #[test]
    fn origins() {
        assert_eq!(Origin::parse("fixtures"), Some(Origin::Fixtures));
        assert_eq!(
            Origin::parse("session:ci-1"),
            Some(Origin::Session("ci-1".into()))
        );
        assert_eq!(
            Origin::parse("checkpoint:a"),
            Some(Origin::Checkpoint(DEFAULT.into(), "a".into()))
        );
        assert_eq!(
            Origin::parse("checkpoint:s/a"),
            Some(Origin::Checkpoint("s".into(), "a".into()))
        );
        for bad in [
            "",
            "session:",
            "checkpoint:s/",
            "checkpoint:a/b/c",
            "other",
            "session:a b",
        ] {
            assert_eq!(Origin::parse(bad), None, "{bad}");
        }
    }

    fn store(max: usize) -> Store {
        let limits = Limits {
            max_sessions: max,
            ..Limits::default()
        };
        Store::new(
            State::empty(),
            Source::Path("fixtures".into()),
            Clock::new(),
            limits,
        )
    }

    #[test]
    fn sessions_are_bounded_and_named_once() {
        let s = store(1);
        assert!(s.open_session("a").is_ok());
        assert!(s.open_session("a").is_ok(), "the same one again");
        assert_eq!(
            s.create_session("a", &Origin::Fixtures, None).unwrap_err(),
            OpenError::Exists
        );
        assert!(matches!(
            s.open_session("b").map(|_| ()),
            Err(OpenError::Full { retry_after_s }) if retry_after_s >= 1
        ));
        assert_eq!(s.session_count(), 2);
        assert_eq!(s.end_session(DEFAULT), Err(EndError::Default));
        assert_eq!(s.end_session("a"), Ok(()));
        assert_eq!(s.end_session("a"), Err(EndError::NotFound));
        assert!(s.open_session("b").is_ok());
    }

    #[test]
    fn requests_sweep_expired_sessions_at_most_once_a_second() {
        let s = Store::new(
            State::empty(),
            Source::Path("fixtures".into()),
            Clock::new(),
            Limits {
                ttl_ms: 30_200,
                ..Limits::default()
            },
        );
        assert!(s.open_session("idle").is_ok());
        let registry = &s.shared.sessions;
        let t0 = registry.swept_ms.load(Ordering::Relaxed);
        let used = registry.named()["idle"]
            .last_used_ms
            .load(Ordering::Relaxed);
        assert!(used >= t0);
        let alive = || registry.named().contains_key("idle");
        registry.sweep_if_due(used + 30_000); // due, not expired
        assert!(alive());
        registry.sweep_if_due(used + 30_500); // expired, but swept 500 ms ago
        assert!(alive());
        registry.sweep_if_due(used + 31_100); // due and expired
        assert!(!alive());
    }

    #[test]
    fn checkpoints_restore_the_clock_and_the_data() {
        let s = store(4)
            .open_session("t")
            .unwrap_or_else(|_| unreachable!());
        s.clock().advance_ms(60_000);
        s.write(|st| st.changes = 3);
        assert!(s.take_checkpoint("c").is_some());
        assert!(s.take_checkpoint("c").is_none());
        s.clock().advance_ms(60_000);
        s.write(|st| st.changes = 9);
        assert_eq!(s.restore_checkpoint("c").map(|c| c.offset_ms), Some(60_000));
        assert_eq!(
            (s.read(|st| st.changes), s.clock().offset_ms()),
            (3, 60_000)
        );
        assert_eq!(s.reset_session(), Some(3));
        assert_eq!((s.read(|st| st.changes), s.clock().offset_ms()), (0, 0));
        assert!(s.drop_checkpoint("c") && !s.drop_checkpoint("c"));
    }
}
