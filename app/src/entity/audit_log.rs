use sea_orm::entity::prelude::*;

/// One entry of the audit trail.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_account_id: Option<i64>,
    /// The account the actor acted for, when acting as a delegate.
    pub on_behalf_of_account_id: Option<i64>,
    /// Code of the district the entry concerns; `None` for entries that
    /// only city administrators read.
    pub district_code: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub detail: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
