//! The OpenID Connect client for the city portal: authorization code flow
//! with PKCE, ID token checks and a JWKS cache.
//!
//! Built on reqwest and jsonwebtoken, which the server already uses. The
//! portal integration needs a JWKS cache that refetches once on an unknown
//! `kid` under a rate limit, an `nbf` check and configurable claim names,
//! and this file keeps all of them in one place.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::config::{ClaimNames, OidcConfig};

/// Minimum time between two JWKS fetches caused by an unknown `kid`, so
/// that tokens with made-up key ids cannot flood the portal with requests.
const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Age after which the cached key set is fetched again on next use.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
/// Timeout for every call to the portal.
const PORTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The reason a sign-in failed. The code is safe to show and to quote to
/// support, and the details go to the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("the portal is unreachable or returned an invalid response")]
    ProviderUnavailable,
    #[error("the portal rejected the authorization code")]
    CodeRejected,
    #[error("the ID token is malformed")]
    TokenMalformed,
    #[error("the ID token is signed with an unknown key")]
    UnknownKey,
    #[error("the ID token signature is invalid")]
    BadSignature,
    #[error("the ID token has another issuer")]
    WrongIssuer,
    #[error("the ID token is for another client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is not valid yet")]
    NotYetValid,
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token has no nonce")]
    NonceMissing,
    #[error("the ID token nonce does not match")]
    NonceMismatch,
    #[error("the ID token lacks the subject claim")]
    SubjectMissing,
}

impl SignInError {
    /// Returns a stable code for pages, logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderUnavailable => "provider_unavailable",
            Self::CodeRejected => "code_rejected",
            Self::TokenMalformed => "token_malformed",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::NonceMissing => "nonce_missing",
            Self::NonceMismatch => "nonce_mismatch",
            Self::SubjectMissing => "subject_missing",
        }
    }
}

/// The portal's endpoints, from configuration and discovery.
#[derive(Debug, Clone)]
struct Endpoints {
    authorize: Url,
    token: Url,
    userinfo: Option<Url>,
    jwks: Url,
    end_session: Option<Url>,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    userinfo_endpoint: Option<Url>,
    jwks_uri: Url,
    end_session_endpoint: Option<Url>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    last_unknown_kid_fetch: Option<Instant>,
}

/// Details of the citizen who signed in, from the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub subject: String,
    pub display_name: String,
    /// As the portal sent it. The caller normalises it.
    pub mobile: Option<String>,
    pub real_name_verified: bool,
}

/// The OpenID Connect client. One per process, shared by every request.
pub struct OidcClient {
    config: OidcConfig,
    scopes: String,
    claims: ClaimNames,
    leeway: Duration,
    redirect_uri: String,
    http: reqwest::Client,
    endpoints: OnceCell<Endpoints>,
    keys: Mutex<KeyCache>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
}

