//! Places (community rooms, providers, …) and the sessions they run.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Place::Table)
                    .col(big_pk_auto(Place::Id))
                    .col(string_len(Place::Kind, 32))
                    .col(string_len(Place::Name, 200))
                    .col(string_len(Place::Address, 500).default(""))
                    .col(string_len_null(Place::District, 50))
                    .col(string_len_null(Place::Street, 50))
                    // The point in WGS-84, and the point as the source gave
                    // it with its reference system (wgs84, gcj02 or bd09).
                    .col(double(Place::Latitude))
                    .col(double(Place::Longitude))
                    .col(string_len(Place::SourceCrs, 8))
                    .col(double(Place::SourceLatitude))
                    .col(double(Place::SourceLongitude))
                    .col(string_len_null(Place::Phone, 40))
                    .col(boolean(Place::IsDemo).default(false))
                    .col(timestamp_with_time_zone(Place::CreatedAt))
                    .col(timestamp_with_time_zone(Place::UpdatedAt))
                    .check(Expr::col(Place::Latitude).between(-90.0, 90.0))
                    .check(Expr::col(Place::Longitude).between(-180.0, 180.0))
                    .check(Expr::col(Place::SourceCrs).is_in(["wgs84", "gcj02", "bd09"]))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareSession::Table)
                    .col(big_pk_auto(CareSession::Id))
                    .col(big_integer(CareSession::PlaceId))
                    .col(string_len(CareSession::Kind, 32))
                    .col(string_len(CareSession::Title, 200))
                    .col(timestamp_with_time_zone(CareSession::StartsAt))
                    .col(timestamp_with_time_zone(CareSession::EndsAt))
                    .col(integer(CareSession::Capacity))
                    // Confirmed places; booking raises it only while it is
                    // below capacity, and the check below backs that up.
                    .col(integer(CareSession::Booked).default(0))
                    .col(integer(CareSession::MinAgeMonths))
                    .col(integer(CareSession::MaxAgeMonths))
                    .col(integer(CareSession::PriceFen).default(0))
                    .col(boolean(CareSession::IsDemo).default(false))
                    .col(timestamp_with_time_zone(CareSession::CreatedAt))
                    .col(timestamp_with_time_zone(CareSession::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_care_session_place")
                            .from(CareSession::Table, CareSession::PlaceId)
                            .to(Place::Table, Place::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(CareSession::Capacity).gte(0))
                    .check(Expr::col(CareSession::Booked).gte(0))
                    .check(Expr::col(CareSession::Booked).lte(Expr::col(CareSession::Capacity)))
                    .check(Expr::col(CareSession::EndsAt).gt(Expr::col(CareSession::StartsAt)))
                    .check(Expr::col(CareSession::MinAgeMonths).gte(0))
                    .check(
                        Expr::col(CareSession::MinAgeMonths)
                            .lte(Expr::col(CareSession::MaxAgeMonths)),
                    )
                    .check(Expr::col(CareSession::PriceFen).gte(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_care_session_place_starts")
                    .table(CareSession::Table)
                    .col(CareSession::PlaceId)
                    .col(CareSession::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_session_starts")
                    .table(CareSession::Table)
                    .col(CareSession::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_place_name")
                    .table(Place::Table)
                    .col(Place::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CareSession::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Place::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Place {
    Table,
    Id,
    Kind,
    Name,
    Address,
    District,
    Street,
    Latitude,
    Longitude,
    SourceCrs,
    SourceLatitude,
    SourceLongitude,
    Phone,
    IsDemo,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CareSession {
    Table,
    Id,
    PlaceId,
    Kind,
    Title,
    StartsAt,
    EndsAt,
    Capacity,
    Booked,
    MinAgeMonths,
    MaxAgeMonths,
    PriceFen,
    IsDemo,
    CreatedAt,
    UpdatedAt,
}
