//! Server-rendered pages, read as a browser without JavaScript would.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

async fn home_page_is_chinese_by_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.get("/").await;

    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains(r#"lang="zh-CN""#), "html lang is zh-CN");
    assert!(html.contains("家门口的托育服务"), "Chinese heading");
    assert!(
        html.contains("【演示】湖南路街道社区亲子室"),
        "demo place listed"
    );
    assert!(html.contains("演示数据"), "demo data is marked");
}
on_both_backends!(home_page_is_chinese_by_default);

#[tokio::test]
async fn signed_out_home_page_kept_briefly() {
    use app::entity::place;
    use sea_orm::{ActiveModelTrait, Set};

    let app = TestApp::spawn(Backend::Sqlite).await;
    let first = app.get("/").await;
    let first_id = first.headers()["x-request-id"].clone();
    assert!(
        first
            .text()
            .await
            .expect("body")
            .contains("家门口的托育服务")
    );

    let now = chrono::Utc::now();
    place::ActiveModel {
        kind: Set("community_room".into()),
        name: Set("刚刚新增的亲子室".into()),
        address: Set("南京市测试路3号".into()),
        latitude: Set(32.05),
        longitude: Set(118.78),
        source_crs: Set("wgs84".into()),
        source_latitude: Set(32.05),
        source_longitude: Set(118.78),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("place is inserted");

    let copy = app.get("/").await;
    assert_ne!(
        copy.headers()["x-request-id"],
        first_id,
        "each answer has its own request id"
    );
    assert!(
        !copy
            .text()
            .await
            .expect("body")
            .contains("刚刚新增的亲子室"),
        "within the second the rendered copy is served"
    );
    let longest = server::page_cache::PAGE_TTL.max(app::domain::places::FIRST_PAGE_TTL);
    tokio::time::sleep(longest + std::time::Duration::from_millis(100)).await;
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .expect("body")
            .contains("刚刚新增的亲子室"),
        "after the second the page is rendered again"
    );
}

#[tokio::test]
async fn hydration_script_loads_the_built_wasm() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let html = app.get("/").await.text().await.expect("body");

    // cargo-leptos writes pkg/ningyu.wasm; a server compiled without
    // LEPTOS_OUTPUT_NAME=ningyu would ask for ningyu_bg.wasm instead.
    assert!(
        html.contains(r#"href="/pkg/ningyu.wasm""#),
        "preloads the WASM"
    );
    assert!(!html.contains("ningyu_bg"), "no _bg suffix");
    assert!(
        html.contains(r#"href="/pkg/ningyu.css""#),
        "links the stylesheet"
    );
}

async fn home_page_follows_accept_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let html = app
        .get_with("/", ("accept-language", "en-GB,en;q=0.9"))
        .await
        .text()
        .await
        .expect("body");

    assert!(html.contains(r#"lang="en""#), "html lang is en");
    assert!(html.contains("Childcare close to home"), "English heading");
}
on_both_backends!(home_page_follows_accept_language);

async fn place_page_lists_upcoming_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let list: serde_json::Value = app.get("/api/v1/places").await.json().await.expect("json");
    let room = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|place| place["kind"] == "community_room")
        .expect("a demo community room");

    let response = app.get(&format!("/places/{}", room["id"])).await;

    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(
        html.contains(room["name"].as_str().expect("name")),
        "place name"
    );
    assert!(html.contains("计时制托育"), "hourly care session listed");
    assert!(html.contains("月龄"), "age range shown");
}
on_both_backends!(place_page_lists_upcoming_sessions);

async fn unknown_place_page_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for path in ["/places/999999", "/places/not-a-number"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.expect("body");
        assert!(
            html.contains("没有找到您要的内容"),
            "{path} says not found in Chinese"
        );
    }
}
on_both_backends!(unknown_place_page_is_404);

async fn unknown_path_renders_not_found_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    let html = response.text().await.expect("body");
    assert!(html.contains("页面不存在"), "not-found page in Chinese");
}
on_both_backends!(unknown_path_renders_not_found_page);

async fn server_function_returns_places(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .client
        .post(app.url("/sfn/list_places"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request is sent");

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["total"], 4, "four demo places");
}
on_both_backends!(server_function_returns_places);

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert_eq!(id.len(), 36, "a UUID");
}

async fn readiness_reflects_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "ready");
}
on_both_backends!(readiness_reflects_database);
