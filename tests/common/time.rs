//! Time in the tests: sandbox timestamps as milliseconds and back, and
//! polling until something is seen.

use std::time::{Duration, Instant};

use super::is_timestamp;

/// How long a change may take to show up (a debounce of ~100 ms, the
/// retry of a lost watch 1 s, plus a loaded machine).
pub const DEADLINE: Duration = Duration::from_secs(8);
/// Interval between two polls.
pub const POLL: Duration = Duration::from_millis(25);

/// Runs `probe` every [`POLL`] until it answers `Ok`, for at most
/// [`DEADLINE`]; `Err` carries what was seen, for the failure message.
pub async fn eventually<R>(what: &str, mut probe: impl AsyncFnMut() -> Result<R, String>) -> R {
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(r) => return r,
            Err(seen) => {
                assert!(
                    started.elapsed() < DEADLINE,
                    "{what}: not seen within {DEADLINE:?}; last seen: {seen}"
                );
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// A sandbox timestamp `YYYY-MM-DDTHH:MM:SS.mmm` (no zone) as milliseconds
/// since the epoch, reading it as UTC.
pub fn ms(ts: &str) -> i64 {
    assert!(is_timestamp(ts), "not a sandbox timestamp: {ts:?}");
    let dt: jiff::civil::DateTime = ts.parse().unwrap();
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// Milliseconds since the epoch as a sandbox timestamp (UTC).
pub fn ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}
