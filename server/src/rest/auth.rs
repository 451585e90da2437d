//! `/api/v1/auth`: tokens for the mobile apps.
//!
//! The app opens `GET /auth/app` in an in-app browser with its PKCE
//! challenge. After signing in there it receives a one-time code, which it
//! exchanges here for an access token and a refresh token.

use app::domain::app_tokens;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::ApiJson;
use crate::startup::ServerState;

/// A token request: a hand-off code with its PKCE verifier, or a refresh
/// token. Unknown fields are ignored, because the OpenAPI schema of a
/// tagged enum cannot forbid them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    /// Exchanges the code from `GET /auth/app`.
    AuthorizationCode {
        code: String,
        /// The PKCE verifier whose S256 challenge went to `/auth/app`.
        code_verifier: String,
    },
    /// Exchanges a refresh token for new tokens. The old one stops working.
    RefreshToken { refresh_token: String },
}

/// Tokens for the app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Use once at this endpoint for new tokens.
    pub refresh_token: String,
}

/// Issues tokens for the mobile apps.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "The code or refresh token is invalid, used or expired", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn token(
    State(state): State<ServerState>,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let db = &state.app.db;
    let now = Utc::now();
    let (account_id, refresh) = match request {
        TokenRequest::AuthorizationCode {
            code,
            code_verifier,
        } => {
            let account_id = app_tokens::redeem_handoff(db, &code, &code_verifier, now).await?;
            (
                account_id,
                app_tokens::issue_refresh(db, account_id, None, now).await?,
            )
        }
        TokenRequest::RefreshToken { refresh_token } => {
            app_tokens::rotate_refresh(db, &refresh_token, now).await?
        }
    };
    let (access_token, expires_in) = state.auth.access_tokens.issue(db, account_id).await?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token: refresh.token,
    }))
}

/// A refresh token to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub refresh_token: String,
}

/// Signs the app out: revokes the refresh token and every token rotated
/// from the same sign-in. Unknown tokens are accepted silently.
#[utoipa::path(
    post,
    path = "/api/v1/auth/revoke",
    tag = "auth",
    request_body = RevokeRequest,
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn revoke(
    State(state): State<ServerState>,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<StatusCode, ApiError> {
    app_tokens::revoke_refresh(&state.app.db, &request.refresh_token, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
