//! Access tokens for the mobile apps: HS256 JWTs with a `kid`, signed with
//! the rotating keys in the database and checked against an in-memory
//! copy of them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::domain::app_tokens;
use app::error::AppError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// Lifetime of an access token.
pub const ACCESS_TTL: Duration = Duration::from_secs(600);
/// Minimum time between two reloads of the keys for an unknown `kid`.
const RELOAD_INTERVAL: Duration = Duration::from_secs(5);
/// Issuer and audience claim of access tokens.
const ISSUER: &str = "ningyu";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The account id, as a string as JWT wants.
    sub: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks access tokens, one instance per process.
#[derive(Default)]
pub struct AccessTokens {
    keys: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    signing: Option<(String, EncodingKey, chrono::DateTime<Utc>)>,
    verifying: HashMap<String, DecodingKey>,
    loaded_at: Option<Instant>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Issues an access token for `account_id` and returns it with its
    /// lifetime in seconds.
    pub async fn issue(
        &self,
        db: &DatabaseConnection,
        account_id: i64,
    ) -> Result<(String, u64), AppError> {
        let now = Utc::now();
        let mut cache = self.keys.lock().await;
        let fresh = cache
            .signing
            .as_ref()
            .is_some_and(|(_, _, created)| *created > now - app_tokens::KEY_ROTATION);
        if !fresh {
            let key = app_tokens::current_signing_key(db, now).await?;
            let secret = decode_secret(&key.secret)?;
            cache
                .verifying
                .insert(key.kid.clone(), DecodingKey::from_secret(&secret));
            cache.signing = Some((key.kid, EncodingKey::from_secret(&secret), key.created_at));
        }
        let Some((kid, key, _)) = cache.signing.as_ref() else {
            return Err(AppError::Internal);
        };
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: ISSUER.to_owned(),
            sub: account_id.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(ACCESS_TTL.as_secs()).unwrap_or(600),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, key).map_err(|error| {
            tracing::error!(error = %error, "cannot sign an access token");
            AppError::Internal
        })?;
        Ok((token, ACCESS_TTL.as_secs()))
    }

    /// Returns the account of a valid access token, or `None`.
    pub async fn verify(
        &self,
        db: &DatabaseConnection,
        token: &str,
    ) -> Result<Option<i64>, AppError> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(None);
        };
        let Some(kid) = header.kid.filter(|_| header.alg == Algorithm::HS256) else {
            return Ok(None);
        };
        let Some(key) = self.verifying_key(db, &kid).await? else {
            return Ok(None);
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.leeway = 0;
        match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
            Ok(data) => Ok(data.claims.sub.parse().ok()),
            Err(error) => {
                tracing::debug!(error = %error, "access token rejected");
                Ok(None)
            }
        }
    }

    async fn verifying_key(
        &self,
        db: &DatabaseConnection,
        kid: &str,
    ) -> Result<Option<DecodingKey>, AppError> {
        let mut cache = self.keys.lock().await;
        if let Some(key) = cache.verifying.get(kid) {
            return Ok(Some(key.clone()));
        }
        let may_reload = cache
            .loaded_at
            .is_none_or(|at| at.elapsed() >= RELOAD_INTERVAL);
        if !may_reload {
            return Ok(None);
        }
        cache.loaded_at = Some(Instant::now());
        let keys = app_tokens::verification_keys(db, Utc::now()).await?;
        cache.verifying.clear();
        for key in keys {
            let secret = decode_secret(&key.secret)?;
            cache
                .verifying
                .insert(key.kid, DecodingKey::from_secret(&secret));
        }
        Ok(cache.verifying.get(kid).cloned())
    }
}

fn decode_secret(secret: &str) -> Result<Vec<u8>, AppError> {
    URL_SAFE_NO_PAD.decode(secret).map_err(|error| {
        tracing::error!(error = %error, "a signing key in the database is malformed");
        AppError::Internal
    })
}
