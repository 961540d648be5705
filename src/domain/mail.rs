//! An e-mail the real service would have sent (a user invitation, a job
//! notification): what the engine and the simulation produce for the outbox.

/// One e-mail the real service would have sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// Assigned when the mail enters the outbox.
    pub id: u64,
    /// Sandbox-clock time, UTC milliseconds.
    pub time_ms: i64,
    pub to: String,
    pub cc: Option<String>,
    pub bcc: Option<String>,
    pub subject: String,
    pub body: String,
}
