//! Indexes on `updated_at` of `place` and `care_session`.
//!
//! Every server process refreshes its nearby search snapshot each second
//! with the rows changed since its last refresh. Without these indexes each
//! refresh would scan both tables.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_place_updated_at")
                    .table(Place::Table)
                    .col(Place::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_session_updated_at")
                    .table(CareSession::Table)
                    .col(CareSession::UpdatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_care_session_updated_at")
                    .table(CareSession::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_place_updated_at")
                    .table(Place::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Place {
    Table,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CareSession {
    Table,
    UpdatedAt,
}
