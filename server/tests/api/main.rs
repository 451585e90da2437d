#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a failed expectation is how a test reports a failure"
)]

//! Integration tests: the real server on a free port against a fresh
//! SQLite file or a fresh PostgreSQL database, spoken to over HTTP.

mod admin_places;
mod app_tokens;
mod audit;
mod auth;
mod booking;
mod booking_http;
mod browser;
mod cli;
mod courses;
mod dev_portal;
mod due_draws;
mod errors;
mod family;
mod family_http;
mod form_drafts;
mod helpers;
mod import;
mod map;
mod nearby;
mod outage;
mod pages;
mod places;
mod prefs;
mod priority;
mod rate_limits;
mod search_snapshot;
mod staff;
