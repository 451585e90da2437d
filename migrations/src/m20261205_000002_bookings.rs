//! Booking: the rules on each session, bookings, waitlists with timed
//! offers, idempotent booking requests, notifications and calendar feeds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let session_columns = [
            // Absent: booking is open as soon as the session is published.
            timestamp_with_time_zone_null(CareSession::BookingOpensAt),
            // Absent: the session's start.
            timestamp_with_time_zone_null(CareSession::BookingClosesAt),
            // Absent: the session's start. Later cancellations are late.
            timestamp_with_time_zone_null(CareSession::CancelUntil),
            boolean(CareSession::GuardianAttends)
                .default(false)
                .to_owned(),
            // first_come or fair_release.
            string_len(CareSession::ReleaseMode, 16)
                .default("first_come")
                .to_owned(),
            integer(CareSession::ReleaseWindowMinutes)
                .default(10)
                .to_owned(),
            // Set when the fair-release draw has run, with its seed.
            timestamp_with_time_zone_null(CareSession::DrawnAt),
            big_integer_null(CareSession::DrawSeed),
        ];
        for column in session_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(CareSession::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Booking::Table)
                    .col(big_pk_auto(Booking::Id))
                    .col(big_integer(Booking::SessionId))
                    .col(big_integer(Booking::ChildId))
                    .col(big_integer(Booking::FamilyId))
                    .col(big_integer_null(Booking::BookedBy))
                    // confirmed or cancelled.
                    .col(string_len(Booking::Status, 16))
                    // The child's id while confirmed, NULL once cancelled: the
                    // unique index below then allows one confirmed booking
                    // per child and session on both databases.
                    .col(big_integer_null(Booking::ActiveChildId))
                    // Short code typed or scanned at the door.
                    .col(string_len(Booking::CheckInCode, 16))
                    .col(timestamp_with_time_zone(Booking::CreatedAt))
                    .col(timestamp_with_time_zone_null(Booking::CancelledAt))
                    .col(big_integer_null(Booking::CancelledBy))
                    // family, late (family after the cut-off) or staff.
                    .col(string_len_null(Booking::CancelKind, 16))
                    .col(string_len_null(Booking::CancelReason, 200))
                    .col(timestamp_with_time_zone_null(Booking::CheckedInAt))
                    .col(timestamp_with_time_zone_null(Booking::RemindedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_session")
                            .from(Booking::Table, Booking::SessionId)
                            .to(CareSession::Table, CareSession::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_child")
                            .from(Booking::Table, Booking::ChildId)
                            .to(Child::Table, Child::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_family")
                            .from(Booking::Table, Booking::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_booked_by")
                            .from(Booking::Table, Booking::BookedBy)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .check(Expr::col(Booking::Status).is_in(["confirmed", "cancelled"]))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "idx_booking_active_child",
                vec![Booking::SessionId, Booking::ActiveChildId],
                true,
            ),
            (
                "idx_booking_check_in_code",
                vec![Booking::SessionId, Booking::CheckInCode],
                true,
            ),
            ("idx_booking_child", vec![Booking::ChildId], false),
            ("idx_booking_family", vec![Booking::FamilyId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Booking::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WaitlistEntry::Table)
                    .col(big_pk_auto(WaitlistEntry::Id))
                    .col(big_integer(WaitlistEntry::SessionId))
                    .col(big_integer(WaitlistEntry::ChildId))
                    .col(big_integer(WaitlistEntry::FamilyId))
                    .col(big_integer_null(WaitlistEntry::JoinedBy))
                    // waiting, offered, booked, declined, expired, skipped, left.
                    .col(string_len(WaitlistEntry::Status, 16))
                    // The child's id while waiting or offered, else NULL.
                    .col(big_integer_null(WaitlistEntry::ActiveChildId))
                    // Priority group set by administrators for a fair
                    // release; lower goes first, 0 when none.
                    .col(integer(WaitlistEntry::Priority).default(0))
                    // Fair release: the request joined the draw.
                    .col(boolean(WaitlistEntry::InDraw).default(false))
                    // The entry's place in the drawn order, from 1.
                    .col(integer_null(WaitlistEntry::DrawRank))
                    .col(timestamp_with_time_zone(WaitlistEntry::CreatedAt))
                    .col(timestamp_with_time_zone_null(WaitlistEntry::OfferedAt))
                    .col(timestamp_with_time_zone_null(WaitlistEntry::OfferExpiresAt))
                    .col(timestamp_with_time_zone_null(WaitlistEntry::ClosedAt))
                    // Why an entry was skipped, for the family and the audit.
                    .col(string_len_null(WaitlistEntry::Note, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_session")
                            .from(WaitlistEntry::Table, WaitlistEntry::SessionId)
                            .to(CareSession::Table, CareSession::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_child")
                            .from(WaitlistEntry::Table, WaitlistEntry::ChildId)
                            .to(Child::Table, Child::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_family")
                            .from(WaitlistEntry::Table, WaitlistEntry::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waitlist_joined_by")
                            .from(WaitlistEntry::Table, WaitlistEntry::JoinedBy)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_waitlist_active_child")
                    .table(WaitlistEntry::Table)
                    .col(WaitlistEntry::SessionId)
                    .col(WaitlistEntry::ActiveChildId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_waitlist_session_status")
                    .table(WaitlistEntry::Table)
                    .col(WaitlistEntry::SessionId)
                    .col(WaitlistEntry::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_waitlist_offer_expiry")
                    .table(WaitlistEntry::Table)
                    .col(WaitlistEntry::Status)
                    .col(WaitlistEntry::OfferExpiresAt)
                    .to_owned(),
            )
            .await?;

        // A booking request's key and the answer it got, so that a retried
        // request gets the same answer and books nothing twice.
        manager
            .create_table(
                Table::create()
                    .table(BookingRequest::Table)
                    .col(big_pk_auto(BookingRequest::Id))
                    .col(big_integer(BookingRequest::AccountId))
                    .col(string_len(BookingRequest::IdempotencyKey, 64))
                    .col(json(BookingRequest::Outcome))
                    .col(timestamp_with_time_zone(BookingRequest::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_request_account")
                            .from(BookingRequest::Table, BookingRequest::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_booking_request_key")
                    .table(BookingRequest::Table)
                    .col(BookingRequest::AccountId)
                    .col(BookingRequest::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // The inbox, which is also the outbox: rows are written in the
        // transaction that causes them and delivered to other channels later.
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(big_pk_auto(Notification::Id))
                    .col(big_integer(Notification::AccountId))
                    .col(string_len(Notification::Kind, 32))
                    .col(big_integer_null(Notification::SessionId))
                    .col(json_null(Notification::Detail))
                    .col(timestamp_with_time_zone(Notification::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notification::ReadAt))
                    .col(timestamp_with_time_zone_null(Notification::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_account")
                            .from(Notification::Table, Notification::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_account")
                    .table(Notification::Table)
                    .col(Notification::AccountId)
                    .col(Notification::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_undelivered")
                    .table(Notification::Table)
                    .col(Notification::DeliveredAt)
                    .to_owned(),
            )
            .await?;

        // A family's private calendar subscription, found by its token.
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeed::Table)
                    .col(big_pk_auto(CalendarFeed::Id))
                    .col(big_integer_uniq(CalendarFeed::FamilyId))
                    .col(string_len_uniq(CalendarFeed::Token, 64))
                    .col(timestamp_with_time_zone(CalendarFeed::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_feed_family")
                            .from(CalendarFeed::Table, CalendarFeed::FamilyId)
                            .to(Family::Table, Family::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CalendarFeed::Table.into_iden(),
            Notification::Table.into_iden(),
            BookingRequest::Table.into_iden(),
            WaitlistEntry::Table.into_iden(),
            Booking::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            CareSession::DrawSeed,
            CareSession::DrawnAt,
            CareSession::ReleaseWindowMinutes,
            CareSession::ReleaseMode,
            CareSession::GuardianAttends,
            CareSession::CancelUntil,
            CareSession::BookingClosesAt,
            CareSession::BookingOpensAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CareSession::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CareSession {
    Table,
    Id,
    BookingOpensAt,
    BookingClosesAt,
    CancelUntil,
    GuardianAttends,
    ReleaseMode,
    ReleaseWindowMinutes,
    DrawnAt,
    DrawSeed,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    Id,
    SessionId,
    ChildId,
    FamilyId,
    BookedBy,
    Status,
    ActiveChildId,
    CheckInCode,
    CreatedAt,
    CancelledAt,
    CancelledBy,
    CancelKind,
    CancelReason,
    CheckedInAt,
    RemindedAt,
}

#[derive(DeriveIden)]
enum WaitlistEntry {
    Table,
    Id,
    SessionId,
    ChildId,
    FamilyId,
    JoinedBy,
    Status,
    ActiveChildId,
    Priority,
    InDraw,
    DrawRank,
    CreatedAt,
    OfferedAt,
    OfferExpiresAt,
    ClosedAt,
    Note,
}

#[derive(DeriveIden)]
enum BookingRequest {
    Table,
    Id,
    AccountId,
    IdempotencyKey,
    Outcome,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    AccountId,
    Kind,
    SessionId,
    Detail,
    CreatedAt,
    ReadAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum CalendarFeed {
    Table,
    Id,
    FamilyId,
    Token,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Child {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Family {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}
