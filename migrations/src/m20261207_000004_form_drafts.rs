//! Form drafts: what a signed-in browser typed into a form that the server
//! refused, kept for one reading so that the page can show the form again
//! as typed without putting the values into its address.
//!
//! A draft belongs to a web session and goes with it (`ON DELETE CASCADE`,
//! so also with the account). It is read once and expires within minutes;
//! `idx_form_draft_expires` serves the hourly delete of expired drafts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FormDraft::Table)
                    .col(string_len(FormDraft::SessionHash, 64))
                    .col(string_len(FormDraft::Form, 64))
                    .col(json(FormDraft::Fields))
                    .col(timestamp_with_time_zone(FormDraft::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(FormDraft::SessionHash)
                            .col(FormDraft::Form),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_form_draft_web_session")
                            .from(FormDraft::Table, FormDraft::SessionHash)
                            .to(WebSession::Table, WebSession::TokenHash)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_form_draft_expires")
                    .table(FormDraft::Table)
                    .col(FormDraft::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormDraft::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FormDraft {
    Table,
    SessionHash,
    Form,
    Fields,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum WebSession {
    Table,
    TokenHash,
}
