//! With the database unreachable, pages and API return 503 in Chinese, and
//! the server recovers by itself when the database returns.

use std::time::Duration;

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_gives_503_and_recovers() {
    // A short wait for connections, so the outage shows within a second.
    let app = TestApp::spawn_with(
        Backend::Postgres,
        &[("NINGYU_DB_ACQUIRE_TIMEOUT_MS", "1000")],
    )
    .await;
    let proxy = app
        .db_proxy
        .as_ref()
        .expect("postgres tests run behind a proxy");
    assert_eq!(
        app.get("/api/v1/places").await.status(),
        200,
        "healthy before the outage"
    );

    let account = app::domain::accounts::sign_in(
        &app.db,
        &app::domain::accounts::PortalIdentity {
            subject: "outage-test".into(),
            display_name: "陈静".into(),
            mobile: None,
            real_name_verified: true,
        },
        chrono::Utc::now(),
    )
    .await
    .expect("account");
    let session = app::domain::sessions::create_session(
        &app.db,
        account,
        chrono::Duration::hours(1),
        chrono::Utc::now(),
    )
    .await
    .expect("session");

    proxy.cut().await;

    // A signed-in person is never shown the signed-out page by mistake.
    let signed_in = app
        .get_with(
            "/settings",
            ("cookie", &format!("ningyu_session={session}")),
        )
        .await;
    assert_eq!(signed_in.status(), 503, "session cannot be checked");
    let asset = app
        .get_with(
            "/favicon.svg",
            ("cookie", &format!("ningyu_session={session}")),
        )
        .await;
    assert_eq!(asset.status(), 200, "static files need no session check");

    let api = app.get("/api/v1/places").await;
    assert_eq!(api.status(), 503, "API during the outage");
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["code"], "unavailable");
    assert_eq!(body["message"], "服务暂时不可用，请稍后再试。");

    let page = app.get("/").await;
    assert_eq!(page.status(), 503, "home page during the outage");
    assert!(page.text().await.expect("body").contains("服务暂时不可用"));

    assert_eq!(
        app.get("/readyz").await.status(),
        503,
        "not ready during the outage"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "alive during the outage"
    );

    proxy.restore();

    // The pool reconnects on demand; allow a few attempts while it does.
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/api/v1/places").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "API recovers after the outage");
    assert_eq!(
        app.get("/").await.status(),
        200,
        "pages recover after the outage"
    );
}
