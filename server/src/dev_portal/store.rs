//! The portal's in-memory state: keys, authorization codes, access tokens
//! and browser sessions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Tamper;
use super::keys::SigningKey;

/// Lifetime of an authorization code.
pub(super) const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Lifetime of an access token, also the `expires_in` of `/token`.
pub(super) const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Lifetime of a portal browser session on the server side. The cookie
/// itself is a session cookie, so the browser drops it when it closes.
pub(super) const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// An issued authorization code and everything it was bound to.
pub(super) struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub subject: &'static str,
    /// Time of the login, in seconds since the Unix epoch.
    pub auth_time: i64,
    pub expires_at: Instant,
}

/// A code that has been presented once. It is kept until it would have
/// expired, so that a replay is recognised and revokes the access token
/// issued for it, as RFC 6749 §4.1.2 recommends.
pub(super) struct UsedCode {
    pub access_token: Option<String>,
    pub expires_at: Instant,
}

/// Outcome of presenting a code to `/token`.
pub(super) enum CodeLookup {
    Fresh(AuthorizationCode),
    Expired,
    Replayed,
    Unknown,
}

pub(super) struct AccessToken {
    pub client_id: String,
    pub subject: &'static str,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub expires_at: Instant,
}

/// A citizen signed in to the portal in one browser.
#[derive(Clone, Copy)]
pub(super) struct Session {
    pub subject: &'static str,
    /// Time of the login, in seconds since the Unix epoch.
    pub auth_time: i64,
    pub expires_at: Instant,
}

pub(super) struct Store {
    /// The key that signs new tokens.
    current_key: SigningKey,
    /// Keys replaced by a rotation, oldest first, still published in the JWKS.
    retired_keys: Vec<SigningKey>,
    pub pending_tamper: Option<Tamper>,
    codes: HashMap<String, AuthorizationCode>,
    used_codes: HashMap<String, UsedCode>,
    access_tokens: HashMap<String, AccessToken>,
    sessions: HashMap<String, Session>,
}

impl Store {
    pub fn new(first_key: SigningKey) -> Self {
        Self {
            current_key: first_key,
            retired_keys: Vec::new(),
            pending_tamper: None,
            codes: HashMap::new(),
            used_codes: HashMap::new(),
            access_tokens: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    pub fn current_key(&self) -> &SigningKey {
        &self.current_key
    }

    /// Returns every key generated so far, oldest first.
    pub fn all_keys(&self) -> impl Iterator<Item = &SigningKey> {
        self.retired_keys
            .iter()
            .chain(std::iter::once(&self.current_key))
    }

    /// Makes `key` the signing key and retires the previous one.
    pub fn rotate_to(&mut self, key: SigningKey) {
        let previous = std::mem::replace(&mut self.current_key, key);
        self.retired_keys.push(previous);
    }

    pub fn insert_code(&mut self, code: String, record: AuthorizationCode) {
        self.remove_expired();
        self.codes.insert(code, record);
    }

    /// Marks `code` as used and returns what it was. Every presentation
    /// consumes the code, even one whose request fails later.
    pub fn consume_code(&mut self, code: &str) -> CodeLookup {
        let now = Instant::now();
        if let Some(used) = self.used_codes.get_mut(code) {
            if let Some(token) = used.access_token.take() {
                self.access_tokens.remove(&token);
            }
            return CodeLookup::Replayed;
        }
        let Some(record) = self.codes.remove(code) else {
            return CodeLookup::Unknown;
        };
        self.used_codes.insert(
            code.to_owned(),
            UsedCode {
                access_token: None,
                expires_at: record.expires_at,
            },
        );
        if record.expires_at <= now {
            CodeLookup::Expired
        } else {
            CodeLookup::Fresh(record)
        }
    }

    /// Stores an access token issued for `code`, so that a replay of the
    /// code can revoke it.
    pub fn insert_access_token(&mut self, token: String, record: AccessToken, code: &str) {
        self.remove_expired();
        if let Some(used) = self.used_codes.get_mut(code) {
            used.access_token = Some(token.clone());
        }
        self.access_tokens.insert(token, record);
    }

    /// Returns the unexpired access token `token`.
    pub fn access_token(&self, token: &str) -> Option<&AccessToken> {
        self.access_tokens
            .get(token)
            .filter(|record| record.expires_at > Instant::now())
    }

    pub fn insert_session(&mut self, id: String, session: Session) {
        self.remove_expired();
        self.sessions.insert(id, session);
    }

    /// Returns the unexpired session `id`.
    pub fn session(&self, id: &str) -> Option<Session> {
        self.sessions
            .get(id)
            .filter(|session| session.expires_at > Instant::now())
            .copied()
    }

    pub fn remove_session(&mut self, id: &str) {
        self.sessions.remove(id);
    }

    /// Drops expired codes, tokens and sessions, so that a long-running
    /// portal does not grow without bound.
    fn remove_expired(&mut self) {
        let now = Instant::now();
        self.codes.retain(|_, record| record.expires_at > now);
        self.used_codes.retain(|_, record| record.expires_at > now);
        self.access_tokens
            .retain(|_, record| record.expires_at > now);
        self.sessions.retain(|_, session| session.expires_at > now);
    }
}
