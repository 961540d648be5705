//! The edge: everything about HTTP, nothing about backups.

pub mod auth;
pub mod body;
pub mod error;
pub mod route;
pub mod service;
