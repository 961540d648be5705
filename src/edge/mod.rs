//! The edge: everything about HTTP, nothing about backups.

pub mod api;
pub mod app;
pub mod auth;
pub mod body;
pub mod control;
pub mod error;
pub mod faults;
pub mod journal;
pub mod route;
pub mod server;
pub mod service;
pub mod tls;
