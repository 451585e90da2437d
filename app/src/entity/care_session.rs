use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub place_id: i64,
    pub kind: String,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    pub booked: i32,
    pub min_age_months: i32,
    pub max_age_months: i32,
    pub price_fen: i32,
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub booking_opens_at: Option<DateTimeUtc>,
    pub booking_closes_at: Option<DateTimeUtc>,
    pub cancel_until: Option<DateTimeUtc>,
    pub guardian_attends: bool,
    pub release_mode: String,
    pub release_window_minutes: i32,
    pub drawn_at: Option<DateTimeUtc>,
    pub draw_seed: Option<i64>,
    pub draw_by_priority: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::place::Entity",
        from = "Column::PlaceId",
        to = "super::place::Column::Id",
        on_delete = "Cascade"
    )]
    Place,
}

impl Related<super::place::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Place.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
