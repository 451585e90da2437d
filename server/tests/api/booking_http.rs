//! Booking over HTTP with two server processes on one database: a rush
//! for a small session, retries with idempotency keys, cancellation and
//! offers, calendars, the inbox and bad input.

use std::collections::HashMap;

use app::domain::accounts::{self, PortalIdentity};
use app::domain::family::{self, ChildInput};
use app::domain::sessions;
use app::model::Role;
use chrono::{Duration, SubsecRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

/// A signed-in person: their session cookie and first child.
#[derive(Debug, Clone)]
struct Person {
    cookie: String,
    child: Option<i64>,
}

async fn person(app: &TestApp, subject: &str, with_child: bool) -> Person {
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
    let child = if with_child {
        let view = family::add_child(
            &app.db,
            account,
            &ChildInput {
                display_name: format!("孩子{subject}"),
                birth_date: "2025-01-10".into(),
                care_notes: None,
            },
            true,
            Utc::now(),
        )
        .await
        .expect("child");
        Some(view.id)
    } else {
        None
    };
    let token = sessions::create_session(&app.db, account, Duration::hours(2), Utc::now())
        .await
        .expect("web session");
    Person {
        cookie: format!("ningyu_session={token}"),
        child,
    }
}

async fn post(app: &TestApp, who: &Person, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .json(&body)
        .send()
        .await
        .expect("request is sent")
}

async fn get(app: &TestApp, who: &Person, path: &str) -> reqwest::Response {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        app.url(path)
    };
    app.client
        .get(url)
        .header("cookie", &who.cookie)
        .send()
        .await
        .expect("request is sent")
}

async fn demo_place(app: &TestApp) -> i64 {
    let places: Value = app
        .get("/api/v1/places?limit=1")
        .await
        .json()
        .await
        .expect("places JSON");
    places["items"][0]["id"].as_i64().expect("a demo place")
}

