//! Signing in through the stand-in portal over real HTTP: the callback
//! checks, return paths, sessions, the cross-site check and rate limits.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use server::dev_portal::{PortalHandle, Tamper};

use crate::browser::{Browser, location, sets_session_cookie};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

fn portal(app: &TestApp) -> &PortalHandle {
    &app.portal.as_ref().expect("the stand-in portal runs").0
}

/// Asserts that a callback failed with `code` and set no session.
fn assert_failed(response: &reqwest::Response, code: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(response);
    assert!(
        target.starts_with("/sign-in?") && target.contains(&format!("error={code}")),
        "expected failure {code}, got {target}"
    );
    assert!(!sets_session_cookie(response), "no session after {code}");
}

async fn sign_in_sets_session_cookie(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let browser = Browser::new();

    let response = browser.sign_in(&app, "demo-parent", "/bookings?x=1").await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/bookings?x=1");
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("ningyu_session="))
        .expect("session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );

    let account = browser
        .get(&app.url("/account"))
        .await
        .text()
        .await
        .expect("page");
    assert!(account.contains("退出登录"), "account page shows sign-out");
    let viewer: serde_json::Value = browser
        .client
        .post(app.url("/sfn/current_viewer"))
        .header("origin", app.url(""))
        .send()
        .await
        .expect("server function")
        .json()
        .await
        .expect("JSON");
    assert!(viewer["account_id"].is_i64(), "signed in: {viewer}");
}
on_both_backends!(sign_in_sets_session_cookie);

#[tokio::test]
async fn callback_rejects_missing_and_foreign_state() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();

    let no_state = browser.get(&app.url("/auth/callback?code=abc")).await;
    assert_failed(&no_state, "state_missing");

    let authorize = browser.start(&app, "/").await;
    let callback = browser.choose_citizen(&authorize, "demo-parent").await;
    let wrong_state = replace_param(&callback, "state", "not-the-state");
    assert_failed(&browser.get(&wrong_state).await, "state_unknown");

    // The right state from another browser, which lacks the binding cookie.
    let other = Browser::new();
    assert_failed(&other.get(&callback).await, "state_other_browser");
    // That attempt used the state up, so the right browser is rejected too.
    assert_failed(&browser.get(&callback).await, "state_used");
}

#[tokio::test]
async fn replayed_codes_are_rejected() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();
    let authorize = browser.start(&app, "/").await;
    let callback = browser.choose_citizen(&authorize, "demo-parent").await;
    let first = browser.get(&callback).await;
    assert!(sets_session_cookie(&first));

    // The same callback again: its state is spent.
    assert_failed(&browser.get(&callback).await, "state_used");

    // The spent code with a fresh state: the portal rejects the code, and
    // it would reject it anyway because the fresh PKCE verifier differs.
    let fresh = browser.start(&app, "/").await;
    let fresh_state = query_param(&fresh, "state");
    let code = query_param(&callback, "code");
    let replay = format!(
        "{}?{}",
        app.url("/auth/callback"),
        serde_urlencoded::to_string([("code", code), ("state", fresh_state)]).expect("query")
    );
    assert_failed(&browser.get(&replay).await, "code_rejected");
}

#[tokio::test]
async fn tampered_id_tokens_are_rejected() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let cases = [
        (Tamper::OmitNonce, "nonce_missing"),
        (Tamper::WrongNonce, "nonce_mismatch"),
        (Tamper::NotBeforeInFuture { seconds: 300 }, "not_yet_valid"),
        (Tamper::ExpiredSecondsAgo { seconds: 120 }, "expired"),
        (Tamper::IssuedInFuture { seconds: 300 }, "issued_in_future"),
        (Tamper::WrongAudience, "wrong_audience"),
        (Tamper::WrongIssuer, "wrong_issuer"),
        (Tamper::BadSignature, "bad_signature"),
    ];
    for (tamper, code) in cases {
        let browser = Browser::new();
        let authorize = browser.start(&app, "/").await;
        let callback = browser.choose_citizen(&authorize, "demo-parent").await;
        portal(&app).tamper_next_id_token(tamper);
        let response = browser.get(&callback).await;
        assert_failed(&response, code);
    }
}

