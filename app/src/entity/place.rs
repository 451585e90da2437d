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
    /// Youngest and oldest age taken, in whole months; both or neither.
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    pub offers_hourly_care: bool,
    pub offers_parent_child_activity: bool,
    pub offers_toddler_class: bool,
    pub offers_full_day: bool,
    /// `free`, `per_hour` or `per_month`; `None` when not disclosed.
    pub fee_kind: Option<String>,
    /// The fee in fen (1/100 yuan), for `per_hour` and `per_month` only.
    pub fee_fen: Option<i32>,
    pub opening_hours: Option<String>,
    /// Contact person or channel, besides `phone`.
    pub contact: Option<String>,
    /// The public-benefit (普惠) decision with its date and source; all
    /// three are set or none.
    pub public_benefit: Option<bool>,
    pub public_benefit_date: Option<Date>,
    pub public_benefit_source: Option<String>,
    /// The registration (备案) status with its date and source.
    pub registered: Option<bool>,
    pub registration_date: Option<Date>,
    pub registration_source: Option<String>,
    /// The district's star rating (星级), 1 to 5, with its date and source.
    pub star_rating: Option<i32>,
    pub star_rating_date: Option<Date>,
    pub star_rating_source: Option<String>,
    /// Childcare places (托位) offered, as the district records them.
    pub childcare_places: Option<i32>,
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
