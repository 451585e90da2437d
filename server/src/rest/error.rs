//! Turning `AppError` into HTTP responses for the REST API.
//!
//! A handler's error travels as a response extension; the `render_errors`
//! middleware, which reads the request headers, writes the JSON body in the
//! caller's language with the request id.

use app::error::AppError;
use axum::Json;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

/// A REST handler's error. The body is written by [`render_errors`].
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response.extensions_mut().insert(self.0);
        response
    }
}

/// The JSON body of every REST error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, for example `not_found` or `invalid`.
    pub code: &'static str,
    /// Message for the user, in the negotiated language.
    pub message: String,
    /// The field or parameter that is invalid, for `invalid` and
    /// `invalid_query` errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Description of the problem, in English, for developers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Why the booking rules refused, for `refused` errors: for example
    /// `already_booked`, `overlap` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<app::error::Refusal>,
    /// Seconds to wait before retrying, for `rate_limited` errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// The request id, to quote when reporting a problem.
    pub request_id: String,
}

/// Writes the body of error responses that carry an [`AppError`].
pub async fn render_errors(request: Request, next: Next) -> Response {
    let locale = crate::locale::negotiate(request.headers());
    let request_id = request_id(request.headers());
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<AppError>().cloned() else {
        return response;
    };
    error_response(response.status(), &error, locale, request_id)
}

/// Returns the request id that `SetRequestIdLayer` put in `headers`.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Builds the JSON error response for `error` in `locale`.
pub fn error_response(
    status: StatusCode,
    error: &AppError,
    locale: app::i18n::Locale,
    request_id: String,
) -> Response {
    let (field, detail) = match error {
        AppError::Invalid { field, reason } | AppError::InvalidQuery { field, reason } => {
            (Some(field.clone()), Some(reason.clone()))
        }
        AppError::BadRequest { detail } => (None, Some(detail.clone())),
        AppError::Conflict { reason } => (None, Some(reason.clone())),
        _ => (None, None),
    };
    let retry_after = match error {
        AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    let reason = match error {
        AppError::Refused { reason } => Some(*reason),
        _ => None,
    };
    let body = ErrorBody {
        code: error.code(),
        message: error.message(locale).to_owned(),
        field,
        detail,
        reason,
        retry_after,
        request_id,
    };
    let mut rendered = (status, Json(body)).into_response();
    if let Some(seconds) = retry_after {
        rendered
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    rendered
}
