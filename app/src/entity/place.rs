use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "place")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub district: Option<String>,
    pub street: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub source_crs: String,
    pub source_latitude: f64,
    pub source_longitude: f64,
    pub phone: Option<String>,
    pub is_demo: bool,
    /// Identifies the source record of an imported place; re-importing the
    /// same record updates this row.
    pub source_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::care_session::Entity")]
    CareSession,
}

impl Related<super::care_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CareSession.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
