//! The REST API for the mobile apps, under `/api/v1`, with its OpenAPI
//! document. Handlers are thin: they parse input and call `app::domain`.

mod error;
mod extract;
mod places;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

pub use error::{ApiError, error_response, render_errors, request_id};

use crate::startup::ServerState;

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ningyu API",
        description = "REST API of Ningyu (宁育), Nanjing's childcare service, for its mobile apps. \
                       Error bodies carry a stable `code` and a `message` in the language chosen \
                       by the `i18n_pref_locale` cookie or `Accept-Language` (Simplified Chinese by default).",
        version = "1",
    ),
    paths(places::list_places, places::get_place),
    components(schemas(error::ErrorBody)),
    tags((name = "places", description = "Community rooms, childcare providers and their sessions")),
)]
pub struct ApiDoc;

/// Builds the `/api/v1` router.
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/places", get(places::list_places))
        .route("/places/{id}", get(places::get_place))
        .fallback(|| async { ApiError(app::error::AppError::NotFound) })
        .layer(axum::middleware::from_fn(render_errors))
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
