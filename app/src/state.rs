//! Server state shared by pages, server functions and REST handlers.

use sea_orm::DatabaseConnection;

/// State available to every request handler. Cloning is cheap because the pool is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
}
