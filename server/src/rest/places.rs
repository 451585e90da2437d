//! `/api/v1/places`.

use app::domain::places::{self, PlaceListQuery};
use app::model::{Page, PlaceDetail, PlaceSummary};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery};
use app::state::AppState;

/// Paging parameters of the place list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPlacesParams {
    /// Page size, 1 to 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Number of places to skip.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    offset: Option<u64>,
}

/// Lists places ordered by name.
#[utoipa::path(
    get,
    path = "/api/v1/places",
    tag = "places",
    params(ListPlacesParams),
    responses(
        (status = 200, description = "One page of places", body = Page<PlaceSummary>),
        (status = 400, description = "Malformed or unknown parameters", body = ErrorBody),
        (status = 422, description = "A parameter is out of range", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn list_places(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListPlacesParams>,
) -> Result<Json<Page<PlaceSummary>>, ApiError> {
    let query = PlaceListQuery::new(params.limit, params.offset)?;
    Ok(Json(places::list_places(&state.db, query).await?))
}

/// Returns one place with its upcoming sessions.
#[utoipa::path(
    get,
    path = "/api/v1/places/{id}",
    tag = "places",
    params(("id" = i64, Path, description = "Place id")),
    responses(
        (status = 200, description = "The place", body = PlaceDetail),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such place", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn get_place(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PlaceDetail>, ApiError> {
    Ok(Json(
        places::get_place(&state.db, id, chrono::Utc::now()).await?,
    ))
}
