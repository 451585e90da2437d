//! The number of childcare places (托位) a place offers, which the coverage
//! view adds up per district against its population.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Place::Table)
                    .add_column(integer_null(Place::ChildcarePlaces))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Place::Table)
                    .drop_column(Place::ChildcarePlaces)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Place {
    Table,
    ChildcarePlaces,
}
