//! Plain HTTP endpoints outside the Leptos pages: health checks, the
//! preferences form and the API documentation viewer.

use app::error::AppError;
use app::prefs::{LOCALE_COOKIE, TEXT_SIZE_COOKIE, safe_return_path};
use app::state::AppState;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

/// How long a preference cookie lives: one year, in seconds.
const PREFERENCE_MAX_AGE: u32 = 365 * 24 * 3600;

/// Returns the values of every cookie named `name` in the request's
/// `Cookie` headers, in the order the browser sent them.
pub fn cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// Returns the request's path as the client sent it. Inside a nested
/// router `uri()` lacks the prefix, so the original URI is read first.
pub fn original_path(request: &Request) -> &str {
    request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.0.path())
}

/// `GET /healthz`: the process is up. It never touches the database.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when the database responds, 503 while it does not.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match app::db::ping(&state.db).await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// The preferences form: any of its fields may be absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefsForm {
    return_to: Option<String>,
    locale: Option<String>,
    text_size: Option<String>,
}

/// `POST /prefs`: stores language and text size in cookies and redirects
/// back to `return_to` (only same-site paths; anything else goes to `/`).
pub async fn save_prefs(
    headers: HeaderMap,
    form: Result<Form<PrefsForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return plain_error(&headers, AppError::TooLarge);
        }
        Err(rejection) => {
            return plain_error(
                &headers,
                AppError::BadRequest {
                    detail: rejection.body_text(),
                },
            );
        }
    };

    let mut cookies = Vec::new();
    match form.locale.as_deref() {
        None => {}
        Some(locale @ ("zh-CN" | "en")) => cookies.push(preference_cookie(LOCALE_COOKIE, locale)),
        Some(_) => {
            return plain_error(&headers, AppError::invalid("locale", "must be zh-CN or en"));
        }
    }
    match form.text_size.as_deref() {
        None => {}
        Some("large") => cookies.push(preference_cookie(TEXT_SIZE_COOKIE, "large")),
        Some("normal") => cookies.push(format!(
            "{TEXT_SIZE_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"
        )),
        Some(_) => {
            return plain_error(
                &headers,
                AppError::invalid("text_size", "must be normal or large"),
            );
        }
    }

    let target = safe_return_path(form.return_to.as_deref().unwrap_or("/"));
    let mut response = Redirect::to(target).into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

fn preference_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; Max-Age={PREFERENCE_MAX_AGE}; SameSite=Lax")
}

/// Builds a plain-text response with the translated message of `error`.
pub fn plain_error(headers: &HeaderMap, error: AppError) -> Response {
    let locale = crate::locale::negotiate(headers);
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        error.message(locale),
    )
        .into_response();
    if let AppError::RateLimited { retry_after_secs } = error {
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs),
        );
    }
    response
}

/// Replaces the untranslated body of a 413 from the body-size limit with a
/// translated message.
pub async fn explain_body_limit(request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE
        || response.extensions().get::<AppError>().is_some()
    {
        return response;
    }
    error_for(&headers, &path, AppError::TooLarge)
}

/// Builds the response for `error` in middleware: the JSON error body
/// under `/api/`, translated plain text elsewhere.
pub fn error_for(headers: &HeaderMap, path: &str, error: AppError) -> Response {
    if path.starts_with("/api/") {
        let locale = crate::locale::negotiate(headers);
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        crate::rest::error_response(status, &error, locale, crate::rest::request_id(headers))
    } else {
        plain_error(headers, error)
    }
}

/// `GET /api/docs`: the self-hosted Swagger UI viewer for the OpenAPI document.
pub async fn api_docs() -> Html<&'static str> {
    Html(include_str!("api_docs.html"))
}

/// Builds the response for a request whose handler panicked. The panic
/// message goes to the log, inside the request's span; the client gets only
/// a generic message.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "系统出现问题，请稍后再试。 Something went wrong on our side. Please try again later.",
    )
        .into_response()
}

