//! Rate-limit windows shared by every server process on the database.
//!
//! One row per limited key (a limit's name and a client address): when its
//! window started, in milliseconds since the Unix epoch, and how many
//! requests it has counted since. A request updates its row with one
//! upsert, and rows whose window has ended are deleted by a job on every
//! server; `idx_rate_limit_window_start` serves that delete.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string_len};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimitWindow::Table)
                    .col(string_len(RateLimitWindow::Key, 80).primary_key())
                    .col(big_integer(RateLimitWindow::WindowStartMs))
                    .col(integer(RateLimitWindow::Hits))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_limit_window_start")
                    .table(RateLimitWindow::Table)
                    .col(RateLimitWindow::WindowStartMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimitWindow::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateLimitWindow {
    Table,
    Key,
    WindowStartMs,
    Hits,
}
