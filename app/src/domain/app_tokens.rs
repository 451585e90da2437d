//! Sign-in for the mobile apps: a web sign-in hands over to the app with a
//! one-time code bound to the app's PKCE challenge. The app then keeps a
//! short-lived access token and a refresh token that rotates at every use.
//! Access tokens are signed with keys from this table, rotated weekly, so
//! every server process signs and verifies with the same keys.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::domain::secrets::{random_token, sha256_base64url, sha256_hex};
use crate::entity::{app_handoff, refresh_token, signing_key};
use crate::error::AppError;

/// How long a hand-off code stays valid.
pub const HANDOFF_TTL: Duration = Duration::minutes(2);
/// How long a refresh token stays valid if unused.
pub const REFRESH_TTL: Duration = Duration::days(30);
/// Age at which a new signing key replaces the current one.
pub const KEY_ROTATION: Duration = Duration::days(7);
/// Age after which a key no longer verifies anything: one rotation plus
/// far more than an access token's lifetime.
pub const KEY_RETENTION: Duration = Duration::days(8);

/// Creates a hand-off code for `account_id`, bound to the app's PKCE S256
/// `code_challenge`.
pub async fn create_handoff(
    db: &impl ConnectionTrait,
    account_id: i64,
    code_challenge: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let valid_challenge = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_challenge {
        return Err(AppError::invalid(
            "code_challenge",
            "must be the base64url SHA-256 of the code verifier (43 characters)",
        ));
    }
    let code = random_token(32);
    app_handoff::ActiveModel {
        code_hash: Set(sha256_hex(&code)),
        account_id: Set(account_id),
        code_challenge: Set(code_challenge.to_owned()),
        expires_at: Set(now + HANDOFF_TTL),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(code)
}

/// Redeems a hand-off code once, checking the PKCE verifier. Returns the
/// account. Any failure is `Unauthenticated`.
pub async fn redeem_handoff(
    db: &impl ConnectionTrait,
    code: &str,
    code_verifier: &str,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let code_hash = sha256_hex(code);
    let claimed = app_handoff::Entity::update_many()
        .col_expr(app_handoff::Column::UsedAt, Expr::value(now))
        .filter(app_handoff::Column::CodeHash.eq(&code_hash))
        .filter(app_handoff::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected
        == 1;
    let row = app_handoff::Entity::find_by_id(code_hash)
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    match row {
        Some(row)
            if claimed
                && row.expires_at > now
                && sha256_base64url(code_verifier) == row.code_challenge =>
        {
            Ok(row.account_id)
        }
        _ => {
            tracing::warn!("app hand-off code rejected");
            Err(AppError::Unauthenticated)
        }
    }
}

/// A new refresh token, shown to the app once.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues a refresh token for `account_id`, starting a new chain unless
/// `chain_id` continues one.
pub async fn issue_refresh(
    db: &impl ConnectionTrait,
    account_id: i64,
    chain_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<IssuedRefresh, AppError> {
    let token = random_token(32);
    let expires_at = now + REFRESH_TTL;
    refresh_token::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        account_id: Set(account_id),
        chain_id: Set(chain_id.unwrap_or_else(|| random_token(16))),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(IssuedRefresh { token, expires_at })
}

/// Exchanges a refresh token for a new one in the same chain. A token used
/// a second time means it leaked: the whole chain is revoked.
pub async fn rotate_refresh(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(i64, IssuedRefresh), AppError> {
    let token_hash = sha256_hex(token);
    let Some(row) = refresh_token::Entity::find_by_id(token_hash.clone())
        .one(db)
        .await
        .map_err(AppError::from_db)?
    else {
        return Err(AppError::Unauthenticated);
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(&token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected
        == 1;
    if !claimed {
        tracing::warn!(
            account = row.account_id,
            "refresh token reused; revoking its chain"
        );
        revoke_chain(db, &row.chain_id, now).await?;
        return Err(AppError::Unauthenticated);
    }
    let issued = issue_refresh(db, row.account_id, Some(row.chain_id), now).await?;
    Ok((row.account_id, issued))
}

/// Revokes the chain of `token`: signing out of the app.
pub async fn revoke_refresh(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let row = refresh_token::Entity::find_by_id(sha256_hex(token))
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    match row {
        Some(row) => revoke_chain(db, &row.chain_id, now).await,
        None => Ok(()),
    }
}

async fn revoke_chain(
    db: &impl ConnectionTrait,
    chain_id: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::ChainId.eq(chain_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}

/// Returns the key that signs new access tokens, creating one when the
/// newest is older than [`KEY_ROTATION`]. Processes racing here may each
/// add a key, which is harmless because every key verifies.
pub async fn current_signing_key(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<signing_key::Model, AppError> {
    let newest = signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .one(db)
        .await
        .map_err(AppError::from_db)?;
    if let Some(key) = newest
        && key.created_at > now - KEY_ROTATION
    {
        return Ok(key);
    }
    let key = signing_key::ActiveModel {
        kid: Set(random_token(12)),
        secret: Set(random_token(32)),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    signing_key::Entity::delete_many()
        .filter(signing_key::Column::CreatedAt.lt(now - KEY_RETENTION))
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    tracing::info!(kid = %key.kid, "new access token signing key");
    Ok(key)
}

/// Returns the keys that may verify access tokens at `now`.
pub async fn verification_keys(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<signing_key::Model>, AppError> {
    signing_key::Entity::find()
        .filter(signing_key::Column::CreatedAt.gt(now - KEY_RETENTION))
        .all(db)
        .await
        .map_err(AppError::from_db)
}

/// Deletes expired hand-off codes and refresh tokens. Safe to run on every
/// instance at once.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let handoffs = app_handoff::Entity::delete_many()
        .filter(app_handoff::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    let refresh = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(handoffs + refresh)
}
