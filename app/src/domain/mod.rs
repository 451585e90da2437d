//! Domain logic as plain async functions over a database connection.
//!
//! Nothing here knows about Leptos or HTTP: server functions and REST
//! handlers are thin doors to these functions, and tests call them directly.

pub mod demo;
pub mod places;
