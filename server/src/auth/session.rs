//! Web sessions: the cookie, and the middleware that turns it into the
//! signed-in [`Viewer`] for every handler, page and server function.

use app::domain::{accounts, sessions};
use app::model::Viewer;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;

use super::AuthState;

/// Cookie that contains the web session token.
pub const SESSION_COOKIE: &str = "ningyu_session";

pub use app::domain::sessions::SessionToken;

/// Builds the session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS.
pub fn session_cookie(auth: &AuthState, token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(auth.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(super::cookie_duration(auth.session_lifetime))
        .build()
}

/// Puts the [`Viewer`] and [`SessionToken`] of a live session, or of a
/// mobile app's access token, into the request's extensions. Requests
/// without either pass untouched; when the database cannot be asked, the
/// request gets 503.
pub async fn resolve_viewer(
    State(state): State<crate::startup::ServerState>,
    mut request: Request,
    next: Next,
) -> Response {
    let db = &state.app.db;
    if let Some(token) = bearer_token(request.headers()) {
        // The mobile apps: an access token instead of a cookie.
        let account = state.auth.access_tokens.verify(db, &token).await;
        match account {
            Ok(Some(account_id)) => match accounts::viewer(db, account_id).await {
                Ok(Some(viewer)) => {
                    request.extensions_mut().insert(viewer);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "viewer lookup failed");
                    return unavailable(&request);
                }
            },
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(error = %error, "access token check failed");
                return unavailable(&request);
            }
        }
        return next.run(request).await;
    }
    if let Some(token) = session_token(request.headers()) {
        match lookup(db, &token).await {
            Ok(Some(viewer)) => {
                request.extensions_mut().insert(viewer);
                request.extensions_mut().insert(SessionToken(token));
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(error = %error, "session lookup failed");
                return unavailable(&request);
            }
        }
    }
    next.run(request).await
}

/// Returns 503 when the session cannot be checked, because treating a
/// signed-in person as signed out would show them the wrong page.
fn unavailable(request: &Request) -> Response {
    crate::web::error_for(
        request.headers(),
        crate::web::original_path(request),
        app::error::AppError::Unavailable,
    )
}

async fn lookup(
    db: &sea_orm::DatabaseConnection,
    token: &str,
) -> Result<Option<Viewer>, app::error::AppError> {
    sessions::session_viewer(db, token, Utc::now()).await
}

fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

fn session_token(headers: &http::HeaderMap) -> Option<String> {
    crate::web::cookie_values(headers, SESSION_COOKIE)
        .find(|value| !value.is_empty())
        .map(str::to_owned)
}
