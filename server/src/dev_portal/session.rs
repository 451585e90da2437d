//! The portal's browser session, which lets `prompt=none` sign a citizen in
//! again without a page, and `GET /end-session`, which ends it.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::params::Params;
use super::store::Session;
use super::{Portal, PortalClient, SharedPortal, pages, random_token};

/// Name of the session cookie. Browsers share cookies between ports of one
/// host, so the name avoids any name that Ningyu itself sets on 127.0.0.1.
pub(super) const SESSION_COOKIE: &str = "ningyu_dev_portal_session";

/// Returns the unexpired session that the browser's cookie refers to.
pub(super) fn current(portal: &Portal, jar: &CookieJar) -> Option<Session> {
    let id = jar.get(SESSION_COOKIE)?.value();
    portal.lock().session(id)
}

/// Starts a session, replacing any earlier one of the same browser, and
/// returns the cookie jar that sets its cookie.
pub(super) fn start(portal: &Portal, jar: CookieJar, session: Session) -> CookieJar {
    let id = random_token();
    {
        let mut store = portal.lock();
        if let Some(previous) = jar.get(SESSION_COOKIE) {
            store.remove_session(previous.value());
        }
        store.insert_session(id.clone(), session);
    }
    let cookie = Cookie::build((SESSION_COOKIE, id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax);
    jar.add(cookie)
}

/// Handles `GET /end-session` (OpenID Connect RP-Initiated Logout 1.0):
/// ends the session, then returns to `post_logout_redirect_uri` when that
/// address is registered, or shows a signed out page.
pub(super) async fn end_session(
    State(portal): State<SharedPortal>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let (return_uri, state) = match (params.get("post_logout_redirect_uri"), params.get("state")) {
        (Ok(return_uri), Ok(state)) => (return_uri, state),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "dev portal rejected an end-session request");
            return pages::error_page(http::StatusCode::BAD_REQUEST, &error.to_string());
        }
    };

    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        portal.lock().remove_session(cookie.value());
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    tracing::info!("dev portal ended a session");

    let Some(return_uri) = return_uri else {
        return (jar, pages::signed_out_page(None)).into_response();
    };
    let client_id = match params.get("client_id") {
        Ok(Some(client_id)) => Some(client_id.to_owned()),
        _ => params
            .get("id_token_hint")
            .ok()
            .flatten()
            .and_then(|hint| audience_of_hint(&portal, hint)),
    };
    if !is_registered_return_uri(&portal, client_id.as_deref(), return_uri) {
        tracing::warn!(
            client_id = client_id.as_deref().unwrap_or("-"),
            "dev portal ignored an unregistered post_logout_redirect_uri"
        );
        let note = format!(
            "post_logout_redirect_uri {return_uri:?} is not registered, so the portal does not return to it"
        );
        return (jar, pages::signed_out_page(Some(&note))).into_response();
    }

    let mut url = match url::Url::parse(return_uri) {
        Ok(url) => url,
        Err(_) => return (jar, pages::signed_out_page(None)).into_response(),
    };
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    (jar, Redirect::to(url.as_str())).into_response()
}

/// Checks `uri` against the post-logout addresses of `client_id`, or of
/// every client when the request does not name one.
fn is_registered_return_uri(portal: &Portal, client_id: Option<&str>, uri: &str) -> bool {
    let registered = |client: &PortalClient| {
        client
            .post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    };
    match client_id {
        Some(client_id) => portal.client(client_id).is_some_and(registered),
        None => portal.clients.iter().any(registered),
    }
}

/// Returns the `aud` of an ID token that this portal signed. An expired
/// token is still a valid hint, as RP-Initiated Logout allows. A token that
/// does not verify, for example one from an earlier run of the portal with
/// other keys, yields `None`, and the caller checks the return address
/// against every client.
fn audience_of_hint(portal: &Portal, hint: &str) -> Option<String> {
    let header = jsonwebtoken::decode_header(hint).ok()?;
    let kid = header.kid?;
    let key = portal
        .lock()
        .all_keys()
        .find(|key| key.kid == kid)?
        .decoding_key()
        .ok()?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&portal.issuer]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(hint, &key, &validation).ok()?;
    match claims.claims.get("aud")? {
        Value::String(audience) => Some(audience.clone()),
        _ => None,
    }
}
