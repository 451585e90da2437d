//! The audit log as administrators read it: a district administrator gets
//! the entries of their district only, through the page and REST, and a
//! city administrator gets every entry.

use app::domain::family::{self, ChildInput};
use app::domain::{accounts, import};
use app::geo::Crs;
use app::model::Role;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_places::{DISTRICTS, STREETS, provider};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::priority::{Person, person, send};

async fn admin(app: &TestApp, subject: &str, role: Role) -> Person {
    let admin = person(app, subject, None).await;
    accounts::grant_role(&app.db, subject, &role, None, Utc::now())
        .await
        .expect("role");
    admin
}

/// Returns `(action, target)` of every entry `who` reads through REST.
async fn rest_entries(app: &TestApp, who: &Person) -> Vec<(String, String)> {
    let response = send(app, who, Method::GET, "/api/v1/admin/audit", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let entries: Vec<Value> = response.json().await.expect("JSON");
    entries
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().expect("action").to_owned(),
                entry["target"].as_str().expect("target").to_owned(),
            )
        })
        .collect()
}

/// Returns the `target` of every entry `who` reads through REST.
async fn rest_targets(app: &TestApp, who: &Person) -> Vec<String> {
    rest_entries(app, who)
        .await
        .into_iter()
        .map(|(_, target)| target)
        .collect()
}

async fn audit_page(app: &TestApp, who: &Person) -> String {
    let page = app
        .client
        .get(app.url("/admin/audit"))
        .header("cookie", &who.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    // Without the empty markers Leptos leaves between a text and its tag.
    page.text().await.expect("body").replace("<!>", "")
}

async fn district_admins_read_their_district(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import::import_regions_csv(
        &app.db,
        DISTRICTS.as_bytes(),
        STREETS.as_bytes(),
        Crs::Gcj02,
        false,
        Utc::now(),
    )
    .await
    .expect("regions import");
    let city = admin(&app, "audit-city", Role::CityAdmin).await;
    let xuanwu = admin(
        &app,
        "audit-xuanwu",
        Role::DistrictAdmin {
            district_code: "320102".into(),
        },
    )
    .await;
    let gulou = admin(
        &app,
        "audit-gulou",
        Role::DistrictAdmin {
            district_code: "320106".into(),
        },
    )
    .await;
    let guardian = person(&app, "audit-guardian", None).await;

    // One place in each district, each created by its district's administrator.
    let mut places = Vec::new();
    for (who, district, street) in [
        (&xuanwu, "玄武区", "新街口街道"),
        (&gulou, "鼓楼区", "湖南路街道"),
    ] {
        let body = provider(
            &format!("{district}审计测试园"),
            district,
            street,
            40,
            false,
        );
        let created = send(&app, who, Method::POST, "/api/v1/admin/places", Some(body)).await;
        assert_eq!(created.status(), StatusCode::CREATED, "{district}");
        let place: Value = created.json().await.expect("JSON");
        places.push(place["id"].as_i64().expect("place id"));
    }
    let (xuanwu_place, gulou_place) = (places[0], places[1]);

    // A session at the Xuanwu place, so that a session entry is recorded.
    let starts = Utc::now() + Duration::days(3);
    let created = send(
        &app,
        &xuanwu,
        Method::POST,
        &format!("/api/v1/places/{xuanwu_place}/sessions"),
        Some(json!({
            "kind": "parent_child_activity",
            "title": "审计测试活动",
            "starts_at": starts,
            "ends_at": starts + Duration::hours(1),
            "capacity": 5,
            "min_age_months": 6,
            "max_age_months": 36,
        })),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let session: Value = created.json().await.expect("JSON");
    let session_id = session["id"].as_i64().expect("session id");

    // A family's own action concerns no district.
    let child = family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "审计宝宝".into(),
            birth_date: "2025-01-10".into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");

    let xuanwu_place_target = format!("place {xuanwu_place}");
    let gulou_place_target = format!("place {gulou_place}");
    let session_target = format!("care_session {session_id}");
    let child_target = format!("child {}", child.id);

    let seen = rest_targets(&app, &xuanwu).await;
    assert!(seen.contains(&xuanwu_place_target), "own place: {seen:?}");
    assert!(seen.contains(&session_target), "own session: {seen:?}");
    assert!(
        !seen.contains(&gulou_place_target),
        "other district: {seen:?}"
    );
    assert!(!seen.contains(&child_target), "no district: {seen:?}");

    let seen = rest_targets(&app, &gulou).await;
    assert!(seen.contains(&gulou_place_target), "own place: {seen:?}");
    assert!(
        !seen.contains(&xuanwu_place_target),
        "other district: {seen:?}"
    );
    assert!(!seen.contains(&session_target), "other district: {seen:?}");

    let seen = rest_targets(&app, &city).await;
    for target in [
        &xuanwu_place_target,
        &gulou_place_target,
        &session_target,
        &child_target,
    ] {
        assert!(seen.contains(target), "the city sees {target}: {seen:?}");
    }

    let rejected = send(&app, &guardian, Method::GET, "/api/v1/admin/audit", None).await;
    assert_eq!(rejected.status(), StatusCode::FORBIDDEN, "a family");
    let rejected = send(
        &app,
        &city,
        Method::GET,
        "/api/v1/admin/audit?limit=0",
        None,
    )
    .await;
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST, "limit 0");

    let cell = |target: &str| format!("<td>{target}</td>");
    let page = audit_page(&app, &xuanwu).await;
    assert!(
        page.contains(&cell(&xuanwu_place_target)),
        "page: own place"
    );
    assert!(page.contains(&cell(&session_target)), "page: own session");
    assert!(
        !page.contains(&cell(&gulou_place_target)),
        "page: other district"
    );
    assert!(!page.contains(&cell(&child_target)), "page: no district");
    assert!(
        page.contains("只能看到本区的记录"),
        "page: scope is explained"
    );

    let page = audit_page(&app, &city).await;
    assert!(
        page.contains(&cell(&gulou_place_target)),
        "city page: Gulou"
    );
    assert!(
        page.contains(&cell(&child_target)),
        "city page: family entry"
    );
    assert!(
        !page.contains("只能看到本区的记录"),
        "city page: no scope note"
    );

    // The city moves the Xuanwu place to Gulou: Gulou reads the change,
    // and Xuanwu reads that the place left.
    let moved = send(
        &app,
        &city,
        Method::PUT,
        &format!("/api/v1/admin/places/{xuanwu_place}"),
        Some(provider(
            "玄武区审计测试园",
            "鼓楼区",
            "湖南路街道",
            40,
            false,
        )),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let update = ("place.update".to_owned(), xuanwu_place_target.clone());
    let move_out = ("place.move_out".to_owned(), xuanwu_place_target.clone());
    let seen = rest_entries(&app, &gulou).await;
    assert!(seen.contains(&update), "the new district: {seen:?}");
    assert!(!seen.contains(&move_out), "no move-out in the new district");
    let seen = rest_entries(&app, &xuanwu).await;
    assert!(seen.contains(&move_out), "the old district: {seen:?}");
    assert!(!seen.contains(&update), "the old district: {seen:?}");
}
on_both_backends!(district_admins_read_their_district);
