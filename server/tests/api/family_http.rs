//! The family page's doors over HTTP: server functions, the page and the
//! export, with two signed-in families that must not see each other.

use reqwest::StatusCode;

use crate::browser::{Browser, location};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

async fn signed_in(app: &TestApp, subject: &str) -> Browser {
    let browser = Browser::new();
    let response = browser.sign_in(app, subject, "/family").await;
    assert_eq!(location(&response), "/family");
    browser
}

async fn add_child(browser: &Browser, app: &TestApp, name: &str) -> i64 {
    let response = browser
        .call(
            app,
            "add_child",
            &[
                ("display_name", name),
                ("birth_date", "2025-05-20"),
                ("care_notes", "对鸡蛋过敏"),
                ("consent", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "child is added");
    let overview = load_family(browser, app).await;
    overview["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|child| child["display_name"] == name)
        .and_then(|child| child["id"].as_i64())
        .expect("the new child is listed")
}

async fn load_family(browser: &Browser, app: &TestApp) -> serde_json::Value {
    let response = browser.call(app, "load_family", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON overview")
}

async fn families_are_isolated_over_http(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let first = signed_in(&app, "demo-parent").await;
    let second = signed_in(&app, "demo-parent-aygul").await;
    let child = add_child(&first, &app, "王小明").await;
    let child_text = child.to_string();

    // Server functions: the other family's child does not exist for them.
    let withdraw = second
        .call(&app, "withdraw_child_consent", &[("child_id", &child_text)])
        .await;
    assert_eq!(withdraw.status(), StatusCode::NOT_FOUND);
    let invite = second
        .call(&app, "create_invitation", &[("child_ids[0]", &child_text)])
        .await;
    assert_eq!(invite.status(), StatusCode::NOT_FOUND);
    let overview = load_family(&second, &app).await;
    assert_eq!(overview["children"], serde_json::json!([]));

    // Pages and the export: nothing of the first family shows.
    let page = second
        .get(&app.url("/family"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("还没有添加孩子"), "second family's page");
    assert!(!page.contains("王小明"), "first family's child leaked");
    let export = second
        .get(&app.url("/family/export.json"))
        .await
        .text()
        .await
        .expect("export");
    assert!(!export.contains("王小明"), "first family's child leaked");
    assert!(export.contains("阿依古丽·买买提"), "own name is exported");

    // The first family still has the child, with the care notes.
    let page = first
        .get(&app.url("/family"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("王小明"));
    assert!(page.contains("对鸡蛋过敏"));
}
on_both_backends!(families_are_isolated_over_http);

#[tokio::test]
async fn signed_out_family_calls_get_401() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let anonymous = Browser::new();
    let response = anonymous.call(&app, "load_family", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let export = anonymous.get(&app.url("/family/export.json")).await;
    assert_eq!(export.status(), StatusCode::UNAUTHORIZED);
    let page = anonymous
        .get(&app.url("/family"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("请先登录"), "the page asks to sign in");
}

#[tokio::test]
async fn plain_form_errors_return_to_page() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let browser = signed_in(&app, "demo-parent").await;

    // A browser without JavaScript posts the form and follows the redirect.
    let response = browser
        .client
        .post(app.url("/sfn/add_child"))
        .header("origin", app.url(""))
        .header("referer", app.url("/family"))
        .header("accept", "text/html")
        .form(&[("display_name", "王小明"), ("birth_date", "2025-05-20")])
        .send()
        .await
        .expect("form is posted");
    assert_eq!(response.status(), StatusCode::FOUND);
    let target = location(&response);
    assert!(target.starts_with("/family?"), "{target}");
    assert!(target.contains("__err="), "{target}");
    let page = browser
        .get(&app.url(&target))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("填写的内容有误"), "the error is shown");
    assert!(page.contains("儿童个人信息处理同意"), "the field is named");
    let overview = load_family(&browser, &app).await;
    assert_eq!(
        overview["children"],
        serde_json::json!([]),
        "nothing stored"
    );
}

#[tokio::test]
async fn invitation_code_is_shown_once() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let parent = signed_in(&app, "demo-parent").await;
    let child = add_child(&parent, &app, "王小宝").await.to_string();

    let response = parent
        .client
        .post(app.url("/sfn/create_invitation"))
        .header("origin", app.url(""))
        .header("referer", app.url("/family"))
        .header("accept", "text/html")
        .form(&[("child_ids[0]", child.as_str())])
        .send()
        .await
        .expect("form is posted");
    let target = location(&response);
    assert!(target.starts_with("/family/invitation?code="), "{target}");
    let code = target.rsplit('=').next().expect("code").to_owned();
    let page = parent
        .get(&app.url(&target))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains(&code));
    assert!(page.contains(&format!("/invite/{code}")));

    let grandparent = signed_in(&app, "demo-grandparent").await;
    let accepted = grandparent
        .call(&app, "accept_invitation", &[("code", &code.to_lowercase())])
        .await;
    assert!(accepted.status().is_success() || accepted.status().is_redirection());
    let overview = load_family(&grandparent, &app).await;
    assert_eq!(overview["cared_for"][0]["display_name"], "王小宝");
    assert_eq!(overview["cared_for"][0]["guardian_name"], "陈静");
    let replay = grandparent
        .call(&app, "accept_invitation", &[("code", &code)])
        .await;
    assert_eq!(replay.status(), StatusCode::NOT_FOUND, "a code works once");
}

#[tokio::test]
async fn only_administrators_read_the_audit_log() {
    let app = TestApp::spawn_with_portal(Backend::Sqlite).await;
    let parent = signed_in(&app, "demo-parent").await;
    add_child(&parent, &app, "王小明").await;
    let rejected = parent.call(&app, "audit_log", &[]).await;
    assert_eq!(rejected.status(), StatusCode::FORBIDDEN);

    let admin = signed_in(&app, "demo-city-admin").await;
    let response = admin.call(&app, "audit_log", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let entries: serde_json::Value = response.json().await.expect("JSON");
    let actions: Vec<&str> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert!(actions.contains(&"role.grant"), "{actions:?}");
    assert!(actions.contains(&"child.create"), "{actions:?}");
    let page = admin
        .get(&app.url("/admin/audit"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("child.create"));
    assert!(!page.contains("王小明"), "the log names no child");
}

async fn mobile_numbers_are_normalised_or_rejected(backend: Backend) {
    let app = TestApp::spawn_with_portal(backend).await;
    let browser = signed_in(&app, "demo-parent").await;

    let saved = browser
        .call(
            &app,
            "update_mobile",
            &[("mobile", "＋86 １３９-1234 5678")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let stored: String = saved.json().await.expect("JSON");
    assert_eq!(stored, "13912345678");

    let rejected = browser
        .call(&app, "update_mobile", &[("mobile", "1391234567")])
        .await;
    assert_eq!(rejected.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = rejected.json().await.expect("JSON");
    assert_eq!(error["field"], "mobile");

    let current: Option<String> = browser
        .call(&app, "contact_mobile", &[])
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        current.as_deref(),
        Some("13912345678"),
        "the bad input changed nothing"
    );

    // Signing in again keeps the number the person chose.
    let again = signed_in(&app, "demo-parent").await;
    let current: Option<String> = again
        .call(&app, "contact_mobile", &[])
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(current.as_deref(), Some("13912345678"));
}
on_both_backends!(mobile_numbers_are_normalised_or_rejected);
