//! The token endpoint, which exchanges a code for an access token and an ID
//! token, and the UserInfo endpoint.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::citizens::{Citizen, find_citizen};
use super::params::Params;
use super::store::{ACCESS_TOKEN_LIFETIME, AccessToken, AuthorizationCode, CodeLookup};
use super::{Portal, PortalClient, SharedPortal, Tamper, random_token};

/// Claims of an ID token. The profile claims are present only when their
/// scope was granted: `name` and `real_name_verified` with `profile`,
/// `phone_number` with `phone`.
#[derive(Serialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(flatten)]
    profile: ProfileClaims,
}

/// Claims about the citizen, shared by the ID token and UserInfo.
#[derive(Serialize)]
struct ProfileClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    /// Whether the citizen completed real-name verification. A claim of
    /// this portal, not of OpenID Connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    real_name_verified: Option<bool>,
}

impl ProfileClaims {
    fn new(citizen: &Citizen, scope: &str) -> Self {
        let granted = |name: &str| scope.split(' ').any(|scope| scope == name);
        let profile = granted("profile");
        Self {
            name: profile.then_some(citizen.name),
            phone_number: granted("phone").then(|| citizen.phone_number()),
            real_name_verified: profile.then_some(citizen.verified),
        }
    }
}

/// Response body of `/userinfo`.
#[derive(Serialize)]
struct UserInfo {
    sub: &'static str,
    #[serde(flatten)]
    profile: ProfileClaims,
}

/// An error response of the token endpoint (RFC 6749 §5.2).
struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Whether the client tried HTTP Basic authentication, which makes a 401
    /// carry a `WWW-Authenticate` challenge.
    basic_challenge: bool,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    fn invalid_client(description: impl Into<String>, basic_challenge: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge,
        }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, no_store_headers(), axum::Json(body)).into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dev-portal\""),
            );
        }
        response
    }
}

/// Handles `POST /token` with `grant_type=authorization_code`.
pub(super) async fn exchange_code(
    State(portal): State<SharedPortal>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match exchange(&portal, &headers, &body) {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(
                error = error.error,
                description = %error.description,
                "dev portal rejected a token request"
            );
            error.into_response()
        }
    }
}

fn exchange(portal: &Portal, headers: &HeaderMap, body: &[u8]) -> Result<Response, TokenError> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(TokenError::new(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse(body);
    let param = |name: &'static str| {
        params
            .get(name)
            .map_err(|error| TokenError::new("invalid_request", error.to_string()))
    };

    // The code is consumed at its first presentation, before anything else
    // is checked, so that even a failed attempt uses it up.
    let code_param = param("code")?;
    let lookup = code_param.map(|code| portal.lock().consume_code(code));

    let client = authenticate_client(portal, headers, &params)?;

    match param("grant_type")? {
        Some("authorization_code") => {}
        Some(other) => {
            return Err(TokenError::new(
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported; use authorization_code"),
            ));
        }
        None => return Err(TokenError::new("invalid_request", "grant_type is missing")),
    }

    let (Some(code_param), Some(lookup)) = (code_param, lookup) else {
        return Err(TokenError::new("invalid_request", "code is missing"));
    };
    let code = match lookup {
        CodeLookup::Fresh(code) => code,
        CodeLookup::Expired => return Err(TokenError::new("invalid_grant", "code has expired")),
        CodeLookup::Replayed => {
            tracing::warn!(
                client_id = %client.client_id,
                "dev portal saw a code replay and revoked the access token issued for it"
            );
            return Err(TokenError::new(
                "invalid_grant",
                "code has already been used",
            ));
        }
        CodeLookup::Unknown => return Err(TokenError::new("invalid_grant", "code is unknown")),
    };
    if code.client_id != client.client_id {
        return Err(TokenError::new(
            "invalid_grant",
            "code was issued to another client",
        ));
    }
    match param("redirect_uri")? {
        Some(uri) if uri == code.redirect_uri => {}
        Some(_) => {
            return Err(TokenError::new(
                "invalid_grant",
                "redirect_uri differs from the one in the authorization request",
            ));
        }
        None => {
            return Err(TokenError::new(
                "invalid_request",
                "redirect_uri is missing",
            ));
        }
    }
    let Some(verifier) = param("code_verifier")? else {
        return Err(TokenError::new(
            "invalid_request",
            "code_verifier is missing",
        ));
    };
    verify_pkce(verifier, &code.code_challenge)?;

    let Some(citizen) = find_citizen(code.subject) else {
        return Err(TokenError::new(
            "invalid_grant",
            "the code's citizen is unknown",
        ));
    };
    let response = issue_tokens(portal, &code, citizen, code_param)?;
    tracing::info!(
        client_id = %client.client_id,
        subject = citizen.subject,
        "dev portal issued tokens"
    );
    Ok(response)
}

