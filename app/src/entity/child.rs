use sea_orm::entity::prelude::*;

/// A child of a family.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "child")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub family_id: i64,
    /// The consent that allows this record; withdrawing it deletes the record.
    #[sea_orm(unique)]
    pub consent_id: i64,
    pub display_name: String,
    pub birth_date: Date,
    /// Allergies and needs; sensitive.
    pub care_notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
