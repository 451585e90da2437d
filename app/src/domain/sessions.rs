//! Web sign-in state and sessions, kept in the database so that any server
//! process can finish a sign-in that another one started.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::accounts;
use crate::domain::secrets::{random_token, sha256_hex};
use crate::entity::{account, login_request, web_session};
use crate::error::AppError;
use crate::model::Viewer;

/// How long a sign-in may stay at the portal before its state expires.
pub const LOGIN_REQUEST_TTL: Duration = Duration::minutes(10);

/// Secrets of a sign-in that is about to go to the portal.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// Sent to the portal as `state`.
    pub state: String,
    /// Sent to the portal as `nonce`. It comes back inside the ID token.
    pub nonce: String,
    /// PKCE code verifier. Its S256 challenge goes to the portal.
    pub pkce_verifier: String,
    /// Value of the browser-binding cookie.
    pub browser_secret: String,
}

/// Stores a new sign-in for the browser and returns its secrets.
pub async fn start_login(
    db: &impl ConnectionTrait,
    return_to: &str,
    silent: bool,
    now: DateTime<Utc>,
) -> Result<LoginStart, AppError> {
    let start = LoginStart {
        state: random_token(32),
        nonce: random_token(32),
        // 64 characters from the unreserved set, as RFC 7636 requires.
        pkce_verifier: random_token(48),
        browser_secret: random_token(32),
    };
    login_request::ActiveModel {
        state_hash: Set(sha256_hex(&start.state)),
        browser_hash: Set(sha256_hex(&start.browser_secret)),
        nonce: Set(start.nonce.clone()),
        pkce_verifier: Set(start.pkce_verifier.clone()),
        return_to: Set(return_to.to_owned()),
        silent: Set(silent),
        created_at: Set(now),
        expires_at: Set(now + LOGIN_REQUEST_TTL),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(start)
}

/// The reason a callback's `state` was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("unknown state")]
    Unknown,
    #[error("state already used")]
    Used,
    #[error("state expired")]
    Expired,
    #[error("state belongs to another browser")]
    OtherBrowser,
}

/// Takes the sign-in that `state` names, once: the first call marks it used,
/// whatever the outcome of the rest of the callback. The browser must show
/// the cookie that started it.
pub async fn take_login(
    db: &impl ConnectionTrait,
    state: &str,
    browser_secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<login_request::Model, StateError>, AppError> {
    let state_hash = sha256_hex(state);
    // The conditional update is the single-use check: of two callbacks
    // racing with the same state, exactly one changes the row.
    let claimed = login_request::Entity::update_many()
        .col_expr(login_request::Column::UsedAt, Expr::value(now))
        .filter(login_request::Column::StateHash.eq(&state_hash))
        .filter(login_request::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected
        == 1;
    let Some(row) = login_request::Entity::find_by_id(state_hash)
        .one(db)
        .await
        .map_err(AppError::from_db)?
    else {
        return Ok(Err(StateError::Unknown));
    };
    if !claimed {
        return Ok(Err(StateError::Used));
    }
    if row.expires_at <= now {
        return Ok(Err(StateError::Expired));
    }
    let same_browser = browser_secret.is_some_and(|secret| sha256_hex(secret) == row.browser_hash);
    if !same_browser {
        return Ok(Err(StateError::OtherBrowser));
    }
    Ok(Ok(row))
}

/// Deletes sign-ins older than their lifetime. Safe to run on every
/// instance at once.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, AppError> {
    let logins = login_request::Entity::delete_many()
        .filter(login_request::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    let sessions = web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(AppError::from_db)?
        .rows_affected;
    Ok(logins + sessions)
}

/// Creates a session for `account_id` and returns the cookie value.
pub async fn create_session(
    db: &impl ConnectionTrait,
    account_id: i64,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let token = random_token(32);
    web_session::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(AppError::from_db)?;
    Ok(token)
}

/// The web session cookie's value, which the server's session middleware
/// puts into a signed-in request's extensions beside the `Viewer`.
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

/// Returns the signed-in viewer of a live session, with its roles, in one
/// query; `None` for an unknown, revoked or expired session.
pub async fn session_viewer(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Viewer>, AppError> {
    let live = Query::select()
        .column(web_session::Column::AccountId)
        .from(web_session::Entity)
        .and_where(Expr::col(web_session::Column::TokenHash).eq(sha256_hex(token)))
        .and_where(Expr::col(web_session::Column::RevokedAt).is_null())
        .and_where(Expr::col(web_session::Column::ExpiresAt).gt(now))
        .to_owned();
    accounts::load_viewer(db, account::Column::Id.in_subquery(live)).await
}

/// Revokes the session with cookie value `token`. Unknown tokens are ignored.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    web_session::Entity::update_many()
        .col_expr(web_session::Column::RevokedAt, Expr::value(now))
        .filter(web_session::Column::TokenHash.eq(sha256_hex(token)))
        .filter(web_session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}

/// Revokes every session of `account_id`, for "sign out everywhere" and
/// account deletion.
pub async fn revoke_all_sessions(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    web_session::Entity::update_many()
        .col_expr(web_session::Column::RevokedAt, Expr::value(now))
        .filter(web_session::Column::AccountId.eq(account_id))
        .filter(web_session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}
