//! `/api/v1/places` and the OpenAPI document.

use std::time::Duration;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

async fn places_are_listed_by_name_with_paging(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let first: serde_json::Value = app
        .get("/api/v1/places?limit=2")
        .await
        .json()
        .await
        .expect("json");
    let second: serde_json::Value = app
        .get("/api/v1/places?limit=2&offset=2")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(first["total"], 4);
    assert_eq!(first["limit"], 2);
    let names: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().expect("items").iter())
        .map(|place| place["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names.len(), 4, "two pages of two");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by name");
}
on_both_backends!(places_are_listed_by_name_with_paging);

async fn first_page_cache_expires(backend: Backend) {
    use app::domain::places::FirstPageCache;
    use app::entity::place;
    use sea_orm::{ActiveModelTrait, Set};

    let app = TestApp::spawn(backend).await;
    let kept = FirstPageCache::new(Duration::from_secs(3600));
    let fresh = FirstPageCache::new(Duration::ZERO);
    let before = kept.get(&app.db).await.expect("first read").total;
    assert_eq!(fresh.get(&app.db).await.expect("read").total, before);

    let now = chrono::Utc::now();
    place::ActiveModel {
        kind: Set("community_room".into()),
        name: Set("缓存测试亲子室".into()),
        address: Set("南京市测试路2号".into()),
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

    assert_eq!(
        kept.get(&app.db).await.expect("cached read").total,
        before,
        "within the interval the copy is used"
    );
    assert_eq!(
        fresh.get(&app.db).await.expect("read").total,
        before + 1,
        "after the interval the list is read again"
    );
}
on_both_backends!(first_page_cache_expires);

async fn place_detail_has_sessions_in_utc(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let list: serde_json::Value = app.get("/api/v1/places").await.json().await.expect("json");
    let id = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|place| place["kind"] == "community_room")
        .expect("community room")["id"]
        .clone();

    let detail: serde_json::Value = app
        .get(&format!("/api/v1/places/{id}"))
        .await
        .json()
        .await
        .expect("json");

    let sessions = detail["sessions"].as_array().expect("sessions");
    assert!(!sessions.is_empty(), "demo room has sessions");
    let starts_at = sessions[0]["starts_at"].as_str().expect("starts_at");
    assert!(starts_at.ends_with('Z'), "instant in UTC: {starts_at}");
    assert!(sessions[0]["places_left"].as_u64() <= sessions[0]["capacity"].as_u64());
}
on_both_backends!(place_detail_has_sessions_in_utc);

#[tokio::test]
async fn openapi_document_lists_place_endpoints() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");

    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert!(doc["paths"]["/api/v1/places"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/places/{id}"]["get"].is_object());
}

#[tokio::test]
async fn api_docs_viewer_is_self_hosted() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let html = app.get("/api/docs").await.text().await.expect("body");

    assert!(html.contains(r#"src="/vendor/swagger-ui/swagger-ui-bundle.js""#));
    assert!(!html.contains("://"), "no external URL in the viewer page");
}
