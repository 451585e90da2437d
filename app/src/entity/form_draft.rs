use sea_orm::entity::prelude::*;

/// The values of a rejected form, kept for the page that shows it again.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_draft")]
pub struct Model {
    /// SHA-256 of the web session cookie, hex, as in `web_session`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_hash: String,
    /// Path of the server function the form posts to, such as `/sfn/add_child`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub form: String,
    /// The rejected call's arguments as JSON.
    pub fields: Json,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
