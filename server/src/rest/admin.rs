//! `/api/v1/admin/places`, `/api/v1/admin/coverage`,
//! `/api/v1/admin/imports/places` and `/api/v1/admin/audit`:
//! administrators maintain places, read the coverage of childcare, upload
//! place files and read the audit log. Each handler calls
//! `app::domain::place_admin`, `app::domain::import` or `app::domain::audit`.

use app::domain::import::{self, PlaceUpload};
use app::domain::place_admin;
use app::model::{AuditEntryView, CoverageReport, ImportRunView, PlaceDetail, PlaceInput};
use app::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, ApiQuery, SignedIn};

/// Creates a place; district administrators create places in their district.
#[utoipa::path(
    post,
    path = "/api/v1/admin/places",
    tag = "admin",
    security(("bearer" = [])),
    request_body = PlaceInput,
    responses(
        (status = 201, description = "The new place", body = PlaceDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator of that district", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ),
)]
pub async fn create_place(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiJson(input): ApiJson<PlaceInput>,
) -> Result<(StatusCode, Json<PlaceDetail>), ApiError> {
    let place = place_admin::create_place(&state.db, &viewer, &input, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(place)))
}

/// Replaces every field of a place, including its disclosures.
#[utoipa::path(
    put,
    path = "/api/v1/admin/places/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Place id")),
    request_body = PlaceInput,
    responses(
        (status = 200, description = "The place as stored", body = PlaceDetail),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the new district is not yours", body = ErrorBody),
        (status = 404, description = "No such place in your districts", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ),
)]
pub async fn update_place(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PlaceInput>,
) -> Result<Json<PlaceDetail>, ApiError> {
    Ok(Json(
        place_admin::update_place(&state.db, &viewer, id, &input, Utc::now()).await?,
    ))
}

/// Childcare places per 1,000 residents per district, and public-benefit
/// providers per street, for the districts the caller administers.
#[utoipa::path(
    get,
    path = "/api/v1/admin/coverage",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The coverage report", body = CoverageReport),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
)]
pub async fn coverage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<CoverageReport>, ApiError> {
    Ok(Json(
        place_admin::coverage(&state.db, &viewer, Utc::now()).await?,
    ))
}

/// How to read an uploaded places file.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `csv` or `geojson`.
    pub format: String,
    /// Reference system of the file's coordinates: `wgs84`, `gcj02` or `bd09`.
    pub crs: String,
    /// Short name of the data source, part of each row's import key (1 to 40 characters).
    pub source: String,
    /// Check and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// The file's name, kept with the record of the upload.
    #[serde(default)]
    pub file_name: Option<String>,
}

/// Imports a CSV or GeoJSON file of places sent as the body; city
/// administrators only. Rows are checked one by one, and the record of the
/// upload lists the rejected ones with their line numbers.
#[utoipa::path(
    post,
    path = "/api/v1/admin/imports/places",
    tag = "admin",
    security(("bearer" = [])),
    params(ImportParams),
    request_body(content = String, description = "The file's text", content_type = "text/csv"),
    responses(
        (status = 200, description = "What the import did, or would do", body = ImportRunView),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
        (status = 413, description = "The file is too large", body = ErrorBody),
        (status = 422, description = "The file cannot be read", body = ErrorBody),
    ),
)]
pub async fn import_places(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Bytes,
) -> Result<Json<ImportRunView>, ApiError> {
    let upload = PlaceUpload {
        file_name: params.file_name.as_deref().unwrap_or("api"),
        format: &params.format,
        crs: &params.crs,
        source: &params.source,
        dry_run: params.dry_run,
        body: body.as_ref(),
    };
    let run = import::upload_places(&state.db, &viewer, &upload, Utc::now()).await?;
    Ok(Json(run))
}

/// How many audit log entries to return.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Number of newest entries, 1 to 500; default 200.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Largest `limit` of `GET /api/v1/admin/audit`.
const MAX_AUDIT_ENTRIES: u32 = 500;

/// The newest audit log entries, newest first: all of them for city
/// administrators, and those of their districts for district administrators.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "Audit log entries, newest first", body = Vec<AuditEntryView>),
        (status = 400, description = "`limit` is out of range", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
)]
pub async fn audit_log(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    let limit = params.limit.unwrap_or(200);
    if !(1..=MAX_AUDIT_ENTRIES).contains(&limit) {
        return Err(app::error::AppError::InvalidQuery {
            field: "limit".to_owned(),
            reason: format!("must be between 1 and {MAX_AUDIT_ENTRIES}"),
        }
        .into());
    }
    Ok(Json(
        app::domain::audit::for_admin(&state.db, &viewer, u64::from(limit)).await?,
    ))
}
