//! The Ningyu server: configuration, router, REST API and CLI around the
//! `app` crate. `main.rs` is a thin wrapper so tests can start the real
//! server in-process.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dev_portal;
pub mod import;
pub mod locale;
pub mod media;
pub mod page_cache;
pub mod rest;
pub mod startup;
pub mod telemetry;
pub mod web;
