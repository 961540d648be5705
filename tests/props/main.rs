//! Property-based tests of every parser of untrusted input (`proptest`):
//! none may panic, each agrees with an oracle (a simple count, serde_json,
//! the calendar of `jiff`, the rules of API.md written out plainly), and
//! each round-trips where a round trip exists.
//!
//! Cases per property: proptest's default, 256, or `PROPTEST_CASES`.
//! Properties that load a whole fixture set per case run a tenth of that,
//! or `1/PROPS_HEAVY_DIVISOR` ([`heavy`]). `scripts/props.sh` runs them in
//! release with a million (and the fixture-loading ones with 20,000).

mod fixtures;
mod http;
mod text;

use proptest::test_runner::Config;

/// The configuration of a cheap property: `PROPTEST_CASES` or 256 cases.
pub fn config() -> Config {
    Config::default()
}

/// The configuration of a property that loads a fixture set per case: a
/// tenth of [`config`]'s cases, or `1/PROPS_HEAVY_DIVISOR` (at least 16).
pub fn heavy() -> Config {
    let c = Config::default();
    let divisor = std::env::var("PROPS_HEAVY_DIVISOR")
        .ok()
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(10);
    Config {
        cases: (c.cases / divisor).max(16),
        ..c
    }
}
