//! The CleverFox domain: resource tables, the generic engine, rendering.
//! Knows nothing of HTTP.

pub mod control;
pub mod engine;
pub mod faults;
pub mod mail;
pub mod render;
pub mod resources;
pub mod rules;
pub mod schema;
pub mod simulate;
pub mod snapshot;
pub mod state;
pub mod validate;
pub mod value;