/// Authenticates the client by HTTP Basic (`client_secret_basic`) or by
/// `client_id` and `client_secret` in the body (`client_secret_post`).
fn authenticate_client<'a>(
    portal: &'a Portal,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a PortalClient, TokenError> {
    let body_id = params
        .get("client_id")
        .map_err(|error| TokenError::new("invalid_request", error.to_string()))?;
    let body_secret = params
        .get("client_secret")
        .map_err(|error| TokenError::new("invalid_request", error.to_string()))?;

    let Some(header) = headers.get(AUTHORIZATION) else {
        let (Some(id), Some(secret)) = (body_id, body_secret) else {
            return Err(TokenError::invalid_client(
                "client authentication is missing; use HTTP Basic or client_id and client_secret",
                false,
            ));
        };
        return find_client(portal, id, secret).ok_or_else(|| unknown_client(id, false));
    };

    let (raw_id, raw_secret) = parse_basic(header).ok_or_else(|| {
        TokenError::invalid_client("the Authorization header is not valid HTTP Basic", true)
    })?;
    if body_secret.is_some() {
        return Err(TokenError::new(
            "invalid_request",
            "use either HTTP Basic or client_secret in the body, not both",
        ));
    }
    // RFC 6749 §2.3.1 has clients form-urlencode the ID and secret before
    // Basic encoding, but many clients skip that step, so both forms count.
    let id = form_decode(&raw_id);
    let secret = form_decode(&raw_secret);
    if body_id.is_some_and(|body_id| body_id != id && body_id != raw_id) {
        return Err(TokenError::new(
            "invalid_request",
            "client_id in the body differs from the HTTP Basic user name",
        ));
    }
    find_client(portal, &id, &secret)
        .or_else(|| find_client(portal, &raw_id, &raw_secret))
        .ok_or_else(|| unknown_client(&id, true))
}

/// Returns the registered client `client_id` if `secret` is its secret.
fn find_client<'a>(portal: &'a Portal, client_id: &str, secret: &str) -> Option<&'a PortalClient> {
    portal
        .client(client_id)
        .filter(|client| secrets_match(&client.client_secret, secret))
}

fn unknown_client(client_id: &str, basic_challenge: bool) -> TokenError {
    TokenError::invalid_client(
        format!("client_id {client_id:?} is unknown or its secret is wrong"),
        basic_challenge,
    )
}

