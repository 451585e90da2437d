//! What a place discloses to families: the ages it takes, its services,
//! fees, opening hours and contact, and the public-benefit (普惠),
//! registration (备案) and star rating (星级) decisions, each with the source
//! and date of the decision. Also the index behind nearby search.
//!
//! Every new column is nullable or defaults to false, so existing and
//! imported places disclose nothing until someone records it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each disclosure is all three of value, source and date, or none of them.
/// A check passes when it evaluates to NULL, so every check here tests for
/// NULL explicitly instead of relying on comparisons.
/// SQLite accepts a column check that names other columns, and so does
/// PostgreSQL, so the check sits on the last of the three columns added.
fn all_or_none(columns: [&str; 3]) -> SimpleExpr {
    let [a, b, c] = columns;
    Expr::cust(format!(
        "({a} IS NULL AND {b} IS NULL AND {c} IS NULL) \
         OR ({a} IS NOT NULL AND {b} IS NOT NULL AND {c} IS NOT NULL)"
    ))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE, so each is added alone.
        let columns = [
            integer_null(Place::MinAgeMonths)
                .check(Expr::col(Place::MinAgeMonths).gte(0))
                .to_owned(),
            integer_null(Place::MaxAgeMonths)
                .check(Expr::cust(
                    "(min_age_months IS NULL AND max_age_months IS NULL) \
                     OR (min_age_months IS NOT NULL AND max_age_months IS NOT NULL \
                         AND max_age_months >= min_age_months)",
                ))
                .to_owned(),
            boolean(Place::OffersHourlyCare).default(false).to_owned(),
            boolean(Place::OffersParentChildActivity)
                .default(false)
                .to_owned(),
            boolean(Place::OffersToddlerClass).default(false).to_owned(),
            boolean(Place::OffersFullDay).default(false).to_owned(),
            // free, per_hour or per_month; the amount is in fen (1/100 yuan)
            // and only the two paid kinds carry one.
            string_len_null(Place::FeeKind, 16)
                .check(Expr::col(Place::FeeKind).is_in(["free", "per_hour", "per_month"]))
                .to_owned(),
            integer_null(Place::FeeFen)
                .check(Expr::cust(
                    "(fee_kind IS NULL AND fee_fen IS NULL) \
                     OR (fee_kind = 'free' AND fee_fen IS NULL) \
                     OR (fee_kind IN ('per_hour', 'per_month') AND fee_fen IS NOT NULL AND fee_fen > 0)",
                ))
                .to_owned(),
            string_len_null(Place::OpeningHours, 200).to_owned(),
            string_len_null(Place::Contact, 200).to_owned(),
            boolean_null(Place::PublicBenefit).to_owned(),
            date_null(Place::PublicBenefitDate).to_owned(),
            string_len_null(Place::PublicBenefitSource, 200)
                .check(all_or_none([
                    "public_benefit",
                    "public_benefit_date",
                    "public_benefit_source",
                ]))
                .to_owned(),
            boolean_null(Place::Registered).to_owned(),
            date_null(Place::RegistrationDate).to_owned(),
            string_len_null(Place::RegistrationSource, 200)
                .check(all_or_none([
                    "registered",
                    "registration_date",
                    "registration_source",
                ]))
                .to_owned(),
            integer_null(Place::StarRating)
                .check(Expr::col(Place::StarRating).between(1, 5))
                .to_owned(),
            date_null(Place::StarRatingDate).to_owned(),
            string_len_null(Place::StarRatingSource, 200)
                .check(all_or_none([
                    "star_rating",
                    "star_rating_date",
                    "star_rating_source",
                ]))
                .to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Place::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        // Nearby search narrows places to a bounding box first. A range on
        // latitude walks this index, and the longitude range is checked
        // inside it without reading the table.
        manager
            .create_index(
                Index::create()
                    .name("idx_place_latitude_longitude")
                    .table(Place::Table)
                    .col(Place::Latitude)
                    .col(Place::Longitude)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_place_latitude_longitude")
                    .table(Place::Table)
                    .to_owned(),
            )
            .await?;
        // Dropped in reverse order, so that no check names a dropped column.
        let columns = [
            Place::StarRatingSource,
            Place::StarRatingDate,
            Place::StarRating,
            Place::RegistrationSource,
            Place::RegistrationDate,
            Place::Registered,
            Place::PublicBenefitSource,
            Place::PublicBenefitDate,
            Place::PublicBenefit,
            Place::Contact,
            Place::OpeningHours,
            Place::FeeFen,
            Place::FeeKind,
            Place::OffersFullDay,
            Place::OffersToddlerClass,
            Place::OffersParentChildActivity,
            Place::OffersHourlyCare,
            Place::MaxAgeMonths,
            Place::MinAgeMonths,
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Place::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Place {
    Table,
    Latitude,
    Longitude,
    MinAgeMonths,
    MaxAgeMonths,
    OffersHourlyCare,
    OffersParentChildActivity,
    OffersToddlerClass,
    OffersFullDay,
    FeeKind,
    FeeFen,
    OpeningHours,
    Contact,
    PublicBenefit,
    PublicBenefitDate,
    PublicBenefitSource,
    Registered,
    RegistrationDate,
    RegistrationSource,
    StarRating,
    StarRatingDate,
    StarRatingSource,
}
