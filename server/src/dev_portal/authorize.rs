//! The authorization endpoint: `GET /authorize` validates the request and
//! shows the login page, `POST /authorize` signs a citizen in and redirects
//! back to the client with a code.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use http::StatusCode;

use super::citizens::{CITIZENS, find_citizen};
use super::params::{Params, RepeatedParam};
use super::store::{AuthorizationCode, CODE_LIFETIME, Session};
use super::{Portal, SharedPortal, pages, random_token, session};

/// Scopes the portal grants. Others in a request are ignored, because RFC
/// 6749 §3.3 lets a server grant fewer scopes than requested.
pub(super) const SUPPORTED_SCOPES: [&str; 3] = ["openid", "profile", "phone"];

/// Parameters of `/authorize` that the login form carries back in hidden inputs.
const FORWARDED_PARAMS: [&str; 9] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
];

/// A validated authorization request.
pub(super) struct AuthorizationRequest {
    client_id: String,
    redirect_uri: String,
    /// Granted scopes, space-separated.
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    /// Whether the request has `prompt=none`, which requires a login without any page.
    prompt_none: bool,
    /// The request's parameters as received, for the login form.
    forwarded: Vec<(&'static str, String)>,
}

/// Reason an authorization request failed.
enum AuthorizeError {
    /// The client or its redirect URI is unknown, so the portal shows an
    /// error page and never redirects (RFC 6749 §4.1.2.1).
    Untrusted(String),
    /// An error the portal reports to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

/// Handles `GET /authorize`.
pub(super) async fn show_login(
    State(portal): State<SharedPortal>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let request = match validate(&portal, &params) {
        Ok(request) => request,
        Err(error) => return error.into_response(&portal),
    };

    if !request.prompt_none {
        return pages::login_page(&request.client_id, &request.forwarded, CITIZENS);
    }
    match session::current(&portal, &jar) {
        Some(session) => {
            tracing::info!(
                client_id = %request.client_id,
                subject = session.subject,
                "dev portal issued a code for an existing session"
            );
            redirect_with_code(&portal, &request, session.subject, session.auth_time)
        }
        None => AuthorizeError::Redirect {
            redirect_uri: request.redirect_uri,
            state: request.state,
            error: "login_required",
            description: "prompt=none was requested, but no citizen is signed in to the portal"
                .to_owned(),
        }
        .into_response(&portal),
    }
}

/// Handles `POST /authorize`: the login form with the request's parameters
/// and the chosen `citizen`.
pub(super) async fn submit_login(
    State(portal): State<SharedPortal>,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let params = Params::parse(&body);
    let request = match validate(&portal, &params) {
        Ok(request) => request,
        Err(error) => return error.into_response(&portal),
    };

    let citizen = match params.get("citizen") {
        Ok(Some(subject)) => find_citizen(subject),
        Ok(None) | Err(RepeatedParam(_)) => None,
    };
    let Some(citizen) = citizen else {
        tracing::warn!(client_id = %request.client_id, "dev portal login without a known citizen");
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "citizen is missing or unknown; choose one of the buttons on the login page",
        );
    };

    let auth_time = chrono::Utc::now().timestamp();
    let jar = session::start(
        &portal,
        jar,
        Session {
            subject: citizen.subject,
            auth_time,
            expires_at: Instant::now() + super::store::SESSION_LIFETIME,
        },
    );
    tracing::info!(
        client_id = %request.client_id,
        subject = citizen.subject,
        "dev portal signed a citizen in"
    );
    (
        jar,
        redirect_with_code(&portal, &request, citizen.subject, auth_time),
    )
        .into_response()
}

/// Issues a single-use code for `request` and redirects to the client with it.
fn redirect_with_code(
    portal: &Portal,
    request: &AuthorizationRequest,
    subject: &'static str,
    auth_time: i64,
) -> Response {
    let code = random_token();
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &portal.issuer));
    let response = redirect_with_query(&request.redirect_uri, &pairs);

    portal.lock().insert_code(
        code,
        AuthorizationCode {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            subject,
            auth_time,
            expires_at: Instant::now() + CODE_LIFETIME,
        },
    );
    response
}

impl AuthorizeError {
    fn into_response(self, portal: &Portal) -> Response {
        match self {
            Self::Untrusted(message) => {
                tracing::warn!(%message, "dev portal rejected an authorization request");
                pages::error_page(StatusCode::BAD_REQUEST, &message)
            }
            Self::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => {
                tracing::warn!(error, %description, "dev portal returned an authorization error");
                let mut pairs = vec![("error", error), ("error_description", &description)];
                if let Some(state) = &state {
                    pairs.push(("state", state));
                }
                pairs.push(("iss", &portal.issuer));
                redirect_with_query(&redirect_uri, &pairs)
            }
        }
    }
}

