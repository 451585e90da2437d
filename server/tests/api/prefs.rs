//! The preferences form: language and large text, without JavaScript.

use crate::helpers::{Backend, TestApp};

async fn post_prefs(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/prefs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("request is sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_text_is_remembered_in_a_cookie() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = post_prefs(&app, "text_size=large&return_to=%2Fsettings").await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/settings");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("ningyu_text=large;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let page = app.get_with("/", ("cookie", "ningyu_text=large")).await;
    let status = page.status();
    let headers = format!("{:?}", page.headers());
    let html = page.text().await.expect("body");
    assert!(
        html.contains(r#"class="text-large""#),
        "html carries the large-text class: {status} {headers} {}",
        html.chars().take(400).collect::<String>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_choice_overrides_accept_language() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = post_prefs(&app, "locale=en&return_to=%2F").await;
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("i18n_pref_locale=en;"), "{cookie}");

    let page = app
        .client
        .get(app.url("/"))
        .header("accept-language", "zh-CN")
        .header("cookie", "i18n_pref_locale=en")
        .send()
        .await
        .expect("request is sent");
    let status = page.status();
    let html = page.text().await.expect("body");
    assert!(
        html.contains("Childcare close to home"),
        "{status}: {}",
        html.chars().take(300).collect::<String>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_path_must_be_same_site() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let cases = [
        ("%2F%2Fother.example", "/"),
        ("%2F%5Cother.example", "/"),
        ("https%3A%2F%2Fother.example", "/"),
        ("%2Fplaces%2F1%3Fx%3D1", "/places/1?x=1"),
    ];
    for (encoded, expected) in cases {
        let response = post_prefs(&app, &format!("text_size=normal&return_to={encoded}")).await;
        assert_eq!(
            response.headers()["location"],
            expected,
            "return_to={encoded}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_preference_values_are_rejected() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let cases = [
        ("locale=fr", 422),
        ("text_size=huge", 422),
        ("unknown=1", 400),
        ("locale=%ZZ", 422),
    ];
    for (body, status) in cases {
        let response = post_prefs(&app, body).await;
        assert_eq!(response.status(), status, "{body}");
        let text = response.text().await.expect("body");
        assert!(
            text.contains("请"),
            "{body}: translated message, got {text:?}"
        );
    }
}

/// Concurrent requests once made leptos_meta read the locale signal outside
/// the request's reactive arena, which panicked and returned 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_home_pages_all_render() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for round in 0..10 {
        let requests = (0..8).map(|index| {
            let cookie = if index % 2 == 0 {
                "ningyu_text=large"
            } else {
                "i18n_pref_locale=en"
            };
            app.get_with("/", ("cookie", cookie))
        });
        for page in futures::future::join_all(requests).await {
            assert_eq!(page.status(), 200, "round {round}");
        }
    }
}
