//! A partial index for the background job that finds due fair-release
//! draws (`booking::run_due_draws`), which every server runs every few
//! seconds.
//!
//! The index holds only fair-release sessions not yet drawn, keyed by when
//! booking opens and then when the session ends, so the job reads a few
//! index entries in place of every row of `care_session`. PostgreSQL's
//! generic plans use a partial index only when the query states the
//! index's conditions with the same literal values, so the job's query
//! (`booking::due_draw_candidates`) writes `release_mode = 'fair_release'`
//! as a literal, not a parameter.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Written as SQL because the statement is the same on SQLite and
        // PostgreSQL and states the partial index's condition plainly.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_care_session_due_draw \
                 ON care_session (booking_opens_at, ends_at) \
                 WHERE release_mode = 'fair_release' AND drawn_at IS NULL",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_care_session_due_draw")
                    .table(CareSession::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CareSession {
    Table,
}