#[tokio::test]
async fn clock_skew_within_leeway_accepted() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    for tamper in [
        Tamper::ExpiredSecondsAgo { seconds: 10 },
        Tamper::NotBeforeInFuture { seconds: 10 },
        Tamper::IssuedInFuture { seconds: 10 },
    ] {
        let browser = Browser::new();
        let authorize = browser.start(&app, "/").await;
        let callback = browser.choose_citizen(&authorize, "demo-parent").await;
        portal(&app).tamper_next_id_token(tamper);
        let response = browser.get(&callback).await;
        assert!(sets_session_cookie(&response), "{tamper:?} is within 30 s");
    }
}

#[tokio::test]
async fn key_rotation_refetches_jwks_once() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let handle = portal(&app).clone();

    let first = Browser::new().sign_in(&app, "demo-parent", "/").await;
    assert!(sets_session_cookie(&first));
    let fetched = handle.jwks_requests();
    assert_eq!(fetched, 1, "the first sign-in fetches the key set once");

    let second = Browser::new().sign_in(&app, "demo-parent", "/").await;
    assert!(sets_session_cookie(&second));
    assert_eq!(handle.jwks_requests(), fetched, "known key: no fetch");

    handle.rotate_key();
    let third = Browser::new().sign_in(&app, "demo-parent", "/").await;
    assert!(
        sets_session_cookie(&third),
        "new kid accepted after a refetch"
    );
    assert_eq!(handle.jwks_requests(), fetched + 1, "exactly one refetch");
}

#[tokio::test]
async fn offsite_return_paths_go_home() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let cases = [
        ("//other.example", "/"),
        ("/\\other.example", "/"),
        ("https://other.example", "/"),
        ("%2F%2Fother.example", "/"),
        ("/%2F/other.example", "/"),
        ("/%5Cother.example", "/"),
        ("https%3A%2F%2Fother.example", "/"),
        ("/bookings?x=1", "/bookings?x=1"),
    ];
    for (return_to, expected) in cases {
        let response = Browser::new().sign_in(&app, "demo-parent", return_to).await;
        assert!(sets_session_cookie(&response), "{return_to}");
        assert_eq!(location(&response), expected, "return_to {return_to:?}");
    }
}

#[tokio::test]
async fn session_rotates_at_sign_in() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();
    let first = session_value(&browser.sign_in(&app, "demo-parent", "/").await);
    let second = session_value(&browser.sign_in(&app, "demo-parent", "/").await);
    assert_ne!(first, second, "a new session id at every sign-in");

    let old = reqwest::Client::new()
        .post(app.url("/sfn/current_viewer"))
        .header("cookie", format!("ningyu_session={first}"))
        .header("origin", app.url(""))
        .send()
        .await
        .expect("request")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert!(old.is_null(), "the previous session ended: {old}");
}

#[tokio::test]
async fn sign_out_revokes_session() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();
    let token = session_value(&browser.sign_in(&app, "demo-parent", "/").await);

    let response = browser
        .client
        .post(app.url("/auth/logout"))
        .header("origin", app.url(""))
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let issuer = &app.portal.as_ref().expect("portal").1;
    let target = location(&response);
    assert!(
        target.starts_with(&format!("{issuer}/end-session?")),
        "{target}"
    );
    assert!(target.contains("post_logout_redirect_uri="), "{target}");

    let reused = reqwest::Client::new()
        .post(app.url("/sfn/current_viewer"))
        .header("cookie", format!("ningyu_session={token}"))
        .header("origin", app.url(""))
        .send()
        .await
        .expect("request")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert!(
        reused.is_null(),
        "revoked session is not accepted: {reused}"
    );
}

#[tokio::test]
async fn cross_site_posts_are_rejected() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();
    let token = session_value(&browser.sign_in(&app, "demo-parent", "/").await);
    let cookie = format!("ningyu_session={token}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let foreign = client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", "http://other.example")
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    let foreign_referer = client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("referer", "http://other.example/page")
        .send()
        .await
        .expect("request");
    assert_eq!(foreign_referer.status(), StatusCode::FORBIDDEN);

    let anonymous_origin = client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(
        anonymous_origin.status(),
        StatusCode::FORBIDDEN,
        "a session cookie without Origin or Referer"
    );

    let foreign_api = client
        .post(app.url("/api/v1/places"))
        .header("origin", "http://other.example")
        .send()
        .await
        .expect("request");
    assert_eq!(foreign_api.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = foreign_api.json().await.expect("JSON error");
    assert_eq!(body["code"], "forbidden");

    // Still signed in: none of the rejected requests reached the handler.
    let viewer = client
        .post(app.url("/sfn/current_viewer"))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .send()
        .await
        .expect("request")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert!(viewer["account_id"].is_i64(), "{viewer}");
}

