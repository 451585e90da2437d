//! Signing in with the city portal (我的南京): the web sign-in routes, web
//! sessions, the cross-site request check and rate limits. The stand-in
//! portal for development lives in `crate::dev_portal`.

pub mod csrf;
pub mod oidc;
pub mod rate_limit;
pub mod session;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use app::domain::{accounts, sessions};
use app::prefs::safe_return_path;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;
use serde::Deserialize;

use crate::startup::ServerState;
use oidc::OidcClient;
use session::{SESSION_COOKIE, SessionToken};

/// Cookie that binds a sign-in in progress to the browser that started it.
pub const LOGIN_COOKIE: &str = "ningyu_login";

/// Sign-in state shared by every request.
#[derive(Debug)]
pub struct AuthState {
    /// `None` when no portal is configured: sign-in is off.
    pub oidc: Option<OidcClient>,
    /// Scheme, host and port browsers use, for example `https://ningyu.example.cn`.
    pub public_origin: String,
    /// Whether `http://` plus the request's `Host` also counts as Ningyu's
    /// origin. True only when `NINGYU_PUBLIC_URL` is unset.
    pub origin_from_host: bool,
    /// Whether cookies get the `Secure` attribute (served over HTTPS).
    pub secure_cookies: bool,
    pub session_lifetime: Duration,
    pub limits: rate_limit::Limits,
    /// Access tokens for the mobile apps.
    pub access_tokens: tokens::AccessTokens,
    /// Addresses the app hand-off may return to, such as `ningyu://auth`.
    pub app_redirect_uris: Vec<String>,
}

/// Shared handle to [`AuthState`].
pub type Auth = Arc<AuthState>;

/// Builds the `/auth` routes. Sign-in starts and callbacks are
/// rate-limited per client address.
pub fn router(limits: &rate_limit::Limits) -> Router<ServerState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/portal", get(portal_entry))
        .route_layer(axum::middleware::from_fn_with_state(
            limits.sign_in.clone(),
            rate_limit::limit,
        ))
        .route("/auth/logout", post(logout))
        .route("/auth/app", get(app_handoff))
}

#[derive(Debug, Deserialize)]
struct LoginParams {
    return_to: Option<String>,
    /// `1` for silent sign-in (`prompt=none`) from inside the portal's app.
    silent: Option<String>,
}

/// `GET /auth/login`: starts a sign-in and sends the browser to the portal.
async fn login(
    State(state): State<ServerState>,
    jar: CookieJar,
    Query(params): Query<LoginParams>,
) -> Response {
    let return_to = safe_return_path(params.return_to.as_deref().unwrap_or("/")).to_owned();
    let silent = params.silent.as_deref() == Some("1");
    start_sign_in(&state, jar, &return_to, silent).await
}

