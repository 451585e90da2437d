use sea_orm::entity::prelude::*;

/// The current rate-limit window of one key, shared by every server process.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limit_window")]
pub struct Model {
    /// The limit's name and the client address, such as `sign_in 203.0.113.7`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Start of the window, in milliseconds since the Unix epoch.
    pub window_start_ms: i64,
    /// Requests counted in the window, including refused ones.
    pub hits: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
