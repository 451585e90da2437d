//! `/api/v1/places/nearby`.

use app::model::{NearbyParams, NearbyResults};
use app::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::ApiQuery;

/// Parameters of a nearby search. Every value arrives as text and the
/// domain checks it, so a malformed number gets the same 400 and message as
/// an out-of-range one.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    /// WGS-84 latitude of the start point, in degrees; with `lon`.
    #[param(value_type = Option<f64>, minimum = -90, maximum = 90)]
    lat: Option<String>,
    /// WGS-84 longitude of the start point, in degrees; with `lat`.
    #[param(value_type = Option<f64>, minimum = -180, maximum = 180)]
    lon: Option<String>,
    /// A street, community or place name to start from, 1 to 50
    /// characters. It wins over `lat` and `lon`.
    #[param(value_type = Option<String>, max_length = 50)]
    q: Option<String>,
    /// Search radius in metres, 100 to 20000; 3000 when absent.
    #[param(value_type = Option<u32>, minimum = 100, maximum = 20000)]
    radius: Option<String>,
    /// The child's age in whole months, 0 to 84.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 84)]
    age: Option<String>,
    /// One of the signed-in family's children, by id; wins over `age` and
    /// uses the birth date to judge each session's date.
    #[param(value_type = Option<i64>, minimum = 1)]
    child: Option<String>,
    /// First date in Nanjing, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last date in Nanjing, `YYYY-MM-DD`, at most 31 days after `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// Only places offering this service.
    #[param(value_type = Option<app::model::Service>)]
    service: Option<String>,
    /// Only places disclosed as public-benefit (普惠).
    #[param(value_type = Option<bool>)]
    public_benefit: Option<String>,
    /// Only places that are free or have a free session.
    #[param(value_type = Option<bool>)]
    free: Option<String>,
    /// Only places with a session that has places left.
    #[param(value_type = Option<bool>)]
    places_left: Option<String>,
    /// Maximum number of results, 1 to 50; 20 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
}

impl From<NearbyQuery> for NearbyParams {
    fn from(query: NearbyQuery) -> Self {
        Self {
            lat: query.lat,
            lon: query.lon,
            q: query.q,
            radius: query.radius,
            age: query.age,
            child: query.child,
            from: query.from,
            to: query.to,
            service: query.service,
            public_benefit: query.public_benefit,
            free: query.free,
            places_left: query.places_left,
            limit: query.limit,
        }
    }
}

/// Searches places near a point or a named street, community or place,
/// nearest first, with walking time and each place's next session that
/// has places left.
#[utoipa::path(
    get,
    path = "/api/v1/places/nearby",
    tag = "places",
    params(NearbyQuery),
    responses(
        (status = 200, description = "Places nearest first; no origin and no places when the name matched nothing", body = NearbyResults),
        (status = 400, description = "A parameter is malformed, out of range or unknown", body = ErrorBody),
        (status = 401, description = "`child` was given without signing in", body = ErrorBody),
        (status = 404, description = "`child` is not a child the caller may act for", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn search_nearby(
    State(state): State<AppState>,
    viewer: Option<axum::Extension<app::model::Viewer>>,
    ApiQuery(query): ApiQuery<NearbyQuery>,
) -> Result<Json<NearbyResults>, ApiError> {
    let viewer = viewer.map(|axum::Extension(viewer)| viewer.account_id);
    let params = NearbyParams::from(query);
    Ok(Json(
        state
            .search
            .search_nearby(&state.db, &params, viewer, chrono::Utc::now())
            .await?,
    ))
}
