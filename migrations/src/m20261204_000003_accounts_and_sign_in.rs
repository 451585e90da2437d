//! Accounts keyed by the city portal's subject, their roles, web sign-in
//! state and sessions, and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(big_pk_auto(Account::Id))
                    // The portal's `sub` claim: stable and never reassigned.
                    .col(string_len_uniq(Account::Subject, 255))
                    .col(string_len(Account::DisplayName, 100).default(""))
                    // Eleven digits, or null when the portal gave none.
                    .col(string_len_null(Account::Mobile, 11))
                    .col(boolean(Account::RealNameVerified).default(false))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .col(timestamp_with_time_zone_null(Account::LastSignInAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoleGrant::Table)
                    .col(big_pk_auto(RoleGrant::Id))
                    .col(big_integer(RoleGrant::AccountId))
                    // guardian is implicit; granted roles are room_staff,
                    // district_admin and city_admin.
                    .col(string_len(RoleGrant::Role, 32))
                    .col(big_integer_null(RoleGrant::PlaceId))
                    .col(string_len_null(RoleGrant::DistrictCode, 12))
                    .col(timestamp_with_time_zone(RoleGrant::GrantedAt))
                    .col(big_integer_null(RoleGrant::GrantedBy))
                    .check(Expr::col(RoleGrant::Role).is_in([
                        "room_staff",
                        "district_admin",
                        "city_admin",
                    ]))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_grant_account")
                            .from(RoleGrant::Table, RoleGrant::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_grant_place")
                            .from(RoleGrant::Table, RoleGrant::PlaceId)
                            .to(Place::Table, Place::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_grant_account")
                    .table(RoleGrant::Table)
                    .col(RoleGrant::AccountId)
                    .to_owned(),
            )
            .await?;

        // A sign-in that went to the portal and has not come back yet. The
        // row is found by the SHA-256 of `state`; the browser that started
        // it proves itself with a cookie whose hash is `browser_hash`.
        manager
            .create_table(
                Table::create()
                    .table(LoginRequest::Table)
                    .col(string_len(LoginRequest::StateHash, 64).primary_key())
                    .col(string_len(LoginRequest::BrowserHash, 64))
                    .col(string_len(LoginRequest::Nonce, 64))
                    .col(string_len(LoginRequest::PkceVerifier, 128))
                    .col(string_len(LoginRequest::ReturnTo, 2000))
                    .col(boolean(LoginRequest::Silent).default(false))
                    .col(timestamp_with_time_zone(LoginRequest::CreatedAt))
                    .col(timestamp_with_time_zone(LoginRequest::ExpiresAt))
                    .col(timestamp_with_time_zone_null(LoginRequest::UsedAt))
                    .to_owned(),
            )
            .await?;

        // Web sessions, found by the SHA-256 of the cookie value, so a
        // leaked database does not hand out live sessions.
        manager
            .create_table(
                Table::create()
                    .table(WebSession::Table)
                    .col(string_len(WebSession::TokenHash, 64).primary_key())
                    .col(big_integer(WebSession::AccountId))
                    .col(timestamp_with_time_zone(WebSession::CreatedAt))
                    .col(timestamp_with_time_zone(WebSession::ExpiresAt))
                    .col(timestamp_with_time_zone_null(WebSession::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_web_session_account")
                            .from(WebSession::Table, WebSession::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_web_session_account")
                    .table(WebSession::Table)
                    .col(WebSession::AccountId)
                    .to_owned(),
            )
            .await?;

        // Who did what. Account ids stay after the account is deleted: with
        // the account row gone they no longer identify anyone.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorAccountId))
                    .col(big_integer_null(AuditLog::OnBehalfOfAccountId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::TargetKind, 32))
                    .col(string_len_null(AuditLog::TargetId, 64))
                    .col(json_null(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            WebSession::Table.into_iden(),
            LoginRequest::Table.into_iden(),
            RoleGrant::Table.into_iden(),
            Account::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Subject,
    DisplayName,
    Mobile,
    RealNameVerified,
    CreatedAt,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum RoleGrant {
    Table,
    Id,
    AccountId,
    Role,
    PlaceId,
    DistrictCode,
    GrantedAt,
    GrantedBy,
}

#[derive(DeriveIden)]
enum LoginRequest {
    Table,
    StateHash,
    BrowserHash,
    Nonce,
    PkceVerifier,
    ReturnTo,
    Silent,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum WebSession {
    Table,
    TokenHash,
    AccountId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorAccountId,
    OnBehalfOfAccountId,
    Action,
    TargetKind,
    TargetId,
    Detail,
}

#[derive(DeriveIden)]
enum Place {
    Table,
    Id,
}
