//! The sandbox clock: real time plus an offset a tester can move. Everything
//! time-based (AddedOn, UpdatedOn, Token windows, the agent delay) reads it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Cheap-to-clone handle on the sandbox clock.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the real time.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock::default()
    }

    /// The real time, in UTC milliseconds since 1970.
    pub fn real_now_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    /// Now on the sandbox clock, in UTC milliseconds since 1970.
    pub fn now_ms(&self) -> i64 {
        Self::real_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Returns the clock to the real time (offset 0).
    pub fn to_real_time(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }

    /// A clock of its own that starts `offset_ms` away from the real time.
    pub fn with_offset_ms(offset_ms: i64) -> Clock {
        let c = Clock::new();
        c.advance_ms(offset_ms);
        c
    }

    /// Sets the clock so that it reads `ms` now, and runs on from there.
    pub fn set_ms(&self, ms: i64) {
        self.offset_ms
            .store(ms - Self::real_now_ms(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_real_time() {
        let c = Clock::new();
        c.advance_ms(3_600_000);
        assert_eq!(c.offset_ms(), 3_600_000);
        c.to_real_time();
        assert_eq!(c.offset_ms(), 0);
    }
}
