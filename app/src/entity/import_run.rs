use sea_orm::entity::prelude::*;

/// One uploaded places file and what its import did.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: Option<i64>,
    pub file_name: String,
    pub format: String,
    pub crs: String,
    pub source: String,
    pub dry_run: bool,
    pub inserted: i64,
    pub updated: i64,
    /// `{"rejected": [...], "warnings": [...]}` with line numbers and reasons.
    pub report: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