#[tokio::test]
async fn silent_sign_in_from_the_portal_app() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();

    // No portal session yet: prompt=none fails and the normal flow follows.
    let entry = browser.get(&app.url("/auth/portal?to=/places/1")).await;
    let silent_authorize = location(&entry);
    assert_eq!(query_param(&silent_authorize, "prompt"), "none");
    let login_required = browser.get(&silent_authorize).await;
    let callback = location(&login_required);
    assert_eq!(query_param(&callback, "error"), "login_required");
    let fallback = browser.get(&callback).await;
    let normal_authorize = location(&fallback);
    assert!(
        normal_authorize.contains("/authorize?"),
        "{normal_authorize}"
    );
    assert!(
        !normal_authorize.contains("prompt=none"),
        "{normal_authorize}"
    );
    let callback = browser
        .choose_citizen(&normal_authorize, "demo-parent")
        .await;
    let signed_in = browser.get(&callback).await;
    assert_eq!(location(&signed_in), "/places/1");

    // A browser with a portal session but none at Ningyu: no second prompt.
    let portal_cookie_only = Browser::new();
    let authorize = portal_cookie_only.start(&app, "/").await;
    let callback = portal_cookie_only
        .choose_citizen(&authorize, "demo-grandparent")
        .await;
    drop(callback);
    let entry = portal_cookie_only
        .get(&app.url("/auth/portal?to=/places/2"))
        .await;
    let silent_authorize = location(&entry);
    let granted = portal_cookie_only.get(&silent_authorize).await;
    let callback = location(&granted);
    assert!(!callback.contains("error="), "{callback}");
    let response = portal_cookie_only.get(&callback).await;
    assert!(sets_session_cookie(&response));
    assert_eq!(location(&response), "/places/2");

    // Signed in: the entry goes straight to the target.
    let direct = portal_cookie_only
        .get(&app.url("/auth/portal?to=/places/3"))
        .await;
    assert_eq!(location(&direct), "/places/3");
}

#[tokio::test]
async fn sign_in_requests_are_rate_limited() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("NINGYU_DEV_PORTAL", "on"),
            ("NINGYU_DEV_PORTAL_LISTEN", "127.0.0.1:0"),
            ("NINGYU_SIGN_IN_PER_MINUTE", "3"),
        ],
    )
    .await;
    let browser = Browser::new();
    for _ in 0..3 {
        let response = browser.get(&app.url("/auth/login")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let limited = browser.get(&app.url("/auth/login")).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "retry after {retry_after}");
    let text = limited.text().await.expect("body");
    assert!(text.contains("操作过于频繁"), "translated: {text}");

    // Pages are not limited.
    assert_eq!(browser.get(&app.url("/")).await.status(), StatusCode::OK);

    // Invitation codes are limited too, per address.
    let guesses = browser
        .call(&app, "accept_invitation", &[("code", "AAAAAAAAAA")])
        .await;
    assert_eq!(guesses.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(guesses.headers().contains_key("retry-after"));

    // The app token endpoint too, with the REST API's JSON error.
    let token = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({ "grant_type": "refresh_token", "refresh_token": "x" }))
        .send()
        .await
        .expect("request");
    assert_eq!(token.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = token.json().await.expect("JSON error body");
    assert_eq!(body["code"], "rate_limited");
    assert!(
        body["retry_after"]
            .as_u64()
            .is_some_and(|seconds| seconds >= 1)
    );
}

#[tokio::test]
async fn sign_in_off_without_portal() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/auth/login?return_to=/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert!(
        target.starts_with("/sign-in?error=not_configured"),
        "{target}"
    );
    let page = app.get(&target).await.text().await.expect("page");
    assert!(page.contains("登录功能暂未开通"), "translated message");
}

fn session_value(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("ningyu_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie")
        .to_owned()
}

fn query_param(url: &str, name: &str) -> String {
    let url = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://localhost{url}")))
        .expect("URL");
    let pairs: HashMap<String, String> = url.query_pairs().into_owned().collect();
    pairs.get(name).cloned().unwrap_or_default()
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("URL");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .map(|(key, old)| {
            if key == name {
                (key, value.to_owned())
            } else {
                (key, old)
            }
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}