/// Gives a failed server function call the status of its `AppError`.
///
/// Errors raised before the function body runs (malformed arguments) reach
/// leptos_axum as 500; their JSON body is the `AppError`, whose status is
/// the right one.
pub async fn server_fn_error_status(response: Response) -> Response {
    /// Server function error bodies are small JSON objects.
    const MAX_ERROR_BODY: usize = 64 * 1024;

    // A plain form post that failed is redirected back to its page with
    // the error in the query string; the redirect keeps its status.
    if !response.headers().contains_key("serverfnerror")
        || response.headers().contains_key(http::header::LOCATION)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        tracing::error!("server function error body is unreadable or too large");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `GET /family/export.json`: everything Ningyu stores about the signed-in
/// account and its family, as a file download.
pub async fn export_family(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<axum::Extension<app::model::Viewer>>,
) -> Response {
    let Some(axum::Extension(viewer)) = viewer else {
        return plain_error(&headers, AppError::Unauthenticated);
    };
    let now = chrono::Utc::now();
    match app::domain::family::export(&state.db, viewer.account_id, now).await {
        Ok(document) => {
            let body = serde_json::to_vec_pretty(&document).unwrap_or_default();
            (
                [
                    (
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/json; charset=utf-8"),
                    ),
                    (
                        http::header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"ningyu-export.json\""),
                    ),
                    (
                        http::header::CACHE_CONTROL,
                        HeaderValue::from_static("no-store"),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => plain_error(&headers, error),
    }
}

/// Serves a booking's check-in QR code as SVG to the family, at
/// `/bookings/{id}/qr.svg`.
pub async fn check_in_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<axum::Extension<app::model::Viewer>>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(axum::Extension(viewer)) = viewer else {
        return plain_error(&headers, AppError::Unauthenticated);
    };
    let Some(id) = file.parse::<i64>().ok() else {
        return plain_error(&headers, AppError::NotFound);
    };
    match app::domain::booking::check_in_qr(&state.db, viewer.account_id, id).await {
        Ok(svg) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
                (
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            svg,
        )
            .into_response(),
        Err(error) => plain_error(&headers, error),
    }
}

/// How often a live stream looks at its session's figures.
const LIVE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// How long one live stream lasts. The browser's EventSource reconnects by
/// itself after the `retry` delay, so behind a proxy that buffers streams
/// the page still gets the figures about twice a minute: polling, by the
/// same door.
const LIVE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Streams a session's places left and waiting count as server-sent
/// events at `/sessions/{id}/live`: one event at once and one whenever the
/// figures change, for 30 seconds or until the session starts. Each server
/// reads the figures from the database, so a change made through any
/// server shows.
pub async fn live_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};

    let Ok(id) = id.parse::<i64>() else {
        return plain_error(&headers, AppError::NotFound);
    };
    let first = match app::domain::booking::session_detail(&state.db, id).await {
        Ok(detail) => detail,
        Err(error) => return plain_error(&headers, error),
    };
    let stream = futures_util::stream::unfold(
        (
            state.db.clone(),
            Some(first),
            None::<(u32, u32)>,
            tokio::time::Instant::now(),
        ),
        move |(db, mut pending, last, opened)| async move {
            loop {
                if opened.elapsed() >= LIVE_LIFETIME {
                    return None;
                }
                let detail = match pending.take() {
                    Some(detail) => detail,
                    None => {
                        tokio::time::sleep(LIVE_CHECK).await;
                        match app::domain::booking::session_detail(&db, id).await {
                            Ok(detail) => detail,
                            // The session was deleted, or the database is
                            // away: end the stream, and the browser retries.
                            Err(error) => {
                                tracing::warn!(session.id = id, %error, "live stream ended");
                                return None;
                            }
                        }
                    }
                };
                if chrono::Utc::now() >= detail.session.starts_at {
                    return None;
                }
                let figures = (detail.session.places_left, detail.waiting);
                if last == Some(figures) {
                    continue;
                }
                let data = serde_json::json!({
                    "places_left": figures.0,
                    "capacity": detail.session.capacity,
                    "waiting": figures.1,
                    "updated_at": detail.updated_at,
                });
                let event = Event::default()
                    .event("places")
                    .retry(std::time::Duration::from_secs(5))
                    .data(data.to_string());
                return Some((
                    Ok::<_, std::convert::Infallible>(event),
                    (db, None, Some(figures), opened),
                ));
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(20)))
        .into_response()
}

/// `POST /admin/places/import`: the upload form of `/admin/places/import`
/// (multipart, so it works without JavaScript). Imports the file and shows
/// the record of the upload, or a translated error.
pub async fn upload_places(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<axum::Extension<app::model::Viewer>>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(axum::Extension(viewer)) = viewer else {
        return plain_error(&headers, AppError::Unauthenticated);
    };
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return plain_error(
                &headers,
                AppError::BadRequest {
                    detail: rejection.body_text(),
                },
            );
        }
    };
    let mut fields: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut file: Option<(String, axum::body::Bytes)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return plain_error(&headers, AppError::TooLarge);
            }
            Err(error) => {
                return plain_error(
                    &headers,
                    AppError::BadRequest {
                        detail: error.body_text(),
                    },
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            match field.bytes().await {
                Ok(bytes) => file = Some((file_name, bytes)),
                Err(error) => {
                    return plain_error(
                        &headers,
                        AppError::BadRequest {
                            detail: error.body_text(),
                        },
                    );
                }
            }
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    let Some((file_name, body)) = file.filter(|(_, body)| !body.is_empty()) else {
        return plain_error(
            &headers,
            AppError::invalid("file", "choose a CSV or GeoJSON file"),
        );
    };
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    let upload = app::domain::import::PlaceUpload {
        file_name: &file_name,
        format: field("format"),
        crs: field("crs"),
        source: field("source"),
        dry_run: field("dry_run") == "on",
        body: body.as_ref(),
    };
    match app::domain::import::upload_places(&state.db, &viewer, &upload, chrono::Utc::now()).await
    {
        Ok(run) => Redirect::to(&format!("/admin/imports/{}", run.id)).into_response(),
        Err(error) => plain_error(&headers, error),
    }
}
