//! The staff console over HTTP: two rooms with a member of staff each and
//! two families. Staff see and change only their own room, through the
//! pages' plain forms and through the server functions. Roster reads are
//! audited, and check-in, cancellation and publishing work without
//! JavaScript.

use app::domain::accounts::{self, PortalIdentity};
use app::domain::family::{self, ChildInput};
use app::domain::sessions;
use app::model::Role;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::location;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::priority::audit_count;

struct Person {
    cookie: String,
    child: Option<i64>,
}

async fn person(app: &TestApp, subject: &str, child: Option<(&str, &str)>) -> Person {
    let account = accounts::sign_in(
        &app.db,
        &PortalIdentity {
            subject: subject.into(),
            display_name: format!("用户{subject}"),
            mobile: None,
            real_name_verified: true,
        },
        Utc::now(),
    )
    .await
    .expect("account");
    let child = match child {
        Some((name, notes)) => Some(
            family::add_child(
                &app.db,
                account,
                &ChildInput {
                    display_name: name.into(),
                    birth_date: "2025-01-10".into(),
                    care_notes: Some(notes.into()),
                },
                true,
                Utc::now(),
            )
            .await
            .expect("child")
            .id,
        ),
        None => None,
    };
    let token = sessions::create_session(&app.db, account, Duration::hours(2), Utc::now())
        .await
        .expect("web session");
    Person {
        cookie: format!("ningyu_session={token}"),
        child,
    }
}

