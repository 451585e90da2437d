use sea_orm::entity::prelude::*;

/// One lesson of a course: a video or audio file to play.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "course_lesson")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub course_id: i64,
    pub position: i32,
    pub title: String,
    pub title_en: Option<String>,
    pub blob_id: i64,
    /// WebVTT captions in Chinese, when the administrator gave them.
    pub captions_vtt: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
