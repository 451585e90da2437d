//! Families: guardians, children with the consent that allows their
//! records, and carers (grandparents, nannies) invited by a guardian.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Family::Table)
                    .col(big_pk_auto(Family::Id))
                    // The guardian whose account holds the family.
                    .col(big_integer_uniq(Family::GuardianAccountId))
                    .col(timestamp_with_time_zone(Family::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_family_guardian")
                            .from(Family::Table, Family::GuardianAccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A guardian's consent to processing one child's information, with
        // the version of the notice they were shown.
        manager
            .create_table(
                Table::create()
                    .table(ChildConsent::Table)
                    .col(big_pk_auto(ChildConsent::Id))
                    .col(big_integer(ChildConsent::FamilyId))
                    .col(big_integer(ChildConsent::GivenBy))
                    .col(string_len(ChildConsent::NoticeVersion, 32))
                    .col(timestamp_with_time_zone(ChildConsent::GivenAt))
                    .col(timestamp_with_time_zone_null(ChildConsent::WithdrawnAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_child_consent_family")
                            .from(ChildConsent::Table, ChildConsent::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Child::Table)
                    .col(big_pk_auto(Child::Id))
                    .col(big_integer(Child::FamilyId))
                    .col(big_integer_uniq(Child::ConsentId))
                    .col(string_len(Child::DisplayName, 40))
                    .col(date(Child::BirthDate))
                    // Allergies and needs: sensitive, shown only to the
                    // family and, later, to staff of a booked session.
                    .col(string_len_null(Child::CareNotes, 500))
                    .col(timestamp_with_time_zone(Child::CreatedAt))
                    .col(timestamp_with_time_zone(Child::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_child_family")
                            .from(Child::Table, Child::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_child_consent")
                            .from(Child::Table, Child::ConsentId)
                            .to(ChildConsent::Table, ChildConsent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_child_family")
                    .table(Child::Table)
                    .col(Child::FamilyId)
                    .to_owned(),
            )
            .await?;

        // A one-time invitation from a guardian to a carer, found by the
        // SHA-256 of its code. The children it covers are in `child_ids`
        // (a JSON array), copied to the delegation on acceptance.
        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(big_pk_auto(Invitation::Id))
                    .col(big_integer(Invitation::FamilyId))
                    .col(string_len_uniq(Invitation::CodeHash, 64))
                    .col(json(Invitation::ChildIds))
                    .col(big_integer(Invitation::CreatedBy))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone(Invitation::ExpiresAt))
                    .col(big_integer_null(Invitation::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Invitation::AcceptedAt))
                    .col(timestamp_with_time_zone_null(Invitation::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitation_family")
                            .from(Invitation::Table, Invitation::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Delegation::Table)
                    .col(big_pk_auto(Delegation::Id))
                    .col(big_integer(Delegation::FamilyId))
                    .col(big_integer(Delegation::CarerAccountId))
                    .col(big_integer(Delegation::ChildId))
                    .col(big_integer_null(Delegation::InvitationId))
                    .col(timestamp_with_time_zone(Delegation::CreatedAt))
                    .col(timestamp_with_time_zone_null(Delegation::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_delegation_family")
                            .from(Delegation::Table, Delegation::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_delegation_carer")
                            .from(Delegation::Table, Delegation::CarerAccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_delegation_child")
                            .from(Delegation::Table, Delegation::ChildId)
                            .to(Child::Table, Child::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_delegation_carer")
                    .table(Delegation::Table)
                    .col(Delegation::CarerAccountId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Delegation::Table.into_iden(),
            Invitation::Table.into_iden(),
            Child::Table.into_iden(),
            ChildConsent::Table.into_iden(),
            Family::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Family {
    Table,
    Id,
    GuardianAccountId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChildConsent {
    Table,
    Id,
    FamilyId,
    GivenBy,
    NoticeVersion,
    GivenAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum Child {
    Table,
    Id,
    FamilyId,
    ConsentId,
    DisplayName,
    BirthDate,
    CareNotes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    FamilyId,
    CodeHash,
    ChildIds,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedBy,
    AcceptedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Delegation {
    Table,
    Id,
    FamilyId,
    CarerAccountId,
    ChildId,
    InvitationId,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}
