//! Rate limits on sign-in and other endpoints worth abusing, per client
//! address. Requests over the limit get 429 and `Retry-After`.
//!
//! The limits are kept in each process's memory (governor's GCRA), so with
//! several server processes a client gets up to that many times the limit.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// One keyed limiter.
pub type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

/// The limiters of the process.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sign-in starts, callbacks, token and invitation requests.
    pub sign_in: Limiter,
}

impl Limits {
    /// Allows `per_minute` sign-in requests per client address per minute,
    /// in bursts of up to the same number.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            sign_in: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
        }
    }
}

/// Returns 429 once the client address has used its quota.
pub async fn limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    // NOTE: behind a reverse proxy every request has the proxy's address;
    // reading X-Forwarded-For needs a trusted-proxy setting, not built yet.
    let Some(address) = address else {
        return next.run(request).await;
    };
    match limiter.check_key(&address) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after_secs =
                u32::try_from(wait.as_secs().saturating_add(1)).unwrap_or(u32::MAX);
            tracing::warn!(retry_after_secs, "rate limit reached");
            crate::web::error_for(
                request.headers(),
                crate::web::original_path(&request),
                app::error::AppError::RateLimited { retry_after_secs },
            )
        }
    }
}

/// Server functions that take invitation codes, which could be guessed,
/// rate-limited like sign-in.
const LIMITED_SERVER_FUNCTIONS: [&str; 2] = ["/sfn/accept_invitation", "/sfn/create_invitation"];

/// Applies [`limit`] to the server functions in `LIMITED_SERVER_FUNCTIONS`,
/// which the Leptos router registers outside the `/auth` routes.
pub async fn limit_server_functions(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    if LIMITED_SERVER_FUNCTIONS.contains(&request.uri().path()) {
        limit(State(limiter), request, next).await
    } else {
        next.run(request).await
    }
}
