//! A local stand-in for the city portal 我的南京 ("My Nanjing"): an OAuth 2.0
//! authorization server and OpenID Connect provider for development and
//! tests. The real portal's details are not public, so this one follows the
//! standards: the authorization code flow with PKCE (S256 only), RS256 ID
//! tokens, a JWKS with key rotation, UserInfo and RP-initiated logout.
//!
//! Everything lives in memory. Keys, codes, tokens and sessions are lost
//! when the portal stops, and each start generates a new signing key.

mod authorize;
mod citizens;
mod keys;
mod pages;
mod params;
mod session;
mod store;
mod token;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub use citizens::{CITIZENS, Citizen};

use keys::SigningKey;
use store::Store;

/// A client registered with the portal.
#[derive(Debug, Clone)]
pub struct PortalClient {
    pub client_id: String,
    pub client_secret: String,
    /// Redirect URIs accepted by `/authorize`, compared by exact string match.
    pub redirect_uris: Vec<String>,
    /// Return addresses accepted by `/end-session`, compared by exact string match.
    pub post_logout_redirect_uris: Vec<String>,
}

/// A deliberate defect in the next ID token, for testing how a client
/// validates tokens. Each variant changes only the part it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Leaves out the `nonce` claim.
    OmitNonce,
    /// Sets `nonce` to a random value that the client never sent.
    WrongNonce,
    /// Sets `nbf` to this many seconds after now.
    NotBeforeInFuture { seconds: i64 },
    /// Sets `exp` to this many seconds before now.
    ExpiredSecondsAgo { seconds: i64 },
    /// Sets `iat` to this many seconds after now.
    IssuedInFuture { seconds: i64 },
    /// Sets `aud` to a client ID other than the requesting client's.
    WrongAudience,
    /// Sets `iss` to a URL other than the portal's issuer.
    WrongIssuer,
    /// Inverts the first bytes of the signature, so it no longer verifies.
    BadSignature,
}

/// A bound portal that has not started serving yet.
pub struct DevPortal {
    listener: TcpListener,
    router: Router,
    handle: PortalHandle,
}

