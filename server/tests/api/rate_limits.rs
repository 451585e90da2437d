//! Rate limits across server processes and behind reverse proxies. The
//! window of a client address is a row in the database, so two servers on
//! one database allow the limit once. A trusted proxy's forwarded address
//! is a client of its own, and a forged header from anyone else changes
//! nothing.

use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// Posts a made-up refresh token to the app token endpoint, which is
/// rate-limited, with an `X-Forwarded-For` header when given one.
async fn token_request(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({ "grant_type": "refresh_token", "refresh_token": "made-up" }));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.send().await.expect("request is sent")
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds")
}

async fn two_servers_share_one_limit(backend: Backend) {
    let first = TestApp::spawn_with(backend, &[("NINGYU_SIGN_IN_PER_MINUTE", "4")]).await;
    let second = first.spawn_beside().await;

    // Four requests, two on each server: each server's own in-memory
    // limit of 4 is far from reached, so only a shared count refuses the
    // fifth.
    for (index, server) in [&first, &second, &first, &second].into_iter().enumerate() {
        let response = token_request(server, None).await;
        assert_ne!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "request {index} is within the limit"
        );
    }
    for (name, server) in [("first", &first), ("second", &second)] {
        let rejected = token_request(server, None).await;
        assert_eq!(
            rejected.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the {name} server counts the other's requests"
        );
        let wait = retry_after(&rejected);
        assert!((1..=60).contains(&wait), "retry after {wait}");
    }

    let stored = app::domain::rate_limits::count_request(
        &first.db,
        "sign_in 127.0.0.1",
        chrono::Duration::seconds(60),
        chrono::Utc::now(),
    )
    .await
    .expect("window");
    assert_eq!(stored.hits, 7, "one row counts both servers' requests");
}
on_both_backends!(two_servers_share_one_limit);

async fn forwarded_addresses_are_limited_apart(backend: Backend) {
    let behind_proxy = TestApp::spawn_with(
        backend,
        &[
            ("NINGYU_SIGN_IN_PER_MINUTE", "2"),
            ("NINGYU_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ],
    )
    .await;

    for _ in 0..2 {
        let response = token_request(&behind_proxy, Some("203.0.113.7")).await;
        assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let rejected = token_request(&behind_proxy, Some("203.0.113.7")).await;
    assert_eq!(
        rejected.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "third request"
    );

    // The client forges a left-most hop; the right-most untrusted one counts.
    let forged = token_request(&behind_proxy, Some("198.51.100.1, 203.0.113.7")).await;
    assert_eq!(
        forged.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged left-most hop changes nothing"
    );

    // Another client behind the same proxy has a limit of its own, also
    // through a second trusted proxy hop.
    let other = token_request(&behind_proxy, Some("203.0.113.8, 10.1.2.3")).await;
    assert_ne!(
        other.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another client is not limited by the first"
    );
    // The proxy's own address was never counted.
    let proxy_itself = token_request(&behind_proxy, None).await;
    assert_ne!(proxy_itself.status(), StatusCode::TOO_MANY_REQUESTS);

    // A server that trusts no proxy on loopback ignores the header: every
    // request counts for the peer, whatever address it claims.
    let direct = TestApp::spawn_with(
        backend,
        &[
            ("NINGYU_SIGN_IN_PER_MINUTE", "2"),
            ("NINGYU_TRUSTED_PROXIES", "10.0.0.0/8"),
        ],
    )
    .await;
    for claimed in ["203.0.113.20", "203.0.113.21"] {
        let response = token_request(&direct, Some(claimed)).await;
        assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let rejected = token_request(&direct, Some("203.0.113.22")).await;
    assert_eq!(
        rejected.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header from an untrusted peer is ignored"
    );
}
on_both_backends!(forwarded_addresses_are_limited_apart);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_fails_open_while_database_is_down() {
    let app = TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("NINGYU_SIGN_IN_PER_MINUTE", "3"),
            ("NINGYU_DB_ACQUIRE_TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    let proxy = app
        .db_proxy
        .as_ref()
        .expect("postgres tests run behind a proxy");
    proxy.cut().await;
    // The window cannot be counted, so the request goes on to its handler,
    // which cannot read the database either.
    let response = token_request(&app, None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    proxy.restore();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_windows_are_purged() {
    use app::domain::rate_limits::{count_request, purge_ended};
    use chrono::Duration;

    let app = TestApp::spawn(Backend::Sqlite).await;
    let minute = Duration::seconds(60);
    // Every instant is now or later, so the server's own purge, which
    // deletes windows that started over a minute before the real time,
    // leaves these rows alone.
    let start = chrono::Utc::now();
    let at = |seconds: i64| start + Duration::seconds(seconds);

    let first = count_request(&app.db, "sign_in 192.0.2.1", minute, at(0))
        .await
        .expect("count");
    assert_eq!(first.hits, 1);
    assert_eq!(
        first.window_ends_at.timestamp_millis(),
        at(60).timestamp_millis()
    );
    let again = count_request(&app.db, "sign_in 192.0.2.1", minute, at(10))
        .await
        .expect("count");
    assert_eq!(again.hits, 2, "the same window");

    let other = count_request(&app.db, "sign_in 192.0.2.3", minute, at(0))
        .await
        .expect("count");
    assert_eq!(other.hits, 1, "another key");
    let restarted = count_request(&app.db, "sign_in 192.0.2.3", minute, at(61))
        .await
        .expect("count");
    assert_eq!(
        restarted.hits, 1,
        "an ended window restarts at the next request"
    );
    assert_eq!(
        restarted.window_ends_at.timestamp_millis(),
        at(121).timestamp_millis()
    );
    let fresh = count_request(&app.db, "sign_in 192.0.2.2", minute, at(70))
        .await
        .expect("count");
    assert_eq!(fresh.hits, 1);

    // Only the window of 192.0.2.1 started before at(30).
    let deleted = purge_ended(&app.db, at(30)).await.expect("purge");
    assert_eq!(deleted, 1, "only the ended window goes");
    let after_purge = count_request(&app.db, "sign_in 192.0.2.1", minute, at(70))
        .await
        .expect("count");
    assert_eq!(after_purge.hits, 1, "a new window starts");
    let kept = count_request(&app.db, "sign_in 192.0.2.2", minute, at(71))
        .await
        .expect("count");
    assert_eq!(kept.hits, 2, "the live window is kept");
}
