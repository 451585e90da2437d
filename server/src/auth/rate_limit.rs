//! Rate limits on sign-in and other endpoints worth abusing, per client
//! address. Requests over the limit get 429 and `Retry-After`.
//!
//! Two counters decide, in this order:
//!
//! 1. An in-memory limiter per process (governor's GCRA), a cheap first
//!    filter that turns a flood away without touching the database.
//! 2. A window per client address in the database
//!    (`app::domain::rate_limits`), which every server process on that
//!    database shares, so N servers still allow the limit once, not N times.
//!
//! The client address is the TCP peer, unless the peer is one of the
//! trusted reverse proxies (`NINGYU_TRUSTED_PROXIES`). Only then do the
//! `Forwarded` or `X-Forwarded-For` headers count, and the client is the
//! right-most address in them that is not a trusted proxy.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::HeaderMap;
use ipnet::IpNet;
use sea_orm::DatabaseConnection;

/// Length of a rate-limit window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a list of addresses and CIDR networks separated by commas or
    /// white space, such as `10.0.0.0/8, 127.0.0.1, ::1`. Returns the first
    /// entry that is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Returns whether `address` belongs to a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// Returns whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Returns the address of the client that sent `headers` through the TCP
/// peer `peer`.
///
/// An untrusted peer is the client, whatever its headers contain. From a
/// trusted peer, the hops of `Forwarded` (or, when it is absent,
/// `X-Forwarded-For`) are read from the right, and the first one that is
/// not a trusted proxy is the client. A hop that is not an address (such
/// as `unknown`) ends the walk at the trusted proxy that wrote it. When
/// every hop is trusted, the left-most one is the client.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> IpAddr {
    let mut client = canonical(peer);
    if !proxies.contains(client) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        let Some(hop) = hop else {
            return client;
        };
        client = canonical(hop);
        if !proxies.contains(client) {
            return client;
        }
    }
    client
}

/// Returns the hops of the `Forwarded` headers, left to right, or of the
/// `X-Forwarded-For` headers when there is no `Forwarded`. `None` stands
/// for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        // RFC 7239: elements separated by commas, each a list of
        // `name=value` pairs separated by semicolons. Quoted values contain
        // no commas or semicolons in the `for` parameter's syntax.
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(parse_node)
        .collect()
}

/// Parses one hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, each optionally in double quotes.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (address, _) = rest.split_once(']')?;
        return address.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (address, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Turns an IPv4-mapped IPv6 address into its IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// Returns the address a limit counts: IPv4 addresses as they are, IPv6
/// addresses by their /64 network, because one subscriber usually has a
/// whole /64 and could otherwise change address at every request.
fn limit_key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// One limit: `per_window` requests per client address per [`WINDOW`].
#[derive(Debug)]
pub struct Limit {
    /// Name of the limit, the first part of its keys in the database.
    name: &'static str,
    per_window: u32,
    memory: DefaultKeyedRateLimiter<IpAddr>,
    db: DatabaseConnection,
    proxies: TrustedProxies,
    /// Database failures since the last logged one, so that an outage is
    /// logged once in a while, not at every request.
    db_failures: AtomicU64,
}

/// The limits of the process.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sign-in starts, callbacks, token and invitation requests.
    pub sign_in: Arc<Limit>,
}

impl Limits {
    /// Allows `per_minute` sign-in requests per client address per minute,
    /// counted across every server process on `db`.
    pub fn new(per_minute: NonZeroU32, proxies: TrustedProxies, db: DatabaseConnection) -> Self {
        Self {
            sign_in: Arc::new(Limit {
                name: "sign_in",
                per_window: per_minute.get(),
                memory: RateLimiter::keyed(Quota::per_minute(per_minute)),
                db,
                proxies,
                db_failures: AtomicU64::new(0),
            }),
        }
    }

    /// Deletes the ended windows from the database and the in-memory state
    /// of addresses not seen lately. Safe on every server.
    pub async fn purge(&self, now: chrono::DateTime<chrono::Utc>) {
        let limit = &self.sign_in;
        limit.memory.retain_recent();
        let window = chrono::Duration::from_std(WINDOW).unwrap_or_default();
        match app::domain::rate_limits::purge_ended(&limit.db, now - window).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "ended rate-limit windows deleted"),
            Err(error) => tracing::warn!(error = %error, "cannot delete ended rate-limit windows"),
        }
    }
}

