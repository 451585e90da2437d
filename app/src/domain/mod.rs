//! Domain logic as plain async functions over a database connection.
//!
//! Nothing here depends on Leptos or HTTP: server functions and REST
//! handlers are thin doors to these functions, and tests call them directly.

pub mod demo;
pub mod import;
pub mod places;
