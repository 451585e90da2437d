//! Protection against cross-site requests. Session cookies are
//! `SameSite=Lax`, and every state-changing request must come from one of
//! Ningyu's own pages, as its `Origin` (or, lacking that, `Referer`) shows.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{HOST, ORIGIN, REFERER};
use http::{HeaderMap, Method};
use url::Url;

use super::Auth;
use super::session::SESSION_COOKIE;

/// Rejects state-changing requests from other sites with 403.
///
/// Requests with neither `Origin` nor `Referer` pass only when they carry
/// no session cookie: those come from the mobile apps and other API
/// clients, which authenticate with bearer tokens that no other site can
/// make a browser send.
pub async fn check_origin(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let verdict = match request_origin(headers) {
        Some(origin) => is_allowed(&auth, headers, &origin),
        None => !has_session_cookie(headers),
    };
    if verdict {
        next.run(request).await
    } else {
        tracing::warn!(
            method = %request.method(),
            path = %crate::web::original_path(&request),
            "cross-site request rejected"
        );
        crate::web::error_for(
            request.headers(),
            crate::web::original_path(&request),
            app::error::AppError::Forbidden,
        )
    }
}

/// Returns the origin of the page that sent the request, from `Origin`,
/// else from `Referer`. An `Origin` of `null` counts as a foreign origin.
fn request_origin(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(ORIGIN) {
        return Some(origin.to_str().unwrap_or("null").to_owned());
    }
    let referer = headers.get(REFERER)?.to_str().ok()?;
    let url = Url::parse(referer).ok()?;
    Some(url.origin().ascii_serialization())
}

fn is_allowed(auth: &Auth, headers: &HeaderMap, origin: &str) -> bool {
    if origin.eq_ignore_ascii_case(&auth.public_origin) {
        return true;
    }
    // Without NINGYU_PUBLIC_URL the server cannot list every name it is
    // reached by (127.0.0.1, localhost, a LAN address), so the Host header
    // the browser sent names it.
    auth.origin_from_host
        && headers
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("http://{host}")))
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    crate::web::cookie_values(headers, SESSION_COOKIE)
        .next()
        .is_some()
}
