//! An index that answers nearby search's first query on its own.
//!
//! Nearby search orders the places in a bounding box by distance and
//! applies the place-level filters before it reads any whole row. With
//! every column that query reads in the index, neither SQLite nor
//! PostgreSQL (in an index-only scan) has to visit the table for the
//! thousands of places in a large box. The index starts with the columns
//! of the index it replaces, so it serves every query that one served.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_place_search")
                    .table(Place::Table)
                    .col(Place::Latitude)
                    .col(Place::Longitude)
                    .col(Place::PublicBenefit)
                    .col(Place::OffersToddlerClass)
                    .col(Place::OffersFullDay)
                    .col(Place::OffersHourlyCare)
                    .col(Place::OffersParentChildActivity)
                    .col(Place::MinAgeMonths)
                    .col(Place::MaxAgeMonths)
                    .col(Place::FeeKind)
                    .col(Place::FeeFen)
                    // SQLite keeps the row id in every index entry;
                    // PostgreSQL needs it named.
                    .col(Place::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_place_latitude_longitude")
                    .table(Place::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_place_latitude_longitude")
                    .table(Place::Table)
                    .col(Place::Latitude)
                    .col(Place::Longitude)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_place_search")
                    .table(Place::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Place {
    Table,
    Id,
    Latitude,
    Longitude,
    PublicBenefit,
    OffersHourlyCare,
    OffersParentChildActivity,
    OffersToddlerClass,
    OffersFullDay,
    MinAgeMonths,
    MaxAgeMonths,
    FeeKind,
    FeeFen,
}
