//! Priority groups over HTTP: only city administrators define them and put
//! children in them, every read and change is audited, the guardian is
//! shown the group, and withdrawing consent takes the child out.

use app::domain::accounts::{self, PortalIdentity};
use app::domain::booking::BookingRules;
use app::domain::family::{self, ChildInput};
use app::domain::sessions;
use app::model::Role;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

pub(crate) struct Person {
    pub(crate) account: i64,
    pub(crate) cookie: String,
}

pub(crate) async fn person(app: &TestApp, subject: &str, mobile: Option<&str>) -> Person {
    let account = accounts::sign_in(
        &app.db,
        &PortalIdentity {
            subject: subject.into(),
            display_name: format!("用户{subject}"),
            mobile: mobile.map(str::to_owned),
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account");
    let token = sessions::create_session(&app.db, account, Duration::hours(2), Utc::now())
        .await
        .expect("web session");
    Person {
        account,
        cookie: format!("ningyu_session={token}"),
    }
}

pub(crate) async fn send(
    app: &TestApp,
    who: &Person,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request is sent")
}

pub(crate) async fn audit_count(app: &TestApp, action: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "n").expect("count")
}

async fn priority_groups_admin_rules(backend: Backend) {
    use reqwest::Method;

    let app = TestApp::spawn(backend).await;
    let admin = person(&app, "city-admin", None).await;
    accounts::grant_role(&app.db, "city-admin", &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let district = person(&app, "district-admin", None).await;
    accounts::grant_role(
        &app.db,
        "district-admin",
        &Role::DistrictAdmin {
            district_code: "320102".into(),
        },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let guardian = person(&app, "guardian", Some("13912345678")).await;
    let child = family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "阿依古丽·买买提".into(),
            birth_date: "2025-03-01".into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");

    let new_group = json!({
        "code": "left_behind",
        "name_zh": "留守儿童",
        "name_en": "Left-behind children",
        "rank": 1,
    });
    for who in [&district, &guardian] {
        let refused = send(
            &app,
            who,
            Method::POST,
            "/api/v1/admin/priority-groups",
            Some(new_group.clone()),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let listing = send(
            &app,
            who,
            Method::GET,
            "/api/v1/admin/priority-groups",
            None,
        )
        .await;
        assert_eq!(listing.status(), StatusCode::FORBIDDEN);
    }
    let created = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/priority-groups",
        Some(new_group.clone()),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let group = created.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("group id");
    let again = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/priority-groups",
        Some(new_group),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "code is taken");
    let bad_rank = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/priority-groups",
        Some(json!({ "code": "x", "name_zh": "甲", "name_en": "x", "rank": 10 })),
    )
    .await;
    assert_eq!(bad_rank.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let members = format!("/api/v1/admin/priority-groups/{group}/members");
    let unknown = send(
        &app,
        &admin,
        Method::POST,
        &members,
        Some(json!({ "guardian_mobile": "13912345678", "child_name": "别的孩子" })),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "no such child");
    let bad_mobile = send(
        &app,
        &admin,
        Method::POST,
        &members,
        Some(json!({ "guardian_mobile": "12345", "child_name": "阿依古丽·买买提" })),
    )
    .await;
    assert_eq!(bad_mobile.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 0..2 {
        // The name as typed with a look-alike dot, the number with +86.
        let granted = send(
            &app,
            &admin,
            Method::POST,
            &members,
            Some(
                json!({ "guardian_mobile": "+86 139-1234-5678", "child_name": "阿依古丽•买买提" }),
            ),
        )
        .await;
        assert_eq!(
            granted.status(),
            StatusCode::CREATED,
            "granting twice is fine"
        );
    }
    assert_eq!(audit_count(&app, "priority_group.grant").await, 2);

    let listed: Value = send(&app, &admin, Method::GET, &members, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["child_id"], child.id);
    assert_eq!(audit_count(&app, "priority_group.members_read").await, 1);
    let groups: Value = send(
        &app,
        &admin,
        Method::GET,
        "/api/v1/admin/priority-groups",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(groups[0]["members"], 1);

    // The guardian is shown the group on the child and in the export.
    let family: Value = send(&app, &guardian, Method::GET, "/api/v1/family", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        family["children"][0]["priority_groups"][0]["zh"],
        "留守儿童"
    );
    let export: Value = send(&app, &guardian, Method::GET, "/api/v1/family/export", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        export["children"][0]["priority_groups"][0]["name_zh"],
        "留守儿童"
    );

    let member = format!("{members}/{}", child.id);
    assert_eq!(
        send(&app, &district, Method::DELETE, &member, None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, &admin, Method::DELETE, &member, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&app, &admin, Method::DELETE, &member, None)
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "already out"
    );
    assert_eq!(audit_count(&app, "priority_group.revoke").await, 1);

    // Withdrawing consent deletes the child and its membership with it.
    let granted = send(
        &app,
        &admin,
        Method::POST,
        &members,
        Some(json!({ "guardian_mobile": "13912345678", "child_name": "阿依古丽·买买提" })),
    )
    .await;
    assert_eq!(granted.status(), StatusCode::CREATED);
    family::withdraw_consent(
        &app.db,
        &BookingRules::default(),
        guardian.account,
        child.id,
        Utc::now(),
    )
    .await
    .expect("consent withdrawn");
    let listed: Value = send(&app, &admin, Method::GET, &members, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(0));
}
on_both_backends!(priority_groups_admin_rules);

async fn priority_draw_needs_fair_release(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = person(&app, "city-admin", None).await;
    accounts::grant_role(&app.db, "city-admin", &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let place: Value = app
        .get("/api/v1/places?limit=1")
        .await
        .json()
        .await
        .expect("JSON");
    let place = place["items"][0]["id"].as_i64().expect("a demo place");
    let starts = Utc::now() + Duration::days(3);
    let body = |fair: bool| {
        json!({
            "kind": "parent_child_activity",
            "title": "亲子阅读",
            "starts_at": starts,
            "ends_at": starts + Duration::hours(1),
            "capacity": 10,
            "min_age_months": 6,
            "max_age_months": 36,
            "booking_opens_at": Utc::now() + Duration::hours(1),
            "release_mode": if fair { "fair_release" } else { "first_come" },
            "draw_by_priority": true,
        })
    };
    let path = format!("/api/v1/places/{place}/sessions");
    let refused = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &path,
        Some(body(false)),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let created = send(&app, &admin, reqwest::Method::POST, &path, Some(body(true))).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let session: Value = created.json().await.expect("JSON");
    assert_eq!(session["draw_by_priority"], true);
    assert_eq!(session["release_mode"], "fair_release");

    // Families see the rule on the session page before they request.
    let id = session["id"].as_i64().expect("session id");
    let page = app
        .get(&format!("/sessions/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("优先群体"),
        "the page names the priority draw"
    );
}
on_both_backends!(priority_draw_needs_fair_release);

async fn priority_page_forms_work_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = person(&app, "city-admin", None).await;
    accounts::grant_role(&app.db, "city-admin", &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let guardian = person(&app, "guardian", Some("13812345678")).await;
    family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "王小明".into(),
            birth_date: "2025-03-01".into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        app.client
            .post(app.url(path))
            .header("cookie", &admin.cookie)
            .header("origin", app.url(""))
            .header("referer", app.url("/admin/priority-groups"))
            .header("accept", "text/html")
            .form(&fields)
            .send()
    };
    let page = || async {
        app.client
            .get(app.url("/admin/priority-groups"))
            .header("cookie", &admin.cookie)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body")
    };

    let created = post(
        "/sfn/create_priority_group",
        vec![
            ("code", "special_needs".into()),
            ("name_zh", "特殊需要儿童".into()),
            ("name_en", "Children with special needs".into()),
            ("rank", "1".into()),
        ],
    )
    .await
    .expect("posted");
    assert_eq!(created.status(), StatusCode::FOUND);
    assert!(page().await.contains("特殊需要儿童"), "the group is listed");

    let groups: Value = send(
        &app,
        &admin,
        reqwest::Method::GET,
        "/api/v1/admin/priority-groups",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    let group = groups[0]["id"].as_i64().expect("group id");
    let wrong = post(
        "/sfn/grant_priority",
        vec![
            ("group_id", group.to_string()),
            ("guardian_mobile", "13812345678".into()),
            ("child_name", "不存在的孩子".into()),
        ],
    )
    .await
    .expect("posted");
    let target = wrong.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        target.contains("__err="),
        "the error returns to the page: {target}"
    );
    let granted = post(
        "/sfn/grant_priority",
        vec![
            ("group_id", group.to_string()),
            ("guardian_mobile", "138 1234 5678".into()),
            ("child_name", "王小明".into()),
        ],
    )
    .await
    .expect("posted");
    assert_eq!(granted.status(), StatusCode::FOUND);
    assert!(
        !granted.headers()["location"]
            .to_str()
            .expect("location")
            .contains("__err=")
    );
    assert!(
        page().await.contains("已登记 1 名孩子"),
        "the count is shown"
    );
}
on_both_backends!(priority_page_forms_work_without_javascript);

async fn priority_members_page_lists_and_revokes(backend: Backend) {
    use reqwest::Method;

    let app = TestApp::spawn(backend).await;
    let admin = person(&app, "city-admin", None).await;
    accounts::grant_role(&app.db, "city-admin", &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let district = person(&app, "district-admin", None).await;
    accounts::grant_role(
        &app.db,
        "district-admin",
        &Role::DistrictAdmin {
            district_code: "320102".into(),
        },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let guardian = person(&app, "guardian", Some("13712345678")).await;
    let child = family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "李小雨".into(),
            birth_date: "2025-03-01".into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");
    let created = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/priority-groups",
        Some(json!({ "code": "left_behind", "name_zh": "留守儿童", "name_en": "Left-behind children", "rank": 1 })),
    )
    .await;
    let group = created.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("group id");
    let granted = send(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/admin/priority-groups/{group}/members"),
        Some(json!({ "guardian_mobile": "13712345678", "child_name": "李小雨" })),
    )
    .await;
    assert_eq!(granted.status(), StatusCode::CREATED);

    let page_path = format!("/admin/priority-groups/{group}");
    let get = |who: &Person, path: String| {
        app.client
            .get(app.url(&path))
            .header("cookie", &who.cookie)
            .send()
    };
    let list = get(&admin, "/admin/priority-groups".into())
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        list.contains(&format!("href=\"{page_path}\"")),
        "the groups list links to the members page"
    );

    let page = get(&admin, page_path.clone()).await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.expect("body");
    assert!(body.contains("李小雨"), "the child is listed");
    assert!(body.contains("个月"), "the age in months is shown");
    assert!(body.contains("移出"), "a revoke form is shown");
    assert_eq!(
        audit_count(&app, "priority_group.members_read").await,
        1,
        "the page's read is audited"
    );

    // Anyone else gets the page of a missing address, and nothing is read.
    let missing = get(&admin, "/admin/priority-groups/999999".into())
        .await
        .expect("page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.expect("body").contains("页面不存在"));
    for who in [&district, &guardian] {
        let refused = get(who, page_path.clone()).await.expect("page");
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        let refused = refused.text().await.expect("body");
        assert!(!refused.contains("李小雨"), "no member is shown");
        assert!(!refused.contains("留守儿童"), "the group is not named");
        assert!(
            refused.contains("页面不存在"),
            "the same page as a missing address"
        );
    }
    assert_eq!(audit_count(&app, "priority_group.members_read").await, 1);

    let post = |who: &Person, fields: Vec<(&'static str, String)>| {
        app.client
            .post(app.url("/sfn/revoke_priority"))
            .header("cookie", &who.cookie)
            .header("origin", app.url(""))
            .header("referer", app.url(&page_path))
            .header("accept", "text/html")
            .form(&fields)
            .send()
    };
    let confirmed = || {
        vec![
            ("group_id", group.to_string()),
            ("child_id", child.id.to_string()),
            ("confirm", "on".to_owned()),
        ]
    };
    let location = |response: &reqwest::Response| {
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    };

    let by_district = post(&district, confirmed()).await.expect("posted");
    assert!(
        location(&by_district).contains("__err="),
        "a district administrator cannot revoke"
    );
    let unconfirmed = post(
        &admin,
        vec![
            ("group_id", group.to_string()),
            ("child_id", child.id.to_string()),
        ],
    )
    .await
    .expect("posted");
    assert!(
        location(&unconfirmed).contains("__err="),
        "the box must be ticked"
    );
    assert_eq!(audit_count(&app, "priority_group.revoke").await, 0);

    let revoked = post(&admin, confirmed()).await.expect("posted");
    assert_eq!(revoked.status(), StatusCode::FOUND);
    assert_eq!(
        location(&revoked),
        format!("{page_path}?revoked={}", child.id)
    );
    assert_eq!(audit_count(&app, "priority_group.revoke").await, 1);
    let after = get(&admin, location(&revoked))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(!after.contains("李小雨"), "the child is no longer listed");
    assert!(after.contains("已将孩子移出该群体"), "the page confirms it");
    let listed: Value = send(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/admin/priority-groups/{group}/members"),
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(0));
}
on_both_backends!(priority_members_page_lists_and_revokes);
