use sea_orm::entity::prelude::*;

/// An uploaded media file, stored in `media_chunk` rows.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media_blob")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Hex SHA-256 of the whole file.
    pub sha256: String,
    pub content_type: String,
    pub byte_len: i64,
    /// False while its chunks are being written.
    pub complete: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