impl OidcClient {
    /// Builds the client; `redirect_uri` is Ningyu's callback address.
    pub fn new(
        config: OidcConfig,
        scopes: String,
        claims: ClaimNames,
        leeway: Duration,
        redirect_uri: String,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(PORTAL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            config,
            scopes,
            claims,
            leeway: leeway.min(Duration::from_secs(60)),
            redirect_uri,
            http,
            endpoints: OnceCell::new(),
            keys: Mutex::new(KeyCache::default()),
        })
    }

    /// Returns the client id, for end-session requests.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    async fn endpoints(&self) -> Result<&Endpoints, SignInError> {
        self.endpoints
            .get_or_try_init(|| async {
                let config = &self.config;
                let discovered = match &config.discovery_url {
                    Some(url) => Some(self.discover(url.clone()).await?),
                    None => None,
                };
                let pick = |explicit: &Option<Url>, found: Option<Url>| explicit.clone().or(found);
                let missing = || {
                    tracing::error!("the portal's configuration lacks a required endpoint");
                    SignInError::ProviderUnavailable
                };
                Ok(Endpoints {
                    authorize: pick(
                        &config.authorize_url,
                        discovered
                            .as_ref()
                            .map(|d| d.authorization_endpoint.clone()),
                    )
                    .ok_or_else(missing)?,
                    token: pick(
                        &config.token_url,
                        discovered.as_ref().map(|d| d.token_endpoint.clone()),
                    )
                    .ok_or_else(missing)?,
                    userinfo: pick(
                        &config.userinfo_url,
                        discovered
                            .as_ref()
                            .and_then(|d| d.userinfo_endpoint.clone()),
                    ),
                    jwks: pick(
                        &config.jwks_url,
                        discovered.as_ref().map(|d| d.jwks_uri.clone()),
                    )
                    .ok_or_else(missing)?,
                    end_session: pick(
                        &config.end_session_url,
                        discovered
                            .as_ref()
                            .and_then(|d| d.end_session_endpoint.clone()),
                    ),
                })
            })
            .await
    }

    async fn discover(&self, url: Url) -> Result<Discovery, SignInError> {
        let discovery: Discovery = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| {
                tracing::warn!(error = %error, "OpenID discovery failed");
                SignInError::ProviderUnavailable
            })?
            .json()
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "OpenID discovery document is malformed");
                SignInError::ProviderUnavailable
            })?;
        if discovery.issuer != self.config.issuer {
            tracing::error!(
                discovered = %discovery.issuer,
                configured = %self.config.issuer,
                "the discovery document names another issuer"
            );
            return Err(SignInError::ProviderUnavailable);
        }
        Ok(discovery)
    }

    /// Returns the portal address to send the browser to.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        pkce_challenge: &str,
        silent: bool,
    ) -> Result<Url, SignInError> {
        let mut url = self.endpoints().await?.authorize.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &self.scopes)
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", pkce_challenge)
                .append_pair("code_challenge_method", "S256");
            if silent {
                query.append_pair("prompt", "none");
            }
        }
        Ok(url)
    }

    /// Returns the end-session address for signing out at the portal too,
    /// when the portal has one.
    pub async fn end_session_url(&self, post_logout_redirect_uri: &str) -> Option<Url> {
        let mut url = self.endpoints().await.ok()?.end_session.clone()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
        Some(url)
    }

    /// Exchanges `code` for tokens, checks the ID token and returns the citizen.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        expected_nonce: &str,
    ) -> Result<Citizen, SignInError> {
        let endpoints = self.endpoints().await?;
        let response = self
            .http
            .post(endpoints.token.clone())
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose_secret()),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", pkce_verifier),
            ])
            .send()
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "token request failed");
                SignInError::ProviderUnavailable
            })?;
        let status = response.status();
        if status.is_client_error() {
            tracing::warn!(%status, "the portal rejected the authorization code");
            return Err(SignInError::CodeRejected);
        }
        if !status.is_success() {
            tracing::warn!(%status, "the token endpoint failed");
            return Err(SignInError::ProviderUnavailable);
        }
        let tokens: TokenResponse = response.json().await.map_err(|error| {
            tracing::warn!(error = %error, "token response is malformed");
            SignInError::ProviderUnavailable
        })?;
        let id_token = tokens.id_token.ok_or_else(|| {
            tracing::warn!("token response has no ID token");
            SignInError::TokenMalformed
        })?;
        let mut claims = self.verify_id_token(&id_token, expected_nonce).await?;

        // Details missing from the ID token may come from userinfo; the
        // subject there must be the same citizen.
        if let (Some(userinfo_url), Some(access_token)) =
            (&endpoints.userinfo, &tokens.access_token)
            && (!claims.contains_key(&self.claims.name)
                || !claims.contains_key(&self.claims.mobile))
        {
            match self.userinfo(userinfo_url, access_token).await {
                Ok(extra)
                    if extra.get(&self.claims.subject) == claims.get(&self.claims.subject) =>
                {
                    for (name, value) in extra {
                        claims.entry(name).or_insert(value);
                    }
                }
                Ok(_) => {
                    tracing::warn!("userinfo subject differs from the ID token, userinfo ignored")
                }
                Err(error) => {
                    tracing::warn!(error = %error, "userinfo request failed, continuing without it")
                }
            }
        }
        self.citizen_from(&claims)
    }

    async fn userinfo(&self, url: &Url, access_token: &str) -> reqwest::Result<Map<String, Value>> {
        self.http
            .get(url.clone())
            .bearer_auth(access_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    fn citizen_from(&self, claims: &Map<String, Value>) -> Result<Citizen, SignInError> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let subject = text(&self.claims.subject).ok_or(SignInError::SubjectMissing)?;
        let verified = match claims.get(&self.claims.verified) {
            Some(Value::Bool(value)) => *value,
            Some(Value::String(value)) => matches!(value.as_str(), "true" | "1" | "yes"),
            Some(Value::Number(value)) => value.as_i64() == Some(1),
            _ => false,
        };
        Ok(Citizen {
            subject,
            display_name: text(&self.claims.name).unwrap_or_default(),
            mobile: text(&self.claims.mobile),
            real_name_verified: verified,
        })
    }

    /// Checks an ID token: signature against the portal's keys, `iss`,
    /// `aud`, `exp`, `nbf` and `iat` with the configured leeway, and `nonce`.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        expected_nonce: &str,
    ) -> Result<Map<String, Value>, SignInError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|error| {
            tracing::warn!(error = %error, "ID token header is malformed");
            SignInError::TokenMalformed
        })?;
        if header.alg != Algorithm::RS256 {
            tracing::warn!(alg = ?header.alg, "ID token uses an algorithm other than RS256");
            return Err(SignInError::TokenMalformed);
        }
        let key = self.key_for(header.kid.as_deref()).await?;

        let leeway = self.leeway.as_secs();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                let mapped = match error.kind() {
                    ErrorKind::InvalidSignature => SignInError::BadSignature,
                    ErrorKind::InvalidIssuer => SignInError::WrongIssuer,
                    ErrorKind::InvalidAudience => SignInError::WrongAudience,
                    ErrorKind::ExpiredSignature => SignInError::Expired,
                    ErrorKind::ImmatureSignature => SignInError::NotYetValid,
                    _ => SignInError::TokenMalformed,
                };
                tracing::warn!(error = %error, code = mapped.code(), "ID token rejected");
                mapped
            })?;
        let claims = data.claims;

        let now = chrono::Utc::now().timestamp();
        let issued_at = claims.get("iat").and_then(Value::as_i64).ok_or_else(|| {
            tracing::warn!("ID token iat is not a number");
            SignInError::TokenMalformed
        })?;
        if issued_at > now.saturating_add_unsigned(leeway) {
            tracing::warn!(issued_at, now, "ID token issued in the future");
            return Err(SignInError::IssuedInFuture);
        }
        // With several audiences, the token must have been issued to us.
        if let Some(Value::Array(audiences)) = claims.get("aud")
            && audiences.len() > 1
            && claims.get("azp").and_then(Value::as_str) != Some(self.config.client_id.as_str())
        {
            tracing::warn!("ID token has several audiences and another azp");
            return Err(SignInError::WrongAudience);
        }
        match claims.get("nonce").and_then(Value::as_str) {
            None => {
                tracing::warn!("ID token has no nonce although one was sent");
                Err(SignInError::NonceMissing)
            }
            Some(nonce) if nonce != expected_nonce => {
                tracing::warn!("ID token nonce does not match the sign-in");
                Err(SignInError::NonceMismatch)
            }
            Some(_) => Ok(claims),
        }
    }

    /// Returns the key with id `kid`. An unknown id refetches the key set
    /// once, unless another unknown id did so less than
    /// [`UNKNOWN_KID_REFETCH_INTERVAL`] ago.
    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, SignInError> {
        let mut cache = self.keys.lock().await;
        let stale = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() > JWKS_MAX_AGE);
        if stale {
            self.refresh_keys(&mut cache).await?;
        }
        if let Some(key) = lookup(&cache.keys, kid) {
            return Ok(key);
        }
        let may_refetch = cache
            .last_unknown_kid_fetch
            .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_REFETCH_INTERVAL);
        if stale || !may_refetch {
            tracing::warn!(kid = ?kid, "ID token key is unknown");
            return Err(SignInError::UnknownKey);
        }
        cache.last_unknown_kid_fetch = Some(Instant::now());
        self.refresh_keys(&mut cache).await?;
        lookup(&cache.keys, kid).ok_or_else(|| {
            tracing::warn!(kid = ?kid, "ID token key is unknown after refetching the key set");
            SignInError::UnknownKey
        })
    }

    async fn refresh_keys(&self, cache: &mut KeyCache) -> Result<(), SignInError> {
        let url = self.endpoints().await?.jwks.clone();
        let set: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| {
                tracing::warn!(error = %error, "JWKS request failed");
                SignInError::ProviderUnavailable
            })?
            .json()
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "JWKS document is malformed");
                SignInError::ProviderUnavailable
            })?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, key);
                }
                Err(error) => tracing::warn!(kid, error = %error, "JWKS key skipped"),
            }
        }
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }
}

/// Finds the key for `kid`. A token without `kid` matches only a key set
/// of exactly one key.
fn lookup(keys: &HashMap<String, DecodingKey>, kid: Option<&str>) -> Option<DecodingKey> {
    match kid {
        Some(kid) => keys.get(kid).cloned(),
        None if keys.len() == 1 => keys.values().next().cloned(),
        None => None,
    }
}
