//! The e-mails the sandbox would have sent (user invitations, job
//! notifications), newest first, bounded so a long test run cannot grow it
//! without limit.

use super::recent::Recent;
use crate::domain::mail::Mail;

/// E-mails kept at most; the oldest are dropped first.
pub const OUTBOX_CAPACITY: usize = 1000;

/// The outbox: a bounded newest-first queue of mails, numbered as they enter.
#[derive(Debug)]
pub struct Outbox {
    mails: Recent<Mail>,
}

impl Default for Outbox {
    fn default() -> Outbox {
        Outbox {
            mails: Recent::new(OUTBOX_CAPACITY),
        }
    }
}

impl Outbox {
    /// Stores the mails; each gets the next id.
    pub fn push(&self, mails: impl IntoIterator<Item = Mail>) {
        self.mails.push_numbered(mails, |m, id| m.id = id);
    }

    /// Newest first.
    pub fn list(&self) -> Vec<Mail> {
        self.mails.list(|_| true)
    }

    /// Puts back the mails a checkpoint saved (newest first).
    pub fn replace(&self, newest_first: Vec<Mail>) {
        self.mails.replace(newest_first);
    }

    pub fn clear(&self) {
        self.mails.clear();
    }
}
