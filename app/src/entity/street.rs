use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "street")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mca_code: String,
    pub stats_code: Option<String>,
    pub name: String,
    pub district_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
