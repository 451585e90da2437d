//! Records the district an audit log entry concerns, so that district
//! administrators can be shown their district's entries only.
//!
//! `audit_log.district_code` is the code of the district of the place that
//! an entry is about: the place itself, or the place of a session, booking
//! or waitlist entry. The entries written before this migration get it from
//! their target where the target still exists; the others stay `NULL` and
//! only city administrators read them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Fills `district_code` of older entries from the place their target
/// belongs to. Each statement is plain SQL that SQLite and PostgreSQL run
/// alike; `target_id` is text, so it is cast to compare it with ids.
const BACKFILL: [&str; 4] = [
    "UPDATE audit_log SET district_code = ( \
         SELECT district.code FROM place JOIN district ON district.name = place.district \
         WHERE place.id = CAST(audit_log.target_id AS BIGINT)) \
     WHERE target_kind = 'place' AND target_id IS NOT NULL",
    "UPDATE audit_log SET district_code = ( \
         SELECT district.code FROM care_session \
         JOIN place ON place.id = care_session.place_id \
         JOIN district ON district.name = place.district \
         WHERE care_session.id = CAST(audit_log.target_id AS BIGINT)) \
     WHERE target_kind = 'care_session' AND target_id IS NOT NULL",
    "UPDATE audit_log SET district_code = ( \
         SELECT district.code FROM booking \
         JOIN care_session ON care_session.id = booking.session_id \
         JOIN place ON place.id = care_session.place_id \
         JOIN district ON district.name = place.district \
         WHERE booking.id = CAST(audit_log.target_id AS BIGINT)) \
     WHERE target_kind = 'booking' AND target_id IS NOT NULL",
    "UPDATE audit_log SET district_code = ( \
         SELECT district.code FROM waitlist_entry \
         JOIN care_session ON care_session.id = waitlist_entry.session_id \
         JOIN place ON place.id = care_session.place_id \
         JOIN district ON district.name = place.district \
         WHERE waitlist_entry.id = CAST(audit_log.target_id AS BIGINT)) \
     WHERE target_kind = 'waitlist_entry' AND target_id IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::DistrictCode).string().null())
                    .to_owned(),
            )
            .await?;
        // A district administrator's page reads the newest entries of a
        // district: this index serves it without reading the others.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_district")
                    .table(AuditLog::Table)
                    .col(AuditLog::DistrictCode)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for statement in BACKFILL {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_log_district")
                    .table(AuditLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .drop_column(AuditLog::DistrictCode)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    DistrictCode,
}
