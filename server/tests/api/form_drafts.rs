//! Rejected forms without JavaScript: a browser posts a plain form, the
//! server rejects it and redirects back, and the page that follows shows
//! the error with the values as typed. Personal data never appears in the
//! redirect's address; the values come from the session's form draft,
//! which is read once.

use app::domain::family::{self, ChildInput};
use app::domain::{accounts, form_drafts, sessions};
use app::model::Role;
use chrono::{Duration, Months, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::priority::{Person, person, send};

/// Posts `fields` to server function `function` as a browser without
/// JavaScript does from `page`, and returns the redirect's target.
async fn post_form(
    app: &TestApp,
    who: &Person,
    function: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> String {
    let response = app
        .client
        .post(app.url(&format!("/sfn/{function}")))
        .header("cookie", &who.cookie)
        .header("origin", app.url(""))
        .header("referer", app.url(page))
        .header("accept", "text/html")
        .form(fields)
        .send()
        .await
        .expect("form is posted");
    assert_eq!(response.status(), StatusCode::FOUND, "{function} redirects");
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// Opens `target` as `who` and returns the page without the empty markers
/// Leptos leaves between a text and its tag.
async fn open(app: &TestApp, who: &Person, target: &str) -> String {
    let page = app
        .client
        .get(app.url(target))
        .header("cookie", &who.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK, "{target}");
    page.text().await.expect("body").replace("<!>", "")
}

/// Checks that a rejection's redirect goes to `page` and carries nothing but
/// the error, so no typed value reaches logs or browser history.
fn assert_only_error_in(target: &str, page: &str) {
    let (path, query) = target.split_once('?').expect("a query with the error");
    assert_eq!(path, page, "{target}");
    let names: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, _)| name.into_owned())
        .collect();
    assert_eq!(names, ["__path", "__err"], "{target}");
}

async fn city_admin(app: &TestApp, subject: &str) -> Person {
    let admin = person(app, subject, None).await;
    accounts::grant_role(&app.db, subject, &Role::CityAdmin, None, Utc::now())
        .await
        .expect("role");
    admin
}

async fn family_forms_keep_typed_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let guardian = person(&app, "draft-guardian", None).await;

    // No consent ticked: rejected, with every typed value shown again.
    let target = post_form(
        &app,
        &guardian,
        "add_child",
        "/family",
        &[
            ("display_name", "阿依古丽·买买提"),
            ("birth_date", "2025-03-04"),
            ("care_notes", "花生过敏"),
        ],
    )
    .await;
    assert_only_error_in(&target, "/family");
    let page = open(&app, &guardian, &target).await;
    assert!(page.contains("儿童个人信息处理同意"), "the field is named");
    assert!(page.contains(r#"value="阿依古丽·买买提""#), "the name");
    assert!(page.contains(r#"value="2025-03-04""#), "the birth date");
    assert!(page.contains(">花生过敏</textarea>"), "the care notes");
    let again = open(&app, &guardian, &target).await;
    assert!(
        !again.contains("阿依古丽·买买提"),
        "the draft is shown once"
    );

    // An invitation naming a child who is not the family's: rejected, and
    // the family's own child stays ticked.
    let child = family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "王小宝".into(),
            birth_date: "2025-01-10".into(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");
    let own = child.id.to_string();
    let target = post_form(
        &app,
        &guardian,
        "create_invitation",
        "/family",
        &[("child_ids[0]", own.as_str()), ("child_ids[1]", "999999")],
    )
    .await;
    assert_only_error_in(&target, "/family");
    let page = open(&app, &guardian, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    assert!(
        page.contains(&format!(r#"value="{own}" checked"#)),
        "the chosen child is ticked again"
    );

    // A wrong invitation code returns to /invite, never to /invite/{code}.
    let carer = person(&app, "draft-carer", None).await;
    let target = post_form(
        &app,
        &carer,
        "accept_invitation",
        "/invite/WRONGCODE7",
        &[("code", "WRONGCODE7")],
    )
    .await;
    assert_only_error_in(&target, "/invite");
    let page = open(&app, &carer, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    assert!(page.contains(r#"value="WRONGCODE7""#), "the code as typed");
}
on_both_backends!(family_forms_keep_typed_values);

async fn account_form_keeps_mobile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let guardian = person(&app, "draft-mobile", Some("13912345678")).await;
    let target = post_form(
        &app,
        &guardian,
        "update_mobile",
        "/account",
        &[("mobile", "139 1234")],
    )
    .await;
    assert_only_error_in(&target, "/account");
    let page = open(&app, &guardian, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    assert!(page.contains(r#"value="139 1234""#), "the number as typed");
    assert!(!page.contains("13912345678"), "not the stored number");
}
on_both_backends!(account_form_keeps_mobile);

async fn place_form_keeps_typed_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = city_admin(&app, "draft-place-admin").await;
    let fields = |name: &'static str| {
        vec![
            ("form[kind]", "childcare_provider"),
            ("form[name]", name),
            ("form[address]", "南京市测试路1号"),
            ("form[district]", "玄武区"),
            ("form[latitude]", "北纬32度"),
            ("form[longitude]", "118.79"),
            ("form[crs]", "gcj02"),
            ("form[services][1]", "hourly_care"),
            ("form[fee_kind]", "per_hour"),
            ("form[fee_yuan]", "12.50"),
            ("form[star_rating]", "4"),
            ("form[star_rating_source]", "玄武区星级评定"),
        ]
    };

    let target = post_form(
        &app,
        &admin,
        "save_place",
        "/admin/places/new",
        &fields("草稿托育园"),
    )
    .await;
    assert_only_error_in(&target, "/admin/places/new");
    let page = open(&app, &admin, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    for typed in [
        r#"value="草稿托育园""#,
        r#"value="北纬32度""#,
        r#"value="12.50""#,
        r#"value="玄武区星级评定""#,
        r#"value="gcj02" selected"#,
        r#"value="per_hour" selected"#,
        r#"value="hourly_care" checked"#,
        r#"value="childcare_provider" selected"#,
    ] {
        assert!(page.contains(typed), "new place form shows {typed}");
    }

    // Editing a stored place: the typed name, not the stored one.
    let place = app::entity::place::Entity::find()
        .order_by_asc(app::entity::place::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a demo place");
    let id = place.id.to_string();
    let mut edit = fields("改过的名字");
    edit.push(("place_id", id.as_str()));
    let edit_page = format!("/admin/places/{id}/edit");
    let target = post_form(&app, &admin, "save_place", &edit_page, &edit).await;
    assert_only_error_in(&target, &edit_page);
    let page = open(&app, &admin, &target).await;
    assert!(page.contains(r#"value="改过的名字""#), "the typed name");
    assert!(
        !page.contains(&format!(r#"value="{}""#, place.name)),
        "not the stored name"
    );
    let stored = app::entity::place::Entity::find_by_id(place.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("place");
    assert_eq!(stored.name, place.name, "nothing was saved");
}
on_both_backends!(place_form_keeps_typed_values);

async fn priority_forms_keep_typed_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = city_admin(&app, "draft-priority-admin").await;
    let page_path = "/admin/priority-groups";

    let target = post_form(
        &app,
        &admin,
        "create_priority_group",
        page_path,
        &[
            ("code", "left_behind"),
            ("name_zh", "留守儿童"),
            ("name_en", "Left-behind children"),
            ("rank", "十"),
        ],
    )
    .await;
    assert_only_error_in(&target, page_path);
    let page = open(&app, &admin, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    for typed in [
        r#"value="left_behind""#,
        r#"value="留守儿童""#,
        r#"value="Left-behind children""#,
        r#"value="十""#,
    ] {
        assert!(page.contains(typed), "the group form shows {typed}");
    }

    let created = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/priority-groups",
        Some(json!({
            "code": "disabled_parents",
            "name_zh": "残疾人家庭",
            "name_en": "Families with a disabled parent",
            "rank": 2,
        })),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let group = created.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("group id")
        .to_string();
    // No guardian has this number, so the grant is rejected.
    let target = post_form(
        &app,
        &admin,
        "grant_priority",
        page_path,
        &[
            ("group_id", group.as_str()),
            ("guardian_mobile", "13700001111"),
            ("child_name", "李小雨"),
        ],
    )
    .await;
    assert_only_error_in(&target, page_path);
    let page = open(&app, &admin, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    assert!(page.contains(r#"value="13700001111""#), "the mobile number");
    assert!(page.contains(r#"value="李小雨""#), "the child's name");
    assert!(
        page.contains(&format!(r#"value="{group}" selected"#)),
        "the chosen group"
    );
}
on_both_backends!(priority_forms_keep_typed_values);

async fn booking_form_keeps_chosen_children(backend: Backend) {
    use app::entity::care_session;

    let app = TestApp::spawn(backend).await;
    let guardian = person(&app, "draft-booking", None).await;
    let session = care_session::Entity::find()
        .filter(care_session::Column::StartsAt.gt(Utc::now() + Duration::days(1)))
        .order_by_asc(care_session::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("an upcoming demo session");
    // A child in the middle of the session's age range on its date.
    let months = u32::try_from((session.min_age_months + session.max_age_months) / 2)
        .expect("ages are positive");
    let birth_date = app::time::to_local(session.starts_at)
        .date_naive()
        .checked_sub_months(Months::new(months))
        .expect("a date");
    let child = family::add_child(
        &app.db,
        guardian.account,
        &ChildInput {
            display_name: "赵小满".into(),
            birth_date: birth_date.to_string(),
            care_notes: None,
        },
        true,
        Utc::now(),
    )
    .await
    .expect("child");

    // The second child is not the family's, so nothing is booked.
    let page_path = format!("/sessions/{}", session.id);
    let own = child.id.to_string();
    let session_id = session.id.to_string();
    let target = post_form(
        &app,
        &guardian,
        "book_session",
        &page_path,
        &[
            ("session_id", session_id.as_str()),
            ("idempotency_key", "draft-test-key-1"),
            ("child_ids[0]", own.as_str()),
            ("child_ids[1]", "999999"),
        ],
    )
    .await;
    assert_only_error_in(&target, &page_path);
    let page = open(&app, &guardian, &target).await;
    assert!(page.contains("notice-error"), "the error is shown");
    assert!(
        page.contains(&format!(r#"value="{own}" checked"#)),
        "the chosen child is ticked again"
    );
}
on_both_backends!(booking_form_keeps_chosen_children);

async fn drafts_belong_to_one_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let guardian = person(&app, "draft-owner", None).await;
    let now = Utc::now();
    let first = sessions::create_session(&app.db, guardian.account, Duration::hours(1), now)
        .await
        .expect("session");
    let second = sessions::create_session(&app.db, guardian.account, Duration::hours(1), now)
        .await
        .expect("session");
    let fields = json!({ "display_name": "草稿宝宝" });

    form_drafts::save(&app.db, &first, "/sfn/add_child", fields.clone(), now)
        .await
        .expect("saved");
    let other = form_drafts::take(&app.db, &second, "/sfn/add_child", now)
        .await
        .expect("read");
    assert_eq!(other, None, "another session of the same person");
    let other_form = form_drafts::take(&app.db, &first, "/sfn/update_mobile", now)
        .await
        .expect("read");
    assert_eq!(other_form, None, "another form");
    let taken = form_drafts::take(&app.db, &first, "/sfn/add_child", now)
        .await
        .expect("read");
    assert_eq!(taken, Some(fields.clone()));
    let again = form_drafts::take(&app.db, &first, "/sfn/add_child", now)
        .await
        .expect("read");
    assert_eq!(again, None, "read once");

    form_drafts::save(&app.db, &first, "/sfn/add_child", fields.clone(), now)
        .await
        .expect("saved");
    let late = now + form_drafts::DRAFT_LIFETIME + Duration::seconds(1);
    let expired = form_drafts::take(&app.db, &first, "/sfn/add_child", late)
        .await
        .expect("read");
    assert_eq!(expired, None, "an expired draft");

    form_drafts::save(&app.db, &first, "/sfn/add_child", fields.clone(), now)
        .await
        .expect("saved");
    form_drafts::save(&app.db, &second, "/sfn/add_child", fields, now)
        .await
        .expect("saved");
    assert_eq!(
        form_drafts::purge_expired(&app.db, now)
            .await
            .expect("purge"),
        0,
        "live drafts stay"
    );
    sessions::revoke_session(&app.db, &second, now)
        .await
        .expect("revoked");
    family::delete_account(
        &app.db,
        &app::domain::booking::BookingRules::default(),
        guardian.account,
        now,
    )
    .await
    .expect("deleted");
    let left = app::entity::form_draft::Entity::find()
        .all(&app.db)
        .await
        .expect("query");
    assert!(left.is_empty(), "drafts go with the account: {left:?}");
}
on_both_backends!(drafts_belong_to_one_session);
