//! cleverfox-sandbox: a local stand-in for the CleverFox Backup partner API.
//!
//! The architecture, from the outside in:
//!
//! * `cli`: the command line (`serve`, `check`); `main.rs` only calls it.
//! * `start`: start-up shared by `serve` and the tests: fixtures, certificates, listener, banner.
//! * `server`: the accept loop; per connection: sniff plain HTTP, TLS handshake under a
//!   timeout, HTTP/1.1 or HTTP/2 (ALPN) through hyper-util; graceful shutdown.
//! * `tls`: the generated CA and server certificate (rcgen) and the rustls configuration.
//! * `http`: the edge. `service` is the request pipeline, `route` maps paths to routes,
//!   `auth` turns Basic credentials into a principal, `error` turns refusals into responses.
//! * `api`: the CleverFox domain. `schema` and `resources` are the resource tables (the
//!   single source of truth), `build` fills records by attribute name (checked against the
//!   tables), `engine` answers list and read within a partner's scope,
//!   `render` writes records with embedding and envelopes.
//! * `store`: the data. One `State` behind one swap point, its indexes, the fixture loader
//!   with file:line:column problems, the sandbox clock.
//!
//! Dependencies point inward: `http` uses `api` and `store`; never the reverse.

pub mod api;
pub mod cli;
pub mod config;
pub mod generate;
pub mod http;
pub mod openapi;
pub mod postman;
pub mod record;
pub mod sandbox;
pub mod server;
pub mod start;
pub mod store;
pub mod tls;
