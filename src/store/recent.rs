//! A bounded, newest-first queue behind a lock: what the request journal
//! and the outbox both are. Pushing beyond the capacity drops the oldest
//! items, so a long test run cannot grow either without limit.

use std::collections::VecDeque;
use std::sync::Mutex;

/// The last `capacity` items pushed, listed newest first.
#[derive(Debug)]
pub struct Recent<T> {
    /// Items kept at most; 0 keeps nothing.
    capacity: usize,
    inner: Mutex<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    /// Items ever pushed, so each gets a number that is never reused.
    pushed: u64,
    /// Oldest first.
    items: VecDeque<T>,
}

impl<T: Clone> Recent<T> {
    pub fn new(capacity: usize) -> Recent<T> {
        Recent {
            capacity,
            inner: Mutex::new(Inner {
                pushed: 0,
                items: VecDeque::new(),
            }),
        }
    }

    /// False with a capacity of 0: then nothing is kept.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn push(&self, item: T) {
        self.push_numbered([item], |_, _| {});
    }

    /// Pushes `items` under one lock; `number` gives each its number, from 1
    /// up, counting every item ever pushed.
    pub fn push_numbered(&self, items: impl IntoIterator<Item = T>, number: impl Fn(&mut T, u64)) {
        if !self.enabled() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for mut item in items {
            inner.pushed += 1;
            number(&mut item, inner.pushed);
            while inner.items.len() >= self.capacity {
                inner.items.pop_front();
            }
            inner.items.push_back(item);
        }
    }

    /// The items `keep` accepts, newest first.
    pub fn list(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .items
            .iter()
            .rev()
            .filter(|x| keep(x))
            .cloned()
            .collect()
    }

    /// Replaces the items with `newest_first` (as [`Recent::list`] gave
    /// them); numbering goes on from where it was, so numbers are not reused.
    pub fn replace(&self, newest_first: Vec<T>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.items = newest_first.into_iter().take(self.capacity).rev().collect();
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_numbers_every_push() {
        let q = Recent::new(3);
        q.push_numbered(vec![0u64; 5], |x, n| *x = n);
        assert_eq!(q.list(|_| true), [5, 4, 3]);
        q.clear();
        q.push_numbered([0], |x, n| *x = n);
        assert_eq!(q.list(|_| true), [6]);
        let off = Recent::new(0);
        off.push(1);
        assert!(off.list(|_| true).is_empty() && !off.enabled());
    }
}
