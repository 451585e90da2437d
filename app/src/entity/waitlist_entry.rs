use sea_orm::entity::prelude::*;

/// One child waiting for a place in one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "waitlist_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: i64,
    pub child_id: i64,
    pub family_id: i64,
    pub joined_by: Option<i64>,
    pub status: String,
    pub active_child_id: Option<i64>,
    pub priority: i32,
    pub in_draw: bool,
    pub draw_rank: Option<i32>,
    pub created_at: DateTimeUtc,
    pub offered_at: Option<DateTimeUtc>,
    pub offer_expires_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