/// Redirects to a registered redirect URI with query parameters appended.
fn redirect_with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    // `DevPortal::bind` checked that every registered URI parses.
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            Redirect::to(url.as_str()).into_response()
        }
        Err(error) => {
            tracing::error!(%error, redirect_uri, "dev portal cannot parse a registered redirect URI");
            pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the registered redirect_uri is not a valid URL",
            )
        }
    }
}

/// Validates an authorization request in the order of RFC 6749 §4.1.2.1:
/// first the client and redirect URI, whose errors are never redirected,
/// then everything else, whose errors go back to the client.
fn validate(portal: &Portal, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    let client_id = params
        .get("client_id")
        .map_err(|error| AuthorizeError::Untrusted(error.to_string()))?
        .ok_or_else(|| AuthorizeError::Untrusted("client_id is missing".to_owned()))?;
    let client = portal.client(client_id).ok_or_else(|| {
        AuthorizeError::Untrusted(format!("client_id {client_id:?} is not registered"))
    })?;
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(|error| AuthorizeError::Untrusted(error.to_string()))?
        .ok_or_else(|| AuthorizeError::Untrusted("redirect_uri is missing".to_owned()))?;
    if !client.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return Err(AuthorizeError::Untrusted(format!(
            "redirect_uri {redirect_uri:?} is not registered for client_id {client_id:?}"
        )));
    }

    // From here on, errors are redirected, with the state when it is usable.
    let state = params.get_owned("state").ok().flatten();
    let reject = |error: &'static str, description: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description,
    };
    let invalid = |error: RepeatedParam| reject("invalid_request", error.to_string());

    let mut forwarded = Vec::new();
    for name in FORWARDED_PARAMS {
        if let Some(value) = params.get(name).map_err(invalid)? {
            forwarded.push((name, value.to_owned()));
        }
    }

    match params.get("response_type").map_err(invalid)? {
        None => {
            return Err(reject(
                "invalid_request",
                "response_type is missing".to_owned(),
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(reject(
                "unsupported_response_type",
                format!("response_type {other:?} is not supported; use \"code\""),
            ));
        }
    }

    let requested_scope = params.get("scope").map_err(invalid)?.unwrap_or_default();
    let requested: Vec<&str> = requested_scope.split(' ').collect();
    if !requested.contains(&"openid") {
        return Err(reject(
            "invalid_scope",
            "scope must include openid".to_owned(),
        ));
    }
    let scope = SUPPORTED_SCOPES
        .iter()
        .filter(|supported| requested.contains(supported))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");

    let code_challenge =
        validate_pkce(params).map_err(|(error, description)| reject(error, description))?;

    let prompts: Vec<&str> = params
        .get("prompt")
        .map_err(invalid)?
        .unwrap_or_default()
        .split(' ')
        .filter(|prompt| !prompt.is_empty())
        .collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(reject(
            "invalid_request",
            "prompt=none cannot be combined with other prompt values".to_owned(),
        ));
    }

    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state.clone(),
        nonce: params.get_owned("nonce").map_err(invalid)?,
        code_challenge,
        prompt_none,
        forwarded,
    })
}

/// Checks the PKCE parameters (RFC 7636 §4.3) and returns the code
/// challenge. The portal requires S256 and rejects `plain`.
fn validate_pkce(params: &Params) -> Result<String, (&'static str, String)> {
    let repeated = |error: RepeatedParam| ("invalid_request", error.to_string());
    let Some(challenge) = params.get("code_challenge").map_err(repeated)? else {
        return Err((
            "invalid_request",
            "code_challenge is required (PKCE with S256)".to_owned(),
        ));
    };
    match params.get("code_challenge_method").map_err(repeated)? {
        Some("S256") => {}
        Some(other) => {
            return Err((
                "invalid_request",
                format!("code_challenge_method {other:?} is not supported; use S256"),
            ));
        }
        None => {
            return Err((
                "invalid_request",
                "code_challenge_method is missing; use S256 (plain is not supported)".to_owned(),
            ));
        }
    }
    // An S256 challenge is the base64url form of a SHA-256 digest: 43
    // characters without padding.
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !well_formed {
        return Err((
            "invalid_request",
            "code_challenge must be 43 base64url characters (a SHA-256 digest)".to_owned(),
        ));
    }
    Ok(challenge.to_owned())
}
