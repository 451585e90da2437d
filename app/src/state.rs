//! Server state shared by pages, server functions and REST handlers.

use sea_orm::DatabaseConnection;

/// What every request handler may use. Cloning is cheap: the pool is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
}