impl DevPortal {
    /// Binds `listen` (port 0 allowed) and generates the first RSA-2048 signing key.
    ///
    /// Fails when the address cannot be bound, when a client ID is empty or
    /// registered twice, or when a registered URI is not an absolute URL
    /// without a fragment.
    pub async fn bind(listen: SocketAddr, clients: Vec<PortalClient>) -> anyhow::Result<Self> {
        validate_clients(&clients)?;

        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot bind the dev portal to {listen}"))?;
        let local_addr = listener
            .local_addr()
            .context("cannot read the dev portal's bound address")?;

        let first_key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .context("the key generation task failed")??;

        let portal = Arc::new(Portal {
            issuer: issuer_for(local_addr),
            local_addr,
            clients,
            store: Mutex::new(Store::new(first_key)),
            jwks_requests: AtomicUsize::new(0),
        });
        Ok(Self {
            listener,
            router: router(portal.clone()),
            handle: PortalHandle { portal },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.handle.portal.local_addr
    }

    /// Returns the issuer URL, such as `http://127.0.0.1:4000` without a
    /// trailing slash. It is the `iss` claim of every ID token.
    pub fn issuer(&self) -> String {
        self.handle.portal.issuer.clone()
    }

    pub fn handle(&self) -> PortalHandle {
        self.handle.clone()
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let issuer = self.handle.portal.issuer.clone();
        tracing::info!(%issuer, "dev portal started");
        let result = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        match &result {
            Ok(()) => tracing::info!(%issuer, "dev portal stopped"),
            Err(error) => tracing::error!(%issuer, %error, "dev portal failed"),
        }
        result
    }
}

/// Controls a running portal, for tests and the development UI. Clones
/// share one portal.
#[derive(Clone)]
pub struct PortalHandle {
    portal: Arc<Portal>,
}

impl PortalHandle {
    /// Generates a new signing key with a new `kid` and returns that kid.
    /// Later tokens use the new key, and the JWKS keeps the old keys too.
    ///
    /// Key generation is CPU-bound and blocks the calling thread. If it
    /// fails, the error is logged, the current key stays in use and its kid
    /// is returned.
    pub fn rotate_key(&self) -> String {
        match SigningKey::generate() {
            Ok(key) => self.portal.add_key(key),
            Err(error) => {
                tracing::error!(%error, "dev portal key rotation failed, keeping the current key");
                self.portal.lock().current_key().kid.clone()
            }
        }
    }

    /// Alters the next ID token issued by `/token` this way, once. A later
    /// call before that token is issued replaces the pending tamper.
    pub fn tamper_next_id_token(&self, tamper: Tamper) {
        self.portal.lock().pending_tamper = Some(tamper);
    }

    /// Returns how many times `GET /jwks` has been served.
    pub fn jwks_requests(&self) -> usize {
        self.portal.jwks_requests.load(Ordering::SeqCst)
    }
}

/// State shared by the request handlers and every `PortalHandle`.
struct Portal {
    issuer: String,
    local_addr: SocketAddr,
    clients: Vec<PortalClient>,
    store: Mutex<Store>,
    jwks_requests: AtomicUsize,
}

type SharedPortal = Arc<Portal>;

impl Portal {
    /// Locks the mutable state. Store updates call nothing that panics, so a
    /// poisoned lock still guards consistent maps and is used as is.
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn client(&self, client_id: &str) -> Option<&PortalClient> {
        self.clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    /// Makes `key` the signing key, keeps the previous one in the JWKS and
    /// returns the new kid.
    fn add_key(&self, key: SigningKey) -> String {
        let kid = key.kid.clone();
        self.lock().rotate_to(key);
        tracing::info!(%kid, "dev portal rotated its signing key");
        kid
    }
}

fn router(portal: SharedPortal) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(
            "/authorize",
            get(authorize::show_login).post(authorize::submit_login),
        )
        .route("/token", post(token::exchange_code))
        .route("/userinfo", get(token::userinfo))
        .route("/jwks", get(jwks))
        .route("/end-session", get(session::end_session))
        .route("/rotate-key", post(rotate_key))
        .with_state(portal)
}

/// Serves the OpenID Provider metadata (OpenID Connect Discovery 1.0).
async fn discovery(State(portal): State<SharedPortal>) -> axum::Json<Value> {
    let issuer = &portal.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/end-session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": authorize::SUPPORTED_SCOPES,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce",
            "name", "phone_number", "real_name_verified",
        ],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// Serves every public key generated so far, oldest first.
async fn jwks(State(portal): State<SharedPortal>) -> axum::Json<Value> {
    portal.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = portal
        .lock()
        .all_keys()
        .map(SigningKey::public_jwk)
        .collect();
    axum::Json(json!({ "keys": keys }))
}

/// Rotates the signing key, a development convenience over `PortalHandle::rotate_key`.
async fn rotate_key(State(portal): State<SharedPortal>) -> axum::response::Response {
    use axum::response::IntoResponse;

    let generated = tokio::task::spawn_blocking(SigningKey::generate).await;
    match generated {
        Ok(Ok(key)) => axum::Json(json!({ "kid": portal.add_key(key) })).into_response(),
        Ok(Err(error)) => {
            tracing::error!(%error, "dev portal key rotation failed");
            key_rotation_failed()
        }
        Err(error) => {
            tracing::error!(%error, "dev portal key generation task failed");
            key_rotation_failed()
        }
    }
}

fn key_rotation_failed() -> axum::response::Response {
    use axum::response::IntoResponse;

    let body = json!({
        "error": "server_error",
        "error_description": "key generation failed; see the portal log",
    });
    (http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Builds `http://HOST:PORT` from the bound address. An unspecified address
/// such as 0.0.0.0 becomes the loopback address of the same family, which
/// is where a local browser reaches the portal.
fn issuer_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn validate_clients(clients: &[PortalClient]) -> anyhow::Result<()> {
    for (index, client) in clients.iter().enumerate() {
        if client.client_id.is_empty() {
            bail!("dev portal client {index} has an empty client_id");
        }
        if clients[..index]
            .iter()
            .any(|other| other.client_id == client.client_id)
        {
            bail!(
                "dev portal client_id {:?} is registered twice",
                client.client_id
            );
        }
        let uris = client
            .redirect_uris
            .iter()
            .chain(&client.post_logout_redirect_uris);
        for uri in uris {
            let parsed = url::Url::parse(uri).with_context(|| {
                format!(
                    "dev portal client {:?}: {uri:?} is not an absolute URL",
                    client.client_id
                )
            })?;
            if parsed.fragment().is_some() {
                bail!(
                    "dev portal client {:?}: {uri:?} must not contain a fragment",
                    client.client_id
                );
            }
        }
    }
    Ok(())
}

/// Returns 256 random bits from the operating system, base64url-encoded.
/// Codes, access tokens and session IDs use it.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
