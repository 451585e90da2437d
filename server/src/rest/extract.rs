//! Extractors whose rejections become `AppError::BadRequest`, so malformed
//! input gets the same JSON error body as every other REST error.

use app::error::AppError;
use axum::extract::{FromRequestParts, Path, Query};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// Query parameters, rejected with 400 when malformed or unknown.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| {
                ApiError(AppError::BadRequest {
                    detail: rejection.body_text(),
                })
            })
    }
}

/// Path parameters, rejected with 400 when they do not parse.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection| {
                ApiError(AppError::BadRequest {
                    detail: rejection.body_text(),
                })
            })
    }
}

/// A JSON body, rejected with 400 when malformed, 413 when too large and
/// 415 without a JSON content type.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Self(value))
            .map_err(|rejection| {
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(AppError::TooLarge)
                } else {
                    ApiError(AppError::BadRequest {
                        detail: rejection.body_text(),
                    })
                }
            })
    }
}

/// The signed-in person, from an access token or a session cookie;
/// rejected with 401 when there is none.
#[derive(Debug)]
pub struct SignedIn(pub app::model::Viewer);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<app::model::Viewer>()
            .cloned()
            .map(Self)
            .ok_or(ApiError(AppError::Unauthenticated))
    }
}
