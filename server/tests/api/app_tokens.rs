//! Sign-in for the mobile apps: the hand-off from a web sign-in, access and
//! refresh tokens, and the REST doors to the family that they open.

use app::domain::app_tokens;
use app::domain::secrets::sha256_base64url;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, location};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789";

/// Signs in as `subject` in a browser and hands over to the app; returns
/// the app's tokens.
async fn app_sign_in(app: &TestApp, subject: &str) -> Value {
    let browser = Browser::new();
    let callback = browser.sign_in(app, subject, "/").await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    let code = handoff_code(app, &browser, "state-1").await;
    let response = token(
        app,
        json!({
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": VERIFIER,
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("token JSON")
}

async fn handoff_code(app: &TestApp, browser: &Browser, state: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("redirect_uri", "ningyu://auth"),
        ("code_challenge", &sha256_base64url(VERIFIER)),
        ("state", state),
    ])
    .expect("query");
    let response = browser.get(&app.url(&format!("/auth/app?{query}"))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = url::Url::parse(&location(&response)).expect("app URL");
    assert_eq!(target.scheme(), "ningyu");
    let pairs: std::collections::HashMap<String, String> =
        target.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("state").map(String::as_str), Some(state));
    pairs.get("code").cloned().expect("code")
}

async fn token(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .json(&body)
        .send()
        .await
        .expect("token request")
}

async fn get_bearer(app: &TestApp, path: &str, access_token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request")
}

async fn app_signs_in_and_refreshes(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let tokens = app_sign_in(&app, "demo-parent").await;
    let access = tokens["access_token"].as_str().expect("access token");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);

    let me: Value = get_bearer(&app, "/api/v1/me", access)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["display_name"], "陈静");
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "no token, no person"
    );
    assert_eq!(
        get_bearer(&app, "/api/v1/me", "not.a.token").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The refresh token rotates; using an old one revokes the chain.
    let first = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refreshed = token(
        &app,
        json!({ "grant_type": "refresh_token", "refresh_token": first }),
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.expect("JSON");
    let second = refreshed["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(first, second);

    let reused = token(
        &app,
        json!({ "grant_type": "refresh_token", "refresh_token": first }),
    )
    .await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    let after_reuse = token(
        &app,
        json!({ "grant_type": "refresh_token", "refresh_token": second }),
    )
    .await;
    assert_eq!(
        after_reuse.status(),
        StatusCode::UNAUTHORIZED,
        "reuse of a rotated token revokes its chain"
    );
}
on_both_backends!(app_signs_in_and_refreshes);

#[tokio::test]
async fn handoff_codes_need_verifier_and_work_once() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = Browser::new();
    browser.sign_in(&app, "demo-parent", "/").await;

    let code = handoff_code(&app, &browser, "s").await;
    let wrong = token(&app, json!({
        "grant_type": "authorization_code", "code": code, "code_verifier": "wrong-verifier-0000000000000000000000000000",
    }))
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let after_wrong = token(
        &app,
        json!({
            "grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER,
        }),
    )
    .await;
    assert_eq!(
        after_wrong.status(),
        StatusCode::UNAUTHORIZED,
        "a code is spent by any attempt"
    );

    let code = handoff_code(&app, &browser, "s").await;
    let body =
        json!({ "grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER });
    assert_eq!(token(&app, body.clone()).await.status(), StatusCode::OK);
    assert_eq!(token(&app, body).await.status(), StatusCode::UNAUTHORIZED);

    // Only registered app addresses.
    let foreign = browser
        .get(&app.url(&format!(
            "/auth/app?redirect_uri=https%3A%2F%2Fother.example%2F&code_challenge={}",
            sha256_base64url(VERIFIER)
        )))
        .await;
    assert_eq!(foreign.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A browser that is not signed in goes through the portal first.
    let fresh = Browser::new();
    let response = fresh
        .get(&app.url(&format!(
            "/auth/app?redirect_uri=ningyu%3A%2F%2Fauth&code_challenge={}",
            sha256_base64url(VERIFIER)
        )))
        .await;
    let target = location(&response);
    assert!(target.contains("/authorize?"), "{target}");
}

#[tokio::test]
async fn revoked_refresh_tokens_stop_working() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let tokens = app_sign_in(&app, "demo-parent").await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let revoked = app
        .client
        .post(app.url("/api/v1/auth/revoke"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refreshed = token(
        &app,
        json!({ "grant_type": "refresh_token", "refresh_token": refresh }),
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
}

async fn families_are_isolated_over_rest(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let first = app_sign_in(&app, "demo-parent").await;
    let second = app_sign_in(&app, "demo-parent-aygul").await;
    let first_access = first["access_token"].as_str().expect("token");
    let second_access = second["access_token"].as_str().expect("token");

    let without_consent = app
        .client
        .post(app.url("/api/v1/family/children"))
        .bearer_auth(first_access)
        .json(&json!({ "display_name": "王小明", "birth_date": "2025-05-20", "consent": false }))
        .send()
        .await
        .expect("request");
    assert_eq!(without_consent.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = without_consent.json().await.expect("JSON");
    assert_eq!(error["field"], "consent");

    let created = app
        .client
        .post(app.url("/api/v1/family/children"))
        .bearer_auth(first_access)
        .json(&json!({ "display_name": "王小明", "birth_date": "2025-05-20", "care_notes": "蛋奶过敏", "consent": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), StatusCode::CREATED);
    let child: Value = created.json().await.expect("JSON");
    let path = format!("/api/v1/family/children/{}", child["id"]);

    assert_eq!(
        get_bearer(&app, &path, first_access).await.status(),
        StatusCode::OK
    );
    let other = get_bearer(&app, &path, second_access).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let missing = get_bearer(&app, "/api/v1/family/children/999999", second_access).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let other_body: Value = other.json().await.expect("JSON");
    let missing_body: Value = missing.json().await.expect("JSON");
    assert_eq!(
        other_body["code"], missing_body["code"],
        "same error for both"
    );

    let second_family: Value = get_bearer(&app, "/api/v1/family", second_access)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(second_family["children"], json!([]));
    let export = get_bearer(&app, "/api/v1/family/export", second_access)
        .await
        .text()
        .await
        .expect("export");
    assert!(!export.contains("王小明"));

    let deleted = app
        .client
        .delete(app.url("/api/v1/account"))
        .bearer_auth(first_access)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get_bearer(&app, "/api/v1/me", first_access).await.status(),
        StatusCode::UNAUTHORIZED,
        "a deleted account's token opens nothing"
    );
}
on_both_backends!(families_are_isolated_over_rest);

async fn signing_keys_rotate_weekly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let first = app_tokens::current_signing_key(db, now).await.expect("key");
    let same = app_tokens::current_signing_key(db, now + Duration::days(6))
        .await
        .expect("key");
    assert_eq!(first.kid, same.kid, "one key per week");

    let later = now + app_tokens::KEY_ROTATION + Duration::seconds(1);
    let second = app_tokens::current_signing_key(db, later)
        .await
        .expect("key");
    assert_ne!(first.kid, second.kid, "a new key after a week");
    let verifying: Vec<String> = app_tokens::verification_keys(db, later)
        .await
        .expect("keys")
        .into_iter()
        .map(|key| key.kid)
        .collect();
    assert!(verifying.contains(&first.kid), "the old key still verifies");
    assert!(verifying.contains(&second.kid));

    let much_later = now + app_tokens::KEY_RETENTION + Duration::seconds(2);
    let verifying: Vec<String> = app_tokens::verification_keys(db, much_later)
        .await
        .expect("keys")
        .into_iter()
        .map(|key| key.kid)
        .collect();
    assert!(
        !verifying.contains(&first.kid),
        "retired keys verify nothing"
    );
}
on_both_backends!(signing_keys_rotate_weekly);

async fn expired_sign_in_state_is_purged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let now = Utc::now();
    let account = app::domain::accounts::sign_in(
        db,
        &app::domain::accounts::PortalIdentity {
            subject: "purge".into(),
            display_name: "陈静".into(),
            mobile: None,
            real_name_verified: true,
        },
        now,
    )
    .await
    .expect("account");
    app::domain::sessions::start_login(db, "/", false, now)
        .await
        .expect("login");
    app::domain::sessions::create_session(db, account, Duration::hours(1), now)
        .await
        .expect("session");
    app_tokens::create_handoff(db, account, &sha256_base64url(VERIFIER), now)
        .await
        .expect("handoff");
    app_tokens::issue_refresh(db, account, None, now)
        .await
        .expect("refresh");

    let soon = now + Duration::minutes(1);
    assert_eq!(
        app::domain::sessions::purge_expired(db, soon)
            .await
            .expect("purge"),
        0,
        "nothing has expired after a minute"
    );
    assert_eq!(
        app_tokens::purge_expired(db, now + Duration::minutes(3))
            .await
            .expect("purge"),
        1,
        "the hand-off code"
    );

    let later = now + app_tokens::REFRESH_TTL + Duration::seconds(1);
    assert_eq!(
        app::domain::sessions::purge_expired(db, later)
            .await
            .expect("purge"),
        2,
        "the sign-in request and the session"
    );
    assert_eq!(
        app_tokens::purge_expired(db, later).await.expect("purge"),
        1,
        "the refresh token"
    );
}
on_both_backends!(expired_sign_in_state_is_purged);
