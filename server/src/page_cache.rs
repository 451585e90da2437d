//! A short-lived copy of the pages that every signed-out visitor gets the
//! same way, so a rush on the home page renders it about once a second
//! instead of once per request.
//!
//! Only `GET` requests without a query, a session cookie or an
//! `Authorization` header are served from the copy. The copy is keyed by
//! the path and by everything else that changes the page: the
//! `Accept-Language` header and the language and text-size cookies, taken
//! verbatim so the key never disagrees with how the page chose its
//! language. Only complete `200` responses without `Set-Cookie` are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::error::AppError;
use app::prefs::{LOCALE_COOKIE, TEXT_SIZE_COOKIE};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, SET_COOKIE};
use http::{HeaderMap, Method, StatusCode};

use crate::auth::session::SESSION_COOKIE;
use crate::web::cookie_values;

/// The paths whose signed-out page is kept.
const CACHED_PATHS: &[&str] = &["/"];
/// How long a copy is served after it was rendered.
pub const PAGE_TTL: Duration = Duration::from_secs(1);
/// Distinct keys kept at most; beyond this the copies are dropped and
/// rendered again, which bounds memory whatever headers clients send.
const MAX_ENTRIES: usize = 64;
/// The largest page body that is kept.
const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    path: &'static str,
    accept_language: Option<String>,
    locale: Option<String>,
    text_size: Option<String>,
}

#[derive(Debug)]
struct Entry {
    rendered_at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

/// The copies of this process's pages. Cloning shares them.
#[derive(Debug, Clone)]
pub struct PageCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::new(PAGE_TTL)
    }
}

impl PageCache {
    /// Creates a cache whose copies are served for `ttl` after rendering.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    fn lookup(&self, key: &Key) -> Option<Response> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        if entry.rendered_at.elapsed() >= self.ttl {
            return None;
        }
        let mut response = Response::new(Body::from(entry.body.clone()));
        *response.headers_mut() = entry.headers.clone();
        Some(response)
    }

    fn store(&self, key: Key, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, entry);
    }
}

/// Serves the copy when the request qualifies and the copy is fresh.
/// Otherwise renders the page, and keeps it when it qualifies.
pub async fn serve_cached_page(
    State(cache): State<PageCache>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = cache_key(&request) else {
        return next.run(request).await;
    };
    if let Some(response) = cache.lookup(&key) {
        return response;
    }
    let rendered_at = Instant::now();
    let request_headers = request.headers().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => {
            cache.store(
                key,
                Entry {
                    rendered_at,
                    headers: parts.headers.clone(),
                    body: body.clone(),
                },
            );
            Response::from_parts(parts, Body::from(body))
        }
        Err(error) => {
            // The page failed while streaming or outgrew the limit; neither
            // is kept, and the client gets the error like any other.
            tracing::warn!(error = %error, "page could not be read for the cache");
            crate::web::plain_error(&request_headers, AppError::Internal)
        }
    }
}

fn cache_key(request: &Request) -> Option<Key> {
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    let path = CACHED_PATHS
        .iter()
        .find(|path| **path == request.uri().path())?;
    let headers = request.headers();
    if headers.contains_key(AUTHORIZATION)
        || cookie_values(headers, SESSION_COOKIE).next().is_some()
    {
        return None;
    }
    let header_text = |value: Option<&http::HeaderValue>| {
        value
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let cookie = |name| cookie_values(headers, name).next().map(str::to_owned);
    Some(Key {
        path,
        accept_language: header_text(headers.get(ACCEPT_LANGUAGE)),
        locale: cookie(LOCALE_COOKIE),
        text_size: cookie(TEXT_SIZE_COOKIE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::get(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    #[test]
    fn key_only_for_signed_out_gets() {
        assert!(cache_key(&request("/", &[])).is_some());
        assert!(cache_key(&request("/", &[("cookie", "ningyu_text=large")])).is_some());
        assert!(cache_key(&request("/?q=1", &[])).is_none(), "query");
        assert!(cache_key(&request("/search", &[])).is_none(), "other path");
        assert!(
            cache_key(&request("/", &[("cookie", "a=1; ningyu_session=x")])).is_none(),
            "session cookie"
        );
        assert!(
            cache_key(&request("/", &[("authorization", "Bearer x")])).is_none(),
            "bearer token"
        );
        let post = http::Request::post("/")
            .body(Body::empty())
            .expect("request");
        assert!(cache_key(&post).is_none(), "POST");
    }

    #[test]
    fn key_varies_by_language_and_size() {
        let plain = cache_key(&request("/", &[])).expect("key");
        let english = cache_key(&request("/", &[("accept-language", "en")])).expect("key");
        let chosen = cache_key(&request("/", &[("cookie", "i18n_pref_locale=en")])).expect("key");
        let large = cache_key(&request("/", &[("cookie", "ningyu_text=large")])).expect("key");
        let keys = [&plain, &english, &chosen, &large];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn copies_expire_and_stay_bounded() {
        let cache = PageCache::new(Duration::from_millis(50));
        let key = cache_key(&request("/", &[])).expect("key");
        let entry = || Entry {
            rendered_at: Instant::now(),
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"page"),
        };
        cache.store(key.clone(), entry());
        assert!(cache.lookup(&key).is_some(), "fresh copy is served");
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.lookup(&key).is_none(), "expired copy is not");

        for n in 0..(MAX_ENTRIES * 2) {
            let key = Key {
                accept_language: Some(format!("x-{n}")),
                ..key.clone()
            };
            cache.store(key, entry());
        }
        let len = cache.entries.lock().expect("lock").len();
        assert!(len <= MAX_ENTRIES, "{len} entries");
    }
}
