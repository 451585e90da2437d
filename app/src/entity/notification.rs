use sea_orm::entity::prelude::*;

/// A message in an account's inbox, and in the outbox until delivered.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: String,
    pub session_id: Option<i64>,
    /// The course announced, for `new_course`.
    pub course_id: Option<i64>,
    pub detail: Option<Json>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
