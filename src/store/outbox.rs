//! The e-mails the sandbox would have sent (user invitations, job
//! notifications), newest first, bounded so a long test run cannot grow it
//! without limit.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::domain::mail::Mail;

/// E-mails kept at most; the oldest are dropped first.
pub const OUTBOX_CAPACITY: usize = 1000;

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// Oldest first.
    mails: VecDeque<Mail>,
}

#[derive(Debug, Default)]
pub struct Outbox {
    inner: Mutex<Inner>,
}

impl Outbox {
    pub fn push(&self, mails: impl IntoIterator<Item = Mail>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for mut m in mails {
            inner.next_id += 1;
            m.id = inner.next_id;
            if inner.mails.len() == OUTBOX_CAPACITY {
                inner.mails.pop_front();
            }
            inner.mails.push_back(m);
        }
    }

    /// Newest first.
    pub fn list(&self) -> Vec<Mail> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.mails.iter().rev().cloned().collect()
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .mails
            .clear();
    }
}
