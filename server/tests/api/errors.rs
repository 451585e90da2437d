//! Bad input: clear, translated 4xx responses, never a 500.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

async fn api_errors_are_translated_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let chinese = app.get("/api/v1/places/999999").await;
    assert_eq!(chinese.status(), 404);
    assert!(
        chinese.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let body: serde_json::Value = chinese.json().await.expect("json");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["message"], "没有找到您要的内容。");
    assert_eq!(body["request_id"].as_str().map(str::len), Some(36));

    let english: serde_json::Value = app
        .get_with("/api/v1/places/999999", ("accept-language", "en"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        english["message"],
        "We could not find what you are looking for."
    );
}
on_both_backends!(api_errors_are_translated_json);

#[tokio::test]
async fn malformed_queries_get_4xx() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let cases = [
        ("/api/v1/places?limit=abc", 400, "bad_request", "wrong type"),
        (
            "/api/v1/places?limit=%ZZ",
            400,
            "bad_request",
            "invalid percent-encoding",
        ),
        (
            "/api/v1/places?limit=%FF%FE",
            400,
            "bad_request",
            "invalid UTF-8",
        ),
        (
            "/api/v1/places?colour=red",
            400,
            "bad_request",
            "unknown field",
        ),
        ("/api/v1/places?limit=-1", 400, "bad_request", "negative"),
        ("/api/v1/places?limit=0", 422, "invalid", "zero limit"),
        (
            "/api/v1/places?limit=101",
            422,
            "invalid",
            "limit above maximum",
        ),
        (
            "/api/v1/places?offset=99999999999999999999",
            400,
            "bad_request",
            "offset overflows",
        ),
        ("/api/v1/places/abc", 400, "bad_request", "non-numeric id"),
        (
            "/api/v1/places/99999999999999999999",
            400,
            "bad_request",
            "id overflows",
        ),
        ("/api/v1/nothing-here", 404, "not_found", "unknown endpoint"),
    ];
    for (path, status, code, case) in cases {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{case}: {path}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["code"], code, "{case}: {path}");
        assert!(
            !body["message"].as_str().unwrap_or("").is_empty(),
            "{case}: message present"
        );
    }
}

#[tokio::test]
async fn invalid_field_names_the_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let body: serde_json::Value = app
        .get("/api/v1/places?limit=0")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(body["field"], "limit");
    assert_eq!(body["message"], "填写的内容有误，请检查后重试。");
}

#[tokio::test]
async fn oversized_body_is_rejected_with_413() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = "return_to=/&x=".to_owned() + &"a".repeat(100_000);

    let response = app
        .client
        .post(app.url("/prefs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request is sent");

    assert_eq!(response.status(), 413);
    let text = response.text().await.expect("body is text");
    assert!(
        text.contains("提交的内容太大"),
        "untranslated 413 body: {text}"
    );
}

#[tokio::test]
async fn oversized_api_body_gets_translated_json() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = app
        .client
        .post(app.url("/api/v1/places"))
        .header("accept-language", "en")
        .header("content-type", "application/json")
        .body("x".repeat(100_000))
        .send()
        .await
        .expect("request is sent");

    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("body is JSON");
    assert_eq!(body["code"], "too_large");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large")),
        "message: {body}"
    );
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn malformed_server_function_arguments_get_400() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = app
        .client
        .post(app.url("/sfn/get_place"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("id=not-a-number")
        .send()
        .await
        .expect("request is sent");

    assert!(
        response.status().is_client_error(),
        "status {}",
        response.status()
    );
}
