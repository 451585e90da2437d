use sea_orm::entity::prelude::*;

/// A child's membership of a priority group, granted by an administrator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "child_priority")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub child_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i64,
    pub granted_by: Option<i64>,
    pub granted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::priority_group::Entity",
        from = "Column::GroupId",
        to = "super::priority_group::Column::Id"
    )]
    Group,
}

impl Related<super::priority_group::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Group.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