impl Limit {
    /// Counts a request from `address` and returns `Err(seconds)` to wait
    /// when it is over the limit.
    async fn check(&self, address: IpAddr) -> Result<(), u32> {
        let key = limit_key(address);
        if let Err(not_until) = self.memory.check_key(&key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(whole_seconds(wait));
        }
        let now = chrono::Utc::now();
        let window = chrono::Duration::from_std(WINDOW).unwrap_or_default();
        let db_key = format!("{} {key}", self.name);
        match app::domain::rate_limits::count_request(&self.db, &db_key, window, now).await {
            Ok(count) if count.hits > self.per_window => {
                let wait = (count.window_ends_at - now).to_std().unwrap_or_default();
                Err(whole_seconds(wait))
            }
            Ok(_) => {
                self.db_failures.store(0, Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                // Fail open: while the database cannot be reached, sign-in
                // fails anyway at the session it must write, and refusing
                // every client here would only hide that. The in-memory
                // limiter above still limits each process's share.
                let failures = self.db_failures.fetch_add(1, Ordering::Relaxed);
                if failures.is_multiple_of(100) {
                    tracing::warn!(
                        limit = self.name,
                        failures = failures + 1,
                        error = %error,
                        "rate-limit window unavailable; the request passes on the in-memory limit"
                    );
                }
                Ok(())
            }
        }
    }
}

/// Rounds `wait` up to whole seconds, at least 1, for `Retry-After`.
fn whole_seconds(wait: Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
}

/// Returns 429 once the client address has used its quota.
pub async fn limit(State(limit): State<Arc<Limit>>, request: Request, next: Next) -> Response {
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
    else {
        return next.run(request).await;
    };
    let client = client_address(peer, request.headers(), &limit.proxies);
    match limit.check(client).await {
        Ok(()) => next.run(request).await,
        Err(retry_after_secs) => {
            tracing::warn!(limit = limit.name, retry_after_secs, "rate limit reached");
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
    State(limiter): State<Arc<Limit>>,
    request: Request,
    next: Next,
) -> Response {
    if LIMITED_SERVER_FUNCTIONS.contains(&request.uri().path()) {
        limit(State(limiter), request, next).await
    } else {
        next.run(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header value"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_networks() {
        let proxies =
            TrustedProxies::parse("10.0.0.0/8, 127.0.0.1 ::1,2001:db8::/32").expect("valid list");
        assert!(proxies.contains(ip("10.1.2.3")));
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(proxies.contains(ip("::ffff:127.0.0.1")), "IPv4-mapped");
        assert!(proxies.contains(ip("::1")));
        assert!(proxies.contains(ip("2001:db8:1::5")));
        assert!(!proxies.contains(ip("127.0.0.2")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8,proxy.example"),
            Err("proxy.example".to_owned())
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/33"),
            Err("10.0.0.0/33".to_owned())
        );
        assert!(TrustedProxies::parse(" ").expect("empty").is_empty());
    }

    /// One case of `client_address`: its name, the peer, the headers and
    /// the expected client.
    type AddressCase = (
        &'static str,
        IpAddr,
        Vec<(&'static str, &'static str)>,
        &'static str,
    );

    #[test]
    fn client_address_cases() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("valid list");
        let proxy = ip("10.0.0.2");
        let stranger = ip("198.51.100.9");
        let cases: [AddressCase; 12] = [
            ("no headers", proxy, vec![], "10.0.0.2"),
            (
                "untrusted peer's header is ignored",
                stranger,
                vec![("x-forwarded-for", "203.0.113.7")],
                "198.51.100.9",
            ),
            (
                "one hop from a trusted proxy",
                proxy,
                vec![("x-forwarded-for", "203.0.113.7")],
                "203.0.113.7",
            ),
            (
                "a forged left-most hop is skipped",
                proxy,
                vec![("x-forwarded-for", "1.2.3.4, 203.0.113.7")],
                "203.0.113.7",
            ),
            (
                "trusted hops are skipped from the right",
                proxy,
                vec![("x-forwarded-for", "203.0.113.7, 10.9.9.9")],
                "203.0.113.7",
            ),
            (
                "several header lines are one list",
                proxy,
                vec![
                    ("x-forwarded-for", "203.0.113.7"),
                    ("x-forwarded-for", "10.9.9.9"),
                ],
                "203.0.113.7",
            ),
            (
                "every hop trusted: the left-most",
                proxy,
                vec![("x-forwarded-for", "10.1.1.1, 10.9.9.9")],
                "10.1.1.1",
            ),
            (
                "a hop with a port",
                proxy,
                vec![("x-forwarded-for", "203.0.113.7:5123")],
                "203.0.113.7",
            ),
            (
                "Forwarded wins over X-Forwarded-For",
                proxy,
                vec![
                    ("forwarded", "for=192.0.2.60;proto=https;by=10.0.0.2"),
                    ("x-forwarded-for", "203.0.113.7"),
                ],
                "192.0.2.60",
            ),
            (
                "Forwarded with a quoted IPv6 node and port",
                proxy,
                vec![(
                    "forwarded",
                    "for=\"[2001:db8:cafe::17]:4711\", For=10.3.3.3",
                )],
                "2001:db8:cafe::17",
            ),
            (
                "an obfuscated hop stops at the proxy that wrote it",
                proxy,
                vec![("forwarded", "for=203.0.113.7, for=unknown")],
                "10.0.0.2",
            ),
            (
                "an IPv4-mapped peer is its IPv4 address",
                ip("::ffff:10.0.0.2"),
                vec![("x-forwarded-for", "203.0.113.7")],
                "203.0.113.7",
            ),
        ];
        for (case, peer, pairs, expected) in cases {
            assert_eq!(
                client_address(peer, &headers(&pairs), &proxies),
                ip(expected),
                "{case}"
            );
        }
    }

    #[test]
    fn ipv6_clients_share_their_64_network() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("203.0.113.7")), ip("203.0.113.7"));
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(60)), 60);
    }
}
