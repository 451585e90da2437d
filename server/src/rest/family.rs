//! `/api/v1/me`, `/api/v1/family` and `/api/v1/account`: the signed-in
//! person and their family, for the mobile apps.

use app::domain::family::{self, ChildInput};
use app::model::{ChildView, FamilyOverview, Viewer};
use app::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath, SignedIn};

/// Returns the signed-in person with their roles.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "family",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in person", body = Viewer),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn me(SignedIn(viewer): SignedIn) -> Json<Viewer> {
    Json(viewer)
}

/// Returns the family: own children, children cared for, carers and open
/// invitations.
#[utoipa::path(
    get,
    path = "/api/v1/family",
    tag = "family",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The family", body = FamilyOverview),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn get_family(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<FamilyOverview>, ApiError> {
    Ok(Json(
        family::overview(&state.db, viewer.account_id, Utc::now()).await?,
    ))
}

/// A child to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    /// 1 to 40 characters. Look-alike dots become U+00B7.
    #[schema(min_length = 1, max_length = 40)]
    pub display_name: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(format = Date)]
    pub birth_date: String,
    /// Allergies and needs, at most 500 characters.
    #[schema(max_length = 500)]
    pub care_notes: Option<String>,
    /// The guardian's separate consent to processing the child's
    /// information. Without it the child is not stored.
    pub consent: bool,
}

/// Adds a child to the signed-in guardian's family.
#[utoipa::path(
    post,
    path = "/api/v1/family/children",
    tag = "family",
    security(("bearer" = [])),
    request_body = NewChild,
    responses(
        (status = 201, description = "The child", body = ChildView),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A field is invalid, or consent is missing", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
)]
pub async fn add_child(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiJson(child): ApiJson<NewChild>,
) -> Result<(StatusCode, Json<ChildView>), ApiError> {
    let input = ChildInput {
        display_name: child.display_name,
        birth_date: child.birth_date,
        care_notes: child.care_notes,
    };
    let view = family::add_child(
        &state.db,
        viewer.account_id,
        &input,
        child.consent,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Returns one child the signed-in person is guardian or carer of.
#[utoipa::path(
    get,
    path = "/api/v1/family/children/{id}",
    tag = "family",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Child id")),
    responses(
        (status = 200, description = "The child", body = ChildView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such child, or not yours", body = ErrorBody),
    ),
)]
pub async fn get_child(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChildView>, ApiError> {
    Ok(Json(
        family::get_child(&state.db, viewer.account_id, id, Utc::now()).await?,
    ))
}

/// Returns everything Ningyu stores about the signed-in account and family.
#[utoipa::path(
    get,
    path = "/api/v1/family/export",
    tag = "family",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All the family's data", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        family::export(&state.db, viewer.account_id, Utc::now()).await?,
    ))
}

/// Deletes the signed-in account and its family's data.
#[utoipa::path(
    delete,
    path = "/api/v1/account",
    tag = "family",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
)]
pub async fn delete_account(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<StatusCode, ApiError> {
    family::delete_account(&state.db, &state.booking, viewer.account_id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
