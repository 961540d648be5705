//! The schedule's timer (API.md section 11): jobs run as real time passes,
//! not only when the clock is moved. One task for the server sleeps until
//! the soonest run due in any session, or until something that may change
//! it happens (a write, a clock move, a schedule change, a new session), so
//! it wakes when there is work and never polls.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::app::App;
use crate::store::{Clock, schedule};

/// Starts the timer of `app`'s sessions; it ends with the server.
pub fn spawn(app: &Arc<App>) {
    let app = Arc::downgrade(app);
    tokio::spawn(run(app));
}

async fn run(app: Weak<App>) {
    loop {
        let notified = schedule::wake_signal().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let Some(soonest) = pass(&app) else {
            return; // the server is gone
        };
        match soonest {
            Some(at) => {
                let wait = (at - Clock::real_now_ms()).max(0) as u64 + 1;
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    () = &mut notified => {}
                }
            }
            None => notified.await,
        }
    }
}

/// Writes what is due in every session with the schedule on; the real time
/// of the soonest run still to come. None when the server is gone.
fn pass(app: &Weak<App>) -> Option<Option<i64>> {
    let app = app.upgrade()?;
    let mut soonest: Option<i64> = None;
    for session in app.store.all_sessions() {
        if !session.schedule_enabled() {
            continue;
        }
        let runs = session.run_schedule();
        if runs > 0 {
            tracing::info!(session = session.name(), runs, "scheduled runs");
        }
        if let Some(at) = session.next_run_real_ms() {
            soonest = Some(soonest.map_or(at, |s| s.min(at)));
        }
    }
    Some(soonest)
}