async fn start_sign_in(
    state: &ServerState,
    jar: CookieJar,
    return_to: &str,
    silent: bool,
) -> Response {
    let auth = &state.auth;
    let Some(oidc) = &auth.oidc else {
        return failure_redirect("not_configured", return_to);
    };
    let start = match sessions::start_login(&state.app.db, return_to, silent, Utc::now()).await {
        Ok(start) => start,
        Err(error) => return failure_redirect(error.code(), "/"),
    };
    let challenge = app::domain::secrets::sha256_base64url(&start.pkce_verifier);
    let url = match oidc
        .authorization_url(&start.state, &start.nonce, &challenge, silent)
        .await
    {
        Ok(url) => url,
        Err(error) => return failure_redirect(error.code(), return_to),
    };
    let cookie = Cookie::build((LOGIN_COOKIE, start.browser_secret))
        .path("/auth")
        .http_only(true)
        .secure(auth.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(cookie_duration(
            sessions::LOGIN_REQUEST_TTL.to_std().unwrap_or_default(),
        ));
    (jar.add(cookie), Redirect::to(url.as_str())).into_response()
}

#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: the portal sends the browser back here.
async fn callback(
    State(state): State<ServerState>,
    jar: CookieJar,
    Query(params): Query<CallbackParams>,
) -> Response {
    let now = Utc::now();
    let Some(state_param) = params.state.as_deref().filter(|value| !value.is_empty()) else {
        tracing::warn!("sign-in callback without state");
        return failure_redirect("state_missing", "/");
    };
    let browser = jar
        .get(LOGIN_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/auth"));
    let login =
        match sessions::take_login(&state.app.db, state_param, browser.as_deref(), now).await {
            Ok(Ok(login)) => login,
            Ok(Err(error)) => {
                tracing::warn!(reason = %error, "sign-in callback with a bad state");
                let code = match error {
                    sessions::StateError::Unknown => "state_unknown",
                    sessions::StateError::Used => "state_used",
                    sessions::StateError::Expired => "state_expired",
                    sessions::StateError::OtherBrowser => "state_other_browser",
                };
                return (jar, failure_redirect(code, "/")).into_response();
            }
            Err(error) => return (jar, failure_redirect(error.code(), "/")).into_response(),
        };

    if let Some(error) = params.error.as_deref() {
        // A silent sign-in the portal could not complete falls back to the
        // normal flow, which shows the portal's login page.
        if login.silent
            && matches!(
                error,
                "login_required"
                    | "interaction_required"
                    | "consent_required"
                    | "account_selection_required"
            )
        {
            return start_sign_in(&state, jar, &login.return_to, false).await;
        }
        tracing::warn!(portal_error = %truncate(error, 64), "the portal returned an error");
        return (jar, failure_redirect("portal_error", &login.return_to)).into_response();
    }
    let Some(code) = params.code.as_deref().filter(|value| !value.is_empty()) else {
        tracing::warn!("sign-in callback without code");
        return (jar, failure_redirect("code_missing", &login.return_to)).into_response();
    };
    let Some(oidc) = &state.auth.oidc else {
        return (jar, failure_redirect("not_configured", "/")).into_response();
    };
    let citizen = match oidc.finish(code, &login.pkce_verifier, &login.nonce).await {
        Ok(citizen) => citizen,
        Err(error) => {
            return (jar, failure_redirect(error.code(), &login.return_to)).into_response();
        }
    };
    let identity = accounts::PortalIdentity {
        subject: citizen.subject,
        display_name: app::validate::normalize_name(&citizen.display_name).unwrap_or_default(),
        mobile: citizen
            .mobile
            .as_deref()
            .and_then(app::validate::normalize_mobile),
        real_name_verified: citizen.real_name_verified,
    };
    let db = &state.app.db;
    let account_id = match accounts::sign_in(db, &identity, now).await {
        Ok(id) => id,
        Err(error) => return (jar, failure_redirect(error.code(), "/")).into_response(),
    };
    // Every sign-in gets a new session id, and the previous session ends.
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Err(error) = sessions::revoke_session(db, old.value(), now).await
    {
        tracing::warn!(error = %error, "cannot revoke the previous session");
    }
    let lifetime = chrono::Duration::from_std(state.auth.session_lifetime).unwrap_or_default();
    let token = match sessions::create_session(db, account_id, lifetime, now).await {
        Ok(token) => token,
        Err(error) => return (jar, failure_redirect(error.code(), "/")).into_response(),
    };
    tracing::info!(account = account_id, "signed in");
    let jar = jar.add(session::session_cookie(&state.auth, token));
    (jar, Redirect::to(&login.return_to)).into_response()
}

/// `POST /auth/logout`: ends the session here and, when the portal has an
/// end-session endpoint, there too.
async fn logout(
    State(state): State<ServerState>,
    jar: CookieJar,
    token: Option<axum::Extension<SessionToken>>,
) -> Response {
    if let Some(axum::Extension(SessionToken(token))) = token
        && let Err(error) = sessions::revoke_session(&state.app.db, &token, Utc::now()).await
    {
        return failure_redirect(error.code(), "/");
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    let home = format!("{}/", state.auth.public_origin);
    let target = match &state.auth.oidc {
        Some(oidc) => oidc
            .end_session_url(&home)
            .await
            .map_or_else(|| "/".to_owned(), |url| url.to_string()),
        None => "/".to_owned(),
    };
    (jar, Redirect::to(&target)).into_response()
}

#[derive(Debug, Deserialize)]
struct PortalEntryParams {
    to: Option<String>,
}

/// `GET /auth/portal?to=/places/12`: the entry for links from inside the
/// portal's app. A signed-in browser goes straight to `to`. Otherwise a
/// silent sign-in runs first and falls back to the normal one.
async fn portal_entry(
    State(state): State<ServerState>,
    jar: CookieJar,
    viewer: Option<axum::Extension<app::model::Viewer>>,
    Query(params): Query<PortalEntryParams>,
) -> Response {
    let target = safe_return_path(params.to.as_deref().unwrap_or("/")).to_owned();
    if viewer.is_some() {
        return Redirect::to(&target).into_response();
    }
    start_sign_in(&state, jar, &target, true).await
}

#[derive(Debug, Deserialize)]
struct AppHandoffParams {
    redirect_uri: String,
    code_challenge: String,
    state: Option<String>,
}

/// `GET /auth/app?redirect_uri=ningyu://auth&code_challenge=...&state=...`:
/// where the mobile app sends its in-app browser to sign in. Once signed
/// in, the browser returns to the app with a one-time code that the app
/// exchanges, with its PKCE verifier, at `POST /api/v1/auth/token`.
async fn app_handoff(
    State(state): State<ServerState>,
    jar: CookieJar,
    headers: http::HeaderMap,
    uri: http::Uri,
    viewer: Option<axum::Extension<app::model::Viewer>>,
    Query(params): Query<AppHandoffParams>,
) -> Response {
    if !state.auth.app_redirect_uris.contains(&params.redirect_uri) {
        tracing::warn!("app hand-off with an unregistered redirect_uri");
        return crate::web::plain_error(
            &headers,
            app::error::AppError::invalid("redirect_uri", "is not registered"),
        );
    }
    let Some(axum::Extension(viewer)) = viewer else {
        let return_to = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
        return start_sign_in(&state, jar, &return_to, false).await;
    };
    let code = match app::domain::app_tokens::create_handoff(
        &state.app.db,
        viewer.account_id,
        &params.code_challenge,
        Utc::now(),
    )
    .await
    {
        Ok(code) => code,
        Err(error) => return crate::web::plain_error(&headers, error),
    };
    let Ok(mut target) = url::Url::parse(&params.redirect_uri) else {
        return crate::web::plain_error(&headers, app::error::AppError::Internal);
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(app_state) = &params.state {
        target.query_pairs_mut().append_pair("state", app_state);
    }
    Redirect::to(target.as_str()).into_response()
}

/// Sends the browser to the sign-in page with a failure code to show.
fn failure_redirect(code: &str, return_to: &str) -> Response {
    let query = serde_urlencoded::to_string([("error", code), ("return_to", return_to)])
        .unwrap_or_default();
    Redirect::to(&format!("/sign-in?{query}")).into_response()
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

pub fn cookie_duration(duration: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}
