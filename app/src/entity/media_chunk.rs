use sea_orm::entity::prelude::*;

/// One piece of a media file, in order of `seq`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media_chunk")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub blob_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    pub data: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
