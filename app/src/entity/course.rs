use sea_orm::entity::prelude::*;

/// A parenting course (家长课堂) for children of an age range.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "course")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    pub topic: String,
    pub min_age_months: i32,
    pub max_age_months: i32,
    /// The publishing district; `None` for the city's own courses.
    pub district_code: Option<String>,
    /// `draft`, `published` or `withdrawn`.
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    /// When the families it suits got their message; `None` until then.
    pub announced_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
