//! Districts and streets for coverage and search, and an import key on
//! places so that importing the same file again updates instead of adding.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(District::Table)
                    // The six-digit administrative code, for example 320102.
                    .col(string_len(District::Code, 12).primary_key())
                    .col(string_len(District::Name, 50))
                    .col(double_null(District::Population10k))
                    .col(double_null(District::BirthRatePermille))
                    .col(double_null(District::Latitude))
                    .col(double_null(District::Longitude))
                    .col(timestamp_with_time_zone(District::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Street::Table)
                    // Ministry of Civil Affairs code; the statistics bureau's
                    // code differs for some streets, so both are kept.
                    .col(string_len(Street::McaCode, 12).primary_key())
                    .col(string_len_null(Street::StatsCode, 12))
                    .col(string_len(Street::Name, 50))
                    .col(string_len(Street::DistrictCode, 12))
                    .col(double_null(Street::Latitude))
                    .col(double_null(Street::Longitude))
                    .col(timestamp_with_time_zone(Street::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_street_district")
                            .from(Street::Table, Street::DistrictCode)
                            .to(District::Table, District::Code),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Place::Table)
                    .add_column(string_len_null(Place::SourceKey, 300))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_place_source_key")
                    .table(Place::Table)
                    .col(Place::SourceKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_place_source_key")
                    .table(Place::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Place::Table)
                    .drop_column(Place::SourceKey)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Street::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(District::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum District {
    Table,
    Code,
    Name,
    #[sea_orm(iden = "population_10k")]
    Population10k,
    BirthRatePermille,
    Latitude,
    Longitude,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Street {
    Table,
    McaCode,
    StatsCode,
    Name,
    DistrictCode,
    Latitude,
    Longitude,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Place {
    Table,
    SourceKey,
}