async fn staff_of(app: &TestApp, subject: &str, place_id: i64) -> Person {
    let staff = person(app, subject, None).await;
    accounts::grant_role(
        &app.db,
        subject,
        &Role::RoomStaff { place_id },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    staff
}

async fn get(app: &TestApp, who: &Person, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", &who.cookie)
        .send()
        .await
        .expect("request is sent")
}

async fn page(app: &TestApp, who: &Person, path: &str) -> String {
    let response = get(app, who, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("page text")
}

/// Posts a form as a browser without JavaScript does, from `referer`.
async fn plain_form(
    app: &TestApp,
    who: &Person,
    function: &str,
    referer: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/sfn/{function}")))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .header("referer", app.url(referer))
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .expect("form is posted")
}

/// Calls a server function as a script does: the result in the body and
/// the error's status on the response.
async fn call(
    app: &TestApp,
    who: &Person,
    function: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/sfn/{function}")))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .form(form)
        .send()
        .await
        .expect("server function is called")
}

/// Returns the `<main>` element of a page, where pages differ.
fn main_of(html: &str) -> String {
    let start = html.find("<main").expect("a main element");
    let end = html.find("</main>").expect("the end of main");
    html[start..end].to_owned()
}

/// Formats an instant as `datetime-local` inputs send it, in Nanjing time.
fn local_input(instant: DateTime<Utc>) -> String {
    app::time::to_local(instant)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn session_form(title: &str, starts: DateTime<Utc>, capacity: &str) -> Vec<(&'static str, String)> {
    vec![
        ("form[title]", title.into()),
        ("form[kind]", "parent_child_activity".into()),
        ("form[starts_at]", local_input(starts)),
        ("form[ends_at]", local_input(starts + Duration::hours(1))),
        ("form[capacity]", capacity.into()),
        ("form[min_age_months]", "6".into()),
        ("form[max_age_months]", "36".into()),
        ("form[price_yuan]", String::new()),
        ("form[release_mode]", "first_come".into()),
        ("form[release_window_minutes]", "10".into()),
        ("form[guardian_attends]", "on".into()),
    ]
}

async fn book(app: &TestApp, who: &Person, session: i64) -> (i64, String) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{session}/bookings")))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .json(&json!({ "child_ids": [who.child] }))
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    let booking = &body["bookings"][0];
    (
        booking["id"].as_i64().expect("booking id"),
        booking["check_in_code"]
            .as_str()
            .expect("check-in code")
            .to_owned(),
    )
}

async fn checked_in_at(app: &TestApp, booking_id: i64) -> Option<DateTime<Utc>> {
    use sea_orm::EntityTrait;

    app::entity::booking::Entity::find_by_id(booking_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("booking")
        .checked_in_at
}

/// Returns the query parameter `name` of a redirect's target.
fn query_value(target: &str, name: &str) -> Option<String> {
    url::Url::parse(&format!("http://localhost{target}"))
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Decodes the error that a plain form post carries back in `__err`.
fn redirected_error(target: &str) -> Option<Value> {
    use base64::Engine;

    let encoded = query_value(target, "__err")?;
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn staff_console_keeps_rooms_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let places: Value = app
        .get("/api/v1/places?limit=2")
        .await
        .json()
        .await
        .expect("places JSON");
    let room_a = places["items"][0]["id"].as_i64().expect("first place");
    let room_b = places["items"][1]["id"].as_i64().expect("second place");
    let staff_a = staff_of(&app, "staff-a", room_a).await;
    let staff_b = staff_of(&app, "staff-b", room_b).await;
    let family_1 = person(&app, "family-1", Some(("王小明", "对花生过敏"))).await;
    let family_2 = person(&app, "family-2", Some(("李小红", "午睡前要喝水"))).await;
    let starts = Utc::now() + Duration::days(3);

    // Staff A publishes a session through the form. An invalid capacity
    // comes back to the form, named and with the typed title kept.
    let new_a = format!("/staff/places/{room_a}/sessions/new");
    let mut form = session_form("周三亲子律动", starts, "0");
    form.push(("place_id", room_a.to_string()));
    let refused = plain_form(&app, &staff_a, "staff_create_session", &new_a, &form).await;
    assert_eq!(refused.status(), StatusCode::FOUND);
    let target = location(&refused);
    assert!(target.starts_with(&new_a), "{target}");
    let error = redirected_error(&target).expect("the error comes back");
    assert_eq!(error["field"], "capacity", "{error}");
    let shown = page(&app, &staff_a, &target).await;
    assert!(
        shown.contains("value=\"周三亲子律动\""),
        "the title is kept"
    );
    assert!(shown.contains("名额（1—500）"), "the field is named");

    let mut form = session_form("周三亲子律动", starts, "2");
    form.push(("place_id", room_a.to_string()));
    let created = plain_form(&app, &staff_a, "staff_create_session", &new_a, &form).await;
    let target = location(&created);
    let session_a: i64 = target
        .strip_prefix("/staff/sessions/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the new session's staff page: {target}"));
    let place_page = app
        .get(&format!("/places/{room_a}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        place_page.contains("周三亲子律动"),
        "the place page lists it"
    );

    // Staff B publishes at room B, two hours later so that family 1's
    // bookings do not overlap. Staff A cannot publish there.
    let mut form = session_form("周四绘本时光", starts + Duration::hours(2), "5");
    form.push(("place_id", room_b.to_string()));
    let created_b = plain_form(
        &app,
        &staff_b,
        "staff_create_session",
        &format!("/staff/places/{room_b}/sessions/new"),
        &form,
    )
    .await;
    let session_b: i64 = location(&created_b)
        .strip_prefix("/staff/sessions/")
        .and_then(|id| id.parse().ok())
        .expect("room B's session");
    let mut form = session_form("不该出现", starts, "5");
    form.push(("place_id", room_b.to_string()));
    let foreign = call(&app, &staff_a, "staff_create_session", &form).await;
    assert_eq!(
        foreign.status(),
        StatusCode::NOT_FOUND,
        "publishing at room B"
    );

    let (booking_1, code_1) = book(&app, &family_1, session_a).await;
    let (booking_2, _) = book(&app, &family_2, session_a).await;
    let (booking_b, code_b) = book(&app, &family_1, session_b).await;

    // A family, and staff of the other room, get the page of a missing
    // address for every staff page.
    let missing = get(&app, &family_1, "/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing = main_of(&missing.text().await.expect("page"));
    let roster_reads = audit_count(&app, "session.roster_read").await;
    for (who, path) in [
        (&family_1, "/staff".to_owned()),
        (&family_1, format!("/staff/sessions/{session_a}")),
        (&family_1, format!("/staff/places/{room_a}/sessions/new")),
        (&staff_a, format!("/staff/sessions/{session_b}")),
        (&staff_a, format!("/staff/places/{room_b}/sessions/new")),
        (&staff_a, "/staff/sessions/999999".to_owned()),
    ] {
        let response = get(&app, who, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body = main_of(&response.text().await.expect("page"));
        assert_eq!(body, missing, "{path} looks like a missing page");
    }
    assert_eq!(
        audit_count(&app, "session.roster_read").await,
        roster_reads,
        "a refused read is not audited"
    );

    // Staff A's console lists room A's session with its counts, and not
    // room B's.
    let console = page(&app, &staff_a, "/staff").await;
    assert!(
        console.contains("周三亲子律动"),
        "room A's session is listed"
    );
    assert!(!console.contains("周四绘本时光"), "room B's session is not");
    assert!(console.contains("已约 2/2 人"), "the bookings are counted");
    assert!(
        !page(&app, &family_1, "/account")
            .await
            .contains("href=\"/staff\"")
    );
    assert!(
        page(&app, &staff_a, "/account")
            .await
            .contains("href=\"/staff\"")
    );
    let own_place = page(&app, &staff_a, &format!("/places/{room_a}")).await;
    assert!(
        own_place.contains(&format!("href=\"{new_a}\"")),
        "room A's page links its new-session form"
    );
    let other_place = page(&app, &staff_a, &format!("/places/{room_b}")).await;
    assert!(
        !other_place.contains("/sessions/new"),
        "room B's page does not"
    );

    // A city administrator's console lists both rooms' sessions.
    let admin = person(&app, "city-admin", None).await;
    accounts::grant_role(&app.db, "city-admin", &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let city = page(&app, &admin, "/staff").await;
    assert!(city.contains("周三亲子律动"), "room A's session is listed");
    assert!(city.contains("周四绘本时光"), "room B's session is listed");
    assert!(
        city.contains("您是管理员"),
        "the administrator's note is shown"
    );

    // The server functions refuse room B to staff A with the same 404.
    let cases: [(&str, Vec<(&str, String)>); 3] = [
        (
            "load_staff_session",
            vec![("session_id", session_b.to_string())],
        ),
        (
            "staff_check_in",
            vec![
                ("session_id", session_b.to_string()),
                ("code", code_b.clone()),
            ],
        ),
        (
            "staff_cancel_booking",
            vec![
                ("session_id", session_b.to_string()),
                ("booking_id", booking_b.to_string()),
                ("reason", "场地维修".into()),
            ],
        ),
    ];
    for (function, form) in cases {
        let response = call(&app, &staff_a, function, &form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(error["code"], "not_found", "{function}");
    }
    let refused = plain_form(
        &app,
        &staff_a,
        "staff_check_in",
        &format!("/staff/sessions/{session_b}"),
        &[
            ("session_id", session_b.to_string()),
            ("code", code_b.clone()),
        ],
    )
    .await;
    let error = redirected_error(&location(&refused)).expect("an error");
    assert_eq!(error["code"], "not_found");
    assert_eq!(
        checked_in_at(&app, booking_b).await,
        None,
        "room B untouched"
    );
    let family_view = call(
        &app,
        &family_1,
        "load_staff_session",
        &[("session_id", session_a.to_string())],
    )
    .await;
    assert_eq!(family_view.status(), StatusCode::NOT_FOUND);

    // Staff A's roster page shows the children and their care notes, and
    // the read is audited.
    let roster_page = format!("/staff/sessions/{session_a}");
    let roster = page(&app, &staff_a, &roster_page).await;
    assert!(roster.contains("王小明"), "the first child is listed");
    assert!(roster.contains("李小红"), "the second child is listed");
    assert!(roster.contains("对花生过敏"), "care notes are shown");
    assert!(
        roster.contains("敏感信息"),
        "care notes are marked sensitive"
    );
    assert!(roster.contains("需家长陪同"), "the guardian must attend");
    assert_eq!(
        audit_count(&app, "session.roster_read").await,
        roster_reads + 1,
        "the roster page read is audited"
    );

    // Check-in by the typed code in lower case with a space.
    let typed = format!("{} {}", &code_1[..3], &code_1[3..]).to_lowercase();
    let checked = plain_form(
        &app,
        &staff_a,
        "staff_check_in",
        &roster_page,
        &[("session_id", session_a.to_string()), ("code", typed)],
    )
    .await;
    assert_eq!(checked.status(), StatusCode::FOUND);
    let target = location(&checked);
    assert_eq!(query_value(&target, "checked"), Some(booking_1.to_string()));
    assert_eq!(query_value(&target, "repeat"), None, "{target}");
    let first_time = checked_in_at(&app, booking_1).await.expect("checked in");
    let shown = page(&app, &staff_a, &target).await;
    assert!(
        shown.contains("王小明 签到成功"),
        "the result names the child"
    );

    // The scanned QR text checks in again and keeps the first time.
    let scanned = plain_form(
        &app,
        &staff_a,
        "staff_check_in",
        &roster_page,
        &[
            ("session_id", session_a.to_string()),
            ("code", format!("NINGYU:{booking_1}:{code_1}")),
        ],
    )
    .await;
    let target = location(&scanned);
    assert_eq!(query_value(&target, "repeat").as_deref(), Some("1"));
    assert_eq!(checked_in_at(&app, booking_1).await, Some(first_time));
    let shown = page(&app, &staff_a, &target).await;
    let time = app::time::to_local(first_time).format("%H:%M").to_string();
    assert!(
        shown.contains(&format!("王小明 已经在 {time} 签到过了")),
        "a repeat shows the first time"
    );

    // An unknown code comes back translated, with the typed text kept.
    let unknown = plain_form(
        &app,
        &staff_a,
        "staff_check_in",
        &roster_page,
        &[
            ("session_id", session_a.to_string()),
            ("code", "zz-zz zz".into()),
        ],
    )
    .await;
    let target = location(&unknown);
    let shown = page(&app, &staff_a, &target).await;
    assert!(shown.contains("没有找到这个签到码"), "{target}");
    assert!(
        shown.contains("value=\"zz-zz zz\""),
        "the typed code is kept"
    );

    // Cancelling needs a reason, and the family receives it.
    let empty = plain_form(
        &app,
        &staff_a,
        "staff_cancel_booking",
        &roster_page,
        &[
            ("session_id", session_a.to_string()),
            ("booking_id", booking_2.to_string()),
            ("reason", "  ".into()),
        ],
    )
    .await;
    let error = redirected_error(&location(&empty)).expect("an error");
    assert_eq!(error["field"], "reason");
    let cancelled = plain_form(
        &app,
        &staff_a,
        "staff_cancel_booking",
        &roster_page,
        &[
            ("session_id", session_a.to_string()),
            ("booking_id", booking_2.to_string()),
            ("reason", "老师生病，活动改期".into()),
        ],
    )
    .await;
    let target = location(&cancelled);
    assert_eq!(
        query_value(&target, "cancelled"),
        Some(booking_2.to_string())
    );
    let after = page(&app, &staff_a, &target).await;
    assert!(
        after.contains("已通知家长"),
        "the page confirms the cancellation"
    );
    assert!(!after.contains("李小红"), "the child leaves the roster");
    let inbox: Value = get(&app, &family_2, "/api/v1/notifications")
        .await
        .json()
        .await
        .expect("JSON");
    let message = inbox
        .as_array()
        .expect("a list")
        .iter()
        .find(|message| message["kind"] == "cancelled_by_staff")
        .unwrap_or_else(|| panic!("no cancellation message in the inbox: {inbox}"));
    assert_eq!(message["reason"], "老师生病，活动改期");
}
on_both_backends!(staff_console_keeps_rooms_apart);
