//! Domain logic as plain async functions over a database connection.
//!
//! Nothing here depends on Leptos or HTTP: server functions and REST
//! handlers are thin doors to these functions, and tests call them directly.

pub mod accounts;
pub mod app_tokens;
pub mod audit;
pub mod booking;
pub mod calendar;
pub mod courses;
pub mod demo;
pub mod family;
pub mod form_drafts;
pub mod import;
pub mod inbox;
pub mod media;
pub mod nearby;
pub mod place_admin;
pub mod places;
pub mod priority;
pub mod rate_limits;
pub mod secrets;
pub mod sessions;
pub mod staff;
