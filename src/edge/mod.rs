//! The edge: everything about HTTP, nothing about backups. A request goes
//! server -> service (pipeline) -> route -> api or control -> the domain.

pub mod access; // the access log's lines
pub mod api; // the /api/ handlers
pub mod app; // what every connection shares, and the Reply
pub mod auth; // Basic credentials to a Principal
pub mod body; // the response Body type; reading and parsing request bodies
pub mod console; // the console page at /_sandbox/console
pub mod control; // the /_sandbox/ handlers
pub mod error; // ApiError, and From<EngineError>
pub mod logging; // the non-blocking log writer, its drop counter
pub mod route; // the one router for /api/ and /_sandbox/
pub mod schedule; // the schedule's timer: jobs run as real time passes
pub mod server; // accept loop, TLS handshake, HTTP/1.1 and h2, graceful shutdown
pub mod service; // the request pipeline and the access log
pub mod sessions; // which session a request addresses; the sessions and checkpoints endpoints
pub mod tls; // certificates and the rustls configuration
