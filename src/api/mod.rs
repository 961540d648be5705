//! The CleverFox domain: resource tables, the generic engine, rendering.
//! Knows nothing of HTTP.

pub mod build;
pub mod engine;
pub mod render;
pub mod resources;
pub mod rules;
pub mod schema;
pub mod simulate;
pub mod validate;
