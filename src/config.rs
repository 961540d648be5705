//! Settings of a running server that the request pipeline reads.

/// Runtime settings (from the command line).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Refuse unknown and read-only attributes with 422 instead of ignoring them.
    pub strict: bool,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Milliseconds (sandbox clock) before a device's own installer URL appears.
    pub agent_delay_ms: i64,
    /// Request journal entries kept.
    pub journal: usize,
    /// Time allowed for a request body to arrive once its head has.
    pub body_read_timeout: std::time::Duration,
    /// Sessions besides `default`, at most (`--max-sessions`).
    pub max_sessions: usize,
    /// Milliseconds of real time a session may stay unused (`--session-ttl`).
    pub session_ttl_ms: i64,
    /// Runs one move of the clock may write (`--max-runs-per-advance`).
    pub max_runs_per_advance: u64,
    /// Compat mode of a session that `sandbox.json` and PUT leave unset (`--compat`).
    pub compat: crate::domain::compat::Compat,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            strict: false,
            max_body: 1024 * 1024,
            agent_delay_ms: 60_000,
            journal: 1000,
            body_read_timeout: std::time::Duration::from_secs(30),
            max_sessions: 1000,
            session_ttl_ms: 3_600_000,
            max_runs_per_advance: 100_000,
            compat: Default::default(),
        }
    }
}
