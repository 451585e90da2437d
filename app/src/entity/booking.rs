use sea_orm::entity::prelude::*;

/// One child's place in one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: i64,
    pub child_id: i64,
    pub family_id: i64,
    pub booked_by: Option<i64>,
    pub status: String,
    pub active_child_id: Option<i64>,
    pub check_in_code: String,
    pub created_at: DateTimeUtc,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<i64>,
    pub cancel_kind: Option<String>,
    pub cancel_reason: Option<String>,
    pub checked_in_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
