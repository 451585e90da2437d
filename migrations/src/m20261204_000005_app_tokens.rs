//! Tokens for the mobile apps: hand-off codes from a web sign-in, rotating
//! refresh tokens, and the keys that sign access tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A one-time code that carries a web sign-in over to the app, bound
        // to the app's PKCE challenge.
        manager
            .create_table(
                Table::create()
                    .table(AppHandoff::Table)
                    .col(string_len(AppHandoff::CodeHash, 64).primary_key())
                    .col(big_integer(AppHandoff::AccountId))
                    .col(string_len(AppHandoff::CodeChallenge, 128))
                    .col(timestamp_with_time_zone(AppHandoff::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AppHandoff::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_handoff_account")
                            .from(AppHandoff::Table, AppHandoff::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Refresh tokens rotate at every use. All tokens descended from one
        // sign-in share a chain id, so a reused token revokes the chain.
        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(string_len(RefreshToken::TokenHash, 64).primary_key())
                    .col(big_integer(RefreshToken::AccountId))
                    .col(string_len(RefreshToken::ChainId, 64))
                    .col(timestamp_with_time_zone(RefreshToken::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_token_account")
                            .from(RefreshToken::Table, RefreshToken::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_token_chain")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::ChainId)
                    .to_owned(),
            )
            .await?;

        // HMAC keys for access tokens, shared by every server process. The
        // newest signs; older ones verify until they are purged.
        manager
            .create_table(
                Table::create()
                    .table(SigningKey::Table)
                    .col(string_len(SigningKey::Kid, 64).primary_key())
                    .col(string_len(SigningKey::Secret, 128))
                    .col(timestamp_with_time_zone(SigningKey::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKey::Table.into_iden(),
            RefreshToken::Table.into_iden(),
            AppHandoff::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AppHandoff {
    Table,
    CodeHash,
    AccountId,
    CodeChallenge,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    TokenHash,
    AccountId,
    ChainId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SigningKey {
    Table,
    Kid,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}
