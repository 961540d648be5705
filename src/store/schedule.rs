//! The schedule of a session on its clock (API.md section 11): how far it
//! has run (its mark), the pass that runs what fell due since, the check of
//! `--max-runs-per-advance` before the clock moves, and the wake-up signal
//! of the timer that runs jobs as real time passes.
//!
//! The settings, generator and rules live in the session's data
//! ([`State::schedule`]), so checkpoints, resets and new sessions carry
//! them. The mark is the session's own: whenever another state is swapped
//! in (a reload, a reset, a restore, a new session) or the schedule is
//! turned on, it starts afresh at the clock's now, so the schedule runs
//! only what falls due from then on.

use std::sync::Mutex;

use tokio::sync::Notify;

use super::Store;
use crate::domain::schedule::{self, Schedule};
use crate::domain::state::State;

/// How far a session's schedule has run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mark {
    /// The session's state generation it was taken in.
    generation: u64,
    /// Sandbox-clock time, UTC: every run due up to it has been written.
    until: i64,
}

/// A session's mark, behind the lock that makes a pass and a clock move
/// one step.
#[derive(Debug, Default)]
pub struct Progress(Mutex<Option<Mark>>);

/// Wakes the timer whenever anything that may change the next due run
/// happens (a write, a clock move, a schedule change, a new session).
static WAKE: Notify = Notify::const_new();

/// The timer's wake-up signal.
pub fn wake_signal() -> &'static Notify {
    &WAKE
}

/// Tells the timer to look again.
pub fn wake() {
    WAKE.notify_waiters();
}

/// Why the clock did not move.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyRuns {
    /// The runs the move would write (at least this many when `more`).
    pub runs: u64,
    pub more: bool,
    pub limit: u64,
}

/// Beyond this, counting the runs a move would write stops.
const COUNT_CAP: u64 = 10_000_000;

impl Store {
    fn progress(&self) -> std::sync::MutexGuard<'_, Option<Mark>> {
        self.session
            .schedule
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The instant after which runs are still to be written: the mark's,
    /// or `now` when there is none or it was taken in another state.
    fn from(&self, mark: &Option<Mark>, generation: u64, now: i64) -> i64 {
        match mark {
            Some(m) if m.generation == generation => m.until,
            _ => now,
        }
    }

    /// Runs what fell due up to sandbox time `to` (UTC) on `state`, and
    /// moves the mark there; what it wrote. Under the progress lock.
    fn pass(&self, mark: &mut Option<Mark>, state: &mut State, to: i64) -> schedule::Runs {
        if !state.schedule.enabled {
            *mark = None;
            return schedule::Runs::default();
        }
        let generation = self.generation();
        let from = self.from(mark, generation, to).min(to);
        let runs = schedule::run_due(state, from, to);
        *mark = Some(Mark {
            generation,
            until: to,
        });
        runs
    }

    /// Writes the runs due up to the clock's now; how many.
    pub fn run_schedule(&self) -> u64 {
        let mut mark = self.progress();
        let now = self.clock().now_ms();
        let runs = self.write(|s| self.pass(&mut mark, s, now));
        self.outbox().push(runs.mails);
        runs.count
    }

    /// Moves the clock with `move_clock` (which gets the clock's now and
    /// answers the time it would read) and writes the runs due up to it;
    /// refuses, with nothing changed, a move that would write more than
    /// `limit` runs.
    pub fn move_clock_scheduled(
        &self,
        limit: u64,
        target: impl FnOnce(i64) -> i64,
        apply: impl FnOnce(),
    ) -> Result<u64, TooManyRuns> {
        let mut mark = self.progress();
        let now = self.clock().now_ms();
        let to = target(now);
        // first what real time made due already (and a fresh start's mark)
        let due = self.write(|s| self.pass(&mut mark, s, now));
        self.outbox().push(due.mails);
        let count = self.read(|s| {
            if !s.schedule.enabled || to <= now {
                return 0;
            }
            schedule::count_due(s, now, to, COUNT_CAP.max(limit))
        });
        if count > limit {
            let cap = COUNT_CAP.max(limit);
            return Err(TooManyRuns {
                runs: count.min(cap),
                more: count > cap,
                limit,
            });
        }
        apply();
        // back in time, the schedule runs from the new now on
        let runs = self.write(|s| {
            if to < now {
                mark.take();
            }
            self.pass(&mut mark, s, to)
        });
        self.outbox().push(runs.mails);
        wake();
        Ok(runs.count)
    }

    /// The schedule's settings now.
    pub fn schedule(&self) -> Schedule {
        self.read(|s| s.schedule.clone())
    }

    /// Replaces the schedule's settings (`PUT /_sandbox/schedule`); turned
    /// on, it runs what falls due from now: a job whose NextRunOn is past
    /// moves to its next occurrence without a run.
    pub fn set_schedule(&self, schedule: Schedule) {
        let mut mark = self.progress();
        let now = self.clock().now_ms();
        let runs = self.write(|s| {
            if !s.schedule.enabled {
                mark.take();
            }
            s.schedule = schedule;
            self.pass(&mut mark, s, now)
        });
        self.outbox().push(runs.mails);
        wake();
    }

    /// Real time (UTC ms) at which this session's next run falls due;
    /// None when the schedule is off or nothing will run.
    pub fn next_run_real_ms(&self) -> Option<i64> {
        let mark = self.progress();
        let now = self.clock().now_ms();
        let due = self.read(|s| {
            if !s.schedule.enabled {
                return None;
            }
            let from = self.from(&mark, self.generation(), now);
            schedule::next_due(s, from)
        })?;
        Some(due - self.clock().offset_ms())
    }

    /// Whether this session's schedule is on.
    pub fn schedule_enabled(&self) -> bool {
        self.read(|s| s.schedule.enabled)
    }
}
