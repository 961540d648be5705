//! cleverfox-sandbox: a local stand-in for the CleverFox Backup partner API.
//!
//! Four floors; each uses only the ones below it (the tools use the domain
//! and the fixture loader):
//!
//! * `cli`: the command line (serve, check, openapi, record, generate, postman).
//! * `config`: the settings of a running server.
//! * `start`: start-up shared by `serve` and the tests: fixtures, certificates, listener, banner.
//! * `edge`: HTTP: server, TLS, the pipeline, the router, /api/ and /_sandbox/ handlers.
//! * `tools`: the offline tools: the OpenAPI document, the Postman collection, the recorder, the generator.
//! * `store`: the run-time store: the sessions and their handle (state, clock, outbox, journal, faults, checkpoints), fixture loading, watching.
//! * `domain`: pure and synchronous: tables, values, state, builder, validation, rendering, engine.

pub mod cli;
pub mod config;
pub mod domain;
pub mod edge;
pub mod start;
pub mod store;
pub mod tools;