/// Decodes `Basic base64(id:secret)` into the ID and secret as sent.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, credentials) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Decodes one form-urlencoded value: `+` becomes a space and `%XX` a byte.
fn form_decode(text: &str) -> String {
    // Escaping the separators makes the whole text a single value.
    let escaped = text.replace('&', "%26").replace('=', "%3D");
    url::form_urlencoded::parse(format!("value={escaped}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Compares secrets by their SHA-256 digests, so that the comparison time
/// does not reveal how many leading characters match.
fn secrets_match(expected: &str, presented: &str) -> bool {
    Sha256::digest(expected.as_bytes()) == Sha256::digest(presented.as_bytes())
}

/// Checks that SHA-256 of the verifier, base64url-encoded, is the challenge
/// (RFC 7636 §4.6).
fn verify_pkce(verifier: &str, challenge: &str) -> Result<(), TokenError> {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    if !well_formed {
        return Err(TokenError::new(
            "invalid_grant",
            "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~",
        ));
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
        return Err(TokenError::new(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    Ok(())
}

/// Issues an access token and a signed ID token for a redeemed code.
fn issue_tokens(
    portal: &Portal,
    code: &AuthorizationCode,
    citizen: &Citizen,
    code_param: &str,
) -> Result<Response, TokenError> {
    let now = chrono::Utc::now().timestamp();
    let lifetime = i64::try_from(ACCESS_TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    let mut claims = IdTokenClaims {
        iss: portal.issuer.clone(),
        sub: citizen.subject.to_owned(),
        aud: code.client_id.clone(),
        exp: now + lifetime,
        iat: now,
        nbf: now,
        auth_time: code.auth_time,
        nonce: code.nonce.clone(),
        profile: ProfileClaims::new(citizen, &code.scope),
    };

    let (kid, encoding_key, tamper) = {
        let mut store = portal.lock();
        let key = store.current_key();
        (
            key.kid.clone(),
            key.encoding.clone(),
            store.pending_tamper.take(),
        )
    };
    if let Some(tamper) = tamper {
        tracing::info!(
            ?tamper,
            "dev portal tampers with this ID token as requested"
        );
        apply_tamper(&mut claims, tamper, now);
    }
    let mut id_token = sign(&claims, kid, &encoding_key)?;
    if tamper == Some(Tamper::BadSignature) {
        id_token = corrupt_signature(&id_token);
    }

    let access_token = random_token();
    portal.lock().insert_access_token(
        access_token.clone(),
        AccessToken {
            client_id: code.client_id.clone(),
            subject: citizen.subject,
            scope: code.scope.clone(),
            expires_at: Instant::now() + ACCESS_TOKEN_LIFETIME,
        },
        code_param,
    );

    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": id_token,
        "scope": code.scope,
    });
    Ok((no_store_headers(), axum::Json(body)).into_response())
}

fn sign(claims: &IdTokenClaims, kid: String, key: &EncodingKey) -> Result<String, TokenError> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid);
    jsonwebtoken::encode(&header, claims, key).map_err(|error| {
        tracing::error!(%error, "dev portal failed to sign an ID token");
        TokenError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "signing the ID token failed; see the portal log".to_owned(),
            basic_challenge: false,
        }
    })
}

/// Changes the claim that `tamper` names. `BadSignature` is applied after
/// signing, by [`corrupt_signature`].
fn apply_tamper(claims: &mut IdTokenClaims, tamper: Tamper, now: i64) {
    match tamper {
        Tamper::OmitNonce => claims.nonce = None,
        Tamper::WrongNonce => claims.nonce = Some(random_token()),
        Tamper::NotBeforeInFuture { seconds } => claims.nbf = now.saturating_add(seconds),
        Tamper::ExpiredSecondsAgo { seconds } => claims.exp = now.saturating_sub(seconds),
        Tamper::IssuedInFuture { seconds } => claims.iat = now.saturating_add(seconds),
        Tamper::WrongAudience => claims.aud = format!("{}-other-client", claims.aud),
        Tamper::WrongIssuer => claims.iss = format!("{}/other-issuer", claims.iss),
        Tamper::BadSignature => {}
    }
}

/// Inverts the first bytes of a JWS signature, keeping its length, so that
/// the token still parses but no longer verifies.
fn corrupt_signature(token: &str) -> String {
    let Some((signed_part, signature)) = token.rsplit_once('.') else {
        return token.to_owned();
    };
    let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(signature) else {
        return token.to_owned();
    };
    for byte in bytes.iter_mut().take(8) {
        *byte = !*byte;
    }
    format!("{signed_part}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Handles `GET /userinfo` with a Bearer access token (RFC 6750 §2.1).
pub(super) async fn userinfo(State(portal): State<SharedPortal>, headers: HeaderMap) -> Response {
    // RFC 6750 §3.1: a request without credentials, or with a scheme other
    // than Bearer, gets a challenge without an error code.
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return bearer_challenge("Bearer realm=\"dev-portal\"");
    };

    let record = portal.lock().access_token(token).map(|record| {
        (
            record.subject,
            record.scope.clone(),
            record.client_id.clone(),
        )
    });
    let Some((subject, scope, client_id)) = record else {
        tracing::warn!("dev portal rejected a UserInfo request with an invalid access token");
        return bearer_challenge(
            "Bearer realm=\"dev-portal\", error=\"invalid_token\", \
             error_description=\"the access token is unknown or expired\"",
        );
    };
    let Some(citizen) = find_citizen(subject) else {
        tracing::error!(
            subject,
            "dev portal has an access token for an unknown citizen"
        );
        return bearer_challenge("Bearer realm=\"dev-portal\", error=\"invalid_token\"");
    };

    tracing::info!(%client_id, subject, "dev portal served UserInfo");
    let body = UserInfo {
        sub: citizen.subject,
        profile: ProfileClaims::new(citizen, &scope),
    };
    (no_store_headers(), axum::Json(body)).into_response()
}

fn bearer_challenge(challenge: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, HeaderValue::from_static(challenge))],
    )
        .into_response()
}

/// Headers that RFC 6749 §5.1 requires on responses carrying tokens.
fn no_store_headers() -> [(http::HeaderName, &'static str); 2] {
    [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")]
}
