//! A record of each places file that administrators upload, with its
//! report, so the upload page can show the report and the city can see who
//! imported what and when.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportRun::Table)
                    .col(big_pk_auto(ImportRun::Id))
                    .col(big_integer_null(ImportRun::AccountId))
                    .col(string_len(ImportRun::FileName, 200))
                    // csv or geojson.
                    .col(string_len(ImportRun::Format, 16))
                    .col(string_len(ImportRun::Crs, 8))
                    .col(string_len(ImportRun::Source, 40))
                    .col(boolean(ImportRun::DryRun))
                    .col(big_integer(ImportRun::Inserted))
                    .col(big_integer(ImportRun::Updated))
                    // The rejected rows and warnings as JSON.
                    .col(json(ImportRun::Report))
                    .col(timestamp_with_time_zone(ImportRun::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportRun::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ImportRun {
    Table,
    Id,
    AccountId,
    FileName,
    Format,
    Crs,
    Source,
    DryRun,
    Inserted,
    Updated,
    Report,
    CreatedAt,
}