/// Publishes a session three days ahead as a city administrator, through
/// `app`; returns its id and start.
async fn new_session(app: &TestApp, capacity: u32) -> (i64, chrono::DateTime<Utc>) {
    let subject = format!("admin-{}", uuid::Uuid::new_v4().simple());
    let admin = person(app, &subject, false).await;
    accounts::grant_role(&app.db, &subject, &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    let place = demo_place(app).await;
    let starts = (Utc::now() + Duration::days(3)).trunc_subsecs(0);
    let created = post(
        app,
        &admin,
        &format!("/api/v1/places/{place}/sessions"),
        json!({
            "kind": "parent_child_activity",
            "title": "亲子律动",
            "starts_at": starts,
            "ends_at": starts + Duration::hours(1),
            "capacity": capacity,
            "min_age_months": 6,
            "max_age_months": 36,
        }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let session = created.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("session id");
    (session, starts)
}

async fn rush_on_two_servers(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let second = first.spawn_beside().await;
    // The session is published through the second server.
    let (session, starts) = new_session(&second, 20).await;

    let mut people = Vec::new();
    for n in 0..120 {
        people.push(person(&first, &format!("rush-{n}"), true).await);
    }
    let mut tasks = Vec::new();
    for (n, who) in people.iter().cloned().enumerate() {
        let target = if n % 2 == 0 {
            first.url("")
        } else {
            second.url("")
        };
        let client = first.client.clone();
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(format!("{target}/api/v1/sessions/{session}/bookings"))
                .header("cookie", &who.cookie)
                .header("origin", &target)
                .header("idempotency-key", format!("rush-{n}"))
                .json(&json!({ "child_ids": [who.child], "join_waitlist": true }))
                .send()
                .await
                .expect("request is sent");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }));
    }
    let mut results: HashMap<String, usize> = HashMap::new();
    let mut answers = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("task finishes");
        assert_eq!(status, StatusCode::OK, "{body}");
        *results
            .entry(body["result"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
        answers.push(body);
    }
    assert_eq!(results.get("booked"), Some(&20), "{results:?}");
    assert_eq!(results.get("waitlisted"), Some(&100), "{results:?}");

    // A retry with the same key returns the first outcome and books nothing.
    let retried = first
        .client
        .post(second.url(&format!("/api/v1/sessions/{session}/bookings")))
        .header("cookie", &people[0].cookie)
        .header("origin", second.url(""))
        .header("idempotency-key", "rush-0")
        .json(&json!({ "child_ids": [people[0].child], "join_waitlist": true }))
        .send()
        .await
        .expect("retry");
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(retried.json::<Value>().await.expect("JSON"), answers[0]);
    let detail: Value = first
        .get(&format!("/api/v1/sessions/{session}"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(detail["places_left"], 0);
    assert_eq!(detail["waiting"], 100);

    // A booked family cancels twice at once, on both servers: one place
    // is released and offered to the head of the waitlist.
    let (holder, booking_id) = people
        .iter()
        .zip(&answers)
        .find_map(|(who, body)| {
            (body["result"] == "booked").then(|| (who, body["bookings"][0]["id"].as_i64()))
        })
        .expect("a booked family");
    let booking_id = booking_id.expect("booking id");
    let path = format!("/api/v1/bookings/{booking_id}/cancel");
    let (a, b) = tokio::join!(
        post(&first, holder, &path, json!({})),
        post(&second, holder, &path, json!({}))
    );
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    let head = answers
        .iter()
        .zip(&people)
        .filter(|(body, _)| body["result"] == "waitlisted")
        .min_by_key(|(body, _)| body["entries"][0]["position"].as_u64())
        .map(|(_, who)| who.clone())
        .expect("someone waits");
    let mine: Value = get(&second, &head, "/api/v1/bookings")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(mine["waitlist"][0]["status"], "offered", "{mine}");
    let entry = mine["waitlist"][0]["id"].as_i64().expect("entry id");
    let accepted = post(
        &first,
        &head,
        &format!("/api/v1/waitlist/{entry}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let booked: Value = accepted.json().await.expect("JSON");
    assert_eq!(booked["status"], "confirmed");
    let confirmed = confirmed_count(&first.db, session).await;
    assert_eq!(confirmed, 20);

    // The calendar file parses and carries the session's instant in UTC.
    let new_booking = booked["id"].as_i64().expect("booking id");
    let ics = get(
        &second,
        &head,
        &format!("/api/v1/bookings/{new_booking}/calendar"),
    )
    .await;
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/calendar")
    );
    let text = ics.text().await.expect("text");
    let parsed: icalendar::Calendar = text.parse().expect("the file parses");
    let event = parsed
        .components
        .iter()
        .find_map(|component| match component {
            icalendar::CalendarComponent::Event(event) => Some(event.clone()),
            _ => None,
        })
        .expect("one event");
    use icalendar::Component;
    let dtstart = event.property_value("DTSTART").expect("DTSTART");
    assert_eq!(dtstart, starts.format("%Y%m%dT%H%M%SZ").to_string());

    // The family feed works without a session, by its private address.
    let feed: Value = get(&first, &head, "/api/v1/calendar")
        .await
        .json()
        .await
        .expect("JSON");
    let feed_path = feed["path"].as_str().expect("path");
    let public = second.get(feed_path).await;
    assert_eq!(public.status(), StatusCode::OK);
    assert!(
        public
            .text()
            .await
            .expect("text")
            .contains(&format!("booking-{new_booking}@ningyu"))
    );
    assert_eq!(
        second.get("/calendar/not-a-token.ics").await.status(),
        StatusCode::NOT_FOUND
    );

    // The family's inbox has the offer and the booking.
    let inbox: Value = get(&second, &head, "/api/v1/notifications")
        .await
        .json()
        .await
        .expect("JSON");
    let kinds: Vec<&str> = inbox
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|message| message["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"offer_received"), "{kinds:?}");
    assert!(kinds.contains(&"booked"), "{kinds:?}");
}
on_both_backends!(rush_on_two_servers);

async fn confirmed_count(db: &sea_orm::DatabaseConnection, session: i64) -> u64 {
    use app::entity::booking;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    booking::Entity::find()
        .filter(booking::Column::SessionId.eq(session))
        .filter(booking::Column::Status.eq("confirmed"))
        .count(db)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_booking_requests_get_clear_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let parent = person(&app, "bad-parent", true).await;
    let other = person(&app, "bad-other", true).await;
    let (session, _) = new_session(&app, 5).await;
    let path = format!("/api/v1/sessions/{session}/bookings");

    let cases = [
        (
            json!({ "child_ids": [other.child] }),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({ "child_ids": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({ "child_ids": "x" }),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({ "child_ids": [parent.child], "extra": 1 }),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (body, status, code) in cases {
        let response = post(&app, &parent, &path, body.clone()).await;
        let got = response.status();
        let error: Value = response.json().await.expect("JSON error");
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["code"], code, "{body}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let response = post(&app, &parent, "/api/v1/sessions/abc/bookings", json!({})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post(
        &app,
        &parent,
        "/api/v1/sessions/999999/bookings",
        json!({ "child_ids": [parent.child] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let anonymous = app
        .client
        .post(app.url(&path))
        .header("origin", app.url(""))
        .json(&json!({ "child_ids": [parent.child] }))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Booking twice is refused with a translated reason; a family cannot
    // cancel as staff.
    let booked = post(&app, &parent, &path, json!({ "child_ids": [parent.child] })).await;
    assert_eq!(booked.status(), StatusCode::OK);
    let booked: Value = booked.json().await.expect("JSON");
    let again = app
        .client
        .post(app.url(&path))
        .header("cookie", &parent.cookie)
        .header("origin", app.url(""))
        .header("accept-language", "en")
        .json(&json!({ "child_ids": [parent.child] }))
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let error: Value = again.json().await.expect("JSON");
    assert_eq!(error["code"], "refused");
    assert_eq!(error["reason"], "already_booked");
    assert_eq!(
        error["message"],
        "Your child already has a place in this session."
    );
    let booking_id = booked["bookings"][0]["id"].as_i64().expect("id");
    let staff_cancel = post(
        &app,
        &parent,
        &format!("/api/v1/staff/bookings/{booking_id}/cancel"),
        json!({ "reason": "测试" }),
    )
    .await;
    assert_eq!(staff_cancel.status(), StatusCode::NOT_FOUND);
    let others_booking = get(&app, &other, &format!("/api/v1/bookings/{booking_id}")).await;
    assert_eq!(others_booking.status(), StatusCode::NOT_FOUND);
}

/// Posts a form as a browser without JavaScript does, from `page`.
async fn plain_form(
    app: &TestApp,
    who: &Person,
    function: &str,
    page: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/sfn/{function}")))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .header("referer", app.url(page))
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .expect("form is posted")
}

async fn page_text(app: &TestApp, who: &Person, path: &str) -> String {
    let response = get(app, who, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("page text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_pages_work_without_javascript() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (session, _) = new_session(&app, 1).await;
    let parent = person(&app, "page-parent", true).await;
    let second = person(&app, "page-second", true).await;
    let page = format!("/sessions/{session}");

    // Signed out, the page invites to sign in and shows the places.
    let anonymous = app.get(&page).await.text().await.expect("page");
    assert!(anonymous.contains("亲子律动"), "the title is shown");
    assert!(anonymous.contains("剩余 1 个名额"), "places left are shown");
    assert!(anonymous.contains(&format!("/auth/login?return_to=/sessions/{session}")));

    // Signed in, the form lists the child; posting it books and returns.
    let form_page = page_text(&app, &parent, &page).await;
    assert!(
        form_page.contains("孩子page-parent"),
        "the child is offered"
    );
    let key = form_page
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a key")
        .to_owned();
    let child = parent.child.expect("child").to_string();
    let form = [
        ("session_id", session.to_string()),
        ("idempotency_key", key),
        ("child_ids[0]", child),
    ];
    for _ in 0..2 {
        // The second post is a double tap: it must not book twice.
        let posted = plain_form(&app, &parent, "book_session", &page, &form).await;
        assert_eq!(posted.status(), StatusCode::FOUND);
        assert!(!crate::browser::location(&posted).contains("__err"));
    }
    let booked = page_text(&app, &parent, &page).await;
    assert!(booked.contains("签到码"), "the check-in code is shown");
    assert!(booked.contains("已满"), "the session is now full");
    assert!(
        booked.contains("您的孩子都已预约了这场活动或在候补中"),
        "the booked child is not offered again"
    );
    assert!(
        !booked.contains("name=\"idempotency_key\""),
        "no booking form is left"
    );
    assert_eq!(confirmed_count(&app.db, session).await, 1);
    let bookings = page_text(&app, &parent, "/bookings").await;
    assert!(bookings.contains("亲子律动"));
    let booking_id: i64 = bookings
        .split("/bookings/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse().ok())
        .expect("the QR code's address names the booking");
    let qr = get(&app, &parent, &format!("/bookings/{booking_id}/qr.svg")).await;
    assert_eq!(qr.status(), StatusCode::OK);
    assert!(qr.text().await.expect("svg").contains("<svg"));
    let stranger_qr = get(&app, &second, &format!("/bookings/{booking_id}/qr.svg")).await;
    assert_eq!(stranger_qr.status(), StatusCode::NOT_FOUND);

    // The second family finds it full and joins the waitlist.
    let full_page = page_text(&app, &second, &page).await;
    assert!(full_page.contains("加入候补"));
    let second_child = second.child.expect("child").to_string();
    let joined = plain_form(
        &app,
        &second,
        "book_session",
        &page,
        &[
            ("session_id", session.to_string()),
            ("join_waitlist", "on".into()),
            ("child_ids[0]", second_child),
        ],
    )
    .await;
    assert_eq!(joined.status(), StatusCode::FOUND);
    assert!(
        page_text(&app, &second, &page)
            .await
            .contains("候补第 1 位")
    );

    // The first family cancels; the second gets the offer and accepts it.
    let cancelled = plain_form(
        &app,
        &parent,
        "cancel_booking",
        "/bookings",
        &[("booking_id", booking_id.to_string())],
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::FOUND);
    let offer_page = page_text(&app, &second, "/bookings").await;
    assert!(offer_page.contains("有名额了"), "the offer is shown");
    let entry_id = offer_page
        .split("name=\"entry_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the offer's form names the entry")
        .to_owned();
    let accepted = plain_form(
        &app,
        &second,
        "accept_offer",
        "/bookings",
        &[("entry_id", entry_id)],
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::FOUND);
    assert!(
        page_text(&app, &second, "/bookings")
            .await
            .contains("签到码")
    );
    let inbox = page_text(&app, &second, "/inbox").await;
    assert!(inbox.contains("有名额了"), "the inbox has the offer");

    // A refused booking comes back to the page with a translated reason.
    let refused = plain_form(
        &app,
        &second,
        "book_session",
        &page,
        &[
            ("session_id", session.to_string()),
            ("child_ids[0]", second.child.expect("child").to_string()),
        ],
    )
    .await;
    let target = crate::browser::location(&refused);
    assert!(target.contains("__err="), "{target}");
    let shown = page_text(&app, &second, &target).await;
    assert!(shown.contains("孩子已预约了这一场"), "the reason is shown");
}

/// Reads from a server-sent event stream until a `places` event arrives,
/// for at most `seconds`; returns its data.
async fn next_places_event(response: &mut reqwest::Response, seconds: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .ok()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk.ok()??));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|line| line == "event: places") {
                let data = event.lines().find_map(|line| line.strip_prefix("data: "))?;
                return serde_json::from_str(data).ok();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_left_stream_live() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (session, _) = new_session(&app, 2).await;
    let parent = person(&app, "live-parent", true).await;

    let mut stream = app.get(&format!("/sessions/{session}/live")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    let first = next_places_event(&mut stream, 5)
        .await
        .expect("a first event");
    assert_eq!(first["places_left"], 2);

    let booked = post(
        &app,
        &parent,
        &format!("/api/v1/sessions/{session}/bookings"),
        json!({ "child_ids": [parent.child] }),
    )
    .await;
    assert_eq!(booked.status(), StatusCode::OK);
    let next = next_places_event(&mut stream, 10)
        .await
        .expect("an event after the booking");
    assert_eq!(next["places_left"], 1);

    assert_eq!(
        app.get("/sessions/999999/live").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/sessions/abc/live").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_only_their_rooms_and_check_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (session, _) = new_session(&app, 3).await;
    let parent = person(&app, "roster-parent", true).await;
    let booked: Value = post(
        &app,
        &parent,
        &format!("/api/v1/sessions/{session}/bookings"),
        json!({ "child_ids": [parent.child] }),
    )
    .await
    .json()
    .await
    .expect("JSON");
    let booking = &booked["bookings"][0];
    let code = booking["check_in_code"].as_str().expect("code").to_owned();
    let booking_id = booking["id"].as_i64().expect("id");
    let place_id = booking["place_id"].as_i64().expect("place");

    // Staff of this room, staff of another room, and the family.
    let own = person(&app, "roster-own-staff", false).await;
    accounts::grant_role(
        &app.db,
        "roster-own-staff",
        &Role::RoomStaff { place_id },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let other_place = place_id + 1;
    let other = person(&app, "roster-other-staff", false).await;
    accounts::grant_role(
        &app.db,
        "roster-other-staff",
        &Role::RoomStaff {
            place_id: other_place,
        },
        None,
        Utc::now(),
    )
    .await
    .expect("role");
    let roster_path = format!("/api/v1/staff/sessions/{session}/roster");
    for outsider in [&other, &parent] {
        assert_eq!(
            get(&app, outsider, &roster_path).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let roster: Value = get(&app, &own, &roster_path)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(roster[0]["child_name"], "孩子roster-parent");
    assert_eq!(roster[0]["checked_in_at"], Value::Null);
    use sea_orm::ConnectionTrait;
    let reads = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'session.roster_read'",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("count");
    assert_eq!(reads, 1, "only the allowed read is audited");

    // Staff of another room cannot check in; a typed code in lower case
    // with a space works, and the scanned QR text works again.
    let check_in = format!("/api/v1/staff/sessions/{session}/check-in");
    let refused = post(&app, &other, &check_in, json!({ "code": code })).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let typed = format!("{} {}", &code[..3], &code[3..]).to_lowercase();
    let first = post(&app, &own, &check_in, json!({ "code": typed })).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("JSON");
    assert!(first["checked_in_at"].is_string());
    let scanned = post(
        &app,
        &own,
        &check_in,
        json!({ "code": format!("NINGYU:{booking_id}:{code}") }),
    )
    .await;
    let scanned: Value = scanned.json().await.expect("JSON");
    assert_eq!(
        scanned["checked_in_at"], first["checked_in_at"],
        "the first time is kept"
    );
    let unknown = post(&app, &own, &check_in, json!({ "code": "ZZZZZZ" })).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
